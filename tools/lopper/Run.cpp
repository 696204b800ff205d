// SCAFFOLD (replaced by the real implementation before landing).
#include "Commands.h"
using namespace llvm;
static cl::SubCommand sub("run", "(not implemented yet)");
lopper::tools::Command lopper::tools::runCommand() {
  return {&sub, [] { return lopper::tools::error("run: not implemented yet"); }};
}

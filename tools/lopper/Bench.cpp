// SCAFFOLD (replaced by the real implementation before landing).
#include "Commands.h"
using namespace llvm;
static cl::SubCommand sub("bench", "(not implemented yet)");
lopper::tools::Command lopper::tools::benchCommand() {
  return {&sub, [] { return lopper::tools::error("bench: not implemented yet"); }};
}

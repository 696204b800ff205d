// SCAFFOLD (replaced by the real implementation before landing).
#include "Commands.h"
using namespace llvm;
static cl::SubCommand sub("compile", "(not implemented yet)");
lopper::tools::Command lopper::tools::compileCommand() {
  return {&sub, [] { return lopper::tools::error("compile: not implemented yet"); }};
}

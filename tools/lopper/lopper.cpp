//===- lopper.cpp - the Lopper command-line driver ------------------------===//
//
// Dispatches to the subcommands (Commands.h): inspect (here), compile
// (Compile.cpp), run (Run.cpp), bench (Bench.cpp) and verify (Verify.cpp).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "lopper/Analysis/ModelStats.h"
#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using lopper::tools::error;

cl::OptionCategory &lopper::tools::lopperCategory() {
  static cl::OptionCategory cat("lopper options");
  return cat;
}
static cl::OptionCategory &lopperCat = lopper::tools::lopperCategory();
static cl::SubCommand inspectCmd(
    "inspect",
    "print op histogram, parameters, bytes and MACs of an ONNX model");
static cl::opt<std::string> inspectInput(cl::Positional,
                                         cl::desc("<model.onnx>"), cl::Required,
                                         cl::sub(inspectCmd));
static cl::opt<bool> inspectJson("json", cl::desc("print JSON"),
                                 cl::sub(inspectCmd), cl::cat(lopperCat));
static cl::list<std::string>
    inspectShapes("input-shape",
                  cl::desc("pin an input's shape: NAME=1x3x224x224 (other "
                           "symbolic dimensions count as 1)"),
                  cl::value_desc("NAME=DIMS"), cl::sub(inspectCmd),
                  cl::cat(lopperCat));

int lopper::tools::error(const Twine &msg) {
  errs() << "lopper: error: " << msg << "\n";
  return 1;
}

static int runInspect() {
  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  lopper::ImportOptions options;
  options.pinDynamicDims = 1;
  std::string msg;
  if (!lopper::parseInputShapes(inspectShapes, options, msg))
    return error(msg);
  lopper::ImportErrors errors;
  auto module = lopper::importOnnxFile(inspectInput, &context, options, errors);
  if (!module) {
    for (const std::string &e : errors)
      errs() << "lopper: error: " << e << "\n";
    return 1;
  }
  int64_t opset = 0;
  if (auto a = (*module)->getAttrOfType<mlir::IntegerAttr>("lop.opset"))
    opset = a.getInt();
  lopper::printModelStats(lopper::computeModelStats(*module), outs(),
                          inspectJson, inspectInput, opset);
  return 0;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // libLLVM registers many codegen options; --help shows Lopper's own.
  cl::HideUnrelatedOptions(lopperCat);
  cl::ParseCommandLineOptions(argc, argv,
                              "Lopper: an ONNX model compression compiler\n");
  using namespace lopper::tools;
  if (inspectCmd)
    return runInspect();
  for (Command c :
       {compileCommand(), runCommand(), benchCommand(), verifyCommand()})
    if (*c.sub)
      return c.run();
  return error("no command given; run 'lopper --help' for the commands");
}

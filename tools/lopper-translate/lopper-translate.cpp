//===- lopper-translate.cpp - ONNX to lop MLIR and back -------------------===//

#include "lopper/Export/OnnxExporter.h"
#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input file>"),
                                      cl::Required);
static cl::opt<std::string> outputFile("o",
                                       cl::desc("output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<bool>
    importOnnx("import-onnx",
               cl::desc("ONNX model (binary or text syntax) to lop MLIR"));
static cl::opt<bool> exportOnnx("export-onnx",
                                cl::desc("lop MLIR to a binary ONNX model"));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("pin an input's shape: NAME=1x3x224x224"),
                cl::value_desc("NAME=DIMS"));

static int fail(const Twine &msg) {
  errs() << "lopper-translate: error: " << msg << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "Lopper translation tool\n");
  if (importOnnx == exportOnnx)
    return fail("give exactly one of --import-onnx and --export-onnx");

  mlir::DialectRegistry registry;
  lopper::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  if (importOnnx) {
    lopper::ImportOptions options;
    std::string error;
    if (!lopper::parseInputShapes(inputShapes, options, error))
      return fail(error);
    lopper::ImportErrors errors;
    auto module = lopper::importOnnxFile(inputFile, &context, options, errors);
    if (!module) {
      for (const std::string &e : errors)
        errs() << "lopper-translate: error: " << e << "\n";
      return 1;
    }
    if (Error e = writeToOutput(outputFile, [&](raw_ostream &os) {
          // Locations (the node names) only with --mlir-print-debuginfo.
          module->print(os, mlir::OpPrintingFlags());
          return Error::success();
        }))
      return fail(toString(std::move(e)));
    return 0;
  }

  if (!inputShapes.empty())
    return fail("--input-shape applies to --import-onnx only");
  std::string parseError;
  mlir::ParserConfig config(&context);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  auto module =
      mlir::parseSourceFile<mlir::ModuleOp>(inputFile, sourceMgr, config);
  if (!module)
    return fail("cannot parse '" + inputFile + "' as lop MLIR");
  std::vector<std::string> errors;
  std::string bytes;
  raw_string_ostream os(bytes);
  if (failed(lopper::exportOnnx(*module, os, errors))) {
    for (const std::string &e : errors)
      errs() << "lopper-translate: error: " << inputFile << ": " << e << "\n";
    return 1;
  }
  if (Error e = writeToOutput(outputFile, [&](raw_ostream &out) {
        out << bytes;
        return Error::success();
      }))
    return fail(toString(std::move(e)));
  return 0;
}

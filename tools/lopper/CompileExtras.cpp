//===- CompileExtras.cpp - lopper compile --report and --verify -----------===//

#include "CompileExtras.h"
#include "Commands.h"
#include "TensorFiles.h"
#include "Verify.h"

#include "lopper/Target/CPU.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace mlir;

namespace lopper::tools {

std::string CompileExtras::dataPath() const {
  return options.verifyData.empty() ? options.calibrationData
                                    : options.verifyData;
}

int CompileExtras::begin(ModuleOp imported) {
  const CompileExtrasOptions &o = options;
  if (!o.verifyData.empty() && !o.verify)
    return error("--verify-data needs --verify");
  if (o.verify && o.verifyData.empty() && o.calibrationData.empty())
    return error("--verify needs --verify-data DATA or --calibration-data "
                 "DATA");
  if (o.verify && !o.emitsLibrary)
    return error("--verify needs --emit=lib (it loads the artifact)");
  if (!o.reportPath.empty()) {
    StringRef ext = sys::path::extension(o.reportPath);
    if (!ext.equals_insensitive(".json") && !ext.equals_insensitive(".html"))
      return error("--report=" + o.reportPath +
                   ": expected a .json or .html file name");
    StringRef dir = sys::path::parent_path(o.reportPath);
    if (!dir.empty() && !sys::fs::is_directory(dir))
      return error("--report=" + o.reportPath + ": directory " + dir +
                   " does not exist");
  }
  if (o.verify) {
    // A bad data set is reported before the (long) compile.
    Expected<ModelSignature> sig = signatureOf(imported);
    if (!sig)
      return error(o.input + ": " + toString(sig.takeError()));
    Expected<Dataset> read = loadDataset(dataPath(), *sig);
    if (!read)
      return error(toString(read.takeError()));
    verifyData = std::move(*read);
  }
  data.model = o.input;
  data.output = o.output;
  data.before = computeTotals(imported);
  return 0;
}

void CompileExtras::beforeCodegen(ModuleOp module) {
  data.after = computeTotals(module);
  data.layers = computeLayers(module);
}

int CompileExtras::finish(const lopper::CPUCompileReport &compiled) {
  data.artifactBytes = compiled.artifactBytes;
  // The kernels the code generator chose, by layer name.
  for (LayerRecord &l : data.layers)
    for (const lopper::KernelChoice &k : compiled.kernels)
      if (k.layer == l.name) {
        l.kernel = k.kernel;
        l.predictedUs = k.predictedUs;
        l.denseUs = k.denseUs;
        l.kernelForced = k.forced;
        break;
      }
  auto removeArtifact = [&] {
    if (options.output == "-")
      return;
    sys::fs::remove(options.output);
    if (compiled.sidecar)
      sys::fs::remove(compiled.sidecarPath);
  };
  if (options.verify) {
    VerifyOptions v;
    v.original = options.input;
    v.compressed = options.output;
    v.data = dataPath();
    v.dataset = &*verifyData;
    v.inputShapes = options.inputShapes;
    v.quiet = true;
    VerifyResult result;
    if (int rc = runVerify(v, &result)) {
      removeArtifact();
      return rc;
    }
    data.accuracy = std::move(result);
    data.accuracyData = v.data;
  }
  if (!options.reportPath.empty()) {
    std::string text;
    if (StringRef(options.reportPath).ends_with_insensitive(".html")) {
      text = reportToHtml(data);
    } else {
      raw_string_ostream os(text);
      os << formatv("{0:2}", json::Value(reportToJson(data))) << "\n";
    }
    std::string msg;
    if (!writeFileAtomically(options.reportPath, text, msg)) {
      removeArtifact();
      return error(msg);
    }
  }
  return 0;
}

void CompileExtras::printSummary(raw_ostream &os) const {
  if (!options.quiet)
    tools::printSummary(data, os);
}

} // namespace lopper::tools

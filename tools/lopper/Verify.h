//===- Verify.h - lopper verify: compressed vs original ---------*- C++ -*-===//
//
// Runs a data set through an ONNX model compiled as is (fp32) and through a
// compressed artifact, and measures how far the compressed one's outputs
// and intermediate tensors (the taps both artifacts share) drift. Used by
// `lopper verify` and by `lopper compile --verify`.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_VERIFY_H
#define LOPPER_TOOLS_LOPPER_VERIFY_H

#include "Metrics.h"

#include "CalibrationData.h"
#include "lopper/runtime.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <string>
#include <vector>

namespace lopper::tools {

struct VerifyOptions {
  std::string original;   ///< the ONNX model
  std::string compressed; ///< the compiled artifact (model.so)
  std::string data;       ///< a data set (CalibrationData.h)
  /// The data set, already read and checked (then `data` only names it).
  const Dataset *dataset = nullptr;
  /// --input-shape specs for compiling the original, as the compressed
  /// artifact was compiled.
  std::vector<std::string> inputShapes;
  int threads = 0;
  bool json = false;
  /// Print nothing (the caller reports the result).
  bool quiet = false;
  /// Layers shown, worst first.
  size_t maxLayers = 10;
};

/// Verifies `options.compressed` against `options.original`; prints the
/// result (text or JSON) unless quiet. Returns the exit status (errors are
/// printed as "lopper: error: ...").
int runVerify(const VerifyOptions &options, VerifyResult *result = nullptr);

/// A temporary folder, removed with everything in it.
struct TempDir {
  llvm::SmallString<128> path;
  ~TempDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

struct SessionDeleter {
  void operator()(lopper_session *s) const { lopper_session_destroy(s); }
};

/// Binds one sample's tensors to `model`'s inputs, in signature order.
bool bindSample(const Model &model, const Sample &sample, ModelInputs &out,
                std::string &error);
/// Runs one sample; returns the outputs in host memory.
bool runSample(const Model &model, lopper_session *session,
               const Sample &sample, std::vector<HostTensor> &outputs,
               std::string &error);
/// The captured value of tap `name` from the session's last run.
bool getTap(lopper_session *session, const std::string &name, HostTensor &out,
            std::string &error);

} // namespace lopper::tools

#endif

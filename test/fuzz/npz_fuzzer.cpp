//===- npz_fuzzer.cpp - libFuzzer over the .npz data-set reader ----------===//
//
// Any byte string must parse or fail with an error naming the file: never
// crash, hang or read out of bounds (libzip's parsing and inflating
// included).
//
//===----------------------------------------------------------------------===//

#include "../../tools/lopper/CalibrationData.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  std::vector<std::pair<std::string, lopper::tools::HostTensor>> arrays;
  std::string error;
  if (!lopper::tools::parseNpz(bytes, "fuzz.npz", arrays, error) &&
      !llvm::StringRef(error).starts_with("fuzz.npz"))
    std::abort(); // an error that does not name the file
  return 0;
}

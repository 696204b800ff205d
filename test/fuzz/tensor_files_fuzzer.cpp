//===- tensor_files_fuzzer.cpp - libFuzzer over the .npy/.pb readers -----===//
//
// Any byte string must parse or fail with an error: never crash, hang or
// read out of bounds. The first byte picks the reader.
//
//===----------------------------------------------------------------------===//

#include "../../tools/lopper/TensorFiles.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
  lopper::tools::HostTensor tensor;
  std::string error;
  if (data[0] & 1)
    lopper::tools::parseNpy(bytes, "fuzz.npy", tensor, error);
  else
    lopper::tools::parseTensorProto(bytes, "fuzz.pb", tensor, error);
  return 0;
}

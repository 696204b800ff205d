//===- import_fuzzer.cpp - libFuzzer target for the ONNX importer ---------===//
//
// Any byte string must import or fail with errors; never crash, hang or
// leak. External data is refused (no base directory), so nothing outside
// the input is read.
//
//===----------------------------------------------------------------------===//

#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

// libMLIR.so is not instrumented, but LLVM's BumpPtrAllocator is inlined
// into this (instrumented) build: here it poisons a fresh slab, while the
// library hands out the rest of it without unpoisoning. User poisoning is
// therefore off; ASan's own checks (overflows, use-after-free, leaks) stay.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    lopper::registerAllDialects(*r);
    return r;
  }();
  // A fresh context per input: nothing uniqued by one input leaks into the
  // next, so a crash reproduces from its input alone.
  mlir::MLIRContext context(*registry, mlir::MLIRContext::Threading::DISABLED);
  lopper::ImportOptions options;
  lopper::ImportErrors errors;
  llvm::StringRef buffer(reinterpret_cast<const char *>(data), size);
  auto module = lopper::importOnnxBuffer(buffer, "fuzz.onnx", "", &context,
                                         options, errors);
  // A failed import must say why.
  if (!module && errors.empty())
    __builtin_trap();
  return 0;
}

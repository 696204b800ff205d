// The GPU operations of the CUDA target on top of the dlopen'ed libraries:
// device buffers, the kernels module, cuSPARSE SpMM (CSR, BSR,
// Blocked-ELL), Lopper's 2:4 kernel and cuBLASLt dense GEMM, all fp16 with
// fp32 accumulation, on one stream. Every failure is a message naming the
// call, its status and the layer.
#ifndef LOPPER_RUNTIME_CUDA_GPU_OPS_H
#define LOPPER_RUNTIME_CUDA_GPU_OPS_H

#include "cuda_loader.h"
#include "formats.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lopper {
namespace cuda {

/// Epilogue activation codes shared with the kernels.
enum class Act : int { None = 0, Relu = 1, Gelu = 2, Sigmoid = 3 };

/// A device allocation owned by a GpuContext.
struct DeviceBuffer {
  void *ptr = nullptr;
  size_t bytes = 0;
};

/// One layer's weight resident on the device, in one of the formats.
enum class WeightFormat { Dense, Csr, Bsr, BlockedEll, Sparse24 };
const char *formatName(WeightFormat f); // "dense", "csr", ...

struct DeviceWeight {
  std::string layer;
  WeightFormat format = WeightFormat::Dense;
  int64_t rows = 0, cols = 0;       // W is [rows = outputs, cols = reduction]
  int64_t padRows = 0, padCols = 0; // BSR / 2:4 padded sizes
  int64_t nnz = 0, blockRows = 0, blockCols = 0, ellBlock = 0, ellCols = 0;
  DeviceBuffer values, index, offsets; // per format (see upload*)
  DeviceBuffer bias;                   // fp16 [rows] or empty
  SpMat mat = nullptr;                 // cuSPARSE descriptor
};

class GpuContext {
public:
  GpuContext() = default;
  ~GpuContext();
  GpuContext(const GpuContext &) = delete;
  GpuContext &operator=(const GpuContext &) = delete;

  /// Loads the libraries, probes `device`, creates the stream and the
  /// library handles and loads the kernels image (a fatbin or PTX).
  bool init(int device, const void *kernelImage, std::string *err);
  const DeviceInfo &device() const { return info_; }
  const Api &api() const { return *api_; }
  Stream stream() const { return active_; }

  bool alloc(size_t bytes, DeviceBuffer *out, std::string *err);
  void release(DeviceBuffer *b);
  bool upload(DeviceBuffer *dst, const void *src, size_t bytes,
              std::string *err);
  bool download(void *dst, const DeviceBuffer &src, size_t bytes,
                std::string *err);
  bool sync(std::string *err);

  /// Streams beyond the context's own (one per runtime session): created
  /// here, made current with useStream (nullptr: the context's own); the
  /// copies, kernels, cuSPARSE and cuBLASLt calls above then go to it. Not
  /// thread-safe: the caller serializes the calls on one context.
  bool createStream(Stream *out, std::string *err);
  void destroyStream(Stream s);
  bool useStream(Stream s, std::string *err);

  /// Uploads W (fp32 row-major [rows, cols]) in `format` (block sizes for
  /// BSR: blockRows x blockCols; Blocked-ELL: blockRows) and an optional
  /// bias; values are converted to fp16.
  bool uploadWeight(const std::string &layer, const float *w, int64_t rows,
                    int64_t cols, const float *bias, WeightFormat format,
                    int64_t blockRows, int64_t blockCols, DeviceWeight *out,
                    std::string *err);
  void releaseWeight(DeviceWeight *w);

  /// Y[n, rows] = act(X[n, cols] * W^T + bias), X and Y fp16 row-major on
  /// the device. For BSR only, X has padCols columns (zero beyond cols) and
  /// Y padRows columns.
  bool linear(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
              DeviceBuffer *y, Act act, std::string *err);

private:
  int device_ = 0; ///< set before every call that may run on a new thread
  bool launch(Function f, unsigned gx, unsigned gy, unsigned block, void **args,
              const char *what, const char *layer, std::string *err);
  bool spmm(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
            DeviceBuffer *y, std::string *err);
  bool dense(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
             DeviceBuffer *y, std::string *err);
  bool epilogue(const DeviceWeight &w, DeviceBuffer *y, int64_t n, int64_t cols,
                Act act, std::string *err);

  const Api *api_ = nullptr;
  DeviceInfo info_;
  Stream stream_ = nullptr; // the context's own
  Stream active_ = nullptr; // where work goes: stream_ or a useStream one
  SparseHandle sparse_ = nullptr;
  LtHandle lt_ = nullptr;
  Module module_ = nullptr;
  Function fnSparse24_ = nullptr, fnBiasAct_ = nullptr;
  DeviceBuffer workspace_;
  std::vector<void *> allocations_;
};

} // namespace cuda
} // namespace lopper

#endif // LOPPER_RUNTIME_CUDA_GPU_OPS_H

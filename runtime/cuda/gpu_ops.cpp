// GPU operations of the CUDA target (see gpu_ops.h).
#include "gpu_ops.h"

#include <algorithm>

namespace lopper {
namespace cuda {

const char *formatName(WeightFormat f) {
  switch (f) {
  case WeightFormat::Dense:
    return "dense";
  case WeightFormat::Csr:
    return "csr";
  case WeightFormat::Bsr:
    return "bsr";
  case WeightFormat::BlockedEll:
    return "ell";
  case WeightFormat::Sparse24:
    return "2:4";
  }
  return "?";
}

// Evaluates a cudart call; on failure sets *err and returns false.
#define LOPPER_CUDART(call, layer)                                             \
  do {                                                                         \
    int rc_ = api_->call;                                                      \
    if (rc_ != 0) {                                                            \
      *err = cudartError(api_, #call, rc_, layer);                             \
      return false;                                                            \
    }                                                                          \
  } while (0)

GpuContext::~GpuContext() {
  if (!api_)
    return;
  if (stream_)
    api_->cudaStreamSynchronize(stream_);
  for (void *p : allocations_)
    api_->cudaFree(p);
  if (module_)
    api_->cuModuleUnload(module_);
  if (sparse_)
    api_->cusparseDestroy(sparse_);
  if (lt_)
    api_->cublasLtDestroy(lt_);
  if (stream_)
    api_->cudaStreamDestroy(stream_);
}

bool GpuContext::init(int device, const void *kernelImage, std::string *err) {
  std::string why;
  const Api *api = processApi(&why);
  if (!api) {
    *err = why;
    return false;
  }
  if (!probeDevice(*api, device, &info_, &why)) {
    *err = why;
    return false;
  }
  api_ = api;
  device_ = device;
  LOPPER_CUDART(cudaSetDevice(device), nullptr);
  LOPPER_CUDART(cudaFree(nullptr), nullptr); // make the primary context current
  LOPPER_CUDART(cudaStreamCreate(&stream_), nullptr);
  active_ = stream_;
  if (int rc = api_->cusparseCreate(&sparse_)) {
    *err = cusparseError("cusparseCreate", rc);
    return false;
  }
  if (int rc = api_->cusparseSetStream(sparse_, stream_)) {
    *err = cusparseError("cusparseSetStream", rc);
    return false;
  }
  if (int rc = api_->cublasLtCreate(&lt_)) {
    *err = cublasError("cublasLtCreate", rc);
    return false;
  }
  if (int rc = api_->cuModuleLoadData(&module_, kernelImage)) {
    *err = driverError(api_, "cuModuleLoadData", rc) +
           " (loading Lopper's kernels for " + info_.name + ", sm_" +
           std::to_string(info_.ccMajor) + std::to_string(info_.ccMinor) + ")";
    return false;
  }
  if (int rc = api_->cuModuleGetFunction(&fnSparse24_, module_,
                                         "lopper_sparse24_gemm_f16")) {
    *err = driverError(api_, "cuModuleGetFunction", rc);
    return false;
  }
  if (int rc = api_->cuModuleGetFunction(&fnBiasAct_, module_,
                                         "lopper_bias_act_f16")) {
    *err = driverError(api_, "cuModuleGetFunction", rc);
    return false;
  }
  return true;
}

bool GpuContext::alloc(size_t bytes, DeviceBuffer *out, std::string *err) {
  void *p = nullptr;
  LOPPER_CUDART(cudaMalloc(&p, std::max<size_t>(bytes, 256)), nullptr);
  allocations_.push_back(p);
  out->ptr = p;
  out->bytes = bytes;
  return true;
}

void GpuContext::release(DeviceBuffer *b) {
  if (!b->ptr)
    return;
  auto it = std::find(allocations_.begin(), allocations_.end(), b->ptr);
  if (it != allocations_.end()) {
    api_->cudaFree(b->ptr);
    allocations_.erase(it);
  }
  *b = DeviceBuffer();
}

bool GpuContext::upload(DeviceBuffer *dst, const void *src, size_t bytes,
                        std::string *err) {
  if (!dst->ptr && !alloc(bytes, dst, err))
    return false;
  LOPPER_CUDART(
      cudaMemcpyAsync(dst->ptr, src, bytes, kMemcpyHostToDevice, active_),
      nullptr);
  return true;
}

bool GpuContext::download(void *dst, const DeviceBuffer &src, size_t bytes,
                          std::string *err) {
  LOPPER_CUDART(
      cudaMemcpyAsync(dst, src.ptr, bytes, kMemcpyDeviceToHost, active_),
      nullptr);
  return sync(err);
}

bool GpuContext::sync(std::string *err) {
  LOPPER_CUDART(cudaStreamSynchronize(active_), nullptr);
  return true;
}

bool GpuContext::createStream(Stream *out, std::string *err) {
  *out = nullptr;
  // The current device is per host thread: a session may run on another
  // thread than the one that loaded the model.
  LOPPER_CUDART(cudaSetDevice(device_), nullptr);
  LOPPER_CUDART(cudaStreamCreate(out), nullptr);
  return true;
}

void GpuContext::destroyStream(Stream s) {
  if (!s || !api_)
    return;
  api_->cudaStreamSynchronize(s);
  if (active_ == s)
    useStream(nullptr, nullptr);
  api_->cudaStreamDestroy(s);
}

bool GpuContext::useStream(Stream s, std::string *err) {
  Stream want = s ? s : stream_;
  if (want == active_)
    return true;
  if (int rc = api_->cusparseSetStream(sparse_, want)) {
    if (err)
      *err = cusparseError("cusparseSetStream", rc);
    return false;
  }
  active_ = want;
  return true;
}

static std::vector<uint16_t> toHalf(const std::vector<float> &v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = floatToHalf(v[i]);
  return h;
}

template <typename T> static size_t bytesOf(const std::vector<T> &v) {
  return v.size() * sizeof(T);
}

// Uploads an array that may be empty (an all-zero CSR or BSR weight): the
// buffer is still allocated, as cuSPARSE wants valid pointers.
template <typename T>
static bool uploadArray(GpuContext &ctx, DeviceBuffer *dst,
                        const std::vector<T> &v, std::string *err) {
  if (v.empty())
    return ctx.alloc(sizeof(T), dst, err);
  return ctx.upload(dst, v.data(), bytesOf(v), err);
}

bool GpuContext::uploadWeight(const std::string &layer, const float *w,
                              int64_t rows, int64_t cols, const float *bias,
                              WeightFormat format, int64_t blockRows,
                              int64_t blockCols, DeviceWeight *out,
                              std::string *err) {
  DeviceWeight d;
  d.layer = layer;
  d.format = format;
  d.rows = d.padRows = rows;
  d.cols = d.padCols = cols;
  DenseView view{w, nullptr, rows, cols};
  std::string why;
  const char *l = layer.c_str();
  auto fmtFail = [&](const std::string &m) {
    *err = "layer '" + layer + "': " + m;
    return false;
  };
  switch (format) {
  case WeightFormat::Dense: {
    std::vector<float> all(w, w + rows * cols);
    std::vector<uint16_t> h = toHalf(all);
    if (!upload(&d.values, h.data(), bytesOf(h), err))
      return false;
    break;
  }
  case WeightFormat::Csr: {
    Csr m;
    if (!toCsr(view, &m, &why))
      return fmtFail(why);
    std::vector<uint16_t> h = toHalf(m.values);
    d.nnz = static_cast<int64_t>(m.values.size());
    if (!uploadArray(*this, &d.offsets, m.rowPtr, err) ||
        !uploadArray(*this, &d.index, m.colInd, err) ||
        !uploadArray(*this, &d.values, h, err))
      return false;
    if (int rc = api_->cusparseCreateCsr(
            &d.mat, rows, cols, d.nnz, d.offsets.ptr, d.index.ptr, d.values.ptr,
            kSparseIndex32, kSparseIndex32, kSparseBaseZero, kCudaR16F)) {
      *err = cusparseError("cusparseCreateCsr", rc, l);
      return false;
    }
    break;
  }
  case WeightFormat::Bsr: {
    Bsr m;
    if (!toBsr(view, blockRows, blockCols, &m, &why))
      return fmtFail(why);
    std::vector<uint16_t> h = toHalf(m.values);
    d.blockRows = blockRows;
    d.blockCols = blockCols;
    d.padRows = m.mb * blockRows;
    d.padCols = m.nb * blockCols;
    d.nnz = static_cast<int64_t>(m.colInd.size());
    if (!uploadArray(*this, &d.offsets, m.rowPtr, err) ||
        !uploadArray(*this, &d.index, m.colInd, err) ||
        !uploadArray(*this, &d.values, h, err))
      return false;
    if (int rc = api_->cusparseCreateBsr(
            &d.mat, m.mb, m.nb, d.nnz, blockRows, blockCols, d.offsets.ptr,
            d.index.ptr, d.values.ptr, kSparseIndex32, kSparseIndex32,
            kSparseBaseZero, kCudaR16F, kSparseOrderRow)) {
      *err = cusparseError("cusparseCreateBsr", rc, l);
      return false;
    }
    break;
  }
  case WeightFormat::BlockedEll: {
    BlockedEll m;
    if (!toBlockedEll(view, blockRows, &m, &why))
      return fmtFail(why);
    std::vector<uint16_t> h = toHalf(m.values);
    d.ellBlock = m.ellBlockSize;
    d.ellCols = m.ellCols;
    if (!upload(&d.index, m.colInd.data(), bytesOf(m.colInd), err) ||
        !upload(&d.values, h.data(), bytesOf(h), err))
      return false;
    if (int rc = api_->cusparseCreateBlockedEll(
            &d.mat, rows, cols, m.ellBlockSize, m.ellCols, d.index.ptr,
            d.values.ptr, kSparseIndex32, kSparseBaseZero, kCudaR16F)) {
      *err = cusparseError("cusparseCreateBlockedEll", rc, l);
      return false;
    }
    break;
  }
  case WeightFormat::Sparse24: {
    Sparse24 m;
    if (!compress24(view, &m, &why))
      return fmtFail(why);
    d.padRows = m.paddedRows;
    d.padCols = m.paddedCols;
    if (!upload(&d.values, m.values.data(), bytesOf(m.values), err) ||
        !upload(&d.index, m.meta.data(), bytesOf(m.meta), err))
      return false;
    break;
  }
  }
  if (bias) {
    // Padded to padRows: the epilogue of a BSR layer covers the padding.
    std::vector<float> b(d.padRows, 0.f);
    std::copy(bias, bias + rows, b.begin());
    std::vector<uint16_t> h = toHalf(b);
    if (!upload(&d.bias, h.data(), bytesOf(h), err))
      return false;
  }
  *out = std::move(d);
  return true;
}

void GpuContext::releaseWeight(DeviceWeight *w) {
  if (w->mat)
    api_->cusparseDestroySpMat(w->mat);
  release(&w->values);
  release(&w->index);
  release(&w->offsets);
  release(&w->bias);
  *w = DeviceWeight();
}

bool GpuContext::launch(Function f, unsigned gx, unsigned gy, unsigned block,
                        void **args, const char *what, const char *layer,
                        std::string *err) {
  if (int rc = api_->cuLaunchKernel(f, gx, gy, 1, block, 1, 1, 0, active_, args,
                                    nullptr)) {
    *err = driverError(api_, what, rc, layer);
    return false;
  }
  return true;
}

bool GpuContext::spmm(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
                      DeviceBuffer *y, std::string *err) {
  const char *l = w.layer.c_str();
  // Y^T [padRows, n] = W [padRows, padCols] * X^T [padCols, n], all
  // column-major: X and Y are row-major [n, cols] and [n, rows].
  DnMat b = nullptr, c = nullptr;
  int rc = api_->cusparseCreateDnMat(&b, w.padCols, n, w.padCols, x.ptr,
                                     kCudaR16F, kSparseOrderCol);
  if (rc) {
    *err = cusparseError("cusparseCreateDnMat", rc, l);
    return false;
  }
  rc = api_->cusparseCreateDnMat(&c, w.padRows, n, w.padRows, y->ptr, kCudaR16F,
                                 kSparseOrderCol);
  if (rc) {
    api_->cusparseDestroyDnMat(b);
    *err = cusparseError("cusparseCreateDnMat", rc, l);
    return false;
  }
  int alg = w.format == WeightFormat::Csr   ? kSpmmCsrAlg1
            : w.format == WeightFormat::Bsr ? kSpmmBsrAlg1
                                            : kSpmmBlockedEllAlg1;
  float alpha = 1.f, beta = 0.f;
  size_t need = 0;
  bool ok = false;
  rc = api_->cusparseSpMM_bufferSize(sparse_, kSparseOpN, kSparseOpN, &alpha,
                                     w.mat, b, &beta, c, kCudaR32F, alg, &need);
  if (rc) {
    *err = cusparseError("cusparseSpMM_bufferSize", rc, l);
  } else {
    bool haveSpace = need <= workspace_.bytes;
    if (!haveSpace) {
      release(&workspace_);
      haveSpace = alloc(need, &workspace_, err); // sets *err on failure
    }
    if (haveSpace) {
      rc = api_->cusparseSpMM(sparse_, kSparseOpN, kSparseOpN, &alpha, w.mat, b,
                              &beta, c, kCudaR32F, alg, workspace_.ptr);
      if (rc)
        *err = cusparseError("cusparseSpMM", rc, l);
      ok = rc == 0;
    }
  }
  api_->cusparseDestroyDnMat(b);
  api_->cusparseDestroyDnMat(c);
  return ok;
}

bool GpuContext::dense(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
                       DeviceBuffer *y, std::string *err) {
  const char *l = w.layer.c_str();
  // Column-major: Y^T [rows, n] = op_T(W^T as [cols, rows]) * X^T [cols, n].
  LtMatmulDesc desc = nullptr;
  LtLayout a = nullptr, b = nullptr, c = nullptr;
  bool ok = false;
  int rc;
  int32_t opT = kCublasOpT, opN = kCublasOpN;
  float alpha = 1.f, beta = 0.f;
  if ((rc = api_->cublasLtMatmulDescCreate(&desc, kCublasCompute32F,
                                           kCudaR32F))) {
    *err = cublasError("cublasLtMatmulDescCreate", rc, l);
    return false;
  }
  if ((rc = api_->cublasLtMatmulDescSetAttribute(desc, kLtDescTransA, &opT,
                                                 sizeof(opT))) ||
      (rc = api_->cublasLtMatmulDescSetAttribute(desc, kLtDescTransB, &opN,
                                                 sizeof(opN)))) {
    *err = cublasError("cublasLtMatmulDescSetAttribute", rc, l);
  } else if ((rc = api_->cublasLtMatrixLayoutCreate(&a, kCudaR16F, w.cols,
                                                    w.rows, w.cols)) ||
             (rc = api_->cublasLtMatrixLayoutCreate(&b, kCudaR16F, w.cols, n,
                                                    w.cols)) ||
             (rc = api_->cublasLtMatrixLayoutCreate(&c, kCudaR16F, w.rows, n,
                                                    w.rows))) {
    *err = cublasError("cublasLtMatrixLayoutCreate", rc, l);
  } else if ((rc = api_->cublasLtMatmul(lt_, desc, &alpha, w.values.ptr, a,
                                        x.ptr, b, &beta, y->ptr, c, y->ptr, c,
                                        nullptr, nullptr, 0, active_))) {
    *err = cublasError("cublasLtMatmul", rc, l);
  } else {
    ok = true;
  }
  for (LtLayout t : {a, b, c})
    if (t)
      api_->cublasLtMatrixLayoutDestroy(t);
  api_->cublasLtMatmulDescDestroy(desc);
  return ok;
}

bool GpuContext::epilogue(const DeviceWeight &w, DeviceBuffer *y, int64_t n,
                          int64_t cols, Act act, std::string *err) {
  if (!w.bias.ptr && act == Act::None)
    return true;
  void *yp = y->ptr, *bp = w.bias.ptr;
  int64_t rows = n;
  int a = static_cast<int>(act);
  void *args[] = {&yp, &bp, &rows, &cols, &a};
  int64_t total = n * cols;
  unsigned grid =
      static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  return launch(fnBiasAct_, grid, 1, 256, args, "cuLaunchKernel(bias_act)",
                w.layer.c_str(), err);
}

bool GpuContext::linear(const DeviceWeight &w, const DeviceBuffer &x, int64_t n,
                        DeviceBuffer *y, Act act, std::string *err) {
  if (n <= 0) {
    *err = "layer '" + w.layer + "': batch rows must be positive";
    return false;
  }
  LOPPER_CUDART(cudaSetDevice(device_), w.layer.c_str());
  switch (w.format) {
  case WeightFormat::Sparse24: {
    const void *vals = w.values.ptr, *meta = w.index.ptr, *xp = x.ptr,
               *bp = w.bias.ptr;
    void *yp = y->ptr;
    int64_t M = w.rows, N = n, K = w.cols, Kp = w.padCols;
    int a = static_cast<int>(act);
    void *args[] = {&vals, &meta, &xp, &bp, &yp, &M, &N, &K, &Kp, &a};
    // 4 warps per block, each 32 rows of X; one block row per 16 outputs.
    unsigned gx = static_cast<unsigned>((n + 127) / 128);
    unsigned gy = static_cast<unsigned>(w.padRows / 16);
    return launch(fnSparse24_, gx, gy, 128, args,
                  "cuLaunchKernel(sparse24_gemm)", w.layer.c_str(), err);
  }
  case WeightFormat::Dense:
    return dense(w, x, n, y, err) && epilogue(w, y, n, w.rows, act, err);
  default:
    return spmm(w, x, n, y, err) && epilogue(w, y, n, w.padRows, act, err);
  }
}

} // namespace cuda
} // namespace lopper

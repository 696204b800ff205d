// GPU backends (see gpu_backend.h): CUDA on GpuContext, and the CPU mock.
#include "gpu_backend.h"

#include "../cuda/formats.h"
#include "../cuda/gpu_ops.h"

#include <cmath>

namespace lopper {
namespace rt {

namespace {

using lopper::cuda::DeviceBuffer;
using lopper::cuda::DeviceWeight;
using lopper::cuda::GpuContext;
using lopper::cuda::WeightFormat;

bool formatOf(const std::string &name, WeightFormat *out) {
  static const struct {
    const char *name;
    WeightFormat format;
  } kFormats[] = {{"dense", WeightFormat::Dense},
                  {"csr", WeightFormat::Csr},
                  {"bsr", WeightFormat::Bsr},
                  {"ell", WeightFormat::BlockedEll},
                  {"2:4", WeightFormat::Sparse24}};
  for (const auto &f : kFormats)
    if (name == f.name) {
      *out = f.format;
      return true;
    }
  return false;
}

float roundHalf(float v) {
  return lopper::cuda::halfToFloat(lopper::cuda::floatToHalf(v));
}

float activate(float v, GpuAct act) {
  switch (act) {
  case GpuAct::None:
    return v;
  case GpuAct::Relu:
    return v > 0.f ? v : 0.f;
  case GpuAct::Gelu:
    return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f));
  case GpuAct::Sigmoid:
    return 1.f / (1.f + std::exp(-v));
  }
  return v;
}

class CudaBackend : public GpuBackend {
public:
  // The weights' cuSPARSE descriptors and buffers, before the context.
  ~CudaBackend() override {
    for (DeviceWeight &w : weights_)
      ctx_.releaseWeight(&w);
  }
  bool init(int device, const void *kernels, std::string *err) {
    return ctx_.init(device, kernels, err);
  }
  const char *name() const override { return "cuda"; }

  bool upload(size_t index, const lopper::cuda::PlanLayer &l, const float *w,
              std::string *err) override {
    WeightFormat f;
    if (!formatOf(l.format, &f)) {
      *err = "layer '" + l.node + "': unknown format '" + l.format + "'";
      return false;
    }
    if (weights_.size() <= index)
      weights_.resize(index + 1);
    // Blocked-ELL takes its (square) block size in blockRows.
    if (!ctx_.uploadWeight(l.node, w, l.rows, l.cols, nullptr, f, l.blockRows,
                           l.blockCols, &weights_[index], err))
      return false;
    return ctx_.sync(err);
  }

  bool setBias(size_t index, const float *bias, std::string *err) override {
    DeviceWeight &d = weights_.at(index);
    std::vector<uint16_t> h(static_cast<size_t>(d.padRows), 0);
    for (int64_t i = 0; i < d.rows; ++i)
      h[static_cast<size_t>(i)] = lopper::cuda::floatToHalf(bias[i]);
    if (!ctx_.upload(&d.bias, h.data(), h.size() * 2, err))
      return false;
    return ctx_.sync(err); // h goes out of scope
  }

  bool createStream(void **stream, std::string *err) override {
    lopper::cuda::Stream s = nullptr;
    if (!ctx_.createStream(&s, err))
      return false;
    *stream = s;
    return true;
  }
  void destroyStream(void *stream) override {
    ctx_.destroyStream(static_cast<lopper::cuda::Stream>(stream));
  }

  bool linear(void *stream, size_t index, const float *x, int64_t n, float *y,
              GpuAct act, bool withBias, std::string *err) override {
    DeviceWeight w = weights_.at(index);
    if (!withBias)
      w.bias = DeviceBuffer();
    if (!ctx_.useStream(static_cast<lopper::cuda::Stream>(stream), err))
      return false;
    // BSR works on the padded sizes; the other formats on the real ones.
    bool bsr = w.format == WeightFormat::Bsr;
    int64_t xCols = bsr ? w.padCols : w.cols, yCols = bsr ? w.padRows : w.rows;
    size_t xn = static_cast<size_t>(n * xCols),
           yn = static_cast<size_t>(n * yCols);
    hx_.assign(xn, 0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t k = 0; k < w.cols; ++k)
        hx_[static_cast<size_t>(r * xCols + k)] =
            lopper::cuda::floatToHalf(x[r * w.cols + k]);
    hy_.resize(yn);
    if (!ensure(&dx_, xn * 2, err) || !ensure(&dy_, yn * 2, err) ||
        !ctx_.upload(&dx_, hx_.data(), xn * 2, err) ||
        !ctx_.linear(w, dx_, n, &dy_, static_cast<lopper::cuda::Act>(act),
                     err) ||
        !ctx_.download(hy_.data(), dy_, yn * 2, err)) // synchronizes
      return false;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < w.rows; ++j)
        y[r * w.rows + j] =
            lopper::cuda::halfToFloat(hy_[static_cast<size_t>(r * yCols + j)]);
    return true;
  }

  bool sync(void *stream, std::string *err) override {
    return ctx_.useStream(static_cast<lopper::cuda::Stream>(stream), err) &&
           ctx_.sync(err);
  }

private:
  // A scratch device buffer of at least `bytes`.
  bool ensure(DeviceBuffer *b, size_t bytes, std::string *err) {
    if (b->ptr && b->bytes >= bytes)
      return true;
    ctx_.release(b);
    return ctx_.alloc(bytes, b, err);
  }

  GpuContext ctx_;
  std::vector<DeviceWeight> weights_;
  // Activations go through these (calls are serialized by the caller).
  DeviceBuffer dx_, dy_;
  std::vector<uint16_t> hx_, hy_;
};

GpuBackendFactory testFactory = nullptr;

} // namespace

std::unique_ptr<GpuBackend> makeCudaBackend(int device, const void *kernels,
                                            std::string *err) {
  std::unique_ptr<CudaBackend> b(new CudaBackend);
  if (!b->init(device, kernels, err))
    return nullptr;
  return b;
}

void setGpuBackendFactoryForTesting(GpuBackendFactory factory) {
  testFactory = factory;
}

GpuBackendFactory gpuBackendFactoryForTesting() { return testFactory; }

//===--- Mock ---------------------------------------------------------------//

bool MockGpuBackend::upload(size_t index, const lopper::cuda::PlanLayer &l,
                            const float *w, std::string *err) {
  if (l.node == failUploadOf) {
    *err = "layer '" + l.node + "': mock upload failure";
    return false;
  }
  if (layers_.size() <= index) {
    layers_.resize(index + 1);
    calls.resize(index + 1, 0);
    formats.resize(index + 1);
    names_.resize(index + 1);
  }
  names_[index] = l.node;
  Layer &d = layers_[index];
  d.rows = l.rows;
  d.cols = l.cols;
  d.w.resize(static_cast<size_t>(l.rows * l.cols));
  for (size_t i = 0; i < d.w.size(); ++i)
    d.w[i] = roundHalf(w[i]);
  formats[index] = l.format;
  return true;
}

bool MockGpuBackend::setBias(size_t index, const float *bias,
                             std::string *err) {
  if (index >= layers_.size()) {
    *err = "mock: bias for a layer never uploaded";
    return false;
  }
  Layer &d = layers_[index];
  d.bias.resize(static_cast<size_t>(d.rows));
  for (int64_t i = 0; i < d.rows; ++i)
    d.bias[static_cast<size_t>(i)] = roundHalf(bias[i]);
  d.hasBias = true;
  return true;
}

bool MockGpuBackend::createStream(void **stream, std::string *) {
  ++streamsCreated;
  *stream = reinterpret_cast<void *>(static_cast<uintptr_t>(streamsCreated));
  return true;
}

void MockGpuBackend::destroyStream(void *stream) {
  if (stream)
    ++streamsDestroyed;
}

bool MockGpuBackend::linear(void *, size_t index, const float *x, int64_t n,
                            float *y, GpuAct act, bool withBias,
                            std::string *err) {
  if (index >= layers_.size()) {
    *err = "mock: linear on a layer never uploaded";
    return false;
  }
  const Layer &d = layers_[index];
  if (withBias && !d.hasBias) {
    *err = "mock: layer " + std::to_string(index) + " has no bias";
    return false;
  }
  ++calls[index];
  if (!failLinearOf.empty() && names_[index] == failLinearOf) {
    *err = "layer '" + names_[index] + "': mock linear failure";
    return false;
  }
  std::vector<float> xh(static_cast<size_t>(d.cols));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t k = 0; k < d.cols; ++k)
      xh[static_cast<size_t>(k)] = roundHalf(x[r * d.cols + k]);
    for (int64_t j = 0; j < d.rows; ++j) {
      const float *wr = d.w.data() + j * d.cols;
      float acc = 0.f;
      for (int64_t k = 0; k < d.cols; ++k)
        acc += xh[static_cast<size_t>(k)] * wr[k];
      // The GPU writes the product as fp16, then the epilogue adds the
      // fp16 bias and rounds again (cuBLASLt / cuSPARSE + bias_act).
      float v = roundHalf(acc);
      if (withBias)
        v += d.bias[static_cast<size_t>(j)];
      y[r * d.rows + j] = roundHalf(activate(v, act));
    }
  }
  return true;
}

bool MockGpuBackend::sync(void *, std::string *) { return true; }

//===--- Model and session state --------------------------------------------//

GpuModel::~GpuModel() = default;

GpuSessionStream::~GpuSessionStream() {
  if (!created || !model)
    return;
  std::lock_guard<std::mutex> lock(model->mu);
  model->backend->destroyStream(stream);
}

} // namespace rt
} // namespace lopper

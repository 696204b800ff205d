// The GPU execution path of a model loaded with LOPPER_DEVICE_CUDA (see
// docs/gpu.md, "Runtime"): the backend interface the per-layer dispatch
// talks to, its CUDA implementation (GpuContext, runtime/cuda/gpu_ops.h)
// and a CPU mock for the tests, and the per-model state. Internal: nothing
// here is exported from liblopper_runtime.so.
#ifndef LOPPER_RUNTIME_SRC_GPU_BACKEND_H
#define LOPPER_RUNTIME_SRC_GPU_BACKEND_H

#include "../cuda/gpu_plan.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lopper {
namespace rt {

/// Epilogue activations a backend applies (the GPU kernels' codes).
enum class GpuAct : int { None = 0, Relu = 1, Gelu = 2, Sigmoid = 3 };

/// What runs a plan's layers. Calls on one backend are serialized by the
/// caller (GpuModel::mu). Every failure sets *err to a message naming the
/// layer and the failed call.
class GpuBackend {
public:
  virtual ~GpuBackend() = default;
  virtual const char *name() const = 0; // "cuda", "mock"
  /// Makes layer `index` resident: `w` is its weight, dense row-major fp32
  /// [l.rows, l.cols], stored in l.format.
  virtual bool upload(size_t index, const lopper::cuda::PlanLayer &l,
                      const float *w, std::string *err) = 0;
  /// The layer's bias, fp32 [rows] (the artifact passes it with the first
  /// call: it is not in the plan).
  virtual bool setBias(size_t index, const float *bias, std::string *err) = 0;
  /// A stream for one session (nullptr is the backend's default stream).
  virtual bool createStream(void **stream, std::string *err) = 0;
  virtual void destroyStream(void *stream) = 0;
  /// y[n, rows] = act(x[n, cols] W^T (+ bias when withBias)) for layer
  /// `index`, on `stream`, x and y on the host (fp32, rows contiguous): x
  /// is copied to the device as fp16, y back from fp16. `y` is valid after
  /// sync().
  virtual bool linear(void *stream, size_t index, const float *x, int64_t n,
                      float *y, GpuAct act, bool withBias,
                      std::string *err) = 0;
  virtual bool sync(void *stream, std::string *err) = 0;
};

/// The CUDA backend on device `device`, with the kernels image of the plan.
std::unique_ptr<GpuBackend> makeCudaBackend(int device, const void *kernels,
                                            std::string *err);

/// The CPU mock: the GPU's numerics (weights, bias, x and y rounded to
/// fp16, fp32 accumulation) computed on the CPU; counts calls per layer.
class MockGpuBackend : public GpuBackend {
public:
  const char *name() const override { return "mock"; }
  bool upload(size_t index, const lopper::cuda::PlanLayer &l, const float *w,
              std::string *err) override;
  bool setBias(size_t index, const float *bias, std::string *err) override;
  bool createStream(void **stream, std::string *err) override;
  void destroyStream(void *stream) override;
  bool linear(void *stream, size_t index, const float *x, int64_t n, float *y,
              GpuAct act, bool withBias, std::string *err) override;
  bool sync(void *stream, std::string *err) override;

  // Test knobs and counters.
  std::string failUploadOf;         // upload of this layer fails
  std::string failLinearOf;         // linear of this layer fails
  std::vector<int64_t> calls;       // linear calls per layer index
  std::vector<std::string> formats; // the format each layer was uploaded in
  int streamsCreated = 0, streamsDestroyed = 0;

private:
  struct Layer {
    int64_t rows = 0, cols = 0;
    std::vector<float> w, bias; // fp16-rounded
    bool hasBias = false;
  };
  std::vector<Layer> layers_;
  std::vector<std::string> names_;
};

/// Tests: the backend a CUDA load uses instead of the real one (nullptr
/// restores it). The factory is called once per load; a null return means
/// "no device" with *err saying why.
using GpuBackendFactory = std::unique_ptr<GpuBackend> (*)(int device,
                                                          std::string *err);
void setGpuBackendFactoryForTesting(GpuBackendFactory factory);
GpuBackendFactory gpuBackendFactoryForTesting();

/// Per-layer dispatch counters (what the tests and `lopper run` look at).
struct GpuLayerStats {
  std::atomic<int64_t> gpuCalls{0};
  std::atomic<int64_t> cpuCalls{0}; // fell back: epilogue, shape or error
};

/// A model's GPU state: the backend with every plan layer resident, which
/// op runs which layer, and the streams.
struct GpuModel {
  std::unique_ptr<GpuBackend> backend;
  std::vector<lopper::cuda::PlanLayer> layers;
  std::vector<int32_t> opLayer; // per artifact op: plan layer index or -1
  std::unique_ptr<GpuLayerStats[]> stats;
  std::vector<const float *> biasOf; // per layer: the bias last uploaded
  std::mutex mu;                     // serializes every backend call
  std::atomic<bool> broken{false};   // a run-time GPU failure: CPU from then on
  std::string label;                 // the artifact path, for messages

  ~GpuModel();
};

/// A session's stream, destroyed with the session (GpuModel outlives it
/// through the shared_ptr).
struct GpuSessionStream {
  std::shared_ptr<GpuModel> model;
  void *stream = nullptr;
  bool created = false;
  ~GpuSessionStream();
};

} // namespace rt
} // namespace lopper

#endif // LOPPER_RUNTIME_SRC_GPU_BACKEND_H

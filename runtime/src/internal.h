// Internal declarations of liblopper_runtime. Not installed; the runtime
// tests include it to unit-test the metadata parser, the arena planner and
// the thread pool.
#ifndef LOPPER_RUNTIME_SRC_INTERNAL_H
#define LOPPER_RUNTIME_SRC_INTERNAL_H

#include "lopper/artifact_abi.h"
#include "lopper/runtime.h"

#include "gpu_backend.h"

#include <condition_variable>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lopper {
namespace rt {

//===--- Errors -------------------------------------------------------------//

// Sets the calling thread's last error and returns `status`.
lopper_status fail(lopper_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
lopper_status failString(lopper_status status, std::string message);
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

//===--- Polynomials over the symbols s0, s1, ... ---------------------------//

struct Term {
  int64_t coef = 1;
  std::vector<uint32_t> syms; // factors s<i>, repeated for powers
};

struct Poly {
  std::vector<Term> terms; // empty = 0

  // True when no term has a symbol; *value gets the (overflow-checked) sum.
  bool isConstant(int64_t *value) const;
  // The symbol index when the polynomial is exactly "sN", else -1.
  int singleSymbol() const;
  // Evaluates with syms[i] bound to si. False on int64 overflow.
  bool eval(const int64_t *syms, int64_t *out) const;
  // Human-readable form with symbol names: "2*batch*seq-4".
  std::string str(const std::vector<std::string> &symNames) const;
  void collectSymbols(std::vector<char> &used) const;
};

// Parses "2*s0*s1*s1+-4". Symbols must be < numSyms.
bool parsePoly(std::string_view text, size_t numSyms, Poly *out,
               std::string *err);
bool parseInt64(std::string_view text, int64_t *out);

//===--- Metadata -----------------------------------------------------------//

struct TensorSig {
  std::string name;
  int32_t dtype = 0;
  std::vector<Poly> dims;
};

struct CheckRec {
  Poly lhs, rhs;
  bool le = false; // false: eq
  std::string node;
};

struct BufferRec {
  Poly bytes;
  int64_t firstOp = 0, lastOp = 0;
};

struct OpRec {
  std::string kind, node;
};

enum class TapWhere { Arena, Input, Output, Weights };

struct TapRec {
  std::string name;
  int32_t dtype = 0;
  std::vector<Poly> dims;
  TapWhere where = TapWhere::Arena;
  int64_t index = 0;
  int64_t byteOffset = 0;
};

struct Metadata {
  uint32_t abiVersion = 0;
  std::string modelName;
  std::vector<std::string> syms;
  std::vector<TensorSig> inputs, outputs;
  std::vector<CheckRec> checks;
  std::vector<BufferRec> buffers;
  std::vector<OpRec> ops;
  std::vector<TapRec> taps;
};

// Parses the metadata text (format in artifact_abi.h). On failure *err is
// "line N: reason". Never reads outside [text, text + size).
bool parseMetadata(const char *text, size_t size, Metadata *md,
                   std::string *err);
bool percentDecode(std::string_view in, std::string *out);

//===--- Arena planning -----------------------------------------------------//

constexpr int64_t kArenaAlign = 64;

struct PlanBuffer {
  int64_t bytes = 0;
  int64_t firstOp = 0, lastOp = 0;
};

struct Plan {
  std::vector<int64_t> offsets;
  std::vector<int64_t> bufferBytes; // filled by getPlan, not planArena
  int64_t arenaBytes = 0;           // multiple of kArenaAlign
};

// Greedy-by-size: buffers sorted by size (descending, ties by id), each
// placed at the lowest 64-byte aligned offset that does not overlap a placed
// buffer whose [firstOp, lastOp] intersects its own. False on overflow.
bool planArena(const std::vector<PlanBuffer> &buffers, Plan *plan,
               std::string *err);

//===--- Thread pool --------------------------------------------------------//

using ParallelFn = void (*)(void *ctx, int64_t begin, int64_t end);

class ThreadPool {
public:
  // `threads` counts the calling thread: threads - 1 workers are started.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int numThreads() const { return static_cast<int>(workers_.size()) + 1; }
  void parallelFor(int64_t n, int64_t grain, ParallelFn fn, void *ctx);

  struct Job;

private:
  void workerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job *> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

int defaultThreadCount();

//===--- CPU features -------------------------------------------------------//

uint64_t hostCpuFeatures();
// Tests: pretend the CPU has exactly `mask` (enable = false restores).
void overrideCpuFeaturesForTesting(bool enable, uint64_t mask);
std::string cpuFeatureNames(uint64_t mask); // "avx512f, avx512vnni"

//===--- Kernels ------------------------------------------------------------//

void *findKernel(const char *name);
size_t numKernels();
const char *kernelName(size_t index);

//===--- CUDA -------------------------------------------------------------//

// lopper_model_load with device CUDA: reads and checks `<path>.gpu`, then
// probes the device. Without a plan file, or with a bad one, the load
// fails. Without a usable GPU the model runs on the CPU: one warning on
// stderr, the reason kept in model->deviceNote.
lopper_status attachGpuPlan(lopper_model *m, const char *path, int deviceId);

struct RunContext;
// One call of lopper_k_matmul_f32_v1 / lopper_k_matmul_bsr_f32_v1 in the
// LOPPER_MM_IP_* terms (a_cs = 1 and bias kind 0/1 for the BSR kernel).
struct MatmulCall {
  int64_t batch = 0, m = 0, n = 0, k = 0;
  int64_t aBs = 0, aRs = 0, aCs = 1;
  int64_t biasKind = 0, rBs = 0, cBs = 0, ldc = 0, act = 0;
  const float *a = nullptr, *bias = nullptr, *residual = nullptr;
  float *c = nullptr;
};
// Runs the call on the GPU when the current op has a plan layer and the
// GPU path can do its epilogue; false: the caller runs the CPU kernel.
bool gpuMatmul(RunContext *run, const MatmulCall &call);

//===--- Aligned memory -----------------------------------------------------//

void *alignedAlloc(size_t bytes); // 64-byte aligned, at least 64 bytes
void alignedFree(void *p);

bool tensorBytes(int32_t dtype, int32_t rank, const int64_t *dims, size_t *out);

//===--- Tensor descs -------------------------------------------------------//

// The smallest `size` a caller's lopper_tensor_desc may have (fields up to
// dims); device and later fields default when not covered.
constexpr size_t kMinDescSize = offsetof(lopper_tensor_desc, device);
// Copies a caller's desc (honouring its size) into a full desc.
lopper_status readDesc(const lopper_tensor_desc *in, lopper_tensor_desc *out,
                       const char *fn, const char *what);
// Writes the fields of `d` that out->size covers.
lopper_status writeDesc(lopper_tensor_desc *out, const lopper_tensor_desc &d,
                        const char *fn, const char *what);
// dtype known, rank in range, dims >= 0, CPU, byte size fits.
lopper_status validateDesc(const lopper_tensor_desc &d, const char *fn,
                           const char *what, size_t *bytes);
std::string dimsString(int32_t rank, const int64_t *dims); // "[2, 4]"

} // namespace rt
} // namespace lopper

//===--- Objects behind the C handles ---------------------------------------//

struct lopper_tensor {
  lopper_tensor_desc desc;
  void *data = nullptr;
  size_t bytes = 0;
  bool owned = false;
};

struct lopper_model {
  std::string label; // the path as given, or "linked model <name>"
  void *dl = nullptr;
  const lopper_artifact_info *info = nullptr;
  lopper::rt::Metadata md;
  const uint8_t *weights = nullptr;
  uint64_t weightsSize = 0;
  void *mapped = nullptr; // sidecar weights mapping
  size_t mappedSize = 0;
  std::unique_ptr<lopper::rt::ThreadPool> pool;
  // The device the model runs on and, when CUDA was asked for but the CPU
  // runs it, why (see attachGpuPlan).
  int32_t device = LOPPER_DEVICE_CPU;
  std::string deviceNote;
  size_t gpuLayers = 0; // layers in the checked GPU plan
  // device == CUDA: the plan's layers resident on the GPU (gpu_backend.h).
  std::shared_ptr<lopper::rt::GpuModel> gpu;

  // Derived from the metadata at load.
  std::vector<std::vector<std::string>> inputDimNames, outputDimNames;
  std::vector<char> symUsed;

  // Arena plans per symbol tuple (small LRU).
  struct CachedPlan {
    std::vector<int64_t> syms;
    std::shared_ptr<const lopper::rt::Plan> plan;
    uint64_t lastUse = 0;
  };
  mutable std::mutex planMu;
  mutable std::vector<CachedPlan> plans;
  mutable uint64_t planClock = 0;

  // Free arenas; a run takes one out, so concurrent runs never share one.
  struct Arena {
    void *data = nullptr;
    size_t bytes = 0;
  };
  mutable std::mutex arenaMu;
  mutable std::vector<Arena> freeArenas;

  ~lopper_model();
};

struct lopper_session {
  const lopper_model *model = nullptr;
  bool profiling = false;
  struct ProfileEntry {
    uint64_t ns = 0, calls = 0, start = 0;
  };
  std::vector<ProfileEntry> profile;
  std::vector<char> tapWanted;
  size_t numTapsWanted = 0;
  struct TapValue {
    lopper_tensor tensor;
    size_t capacity = 0;
    bool valid = false;
    bool failed = false;
  };
  std::vector<TapValue> taps;
  // The session's GPU stream, created by its first GPU layer.
  std::unique_ptr<lopper::rt::GpuSessionStream> gpuStream;

  ~lopper_session();
};

namespace lopper {
namespace rt {

// The `rt` pointer passed to the artifact's run function and to kernels.
struct RunContext {
  const lopper_model *model = nullptr;
  lopper_session *session = nullptr; // NULL when no session
  ThreadPool *pool = nullptr;
  bool profiling = false;
  bool tapping = false;
  const int64_t *syms = nullptr;
  const int64_t *offsets = nullptr;
  const int64_t *bufferBytes = nullptr;
  uint8_t *arena = nullptr;
  void *const *inputs = nullptr;
  const size_t *inputBytes = nullptr;
  void *const *outputs = nullptr;
  const size_t *outputBytes = nullptr;
  int64_t currentOp = -1;  // set by lopper_k_op_begin_v1
  GpuModel *gpu = nullptr; // the model's GPU state, or NULL (CPU)
};

// Shapes for one set of input descs: symbol values, output descs and plan.
struct Bound {
  std::vector<int64_t> syms;
  std::vector<lopper_tensor_desc> outputs;
};
lopper_status bindInputs(const lopper_model *model,
                         const lopper_tensor_desc *const *inputs, Bound *bound);
lopper_status getPlan(const lopper_model *model,
                      const std::vector<int64_t> &syms,
                      std::shared_ptr<const Plan> *plan);

} // namespace rt
} // namespace lopper

#if __has_include("../cpu/parallel.h")
#include "../cpu/parallel.h"
#endif

extern "C" {
void lopper_k_op_begin_v1(void *rt, int64_t op);
void lopper_k_op_end_v1(void *rt, int64_t op);
void lopper_k_tap_v1(void *rt, int64_t tap);
void lopper_rt_parallel_for(void *rt, int64_t n, int64_t grain,
                            void (*fn)(void *ctx, int64_t begin, int64_t end),
                            void *ctx);
}

#endif // LOPPER_RUNTIME_SRC_INTERNAL_H

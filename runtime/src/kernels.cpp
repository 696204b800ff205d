// The kernel registry (names in kernel_names -> functions for kernel_slots)
// and the runtime's own kernels: profiling hooks and taps.
#include "internal.h"

#include <chrono>
#include <cstring>

// LOPPER_HAVE_CPU_KERNELS is set by runtime/CMakeLists.txt when the
// lopper_rt_cpu target (runtime/cpu) exists and is linked in.
#if defined(LOPPER_HAVE_CPU_KERNELS) && LOPPER_HAVE_CPU_KERNELS
#include "../cpu/kernels.h"
#endif

namespace lopper {
namespace rt {

namespace {
#if defined(LOPPER_HAVE_CPU_KERNELS) && LOPPER_HAVE_CPU_KERNELS
// The fp32 matmul kernels' slots get these: a model running on CUDA sends
// the ops its GPU plan covers to the GPU (gpu.cpp), everything else (and
// every call of a CPU model: one pointer test) goes to the CPU kernel.
// The operands every matmul call shares; true when the GPU ran it.
bool toGpu(RunContext *run, MatmulCall &call, const float *a, const float *bias,
           const float *residual, float *c) {
  call.a = a;
  call.bias = bias;
  call.residual = residual;
  call.c = c;
  return gpuMatmul(run, call);
}

void matmulF32(void *rt, const int64_t *ip, const float *fp, const float *a,
               const float *b, const float *bias, const float *residual,
               float *c) {
  auto *run = static_cast<RunContext *>(rt);
  if (run && run->gpu) {
    MatmulCall call;
    call.batch = ip[LOPPER_MM_IP_BATCH];
    call.m = ip[LOPPER_MM_IP_M];
    call.n = ip[LOPPER_MM_IP_N];
    call.k = ip[LOPPER_MM_IP_K];
    call.aBs = ip[LOPPER_MM_IP_A_BS];
    call.aRs = ip[LOPPER_MM_IP_A_RS];
    call.aCs = ip[LOPPER_MM_IP_A_CS];
    call.biasKind = bias ? ip[LOPPER_MM_IP_BIAS_KIND] : 0;
    call.rBs = ip[LOPPER_MM_IP_R_BS];
    call.cBs = ip[LOPPER_MM_IP_C_BS];
    call.ldc = ip[LOPPER_MM_IP_LDC];
    call.act = ip[LOPPER_MM_IP_ACT];
    if (toGpu(run, call, a, bias, residual, c))
      return;
  }
  lopper_k_matmul_f32_v1(rt, ip, fp, a, b, bias, residual, c);
}

void matmulBsrF32(void *rt, const int64_t *ip, const float *fp, const float *a,
                  const void *w, const float *bias, const float *residual,
                  float *c) {
  auto *run = static_cast<RunContext *>(rt);
  if (run && run->gpu) {
    MatmulCall call;
    call.batch = ip[LOPPER_SMM_IP_BATCH];
    call.m = ip[LOPPER_SMM_IP_M];
    call.n = ip[LOPPER_SMM_IP_N];
    call.k = ip[LOPPER_SMM_IP_K];
    call.aBs = ip[LOPPER_SMM_IP_A_BS];
    call.aRs = ip[LOPPER_SMM_IP_A_RS];
    call.aCs = 1;
    call.biasKind = bias ? 1 : 0;
    call.rBs = ip[LOPPER_SMM_IP_R_BS];
    call.cBs = ip[LOPPER_SMM_IP_C_BS];
    call.ldc = ip[LOPPER_SMM_IP_LDC];
    call.act = ip[LOPPER_SMM_IP_ACT];
    if (toGpu(run, call, a, bias, residual, c))
      return;
  }
  lopper_k_matmul_bsr_f32_v1(rt, ip, fp, a, w, bias, residual, c);
}
#endif

// The casts to the ABI's function-pointer types check at compile time that
// each kernel has exactly the signature artifact_abi.h gives it.
template <typename Fn> void *entry(Fn fn) {
  return reinterpret_cast<void *>(fn);
}

const struct {
  const char *name;
  void *fn;
} kKernels[] = {
    {"lopper_k_op_begin_v1",
     entry(static_cast<lopper_k_op_begin_v1_fn>(&lopper_k_op_begin_v1))},
    {"lopper_k_op_end_v1",
     entry(static_cast<lopper_k_op_end_v1_fn>(&lopper_k_op_end_v1))},
    {"lopper_k_tap_v1",
     entry(static_cast<lopper_k_tap_v1_fn>(&lopper_k_tap_v1))},
#if defined(LOPPER_HAVE_CPU_KERNELS) && LOPPER_HAVE_CPU_KERNELS
    {"lopper_k_conv2d_f32_v1",
     entry(static_cast<lopper_k_conv2d_f32_v1_fn>(&lopper_k_conv2d_f32_v1))},
    {"lopper_k_matmul_f32_v1",
     entry(static_cast<lopper_k_matmul_f32_v1_fn>(&matmulF32))},
    {"lopper_k_conv2d_q8_v1",
     entry(static_cast<lopper_k_conv2d_q8_v1_fn>(&lopper_k_conv2d_q8_v1))},
    {"lopper_k_matmul_q8_v1",
     entry(static_cast<lopper_k_matmul_q8_v1_fn>(&lopper_k_matmul_q8_v1))},
    {"lopper_k_matmul_bsr_q8_v1",
     entry(static_cast<lopper_k_matmul_bsr_q8_v1_fn>(
         &lopper_k_matmul_bsr_q8_v1))},
    {"lopper_k_matmul_bsr_f32_v1",
     entry(static_cast<lopper_k_matmul_bsr_f32_v1_fn>(&matmulBsrF32))},
#endif
};

uint64_t nowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
} // namespace

void *findKernel(const char *name) {
  for (const auto &k : kKernels)
    if (std::strcmp(k.name, name) == 0)
      return k.fn;
  return nullptr;
}

size_t numKernels() { return sizeof(kKernels) / sizeof(kKernels[0]); }

const char *kernelName(size_t index) {
  return index < numKernels() ? kKernels[index].name : nullptr;
}

namespace {
// Copies tap `id` of the current run into the session.
void captureTap(RunContext *run, int64_t id) {
  lopper_session *s = run->session;
  const lopper_model *m = run->model;
  if (id < 0 || static_cast<size_t>(id) >= m->md.taps.size() ||
      !s->tapWanted[static_cast<size_t>(id)])
    return;
  const TapRec &t = m->md.taps[static_cast<size_t>(id)];
  lopper_session::TapValue &v = s->taps[static_cast<size_t>(id)];
  v.valid = false;
  v.failed = true;
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  d.dtype = t.dtype;
  d.rank = static_cast<int32_t>(t.dims.size());
  for (size_t i = 0; i < t.dims.size(); ++i)
    if (!t.dims[i].eval(run->syms, &d.dims[i]) || d.dims[i] < 0)
      return;
  size_t bytes;
  if (!tensorBytes(d.dtype, d.rank, d.dims, &bytes))
    return;
  // The source, bounds-checked against the region the record points into.
  const uint8_t *base = nullptr;
  uint64_t limit = 0;
  size_t idx = static_cast<size_t>(t.index);
  switch (t.where) {
  case TapWhere::Arena:
    base = run->arena + run->offsets[idx];
    limit = static_cast<uint64_t>(run->bufferBytes[idx]);
    break;
  case TapWhere::Input:
    base = static_cast<const uint8_t *>(run->inputs[idx]);
    limit = run->inputBytes[idx];
    break;
  case TapWhere::Output:
    base = static_cast<const uint8_t *>(run->outputs[idx]);
    limit = run->outputBytes[idx];
    break;
  case TapWhere::Weights:
    base = m->weights;
    limit = m->weightsSize;
    break;
  }
  uint64_t off = static_cast<uint64_t>(t.byteOffset);
  if (off > limit || bytes > limit - off || (!base && bytes > 0))
    return;
  if (v.capacity < bytes || !v.tensor.data) {
    void *p = alignedAlloc(bytes);
    if (!p)
      return;
    alignedFree(v.tensor.data);
    v.tensor.data = p;
    v.capacity = bytes;
  }
  v.tensor.desc = d;
  v.tensor.bytes = bytes;
  v.tensor.owned = true;
  if (bytes)
    std::memcpy(v.tensor.data, base + off, bytes);
  v.valid = true;
  v.failed = false;
}
} // namespace

} // namespace rt
} // namespace lopper

using lopper::rt::RunContext;

extern "C" void lopper_k_op_begin_v1(void *rt, int64_t op) {
  auto *run = static_cast<RunContext *>(rt);
  if (!run)
    return;
  run->currentOp = op; // which plan layer a matmul call belongs to
  if (!run->profiling)
    return;
  auto &prof = run->session->profile;
  if (op >= 0 && static_cast<size_t>(op) < prof.size())
    prof[static_cast<size_t>(op)].start = lopper::rt::nowNs();
}

extern "C" void lopper_k_op_end_v1(void *rt, int64_t op) {
  auto *run = static_cast<RunContext *>(rt);
  if (!run)
    return;
  run->currentOp = -1;
  if (!run->profiling)
    return;
  auto &prof = run->session->profile;
  if (op < 0 || static_cast<size_t>(op) >= prof.size())
    return;
  auto &e = prof[static_cast<size_t>(op)];
  uint64_t now = lopper::rt::nowNs();
  e.ns += now >= e.start ? now - e.start : 0;
  e.calls += 1;
}

extern "C" void lopper_k_tap_v1(void *rt, int64_t tap) {
  auto *run = static_cast<RunContext *>(rt);
  if (!run || !run->tapping)
    return;
  lopper::rt::captureTap(run, tap);
}

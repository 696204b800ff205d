/* A hand-written Lopper artifact implementing the ABI of
 * lopper/artifact_abi.h without the compiler: y = relu(a + b + w) and
 * flat = reshape(y, [4 * batch]) for a, b: f32 [batch, 4] (see
 * fake_artifact.h). It goes through two arena buffers of 16 * batch bytes
 * (the sum, live for ops 0-1, and the activation, live for ops 1-2), calls
 * the op_begin/op_end/tap kernels through its slots and has three taps.
 *
 * Variants (compile definitions):
 *   FAKE_GET_INFO_NAME   name of the get-info function (static linking)
 *   FAKE_SIDECAR         weights in FAKE_SIDECAR_NAME, not embedded
 *   FAKE_FEATURES        required_features (e.g. LOPPER_CPU_NEON)
 *   FAKE_ABI             abi_version in the info block and the metadata
 *   FAKE_BAD_METADATA    malformed metadata (with a matching checksum)
 *   FAKE_BAD_CHECKSUM    wrong metadata checksum
 *   FAKE_UNKNOWN_KERNEL  asks for a kernel no runtime provides */
#include "fake_artifact.h"

#include "lopper/artifact_abi.h"

#include <pthread.h>
#include <string.h>

#ifndef FAKE_GET_INFO_NAME
#define FAKE_GET_INFO_NAME lopper_artifact_get_info
#endif
#ifndef FAKE_FEATURES
#define FAKE_FEATURES 0
#endif
#ifndef FAKE_ABI
#define FAKE_ABI 1 /* a plain number: it is also pasted into the metadata */
_Static_assert(FAKE_ABI == LOPPER_ABI_VERSION, "update the fake artifact");
#endif

#define STR2(x) #x
#define STR(x) STR2(x)

static const char metadata[] = "lopper-artifact " STR(
    FAKE_ABI) "\n"
              "model fake%20add\n"
              "syms 1 batch\n"
              "input a 1 2 s0 4\n"
#ifdef FAKE_BAD_METADATA
              "input b 1 2 s0 4 x\n"
#else
              "input b 1 2 s0 4\n"
#endif
              "output y 1 2 s0 4\n"
              "output flat 1 1 4*s0\n"
              "check s0 le " STR(
                  FAKE_MAX_BATCH) " add%20node\n"
                                  "buffer 16*s0 0 1\n"
                                  "buffer 16*s0 1 2\n"
                                  "op add add%20node\n"
                                  "op relu relu_node\n"
                                  "op copy copy_node\n"
                                  "tap sum 1 2 s0 4 arena 0 0\n"
                                  "tap y_tail 1 2 s0+-1 4 output 0 16\n"
                                  "tap w 1 1 4 weights 0 0\n"
                                  "end\n";

_Alignas(64) static const float weights[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;

static const char *const kernel_names[] = {
    "lopper_k_op_begin_v1",
    "lopper_k_op_end_v1",
    "lopper_k_tap_v1",
#ifdef FAKE_UNKNOWN_KERNEL
    "lopper_k_frobnicate_v7",
#endif
};
#define KERNEL_COUNT (sizeof(kernel_names) / sizeof(kernel_names[0]))
static void *kernel_slots[KERNEL_COUNT];

static void op_begin(void *rt, int64_t op) {
  ((lopper_k_op_begin_v1_fn)kernel_slots[0])(rt, op);
}
static void op_end(void *rt, int64_t op) {
  ((lopper_k_op_end_v1_fn)kernel_slots[1])(rt, op);
}
static void tap(void *rt, int64_t id) {
  ((lopper_k_tap_v1_fn)kernel_slots[2])(rt, id);
}

static void run(void *rt, const int64_t *syms, const int64_t *offsets,
                uint8_t *arena, const uint8_t *w8, void *const *inputs,
                void *const *outputs) {
  int64_t n = syms[0] * 4;
  const float *a = (const float *)inputs[0], *b = (const float *)inputs[1];
  const float *w = (const float *)w8;
  float *y = (float *)outputs[0], *flat = (float *)outputs[1];
  float *sum = (float *)(arena + offsets[0]);
  float *act = (float *)(arena + offsets[1]);
  /* The two buffers are live together at op 1: the plan must keep them
   * apart and 64-byte aligned. A bad plan poisons the outputs. */
  int bad = offsets[0] % 64 != 0 || offsets[1] % 64 != 0 ||
            (n > 0 && offsets[0] < offsets[1] + n * 4 &&
             offsets[1] < offsets[0] + n * 4) ||
            ((uintptr_t)arena % 64) != 0;

  op_begin(rt, 0);
  for (int64_t i = 0; i < n; ++i)
    sum[i] = a[i] + b[i] + w[i % 4];
  op_end(rt, 0);
  tap(rt, 0);

  op_begin(rt, 1);
  for (int64_t i = 0; i < n; ++i)
    act[i] = sum[i] > 0 ? sum[i] : 0;
  op_end(rt, 1);

  op_begin(rt, 2);
  for (int64_t i = 0; i < n; ++i)
    y[i] = flat[i] = bad ? -12345.0f : act[i];
  op_end(rt, 2);
  tap(rt, 1);
  tap(rt, 2);
}

static lopper_artifact_info info;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
  memcpy(info.magic, LOPPER_ARTIFACT_MAGIC, 8);
  info.abi_version = FAKE_ABI;
  info.info_size = sizeof(lopper_artifact_info);
  info.required_features = FAKE_FEATURES;
  info.metadata = metadata;
  info.metadata_size = sizeof(metadata) - 1;
  info.metadata_checksum = lopper_checksum64(metadata, sizeof(metadata) - 1);
#ifdef FAKE_BAD_CHECKSUM
  info.metadata_checksum += 1;
#endif
#ifdef FAKE_SIDECAR
  info.weights = NULL;
  info.weights_file = FAKE_SIDECAR_NAME;
#else
  info.weights = (const uint8_t *)weights;
  info.weights_file = NULL;
#endif
  info.weights_size = sizeof(weights);
  info.weights_checksum = lopper_checksum64(weights, sizeof(weights));
  info.kernel_count = KERNEL_COUNT;
  info.kernel_names = kernel_names;
  info.kernel_slots = kernel_slots;
  info.run = run;
}

const lopper_artifact_info *FAKE_GET_INFO_NAME(void) {
  pthread_once(&once, init);
  return &info;
}

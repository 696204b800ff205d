/* liblopper_runtime: load and run models compiled by `lopper compile`.
 *
 * Conventions
 * - Every function returns a lopper_status; LOPPER_OK is 0. On an error the
 *   message is available from lopper_last_error() on the calling thread
 *   until the next failing call on that thread.
 * - Structs that callers fill (lopper_options, lopper_tensor_desc) start
 *   with `size`: set it to sizeof(the struct) (use the *_INIT macros). Later
 *   versions append fields; the runtime reads only the fields `size` covers.
 * - Ownership: objects created by lopper_*_create / lopper_model_load are
 *   released with the matching *_destroy / lopper_model_unload. Passing NULL
 *   to a destroy function is a no-op.
 * - Thread safety: a lopper_model is immutable after load. lopper_run may be
 *   called on the same model from several threads at once; each call uses
 *   its own workspace. A lopper_tensor must not be written by one thread
 *   while another run reads it. lopper_session objects (which hold taps and
 *   profiles) are not thread-safe: use one per thread.
 */
#ifndef LOPPER_RUNTIME_H
#define LOPPER_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* LOPPER_API marks the exported C API (the library is built with
 * -fvisibility=hidden). */
#ifndef LOPPER_API
#if defined(LOPPER_RUNTIME_BUILD) && (defined(__GNUC__) || defined(__clang__))
#define LOPPER_API __attribute__((visibility("default")))
#else
#define LOPPER_API
#endif
#endif

#define LOPPER_RUNTIME_VERSION_MAJOR 0
#define LOPPER_RUNTIME_VERSION_MINOR 1

typedef enum lopper_status {
  LOPPER_OK = 0,
  LOPPER_ERR_INVALID_ARGUMENT = 1, /* null pointer, bad index, bad value */
  LOPPER_ERR_IO = 2,               /* file missing, unreadable, truncated */
  LOPPER_ERR_INCOMPATIBLE = 3,     /* ABI version, CPU features, checksum */
  LOPPER_ERR_SHAPE = 4,            /* wrong dtype, rank or dims at run time */
  LOPPER_ERR_OUT_OF_MEMORY = 5,
  LOPPER_ERR_INTERNAL = 6,
} lopper_status;

/* Element types; values are ONNX TensorProto.DataType numbers. */
typedef enum lopper_dtype {
  LOPPER_DTYPE_UNDEFINED = 0,
  LOPPER_DTYPE_F32 = 1,
  LOPPER_DTYPE_U8 = 2,
  LOPPER_DTYPE_I8 = 3,
  LOPPER_DTYPE_U16 = 4,
  LOPPER_DTYPE_I16 = 5,
  LOPPER_DTYPE_I32 = 6,
  LOPPER_DTYPE_I64 = 7,
  LOPPER_DTYPE_BOOL = 9,
  LOPPER_DTYPE_F16 = 10,
  LOPPER_DTYPE_F64 = 11,
  LOPPER_DTYPE_U32 = 12,
  LOPPER_DTYPE_U64 = 13,
  LOPPER_DTYPE_BF16 = 16,
} lopper_dtype;

typedef enum lopper_device {
  LOPPER_DEVICE_CPU = 0,
  LOPPER_DEVICE_CUDA = 1,
} lopper_device;

#define LOPPER_MAX_RANK 8

typedef struct lopper_model lopper_model;
typedef struct lopper_tensor lopper_tensor;
typedef struct lopper_session lopper_session;

/* Load options. */
typedef struct lopper_options {
  size_t size;         /* sizeof(lopper_options) */
  int32_t num_threads; /* kernel threads; 0 = one per core */
  int32_t device;      /* lopper_device: CPU, or CUDA (docs/gpu.md) */
  int32_t device_id;   /* CUDA device ordinal */
  int32_t reserved;
} lopper_options;
#define LOPPER_OPTIONS_INIT                                                    \
  { sizeof(lopper_options), 0, LOPPER_DEVICE_CPU, 0, 0 }

/* A tensor's type and shape. dims[i] < 0 means "dynamic" in signatures. */
typedef struct lopper_tensor_desc {
  size_t size;   /* sizeof(lopper_tensor_desc) */
  int32_t dtype; /* lopper_dtype */
  int32_t rank;
  int64_t dims[LOPPER_MAX_RANK];
  int32_t device; /* lopper_device */
  int32_t reserved;
} lopper_tensor_desc;
#define LOPPER_TENSOR_DESC_INIT                                                \
  { sizeof(lopper_tensor_desc), 0, 0, {0}, 0, 0 }

LOPPER_API const char *lopper_last_error(void);
LOPPER_API const char *lopper_status_string(lopper_status status);
LOPPER_API const char *lopper_dtype_name(lopper_dtype dtype);
LOPPER_API size_t lopper_dtype_size(lopper_dtype dtype); /* 0 if unknown */

struct lopper_artifact_info;
typedef const struct lopper_artifact_info *(*lopper_get_info_fn)(void);

/* Models. `options` may be NULL for defaults. The artifact is checked
 * (magic, ABI version, CPU features, metadata and weight checksums). */
LOPPER_API lopper_status lopper_model_load(const char *path,
                                           const lopper_options *options,
                                           lopper_model **out_model);
/* A model object linked into the application (`lopper compile --emit=obj`):
 * pass the get-info function declared in the generated header.
 * `sidecar_dir` is where an external weights file is looked up (NULL: the
 * current directory). */
LOPPER_API lopper_status lopper_model_load_linked(lopper_get_info_fn get_info,
                                                  const char *sidecar_dir,
                                                  const lopper_options *options,
                                                  lopper_model **out_model);
LOPPER_API void lopper_model_unload(lopper_model *model);

/* CUDA. lopper_model_load with options->device = LOPPER_DEVICE_CUDA needs
 * the GPU plan `<path>.gpu` written by `lopper compile --target=cuda` (a
 * load without it fails). On a usable GPU the plan's layers run there
 * (tensors stay on the host; docs/gpu.md) and a layer that cannot be
 * uploaded fails the load. When no usable GPU is found (no driver, no
 * device, driver too old) the model is loaded for the CPU, with the same
 * results, and one warning naming the reason is printed on stderr. The CUDA
 * libraries are opened with dlopen: nothing here needs CUDA installed.
 *
 * lopper_cuda_available: 1 when CUDA device `device_id` can run Lopper's
 * GPU path, else 0 with the reason in `why` (NUL-terminated, truncated to
 * why_size; `why` may be NULL). */
LOPPER_API int lopper_cuda_available(int32_t device_id, char *why,
                                     size_t why_size);

LOPPER_API lopper_status lopper_model_num_inputs(const lopper_model *model,
                                                 size_t *out_count);
LOPPER_API lopper_status lopper_model_num_outputs(const lopper_model *model,
                                                  size_t *out_count);
/* The name stays valid until the model is unloaded. Dynamic dims are -1.
 * out_name or out_desc may be NULL; out_desc->size must be set. */
LOPPER_API lopper_status lopper_model_input(const lopper_model *model,
                                            size_t index, const char **out_name,
                                            lopper_tensor_desc *out_desc);
LOPPER_API lopper_status lopper_model_output(const lopper_model *model,
                                             size_t index,
                                             const char **out_name,
                                             lopper_tensor_desc *out_desc);
/* Name of dynamic dim `index` of input/output `tensor` ("batch", or an
 * expression such as "2*seq" for a derived dim), or NULL when the dim is
 * static. */
LOPPER_API lopper_status lopper_model_dim_name(const lopper_model *model,
                                               int is_output, size_t tensor,
                                               size_t dim,
                                               const char **out_name);

/* Tensors: borrowed (the caller keeps `data` alive and owns it) or owned
 * (allocated by the runtime, 64-byte aligned, zero-filled). */
LOPPER_API lopper_status lopper_tensor_create(const lopper_tensor_desc *desc,
                                              lopper_tensor **out_tensor);
LOPPER_API lopper_status
lopper_tensor_create_borrowed(const lopper_tensor_desc *desc, void *data,
                              size_t data_bytes, lopper_tensor **out_tensor);
LOPPER_API void lopper_tensor_destroy(lopper_tensor *tensor);
LOPPER_API lopper_status lopper_tensor_get_desc(const lopper_tensor *tensor,
                                                lopper_tensor_desc *out_desc);
LOPPER_API lopper_status lopper_tensor_data(lopper_tensor *tensor,
                                            void **out_data, size_t *out_bytes);
/* Read-only access, e.g. for the tensors lopper_session_get_tap returns. */
LOPPER_API lopper_status lopper_tensor_const_data(const lopper_tensor *tensor,
                                                  const void **out_data,
                                                  size_t *out_bytes);

/* Output shapes for given input shapes (inputs in signature order). */
LOPPER_API lopper_status lopper_model_output_descs(
    const lopper_model *model, const lopper_tensor_desc *inputs,
    size_t num_inputs, lopper_tensor_desc *out_descs, size_t num_outputs);
/* Arena bytes a run with these input shapes needs (the planned peak). */
LOPPER_API lopper_status lopper_model_workspace_size(
    const lopper_model *model, const lopper_tensor_desc *inputs,
    size_t num_inputs, size_t *out_bytes);

/* Runs the model. inputs/outputs in signature order; each output either
 * already has exactly the right desc, or is NULL in `outputs`, in which case
 * the runtime creates an owned tensor and stores it there (the caller
 * destroys it). `session` may be NULL. */
LOPPER_API lopper_status lopper_run(const lopper_model *model,
                                    lopper_session *session,
                                    lopper_tensor *const *inputs,
                                    size_t num_inputs, lopper_tensor **outputs,
                                    size_t num_outputs);

/* Sessions: per-thread debugging state for runs. */
LOPPER_API lopper_status lopper_session_create(const lopper_model *model,
                                               lopper_session **out_session);
LOPPER_API void lopper_session_destroy(lopper_session *session);

/* Per-op timing profile: when enabled, each run through the session adds
 * to the profile. Ops are in execution order. */
LOPPER_API lopper_status
lopper_session_enable_profiling(lopper_session *session, int enable);
LOPPER_API lopper_status
lopper_session_profile_count(const lopper_session *session, size_t *out_count);
/* kind ("conv", "add", ...), node name, total ns, number of calls. */
LOPPER_API lopper_status lopper_session_profile_entry(
    const lopper_session *session, size_t index, const char **out_kind,
    const char **out_node, uint64_t *out_total_ns, uint64_t *out_calls);
LOPPER_API lopper_status lopper_session_reset_profile(lopper_session *session);

/* Taps: named intermediate tensors that can be copied out after a run.
 * lopper_model_num_taps/lopper_model_tap_name list the names. */
LOPPER_API lopper_status lopper_model_num_taps(const lopper_model *model,
                                               size_t *out_count);
LOPPER_API lopper_status lopper_model_tap_name(const lopper_model *model,
                                               size_t index,
                                               const char **out_name);
/* Asks the session to capture tensor `name` on later runs. */
LOPPER_API lopper_status lopper_session_tap(lopper_session *session,
                                            const char *name);
/* The captured value of `name` from the last run (owned by the session,
 * valid until the next run or destroy). */
LOPPER_API lopper_status
lopper_session_get_tap(const lopper_session *session, const char *name,
                       const lopper_tensor **out_tensor);

#ifdef __cplusplus
}
#endif
#endif /* LOPPER_RUNTIME_H */

// Tensors and tensor descs.
#include "internal.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace lopper {
namespace rt {

lopper_status readDesc(const lopper_tensor_desc *in, lopper_tensor_desc *out,
                       const char *fn, const char *what) {
  if (!in)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
  if (in->size < kMinDescSize)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s->size is %zu; set it to sizeof(lopper_tensor_desc) "
                "(LOPPER_TENSOR_DESC_INIT)",
                fn, what, in->size);
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  std::memcpy(reinterpret_cast<char *>(&d) + sizeof(size_t),
              reinterpret_cast<const char *>(in) + sizeof(size_t),
              std::min(in->size, sizeof(d)) - sizeof(size_t));
  d.size = sizeof(d);
  *out = d;
  return LOPPER_OK;
}

lopper_status writeDesc(lopper_tensor_desc *out, const lopper_tensor_desc &d,
                        const char *fn, const char *what) {
  if (!out)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
  if (out->size < kMinDescSize)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s->size is %zu; set it to sizeof(lopper_tensor_desc) "
                "(LOPPER_TENSOR_DESC_INIT)",
                fn, what, out->size);
  std::memcpy(reinterpret_cast<char *>(out) + sizeof(size_t),
              reinterpret_cast<const char *>(&d) + sizeof(size_t),
              std::min(out->size, sizeof(d)) - sizeof(size_t));
  return LOPPER_OK;
}

std::string dimsString(int32_t rank, const int64_t *dims) {
  std::string s = "[";
  for (int32_t i = 0; i < rank; ++i) {
    if (i)
      s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

lopper_status validateDesc(const lopper_tensor_desc &d, const char *fn,
                           const char *what, size_t *bytes) {
  if (lopper_dtype_size(static_cast<lopper_dtype>(d.dtype)) == 0)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s has unknown dtype %d", fn,
                what, static_cast<int>(d.dtype));
  if (d.rank < 0 || d.rank > LOPPER_MAX_RANK)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s has rank %d (0 to %d allowed)", fn, what,
                static_cast<int>(d.rank), LOPPER_MAX_RANK);
  for (int32_t i = 0; i < d.rank; ++i)
    if (d.dims[i] < 0)
      return fail(LOPPER_ERR_INVALID_ARGUMENT,
                  "%s: %s dim %d is %lld (tensors need concrete dims)", fn,
                  what, static_cast<int>(i), static_cast<long long>(d.dims[i]));
  if (d.device != LOPPER_DEVICE_CPU)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s has device %d; this runtime supports CPU only", fn,
                what, static_cast<int>(d.device));
  if (!tensorBytes(d.dtype, d.rank, d.dims, bytes))
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s %s is too large", fn, what,
                dimsString(d.rank, d.dims).c_str());
  return LOPPER_OK;
}

} // namespace rt
} // namespace lopper

using namespace lopper::rt;

namespace {
/// The checks both tensor constructors start with: an out pointer (cleared),
/// and a readable, valid desc whose byte size is returned.
lopper_status beginCreate(const lopper_tensor_desc *desc,
                          lopper_tensor **out_tensor, const char *fn,
                          lopper_tensor_desc *d, size_t *bytes) {
  if (!out_tensor)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_tensor is NULL", fn);
  *out_tensor = nullptr;
  if (lopper_status st = readDesc(desc, d, fn, "desc"))
    return st;
  return validateDesc(*d, fn, "desc", bytes);
}
} // namespace

extern "C" {

lopper_status lopper_tensor_create(const lopper_tensor_desc *desc,
                                   lopper_tensor **out_tensor) {
  const char *fn = "lopper_tensor_create";
  lopper_tensor_desc d;
  size_t bytes;
  if (lopper_status st = beginCreate(desc, out_tensor, fn, &d, &bytes))
    return st;
  void *data = alignedAlloc(bytes);
  lopper_tensor *t = data ? new (std::nothrow) lopper_tensor : nullptr;
  if (!t) {
    alignedFree(data);
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn,
                bytes);
  }
  std::memset(data, 0, bytes);
  t->desc = d;
  t->data = data;
  t->bytes = bytes;
  t->owned = true;
  *out_tensor = t;
  return LOPPER_OK;
}

lopper_status lopper_tensor_create_borrowed(const lopper_tensor_desc *desc,
                                            void *data, size_t data_bytes,
                                            lopper_tensor **out_tensor) {
  const char *fn = "lopper_tensor_create_borrowed";
  lopper_tensor_desc d;
  size_t bytes;
  if (lopper_status st = beginCreate(desc, out_tensor, fn, &d, &bytes))
    return st;
  if (!data && bytes > 0)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: data is NULL", fn);
  if (data_bytes < bytes)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: data_bytes is %zu but a %s %s tensor needs %zu", fn,
                data_bytes,
                lopper_dtype_name(static_cast<lopper_dtype>(d.dtype)),
                dimsString(d.rank, d.dims).c_str(), bytes);
  size_t align = lopper_dtype_size(static_cast<lopper_dtype>(d.dtype));
  if (reinterpret_cast<uintptr_t>(data) % align != 0)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: data is not %zu-byte aligned (%s elements)", fn, align,
                lopper_dtype_name(static_cast<lopper_dtype>(d.dtype)));
  lopper_tensor *t = new (std::nothrow) lopper_tensor;
  if (!t)
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
  t->desc = d;
  t->data = data;
  t->bytes = bytes;
  t->owned = false;
  *out_tensor = t;
  return LOPPER_OK;
}

void lopper_tensor_destroy(lopper_tensor *tensor) {
  if (!tensor)
    return;
  if (tensor->owned)
    alignedFree(tensor->data);
  delete tensor;
}

lopper_status lopper_tensor_get_desc(const lopper_tensor *tensor,
                                     lopper_tensor_desc *out_desc) {
  const char *fn = "lopper_tensor_get_desc";
  if (!tensor)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
  return writeDesc(out_desc, tensor->desc, fn, "out_desc");
}

lopper_status lopper_tensor_data(lopper_tensor *tensor, void **out_data,
                                 size_t *out_bytes) {
  const char *fn = "lopper_tensor_data";
  if (!tensor)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
  if (!out_data)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_data is NULL", fn);
  *out_data = tensor->data;
  if (out_bytes)
    *out_bytes = tensor->bytes;
  return LOPPER_OK;
}

lopper_status lopper_tensor_const_data(const lopper_tensor *tensor,
                                       const void **out_data,
                                       size_t *out_bytes) {
  const char *fn = "lopper_tensor_const_data";
  if (!tensor)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
  if (!out_data)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_data is NULL", fn);
  *out_data = tensor->data;
  if (out_bytes)
    *out_bytes = tensor->bytes;
  return LOPPER_OK;
}

} // extern "C"

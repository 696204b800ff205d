// Errors, status and dtype names, aligned memory.
#include "internal.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lopper {
namespace rt {

namespace {
thread_local std::string lastError;

std::string vformat(const char *fmt, va_list ap) {
  char buf[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  std::string out;
  if (n < 0) {
    out = fmt;
  } else if (static_cast<size_t>(n) < sizeof(buf)) {
    out.assign(buf, static_cast<size_t>(n));
  } else {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(&out[0], out.size(), fmt, ap2);
    out.resize(static_cast<size_t>(n));
  }
  va_end(ap2);
  return out;
}
} // namespace

std::string format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

lopper_status fail(lopper_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lastError = vformat(fmt, ap);
  va_end(ap);
  return status;
}

lopper_status failString(lopper_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

void *alignedAlloc(size_t bytes) {
  size_t rounded = (bytes + kArenaAlign - 1) & ~static_cast<size_t>(63);
  if (rounded < bytes)
    return nullptr; // overflow
  if (rounded == 0)
    rounded = kArenaAlign;
  return std::aligned_alloc(kArenaAlign, rounded);
}

void alignedFree(void *p) { std::free(p); }

bool tensorBytes(int32_t dtype, int32_t rank, const int64_t *dims,
                 size_t *out) {
  uint64_t n = lopper_dtype_size(static_cast<lopper_dtype>(dtype));
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return false;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(dims[i]), &n))
      return false;
  }
  if (n > static_cast<uint64_t>(INT64_MAX))
    return false;
  *out = static_cast<size_t>(n);
  return true;
}

} // namespace rt
} // namespace lopper

extern "C" {

const char *lopper_last_error(void) { return lopper::rt::lastError.c_str(); }

const char *lopper_status_string(lopper_status status) {
  switch (status) {
  case LOPPER_OK:
    return "ok";
  case LOPPER_ERR_INVALID_ARGUMENT:
    return "invalid argument";
  case LOPPER_ERR_IO:
    return "I/O error";
  case LOPPER_ERR_INCOMPATIBLE:
    return "incompatible artifact";
  case LOPPER_ERR_SHAPE:
    return "shape error";
  case LOPPER_ERR_OUT_OF_MEMORY:
    return "out of memory";
  case LOPPER_ERR_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

const char *lopper_dtype_name(lopper_dtype dtype) {
  switch (dtype) {
  case LOPPER_DTYPE_UNDEFINED:
    return "undefined";
  case LOPPER_DTYPE_F32:
    return "f32";
  case LOPPER_DTYPE_U8:
    return "u8";
  case LOPPER_DTYPE_I8:
    return "i8";
  case LOPPER_DTYPE_U16:
    return "u16";
  case LOPPER_DTYPE_I16:
    return "i16";
  case LOPPER_DTYPE_I32:
    return "i32";
  case LOPPER_DTYPE_I64:
    return "i64";
  case LOPPER_DTYPE_BOOL:
    return "bool";
  case LOPPER_DTYPE_F16:
    return "f16";
  case LOPPER_DTYPE_F64:
    return "f64";
  case LOPPER_DTYPE_U32:
    return "u32";
  case LOPPER_DTYPE_U64:
    return "u64";
  case LOPPER_DTYPE_BF16:
    return "bf16";
  }
  return "unknown";
}

size_t lopper_dtype_size(lopper_dtype dtype) {
  switch (dtype) {
  case LOPPER_DTYPE_U8:
  case LOPPER_DTYPE_I8:
  case LOPPER_DTYPE_BOOL:
    return 1;
  case LOPPER_DTYPE_U16:
  case LOPPER_DTYPE_I16:
  case LOPPER_DTYPE_F16:
  case LOPPER_DTYPE_BF16:
    return 2;
  case LOPPER_DTYPE_F32:
  case LOPPER_DTYPE_I32:
  case LOPPER_DTYPE_U32:
    return 4;
  case LOPPER_DTYPE_I64:
  case LOPPER_DTYPE_F64:
  case LOPPER_DTYPE_U64:
    return 8;
  case LOPPER_DTYPE_UNDEFINED:
    return 0;
  }
  return 0;
}

} // extern "C"

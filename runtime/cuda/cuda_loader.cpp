// dlopen of the CUDA libraries and the messages for their status codes.
#include "cuda_loader.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>

namespace lopper {
namespace cuda {

static const char *const kCudaNames[] = {"libcuda.so.1", "libcuda.so", nullptr};
static const char *const kCudartNames[] = {"libcudart.so.13", "libcudart.so.12",
                                           "libcudart.so", nullptr};
static const char *const kLtNames[] = {"libcublasLt.so.13", "libcublasLt.so.12",
                                       "libcublasLt.so", nullptr};
static const char *const kSparseNames[] = {"libcusparse.so.12",
                                           "libcusparse.so", nullptr};

LibraryNames defaultLibraryNames() {
  return {kCudaNames, kCudartNames, kLtNames, kSparseNames, std::string()};
}

static void *openOne(const char *what, const char *const *names,
                     const std::string &dir, std::string *why) {
  std::string tried, firstErr;
  for (const char *const *n = names; *n; ++n) {
    std::string paths[2] = {dir.empty() ? std::string() : dir + "/" + *n, *n};
    for (const std::string &p : paths) {
      if (p.empty())
        continue;
      if (void *h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL))
        return h;
      const char *e = dlerror();
      if (firstErr.empty() && e)
        firstErr = e;
      tried += (tried.empty() ? "" : ", ") + p;
    }
  }
  *why = std::string("cannot load ") + what + " (tried " + tried + ")" +
         (firstErr.empty() ? "" : ": " + firstErr);
  return nullptr;
}

template <typename F>
static bool sym(void *lib, const char *libName, const char *name, F *out,
                std::string *why) {
  void *p = dlsym(lib, name);
  if (!p) {
    *why = std::string(libName) + ": missing symbol " + name +
           " (library too old?)";
    return false;
  }
  *out = reinterpret_cast<F>(p);
  return true;
}

void closeApi(Api *api) {
  for (void *h : {api->libSparse, api->libLt, api->libCudart, api->libCuda})
    if (h)
      dlclose(h);
  *api = Api();
}

bool openApi(const LibraryNames &names, Api *out, std::string *why) {
  Api a;
  auto fail = [&]() {
    closeApi(&a);
    return false;
  };
  if (!(a.libCuda = openOne("the CUDA driver", names.cuda, names.dir, why)))
    return fail();
  const char *d = "libcuda";
#define LOPPER_SYM(lib, name)                                                  \
  if (!sym(a.lib, d, #name, &a.name, why))                                     \
    return fail();
  LOPPER_SYM(libCuda, cuInit)
  LOPPER_SYM(libCuda, cuDriverGetVersion)
  LOPPER_SYM(libCuda, cuDeviceGetCount)
  LOPPER_SYM(libCuda, cuDeviceGet)
  LOPPER_SYM(libCuda, cuDeviceGetAttribute)
  LOPPER_SYM(libCuda, cuDeviceGetName)
  LOPPER_SYM(libCuda, cuGetErrorName)
  LOPPER_SYM(libCuda, cuModuleLoadData)
  LOPPER_SYM(libCuda, cuModuleUnload)
  LOPPER_SYM(libCuda, cuModuleGetFunction)
  LOPPER_SYM(libCuda, cuLaunchKernel)
  if (!(a.libCudart =
            openOne("the CUDA runtime", names.cudart, names.dir, why)))
    return fail();
  d = "libcudart";
  LOPPER_SYM(libCudart, cudaSetDevice)
  LOPPER_SYM(libCudart, cudaFree)
  LOPPER_SYM(libCudart, cudaMalloc)
  LOPPER_SYM(libCudart, cudaMemcpyAsync)
  LOPPER_SYM(libCudart, cudaMemsetAsync)
  LOPPER_SYM(libCudart, cudaStreamCreate)
  LOPPER_SYM(libCudart, cudaStreamSynchronize)
  LOPPER_SYM(libCudart, cudaStreamDestroy)
  LOPPER_SYM(libCudart, cudaGetLastError)
  LOPPER_SYM(libCudart, cudaGetErrorName)
  if (!(a.libLt = openOne("cuBLASLt", names.lt, names.dir, why)))
    return fail();
  d = "libcublasLt";
  LOPPER_SYM(libLt, cublasLtCreate)
  LOPPER_SYM(libLt, cublasLtDestroy)
  LOPPER_SYM(libLt, cublasLtMatmulDescCreate)
  LOPPER_SYM(libLt, cublasLtMatmulDescDestroy)
  LOPPER_SYM(libLt, cublasLtMatmulDescSetAttribute)
  LOPPER_SYM(libLt, cublasLtMatrixLayoutCreate)
  LOPPER_SYM(libLt, cublasLtMatrixLayoutDestroy)
  LOPPER_SYM(libLt, cublasLtMatmul)
  if (!(a.libSparse = openOne("cuSPARSE", names.sparse, names.dir, why)))
    return fail();
  d = "libcusparse";
  LOPPER_SYM(libSparse, cusparseCreate)
  LOPPER_SYM(libSparse, cusparseDestroy)
  LOPPER_SYM(libSparse, cusparseSetStream)
  LOPPER_SYM(libSparse, cusparseCreateCsr)
  LOPPER_SYM(libSparse, cusparseCreateBsr)
  LOPPER_SYM(libSparse, cusparseCreateBlockedEll)
  LOPPER_SYM(libSparse, cusparseDestroySpMat)
  LOPPER_SYM(libSparse, cusparseCreateDnMat)
  LOPPER_SYM(libSparse, cusparseDestroyDnMat)
  LOPPER_SYM(libSparse, cusparseSpMM_bufferSize)
  LOPPER_SYM(libSparse, cusparseSpMM)
#undef LOPPER_SYM
  *out = a;
  return true;
}

const Api *processApi(std::string *why) {
  static std::once_flag once;
  static Api api;
  static bool ok = false;
  static std::string err;
  std::call_once(once, [] {
    LibraryNames names = defaultLibraryNames();
    if (const char *dir = std::getenv("LOPPER_CUDA_LIB_DIR"))
      names.dir = dir;
    ok = openApi(names, &api, &err);
  });
  if (!ok) {
    *why = err;
    return nullptr;
  }
  return &api;
}

static std::string versionString(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

bool probeDevice(const Api &api, int ordinal, DeviceInfo *info,
                 std::string *why) {
  int rc = api.cuInit(0);
  if (rc == kCuErrorStubLibrary) {
    *why = "libcuda.so.1 is the CUDA toolkit's stub library, not a driver "
           "(no NVIDIA driver installed)";
    return false;
  }
  if (rc == kCuErrorNoDevice) {
    *why = "the NVIDIA driver reports no CUDA device";
    return false;
  }
  if (rc == kCuErrorInsufficientDriver) {
    *why = "the NVIDIA driver is older than the CUDA runtime (cuInit: "
           "CUDA_ERROR_INSUFFICIENT_DRIVER)";
    return false;
  }
  if (rc != 0) {
    *why = driverError(&api, "cuInit", rc);
    return false;
  }
  DeviceInfo d;
  d.ordinal = ordinal;
  if ((rc = api.cuDriverGetVersion(&d.driverVersion)) != 0) {
    *why = driverError(&api, "cuDriverGetVersion", rc);
    return false;
  }
  if (d.driverVersion < kMinDriverVersion) {
    *why = "the NVIDIA driver supports CUDA " + versionString(d.driverVersion) +
           "; Lopper's GPU path needs " + versionString(kMinDriverVersion) +
           " or newer";
    return false;
  }
  int count = 0;
  if ((rc = api.cuDeviceGetCount(&count)) != 0) {
    *why = driverError(&api, "cuDeviceGetCount", rc);
    return false;
  }
  if (ordinal < 0 || ordinal >= count) {
    *why = "device_id " + std::to_string(ordinal) + " out of range (" +
           std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") +
           ")";
    return false;
  }
  int dev = 0;
  char name[256] = {0};
  if ((rc = api.cuDeviceGet(&dev, ordinal)) != 0 ||
      (rc = api.cuDeviceGetAttribute(&d.ccMajor, kCuAttrCcMajor, dev)) != 0 ||
      (rc = api.cuDeviceGetAttribute(&d.ccMinor, kCuAttrCcMinor, dev)) != 0 ||
      (rc = api.cuDeviceGetName(name, sizeof(name) - 1, dev)) != 0) {
    *why = driverError(&api, "cuDeviceGet", rc);
    return false;
  }
  d.name = name;
  if (d.ccMajor < 8) {
    *why = "device " + std::to_string(ordinal) + " (" + d.name +
           ") has compute capability " + std::to_string(d.ccMajor) + "." +
           std::to_string(d.ccMinor) +
           "; the sparse tensor-core kernels need 8.0 or newer";
    return false;
  }
  if (info)
    *info = d;
  return true;
}

static std::string withLayer(std::string s, const char *layer) {
  if (layer && *layer)
    s += std::string(" in layer '") + layer + "'";
  return s;
}

static std::string codeMessage(const char *call, const char *name, int code,
                               const char *layer) {
  return withLayer(std::string(call) + " failed: " + name + " (code " +
                       std::to_string(code) + ")",
                   layer);
}

std::string driverError(const Api *api, const char *call, int code,
                        const char *layer) {
  const char *name = nullptr;
  if (api && api->cuGetErrorName && api->cuGetErrorName(code, &name) != 0)
    name = nullptr;
  return codeMessage(call, name ? name : "CUDA_ERROR_UNKNOWN", code, layer);
}

std::string cudartError(const Api *api, const char *call, int code,
                        const char *layer) {
  const char *name =
      api && api->cudaGetErrorName ? api->cudaGetErrorName(code) : nullptr;
  return codeMessage(call, name ? name : "cudaErrorUnknown", code, layer);
}

const char *cublasStatusName(int code) {
  switch (code) {
  case 0:
    return "CUBLAS_STATUS_SUCCESS";
  case 1:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case 3:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case 7:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case 8:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case 11:
    return "CUBLAS_STATUS_MAPPING_ERROR";
  case 13:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case 14:
    return "CUBLAS_STATUS_INTERNAL_ERROR";
  case 15:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  case 16:
    return "CUBLAS_STATUS_LICENSE_ERROR";
  default:
    return "CUBLAS_STATUS_UNKNOWN";
  }
}

const char *cusparseStatusName(int code) {
  static const char *const names[] = {
      "CUSPARSE_STATUS_SUCCESS",
      "CUSPARSE_STATUS_NOT_INITIALIZED",
      "CUSPARSE_STATUS_ALLOC_FAILED",
      "CUSPARSE_STATUS_INVALID_VALUE",
      "CUSPARSE_STATUS_ARCH_MISMATCH",
      "CUSPARSE_STATUS_MAPPING_ERROR",
      "CUSPARSE_STATUS_EXECUTION_FAILED",
      "CUSPARSE_STATUS_INTERNAL_ERROR",
      "CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED",
      "CUSPARSE_STATUS_ZERO_PIVOT",
      "CUSPARSE_STATUS_NOT_SUPPORTED",
      "CUSPARSE_STATUS_INSUFFICIENT_RESOURCES"};
  if (code >= 0 && code < static_cast<int>(sizeof(names) / sizeof(names[0])))
    return names[code];
  return "CUSPARSE_STATUS_UNKNOWN";
}

std::string cublasError(const char *call, int code, const char *layer) {
  return codeMessage(call, cublasStatusName(code), code, layer);
}

std::string cusparseError(const char *call, int code, const char *layer) {
  return codeMessage(call, cusparseStatusName(code), code, layer);
}

} // namespace cuda
} // namespace lopper

// The CUDA libraries, loaded at run time with dlopen: libcuda.so.1 (the
// driver), libcudart, libcublasLt and libcusparse. Only the symbols Lopper
// calls are resolved, and the few CUDA types and enum values they need are
// declared here, so liblopper_runtime builds and loads without CUDA.
#ifndef LOPPER_RUNTIME_CUDA_CUDA_LOADER_H
#define LOPPER_RUNTIME_CUDA_CUDA_LOADER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace lopper {
namespace cuda {

// Handles are opaque pointers; CUstream and cudaStream_t are the same type.
using Stream = struct CUstream_st *;
using Module = struct CUmod_st *;
using Function = struct CUfunc_st *;
using SparseHandle = struct cusparseContext *;
using SpMat = struct cusparseSpMatDescr *;
using DnMat = struct cusparseDnMatDescr *;
using LtHandle = struct cublasLtContext *;
using LtMatmulDesc = struct cublasLtMatmulDescOpaque_t *;
using LtLayout = struct cublasLtMatrixLayoutOpaque_t *;

// Values from the CUDA 12/13 headers (stable ABI).
enum : int {
  kCudaR32F = 0, // cudaDataType CUDA_R_32F
  kCudaR16F = 2, // CUDA_R_16F
  kCudaR16BF = 14,
  kCublasCompute32F = 68, // CUBLAS_COMPUTE_32F
  kCublasOpN = 0,
  kCublasOpT = 1,
  kLtDescTransA = 3, // CUBLASLT_MATMUL_DESC_TRANSA
  kLtDescTransB = 4,
  kSparseOpN = 0, // CUSPARSE_OPERATION_NON_TRANSPOSE
  kSparseOpT = 1,
  kSparseIndex32 = 2, // CUSPARSE_INDEX_32I
  kSparseBaseZero = 0,
  kSparseOrderCol = 1,
  kSparseOrderRow = 2,
  kSpmmAlgDefault = 0,
  kSpmmCsrAlg1 = 4,
  kSpmmBlockedEllAlg1 = 13,
  kSpmmBsrAlg1 = 14,
  kMemcpyHostToDevice = 1,
  kMemcpyDeviceToHost = 2,
  kCuAttrCcMajor = 75, // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
  kCuAttrCcMinor = 76,
  kCuErrorStubLibrary = 34,
  kCuErrorInsufficientDriver = 35,
  kCuErrorNoDevice = 100,
};

/// The oldest driver (cuDriverGetVersion) Lopper's GPU path accepts: the
/// generic cuSPARSE BSR SpMM appeared in CUDA 12.1.
constexpr int kMinDriverVersion = 12010;

/// Function pointers, filled by openApi. Signatures as in the CUDA headers
/// with the handle types above.
struct Api {
  void *libCuda = nullptr, *libCudart = nullptr, *libLt = nullptr,
       *libSparse = nullptr;
  // libcuda (driver)
  int (*cuInit)(unsigned) = nullptr;
  int (*cuDriverGetVersion)(int *) = nullptr;
  int (*cuDeviceGetCount)(int *) = nullptr;
  int (*cuDeviceGet)(int *, int) = nullptr;
  int (*cuDeviceGetAttribute)(int *, int, int) = nullptr;
  int (*cuDeviceGetName)(char *, int, int) = nullptr;
  int (*cuGetErrorName)(int, const char **) = nullptr;
  int (*cuModuleLoadData)(Module *, const void *) = nullptr;
  int (*cuModuleUnload)(Module) = nullptr;
  int (*cuModuleGetFunction)(Function *, Module, const char *) = nullptr;
  int (*cuLaunchKernel)(Function, unsigned, unsigned, unsigned, unsigned,
                        unsigned, unsigned, unsigned, Stream, void **,
                        void **) = nullptr;
  // libcudart
  int (*cudaSetDevice)(int) = nullptr;
  int (*cudaFree)(void *) = nullptr;
  int (*cudaMalloc)(void **, size_t) = nullptr;
  int (*cudaMemcpyAsync)(void *, const void *, size_t, int, Stream) = nullptr;
  int (*cudaMemsetAsync)(void *, int, size_t, Stream) = nullptr;
  int (*cudaStreamCreate)(Stream *) = nullptr;
  int (*cudaStreamSynchronize)(Stream) = nullptr;
  int (*cudaStreamDestroy)(Stream) = nullptr;
  int (*cudaGetLastError)() = nullptr;
  const char *(*cudaGetErrorName)(int) = nullptr;
  // libcublasLt
  int (*cublasLtCreate)(LtHandle *) = nullptr;
  int (*cublasLtDestroy)(LtHandle) = nullptr;
  int (*cublasLtMatmulDescCreate)(LtMatmulDesc *, int, int) = nullptr;
  int (*cublasLtMatmulDescDestroy)(LtMatmulDesc) = nullptr;
  int (*cublasLtMatmulDescSetAttribute)(LtMatmulDesc, int, const void *,
                                        size_t) = nullptr;
  int (*cublasLtMatrixLayoutCreate)(LtLayout *, int, uint64_t, uint64_t,
                                    int64_t) = nullptr;
  int (*cublasLtMatrixLayoutDestroy)(LtLayout) = nullptr;
  int (*cublasLtMatmul)(LtHandle, LtMatmulDesc, const void *, const void *,
                        LtLayout, const void *, LtLayout, const void *,
                        const void *, LtLayout, void *, LtLayout,
                        const void *algo, void *, size_t, Stream) = nullptr;
  // libcusparse
  int (*cusparseCreate)(SparseHandle *) = nullptr;
  int (*cusparseDestroy)(SparseHandle) = nullptr;
  int (*cusparseSetStream)(SparseHandle, Stream) = nullptr;
  int (*cusparseCreateCsr)(SpMat *, int64_t, int64_t, int64_t, void *, void *,
                           void *, int, int, int, int) = nullptr;
  int (*cusparseCreateBsr)(SpMat *, int64_t, int64_t, int64_t, int64_t, int64_t,
                           void *, void *, void *, int, int, int, int,
                           int) = nullptr;
  int (*cusparseCreateBlockedEll)(SpMat *, int64_t, int64_t, int64_t, int64_t,
                                  void *, void *, int, int, int) = nullptr;
  int (*cusparseDestroySpMat)(SpMat) = nullptr;
  int (*cusparseCreateDnMat)(DnMat *, int64_t, int64_t, int64_t, void *, int,
                             int) = nullptr;
  int (*cusparseDestroyDnMat)(DnMat) = nullptr;
  int (*cusparseSpMM_bufferSize)(SparseHandle, int, int, const void *, SpMat,
                                 DnMat, const void *, DnMat, int, int,
                                 size_t *) = nullptr;
  int (*cusparseSpMM)(SparseHandle, int, int, const void *, SpMat, DnMat,
                      const void *, DnMat, int, int, void *) = nullptr;
};

/// Where the libraries are looked up: each entry is a list of names tried
/// in order (versioned first). `dir`, when not empty, is tried before the
/// loader's search path.
struct LibraryNames {
  const char *const *cuda, *const *cudart, *const *lt, *const *sparse;
  std::string dir;
};
LibraryNames defaultLibraryNames();

/// Opens the four libraries and resolves the symbols; false with *why
/// ("cannot load libcusparse (tried libcusparse.so.12, libcusparse.so):
/// ...", "libcublasLt.so.13: missing symbol cublasLtMatmul"). On failure
/// nothing stays open.
bool openApi(const LibraryNames &names, Api *api, std::string *why);
void closeApi(Api *api);

/// The process-wide API: opened once (the environment variable
/// LOPPER_CUDA_LIB_DIR adds a directory searched first); nullptr and *why
/// when it cannot be.
const Api *processApi(std::string *why);

struct DeviceInfo {
  int ordinal = 0;
  int ccMajor = 0, ccMinor = 0;
  int driverVersion = 0; // 12040 = CUDA 12.4
  std::string name;
};

/// Whether device `ordinal` can run Lopper's GPU path: libraries present,
/// the driver initialises and is new enough, the device exists and has
/// compute capability 8.0 or newer (sparse tensor cores). *why says which
/// check failed.
bool probeDevice(const Api &api, int ordinal, DeviceInfo *info,
                 std::string *why);

/// Messages for failed calls: "<call> failed: <NAME> (code N)" plus
/// " in layer 'X'" when `layer` is given.
std::string driverError(const Api *api, const char *call, int code,
                        const char *layer = nullptr);
std::string cudartError(const Api *api, const char *call, int code,
                        const char *layer = nullptr);
std::string cublasError(const char *call, int code,
                        const char *layer = nullptr);
std::string cusparseError(const char *call, int code,
                          const char *layer = nullptr);
const char *cublasStatusName(int code);   // "CUBLAS_STATUS_NOT_SUPPORTED"
const char *cusparseStatusName(int code); // "CUSPARSE_STATUS_INVALID_VALUE"

} // namespace cuda
} // namespace lopper

#endif // LOPPER_RUNTIME_CUDA_CUDA_LOADER_H

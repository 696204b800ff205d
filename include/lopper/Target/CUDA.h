//===- CUDA.h - the GPU plan of `lopper compile --target=cuda` --*- C++ -*-===//
//
// The CUDA target compiles the CPU artifact as usual and adds a GPU plan
// (`<artifact>.gpu`, format in runtime/cuda/gpu_plan.h): for every gemm and
// 2-D matmul with a constant float weight, the weight format a cost model
// picks (dense cuBLASLt, CSR, BSR, Blocked-ELL or Lopper's 2:4 kernel),
// that format's arrays, and the kernels' fatbin. docs/gpu.md has the model.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TARGET_CUDA_H
#define LOPPER_TARGET_CUDA_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lopper {

/// The archs this build's kernels were compiled for ("sm_80", "sm_90a"),
/// empty when lopper was built without nvcc.
std::vector<std::string> cudaKernelArchs();

/// Parses --cuda-arch ("sm_80,sm_90a"): each arch must be one the kernels
/// were built for. On failure `error` says which and what is available.
bool parseCudaArchs(const std::string &list, std::vector<std::string> &archs,
                    std::string &error);

/// One layer's choice.
struct CUDALayerPlan {
  std::string node;
  std::string format; // dense | csr | bsr | ell | 2:4
  int64_t rows = 0, cols = 0, blockRows = 0, blockCols = 0;
  double density = 1.0;
  double denseUs = 0, sparseUs = 0; // estimates for the best sparse format
  std::string blob;                 // the format's arrays
};

struct CUDAPlan {
  std::vector<std::string> archs;
  std::vector<CUDALayerPlan> layers;
};

/// The cost model's batch rows: costs are estimated for this many rows of
/// input (the plan is not specialised on the batch).
constexpr int64_t kCudaReferenceRows = 128;

/// Estimated microseconds of one layer [rows, cols] x `batch` rows in a
/// format (docs/gpu.md, "Cost model"). `stored` is what the format keeps:
/// nonzeros (csr), nonzero blocks * block area (bsr), rows * ellCols (ell).
double cudaLayerCostUs(const std::string &format, int64_t rows, int64_t cols,
                       int64_t batch, double stored, int64_t block);

/// Chooses a format for every eligible layer of `module` (call it on the
/// module compileForCPU will compile) and fills the blobs.
bool buildCudaPlan(mlir::ModuleOp module, const std::vector<std::string> &archs,
                   CUDAPlan &plan, std::string &error);

/// Writes `<artifactPath>.gpu` for the artifact whose metadata text is
/// `metadata`, through a temporary file that is renamed.
bool writeCudaPlan(const CUDAPlan &plan, const std::string &modelName,
                   const std::string &metadata, const std::string &artifactPath,
                   std::string &error);

} // namespace lopper

#endif

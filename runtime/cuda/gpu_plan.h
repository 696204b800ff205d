// The GPU plan of a `lopper compile --target=cuda` artifact: a sidecar file
// `<artifact>.gpu` next to the CPU artifact. It names, per heavy layer, the
// GPU format chosen by the compiler's cost model and carries that format's
// arrays, plus the kernels' fatbin. Written by the compiler, read by the
// runtime; no CUDA and no LLVM here.
//
// Layout (little-endian):
//   text header, '\n'-terminated lines:
//     lopper-gpu-plan 1
//     model <name>
//     metadata-checksum <16 hex digits>   (the CPU artifact's, to pair them)
//     archs <sm_80,sm_90a>
//     layer <node, percent-encoded> <format> <rows> <cols> <blockRows>
//           <blockCols> <density> <denseCost> <sparseCost> <offset> <bytes>
//     kernels <offset> <bytes>
//     end
//   zero padding to a multiple of 64, then the blobs at their offsets
//   (multiples of 64, relative to the start of the file), then 8 bytes:
//   lopper_checksum64 of everything before them.
// Blob of a layer, by format (arrays back to back, each padded to 64):
//   dense:  values fp16 [rows, cols]
//   csr:    rowPtr i32 [rows+1], colInd i32 [nnz], values fp16 [nnz]
//   bsr:    rowPtr i32 [mb+1], colInd i32 [nnzb], values fp16 [nnzb, br*bc]
//   ell:    colInd i32 [rows/bs, slots], values fp16 [rows, slots*bs]
//   2:4:    values fp16 [Mp, Kp/2], meta u32 [(Mp/16)*(Kp/32)*16]
// (formats.h documents each layout).
#ifndef LOPPER_RUNTIME_CUDA_GPU_PLAN_H
#define LOPPER_RUNTIME_CUDA_GPU_PLAN_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lopper {
namespace cuda {

struct PlanLayer {
  std::string node;   // ONNX node name of the gemm/matmul
  std::string format; // dense | csr | bsr | ell | 2:4
  int64_t rows = 0, cols = 0;
  int64_t blockRows = 0, blockCols = 0;
  double density = 1.0; // fraction of nonzero elements (blocks for bsr/ell)
  double denseCost = 0, sparseCost = 0; // cost model estimates, us
  uint64_t offset = 0, bytes = 0;
};

struct GpuPlan {
  std::string model;
  uint64_t metadataChecksum = 0;
  std::vector<std::string> archs;
  std::vector<PlanLayer> layers;
  uint64_t kernelsOffset = 0, kernelsBytes = 0;
};

/// The file: header, blobs (layers[i] gets blobs[i]) and the kernels image.
/// Offsets in `plan` are filled in. Deterministic for equal inputs.
std::string writePlan(GpuPlan &plan, const std::vector<std::string> &blobs,
                      const std::string &kernels);
/// Parses and checks a plan file held in memory ([data, data + size)):
/// header syntax, known formats, blob ranges inside the file, checksum.
/// On failure *err is "line N: reason" or the failed check.
bool readPlan(const uint8_t *data, size_t size, GpuPlan *plan,
              std::string *err);

/// The file name of the plan next to an artifact: "<artifact>.gpu".
std::string planPathFor(const std::string &artifactPath);

} // namespace cuda
} // namespace lopper

#endif // LOPPER_RUNTIME_CUDA_GPU_PLAN_H

//===- CUDA.cpp - the GPU plan of `lopper compile --target=cuda` ----------===//
#include "lopper/Target/CUDA.h"

#include "lopper/Dialect/Lop/LopOps.h"

#include "formats.h"
#include "gpu_plan.h"
#include "lopper/artifact_abi.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;

// The kernels' fatbin, linked in by lib/Target/CUDA/CMakeLists.txt when
// nvcc built it.
#if LOPPER_HAVE_CUDA_KERNELS
extern "C" const char lopper_cuda_kernels_image[];
extern "C" const char lopper_cuda_kernels_image_end[];
#endif

namespace lopper {

std::vector<std::string> cudaKernelArchs() {
  std::vector<std::string> archs;
#if LOPPER_HAVE_CUDA_KERNELS
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(LOPPER_CUDA_KERNEL_ARCHS).split(parts, ',', -1, false);
  for (llvm::StringRef p : parts)
    archs.push_back(p.str());
#endif
  return archs;
}

bool parseCudaArchs(const std::string &list, std::vector<std::string> &archs,
                    std::string &error) {
  std::vector<std::string> built = cudaKernelArchs();
  std::string builtList;
  for (const std::string &b : built)
    builtList += (builtList.empty() ? "" : ", ") + b;
  if (built.empty()) {
    error = "--target=cuda: this lopper was built without nvcc, so it has no "
            "CUDA kernels; rebuild with the CUDA toolkit on PATH";
    return false;
  }
  archs.clear();
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(list).split(parts, ',', -1, /*KeepEmpty=*/true);
  for (llvm::StringRef p : parts) {
    p = p.trim();
    if (p.empty()) {
      error = "--cuda-arch=" + list + ": empty arch name";
      return false;
    }
    if (std::find(built.begin(), built.end(), p.str()) == built.end()) {
      unsigned cc = 0;
      bool old = p.starts_with("sm_") &&
                 !p.drop_front(3)
                      .take_while([](char c) { return c >= '0' && c <= '9'; })
                      .getAsInteger(10, cc) &&
                 cc < 80;
      error = "--cuda-arch=" + list + ": " + p.str() +
              (old ? " has no sparse tensor cores (sm_80 or newer needed)"
                   : " is not an arch the kernels were built for") +
              "; this lopper has " + builtList;
      return false;
    }
    if (std::find(archs.begin(), archs.end(), p.str()) == archs.end())
      archs.push_back(p.str());
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Cost model
//===----------------------------------------------------------------------===//

// Sustained fp16 throughput, TFLOP/s of useful work, per format, on an
// A100/H100-class part (docs/gpu.md; to be replaced by the GPU bench's
// measurements). A sparse format must beat dense by kMargin to be chosen.
static constexpr double kDenseTflops = 300; // cuBLASLt, tensor cores
static constexpr double k24Tflops = 200;    // Lopper's mma.sp kernel, kept
static constexpr double kCsrTflops = 8;     // cuSPARSE CSR SpMM
static constexpr double kBsrTflops16 = 60;  // cuSPARSE BSR, blocks >= 16
static constexpr double kBsrTflops8 = 25;   // blocks 8
static constexpr double kEllTflops = 120;   // cuSPARSE Blocked-ELL, stored
static constexpr double kLaunchUs = 4;      // per kernel launch
static constexpr double kMargin = 0.9;

double cudaLayerCostUs(const std::string &format, int64_t rows, int64_t cols,
                       int64_t batch, double stored, int64_t block) {
  double m = static_cast<double>(batch);
  auto us = [&](double flops, double tflops) {
    return flops / (tflops * 1e6) + kLaunchUs;
  };
  if (format == "dense")
    return us(2 * m * rows * cols, kDenseTflops);
  if (format == "2:4")
    return us(m * rows * cols, k24Tflops);
  if (format == "csr")
    return us(2 * m * stored, kCsrTflops);
  if (format == "bsr")
    return us(2 * m * stored, block >= 16 ? kBsrTflops16 : kBsrTflops8);
  if (format == "ell")
    return us(2 * m * stored, kEllTflops);
  return 1e30;
}

//===----------------------------------------------------------------------===//
// Layers and blobs
//===----------------------------------------------------------------------===//

namespace {

struct Weight {
  Operation *op;
  std::string node;
  int64_t rows = 0, cols = 0;
  std::vector<float> data; // row-major [rows = outputs, cols = reduction]
};

// gemm, and matmul with a 2-D constant weight: [K, N] (or [N, K] for a gemm
// with transB) read as W [N, K].
std::optional<Weight> weightOf(Operation *op) {
  Value w;
  bool transposed = false;
  if (auto g = dyn_cast<lop::GemmOp>(op)) {
    if (g.getTransA() || g.getAlpha().convertToFloat() != 1.0f)
      return std::nullopt;
    w = g.getWeight();
    transposed = g.getTransB();
  } else if (auto mm = dyn_cast<lop::MatMulOp>(op)) {
    w = mm.getWeight();
  } else {
    return std::nullopt;
  }
  auto cst = w.getDefiningOp<lop::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(w.getType());
  if (!cst || !type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return std::nullopt;
  std::optional<SmallVector<double>> values =
      lop::readElementsAsDouble(cst.getValue());
  if (!values)
    return std::nullopt;
  Weight r;
  r.op = op;
  r.node = lop::getNodeName(op);
  int64_t d0 = type.getDimSize(0), d1 = type.getDimSize(1);
  r.rows = transposed ? d0 : d1;
  r.cols = transposed ? d1 : d0;
  r.data.resize(r.rows * r.cols);
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j) {
      float v = static_cast<float>((*values)[i * d1 + j]);
      if (transposed)
        r.data[i * d1 + j] = v;
      else
        r.data[j * d0 + i] = v;
    }
  return r;
}

// Appends an array padded to 64 bytes.
template <typename T> void put(std::string &blob, const std::vector<T> &v) {
  blob.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
  blob.resize((blob.size() + 63) / 64 * 64);
}

std::vector<uint16_t> halves(const std::vector<float> &v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = cuda::floatToHalf(v[i]);
  return h;
}

} // namespace

bool buildCudaPlan(ModuleOp module, const std::vector<std::string> &archs,
                   CUDAPlan &plan, std::string &error) {
  plan.archs = archs;
  plan.layers.clear();
  std::vector<Weight> weights;
  module.walk([&](Operation *op) {
    if (std::optional<Weight> w = weightOf(op))
      weights.push_back(std::move(*w));
  });
  // The runtime pairs plan layers with ops by node name, so a name that
  // more than one heavy op carries (an unrolled LSTM step, a bidirectional
  // layer's two directions, a model with duplicate node names) stays on the
  // CPU: pairing it would hand one op another's weight.
  llvm::StringMap<int> uses;
  module.walk([&](Operation *op) {
    if (isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op))
      ++uses[lop::getNodeName(op)];
  });
  for (Weight &w : weights) {
    if (w.node.empty() || uses.lookup(w.node) > 1)
      continue;
    cuda::DenseView view{w.data.data(), nullptr, w.rows, w.cols};
    int64_t m = kCudaReferenceRows;
    CUDALayerPlan l;
    l.node = w.node;
    l.rows = w.rows;
    l.cols = w.cols;
    l.denseUs = cudaLayerCostUs("dense", w.rows, w.cols, m, 0, 0);
    // Candidates: 2:4, CSR, BSR and Blocked-ELL at 32, 16 and 8; the
    // cheapest is taken when it beats dense by the margin.
    std::string best;
    double bestUs = 1e300, bestDensity = 1.0;
    int64_t bestBlock = 0;
    auto consider = [&](const char *fmt, double us, double density,
                        int64_t block) {
      if (us < bestUs) {
        best = fmt;
        bestUs = us;
        bestDensity = density;
        bestBlock = block;
      }
    };
    cuda::SparsityStats s = cuda::measureSparsity(view, 0);
    double total = static_cast<double>(w.rows) * w.cols;
    if (s.is24)
      consider("2:4", cudaLayerCostUs("2:4", w.rows, w.cols, m, 0, 0),
               s.nnz / total, 0);
    consider("csr", cudaLayerCostUs("csr", w.rows, w.cols, m, s.nnz, 0),
             s.nnz / total, 0);
    for (int64_t bs : {32, 16, 8}) {
      cuda::SparsityStats b = cuda::measureSparsity(view, bs);
      double blocks = static_cast<double>(b.nonzeroBlocks);
      double density = b.totalBlocks ? blocks / b.totalBlocks : 1.0;
      consider("bsr",
               cudaLayerCostUs("bsr", w.rows, w.cols, m, blocks * bs * bs, bs),
               density, bs);
      double slots =
          static_cast<double>(std::max<int64_t>(b.maxBlocksPerRow, 1));
      if (w.rows % bs == 0 && w.cols % bs == 0)
        consider("ell",
                 cudaLayerCostUs("ell", w.rows, w.cols, m,
                                 static_cast<double>(w.rows) * slots * bs, bs),
                 density, bs);
    }
    l.sparseUs = bestUs;
    l.density = bestDensity;
    if (bestUs < kMargin * l.denseUs) {
      l.format = best;
      l.blockRows = l.blockCols = bestBlock;
    } else {
      l.format = "dense"; // sparsity that would be slower is refused
      best = "dense";
    }
    std::string why;
    if (best == "dense") {
      put(l.blob, halves(w.data));
    } else if (best == "csr") {
      cuda::Csr c;
      if (!cuda::toCsr(view, &c, &why))
        return error = "node " + w.node + ": " + why, false;
      put(l.blob, c.rowPtr);
      put(l.blob, c.colInd);
      put(l.blob, halves(c.values));
    } else if (best == "bsr") {
      cuda::Bsr c;
      if (!cuda::toBsr(view, bestBlock, bestBlock, &c, &why))
        return error = "node " + w.node + ": " + why, false;
      put(l.blob, c.rowPtr);
      put(l.blob, c.colInd);
      put(l.blob, halves(c.values));
    } else if (best == "ell") {
      cuda::BlockedEll c;
      if (!cuda::toBlockedEll(view, bestBlock, &c, &why))
        return error = "node " + w.node + ": " + why, false;
      put(l.blob, c.colInd);
      put(l.blob, halves(c.values));
    } else {
      cuda::Sparse24 c;
      if (!cuda::compress24(view, &c, &why))
        return error = "node " + w.node + ": " + why, false;
      put(l.blob, c.values);
      put(l.blob, c.meta);
    }
    plan.layers.push_back(std::move(l));
  }
  return true;
}

bool writeCudaPlan(const CUDAPlan &plan, const std::string &modelName,
                   const std::string &metadata, const std::string &artifactPath,
                   std::string &error) {
#if LOPPER_HAVE_CUDA_KERNELS
  std::string kernels(lopper_cuda_kernels_image, lopper_cuda_kernels_image_end);
#else
  std::string kernels;
  error = "--target=cuda: this lopper was built without nvcc";
  return false;
#endif
  cuda::GpuPlan p;
  p.model = modelName;
  p.metadataChecksum = lopper_checksum64(metadata.data(), metadata.size());
  p.archs = plan.archs;
  std::vector<std::string> blobs;
  for (const CUDALayerPlan &l : plan.layers) {
    cuda::PlanLayer pl;
    pl.node = l.node;
    pl.format = l.format;
    pl.rows = l.rows;
    pl.cols = l.cols;
    pl.blockRows = l.blockRows;
    pl.blockCols = l.blockCols;
    pl.density = l.density;
    pl.denseCost = l.denseUs;
    pl.sparseCost = l.sparseUs;
    p.layers.push_back(pl);
    blobs.push_back(l.blob);
  }
  std::string bytes = cuda::writePlan(p, blobs, kernels);
  std::string path = cuda::planPathFor(artifactPath);
  auto tmp = llvm::sys::fs::TempFile::create(path + ".tmp%%%%%%");
  if (!tmp) {
    error = path + ": " + llvm::toString(tmp.takeError());
    return false;
  }
  {
    llvm::raw_fd_ostream out(tmp->FD, /*shouldClose=*/false);
    out << bytes;
    out.flush();
    if (out.has_error()) {
      out.clear_error();
      llvm::consumeError(tmp->discard());
      error = path + ": write failed";
      return false;
    }
  }
  if (llvm::Error e = tmp->keep(path)) {
    error = path + ": " + llvm::toString(std::move(e));
    return false;
  }
  return true;
}

} // namespace lopper

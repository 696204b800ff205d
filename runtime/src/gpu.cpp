// Device CUDA at load: the artifact's GPU plan, the device probe and the
// CPU fallback.
#include "internal.h"

#include "../cuda/cuda_loader.h"
#include "../cuda/formats.h"
#include "../cuda/gpu_plan.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace lopper::rt;

namespace {

// Reads the whole plan file; false with *err on an I/O error.
bool readFile(const std::string &path, std::vector<uint8_t> *out,
              std::string *err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    *err = "not a regular file";
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = read(fd, out->data() + got, out->size() - got);
    if (n <= 0) {
      *err = n == 0 ? "unexpected end of file" : std::strerror(errno);
      close(fd);
      return false;
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return true;
}

} // namespace

namespace lopper {
namespace rt {

lopper_status attachGpuPlan(lopper_model *m, const char *path, int deviceId) {
  std::string planPath = lopper::cuda::planPathFor(path);
  if (access(planPath.c_str(), F_OK) != 0)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: device CUDA requested but the artifact has no GPU plan "
                "(%s); compile it with `lopper compile --target=cuda`",
                path, planPath.c_str());
  std::vector<uint8_t> bytes;
  std::string err;
  if (!readFile(planPath, &bytes, &err))
    return fail(LOPPER_ERR_IO, "%s: cannot read: %s", planPath.c_str(),
                err.c_str());
  lopper::cuda::GpuPlan plan;
  if (!lopper::cuda::readPlan(bytes.data(), bytes.size(), &plan, &err))
    return fail(LOPPER_ERR_INCOMPATIBLE, "%s: bad GPU plan: %s",
                planPath.c_str(), err.c_str());
  if (plan.metadataChecksum != m->info->metadata_checksum)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: the GPU plan was written for another build of the "
                "artifact (metadata checksum differs); recompile",
                planPath.c_str());
  for (const lopper::cuda::PlanLayer &l : plan.layers) {
    bool found = false;
    for (const OpRec &op : m->md.ops)
      found = found || op.node == l.node;
    if (!found)
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: GPU plan layer '%s' is not an op of the artifact",
                  planPath.c_str(), l.node.c_str());
  }
  m->gpuLayers = plan.layers.size();

  // The backend: the tests' mock when one is installed, else CUDA when the
  // libraries and the device probe are good.
  std::string why;
  std::unique_ptr<GpuBackend> backend;
  if (GpuBackendFactory factory = gpuBackendFactoryForTesting()) {
    backend = factory(deviceId, &why);
  } else {
    const lopper::cuda::Api *api = lopper::cuda::processApi(&why);
    lopper::cuda::DeviceInfo info;
    if (api && lopper::cuda::probeDevice(*api, deviceId, &info, &why)) {
      if (plan.kernelsBytes == 0)
        why = "the GPU plan carries no kernels image";
      else
        backend =
            makeCudaBackend(deviceId, bytes.data() + plan.kernelsOffset, &why);
      if (!backend)
        why = "CUDA device " + std::to_string(deviceId) + " (" + info.name +
              "): " + why;
    }
  }
  if (!backend) {
    m->device = LOPPER_DEVICE_CPU;
    m->deviceNote = why;
    std::fprintf(stderr,
                 "lopper: warning: %s: running on the CPU instead of CUDA "
                 "device %d: %s\n",
                 path, deviceId, why.c_str());
    return LOPPER_OK;
  }

  // Every layer's weight goes to the device once, here. A layer that cannot
  // be uploaded fails the load, naming it: a model half on the GPU for a
  // reason the caller never sees would be worse than a clear error.
  auto g = std::make_shared<GpuModel>();
  g->label = path;
  g->layers = plan.layers;
  g->stats.reset(new GpuLayerStats[plan.layers.size()]);
  g->biasOf.assign(plan.layers.size(), nullptr);
  std::vector<float> dense;
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const lopper::cuda::PlanLayer &l = plan.layers[i];
    if (!lopper::cuda::unpackPlanBlob(l.format, l.rows, l.cols, l.blockRows,
                                      bytes.data() + l.offset, l.bytes, &dense,
                                      &err))
      return fail(LOPPER_ERR_INCOMPATIBLE, "%s: GPU plan layer '%s': %s",
                  planPath.c_str(), l.node.c_str(), err.c_str());
    if (!backend->upload(i, l, dense.data(), &err))
      return fail(LOPPER_ERR_INTERNAL,
                  "%s: GPU plan layer '%s' (%s %lldx%lld): cannot upload to "
                  "CUDA device %d: %s",
                  path, l.node.c_str(), l.format.c_str(),
                  static_cast<long long>(l.rows),
                  static_cast<long long>(l.cols), deviceId, err.c_str());
  }
  g->opLayer.assign(m->md.ops.size(), -1);
  for (size_t op = 0; op < m->md.ops.size(); ++op)
    for (size_t i = 0; i < plan.layers.size(); ++i)
      if (m->md.ops[op].node == plan.layers[i].node)
        g->opLayer[op] = static_cast<int32_t>(i);
  g->backend = std::move(backend);
  m->gpu = std::move(g);
  m->device = LOPPER_DEVICE_CUDA;
  m->deviceNote.clear();
  return LOPPER_OK;
}

namespace {

// The GPU's epilogue activation for an artifact's, or false.
bool gpuActOf(int64_t act, GpuAct *out) {
  switch (act) {
  case LOPPER_ACT_NONE:
    *out = GpuAct::None;
    return true;
  case LOPPER_ACT_RELU:
    *out = GpuAct::Relu;
    return true;
  case LOPPER_ACT_GELU:
    *out = GpuAct::Gelu;
    return true;
  case LOPPER_ACT_SIGMOID:
    *out = GpuAct::Sigmoid;
    return true;
  default:
    return false;
  }
}

} // namespace

bool gpuMatmul(RunContext *run, const MatmulCall &c) {
  GpuModel *g = run->gpu;
  int64_t op = run->currentOp;
  if (!g || op < 0 || static_cast<size_t>(op) >= g->opLayer.size() ||
      g->opLayer[static_cast<size_t>(op)] < 0)
    return false; // no plan layer: the CPU kernel, as for a CPU model
  size_t li = static_cast<size_t>(g->opLayer[static_cast<size_t>(op)]);
  const lopper::cuda::PlanLayer &l = g->layers[li];
  GpuLayerStats &st = g->stats[li];
  const lopper_model *m = run->model;
  // What the GPU path cannot do goes to the CPU kernel: another shape than
  // the plan's, a bias that is not per output (or not a constant of the
  // artifact: it is uploaded once), an activation the kernels lack, an
  // activation after a residual (the residual is added on the host).
  GpuAct act = GpuAct::None;
  bool biasOk = c.biasKind == 0 ||
                (c.biasKind == 1 && m->weights &&
                 reinterpret_cast<const uint8_t *>(c.bias) >= m->weights &&
                 reinterpret_cast<const uint8_t *>(c.bias + l.rows) <=
                     m->weights + m->weightsSize);
  if (g->broken.load() || c.n != l.rows || c.k != l.cols || c.batch <= 0 ||
      c.m <= 0 || !biasOk || !gpuActOf(c.act, &act) ||
      (c.residual && act != GpuAct::None)) {
    st.cpuCalls.fetch_add(1);
    return false;
  }
  const int64_t rows = c.batch * c.m;
  // A as [rows, K] rows-contiguous (gathered when strided).
  std::vector<float> xs, ys;
  const float *x = c.a;
  if (!(c.aCs == 1 && c.aRs == c.k && (c.batch == 1 || c.aBs == c.m * c.k))) {
    xs.resize(static_cast<size_t>(rows * c.k));
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t k = 0; k < c.k; ++k)
          xs[static_cast<size_t>((b * c.m + i) * c.k + k)] =
              c.a[b * c.aBs + i * c.aRs + k * c.aCs];
    x = xs.data();
  }
  bool direct =
      !c.residual && c.ldc == c.n && (c.batch == 1 || c.cBs == c.m * c.n);
  float *y = c.c;
  if (!direct) {
    ys.resize(static_cast<size_t>(rows * c.n));
    y = ys.data();
  }
  std::string err;
  bool ok;
  {
    std::lock_guard<std::mutex> lock(g->mu);
    void *stream = nullptr;
    ok = true;
    if (lopper_session *s = run->session) {
      if (!s->gpuStream) {
        auto ss = std::make_unique<GpuSessionStream>();
        ss->model = m->gpu;
        ok = g->backend->createStream(&ss->stream, &err);
        ss->created = ok;
        s->gpuStream = std::move(ss);
      }
      stream = s->gpuStream->stream;
      ok = ok && s->gpuStream->created;
      if (!ok && err.empty())
        err = "the session's GPU stream could not be created";
    }
    bool withBias = c.biasKind == 1;
    if (ok && withBias && g->biasOf[li] != c.bias) {
      ok = g->backend->setBias(li, c.bias, &err);
      g->biasOf[li] = ok ? c.bias : nullptr;
    }
    ok = ok &&
         g->backend->linear(stream, li, x, rows, y, act, withBias, &err) &&
         g->backend->sync(stream, &err);
  }
  if (!ok) {
    // Kernels cannot fail: this op and the rest run on the CPU, correctly.
    if (!g->broken.exchange(true))
      std::fprintf(stderr,
                   "lopper: warning: %s: GPU layer '%s' failed, running on "
                   "the CPU from now on: %s\n",
                   g->label.c_str(), l.node.c_str(), err.c_str());
    st.cpuCalls.fetch_add(1);
    return false;
  }
  if (!direct)
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t i = 0; i < c.m; ++i) {
        const float *yr = y + (b * c.m + i) * c.n;
        float *cr = c.c + b * c.cBs + i * c.ldc;
        const float *rr =
            c.residual ? c.residual + b * c.rBs + i * c.ldc : nullptr;
        for (int64_t j = 0; j < c.n; ++j)
          cr[j] = rr ? yr[j] + rr[j] : yr[j];
      }
  st.gpuCalls.fetch_add(1);
  return true;
}

} // namespace rt
} // namespace lopper

extern "C" int lopper_cuda_available(int32_t device_id, char *why,
                                     size_t why_size) {
  std::string reason;
  const lopper::cuda::Api *api = lopper::cuda::processApi(&reason);
  bool ok = api && lopper::cuda::probeDevice(*api, device_id, nullptr, &reason);
  if (why && why_size > 0)
    std::snprintf(why, why_size, "%s", ok ? "" : reason.c_str());
  return ok ? 1 : 0;
}

// Device CUDA at load: the artifact's GPU plan, the device probe and the
// CPU fallback.
#include "internal.h"

#include "../cuda/cuda_loader.h"
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

  std::string why;
  const lopper::cuda::Api *api = lopper::cuda::processApi(&why);
  lopper::cuda::DeviceInfo info;
  if (api && lopper::cuda::probeDevice(*api, deviceId, &info, &why)) {
    // The plan and device are good, but this runtime does not execute the
    // plan's layers on the GPU yet (docs/gpu.md, "What is missing").
    why = "CUDA device " + std::to_string(deviceId) + " (" + info.name +
          ") found, but this runtime cannot yet run a model's GPU plan";
  }
  m->device = LOPPER_DEVICE_CPU;
  m->deviceNote = why;
  std::fprintf(stderr,
               "lopper: warning: %s: running on the CPU instead of CUDA "
               "device %d: %s\n",
               path, deviceId, why.c_str());
  return LOPPER_OK;
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

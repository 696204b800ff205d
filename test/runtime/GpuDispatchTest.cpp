// The GPU execution path of a CUDA load (docs/gpu.md, "Runtime") with the
// CPU mock backend: every plan layer dispatched, the outputs the CPU's
// within fp16 tolerance, ops without a plan layer (or with an epilogue the
// GPU cannot do) on the CPU, upload and run-time failures.
//
// The model is test/runtime/Inputs/gpu-mlp.onnx compiled with
// `lopper compile --target=cuda`; test/Target/CUDA/gpu-dispatch.test does
// that and runs these tests with LOPPER_TEST_GPU_MODEL set to the artifact.
#include "../../runtime/cuda/formats.h"
#include "../../runtime/cuda/gpu_plan.h"
#include "TestUtil.h"
#include "gpu_backend.h"
#include "internal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

using namespace lopper_test;
using lopper::rt::GpuBackend;
using lopper::rt::MockGpuBackend;
namespace cuda = lopper::cuda;

namespace {

// The mock the factory made for the last load, and knobs for the next one.
MockGpuBackend *gMock = nullptr;
std::string gFailUpload, gFailLinear;
bool gNoDevice = false;

std::unique_ptr<GpuBackend> mockFactory(int, std::string *err) {
  if (gNoDevice) {
    *err = "mock: no device";
    return nullptr;
  }
  auto m = std::make_unique<MockGpuBackend>();
  m->failUploadOf = gFailUpload;
  m->failLinearOf = gFailLinear;
  gMock = m.get();
  return m;
}

// Installs the mock for one test.
struct MockScope {
  MockScope() {
    gMock = nullptr;
    gFailUpload.clear();
    gFailLinear.clear();
    gNoDevice = false;
    lopper::rt::setGpuBackendFactoryForTesting(&mockFactory);
  }
  ~MockScope() { lopper::rt::setGpuBackendFactoryForTesting(nullptr); }
};

template <typename T> void put(std::string &blob, const std::vector<T> &v) {
  blob.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
  blob.resize((blob.size() + 63) / 64 * 64);
}

std::vector<uint16_t> halves(const std::vector<float> &v) {
  std::vector<uint16_t> h;
  for (float f : v)
    h.push_back(cuda::floatToHalf(f));
  return h;
}

// The compiled model copied into a fresh directory; its plan can be
// rewritten with other formats per layer.
struct GpuModelFiles {
  TempDir dir;
  std::string path = dir.file("m.so");
  cuda::GpuPlan plan;
  std::string planBytes;
  std::vector<std::vector<float>> weights; // per layer, dense [rows, cols]

  bool load() {
    const char *src = std::getenv("LOPPER_TEST_GPU_MODEL");
    if (!src || !*src)
      return false;
    writeFile(path, readFile(src));
    planBytes = readFile(cuda::planPathFor(src));
    writeFile(cuda::planPathFor(path), planBytes);
    std::string err;
    EXPECT_TRUE(
        cuda::readPlan(reinterpret_cast<const uint8_t *>(planBytes.data()),
                       planBytes.size(), &plan, &err))
        << err;
    for (const cuda::PlanLayer &l : plan.layers) {
      std::vector<float> w;
      EXPECT_TRUE(cuda::unpackPlanBlob(
          l.format, l.rows, l.cols, l.blockRows,
          reinterpret_cast<const uint8_t *>(planBytes.data()) + l.offset,
          l.bytes, &w, &err))
          << err;
      weights.push_back(w);
    }
    return true;
  }

  // Rewrites the plan with `formats[i]` (block size 16 for bsr / ell).
  void setFormats(const std::vector<std::string> &formats) {
    cuda::GpuPlan p = plan;
    std::vector<std::string> blobs;
    for (size_t i = 0; i < p.layers.size(); ++i) {
      cuda::PlanLayer &l = p.layers[i];
      l.format = formats.at(i);
      l.blockRows = l.blockCols = 0;
      cuda::DenseView v{weights[i].data(), nullptr, l.rows, l.cols};
      std::string blob, err;
      if (l.format == "dense") {
        put(blob, halves(weights[i]));
      } else if (l.format == "csr") {
        cuda::Csr c;
        EXPECT_TRUE(cuda::toCsr(v, &c, &err)) << err;
        put(blob, c.rowPtr);
        put(blob, c.colInd);
        put(blob, halves(c.values));
      } else if (l.format == "bsr") {
        cuda::Bsr b;
        EXPECT_TRUE(cuda::toBsr(v, 16, 16, &b, &err)) << err;
        l.blockRows = l.blockCols = 16;
        put(blob, b.rowPtr);
        put(blob, b.colInd);
        put(blob, halves(b.values));
      } else if (l.format == "ell") {
        cuda::BlockedEll e;
        EXPECT_TRUE(cuda::toBlockedEll(v, 16, &e, &err)) << err;
        l.blockRows = l.blockCols = 16;
        put(blob, e.colInd);
        put(blob, halves(e.values));
      } else if (l.format == "2:4") {
        cuda::Sparse24 s;
        EXPECT_TRUE(cuda::compress24(v, &s, &err)) << err;
        put(blob, s.values);
        put(blob, s.meta);
      }
      blobs.push_back(blob);
    }
    std::string kernels =
        planBytes.substr(plan.kernelsOffset, plan.kernelsBytes);
    writeFile(cuda::planPathFor(path), cuda::writePlan(p, blobs, kernels));
  }
};

lopper_status loadCuda(const std::string &path, lopper_model **m) {
  lopper_options o = LOPPER_OPTIONS_INIT;
  o.device = LOPPER_DEVICE_CUDA;
  return lopper_model_load(path.c_str(), &o, m);
}

// x [8, 64] from `seed`; the outputs y [8, 64] and s [8, 8].
struct ModelRun {
  std::vector<float> x, y, s;
};

ModelRun runModel(const lopper_model *m, lopper_session *session,
                  unsigned seed) {
  ModelRun r;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  r.x.resize(8 * 64);
  for (float &v : r.x)
    v = nd(rng);
  lopper_tensor_desc xd = desc2(8, 64);
  lopper_tensor *in = nullptr;
  EXPECT_EQ(lopper_tensor_create_borrowed(&xd, r.x.data(), r.x.size() * 4, &in),
            LOPPER_OK);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  EXPECT_EQ(lopper_run(m, session, &in, 1, outs, 2), LOPPER_OK)
      << lopper_last_error();
  for (int o = 0; o < 2; ++o) {
    void *data = nullptr;
    size_t bytes = 0;
    if (outs[o] && lopper_tensor_data(outs[o], &data, &bytes) == LOPPER_OK) {
      const float *f = static_cast<const float *>(data);
      (o == 0 ? r.y : r.s).assign(f, f + bytes / 4);
    }
    lopper_tensor_destroy(outs[o]);
  }
  lopper_tensor_destroy(in);
  return r;
}

// Max |a - b| / (1 + |b|).
double maxError(const std::vector<float> &a, const std::vector<float> &b) {
  EXPECT_EQ(a.size(), b.size());
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    e = std::max(e, std::fabs(double(a[i]) - b[i]) / (1.0 + std::fabs(b[i])));
  return e;
}

int layerIndex(const lopper_model *m, const std::string &node) {
  for (size_t i = 0; i < m->gpu->layers.size(); ++i)
    if (m->gpu->layers[i].node == node)
      return static_cast<int>(i);
  return -1;
}

#define NEED_MODEL(files)                                                      \
  if (!(files).load())                                                         \
  GTEST_SKIP() << "LOPPER_TEST_GPU_MODEL is not set (the lit test "            \
                  "Target/CUDA/gpu-dispatch.test runs these tests)"

} // namespace

// The plan's four layers: relu1 (bias + relu), res2 (bias + residual),
// tanh3 (tanh: no GPU epilogue), fc4 (no bias). The fifth matmul, gram,
// has no constant weight and no plan layer.
TEST(GpuDispatch, EveryPlanLayerRunsOnTheGpuAndMatchesTheCpu) {
  MockScope mock;
  GpuModelFiles f;
  NEED_MODEL(f);
  ASSERT_EQ(f.plan.layers.size(), 4u);
  lopper_model *cpu = loadOrDie(f.path);
  lopper_model *m = nullptr;
  testing::internal::CaptureStderr();
  lopper_status st = loadCuda(f.path, &m);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), ""); // no warning
  ASSERT_EQ(st, LOPPER_OK) << lopper_last_error();
  ASSERT_NE(gMock, nullptr);
  EXPECT_EQ(m->device, LOPPER_DEVICE_CUDA);
  ASSERT_TRUE(m->gpu);

  lopper_session *s1 = nullptr, *s2 = nullptr;
  ASSERT_EQ(lopper_session_create(m, &s1), LOPPER_OK);
  ASSERT_EQ(lopper_session_create(m, &s2), LOPPER_OK);
  const int runs = 3;
  for (int r = 0; r < runs; ++r) {
    lopper_session *s = r == 0 ? s1 : r == 1 ? s2 : nullptr; // none: default
    ModelRun want = runModel(cpu, nullptr, 100 + r);
    ModelRun got = runModel(m, s, 100 + r);
    EXPECT_LT(maxError(got.y, want.y), 2e-2) << "run " << r;
    EXPECT_LT(maxError(got.s, want.s), 2e-2) << "run " << r;
    // The GPU path really computed them: fp16 rounding shows.
    EXPECT_GT(maxError(got.y, want.y), 0.0) << "run " << r;
  }
  int relu1 = layerIndex(m, "relu1"), res2 = layerIndex(m, "res2"),
      tanh3 = layerIndex(m, "tanh3"), fc4 = layerIndex(m, "fc4");
  ASSERT_TRUE(relu1 >= 0 && res2 >= 0 && tanh3 >= 0 && fc4 >= 0);
  for (int l : {relu1, res2, fc4}) {
    EXPECT_EQ(gMock->calls.at(l), runs) << m->gpu->layers[l].node;
    EXPECT_EQ(m->gpu->stats[l].gpuCalls.load(), runs);
    EXPECT_EQ(m->gpu->stats[l].cpuCalls.load(), 0);
    EXPECT_EQ(gMock->formats.at(l), "dense");
  }
  // Tanh is fused into the matmul and the GPU epilogue has no tanh.
  EXPECT_EQ(gMock->calls.at(tanh3), 0);
  EXPECT_EQ(m->gpu->stats[tanh3].cpuCalls.load(), runs);
  // gram has no plan layer: no op maps to a layer named gram.
  for (size_t op = 0; op < m->md.ops.size(); ++op)
    if (m->md.ops[op].node == "gram")
      EXPECT_EQ(m->gpu->opLayer[op], -1);
  // A stream per session (the sessionless run used the default one).
  EXPECT_EQ(gMock->streamsCreated, 2);
  lopper_session_destroy(s1);
  lopper_session_destroy(s2);
  EXPECT_EQ(gMock->streamsDestroyed, 2);
  lopper_model_unload(m);
  lopper_model_unload(cpu);
}

// The same weights in every format (they are 2:4, so exact in all five).
TEST(GpuDispatch, EveryFormatUploadsAndMatches) {
  MockScope mock;
  GpuModelFiles f;
  NEED_MODEL(f);
  lopper_model *cpu = loadOrDie(f.path);
  ModelRun want = runModel(cpu, nullptr, 7);
  for (const auto &formats : std::vector<std::vector<std::string>>{
           {"csr", "bsr", "ell", "2:4"}, {"2:4", "ell", "csr", "bsr"}}) {
    f.setFormats(formats);
    lopper_model *m = nullptr;
    ASSERT_EQ(loadCuda(f.path, &m), LOPPER_OK) << lopper_last_error();
    ASSERT_NE(gMock, nullptr);
    EXPECT_EQ(gMock->formats, formats);
    ModelRun got = runModel(m, nullptr, 7);
    EXPECT_LT(maxError(got.y, want.y), 2e-2) << formats[0];
    EXPECT_LT(maxError(got.s, want.s), 2e-2) << formats[0];
    EXPECT_EQ(gMock->calls.at(layerIndex(m, "fc4")), 1);
    lopper_model_unload(m);
  }
  lopper_model_unload(cpu);
}

// A layer whose upload fails fails the load, naming the layer.
TEST(GpuDispatch, UploadFailureFailsTheLoadNamingTheLayer) {
  MockScope mock;
  GpuModelFiles f;
  NEED_MODEL(f);
  gFailUpload = "res2";
  lopper_model *m = nullptr;
  EXPECT_EQ(loadCuda(f.path, &m), LOPPER_ERR_INTERNAL);
  EXPECT_EQ(m, nullptr);
  std::string err = lopper_last_error();
  EXPECT_NE(err.find("GPU plan layer 'res2' (dense 64x64): cannot upload to "
                     "CUDA device 0: layer 'res2': mock upload failure"),
            std::string::npos)
      << err;
}

// A GPU failure during a run: one warning, that op and everything after
// it on the CPU, the outputs still right.
TEST(GpuDispatch, RunTimeFailureFallsBackToTheCpu) {
  MockScope mock;
  GpuModelFiles f;
  NEED_MODEL(f);
  gFailLinear = "res2";
  lopper_model *cpu = loadOrDie(f.path);
  lopper_model *m = nullptr;
  ASSERT_EQ(loadCuda(f.path, &m), LOPPER_OK) << lopper_last_error();
  testing::internal::CaptureStderr();
  ModelRun got = runModel(m, nullptr, 5);
  ModelRun again = runModel(m, nullptr, 6);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "lopper: warning: " + f.path +
                     ": GPU layer 'res2' failed, running on the CPU from now "
                     "on: layer 'res2': mock linear failure\n");
  ModelRun want = runModel(cpu, nullptr, 5), want2 = runModel(cpu, nullptr, 6);
  EXPECT_LT(maxError(got.y, want.y), 2e-2);
  // After the failure nothing runs on the GPU: bit-exact CPU results.
  EXPECT_EQ(again.y, want2.y);
  EXPECT_EQ(again.s, want2.s);
  int relu1 = layerIndex(m, "relu1"), fc4 = layerIndex(m, "fc4");
  EXPECT_EQ(m->gpu->stats[relu1].gpuCalls.load(), 1);
  EXPECT_EQ(m->gpu->stats[fc4].gpuCalls.load(), 0);
  EXPECT_EQ(m->gpu->stats[fc4].cpuCalls.load(), 2);
  lopper_model_unload(m);
  lopper_model_unload(cpu);
}

// No device (the factory says why): the CPU runs it, with one warning.
TEST(GpuDispatch, NoDeviceRunsOnTheCpu) {
  MockScope mock;
  GpuModelFiles f;
  NEED_MODEL(f);
  gNoDevice = true;
  lopper_model *m = nullptr;
  testing::internal::CaptureStderr();
  ASSERT_EQ(loadCuda(f.path, &m), LOPPER_OK) << lopper_last_error();
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "lopper: warning: " + f.path +
                ": running on the CPU instead of CUDA device 0: mock: no "
                "device\n");
  EXPECT_EQ(m->device, LOPPER_DEVICE_CPU);
  EXPECT_FALSE(m->gpu);
  lopper_model_unload(m);
}

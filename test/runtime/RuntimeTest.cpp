// The C API against the hand-written fake artifacts (fake_artifact.c).
#include "TestUtil.h"
#include "gpu_plan.h"
#include "internal.h"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace lopper_test;

extern "C" const lopper_artifact_info *
lopper_artifact_get_info_fake_embedded(void);
extern "C" const lopper_artifact_info *
lopper_artifact_get_info_fake_sidecar(void);

namespace {

::testing::AssertionResult hasError(lopper_status got, lopper_status want,
                                    const std::string &needle) {
  std::string msg = lopper_last_error();
  if (got != want)
    return ::testing::AssertionFailure()
           << "status " << lopper_status_string(got) << ", expected "
           << lopper_status_string(want) << " (message: " << msg << ")";
  if (msg.find(needle) == std::string::npos)
    return ::testing::AssertionFailure()
           << "message '" << msg << "' lacks '" << needle << "'";
  return ::testing::AssertionSuccess();
}

// Inputs a, b for the fake model and a run helper.
struct Inputs {
  std::vector<float> a, b;
  lopper_tensor *t[2] = {nullptr, nullptr};
  explicit Inputs(int64_t batch, int seed = 0) {
    size_t n = static_cast<size_t>(batch) * 4;
    a.resize(n);
    b.resize(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>((static_cast<int>(i) * 7 + seed) % 11) - 5.0f;
      b[i] =
          static_cast<float>((static_cast<int>(i) * 3 + seed * 5) % 5) * 0.25f;
    }
    lopper_tensor_desc d = desc2(batch, 4);
    EXPECT_EQ(lopper_tensor_create_borrowed(&d, a.data(), n * 4, &t[0]),
              LOPPER_OK)
        << lopper_last_error();
    EXPECT_EQ(lopper_tensor_create_borrowed(&d, b.data(), n * 4, &t[1]),
              LOPPER_OK)
        << lopper_last_error();
  }
  ~Inputs() {
    lopper_tensor_destroy(t[0]);
    lopper_tensor_destroy(t[1]);
  }
  Inputs(const Inputs &) = delete;
  Inputs &operator=(const Inputs &) = delete;
  lopper_tensor *const *list() const { return t; }
};

const float *floats(lopper_tensor *t, size_t *count) {
  void *p = nullptr;
  size_t bytes = 0;
  EXPECT_EQ(lopper_tensor_data(t, &p, &bytes), LOPPER_OK);
  *count = bytes / 4;
  return static_cast<const float *>(p);
}

void expectOutputs(lopper_tensor *const *outs, const Inputs &in) {
  std::vector<float> ref = fakeReference(in.a, in.b);
  size_t n;
  const float *y = floats(outs[0], &n);
  ASSERT_EQ(n, ref.size());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(y[i], ref[i]) << "y[" << i << "]";
  const float *flat = floats(outs[1], &n);
  ASSERT_EQ(n, ref.size());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(flat[i], ref[i]) << "flat[" << i << "]";
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  ASSERT_EQ(lopper_tensor_get_desc(outs[1], &d), LOPPER_OK);
  EXPECT_EQ(d.rank, 1);
  EXPECT_EQ(d.dims[0], static_cast<int64_t>(ref.size()));
}

class FakeModel : public ::testing::Test {
protected:
  void SetUp() override {
    model = loadOrDie(artifact("fake_add"), 4);
    ASSERT_NE(model, nullptr);
  }
  void TearDown() override { lopper_model_unload(model); }
  // Runs batch `batch` with runtime-allocated outputs and checks them.
  void runAndCheck(int64_t batch, lopper_session *session = nullptr) {
    Inputs in(batch, static_cast<int>(batch));
    lopper_tensor *outs[2] = {nullptr, nullptr};
    ASSERT_EQ(lopper_run(model, session, in.list(), 2, outs, 2), LOPPER_OK)
        << lopper_last_error();
    expectOutputs(outs, in);
    lopper_tensor_destroy(outs[0]);
    lopper_tensor_destroy(outs[1]);
  }
  lopper_model *model = nullptr;
};

} // namespace

//===--- Basics -------------------------------------------------------------//

TEST(RuntimeBasics, StatusAndDtypeNames) {
  EXPECT_STREQ(lopper_status_string(LOPPER_OK), "ok");
  EXPECT_STREQ(lopper_status_string(LOPPER_ERR_SHAPE), "shape error");
  EXPECT_STREQ(lopper_status_string(static_cast<lopper_status>(99)),
               "unknown status");
  EXPECT_STREQ(lopper_dtype_name(LOPPER_DTYPE_F32), "f32");
  EXPECT_STREQ(lopper_dtype_name(LOPPER_DTYPE_BF16), "bf16");
  EXPECT_STREQ(lopper_dtype_name(static_cast<lopper_dtype>(8)), "unknown");
  EXPECT_EQ(lopper_dtype_size(LOPPER_DTYPE_F32), 4u);
  EXPECT_EQ(lopper_dtype_size(LOPPER_DTYPE_I64), 8u);
  EXPECT_EQ(lopper_dtype_size(LOPPER_DTYPE_F16), 2u);
  EXPECT_EQ(lopper_dtype_size(LOPPER_DTYPE_BOOL), 1u);
  EXPECT_EQ(lopper_dtype_size(LOPPER_DTYPE_UNDEFINED), 0u);
  EXPECT_EQ(lopper_dtype_size(static_cast<lopper_dtype>(8)), 0u);
}

TEST(RuntimeBasics, LastErrorIsPerThread) {
  lopper_model *m;
  EXPECT_NE(lopper_model_load(nullptr, nullptr, &m), LOPPER_OK);
  std::string mine = lopper_last_error();
  EXPECT_NE(mine.find("path is NULL"), std::string::npos) << mine;
  std::thread([] {
    EXPECT_STREQ(lopper_last_error(), "");
    lopper_tensor *t;
    EXPECT_NE(lopper_tensor_create(nullptr, &t), LOPPER_OK);
    EXPECT_NE(std::string(lopper_last_error()).find("desc is NULL"),
              std::string::npos);
  }).join();
  EXPECT_EQ(mine, lopper_last_error());
  // Success does not clear it.
  size_t size = lopper_dtype_size(LOPPER_DTYPE_F32);
  EXPECT_EQ(size, 4u);
  EXPECT_EQ(mine, lopper_last_error());
}

//===--- Loading ------------------------------------------------------------//

TEST(RuntimeLoad, LoadUnload) {
  lopper_model *m = nullptr;
  ASSERT_EQ(lopper_model_load(artifact("fake_add").c_str(), nullptr, &m),
            LOPPER_OK)
      << lopper_last_error();
  ASSERT_NE(m, nullptr);
  lopper_model_unload(m);
  lopper_model_unload(nullptr);
  // Loading the same artifact twice gives two independent models.
  lopper_model *m1 = loadOrDie(artifact("fake_add"), 1);
  lopper_model *m2 = loadOrDie(artifact("fake_add"), 2);
  lopper_model_unload(m1);
  Inputs in(3);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_run(m2, nullptr, in.list(), 2, outs, 2), LOPPER_OK);
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);
  lopper_model_unload(m2);
}

TEST(RuntimeLoad, RelativePathWithoutSlash) {
  // dlopen would search the library path for "fake_add.so"; the runtime
  // loads it from the current directory.
  std::string cwd(4096, '\0');
  ASSERT_NE(getcwd(&cwd[0], cwd.size()), nullptr);
  ASSERT_EQ(chdir(LOPPER_TEST_ARTIFACT_DIR), 0);
  lopper_model *m = nullptr;
  lopper_status st = lopper_model_load("fake_add.so", nullptr, &m);
  EXPECT_EQ(st, LOPPER_OK) << lopper_last_error();
  lopper_model_unload(m);
  ASSERT_EQ(chdir(cwd.c_str()), 0);
}

TEST(RuntimeLoad, BadArguments) {
  lopper_model *m = reinterpret_cast<lopper_model *>(1);
  EXPECT_TRUE(hasError(lopper_model_load(nullptr, nullptr, &m),
                       LOPPER_ERR_INVALID_ARGUMENT, "path is NULL"));
  EXPECT_EQ(m, nullptr);
  EXPECT_TRUE(hasError(lopper_model_load("x.so", nullptr, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_model is NULL"));
  lopper_options o = LOPPER_OPTIONS_INIT;
  o.size = 0;
  EXPECT_TRUE(hasError(lopper_model_load(artifact("fake_add").c_str(), &o, &m),
                       LOPPER_ERR_INVALID_ARGUMENT, "options->size is 0"));
  o = LOPPER_OPTIONS_INIT;
  o.num_threads = -2;
  EXPECT_TRUE(hasError(lopper_model_load(artifact("fake_add").c_str(), &o, &m),
                       LOPPER_ERR_INVALID_ARGUMENT, "num_threads is -2"));
  o = LOPPER_OPTIONS_INIT;
  o.device = 7;
  EXPECT_TRUE(hasError(lopper_model_load(artifact("fake_add").c_str(), &o, &m),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "device 7 is not a lopper_device"));
  o = LOPPER_OPTIONS_INIT;
  o.device = LOPPER_DEVICE_CUDA;
  o.device_id = -1;
  EXPECT_TRUE(hasError(lopper_model_load(artifact("fake_add").c_str(), &o, &m),
                       LOPPER_ERR_INVALID_ARGUMENT, "device_id is -1"));
  // CUDA on an artifact compiled without --target=cuda: an error.
  o.device_id = 0;
  EXPECT_TRUE(hasError(lopper_model_load(artifact("fake_add").c_str(), &o, &m),
                       LOPPER_ERR_INCOMPATIBLE, "has no GPU plan"));
  EXPECT_TRUE(
      hasError(lopper_model_load_linked(lopper_artifact_get_info_fake_embedded,
                                        nullptr, &o, &m),
               LOPPER_ERR_INVALID_ARGUMENT, "load it with lopper_model_load"));
  EXPECT_TRUE(hasError(lopper_model_load_linked(nullptr, nullptr, nullptr, &m),
                       LOPPER_ERR_INVALID_ARGUMENT, "get_info is NULL"));
  EXPECT_TRUE(
      hasError(lopper_model_load_linked(lopper_artifact_get_info_fake_embedded,
                                        nullptr, nullptr, nullptr),
               LOPPER_ERR_INVALID_ARGUMENT, "out_model is NULL"));
}

TEST(RuntimeLoad, MissingFile) {
  lopper_model *m;
  std::string path = artifact("does_not_exist");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_IO, path + ": cannot open: No such file"));
  EXPECT_TRUE(hasError(lopper_model_load(LOPPER_TEST_ARTIFACT_DIR, nullptr, &m),
                       LOPPER_ERR_IO, "not a regular file"));
}

TEST(RuntimeLoad, NotASharedLibrary) {
  TempDir dir;
  std::string path = dir.file("model.so");
  writeFile(path, "this is not an ELF file, but long enough to have the "
                  "size of an ELF header\n");
  lopper_model *m;
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_IO,
                       path + ": not a shared library (no ELF header)"));
  writeFile(path, "short");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_IO,
                       path + ": not a shared library (too short"));
  // An ELF file that is not a shared library: an object file.
  std::string obj = readFile(LOPPER_TEST_EXAMPLE);
  ASSERT_GT(obj.size(), 64u);
  obj[16] = 1; // e_type = ET_REL
  obj[17] = 0;
  writeFile(path, obj);
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_IO,
                       path + ": not a shared library (ELF type 1)"));
  // Another architecture.
  obj = readFile(artifact("fake_add"));
  obj[18] = 183; // EM_AARCH64 (or EM_X86_64 on aarch64)
  obj[19] = 0;
#if defined(__aarch64__)
  obj[18] = 62;
#endif
  writeFile(path, obj);
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       path + ": built for another architecture"));
}

TEST(RuntimeLoad, TruncatedFile) {
  TempDir dir;
  std::string bytes = readFile(artifact("fake_add"));
  ASSERT_GT(bytes.size(), 1000u);
  std::string path = dir.file("truncated.so");
  // dlopen itself would die with SIGBUS on these.
  for (size_t size : {bytes.size() / 3, bytes.size() - 1, size_t(100)}) {
    writeFile(path, bytes.data(), size);
    lopper_model *m = reinterpret_cast<lopper_model *>(1);
    EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                         LOPPER_ERR_IO,
                         path + ": truncated file (" + std::to_string(size) +
                             " bytes, its ELF headers need"));
    EXPECT_EQ(m, nullptr);
  }
}

TEST(RuntimeLoad, SharedLibraryThatIsNoArtifact) {
  lopper_model *m;
  EXPECT_TRUE(hasError(lopper_model_load(LOPPER_TEST_SHARED_LIB, nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       "not a Lopper artifact (no lopper_artifact_get_info"));
}

TEST(RuntimeLoad, MissingCpuFeature) {
  lopper_model *m;
  std::string path = artifact("fake_neon");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       path + ": needs CPU features neon that this CPU lacks"));
  // A CPU without AVX-512 (whatever this one has).
  lopper::rt::overrideCpuFeaturesForTesting(
      true, LOPPER_CPU_SSE42 | LOPPER_CPU_AVX | LOPPER_CPU_AVX2);
  path = artifact("fake_avx512");
  EXPECT_TRUE(hasError(
      lopper_model_load(path.c_str(), nullptr, &m), LOPPER_ERR_INCOMPATIBLE,
      path + ": needs CPU features avx512f, avx512vnni that this CPU lacks"));
  lopper::rt::overrideCpuFeaturesForTesting(true, LOPPER_CPU_AVX512F |
                                                      LOPPER_CPU_AVX512VNNI);
  EXPECT_EQ(lopper_model_load(path.c_str(), nullptr, &m), LOPPER_OK)
      << lopper_last_error();
  lopper_model_unload(m);
  lopper::rt::overrideCpuFeaturesForTesting(false, 0);
}

TEST(RuntimeLoad, BadAbiVersion) {
  lopper_model *m;
  std::string path = artifact("fake_abi2");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       path + ": ABI version 2, this runtime supports 1"));
}

TEST(RuntimeLoad, CorruptedMetadata) {
  lopper_model *m;
  std::string path = artifact("fake_bad_metadata");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       path + ": bad metadata: line 5: extra fields"));
  path = artifact("fake_bad_checksum");
  EXPECT_TRUE(hasError(lopper_model_load(path.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       path + ": metadata checksum mismatch"));
}

TEST(RuntimeLoad, UnknownKernel) {
  lopper_model *m;
  std::string path = artifact("fake_unknown_kernel");
  EXPECT_TRUE(hasError(
      lopper_model_load(path.c_str(), nullptr, &m), LOPPER_ERR_INCOMPATIBLE,
      path + ": needs kernel lopper_k_frobnicate_v7 that this runtime does "
             "not provide; upgrade liblopper_runtime"));
}

//===--- Sidecar weights ----------------------------------------------------//

namespace {
// Copies fake_add_sidecar.so into a temp dir with the given weight bytes.
std::string sidecarModel(const TempDir &dir, bool writeWeights,
                         void (*mutate)(std::string &) = nullptr) {
  std::string so = dir.file("model.so");
  writeFile(so, readFile(artifact("fake_add_sidecar")));
  if (writeWeights) {
    const float w[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;
    std::string bytes(reinterpret_cast<const char *>(w), sizeof(w));
    if (mutate)
      mutate(bytes);
    writeFile(dir.file(FAKE_SIDECAR_NAME), bytes);
  }
  return so;
}
} // namespace

TEST(RuntimeSidecar, LoadsAndRuns) {
  TempDir dir;
  std::string so = sidecarModel(dir, true);
  lopper_model *m = loadOrDie(so);
  ASSERT_NE(m, nullptr);
  Inputs in(3);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_run(m, nullptr, in.list(), 2, outs, 2), LOPPER_OK)
      << lopper_last_error();
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);
  lopper_model_unload(m);
}

TEST(RuntimeSidecar, Missing) {
  TempDir dir;
  std::string so = sidecarModel(dir, false);
  lopper_model *m;
  EXPECT_TRUE(
      hasError(lopper_model_load(so.c_str(), nullptr, &m), LOPPER_ERR_IO,
               so + ": weights file " FAKE_SIDECAR_NAME ": cannot open " +
                   dir.file(FAKE_SIDECAR_NAME)));
}

TEST(RuntimeSidecar, ModifiedFile) {
  TempDir dir;
  std::string so =
      sidecarModel(dir, true, [](std::string &b) { b[5] ^= 0x40; });
  lopper_model *m;
  EXPECT_TRUE(hasError(lopper_model_load(so.c_str(), nullptr, &m),
                       LOPPER_ERR_INCOMPATIBLE,
                       so + ": weights file " FAKE_SIDECAR_NAME
                            ": checksum mismatch (file changed?)"));
}

TEST(RuntimeSidecar, WrongSize) {
  TempDir dir;
  std::string so =
      sidecarModel(dir, true, [](std::string &b) { b.pop_back(); });
  lopper_model *m;
  EXPECT_TRUE(hasError(
      lopper_model_load(so.c_str(), nullptr, &m), LOPPER_ERR_IO,
      so + ": weights file " FAKE_SIDECAR_NAME ": 63 bytes, expected 64"));
}

//===--- Linked models ------------------------------------------------------//

TEST(RuntimeLinked, EmbeddedWeights) {
  lopper_model *m = nullptr;
  ASSERT_EQ(lopper_model_load_linked(lopper_artifact_get_info_fake_embedded,
                                     nullptr, nullptr, &m),
            LOPPER_OK)
      << lopper_last_error();
  Inputs in(2);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_run(m, nullptr, in.list(), 2, outs, 2), LOPPER_OK);
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);
  // Errors name the model.
  Inputs bad(FAKE_MAX_BATCH + 1);
  EXPECT_TRUE(hasError(lopper_run(m, nullptr, bad.list(), 2, outs, 2),
                       LOPPER_ERR_SHAPE, "linked model fake add: node"));
  lopper_model_unload(m);
}

TEST(RuntimeLinked, SidecarDir) {
  TempDir dir;
  const float w[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;
  writeFile(dir.file(FAKE_SIDECAR_NAME), w, sizeof(w));
  lopper_model *m = nullptr;
  ASSERT_EQ(lopper_model_load_linked(lopper_artifact_get_info_fake_sidecar,
                                     dir.path().c_str(), nullptr, &m),
            LOPPER_OK)
      << lopper_last_error();
  Inputs in(4);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_run(m, nullptr, in.list(), 2, outs, 2), LOPPER_OK);
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);
  lopper_model_unload(m);
  // NULL: the current directory, which has no weights file.
  EXPECT_TRUE(
      hasError(lopper_model_load_linked(lopper_artifact_get_info_fake_sidecar,
                                        nullptr, nullptr, &m),
               LOPPER_ERR_IO,
               "linked model: weights file " FAKE_SIDECAR_NAME
               ": cannot open ./" FAKE_SIDECAR_NAME));
}

//===--- Signature ----------------------------------------------------------//

TEST_F(FakeModel, Signature) {
  size_t n = 0;
  ASSERT_EQ(lopper_model_num_inputs(model, &n), LOPPER_OK);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(lopper_model_num_outputs(model, &n), LOPPER_OK);
  EXPECT_EQ(n, 2u);
  const char *name = nullptr;
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  ASSERT_EQ(lopper_model_input(model, 1, &name, &d), LOPPER_OK);
  EXPECT_STREQ(name, "b");
  EXPECT_EQ(d.dtype, LOPPER_DTYPE_F32);
  EXPECT_EQ(d.rank, 2);
  EXPECT_EQ(d.dims[0], -1);
  EXPECT_EQ(d.dims[1], 4);
  EXPECT_EQ(d.device, LOPPER_DEVICE_CPU);
  ASSERT_EQ(lopper_model_output(model, 1, &name, &d), LOPPER_OK);
  EXPECT_STREQ(name, "flat");
  EXPECT_EQ(d.rank, 1);
  EXPECT_EQ(d.dims[0], -1);
  // Either out pointer may be NULL.
  EXPECT_EQ(lopper_model_output(model, 0, &name, nullptr), LOPPER_OK);
  EXPECT_STREQ(name, "y");
  EXPECT_EQ(lopper_model_input(model, 0, nullptr, &d), LOPPER_OK);

  const char *dim = nullptr;
  ASSERT_EQ(lopper_model_dim_name(model, 0, 0, 0, &dim), LOPPER_OK);
  EXPECT_STREQ(dim, "batch");
  ASSERT_EQ(lopper_model_dim_name(model, 0, 0, 1, &dim), LOPPER_OK);
  EXPECT_EQ(dim, nullptr);
  ASSERT_EQ(lopper_model_dim_name(model, 1, 1, 0, &dim), LOPPER_OK);
  EXPECT_STREQ(dim, "4*batch");

  ASSERT_EQ(lopper_model_num_taps(model, &n), LOPPER_OK);
  ASSERT_EQ(n, 3u);
  const char *taps[] = {"sum", "y_tail", "w"};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(lopper_model_tap_name(model, i, &name), LOPPER_OK);
    EXPECT_STREQ(name, taps[i]);
  }
}

TEST_F(FakeModel, SignatureErrors) {
  size_t n;
  const char *name;
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  EXPECT_TRUE(hasError(lopper_model_num_inputs(nullptr, &n),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_num_inputs(model, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_count is NULL"));
  EXPECT_TRUE(hasError(lopper_model_num_outputs(nullptr, &n),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_num_outputs(model, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_count is NULL"));
  EXPECT_TRUE(hasError(lopper_model_input(nullptr, 0, &name, &d),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_input(model, 2, &name, &d),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "index 2 out of range (the model has 2 inputs)"));
  EXPECT_TRUE(hasError(lopper_model_output(model, 7, &name, &d),
                       LOPPER_ERR_INVALID_ARGUMENT, "out of range"));
  lopper_tensor_desc unsized = LOPPER_TENSOR_DESC_INIT;
  unsized.size = 0;
  EXPECT_TRUE(hasError(lopper_model_input(model, 0, &name, &unsized),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_desc->size is 0"));
  EXPECT_TRUE(hasError(lopper_model_dim_name(nullptr, 0, 0, 0, &name),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_dim_name(model, 0, 0, 0, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_name is NULL"));
  EXPECT_TRUE(hasError(lopper_model_dim_name(model, 0, 5, 0, &name),
                       LOPPER_ERR_INVALID_ARGUMENT, "input index 5"));
  EXPECT_TRUE(hasError(lopper_model_dim_name(model, 1, 1, 1, &name),
                       LOPPER_ERR_INVALID_ARGUMENT, "dim 1 out of range"));
  EXPECT_TRUE(hasError(lopper_model_num_taps(nullptr, &n),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_num_taps(model, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_count is NULL"));
  EXPECT_TRUE(hasError(lopper_model_tap_name(model, 3, &name),
                       LOPPER_ERR_INVALID_ARGUMENT, "index 3 out of range"));
  EXPECT_TRUE(hasError(lopper_model_tap_name(model, 0, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_name is NULL"));
  EXPECT_TRUE(hasError(lopper_model_tap_name(nullptr, 0, &name),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
}

//===--- Tensors ------------------------------------------------------------//

TEST(RuntimeTensor, OwnedAndBorrowed) {
  lopper_tensor_desc d = desc2(3, 5, LOPPER_DTYPE_I16);
  lopper_tensor *t = nullptr;
  ASSERT_EQ(lopper_tensor_create(&d, &t), LOPPER_OK);
  void *p;
  size_t bytes;
  ASSERT_EQ(lopper_tensor_data(t, &p, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 30u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  for (size_t i = 0; i < bytes; ++i)
    ASSERT_EQ(static_cast<uint8_t *>(p)[i], 0);
  const void *cp;
  ASSERT_EQ(lopper_tensor_const_data(t, &cp, nullptr), LOPPER_OK);
  EXPECT_EQ(cp, p);
  lopper_tensor_desc got = LOPPER_TENSOR_DESC_INIT;
  ASSERT_EQ(lopper_tensor_get_desc(t, &got), LOPPER_OK);
  EXPECT_EQ(got.dtype, LOPPER_DTYPE_I16);
  EXPECT_EQ(got.rank, 2);
  EXPECT_EQ(got.dims[1], 5);
  lopper_tensor_destroy(t);
  lopper_tensor_destroy(nullptr);

  // Rank 0 and empty tensors.
  lopper_tensor_desc scalar = LOPPER_TENSOR_DESC_INIT;
  scalar.dtype = LOPPER_DTYPE_F64;
  ASSERT_EQ(lopper_tensor_create(&scalar, &t), LOPPER_OK);
  ASSERT_EQ(lopper_tensor_data(t, &p, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 8u);
  lopper_tensor_destroy(t);
  lopper_tensor_desc empty = desc2(0, 4);
  ASSERT_EQ(lopper_tensor_create(&empty, &t), LOPPER_OK);
  ASSERT_EQ(lopper_tensor_data(t, &p, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 0u);
  lopper_tensor_destroy(t);
  ASSERT_EQ(lopper_tensor_create_borrowed(&empty, nullptr, 0, &t), LOPPER_OK);
  lopper_tensor_destroy(t);

  std::vector<float> buf(8, 1.5f);
  lopper_tensor_desc d24 = desc2(2, 4);
  ASSERT_EQ(lopper_tensor_create_borrowed(&d24, buf.data(), 32, &t), LOPPER_OK);
  ASSERT_EQ(lopper_tensor_data(t, &p, &bytes), LOPPER_OK);
  EXPECT_EQ(p, buf.data());
  EXPECT_EQ(bytes, 32u);
  lopper_tensor_destroy(t); // does not free buf
  EXPECT_EQ(buf[7], 1.5f);
}

TEST(RuntimeTensor, BadCalls) {
  lopper_tensor *t = reinterpret_cast<lopper_tensor *>(1);
  lopper_tensor_desc d = desc2(2, 4);
  EXPECT_TRUE(hasError(lopper_tensor_create(nullptr, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "desc is NULL"));
  EXPECT_EQ(t, nullptr);
  EXPECT_TRUE(hasError(lopper_tensor_create(&d, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_tensor is NULL"));
  lopper_tensor_desc bad = d;
  bad.size = 4;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "desc->size is 4"));
  bad = d;
  bad.dtype = 8;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "unknown dtype 8"));
  bad = d;
  bad.rank = 9;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "rank 9"));
  bad = d;
  bad.dims[1] = -1;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "dim 1 is -1"));
  bad = d;
  bad.dims[0] = INT64_MAX / 2;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "too large"));
  bad = d;
  bad.device = LOPPER_DEVICE_CUDA;
  EXPECT_TRUE(hasError(lopper_tensor_create(&bad, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "CPU only"));

  alignas(8) float buf[16] = {};
  EXPECT_TRUE(hasError(lopper_tensor_create_borrowed(&d, nullptr, 32, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "data is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_create_borrowed(&d, buf, 31, &t),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "data_bytes is 31 but a f32 [2, 4] tensor needs 32"));
  EXPECT_TRUE(hasError(lopper_tensor_create_borrowed(
                           &d, reinterpret_cast<char *>(buf) + 2, 32, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "not 4-byte aligned"));
  EXPECT_TRUE(hasError(lopper_tensor_create_borrowed(nullptr, buf, 32, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "desc is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_create_borrowed(&d, buf, 32, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_tensor is NULL"));

  ASSERT_EQ(lopper_tensor_create(&d, &t), LOPPER_OK);
  void *p;
  const void *cp;
  lopper_tensor_desc got = LOPPER_TENSOR_DESC_INIT;
  EXPECT_TRUE(hasError(lopper_tensor_get_desc(nullptr, &got),
                       LOPPER_ERR_INVALID_ARGUMENT, "tensor is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_get_desc(t, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_desc is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_data(nullptr, &p, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "tensor is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_data(t, nullptr, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_data is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_const_data(nullptr, &cp, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "tensor is NULL"));
  EXPECT_TRUE(hasError(lopper_tensor_const_data(t, nullptr, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_data is NULL"));
  lopper_tensor_destroy(t);
}

TEST(RuntimeTensor, OlderSmallerDesc) {
  // A desc whose size stops before `device` is read with device = CPU.
  lopper_tensor_desc d = desc2(2, 2);
  d.size = offsetof(lopper_tensor_desc, device);
  d.device = 77; // not covered by size: ignored
  lopper_tensor *t = nullptr;
  ASSERT_EQ(lopper_tensor_create(&d, &t), LOPPER_OK) << lopper_last_error();
  lopper_tensor_desc out = LOPPER_TENSOR_DESC_INIT;
  out.size = offsetof(lopper_tensor_desc, device);
  out.device = 55;
  ASSERT_EQ(lopper_tensor_get_desc(t, &out), LOPPER_OK);
  EXPECT_EQ(out.device, 55); // not covered: untouched
  EXPECT_EQ(out.dims[1], 2);
  lopper_tensor_destroy(t);
}

//===--- Running ------------------------------------------------------------//

TEST_F(FakeModel, RunsAtTwoBatchSizes) {
  runAndCheck(2);
  runAndCheck(7);
  runAndCheck(1);
  runAndCheck(0);
  runAndCheck(FAKE_MAX_BATCH);
}

TEST_F(FakeModel, ProvidedOutputs) {
  Inputs in(5);
  // Borrowed outputs.
  std::vector<float> y(20, -1.0f), flat(20, -1.0f);
  lopper_tensor_desc dy = desc2(5, 4);
  lopper_tensor_desc df = LOPPER_TENSOR_DESC_INIT;
  df.dtype = LOPPER_DTYPE_F32;
  df.rank = 1;
  df.dims[0] = 20;
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_tensor_create_borrowed(&dy, y.data(), 80, &outs[0]),
            LOPPER_OK);
  ASSERT_EQ(lopper_tensor_create_borrowed(&df, flat.data(), 80, &outs[1]),
            LOPPER_OK);
  ASSERT_EQ(lopper_run(model, nullptr, in.list(), 2, outs, 2), LOPPER_OK)
      << lopper_last_error();
  EXPECT_EQ(y, fakeReference(in.a, in.b));
  EXPECT_EQ(flat, fakeReference(in.a, in.b));
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);

  // Owned outputs the caller created; one provided, one runtime-allocated.
  ASSERT_EQ(lopper_tensor_create(&dy, &outs[0]), LOPPER_OK);
  outs[1] = nullptr;
  lopper_tensor *keep = outs[0];
  ASSERT_EQ(lopper_run(model, nullptr, in.list(), 2, outs, 2), LOPPER_OK);
  EXPECT_EQ(outs[0], keep);
  ASSERT_NE(outs[1], nullptr);
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);

  // Owned inputs too.
  lopper_tensor *ins[2];
  ASSERT_EQ(lopper_tensor_create(&dy, &ins[0]), LOPPER_OK);
  ASSERT_EQ(lopper_tensor_create(&dy, &ins[1]), LOPPER_OK);
  void *p;
  ASSERT_EQ(lopper_tensor_data(ins[0], &p, nullptr), LOPPER_OK);
  std::memcpy(p, in.a.data(), 80);
  ASSERT_EQ(lopper_tensor_data(ins[1], &p, nullptr), LOPPER_OK);
  std::memcpy(p, in.b.data(), 80);
  outs[0] = outs[1] = nullptr;
  ASSERT_EQ(lopper_run(model, nullptr, ins, 2, outs, 2), LOPPER_OK);
  expectOutputs(outs, in);
  for (lopper_tensor *t : {ins[0], ins[1], outs[0], outs[1]})
    lopper_tensor_destroy(t);
}

TEST_F(FakeModel, OutputDescsAndWorkspace) {
  lopper_tensor_desc ins[2] = {desc2(3, 4), desc2(3, 4)};
  lopper_tensor_desc outs[2] = {LOPPER_TENSOR_DESC_INIT,
                                LOPPER_TENSOR_DESC_INIT};
  ASSERT_EQ(lopper_model_output_descs(model, ins, 2, outs, 2), LOPPER_OK)
      << lopper_last_error();
  EXPECT_EQ(outs[0].rank, 2);
  EXPECT_EQ(outs[0].dims[0], 3);
  EXPECT_EQ(outs[0].dims[1], 4);
  EXPECT_EQ(outs[1].rank, 1);
  EXPECT_EQ(outs[1].dims[0], 12);
  size_t bytes = 0;
  ASSERT_EQ(lopper_model_workspace_size(model, ins, 2, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 128u); // two 48-byte buffers live together, 64-aligned
  ins[0].dims[0] = ins[1].dims[0] = 100;
  ASSERT_EQ(lopper_model_workspace_size(model, ins, 2, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 3200u);
  ins[0].dims[0] = ins[1].dims[0] = 0;
  ASSERT_EQ(lopper_model_workspace_size(model, ins, 2, &bytes), LOPPER_OK);
  EXPECT_EQ(bytes, 0u);

  // Errors.
  EXPECT_TRUE(hasError(lopper_model_output_descs(nullptr, ins, 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, nullptr, 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "inputs is NULL"));
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, ins, 1, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "1 inputs given, the model has 2"));
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, ins, 2, nullptr, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_descs is NULL"));
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, ins, 2, outs, 1),
                       LOPPER_ERR_INVALID_ARGUMENT, "room for 1 outputs"));
  EXPECT_TRUE(hasError(lopper_model_workspace_size(model, ins, 2, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_bytes is NULL"));
  EXPECT_TRUE(hasError(lopper_model_workspace_size(nullptr, ins, 2, &bytes),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  ins[1].dims[0] = 5;
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, ins, 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "input 'b' dim 0 is 5 but 'batch' is 0 (from input "
                       "'a')"));
  ins[1] = desc2(0, 4);
  ins[1].size = 0;
  EXPECT_TRUE(hasError(lopper_model_output_descs(model, ins, 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "inputs[1]->size is 0; set it to sizeof"));
  ins[0].dims[0] = ins[1].dims[0] = FAKE_MAX_BATCH + 1;
  ins[1].size = sizeof(lopper_tensor_desc);
  EXPECT_TRUE(hasError(lopper_model_workspace_size(model, ins, 2, &bytes),
                       LOPPER_ERR_SHAPE, "node 'add node'"));
}

TEST_F(FakeModel, BadRunCalls) {
  Inputs in(2);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  lopper_tensor *nullIns[2] = {in.t[0], nullptr};
  EXPECT_TRUE(hasError(lopper_run(nullptr, nullptr, in.list(), 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "lopper_run: model is NULL"));
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, nullptr, 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "inputs is NULL"));
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, in.list(), 2, nullptr, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "outputs is NULL"));
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, in.list(), 1, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "1 inputs given, the model has 2"));
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, in.list(), 2, outs, 3),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "3 outputs given, the model has 2"));
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, nullIns, 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT, "inputs[1] ('b') is NULL"));
  EXPECT_EQ(outs[0], nullptr);
  EXPECT_EQ(outs[1], nullptr);

  // Wrong dtype, rank, static dim.
  std::vector<int32_t> ibuf(8);
  std::vector<float> fbuf(64);
  lopper_tensor *bad = nullptr;
  lopper_tensor_desc di = desc2(2, 4, LOPPER_DTYPE_I32);
  ASSERT_EQ(lopper_tensor_create_borrowed(&di, ibuf.data(), 32, &bad),
            LOPPER_OK);
  lopper_tensor *withBad[2] = {in.t[0], bad};
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, withBad, 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "input 'b' has dtype i32, the model expects f32"));
  lopper_tensor_destroy(bad);
  lopper_tensor_desc d3 = LOPPER_TENSOR_DESC_INIT;
  d3.dtype = LOPPER_DTYPE_F32;
  d3.rank = 3;
  d3.dims[0] = 2;
  d3.dims[1] = 4;
  d3.dims[2] = 1;
  ASSERT_EQ(lopper_tensor_create_borrowed(&d3, fbuf.data(), 256, &bad),
            LOPPER_OK);
  withBad[1] = bad;
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, withBad, 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "input 'b' has rank 3, the model expects 2"));
  lopper_tensor_destroy(bad);
  lopper_tensor_desc d25 = desc2(2, 5);
  ASSERT_EQ(lopper_tensor_create_borrowed(&d25, fbuf.data(), 256, &bad),
            LOPPER_OK);
  withBad[1] = bad;
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, withBad, 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "input 'b' dim 1 is 5, the model expects 4"));
  lopper_tensor_destroy(bad);

  // Conflicting bindings of 'batch'.
  lopper_tensor_desc d34 = desc2(3, 4);
  ASSERT_EQ(lopper_tensor_create_borrowed(&d34, fbuf.data(), 256, &bad),
            LOPPER_OK);
  withBad[1] = bad;
  EXPECT_TRUE(hasError(
      lopper_run(model, nullptr, withBad, 2, outs, 2), LOPPER_ERR_SHAPE,
      "fake_add.so: input 'b' dim 0 is 3 but 'batch' is 2 (from input 'a')"));
  lopper_tensor_destroy(bad);

  // The model's shape check (batch <= FAKE_MAX_BATCH) names the node.
  Inputs big(FAKE_MAX_BATCH + 1);
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, big.list(), 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "node 'add node': shape check batch <= 1024 failed "
                       "(1025 vs 1024)"));

  // A provided output with the wrong shape; an output that is an input;
  // the same tensor twice.
  lopper_tensor_desc d34o = desc2(3, 4);
  ASSERT_EQ(lopper_tensor_create(&d34o, &outs[0]), LOPPER_OK);
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, in.list(), 2, outs, 2),
                       LOPPER_ERR_SHAPE,
                       "output 'y' is a f32 [3, 4] tensor, this run produces "
                       "f32 [2, 4]"));
  EXPECT_EQ(outs[1], nullptr); // nothing allocated on failure
  lopper_tensor_destroy(outs[0]);
  outs[0] = in.t[0];
  EXPECT_TRUE(hasError(lopper_run(model, nullptr, in.list(), 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "output 'y' is the same tensor as input 'a'"));
  // A session of another model.
  lopper_model *other = loadOrDie(artifact("fake_add"), 1);
  lopper_session *s = nullptr;
  ASSERT_EQ(lopper_session_create(other, &s), LOPPER_OK);
  outs[0] = outs[1] = nullptr;
  EXPECT_TRUE(hasError(lopper_run(model, s, in.list(), 2, outs, 2),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "the session was created for another model"));
  lopper_session_destroy(s);
  lopper_model_unload(other);
  // The model still runs after all that.
  runAndCheck(2);
}

TEST_F(FakeModel, ConcurrentRuns) {
  // 8 threads x 200 runs with different batch sizes on one model.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int64_t batch = 1 + (t * 7 + i) % 13;
        Inputs in(batch, t * 1000 + i);
        lopper_tensor *outs[2] = {nullptr, nullptr};
        if (lopper_run(model, nullptr, in.list(), 2, outs, 2) != LOPPER_OK) {
          ++failures;
          continue;
        }
        std::vector<float> ref = fakeReference(in.a, in.b);
        void *y, *flat;
        size_t by, bf;
        lopper_tensor_data(outs[0], &y, &by);
        lopper_tensor_data(outs[1], &flat, &bf);
        if (by != ref.size() * 4 || bf != by ||
            std::memcmp(y, ref.data(), by) != 0 ||
            std::memcmp(flat, ref.data(), bf) != 0)
          ++failures;
        lopper_tensor_destroy(outs[0]);
        lopper_tensor_destroy(outs[1]);
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(FakeModel, ConcurrentRunsWithSessions) {
  // One session per thread (sessions are not thread-safe); profiles and
  // taps stay per session.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      lopper_session *s = nullptr;
      if (lopper_session_create(model, &s) != LOPPER_OK ||
          lopper_session_enable_profiling(s, 1) != LOPPER_OK ||
          lopper_session_tap(s, "sum") != LOPPER_OK) {
        ++failures;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        int64_t batch = 1 + (t + i) % 5;
        Inputs in(batch, t + i);
        lopper_tensor *outs[2] = {nullptr, nullptr};
        const lopper_tensor *sum = nullptr;
        lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
        if (lopper_run(model, s, in.list(), 2, outs, 2) != LOPPER_OK ||
            lopper_session_get_tap(s, "sum", &sum) != LOPPER_OK ||
            lopper_tensor_get_desc(sum, &d) != LOPPER_OK || d.dims[0] != batch)
          ++failures;
        lopper_tensor_destroy(outs[0]);
        lopper_tensor_destroy(outs[1]);
      }
      uint64_t calls = 0;
      lopper_session_profile_entry(s, 1, nullptr, nullptr, nullptr, &calls);
      if (calls != 50)
        ++failures;
      lopper_session_destroy(s);
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

//===--- Sessions: profiling and taps ---------------------------------------//

TEST_F(FakeModel, Profiling) {
  lopper_session *s = nullptr;
  ASSERT_EQ(lopper_session_create(model, &s), LOPPER_OK);
  size_t n = 0;
  ASSERT_EQ(lopper_session_profile_count(s, &n), LOPPER_OK);
  ASSERT_EQ(n, 3u);
  // Disabled: runs through the session add nothing.
  runAndCheck(2, s);
  uint64_t ns = 1, calls = 1;
  ASSERT_EQ(lopper_session_profile_entry(s, 0, nullptr, nullptr, &ns, &calls),
            LOPPER_OK);
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ(ns, 0u);

  ASSERT_EQ(lopper_session_enable_profiling(s, 1), LOPPER_OK);
  runAndCheck(2, s);
  runAndCheck(300, s);
  runAndCheck(5, s);
  const char *kinds[] = {"add", "relu", "copy"};
  const char *nodes[] = {"add node", "relu_node", "copy_node"};
  uint64_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    const char *kind, *node;
    ASSERT_EQ(lopper_session_profile_entry(s, i, &kind, &node, &ns, &calls),
              LOPPER_OK);
    EXPECT_STREQ(kind, kinds[i]);
    EXPECT_STREQ(node, nodes[i]);
    EXPECT_EQ(calls, 3u);
    total += ns;
  }
  EXPECT_GT(total, 0u);
  ASSERT_EQ(lopper_session_reset_profile(s), LOPPER_OK);
  ASSERT_EQ(lopper_session_profile_entry(s, 2, nullptr, nullptr, &ns, &calls),
            LOPPER_OK);
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ(ns, 0u);
  ASSERT_EQ(lopper_session_enable_profiling(s, 0), LOPPER_OK);
  runAndCheck(2, s);
  ASSERT_EQ(lopper_session_profile_entry(s, 2, nullptr, nullptr, &ns, &calls),
            LOPPER_OK);
  EXPECT_EQ(calls, 0u);

  // Errors.
  EXPECT_TRUE(hasError(
      lopper_session_profile_entry(s, 3, nullptr, nullptr, nullptr, nullptr),
      LOPPER_ERR_INVALID_ARGUMENT,
      "index 3 out of range (the model has 3 ops)"));
  EXPECT_TRUE(hasError(lopper_session_profile_count(s, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_count is NULL"));
  EXPECT_TRUE(hasError(lopper_session_profile_count(nullptr, &n),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(hasError(lopper_session_enable_profiling(nullptr, 1),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(hasError(lopper_session_reset_profile(nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(hasError(lopper_session_profile_entry(nullptr, 0, nullptr,
                                                    nullptr, nullptr, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  lopper_session_destroy(s);
  lopper_session_destroy(nullptr);
}

TEST_F(FakeModel, Taps) {
  lopper_session *s = nullptr;
  ASSERT_EQ(lopper_session_create(model, &s), LOPPER_OK);
  const lopper_tensor *t = nullptr;
  EXPECT_TRUE(hasError(lopper_session_tap(s, "nope"),
                       LOPPER_ERR_INVALID_ARGUMENT, "has no tap 'nope'"));
  EXPECT_TRUE(hasError(lopper_session_get_tap(s, "sum", &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "was not requested"));
  ASSERT_EQ(lopper_session_tap(s, "sum"), LOPPER_OK);
  ASSERT_EQ(lopper_session_tap(s, "y_tail"), LOPPER_OK);
  ASSERT_EQ(lopper_session_tap(s, "w"), LOPPER_OK);
  ASSERT_EQ(lopper_session_tap(s, "w"), LOPPER_OK); // twice is fine
  EXPECT_TRUE(hasError(lopper_session_get_tap(s, "sum", &t),
                       LOPPER_ERR_INVALID_ARGUMENT,
                       "tap 'sum' was not captured by the last run"));

  for (int64_t batch : {3, 6, 1}) {
    Inputs in(batch);
    lopper_tensor *outs[2] = {nullptr, nullptr};
    ASSERT_EQ(lopper_run(model, s, in.list(), 2, outs, 2), LOPPER_OK);
    std::vector<float> y = fakeReference(in.a, in.b);

    ASSERT_EQ(lopper_session_get_tap(s, "sum", &t), LOPPER_OK)
        << lopper_last_error();
    lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
    ASSERT_EQ(lopper_tensor_get_desc(t, &d), LOPPER_OK);
    EXPECT_EQ(d.dtype, LOPPER_DTYPE_F32);
    ASSERT_EQ(d.rank, 2);
    EXPECT_EQ(d.dims[0], batch);
    EXPECT_EQ(d.dims[1], 4);
    const void *p;
    size_t bytes;
    ASSERT_EQ(lopper_tensor_const_data(t, &p, &bytes), LOPPER_OK);
    ASSERT_EQ(bytes, static_cast<size_t>(batch) * 16);
    const float w[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;
    for (size_t i = 0; i < in.a.size(); ++i)
      EXPECT_EQ(static_cast<const float *>(p)[i], in.a[i] + in.b[i] + w[i % 4]);

    ASSERT_EQ(lopper_session_get_tap(s, "y_tail", &t), LOPPER_OK);
    ASSERT_EQ(lopper_tensor_get_desc(t, &d), LOPPER_OK);
    EXPECT_EQ(d.dims[0], batch - 1);
    ASSERT_EQ(lopper_tensor_const_data(t, &p, &bytes), LOPPER_OK);
    ASSERT_EQ(bytes, static_cast<size_t>(batch - 1) * 16);
    if (bytes) {
      EXPECT_EQ(std::memcmp(p, y.data() + 4, bytes), 0);
    }

    ASSERT_EQ(lopper_session_get_tap(s, "w", &t), LOPPER_OK);
    ASSERT_EQ(lopper_tensor_const_data(t, &p, &bytes), LOPPER_OK);
    ASSERT_EQ(bytes, 16u);
    EXPECT_EQ(std::memcmp(p, w, 16), 0);
    lopper_tensor_destroy(outs[0]);
    lopper_tensor_destroy(outs[1]);
  }

  EXPECT_TRUE(hasError(lopper_session_tap(nullptr, "sum"),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(hasError(lopper_session_tap(s, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "name is NULL"));
  EXPECT_TRUE(hasError(lopper_session_get_tap(s, nullptr, &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "name is NULL"));
  EXPECT_TRUE(hasError(lopper_session_get_tap(s, "sum", nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_tensor is NULL"));
  EXPECT_TRUE(hasError(lopper_session_get_tap(nullptr, "sum", &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(hasError(lopper_session_get_tap(s, "nope", &t),
                       LOPPER_ERR_INVALID_ARGUMENT, "has no tap 'nope'"));
  lopper_session_destroy(s);
}

TEST(RuntimeSession, BadCreate) {
  lopper_session *s = reinterpret_cast<lopper_session *>(1);
  lopper_model *m = loadOrDie(artifact("fake_add"), 1);
  EXPECT_TRUE(hasError(lopper_session_create(nullptr, &s),
                       LOPPER_ERR_INVALID_ARGUMENT, "model is NULL"));
  EXPECT_EQ(s, nullptr);
  EXPECT_TRUE(hasError(lopper_session_create(m, nullptr),
                       LOPPER_ERR_INVALID_ARGUMENT, "out_session is NULL"));
  lopper_model_unload(m);
}

//===--- Device CUDA: the GPU plan and the CPU fallback ---------------------//

namespace {

// Copies fake_add into a fresh directory and writes a GPU plan beside it
// for the artifact's metadata checksum (or `checksum` when not 0).
struct PlannedArtifact {
  TempDir dir;
  std::string path = dir.file("model.so");
  explicit PlannedArtifact(const std::string &layerNode,
                           uint64_t checksum = 0) {
    writeFile(path, readFile(artifact("fake_add")));
    lopper_model *cpu = loadOrDie(path, 1);
    lopper::cuda::GpuPlan plan;
    plan.model = "fake";
    plan.metadataChecksum = checksum ? checksum : cpu->info->metadata_checksum;
    plan.archs = {"sm_80"};
    lopper::cuda::PlanLayer l;
    l.node = layerNode.empty() ? cpu->md.ops.at(0).node : layerNode;
    l.format = "dense";
    l.rows = 2;
    l.cols = 2;
    plan.layers.push_back(l);
    lopper_model_unload(cpu);
    writeFile(lopper::cuda::planPathFor(path),
              lopper::cuda::writePlan(plan, {std::string(8, '\0')}, "ptx"));
  }
};

lopper_status loadCuda(const std::string &path, lopper_model **m) {
  lopper_options o = LOPPER_OPTIONS_INIT;
  o.device = LOPPER_DEVICE_CUDA;
  return lopper_model_load(path.c_str(), &o, m);
}

} // namespace

// Without a usable GPU (this is every CI machine) a CUDA load runs the
// model on the CPU, says why once on stderr, and gives the CPU's results.
TEST(CudaDevice, FallsBackToTheCpuWithOneWarning) {
  PlannedArtifact a("");
  lopper_model *m = nullptr;
  testing::internal::CaptureStderr();
  lopper_status st = loadCuda(a.path, &m);
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(st, LOPPER_OK) << lopper_last_error();
  EXPECT_EQ(m->device, LOPPER_DEVICE_CPU);
  EXPECT_EQ(m->gpuLayers, 1u);
  EXPECT_FALSE(m->deviceNote.empty());
  char why[512];
  int avail = lopper_cuda_available(0, why, sizeof(why));
  if (!avail) {
    EXPECT_EQ(m->deviceNote, why);
  }
  std::string want =
      "lopper: warning: " + a.path +
      ": running on the CPU instead of CUDA device 0: " + m->deviceNote + "\n";
  EXPECT_EQ(err, want); // exactly one line
  Inputs in(3, 1);
  lopper_tensor *outs[2] = {nullptr, nullptr};
  ASSERT_EQ(lopper_run(m, nullptr, in.list(), 2, outs, 2), LOPPER_OK)
      << lopper_last_error();
  expectOutputs(outs, in);
  lopper_tensor_destroy(outs[0]);
  lopper_tensor_destroy(outs[1]);
  lopper_model_unload(m);
}

TEST(CudaDevice, ProbeSaysWhy) {
  char why[512] = "unchanged";
  int ok = lopper_cuda_available(0, why, sizeof(why));
  if (ok) {
    EXPECT_STREQ(why, "");
  } else {
    EXPECT_GT(std::strlen(why), 10u) << why;
  }
  EXPECT_EQ(lopper_cuda_available(0, nullptr, 0), ok);
  char tiny[4];
  lopper_cuda_available(0, tiny, sizeof(tiny));
  EXPECT_LT(std::strlen(tiny), sizeof(tiny));
}

TEST(CudaDevice, RejectsAPlanForAnotherBuild) {
  PlannedArtifact a("", 0x1234);
  lopper_model *m = nullptr;
  EXPECT_TRUE(hasError(loadCuda(a.path, &m), LOPPER_ERR_INCOMPATIBLE,
                       "written for another build"));
  EXPECT_EQ(m, nullptr);
}

TEST(CudaDevice, RejectsAPlanNamingAnUnknownLayer) {
  PlannedArtifact a("no_such_node");
  lopper_model *m = nullptr;
  EXPECT_TRUE(hasError(loadCuda(a.path, &m), LOPPER_ERR_INCOMPATIBLE,
                       "GPU plan layer 'no_such_node' is not an op"));
}

TEST(CudaDevice, RejectsACorruptPlan) {
  PlannedArtifact a("");
  std::string plan = readFile(lopper::cuda::planPathFor(a.path));
  plan[plan.size() / 2] ^= 1;
  writeFile(lopper::cuda::planPathFor(a.path), plan);
  lopper_model *m = nullptr;
  EXPECT_TRUE(hasError(loadCuda(a.path, &m), LOPPER_ERR_INCOMPATIBLE,
                       "bad GPU plan: checksum mismatch"));
  writeFile(lopper::cuda::planPathFor(a.path), plan.substr(0, 5));
  EXPECT_TRUE(hasError(loadCuda(a.path, &m), LOPPER_ERR_INCOMPATIBLE,
                       "bad GPU plan: not a Lopper GPU plan"));
}

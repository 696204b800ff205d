// liblopper_runtime.so itself: exports exactly the C API, and runs a model.
// (The rest of the tests link the static library.)
#include "TestUtil.h"

#include <dlfcn.h>

using namespace lopper_test;

namespace {
// Every function runtime.h declares with LOPPER_API.
std::vector<std::string> apiFunctions() {
  std::string h = readFile(std::string(LOPPER_TEST_SOURCE_DIR) +
                           "/runtime/include/lopper/runtime.h");
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = h.find("LOPPER_API ", pos)) != std::string::npos) {
    size_t paren = h.find('(', pos);
    size_t start = h.rfind("lopper_", paren);
    pos = paren;
    if (start == std::string::npos || start < pos - 200)
      continue;
    names.push_back(h.substr(start, paren - start));
  }
  return names;
}

struct SharedLib {
  void *handle;
  SharedLib() : handle(dlopen(LOPPER_TEST_SHARED_LIB, RTLD_NOW | RTLD_LOCAL)) {}
  ~SharedLib() {
    if (handle)
      dlclose(handle);
  }
  template <typename F> F get(const char *name) {
    return reinterpret_cast<F>(dlsym(handle, name));
  }
};
} // namespace

TEST(RuntimeSharedLib, ExportsTheCApiOnly) {
  SharedLib lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  std::vector<std::string> api = apiFunctions();
  EXPECT_GE(api.size(), 31u);
  for (const std::string &name : api)
    EXPECT_NE(dlsym(lib.handle, name.c_str()), nullptr) << name;
  for (const char *internal :
       {"lopper_rt_parallel_for", "lopper_k_op_begin_v1", "lopper_k_tap_v1",
        "lopper_k_conv2d_f32_v1", "lopper_k_matmul_f32_v1",
        "lopper_k_conv2d_q8_v1", "lopper_k_matmul_q8_v1",
        "lopper_k_matmul_bsr_f32_v1", "lopper_pack_matmul_bsr_f32",
        "lopper_k_matmul_bsr_q8_v1", "lopper_pack_matmul_bsr_s8",
        "lopper_pack_conv2d_f32", "lopper_pack_matmul_b_s8",
        "_ZN6lopper2rt15hostCpuFeaturesEv"})
    EXPECT_EQ(dlsym(lib.handle, internal), nullptr) << internal;
}

TEST(RuntimeSharedLib, RunsAModel) {
  SharedLib lib;
  ASSERT_NE(lib.handle, nullptr) << dlerror();
  auto load = lib.get<decltype(&lopper_model_load)>("lopper_model_load");
  auto unload = lib.get<decltype(&lopper_model_unload)>("lopper_model_unload");
  auto run = lib.get<decltype(&lopper_run)>("lopper_run");
  auto borrow = lib.get<decltype(&lopper_tensor_create_borrowed)>(
      "lopper_tensor_create_borrowed");
  auto destroy =
      lib.get<decltype(&lopper_tensor_destroy)>("lopper_tensor_destroy");
  auto data = lib.get<decltype(&lopper_tensor_data)>("lopper_tensor_data");
  auto lastError = lib.get<decltype(&lopper_last_error)>("lopper_last_error");
  ASSERT_TRUE(load && unload && run && borrow && destroy && data && lastError);

  // A private copy: the static runtime of this binary may hold fake_add.so,
  // whose kernel slots each runtime fills with its own kernels.
  TempDir dir;
  std::string so = dir.file("model.so");
  writeFile(so, readFile(artifact("fake_add")));
  lopper_model *m = nullptr;
  ASSERT_EQ(load(so.c_str(), nullptr, &m), LOPPER_OK) << lastError();
  std::vector<float> a = {1, -2, 3, -4, 5, -6, 7, -8}, b(8, 0.25f);
  lopper_tensor_desc d = desc2(2, 4);
  lopper_tensor *in[2] = {nullptr, nullptr}, *out[2] = {nullptr, nullptr};
  ASSERT_EQ(borrow(&d, a.data(), 32, &in[0]), LOPPER_OK);
  ASSERT_EQ(borrow(&d, b.data(), 32, &in[1]), LOPPER_OK);
  ASSERT_EQ(run(m, nullptr, in, 2, out, 2), LOPPER_OK) << lastError();
  void *p;
  size_t bytes;
  ASSERT_EQ(data(out[0], &p, &bytes), LOPPER_OK);
  ASSERT_EQ(bytes, 32u);
  std::vector<float> y(static_cast<float *>(p), static_cast<float *>(p) + 8);
  EXPECT_EQ(y, fakeReference(a, b));
  // Errors are reported by the shared library's own last error.
  EXPECT_EQ(run(m, nullptr, in, 1, out, 2), LOPPER_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(lastError()).find("1 inputs given"), std::string::npos);
  for (lopper_tensor *t : {in[0], in[1], out[0], out[1]})
    destroy(t);
  unload(m);
}

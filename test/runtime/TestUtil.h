// Helpers shared by the runtime tests.
#ifndef LOPPER_TEST_RUNTIME_TESTUTIL_H
#define LOPPER_TEST_RUNTIME_TESTUTIL_H

#include "fake_artifact.h"
#include "lopper/runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace lopper_test {

inline std::string artifact(const char *name) {
  return std::string(LOPPER_TEST_ARTIFACT_DIR) + "/" + name + ".so";
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

inline void writeFile(const std::string &path, const void *data, size_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char *>(data),
            static_cast<std::streamsize>(bytes));
}

inline void writeFile(const std::string &path, const std::string &s) {
  writeFile(path, s.data(), s.size());
}

// A fresh directory under $TMPDIR, removed with its files at destruction.
class TempDir {
public:
  TempDir() {
    const char *t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/lopper-rt-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char *d = mkdtemp(buf.data());
    path_ = d ? d : "";
  }
  ~TempDir() {
    if (!path_.empty())
      std::system(("rm -rf '" + path_ + "'").c_str());
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// The fake model's reference: y = relu(a + b + w).
inline std::vector<float> fakeReference(const std::vector<float> &a,
                                        const std::vector<float> &b) {
  static const float w[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;
  std::vector<float> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    float s = a[i] + b[i] + w[i % 4];
    y[i] = s > 0 ? s : 0;
  }
  return y;
}

inline lopper_tensor_desc desc2(int64_t d0, int64_t d1,
                                int32_t dtype = LOPPER_DTYPE_F32) {
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  d.dtype = dtype;
  d.rank = 2;
  d.dims[0] = d0;
  d.dims[1] = d1;
  return d;
}

// Loads `path` or fails the test.
inline lopper_model *loadOrDie(const std::string &path, int threads = 0) {
  lopper_options o = LOPPER_OPTIONS_INIT;
  o.num_threads = threads;
  lopper_model *m = nullptr;
  lopper_status st = lopper_model_load(path.c_str(), &o, &m);
  EXPECT_EQ(st, LOPPER_OK) << lopper_last_error();
  return m;
}

} // namespace lopper_test

#endif // LOPPER_TEST_RUNTIME_TESTUTIL_H

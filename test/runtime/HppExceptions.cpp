// runtime.hpp in its throwing mode. Built with -fexceptions while the rest
// of the tests are not, so no gtest here: HppTest.cpp calls this function.
#include "fake_artifact.h"
#include "lopper/runtime.hpp"

#include <cstring>
#include <string>

#if !LOPPER_HPP_EXCEPTIONS
#error "HppExceptions.cpp must be compiled with -fexceptions"
#endif

// Returns "" when every check passes, else what failed.
std::string lopperHppExceptionChecks(const std::string &artifactPath) {
  using namespace lopper;
  // Loading a missing file throws lopper::Error with the status.
  try {
    Model bad("/nonexistent/model.so");
    return "loading a missing file did not throw";
  } catch (const Error &e) {
    if (e.code() != LOPPER_ERR_IO)
      return "wrong code for a missing file";
    if (std::strstr(e.what(), "/nonexistent/model.so: cannot open") == nullptr)
      return std::string("wrong message: ") + e.what();
  }
  try {
    Model model(artifactPath, Options{2});
    Session session(model);
    (void)session.enable_profiling();
    (void)session.tap("sum");
    std::vector<float> a(8, 1.0f), b(8, 2.0f);
    std::vector<Tensor> in;
    in.push_back(
        Tensor::borrowed(make_desc(LOPPER_DTYPE_F32, {2, 4}), a.data(), 32));
    in.push_back(Tensor::owned(make_desc(LOPPER_DTYPE_F32, {2, 4})));
    std::memcpy(in[1].data(), b.data(), 32);
    std::vector<Tensor> out = model.run(in, &session);
    if (out.size() != 2 || out[0].num_elements() != 8)
      return "wrong outputs";
    const float w[FAKE_WEIGHT_COUNT] = FAKE_WEIGHTS_INIT;
    for (int i = 0; i < 8; ++i) {
      float s = 3.0f + w[i % 4];
      if (out[0].data_as<float>()[i] != (s > 0 ? s : 0))
        return "wrong values";
    }
    TensorView sum;
    (void)session.get_tap("sum", sum);
    if (sum.num_elements() != 8)
      return "wrong tap";
    if (session.profile().at(0).calls != 1)
      return "wrong profile";
    // A shape error throws and names the input.
    in[1] = Tensor::owned(make_desc(LOPPER_DTYPE_F32, {3, 4}));
    try {
      (void)model.run(in, &session);
      return "a shape error did not throw";
    } catch (const Error &e) {
      if (e.code() != LOPPER_ERR_SHAPE ||
          std::strstr(e.what(), "'batch' is 2 (from input 'a')") == nullptr)
        return std::string("wrong shape error: ") + e.what();
    }
    try {
      (void)session.tap("nope");
      return "an unknown tap did not throw";
    } catch (const std::runtime_error &) {
    }
  } catch (const std::exception &e) {
    return std::string("unexpected exception: ") + e.what();
  }
  return "";
}

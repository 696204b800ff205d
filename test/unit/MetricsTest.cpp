//===- MetricsTest.cpp - accuracy metrics against hand-computed values ----===//

#include "../../tools/lopper/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace lopper::tools;

namespace {

HostTensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  HostTensor t;
  std::string error;
  EXPECT_TRUE(makeHostTensor(DType::F32, shape, t, error)) << error;
  EXPECT_EQ(t.data.size(), values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

Metrics metricsOf(const HostTensor &a, const HostTensor &e) {
  MetricsAccumulator acc;
  std::string error;
  EXPECT_TRUE(acc.add(a, e, error)) << error;
  return acc.result();
}

TEST(Metrics, OneSample) {
  // a = [1, 2, 3], e = [1, 2, 4]: |a - e| = [0, 0, 1], ||e||^2 = 21,
  // ||a||^2 = 14, a . e = 17.
  Metrics m = metricsOf(f32({3}, {1, 2, 3}), f32({3}, {1, 2, 4}));
  EXPECT_DOUBLE_EQ(m.maxAbs, 1);
  EXPECT_DOUBLE_EQ(m.relL2, 1 / std::sqrt(21.0));
  EXPECT_DOUBLE_EQ(m.cosine, 17 / std::sqrt(14.0 * 21.0));
  EXPECT_FALSE(m.top1); // not a 2-D classifier output
  EXPECT_EQ(m.elements, 3);
  EXPECT_EQ(m.samples, 1);
}

TEST(Metrics, IdenticalTensorsAreExact) {
  HostTensor t = f32({2, 3}, {0.1f, -7.25f, 3e5f, 1e-20f, 2, -0.333f});
  Metrics m = metricsOf(t, t);
  EXPECT_EQ(m.maxAbs, 0);
  EXPECT_EQ(m.relL2, 0);
  EXPECT_EQ(m.cosine, 1);
  ASSERT_TRUE(m.top1);
  EXPECT_EQ(*m.top1, 1);
}

TEST(Metrics, AccumulatesOverSamplesNotAMeanOfThem) {
  // Sample 1 agrees; sample 2 has a - e = [0, -1] with e = [0, 4]. Over both:
  // ||a - e|| = 1, ||e|| = sqrt(1 + 16), a . e = 1 + 12, ||a||^2 = 1 + 9.
  MetricsAccumulator acc;
  std::string error;
  ASSERT_TRUE(acc.add(f32({2}, {1, 0}), f32({2}, {1, 0}), error));
  ASSERT_TRUE(acc.add(f32({2}, {0, 3}), f32({2}, {0, 4}), error));
  Metrics m = acc.result();
  EXPECT_DOUBLE_EQ(m.maxAbs, 1);
  EXPECT_DOUBLE_EQ(m.relL2, 1 / std::sqrt(17.0));
  EXPECT_DOUBLE_EQ(m.cosine, 13 / std::sqrt(10.0 * 17.0));
  EXPECT_EQ(m.samples, 2);
  EXPECT_EQ(m.elements, 4);
}

TEST(Metrics, Top1AgreementOfClassifierRows) {
  // Rows' argmax: actual 2, 0, 1; expected 2, 1, 1 -> 2 of 3 agree. Then a
  // second sample of one row that agrees: 3 of 4.
  MetricsAccumulator acc;
  std::string error;
  ASSERT_TRUE(acc.add(f32({3, 3}, {0, 1, 5, 9, 1, 2, 0, 3, 1}),
                      f32({3, 3}, {0, 1, 6, 1, 9, 2, 0, 3, 1}), error));
  Metrics m = acc.result();
  ASSERT_TRUE(m.top1);
  EXPECT_DOUBLE_EQ(*m.top1, 2.0 / 3.0);
  ASSERT_TRUE(acc.add(f32({1, 3}, {1, 0, 0}), f32({1, 3}, {2, 0, 0}), error));
  m = acc.result();
  EXPECT_DOUBLE_EQ(*m.top1, 0.75);
  EXPECT_EQ(m.top1Agree, 3);
  EXPECT_EQ(m.top1Rows, 4);
  // Ties go to the first index, as NumPy's argmax.
  Metrics tie = metricsOf(f32({1, 2}, {1, 1}), f32({1, 2}, {1, 0}));
  EXPECT_EQ(*tie.top1, 1);
  // One class, or a non-2-D output: no top-1.
  EXPECT_FALSE(metricsOf(f32({2, 1}, {1, 2}), f32({2, 1}, {1, 2})).top1);
  EXPECT_FALSE(metricsOf(f32({1, 1, 2}, {1, 2}), f32({1, 1, 2}, {1, 2})).top1);
}

TEST(Metrics, ZeroTensors) {
  Metrics both = metricsOf(f32({2}, {0, 0}), f32({2}, {0, 0}));
  EXPECT_EQ(both.relL2, 0);
  EXPECT_EQ(both.cosine, 1);
  // A zero reference: the relative error falls back to ||a - e||.
  Metrics ref = metricsOf(f32({2}, {3, 4}), f32({2}, {0, 0}));
  EXPECT_DOUBLE_EQ(ref.relL2, 5);
  EXPECT_EQ(ref.cosine, 0);
}

TEST(Metrics, NonFiniteValuesAreCountedAndLeftOut) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  // NaN vs NaN and inf vs inf agree; NaN vs 1 and inf vs -inf do not; the
  // last pair (2 vs 4) is the only one in the other metrics.
  Metrics m = metricsOf(f32({5}, {nan, inf, nan, inf, 2}),
                        f32({5}, {nan, inf, 1, -inf, 4}));
  EXPECT_EQ(m.nonFinite, 2);
  EXPECT_EQ(m.elements, 1);
  EXPECT_DOUBLE_EQ(m.maxAbs, 2);
  EXPECT_DOUBLE_EQ(m.relL2, 0.5);
  EXPECT_DOUBLE_EQ(m.cosine, 1);
}

TEST(Metrics, MixedDTypesCompareAsDoubles) {
  HostTensor e;
  std::string error;
  ASSERT_TRUE(makeHostTensor(DType::F64, {2}, e, error));
  double values[] = {1.5, -2};
  std::memcpy(e.data.data(), values, sizeof values);
  Metrics m = metricsOf(f32({2}, {1.5f, -2.5f}), e);
  EXPECT_DOUBLE_EQ(m.maxAbs, 0.5);
}

TEST(Metrics, ShapeMismatchIsAnError) {
  MetricsAccumulator acc;
  std::string error;
  EXPECT_FALSE(acc.add(f32({2}, {1, 2}), f32({1, 2}, {1, 2}), error));
  EXPECT_EQ(error, "shapes differ: [2] vs [1,2]");
}

} // namespace

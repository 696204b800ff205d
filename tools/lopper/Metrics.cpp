//===- Metrics.cpp - accuracy metrics between two models' tensors ---------===//

#include "Metrics.h"

#include <algorithm>
#include <cmath>

namespace lopper::tools {

/// The first index of the largest finite element of row `r`, or -1.
static int64_t argmax(const HostTensor &t, int64_t r, int64_t cols) {
  int64_t best = -1;
  double bestValue = 0;
  for (int64_t c = 0; c < cols; ++c) {
    double v = t.elementAsDouble(r * cols + c);
    if (std::isfinite(v) && (best < 0 || v > bestValue)) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

bool MetricsAccumulator::add(const HostTensor &actual,
                             const HostTensor &expected, std::string &error) {
  if (actual.shape != expected.shape) {
    error = "shapes differ: " + shapeString(actual.shape) + " vs " +
            shapeString(expected.shape);
    return false;
  }
  for (int64_t i = 0, n = actual.numElements(); i < n; ++i) {
    double a = actual.elementAsDouble(i), e = expected.elementAsDouble(i);
    if (!std::isfinite(a) || !std::isfinite(e)) {
      if (!((std::isnan(a) && std::isnan(e)) || a == e))
        ++nonFinite;
      continue;
    }
    double d = a - e;
    maxAbs = std::max(maxAbs, std::fabs(d));
    diff2 += d * d;
    exp2 += e * e;
    act2 += a * a;
    dot += a * e;
    ++elements;
  }
  classifier = classifier && actual.shape.size() == 2 && actual.shape[1] > 1 &&
               isFloatDType(actual.dtype) && isFloatDType(expected.dtype);
  if (classifier) {
    int64_t rows = actual.shape[0], cols = actual.shape[1];
    for (int64_t r = 0; r < rows; ++r) {
      ++top1Rows;
      int64_t ia = argmax(actual, r, cols);
      top1Agree += ia >= 0 && ia == argmax(expected, r, cols);
    }
  }
  ++samples;
  return true;
}

Metrics MetricsAccumulator::result() const {
  Metrics m;
  m.maxAbs = maxAbs;
  m.relL2 = exp2 > 0 ? std::sqrt(diff2 / exp2) : std::sqrt(diff2);
  if (exp2 > 0 && act2 > 0) {
    // sqrt(x * x) is x exactly, so identical tensors give exactly 1.
    double norms = std::sqrt(exp2 * act2);
    if (!std::isfinite(norms))
      norms = std::sqrt(exp2) * std::sqrt(act2);
    m.cosine = std::clamp(dot / norms, -1.0, 1.0);
  } else {
    m.cosine = exp2 == 0 && act2 == 0 ? 1 : 0;
  }
  if (classifier && top1Rows > 0)
    m.top1 = double(top1Agree) / double(top1Rows);
  m.top1Rows = classifier ? top1Rows : 0;
  m.top1Agree = classifier ? top1Agree : 0;
  m.elements = elements;
  m.nonFinite = nonFinite;
  m.samples = samples;
  return m;
}

} // namespace lopper::tools

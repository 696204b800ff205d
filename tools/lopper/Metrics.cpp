//===- Metrics.cpp - accuracy metrics between two models' tensors ---------===//

#include "Metrics.h"

#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

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

static json::Object metricsJson(const TensorMetrics &t, bool top1) {
  const Metrics &m = t.metrics;
  json::Object o{{"name", t.name},         {"max_abs", m.maxAbs},
                 {"rel_l2", m.relL2},      {"cosine", m.cosine},
                 {"elements", m.elements}, {"nonfinite", m.nonFinite}};
  if (top1 && m.top1)
    o["top1_agreement"] = *m.top1;
  else if (top1)
    o["top1_agreement"] = nullptr;
  return o;
}

json::Object verifyResultToJson(const VerifyResult &r, size_t maxLayers) {
  json::Array outputs, layers;
  for (const TensorMetrics &t : r.outputs)
    outputs.push_back(metricsJson(t, true));
  for (size_t i = 0; i < r.layers.size() && i < maxLayers; ++i)
    layers.push_back(metricsJson(r.layers[i], false));
  return json::Object{{"samples", r.samples},
                      {"outputs", std::move(outputs)},
                      {"layers", std::move(layers)},
                      {"layers_compared", int64_t(r.layers.size())},
                      {"layers_skipped", r.layersSkipped}};
}

void printVerifyResult(const VerifyResult &r, size_t maxLayers,
                       raw_ostream &os) {
  size_t width = 4;
  for (const TensorMetrics &t : r.outputs)
    width = std::max(width, t.name.size());
  for (size_t i = 0; i < r.layers.size() && i < maxLayers; ++i)
    width = std::max(width, r.layers[i].name.size());
  width = std::min<size_t>(width, 48);
  auto row = [&](const TensorMetrics &t, bool top1) {
    const Metrics &m = t.metrics;
    os << "  " << left_justify(t.name, width)
       << format(" %12.4g %12.4g %10.6f", m.maxAbs, m.relL2, m.cosine);
    if (top1) {
      if (m.top1)
        os << format(" %7.2f%% (%lld/%lld)", *m.top1 * 100,
                     (long long)m.top1Agree, (long long)m.top1Rows);
      else
        os << "        -";
    }
    if (m.nonFinite)
      os << "  (" << m.nonFinite << " non-finite)";
    os << "\n";
  };
  os << "outputs:\n";
  os << "  " << left_justify("name", width)
     << format(" %12s %12s %10s %9s\n", "max_abs", "rel_l2", "cosine", "top1");
  for (const TensorMetrics &t : r.outputs)
    row(t, true);
  size_t shown = std::min(maxLayers, r.layers.size());
  os << "layers: " << r.layers.size() << " compared";
  if (r.layersSkipped)
    os << ", " << r.layersSkipped << " skipped (shapes or types differ)";
  if (shown) {
    os << "; the " << shown << " worst by relative L2 error:\n";
    os << "  " << left_justify("node", width)
       << format(" %12s %12s %10s\n", "max_abs", "rel_l2", "cosine");
    for (size_t i = 0; i < shown; ++i)
      row(r.layers[i], false);
  } else {
    os << "\n";
  }
}

} // namespace lopper::tools

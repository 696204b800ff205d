//===- CostModel.cpp - per-layer kernel choice for the CPU target ---------===//

#include "lopper/Conversion/CostModel.h"

#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>

using namespace lopper;

const char *lopper::kernelFamilyName(KernelFamily k) {
  switch (k) {
  case KernelFamily::DenseF32:
    return "dense-f32";
  case KernelFamily::BsrF32:
    return "block-sparse-f32";
  case KernelFamily::DenseQ8:
    return "dense-q8";
  case KernelFamily::BsrQ8:
    return "block-sparse-q8";
  case KernelFamily::ConvF32:
    return "conv-f32";
  case KernelFamily::DepthwiseF32:
    return "depthwise-f32";
  case KernelFamily::ConvQ8:
    return "conv-q8";
  case KernelFamily::DepthwiseQ8:
    return "depthwise-q8";
  }
  return "?";
}

namespace {
/// Single-core rates on the reference machine (Zen 4, 3.7 GHz), in ops/s
/// at large M, and the M at which half of it is reached.
struct Rate {
  double peak, m0;
};
Rate rateOf(KernelFamily k) {
  switch (k) {
  case KernelFamily::DenseF32:
  case KernelFamily::BsrF32:
    return {111e9, 1.7}; // 1024^2 weights: 110 GFLOP/s at M=128, 41 at M=1
  case KernelFamily::DenseQ8:
  case KernelFamily::BsrQ8:
    return {430e9, 4.9}; // 424 GOP/s at M=128, 73 at M=1
  case KernelFamily::ConvF32:
    return {100e9, 1.0}; // ResNet-50's convs, ~100 GFLOP/s
  case KernelFamily::DepthwiseF32:
    return {30e9, 1.0}; // memory bound
  case KernelFamily::ConvQ8:
    return {240e9, 1.0}; // ResNet-50's int8 convs, 180-243 GOP/s
  case KernelFamily::DepthwiseQ8:
    return {8e9, 1.0}; // scalar C++: 4x slower than fp32 depthwise
  }
  return {1e9, 1.0};
}

/// Block-sparse time as a share of dense, a * density + b, fitted to the
/// measured 30-90% block sparsity at M = 1 and M = 128 (1024x1024
/// weights), interpolated in log2(M) between them.
struct SparseFit {
  double a1, b1, a128, b128;
};
SparseFit fitOf(KernelFamily k) {
  if (k == KernelFamily::BsrQ8)
    return {1.25, 0.05, 0.91, 0.08};
  return {1.3, 0.0, 0.94, 0.02};
}
} // namespace

double lopper::denseRate(KernelFamily k, double M) {
  Rate r = rateOf(k);
  M = std::max(M, 1.0);
  return r.peak * M / (M + r.m0);
}

double lopper::predictSeconds(KernelFamily k, double ops, double M,
                              double density) {
  double dense = ops / denseRate(k, M);
  if (k != KernelFamily::BsrF32 && k != KernelFamily::BsrQ8)
    return dense;
  SparseFit f = fitOf(k);
  double w = std::clamp(std::log2(std::max(M, 1.0)) / 7.0, 0.0, 1.0);
  double a = f.a1 + (f.a128 - f.a1) * w, b = f.b1 + (f.b128 - f.b1) * w;
  return dense * (a * density + b);
}

std::optional<std::pair<std::string, size_t>>
KernelConfig::lookup(const std::string &layer) const {
  for (size_t i = 0; i < rules.size(); ++i) {
    auto pat = llvm::GlobPattern::create(rules[i].first);
    if (pat && pat->match(layer))
      return std::make_pair(rules[i].second, i);
    if (!pat)
      llvm::consumeError(pat.takeError());
  }
  return std::nullopt;
}

bool lopper::parseKernelConfig(const std::string &path, KernelConfig &config,
                               std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buf) {
    error = path + ": cannot read: " + buf.getError().message();
    return false;
  }
  auto parsed = llvm::json::parse((*buf)->getBuffer());
  if (!parsed) {
    error = path + ": not valid JSON: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *obj = parsed->getAsObject();
  if (!obj) {
    error = path + ": expected an object {\"<layer glob>\": \"dense\" | "
                   "\"block-sparse\", ...}";
    return false;
  }
  // JSON objects are unordered in llvm::json; sort the keys so the rule
  // order (first match wins) does not depend on hashing: longer (more
  // specific) globs first, then by text.
  std::vector<std::string> keys;
  for (const auto &kv : *obj)
    keys.push_back(kv.first.str());
  std::sort(keys.begin(), keys.end(), [](const auto &a, const auto &b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  for (const std::string &key : keys) {
    auto kind = obj->getString(key);
    if (!kind || (*kind != "dense" && *kind != "block-sparse")) {
      error = path + ": '" + key +
              "': the kernel must be \"dense\" or \"block-sparse\"";
      return false;
    }
    auto pat = llvm::GlobPattern::create(key);
    if (!pat) {
      error = path + ": '" + key +
              "': not a valid glob: " + llvm::toString(pat.takeError());
      return false;
    }
    config.rules.emplace_back(key, kind->str());
  }
  return true;
}

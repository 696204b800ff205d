//===- Calibrate.cpp - activation ranges for static int8 ------------------===//

#include "Calibrate.h"
#include "TensorFiles.h"
#include "Verify.h"

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Target/CPU.h"
#include "lopper/runtime.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>

using namespace llvm;
using namespace lopper;
using namespace lopper::tools;

bool lopper::tools::parseCalibrationMethod(StringRef text,
                                           CalibrationMethod &method) {
  if (text == "minmax")
    method = CalibrationMethod::MinMax;
  else if (text == "percentile")
    method = CalibrationMethod::Percentile;
  else if (text == "entropy")
    method = CalibrationMethod::Entropy;
  else if (text == "mse")
    method = CalibrationMethod::MSE;
  else
    return false;
  return true;
}

const char *lopper::tools::calibrationMethodName(CalibrationMethod method) {
  switch (method) {
  case CalibrationMethod::MinMax:
    return "minmax";
  case CalibrationMethod::Percentile:
    return "percentile";
  case CalibrationMethod::Entropy:
    return "entropy";
  case CalibrationMethod::MSE:
    return "mse";
  }
  return "?";
}

namespace {

constexpr int kBins = 2048;

/// Everything seen of one tensor: its extremes, then a histogram over them.
struct TensorStats {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::vector<double> hist; // kBins over [lo, hi] (after pass 1)
  double lo = 0, hi = 0;

  void addRange(const HostTensor &t) {
    for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
      double v = t.elementAsDouble(i);
      if (!std::isfinite(v))
        continue;
      min = std::min(min, v);
      max = std::max(max, v);
    }
  }
  void startHistogram() {
    lo = std::min(0.0, std::isfinite(min) ? min : 0.0);
    hi = std::max(0.0, std::isfinite(max) ? max : 0.0);
    if (hi <= lo)
      hi = lo + 1e-12;
    hist.assign(kBins, 0.0);
  }
  int binOf(double v) const {
    int b = (int)((v - lo) / (hi - lo) * kBins);
    return std::clamp(b, 0, kBins - 1);
  }
  double centre(int b) const { return lo + (b + 0.5) * (hi - lo) / kBins; }
  void addHistogram(const HostTensor &t) {
    for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
      double v = t.elementAsDouble(i);
      if (std::isfinite(v))
        hist[binOf(v)] += 1;
    }
  }
};

/// The quantization grid for a range: scale and zero point as lop-quantize
/// computes them.
struct Grid {
  double scale, zp, qmin, qmax;
  Grid(double lo, double hi, bool u8) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    if (u8) {
      scale = (hi - lo) / 255.0;
      if (scale <= 0)
        scale = 1;
      zp = std::clamp(std::nearbyint(-lo / scale), 0.0, 255.0);
      qmin = 0;
      qmax = 255;
    } else {
      scale = std::max(-lo, hi) / 127.0;
      if (scale <= 0)
        scale = 1;
      zp = 0;
      qmin = -128;
      qmax = 127;
    }
  }
  double level(double v) const {
    return std::clamp(std::nearbyint(v / scale) + zp, qmin, qmax);
  }
  double roundTrip(double v) const { return (level(v) - zp) * scale; }
};

/// Candidate ranges: the full range shrunk by a factor, both ends alike.
std::vector<double> shrinkFactors() {
  std::vector<double> f;
  for (int i = 0; i < 80; ++i)
    f.push_back(1.0 - i * 0.01); // 1.00 .. 0.21
  return f;
}

TensorRange chooseRange(const TensorStats &s, const CalibrateOptions &opt) {
  TensorRange full{std::isfinite(s.min) ? s.min : 0.0,
                   std::isfinite(s.max) ? s.max : 0.0};
  switch (opt.method) {
  case CalibrationMethod::MinMax:
    return full;
  case CalibrationMethod::Percentile: {
    double total = 0;
    for (double c : s.hist)
      total += c;
    if (total == 0)
      return full;
    double tail = total * (1.0 - opt.percentile / 100.0) / 2.0;
    int b = 0;
    for (double acc = 0; b < kBins && acc + s.hist[b] <= tail; ++b)
      acc += s.hist[b];
    int e = kBins - 1;
    for (double acc = 0; e > 0 && acc + s.hist[e] <= tail; --e)
      acc += s.hist[e];
    double w = (s.hi - s.lo) / kBins;
    return {std::max(full.min, s.lo + b * w),
            std::min(full.max, s.lo + (e + 1) * w)};
  }
  case CalibrationMethod::MSE:
  case CalibrationMethod::Entropy: {
    double best = std::numeric_limits<double>::infinity();
    TensorRange bestRange = full;
    double total = 0;
    for (double c : s.hist)
      total += c;
    if (total == 0)
      return full;
    for (double f : shrinkFactors()) {
      TensorRange r{full.min * f, full.max * f};
      Grid g(r.min, r.max, opt.unsignedActivations);
      double cost = 0;
      if (opt.method == CalibrationMethod::MSE) {
        for (int b = 0; b < kBins; ++b)
          if (s.hist[b] > 0) {
            double v = s.centre(b), d = v - g.roundTrip(v);
            cost += s.hist[b] * d * d;
          }
      } else {
        // KL(P || Q): P the histogram, Q the same mass after quantization,
        // spread evenly over the source bins of each level that are
        // non-empty (TensorRT's scheme, on the asymmetric grid).
        std::map<double, std::pair<double, int>> levels; // mass, bins
        for (int b = 0; b < kBins; ++b)
          if (s.hist[b] > 0) {
            auto &l = levels[g.level(s.centre(b))];
            l.first += s.hist[b];
            l.second += 1;
          }
        for (int b = 0; b < kBins; ++b)
          if (s.hist[b] > 0) {
            auto &l = levels[g.level(s.centre(b))];
            double p = s.hist[b] / total, q = l.first / l.second / total;
            cost += p * std::log(p / q);
          }
      }
      if (cost < best * (1 - 1e-12)) {
        best = cost;
        bestRange = r;
      }
    }
    return bestRange;
  }
  }
  return full;
}

/// A compiled copy of a module, loaded, with a session.
struct Compiled {
  Model model;
  std::unique_ptr<lopper_session, SessionDeleter> session;
};

/// A fresh temporary folder for compiled copies.
bool makeTempDir(StringRef prefix, TempDir &dir, std::string &error) {
  if (std::error_code ec = sys::fs::createUniqueDirectory(prefix, dir.path)) {
    error = "cannot create a temporary folder: " + ec.message();
    return false;
  }
  return true;
}

/// Compiles a copy of `module` (fp32 or compressed, as it is) into `dir`
/// and loads it with one session.
bool compileAndLoad(mlir::ModuleOp module, StringRef dir, StringRef name,
                    Compiled &out, std::string &error) {
  SmallString<128> so(dir);
  sys::path::append(so, name + ".so");
  mlir::OwningOpRef<mlir::ModuleOp> copy(module.clone());
  CPUCompileOptions opts;
  opts.name = name.str();
  CPUCompileReport report;
  if (!compileForCPU(*copy, opts, so.str().str(), report, error)) {
    error = "compiling the " + name.str() + " model: " + error;
    return false;
  }
  if (!loadModel(so, 0, out.model, error))
    return false;
  lopper_session *raw = nullptr;
  if (lopper_session_create(out.model.handle, &raw) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  out.session.reset(raw);
  return true;
}

std::set<std::string> tapNamesOf(const Model &m) {
  std::set<std::string> names;
  size_t n = 0;
  lopper_model_num_taps(m.handle, &n);
  for (size_t i = 0; i < n; ++i) {
    const char *name = nullptr;
    if (lopper_model_tap_name(m.handle, i, &name) == LOPPER_OK && name)
      names.insert(name);
  }
  return names;
}

/// Asks `c`'s session to capture every name in `taps`.
bool tapAll(Compiled &c, ArrayRef<std::string> taps, std::string &error) {
  for (const std::string &t : taps)
    if (lopper_session_tap(c.session.get(), t.c_str()) != LOPPER_OK) {
      error = runtimeError();
      return false;
    }
  return true;
}

} // namespace

bool lopper::tools::calibrate(mlir::ModuleOp module, const Dataset &data,
                              const CalibrateOptions &options,
                              CalibrationTable &table, std::string &error) {
  if (data.samples.empty()) {
    error = "the calibration data set has no samples";
    return false;
  }
  std::vector<QuantizationSite> sites = findQuantizationSites(module);
  // Tensors to observe: graph inputs come straight from the samples, the
  // rest through taps.
  std::set<std::string> tapSet;
  std::map<std::string, std::string> inputOf; // tensor -> graph input name
  for (auto &s : sites) {
    if (s.graphInput)
      inputOf[s.tensor] = s.graphInputName;
    else
      tapSet.insert(s.tensor);
  }
  table.method = calibrationMethodName(options.method);
  table.samples = (int64_t)data.samples.size();
  table.ranges.clear();
  if (sites.empty())
    return true;

  TempDir tmp;
  Compiled c;
  if (!makeTempDir("lopper-calibrate", tmp, error) ||
      !compileAndLoad(module, tmp.path, "fp32", c, error))
    return false;
  std::set<std::string> available = tapNamesOf(c.model);
  std::vector<std::string> taps;
  for (const std::string &t : tapSet)
    if (available.count(t))
      taps.push_back(t);
  if (!tapAll(c, taps, error))
    return false;

  std::map<std::string, TensorStats> stats;
  bool needHistogram = options.method != CalibrationMethod::MinMax;
  int passes = needHistogram ? 2 : 1;
  size_t total = data.samples.size() * passes, done = 0;
  for (int pass = 0; pass < passes; ++pass) {
    if (pass == 1)
      for (auto &[name, s] : stats)
        s.startHistogram();
    for (const Sample &sample : data.samples) {
      std::vector<HostTensor> outputs;
      if (!runSample(c.model, c.session.get(), sample, outputs, error))
        return false;
      auto observe = [&](const std::string &name, const HostTensor &t) {
        TensorStats &s = stats[name];
        if (pass == 0)
          s.addRange(t);
        else
          s.addHistogram(t);
      };
      for (const std::string &t : taps) {
        HostTensor value;
        if (!getTap(c.session.get(), t, value, error))
          return false;
        if (isFloatDType(value.dtype))
          observe(t, value);
      }
      for (auto &[tensor, input] : inputOf) {
        auto it = sample.tensors.find(input);
        if (it != sample.tensors.end() && isFloatDType(it->second.dtype))
          observe(tensor, it->second);
      }
      ++done;
      // A live counter on a terminal; one line otherwise (logs, pipes).
      if (options.progress && errs().is_displayed())
        errs() << format("\rcalibrating (%s): %zu/%zu runs",
                         table.method.c_str(), done, total);
    }
  }
  if (options.progress)
    errs() << (errs().is_displayed() ? "\n" : "")
           << format("calibrated (%s) on %zu samples, %zu runs, %zu tensors\n",
                     table.method.c_str(), data.samples.size(), total,
                     stats.size());
  for (auto &[name, s] : stats)
    table.ranges[name] = chooseRange(s, options);
  return true;
}

bool lopper::tools::measureLayerErrors(mlir::ModuleOp fp32,
                                       mlir::ModuleOp quantized,
                                       const Dataset &data,
                                       std::vector<LayerError> &errors,
                                       std::string &error) {
  // The sites of the fp32 module name the ops and their input tensors; the
  // quantized module keeps the ops' node names.
  std::vector<QuantizationSite> sites = findQuantizationSites(fp32);
  TempDir tmp;
  Compiled ref, q;
  if (!makeTempDir("lopper-layer-error", tmp, error) ||
      !compileAndLoad(fp32, tmp.path, "fp32", ref, error) ||
      !compileAndLoad(quantized, tmp.path, "int8", q, error))
    return false;
  std::vector<std::string> taps;
  {
    std::set<std::string> b = tapNamesOf(q.model);
    for (const std::string &n : tapNamesOf(ref.model))
      if (b.count(n))
        taps.push_back(n);
  }
  if (!tapAll(ref, taps, error) || !tapAll(q, taps, error))
    return false;
  std::map<std::string, std::pair<double, double>> acc; // |q-f|^2, |f|^2
  for (const Sample &sample : data.samples) {
    std::vector<HostTensor> o1, o2;
    if (!runSample(ref.model, ref.session.get(), sample, o1, error) ||
        !runSample(q.model, q.session.get(), sample, o2, error))
      return false;
    for (const std::string &t : taps) {
      HostTensor f, g;
      if (!getTap(ref.session.get(), t, f, error) ||
          !getTap(q.session.get(), t, g, error))
        return false;
      if (!isFloatDType(f.dtype) || f.dtype != g.dtype ||
          f.numElements() != g.numElements())
        continue;
      auto &[num, den] = acc[t];
      for (int64_t i = 0, n = f.numElements(); i < n; ++i) {
        double d = g.elementAsDouble(i) - f.elementAsDouble(i);
        num += d * d;
        den += f.elementAsDouble(i) * f.elementAsDouble(i);
      }
    }
  }
  auto rel = [&](const std::string &t) {
    auto it = acc.find(t);
    if (it == acc.end() || it->second.second <= 0)
      return 0.0;
    return std::sqrt(it->second.first / it->second.second);
  };
  errors.clear();
  for (const QuantizationSite &s : sites)
    if (acc.count(s.nodeName))
      errors.push_back(
          {s.nodeName, rel(s.nodeName), s.graphInput ? 0.0 : rel(s.tensor)});
  return true;
}

bool lopper::tools::activationNorms(
    mlir::ModuleOp module, const Dataset &data,
    std::map<std::string, std::vector<double>> &norms, std::string &error) {
  std::vector<QuantizationSite> sites = findQuantizationSites(module);
  norms.clear();
  if (sites.empty() || data.samples.empty())
    return true;
  TempDir tmp;
  Compiled c;
  if (!makeTempDir("lopper-norms", tmp, error) ||
      !compileAndLoad(module, tmp.path, "fp32", c, error))
    return false;
  std::set<std::string> available = tapNamesOf(c.model);
  std::vector<std::string> taps;
  for (const QuantizationSite &s : sites)
    if (!s.graphInput && available.count(s.tensor) &&
        !llvm::is_contained(taps, s.tensor))
      taps.push_back(s.tensor);
  if (!tapAll(c, taps, error))
    return false;
  // Sums of squares per tensor and channel. The channel of an element is
  // read off the heavy op's own view of its input (a tap may be the same
  // bytes under another shape, before a reshape): axis 1 of a conv input,
  // the last axis of a gemm/matmul input.
  std::map<std::string, std::vector<double>> sums;
  // One accumulator per (tensor, channels, inner): ops may view one tensor
  // differently.
  using Layout = std::pair<int64_t, int64_t>; // channels, inner
  std::map<std::string, std::set<Layout>> layouts;
  std::map<std::string, Layout> siteLayout;       // node -> layout
  std::map<std::string, std::string> graphInputs; // tensor -> input name
  for (const QuantizationSite &s : sites) {
    auto t = cast<mlir::RankedTensorType>(s.op->getOperand(0).getType());
    int64_t channels = 0, inner = 1;
    if (isa<lop::ConvOp>(s.op) && t.getRank() >= 2) {
      channels = t.getDimSize(1);
      for (int64_t d = 2; d < t.getRank(); ++d)
        inner = mlir::ShapedType::isDynamic(t.getDimSize(d))
                    ? -1
                    : inner * t.getDimSize(d);
    } else if (t.getRank() >= 1) {
      channels = t.getDimSize(t.getRank() - 1);
    }
    if (channels <= 0 || inner <= 0)
      continue;
    layouts[s.tensor].insert({channels, inner});
    siteLayout[s.nodeName] = {channels, inner};
    if (s.graphInput)
      graphInputs[s.tensor] = s.graphInputName;
  }
  auto keyOf = [](const std::string &tensor, Layout l) {
    return tensor + "|" + std::to_string(l.first) + "x" +
           std::to_string(l.second);
  };
  auto add = [&](const std::string &name, const HostTensor &t) {
    if (!isFloatDType(t.dtype))
      return;
    for (Layout l : layouts[name]) {
      auto [channels, inner] = l;
      std::vector<double> &acc = sums[keyOf(name, l)];
      acc.resize(channels, 0.0);
      for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
        double v = t.elementAsDouble(i);
        acc[(i / inner) % channels] += v * v;
      }
    }
  };
  for (const Sample &sample : data.samples) {
    std::vector<HostTensor> outputs;
    if (!runSample(c.model, c.session.get(), sample, outputs, error))
      return false;
    for (const std::string &t : taps) {
      HostTensor value;
      if (!getTap(c.session.get(), t, value, error))
        return false;
      add(t, value);
    }
    for (auto &[tensor, input] : graphInputs) {
      auto it = sample.tensors.find(input);
      if (it != sample.tensors.end())
        add(tensor, it->second);
    }
  }
  for (const QuantizationSite &s : sites) {
    auto lay = siteLayout.find(s.nodeName);
    if (lay == siteLayout.end())
      continue;
    auto it = sums.find(keyOf(s.tensor, lay->second));
    if (it == sums.end())
      continue;
    std::vector<double> n(it->second.size());
    for (size_t i = 0; i < n.size(); ++i)
      n[i] = std::sqrt(it->second[i]);
    norms[s.nodeName] = std::move(n);
  }
  return true;
}

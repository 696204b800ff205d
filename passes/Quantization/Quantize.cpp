//===- Quantize.cpp - the lop-quantize pass and calibration tables --------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Passes/Passes.h"
#include "lopper/Passes/Quantization.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

namespace lopper {
#define GEN_PASS_DEF_LOPQUANTIZE
#include "lopper/Passes/Passes.h.inc"
} // namespace lopper

using namespace mlir;
using namespace lopper;
using namespace llvm;

//===----------------------------------------------------------------------===//
// Sites
//===----------------------------------------------------------------------===//

/// True for ops whose weight layout lop-quantize handles.
static bool isQuantizable(Operation *op) {
  auto f32 = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType().isF32();
  };
  if (op->getNumOperands() < 2 || !f32(op->getOperand(0)) ||
      !f32(op->getOperand(1)) || !f32(op->getResult(0)))
    return false;
  auto w = op->getOperand(1).getDefiningOp<lop::ConstantOp>();
  if (!w || !cast<RankedTensorType>(w.getType()).hasStaticShape())
    return false;
  int64_t wr = cast<RankedTensorType>(w.getType()).getRank();
  if (auto conv = dyn_cast<lop::ConvOp>(op))
    return wr == 4;
  if (auto gemm = dyn_cast<lop::GemmOp>(op))
    return wr == 2 && !gemm.getTransA();
  return isa<lop::MatMulOp>(op) && wr == 2;
}

std::vector<QuantizationSite>
lopper::findQuantizationSites(ModuleOp module, ArrayRef<std::string> skip) {
  std::vector<GlobPattern> globs;
  for (const std::string &s : skip)
    if (auto g = GlobPattern::create(s))
      globs.push_back(std::move(*g));
  std::vector<QuantizationSite> sites;
  module.walk([&](Operation *op) {
    if (!isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op) || !isQuantizable(op))
      return;
    QuantizationSite site;
    site.op = op;
    site.nodeName = lop::getNodeName(op);
    for (auto &g : globs)
      if (g.match(site.nodeName))
        return;
    Value v = op->getOperand(0);
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<lop::ReshapeOp, lop::FlattenOp, lop::SqueezeOp,
               lop::UnsqueezeOp>(def))
        break;
      v = def->getOperand(0);
    }
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
      auto name =
          fn ? fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "lop.name")
             : StringAttr();
      if (!name)
        return;
      site.graphInput = true;
      site.graphInputName = name.str();
      site.tensor = "input:" + name.str();
    } else {
      Operation *def = v.getDefiningOp();
      if (isa<lop::ConstantOp>(def))
        return;
      site.tensor = lop::getNodeName(def);
      if (def->getNumResults() > 1)
        site.tensor +=
            ":" + std::to_string(cast<OpResult>(v).getResultNumber());
    }
    sites.push_back(std::move(site));
  });
  return sites;
}

//===----------------------------------------------------------------------===//
// Calibration tables
//===----------------------------------------------------------------------===//

bool lopper::writeCalibrationTable(StringRef path,
                                   const CalibrationTable &table,
                                   std::string &error) {
  std::string text;
  raw_string_ostream os(text);
  auto num = [](double d) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", d);
    return std::string(buf);
  };
  os << "{\n  \"format\": \"lopper-calibration\",\n  \"version\": 1,\n"
     << "  \"method\": \"" << table.method << "\",\n"
     << "  \"samples\": " << table.samples << ",\n  \"tensors\": {";
  bool first = true;
  for (auto &[name, r] : table.ranges) {
    os << (first ? "\n" : ",\n") << "    ";
    json::OStream(os).value(name);
    os << ": {\"min\": " << num(r.min) << ", \"max\": " << num(r.max) << "}";
    first = false;
  }
  os << "\n  }\n}\n";
  std::error_code ec;
  raw_fd_ostream out(path, ec);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  out << text;
  return true;
}

bool lopper::readCalibrationTable(StringRef path, CalibrationTable &table,
                                  std::string &error) {
  auto buf = MemoryBuffer::getFile(path);
  if (!buf) {
    error = "cannot read calibration table '" + path.str() +
            "': " + buf.getError().message();
    return false;
  }
  auto parsed = json::parse((*buf)->getBuffer());
  if (!parsed) {
    error = "calibration table '" + path.str() +
            "': " + toString(parsed.takeError());
    return false;
  }
  auto bad = [&](const Twine &what) {
    error = ("calibration table '" + path + "': " + what).str();
    return false;
  };
  const json::Object *root = parsed->getAsObject();
  if (!root || root->getString("format") != "lopper-calibration")
    return bad("not a lopper calibration table (\"format\" is not "
               "\"lopper-calibration\")");
  if (root->getInteger("version") != 1)
    return bad("unsupported version");
  table.method = root->getString("method").value_or("").str();
  table.samples = root->getInteger("samples").value_or(0);
  const json::Object *tensors = root->getObject("tensors");
  if (!tensors)
    return bad("no \"tensors\" object");
  table.ranges.clear();
  for (auto &[k, v] : *tensors) {
    const json::Object *o = v.getAsObject();
    auto lo = o ? o->getNumber("min") : std::nullopt;
    auto hi = o ? o->getNumber("max") : std::nullopt;
    if (!lo || !hi || !std::isfinite(*lo) || !std::isfinite(*hi) || *lo > *hi)
      return bad("tensor '" + k.str() + "' needs finite \"min\" <= \"max\"");
    table.ranges[k.str()] = {*lo, *hi};
  }
  return true;
}

namespace {

/// Output-channel axis of the weight in the [O, R] view.
int64_t weightOutputAxis(Operation *op) {
  if (isa<lop::ConvOp>(op))
    return 0;
  if (auto g = dyn_cast<lop::GemmOp>(op))
    return g.getTransB() ? 0 : 1;
  return 1;
}

/// Symmetric per-channel int8 weight constant.
Value quantizeWeight(OpBuilder &b, Operation *op) {
  Value w = op->getOperand(1);
  auto wt = cast<RankedTensorType>(w.getType());
  std::vector<float> data = *lop::getConstantF32(w);
  int64_t axis = weightOutputAxis(op);
  int64_t channels = wt.getDimSize(axis);
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < wt.getRank(); ++d)
    inner *= wt.getDimSize(d);
  auto chanOf = [&](int64_t i) { return (i / inner) % channels; };
  std::vector<double> amax(channels, 0.0);
  for (int64_t i = 0; i < (int64_t)data.size(); ++i)
    amax[chanOf(i)] = std::max(amax[chanOf(i)], (double)std::fabs(data[i]));
  SmallVector<double> scales(channels);
  SmallVector<int64_t> zps(channels, 0);
  for (int64_t c = 0; c < channels; ++c)
    scales[c] = amax[c] > 0 ? (double)(float)(amax[c] / 127.0) : 1.0;
  std::vector<int8_t> q(data.size());
  for (int64_t i = 0; i < (int64_t)data.size(); ++i) {
    double v = std::nearbyint((double)data[i] / scales[chanOf(i)]);
    q[i] = (int8_t)std::clamp(v, -127.0, 127.0);
  }
  MLIRContext *ctx = op->getContext();
  auto qt = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(ctx, 8),
      Float32Type::get(ctx), scales, zps, (int32_t)axis, -128, 127);
  auto type = RankedTensorType::get(wt.getShape(), qt);
  return lop::createConstant(
      b, w.getLoc(), type,
      ArrayRef<char>(reinterpret_cast<const char *>(q.data()), q.size()),
      "quantized_weight");
}

} // namespace

LogicalResult lopper::quantizeModule(ModuleOp module,
                                     const QuantizeOptions &options,
                                     const CalibrationTable *table) {
  for (const std::string &g : options.skip)
    if (!GlobPattern::create(g))
      return module.emitError("bad skip pattern '") << g << "'";
  MLIRContext *ctx = module.getContext();
  bool u8 = options.unsignedActivations;
  bool isStatic = !options.dynamic;
  if (isStatic && !table)
    return module.emitError("static quantization needs a calibration table");
  const CalibrationTable &tableData = *table;
  for (QuantizationSite &site : findQuantizationSites(module, options.skip)) {
    Operation *op = site.op;
    OpBuilder b(op);
    Type inputType;
    if (isStatic) {
      auto it = tableData.ranges.find(site.tensor);
      if (it == tableData.ranges.end()) {
        op->emitRemark("stays f32: the calibration table has no range for '")
            << site.tensor << "'";
        continue;
      }
      double lo = std::min(0.0, it->second.min);
      double hi = std::max(0.0, it->second.max);
      double scale;
      int64_t zp = 0;
      if (u8) {
        scale = (hi - lo) / 255.0;
        if (scale <= 0)
          scale = 1.0;
        scale = (double)(float)scale;
        zp = (int64_t)std::clamp(std::nearbyint(-lo / scale), 0.0, 255.0);
      } else {
        scale = std::max(-lo, hi) / 127.0;
        if (scale <= 0)
          scale = 1.0;
        scale = (double)(float)scale;
      }
      auto qt = quant::UniformQuantizedType::get(
          u8 ? 0 : quant::QuantizationFlags::Signed, IntegerType::get(ctx, 8),
          Float32Type::get(ctx), scale, zp, u8 ? 0 : -128, u8 ? 255 : 127);
      auto xt = cast<RankedTensorType>(op->getOperand(0).getType());
      inputType = RankedTensorType::get(xt.getShape(), qt);
    }
    Value qw = quantizeWeight(b, op);
    Value x = op->getOperand(0);
    if (isStatic) {
      // Named apart from the op it feeds: taps are named after nodes.
      Location qloc =
          NameLoc::get(StringAttr::get(ctx, site.nodeName + "/QuantizeLinear"),
                       op->getLoc());
      x = lop::QuantizeOp::create(b, qloc, inputType, x);
    }
    op->setOperand(0, x);
    op->setOperand(1, qw);
  }
  // A quantized op whose f32 result only feeds a quantize (the next
  // layer's input) writes the quantized type itself: the kernel's
  // requantizing epilogue replaces a pass over the tensor.
  SmallVector<lop::QuantizeOp> requant;
  if (options.requantize)
    module.walk([&](lop::QuantizeOp q) { requant.push_back(q); });
  for (lop::QuantizeOp q : requant) {
    Operation *h = q.getInput().getDefiningOp();
    if (!h || !isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(h) ||
        !h->getResult(0).hasOneUse() ||
        !isa<quant::QuantizedType>(
            cast<RankedTensorType>(h->getOperand(1).getType())
                .getElementType()) ||
        !isa<quant::UniformQuantizedType>(
            cast<RankedTensorType>(q.getType()).getElementType()))
      continue;
    h->getResult(0).setType(q.getType());
    q.getResult().replaceAllUsesWith(h->getResult(0));
    q->erase();
  }
  // The f32 weights nothing uses any more.
  SmallVector<Operation *> dead;
  module.walk([&](lop::ConstantOp c) {
    if (c->use_empty())
      dead.push_back(c);
  });
  for (Operation *op : dead)
    op->erase();
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct LopQuantize : lopper::impl::LopQuantizeBase<LopQuantize> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    QuantizeOptions opts;
    opts.dynamic = mode == "dynamic";
    opts.unsignedActivations = activations == "u8";
    opts.skip.assign(skip.begin(), skip.end());
    if (mode != "static" && mode != "dynamic") {
      module.emitError("lop-quantize: mode must be static or dynamic, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (activations != "u8" && activations != "i8") {
      module.emitError("lop-quantize: activations must be u8 or i8, got '")
          << activations << "'";
      return signalPassFailure();
    }
    CalibrationTable tableData;
    if (!opts.dynamic) {
      std::string error;
      if (table.empty()) {
        module.emitError("lop-quantize: mode=static needs a calibration "
                         "table (table=FILE); mode=dynamic needs none");
        return signalPassFailure();
      }
      if (!readCalibrationTable(table, tableData, error)) {
        module.emitError(error);
        return signalPassFailure();
      }
    }
    if (failed(quantizeModule(module, opts, &tableData)))
      return signalPassFailure();
  }
};

} // namespace

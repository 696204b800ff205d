//===- ModelStats.cpp - op histogram, parameters, MACs --------------------===//

#include "lopper/Analysis/ModelStats.h"
#include "lopper/Dialect/Lop/LopOps.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

namespace lopper {

static int64_t numElements(Type t, int64_t dyn) {
  auto shaped = dyn_cast<ShapedType>(t);
  if (!shaped || !shaped.hasRank())
    return 0;
  int64_t n = 1;
  for (int64_t d : shaped.getShape())
    n *= ShapedType::isDynamic(d) ? dyn : d;
  return n;
}

static int64_t dim(Value v, int64_t i, int64_t dyn) {
  int64_t d = cast<ShapedType>(v.getType()).getDimSize(i);
  return ShapedType::isDynamic(d) ? dyn : d;
}

/// Multiply-accumulates of a heavy op; 0 for every other op.
static int64_t macsOf(Operation *op, int64_t dyn) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([&](lop::ConvOp c) {
        Value w = c.getWeight();
        int64_t perOut = numElements(w.getType(), dyn) /
                         std::max<int64_t>(dim(w, 0, dyn), 1);
        return numElements(c.getOutput().getType(), dyn) * perOut;
      })
      .Case([&](lop::ConvTransposeOp c) {
        Value w = c.getWeight();
        int64_t perIn = numElements(w.getType(), dyn) /
                        std::max<int64_t>(dim(w, 0, dyn), 1);
        return numElements(c.getInput().getType(), dyn) * perIn;
      })
      .Case([&](lop::GemmOp g) {
        int64_t k = dim(g.getInput(), g.getTransA() ? 0 : 1, dyn);
        return numElements(g.getOutput().getType(), dyn) * k;
      })
      .Case([&](lop::MatMulOp m) {
        auto a = cast<ShapedType>(m.getInput().getType());
        int64_t k = dim(m.getInput(), a.getRank() - 1, dyn);
        return numElements(m.getOutput().getType(), dyn) * k;
      })
      .Default([](Operation *) { return int64_t(0); });
}

ModelStats computeModelStats(ModuleOp module, int64_t dyn) {
  ModelStats s;
  module.walk([&](Operation *op) {
    if (!isa<lop::LopDialect>(op->getDialect()))
      return;
    if (auto c = dyn_cast<lop::ConstantOp>(op)) {
      auto t = cast<ShapedType>(c.getOutput().getType());
      int64_t n = numElements(t, dyn);
      s.parameters += n;
      s.parameterBytes += n * lop::getStorageBytes(t.getElementType());
      return;
    }
    std::string name = lop::getOnnxOpType(op);
    ++s.ops[name];
    ++s.nodes;
    int64_t macs = macsOf(op, dyn);
    int64_t flops = 2 * macs;
    if (macs) {
      s.macsByOp[name] += macs;
      s.macs += macs;
    } else {
      for (Type t : op->getResultTypes())
        flops += numElements(t, dyn);
    }
    s.flopsByOp[name] += flops;
    s.flops += flops;
  });
  return s;
}

std::vector<OpStats> computeOpStats(ModuleOp module, int64_t dyn) {
  std::vector<OpStats> records;
  module.walk([&](Operation *op) {
    if (!isa<lop::LopDialect>(op->getDialect()) || isa<lop::ConstantOp>(op))
      return;
    OpStats r;
    r.op = op;
    if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
      r.name = nl.getName().str();
    r.opType = lop::getOnnxOpType(op);
    r.macs = macsOf(op, dyn);
    r.flops = 2 * r.macs;
    if (!r.macs)
      for (Type t : op->getResultTypes())
        r.flops += numElements(t, dyn);
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (auto dq = dyn_cast_or_null<lop::DequantizeOp>(def))
        def = dq.getInput().getDefiningOp();
      auto c = dyn_cast_or_null<lop::ConstantOp>(def);
      if (!c)
        continue;
      auto t = cast<ShapedType>(c.getOutput().getType());
      int64_t n = numElements(t, dyn);
      r.parameters += n;
      r.parameterBytes += n * lop::getStorageBytes(t.getElementType());
    }
    records.push_back(std::move(r));
  });
  return records;
}

void printModelStats(const ModelStats &s, llvm::raw_ostream &os, bool json,
                     StringRef modelName, int64_t opset) {
  if (json) {
    llvm::json::Object ops, macs, flops;
    for (auto &[k, v] : s.ops)
      ops[k] = v;
    for (auto &[k, v] : s.macsByOp)
      macs[k] = v;
    for (auto &[k, v] : s.flopsByOp)
      flops[k] = v;
    llvm::json::Object root{{"model", modelName.str()},
                            {"opset", opset},
                            {"ops", std::move(ops)},
                            {"nodes", s.nodes},
                            {"parameters", s.parameters},
                            {"parameter_bytes", s.parameterBytes},
                            {"macs", s.macs},
                            {"flops", s.flops},
                            {"macs_by_op", std::move(macs)},
                            {"flops_by_op", std::move(flops)}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    return;
  }
  if (!modelName.empty())
    os << "model:           " << modelName << "\n";
  if (opset)
    os << "opset:           " << opset << "\n";
  os << "nodes:           " << s.nodes << "\n";
  os << llvm::format("parameters:      %lld (%.2f M)\n",
                     (long long)s.parameters, s.parameters / 1e6);
  os << llvm::format("parameter bytes: %lld (%.2f MiB)\n",
                     (long long)s.parameterBytes,
                     s.parameterBytes / (1024.0 * 1024.0));
  os << llvm::format("MACs:            %lld (%.3f G)\n", (long long)s.macs,
                     s.macs / 1e9);
  os << llvm::format("FLOPs:           %lld (%.3f G)\n", (long long)s.flops,
                     s.flops / 1e9);
  os << "ops:\n";
  os << llvm::format("  %-24s %6s %16s %16s\n", "op", "count", "FLOPs", "MACs");
  for (auto &[k, v] : s.ops) {
    auto flops = s.flopsByOp.find(k);
    auto macs = s.macsByOp.find(k);
    os << llvm::format(
        "  %-24s %6lld %16lld", k.c_str(), (long long)v,
        (long long)(flops == s.flopsByOp.end() ? 0 : flops->second));
    if (macs != s.macsByOp.end())
      os << llvm::format(" %16lld", (long long)macs->second);
    os << "\n";
  }
}

} // namespace lopper

//===- PruneChannel.cpp - the lop-prune-channel pass ----------------------===//
//
// Channels are tracked as slots (value, index). Ops that keep channels apart
// (elementwise ops, batch norm, pooling, depthwise convs, concat, flatten)
// join the slots that carry the same channel; a class of joined slots is
// kept or removed as a whole. Values joined by any op form a component,
// which is left alone if any of its values escapes (a graph output, an op
// the pass cannot follow).
//
//===----------------------------------------------------------------------===//

#include "PruningUtils.h"
#include "lopper/Passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <cmath>
#include <deque>

using namespace mlir;

namespace lopper {
#define GEN_PASS_DEF_LOPPRUNECHANNEL
#include "lopper/Passes/Passes.h.inc"

namespace {
using namespace pruning;

/// A union-find over integers.
struct UnionFind {
  std::vector<int64_t> parent;
  int64_t add(int64_t n) {
    int64_t first = parent.size();
    for (int64_t i = 0; i < n; ++i)
      parent.push_back(first + i);
    return first;
  }
  int64_t find(int64_t x) {
    while (parent[x] != x)
      x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a != b)
      parent[std::max(a, b)] = std::min(a, b);
  }
};

/// A constant operand to slice along `axis` by the kept channels of `value`.
struct ConstSlice {
  Operation *op;
  unsigned operand;
  int64_t axis;
  Value value;
};

static bool isUnaryChannelOp(Operation *op) {
  return isa<lop::SqrtOp, lop::ReciprocalOp, lop::ExpOp, lop::LogOp, lop::NegOp,
             lop::AbsOp, lop::ErfOp, lop::TanhOp, lop::SigmoidOp, lop::ReluOp,
             lop::HardSwishOp, lop::LeakyReluOp, lop::EluOp, lop::HardSigmoidOp,
             lop::GeluOp, lop::ClipOp, lop::CastOp>(op);
}

static bool isPoolOp(Operation *op) {
  return isa<lop::MaxPoolOp, lop::AveragePoolOp, lop::GlobalAveragePoolOp,
             lop::GlobalMaxPoolOp>(op);
}

static int64_t rankOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getRank();
}

static int64_t dimOf(Value v, int64_t axis) {
  return cast<RankedTensorType>(v.getType()).getDimSize(axis);
}

static bool isFloatConstant(Value v) {
  auto c = v.getDefiningOp<lop::ConstantOp>();
  return c && isa<FloatType>(getElementTypeOrSelf(c.getOutput().getType())) &&
         cast<RankedTensorType>(c.getOutput().getType()).hasStaticShape();
}

/// A conv with one input channel per group and one output channel per
/// input channel.
static bool isDepthwise(lop::ConvOp c) {
  int64_t g = c.getGroup();
  auto wt = cast<RankedTensorType>(c.getWeight().getType());
  return g > 1 && dimOf(c.getInput(), 1) == g && wt.getDimSize(0) == g &&
         wt.getDimSize(1) == 1;
}

class ChannelAnalysis {
public:
  /// `candidates`: the prunable producers, in program order (which keeps
  /// the result deterministic), with their sparsity.
  ChannelAnalysis(const llvm::MapVector<Operation *, double> &candidates)
      : candidates(candidates) {}

  void run() {
    for (auto &[op, s] : candidates)
      addProducer(op);
    while (!work.empty()) {
      Value v = work.front();
      work.pop_front();
      visit(v);
    }
  }

  const llvm::MapVector<Operation *, double> &candidates;
  UnionFind slots, values;
  llvm::MapVector<Value, int64_t> valueIndex; ///< in discovery order
  llvm::DenseMap<Value, int64_t> axisOf, baseOf;
  llvm::DenseSet<Value> blocked;
  llvm::SetVector<Operation *> producers, depthwise, reshapes;
  std::vector<ConstSlice> slices;

  int64_t numChannels(Value v) const { return dimOf(v, axisOf.lookup(v)); }
  int64_t slot(Value v, int64_t i) const { return baseOf.lookup(v) + i; }

private:
  llvm::DenseSet<Operation *> linked;
  std::deque<Value> work;

  void block(Value v) { blocked.insert(v); }

  /// Registers `v` with its channel axis; false (and `v` blocked) when the
  /// axis conflicts or the channel count is not static.
  bool addValue(Value v, int64_t axis) {
    auto it = axisOf.find(v);
    if (it != axisOf.end()) {
      if (it->second != axis)
        block(v);
      return it->second == axis;
    }
    auto t = dyn_cast<RankedTensorType>(v.getType());
    axisOf[v] = axis;
    valueIndex.insert({v, values.add(1)});
    if (!t || axis < 0 || axis >= t.getRank() || t.isDynamicDim(axis)) {
      baseOf[v] = slots.add(0);
      axisOf[v] = 0;
      block(v);
      return false;
    }
    baseOf[v] = slots.add(t.getDimSize(axis));
    work.push_back(v);
    return true;
  }

  /// Joins channel `i` of `a` with channel `j` of `b` (both registered).
  void join(Value a, int64_t i, Value b, int64_t j) {
    slots.join(slot(a, i), slot(b, j));
    values.join(valueIndex.lookup(a), valueIndex.lookup(b));
  }

  /// Joins `a` and `b` channel by channel; blocks both on a size mismatch.
  void joinAll(Value a, int64_t axisA, Value b, int64_t axisB) {
    bool okA = addValue(a, axisA), okB = addValue(b, axisB);
    values.join(valueIndex.lookup(a), valueIndex.lookup(b));
    if (!okA || !okB || numChannels(a) != numChannels(b)) {
      block(a);
      block(b);
      return;
    }
    for (int64_t i = 0, n = numChannels(a); i < n; ++i)
      join(a, i, b, i);
  }

  int64_t channelAxisOfResult(Operation *op) {
    return isa<lop::ConvOp>(op) ? 1 : rankOf(op->getResult(0)) - 1;
  }

  /// A bias of a producer (or depthwise conv) whose output is `out`.
  void addBias(Operation *op, unsigned operand, Value out) {
    Value b = op->getOperand(operand);
    if (!isFloatConstant(b)) {
      block(out);
      return;
    }
    int64_t r = rankOf(b), c = numChannels(out);
    if (r == 0 || dimOf(b, r - 1) == 1)
      return;
    if (dimOf(b, r - 1) != c)
      return block(out);
    slices.push_back({op, operand, r - 1, out});
  }

  /// The epilogue operands of a heavy op whose output channels are tracked.
  void addEpilogue(Operation *op, Value out) {
    auto seg = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
    // Operands: input, weight, bias?, residual?.
    unsigned next = 2;
    if (seg[2])
      addBias(op, next++, out);
    if (seg[3]) {
      Value res = op->getOperand(next);
      if (rankOf(res) != rankOf(out))
        return block(out);
      joinAll(out, axisOf.lookup(out), res, axisOf.lookup(out));
    }
  }

  void addProducer(Operation *op) {
    if (!linked.insert(op).second)
      return;
    producers.insert(op);
    Value out = op->getResult(0);
    if (!addValue(out, channelAxisOfResult(op)))
      return;
    std::optional<int64_t> axis = getWeightOutputAxis(op);
    slices.push_back({op, 1, *axis, out});
    addEpilogue(op, out);
  }

  /// Links an op that keeps channels apart; `from` is the value that led
  /// here.
  void linkOp(Operation *op, Value from) {
    if (!linked.insert(op).second)
      return;
    Value out = op->getResult(0);
    if (isUnaryChannelOp(op)) {
      joinAll(op->getOperand(0), axisOf.lookup(from), out, axisOf.lookup(from));
      return;
    }
    if (isPoolOp(op)) {
      if (axisOf.lookup(from) != 1)
        return block(from);
      joinAll(op->getOperand(0), 1, out, 1);
      return;
    }
    if (auto bn = dyn_cast<lop::BatchNormOp>(op)) {
      joinAll(bn.getInput(), 1, out, 1);
      for (unsigned i = 1; i < 5; ++i) {
        Value p = op->getOperand(i);
        if (!isFloatConstant(p) || rankOf(p) != 1)
          return block(out);
        slices.push_back({op, i, 0, out});
      }
      return;
    }
    if (isa<lop::AddOp, lop::SubOp, lop::MulOp, lop::DivOp>(op)) {
      int64_t r = rankOf(out);
      int64_t axisOut = axisOf.lookup(from) + (r - rankOf(from));
      if (!addValue(out, axisOut))
        return;
      int64_t c = numChannels(out);
      for (unsigned i = 0; i < 2; ++i) {
        Value x = op->getOperand(i);
        int64_t d = axisOut - (r - rankOf(x));
        if (d < 0 || dimOf(x, d) == 1)
          continue;
        if (x.getDefiningOp<lop::ConstantOp>()) {
          if (!isFloatConstant(x) || dimOf(x, d) != c)
            return block(out);
          slices.push_back({op, i, d, out});
          continue;
        }
        joinAll(x, d, out, axisOut);
      }
      return;
    }
    if (auto conv = dyn_cast<lop::ConvOp>(op)) {
      // Depthwise: channel c in, channel c out, and `group` follows.
      depthwise.insert(op);
      joinAll(conv.getInput(), 1, out, 1);
      if (!isFloatConstant(conv.getWeight()))
        return block(out);
      slices.push_back({op, 1, 0, out});
      addEpilogue(op, out);
      return;
    }
    if (auto cat = dyn_cast<lop::ConcatOp>(op)) {
      int64_t axis = cat.getAxis();
      if (axisOf.lookup(from) != axis || !addValue(out, axis))
        return block(from);
      int64_t offset = 0;
      for (Value in : cat.getInputs()) {
        if (!addValue(in, axis)) {
          block(out);
          return;
        }
        values.join(valueIndex.lookup(in), valueIndex.lookup(out));
        for (int64_t i = 0, n = numChannels(in); i < n; ++i)
          join(in, i, out, offset + i);
        offset += numChannels(in);
      }
      return;
    }
    // Flatten, or a reshape to [N, C*S]: channel c covers features
    // [c*S, (c+1)*S).
    Value in = op->getOperand(0);
    auto inType = cast<RankedTensorType>(in.getType());
    auto outType = cast<RankedTensorType>(out.getType());
    bool ok = axisOf.lookup(from) == 1 && inType.getRank() >= 2 &&
              outType.getRank() == 2;
    int64_t s = 1;
    for (int64_t i = 2; ok && i < inType.getRank(); ++i) {
      ok = !inType.isDynamicDim(i);
      s *= ok ? inType.getDimSize(i) : 1;
    }
    if (auto fl = dyn_cast<lop::FlattenOp>(op)) {
      ok = ok && fl.getAxis() == 1;
    } else {
      auto rs = cast<lop::ReshapeOp>(op);
      std::optional<SmallVector<int64_t>> shape =
          lop::getConstantIntValues(rs.getShape());
      ok = ok && !inType.isDynamicDim(1) && shape && shape->size() == 2 &&
           (*shape)[1] == inType.getDimSize(1) * s && (*shape)[0] != -1 &&
           !rs.getAllowzero();
      if (ok)
        reshapes.insert(op);
    }
    if (!ok || !addValue(in, 1) || !addValue(out, 1)) {
      block(in);
      return;
    }
    values.join(valueIndex.lookup(in), valueIndex.lookup(out));
    for (int64_t c = 0, n = numChannels(in); c < n; ++c)
      for (int64_t j = 0; j < s; ++j)
        join(in, c, out, c * s + j);
  }

  /// Whether `v` may flow into operand `idx` of `op` with its channels
  /// tracked (`op` keeps channels apart there).
  bool isChannelOperand(Operation *op, unsigned idx) {
    if (isUnaryChannelOp(op) || isPoolOp(op) || isa<lop::FlattenOp>(op))
      return idx == 0;
    if (isa<lop::BatchNormOp, lop::ReshapeOp>(op))
      return idx == 0;
    if (isa<lop::AddOp, lop::SubOp, lop::MulOp, lop::DivOp, lop::ConcatOp>(op))
      return true;
    if (auto conv = dyn_cast<lop::ConvOp>(op))
      return idx == 0 && isDepthwise(conv);
    return false;
  }

  /// Uses as the data input of a conv/gemm/matmul whose weight takes the
  /// channels along its reduction.
  bool addConsumer(Operation *op, unsigned idx, Value v) {
    if (idx != 0 || !isFloatConstant(op->getOperand(1)))
      return false;
    int64_t axis = axisOf.lookup(v), r = rankOf(v);
    if (auto conv = dyn_cast<lop::ConvOp>(op)) {
      if (conv.getGroup() != 1 || axis != 1)
        return false;
      slices.push_back({op, 1, 1, v});
      return true;
    }
    if (auto g = dyn_cast<lop::GemmOp>(op)) {
      if (g.getTransA() || axis != r - 1 || rankOf(g.getWeight()) != 2)
        return false;
      slices.push_back({op, 1, g.getTransB() ? 1 : 0, v});
      return true;
    }
    if (auto m = dyn_cast<lop::MatMulOp>(op)) {
      if (axis != r - 1 || r < 2 || rankOf(m.getWeight()) != 2)
        return false;
      slices.push_back({op, 1, 0, v});
      return true;
    }
    return false;
  }

  bool isResidualOperand(Operation *op, unsigned idx) {
    if (!isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(op))
      return false;
    auto seg = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
    return seg[3] && idx == (unsigned)(2 + seg[2]);
  }

  void visit(Value v) {
    Operation *def = v.getDefiningOp();
    if (!def) {
      block(v);
    } else if (candidates.count(def)) {
      addProducer(def);
    } else if (auto conv = dyn_cast<lop::ConvOp>(def);
               conv && isDepthwise(conv)) {
      linkOp(def, v);
    } else if (isUnaryChannelOp(def) || isPoolOp(def) ||
               isa<lop::BatchNormOp, lop::AddOp, lop::SubOp, lop::MulOp,
                   lop::DivOp, lop::ConcatOp, lop::FlattenOp, lop::ReshapeOp>(
                   def)) {
      // Reached from the result: the op links its operands from here.
      linkOp(def, v);
    } else {
      block(v);
    }
    for (OpOperand &use : v.getUses()) {
      Operation *u = use.getOwner();
      unsigned idx = use.getOperandNumber();
      if (isResidualOperand(u, idx)) {
        Value out = u->getResult(0);
        joinAll(v, axisOf.lookup(v), out, axisOf.lookup(v));
      } else if (isa<lop::ConvOp, lop::GemmOp, lop::MatMulOp>(u) &&
                 !isChannelOperand(u, idx)) {
        if (!addConsumer(u, idx, v))
          block(v);
      } else if (isChannelOperand(u, idx)) {
        linkOp(u, v);
      } else {
        block(v);
      }
    }
  }
};

/// Re-infers every op's result types after operand shapes changed, keeping
/// a declared static size where inference gives a dynamic one.
static LogicalResult reinferTypes(ModuleOp module) {
  WalkResult r = module.walk([&](Operation *op) {
    auto iface = dyn_cast<InferTypeOpInterface>(op);
    if (!iface)
      return WalkResult::advance();
    SmallVector<Type> inferred;
    if (failed(iface.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getAttrDictionary(), op->getPropertiesStorage(),
            op->getRegions(), inferred)))
      return WalkResult::interrupt();
    for (auto [res, t] : llvm::zip(op->getResults(), inferred)) {
      auto now = dyn_cast<RankedTensorType>(res.getType());
      auto inf = dyn_cast<RankedTensorType>(t);
      if (!now || !inf || now.getRank() != inf.getRank() ||
          lop::areCompatibleReturnTypes(TypeRange{inf}, TypeRange{now}))
        continue;
      SmallVector<int64_t> dims(inf.getShape());
      for (int64_t i = 0; i < inf.getRank(); ++i)
        if (inf.isDynamicDim(i))
          dims[i] = now.getDimSize(i);
      res.setType(
          RankedTensorType::get(dims, now.getElementType(), now.getEncoding()));
    }
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

/// `data` of `shape` keeping only `kept` along `axis`.
static SmallVector<double> sliceAlong(ArrayRef<double> data,
                                      ArrayRef<int64_t> shape, int64_t axis,
                                      ArrayRef<int64_t> kept) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= shape[i];
  for (int64_t i = axis + 1; i < (int64_t)shape.size(); ++i)
    inner *= shape[i];
  int64_t n = shape[axis];
  SmallVector<double> out;
  out.reserve(outer * kept.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k : kept)
      for (int64_t i = 0; i < inner; ++i)
        out.push_back(data[(o * n + k) * inner + i]);
  return out;
}

struct LopPruneChannel : impl::LopPruneChannelBase<LopPruneChannel> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!isValidSparsity(sparsity)) {
      module.emitError("lop-prune-channel: sparsity must be in [0, 1), got ")
          << sparsity.getValue();
      return signalPassFailure();
    }
    PruneContext ctx;
    if (failed(ctx.init(module, config, activationNorms, configOnly)))
      return signalPassFailure();

    // Producers: convs with one group, gemms without transA, matmuls with a
    // 2-D weight, with their sparsity.
    std::vector<Layer> layers = ctx.layers(module, keepFirstLast);
    llvm::MapVector<Operation *, double> candidates;
    llvm::DenseMap<Operation *, Layer *> layerOf;
    for (Layer &l : layers) {
      PruneSpec spec;
      spec.kind = PruneSpec::Kind::Channel;
      spec.sparsity = sparsity;
      if (auto c = dyn_cast<lop::ConvOp>(l.op); c && c.getGroup() != 1)
        continue;
      if (auto g = dyn_cast<lop::GemmOp>(l.op); g && g.getTransA())
        continue;
      if (l.rows < 2 || !ctx.selects(l, PruneSpec::Kind::Channel, spec))
        continue;
      candidates[l.op] = spec.sparsity;
      layerOf[l.op] = &l;
    }
    ChannelAnalysis a(candidates);
    a.run();

    // Components: blocked ones stay; the others lose the least important
    // classes.
    llvm::DenseMap<int64_t, bool> compBlocked;
    llvm::DenseMap<int64_t, double> compSparsity;
    for (auto &[v, idx] : a.valueIndex)
      if (a.blocked.count(v))
        compBlocked[a.values.find(idx)] = true;
    for (Operation *p : a.producers) {
      int64_t comp = a.values.find(a.valueIndex.lookup(p->getResult(0)));
      double s = candidates.lookup(p);
      auto it = compSparsity.find(comp);
      compSparsity[comp] =
          it == compSparsity.end() ? s : std::min(it->second, s);
    }
    // Importance of each class: the summed L1 norm of its filters.
    llvm::DenseMap<int64_t, double> importance;
    for (Operation *p : a.producers) {
      Layer &l = *layerOf.lookup(p);
      SmallVector<double> imp;
      std::string error;
      if (failed(ctx.norms.importance(l, imp, error))) {
        p->emitError("lop-prune-channel: ") << error;
        return signalPassFailure();
      }
      for (int64_t r = 0; r < l.rows; ++r) {
        double sum = 0;
        for (int64_t c = 0; c < l.cols; ++c)
          sum += imp[l.index(r, c)];
        importance[a.slots.find(a.slot(p->getResult(0), r))] += sum;
      }
    }
    // The classes of each component, in slot order, and their slots' values.
    llvm::MapVector<int64_t, std::vector<int64_t>> classesOf;
    llvm::DenseMap<int64_t, std::vector<Value>> valuesOfClass;
    llvm::DenseMap<Value, int64_t> remaining;
    for (auto &[v, idx] : a.valueIndex) {
      int64_t comp = a.values.find(idx);
      if (compBlocked.lookup(comp) || !compSparsity.count(comp))
        continue;
      remaining[v] = a.numChannels(v);
      for (int64_t i = 0, n = a.numChannels(v); i < n; ++i) {
        int64_t root = a.slots.find(a.slot(v, i));
        auto &vals = valuesOfClass[root];
        if (vals.empty())
          classesOf[comp].push_back(root);
        vals.push_back(v);
      }
    }
    llvm::DenseSet<int64_t> removed;
    for (auto &[comp, classes] : classesOf) {
      int64_t k = (int64_t)std::floor(compSparsity.lookup(comp) *
                                      (double)classes.size());
      std::vector<int64_t> order = classes;
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
        return importance.lookup(x) < importance.lookup(y);
      });
      for (int64_t root : order) {
        if (k == 0)
          break;
        // Every value keeps at least one channel.
        llvm::DenseMap<Value, int64_t> take;
        for (Value v : valuesOfClass[root])
          ++take[v];
        if (llvm::any_of(take, [&](auto &kv) {
              return remaining[kv.first] - kv.second < 1;
            }))
          continue;
        for (auto &kv : take)
          remaining[kv.first] -= kv.second;
        removed.insert(root);
        --k;
      }
    }
    if (removed.empty())
      return;

    // The kept channels of every value that loses some.
    llvm::DenseMap<Value, SmallVector<int64_t>> kept;
    for (auto &[v, idx] : a.valueIndex) {
      if (!remaining.count(v) || remaining[v] == a.numChannels(v))
        continue;
      SmallVector<int64_t> &k = kept[v];
      for (int64_t i = 0, n = a.numChannels(v); i < n; ++i)
        if (!removed.count(a.slots.find(a.slot(v, i))))
          k.push_back(i);
    }

    // Rewrite the constants, depthwise groups and reshape targets.
    llvm::SetVector<Operation *> dead;
    for (const ConstSlice &s : a.slices) {
      auto it = kept.find(s.value);
      if (it == kept.end())
        continue;
      auto cst = s.op->getOperand(s.operand).getDefiningOp<lop::ConstantOp>();
      auto type = cast<RankedTensorType>(cst.getOutput().getType());
      std::optional<SmallVector<double>> data =
          lop::readElementsAsDouble(cst.getValue());
      if (!data) {
        s.op->emitError("lop-prune-channel: cannot read a constant operand");
        return signalPassFailure();
      }
      SmallVector<int64_t> shape(type.getShape());
      SmallVector<double> sliced = sliceAlong(*data, shape, s.axis, it->second);
      shape[s.axis] = it->second.size();
      auto newType = RankedTensorType::get(shape, type.getElementType());
      ElementsAttr attr = makeElements(cst.getValue(), newType, sliced);
      if (!attr) {
        s.op->emitError("lop-prune-channel: cannot write a constant operand");
        return signalPassFailure();
      }
      OpBuilder b(cst);
      auto fresh = lop::ConstantOp::create(b, cst.getLoc(), newType, attr,
                                           lop::SparsityAttr());
      s.op->setOperand(s.operand, fresh.getOutput());
      dead.insert(cst);
    }
    for (Operation *op : a.depthwise) {
      auto it = kept.find(op->getResult(0));
      if (it != kept.end())
        cast<lop::ConvOp>(op).setGroup(it->second.size());
    }
    for (Operation *op : a.reshapes) {
      auto rs = cast<lop::ReshapeOp>(op);
      auto it = kept.find(rs.getOutput());
      if (it == kept.end())
        continue;
      SmallVector<int64_t> shape = *lop::getConstantIntValues(rs.getShape());
      shape[1] = it->second.size();
      auto cst = rs.getShape().getDefiningOp<lop::ConstantOp>();
      auto type = cast<RankedTensorType>(cst.getOutput().getType());
      auto elem = cast<IntegerType>(type.getElementType());
      SmallVector<APInt> vals;
      for (int64_t d : shape)
        vals.push_back(APInt(elem.getWidth(), d, /*isSigned=*/true));
      OpBuilder b(cst);
      auto fresh = lop::ConstantOp::create(b, cst.getLoc(), type,
                                           DenseElementsAttr::get(type, vals),
                                           lop::SparsityAttr());
      rs->setOperand(1, fresh.getOutput());
      dead.insert(cst);
    }
    for (Operation *op : dead)
      if (op->use_empty())
        op->erase();
    if (failed(reinferTypes(module))) {
      module.emitError("lop-prune-channel: result types could not be "
                       "re-inferred after pruning");
      return signalPassFailure();
    }
  }
};
} // namespace
} // namespace lopper

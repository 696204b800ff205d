//===- LopToCPU.cpp - lop to loops, kernel calls and a planned arena ------===//
//
// See include/lopper/Conversion/LopToCPU.h. The lowering walks @main once to
// decide storage (inputs, outputs, weights, arena buffers with lifetimes,
// views that alias them) and once to emit code. Ops whose results are fully
// known from the input shapes (shape arithmetic) emit nothing.
//
//===----------------------------------------------------------------------===//

#include "lopper/Conversion/LopToCPU.h"
#include "SymbolicShapes.h"
#include "lopper/Conversion/CostModel.h"

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/artifact_abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace lopper;
using namespace lopper::lop;

namespace {

std::string percentEncode(StringRef s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e || c == '%') {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out.empty() ? "%00" : out;
}

int64_t elemBytes(Type t) { return getStorageBytes(t); }

/// The storage type of a quantized element type (ui8 / i8), else `t`.
Type storageOf(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return IntegerType::get(t.getContext(), q.getStorageTypeIntegralWidth(),
                            q.isSigned() ? IntegerType::Signed
                                         : IntegerType::Unsigned);
  return t;
}

/// ONNX TensorProto data type numbers (lopper_dtype).
int onnxDtype(Type t) {
  t = storageOf(t);
  if (t.isF32())
    return 1;
  if (t.isF16())
    return 10;
  if (t.isBF16())
    return 16;
  if (t.isF64())
    return 11;
  if (t.isInteger(1))
    return 9;
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8:
      return u ? 2 : 3;
    case 16:
      return u ? 4 : 5;
    case 32:
      return u ? 12 : 6;
    case 64:
      return u ? 13 : 7;
    }
  }
  return 0;
}

/// Signless version of an element type (arith works on signless integers).
Type signless(Type t) {
  t = storageOf(t);
  if (auto it = dyn_cast<IntegerType>(t))
    return IntegerType::get(t.getContext(), it.getWidth());
  return t;
}

struct Storage {
  enum Kind { None, Input, Output, Weight, Arena } kind = None;
  unsigned index = 0; // input/output number, arena buffer id
  int64_t offset = 0; // byte offset in the weights blob
};

struct Buffer {
  Poly bytes;
  int first = 0, last = 0;
};

class Lowerer {
public:
  Lowerer(ModuleOp src, LoweredModel &out, const KernelConfig *config)
      : src(src), out(out), config(config),
        ruleUsed(config ? config->rules.size() : 0, false) {}
  bool run(const std::string &modelName, std::string &error);
  /// Every --kernel-config rule must match a heavy op (a typo would
  /// otherwise silently change nothing).
  bool checkRulesUsed(std::string &error) const {
    for (size_t i = 0; i < ruleUsed.size(); ++i)
      if (!ruleUsed[i]) {
        error = "--kernel-config: '" + config->rules[i].first +
                "' matches no conv, gemm or matmul of the model";
        return false;
      }
    return true;
  }

private:
  // Planning.
  bool plan(std::string &error);
  bool isView(Operation *op) const {
    return isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(op) ||
           foldedBatchNorms.count(op);
  }
  void findFoldableBatchNorms();
  bool skipped(Operation *op) const;
  bool isShapeOperand(Operation *op, unsigned i) const;
  Poly numel(Value v) const {
    Poly p = Poly::constant(1);
    for (auto &d : shapes.dims(v))
      p = p * d;
    return p;
  }
  int64_t addWeight(const void *data, int64_t bytes);
  /// A polynomial's value at the nominal shape (every symbol 1: batch-1
  /// latency), for the cost model.
  static double nominal(const Poly &p) {
    unsigned n = 0;
    for (const auto &[mono, c] : p.terms)
      for (unsigned s : mono)
        n = std::max(n, s + 1);
    return (double)p.eval(std::vector<int64_t>(n, 1));
  }
  /// Dense, or block-sparse where `sparse` can run the op and is predicted
  /// faster (or --kernel-config forces it); records the choice. False with
  /// `error` when the config forces a kernel the op cannot use.
  bool chooseKernel(Operation *op, KernelFamily dense,
                    std::optional<KernelFamily> sparse, double density,
                    double ops, double M, bool &useSparse, std::string &error);
  /// Records a conv's kernel (dense only: there is no sparse conv kernel).
  bool recordConv(ConvOp conv, KernelFamily dense, KernelFamily depthwise,
                  std::string &error) {
    auto wt = cast<RankedTensorType>(conv.getWeight().getType());
    int64_t oc = wt.getDimSize(0), icPerGroup = wt.getDimSize(1);
    int64_t groups = conv.getGroup();
    bool dw = groups > 1 && icPerGroup == 1 && groups == oc;
    double ops = 2.0 * nominal(numel(conv.getResult())) *
                 (double)(wt.getNumElements() / std::max<int64_t>(oc, 1));
    bool unused = false;
    return chooseKernel(conv, dw ? depthwise : dense, std::nullopt, 1.0, ops,
                        1.0, unused, error);
  }
  unsigned newBuffer(Value v, int first);
  void use(Value v, int idx);

  // Emission helpers.
  Value idx(int64_t c) { return arith::ConstantIndexOp::create(b, loc, c); }
  Value polyVal(const Poly &p);
  MemRefType memrefType(Value v);
  Value view(Value v);
  Value flatView(Value v);
  Value pointerOf(Value memref);
  void callKernel(StringRef name, ArrayRef<Value> args);
  Value ipBlock(ArrayRef<Value> fields);
  Value fpBlock(ArrayRef<float> values);
  void
  emitElementwise(Value result, ArrayRef<Value> operands,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> body,
                  ArrayRef<int> channelOperands = {});
  void emitCopy(Value from, Value toMemref);
  void emitMaterialize(Value v);
  bool emitOp(Operation *op, std::string &error);
  bool emitHeavy(Operation *op, std::string &error);
  bool emitHeavyQ8(Operation *op, std::string &error);
  bool emitQuantizeOrDequantize(Operation *op, std::string &error);
  bool convParams(ConvOp conv, Value x, Value result, int64_t act, int64_t *ip,
                  std::string &why);
  /// The ONNX-coverage lowerings (LowerMore.inc); `handled` says whether it
  /// took the op.
  bool emitMore(Operation *op, std::string &error, bool &handled);
  /// Conv / ConvTranspose as a loop nest (LowerMore.inc): the forms the
  /// packed conv kernel does not take.
  bool emitConvLoops(Operation *op, std::string &error);
  /// Resize from per-axis tap tables (LowerMore.inc).
  bool emitResize(ResizeOp op, std::string &error);
  /// MaxPool's Indices and GridSample (LowerMore.inc).
  bool emitMaxPoolIndices(MaxPoolIndicesOp op, std::string &error);
  bool emitGridSample(GridSampleOp op, std::string &error);
  /// RoiAlign and DeformConv (LowerMore.inc).
  bool emitRoiAlign(RoiAlignOp op, std::string &error);
  bool emitDeformConv(DeformConvOp op, std::string &error);
  /// `computeT`: the type the float operands arrive in (f32 for half
  /// types, which compute in f32); null = the op's own operand type.
  Value scalarOp(Operation *op, OpBuilder &bb, Location l, ValueRange a,
                 Type computeT = {});
  Value castScalar(OpBuilder &bb, Location l, Value x, Type from, Type to);

  ModuleOp src;
  LoweredModel &out;
  const KernelConfig *config;
  std::vector<bool> ruleUsed;
  func::FuncOp srcFn;
  SymbolicShapes shapes;
  OpBuilder b{(MLIRContext *)nullptr};
  Location loc = UnknownLoc::get(src.getContext());

  DenseMap<Value, Storage> storage;
  DenseMap<Value, int64_t> packed; // heavy-op weight -> packed offset
  /// Inference BatchNorms folded into the conv that feeds them (its weights
  /// and bias are rescaled when packed); the BatchNorm becomes a view.
  DenseMap<Operation *, BatchNormOp> bnOfConv;
  DenseSet<Operation *> foldedBatchNorms;
  std::vector<Buffer> buffers;
  DenseMap<Value, unsigned> bufferOf; // root value -> buffer id
  DenseMap<Operation *, SmallVector<Value>> materializeAt;
  SmallVector<Operation *> order; // emitted ops
  std::vector<std::string> opLines, tapLines;
  DenseMap<Value, int> outputOf; // value stored directly in output k
  SmallVector<std::pair<Value, unsigned>> finalCopies;

  // Function being built.
  func::FuncOp fn;
  Value rtArg, symsArg, offsetsArg, arenaArg, weightsArg;
  SmallVector<Value> inArgs, outArgs;
  // Arena buffers the current op touches, each passed as its own noalias
  // argument (so LLVM knows that reading one and writing another do not
  // overlap, and vectorizes); other buffers are reached through arenaArg.
  DenseMap<unsigned, Value> bufArgs;
  std::map<std::string, Value> polyCache;
  Block *entry = nullptr;
  Operation *prologueEnd = nullptr;
  Value rtPtr;
};

} // namespace

//===----------------------------------------------------------------------===//
// Planning
//===----------------------------------------------------------------------===//

bool Lowerer::skipped(Operation *op) const {
  if (isa<ConstantOp>(op))
    return true;
  if (op->getNumResults() == 0)
    return true;
  for (Value r : op->getResults())
    if (!shapes.values(r))
      return false;
  return true;
}

bool Lowerer::isShapeOperand(Operation *op, unsigned i) const {
  if (isa<ReshapeOp, ExpandOp, ConstantOfShapeOp, TileOp>(op))
    return i == 1 || (isa<ConstantOfShapeOp>(op) && i == 0);
  if (isa<SliceOp>(op))
    return i >= 1;
  // Range's limit only sizes the result; start and delta are read at run
  // time unless their values are known (then the code has them as numbers),
  // so their buffers must live until the Range runs.
  if (isa<RangeOp>(op))
    return i == 1 || shapes.values(op->getOperand(i)) != nullptr;
  return false;
}

bool Lowerer::chooseKernel(Operation *op, KernelFamily dense,
                           std::optional<KernelFamily> sparse, double density,
                           double ops, double M, bool &useSparse,
                           std::string &error) {
  KernelChoice c;
  c.layer = getNodeName(op);
  c.op = getOnnxOpType(op);
  c.blockDensity = sparse ? density : 1.0;
  double denseS = predictSeconds(dense, ops, M);
  double sparseS = sparse ? predictSeconds(*sparse, ops, M, density) : 0;
  useSparse = sparse && sparseS <= kSparseMargin * denseS;
  if (config) {
    if (auto forced = config->lookup(c.layer)) {
      ruleUsed[forced->second] = true;
      c.forced = true;
      if (forced->first == "block-sparse") {
        if (!sparse) {
          error = "node '" + c.layer + "' (" + c.op +
                  "): --kernel-config forces block-sparse, which this op "
                  "cannot run (only a constant 2-D fp32 or int8 matmul "
                  "weight can)";
          return false;
        }
        useSparse = true;
      } else {
        useSparse = false;
      }
    }
  }
  c.kernel = kernelFamilyName(useSparse ? *sparse : dense);
  c.denseUs = denseS * 1e6;
  c.predictedUs = (useSparse ? sparseS : denseS) * 1e6;
  out.kernels.push_back(std::move(c));
  return true;
}

int64_t Lowerer::addWeight(const void *data, int64_t bytes) {
  size_t off = (out.weights.size() + 63) & ~size_t(63);
  out.weights.resize(off + bytes);
  if (bytes)
    memcpy(out.weights.data() + off, data, bytes);
  return off;
}

unsigned Lowerer::newBuffer(Value v, int first) {
  Poly bytes =
      numel(v) * Poly::constant(elemBytes(
                     cast<RankedTensorType>(v.getType()).getElementType()));
  buffers.push_back({bytes, first, first});
  return buffers.size() - 1;
}

void Lowerer::use(Value v, int at) {
  Storage s = storage.lookup(v);
  if (s.kind == Storage::Arena)
    buffers[s.index].last = std::max(buffers[s.index].last, at);
}

bool Lowerer::plan(std::string &error) {
  auto ret = cast<func::ReturnOp>(srcFn.getBody().front().getTerminator());
  for (BlockArgument a : srcFn.getArguments())
    storage[a] = {Storage::Input, a.getArgNumber(), 0};
  // Results returned once and produced by a computing op go straight to the
  // output buffer.
  llvm::DenseMap<Value, int> returnedCount;
  for (Value v : ret.getOperands())
    returnedCount[v]++;
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    Operation *d = v.getDefiningOp();
    if (d && returnedCount[v] == 1 && !isView(d) && !skipped(d) &&
        d->getNumResults() == 1)
      outputOf[v] = k;
  }

  int index = 0;
  auto ensureData = [&](Operation *user, Value v, int at) -> bool {
    if (storage.count(v))
      return true;
    Operation *d = v.getDefiningOp();
    if (auto c = dyn_cast_or_null<ConstantOp>(d)) {
      if (isa<quant::QuantizedType>(
              cast<RankedTensorType>(c.getType()).getElementType())) {
        error = "node '" + getNodeName(user) +
                "': quantized tensors are not supported by the CPU code "
                "generator yet";
        return false;
      }
      std::vector<uint8_t> bytes;
      if (!getConstantBytes(c, bytes)) {
        error =
            "node '" + getNodeName(user) + "': cannot read a constant operand";
        return false;
      }
      storage[v] = {Storage::Weight, 0, addWeight(bytes.data(), bytes.size())};
      return true;
    }
    if (const PolyVec *vals = shapes.values(v)) {
      bool allConst =
          llvm::all_of(*vals, [](const Poly &p) { return p.isConstant(); });
      if (allConst) {
        Type e = cast<RankedTensorType>(v.getType()).getElementType();
        int64_t eb = elemBytes(e);
        std::vector<uint8_t> bytes(vals->size() * eb);
        for (size_t i = 0; i < vals->size(); ++i) {
          int64_t x = (*vals)[i].constant();
          memcpy(bytes.data() + i * eb, &x, eb); // little-endian truncation
        }
        storage[v] = {Storage::Weight, 0,
                      addWeight(bytes.data(), bytes.size())};
        return true;
      }
      storage[v] = {Storage::Arena, newBuffer(v, at), 0};
      materializeAt[user].push_back(v);
      return true;
    }
    error =
        "node '" + getNodeName(user) + "': operand has no storage (internal)";
    return false;
  };

  findFoldableBatchNorms();
  for (Operation &opRef : srcFn.getBody().front()) {
    Operation *op = &opRef;
    if (isa<func::ReturnOp>(op) || skipped(op))
      continue;
    bool heavy = isa<ConvOp, GemmOp, MatMulOp>(op);
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      if (isShapeOperand(op, i))
        continue;
      if (foldedBatchNorms.count(op) && i > 0)
        continue; // its statistics went into the conv's weights
      // Constant weights of heavy ops are packed at emission.
      if (heavy && i == 1 && v.getDefiningOp<ConstantOp>() &&
          ((isa<ConvOp>(op) &&
            cast<RankedTensorType>(v.getType()).getRank() <= 4) ||
           cast<RankedTensorType>(v.getType()).getRank() == 2))
        continue;
      if (!ensureData(op, v, index))
        return false;
      use(v, index);
    }
    for (Value r : op->getResults()) {
      if (isView(op)) {
        storage[r] = storage.lookup(op->getOperand(0));
        continue;
      }
      auto it = outputOf.find(r);
      if (it != outputOf.end())
        storage[r] = {Storage::Output, (unsigned)it->second, 0};
      else
        storage[r] = {Storage::Arena, newBuffer(r, index), 0};
    }
    order.push_back(op);
    ++index;
  }
  // Views extend the life of what they alias: a later use of a view is a
  // use of the root buffer, which use() records through the shared storage.
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    if (outputOf.count(v))
      continue;
    if (!storage.count(v)) {
      if (!ensureData(ret, v, index)) // materialized at the return
        return false;
    }
    use(v, index);
    finalCopies.push_back({v, (unsigned)k});
  }
  return true;
}

/// A BatchNorm whose only input is a conv used by nothing else, with
/// constant fp32 statistics, a constant conv weight, and no residual or
/// activation on the conv, folds into the conv (as ONNX Runtime does).
void Lowerer::findFoldableBatchNorms() {
  for (Operation &o : srcFn.getBody().front()) {
    auto bn = dyn_cast<BatchNormOp>(o);
    auto conv = bn ? bn.getInput().getDefiningOp<ConvOp>() : ConvOp();
    if (!conv || !conv->hasOneUse() || conv.getResidual() ||
        conv.getActivation() != ActivationKind::none ||
        !conv.getWeight().getDefiningOp<ConstantOp>() ||
        !cast<RankedTensorType>(conv.getType()).getElementType().isF32())
      continue;
    bool constant = true;
    for (Value v :
         {bn.getScale(), bn.getBias(), bn.getMean(), bn.getVariance()})
      constant &= v.getDefiningOp<ConstantOp>() &&
                  cast<RankedTensorType>(v.getType()).getElementType().isF32();
    if (conv.getBias())
      constant &= (bool)conv.getBias().getDefiningOp<ConstantOp>();
    if (!constant)
      continue;
    bnOfConv[conv] = bn;
    foldedBatchNorms.insert(bn);
  }
}

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

Value Lowerer::polyVal(const Poly &p) {
  std::string key = p.str();
  auto it = polyCache.find(key);
  if (it != polyCache.end())
    return it->second;
  OpBuilder::InsertionGuard g(b);
  // Polynomials depend on the symbols only: evaluate them once, in the
  // prologue.
  b.setInsertionPoint(prologueEnd);
  Value sum;
  for (auto &[m, c] : p.terms) {
    Value t = arith::ConstantIndexOp::create(b, loc, c);
    for (unsigned s : m) {
      Value sv = memref::LoadOp::create(b, loc, symsArg, ValueRange{idx(s)});
      sv = arith::IndexCastOp::create(b, loc, b.getIndexType(), sv);
      t = arith::MulIOp::create(b, loc, t, sv);
    }
    sum = sum ? Value(arith::AddIOp::create(b, loc, sum, t)) : t;
  }
  if (!sum)
    sum = idx(0);
  polyCache[key] = sum;
  return sum;
}

MemRefType Lowerer::memrefType(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (auto &d : shapes.dims(v))
    shape.push_back(d.isConstant() ? d.constant() : ShapedType::kDynamic);
  return MemRefType::get(shape, signless(t.getElementType()));
}

Value Lowerer::view(Value v) {
  Storage s = storage.lookup(v);
  Value base, off;
  switch (s.kind) {
  case Storage::Input:
    base = inArgs[s.index];
    off = idx(0);
    break;
  case Storage::Output:
    base = outArgs[s.index];
    off = idx(0);
    break;
  case Storage::Weight:
    base = weightsArg;
    off = idx(s.offset);
    break;
  case Storage::Arena: {
    if (Value own = bufArgs.lookup(s.index)) {
      base = own;
      off = idx(0);
      break;
    }
    base = arenaArg;
    Value o =
        memref::LoadOp::create(b, loc, offsetsArg, ValueRange{idx(s.index)});
    off = arith::IndexCastOp::create(b, loc, b.getIndexType(), o);
    break;
  }
  case Storage::None:
    llvm_unreachable("value without storage");
  }
  MemRefType mt = memrefType(v);
  SmallVector<Value> dyn;
  for (auto &d : shapes.dims(v))
    if (!d.isConstant())
      dyn.push_back(polyVal(d));
  return memref::ViewOp::create(b, loc, mt, base, off, dyn);
}

Value Lowerer::flatView(Value v) {
  Value full = view(v);
  auto mt = cast<MemRefType>(full.getType());
  Poly n = numel(v);
  MemRefType flat =
      MemRefType::get({n.isConstant() ? n.constant() : ShapedType::kDynamic},
                      mt.getElementType());
  // Re-view the same bytes as 1-D.
  auto viewOp = full.getDefiningOp<memref::ViewOp>();
  SmallVector<Value> dyn;
  if (!n.isConstant())
    dyn.push_back(polyVal(n));
  return memref::ViewOp::create(b, loc, flat, viewOp.getSource(),
                                viewOp.getByteShift(), dyn);
}

Value Lowerer::pointerOf(Value memref) {
  return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
}

void Lowerer::callKernel(StringRef name, ArrayRef<Value> args) {
  ModuleOp m = fn->getParentOfType<ModuleOp>();
  if (!m.lookupSymbol<func::FuncOp>(name)) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(fn);
    SmallVector<Type> types(args.size(), b.getIndexType());
    auto decl =
        func::FuncOp::create(b, loc, name, b.getFunctionType(types, {}));
    decl.setPrivate();
  }
  func::CallOp::create(b, loc, name, TypeRange{}, args);
}

Value Lowerer::ipBlock(ArrayRef<Value> fields) {
  auto mt = MemRefType::get({(int64_t)fields.size()}, b.getI64Type());
  Value m;
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(entry);
    m = memref::AllocaOp::create(b, loc, mt);
  }
  for (auto [i, f] : llvm::enumerate(fields)) {
    Value x = f.getType().isIndex()
                  ? Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), f))
                  : f;
    memref::StoreOp::create(b, loc, x, m, ValueRange{idx(i)});
  }
  return pointerOf(m);
}

Value Lowerer::fpBlock(ArrayRef<float> values) {
  auto mt = MemRefType::get({(int64_t)values.size()}, b.getF32Type());
  Value m;
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(entry);
    m = memref::AllocaOp::create(b, loc, mt);
  }
  for (auto [i, v] : llvm::enumerate(values))
    memref::StoreOp::create(
        b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v)), m,
        ValueRange{idx(i)});
  return pointerOf(m);
}

void Lowerer::emitElementwise(
    Value result, ArrayRef<Value> operands,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    ArrayRef<int> channelOperands) {
  const PolyVec &rd = shapes.dims(result);
  unsigned rank = rd.size();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  // Same-shape operands (and scalars): one flat loop, which LLVM vectorizes
  // far better than a nest over dynamic strides.
  bool flat = channelOperands.empty() && rank > 1;
  for (Value v : operands) {
    Poly n = numel(v);
    flat &= shapes.dims(v) == rd || (n.isConstant() && n.constant() == 1);
  }
  if (flat) {
    AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
    AffineMap zero = AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx)}, ctx);
    for (Value v : operands) {
      bool scalar = shapes.dims(v) != rd;
      ins.push_back(flatView(v));
      maps.push_back(scalar ? zero : id);
    }
    maps.push_back(id);
    linalg::GenericOp::create(b, loc, ins, ValueRange{flatView(result)}, maps,
                              {utils::IteratorType::parallel},
                              [&](OpBuilder &bb, Location l, ValueRange args) {
                                linalg::YieldOp::create(
                                    bb, l, body(bb, l, args.drop_back()));
                              });
    return;
  }
  for (auto [k, v] : llvm::enumerate(operands)) {
    ins.push_back(view(v));
    const PolyVec &d = shapes.dims(v);
    SmallVector<AffineExpr> exprs;
    if (llvm::is_contained(channelOperands, (int)k)) {
      // Per-channel parameter of axis 1 (batch norm).
      exprs.push_back(getAffineDimExpr(1, ctx));
    } else {
      for (size_t i = 0; i < d.size(); ++i) {
        unsigned r = rank - d.size() + i;
        bool bcast = d[i].isConstant() && d[i].constant() == 1 &&
                     !(rd[r].isConstant() && rd[r].constant() == 1);
        exprs.push_back(bcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(r, ctx));
      }
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value outView = view(result);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  linalg::GenericOp::create(b, loc, ins, ValueRange{outView}, maps, iters,
                            [&](OpBuilder &bb, Location l, ValueRange args) {
                              Value y = body(bb, l, args.drop_back());
                              linalg::YieldOp::create(bb, l, y);
                            });
}

void Lowerer::emitCopy(Value from, Value to) {
  auto mt = cast<MemRefType>(to.getType());
  unsigned rank = mt.getRank();
  auto id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  linalg::GenericOp::create(b, loc, ValueRange{from}, ValueRange{to},
                            ArrayRef<AffineMap>{id, id}, iters,
                            [&](OpBuilder &bb, Location l, ValueRange args) {
                              linalg::YieldOp::create(bb, l, args[0]);
                            });
}

void Lowerer::emitMaterialize(Value v) {
  const PolyVec *vals = shapes.values(v);
  Value m = flatView(v);
  Type e = cast<MemRefType>(m.getType()).getElementType();
  for (auto [i, p] : llvm::enumerate(*vals)) {
    Value x = arith::IndexCastOp::create(b, loc, e, polyVal(p));
    memref::StoreOp::create(b, loc, x, m, ValueRange{idx(i)});
  }
}

/// f32 (or f64) to bf16, round to nearest even, NaN kept a quiet NaN, all
/// in integer code without a select: arith.truncf to bf16 expands to a
/// select on bf16 values, which LLVM legalizes through __truncsfbf2 on CPUs
/// without AVX512-BF16 (and this libgcc does not have it), and a select on
/// i16 followed by a bitcast is turned back into one by InstCombine.
static Value truncToBF16(OpBuilder &bb, Location l, Value x) {
  Type f32 = bb.getF32Type(), i32 = bb.getI32Type(), i16 = bb.getI16Type();
  if (!x.getType().isF32())
    x = arith::TruncFOp::create(bb, l, f32, x);
  auto c32 = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(bb, l, bb.getI32IntegerAttr(v));
  };
  Value bits = arith::BitcastOp::create(bb, l, i32, x);
  Value isNan = arith::ExtUIOp::create(
      bb, l, i32,
      arith::CmpFOp::create(bb, l, arith::CmpFPredicate::UNO, x, x));
  Value notNan = arith::XOrIOp::create(bb, l, isNan, c32(1));
  // Rounding increment 0x7FFF + lsb, only for numbers (a NaN's mantissa
  // could carry into the sign).
  Value lsb = arith::AndIOp::create(
      bb, l, arith::ShRUIOp::create(bb, l, bits, c32(16)), c32(1));
  Value inc = arith::MulIOp::create(
      bb, l, arith::AddIOp::create(bb, l, lsb, c32(0x7FFF)), notNan);
  Value hi = arith::ShRUIOp::create(
      bb, l, arith::AddIOp::create(bb, l, bits, inc), c32(16));
  // A NaN gets the quiet bit (its top mantissa bits may all be zero).
  hi = arith::OrIOp::create(bb, l, hi,
                            arith::ShLIOp::create(bb, l, isNan, c32(6)));
  return arith::BitcastOp::create(bb, l, bb.getBF16Type(),
                                  arith::TruncIOp::create(bb, l, i16, hi));
}

Value Lowerer::castScalar(OpBuilder &bb, Location l, Value x, Type from,
                          Type to) {
  Type f = signless(from), t = signless(to);
  if (f == t)
    return x;
  bool fu = from.isUnsignedInteger(), tu = to.isUnsignedInteger();
  // f16 <-> bf16: same width, different formats: through f32.
  if (isa<FloatType>(f) && isa<FloatType>(t) &&
      f.getIntOrFloatBitWidth() == t.getIntOrFloatBitWidth()) {
    Value w = arith::ExtFOp::create(bb, l, bb.getF32Type(), x);
    return castScalar(bb, l, w, bb.getF32Type(), to);
  }
  if (isa<FloatType>(f) && isa<FloatType>(t))
    return f.getIntOrFloatBitWidth() < t.getIntOrFloatBitWidth()
               ? Value(arith::ExtFOp::create(bb, l, t, x))
           : t.isBF16() ? truncToBF16(bb, l, x)
                        : Value(arith::TruncFOp::create(bb, l, t, x));
  if (isa<IntegerType>(f) && isa<FloatType>(t)) {
    // To a half type through f32 (LLVM would call compiler-rt for bf16).
    Type via = t.getIntOrFloatBitWidth() < 32 ? bb.getF32Type() : t;
    Value v = (f.isInteger(1) || fu)
                  ? Value(arith::UIToFPOp::create(bb, l, via, x))
                  : Value(arith::SIToFPOp::create(bb, l, via, x));
    return via == t ? v : castScalar(bb, l, v, via, t);
  }
  if (isa<FloatType>(f) && isa<IntegerType>(t) &&
      f.getIntOrFloatBitWidth() < 32) {
    Value v = arith::ExtFOp::create(bb, l, bb.getF32Type(), x);
    return castScalar(bb, l, v, bb.getF32Type(), to);
  }
  if (isa<FloatType>(f) && isa<IntegerType>(t)) {
    if (t.isInteger(1)) {
      Value z = arith::ConstantOp::create(bb, l, bb.getFloatAttr(f, 0.0));
      return arith::CmpFOp::create(bb, l, arith::CmpFPredicate::UNE, x, z);
    }
    if (tu)
      return arith::FPToUIOp::create(bb, l, t, x);
    return arith::FPToSIOp::create(bb, l, t, x);
  }
  // integer to integer
  if (t.isInteger(1)) {
    Value z = arith::ConstantOp::create(bb, l, bb.getIntegerAttr(f, 0));
    return arith::CmpIOp::create(bb, l, arith::CmpIPredicate::ne, x, z);
  }
  unsigned fw = f.getIntOrFloatBitWidth(), tw = t.getIntOrFloatBitWidth();
  if (fw < tw)
    return (fu || f.isInteger(1)) ? Value(arith::ExtUIOp::create(bb, l, t, x))
                                  : Value(arith::ExtSIOp::create(bb, l, t, x));
  return arith::TruncIOp::create(bb, l, t, x);
}

/// Scalar body of an elementwise op; `a` are the operand elements.
Value Lowerer::scalarOp(Operation *op, OpBuilder &bb, Location l, ValueRange a,
                        Type computeT) {
  Type inT =
      cast<RankedTensorType>(op->getOperand(0).getType()).getElementType();
  if (computeT && isa<FloatType>(inT))
    inT = computeT;
  bool isF = isa<FloatType>(inT);
  bool uns = inT.isUnsignedInteger();
  auto fc = [&](double v) -> Value {
    return arith::ConstantOp::create(bb, l, bb.getFloatAttr(signless(inT), v));
  };
  auto sigmoid = [&](Value x) -> Value {
    Value e = math::ExpOp::create(bb, l, arith::NegFOp::create(bb, l, x));
    return arith::DivFOp::create(bb, l, fc(1.0),
                                 arith::AddFOp::create(bb, l, fc(1.0), e));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) -> Value {
        return isF ? Value(arith::AddFOp::create(bb, l, a[0], a[1]))
                   : Value(arith::AddIOp::create(bb, l, a[0], a[1]));
      })
      .Case([&](SubOp) -> Value {
        return isF ? Value(arith::SubFOp::create(bb, l, a[0], a[1]))
                   : Value(arith::SubIOp::create(bb, l, a[0], a[1]));
      })
      .Case([&](MulOp) -> Value {
        return isF ? Value(arith::MulFOp::create(bb, l, a[0], a[1]))
                   : Value(arith::MulIOp::create(bb, l, a[0], a[1]));
      })
      .Case([&](DivOp) -> Value {
        if (isF)
          return arith::DivFOp::create(bb, l, a[0], a[1]);
        return uns ? Value(arith::DivUIOp::create(bb, l, a[0], a[1]))
                   : Value(arith::DivSIOp::create(bb, l, a[0], a[1]));
      })
      .Case([&](PowOp p) -> Value {
        Type eT = cast<RankedTensorType>(p.getRhs().getType()).getElementType();
        if (computeT && (eT.isF16() || eT.isBF16()))
          eT = computeT;
        Value e = castScalar(bb, l, a[1], eT, inT);
        if (!isF)
          return Value();
        return math::PowFOp::create(bb, l, a[0], e);
      })
      .Case([&](EqualOp) -> Value {
        return isF ? Value(arith::CmpFOp::create(
                         bb, l, arith::CmpFPredicate::OEQ, a[0], a[1]))
                   : Value(arith::CmpIOp::create(
                         bb, l, arith::CmpIPredicate::eq, a[0], a[1]));
      })
      .Case([&](LessOp) -> Value {
        return isF ? Value(arith::CmpFOp::create(
                         bb, l, arith::CmpFPredicate::OLT, a[0], a[1]))
                   : Value(
                         arith::CmpIOp::create(bb, l,
                                               uns ? arith::CmpIPredicate::ult
                                                   : arith::CmpIPredicate::slt,
                                               a[0], a[1]));
      })
      .Case([&](GreaterOp) -> Value {
        return isF ? Value(arith::CmpFOp::create(
                         bb, l, arith::CmpFPredicate::OGT, a[0], a[1]))
                   : Value(
                         arith::CmpIOp::create(bb, l,
                                               uns ? arith::CmpIPredicate::ugt
                                                   : arith::CmpIPredicate::sgt,
                                               a[0], a[1]));
      })
      .Case([&](AndOp) -> Value {
        return arith::AndIOp::create(bb, l, a[0], a[1]);
      })
      .Case([&](NotOp) -> Value {
        Value one = arith::ConstantOp::create(bb, l, bb.getBoolAttr(true));
        return arith::XOrIOp::create(bb, l, a[0], one);
      })
      .Case([&](WhereOp) -> Value {
        return arith::SelectOp::create(bb, l, a[0], a[1], a[2]);
      })
      .Case([&](SqrtOp) -> Value { return math::SqrtOp::create(bb, l, a[0]); })
      .Case([&](ReciprocalOp) -> Value {
        return arith::DivFOp::create(bb, l, fc(1.0), a[0]);
      })
      .Case([&](ExpOp) -> Value { return math::ExpOp::create(bb, l, a[0]); })
      .Case([&](LogOp) -> Value { return math::LogOp::create(bb, l, a[0]); })
      .Case([&](NegOp) -> Value {
        if (isF)
          return arith::NegFOp::create(bb, l, a[0]);
        Value z = arith::ConstantOp::create(
            bb, l, bb.getIntegerAttr(signless(inT), 0));
        return arith::SubIOp::create(bb, l, z, a[0]);
      })
      .Case([&](AbsOp) -> Value {
        if (isF)
          return math::AbsFOp::create(bb, l, a[0]);
        return math::AbsIOp::create(bb, l, a[0]);
      })
      .Case([&](ErfOp) -> Value { return math::ErfOp::create(bb, l, a[0]); })
      .Case([&](TanhOp) -> Value { return math::TanhOp::create(bb, l, a[0]); })
      .Case([&](SigmoidOp) -> Value { return sigmoid(a[0]); })
      .Case([&](ReluOp) -> Value {
        if (isF)
          return arith::MaximumFOp::create(bb, l, a[0], fc(0.0));
        Value z = arith::ConstantOp::create(
            bb, l, bb.getIntegerAttr(signless(inT), 0));
        return arith::MaxSIOp::create(bb, l, a[0], z);
      })
      .Case([&](HardSwishOp) -> Value {
        Value t = arith::AddFOp::create(
            bb, l, arith::MulFOp::create(bb, l, a[0], fc(1.0 / 6.0)), fc(0.5));
        t = arith::MinimumFOp::create(
            bb, l, arith::MaximumFOp::create(bb, l, t, fc(0.0)), fc(1.0));
        return arith::MulFOp::create(bb, l, a[0], t);
      })
      .Case([&](LeakyReluOp o) -> Value {
        Value neg = arith::MulFOp::create(bb, l, a[0],
                                          fc(o.getAlpha().convertToFloat()));
        Value c = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OLT, a[0],
                                        fc(0.0));
        return arith::SelectOp::create(bb, l, c, neg, a[0]);
      })
      .Case([&](EluOp o) -> Value {
        Value e = arith::SubFOp::create(bb, l, math::ExpOp::create(bb, l, a[0]),
                                        fc(1.0));
        Value neg =
            arith::MulFOp::create(bb, l, e, fc(o.getAlpha().convertToFloat()));
        Value c = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OLT, a[0],
                                        fc(0.0));
        return arith::SelectOp::create(bb, l, c, neg, a[0]);
      })
      .Case([&](HardSigmoidOp o) -> Value {
        Value t = arith::AddFOp::create(
            bb, l,
            arith::MulFOp::create(bb, l, a[0],
                                  fc(o.getAlpha().convertToFloat())),
            fc(o.getBeta().convertToFloat()));
        return arith::MinimumFOp::create(
            bb, l, arith::MaximumFOp::create(bb, l, t, fc(0.0)), fc(1.0));
      })
      .Case([&](GeluOp o) -> Value {
        if (o.getApproximate() == "tanh") {
          // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
          Value x3 = arith::MulFOp::create(
              bb, l, a[0], arith::MulFOp::create(bb, l, a[0], a[0]));
          Value in = arith::MulFOp::create(
              bb, l, fc(std::sqrt(2.0 / M_PI)),
              arith::AddFOp::create(
                  bb, l, a[0], arith::MulFOp::create(bb, l, x3, fc(0.044715))));
          Value t = arith::AddFOp::create(bb, l, fc(1.0),
                                          math::TanhOp::create(bb, l, in));
          return arith::MulFOp::create(
              bb, l, arith::MulFOp::create(bb, l, a[0], fc(0.5)), t);
        }
        Value e = math::ErfOp::create(
            bb, l, arith::MulFOp::create(bb, l, a[0], fc(M_SQRT1_2)));
        return arith::MulFOp::create(
            bb, l, arith::MulFOp::create(bb, l, a[0], fc(0.5)),
            arith::AddFOp::create(bb, l, fc(1.0), e));
      })
      .Case([&](ClipOp o) -> Value {
        Value x = a[0];
        if (!isF)
          return Value();
        if (auto mn = o.getMin())
          x = arith::MaximumFOp::create(bb, l, x, fc(mn->convertToFloat()));
        if (auto mx = o.getMax())
          x = arith::MinimumFOp::create(bb, l, x, fc(mx->convertToFloat()));
        return x;
      })
      .Case([&](CastOp c) -> Value {
        return castScalar(bb, l, a[0], inT,
                          cast<RankedTensorType>(c.getType()).getElementType());
      })
      .Default([&](Operation *) -> Value { return Value(); });
}

//===----------------------------------------------------------------------===//
// Heavy ops: kernel calls with pre-packed weights
//===----------------------------------------------------------------------===//

static int64_t activationCode(Operation *op, float &alpha, float &beta) {
  auto act = op->getAttrOfType<ActivationKindAttr>("activation");
  alpha = 0;
  beta = 0;
  if (auto a = op->getAttrOfType<FloatAttr>("activation_alpha"))
    alpha = a.getValueAsDouble();
  if (auto a = op->getAttrOfType<FloatAttr>("activation_beta"))
    beta = a.getValueAsDouble();
  if (!act)
    return LOPPER_ACT_NONE;
  ActivationKind k = act.getValue();
  if (k == ActivationKind::clip) {
    if (!op->getAttr("activation_alpha"))
      alpha = -INFINITY;
    if (!op->getAttr("activation_beta"))
      beta = INFINITY;
  }
  if (k == ActivationKind::leaky_relu && !op->getAttr("activation_alpha"))
    alpha = 0.01f;
  return (int64_t)k; // the codes match LOPPER_ACT_*
}

/// Share of the [K/bk x N/16] blocks of W(k, j) = nonzero(k * rs + j * cs)
/// that hold a nonzero: what the block-sparse kernels store and compute.
template <typename Pred>
static double blockDensity(int64_t K, int64_t N, int64_t bk, Pred nonzero) {
  int64_t kb = (K + bk - 1) / bk, nb = (N + 15) / 16, kept = 0;
  for (int64_t q = 0; q < kb; ++q)
    for (int64_t p = 0; p < nb; ++p) {
      bool any = false;
      for (int64_t k = q * bk; k < std::min(K, (q + 1) * bk) && !any; ++k)
        for (int64_t j = p * 16; j < std::min(N, (p + 1) * 16) && !any; ++j)
          any = nonzero(k, j);
      kept += any;
    }
  return kb > 0 && nb > 0 ? (double)kept / (double)(kb * nb) : 1.0;
}

// Dense or block-sparse is the cost model's choice (CostModel.h):
// Lowerer::chooseKernel.

static bool readF32(Value v, std::vector<float> &out) {
  auto data = getConstantF32(v);
  if (data)
    out = std::move(*data);
  return data.has_value();
}

bool Lowerer::convParams(ConvOp conv, Value x, Value result, int64_t act,
                         int64_t *ip, std::string &why) {
  Value w = conv.getWeight();
  const PolyVec &xd = shapes.dims(x), &yd = shapes.dims(result);
  auto wt = cast<RankedTensorType>(w.getType());
  unsigned sp = xd.size() - 2;
  auto fail = [&](const char *m) {
    why = m;
    return false;
  };
  if (sp != 1 && sp != 2)
    return fail("only 1-D and 2-D convolutions are supported yet");
  for (unsigned i = 1; i < xd.size(); ++i)
    if (!xd[i].isConstant() || !yd[i].isConstant())
      return fail("channels and spatial dims must be static (only the "
                  "batch may be dynamic)");
  if (!wt.hasStaticShape())
    return fail("the weight must have a static shape");
  auto st = conv.getStrides(), pd = conv.getPads(), dl = conv.getDilations();
  ip[LOPPER_CONV_IP_N] = 1;
  ip[LOPPER_CONV_IP_C] = xd[1].constant();
  ip[LOPPER_CONV_IP_H] = sp == 2 ? xd[2].constant() : 1;
  ip[LOPPER_CONV_IP_W] = xd[sp + 1].constant();
  ip[LOPPER_CONV_IP_M] = yd[1].constant();
  ip[LOPPER_CONV_IP_OH] = sp == 2 ? yd[2].constant() : 1;
  ip[LOPPER_CONV_IP_OW] = yd[sp + 1].constant();
  ip[LOPPER_CONV_IP_KH] = sp == 2 ? wt.getDimSize(2) : 1;
  ip[LOPPER_CONV_IP_KW] = wt.getDimSize(sp + 1);
  ip[LOPPER_CONV_IP_STRIDE_H] = sp == 2 ? st[0] : 1;
  ip[LOPPER_CONV_IP_STRIDE_W] = st[sp - 1];
  ip[LOPPER_CONV_IP_PAD_TOP] = sp == 2 ? pd[0] : 0;
  ip[LOPPER_CONV_IP_PAD_LEFT] = pd[sp - 1];
  ip[LOPPER_CONV_IP_PAD_BOTTOM] = sp == 2 ? pd[2] : 0;
  ip[LOPPER_CONV_IP_PAD_RIGHT] = pd[2 * sp - 1];
  ip[LOPPER_CONV_IP_DIL_H] = sp == 2 ? dl[0] : 1;
  ip[LOPPER_CONV_IP_DIL_W] = dl[sp - 1];
  ip[LOPPER_CONV_IP_GROUP] = conv.getGroup();
  ip[LOPPER_CONV_IP_ACT] = act;
  return true;
}

static std::string typeText(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

/// Scale and zero point of a per-tensor quantized element type.
static bool perTensor(Type t, double &scale, int64_t &zp, bool &isSigned) {
  auto q = dyn_cast<quant::UniformQuantizedType>(t);
  if (!q || q.getStorageTypeIntegralWidth() != 8)
    return false;
  scale = q.getScale();
  zp = q.getZeroPoint();
  isSigned = q.isSigned();
  return true;
}

/// The epilogue operands of a conv, gemm or matmul.
static void epilogueOperands(Operation *op, Value &bias, Value &residual) {
  if (auto c = dyn_cast<ConvOp>(op)) {
    bias = c.getBias();
    residual = c.getResidual();
  } else if (auto g = dyn_cast<GemmOp>(op)) {
    bias = g.getBias();
    residual = g.getResidual();
  } else {
    auto m = cast<MatMulOp>(op);
    bias = m.getBias();
    residual = m.getResidual();
  }
}

/// int8 conv / gemm / matmul: int8 weights symmetric per output channel
/// (or per tensor), u8/i8 inputs with one scale and zero point, or f32
/// inputs quantized by the kernel (dynamic), f32 or requantized outputs.
bool Lowerer::emitHeavyQ8(Operation *op, std::string &error) {
  auto fail = [&](const Twine &m) {
    error = ("node '" + getNodeName(op) + "' (" + getOnnxOpType(op) + "): " + m)
                .str();
    return false;
  };
  Value x = op->getOperand(0), w = op->getOperand(1);
  Value result = op->getResult(0);
  auto elemOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  };
  auto wc = w.getDefiningOp<ConstantOp>();
  auto wt = cast<RankedTensorType>(w.getType());
  if (!wc || !wt.hasStaticShape())
    return fail("an int8 weight must be a constant of static shape");
  Type we = elemOf(w);
  auto wq = cast<quant::QuantizedType>(we);
  if (!wq.isSigned() || wq.getStorageTypeIntegralWidth() != 8)
    return fail("int8 kernels need signed 8-bit weights (got " + typeText(we) +
                ")");
  // The output-channel axis of the [O, R] view and the channel count.
  int64_t outAxis = 0;
  bool transB = false;
  if (auto g = dyn_cast<GemmOp>(op)) {
    if (g.getTransA())
      return fail("int8 gemm with transA is not supported yet");
    transB = g.getTransB();
    outAxis = transB ? 0 : 1;
  } else if (isa<MatMulOp>(op)) {
    if (wt.getRank() != 2)
      return fail("int8 matmul needs a 2-D weight");
    outAxis = 1;
  }
  int64_t channels = wt.getDimSize(outAxis);
  std::vector<float> wScales(channels);
  if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(we)) {
    if (pa.getQuantizedDimension() != outAxis)
      return fail("int8 weights must be quantized along the output channels");
    for (int64_t c = 0; c < channels; ++c) {
      if (pa.getZeroPoints()[c] != 0)
        return fail("int8 weights need zero points 0 (symmetric)");
      wScales[c] = (float)pa.getScales()[c];
    }
  } else if (auto pt = dyn_cast<quant::UniformQuantizedType>(we)) {
    if (pt.getZeroPoint() != 0)
      return fail("int8 weights need zero point 0 (symmetric)");
    std::fill(wScales.begin(), wScales.end(), (float)pt.getScale());
  } else {
    return fail("unsupported weight quantization " + typeText(we));
  }
  std::vector<uint8_t> wBytes;
  if (!getConstantBytes(wc, wBytes))
    return fail("cannot read the int8 weight");
  const int8_t *wData = reinterpret_cast<const int8_t *>(wBytes.data());

  // Input: quantized per tensor, or f32 (dynamic).
  int64_t aType, aZp = 0;
  float aScale = 1.0f;
  {
    Type xe = elemOf(x);
    double sc;
    bool sgn;
    if (xe.isF32()) {
      aType = LOPPER_QIN_F32; // dynamic: the kernel quantizes
    } else if (perTensor(xe, sc, aZp, sgn)) {
      aType = sgn ? LOPPER_QIN_I8 : LOPPER_QIN_U8;
      aScale = (float)sc;
    } else {
      return fail("int8 kernels need an input quantized per tensor or f32 "
                  "(got " +
                  typeText(xe) + ")");
    }
  }
  // Output: f32, or requantized per tensor.
  int64_t outType = LOPPER_QTYPE_F32, outZp = 0;
  float outScale = 1.0f;
  {
    Type ye = elemOf(result);
    double sc;
    bool sgn;
    if (!ye.isF32()) {
      if (!perTensor(ye, sc, outZp, sgn))
        return fail("int8 kernels write f32 or a per-tensor 8-bit type");
      outType = sgn ? LOPPER_QTYPE_I8 : LOPPER_QTYPE_U8;
      outScale = (float)sc;
    }
  }
  Value bias, residual;
  epilogueOperands(op, bias, residual);
  if (auto g = dyn_cast<GemmOp>(op))
    for (float &f : wScales)
      f *= g.getAlpha().convertToFloat();
  float actAlpha, actBeta;
  int64_t act = activationCode(op, actAlpha, actBeta);
  Value zero = idx(0);
  Value resPtr = zero;
  if (residual) {
    if (!elemOf(residual).isF32() ||
        shapes.dims(residual) != shapes.dims(result))
      return fail("an int8 op's residual must be f32 of the result's shape");
    resPtr = pointerOf(view(residual));
  }
  // The bias as f32 per output channel, in the weights blob.
  Value biasPtr = zero;
  if (bias) {
    auto bt = cast<RankedTensorType>(bias.getType());
    if (bt.getNumElements() != channels || !bias.getDefiningOp<ConstantOp>())
      return fail("an int8 op's bias must be a constant with one value per "
                  "output channel");
    std::vector<float> bv(channels);
    if (bt.getElementType().isF32()) {
      readF32(bias, bv);
    } else if (bt.getElementType().isInteger(32)) {
      if (aType == LOPPER_QIN_F32)
        return fail("an int32 bias needs a static input scale");
      auto iv = getConstantIntValues(bias);
      if (!iv)
        return fail("cannot read the int32 bias");
      for (int64_t c = 0; c < channels; ++c)
        bv[c] = (float)((double)(*iv)[c] * aScale * wScales[c]);
    } else {
      return fail("an int8 op's bias must be f32 or i32");
    }
    if (auto g = dyn_cast<GemmOp>(op))
      for (float &f : bv)
        f *= g.getBeta().convertToFloat();
    int64_t off = addWeight(bv.data(), bv.size() * 4);
    biasPtr = pointerOf(
        memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getF32Type()),
                               weightsArg, idx(off), ValueRange{}));
  }
  int64_t sOff = addWeight(wScales.data(), wScales.size() * 4);
  Value scalesPtr = pointerOf(
      memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getF32Type()),
                             weightsArg, idx(sOff), ValueRange{}));
  Value fpPtr = fpBlock({actAlpha, actBeta, aScale, outScale});
  auto packedView = [&](int64_t off) {
    return pointerOf(
        memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getI8Type()),
                               weightsArg, idx(off), ValueRange{}));
  };

  if (auto conv = dyn_cast<ConvOp>(op)) {
    int64_t ip[LOPPER_QCONV_IP_COUNT];
    std::string why;
    if (!convParams(conv, x, result, act, ip, why))
      return fail(why);
    if (!recordConv(conv, KernelFamily::ConvQ8, KernelFamily::DepthwiseQ8,
                    error))
      return false;
    ip[LOPPER_QCONV_IP_X_TYPE] = aType;
    ip[LOPPER_QCONV_IP_X_ZP] = aZp;
    ip[LOPPER_QCONV_IP_OUT_TYPE] = outType;
    ip[LOPPER_QCONV_IP_OUT_ZP] = outZp;
    std::vector<int8_t> buf(lopper_pack_conv2d_s8_size(ip));
    lopper_pack_conv2d_s8(ip, wData, buf.data());
    int64_t wOff = addWeight(buf.data(), buf.size());
    SmallVector<Value> fields;
    const PolyVec &xd = shapes.dims(x);
    for (int i = 0; i < LOPPER_QCONV_IP_COUNT; ++i)
      fields.push_back(i == LOPPER_CONV_IP_N ? polyVal(xd[0]) : idx(ip[i]));
    callKernel("lopper_k_conv2d_q8_v1",
               {rtPtr, ipBlock(fields), fpPtr, pointerOf(view(x)),
                packedView(wOff), scalesPtr, biasPtr, resPtr,
                pointerOf(view(result))});
    return true;
  }

  // Gemm / MatMul with a 2-D weight: every row of every batch shares the
  // weight, and rows are contiguous, so it is one [rows, K] x [K, N].
  int64_t K = transB ? wt.getDimSize(1) : wt.getDimSize(0);
  int64_t N = channels;
  const PolyVec &xd = shapes.dims(x);
  if (!xd.back().isConstant() || xd.back().constant() != K)
    return fail("the input's last dim must be the weight's K");
  Poly rows = Poly::constant(1);
  for (size_t i = 0; i + 1 < xd.size(); ++i)
    rows = rows * xd[i];
  // Enough all-zero 16x4 blocks (block[16, 4] in the [O, R] view, one
  // vpdpbusd operand each): the block-sparse int8 kernel, same parameters.
  int64_t rs = transB ? 1 : N, cs = transB ? K : 1;
  double density = blockDensity(K, N, 4, [&](int64_t k, int64_t j) {
    return wData[k * rs + j * cs] != 0;
  });
  bool sparse = false;
  if (!chooseKernel(op, KernelFamily::DenseQ8, KernelFamily::BsrQ8, density,
                    2.0 * nominal(rows) * K * N, nominal(rows), sparse, error))
    return false;
  std::vector<int8_t> buf(
      sparse ? lopper_pack_matmul_bsr_s8_size(K, N, wData, rs, cs)
             : lopper_pack_matmul_b_s8_size(K, N));
  if (sparse)
    lopper_pack_matmul_bsr_s8(K, N, wData, rs, cs, buf.data());
  else
    lopper_pack_matmul_b_s8(K, N, wData, rs, cs, buf.data());
  int64_t wOff = addWeight(buf.data(), buf.size());
  SmallVector<Value> f(LOPPER_QMM_IP_COUNT);
  f[LOPPER_QMM_IP_BATCH] = idx(1);
  f[LOPPER_QMM_IP_M] = polyVal(rows);
  f[LOPPER_QMM_IP_N] = idx(N);
  f[LOPPER_QMM_IP_K] = idx(K);
  f[LOPPER_QMM_IP_A_BS] = polyVal(rows * Poly::constant(K));
  f[LOPPER_QMM_IP_A_RS] = idx(K);
  f[LOPPER_QMM_IP_A_TYPE] = idx(aType);
  f[LOPPER_QMM_IP_A_ZP] = idx(aZp);
  f[LOPPER_QMM_IP_R_BS] = polyVal(rows * Poly::constant(N));
  f[LOPPER_QMM_IP_C_BS] = polyVal(rows * Poly::constant(N));
  f[LOPPER_QMM_IP_LDC] = idx(N);
  f[LOPPER_QMM_IP_ACT] = idx(act);
  f[LOPPER_QMM_IP_OUT_TYPE] = idx(outType);
  f[LOPPER_QMM_IP_OUT_ZP] = idx(outZp);
  callKernel(sparse ? "lopper_k_matmul_bsr_q8_v1" : "lopper_k_matmul_q8_v1",
             {rtPtr, ipBlock(f), fpPtr, pointerOf(view(x)), packedView(wOff),
              scalesPtr, biasPtr, resPtr, pointerOf(view(result))});
  return true;
}

/// Per-tensor QuantizeLinear / DequantizeLinear on f32, elementwise:
/// q = clamp(round_half_even(x / s) + zp), x = (q - zp) * s.
bool Lowerer::emitQuantizeOrDequantize(Operation *op, std::string &error) {
  Value x = op->getOperand(0), result = op->getResult(0);
  bool quantize = isa<QuantizeOp>(op);
  Type qe = cast<RankedTensorType>((quantize ? result : x).getType())
                .getElementType();
  Type fe = cast<RankedTensorType>((quantize ? x : result).getType())
                .getElementType();
  double scale;
  int64_t zp;
  bool sgn;
  if (!perTensor(qe, scale, zp, sgn) || !fe.isF32()) {
    error = "node '" + getNodeName(op) + "' (" + getOnnxOpType(op) +
            "): only per-tensor 8-bit (de)quantization of f32 is supported "
            "by the CPU code generator yet";
    return false;
  }
  auto q = cast<quant::UniformQuantizedType>(qe);
  double lo = q.getStorageTypeMin(), hi = q.getStorageTypeMax();
  emitElementwise(
      result, {x}, [&](OpBuilder &bb, Location l, ValueRange a) -> Value {
        auto f = [&](double v) -> Value {
          return arith::ConstantOp::create(bb, l, bb.getF32FloatAttr((float)v));
        };
        if (quantize) {
          Value v = arith::DivFOp::create(bb, l, a[0], f(scale));
          v = math::RoundEvenOp::create(bb, l, v);
          v = arith::AddFOp::create(bb, l, v, f((double)zp));
          v = arith::MaximumFOp::create(bb, l, v, f(lo));
          v = arith::MinimumFOp::create(bb, l, v, f(hi));
          Value i = arith::FPToSIOp::create(bb, l, bb.getI32Type(), v);
          return arith::TruncIOp::create(bb, l, bb.getI8Type(), i);
        }
        Value i =
            sgn ? Value(arith::ExtSIOp::create(bb, l, bb.getI32Type(), a[0]))
                : Value(arith::ExtUIOp::create(bb, l, bb.getI32Type(), a[0]));
        Value v = arith::SIToFPOp::create(bb, l, bb.getF32Type(), i);
        v = arith::SubFOp::create(bb, l, v, f((double)zp));
        return arith::MulFOp::create(bb, l, v, f(scale));
      });
  return true;
}

bool Lowerer::emitHeavy(Operation *op, std::string &error) {
  auto fail = [&](const Twine &m) {
    error = ("node '" + getNodeName(op) + "' (" + getOnnxOpType(op) + "): " + m)
                .str();
    return false;
  };
  Value x = op->getOperand(0), w = op->getOperand(1);
  Value result = op->getResult(0);
  if (isa<quant::QuantizedType>(
          cast<RankedTensorType>(w.getType()).getElementType()))
    return emitHeavyQ8(op, error);
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).getElementType().isF32())
      return fail("only fp32 is supported by the CPU code generator yet "
                  "(quantized and fp16 heavy ops land with the kernel work)");
  if (!cast<RankedTensorType>(result.getType()).getElementType().isF32())
    return fail("only fp32 results are supported yet");
  Value bias, residual;
  epilogueOperands(op, bias, residual);
  float alpha, beta;
  int64_t act = activationCode(op, alpha, beta);
  Value zero = idx(0);
  Value resPtr = zero;
  if (residual) {
    if (shapes.dims(residual) != shapes.dims(result))
      return fail("a residual that broadcasts is not supported yet");
    resPtr = pointerOf(view(residual));
  }

  if (auto conv = dyn_cast<ConvOp>(op)) {
    const PolyVec &xd = shapes.dims(x);
    // A weight computed at run time, or 3-D: the loop nest.
    if (!w.getDefiningOp<ConstantOp>() || xd.size() > 4)
      return emitConvLoops(op, error);
    int64_t ip[LOPPER_CONV_IP_COUNT];
    std::string why;
    if (!convParams(conv, x, result, act, ip, why))
      return fail(why);
    std::vector<float> wdata;
    if (!readF32(w, wdata))
      return fail("the weight must be a constant (pre-packed at compile time)");
    if (!recordConv(conv, KernelFamily::ConvF32, KernelFamily::DepthwiseF32,
                    error))
      return false;
    Value biasPtr = zero;
    int64_t wOffset;
    if (BatchNormOp bn = bnOfConv.lookup(conv)) {
      // w'[m] = w[m] * a[m], b'[m] = b[m] * a[m] + (beta[m] - mean[m] * a[m])
      // with a = gamma / sqrt(var + eps), in double.
      std::vector<float> g, be, mu, var, b0;
      readF32(bn.getScale(), g);
      readF32(bn.getBias(), be);
      readF32(bn.getMean(), mu);
      readF32(bn.getVariance(), var);
      int64_t M = ip[LOPPER_CONV_IP_M];
      if (bias)
        readF32(bias, b0);
      if ((int64_t)g.size() != M || (int64_t)be.size() != M ||
          (int64_t)mu.size() != M || (int64_t)var.size() != M ||
          (bias && (int64_t)b0.size() != M))
        return fail("batch-norm statistics do not match the output channels");
      double eps = bn.getEpsilon().convertToFloat();
      int64_t per = wdata.size() / M;
      std::vector<float> nb(M);
      for (int64_t m = 0; m < M; ++m) {
        double a = g[m] / std::sqrt((double)var[m] + eps);
        for (int64_t k = 0; k < per; ++k)
          wdata[m * per + k] = (float)(wdata[m * per + k] * a);
        nb[m] = (float)((bias ? b0[m] : 0.0) * a + (be[m] - mu[m] * a));
      }
      std::vector<float> buf(lopper_pack_conv2d_f32_size(ip));
      lopper_pack_conv2d_f32(ip, wdata.data(), buf.data());
      wOffset = addWeight(buf.data(), buf.size() * 4);
      int64_t bOffset = addWeight(nb.data(), nb.size() * 4);
      biasPtr = pointerOf(
          memref::ViewOp::create(b, loc, MemRefType::get({M}, b.getF32Type()),
                                 weightsArg, idx(bOffset), ValueRange{}));
      bias = Value();
    } else {
      if (!packed.count(w)) {
        std::vector<float> buf(lopper_pack_conv2d_f32_size(ip));
        lopper_pack_conv2d_f32(ip, wdata.data(), buf.data());
        packed[w] = addWeight(buf.data(), buf.size() * 4);
      }
      wOffset = packed[w];
    }
    if (bias) {
      if (!numel(bias).isConstant() ||
          numel(bias).constant() != ip[LOPPER_CONV_IP_M])
        return fail("the bias must have one value per output channel");
      biasPtr = pointerOf(view(bias));
    }
    SmallVector<Value> fields;
    for (int i = 0; i < LOPPER_CONV_IP_COUNT; ++i)
      fields.push_back(i == LOPPER_CONV_IP_N ? polyVal(xd[0]) : idx(ip[i]));
    Value ipPtr = ipBlock(fields);
    Value fpPtr = fpBlock({alpha, beta});
    Value wView =
        memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getF32Type()),
                               weightsArg, idx(wOffset), ValueRange{});
    callKernel("lopper_k_conv2d_f32_v1",
               {rtPtr, ipPtr, fpPtr, pointerOf(view(x)), pointerOf(wView),
                biasPtr, resPtr, pointerOf(view(result))});
    return true;
  }

  // Gemm and MatMul: one strided batched call.
  PolyVec ad = shapes.dims(x), bd = shapes.dims(w);
  const PolyVec &yd = shapes.dims(result);
  Poly M, N, K;
  Poly aRs, aCs, bRs, bCs, aBs = Poly::constant(0), bBs = Poly::constant(0);
  Poly batch = Poly::constant(1);
  bool transB = false;
  float scaleB = 1.0f, scaleBias = 1.0f;
  if (auto g = dyn_cast<GemmOp>(op)) {
    bool ta = g.getTransA();
    transB = g.getTransB();
    M = ta ? ad[1] : ad[0];
    K = ta ? ad[0] : ad[1];
    N = transB ? bd[0] : bd[1];
    aRs = ta ? Poly::constant(1) : ad[1];
    aCs = ta ? ad[1] : Poly::constant(1);
    bRs = transB ? Poly::constant(1) : bd[1];
    bCs = transB ? bd[1] : Poly::constant(1);
    scaleB = g.getAlpha().convertToFloat();
    scaleBias = g.getBeta().convertToFloat();
  } else {
    bool aVec = ad.size() == 1, bVec = bd.size() == 1;
    if (aVec)
      ad.insert(ad.begin(), Poly::constant(1));
    if (bVec)
      bd.push_back(Poly::constant(1));
    M = ad[ad.size() - 2];
    K = ad.back();
    N = bd.back();
    aRs = K;
    aCs = Poly::constant(1);
    bRs = N;
    bCs = Poly::constant(1);
    // Batch dims of the result (broadcast of both).
    size_t rb = yd.size() - (aVec ? 0 : 1) - (bVec ? 0 : 1);
    for (size_t i = 0; i < rb; ++i)
      batch = batch * yd[i];
    auto batchStride = [&](const PolyVec &d, Poly mat, Poly &bs) -> bool {
      size_t ob = d.size() - 2;
      bool all1 = true, full = ob == rb;
      for (size_t i = 0; i < ob; ++i) {
        if (!(d[i].isConstant() && d[i].constant() == 1))
          all1 = false;
        if (full && d[i] != yd[i])
          full = false;
      }
      if (all1) {
        bs = Poly::constant(0);
        return true;
      }
      if (full) {
        bs = mat;
        return true;
      }
      return false;
    };
    if (!batchStride(ad, M * K, aBs) || !batchStride(bd, K * N, bBs))
      return fail("partially broadcast batch dims are not supported yet");
  }
  int64_t biasKind = 0;
  Value biasPtr = zero;
  if (bias) {
    const PolyVec &bsh = shapes.dims(bias);
    Poly n = numel(bias);
    if (n.isConstant() && n.constant() == 1)
      biasKind = 3;
    else if (n == N && (bsh.size() == 1 || bsh[0] == Poly::constant(1)))
      biasKind = 1;
    else if (bsh.size() == 2 && bsh[0] == M && bsh[1] == Poly::constant(1))
      biasKind = 2;
    else if (bsh.size() == 2 && bsh[0] == M && bsh[1] == N)
      biasKind = 4;
    else
      return fail("unsupported bias shape");
    if (scaleBias != 1.0f) {
      std::vector<float> bv;
      if (!readF32(bias, bv))
        return fail("beta != 1 needs a constant C");
      for (float &f : bv)
        f *= scaleBias;
      int64_t off = addWeight(bv.data(), bv.size() * 4);
      Value v =
          memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getF32Type()),
                                 weightsArg, idx(off), ValueRange{});
      biasPtr = pointerOf(v);
    } else {
      biasPtr = pointerOf(view(bias));
    }
  }
  // A constant 2-D weight can run on the block-sparse kernel (16x1 blocks,
  // block[16, 1] in the [O, R] view): the cost model decides from the share
  // of blocks that hold a nonzero.
  bool sparseable = w.getDefiningOp<ConstantOp>() && bd.size() == 2 &&
                    bBs == Poly::constant(0) && aCs == Poly::constant(1) &&
                    K.isConstant() && N.isConstant() &&
                    (biasKind == 0 || biasKind == 1) && scaleBias == 1.0f;
  std::vector<float> wv;
  double density = 1.0;
  if (sparseable && (sparseable = readF32(w, wv))) {
    int64_t k = K.constant(), n = N.constant();
    int64_t rs = transB ? 1 : n, cs = transB ? k : 1;
    density = blockDensity(k, n, 1, [&](int64_t kk, int64_t j) {
      return wv[kk * rs + j * cs] != 0.0f;
    });
  }
  bool useSparse = false;
  if (!chooseKernel(op, KernelFamily::DenseF32,
                    sparseable ? std::optional(KernelFamily::BsrF32)
                               : std::nullopt,
                    density, 2.0 * nominal(batch * M * K * N),
                    nominal(batch * M), useSparse, error))
    return false;
  if (useSparse) {
    int64_t k = K.constant(), n = N.constant();
    int64_t rs = transB ? 1 : n, cs = transB ? k : 1;
    if (scaleB != 1.0f)
      for (float &x : wv)
        x *= scaleB;
    std::vector<uint8_t> buf(
        lopper_pack_matmul_bsr_f32_size(k, n, wv.data(), rs, cs));
    lopper_pack_matmul_bsr_f32(k, n, wv.data(), rs, cs, buf.data());
    int64_t off = addWeight(buf.data(), buf.size());
    SmallVector<Value> f(LOPPER_SMM_IP_COUNT);
    f[LOPPER_SMM_IP_BATCH] = polyVal(batch);
    f[LOPPER_SMM_IP_M] = polyVal(M);
    f[LOPPER_SMM_IP_N] = idx(n);
    f[LOPPER_SMM_IP_K] = idx(k);
    f[LOPPER_SMM_IP_A_BS] = polyVal(aBs);
    f[LOPPER_SMM_IP_A_RS] = polyVal(aRs);
    f[LOPPER_SMM_IP_R_BS] = polyVal(residual ? M * N : Poly::constant(0));
    f[LOPPER_SMM_IP_C_BS] = polyVal(M * N);
    f[LOPPER_SMM_IP_LDC] = idx(n);
    f[LOPPER_SMM_IP_ACT] = idx(act);
    Value wView =
        memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getI8Type()),
                               weightsArg, idx(off), ValueRange{});
    callKernel("lopper_k_matmul_bsr_f32_v1",
               {rtPtr, ipBlock(f), fpBlock({alpha, beta}), pointerOf(view(x)),
                pointerOf(wView), biasPtr, resPtr, pointerOf(view(result))});
    return true;
  }
  bool bConst = w.getDefiningOp<ConstantOp>() && bd.size() == 2 &&
                bBs == Poly::constant(0);
  Value bPtr;
  int64_t bPacked = 0;
  if (bConst) {
    std::vector<float> bv;
    if (!readF32(w, bv))
      return fail("cannot read the constant weight");
    if (!K.isConstant() || !N.isConstant())
      return fail("a constant weight needs static K and N");
    if (!packed.count(w) || scaleB != 1.0f) {
      if (scaleB != 1.0f)
        for (float &f : bv)
          f *= scaleB;
      int64_t k = K.constant(), n = N.constant();
      std::vector<float> buf(lopper_pack_matmul_b_f32_size(k, n));
      lopper_pack_matmul_b_f32(k, n, bv.data(), transB ? 1 : n, transB ? k : 1,
                               buf.data());
      packed[w] = addWeight(buf.data(), buf.size() * 4);
    }
    Value v =
        memref::ViewOp::create(b, loc, MemRefType::get({1}, b.getF32Type()),
                               weightsArg, idx(packed[w]), ValueRange{});
    bPtr = pointerOf(v);
    bPacked = 1;
    bBs = Poly::constant(0);
  } else {
    if (scaleB != 1.0f)
      return fail("alpha != 1 needs a constant B");
    bPtr = pointerOf(view(w));
  }
  SmallVector<Value> f(LOPPER_MM_IP_COUNT);
  f[LOPPER_MM_IP_BATCH] = polyVal(batch);
  f[LOPPER_MM_IP_M] = polyVal(M);
  f[LOPPER_MM_IP_N] = polyVal(N);
  f[LOPPER_MM_IP_K] = polyVal(K);
  f[LOPPER_MM_IP_A_BS] = polyVal(aBs);
  f[LOPPER_MM_IP_A_RS] = polyVal(aRs);
  f[LOPPER_MM_IP_A_CS] = polyVal(aCs);
  f[LOPPER_MM_IP_B_BS] = polyVal(bBs);
  f[LOPPER_MM_IP_B_RS] = polyVal(bRs);
  f[LOPPER_MM_IP_B_CS] = polyVal(bCs);
  f[LOPPER_MM_IP_B_PACKED] = idx(bPacked);
  f[LOPPER_MM_IP_BIAS_KIND] = idx(biasKind);
  f[LOPPER_MM_IP_R_BS] = polyVal(residual ? M * N : Poly::constant(0));
  f[LOPPER_MM_IP_C_BS] = polyVal(M * N);
  f[LOPPER_MM_IP_LDC] = polyVal(N);
  f[LOPPER_MM_IP_ACT] = idx(act);
  Value ipPtr = ipBlock(f);
  Value fpPtr = fpBlock({alpha, beta});
  callKernel("lopper_k_matmul_f32_v1",
             {rtPtr, ipPtr, fpPtr, pointerOf(view(x)), bPtr, biasPtr, resPtr,
              pointerOf(view(result))});
  return true;
}

//===----------------------------------------------------------------------===//
// Other ops: linalg.generic on views, or scf loops on flat views
//===----------------------------------------------------------------------===//

namespace {
/// Builds `for (i = lb; i < ub; ++i)` with iteration values.
scf::ForOp
forLoop(OpBuilder &b, Location loc, Value lb, Value ub, ValueRange init,
        function_ref<SmallVector<Value>(OpBuilder &, Value, ValueRange)> body) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  return scf::ForOp::create(
      b, loc, lb, ub, one, init,
      [&](OpBuilder &bb, Location l, Value iv, ValueRange args) {
        SmallVector<Value> r = body(bb, iv, args);
        scf::YieldOp::create(bb, l, r);
      });
}
} // namespace

bool Lowerer::emitOp(Operation *op, std::string &error) {
  auto fail = [&](const Twine &m) {
    error = ("node '" + getNodeName(op) + "' (" + getOnnxOpType(op) + "): " + m)
                .str();
    return false;
  };
  if (isa<ConvOp, GemmOp, MatMulOp>(op))
    return emitHeavy(op, error);
  if (isView(op))
    return true;
  if (isa<QuantizeOp, DequantizeOp>(op))
    return emitQuantizeOrDequantize(op, error);
  for (Value v : op->getOperands()) {
    Type e = cast<RankedTensorType>(v.getType()).getElementType();
    if (isa<quant::QuantizedType>(e))
      return fail("quantized tensors are not supported by the CPU code "
                  "generator yet");
  }
  bool handled = false;
  if (bool ok = emitMore(op, error, handled); handled)
    return ok;
  Value result = op->getResult(0);
  Type elem =
      signless(cast<RankedTensorType>(result.getType()).getElementType());
  auto fconst = [&](OpBuilder &bb, Location l, double v) -> Value {
    return arith::ConstantOp::create(bb, l, bb.getFloatAttr(elem, v));
  };

  // Elementwise families.
  if (isa<AddOp, SubOp, MulOp, DivOp, PowOp, EqualOp, LessOp, GreaterOp, AndOp,
          NotOp, WhereOp, SqrtOp, ReciprocalOp, ExpOp, LogOp, NegOp, AbsOp,
          ErfOp, TanhOp, SigmoidOp, ReluOp, HardSwishOp, LeakyReluOp, EluOp,
          HardSigmoidOp, GeluOp, ClipOp, CastOp>(op)) {
    Type inE =
        cast<RankedTensorType>(op->getOperand(0).getType()).getElementType();
    bool needsFloat = isa<SqrtOp, ReciprocalOp, ExpOp, LogOp, ErfOp, TanhOp,
                          SigmoidOp, HardSwishOp, LeakyReluOp, EluOp,
                          HardSigmoidOp, GeluOp, ClipOp, PowOp>(op);
    if (needsFloat && !isa<FloatType>(inE))
      return fail("integer operands are not supported for this op yet");
    // fp16/bf16: each element computes in f32 and the result is rounded to
    // the op's type (lop-widen-half leaves these ops to this path).
    bool half =
        !isa<CastOp>(op) && llvm::any_of(op->getOperandTypes(), [](Type t) {
          Type e = cast<ShapedType>(t).getElementType();
          return e.isF16() || e.isBF16();
        });
    if (isa<FloatType>(inE) && !inE.isF32() && !inE.isF64() && !half &&
        !isa<CastOp>(op))
      return fail("only fp16, bf16, fp32 and fp64 arithmetic is supported");
    Type f32 = b.getF32Type();
    Type resE = cast<ShapedType>(result.getType()).getElementType();
    bool bad = false;
    emitElementwise(
        result, llvm::to_vector(op->getOperands()),
        [&](OpBuilder &bb, Location l, ValueRange a) -> Value {
          SmallVector<Value> args(a.begin(), a.end());
          if (half)
            for (Value &x : args)
              if (x.getType().isF16() || x.getType().isBF16())
                x = arith::ExtFOp::create(bb, l, f32, x);
          Value v = scalarOp(op, bb, l, args, half ? f32 : Type());
          if (v && half && v.getType().isF32() &&
              (resE.isF16() || resE.isBF16()))
            v = resE.isBF16() ? truncToBF16(bb, l, v)
                              : Value(arith::TruncFOp::create(bb, l, resE, v));
          if (!v) {
            bad = true;
            v = a[0];
          }
          return v;
        });
    if (bad)
      return fail("unsupported element type for this op");
    return true;
  }
  if (!elem.isF32() &&
      isa<BatchNormOp, LayerNormOp, SoftmaxOp, LogSoftmaxOp, MaxPoolOp,
          AveragePoolOp, GlobalAveragePoolOp, GlobalMaxPoolOp, ReduceMeanOp>(
          op))
    return fail("only fp32 is supported for this op yet");

  if (auto bn = dyn_cast<BatchNormOp>(op)) {
    float eps = bn.getEpsilon().convertToFloat();
    std::vector<float> sc, bi, mean, var;
    if (readF32(bn.getScale(), sc) && readF32(bn.getBias(), bi) &&
        readF32(bn.getMean(), mean) && readF32(bn.getVariance(), var) &&
        sc.size() == bi.size() && sc.size() == mean.size() &&
        sc.size() == var.size()) {
      // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a,
      // computed once here in double.
      std::vector<float> a(sc.size()), c(sc.size());
      for (size_t i = 0; i < sc.size(); ++i) {
        double ai = sc[i] / std::sqrt((double)var[i] + (double)eps);
        a[i] = (float)ai;
        c[i] = (float)(bi[i] - mean[i] * ai);
      }
      int64_t aOff = addWeight(a.data(), a.size() * 4);
      int64_t cOff = addWeight(c.data(), c.size() * 4);
      Value aV = memref::ViewOp::create(
          b, loc, MemRefType::get({(int64_t)a.size()}, b.getF32Type()),
          weightsArg, idx(aOff), ValueRange{});
      Value cV = memref::ViewOp::create(
          b, loc, MemRefType::get({(int64_t)c.size()}, b.getF32Type()),
          weightsArg, idx(cOff), ValueRange{});
      unsigned rank = shapes.dims(result).size();
      MLIRContext *ctx = b.getContext();
      AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
      AffineMap ch = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
      SmallVector<utils::IteratorType> iters(rank,
                                             utils::IteratorType::parallel);
      linalg::GenericOp::create(
          b, loc, ValueRange{view(bn.getInput()), aV, cV},
          ValueRange{view(result)}, ArrayRef<AffineMap>{id, ch, ch, id}, iters,
          [&](OpBuilder &bb, Location l, ValueRange args) {
            Value y = math::FmaOp::create(bb, l, args[0], args[1], args[2]);
            linalg::YieldOp::create(bb, l, y);
          });
      return true;
    }
    emitElementwise(
        result, llvm::to_vector(op->getOperands()),
        [&](OpBuilder &bb, Location l, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(bb, l, a[0], a[3]);
          Value s = math::SqrtOp::create(
              bb, l, arith::AddFOp::create(bb, l, a[4], fconst(bb, l, eps)));
          Value y = arith::MulFOp::create(
              bb, l, arith::DivFOp::create(bb, l, d, s), a[1]);
          return arith::AddFOp::create(bb, l, y, a[2]);
        },
        /*channelOperands=*/{1, 2, 3, 4});
    return true;
  }

  if (auto e = dyn_cast<ExpandOp>(op)) {
    emitElementwise(result, {e.getInput()},
                    [&](OpBuilder &, Location, ValueRange a) { return a[0]; });
    return true;
  }
  if (auto c = dyn_cast<ConstantOfShapeOp>(op)) {
    TypedAttr fill;
    if (auto ia = dyn_cast<IntegerAttr>(c.getValue())) {
      fill =
          elem.isInteger(1)
              ? TypedAttr(
                    BoolAttr::get(b.getContext(), !ia.getValue().isZero()))
              : TypedAttr(IntegerAttr::get(elem, ia.getValue().getSExtValue()));
    } else if (auto fa = dyn_cast<FloatAttr>(c.getValue())) {
      fill = FloatAttr::get(elem, fa.getValueAsDouble());
    } else {
      auto attr = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!attr)
        return fail("unsupported fill value");
      if (isa<FloatType>(elem))
        fill = FloatAttr::get(elem, attr.getSplatValue<APFloat>());
      else if (elem.isInteger(1))
        fill = BoolAttr::get(b.getContext(), attr.getSplatValue<bool>());
      else
        fill =
            IntegerAttr::get(elem, attr.getSplatValue<APInt>().getSExtValue());
    }
    emitElementwise(result, {},
                    [&](OpBuilder &bb, Location l, ValueRange) -> Value {
                      return arith::ConstantOp::create(bb, l, fill);
                    });
    return true;
  }

  if (auto t = dyn_cast<TransposeOp>(op)) {
    auto perm = t.getPerm();
    unsigned rank = perm.size();
    // out[d0..] = in[...]: input dim perm[j] is indexed by d_j.
    SmallVector<AffineExpr> exprs(rank);
    for (unsigned j = 0; j < rank; ++j)
      exprs[perm[j]] = getAffineDimExpr(j, b.getContext());
    AffineMap inMap = AffineMap::get(rank, 0, exprs, b.getContext());
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    linalg::GenericOp::create(b, loc, ValueRange{view(t.getInput())},
                              ValueRange{view(result)},
                              ArrayRef<AffineMap>{inMap, id}, iters,
                              [&](OpBuilder &bb, Location l, ValueRange a) {
                                linalg::YieldOp::create(bb, l, a[0]);
                              });
    return true;
  }

  // Concat copies each input into a window of the output along the axis;
  // Split copies windows of the input out. `slab` views that window.
  auto slab = [&](Value whole, const PolyVec &d, int64_t axis,
                  const Poly &offset) -> Value {
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < d.size(); ++i) {
      offs.push_back(i == (size_t)axis ? OpFoldResult(polyVal(offset))
                                       : OpFoldResult(b.getIndexAttr(0)));
      sizes.push_back(d[i].isConstant()
                          ? OpFoldResult(b.getIndexAttr(d[i].constant()))
                          : OpFoldResult(polyVal(d[i])));
      strides.push_back(b.getIndexAttr(1));
    }
    return memref::SubViewOp::create(b, loc, whole, offs, sizes, strides);
  };
  if (auto c = dyn_cast<ConcatOp>(op)) {
    Value outV = view(result);
    Poly offset = Poly::constant(0);
    for (Value in : c.getInputs()) {
      const PolyVec &d = shapes.dims(in);
      emitCopy(view(in), slab(outV, d, c.getAxis(), offset));
      offset = offset + d[c.getAxis()];
    }
    return true;
  }
  if (auto s = dyn_cast<SplitOp>(op)) {
    Value inV = view(s.getInput());
    Poly offset = Poly::constant(0);
    for (Value r : s.getResults()) {
      const PolyVec &d = shapes.dims(r);
      emitCopy(slab(inV, d, s.getAxis(), offset), view(r));
      offset = offset + d[s.getAxis()];
    }
    return true;
  }

  if (auto s = dyn_cast<SliceOp>(op)) {
    const PolyVec &xd = shapes.dims(s.getInput());
    const PolyVec &yd = shapes.dims(result);
    const PolyVec *st = shapes.values(s.getStarts());
    auto axes = getKnownIntValues(s.getAxes());
    auto steps = getKnownIntValues(s.getSteps());
    if (!st || !axes || !steps)
      return fail("slice parameters must be known at compile time");
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < xd.size(); ++i) {
      offs.push_back(b.getIndexAttr(0));
      sizes.push_back(yd[i].isConstant()
                          ? OpFoldResult(b.getIndexAttr(yd[i].constant()))
                          : OpFoldResult(polyVal(yd[i])));
      strides.push_back(b.getIndexAttr(1));
    }
    for (size_t k = 0; k < axes->size(); ++k) {
      int64_t ax = (*axes)[k] < 0 ? (*axes)[k] + xd.size() : (*axes)[k];
      int64_t step = (*steps)[k];
      if (step <= 0)
        return fail("negative slice steps are not supported yet");
      Poly start = (*st)[k];
      if (start.isConstant()) {
        int64_t v = start.constant();
        if (xd[ax].isConstant()) {
          int64_t n = xd[ax].constant();
          if (v < 0)
            v += n;
          v = std::clamp<int64_t>(v, 0, n);
        } else if (v < 0) {
          return fail("a negative start on a dynamic dim is not supported");
        }
        offs[ax] = b.getIndexAttr(v);
      } else {
        offs[ax] = polyVal(start);
      }
      strides[ax] = b.getIndexAttr(step);
    }
    Value sub = memref::SubViewOp::create(b, loc, view(s.getInput()), offs,
                                          sizes, strides);
    emitCopy(sub, view(result));
    return true;
  }

  if (auto g = dyn_cast<GatherOp>(op)) {
    Value data = view(g.getInput()), indices = view(g.getIndices());
    const PolyVec &xd = shapes.dims(g.getInput());
    int64_t axis = g.getAxis();
    unsigned ir = shapes.dims(g.getIndices()).size();
    unsigned rank = shapes.dims(result).size();
    Value axisDim =
        xd[axis].isConstant() ? idx(xd[axis].constant()) : polyVal(xd[axis]);
    Type idxE = cast<MemRefType>(indices.getType()).getElementType();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    linalg::GenericOp::create(
        b, loc, ValueRange{}, ValueRange{view(result)}, ArrayRef<AffineMap>{id},
        iters, [&](OpBuilder &bb, Location l, ValueRange) {
          SmallVector<Value> ivs;
          for (unsigned i = 0; i < rank; ++i)
            ivs.push_back(linalg::IndexOp::create(bb, l, i));
          SmallVector<Value> iidx(ivs.begin() + axis, ivs.begin() + axis + ir);
          Value k = memref::LoadOp::create(bb, l, indices, iidx);
          k = idxE.isIndex() ? k
                             : Value(arith::IndexCastOp::create(
                                   bb, l, bb.getIndexType(), k));
          Value zero = arith::ConstantIndexOp::create(bb, l, 0);
          Value neg =
              arith::CmpIOp::create(bb, l, arith::CmpIPredicate::slt, k, zero);
          k = arith::SelectOp::create(
              bb, l, neg, arith::AddIOp::create(bb, l, k, axisDim), k);
          // Out-of-range indices are clamped rather than read out of bounds.
          Value hi = arith::SubIOp::create(
              bb, l, axisDim, arith::ConstantIndexOp::create(bb, l, 1));
          k = arith::MaxSIOp::create(
              bb, l, arith::MinSIOp::create(bb, l, k, hi), zero);
          SmallVector<Value> didx(ivs.begin(), ivs.begin() + axis);
          didx.push_back(k);
          didx.append(ivs.begin() + axis + ir, ivs.end());
          Value v = memref::LoadOp::create(bb, l, data, didx);
          linalg::YieldOp::create(bb, l, v);
        });
    return true;
  }

  // Row-wise ops on flat views: [outer, n, inner].
  auto flatDims = [&](Value v, int64_t from, int64_t to, Poly &outer, Poly &n,
                      Poly &inner) {
    const PolyVec &d = shapes.dims(v);
    outer = n = inner = Poly::constant(1);
    for (int64_t i = 0; i < (int64_t)d.size(); ++i)
      (i < from ? outer
       : i < to ? n
                : inner) = (i < from ? outer
                            : i < to ? n
                                     : inner) *
                           d[i];
  };
  auto pv = [&](const Poly &p) {
    return p.isConstant() ? idx(p.constant()) : polyVal(p);
  };

  if (isa<SoftmaxOp, LogSoftmaxOp>(op)) {
    int64_t axis = op->getAttrOfType<IntegerAttr>("axis").getInt();
    int64_t rank = shapes.dims(result).size();
    if (axis < 0)
      axis += rank;
    bool isLog = isa<LogSoftmaxOp>(op);
    Poly O, N, I;
    flatDims(result, axis, axis + 1, O, N, I);
    Value x = flatView(op->getOperand(0)), y = flatView(result);
    Value nV = pv(N), iV = pv(I), oV = pv(O), z = idx(0);
    Value ninner = arith::MulIOp::create(b, loc, nV, iV);
    forLoop(b, loc, z, oV, {}, [&](OpBuilder &bb, Value o, ValueRange) {
      forLoop(bb, loc, z, iV, {}, [&](OpBuilder &b2, Value i, ValueRange) {
        Value base = arith::AddIOp::create(
            b2, loc, arith::MulIOp::create(b2, loc, o, ninner), i);
        auto at = [&](OpBuilder &b3, Value k) -> Value {
          return arith::AddIOp::create(b3, loc, base,
                                       arith::MulIOp::create(b3, loc, k, iV));
        };
        Value ninf = fconst(b2, loc, -INFINITY);
        Value mx =
            forLoop(
                b2, loc, z, nV, {ninf},
                [&](OpBuilder &b3, Value k, ValueRange acc) {
                  Value v = memref::LoadOp::create(b3, loc, x, at(b3, k));
                  // maxnum with nnan: a reduction LLVM vectorizes
                  // (a NaN input makes the row NaN through the
                  // exp/sum below anyway).
                  return SmallVector<Value>{arith::MaxNumFOp::create(
                      b3, loc, acc[0], v,
                      arith::FastMathFlags::nnan | arith::FastMathFlags::nsz)};
                })
                .getResult(0);
        Value sum =
            forLoop(b2, loc, z, nV, {fconst(b2, loc, 0.0)},
                    [&](OpBuilder &b3, Value k, ValueRange acc) {
                      Value p = at(b3, k);
                      Value v = memref::LoadOp::create(b3, loc, x, p);
                      Value e = math::ExpOp::create(
                          b3, loc, arith::SubFOp::create(b3, loc, v, mx));
                      if (!isLog)
                        memref::StoreOp::create(b3, loc, e, y, p);
                      // reassoc: the sum may be split into vector lanes.
                      return SmallVector<Value>{arith::AddFOp::create(
                          b3, loc, acc[0], e, arith::FastMathFlags::reassoc)};
                    })
                .getResult(0);
        Value lse = isLog ? Value(arith::AddFOp::create(
                                b2, loc, mx, math::LogOp::create(b2, loc, sum)))
                          : Value(arith::DivFOp::create(
                                b2, loc, fconst(b2, loc, 1.0), sum));
        forLoop(b2, loc, z, nV, {}, [&](OpBuilder &b3, Value k, ValueRange) {
          Value p = at(b3, k);
          Value r;
          if (isLog) {
            Value v = memref::LoadOp::create(b3, loc, x, p);
            r = arith::SubFOp::create(b3, loc, v, lse);
          } else {
            Value v = memref::LoadOp::create(b3, loc, y, p);
            r = arith::MulFOp::create(b3, loc, v, lse);
          }
          memref::StoreOp::create(b3, loc, r, y, p);
          return SmallVector<Value>{};
        });
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    return true;
  }

  if (auto ln = dyn_cast<LayerNormOp>(op)) {
    int64_t axis = ln.getAxis();
    int64_t rank = shapes.dims(result).size();
    if (axis < 0)
      axis += rank;
    Poly O, N, I;
    flatDims(result, axis, rank, O, N, I);
    if (numel(ln.getScale()) != N || (ln.getBias() && numel(ln.getBias()) != N))
      return fail("scale and bias must cover the normalized axes exactly");
    Value x = flatView(ln.getInput()), y = flatView(result);
    Value sc = flatView(ln.getScale());
    Value bi = ln.getBias() ? flatView(ln.getBias()) : Value();
    Value nV = pv(N), oV = pv(O), z = idx(0);
    float eps = ln.getEpsilon().convertToFloat();
    forLoop(b, loc, z, oV, {}, [&](OpBuilder &bb, Value o, ValueRange) {
      Value base = arith::MulIOp::create(bb, loc, o, nV);
      Value nF = arith::UIToFPOp::create(
          bb, loc, elem,
          arith::IndexCastOp::create(bb, loc, bb.getI64Type(), nV));
      Value sum =
          forLoop(bb, loc, z, nV, {fconst(bb, loc, 0.0)},
                  [&](OpBuilder &b3, Value k, ValueRange acc) {
                    Value v = memref::LoadOp::create(
                        b3, loc, x,
                        ValueRange{arith::AddIOp::create(b3, loc, base, k)});
                    return SmallVector<Value>{arith::AddFOp::create(
                        b3, loc, acc[0], v, arith::FastMathFlags::reassoc)};
                  })
              .getResult(0);
      Value mean = arith::DivFOp::create(bb, loc, sum, nF);
      Value sq =
          forLoop(bb, loc, z, nV, {fconst(bb, loc, 0.0)},
                  [&](OpBuilder &b3, Value k, ValueRange acc) {
                    Value v = memref::LoadOp::create(
                        b3, loc, x,
                        ValueRange{arith::AddIOp::create(b3, loc, base, k)});
                    Value d = arith::SubFOp::create(b3, loc, v, mean);
                    return SmallVector<Value>{arith::AddFOp::create(
                        b3, loc, acc[0], arith::MulFOp::create(b3, loc, d, d),
                        arith::FastMathFlags::reassoc)};
                  })
              .getResult(0);
      Value var = arith::DivFOp::create(bb, loc, sq, nF);
      Value rstd = arith::DivFOp::create(
          bb, loc, fconst(bb, loc, 1.0),
          math::SqrtOp::create(
              bb, loc,
              arith::AddFOp::create(bb, loc, var, fconst(bb, loc, eps))));
      forLoop(bb, loc, z, nV, {}, [&](OpBuilder &b3, Value k, ValueRange) {
        Value p = arith::AddIOp::create(b3, loc, base, k);
        Value v = memref::LoadOp::create(b3, loc, x, ValueRange{p});
        Value r = arith::MulFOp::create(
            b3, loc,
            arith::MulFOp::create(
                b3, loc, arith::SubFOp::create(b3, loc, v, mean), rstd),
            memref::LoadOp::create(b3, loc, sc, ValueRange{k}));
        if (bi)
          r = arith::AddFOp::create(
              b3, loc, r, memref::LoadOp::create(b3, loc, bi, ValueRange{k}));
        memref::StoreOp::create(b3, loc, r, y, ValueRange{p});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    return true;
  }

  // Reductions over contiguous axes (global pools are one of them).
  if (isa<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp,
          GlobalAveragePoolOp, GlobalMaxPoolOp>(op)) {
    Value in = op->getOperand(0);
    int64_t rank = shapes.dims(in).size();
    int64_t from, to;
    if (isa<GlobalAveragePoolOp, GlobalMaxPoolOp>(op)) {
      from = 2;
      to = rank;
    } else {
      auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef();
      if (axes.empty()) {
        from = 0;
        to = rank;
      } else {
        from = axes.front();
        to = axes.back() + 1;
        if (to - from != (int64_t)axes.size())
          return fail("reducing non-adjacent axes is not supported yet");
      }
    }
    bool isMax = isa<ReduceMaxOp, GlobalMaxPoolOp>(op);
    bool isMin = isa<ReduceMinOp>(op);
    bool isMean = isa<ReduceMeanOp, GlobalAveragePoolOp>(op);
    if (!elem.isF32())
      return fail("only fp32 reductions are supported yet");
    Poly O, N, I;
    flatDims(in, from, to, O, N, I);
    Value x = flatView(in), y = flatView(result);
    Value nV = pv(N), iV = pv(I), oV = pv(O), z = idx(0);
    Value ninner = arith::MulIOp::create(b, loc, nV, iV);
    double init = isMax ? -INFINITY : isMin ? INFINITY : 0.0;
    forLoop(b, loc, z, oV, {}, [&](OpBuilder &bb, Value o, ValueRange) {
      forLoop(bb, loc, z, iV, {}, [&](OpBuilder &b2, Value i, ValueRange) {
        Value base = arith::AddIOp::create(
            b2, loc, arith::MulIOp::create(b2, loc, o, ninner), i);
        Value acc =
            forLoop(
                b2, loc, z, nV, {fconst(b2, loc, init)},
                [&](OpBuilder &b3, Value k, ValueRange a) {
                  Value p = arith::AddIOp::create(
                      b3, loc, base, arith::MulIOp::create(b3, loc, k, iV));
                  Value v = memref::LoadOp::create(b3, loc, x, p);
                  Value r =
                      isMax ? Value(arith::MaximumFOp::create(b3, loc, a[0], v))
                      : isMin
                          ? Value(arith::MinimumFOp::create(b3, loc, a[0], v))
                          : Value(arith::AddFOp::create(b3, loc, a[0], v));
                  return SmallVector<Value>{r};
                })
                .getResult(0);
        if (isMean) {
          Value nF = arith::UIToFPOp::create(
              b2, loc, elem,
              arith::IndexCastOp::create(b2, loc, b2.getI64Type(), nV));
          acc = arith::DivFOp::create(b2, loc, acc, nF);
        }
        Value outIdx = arith::AddIOp::create(
            b2, loc, arith::MulIOp::create(b2, loc, o, iV), i);
        memref::StoreOp::create(b2, loc, acc, y, ValueRange{outIdx});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    return true;
  }

  if (isa<MaxPoolOp, AveragePoolOp>(op)) {
    Value in = op->getOperand(0);
    const PolyVec &xd = shapes.dims(in), &yd = shapes.dims(result);
    if (xd.size() != 4)
      return fail("only 2-D pooling is supported yet");
    for (int i = 1; i < 4; ++i)
      if (!xd[i].isConstant() || !yd[i].isConstant())
        return fail("pooling needs static channel and spatial dims");
    auto ks = op->getAttrOfType<DenseI64ArrayAttr>("kernel_shape").asArrayRef();
    auto st = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
    auto pd = op->getAttrOfType<DenseI64ArrayAttr>("pads").asArrayRef();
    auto dl = op->getAttrOfType<DenseI64ArrayAttr>("dilations").asArrayRef();
    bool isMax = isa<MaxPoolOp>(op);
    bool countPad = false;
    if (auto a = dyn_cast<AveragePoolOp>(op))
      countPad = a.getCountIncludePad();
    int64_t H = xd[2].constant(), W = xd[3].constant();
    int64_t OH = yd[2].constant(), OW = yd[3].constant();
    Value x = flatView(in), y = flatView(result);
    Value z = idx(0);
    Value nc = polyVal(xd[0] * xd[1]);
    // Per output row: accumulate window tap (kh, kw) over the whole row at
    // once, so the innermost loop runs over output columns and vectorizes;
    // out-of-range taps load a clamped position and are selected away.
    auto inRange = [&](OpBuilder &bb, Value v, int64_t n) -> Value {
      Value ge =
          arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::sge, v, z);
      Value lt =
          arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::slt, v, idx(n));
      return arith::AndIOp::create(bb, loc, ge, lt);
    };
    auto clampIdx = [&](OpBuilder &bb, Value v, int64_t n) -> Value {
      return arith::MaxSIOp::create(
          bb, loc, arith::MinSIOp::create(bb, loc, v, idx(n - 1)), z);
    };
    // position = base * step - pad + k * dil
    auto tap = [&](OpBuilder &bb, Value o, int64_t step, int64_t pad, Value k,
                   int64_t dil) -> Value {
      return arith::AddIOp::create(
          bb, loc,
          arith::SubIOp::create(
              bb, loc, arith::MulIOp::create(bb, loc, o, idx(step)), idx(pad)),
          arith::MulIOp::create(bb, loc, k, idx(dil)));
    };
    auto noResults = SmallVector<Value>{};
    forLoop(b, loc, z, nc, {}, [&](OpBuilder &bb, Value c, ValueRange) {
      forLoop(
          bb, loc, z, idx(OH), {}, [&](OpBuilder &b2, Value oh, ValueRange) {
            Value rowBase = arith::MulIOp::create(
                b2, loc,
                arith::AddIOp::create(
                    b2, loc, arith::MulIOp::create(b2, loc, c, idx(OH)), oh),
                idx(OW));
            if (ks[0] * ks[1] <= 49) {
              // Small windows: every tap unrolled into one loop over the
              // row, the accumulator in a register.
              SmallVector<Value> rowOk, inBase;
              for (int64_t kh = 0; kh < ks[0]; ++kh) {
                Value ih = tap(b2, oh, st[0], pd[0], idx(kh), dl[0]);
                rowOk.push_back(inRange(b2, ih, H));
                inBase.push_back(arith::MulIOp::create(
                    b2, loc,
                    arith::AddIOp::create(
                        b2, loc, arith::MulIOp::create(b2, loc, c, idx(H)),
                        clampIdx(b2, ih, H)),
                    idx(W)));
              }
              forLoop(
                  b2, loc, z, idx(OW), {},
                  [&](OpBuilder &b3, Value ow, ValueRange) {
                    Value acc = fconst(b3, loc, isMax ? -INFINITY : 0.0);
                    for (int64_t kh = 0; kh < ks[0]; ++kh)
                      for (int64_t kw = 0; kw < ks[1]; ++kw) {
                        Value iw = tap(b3, ow, st[1], pd[1], idx(kw), dl[1]);
                        Value ok = arith::AndIOp::create(b3, loc, rowOk[kh],
                                                         inRange(b3, iw, W));
                        Value v = memref::LoadOp::create(
                            b3, loc, x,
                            ValueRange{arith::AddIOp::create(
                                b3, loc, inBase[kh], clampIdx(b3, iw, W))});
                        Value r =
                            isMax
                                ? Value(arith::MaximumFOp::create(b3, loc, acc,
                                                                  v))
                                : Value(arith::AddFOp::create(b3, loc, acc, v));
                        acc = arith::SelectOp::create(b3, loc, ok, r, acc);
                      }
                    memref::StoreOp::create(b3, loc, acc, y,
                                            ValueRange{arith::AddIOp::create(
                                                b3, loc, rowBase, ow)});
                    return noResults;
                  });
            } else {
              forLoop(b2, loc, z, idx(OW), {},
                      [&](OpBuilder &b3, Value ow, ValueRange) {
                        memref::StoreOp::create(
                            b3, loc, fconst(b3, loc, isMax ? -INFINITY : 0.0),
                            y,
                            ValueRange{
                                arith::AddIOp::create(b3, loc, rowBase, ow)});
                        return noResults;
                      });
              forLoop(
                  b2, loc, z, idx(ks[0]), {},
                  [&](OpBuilder &b3, Value kh, ValueRange) {
                    Value ih = tap(b3, oh, st[0], pd[0], kh, dl[0]);
                    Value rowOk = inRange(b3, ih, H);
                    Value inBase = arith::MulIOp::create(
                        b3, loc,
                        arith::AddIOp::create(
                            b3, loc, arith::MulIOp::create(b3, loc, c, idx(H)),
                            clampIdx(b3, ih, H)),
                        idx(W));
                    forLoop(
                        b3, loc, z, idx(ks[1]), {},
                        [&](OpBuilder &b4, Value kw, ValueRange) {
                          forLoop(
                              b4, loc, z, idx(OW), {},
                              [&](OpBuilder &b5, Value ow, ValueRange) {
                                Value iw = tap(b5, ow, st[1], pd[1], kw, dl[1]);
                                Value ok = arith::AndIOp::create(
                                    b5, loc, rowOk, inRange(b5, iw, W));
                                Value v = memref::LoadOp::create(
                                    b5, loc, x,
                                    ValueRange{arith::AddIOp::create(
                                        b5, loc, inBase, clampIdx(b5, iw, W))});
                                Value p =
                                    arith::AddIOp::create(b5, loc, rowBase, ow);
                                Value old = memref::LoadOp::create(
                                    b5, loc, y, ValueRange{p});
                                Value r = isMax
                                              ? Value(arith::MaximumFOp::create(
                                                    b5, loc, old, v))
                                              : Value(arith::AddFOp::create(
                                                    b5, loc, old, v));
                                memref::StoreOp::create(
                                    b5, loc,
                                    arith::SelectOp::create(b5, loc, ok, r,
                                                            old),
                                    y, ValueRange{p});
                                return noResults;
                              });
                          return noResults;
                        });
                    return noResults;
                  });
            }
            if (isMax)
              return noResults;
            // Average: divide by the window size, or by the number of taps that
            // fall inside the input when padding does not count. With
            // ceil_mode a last window can pass the end padding: taps there
            // never count (onnx's reference).
            Value rows = idx(ks[0]);
            auto counted = [&](OpBuilder &bb, Value pos, int64_t padBegin,
                               int64_t n, int64_t padEnd) {
              return countPad ? inRange(bb,
                                        arith::AddIOp::create(bb, loc, pos,
                                                              idx(padBegin)),
                                        padBegin + n + padEnd)
                              : inRange(bb, pos, n);
            };
            bool ceil = op->getAttrOfType<BoolAttr>("ceil_mode").getValue();
            if (!countPad || ceil)
              rows = forLoop(b2, loc, z, idx(ks[0]), {z},
                             [&](OpBuilder &b3, Value kh, ValueRange acc) {
                               Value ok = counted(
                                   b3, tap(b3, oh, st[0], pd[0], kh, dl[0]),
                                   pd[0], H, pd[2]);
                               Value one = arith::SelectOp::create(b3, loc, ok,
                                                                   idx(1), z);
                               return SmallVector<Value>{
                                   arith::AddIOp::create(b3, loc, acc[0], one)};
                             })
                         .getResult(0);
            forLoop(
                b2, loc, z, idx(OW), {},
                [&](OpBuilder &b3, Value ow, ValueRange) {
                  Value cols = idx(ks[1]);
                  if (!countPad || ceil)
                    cols =
                        forLoop(
                            b3, loc, z, idx(ks[1]), {z},
                            [&](OpBuilder &b4, Value kw, ValueRange acc) {
                              Value ok = counted(
                                  b4, tap(b4, ow, st[1], pd[1], kw, dl[1]),
                                  pd[1], W, pd[3]);
                              Value one = arith::SelectOp::create(b4, loc, ok,
                                                                  idx(1), z);
                              return SmallVector<Value>{
                                  arith::AddIOp::create(b4, loc, acc[0], one)};
                            })
                            .getResult(0);
                  Value n = arith::MulIOp::create(b3, loc, rows, cols);
                  Value nF = arith::SIToFPOp::create(
                      b3, loc, elem,
                      arith::IndexCastOp::create(b3, loc, b3.getI64Type(), n));
                  Value p = arith::AddIOp::create(b3, loc, rowBase, ow);
                  Value v = memref::LoadOp::create(b3, loc, y, ValueRange{p});
                  memref::StoreOp::create(b3, loc,
                                          arith::DivFOp::create(b3, loc, v, nF),
                                          y, ValueRange{p});
                  return noResults;
                });
            return noResults;
          });
      return noResults;
    });
    return true;
  }

  return fail("not supported by the CPU code generator yet");
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

bool Lowerer::run(const std::string &modelName, std::string &error) {
  srcFn = src.lookupSymbol<func::FuncOp>("main");
  if (!srcFn) {
    error = "the module has no @main function";
    return false;
  }
  if (!srcFn.getBody().hasOneBlock()) {
    error = "control flow in @main is not supported";
    return false;
  }
  if (!shapes.run(srcFn, error) || !plan(error))
    return false;
  // The weight blob is about the size of the constants (packing pads a
  // little): reserving it up front keeps a growing vector from holding two
  // copies of a multi-gigabyte blob while it reallocates.
  {
    uint64_t total = 0;
    srcFn.walk([&](ConstantOp c) {
      auto t = cast<ShapedType>(c.getValue().getType());
      total += t.getNumElements() * getStorageBytes(t.getElementType()) + 64;
    });
    out.weights.reserve(total + total / 32 + (1 << 20));
  }

  MLIRContext *ctx = src.getContext();
  ctx->loadDialect<arith::ArithDialect, func::FuncDialect,
                   linalg::LinalgDialect, math::MathDialect,
                   memref::MemRefDialect, scf::SCFDialect>();
  b = OpBuilder(ctx);
  loc = NameLoc::get(StringAttr::get(ctx, modelName));
  out.module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(out.module->getBody());
  auto bytesT = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  auto i64T = MemRefType::get({ShapedType::kDynamic}, b.getI64Type());
  unsigned nIn = srcFn.getNumArguments(), nOut = srcFn.getNumResults();
  SmallVector<Type> argTypes{bytesT, i64T, i64T, bytesT, bytesT};
  argTypes.append(nIn + nOut, bytesT);
  auto fnType = b.getFunctionType(argTypes, {});
  // @lopper_model calls one function per op (all with its signature), so
  // LLVM optimizes many small functions instead of one huge one: compile
  // time stays linear in the model size.
  auto mainFn = func::FuncOp::create(b, loc, "lopper_model", fnType);
  Block *mainEntry = mainFn.addEntryBlock();
  unsigned numFns = 0;
  // The arena buffers holding `values` (operands, results, materialized
  // values of one op), in first-seen order.
  SmallVector<unsigned> fnBufs;
  auto buffersOf = [&](ArrayRef<Value> values) {
    SmallVector<unsigned> ids;
    for (Value v : values) {
      Storage st = storage.lookup(v);
      if (st.kind == Storage::Arena && !llvm::is_contained(ids, st.index))
        ids.push_back(st.index);
    }
    return ids;
  };
  auto beginFunction = [&](ArrayRef<unsigned> bufs) {
    b.setInsertionPointToEnd(out.module->getBody());
    SmallVector<Type> types(argTypes);
    types.append(bufs.size(), bytesT);
    fn = func::FuncOp::create(b, loc, "lopper_op_" + std::to_string(numFns++),
                              b.getFunctionType(types, {}));
    fn.setPrivate();
    fn->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    // Inputs, outputs, weights and the op's own buffers never overlap one
    // another (the planner gives buffers live at the same op disjoint
    // bytes; callers pass distinct tensors).
    for (unsigned a = 4; a < types.size(); ++a)
      fn.setArgAttr(a, "llvm.noalias", b.getUnitAttr());
    entry = fn.addEntryBlock();
    rtArg = fn.getArgument(0);
    symsArg = fn.getArgument(1);
    offsetsArg = fn.getArgument(2);
    arenaArg = fn.getArgument(3);
    weightsArg = fn.getArgument(4);
    inArgs.clear();
    outArgs.clear();
    for (unsigned i = 0; i < nIn; ++i)
      inArgs.push_back(fn.getArgument(5 + i));
    for (unsigned i = 0; i < nOut; ++i)
      outArgs.push_back(fn.getArgument(5 + nIn + i));
    bufArgs.clear();
    for (auto [k, id] : llvm::enumerate(bufs))
      bufArgs[id] = fn.getArgument(5 + nIn + nOut + k);
    fnBufs.assign(bufs.begin(), bufs.end());
    polyCache.clear();
    b.setInsertionPointToEnd(entry);
    rtPtr = pointerOf(rtArg);
    prologueEnd = rtPtr.getDefiningOp();
  };
  // Profiling and tap calls are made from @lopper_model around the op's
  // call: inside, they would read buffers the op function holds noalias.
  auto endFunction = [&](int64_t opId, ArrayRef<int64_t> taps) {
    func::ReturnOp::create(b, loc);
    OpBuilder mb = OpBuilder::atBlockEnd(mainEntry);
    auto kernel = [&](StringRef name, int64_t arg) {
      if (!out.module->lookupSymbol<func::FuncOp>(name)) {
        OpBuilder db = OpBuilder::atBlockBegin(out.module->getBody());
        auto idxT = db.getIndexType();
        func::FuncOp::create(db, loc, name,
                             db.getFunctionType({idxT, idxT}, {}))
            .setPrivate();
      }
      Value rt = memref::ExtractAlignedPointerAsIndexOp::create(
          mb, loc, mainEntry->getArgument(0));
      Value a = arith::ConstantIndexOp::create(mb, loc, arg);
      func::CallOp::create(mb, loc, name, TypeRange{}, ValueRange{rt, a});
    };
    if (opId >= 0)
      kernel("lopper_k_op_begin_v1", opId);
    SmallVector<Value> args(mainEntry->getArguments());
    Value offsets = mainEntry->getArgument(2),
          arena = mainEntry->getArgument(3);
    for (unsigned id : fnBufs) {
      Value i = arith::ConstantIndexOp::create(mb, loc, id);
      Value o = memref::LoadOp::create(mb, loc, offsets, ValueRange{i});
      o = arith::IndexCastOp::create(mb, loc, mb.getIndexType(), o);
      Value zero = arith::ConstantIndexOp::create(mb, loc, 0);
      args.push_back(
          memref::ViewOp::create(mb, loc, bytesT, arena, o, ValueRange{zero}));
    }
    func::CallOp::create(mb, loc, fn, args);
    if (opId >= 0)
      kernel("lopper_k_op_end_v1", opId);
    for (int64_t t : taps)
      kernel("lopper_k_tap_v1", t);
  };

  auto tapName = [&](Operation *op, unsigned r) {
    std::string n = getNodeName(op);
    if (op->getNumResults() > 1)
      n += ":" + std::to_string(r);
    return n;
  };
  auto dimsText = [&](Value v) {
    std::string s;
    const PolyVec &d = shapes.dims(v);
    s += std::to_string(d.size());
    for (auto &p : d)
      s += " " + p.str();
    return s;
  };
  auto dtypeOf = [&](Value v) {
    return onnxDtype(cast<RankedTensorType>(v.getType()).getElementType());
  };

  for (auto [i, op] : llvm::enumerate(order)) {
    loc = op->getLoc();
    bool timed = !isView(op);
    if (!timed && materializeAt.lookup(op).empty()) {
      // A view: no code.
      opLines.push_back("op " + percentEncode(getOnnxOpType(op)) + " " +
                        percentEncode(getNodeName(op)));
      continue;
    }
    {
      SmallVector<Value> touched(op->getOperands());
      llvm::append_range(touched, op->getResults());
      llvm::append_range(touched, materializeAt.lookup(op));
      beginFunction(buffersOf(touched));
    }
    for (Value v : materializeAt.lookup(op))
      emitMaterialize(v);
    if (!emitOp(op, error))
      return false;
    opLines.push_back("op " + percentEncode(getOnnxOpType(op)) + " " +
                      percentEncode(getNodeName(op)));
    if (!timed) {
      endFunction(-1, {});
      continue;
    }
    SmallVector<int64_t> taps;
    for (Value r : op->getResults()) {
      Storage s = storage.lookup(r);
      if (s.kind != Storage::Arena && s.kind != Storage::Output)
        continue;
      unsigned t = tapLines.size();
      tapLines.push_back(
          "tap " +
          percentEncode(tapName(op, cast<OpResult>(r).getResultNumber())) +
          " " + std::to_string(dtypeOf(r)) + " " + dimsText(r) + " " +
          (s.kind == Storage::Arena ? "arena" : "output") + " " +
          std::to_string(s.index) + " 0");
      taps.push_back(t);
    }
    endFunction((int64_t)i, taps);
  }
  loc = mainFn.getLoc();
  auto ret = cast<func::ReturnOp>(srcFn.getBody().front().getTerminator());
  {
    SmallVector<Value> touched(materializeAt.lookup(ret));
    for (auto [v, k] : finalCopies)
      touched.push_back(v);
    beginFunction(buffersOf(touched));
  }
  for (Value v : materializeAt.lookup(ret))
    emitMaterialize(v);
  for (auto [v, k] : finalCopies) {
    Value from = view(v);
    MemRefType mt = memrefType(v);
    SmallVector<Value> dyn;
    for (auto &d : shapes.dims(v))
      if (!d.isConstant())
        dyn.push_back(polyVal(d));
    Value to = memref::ViewOp::create(b, loc, mt, outArgs[k], idx(0), dyn);
    emitCopy(from, to);
  }
  endFunction(-1, {});
  {
    OpBuilder mb = OpBuilder::atBlockEnd(mainEntry);
    func::ReturnOp::create(mb, loc);
  }

  // Metadata.
  std::string md;
  md += "lopper-artifact " + std::to_string(LOPPER_ABI_VERSION) + "\n";
  md += "model " + percentEncode(modelName) + "\n";
  md += "syms " + std::to_string(shapes.numSymbols());
  for (auto &n : shapes.symbolNames())
    md += " " + percentEncode(n);
  md += "\n";
  for (BlockArgument a : srcFn.getArguments()) {
    auto n = srcFn.getArgAttrOfType<StringAttr>(a.getArgNumber(), "lop.name");
    std::string name = n ? n.str() : "input" + std::to_string(a.getArgNumber());
    int dt = dtypeOf(a);
    if (!dt) {
      error = "input '" + name +
              "' has an element type the runtime cannot "
              "exchange";
      return false;
    }
    md += "input " + percentEncode(name) + " " + std::to_string(dt) + " " +
          dimsText(a) + "\n";
  }
  for (auto [k, v] : llvm::enumerate(ret.getOperands())) {
    auto n = srcFn.getResultAttrOfType<StringAttr>(k, "lop.name");
    std::string name = n ? n.str() : "output" + std::to_string(k);
    int dt = dtypeOf(v);
    if (!dt) {
      error = "output '" + name +
              "' has an element type the runtime cannot "
              "exchange";
      return false;
    }
    md += "output " + percentEncode(name) + " " + std::to_string(dt) + " " +
          dimsText(v) + "\n";
  }
  for (auto &c : shapes.checks())
    md += "check " + c.lhs.str() + (c.lessEqual ? " le " : " eq ") +
          c.rhs.str() + " " + percentEncode(c.node) + "\n";
  for (auto &bf : buffers)
    md += "buffer " + bf.bytes.str() + " " + std::to_string(bf.first) + " " +
          std::to_string(bf.last) + "\n";
  for (auto &l : opLines)
    md += l + "\n";
  for (auto &l : tapLines)
    md += l + "\n";
  md += "end\n";
  out.metadata = md;
  out.numInputs = nIn;
  out.numOutputs = nOut;
  out.numSymbols = shapes.numSymbols();
  out.numBuffers = buffers.size();
  out.numOps = order.size();
  out.symbolNames = shapes.symbolNames();
  // A weights blob is never empty (a zero-size section has no address).
  if (out.weights.empty())
    out.weights.resize(64, 0);
  out.weights.resize((out.weights.size() + 63) & ~size_t(63), 0);
  return true;
}

bool lopper::lowerLopToCPU(ModuleOp lopModule, const std::string &modelName,
                           LoweredModel &out, std::string &error,
                           const KernelConfig *config) {
  Lowerer l(lopModule, out, config);
  if (!l.run(modelName, error))
    return false;
  return l.checkRulesUsed(error);
}

#include "LowerMore.inc"

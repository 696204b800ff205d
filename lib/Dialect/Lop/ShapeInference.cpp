//===- ShapeInference.cpp - result types of lop ops -----------------------===//

#include "ShapeInference.h"
#include "lopper/Dialect/Lop/LopOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;

namespace lopper::lop::infer {

static constexpr int64_t kDyn = ShapedType::kDynamic;

static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

static std::string dimsToString(ArrayRef<int64_t> dims) {
  std::string s;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (i)
      s += "x";
    s += isDyn(d) ? "?" : std::to_string(d);
  }
  return s;
}

static RankedTensorType ranked(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// Fails with a message at `loc`, when there is one.
template <typename... Args> static LogicalResult fail(Loc loc, Args &&...args) {
  return emitOptionalError(loc, std::forward<Args>(args)...);
}

/// All operands must be ranked tensors; names them in the error otherwise.
static LogicalResult requireRanked(Loc loc, ArrayRef<Value> values) {
  for (auto [i, v] : llvm::enumerate(values))
    if (v && !ranked(v))
      return fail(loc, "operand #", i, " must be a ranked tensor, got ",
                  v.getType());
  return success();
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (isDyn(d))
      return kDyn;
    p *= d;
  }
  return p;
}

/// Element type of the float result that a quantized operand expresses.
static Type expressedOrSelf(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return q.getExpressedType();
  return t;
}

static void push(Types &types, ArrayRef<int64_t> dims, Type elem) {
  types.push_back(RankedTensorType::get(dims, elem));
}

/// Numpy broadcast of two shapes; failure on static sizes that disagree.
static FailureOr<Dims> broadcastDims(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x == 1)
      out[i] = y;
    else if (y == 1)
      out[i] = x;
    else if (isDyn(x))
      out[i] = y;
    else if (isDyn(y) || x == y)
      out[i] = x;
    else
      return failure();
  }
  return out;
}

/// True when `shape` broadcasts to `target` without changing it.
static bool broadcastsTo(ArrayRef<int64_t> shape, ArrayRef<int64_t> target) {
  if (shape.size() > target.size())
    return false;
  auto b = broadcastDims(target, shape);
  return succeeded(b) && ArrayRef<int64_t>(*b) == target;
}

LogicalResult sameAsInput(Loc loc, Value input, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  types.push_back(input.getType());
  return success();
}

LogicalResult broadcast(Loc loc, ArrayRef<Value> operands, Type resultElement,
                        bool sameElements, Types &types) {
  if (failed(requireRanked(loc, operands)))
    return failure();
  Dims dims;
  Type elem = ranked(operands[0]).getElementType();
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto t = ranked(v);
    if (sameElements && t.getElementType() != elem)
      return fail(loc, "operand element types differ: ", elem, " and ",
                  t.getElementType());
    if (i == 0) {
      dims.assign(t.getShape().begin(), t.getShape().end());
      continue;
    }
    auto b = broadcastDims(dims, t.getShape());
    if (failed(b))
      return fail(loc, "shapes ", dimsToString(dims), " and ",
                  dimsToString(t.getShape()), " do not broadcast");
    dims = *b;
  }
  push(types, dims, resultElement ? resultElement : elem);
  return success();
}

LogicalResult compare(Loc loc, Value lhs, Value rhs, Types &types) {
  if (failed(requireRanked(loc, {lhs, rhs})))
    return failure();
  return broadcast(loc, {lhs, rhs}, IntegerType::get(lhs.getContext(), 1), true,
                   types);
}

LogicalResult logical(Loc loc, Value lhs, Value rhs, Types &types) {
  if (failed(requireRanked(loc, {lhs, rhs})))
    return failure();
  if (!ranked(lhs).getElementType().isInteger(1))
    return fail(loc, "expects i1 operands, got ", ranked(lhs).getElementType());
  return broadcast(loc, {lhs, rhs}, Type(), true, types);
}

LogicalResult where(Loc loc, Value c, Value x, Value y, Types &types) {
  if (failed(requireRanked(loc, {c, x, y})))
    return failure();
  if (!ranked(c).getElementType().isInteger(1))
    return fail(loc, "condition must be i1, got ", ranked(c).getElementType());
  if (ranked(x).getElementType() != ranked(y).getElementType())
    return fail(loc,
                "x and y element types differ: ", ranked(x).getElementType(),
                " and ", ranked(y).getElementType());
  return broadcast(loc, {c, x, y}, ranked(x).getElementType(), false, types);
}

LogicalResult cast(Loc loc, Value input, Type to, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  if (!to || !to.isIntOrFloat())
    return fail(loc, "cast target must be an integer or float type, got ", to);
  push(types, ranked(input).getShape(), to);
  return success();
}

LogicalResult dequantize(Loc loc, Value input, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto q = dyn_cast<quant::QuantizedType>(ranked(input).getElementType());
  if (!q)
    return fail(loc, "operand must have a quantized element type, got ",
                ranked(input).getElementType());
  push(types, ranked(input).getShape(), q.getExpressedType());
  return success();
}

/// Checks the epilogue operands against the result shape `out` whose
/// output-channel axis is `channelAxis`.
static LogicalResult checkEpilogue(Loc loc, Epilogue ep, ArrayRef<int64_t> out,
                                   int64_t channelAxis) {
  if (failed(requireRanked(loc, {ep.bias, ep.residual})))
    return failure();
  if (ep.bias) {
    auto b = ranked(ep.bias);
    int64_t c = out[channelAxis];
    bool isChannelVector =
        b.getRank() == 1 && (isDyn(c) || b.isDynamicDim(0) ||
                             b.getDimSize(0) == c || b.getDimSize(0) == 1);
    if (!isChannelVector) {
      // A bias that broadcasts to the result (Gemm's C) is also accepted.
      if (!broadcastsTo(b.getShape(), out))
        return fail(loc, "bias of shape ", dimsToString(b.getShape()),
                    " does not fit output channels ",
                    isDyn(c) ? std::string("?") : std::to_string(c));
    }
  }
  if (ep.residual) {
    auto r = ranked(ep.residual);
    if (!broadcastsTo(r.getShape(), out))
      return fail(loc, "residual of shape ", dimsToString(r.getShape()),
                  " does not match the result shape ", dimsToString(out));
  }
  return success();
}

/// The accumulation type of a heavy op: float stays, quantized operands
/// accumulate to their expressed float type, plain integers to i32.
static FailureOr<Type> heavyResultElement(Loc loc, Type a, Type b) {
  bool qa = isa<quant::QuantizedType>(a), qb = isa<quant::QuantizedType>(b);
  // A float input with a quantized weight is dynamic quantization: the
  // kernel quantizes the input at run time.
  if (!qa && qb) {
    if (a != expressedOrSelf(b))
      return fail(loc, "a float input with a quantized weight must be the ",
                  "weight's expressed type, got ", a, " and ", b);
    return a;
  }
  if (qa != qb)
    return fail(loc, "a quantized input needs a quantized weight, got ", a,
                " and ", b);
  if (qa) {
    if (expressedOrSelf(a) != expressedOrSelf(b))
      return fail(loc, "input and weight express different types: ", a, " and ",
                  b);
    return expressedOrSelf(a);
  }
  // Integer operands (MatMulInteger, ConvInteger) may mix signedness.
  if (isa<IntegerType>(a) && isa<IntegerType>(b))
    return Type(IntegerType::get(a.getContext(), 32));
  if (a != b)
    return fail(loc, "input and weight element types differ: ", a, " and ", b);
  if (!isa<FloatType>(a))
    return fail(loc, "unsupported element type ", a);
  return a;
}

LogicalResult conv(Loc loc, Value input, Value weight, Epilogue ep,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                   ArrayRef<int64_t> dilations, int64_t group, bool transposed,
                   ArrayRef<int64_t> outputPadding, Types &types) {
  if (failed(requireRanked(loc, {input, weight})))
    return failure();
  auto x = ranked(input), w = ranked(weight);
  int64_t rank = x.getRank();
  if (rank < 3)
    return fail(loc, "input must have rank >= 3 (N, C, spatial...), got ",
                rank);
  if (w.getRank() != rank)
    return fail(loc, "weight rank ", w.getRank(), " differs from input rank ",
                rank);
  size_t spatial = rank - 2;
  if (strides.size() != spatial || dilations.size() != spatial)
    return fail(loc, "strides and dilations need ", spatial, " values");
  if (pads.size() != 2 * spatial)
    return fail(loc, "pads needs ", 2 * spatial, " values, got ", pads.size());
  if (transposed && outputPadding.size() != spatial)
    return fail(loc, "output_padding needs ", spatial, " values");
  if (group < 1)
    return fail(loc, "group must be >= 1, got ", group);
  for (size_t i = 0; i < spatial; ++i)
    if (strides[i] < 1 || dilations[i] < 1)
      return fail(loc, "strides and dilations must be >= 1");
  auto elem = heavyResultElement(loc, x.getElementType(), w.getElementType());
  if (failed(elem))
    return failure();

  int64_t c = x.getDimSize(1);
  int64_t m;
  if (!transposed) {
    int64_t wc = w.getDimSize(1);
    if (!isDyn(c) && !isDyn(wc) && c != wc * group)
      return fail(loc, "input has ", c, " channels but weight expects ",
                  wc * group, " (", wc, " x group ", group, ")");
    m = w.getDimSize(0);
    if (!isDyn(m) && m % group != 0)
      return fail(loc, "output channels ", m, " not divisible by group ",
                  group);
  } else {
    int64_t wc = w.getDimSize(0);
    if (!isDyn(c) && !isDyn(wc) && c != wc)
      return fail(loc, "input has ", c, " channels but weight expects ", wc);
    m = isDyn(w.getDimSize(1)) ? kDyn : w.getDimSize(1) * group;
  }
  Dims out{x.getDimSize(0), m};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(2 + i), k = w.getDimSize(2 + i);
    if (isDyn(in) || isDyn(k)) {
      out.push_back(kDyn);
      continue;
    }
    int64_t ext = dilations[i] * (k - 1) + 1;
    int64_t o;
    if (!transposed) {
      int64_t padded = in + pads[i] + pads[i + spatial];
      if (padded < ext)
        return fail(loc, "kernel extent ", ext, " exceeds padded input ",
                    padded, " on spatial axis ", i);
      o = (padded - ext) / strides[i] + 1;
    } else {
      o = strides[i] * (in - 1) + outputPadding[i] + ext - pads[i] -
          pads[i + spatial];
    }
    if (o < 1)
      return fail(loc, "output size ", o, " on spatial axis ", i, " is empty");
    out.push_back(o);
  }
  if (failed(checkEpilogue(loc, ep, out, 1)))
    return failure();
  push(types, out, *elem);
  return success();
}

LogicalResult gemm(Loc loc, Value a, Value b, Epilogue ep, bool transA,
                   bool transB, Types &types) {
  if (failed(requireRanked(loc, {a, b})))
    return failure();
  auto ta = ranked(a), tb = ranked(b);
  if (ta.getRank() != 2 || tb.getRank() != 2)
    return fail(loc, "operands must be 2-D, got ranks ", ta.getRank(), " and ",
                tb.getRank());
  auto elem = heavyResultElement(loc, ta.getElementType(), tb.getElementType());
  if (failed(elem))
    return failure();
  int64_t m = ta.getDimSize(transA ? 1 : 0), ka = ta.getDimSize(transA ? 0 : 1);
  int64_t kb = tb.getDimSize(transB ? 1 : 0), n = tb.getDimSize(transB ? 0 : 1);
  if (!isDyn(ka) && !isDyn(kb) && ka != kb)
    return fail(loc, "reduction sizes differ: ", ka, " and ", kb);
  Dims out{m, n};
  if (failed(checkEpilogue(loc, ep, out, 1)))
    return failure();
  push(types, out, *elem);
  return success();
}

LogicalResult matmul(Loc loc, Value a, Value b, Epilogue ep, Types &types) {
  if (failed(requireRanked(loc, {a, b})))
    return failure();
  auto ta = ranked(a), tb = ranked(b);
  if (ta.getRank() < 1 || tb.getRank() < 1)
    return fail(loc, "operands must have rank >= 1");
  auto elem = heavyResultElement(loc, ta.getElementType(), tb.getElementType());
  if (failed(elem))
    return failure();
  Dims sa(ta.getShape()), sb(tb.getShape());
  bool promoteA = sa.size() == 1, promoteB = sb.size() == 1;
  if (promoteA)
    sa.insert(sa.begin(), 1);
  if (promoteB)
    sb.push_back(1);
  int64_t ka = sa.back(), kb = sb[sb.size() - 2];
  if (!isDyn(ka) && !isDyn(kb) && ka != kb)
    return fail(loc, "reduction sizes differ: ", ka, " and ", kb);
  auto batch = broadcastDims(ArrayRef<int64_t>(sa).drop_back(2),
                             ArrayRef<int64_t>(sb).drop_back(2));
  if (failed(batch))
    return fail(loc, "batch dimensions do not broadcast");
  Dims out = *batch;
  if (!promoteA)
    out.push_back(sa[sa.size() - 2]);
  if (!promoteB)
    out.push_back(sb.back());
  if (out.empty() && (ep.bias || ep.residual))
    return fail(loc, "a bias or residual needs a result of rank >= 1");
  if (!out.empty() && failed(checkEpilogue(loc, ep, out, out.size() - 1)))
    return failure();
  push(types, out, *elem);
  return success();
}

LogicalResult batchNorm(Loc loc, Value input, ArrayRef<Value> params,
                        Types &types) {
  SmallVector<Value> all{input};
  all.append(params.begin(), params.end());
  if (failed(requireRanked(loc, all)))
    return failure();
  auto x = ranked(input);
  if (x.getRank() < 2)
    return fail(loc, "input must have rank >= 2, got ", x.getRank());
  int64_t c = x.getDimSize(1);
  static const char *names[] = {"scale", "bias", "mean", "variance"};
  for (auto [i, p] : llvm::enumerate(params)) {
    auto t = ranked(p);
    if (t.getRank() != 1 ||
        (!isDyn(c) && !t.isDynamicDim(0) && t.getDimSize(0) != c))
      return fail(loc, names[i], " must be 1-D of size ",
                  isDyn(c) ? std::string("C") : std::to_string(c), ", got ", t);
  }
  types.push_back(x);
  return success();
}

LogicalResult layerNorm(Loc loc, Value input, Value scale, Value bias,
                        int64_t axis, Types &types) {
  if (failed(requireRanked(loc, {input, scale, bias})))
    return failure();
  auto x = ranked(input);
  auto ax = normalizeAxis(axis, x.getRank());
  if (!ax)
    return fail(loc, "axis ", axis, " out of range for rank ", x.getRank());
  ArrayRef<int64_t> normShape = x.getShape().drop_front(*ax);
  for (Value p : {scale, bias}) {
    if (!p)
      continue;
    if (!broadcastsTo(ranked(p).getShape(), normShape))
      return fail(loc, "scale/bias of shape ",
                  dimsToString(ranked(p).getShape()),
                  " does not broadcast to the normalized shape ",
                  dimsToString(normShape));
  }
  types.push_back(x);
  return success();
}

LogicalResult pool(Loc loc, Value input, ArrayRef<int64_t> kernel,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                   ArrayRef<int64_t> dilations, bool ceilMode, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (x.getRank() < 3)
    return fail(loc, "input must have rank >= 3, got ", x.getRank());
  size_t spatial = x.getRank() - 2;
  if (kernel.size() != spatial || strides.size() != spatial ||
      dilations.size() != spatial || pads.size() != 2 * spatial)
    return fail(loc, "kernel_shape, strides and dilations need ", spatial,
                " values and pads ", 2 * spatial);
  Dims out{x.getDimSize(0), x.getDimSize(1)};
  for (size_t i = 0; i < spatial; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return fail(loc, "kernel_shape, strides and dilations must be >= 1");
    int64_t in = x.getDimSize(2 + i);
    if (isDyn(in)) {
      out.push_back(kDyn);
      continue;
    }
    int64_t ext = dilations[i] * (kernel[i] - 1) + 1;
    int64_t padded = in + pads[i] + pads[i + spatial];
    if (padded < ext)
      return fail(loc, "window ", ext, " exceeds padded input ", padded,
                  " on spatial axis ", i);
    int64_t span = padded - ext;
    int64_t o =
        (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) +
        1;
    // ONNX: the last window must start inside the input or its begin pad.
    if (ceilMode && (o - 1) * strides[i] >= in + pads[i])
      --o;
    out.push_back(o);
  }
  push(types, out, x.getElementType());
  return success();
}

LogicalResult globalPool(Loc loc, Value input, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (x.getRank() < 3)
    return fail(loc, "input must have rank >= 3, got ", x.getRank());
  Dims out{x.getDimSize(0), x.getDimSize(1)};
  out.append(x.getRank() - 2, 1);
  push(types, out, x.getElementType());
  return success();
}

LogicalResult reduce(Loc loc, Value input, ArrayRef<int64_t> axes,
                     bool keepdims, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  SmallVector<bool> reduced(x.getRank(), axes.empty());
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= x.getRank())
      return fail(loc, "axis ", a, " out of range for rank ", x.getRank());
    if (i && a <= axes[i - 1])
      return fail(loc, "axes must be sorted and unique");
    reduced[a] = true;
  }
  Dims out;
  for (int64_t i = 0; i < x.getRank(); ++i)
    if (!reduced[i])
      out.push_back(x.getDimSize(i));
    else if (keepdims)
      out.push_back(1);
  push(types, out, x.getElementType());
  return success();
}

LogicalResult argMax(Loc loc, Value input, int64_t axis, bool keepdims,
                     Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (axis < 0 || axis >= x.getRank())
    return fail(loc, "axis ", axis, " out of range for rank ", x.getRank());
  Dims out(x.getShape());
  if (keepdims)
    out[axis] = 1;
  else
    out.erase(out.begin() + axis);
  push(types, out, IntegerType::get(input.getContext(), 64));
  return success();
}

LogicalResult topK(Loc loc, Value input, Value k, int64_t axis, Types &types) {
  if (failed(requireRanked(loc, {input, k})))
    return failure();
  auto x = ranked(input);
  if (axis < 0 || axis >= x.getRank())
    return fail(loc, "axis ", axis, " out of range for rank ", x.getRank());
  auto kt = ranked(k);
  if (!kt.hasStaticShape() || kt.getNumElements() != 1 ||
      !kt.getElementType().isInteger(64))
    return fail(loc, "k must be a one-element i64 tensor, got ", kt);
  Dims out(x.getShape());
  out[axis] = kDyn;
  if (auto kv = getKnownIntValues(k); kv && !isDyn((*kv)[0])) {
    int64_t kval = (*kv)[0];
    if (kval < 0 || (!x.isDynamicDim(axis) && kval > x.getDimSize(axis)))
      return fail(loc, "k = ", kval, " out of range for axis size ",
                  x.getDimSize(axis));
    out[axis] = kval;
  }
  push(types, out, x.getElementType());
  push(types, out, IntegerType::get(input.getContext(), 64));
  return success();
}

/// A 1-D i64 shape operand with a static length; its known values.
static FailureOr<Dims> shapeOperand(Loc loc, Value shape, StringRef what) {
  auto t = ranked(shape);
  if (!t || t.getRank() != 1 || t.isDynamicDim(0) ||
      !t.getElementType().isInteger(64))
    return fail(loc, what, " must be a 1-D i64 tensor of static length, got ",
                shape.getType());
  auto v = getKnownIntValues(shape);
  if (!v)
    return Dims(t.getDimSize(0), kDyn);
  return *v;
}

LogicalResult reshape(Loc loc, Value input, Value shape, bool allowzero,
                      Types &types) {
  if (failed(requireRanked(loc, {input, shape})))
    return failure();
  auto x = ranked(input);
  auto s = shapeOperand(loc, shape, "shape");
  if (failed(s))
    return failure();
  Dims out;
  int inferIdx = -1;
  for (auto [i, v] : llvm::enumerate(*s)) {
    if (isDyn(v)) {
      out.push_back(kDyn);
    } else if (v == 0 && !allowzero) {
      if ((int64_t)i >= x.getRank())
        return fail(loc, "shape value 0 at index ", i,
                    " copies a dimension the input (rank ", x.getRank(),
                    ") does not have");
      out.push_back(x.getDimSize(i));
    } else if (v == -1) {
      if (inferIdx >= 0)
        return fail(loc, "shape has more than one -1");
      inferIdx = i;
      out.push_back(kDyn);
    } else if (v < 0) {
      return fail(loc, "invalid shape value ", v, " at index ", i);
    } else {
      out.push_back(v);
    }
  }
  int64_t total = product(x.getShape());
  if (inferIdx >= 0) {
    // Dimensions copied by 0 appear on both sides and cancel, so [0, -1] on
    // a dynamic batch still infers the -1.
    Dims in(x.getShape()), others;
    for (auto [i, v] : llvm::enumerate(*s)) {
      if ((int64_t)i == inferIdx)
        continue;
      if (v == 0 && !allowzero)
        in[i] = 1;
      else
        others.push_back(out[i]);
    }
    int64_t known = product(others);
    int64_t remaining = product(in);
    if (!isDyn(remaining) && !isDyn(known)) {
      if (known == 0 || remaining % known != 0)
        return fail(loc, "cannot reshape ", dimsToString(x.getShape()),
                    " into ", dimsToString(out));
      out[inferIdx] = remaining / known;
    }
  }
  int64_t outTotal = product(out);
  if (!isDyn(total) && !isDyn(outTotal) && total != outTotal)
    return fail(loc, "cannot reshape ", total, " elements (",
                dimsToString(x.getShape()), ") into ", dimsToString(out));
  push(types, out, x.getElementType());
  return success();
}

LogicalResult flatten(Loc loc, Value input, int64_t axis, Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (axis < 0 || axis > x.getRank())
    return fail(loc, "axis ", axis, " out of range [0, ", x.getRank(), "]");
  push(types,
       {product(x.getShape().take_front(axis)),
        product(x.getShape().drop_front(axis))},
       x.getElementType());
  return success();
}

LogicalResult transpose(Loc loc, Value input, ArrayRef<int64_t> perm,
                        Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if ((int64_t)perm.size() != x.getRank())
    return fail(loc, "perm has ", perm.size(), " entries for rank ",
                x.getRank());
  SmallVector<bool> seen(perm.size(), false);
  Dims out;
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return fail(loc, "perm is not a permutation of [0, ", x.getRank(), ")");
    seen[p] = true;
    out.push_back(x.getDimSize(p));
  }
  push(types, out, x.getElementType());
  return success();
}

static LogicalResult checkSortedAxes(Loc loc, ArrayRef<int64_t> axes,
                                     int64_t rank) {
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= rank)
      return fail(loc, "axis ", a, " out of range for rank ", rank);
    if (i && a <= axes[i - 1])
      return fail(loc, "axes must be sorted and unique");
  }
  return success();
}

LogicalResult squeeze(Loc loc, Value input, ArrayRef<int64_t> axes,
                      Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (failed(checkSortedAxes(loc, axes, x.getRank())))
    return failure();
  Dims out;
  for (int64_t i = 0; i < x.getRank(); ++i) {
    if (!llvm::is_contained(axes, i)) {
      out.push_back(x.getDimSize(i));
      continue;
    }
    if (!x.isDynamicDim(i) && x.getDimSize(i) != 1)
      return fail(loc, "cannot squeeze axis ", i, " of size ", x.getDimSize(i));
  }
  push(types, out, x.getElementType());
  return success();
}

LogicalResult unsqueeze(Loc loc, Value input, ArrayRef<int64_t> axes,
                        Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  int64_t rank = x.getRank() + axes.size();
  if (failed(checkSortedAxes(loc, axes, rank)))
    return failure();
  Dims out;
  auto it = x.getShape().begin();
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(llvm::is_contained(axes, i) ? 1 : *it++);
  push(types, out, x.getElementType());
  return success();
}

LogicalResult concat(Loc loc, ValueRange inputs, int64_t axis, Types &types) {
  if (inputs.empty())
    return fail(loc, "needs at least one input");
  SmallVector<Value> all(inputs.begin(), inputs.end());
  if (failed(requireRanked(loc, all)))
    return failure();
  auto first = ranked(inputs[0]);
  if (axis < 0 || axis >= first.getRank())
    return fail(loc, "axis ", axis, " out of range for rank ", first.getRank());
  Dims out(first.getShape());
  for (Value v : inputs.drop_front()) {
    auto t = ranked(v);
    if (t.getRank() != first.getRank() ||
        t.getElementType() != first.getElementType())
      return fail(loc, "inputs differ in rank or element type: ", first,
                  " and ", t);
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t d = t.getDimSize(i);
      if (i == axis) {
        out[i] = (isDyn(out[i]) || isDyn(d)) ? kDyn : out[i] + d;
      } else if (isDyn(out[i])) {
        out[i] = d;
      } else if (!isDyn(d) && d != out[i]) {
        return fail(loc, "inputs differ on axis ", i, ": ", out[i], " and ", d);
      }
    }
  }
  push(types, out, first.getElementType());
  return success();
}

LogicalResult split(Loc loc, Value input, int64_t axis, ArrayRef<int64_t> sizes,
                    Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if (axis < 0 || axis >= x.getRank())
    return fail(loc, "axis ", axis, " out of range for rank ", x.getRank());
  if (sizes.empty())
    return fail(loc, "split needs at least one size");
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return fail(loc, "split sizes must be >= 0");
    sum += s;
  }
  if (!x.isDynamicDim(axis) && sum != x.getDimSize(axis))
    return fail(loc, "split sizes sum to ", sum, " but axis ", axis,
                " has size ", x.getDimSize(axis));
  for (int64_t s : sizes) {
    Dims out(x.getShape());
    out[axis] = s;
    push(types, out, x.getElementType());
  }
  return success();
}

/// ONNX Slice length for one axis of static size `dim`.
static int64_t sliceLength(int64_t dim, int64_t start, int64_t end,
                           int64_t step) {
  auto clampIdx = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0)
      v += dim;
    return std::min(std::max(v, lo), hi);
  };
  if (step > 0) {
    start = clampIdx(start, 0, dim);
    end = clampIdx(end, 0, dim);
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = clampIdx(start, 0, dim - 1);
  end = clampIdx(end, -1, dim - 1);
  return start > end ? (start - end - step - 1) / -step : 0;
}

LogicalResult slice(Loc loc, Value input, Value starts, Value ends, Value axes,
                    Value steps, Types &types) {
  if (failed(requireRanked(loc, {input, starts, ends, axes, steps})))
    return failure();
  auto x = ranked(input);
  int64_t n = -1;
  for (Value v : {starts, ends, axes, steps}) {
    auto t = ranked(v);
    if (t.getRank() != 1 || !isa<IntegerType>(t.getElementType()))
      return fail(loc,
                  "starts, ends, axes and steps must be 1-D integer "
                  "tensors, got ",
                  t);
    if (!t.isDynamicDim(0)) {
      if (n >= 0 && n != t.getDimSize(0))
        return fail(loc, "starts, ends, axes and steps differ in length");
      n = t.getDimSize(0);
    }
  }
  Dims out(x.getShape());
  auto ax = getKnownIntValues(axes);
  if (!ax || llvm::any_of(*ax, isDyn)) {
    push(types, Dims(x.getRank(), kDyn), x.getElementType());
    return success();
  }
  auto st = getKnownIntValues(starts), en = getKnownIntValues(ends),
       sp = getKnownIntValues(steps);
  SmallVector<bool> seen(x.getRank(), false);
  for (auto [i, a] : llvm::enumerate(*ax)) {
    auto norm = normalizeAxis(a, x.getRank());
    if (!norm || seen[*norm])
      return fail(loc, "slice axis ", a, " out of range or repeated");
    seen[*norm] = true;
    int64_t dim = x.getDimSize(*norm);
    int64_t s = st ? (*st)[i] : kDyn, e = en ? (*en)[i] : kDyn,
            p = sp ? (*sp)[i] : kDyn;
    if (!isDyn(p) && p == 0)
      return fail(loc, "slice step must not be 0");
    out[*norm] = (isDyn(dim) || isDyn(s) || isDyn(e) || isDyn(p))
                     ? kDyn
                     : sliceLength(dim, s, e, p);
  }
  push(types, out, x.getElementType());
  return success();
}

LogicalResult gather(Loc loc, Value input, Value indices, int64_t axis,
                     Types &types) {
  if (failed(requireRanked(loc, {input, indices})))
    return failure();
  auto x = ranked(input), idx = ranked(indices);
  if (axis < 0 || axis >= x.getRank())
    return fail(loc, "axis ", axis, " out of range for rank ", x.getRank());
  if (!isa<IntegerType>(idx.getElementType()))
    return fail(loc, "indices must be integers, got ", idx.getElementType());
  Dims out(x.getShape().take_front(axis));
  out.append(idx.getShape().begin(), idx.getShape().end());
  out.append(x.getShape().begin() + axis + 1, x.getShape().end());
  push(types, out, x.getElementType());
  return success();
}

LogicalResult shape(Loc loc, Value input, int64_t start, int64_t end,
                    Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  int64_t rank = ranked(input).getRank();
  if (start < 0 || end > rank || start > end)
    return fail(loc, "start ", start, " and end ", end,
                " must satisfy 0 <= start <= end <= rank ", rank);
  push(types, {end - start}, IntegerType::get(input.getContext(), 64));
  return success();
}

LogicalResult constantOfShape(Loc loc, Value shape, TypedAttr value,
                              Types &types) {
  if (failed(requireRanked(loc, {shape})))
    return failure();
  auto s = shapeOperand(loc, shape, "shape");
  if (failed(s))
    return failure();
  for (int64_t d : *s)
    if (!isDyn(d) && d < 0)
      return fail(loc, "negative dimension ", d);
  if (!value || !value.getType().isIntOrIndexOrFloat())
    return fail(loc, "value must be a scalar integer or float attribute");
  push(types, *s, value.getType());
  return success();
}

LogicalResult expand(Loc loc, Value input, Value shape, Types &types) {
  if (failed(requireRanked(loc, {input, shape})))
    return failure();
  auto s = shapeOperand(loc, shape, "shape");
  if (failed(s))
    return failure();
  auto x = ranked(input);
  // An unknown target size broadcasts to the input's size unless that is 1.
  size_t rank = std::max<size_t>(x.getRank(), s->size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a =
        i < rank - x.getRank() ? 1 : x.getDimSize(i - (rank - x.getRank()));
    int64_t b = i < rank - s->size() ? 1 : (*s)[i - (rank - s->size())];
    if (isDyn(b))
      out[i] = (!isDyn(a) && a != 1) ? a : kDyn;
    else if (a == 1 || isDyn(a))
      out[i] = b == 1 ? a : b;
    else if (b == 1 || b == a)
      out[i] = a;
    else
      return fail(loc, "cannot expand ", dimsToString(x.getShape()), " to ",
                  dimsToString(*s));
  }
  push(types, out, x.getElementType());
  return success();
}

LogicalResult tile(Loc loc, Value input, Value repeats, Types &types) {
  if (failed(requireRanked(loc, {input, repeats})))
    return failure();
  auto r = shapeOperand(loc, repeats, "repeats");
  if (failed(r))
    return failure();
  auto x = ranked(input);
  if ((int64_t)r->size() != x.getRank())
    return fail(loc, "repeats has ", r->size(), " values for rank ",
                x.getRank());
  Dims out;
  for (auto [d, k] : llvm::zip(x.getShape(), *r))
    out.push_back(isDyn(d) || isDyn(k) ? kDyn : d * k);
  push(types, out, x.getElementType());
  return success();
}

LogicalResult range(Loc loc, Value start, Value limit, Value delta,
                    Types &types) {
  if (failed(requireRanked(loc, {start, limit, delta})))
    return failure();
  Type elem = ranked(start).getElementType();
  for (Value v : {start, limit, delta}) {
    if (ranked(v).getRank() != 0)
      return fail(loc, "start, limit and delta must be scalars (rank 0)");
    if (ranked(v).getElementType() != elem)
      return fail(loc, "start, limit and delta element types differ");
  }
  int64_t n = kDyn;
  auto s = getConstantFloatValues(start), l = getConstantFloatValues(limit),
       d = getConstantFloatValues(delta);
  if (s && l && d) {
    if ((*d)[0] == 0)
      return fail(loc, "delta must not be 0");
    n = std::max<int64_t>(0, (int64_t)std::ceil(((*l)[0] - (*s)[0]) / (*d)[0]));
  } else if (isa<IntegerType>(elem)) {
    // Integer ranges over shape values (Range(axis, Size(Shape(x)), 1)).
    auto si = getKnownIntValues(start), li = getKnownIntValues(limit),
         di = getKnownIntValues(delta);
    if (si && li && di && !isDyn((*si)[0]) && !isDyn((*li)[0]) &&
        !isDyn((*di)[0]) && (*di)[0] != 0) {
      int64_t span = (*li)[0] - (*si)[0], step = (*di)[0];
      n = std::max<int64_t>(0, (span + step + (step > 0 ? -1 : 1)) / step);
    }
  }
  push(types, {n}, elem);
  return success();
}

LogicalResult pad(Loc loc, Value input, ArrayRef<int64_t> pads, StringRef mode,
                  Types &types) {
  if (failed(requireRanked(loc, {input})))
    return failure();
  auto x = ranked(input);
  if ((int64_t)pads.size() != 2 * x.getRank())
    return fail(loc, "pads needs ", 2 * x.getRank(), " values, got ",
                pads.size());
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return fail(loc, "unknown pad mode '", mode, "'");
  Dims out;
  for (int64_t i = 0; i < x.getRank(); ++i) {
    int64_t d = x.getDimSize(i);
    int64_t o = isDyn(d) ? kDyn : d + pads[i] + pads[i + x.getRank()];
    if (!isDyn(o) && o < 0)
      return fail(loc, "padding makes axis ", i, " negative");
    out.push_back(o);
  }
  push(types, out, x.getElementType());
  return success();
}

LogicalResult resize(Loc loc, Value input, Value scales, Value sizes,
                     StringRef mode, Types &types) {
  if (failed(requireRanked(loc, {input, scales, sizes})))
    return failure();
  auto x = ranked(input);
  if (!scales == !sizes)
    return fail(loc, "exactly one of scales and sizes must be given");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return fail(loc, "unknown resize mode '", mode, "'");
  Dims out(x.getRank(), kDyn);
  if (sizes) {
    auto s = shapeOperand(loc, sizes, "sizes");
    if (failed(s))
      return failure();
    if ((int64_t)s->size() != x.getRank())
      return fail(loc, "sizes has ", s->size(), " values for rank ",
                  x.getRank());
    out = *s;
  } else {
    auto t = ranked(scales);
    if (t.getRank() != 1 ||
        (!t.isDynamicDim(0) && t.getDimSize(0) != x.getRank()))
      return fail(loc, "scales must be 1-D with one value per axis, got ", t);
    if (auto sv = getConstantFloatValues(scales)) {
      for (int64_t i = 0; i < x.getRank(); ++i)
        if (!x.isDynamicDim(i))
          out[i] = (int64_t)std::floor(x.getDimSize(i) * (*sv)[i]);
    }
  }
  push(types, out, x.getElementType());
  return success();
}

} // namespace lopper::lop::infer

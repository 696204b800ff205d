//===- ConvertNode.cpp - one ONNX node to lop ops -------------------------===//
//
// Each converter normalizes one ONNX operator across opsets: attribute and
// input forms become one form, auto_pad becomes explicit pads, negative axes
// become non-negative. Errors throw NodeError, which the graph importer turns
// into one line naming the node.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>

using namespace mlir;
using namespace lopper;
using namespace lopper::import;

namespace {
using Node = onnx::NodeProto;
using Converter = std::function<void(GraphImporter &, const Node &)>;

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

std::string typeText(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

NamedAttribute named(GraphImporter &gi, StringRef name, Attribute a) {
  return NamedAttribute(gi.b.getStringAttr(name), a);
}

DenseI64ArrayAttr i64s(GraphImporter &gi, ArrayRef<int64_t> v) {
  return gi.b.getDenseI64ArrayAttr(v);
}

int64_t normAxis(int64_t axis, int64_t rank, StringRef what = "axis") {
  if (axis < -rank || axis >= rank)
    throw NodeError{what.str() + " " + std::to_string(axis) +
                    " is out of range for rank " + std::to_string(rank)};
  return axis < 0 ? axis + rank : axis;
}

SmallVector<int64_t> normAxes(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> out;
  for (int64_t a : axes)
    out.push_back(normAxis(a, rank));
  llvm::sort(out);
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw NodeError{"axes repeat an axis"};
  return out;
}

/// The `axes` attribute normalized, in its own order (a repeated axis is an
/// error), or every axis 0..rank-1 when the node has none.
SmallVector<int64_t> axesAttrOrAll(const onnx::NodeProto &n, int64_t rank) {
  SmallVector<int64_t> axes;
  if (auto a = attrInts(n, "axes")) {
    for (int64_t v : *a)
      axes.push_back(normAxis(v, rank, "axes value"));
    normAxes(axes, rank); // throws on a repeated axis
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  return axes;
}

SmallVector<int64_t> constInts(Value v, StringRef what) {
  auto vals = lop::getKnownIntValues(v);
  if (!vals || llvm::any_of(*vals, ShapedType::isDynamic))
    throw NodeError{what.str() +
                    " must be known at compile time (a constant or a shape "
                    "computation on static dimensions)"};
  return *vals;
}

std::optional<double> constScalar(Value v, StringRef what) {
  if (!v)
    return std::nullopt;
  auto vals = lop::getConstantFloatValues(v);
  if (!vals || vals->size() != 1)
    throw NodeError{what.str() + " must be a constant scalar"};
  return (*vals)[0];
}

/// Output: one value; extra optional outputs the model uses are errors.
void single(GraphImporter &gi, const Node &n, Value v) {
  gi.setOutputs(n, ValueRange{v});
}

/// Every window size, stride and dilation is positive; the pad arithmetic
/// below divides by strides.
void checkWindow(ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> dilations) {
  for (auto [k, s, d] : llvm::zip(kernel, strides, dilations))
    if (k < 1 || s < 1 || d < 1)
      throw NodeError{"kernel_shape, strides and dilations must be >= 1"};
}

/// Explicit pads for auto_pad SAME_UPPER/SAME_LOWER/VALID/NOTSET.
SmallVector<int64_t> resolvePads(const Node &n, RankedTensorType x,
                                 ArrayRef<int64_t> kernel,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations) {
  size_t spatial = kernel.size();
  std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    auto pads =
        attrInts(n, "pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
    if (pads.size() != 2 * spatial)
      throw NodeError{"pads has " + std::to_string(pads.size()) +
                      " values, expected " + std::to_string(2 * spatial)};
    return pads;
  }
  if (autoPad == "VALID")
    return SmallVector<int64_t>(2 * spatial, 0);
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    throw NodeError{"unknown auto_pad '" + autoPad + "'"};
  SmallVector<int64_t> pads(2 * spatial, 0);
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(2 + i);
    if (ShapedType::isDynamic(in))
      throw NodeError{"auto_pad " + autoPad +
                      " needs static spatial sizes; pin them with "
                      "--input-shape"};
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t ext = dilations[i] * (kernel[i] - 1) + 1;
    int64_t total = std::max<int64_t>((out - 1) * strides[i] + ext - in, 0);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[i + spatial] = autoPad == "SAME_UPPER" ? large : small;
  }
  return pads;
}

SmallVector<int64_t> intsOr(const Node &n, StringRef name, size_t count,
                            int64_t def) {
  auto v = attrInts(n, name).value_or(SmallVector<int64_t>(count, def));
  if (v.size() != count)
    throw NodeError{name.str() + " has " + std::to_string(v.size()) +
                    " values, expected " + std::to_string(count)};
  return v;
}

SmallVector<int64_t> kernelOf(const Node &n, RankedTensorType w) {
  if (auto k = attrInts(n, "kernel_shape"))
    return *k;
  SmallVector<int64_t> k(w.getShape().drop_front(2));
  if (llvm::any_of(k, ShapedType::isDynamic))
    throw NodeError{"kernel_shape is absent and the weight's spatial sizes "
                    "are dynamic"};
  return k;
}

void convertConv(GraphImporter &gi, const Node &n, bool transposed) {
  Value x = gi.input(n, 0), w = gi.input(n, 1), bias = gi.optionalInput(n, 2);
  auto xt = typeOf(x), wt = typeOf(w);
  if (xt.getRank() < 3 || wt.getRank() != xt.getRank())
    throw NodeError{"input and weight must have the same rank >= 3"};
  size_t spatial = xt.getRank() - 2;
  auto kernel = kernelOf(n, wt);
  if (kernel.size() != spatial)
    throw NodeError{"kernel_shape has the wrong number of values"};
  auto strides = intsOr(n, "strides", spatial, 1);
  auto dilations = intsOr(n, "dilations", spatial, 1);
  checkWindow(kernel, strides, dilations);
  int64_t group = attrInt(n, "group", 1);
  SmallVector<NamedAttribute> attrs;
  SmallVector<int64_t> pads;
  if (!transposed) {
    pads = resolvePads(n, xt, kernel, strides, dilations);
  } else {
    auto outPad = intsOr(n, "output_padding", spatial, 0);
    auto outShape = attrInts(n, "output_shape");
    std::string autoPad = attrString(n, "auto_pad", "NOTSET");
    if (outShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      pads.assign(2 * spatial, 0);
      for (size_t i = 0; i < spatial; ++i) {
        int64_t in = xt.getDimSize(2 + i);
        if (ShapedType::isDynamic(in))
          throw NodeError{"output_shape/auto_pad need static spatial sizes"};
        int64_t want = outShape ? (*outShape)[outShape->size() - spatial + i]
                                : in * strides[i];
        int64_t total = strides[i] * (in - 1) + outPad[i] +
                        ((kernel[i] - 1) * dilations[i] + 1) - want;
        // ONNX: only SAME_UPPER puts the smaller half first. A negative
        // total (output_shape past the full result) pads with zeros after,
        // as the reference's floor division does.
        bool upper = autoPad == "SAME_UPPER";
        int64_t half = llvm::divideFloorSigned(total, 2);
        pads[i] = upper ? half : total - half;
        pads[i + spatial] = total - pads[i];
      }
    } else {
      pads = resolvePads(n, xt, kernel, strides, dilations);
    }
    attrs.push_back(named(gi, "output_padding", i64s(gi, outPad)));
  }
  SmallVector<Value> operands{x, w};
  if (bias)
    operands.push_back(bias);
  attrs.append({named(gi, "strides", i64s(gi, strides)),
                named(gi, "pads", i64s(gi, pads)),
                named(gi, "dilations", i64s(gi, dilations)),
                named(gi, "group", gi.b.getI64IntegerAttr(group)),
                named(gi, "operandSegmentSizes",
                      gi.b.getDenseI32ArrayAttr({1, 1, bias ? 1 : 0, 0}))});
  single(gi, n,
         gi.create1(transposed ? "conv_transpose" : "conv", operands, attrs));
}

void scaleGemmOperands(GraphImporter &gi, float &alpha, float &beta, Value &a,
                       Value w, Value &c);

void convertGemm(GraphImporter &gi, const Node &n) {
  Value a = gi.input(n, 0), w = gi.input(n, 1), c = gi.optionalInput(n, 2);
  float alpha = attrFloat(n, "alpha", 1), beta = attrFloat(n, "beta", 1);
  scaleGemmOperands(gi, alpha, beta, a, w, c);
  SmallVector<Value> operands{a, w};
  if (c)
    operands.push_back(c);
  single(gi, n,
         gi.create1(
             "gemm", operands,
             {named(gi, "alpha", gi.b.getF32FloatAttr(alpha)),
              named(gi, "beta", gi.b.getF32FloatAttr(beta)),
              named(gi, "transA", gi.b.getBoolAttr(attrInt(n, "transA", 0))),
              named(gi, "transB", gi.b.getBoolAttr(attrInt(n, "transB", 0))),
              named(gi, "operandSegmentSizes",
                    gi.b.getDenseI32ArrayAttr({1, 1, c ? 1 : 0, 0}))}));
}

/// MatMul batch dims that broadcast partially ([3, 1, M, K] x [1, 2, K, N]):
/// each operand is expanded to the common batch shape (static batch dims
/// only), since the matmul kernel takes a batch that is fully present or
/// absent per operand.
void expandMatMulBatch(GraphImporter &gi, Value &a, Value &b) {
  auto at = typeOf(a), bt = typeOf(b);
  if (at.getRank() < 3 || bt.getRank() < 3)
    return;
  int64_t ra = at.getRank() - 2, rb = bt.getRank() - 2, r = std::max(ra, rb);
  SmallVector<int64_t> batch(r, 1);
  for (int64_t i = 0; i < r; ++i) {
    int64_t da = i - (r - ra) >= 0 ? at.getDimSize(i - (r - ra)) : 1;
    int64_t db = i - (r - rb) >= 0 ? bt.getDimSize(i - (r - rb)) : 1;
    if (ShapedType::isDynamic(da) || ShapedType::isDynamic(db))
      return; // left to the code generator's rule
    if (da != db && da != 1 && db != 1)
      throw NodeError{"batch dims do not broadcast"};
    batch[i] = std::max(da, db);
  }
  auto expand = [&](Value &v, RankedTensorType t) {
    SmallVector<int64_t> shape(batch);
    shape.push_back(t.getDimSize(t.getRank() - 2));
    shape.push_back(t.getDimSize(t.getRank() - 1));
    if (llvm::any_of(shape, ShapedType::isDynamic) ||
        ArrayRef<int64_t>(shape) == t.getShape())
      return;
    v = gi.create1("expand", {v, gi.constI64(shape)});
  };
  auto partial = [&](RankedTensorType t) {
    int64_t off = r - (t.getRank() - 2);
    bool all1 = true, full = off == 0;
    for (int64_t i = 0; i + 2 < t.getRank(); ++i) {
      all1 = all1 && t.getDimSize(i) == 1;
      full = full && t.getDimSize(i) == batch[i + off];
    }
    return !all1 && !full;
  };
  if (partial(at) || partial(bt)) {
    expand(a, at);
    expand(b, bt);
  }
}

void convertMatMul(GraphImporter &gi, const Node &n) {
  Value a = gi.input(n, 0), b = gi.input(n, 1);
  expandMatMulBatch(gi, a, b);
  single(gi, n,
         gi.create1("matmul", {a, b},
                    {named(gi, "operandSegmentSizes",
                           gi.b.getDenseI32ArrayAttr({1, 1, 0, 0}))}));
}

void convertSoftmax(GraphImporter &gi, const Node &n, StringRef name) {
  Value x = gi.input(n, 0);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = normAxis(attrInt(n, "axis", gi.opset < 13 ? 1 : -1), rank);
  if (gi.opset >= 13 || axis == rank - 1) {
    single(gi, n,
           gi.create1(name, {x},
                      {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
    return;
  }
  // Before opset 13 the input is coerced to 2-D at `axis`.
  Value flat = gi.create1("flatten", {x},
                          {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
  Value sm =
      gi.create1(name, {flat}, {named(gi, "axis", gi.b.getI64IntegerAttr(1))});
  Value shape = gi.create1("shape", {x},
                           {named(gi, "start", gi.b.getI64IntegerAttr(0)),
                            named(gi, "end", gi.b.getI64IntegerAttr(rank))});
  single(gi, n, gi.create1("reshape", {sm, shape}));
}

Type elemOf(Value v);
Value reshapeTo(GraphImporter &gi, Value x, ArrayRef<int64_t> shape);
Value filled(GraphImporter &gi, Type elem, double v, ArrayRef<int64_t> shape);
RankedTensorType declaredFor(GraphImporter &gi, const Node &n, int out,
                             int64_t numel);
Value clipWithSelects(GraphImporter &gi, Value x, Value lo, Value hi);

void convertClip(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  std::optional<double> lo, hi;
  if (gi.opset < 11) {
    if (findAttr(n, "min"))
      lo = attrFloat(n, "min", 0);
    if (findAttr(n, "max"))
      hi = attrFloat(n, "max", 0);
  } else {
    Value loV = gi.optionalInput(n, 1), hiV = gi.optionalInput(n, 2);
    auto isConst = [](Value b) {
      auto vals = b ? lop::getConstantFloatValues(b) : std::nullopt;
      return !b || (vals && vals->size() == 1);
    };
    if (!isConst(loV) || !isConst(hiV) || !isa<FloatType>(elemOf(x)))
      return single(gi, n, clipWithSelects(gi, x, loV, hiV));
    lo = constScalar(loV, "Clip min");
    hi = constScalar(hiV, "Clip max");
  }
  SmallVector<NamedAttribute> attrs;
  if (lo)
    attrs.push_back(named(gi, "min", gi.b.getF32FloatAttr(*lo)));
  if (hi)
    attrs.push_back(named(gi, "max", gi.b.getF32FloatAttr(*hi)));
  single(gi, n, gi.create1("clip", {x}, attrs));
}

Value poolAnyRank(GraphImporter &gi, const Node &n, StringRef kind, Value x,
                  bool countPad);

void convertMaxPoolWithIndices(GraphImporter &gi, const Node &n);

void convertPool(GraphImporter &gi, const Node &n, bool isMax) {
  if (isMax && n.output_size() > 1 && !n.output(1).empty())
    return convertMaxPoolWithIndices(gi, n);
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  if (xt.getRank() < 3)
    throw NodeError{"input must have rank >= 3"};
  size_t spatial = xt.getRank() - 2;
  if (spatial != 2)
    return single(gi, n,
                  poolAnyRank(gi, n, isMax ? "max_pool" : "average_pool", x,
                              !isMax && attrInt(n, "count_include_pad", 0)));
  auto kernel = attrInts(n, "kernel_shape");
  if (!kernel || kernel->size() != spatial)
    throw NodeError{"kernel_shape must have one value per spatial axis"};
  auto strides = intsOr(n, "strides", spatial, 1);
  auto dilations = intsOr(n, "dilations", spatial, 1);
  checkWindow(*kernel, strides, dilations);
  auto pads = resolvePads(n, xt, *kernel, strides, dilations);
  SmallVector<NamedAttribute> attrs{
      named(gi, "kernel_shape", i64s(gi, *kernel)),
      named(gi, "strides", i64s(gi, strides)),
      named(gi, "pads", i64s(gi, pads)),
      named(gi, "dilations", i64s(gi, dilations)),
      named(gi, "ceil_mode", gi.b.getBoolAttr(attrInt(n, "ceil_mode", 0)))};
  if (!isMax)
    attrs.push_back(
        named(gi, "count_include_pad",
              gi.b.getBoolAttr(attrInt(n, "count_include_pad", 0))));
  single(gi, n, gi.create1(isMax ? "max_pool" : "average_pool", {x}, attrs));
}

Value reduceBy(GraphImporter &gi, const Node &n, StringRef kind, Value x,
               int64_t inputSince);

void convertReduce(GraphImporter &gi, const Node &n, StringRef name,
                   int64_t inputSince) {
  single(gi, n,
         reduceBy(gi, n, name.drop_front(strlen("reduce_")), gi.input(n, 0),
                  inputSince));
}

/// A shape operand known at compile time, or else the shape the model
/// declares for the node's output `out` (static, with `numel` elements when
/// that is given): values that only change the result's shape (Reshape's
/// shape, Squeeze's axes, Expand's shape...) are then taken from the
/// model's own declaration instead of being read at run time.
bool knownInts(Value v) {
  auto vals = lop::getKnownIntValues(v);
  return vals && llvm::none_of(*vals, ShapedType::isDynamic);
}
RankedTensorType declaredFor(GraphImporter &gi, const Node &n, int out,
                             int64_t numel = -1) {
  if (out >= n.output_size())
    return {};
  auto t = gi.declaredStaticType(n.output(out));
  if (t && numel >= 0 && t.getNumElements() != numel)
    return {};
  return t;
}
int64_t staticNumel(Value v) {
  auto t = typeOf(v);
  return t.hasStaticShape() ? t.getNumElements() : -2;
}

void convertSplit(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  int64_t axis = normAxis(attrInt(n, "axis", 0), xt.getRank());
  SmallVector<int64_t> sizes;
  if (gi.opset < 13) {
    if (auto s = attrInts(n, "split"))
      sizes = *s;
  } else if (Value s = gi.optionalInput(n, 1)) {
    if (!knownInts(s)) {
      int64_t axisDim = 0;
      for (int i = 0; i < n.output_size(); ++i) {
        auto t = declaredFor(gi, n, i);
        if (!t || t.getRank() != xt.getRank())
          throw NodeError{"split must be known at compile time, or every "
                          "output's shape declared in the model"};
        sizes.push_back(t.getDimSize(axis));
        axisDim += sizes.back();
      }
      if (axisDim != xt.getDimSize(axis))
        throw NodeError{"the declared outputs do not add up to the input"};
    } else {
      sizes = constInts(s, "split");
    }
  }
  if (sizes.empty()) {
    int64_t parts = gi.opset >= 18 && findAttr(n, "num_outputs")
                        ? attrInt(n, "num_outputs", 1)
                        : n.output_size();
    int64_t dim = xt.getDimSize(axis);
    if (ShapedType::isDynamic(dim))
      throw NodeError{"an even split needs a static size on axis " +
                      std::to_string(axis)};
    if (parts < 1)
      throw NodeError{"split needs at least one output"};
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if ((int64_t)sizes.size() != n.output_size())
    throw NodeError{"split has " + std::to_string(sizes.size()) +
                    " sizes for " + std::to_string(n.output_size()) +
                    " outputs"};
  Operation *op = gi.create("split", {x},
                            {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
                             named(gi, "split", i64s(gi, sizes))},
                            sizes.size());
  gi.setOutputs(n, op->getResults());
}

void convertSlice(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  int64_t rank = typeOf(x).getRank();
  Value starts, ends, axes, steps;
  if (gi.opset < 10) {
    auto s = attrInts(n, "starts"), e = attrInts(n, "ends");
    if (!s || !e || s->size() != e->size())
      throw NodeError{"starts and ends must be given with equal lengths"};
    starts = gi.constI64(*s);
    ends = gi.constI64(*e);
    if (auto a = attrInts(n, "axes"))
      axes = gi.constI64(*a);
  } else {
    starts = gi.input(n, 1);
    ends = gi.input(n, 2);
    axes = gi.optionalInput(n, 3);
    steps = gi.optionalInput(n, 4);
  }
  auto st = typeOf(starts);
  if (st.getRank() != 1 || st.isDynamicDim(0))
    throw NodeError{"starts must be 1-D with a static length"};
  int64_t count = st.getDimSize(0);
  if (count > rank)
    throw NodeError{"slices more axes than the input has"};
  if (!axes) {
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < count; ++i)
      all.push_back(i);
    axes = gi.constI64(all);
  }
  if (!steps)
    steps = gi.constI64(SmallVector<int64_t>(count, 1));
  Value r = gi.create1("slice", {x, starts, ends, axes, steps});
  // Parameters fed at run time: the result's shape is the declared one
  // (code generation reads the starts and steps at run time).
  if (!typeOf(r).hasStaticShape())
    if (auto t = declaredFor(gi, n, 0);
        t &&
        lop::areCompatibleReturnTypes(TypeRange{r.getType()}, TypeRange{t}))
      r.setType(t);
  single(gi, n, r);
}

void convertSqueeze(GraphImporter &gi, const Node &n, bool unsqueeze) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  std::optional<SmallVector<int64_t>> axes;
  if (gi.opset < 13)
    axes = attrInts(n, "axes");
  else if (Value a = gi.optionalInput(n, 1)) {
    if (!knownInts(a)) {
      if (auto t = declaredFor(gi, n, 0, staticNumel(x)))
        return single(gi, n, reshapeTo(gi, x, t.getShape()));
    }
    axes = constInts(a, "axes");
  }
  SmallVector<int64_t> norm;
  if (unsqueeze) {
    if (!axes)
      throw NodeError{"Unsqueeze needs axes"};
    norm = normAxes(*axes, xt.getRank() + axes->size());
  } else if (axes) {
    norm = normAxes(*axes, xt.getRank());
  } else {
    for (int64_t i = 0; i < xt.getRank(); ++i) {
      if (xt.isDynamicDim(i))
        throw NodeError{"Squeeze without axes needs static sizes (axis " +
                        std::to_string(i) + " is dynamic)"};
      if (xt.getDimSize(i) == 1)
        norm.push_back(i);
    }
  }
  single(gi, n,
         gi.create1(unsqueeze ? "unsqueeze" : "squeeze", {x},
                    {named(gi, "axes", i64s(gi, norm))}));
}

void convertPad(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> pads;
  double value = 0;
  if (gi.opset < 11) {
    pads = attrInts(n, "pads").value_or(SmallVector<int64_t>());
    value = attrFloat(n, "value", 0);
  } else {
    pads = constInts(gi.input(n, 1), "pads");
    if (auto v = constScalar(gi.optionalInput(n, 2), "constant_value"))
      value = *v;
    if (Value a = gi.optionalInput(n, 3)) {
      auto axes = constInts(a, "axes");
      if (pads.size() != 2 * axes.size())
        throw NodeError{"pads must have two values per axis"};
      SmallVector<int64_t> full(2 * rank, 0);
      for (auto [i, ax] : llvm::enumerate(axes)) {
        int64_t a2 = normAxis(ax, rank);
        full[a2] = pads[i];
        full[a2 + rank] = pads[i + axes.size()];
      }
      pads = full;
    }
  }
  single(
      gi, n,
      gi.create1("pad", {x},
                 {named(gi, "pads", i64s(gi, pads)),
                  named(gi, "mode",
                        gi.b.getStringAttr(attrString(n, "mode", "constant"))),
                  named(gi, "value", gi.b.getF64FloatAttr(value))}));
}

void resolveResize(GraphImporter &gi, const Node &n, Value x, Value roi,
                   Value &scales, Value &sizes,
                   SmallVectorImpl<NamedAttribute> &attrs);

void convertResize(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  Value scales, sizes, roi;
  if (gi.opset < 11) {
    scales = gi.input(n, 1);
  } else {
    roi = gi.optionalInput(n, 1);
    scales = gi.optionalInput(n, 2);
    sizes = gi.optionalInput(n, 3);
    if (scales && typeOf(scales).getNumElements() == 0)
      scales = {};
  }
  SmallVector<NamedAttribute> extra;
  resolveResize(gi, n, x, roi, scales, sizes, extra);
  std::string mode = attrString(n, "mode", "nearest");
  SmallVector<NamedAttribute> attrs{
      named(gi, "mode", gi.b.getStringAttr(mode)),
      named(gi, "coordinate_transformation_mode",
            gi.b.getStringAttr(
                attrString(n, "coordinate_transformation_mode",
                           gi.opset < 11 ? "asymmetric" : "half_pixel"))),
      named(gi, "nearest_mode",
            gi.b.getStringAttr(
                attrString(n, "nearest_mode",
                           gi.opset < 11 ? "floor" : "round_prefer_floor"))),
      named(gi, "cubic_coeff_a",
            gi.b.getF32FloatAttr(attrFloat(n, "cubic_coeff_a", -0.75f))),
      named(gi, "operandSegmentSizes",
            gi.b.getDenseI32ArrayAttr({1, scales ? 1 : 0, sizes ? 1 : 0}))};
  attrs.append(extra);
  SmallVector<Value> operands{x};
  if (scales)
    operands.push_back(scales);
  if (sizes)
    operands.push_back(sizes);
  single(gi, n, gi.create1("resize", operands, attrs));
}

void convertTopK(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  Value k = gi.opset < 10 ? gi.constI64({attrInt(n, "k", 1)}) : gi.input(n, 1);
  int64_t axis = normAxis(attrInt(n, "axis", -1), typeOf(x).getRank());
  Operation *op = gi.create(
      "topk", {x, k},
      {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
       named(gi, "largest", gi.b.getBoolAttr(attrInt(n, "largest", 1))),
       named(gi, "sorted", gi.b.getBoolAttr(attrInt(n, "sorted", 1)))},
      2);
  gi.setOutputs(n, op->getResults());
}

void convertConstant(GraphImporter &gi, const Node &n) {
  if (const auto *a = findAttr(n, "value")) {
    single(gi, n, gi.constant(gi.tensorToAttr(a->t(), "Constant value")));
    return;
  }
  auto f32 = [&](ArrayRef<float> v, bool scalar) {
    auto t = RankedTensorType::get(
        scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)v.size()},
        gi.b.getF32Type());
    return gi.constant(DenseElementsAttr::get(t, v));
  };
  if (const auto *a = findAttr(n, "value_float"))
    return single(gi, n, f32({a->f()}, true));
  if (const auto *a = findAttr(n, "value_floats"))
    return single(
        gi, n,
        f32(SmallVector<float>(a->floats().begin(), a->floats().end()), false));
  if (const auto *a = findAttr(n, "value_int"))
    return single(gi, n, gi.constI64({a->i()}, true));
  if (const auto *a = findAttr(n, "value_ints"))
    return single(
        gi, n,
        gi.constI64(SmallVector<int64_t>(a->ints().begin(), a->ints().end())));
  throw NodeError{"only value, value_float(s) and value_int(s) constants are "
                  "supported"};
}

void convertConstantOfShape(GraphImporter &gi, const Node &n) {
  Value shape = gi.input(n, 0);
  if (!knownInts(shape))
    if (auto t = declaredFor(gi, n, 0))
      shape = gi.constI64(t.getShape());
  TypedAttr value = gi.b.getF32FloatAttr(0);
  if (const auto *a = findAttr(n, "value")) {
    ElementsAttr e = gi.tensorToAttr(a->t(), "ConstantOfShape value");
    auto vals = lop::readElementsAsDouble(e);
    if (e.getNumElements() != 1 || !vals)
      throw NodeError{"value must be a one-element numeric tensor"};
    Type elem = e.getElementType();
    if (isa<FloatType>(elem))
      value = gi.b.getFloatAttr(elem, (*vals)[0]);
    else
      value = gi.b.getIntegerAttr(elem, (int64_t)(*vals)[0]);
  }
  single(gi, n,
         gi.create1("constant_of_shape", {shape}, {named(gi, "value", value)}));
}

/// The quantized element type that a scale and zero point give: per tensor
/// for one scale, else per axis along `axis` (already non-negative). Without
/// a zero point the storage is `storageIfNoZp` (ONNX: uint8 for
/// QuantizeLinear, the integer operand's type for DequantizeLinear).
quant::QuantizedType quantType(GraphImporter &gi, Value scale, Value zp,
                               Type expressed, int64_t axis,
                               Type storageIfNoZp = {}) {
  auto scales = lop::getConstantFloatValues(scale);
  if (!scales || scales->empty())
    throw NodeError{"the scale must be a constant"};
  SmallVector<int64_t> zps(scales->size(), 0);
  auto st = dyn_cast_or_null<IntegerType>(storageIfNoZp);
  bool isSigned = st ? !st.isUnsigned() : false;
  unsigned width = st ? st.getWidth() : 8;
  if (zp) {
    auto zt = dyn_cast<IntegerType>(typeOf(zp).getElementType());
    if (!zt)
      throw NodeError{"the zero point must be an integer tensor"};
    isSigned = !zt.isUnsigned();
    width = zt.getWidth();
    auto z = lop::getConstantIntValues(zp);
    if (!z || (z->size() != scales->size() && z->size() != 1))
      throw NodeError{
          "the zero point must be a constant shaped like the scale"};
    for (size_t i = 0; i < zps.size(); ++i)
      zps[i] = (*z)[z->size() == 1 ? 0 : i];
  }
  if (width != 8 && width != 16)
    throw NodeError{"only 8- and 16-bit quantization is supported (got " +
                    std::to_string(width) + "-bit)"};
  for (double s : *scales)
    if (!(s > 0) || !std::isfinite(s))
      throw NodeError{"scales must be positive and finite"};
  Type storage = gi.b.getIntegerType(width);
  int64_t lo = isSigned ? -(int64_t(1) << (width - 1)) : 0;
  int64_t hi =
      isSigned ? (int64_t(1) << (width - 1)) - 1 : (int64_t(1) << width) - 1;
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  if (typeOf(scale).getRank() == 0 || scales->size() == 1)
    return quant::UniformQuantizedType::get(flags, storage, expressed,
                                            (*scales)[0], zps[0], lo, hi);
  return quant::UniformQuantizedPerAxisType::get(flags, storage, expressed,
                                                 *scales, zps, axis, lo, hi);
}

//===----------------------------------------------------------------------===//
// ONNX coverage (issue 4): ops decomposed into existing lop ops, and the
// converters of the ops added for it.
//===----------------------------------------------------------------------===//

Type elemOf(Value v) { return typeOf(v).getElementType(); }

/// A rank-0 constant of element type `elem`.
Value scalarOf(GraphImporter &gi, Type elem, double v) {
  auto t = RankedTensorType::get({}, elem);
  if (isa<FloatType>(elem))
    return gi.constant(DenseElementsAttr::get(t, gi.b.getFloatAttr(elem, v)));
  if (elem.isInteger(1))
    return gi.constant(DenseElementsAttr::get(t, v != 0));
  return gi.constant(
      DenseElementsAttr::get(t, gi.b.getIntegerAttr(elem, (int64_t)v)));
}

Value un(GraphImporter &gi, StringRef name, Value x) {
  return gi.create1(name, {x});
}
Value bin(GraphImporter &gi, StringRef name, Value a, Value b) {
  return gi.create1(name, {a, b});
}
Value sel(GraphImporter &gi, Value c, Value a, Value b) {
  return gi.create1("where", {c, a, b});
}

/// LRN over the channel axis: y = x / (bias + alpha/size * sum x^2)^beta,
/// the sum over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]. The
/// window sum is a (size x 1) average pool with count_include_pad over
/// x^2 viewed as [N, 1, C, prod(spatial)], so it runs on the pooling code.
void convertLRN(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  if (!xt.getElementType().isF32())
    throw NodeError{"only fp32 LRN is supported yet"};
  if (xt.getRank() < 3)
    throw NodeError{"input must have rank >= 3"};
  int64_t size = attrInt(n, "size", 0);
  if (size < 1)
    throw NodeError{"size must be a positive integer"};
  int64_t spatial = 1;
  for (int64_t d = 1; d < xt.getRank(); ++d) {
    if (xt.isDynamicDim(d))
      throw NodeError{"channel and spatial dimensions must be static"};
    if (d > 1)
      spatial *= xt.getDimSize(d);
  }
  float alpha = attrFloat(n, "alpha", 1e-4f),
        beta = attrFloat(n, "beta", 0.75f), bias = attrFloat(n, "bias", 1.0f);
  Type f32 = gi.b.getF32Type();
  Value sq = gi.create1("mul", {x, x});
  Value view = gi.create1(
      "reshape", {sq, gi.constI64({-1, 1, xt.getDimSize(1), spatial})});
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  SmallVector<NamedAttribute> attrs{
      named(gi, "kernel_shape", i64s(gi, {size, 1})),
      named(gi, "strides", i64s(gi, {1, 1})),
      named(gi, "pads", i64s(gi, {lo, 0, hi, 0})),
      named(gi, "dilations", i64s(gi, {1, 1})),
      named(gi, "count_include_pad", gi.b.getBoolAttr(true))};
  Value avg = gi.create1("average_pool", {view}, attrs);
  SmallVector<int64_t> shape(xt.getShape());
  shape[0] = -1;
  avg = gi.create1("reshape", {avg, gi.constI64(shape)});
  // alpha/size * sum == alpha * average (the pool divides by size).
  Value den = bin(gi, "add", scalarOf(gi, f32, bias),
                  bin(gi, "mul", scalarOf(gi, f32, alpha), avg));
  den = bin(gi, "pow", den, scalarOf(gi, f32, beta));
  single(gi, n, bin(gi, "div", x, den));
}

void requireFloat(Value x) {
  if (!isa<FloatType>(elemOf(x)))
    throw NodeError{"expects a floating-point input"};
}

/// Variadic Min/Max/Sum folded pairwise; Min and Max select with where, so
/// they work for every element type.
Value foldInputs(GraphImporter &gi, const Node &n, StringRef kind) {
  if (n.input_size() < 1)
    throw NodeError{"needs at least one input"};
  Value acc = gi.input(n, 0);
  for (int i = 1; i < n.input_size(); ++i) {
    Value x = gi.input(n, i);
    if (kind == "add")
      acc = bin(gi, "add", acc, x);
    else
      acc = sel(gi, bin(gi, kind, acc, x), acc, x);
  }
  return acc;
}

/// log(1 + e^x).
Value softplus(GraphImporter &gi, Value x) {
  return un(gi, "log",
            bin(gi, "add", un(gi, "exp", x), scalarOf(gi, elemOf(x), 1)));
}

Value reduceOp(GraphImporter &gi, StringRef name, Value x,
               ArrayRef<int64_t> axes, bool keep) {
  return gi.create1(name, {x},
                    {named(gi, "axes", i64s(gi, axes)),
                     named(gi, "keepdims", gi.b.getBoolAttr(keep))});
}

/// The reduction `kind` (sum, mean, max, min, prod) of `x` over the node's
/// axes. Axes known at compile time give lop.reduce_<kind> (or `x` itself
/// for a no-op); axes only known at run time give lop.reduce_runtime_axes
/// with the result type the model declares for the node's output.
Value reduceBy(GraphImporter &gi, const Node &n, StringRef kind, Value x,
               int64_t inputSince) {
  int64_t rank = typeOf(x).getRank();
  bool keep = attrInt(n, "keepdims", 1);
  bool noop = attrInt(n, "noop_with_empty_axes", 0);
  SmallVector<int64_t> axes;
  if (gi.opset >= inputSince) {
    if (Value a = gi.optionalInput(n, 1)) {
      auto vals = lop::getKnownIntValues(a);
      if (!vals || llvm::any_of(*vals, ShapedType::isDynamic)) {
        auto declared = gi.declaredStaticType(n.output(0));
        if (!declared)
          throw NodeError{"axes must be known at compile time, or the "
                          "output's shape declared in the model"};
        Value r = gi.create1(
            "reduce_runtime_axes", {x, a},
            {named(gi, "kind", gi.b.getStringAttr(kind)),
             named(gi, "keepdims", gi.b.getBoolAttr(keep)),
             named(gi, "noop_with_empty_axes", gi.b.getBoolAttr(noop))});
        auto refined = RankedTensorType::get(declared.getShape(), elemOf(x));
        if (!lop::areCompatibleReturnTypes(TypeRange{r.getType()},
                                           TypeRange{refined}))
          throw NodeError{"the declared output shape does not fit the "
                          "reduction"};
        r.setType(refined);
        return r;
      }
      axes = *vals;
    }
  } else if (auto a = attrInts(n, "axes")) {
    axes = *a;
  }
  if (axes.empty() && noop)
    return x;
  return reduceOp(gi, ("reduce_" + kind).str(), x, normAxes(axes, rank), keep);
}

/// ReduceL1/L2/SumSquare/LogSum/LogSumExp as elementwise ops around
/// reduce_sum (LogSumExp subtracts the maximum first, as onnxruntime does).
void convertComposedReduce(GraphImporter &gi, const Node &n, StringRef kind) {
  Value x = gi.input(n, 0);
  Type e = elemOf(x);
  if (kind == "logsumexp") {
    requireFloat(x);
    // With axes known here, subtract the maximum first (as onnxruntime
    // does); run-time axes take the plain form.
    Value a = gi.optionalInput(n, 1);
    auto vals = a ? lop::getKnownIntValues(a) : std::nullopt;
    bool known = !a || (vals && llvm::none_of(*vals, ShapedType::isDynamic));
    if (!known)
      return single(
          gi, n, un(gi, "log", reduceBy(gi, n, "sum", un(gi, "exp", x), 18)));
    Value m = reduceBy(gi, n, "max", x, 18);
    if (m == x)
      return single(gi, n, x);
    auto mt = typeOf(m);
    if (mt.getRank() != typeOf(x).getRank()) {
      // keepdims=0: the maximum with kept dims for the subtraction.
      SmallVector<int64_t> axes =
          gi.opset >= 18 ? (vals ? *vals : SmallVector<int64_t>())
                         : attrInts(n, "axes").value_or(SmallVector<int64_t>());
      axes = normAxes(axes, typeOf(x).getRank());
      Value mk = reduceOp(gi, "reduce_max", x, axes, true);
      Value s =
          reduceBy(gi, n, "sum", un(gi, "exp", bin(gi, "sub", x, mk)), 18);
      return single(gi, n, bin(gi, "add", un(gi, "log", s), m));
    }
    Value s = reduceBy(gi, n, "sum", un(gi, "exp", bin(gi, "sub", x, m)), 18);
    return single(gi, n, bin(gi, "add", un(gi, "log", s), m));
  }
  Value pre = x;
  if (kind == "l1")
    pre = un(gi, "abs", x);
  else if (kind == "l2" || kind == "sumsquare")
    pre = bin(gi, "mul", x, x);
  Value r = reduceBy(gi, n, "sum", pre, 18);
  if (kind == "l2") {
    if (!isa<FloatType>(e))
      r = gi.create1(
          "cast",
          {un(gi, "sqrt",
              gi.create1("cast", {r},
                         {named(gi, "to", TypeAttr::get(gi.b.getF32Type()))}))},
          {named(gi, "to", TypeAttr::get(e))});
    else
      r = un(gi, "sqrt", r);
  } else if (kind == "logsum") {
    requireFloat(x);
    r = un(gi, "log", r);
  }
  single(gi, n, r);
}

/// DepthToSpace / SpaceToDepth: reshape, transpose, reshape.
void convertDepthSpace(GraphImporter &gi, const Node &n, bool toSpace) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  if (xt.getRank() != 4 || !xt.hasStaticShape())
    throw NodeError{"expects a 4-D input with a static shape"};
  int64_t bs = attrInt(n, "blocksize", 0);
  if (bs < 1)
    throw NodeError{"blocksize must be >= 1"};
  int64_t B = xt.getDimSize(0), C = xt.getDimSize(1), H = xt.getDimSize(2),
          W = xt.getDimSize(3);
  SmallVector<int64_t> mid, perm, out;
  if (toSpace) {
    if (C % (bs * bs))
      throw NodeError{"channels are not a multiple of blocksize^2"};
    int64_t c = C / (bs * bs);
    if (attrString(n, "mode", "DCR") == "CRD") {
      mid = {B, c, bs, bs, H, W};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      mid = {B, bs, bs, c, H, W};
      perm = {0, 3, 4, 1, 5, 2};
    }
    out = {B, c, H * bs, W * bs};
  } else {
    if (H % bs || W % bs)
      throw NodeError{"spatial sizes are not multiples of blocksize"};
    mid = {B, C, H / bs, bs, W / bs, bs};
    perm = {0, 3, 5, 1, 2, 4};
    out = {B, C * bs * bs, H / bs, W / bs};
  }
  Value r = gi.create1("reshape", {x, gi.constI64(mid)});
  r = gi.create1("transpose", {r}, {named(gi, "perm", i64s(gi, perm))});
  single(gi, n, gi.create1("reshape", {r, gi.constI64(out)}));
}

/// LayerNormalization with its Mean and InvStdDev outputs, and
/// RMSNormalization, written out over the axes from `axis` on.
void convertNormWritten(GraphImporter &gi, const Node &n, bool rms) {
  Value x = gi.input(n, 0), scale = gi.input(n, 1);
  Value bias = rms ? Value() : gi.optionalInput(n, 2);
  requireFloat(x);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = normAxis(attrInt(n, "axis", -1), rank);
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  Type e = elemOf(x);
  Value eps = scalarOf(gi, e, attrFloat(n, "epsilon", 1e-5f));
  Value mean, centered = x;
  if (!rms) {
    mean = reduceOp(gi, "reduce_mean", x, axes, true);
    centered = bin(gi, "sub", x, mean);
  }
  Value var = reduceOp(gi, "reduce_mean", bin(gi, "mul", centered, centered),
                       axes, true);
  Value inv = un(gi, "reciprocal", un(gi, "sqrt", bin(gi, "add", var, eps)));
  Value y = bin(gi, "mul", bin(gi, "mul", centered, inv), scale);
  if (bias)
    y = bin(gi, "add", y, bias);
  if (rms)
    return single(gi, n, y);
  gi.setOutputs(n, ValueRange{y, mean, inv});
}

/// Clip with bounds that are run-time values (or of an integer type), as
/// two selects: min first, then max, so min > max gives max as ONNX says.
Value clipWithSelects(GraphImporter &gi, Value x, Value lo, Value hi) {
  if (lo)
    x = sel(gi, bin(gi, "less", x, lo), lo, x);
  if (hi)
    x = sel(gi, bin(gi, "greater", x, hi), hi, x);
  return x;
}

Value unsqueezeAt(GraphImporter &gi, Value x, ArrayRef<int64_t> axes) {
  return gi.create1("unsqueeze", {x}, {named(gi, "axes", i64s(gi, axes))});
}
Value squeezeAt(GraphImporter &gi, Value x, ArrayRef<int64_t> axes) {
  return gi.create1("squeeze", {x}, {named(gi, "axes", i64s(gi, axes))});
}
Value transposeBy(GraphImporter &gi, Value x, ArrayRef<int64_t> perm) {
  return gi.create1("transpose", {x}, {named(gi, "perm", i64s(gi, perm))});
}
Value reshapeTo(GraphImporter &gi, Value x, ArrayRef<int64_t> shape) {
  return gi.create1("reshape", {x, gi.constI64(shape)});
}
Value matmulOf(GraphImporter &gi, Value a, Value b) {
  return gi.create1("matmul", {a, b},
                    {named(gi, "operandSegmentSizes",
                           gi.b.getDenseI32ArrayAttr({1, 1, 0, 0}))});
}
/// A tensor of `shape` filled with one scalar.
Value filled(GraphImporter &gi, Type elem, double v, ArrayRef<int64_t> shape) {
  return gi.create1("expand", {scalarOf(gi, elem, v), gi.constI64(shape)});
}

/// NegativeLogLikelihoodLoss on log-probabilities [N, C, d...] and targets
/// [N, d...]: gather the target class along axis 1, weight, reduce.
Value nllLoss(GraphImporter &gi, const Node &n, Value input, Value target,
              Value weight) {
  requireFloat(input);
  Type e = elemOf(input);
  auto it = typeOf(input), tt = typeOf(target);
  if (it.getRank() < 2 || tt.getRank() != it.getRank() - 1)
    throw NodeError{"expects input [N, C, d...] and target [N, d...]"};
  std::string reduction = attrString(n, "reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    throw NodeError{"unknown reduction '" + reduction + "'"};
  const auto *ii = findAttr(n, "ignore_index");
  Value safe = target, keep;
  if (ii) {
    Value iiV = scalarOf(gi, elemOf(target), ii->i());
    keep = un(gi, "not", bin(gi, "equal", target, iiV));
    safe = sel(gi, keep, target, scalarOf(gi, elemOf(target), 0));
  }
  Value picked =
      gi.create1("gather_elements", {input, unsqueezeAt(gi, safe, {1})},
                 {named(gi, "axis", gi.b.getI64IntegerAttr(1))});
  Value loss = un(gi, "neg", squeezeAt(gi, picked, {1}));
  Value w;
  if (weight)
    w = gi.create1("gather", {weight, safe},
                   {named(gi, "axis", gi.b.getI64IntegerAttr(0))});
  if (keep)
    w = sel(gi, keep, w ? w : scalarOf(gi, e, 1), scalarOf(gi, e, 0));
  if (w)
    loss = bin(gi, "mul", loss, w);
  if (reduction == "none")
    return loss;
  Value sum = reduceOp(gi, "reduce_sum", loss, {}, false);
  if (reduction == "sum")
    return sum;
  if (!w)
    return reduceOp(gi, "reduce_mean", loss, {}, false);
  if (!weight) // only ignore_index: w is a 0/1 mask of the target's shape
    w = bin(gi, "add", w, filled(gi, e, 0, tt.getShape()));
  return bin(gi, "div", sum, reduceOp(gi, "reduce_sum", w, {}, false));
}

/// Attention (opset 23) written out as the reference does: optional 3-D
/// head split, past key/value concatenation, grouped-query head repetition,
/// scale split over both factors, softcap, additive or boolean mask, causal
/// mask, softmax, and the optional QK output.
void convertAttention(GraphImporter &gi, const Node &n) {
  Value q = gi.input(n, 0), k = gi.input(n, 1), v = gi.input(n, 2);
  Value mask = gi.optionalInput(n, 3), pastK = gi.optionalInput(n, 4),
        pastV = gi.optionalInput(n, 5);
  if (gi.optionalInput(n, 6))
    throw NodeError{"nonpad_kv_seqlen is not supported yet"};
  requireFloat(q);
  Type e = elemOf(q);
  auto qt = typeOf(q), kt = typeOf(k), vt = typeOf(v);
  if (!qt.hasStaticShape() || !kt.hasStaticShape() || !vt.hasStaticShape())
    throw NodeError{"Attention needs static shapes"};
  int64_t rank = qt.getRank();
  if (rank != kt.getRank() || rank != vt.getRank() || (rank != 3 && rank != 4))
    throw NodeError{"Q, K and V must all be 3-D or all 4-D"};
  int64_t B = qt.getDimSize(0);
  if (rank == 3) {
    int64_t qh = attrInt(n, "q_num_heads", 0),
            kvh = attrInt(n, "kv_num_heads", 0);
    if (qh < 1 || kvh < 1 || qt.getDimSize(2) % qh || kt.getDimSize(2) % kvh ||
        vt.getDimSize(2) % kvh)
      throw NodeError{"3-D inputs need q_num_heads and kv_num_heads that "
                      "divide the hidden sizes"};
    auto split = [&](Value x, RankedTensorType t, int64_t heads) {
      Value r = reshapeTo(gi, x,
                          {B, t.getDimSize(1), heads, t.getDimSize(2) / heads});
      return transposeBy(gi, r, {0, 2, 1, 3});
    };
    q = split(q, qt, qh);
    k = split(k, kt, kvh);
    v = split(v, vt, kvh);
  }
  if (pastK)
    k = gi.create1("concat", {pastK, k},
                   {named(gi, "axis", gi.b.getI64IntegerAttr(2))});
  if (pastV)
    v = gi.create1("concat", {pastV, v},
                   {named(gi, "axis", gi.b.getI64IntegerAttr(2))});
  Value presentK = k, presentV = v;
  auto q4 = typeOf(q), k4 = typeOf(k), v4 = typeOf(v);
  int64_t qh = q4.getDimSize(1), kvh = k4.getDimSize(1), sq = q4.getDimSize(2),
          skv = k4.getDimSize(2), hd = q4.getDimSize(3);
  if (qh != kvh) {
    if (kvh < 1 || qh % kvh || v4.getDimSize(1) != kvh)
      throw NodeError{"q heads must be a multiple of kv heads"};
    int64_t rep = qh / kvh;
    auto repeat = [&](Value x) {
      auto t = typeOf(x);
      int64_t s = t.getDimSize(2), h = t.getDimSize(3);
      Value u = unsqueezeAt(gi, x, {2});
      u = gi.create1("expand", {u, gi.constI64({B, kvh, rep, s, h})});
      return reshapeTo(gi, u, {B, qh, s, h});
    };
    k = repeat(k);
    v = repeat(v);
  }
  double scale = findAttr(n, "scale") ? attrFloat(n, "scale", 1.0f)
                                      : 1.0 / std::sqrt((double)hd);
  Value s = scalarOf(gi, e, std::sqrt(scale));
  Value qk = matmulOf(gi, bin(gi, "mul", q, s),
                      bin(gi, "mul", transposeBy(gi, k, {0, 1, 3, 2}), s));
  float softcap = attrFloat(n, "softcap", 0.0f);
  if (softcap > 0) {
    Value c = scalarOf(gi, e, softcap);
    qk = bin(gi, "mul", un(gi, "tanh", bin(gi, "div", qk, c)), c);
  }
  Value bias;
  if (mask) {
    auto mt = typeOf(mask);
    if (!mt.hasStaticShape() || mt.getRank() < 1)
      throw NodeError{"attn_mask needs a static shape"};
    bool isBool = mt.getElementType().isInteger(1);
    int64_t last = mt.getDimSize(mt.getRank() - 1);
    if (last < skv) {
      SmallVector<int64_t> padShape(mt.getShape());
      padShape.back() = skv - last;
      Value pad = isBool ? filled(gi, mt.getElementType(), 0, padShape)
                         : filled(gi, e, -INFINITY, padShape);
      mask = gi.create1(
          "concat", {mask, pad},
          {named(gi, "axis", gi.b.getI64IntegerAttr(mt.getRank() - 1))});
    }
    bias = isBool
               ? sel(gi, mask, scalarOf(gi, e, 0), scalarOf(gi, e, -INFINITY))
               : mask;
  }
  if (attrInt(n, "is_causal", 0)) {
    int64_t past = pastK ? typeOf(pastK).getDimSize(2) : 0;
    Value c = gi.create1(
        "trilu",
        {filled(gi, e, -INFINITY, {sq, skv}), gi.constI64({past + 1}, true)},
        {named(gi, "upper", gi.b.getBoolAttr(true))});
    bias = bias ? bin(gi, "add", bias, c) : c;
  }
  Value qkb = bias ? bin(gi, "add", qk, bias) : qk;
  Value p = gi.create1("softmax", {qkb},
                       {named(gi, "axis", gi.b.getI64IntegerAttr(3))});
  Value y = matmulOf(gi, p, v);
  if (rank == 3)
    y = reshapeTo(gi, transposeBy(gi, y, {0, 2, 1, 3}),
                  {B, sq, qh * typeOf(v).getDimSize(3)});
  int64_t mode = attrInt(n, "qk_matmul_output_mode", 0);
  Value qkOut = mode == 2 ? qkb : mode == 3 ? p : qk;
  gi.setOutputs(n, ValueRange{y, presentK, presentV, qkOut});
}

void addCoverageConverters(llvm::StringMap<Converter> &t) {
  for (auto [o, l] : {std::pair{"Floor", "floor"},
                      {"Ceil", "ceil"},
                      {"Round", "round"},
                      {"Sin", "sin"},
                      {"Cos", "cos"},
                      {"Tan", "tan"},
                      {"Asin", "asin"},
                      {"Acos", "acos"},
                      {"Atan", "atan"},
                      {"Sinh", "sinh"},
                      {"Cosh", "cosh"},
                      {"Asinh", "asinh"},
                      {"Acosh", "acosh"},
                      {"Atanh", "atanh"},
                      {"BitwiseNot", "bitwise_not"}}) {
    std::string name = l;
    t[o] = [name](GraphImporter &gi, const Node &n) {
      single(gi, n, gi.create1(name, {gi.input(n, 0)}));
    };
  }
  for (auto [o, l] : {std::pair{"Or", "or"},
                      {"Xor", "xor"},
                      {"BitwiseAnd", "bitwise_and"},
                      {"BitwiseOr", "bitwise_or"},
                      {"BitwiseXor", "bitwise_xor"}}) {
    std::string name = l;
    t[o] = [name](GraphImporter &gi, const Node &n) {
      single(gi, n, gi.create1(name, {gi.input(n, 0), gi.input(n, 1)}));
    };
  }
  t["Mod"] = [](GraphImporter &gi, const Node &n) {
    Value a = gi.input(n, 0);
    int64_t fmod = attrInt(n, "fmod", 0);
    if (!fmod && isa<FloatType>(elemOf(a)))
      throw NodeError{"Mod of floats needs fmod=1"};
    single(gi, n,
           gi.create1("mod", {a, gi.input(n, 1)},
                      {named(gi, "fmod", gi.b.getI64IntegerAttr(fmod))}));
  };
  t["BitShift"] = [](GraphImporter &gi, const Node &n) {
    std::string dir = attrString(n, "direction", "");
    if (dir != "LEFT" && dir != "RIGHT")
      throw NodeError{"direction must be LEFT or RIGHT"};
    single(gi, n,
           gi.create1("bit_shift", {gi.input(n, 0), gi.input(n, 1)},
                      {named(gi, "direction", gi.b.getStringAttr(dir))}));
  };
  t["CastLike"] = [](GraphImporter &gi, const Node &n) {
    single(
        gi, n,
        gi.create1("cast", {gi.input(n, 0)},
                   {named(gi, "to", TypeAttr::get(elemOf(gi.input(n, 1))))}));
  };
  t["Size"] = [](GraphImporter &gi, const Node &n) {
    auto xt = typeOf(gi.input(n, 0));
    if (!xt.hasStaticShape())
      throw NodeError{"Size of a tensor with dynamic dimensions is not "
                      "supported yet"};
    single(gi, n, gi.constI64({xt.getNumElements()}, true));
  };
  t["Min"] = [](GraphImporter &gi, const Node &n) {
    single(gi, n, foldInputs(gi, n, "less"));
  };
  t["Max"] = [](GraphImporter &gi, const Node &n) {
    single(gi, n, foldInputs(gi, n, "greater"));
  };
  t["Sum"] = [](GraphImporter &gi, const Node &n) {
    single(gi, n, foldInputs(gi, n, "add"));
  };
  t["Mean"] = [](GraphImporter &gi, const Node &n) {
    Value s = foldInputs(gi, n, "add");
    requireFloat(s);
    single(gi, n, bin(gi, "div", s, scalarOf(gi, elemOf(s), n.input_size())));
  };
  t["GreaterOrEqual"] = [](GraphImporter &gi, const Node &n) {
    Value a = gi.input(n, 0), b = gi.input(n, 1);
    single(gi, n,
           bin(gi, "or", bin(gi, "greater", a, b), bin(gi, "equal", a, b)));
  };
  t["LessOrEqual"] = [](GraphImporter &gi, const Node &n) {
    Value a = gi.input(n, 0), b = gi.input(n, 1);
    single(gi, n, bin(gi, "or", bin(gi, "less", a, b), bin(gi, "equal", a, b)));
  };
  t["IsNaN"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    single(gi, n, un(gi, "not", bin(gi, "equal", x, x)));
  };
  t["IsInf"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    bool pos = attrInt(n, "detect_positive", 1),
         neg = attrInt(n, "detect_negative", 1);
    Type e = elemOf(x);
    Value p = bin(gi, "equal", x, scalarOf(gi, e, INFINITY));
    Value m = bin(gi, "equal", x, scalarOf(gi, e, -INFINITY));
    Value r = pos && neg ? bin(gi, "or", p, m)
              : pos      ? p
              : neg      ? m
                         : bin(gi, "and", p, m);
    single(gi, n, r);
  };
  t["Sign"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    Type e = elemOf(x);
    Value zero = scalarOf(gi, e, 0), one = scalarOf(gi, e, 1);
    Value pos = sel(gi, bin(gi, "greater", x, zero), one, zero);
    if (e.isUnsignedInteger())
      return single(gi, n, pos);
    single(gi, n, sel(gi, bin(gi, "less", x, zero), scalarOf(gi, e, -1), pos));
  };
  t["Softplus"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    single(gi, n, softplus(gi, x));
  };
  t["Softsign"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    single(gi, n,
           bin(gi, "div", x,
               bin(gi, "add", un(gi, "abs", x), scalarOf(gi, elemOf(x), 1))));
  };
  t["Mish"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    single(gi, n, bin(gi, "mul", x, un(gi, "tanh", softplus(gi, x))));
  };
  t["Swish"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    Value ax =
        bin(gi, "mul", x, scalarOf(gi, elemOf(x), attrFloat(n, "alpha", 1)));
    single(gi, n, bin(gi, "mul", x, un(gi, "sigmoid", ax)));
  };
  t["Selu"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    float alpha = attrFloat(n, "alpha", 1.67326319217681884765625f);
    float gamma = attrFloat(n, "gamma", 1.05070102214813232421875f);
    Value e = gi.create1("elu", {x},
                         {named(gi, "alpha", gi.b.getF32FloatAttr(alpha))});
    single(gi, n, bin(gi, "mul", e, scalarOf(gi, elemOf(x), gamma)));
  };
  t["Celu"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    float alpha = attrFloat(n, "alpha", 1.0f);
    Value a = scalarOf(gi, elemOf(x), alpha);
    Value e = gi.create1("elu", {bin(gi, "div", x, a)},
                         {named(gi, "alpha", gi.b.getF32FloatAttr(1.0f))});
    single(gi, n, bin(gi, "mul", e, a));
  };
  t["ThresholdedRelu"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    Type e = elemOf(x);
    Value c = bin(gi, "greater", x, scalarOf(gi, e, attrFloat(n, "alpha", 1)));
    single(gi, n, sel(gi, c, x, scalarOf(gi, e, 0)));
  };
  t["PRelu"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0), slope = gi.input(n, 1);
    Value c = bin(gi, "less", x, scalarOf(gi, elemOf(x), 0));
    single(gi, n, sel(gi, c, bin(gi, "mul", x, slope), x));
  };
  t["Shrink"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    Type e = elemOf(x);
    float lambd = attrFloat(n, "lambd", 0.5f), bias = attrFloat(n, "bias", 0);
    Value zero = scalarOf(gi, e, 0), bv = scalarOf(gi, e, bias);
    Value hi = sel(gi, bin(gi, "greater", x, scalarOf(gi, e, lambd)),
                   bin(gi, "sub", x, bv), zero);
    single(gi, n,
           sel(gi, bin(gi, "less", x, scalarOf(gi, e, -lambd)),
               bin(gi, "add", x, bv), hi));
  };
  for (auto [o, k] : {std::pair{"ReduceL1", "l1"},
                      {"ReduceL2", "l2"},
                      {"ReduceSumSquare", "sumsquare"},
                      {"ReduceLogSum", "logsum"},
                      {"ReduceLogSumExp", "logsumexp"}}) {
    std::string kind = k;
    t[o] = [kind](GraphImporter &gi, const Node &n) {
      convertComposedReduce(gi, n, kind);
    };
  }
  t["ReduceProd"] = [](GraphImporter &gi, const Node &n) {
    single(gi, n, reduceBy(gi, n, "prod", gi.input(n, 0), 18));
  };
  t["ArgMin"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    int64_t axis = normAxis(attrInt(n, "axis", 0), typeOf(x).getRank());
    single(
        gi, n,
        gi.create1(
            "argmin", {x},
            {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
             named(gi, "keepdims", gi.b.getBoolAttr(attrInt(n, "keepdims", 1))),
             named(gi, "select_last_index",
                   gi.b.getBoolAttr(attrInt(n, "select_last_index", 0)))}));
  };
  t["DepthToSpace"] = [](GraphImporter &gi, const Node &n) {
    convertDepthSpace(gi, n, true);
  };
  t["SpaceToDepth"] = [](GraphImporter &gi, const Node &n) {
    convertDepthSpace(gi, n, false);
  };
  t["RMSNormalization"] = [](GraphImporter &gi, const Node &n) {
    convertNormWritten(gi, n, true);
  };
  t["Trilu"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    if (typeOf(x).getRank() < 2)
      throw NodeError{"expects an input of rank >= 2"};
    SmallVector<Value> ops{x};
    if (Value k = gi.optionalInput(n, 1))
      ops.push_back(k);
    single(gi, n,
           gi.create1(
               "trilu", ops,
               {named(gi, "upper", gi.b.getBoolAttr(attrInt(n, "upper", 1)))}));
  };
  t["NegativeLogLikelihoodLoss"] = [](GraphImporter &gi, const Node &n) {
    single(
        gi, n,
        nllLoss(gi, n, gi.input(n, 0), gi.input(n, 1), gi.optionalInput(n, 2)));
  };
  t["SoftmaxCrossEntropyLoss"] = [](GraphImporter &gi, const Node &n) {
    Value logp = gi.create1("log_softmax", {gi.input(n, 0)},
                            {named(gi, "axis", gi.b.getI64IntegerAttr(1))});
    Value loss = nllLoss(gi, n, logp, gi.input(n, 1), gi.optionalInput(n, 2));
    gi.setOutputs(n, ValueRange{loss, logp});
  };
  t["Hardmax"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    auto xt = typeOf(x);
    int64_t rank = xt.getRank();
    int64_t axis = normAxis(attrInt(n, "axis", gi.opset < 13 ? 1 : -1), rank);
    Value in = x;
    if (gi.opset < 13 && axis != rank - 1) {
      // Before opset 13 the input is coerced to 2-D at `axis`.
      in = gi.create1("flatten", {x},
                      {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
      axis = 1;
    }
    auto it = typeOf(in);
    if (!it.hasStaticShape())
      throw NodeError{"Hardmax needs a static shape"};
    Value am = gi.create1("argmax", {in},
                          {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
    SmallVector<int64_t> iota, shape(it.getRank(), 1);
    for (int64_t i = 0; i < it.getDimSize(axis); ++i)
      iota.push_back(i);
    shape[axis] = it.getDimSize(axis);
    Value pos = reshapeTo(gi, gi.constI64(iota), shape);
    Value hot = gi.create1("cast", {bin(gi, "equal", pos, am)},
                           {named(gi, "to", TypeAttr::get(elemOf(x)))});
    if (in != x)
      hot = reshapeTo(gi, hot, xt.getShape());
    single(gi, n, hot);
  };
  t["LpNormalization"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    int64_t axis = normAxis(attrInt(n, "axis", -1), typeOf(x).getRank());
    int64_t p = attrInt(n, "p", 2);
    if (p != 1 && p != 2)
      throw NodeError{"p must be 1 or 2"};
    Value norm =
        p == 1 ? reduceOp(gi, "reduce_sum", un(gi, "abs", x), {axis}, true)
               : un(gi, "sqrt",
                    reduceOp(gi, "reduce_sum", bin(gi, "mul", x, x), {axis},
                             true));
    // A zero norm leaves the zeros as they are (as the reference does).
    Type e = elemOf(x);
    norm = sel(gi, bin(gi, "equal", norm, scalarOf(gi, e, 0)),
               scalarOf(gi, e, 1), norm);
    single(gi, n, bin(gi, "div", x, norm));
  };
  t["MeanVarianceNormalization"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    requireFloat(x);
    auto axes =
        normAxes(attrInts(n, "axes").value_or(SmallVector<int64_t>{0, 2, 3}),
                 typeOf(x).getRank());
    Value mean = reduceOp(gi, "reduce_mean", x, axes, true);
    Value d = bin(gi, "sub", x, mean);
    Value var = reduceOp(gi, "reduce_mean", bin(gi, "mul", d, d), axes, true);
    Value sd =
        bin(gi, "add", un(gi, "sqrt", var), scalarOf(gi, elemOf(x), 1e-9));
    single(gi, n, bin(gi, "div", d, sd));
  };
  t["EyeLike"] = [](GraphImporter &gi, const Node &n) {
    auto xt = typeOf(gi.input(n, 0));
    if (xt.getRank() != 2 || !xt.hasStaticShape())
      throw NodeError{"EyeLike needs a 2-D input with a static shape"};
    Type e = findAttr(n, "dtype")
                 ? gi.elementType(attrInt(n, "dtype", 1), "EyeLike dtype")
                 : xt.getElementType();
    // Ones on the diagonal `k`: the upper triangle from k minus the one from
    // k + 1, in i32, then cast.
    int64_t k = attrInt(n, "k", 0);
    Type i32 = gi.b.getI32Type();
    auto tri = [&](int64_t from) {
      return gi.create1(
          "trilu",
          {filled(gi, i32, 1, xt.getShape()), gi.constI64({from}, true)},
          {named(gi, "upper", gi.b.getBoolAttr(true))});
    };
    Value eye = bin(gi, "sub", tri(k), tri(k + 1));
    single(gi, n,
           gi.create1("cast", {eye}, {named(gi, "to", TypeAttr::get(e))}));
  };
  for (auto [o, l] :
       {std::pair{"CumSum", "cum_sum"}, std::pair{"CumProd", "cum_prod"}}) {
    std::string name = l;
    t[o] = [name](GraphImporter &gi, const Node &n) {
      Value axis = gi.input(n, 1);
      auto at = typeOf(axis);
      if (at.getRank() > 1 || !at.hasStaticShape() ||
          at.getNumElements() != 1 || !isa<IntegerType>(at.getElementType()))
        throw NodeError{"axis must be one integer"};
      single(gi, n,
             gi.create1(
                 name, {gi.input(n, 0), axis},
                 {named(gi, "exclusive",
                        gi.b.getI64IntegerAttr(attrInt(n, "exclusive", 0))),
                  named(gi, "reverse",
                        gi.b.getI64IntegerAttr(attrInt(n, "reverse", 0)))}));
    };
  }
  auto scatter = [](GraphImporter &gi, const Node &n, bool nd) {
    Value x = gi.input(n, 0), idx = gi.input(n, 1), upd = gi.input(n, 2);
    std::string red = attrString(n, "reduction", "none");
    if (red != "none" && red != "add" && red != "mul" && red != "max" &&
        red != "min")
      throw NodeError{"unknown reduction '" + red + "'"};
    SmallVector<NamedAttribute> attrs{
        named(gi, "reduction", gi.b.getStringAttr(red))};
    if (!nd) {
      if (typeOf(idx).getShape() != typeOf(upd).getShape() ||
          typeOf(idx).getRank() != typeOf(x).getRank())
        throw NodeError{"indices and updates must have one shape of the "
                        "data's rank"};
      attrs.push_back(named(gi, "axis",
                            gi.b.getI64IntegerAttr(normAxis(
                                attrInt(n, "axis", 0), typeOf(x).getRank()))));
    }
    single(gi, n,
           gi.create1(nd ? "scatter_nd" : "scatter_elements", {x, idx, upd},
                      attrs));
  };
  t["ScatterElements"] = [scatter](GraphImporter &gi, const Node &n) {
    scatter(gi, n, false);
  };
  t["Scatter"] = [scatter](GraphImporter &gi, const Node &n) {
    scatter(gi, n, false);
  };
  t["ScatterND"] = [scatter](GraphImporter &gi, const Node &n) {
    scatter(gi, n, true);
  };
  t["Attention"] = convertAttention;
  t["GatherElements"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    int64_t axis = normAxis(attrInt(n, "axis", 0), typeOf(x).getRank());
    single(gi, n,
           gi.create1("gather_elements", {x, gi.input(n, 1)},
                      {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
  };
}

//===----------------------------------------------------------------------===//
// ONNX coverage, part B (issue 4): recurrent layers, Einsum and control flow,
// unrolled or decomposed at import into existing lop ops.
//===----------------------------------------------------------------------===//

/// x[start:end] along one axis.
Value sliceAxis(GraphImporter &gi, Value x, int64_t axis, int64_t start,
                int64_t end) {
  return gi.create1("slice", {x, gi.constI64({start}), gi.constI64({end}),
                              gi.constI64({axis}), gi.constI64({1})});
}

/// Element `i` of axis `axis`, with that axis removed.
Value takeAxis(GraphImporter &gi, Value x, int64_t axis, int64_t i) {
  return squeezeAt(gi, sliceAxis(gi, x, axis, i, i + 1), {axis});
}

/// A string-list attribute, empty when absent.
SmallVector<std::string> attrStrings(const Node &n, StringRef name) {
  SmallVector<std::string> out;
  if (const auto *a = findAttr(n, name)) {
    if (a->type() != onnx::AttributeProto::STRINGS &&
        a->type() != onnx::AttributeProto::UNDEFINED)
      throw NodeError{"attribute '" + name.str() +
                      "' must be a list of strings"};
    out.assign(a->strings().begin(), a->strings().end());
  }
  return out;
}

SmallVector<float> attrFloatList(const Node &n, StringRef name) {
  SmallVector<float> out;
  if (const auto *a = findAttr(n, name)) {
    if (a->type() != onnx::AttributeProto::FLOATS &&
        a->type() != onnx::AttributeProto::UNDEFINED)
      throw NodeError{"attribute '" + name.str() +
                      "' must be a list of floats"};
    out.assign(a->floats().begin(), a->floats().end());
  }
  return out;
}

/// One activation function of a recurrent layer with its alpha and beta.
struct RnnActivation {
  std::string name; // lowercase
  float alpha = 0, beta = 0;
};

/// The activations of every direction: `activations` with alpha and beta
/// consumed in order by the functions that take them (as onnxruntime does).
SmallVector<RnnActivation>
rnnActivations(const Node &n, ArrayRef<StringRef> defaults, int64_t dirs) {
  SmallVector<std::string> names = attrStrings(n, "activations");
  if (names.empty())
    for (int64_t d = 0; d < dirs; ++d)
      for (StringRef s : defaults)
        names.push_back(s.str());
  if ((int64_t)names.size() != (int64_t)defaults.size() * dirs)
    throw NodeError{"activations has " + std::to_string(names.size()) +
                    " entries, expected " +
                    std::to_string(defaults.size() * dirs)};
  SmallVector<float> alphas = attrFloatList(n, "activation_alpha"),
                     betas = attrFloatList(n, "activation_beta");
  size_t ai = 0, bi = 0;
  SmallVector<RnnActivation> out;
  for (const std::string &s : names) {
    RnnActivation f{StringRef(s).lower()};
    // name -> (takes alpha, default alpha, takes beta, default beta)
    static const std::map<std::string, std::tuple<bool, float, bool, float>>
        params = {{"relu", {false, 0, false, 0}},
                  {"tanh", {false, 0, false, 0}},
                  {"sigmoid", {false, 0, false, 0}},
                  {"softsign", {false, 0, false, 0}},
                  {"softplus", {false, 0, false, 0}},
                  {"affine", {true, 1, true, 0}},
                  {"leakyrelu", {true, 0.01f, false, 0}},
                  {"thresholdedrelu", {true, 1, false, 0}},
                  {"scaledtanh", {true, 1, true, 1}},
                  {"hardsigmoid", {true, 0.2f, true, 0.5f}},
                  {"elu", {true, 1, false, 0}}};
    auto it = params.find(f.name);
    if (it == params.end())
      throw NodeError{"activation '" + s + "' is not supported"};
    auto [hasA, defA, hasB, defB] = it->second;
    f.alpha = hasA ? (ai < alphas.size() ? alphas[ai++] : defA) : 0;
    f.beta = hasB ? (bi < betas.size() ? betas[bi++] : defB) : 0;
    out.push_back(f);
  }
  return out;
}

Value applyActivation(GraphImporter &gi, const RnnActivation &f, Value x) {
  Type e = elemOf(x);
  auto f32 = [&](float v) { return gi.b.getF32FloatAttr(v); };
  if (f.name == "relu" || f.name == "tanh" || f.name == "sigmoid")
    return un(gi, f.name, x);
  if (f.name == "softsign")
    return bin(gi, "div", x,
               bin(gi, "add", un(gi, "abs", x), scalarOf(gi, e, 1)));
  if (f.name == "softplus")
    return softplus(gi, x);
  if (f.name == "affine")
    return bin(gi, "add", bin(gi, "mul", x, scalarOf(gi, e, f.alpha)),
               scalarOf(gi, e, f.beta));
  if (f.name == "leakyrelu")
    return gi.create1("leaky_relu", {x}, {named(gi, "alpha", f32(f.alpha))});
  if (f.name == "thresholdedrelu")
    return sel(gi, bin(gi, "greater", x, scalarOf(gi, e, f.alpha)), x,
               scalarOf(gi, e, 0));
  if (f.name == "scaledtanh")
    return bin(gi, "mul",
               un(gi, "tanh", bin(gi, "mul", x, scalarOf(gi, e, f.beta))),
               scalarOf(gi, e, f.alpha));
  if (f.name == "hardsigmoid")
    return gi.create1(
        "hard_sigmoid", {x},
        {named(gi, "alpha", f32(f.alpha)), named(gi, "beta", f32(f.beta))});
  // elu (rnnActivations admits nothing else)
  return gi.create1("elu", {x}, {named(gi, "alpha", f32(f.alpha))});
}

/// RNN, GRU and LSTM with a static sequence length, unrolled over time: the
/// input projection of every step is one matmul, each step one matmul with
/// the recurrent weight (shared by all steps) and elementwise gates. Constant
/// sequence_lens hold the state and zero Y past each sequence's end, which
/// for the reverse direction starts each sequence at its own last step.
void convertRecurrent(GraphImporter &gi, const Node &n, StringRef kind) {
  bool lstm = kind == "LSTM", gru = kind == "GRU";
  int64_t gates = lstm ? 4 : gru ? 3 : 1;
  Value x = gi.input(n, 0), w = gi.input(n, 1), r = gi.input(n, 2);
  Value bias = gi.optionalInput(n, 3), seqLens = gi.optionalInput(n, 4),
        h0 = gi.optionalInput(n, 5);
  Value c0 = lstm ? gi.optionalInput(n, 6) : Value();
  Value peep = lstm ? gi.optionalInput(n, 7) : Value();
  requireFloat(x);
  std::string direction = attrString(n, "direction", "forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    throw NodeError{"unknown direction '" + direction + "'"};
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  int64_t layout = attrInt(n, "layout", 0);
  if (layout != 0 && layout != 1)
    throw NodeError{"layout must be 0 or 1"};
  if (typeOf(x).getRank() != 3)
    throw NodeError{"X must be 3-D"};
  if (layout == 1) {
    x = transposeBy(gi, x, {1, 0, 2});
    for (Value *v : {&h0, &c0})
      if (*v)
        *v = transposeBy(gi, *v, {1, 0, 2});
  }
  auto xt = typeOf(x);
  int64_t seq = xt.getDimSize(0), batch = xt.getDimSize(1),
          inSize = xt.getDimSize(2);
  if (ShapedType::isDynamic(seq) || ShapedType::isDynamic(inSize))
    throw NodeError{"X needs a static sequence length and input size (a "
                    "dynamic sequence length is not supported yet)"};
  if (seq == 0)
    throw NodeError{"X has an empty sequence"};
  auto rt = typeOf(r);
  if (rt.getRank() != 3 || rt.isDynamicDim(2))
    throw NodeError{"R must be 3-D [num_directions, " + std::to_string(gates) +
                    "*hidden_size, hidden_size]"};
  int64_t hidden = attrInt(n, "hidden_size", rt.getDimSize(2));
  auto expect = [&](Value v, ArrayRef<int64_t> shape, StringRef what) {
    auto fits = [&](ArrayRef<int64_t> have) {
      if (have.size() != shape.size())
        return false;
      for (auto [h, want] : llvm::zip(have, shape))
        if (!ShapedType::isDynamic(h) && !ShapedType::isDynamic(want) &&
            h != want)
          return false;
      return true;
    };
    if (v && !fits(typeOf(v).getShape())) {
      std::string s;
      for (int64_t d : shape)
        s += (s.empty() ? "" : "x") +
             (ShapedType::isDynamic(d) ? "?" : std::to_string(d));
      throw NodeError{what.str() + " must have shape " + s};
    }
  };
  expect(w, {dirs, gates * hidden, inSize}, "W");
  expect(r, {dirs, gates * hidden, hidden}, "R");
  expect(bias, {dirs, 2 * gates * hidden}, "B");
  expect(h0, {dirs, batch, hidden}, "initial_h");
  expect(c0, {dirs, batch, hidden}, "initial_c");
  expect(peep, {dirs, 3 * hidden}, "P");
  std::optional<float> clip;
  if (findAttr(n, "clip"))
    clip = attrFloat(n, "clip", 0);
  bool linearBeforeReset = gru && attrInt(n, "linear_before_reset", 0);
  bool inputForget = lstm && attrInt(n, "input_forget", 0);
  SmallVector<StringRef> defaults =
      lstm  ? SmallVector<StringRef>{"Sigmoid", "Tanh", "Tanh"}
      : gru ? SmallVector<StringRef>{"Sigmoid", "Tanh"}
            : SmallVector<StringRef>{"Tanh"};
  SmallVector<RnnActivation> acts = rnnActivations(n, defaults, dirs);

  // Sequence lengths: a mask per step, constant when the lengths are known
  // (none when every one is full), else computed at run time.
  std::optional<SmallVector<int64_t>> lens;
  Value runLens;
  if (seqLens) {
    auto lt = typeOf(seqLens);
    if (lt.getRank() != 1 ||
        (!lt.isDynamicDim(0) && !ShapedType::isDynamic(batch) &&
         lt.getDimSize(0) != batch) ||
        !isa<IntegerType>(lt.getElementType()))
      throw NodeError{"sequence_lens must be an integer tensor with one value "
                      "per batch entry"};
    auto v = lop::getKnownIntValues(seqLens);
    if (!v || llvm::any_of(*v, ShapedType::isDynamic)) {
      runLens = seqLens;
    } else {
      for (int64_t l : *v)
        if (l < 0 || l > seq)
          throw NodeError{"sequence_lens has " + std::to_string(l) +
                          ", outside [0, " + std::to_string(seq) + "]"};
      if (llvm::any_of(*v, [&](int64_t l) { return l != seq; }))
        lens = *v;
    }
  }

  Type e = xt.getElementType();
  // A dynamic batch stays dynamic: -1 in the reshapes, a run-time shape for
  // the zero state.
  Value x2d = reshapeTo(gi, x, {-1, inSize});
  Value zeros;
  if (!ShapedType::isDynamic(batch)) {
    zeros = filled(gi, e, 0, {batch, hidden});
  } else {
    Value b = gi.create1("shape", {x},
                         {named(gi, "start", gi.b.getI64IntegerAttr(1)),
                          named(gi, "end", gi.b.getI64IntegerAttr(2))});
    Value shape = gi.create1("concat", {b, gi.constI64({hidden})},
                             {named(gi, "axis", gi.b.getI64IntegerAttr(0))});
    zeros = gi.create1("expand", {scalarOf(gi, e, 0), shape});
  }
  // clip bounds the gates' inputs; LSTM's h(C) takes C unclipped, as in
  // onnxruntime.
  Value one = scalarOf(gi, e, 1);
  Value clipLo = clip ? scalarOf(gi, e, -*clip) : Value(),
        clipHi = clip ? scalarOf(gi, e, *clip) : Value();
  auto act = [&](int64_t d, int64_t k, Value v, bool clipped = true) {
    if (clip && clipped)
      v = clipWithSelects(gi, v, clipLo, clipHi);
    return applyActivation(gi, acts[d * defaults.size() + k], v);
  };
  auto gate = [&](Value v, int64_t k) {
    return sliceAxis(gi, v, 1, k * hidden, (k + 1) * hidden);
  };
  SmallVector<Value> ys, hs, cs;
  for (int64_t d = 0; d < dirs; ++d) {
    // Transposed weights, built once per direction and shared by all steps.
    Value wT = transposeBy(gi, takeAxis(gi, w, 0, d), {1, 0});
    Value rT = transposeBy(gi, takeAxis(gi, r, 0, d), {1, 0});
    Value bW, bR;
    if (bias) {
      Value bd = takeAxis(gi, bias, 0, d);
      bW = sliceAxis(gi, bd, 0, 0, gates * hidden);
      bR = sliceAxis(gi, bd, 0, gates * hidden, 2 * gates * hidden);
    }
    // GRU keeps the recurrent h-gate weight and bias apart: the reset gate
    // applies before or after them.
    Value rHT, bRH;
    if (gru) {
      rHT = sliceAxis(gi, rT, 1, 2 * hidden, 3 * hidden);
      rT = sliceAxis(gi, rT, 1, 0, 2 * hidden);
      if (bias) {
        bRH = sliceAxis(gi, bR, 0, 2 * hidden, 3 * hidden);
        bR = sliceAxis(gi, bR, 0, 0, 2 * hidden);
      }
    }
    Value xProj = matmulOf(gi, x2d, wT);
    if (bias)
      xProj = bin(gi, "add", xProj, gru ? bW : bin(gi, "add", bW, bR));
    xProj = reshapeTo(gi, xProj, {seq, -1, gates * hidden});
    Value pI, pO, pF;
    if (peep) {
      Value pd = takeAxis(gi, peep, 0, d);
      pI = sliceAxis(gi, pd, 0, 0, hidden);
      pO = sliceAxis(gi, pd, 0, hidden, 2 * hidden);
      pF = sliceAxis(gi, pd, 0, 2 * hidden, 3 * hidden);
    }
    Value h = h0 ? takeAxis(gi, h0, 0, d) : zeros;
    Value c = c0 ? takeAxis(gi, c0, 0, d) : zeros;
    bool reverse = direction == "reverse" || d == 1;
    SmallVector<Value> steps(seq);
    for (int64_t s = 0; s < seq; ++s) {
      int64_t t = reverse ? seq - 1 - s : s;
      Value xs = takeAxis(gi, xProj, 0, t);
      Value hr = matmulOf(gi, h, rT);
      if (gru && bias)
        hr = bin(gi, "add", hr, bR);
      Value hNew, cNew;
      if (lstm) {
        Value pre[4];
        for (int64_t k = 0; k < 4; ++k)
          pre[k] = bin(gi, "add", gate(xs, k), gate(hr, k));
        if (peep) {
          pre[0] = bin(gi, "add", pre[0], bin(gi, "mul", pI, c));
          pre[2] = bin(gi, "add", pre[2], bin(gi, "mul", pF, c));
        }
        Value ig = act(d, 0, pre[0]);
        Value fg = inputForget ? bin(gi, "sub", one, ig) : act(d, 0, pre[2]);
        Value cg = act(d, 1, pre[3]);
        cNew = bin(gi, "add", bin(gi, "mul", fg, c), bin(gi, "mul", ig, cg));
        Value po = pre[1];
        if (peep)
          po = bin(gi, "add", po, bin(gi, "mul", pO, cNew));
        hNew = bin(gi, "mul", act(d, 0, po), act(d, 2, cNew, false));
      } else if (gru) {
        Value z = act(d, 0, bin(gi, "add", gate(xs, 0), gate(hr, 0)));
        Value rg = act(d, 0, bin(gi, "add", gate(xs, 1), gate(hr, 1)));
        Value hh;
        if (linearBeforeReset) {
          hh = matmulOf(gi, h, rHT);
          if (bias)
            hh = bin(gi, "add", hh, bRH);
          hh = bin(gi, "mul", rg, hh);
        } else {
          hh = matmulOf(gi, bin(gi, "mul", rg, h), rHT);
          if (bias)
            hh = bin(gi, "add", hh, bRH);
        }
        hh = act(d, 1, bin(gi, "add", gate(xs, 2), hh));
        hNew = bin(gi, "add", bin(gi, "mul", bin(gi, "sub", one, z), hh),
                   bin(gi, "mul", z, h));
      } else {
        hNew = act(d, 0, bin(gi, "add", xs, hr));
      }
      Value y = hNew;
      if (lens || runLens) {
        Value m;
        if (lens) {
          SmallVector<bool> live;
          for (int64_t l : *lens)
            live.push_back(t < l);
          m = gi.constant(DenseElementsAttr::get(
              RankedTensorType::get({(int64_t)lens->size(), 1},
                                    gi.b.getI1Type()),
              live));
        } else {
          m = unsqueezeAt(
              gi, bin(gi, "less", scalarOf(gi, elemOf(runLens), t), runLens),
              {1});
        }
        y = sel(gi, m, hNew, zeros);
        hNew = sel(gi, m, hNew, h);
        if (lstm)
          cNew = sel(gi, m, cNew, c);
      }
      steps[t] = unsqueezeAt(gi, y, {0});
      h = hNew;
      c = cNew;
    }
    Value yd = seq == 1
                   ? steps[0]
                   : gi.create1("concat", steps,
                                {named(gi, "axis", gi.b.getI64IntegerAttr(0))});
    ys.push_back(unsqueezeAt(gi, yd, {1}));
    hs.push_back(unsqueezeAt(gi, h, {0}));
    if (lstm)
      cs.push_back(unsqueezeAt(gi, c, {0}));
  }
  auto cat = [&](ArrayRef<Value> vs, int64_t axis) {
    return vs.size() == 1
               ? vs[0]
               : gi.create1("concat", vs,
                            {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
  };
  SmallVector<Value> outs = {cat(ys, 1), cat(hs, 0)};
  if (lstm)
    outs.push_back(cat(cs, 0));
  if (layout == 1) {
    outs[0] = transposeBy(gi, outs[0], {2, 0, 1, 3});
    for (size_t i = 1; i < outs.size(); ++i)
      outs[i] = transposeBy(gi, outs[i], {1, 0, 2});
  }
  gi.setOutputs(n, outs);
}

/// A constant of `shape` holding `values` (given as doubles) in `elem`.
Value constOf(GraphImporter &gi, Type elem, ArrayRef<int64_t> shape,
              ArrayRef<double> values) {
  auto t = RankedTensorType::get(shape, elem);
  SmallVector<Attribute> attrs;
  for (double v : values)
    attrs.push_back(isa<FloatType>(elem)
                        ? (Attribute)gi.b.getFloatAttr(elem, v)
                        : (Attribute)gi.b.getIntegerAttr(elem, (int64_t)v));
  return gi.constant(DenseElementsAttr::get(t, attrs));
}

/// a @ b for 2-D or batched 3-D operands: lop.matmul for f32 (what the
/// code generator's matmul takes), else a broadcast multiply and a sum.
Value productOf(GraphImporter &gi, Value a, Value b) {
  if (elemOf(a).isF32())
    return matmulOf(gi, a, b);
  int64_t r = typeOf(a).getRank();
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < r - 2; ++i)
    perm.push_back(i);
  perm.append({r - 1, r - 2});
  // [..., m, 1, k] * [..., 1, n, k] summed over k.
  Value a4 = unsqueezeAt(gi, a, {r - 1});
  Value b4 = unsqueezeAt(gi, transposeBy(gi, b, perm), {r - 2});
  return reduceOp(gi, "reduce_sum", bin(gi, "mul", a4, b4), {r}, false);
}

/// An Einsum operand: its value and one label per axis (letters are their
/// ASCII codes, ellipsis axes 256 + k).
struct EinsumTerm {
  Value v;
  SmallVector<int> labels;
};

std::string einsumLabel(int l) {
  return l < 256 ? std::string(1, (char)l)
                 : "...[" + std::to_string(l - 256) + "]";
}

/// Sums `t` over the labels `drop`.
void einsumReduce(GraphImporter &gi, EinsumTerm &t, ArrayRef<int> drop) {
  SmallVector<int64_t> axes;
  SmallVector<int> kept;
  for (auto [i, l] : llvm::enumerate(t.labels)) {
    if (llvm::is_contained(drop, l))
      axes.push_back(i);
    else
      kept.push_back(l);
  }
  if (axes.empty())
    return;
  t.v = reduceOp(gi, "reduce_sum", t.v, axes, false);
  t.labels = kept;
}

/// Einsum, for any valid equation on static shapes: diagonals of repeated
/// labels (multiply by an identity, sum one axis), sums over labels no
/// later term needs, then operands contracted left to right as one batched
/// matmul each (transpose to [batch, free, contracted], reshape to 3-D),
/// and a final transpose to the output's order.
void convertEinsum(GraphImporter &gi, const Node &n) {
  std::string eq;
  for (char ch : attrString(n, "equation", ""))
    if (ch != ' ')
      eq += ch;
  if (eq.empty())
    throw NodeError{"Einsum needs an 'equation'"};
  StringRef lhs = eq, rhs;
  bool explicitOut = false;
  if (size_t arrow = StringRef(eq).find("->"); arrow != StringRef::npos) {
    lhs = StringRef(eq).take_front(arrow);
    rhs = StringRef(eq).drop_front(arrow + 2);
    explicitOut = true;
  }
  SmallVector<StringRef> termText;
  lhs.split(termText, ',');
  if ((int)termText.size() != n.input_size())
    throw NodeError{"equation '" + eq + "' has " +
                    std::to_string(termText.size()) + " terms for " +
                    std::to_string(n.input_size()) + " inputs"};
  auto bad = [&](const std::string &why) {
    return NodeError{"equation '" + eq + "': " + why};
  };
  // Letters of a term, with the ellipsis as -1.
  auto parse = [&](StringRef s) {
    SmallVector<int> out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.substr(i).starts_with("...")) {
        if (llvm::is_contained(out, -1))
          throw bad("more than one ellipsis in a term");
        out.push_back(-1);
        i += 2;
      } else if (llvm::isAlpha(s[i])) {
        out.push_back((unsigned char)s[i]);
      } else {
        throw bad(std::string("unexpected character '") + s[i] + "'");
      }
    }
    return out;
  };
  SmallVector<EinsumTerm> terms;
  SmallVector<SmallVector<int>> raw;
  int64_t ellRank = 0;
  for (auto [i, text] : llvm::enumerate(termText)) {
    Value v = gi.input(n, i);
    if (!typeOf(v).hasStaticShape())
      throw NodeError{"input #" + std::to_string(i) + " needs a static shape"};
    raw.push_back(parse(text));
    int64_t letters = llvm::count_if(raw.back(), [](int l) { return l >= 0; });
    int64_t rank = typeOf(v).getRank();
    bool hasEll = llvm::is_contained(raw.back(), -1);
    if (rank < letters || (!hasEll && rank != letters))
      throw bad("term '" + text.str() + "' does not fit input #" +
                std::to_string(i) + " of rank " + std::to_string(rank));
    if (hasEll)
      ellRank = std::max(ellRank, rank - letters);
    terms.push_back({v, {}});
  }
  // Ellipsis axes align from the right, as in broadcasting.
  for (auto [t, r] : llvm::zip(terms, raw)) {
    int64_t e = typeOf(t.v).getRank() + 1 - (int64_t)r.size();
    for (int l : r) {
      if (l >= 0) {
        t.labels.push_back(l);
        continue;
      }
      for (int64_t k = ellRank - e; k < ellRank; ++k)
        t.labels.push_back(256 + k);
    }
  }
  llvm::DenseMap<int, int64_t> size;
  for (auto &t : terms)
    for (auto [l, d] : llvm::zip(t.labels, typeOf(t.v).getShape())) {
      auto [it, fresh] = size.try_emplace(l, d);
      if (!fresh && it->second != d) {
        if (it->second != 1 && d != 1)
          throw bad("label " + einsumLabel(l) + " has sizes " +
                    std::to_string(it->second) + " and " + std::to_string(d));
        it->second = std::max(it->second, d);
      }
    }
  SmallVector<int> out;
  if (explicitOut) {
    for (int l : parse(rhs)) {
      if (l >= 0) {
        if (!size.count(l))
          throw bad("output label " + einsumLabel(l) + " is in no input");
        if (llvm::is_contained(out, l))
          throw bad("output label " + einsumLabel(l) + " repeats");
        out.push_back(l);
      } else {
        for (int64_t k = 0; k < ellRank; ++k)
          out.push_back(256 + k);
      }
    }
  } else {
    for (int64_t k = 0; k < ellRank; ++k)
      out.push_back(256 + k);
    std::map<int, int> count;
    for (auto &r : raw)
      for (int l : r)
        if (l >= 0)
          ++count[l];
    for (auto [l, c] : count)
      if (c == 1)
        out.push_back(l);
  }
  Type e = elemOf(terms[0].v);

  // Diagonals: x * I summed over the second of two equal labels.
  for (auto &t : terms) {
    for (size_t a = 0; a < t.labels.size(); ++a)
      for (size_t b2 = t.labels.size(); b2-- > a + 1;) {
        if (t.labels[b2] != t.labels[a])
          continue;
        auto shape = typeOf(t.v).getShape();
        int64_t d = shape[a];
        if (shape[b2] != d)
          throw bad("the diagonal of label " + einsumLabel(t.labels[a]) +
                    " needs equal sizes");
        SmallVector<double> eye(d * d, 0);
        for (int64_t i = 0; i < d; ++i)
          eye[i * d + i] = 1;
        SmallVector<int64_t> maskShape(shape.size(), 1);
        maskShape[a] = maskShape[b2] = d;
        t.v = bin(gi, "mul", t.v, constOf(gi, e, maskShape, eye));
        t.v = reduceOp(gi, "reduce_sum", t.v, {(int64_t)b2}, false);
        t.labels.erase(t.labels.begin() + b2);
      }
  }
  // Labels needed after term i: the output's and those of later terms.
  auto neededAfter = [&](size_t i) {
    SmallVector<int> need(out);
    for (size_t j = i + 1; j < terms.size(); ++j)
      need.append(terms[j].labels);
    return need;
  };
  auto dropUnneeded = [&](EinsumTerm &t, ArrayRef<int> need,
                          ArrayRef<int> other) {
    SmallVector<int> drop;
    for (int l : t.labels)
      if (!llvm::is_contained(need, l) && !llvm::is_contained(other, l))
        drop.push_back(l);
    einsumReduce(gi, t, drop);
  };
  EinsumTerm acc = terms[0];
  dropUnneeded(acc, neededAfter(0),
               terms.size() > 1 ? ArrayRef<int>(terms[1].labels)
                                : ArrayRef<int>());
  for (size_t i = 1; i < terms.size(); ++i) {
    EinsumTerm rhsT = terms[i];
    SmallVector<int> need = neededAfter(i);
    dropUnneeded(rhsT, need, acc.labels);
    dropUnneeded(acc, need, rhsT.labels);
    SmallVector<int> batch, contract, aOnly, bOnly;
    for (int l : acc.labels)
      (llvm::is_contained(rhsT.labels, l)
           ? (llvm::is_contained(need, l) ? batch : contract)
           : aOnly)
          .push_back(l);
    for (int l : rhsT.labels)
      if (!llvm::is_contained(acc.labels, l))
        bOnly.push_back(l);
    // Permute to [batch, a, contract] and [batch, contract, b], broadcast the
    // batch axes, flatten to 3-D and multiply.
    auto arrange = [&](EinsumTerm &t, ArrayRef<ArrayRef<int>> groups,
                       SmallVector<int64_t> &dims) {
      SmallVector<int64_t> perm, shape;
      auto tShape = typeOf(t.v).getShape();
      for (ArrayRef<int> g : groups)
        for (int l : g) {
          int64_t pos = llvm::find(t.labels, l) - t.labels.begin();
          perm.push_back(pos);
          shape.push_back(tShape[pos]);
        }
      Value v = t.v;
      if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
        v = transposeBy(gi, v, perm);
      SmallVector<int64_t> full;
      for (ArrayRef<int> g : groups)
        for (int l : g)
          full.push_back(size[l]);
      // Size-1 axes broadcast against the other operand's.
      if (shape != full)
        v = gi.create1("expand", {v, gi.constI64(full)});
      dims.clear();
      for (ArrayRef<int> g : groups) {
        int64_t p = 1;
        for (int l : g)
          p *= size[l];
        dims.push_back(p);
      }
      if (batch.empty())
        dims.erase(dims.begin());
      return typeOf(v).getShape() == ArrayRef<int64_t>(dims)
                 ? v
                 : reshapeTo(gi, v, dims);
    };
    SmallVector<int64_t> da, db;
    Value a = arrange(acc, {batch, aOnly, contract}, da);
    Value b = arrange(rhsT, {batch, contract, bOnly}, db);
    Value m = productOf(gi, a, b);
    SmallVector<int64_t> shape;
    SmallVector<int> labels;
    for (ArrayRef<int> g :
         {ArrayRef<int>(batch), ArrayRef<int>(aOnly), ArrayRef<int>(bOnly)})
      for (int l : g) {
        shape.push_back(size[l]);
        labels.push_back(l);
      }
    if (typeOf(m).getShape() != ArrayRef<int64_t>(shape))
      m = reshapeTo(gi, m, shape);
    acc = {m, labels};
  }
  dropUnneeded(acc, out, {});
  SmallVector<int64_t> perm;
  for (int l : out) {
    auto it = llvm::find(acc.labels, l);
    if (it == acc.labels.end())
      throw bad("output label " + einsumLabel(l) + " is lost");
    perm.push_back(it - acc.labels.begin());
  }
  Value r = acc.v;
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    r = transposeBy(gi, r, perm);
  single(gi, n, r);
}

/// Loops and scans unroll up to this many iterations.
constexpr int64_t kMaxUnroll = 256;

/// A graph-valued attribute.
const onnx::GraphProto &graphAttr(const Node &n, StringRef name) {
  const auto *a = findAttr(n, name);
  if (!a || !a->has_g())
    throw NodeError{"needs the graph attribute '" + name.str() + "'"};
  return a->g();
}

/// Imports the nodes of subgraph `g` at the builder's insertion point, with
/// its inputs bound to `args` and the enclosing graphs' names visible (ONNX
/// lexical scoping); returns its outputs. Names it defines do not leak out.
/// `inits` keeps the subgraph's initializers from one unrolled iteration to
/// the next, so that each is materialized once.
using InitCache = llvm::DenseMap<const onnx::TensorProto *, Value>;
SmallVector<Value> inlineGraph(GraphImporter &gi, const onnx::GraphProto &g,
                               ValueRange args, StringRef what,
                               InitCache *inits = nullptr) {
  if (g.input_size() != (int)args.size())
    throw NodeError{what.str() + " has " + std::to_string(g.input_size()) +
                    " inputs, expected " + std::to_string(args.size())};
  llvm::StringMap<Value> savedValues = gi.values;
  llvm::StringMap<const onnx::ValueInfoProto *> savedDeclared = gi.declared;
  Location savedLoc = gi.loc;
  auto restore = [&] {
    gi.values = std::move(savedValues);
    gi.declared = std::move(savedDeclared);
    gi.loc = savedLoc;
  };
  SmallVector<Value> results;
  try {
    for (auto [i, arg] : llvm::enumerate(args))
      gi.values[g.input(i).name()] = arg;
    for (const auto &init : g.initializer()) {
      Value v = inits ? inits->lookup(&init) : Value();
      if (!v) {
        v = gi.constant(
            gi.tensorToAttr(init, "initializer '" + init.name() + "'"));
        if (inits)
          (*inits)[&init] = v;
      }
      gi.values[init.name()] = v;
    }
    for (const auto &vi : g.value_info())
      gi.declared[vi.name()] = &vi;
    for (const auto &vi : g.output())
      gi.declared[vi.name()] = &vi;
    for (int i = 0; i < g.node_size(); ++i) {
      const Node &node = g.node(i);
      std::string label = node.name().empty() ? "#" + std::to_string(i)
                                              : "'" + node.name() + "'";
      std::string where =
          what.str() + " node " + label + " (" + node.op_type() + "): ";
      bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
      if (!defaultDomain || !GraphImporter::isSupported(node.op_type()))
        throw NodeError{where + "unsupported op"};
      std::string nodeName = node.name().empty()
                                 ? node.op_type() + "_" + std::to_string(i)
                                 : node.name();
      gi.loc = NameLoc::get(gi.b.getStringAttr(nodeName), savedLoc);
      try {
        gi.convertNode(node);
      } catch (NodeError &e) {
        throw NodeError{where + e.message};
      }
    }
    for (const auto &out : g.output()) {
      Value v = gi.values.lookup(out.name());
      if (!v) {
        // An outer initializer not used before.
        auto it = gi.initializers.find(out.name());
        if (it == gi.initializers.end())
          throw NodeError{what.str() + " output '" + out.name() +
                          "' is produced by no node"};
        v = gi.constant(
            gi.tensorToAttr(*it->second, "initializer '" + out.name() + "'"));
      }
      results.push_back(v);
    }
  } catch (NodeError &) {
    restore();
    throw;
  }
  restore();
  return results;
}

std::string typeString(Value v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v.getType();
  return s;
}

/// The value of a one-element integer or bool tensor known at compile time,
/// looking also through comparisons and logic on such values (conditions
/// such as Equal(Size(x), 4)).
std::optional<int64_t> knownScalar(Value v) {
  if (auto k = lop::getKnownIntValues(v))
    return k->size() == 1 && !ShapedType::isDynamic((*k)[0])
               ? std::optional<int64_t>((*k)[0])
               : std::nullopt;
  Operation *def = v.getDefiningOp();
  if (!def || staticNumel(v) != 1)
    return std::nullopt;
  StringRef name = def->getName().getStringRef();
  if (name == "lop.not") {
    auto a = knownScalar(def->getOperand(0));
    return a ? std::optional<int64_t>(*a == 0) : std::nullopt;
  }
  if (def->getNumOperands() != 2)
    return std::nullopt;
  auto a = knownScalar(def->getOperand(0)), b = knownScalar(def->getOperand(1));
  if (!a || !b)
    return std::nullopt;
  if (name == "lop.equal")
    return *a == *b;
  if (name == "lop.less")
    return *a < *b;
  if (name == "lop.greater")
    return *a > *b;
  if (name == "lop.and")
    return *a && *b;
  if (name == "lop.or")
    return *a || *b;
  if (name == "lop.xor")
    return (*a != 0) != (*b != 0);
  return std::nullopt;
}

/// If: a condition known at compile time inlines the taken branch; a
/// run-time one imports both branches and selects each output with
/// lop.where, so both branches run (their ops have no side effects).
void convertIf(GraphImporter &gi, const Node &n) {
  Value cond = gi.input(n, 0);
  const onnx::GraphProto &thenG = graphAttr(n, "then_branch"),
                         &elseG = graphAttr(n, "else_branch");
  if (auto c = knownScalar(cond)) {
    gi.setOutputs(n, inlineGraph(gi, *c ? thenG : elseG, {},
                                 *c ? "then_branch" : "else_branch"));
    return;
  }
  if (!elemOf(cond).isInteger(1) || staticNumel(cond) != 1)
    throw NodeError{"cond must be a one-element bool tensor"};
  SmallVector<Value> t = inlineGraph(gi, thenG, {}, "then_branch");
  SmallVector<Value> f = inlineGraph(gi, elseG, {}, "else_branch");
  if (t.size() != f.size())
    throw NodeError{"then_branch has " + std::to_string(t.size()) +
                    " outputs and else_branch " + std::to_string(f.size())};
  Value c = reshapeTo(gi, cond, {});
  SmallVector<Value> outs;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].getType() != f[i].getType())
      throw NodeError{
          "output #" + std::to_string(i) + " is " + typeString(t[i]) +
          " in then_branch and " + typeString(f[i]) +
          " in else_branch; a run-time condition needs equal types"};
    outs.push_back(t[i] == f[i] ? t[i] : sel(gi, c, t[i], f[i]));
  }
  gi.setOutputs(n, outs);
}

/// `values` stacked along a new axis (each unsqueezed, then concatenated).
Value stack(GraphImporter &gi, ArrayRef<Value> values, int64_t axis) {
  SmallVector<Value> parts;
  for (Value v : values)
    parts.push_back(unsqueezeAt(gi, v, {axis}));
  if (parts.size() == 1)
    return parts[0];
  return gi.create1("concat", parts,
                    {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
}

/// Loop with a trip count and condition known at compile time, unrolled
/// (up to kMaxUnroll iterations): the body's condition output must fold to
/// a constant in every iteration.
void convertLoop(GraphImporter &gi, const Node &n) {
  const onnx::GraphProto &body = graphAttr(n, "body");
  Value tripV = gi.optionalInput(n, 0), condV = gi.optionalInput(n, 1);
  std::optional<int64_t> trip;
  if (tripV) {
    trip = knownScalar(tripV);
    if (!trip)
      throw NodeError{"the trip count M must be known at compile time (a "
                      "run-time trip count is not supported yet)"};
  }
  auto known = [&](Value c, StringRef what) {
    auto k = knownScalar(c);
    if (!k)
      throw NodeError{what.str() + " must be known at compile time "
                                   "(data-dependent termination is not "
                                   "supported yet)"};
    return *k != 0;
  };
  bool go = condV ? known(condV, "the condition") : true;
  if (!trip && !condV)
    throw NodeError{"a loop without a trip count or a condition never ends"};
  if (trip && *trip > kMaxUnroll)
    throw NodeError{"the trip count " + std::to_string(*trip) +
                    " exceeds the unroll limit of " +
                    std::to_string(kMaxUnroll)};
  int64_t numCarried = n.input_size() - 2;
  if (numCarried < 0)
    throw NodeError{"expects the inputs M and cond (either may be empty)"};
  SmallVector<Value> carried;
  for (int64_t i = 0; i < numCarried; ++i)
    carried.push_back(gi.input(n, 2 + i));
  int64_t numScans = body.output_size() - 1 - numCarried;
  if (numScans < 0 || body.input_size() != 2 + numCarried)
    throw NodeError{"the body must take 2 + " + std::to_string(numCarried) +
                    " inputs and return at least 1 + " +
                    std::to_string(numCarried) + " outputs"};
  Type i1 = gi.b.getI1Type();
  InitCache inits;
  SmallVector<SmallVector<Value>> scans(numScans);
  for (int64_t i = 0; go && (!trip || i < *trip); ++i) {
    if (i == kMaxUnroll)
      throw NodeError{"the loop runs more than the unroll limit of " +
                      std::to_string(kMaxUnroll) + " iterations"};
    SmallVector<Value> args = {gi.constI64({i}, /*scalar=*/true),
                               scalarOf(gi, i1, 1)};
    args.append(carried);
    SmallVector<Value> outs = inlineGraph(gi, body, args, "body", &inits);
    go = known(outs[0], "the body's condition output");
    carried.assign(outs.begin() + 1, outs.begin() + 1 + numCarried);
    for (int64_t k = 0; k < numScans; ++k)
      scans[k].push_back(outs[1 + numCarried + k]);
  }
  SmallVector<Value> results(carried);
  for (auto &s : scans) {
    if (s.empty())
      throw NodeError{"a loop that runs no iteration cannot give its scan "
                      "outputs a type"};
    results.push_back(stack(gi, s, 0));
  }
  gi.setOutputs(n, results);
}

/// Runs a Scan body over `xs`, one step per element of each input's scan
/// axis, threading `state`; returns each step's scan outputs.
SmallVector<SmallVector<Value>>
unrollScan(GraphImporter &gi, const onnx::GraphProto &body,
           SmallVector<Value> &state, ArrayRef<Value> xs,
           ArrayRef<int64_t> axes, ArrayRef<int64_t> dirs, int64_t numOut) {
  int64_t len = -1;
  for (auto [j, x] : llvm::enumerate(xs)) {
    auto t = typeOf(x);
    if (t.isDynamicDim(axes[j]))
      throw NodeError{"scan input #" + std::to_string(j) +
                      " needs a static length on its scan axis (a dynamic "
                      "sequence length is not supported yet)"};
    int64_t l = t.getDimSize(axes[j]);
    if (len >= 0 && l != len)
      throw NodeError{"the scan inputs have different lengths"};
    len = l;
  }
  if (len > kMaxUnroll)
    throw NodeError{"the sequence length " + std::to_string(len) +
                    " exceeds the unroll limit of " +
                    std::to_string(kMaxUnroll)};
  if (len == 0 && numOut > 0)
    throw NodeError{"an empty scan cannot give its scan outputs a type"};
  int64_t numState = state.size();
  SmallVector<SmallVector<Value>> outs(numOut);
  InitCache inits;
  for (int64_t t = 0; t < len; ++t) {
    SmallVector<Value> args(state);
    for (auto [j, x] : llvm::enumerate(xs))
      args.push_back(takeAxis(gi, x, axes[j], dirs[j] ? len - 1 - t : t));
    SmallVector<Value> res = inlineGraph(gi, body, args, "body", &inits);
    state.assign(res.begin(), res.begin() + numState);
    for (int64_t k = 0; k < numOut; ++k)
      outs[k].push_back(res[numState + k]);
  }
  return outs;
}

/// Scan over a static sequence length, unrolled (up to kMaxUnroll steps).
/// Opset 8's form, with a leading batch axis on every input and output,
/// unrolls over the batch too; its sequence_lens must be absent or all
/// equal to the sequence length.
void convertScan(GraphImporter &gi, const Node &n) {
  const onnx::GraphProto &body = graphAttr(n, "body");
  bool batched = gi.opset < 9;
  int64_t first = batched ? 1 : 0;
  int64_t numIn = attrInt(n, "num_scan_inputs", -1);
  int64_t numState = n.input_size() - first - numIn;
  if (numIn < 1 || numState < 0)
    throw NodeError{"num_scan_inputs must be in [1, number of inputs]"};
  int64_t numOut = body.output_size() - numState;
  if (numOut < 0 || body.input_size() != numState + numIn)
    throw NodeError{"the body must take " + std::to_string(numState + numIn) +
                    " inputs and return at least " + std::to_string(numState) +
                    " outputs"};
  auto list = [&](StringRef name, int64_t count) {
    SmallVector<int64_t> v =
        attrInts(n, name).value_or(SmallVector<int64_t>(count, 0));
    if ((int64_t)v.size() != count)
      throw NodeError{name.str() + " must have " + std::to_string(count) +
                      " values"};
    return v;
  };
  SmallVector<Value> state, xs;
  for (int64_t i = 0; i < numState; ++i)
    state.push_back(gi.input(n, first + i));
  for (int64_t j = 0; j < numIn; ++j)
    xs.push_back(gi.input(n, first + numState + j));

  if (batched) {
    SmallVector<int64_t> dirs = list("directions", numIn);
    SmallVector<int64_t> axes(numIn, 0);
    int64_t batch = -1;
    for (Value v : llvm::concat<Value>(state, xs)) {
      auto t = typeOf(v);
      if (t.getRank() < 1 || t.isDynamicDim(0) ||
          (batch >= 0 && t.getDimSize(0) != batch))
        throw NodeError{"every input needs the same static batch size"};
      batch = t.getDimSize(0);
    }
    if (Value lens = gi.optionalInput(n, 0)) {
      auto v = lop::getKnownIntValues(lens);
      int64_t len = typeOf(xs[0]).getRank() > 1 ? typeOf(xs[0]).getDimSize(1)
                                                : ShapedType::kDynamic;
      if (!v || llvm::any_of(*v, [&](int64_t l) { return l != len; }))
        throw NodeError{"sequence_lens must be absent or a constant equal to "
                        "the sequence length"};
    }
    if (batch > kMaxUnroll)
      throw NodeError{"the batch size " + std::to_string(batch) +
                      " exceeds the unroll limit of " +
                      std::to_string(kMaxUnroll)};
    SmallVector<SmallVector<Value>> finals(numState), stacked(numOut);
    for (int64_t b = 0; b < batch; ++b) {
      SmallVector<Value> st, x;
      for (Value v : state)
        st.push_back(takeAxis(gi, v, 0, b));
      for (Value v : xs)
        x.push_back(takeAxis(gi, v, 0, b));
      auto outs = unrollScan(gi, body, st, x, axes, dirs, numOut);
      for (int64_t i = 0; i < numState; ++i)
        finals[i].push_back(st[i]);
      for (int64_t k = 0; k < numOut; ++k)
        stacked[k].push_back(stack(gi, outs[k], 0));
    }
    SmallVector<Value> results;
    for (auto &v : llvm::concat<SmallVector<Value>>(finals, stacked))
      results.push_back(stack(gi, v, 0));
    gi.setOutputs(n, results);
    return;
  }

  SmallVector<int64_t> inAxes = list("scan_input_axes", numIn),
                       inDirs = list("scan_input_directions", numIn),
                       outAxes = list("scan_output_axes", numOut),
                       outDirs = list("scan_output_directions", numOut);
  for (auto [j, x] : llvm::enumerate(xs))
    inAxes[j] =
        normAxis(inAxes[j], typeOf(x).getRank(), "scan_input_axes value");
  auto outs = unrollScan(gi, body, state, xs, inAxes, inDirs, numOut);
  SmallVector<Value> results(state);
  for (int64_t k = 0; k < numOut; ++k) {
    if (outDirs[k])
      std::reverse(outs[k].begin(), outs[k].end());
    int64_t rank = typeOf(outs[k][0]).getRank() + 1;
    results.push_back(stack(
        gi, outs[k], normAxis(outAxes[k], rank, "scan_output_axes value")));
  }
  gi.setOutputs(n, results);
}

Value castTo(GraphImporter &gi, Value x, Type elem) {
  if (elemOf(x) == elem)
    return x;
  return gi.create1("cast", {x}, {named(gi, "to", TypeAttr::get(elem))});
}

/// OneHot as where(indices == range(depth), on, off); the depth is a
/// constant or, when fed at run time, the declared output's size on `axis`.
void convertOneHot(GraphImporter &gi, const Node &n) {
  Value idx = gi.input(n, 0), depthV = gi.input(n, 1), vals = gi.input(n, 2);
  auto it = typeOf(idx);
  int64_t rank = it.getRank() + 1;
  int64_t axis = normAxis(attrInt(n, "axis", -1), rank);
  int64_t depth = -1;
  if (auto k = knownScalar(depthV))
    depth = *k;
  else if (auto f = lop::getConstantFloatValues(depthV); f && f->size() == 1)
    depth = (int64_t)(*f)[0];
  else if (auto t = declaredFor(gi, n, 0); t && t.getRank() == rank)
    depth = t.getDimSize(axis);
  if (depth < 1)
    throw NodeError{"depth must be a positive constant, or the output must "
                    "be declared with a static shape"};
  if (depth > (int64_t(1) << 24))
    throw NodeError{"depth " + std::to_string(depth) + " is too large"};
  if (staticNumel(vals) != 2)
    throw NodeError{"values must hold two elements [off, on]"};
  Type i64 = gi.b.getI64Type();
  idx = castTo(gi, idx, i64);
  Value d = scalarOf(gi, i64, depth);
  idx = sel(gi, bin(gi, "less", idx, scalarOf(gi, i64, 0)),
            bin(gi, "add", idx, d), idx);
  SmallVector<double> range;
  for (int64_t i = 0; i < depth; ++i)
    range.push_back(i);
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = depth;
  Value hot = bin(gi, "equal", unsqueezeAt(gi, idx, {axis}),
                  constOf(gi, i64, shape, range));
  Value flat = reshapeTo(gi, vals, {2});
  Value off = reshapeTo(gi, sliceAxis(gi, flat, 0, 0, 1), {});
  Value on = reshapeTo(gi, sliceAxis(gi, flat, 0, 1, 2), {});
  single(gi, n, sel(gi, hot, on, off));
}

/// GatherND on static shapes: the index tuples become linear indices into
/// the data with its indexed (and batch) axes flattened, then one Gather.
void convertGatherND(GraphImporter &gi, const Node &n) {
  Value data = gi.input(n, 0), idx = gi.input(n, 1);
  auto dt = typeOf(data), it = typeOf(idx);
  if (!dt.hasStaticShape() || !it.hasStaticShape())
    throw NodeError{"GatherND needs static shapes"};
  int64_t b = attrInt(n, "batch_dims", 0);
  int64_t r = dt.getRank(), q = it.getRank();
  if (q < 1 || b < 0 || b >= std::min(r, q))
    throw NodeError{"batch_dims must be less than the ranks of data and "
                    "indices"};
  int64_t k = it.getDimSize(q - 1);
  if (k < 1 || b + k > r)
    throw NodeError{"the index tuples are longer than data's rank minus "
                    "batch_dims"};
  for (int64_t i = 0; i < b; ++i)
    if (dt.getDimSize(i) != it.getDimSize(i))
      throw NodeError{"data and indices differ on batch axis " +
                      std::to_string(i)};
  Type i64 = gi.b.getI64Type();
  idx = castTo(gi, idx, i64);
  SmallVector<double> dims, strides(k);
  int64_t inner = 1;
  for (int64_t j = k - 1; j >= 0; --j) {
    strides[j] = inner;
    inner *= dt.getDimSize(b + j);
  }
  for (int64_t j = 0; j < k; ++j)
    dims.push_back(dt.getDimSize(b + j));
  idx = sel(gi, bin(gi, "less", idx, scalarOf(gi, i64, 0)),
            bin(gi, "add", idx, constOf(gi, i64, {k}, dims)), idx);
  Value lin = reduceOp(gi, "reduce_sum",
                       bin(gi, "mul", idx, constOf(gi, i64, {k}, strides)),
                       {q - 1}, false);
  int64_t batch = 1;
  for (int64_t i = 0; i < b; ++i)
    batch *= dt.getDimSize(i);
  if (b > 0) {
    // Each batch entry's offset, broadcast over the index axes.
    SmallVector<double> offs;
    for (int64_t i = 0; i < batch; ++i)
      offs.push_back(i * inner);
    SmallVector<int64_t> shape(it.getShape().take_front(b));
    shape.append(q - 1 - b, 1);
    lin = bin(gi, "add", lin, constOf(gi, i64, shape, offs));
  }
  SmallVector<int64_t> flatShape = {batch * inner};
  llvm::append_range(flatShape, dt.getShape().drop_front(b + k));
  single(gi, n,
         gi.create1("gather", {reshapeTo(gi, data, flatShape), lin},
                    {named(gi, "axis", gi.b.getI64IntegerAttr(0))}));
}

/// ReverseSequence as GatherElements along the time axis with indices
/// len - 1 - t below each sequence's length and t beyond it.
void convertReverseSequence(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), lens = gi.input(n, 1);
  auto xt = typeOf(x);
  if (!xt.hasStaticShape() || xt.getRank() < 2)
    throw NodeError{"ReverseSequence needs a static shape of rank >= 2"};
  int64_t rank = xt.getRank();
  int64_t timeAxis = normAxis(attrInt(n, "time_axis", 0), rank, "time_axis");
  int64_t batchAxis = normAxis(attrInt(n, "batch_axis", 1), rank, "batch_axis");
  if (timeAxis == batchAxis)
    throw NodeError{"time_axis and batch_axis must differ"};
  int64_t steps = xt.getDimSize(timeAxis), batch = xt.getDimSize(batchAxis);
  if (typeOf(lens).getRank() != 1 || staticNumel(lens) != batch)
    throw NodeError{"sequence_lens must have one value per batch entry"};
  Type i64 = gi.b.getI64Type();
  SmallVector<int64_t> tShape(rank, 1), lShape(rank, 1);
  tShape[timeAxis] = steps;
  lShape[batchAxis] = batch;
  SmallVector<double> t;
  for (int64_t i = 0; i < steps; ++i)
    t.push_back(i);
  Value tv = constOf(gi, i64, tShape, t);
  Value lv = reshapeTo(gi, castTo(gi, lens, i64), lShape);
  Value rev = bin(gi, "sub", bin(gi, "sub", lv, scalarOf(gi, i64, 1)), tv);
  Value index = sel(gi, bin(gi, "less", tv, lv), rev, tv);
  index = gi.create1("expand", {index, gi.constI64(xt.getShape())});
  single(gi, n,
         gi.create1("gather_elements", {x, index},
                    {named(gi, "axis", gi.b.getI64IntegerAttr(timeAxis))}));
}

/// Det of [..., n, n] for n <= 4 as the Leibniz sum over permutations.
void convertDet(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  requireFloat(x);
  auto xt = typeOf(x);
  int64_t r = xt.getRank();
  if (r < 2 || xt.isDynamicDim(r - 1) || xt.isDynamicDim(r - 2) ||
      xt.getDimSize(r - 1) != xt.getDimSize(r - 2))
    throw NodeError{"expects [..., n, n] with a static n"};
  int64_t size = xt.getDimSize(r - 1);
  if (size < 1 || size > 4)
    throw NodeError{"Det of " + std::to_string(size) + "x" +
                    std::to_string(size) +
                    " matrices is not supported yet (up to 4x4)"};
  SmallVector<SmallVector<Value>> e(size);
  for (int64_t i = 0; i < size; ++i) {
    Value row = takeAxis(gi, x, r - 2, i);
    for (int64_t j = 0; j < size; ++j)
      e[i].push_back(takeAxis(gi, row, r - 2, j));
  }
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, size));
  Value sum;
  do {
    int64_t inversions = 0;
    for (int64_t i = 0; i < size; ++i)
      for (int64_t j = i + 1; j < size; ++j)
        inversions += perm[i] > perm[j];
    Value term = e[0][perm[0]];
    for (int64_t i = 1; i < size; ++i)
      term = bin(gi, "mul", term, e[i][perm[i]]);
    if (!sum)
      sum = inversions % 2 ? un(gi, "neg", term) : term;
    else
      sum = bin(gi, inversions % 2 ? "sub" : "add", sum, term);
  } while (std::next_permutation(perm.begin(), perm.end()));
  single(gi, n, sum);
}

/// Compress with a condition known at compile time: a Gather of the kept
/// positions along the axis (of the flattened input without one).
void convertCompress(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), cond = gi.input(n, 1);
  auto c = lop::getKnownIntValues(cond);
  if (!c || llvm::any_of(*c, ShapedType::isDynamic))
    throw NodeError{"the condition must be known at compile time (a run-time "
                    "condition gives a data-dependent shape)"};
  int64_t axis = 0;
  if (findAttr(n, "axis")) {
    axis = normAxis(attrInt(n, "axis", 0), typeOf(x).getRank());
  } else {
    if (!typeOf(x).hasStaticShape())
      throw NodeError{"Compress without an axis needs a static shape"};
    x = reshapeTo(gi, x, {typeOf(x).getNumElements()});
  }
  int64_t len = typeOf(x).getDimSize(axis);
  if (ShapedType::isDynamic(len) || (int64_t)c->size() > len)
    throw NodeError{"the condition is longer than the input along the axis"};
  SmallVector<int64_t> keep;
  for (auto [i, v] : llvm::enumerate(*c))
    if (v)
      keep.push_back(i);
  single(gi, n,
         gi.create1("gather", {x, gi.constI64(keep)},
                    {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
}

//===----------------------------------------------------------------------===//
// Convolution, pooling and Gemm forms beyond the kernels' (issue 4, part A)
//===----------------------------------------------------------------------===//

/// A 2-D pool of `kind` ("max_pool" or "average_pool") on a 4-D value.
Value pool2d(GraphImporter &gi, StringRef kind, Value x,
             ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
             ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations, bool ceil,
             bool countPad) {
  SmallVector<NamedAttribute> attrs{
      named(gi, "kernel_shape", i64s(gi, kernel)),
      named(gi, "strides", i64s(gi, strides)),
      named(gi, "pads", i64s(gi, pads)),
      named(gi, "dilations", i64s(gi, dilations)),
      named(gi, "ceil_mode", gi.b.getBoolAttr(ceil))};
  if (kind == "average_pool")
    attrs.push_back(named(gi, "count_include_pad", gi.b.getBoolAttr(countPad)));
  return gi.create1(kind, {x}, attrs);
}

/// 1-D and 3-D MaxPool/AveragePool (and LpPool of any rank) as 2-D pools on
/// reshaped views. A window is a box, so max and sum are separable by axis,
/// and so is the average: its divisor (window size, or the taps inside the
/// input) is a product over axes. 1-D: [N, C, 1, L] with a 1 x k window;
/// 3-D: (H, W) on [N, C*D, H, W], then D on [N, C, D, OH*OW].
Value poolAnyRank(GraphImporter &gi, const Node &n, StringRef kind, Value x,
                  bool countPad) {
  auto xt = typeOf(x);
  if (xt.getRank() < 3 || xt.getRank() > 5)
    throw NodeError{"input must have rank 3, 4 or 5"};
  size_t spatial = xt.getRank() - 2;
  auto kernel = attrInts(n, "kernel_shape");
  if (!kernel || kernel->size() != spatial)
    throw NodeError{"kernel_shape must have one value per spatial axis"};
  auto strides = intsOr(n, "strides", spatial, 1);
  auto dilations = intsOr(n, "dilations", spatial, 1);
  checkWindow(*kernel, strides, dilations);
  auto pads = resolvePads(n, xt, *kernel, strides, dilations);
  bool ceil = attrInt(n, "ceil_mode", 0);
  auto &k = *kernel;
  auto &s = strides, &d = dilations, &p = pads;
  if (spatial == 2)
    return pool2d(gi, kind, x, k, s, p, d, ceil, countPad);
  for (int64_t i = 1; i < xt.getRank(); ++i)
    if (xt.isDynamicDim(i))
      throw NodeError{"1-D and 3-D pooling need static channel and spatial "
                      "sizes; pin them with --input-shape"};
  int64_t N = xt.isDynamicDim(0) ? -1 : xt.getDimSize(0);
  int64_t C = xt.getDimSize(1);
  auto outDims = [](Value v) { return typeOf(v).getShape(); };
  if (spatial == 1) {
    int64_t L = xt.getDimSize(2);
    Value y = pool2d(gi, kind, reshapeTo(gi, x, {N, C, 1, L}), {1, k[0]},
                     {1, s[0]}, {0, p[0], 0, p[1]}, {1, d[0]}, ceil, countPad);
    return reshapeTo(gi, y, {N, C, outDims(y)[3]});
  }
  int64_t D = xt.getDimSize(2), H = xt.getDimSize(3), W = xt.getDimSize(4);
  Value hw = pool2d(gi, kind, reshapeTo(gi, x, {N, C * D, H, W}), {k[1], k[2]},
                    {s[1], s[2]}, {p[1], p[2], p[4], p[5]}, {d[1], d[2]}, ceil,
                    countPad);
  int64_t OH = outDims(hw)[2], OW = outDims(hw)[3];
  Value y = pool2d(gi, kind, reshapeTo(gi, hw, {N, C, D, OH * OW}), {k[0], 1},
                   {s[0], 1}, {p[0], 0, p[3], 0}, {d[0], 1}, ceil, countPad);
  return reshapeTo(gi, y, {N, C, outDims(y)[2], OH, OW});
}

/// LpPool: (sum over the window of |x|^p)^(1/p), the sum an average that
/// counts padding, times the window size (padding adds |0|^p = 0).
void convertLpPool(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  requireFloat(x);
  int64_t p = attrInt(n, "p", 2);
  if (p < 1)
    throw NodeError{"p must be >= 1, got " + std::to_string(p)};
  // The sum below is the padded average times the window size, which a
  // ceil_mode window past the end padding does not fill.
  if (attrInt(n, "ceil_mode", 0))
    throw NodeError{"LpPool with ceil_mode is not supported yet"};
  Type e = elemOf(x);
  Value a = un(gi, "abs", x);
  Value powed = p == 1   ? a
                : p == 2 ? bin(gi, "mul", x, x)
                         : bin(gi, "pow", a, scalarOf(gi, e, (double)p));
  Value avg = poolAnyRank(gi, n, "average_pool", powed, true);
  int64_t size = 1;
  auto kernel = attrInts(n, "kernel_shape"); // checked by poolAnyRank
  for (int64_t k : *kernel)
    size *= k;
  Value sum = bin(gi, "mul", avg, scalarOf(gi, e, (double)size));
  Value y = p == 1   ? sum
            : p == 2 ? un(gi, "sqrt", sum)
                     : bin(gi, "pow", sum, scalarOf(gi, e, 1.0 / p));
  single(gi, n, y);
}

/// Gemm's alpha and beta where the CPU kernel cannot fold them into packed
/// constants: alpha scales A when B is computed, beta scales a computed C.
void scaleGemmOperands(GraphImporter &gi, float &alpha, float &beta, Value &a,
                       Value w, Value &c) {
  auto isConst = [](Value v) { return (bool)lop::getConstantFloatValues(v); };
  if (alpha != 1.0f && !isConst(w) && isa<FloatType>(elemOf(a))) {
    a = bin(gi, "mul", a, scalarOf(gi, elemOf(a), alpha));
    alpha = 1.0f;
  }
  if (c && beta != 1.0f && !isConst(c) && isa<FloatType>(elemOf(c))) {
    c = bin(gi, "mul", c, scalarOf(gi, elemOf(c), beta));
    beta = 1.0f;
  }
}

/// Resize's forms beyond scales/sizes on every axis, resolved to one: `axes`
/// spread scales/sizes over every axis (1 / the input size elsewhere),
/// keep_aspect_ratio_policy becomes sizes plus the one scale the
/// coordinates use, tf_crop_and_resize's roi an attribute. These need the
/// values at compile time.
void resolveResize(GraphImporter &gi, const Node &n, Value x, Value roi,
                   Value &scales, Value &sizes,
                   SmallVectorImpl<NamedAttribute> &attrs) {
  auto xt = typeOf(x);
  int64_t r = xt.getRank();
  std::string mode = attrString(n, "mode", "nearest");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    throw NodeError{"unknown mode '" + mode + "'"};
  std::string ctm = attrString(n, "coordinate_transformation_mode",
                               gi.opset < 11 ? "asymmetric" : "half_pixel");
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_half_pixel_for_nn", "tf_crop_and_resize"},
                          ctm))
    throw NodeError{"unknown coordinate_transformation_mode '" + ctm + "'"};
  std::string nearest = attrString(n, "nearest_mode", "round_prefer_floor");
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          nearest))
    throw NodeError{"unknown nearest_mode '" + nearest + "'"};
  std::string policy = attrString(n, "keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    throw NodeError{"unknown keep_aspect_ratio_policy '" + policy + "'"};
  bool antialias = attrInt(n, "antialias", 0);
  if (antialias && mode == "nearest")
    throw NodeError{"antialias needs mode linear or cubic"};
  if (scales && sizes)
    throw NodeError{"only one of scales and sizes may be given"};
  if (!scales && !sizes)
    throw NodeError{"one of scales and sizes must be given"};
  attrs.push_back(named(gi, "exclude_outside",
                        gi.b.getBoolAttr(attrInt(n, "exclude_outside", 0))));
  attrs.push_back(
      named(gi, "extrapolation_value",
            gi.b.getF32FloatAttr(attrFloat(n, "extrapolation_value", 0))));
  attrs.push_back(named(gi, "antialias", gi.b.getBoolAttr(antialias)));

  SmallVector<int64_t> axes = axesAttrOrAll(n, r);
  bool allAxes = !findAttr(n, "axes");
  bool crop = ctm == "tf_crop_and_resize";
  if (allAxes && policy == "stretch" && !crop)
    return;
  auto countOk = [&](size_t got, StringRef what) {
    if (got != axes.size())
      throw NodeError{what.str() + " has " + std::to_string(got) +
                      " values for " + std::to_string(axes.size()) + " axes"};
  };
  if (scales) {
    auto sv = lop::getConstantFloatValues(scales);
    if (!sv)
      throw NodeError{"scales must be a constant with axes or "
                      "tf_crop_and_resize"};
    countOk(sv->size(), "scales");
    SmallVector<float> full(r, 1.0f);
    for (auto [i, a] : llvm::enumerate(axes))
      full[a] = (float)(*sv)[i];
    scales = gi.constant(DenseElementsAttr::get(
        RankedTensorType::get({r}, gi.b.getF32Type()), ArrayRef<float>(full)));
  } else {
    auto sz = constInts(sizes, "sizes with axes or keep_aspect_ratio_policy");
    countOk(sz.size(), "sizes");
    SmallVector<int64_t> full(xt.getShape());
    for (auto [i, a] : llvm::enumerate(axes))
      full[a] = sz[i];
    if (policy != "stretch") {
      double scale = policy == "not_larger" ? INFINITY : -INFINITY;
      for (int64_t a : axes) {
        if (xt.isDynamicDim(a))
          throw NodeError{"keep_aspect_ratio_policy needs static sizes on the "
                          "resized axes"};
        double s = (double)full[a] / xt.getDimSize(a);
        scale =
            policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
      }
      SmallVector<double> coord(r, 1.0);
      for (int64_t a : axes) {
        coord[a] = scale;
        full[a] = (int64_t)(scale * xt.getDimSize(a) + 0.5);
      }
      attrs.push_back(
          named(gi, "coordinate_scales", gi.b.getDenseF64ArrayAttr(coord)));
    } else {
      for (int64_t i = 0; i < r; ++i)
        if (ShapedType::isDynamic(full[i]))
          throw NodeError{"sizes on axes not resized need a static input "
                          "size there"};
    }
    sizes = gi.constI64(full);
  }
  if (crop) {
    auto rv = roi ? lop::getConstantFloatValues(roi) : std::nullopt;
    if (!rv)
      throw NodeError{"tf_crop_and_resize needs a constant roi"};
    if (rv->size() != 2 * axes.size())
      throw NodeError{"roi has " + std::to_string(rv->size()) +
                      " values, expected " + std::to_string(2 * axes.size())};
    SmallVector<double> full(r, 0.0);
    full.append(r, 1.0);
    for (auto [i, a] : llvm::enumerate(axes)) {
      full[a] = (*rv)[i];
      full[r + a] = (*rv)[axes.size() + i];
    }
    attrs.push_back(named(gi, "roi", gi.b.getDenseF64ArrayAttr(full)));
  }
}

/// MaxPool with its Indices output: the values as any MaxPool, the indices
/// from max_pool_indices on the same window.
void convertMaxPoolWithIndices(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  Value values = poolAnyRank(gi, n, "max_pool", x, false);
  size_t spatial = xt.getRank() - 2;
  auto strides = intsOr(n, "strides", spatial, 1);
  auto dilations = intsOr(n, "dilations", spatial, 1);
  auto kernel = *attrInts(n, "kernel_shape"); // checked by poolAnyRank
  auto pads = resolvePads(n, xt, kernel, strides, dilations);
  int64_t order = attrInt(n, "storage_order", 0);
  if (order != 0 && order != 1)
    throw NodeError{"storage_order must be 0 or 1, got " +
                    std::to_string(order)};
  Value indices = gi.create1(
      "max_pool_indices", {x},
      {named(gi, "kernel_shape", i64s(gi, kernel)),
       named(gi, "strides", i64s(gi, strides)),
       named(gi, "pads", i64s(gi, pads)),
       named(gi, "dilations", i64s(gi, dilations)),
       named(gi, "ceil_mode", gi.b.getBoolAttr(attrInt(n, "ceil_mode", 0))),
       named(gi, "storage_order", gi.b.getI64IntegerAttr(order))});
  gi.setOutputs(n, ValueRange{values, indices});
}

void convertGridSample(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), grid = gi.input(n, 1);
  std::string mode =
      attrString(n, "mode", gi.opset < 20 ? "bilinear" : "linear");
  if (mode == "bilinear")
    mode = "linear";
  else if (mode == "bicubic")
    mode = "cubic";
  if (mode != "linear" && mode != "nearest" && mode != "cubic")
    throw NodeError{"unknown mode '" + mode + "'"};
  std::string padding = attrString(n, "padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    throw NodeError{"unknown padding_mode '" + padding + "'"};
  auto xt = typeOf(x), gt = typeOf(grid);
  if (xt.getRank() < 3 || gt.getRank() != xt.getRank() ||
      (!gt.isDynamicDim(gt.getRank() - 1) &&
       gt.getDimSize(gt.getRank() - 1) != xt.getRank() - 2))
    throw NodeError{"expects input [N, C, D...] and grid [N, O..., " +
                    std::to_string(xt.getRank() - 2) + "]"};
  single(gi, n,
         gi.create1("grid_sample", {x, grid},
                    {named(gi, "mode", gi.b.getStringAttr(mode)),
                     named(gi, "padding_mode", gi.b.getStringAttr(padding)),
                     named(gi, "align_corners",
                           gi.b.getBoolAttr(attrInt(n, "align_corners", 0)))}));
}

void convertRoiAlign(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), rois = gi.input(n, 1), batch = gi.input(n, 2);
  std::string mode = attrString(n, "mode", "avg");
  if (mode != "avg" && mode != "max")
    throw NodeError{"mode must be avg or max, got '" + mode + "'"};
  std::string ctm =
      attrString(n, "coordinate_transformation_mode",
                 gi.opset < 16 ? "output_half_pixel" : "half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    throw NodeError{"unknown coordinate_transformation_mode '" + ctm + "'"};
  int64_t oh = attrInt(n, "output_height", 1),
          ow = attrInt(n, "output_width", 1);
  int64_t ratio = attrInt(n, "sampling_ratio", 0);
  if (oh < 1 || ow < 1 || ratio < 0)
    throw NodeError{"output_height and output_width must be >= 1 and "
                    "sampling_ratio >= 0"};
  if (typeOf(x).getRank() != 4 || typeOf(rois).getRank() != 2 ||
      typeOf(batch).getRank() != 1)
    throw NodeError{"expects X [N, C, H, W], rois [R, 4] and batch_indices "
                    "[R]"};
  single(gi, n,
         gi.create1(
             "roi_align", {x, rois, batch},
             {named(gi, "mode", gi.b.getStringAttr(mode)),
              named(gi, "output_height", gi.b.getI64IntegerAttr(oh)),
              named(gi, "output_width", gi.b.getI64IntegerAttr(ow)),
              named(gi, "sampling_ratio", gi.b.getI64IntegerAttr(ratio)),
              named(gi, "spatial_scale",
                    gi.b.getF32FloatAttr(attrFloat(n, "spatial_scale", 1.0f))),
              named(gi, "half_pixel", gi.b.getBoolAttr(ctm == "half_pixel"))}));
}

void convertDeformConv(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), w = gi.input(n, 1), offset = gi.input(n, 2);
  Value bias = gi.optionalInput(n, 3), mask = gi.optionalInput(n, 4);
  auto xt = typeOf(x), wt = typeOf(w), ot = typeOf(offset);
  if (xt.getRank() != 4 || wt.getRank() != 4 || ot.getRank() != 4)
    throw NodeError{"only 2-D DeformConv is supported yet"};
  if (!wt.hasStaticShape() || !ot.hasStaticShape())
    throw NodeError{"the weight and offset need static shapes"};
  auto kernel = kernelOf(n, wt);
  if (kernel.size() != 2 || kernel[0] != wt.getDimSize(2) ||
      kernel[1] != wt.getDimSize(3))
    throw NodeError{"kernel_shape does not match the weight"};
  auto strides = intsOr(n, "strides", 2, 1);
  auto dilations = intsOr(n, "dilations", 2, 1);
  checkWindow(kernel, strides, dilations);
  auto pads = intsOr(n, "pads", 4, 0);
  int64_t group = attrInt(n, "group", 1), og = attrInt(n, "offset_group", 1);
  int64_t M = wt.getDimSize(0), K = kernel[0] * kernel[1];
  if (group < 1 || og < 1 || M % group ||
      (!xt.isDynamicDim(1) &&
       (xt.getDimSize(1) != wt.getDimSize(1) * group || xt.getDimSize(1) % og)))
    throw NodeError{"channels do not fit group and offset_group"};
  if (ot.getDimSize(1) != og * 2 * K)
    throw NodeError{"offset has " + std::to_string(ot.getDimSize(1)) +
                    " channels, expected offset_group * 2 * kH * kW = " +
                    std::to_string(og * 2 * K)};
  for (int i = 0; i < 2; ++i) {
    int64_t in = xt.getDimSize(2 + i);
    int64_t ext = (kernel[i] - 1) * dilations[i] + 1;
    if (!ShapedType::isDynamic(in) &&
        ot.getDimSize(2 + i) !=
            (in + pads[i] + pads[i + 2] - ext) / strides[i] + 1)
      throw NodeError{"offset's spatial sizes do not match the output"};
  }
  Type e = elemOf(x);
  if (!bias)
    bias = filled(gi, e, 0.0, {M});
  if (!mask)
    mask =
        filled(gi, e, 1.0,
               {ot.getDimSize(0), og * K, ot.getDimSize(2), ot.getDimSize(3)});
  single(gi, n,
         gi.create1("deform_conv", {x, w, offset, bias, mask},
                    {named(gi, "strides", i64s(gi, strides)),
                     named(gi, "pads", i64s(gi, pads)),
                     named(gi, "dilations", i64s(gi, dilations)),
                     named(gi, "group", gi.b.getI64IntegerAttr(group)),
                     named(gi, "offset_group", gi.b.getI64IntegerAttr(og))}));
}

/// `y` with `before` and `after` zeros on `axis` (static shape), as a concat
/// (the CPU code generator has no Pad yet).
Value zeroPadAxis(GraphImporter &gi, Value y, int64_t axis, int64_t before,
                  int64_t after) {
  auto yt = typeOf(y);
  SmallVector<Value> parts;
  auto zeros = [&](int64_t k) {
    SmallVector<int64_t> shape(yt.getShape());
    shape[axis] = k;
    parts.push_back(filled(gi, yt.getElementType(), 0.0, shape));
  };
  if (before > 0)
    zeros(before);
  parts.push_back(y);
  if (after > 0)
    zeros(after);
  if (parts.size() == 1)
    return y;
  return gi.create1("concat", parts,
                    {named(gi, "axis", gi.b.getI64IntegerAttr(axis))});
}

/// Col2Im as a ConvTranspose: the columns [N, C * prod(block), L] viewed as
/// [N, C * prod(block), L1, L2...] (the block grid), with a one-hot weight
/// [C * prod(block), 1, block...] in C groups, scatter-add each column entry
/// to its image position. image_shape and block_shape must be known at
/// compile time.
void convertCol2Im(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto image = constInts(gi.input(n, 1), "image_shape");
  auto block = constInts(gi.input(n, 2), "block_shape");
  size_t sp = image.size();
  auto xt = typeOf(x);
  if (sp < 1 || block.size() != sp)
    throw NodeError{"image_shape and block_shape need one value per spatial "
                    "axis"};
  if (xt.getRank() != 3 || xt.isDynamicDim(1) || xt.isDynamicDim(2))
    throw NodeError{"expects input [N, C * prod(block_shape), L] with static "
                    "C and L"};
  if (!elemOf(x).isF32())
    throw NodeError{"only fp32 Col2Im is supported yet"};
  auto strides = intsOr(n, "strides", sp, 1);
  auto dilations = intsOr(n, "dilations", sp, 1);
  auto pads = intsOr(n, "pads", 2 * sp, 0);
  checkWindow(block, strides, dilations);
  int64_t K = 1;
  for (int64_t b : block)
    K *= b;
  if (xt.getDimSize(1) % K)
    throw NodeError{"input channels are not a multiple of prod(block_shape)"};
  int64_t C = xt.getDimSize(1) / K, L = 1;
  SmallVector<int64_t> grid, outPad;
  for (size_t i = 0; i < sp; ++i) {
    int64_t ext = (block[i] - 1) * dilations[i] + 1;
    int64_t span = image[i] + pads[i] + pads[i + sp] - ext;
    if (image[i] < 1 || span < 0)
      throw NodeError{"the block does not fit the padded image on axis " +
                      std::to_string(i)};
    grid.push_back(span / strides[i] + 1);
    outPad.push_back(span % strides[i]);
    L *= grid.back();
  }
  if (L != xt.getDimSize(2))
    throw NodeError{"L is " + std::to_string(xt.getDimSize(2)) +
                    ", the block grid has " + std::to_string(L) + " blocks"};
  SmallVector<int64_t> shape{xt.isDynamicDim(0) ? -1 : xt.getDimSize(0), C * K};
  shape.append(grid);
  SmallVector<int64_t> wShape{C * K, 1};
  wShape.append(block);
  SmallVector<float> w(C * K * K, 0.0f);
  for (int64_t r = 0; r < C * K; ++r)
    w[r * K + r % K] = 1.0f;
  Value weight = gi.constant(DenseElementsAttr::get(
      RankedTensorType::get(wShape, gi.b.getF32Type()), ArrayRef<float>(w)));
  Value cols = reshapeTo(gi, x, shape);
  single(gi, n,
         gi.create1("conv_transpose", {cols, weight},
                    {named(gi, "output_padding", i64s(gi, outPad)),
                     named(gi, "strides", i64s(gi, strides)),
                     named(gi, "pads", i64s(gi, pads)),
                     named(gi, "dilations", i64s(gi, dilations)),
                     named(gi, "group", gi.b.getI64IntegerAttr(C)),
                     named(gi, "operandSegmentSizes",
                           gi.b.getDenseI32ArrayAttr({1, 1, 0, 0}))}));
}

/// CenterCropPad: per axis a centered slice (larger input) or a centered
/// zero pad (smaller); the target shape must be known at compile time.
void convertCenterCropPad(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  int64_t r = xt.getRank();
  auto shape = constInts(gi.input(n, 1), "shape");
  SmallVector<int64_t> axes = axesAttrOrAll(n, r);
  if (shape.size() != axes.size())
    throw NodeError{"shape has " + std::to_string(shape.size()) +
                    " values for " + std::to_string(axes.size()) + " axes"};
  SmallVector<int64_t> starts, ends, sliced, pads(2 * r, 0);
  for (auto [i, a] : llvm::enumerate(axes)) {
    int64_t in = xt.getDimSize(a), want = shape[i];
    if (ShapedType::isDynamic(in))
      throw NodeError{"CenterCropPad needs static sizes on its axes"};
    if (want < 0)
      throw NodeError{"shape values must be >= 0"};
    if (in > want) {
      sliced.push_back(a);
      starts.push_back((in - want) / 2);
      ends.push_back((in - want) / 2 + want);
    } else if (in < want) {
      pads[a] = (want - in) / 2;
      pads[a + r] = want - in - pads[a];
    }
  }
  Value y = x;
  if (!sliced.empty())
    y = gi.create1("slice",
                   {y, gi.constI64(starts), gi.constI64(ends),
                    gi.constI64(sliced),
                    gi.constI64(SmallVector<int64_t>(sliced.size(), 1))});
  if (!typeOf(y).hasStaticShape())
    throw NodeError{"CenterCropPad needs a static input shape"};
  for (int64_t a = 0; a < r; ++a)
    y = zeroPadAxis(gi, y, a, pads[a], pads[a + r]);
  single(gi, n, y);
}

/// MaxUnpool: zeros of the output shape, flattened, with X scattered to the
/// flat indices I (MaxPool's Indices), then viewed as the output.
void convertMaxUnpool(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0), ind = gi.input(n, 1);
  Value outShape = gi.optionalInput(n, 2);
  auto xt = typeOf(x);
  if (xt.getRank() < 3 || !xt.hasStaticShape())
    throw NodeError{"MaxUnpool needs an input [N, C, D...] with a static "
                    "shape"};
  if (typeOf(ind).getShape() != xt.getShape())
    throw NodeError{"indices must have the input's shape"};
  size_t sp = xt.getRank() - 2;
  auto kernel = attrInts(n, "kernel_shape");
  if (!kernel || kernel->size() != sp)
    throw NodeError{"kernel_shape must have one value per spatial axis"};
  auto strides = intsOr(n, "strides", sp, 1);
  auto pads = intsOr(n, "pads", 2 * sp, 0);
  checkWindow(*kernel, strides, SmallVector<int64_t>(sp, 1));
  // Indices address the inferred shape; a larger output_shape adds zeros
  // at the end (onnx's reference).
  SmallVector<int64_t> shape{xt.getDimSize(0), xt.getDimSize(1)};
  for (size_t i = 0; i < sp; ++i)
    shape.push_back((xt.getDimSize(2 + i) - 1) * strides[i] + (*kernel)[i] -
                    pads[i] - pads[i + sp]);
  SmallVector<int64_t> want = shape;
  if (outShape) {
    want = constInts(outShape, "output_shape");
    if (want.size() != shape.size() || want[0] != shape[0] ||
        want[1] != shape[1])
      throw NodeError{"output_shape must be [N, C, D...] of the input's N "
                      "and C"};
    for (size_t i = 2; i < want.size(); ++i)
      if (want[i] < shape[i])
        throw NodeError{"output_shape is smaller than the unpooled shape"};
  }
  int64_t total = 1;
  for (int64_t d : shape) {
    if (d < 1)
      throw NodeError{"the output shape is empty"};
    total *= d;
  }
  Value zeros = filled(gi, elemOf(x), 0.0, {total});
  Value flat = gi.create1("scatter_elements",
                          {zeros, reshapeTo(gi, ind, {xt.getNumElements()}),
                           reshapeTo(gi, x, {xt.getNumElements()})},
                          {named(gi, "reduction", gi.b.getStringAttr("none")),
                           named(gi, "axis", gi.b.getI64IntegerAttr(0))});
  Value y = reshapeTo(gi, flat, shape);
  for (size_t i = 2; i < want.size(); ++i)
    y = zeroPadAxis(gi, y, i, 0, want[i] - shape[i]);
  single(gi, n, y);
}

/// AffineGrid: the homogeneous base grid (x, y[, z], 1) of the output size, a
/// constant [P, r + 1], times theta^T [N, r + 1, r]; `size` must be known at
/// compile time.
void convertAffineGrid(GraphImporter &gi, const Node &n) {
  Value theta = gi.input(n, 0);
  auto size = constInts(gi.input(n, 1), "size");
  auto tt = typeOf(theta);
  if (size.size() != 4 && size.size() != 5)
    throw NodeError{"size must be [N, C, H, W] or [N, C, D, H, W]"};
  int64_t r = size.size() - 2;
  if (tt.getRank() != 3 || tt.getDimSize(1) != r || tt.getDimSize(2) != r + 1 ||
      !elemOf(theta).isF32())
    throw NodeError{"theta must be f32 [N, " + std::to_string(r) + ", " +
                    std::to_string(r + 1) + "] for this size"};
  bool align = attrInt(n, "align_corners", 0);
  SmallVector<int64_t> dims(size.begin() + 2, size.end());
  int64_t P = 1;
  for (int64_t d : dims) {
    if (d < 1)
      throw NodeError{"size values must be >= 1"};
    P *= d;
  }
  auto coord = [&](int64_t i, int64_t len) {
    if (align)
      return len == 1 ? -1.0 : -1.0 + i * (2.0 / (len - 1));
    double step = 2.0 / len;
    return -1.0 + step / 2 + i * step;
  };
  // Row p = (d, h, w) holds (x_w, y_h[, z_d], 1).
  SmallVector<float> base;
  for (int64_t p = 0; p < P; ++p) {
    SmallVector<int64_t> at(r);
    for (int64_t a = r - 1, rest = p; a >= 0; --a) {
      at[a] = rest % dims[a];
      rest /= dims[a];
    }
    for (int64_t a = r - 1; a >= 0; --a)
      base.push_back((float)coord(at[a], dims[a]));
    base.push_back(1.0f);
  }
  Value grid = gi.constant(DenseElementsAttr::get(
      RankedTensorType::get({P, r + 1}, gi.b.getF32Type()),
      ArrayRef<float>(base)));
  Value y = matmulOf(gi, grid, transposeBy(gi, theta, {0, 2, 1}));
  SmallVector<int64_t> shape{tt.isDynamicDim(0) ? -1 : tt.getDimSize(0)};
  shape.append(dims);
  shape.push_back(r);
  single(gi, n, reshapeTo(gi, y, shape));
}

void addConvPoolConverters(llvm::StringMap<Converter> &t) {
  t["LpPool"] = convertLpPool;
  t["GridSample"] = convertGridSample;
  t["RoiAlign"] = convertRoiAlign;
  t["DeformConv"] = convertDeformConv;
  t["Col2Im"] = convertCol2Im;
  t["CenterCropPad"] = convertCenterCropPad;
  t["MaxUnpool"] = convertMaxUnpool;
  t["AffineGrid"] = convertAffineGrid;
}

//===----------------------------------------------------------------------===//
// Quantized operators (issue 4). QOperator ops import in QDQ form,
// dequantize -> float op -> quantize, which lop-fold-qdq turns into quantized
// heavy ops where the int8 kernels fit (docs/ir-contracts.md, section 5).
// Values of per-tensor 8-bit quantized types with constant parameters are
// `!quant.uniform` tensors; anything else ONNX quantizes (per-axis or 16-bit
// activations, run-time scales, DynamicQuantizeLinear, MatMulInteger) stays a
// raw integer tensor computed with float arithmetic, which is exact for 8-
// and 16-bit storage.
//===----------------------------------------------------------------------===//

const llvm::StringMap<Converter> &converters();

bool isQuantized(Value v) { return isa<quant::QuantizedType>(elemOf(v)); }

/// The ONNX integer type of a quantized type's storage (ui8, i8, ...).
IntegerType rawType(quant::QuantizedType q) {
  return IntegerType::get(q.getContext(), q.getStorageTypeIntegralWidth(),
                          q.isSigned() ? IntegerType::Signless
                                       : IntegerType::Unsigned);
}

Value clipTo(GraphImporter &gi, Value x, double lo, double hi) {
  return gi.create1("clip", {x},
                    {named(gi, "min", gi.b.getF32FloatAttr(lo)),
                     named(gi, "max", gi.b.getF32FloatAttr(hi))});
}

/// A scale or zero point (a scalar, or 1-D along `axis`) shaped to broadcast
/// against a tensor of rank `rank`.
Value alongAxis(GraphImporter &gi, Value v, int64_t rank, int64_t axis) {
  auto t = typeOf(v);
  if (t.getRank() == 0 || (t.hasStaticShape() && t.getNumElements() == 1))
    return v;
  if (t.getRank() != 1)
    throw NodeError{"a scale or zero point must be a scalar or 1-D"};
  if (axis < 0 || axis >= rank)
    throw NodeError{"a per-axis scale needs an operand of rank > axis"};
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = t.isDynamicDim(0) ? -1 : t.getDimSize(0);
  return gi.create1("reshape", {v, gi.constI64(shape)});
}

/// The storage range of an integer type.
std::pair<double, double> storageRange(IntegerType t) {
  unsigned w = t.getWidth();
  if (t.isUnsigned())
    return {0.0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

/// (x - zp) * scale of integers `x` in f32, scale and zero point broadcast
/// along `axis` (ONNX DequantizeLinear); no scale gives x - zp.
Value realOfRaw(GraphImporter &gi, Value x, Value scale, Value zp,
                int64_t axis) {
  int64_t rank = typeOf(x).getRank();
  Type f32 = gi.b.getF32Type();
  Value f = castTo(gi, x, f32);
  if (zp)
    f = bin(gi, "sub", f, alongAxis(gi, castTo(gi, zp, f32), rank, axis));
  if (scale)
    f = bin(gi, "mul", f, alongAxis(gi, castTo(gi, scale, f32), rank, axis));
  return f;
}

/// The f32 constant (x - zp) * scale of a constant `x` (scale and zero point
/// constants along `axis`, either may be absent); null if any is not
/// constant.
Value foldRealOf(GraphImporter &gi, Value x, Value scale, Value zp,
                 int64_t axis, double factor = 1.0) {
  auto xt = typeOf(x);
  if (!x.getDefiningOp<lop::ConstantOp>() || isQuantized(x) ||
      !xt.hasStaticShape())
    return {};
  auto vals =
      lop::readElementsAsDouble(x.getDefiningOp<lop::ConstantOp>().getValue());
  std::optional<SmallVector<double>> scales, zps;
  if (scale && !(scales = lop::getConstantFloatValues(scale)))
    return {};
  if (zp) {
    auto z = lop::getConstantIntValues(zp);
    if (!z)
      return {};
    zps = SmallVector<double>(z->begin(), z->end());
  }
  if (!vals)
    return {};
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < xt.getRank(); ++d)
    inner *= xt.getDimSize(d);
  auto at = [&](const SmallVector<double> &v, int64_t i) {
    if (v.size() == 1)
      return v[0];
    int64_t c = (i / inner) % (int64_t)v.size();
    return v[c];
  };
  std::vector<float> out(vals->size());
  for (int64_t i = 0; i < (int64_t)vals->size(); ++i) {
    double r = (*vals)[i] - (zps ? at(*zps, i) : 0.0);
    out[i] = (float)(r * (scales ? at(*scales, i) : 1.0) * factor);
  }
  return lop::createF32Constant(gi.b, gi.loc, xt.getShape(), out,
                                "dequantized");
}

/// The raw integers of a quantized value (what ONNX ops other than the
/// quantized ones see).
Value rawOf(GraphImporter &gi, Value v) {
  if (!isQuantized(v))
    return v;
  auto q = cast<quant::QuantizedType>(elemOf(v));
  if (auto c = v.getDefiningOp<lop::ConstantOp>())
    return gi.constant(c.getValue());
  auto pt = dyn_cast<quant::UniformQuantizedType>(q);
  if (!pt)
    throw NodeError{"a per-axis quantized value that is not a constant "
                    "cannot be read as integers"};
  Type f32 = gi.b.getF32Type();
  Value f = gi.create1("dequantize", {v});
  f = un(gi, "round", bin(gi, "div", f, scalarOf(gi, f32, pt.getScale())));
  f = bin(gi, "add", f, scalarOf(gi, f32, (double)pt.getZeroPoint()));
  f = clipTo(gi, f, pt.getStorageTypeMin(), pt.getStorageTypeMax());
  return castTo(gi, f, rawType(q));
}

/// The integer storage type of a value read as quantized.
IntegerType storageOf(Value x) {
  if (isQuantized(x))
    return rawType(cast<quant::QuantizedType>(elemOf(x)));
  auto it = dyn_cast<IntegerType>(elemOf(x));
  if (!it)
    throw NodeError{"a quantized operand must be an integer tensor (got " +
                    typeText(elemOf(x)) + ")"};
  return it;
}

bool constantParams(Value scale, Value zp) {
  auto s = lop::getConstantFloatValues(scale);
  return s && (!zp || lop::getConstantIntValues(zp));
}

bool singleScale(Value scale) {
  auto s = lop::getConstantFloatValues(scale);
  return s && s->size() == 1;
}

/// `x` as a value of the per-tensor 8-bit quantized type that `scale` and
/// `zp` give: `x` itself when it has that type, else its raw integers
/// reinterpreted (exact: (q - zp) * s / s rounds back to q - zp).
Value asQuantized(GraphImporter &gi, Value x, Value scale, Value zp) {
  auto xt = typeOf(x);
  auto q = quantType(gi, scale, zp, gi.b.getF32Type(), 0, storageOf(x));
  auto want = RankedTensorType::get(xt.getShape(), q);
  if (xt == want)
    return x;
  Value real = realOfRaw(gi, rawOf(gi, x), scale, zp, 0);
  return lop::QuantizeOp::create(gi.b, gi.loc, want, real);
}

/// The real values of `x` read with `scale` and `zp` along `axis`:
/// dequantize of a quantized constant or of a per-tensor 8-bit value, the
/// f32 values of other constants, float arithmetic otherwise.
Value realOf(GraphImporter &gi, Value x, Value scale, Value zp, int64_t axis) {
  auto xt = typeOf(x);
  IntegerType st = storageOf(x);
  if (!isa<FloatType>(elemOf(scale)))
    throw NodeError{"the scale must be a float tensor"};
  if (zp && !isa<IntegerType>(elemOf(zp)))
    throw NodeError{"the zero point must be an integer tensor"};
  if (zp && elemOf(zp) != st)
    throw NodeError{"the zero point's type " + typeText(elemOf(zp)) +
                    " differs from the quantized operand's " + typeText(st)};
  bool constant = constantParams(scale, zp);
  if (constant && st.getWidth() == 8 && !isQuantized(x))
    if (auto c = x.getDefiningOp<lop::ConstantOp>()) {
      auto q = quantType(gi, scale, zp, gi.b.getF32Type(), axis, st);
      Value qc =
          gi.constant(c.getValue(), RankedTensorType::get(xt.getShape(), q));
      return gi.create1("dequantize", {qc});
    }
  if (Value f = foldRealOf(gi, x, scale, zp, axis))
    return f;
  if (constant && st.getWidth() == 8 && singleScale(scale))
    return gi.create1("dequantize", {asQuantized(gi, x, scale, zp)});
  return realOfRaw(gi, rawOf(gi, x), scale, zp, axis);
}

/// Quantizes f32 `y` with `scale` and `zp` along `axis` (ONNX
/// QuantizeLinear): lop.quantize for per-tensor 8-bit with constant
/// parameters, else integers computed in float.
Value quantizeTo(GraphImporter &gi, Value y, Value scale, Value zp,
                 int64_t axis) {
  auto yt = typeOf(y);
  Type storage = zp ? elemOf(zp)
                    : Type(IntegerType::get(gi.ctx, 8, IntegerType::Unsigned));
  auto st = dyn_cast<IntegerType>(storage);
  if (!st || (st.getWidth() != 8 && st.getWidth() != 16))
    throw NodeError{"only 8- and 16-bit quantization is supported (got " +
                    typeText(storage) + ")"};
  if (!isa<FloatType>(elemOf(scale)))
    throw NodeError{"the scale must be a float tensor"};
  y = castTo(gi, y, gi.b.getF32Type());
  if (st.getWidth() == 8 && constantParams(scale, zp) && singleScale(scale)) {
    auto q = quantType(gi, scale, zp, gi.b.getF32Type(), axis, st);
    return lop::QuantizeOp::create(gi.b, gi.loc,
                                   RankedTensorType::get(yt.getShape(), q), y);
  }
  Type f32 = gi.b.getF32Type();
  int64_t rank = yt.getRank();
  Value f =
      un(gi, "round",
         bin(gi, "div", y, alongAxis(gi, castTo(gi, scale, f32), rank, axis)));
  if (zp)
    f = bin(gi, "add", f, alongAxis(gi, castTo(gi, zp, f32), rank, axis));
  auto [lo, hi] = storageRange(st);
  return castTo(gi, clipTo(gi, f, lo, hi), st);
}

/// The axis of a Q/DQ node's 1-D scale; ONNX ignores it (and any value is
/// fine) for a per-tensor scale.
int64_t quantAxis(const Node &n, Value scale, int64_t rank) {
  auto st = typeOf(scale);
  if (st.getRank() == 0 || (st.hasStaticShape() && st.getNumElements() == 1))
    return 0;
  return normAxis(attrInt(n, "axis", 1), rank);
}

void convertQuantize(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  auto xt = typeOf(x);
  if (!isa<FloatType>(xt.getElementType()))
    throw NodeError{"QuantizeLinear of " + typeText(xt.getElementType()) +
                    " is not supported (a float input is needed)"};
  int64_t axis = quantAxis(n, gi.input(n, 1), xt.getRank());
  if (findAttr(n, "block_size") && attrInt(n, "block_size", 0) != 0)
    throw NodeError{"blocked quantization (block_size) is not supported"};
  single(gi, n,
         quantizeTo(gi, x, gi.input(n, 1), gi.optionalInput(n, 2), axis));
}

void convertDequantize(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  int64_t axis = quantAxis(n, gi.input(n, 1), typeOf(x).getRank());
  if (findAttr(n, "block_size") && attrInt(n, "block_size", 0) != 0)
    throw NodeError{"blocked quantization (block_size) is not supported"};
  single(gi, n, realOf(gi, x, gi.input(n, 1), gi.optionalInput(n, 2), axis));
}

/// Converts float op `opType` with `n`'s attributes (less `skip`) on
/// `inputs` (null: an absent optional input), reusing its converter.
SmallVector<Value> viaFloat(GraphImporter &gi, const Node &n, StringRef opType,
                            ArrayRef<Value> inputs, int numOutputs = 1,
                            ArrayRef<StringRef> skip = {}) {
  static unsigned counter = 0;
  Node s;
  s.set_op_type(opType.str());
  s.set_name(n.name());
  for (const auto &a : n.attribute())
    if (!llvm::is_contained(skip, a.name()))
      *s.add_attribute() = a;
  SmallVector<std::string> temps;
  auto temp = [&] {
    temps.push_back("\x01lop.q." + std::to_string(counter++));
    return temps.back();
  };
  for (Value v : inputs) {
    if (!v) {
      s.add_input("");
      continue;
    }
    std::string name = temp();
    gi.values[name] = v;
    s.add_input(name);
  }
  SmallVector<std::string> outs;
  for (int i = 0; i < numOutputs; ++i) {
    outs.push_back(temp());
    s.add_output(outs.back());
  }
  converters().find(opType)->second(gi, s);
  SmallVector<Value> results;
  for (const std::string &o : outs)
    results.push_back(gi.values.lookup(o));
  for (const std::string &t : temps)
    gi.values.erase(t);
  return results;
}

void requireInputs(const Node &n, int lo, int hi) {
  if (n.input_size() < lo || n.input_size() > hi)
    throw NodeError{"expects " + std::to_string(lo) +
                    (lo == hi ? "" : " to " + std::to_string(hi)) +
                    " inputs, got " + std::to_string(n.input_size())};
}

/// An 8-bit quantized operand: the kernels and ONNX Runtime's QOperator ops
/// are 8-bit; wider storage is reported, not guessed at.
void require8Bit(Value x, StringRef what) {
  IntegerType st = storageOf(x);
  if (st.getWidth() != 8)
    throw NodeError{what.str() + " must be 8-bit (int8 or uint8), got " +
                    typeText(st)};
}

/// An int32 bias of scale `factor * xs * ws` (per output channel) as f32.
Value biasOf(GraphImporter &gi, Value bias, Value xs, Value ws,
             double factor = 1.0) {
  if (!elemOf(bias).isInteger(32))
    throw NodeError{"the bias must be int32"};
  auto xsv = lop::getConstantFloatValues(xs);
  if (xsv && xsv->size() == 1)
    if (Value f = foldRealOf(gi, bias, ws, {}, typeOf(bias).getRank() - 1,
                             (*xsv)[0] * factor))
      return f;
  Type f32 = gi.b.getF32Type();
  Value s = bin(gi, "mul", castTo(gi, xs, f32), castTo(gi, ws, f32));
  if (factor != 1.0)
    s = bin(gi, "mul", s, scalarOf(gi, f32, factor));
  return bin(gi, "mul", castTo(gi, bias, f32), s);
}

void convertQLinearConv(GraphImporter &gi, const Node &n) {
  requireInputs(n, 8, 9);
  Value x = gi.input(n, 0), w = gi.input(n, 3);
  require8Bit(x, "x");
  require8Bit(w, "w");
  require8Bit(gi.input(n, 7), "y_zero_point");
  Value xs = gi.input(n, 1), ws = gi.input(n, 4);
  Value xf = realOf(gi, x, xs, gi.input(n, 2), 1);
  Value wf = realOf(gi, w, ws, gi.input(n, 5), 0);
  Value bf;
  if (Value b = gi.optionalInput(n, 8))
    bf = biasOf(gi, b, xs, ws);
  Value y = viaFloat(gi, n, "Conv", {xf, wf, bf})[0];
  single(gi, n, quantizeTo(gi, y, gi.input(n, 6), gi.input(n, 7), 1));
}

void convertQLinearMatMul(GraphImporter &gi, const Node &n) {
  requireInputs(n, 8, 8);
  Value a = gi.input(n, 0), b = gi.input(n, 3);
  require8Bit(a, "a");
  require8Bit(b, "b");
  require8Bit(gi.input(n, 7), "y_zero_point");
  int64_t ra = typeOf(a).getRank(), rb = typeOf(b).getRank();
  Value af = realOf(gi, a, gi.input(n, 1), gi.input(n, 2),
                    std::max<int64_t>(ra - 2, 0));
  Value bf = realOf(gi, b, gi.input(n, 4), gi.input(n, 5), rb - 1);
  Value y = viaFloat(gi, n, "MatMul", {af, bf})[0];
  single(gi, n, quantizeTo(gi, y, gi.input(n, 6), gi.input(n, 7), 0));
}

/// com.microsoft QGemm: A, a_scale, a_zp, B, b_scale, b_zp, C (int32 of
/// scale alpha * a_scale * b_scale), y_scale, y_zp (f32 output without).
void convertQGemm(GraphImporter &gi, const Node &n) {
  requireInputs(n, 6, 9);
  Value a = gi.input(n, 0), b = gi.input(n, 3);
  require8Bit(a, "A");
  require8Bit(b, "B");
  bool transB = attrInt(n, "transB", 0);
  Value as = gi.input(n, 1), bs = gi.input(n, 4);
  Value af = realOf(gi, a, as, gi.input(n, 2), 0);
  Value bf = realOf(gi, b, bs, gi.input(n, 5), transB ? 0 : 1);
  Value cf;
  if (Value c = gi.optionalInput(n, 6))
    cf = biasOf(gi, c, as, bs, attrFloat(n, "alpha", 1));
  Value y = viaFloat(gi, n, "Gemm", {af, bf, cf})[0];
  Value ys = gi.optionalInput(n, 7);
  single(gi, n, ys ? quantizeTo(gi, y, ys, gi.optionalInput(n, 8), 0) : y);
}

/// com.microsoft QLinearAdd/QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp,
/// C_scale, C_zp.
void convertQLinearBinary(GraphImporter &gi, const Node &n, StringRef op) {
  requireInputs(n, 7, 8);
  Value a = gi.input(n, 0), b = gi.input(n, 3);
  require8Bit(a, "A");
  require8Bit(b, "B");
  Value af = realOf(gi, a, gi.input(n, 1), gi.optionalInput(n, 2), 0);
  Value bf = realOf(gi, b, gi.input(n, 4), gi.optionalInput(n, 5), 0);
  Value y = viaFloat(gi, n, op, {af, bf})[0];
  single(gi, n, quantizeTo(gi, y, gi.input(n, 6), gi.optionalInput(n, 7), 0));
}

/// com.microsoft one-input QLinear ops: X, X_scale, X_zp, Y_scale, Y_zp.
void convertQLinearUnary(GraphImporter &gi, const Node &n, StringRef op) {
  requireInputs(n, 4, 5);
  Value x = gi.input(n, 0);
  require8Bit(x, "X");
  if (attrInt(n, "channels_last", 0))
    throw NodeError{"channels_last is not supported"};
  Value xf = realOf(gi, x, gi.input(n, 1), gi.optionalInput(n, 2), 0);
  Value y = viaFloat(gi, n, op, {xf}, 1, {"channels_last", "opset"})[0];
  single(gi, n, quantizeTo(gi, y, gi.input(n, 3), gi.optionalInput(n, 4), 0));
}

/// com.microsoft QLinearConcat: Y_scale, Y_zp, then (X, X_scale, X_zp)...
void convertQLinearConcat(GraphImporter &gi, const Node &n) {
  if (n.input_size() < 5 || (n.input_size() - 2) % 3)
    throw NodeError{"expects Y_scale, Y_zero_point and (X, X_scale, "
                    "X_zero_point) triples"};
  SmallVector<Value> xs;
  for (int i = 2; i < n.input_size(); i += 3) {
    require8Bit(gi.input(n, i), "X");
    xs.push_back(realOf(gi, gi.input(n, i), gi.input(n, i + 1),
                        gi.optionalInput(n, i + 2), 0));
  }
  Value y = viaFloat(gi, n, "Concat", xs)[0];
  single(gi, n, quantizeTo(gi, y, gi.input(n, 0), gi.optionalInput(n, 1), 0));
}

/// x - zp in f32 for MatMulInteger/ConvInteger (folded for constants).
Value centered(GraphImporter &gi, Value x, Value zp, int64_t axis) {
  require8Bit(x, "an integer operand");
  x = rawOf(gi, x);
  if (zp && elemOf(zp) != elemOf(x))
    throw NodeError{"the zero point's type " + typeText(elemOf(zp)) +
                    " differs from its operand's " + typeText(elemOf(x))};
  if (Value f = foldRealOf(gi, x, {}, zp, axis))
    return f;
  return realOfRaw(gi, x, {}, zp, axis);
}

/// The exact int32 result of an integer matmul/conv computed in f32.
Value toInt32(GraphImporter &gi, Value y) {
  return castTo(gi, un(gi, "round", y), gi.b.getI32Type());
}

void convertMatMulInteger(GraphImporter &gi, const Node &n) {
  requireInputs(n, 2, 4);
  Value a = gi.input(n, 0), b = gi.input(n, 1);
  int64_t ra = typeOf(a).getRank(), rb = typeOf(b).getRank();
  Value af =
      centered(gi, a, gi.optionalInput(n, 2), std::max<int64_t>(ra - 2, 0));
  Value bf = centered(gi, b, gi.optionalInput(n, 3), rb - 1);
  single(gi, n, toInt32(gi, viaFloat(gi, n, "MatMul", {af, bf})[0]));
}

void convertConvInteger(GraphImporter &gi, const Node &n) {
  requireInputs(n, 2, 4);
  Value xf = centered(gi, gi.input(n, 0), gi.optionalInput(n, 2), 1);
  Value wf = centered(gi, gi.input(n, 1), gi.optionalInput(n, 3), 0);
  single(gi, n, toInt32(gi, viaFloat(gi, n, "Conv", {xf, wf, {}})[0]));
}

/// ONNX DynamicQuantizeLinear: u8 with scale (max(0, max x) - min(0, min x))
/// / 255 and zero point round(-min / scale), all computed at run time.
void convertDynamicQuantizeLinear(GraphImporter &gi, const Node &n) {
  Value x = gi.input(n, 0);
  if (!elemOf(x).isF32())
    throw NodeError{"DynamicQuantizeLinear needs an f32 input"};
  Type f32 = gi.b.getF32Type();
  Value zero = scalarOf(gi, f32, 0), one = scalarOf(gi, f32, 1);
  Value mn = reduceOp(gi, "reduce_min", x, {}, false);
  Value mx = reduceOp(gi, "reduce_max", x, {}, false);
  mn = sel(gi, bin(gi, "less", mn, zero), mn, zero);
  mx = sel(gi, bin(gi, "greater", mx, zero), mx, zero);
  Value scale =
      bin(gi, "div", bin(gi, "sub", mx, mn), scalarOf(gi, f32, 255.0));
  // All zeros: scale 1 (ONNX divides by zero here; ONNX Runtime does not).
  scale = sel(gi, bin(gi, "equal", scale, zero), one, scale);
  Value zpf =
      un(gi, "round",
         clipTo(gi, bin(gi, "div", bin(gi, "sub", zero, mn), scale), 0, 255));
  Value y = bin(gi, "add", un(gi, "round", bin(gi, "div", x, scale)), zpf);
  auto u8 = IntegerType::get(gi.ctx, 8, IntegerType::Unsigned);
  y = castTo(gi, clipTo(gi, y, 0, 255), u8);
  gi.setOutputs(n, ValueRange{y, scale, castTo(gi, zpf, u8)});
}

void addQuantConverters(llvm::StringMap<Converter> &t) {
  t["QuantizeLinear"] = convertQuantize;
  t["DequantizeLinear"] = convertDequantize;
  t["QLinearConv"] = convertQLinearConv;
  t["QLinearMatMul"] = convertQLinearMatMul;
  t["MatMulInteger"] = convertMatMulInteger;
  t["ConvInteger"] = convertConvInteger;
  t["DynamicQuantizeLinear"] = convertDynamicQuantizeLinear;
  std::string ms = "com.microsoft.";
  for (StringRef d : {"", "com.microsoft."}) {
    std::string p = d.str();
    t[p + "QLinearAdd"] = [](GraphImporter &gi, const Node &n) {
      convertQLinearBinary(gi, n, "Add");
    };
    t[p + "QLinearMul"] = [](GraphImporter &gi, const Node &n) {
      convertQLinearBinary(gi, n, "Mul");
    };
  }
  t[ms + "QLinearConv"] = convertQLinearConv;
  t[ms + "QLinearMatMul"] = convertQLinearMatMul;
  t[ms + "QGemm"] = convertQGemm;
  t[ms + "QLinearConcat"] = convertQLinearConcat;
  t[ms + "DynamicQuantizeLinear"] = convertDynamicQuantizeLinear;
  t[ms + "QuantizeLinear"] = convertQuantize;
  t[ms + "DequantizeLinear"] = convertDequantize;
  for (auto [q, f] : std::initializer_list<std::pair<StringRef, StringRef>>{
           {"QLinearSigmoid", "Sigmoid"},
           {"QLinearLeakyRelu", "LeakyRelu"},
           {"QLinearSoftmax", "Softmax"},
           {"QLinearGlobalAveragePool", "GlobalAveragePool"},
           {"QLinearAveragePool", "AveragePool"}}) {
    std::string fl = f.str();
    t[ms + q.str()] = [fl](GraphImporter &gi, const Node &n) {
      convertQLinearUnary(gi, n, fl);
    };
  }
}

/// Ops that only move, select or compare elements: on a quantized input
/// they run in float and quantize back to the same type, which is exact.
bool movesValues(StringRef opType) {
  static const llvm::StringSet<> ops = {
      "MaxPool",   "Reshape", "Flatten",      "Transpose",   "Squeeze",
      "Unsqueeze", "Slice",   "Gather",       "Split",       "Expand",
      "Tile",      "Concat",  "DepthToSpace", "SpaceToDepth"};
  return ops.contains(opType);
}

//===----------------------------------------------------------------------===//
// InstanceNormalization and GroupNormalization, decomposed: x viewed as
// [N, G, C/G * spatial], normalized over the last axis with its own mean and
// (biased) variance, viewed back; then the per-channel (or, for
// GroupNormalization-18, per-group) scale and bias.
//===----------------------------------------------------------------------===//

void convertGroupedNorm(GraphImporter &gi, const Node &n, bool instance) {
  Value x = gi.input(n, 0), scale = gi.input(n, 1), bias = gi.input(n, 2);
  auto xt = typeOf(x);
  if (!isa<FloatType>(xt.getElementType()))
    throw NodeError{"expects a floating-point input"};
  if (xt.getRank() < 3)
    throw NodeError{"input must have rank >= 3"};
  int64_t C = xt.getDimSize(1), spatial = 1;
  for (int64_t d = 1; d < xt.getRank(); ++d) {
    if (xt.isDynamicDim(d))
      throw NodeError{"channel and spatial dimensions must be static"};
    if (d > 1)
      spatial *= xt.getDimSize(d);
  }
  int64_t G = instance ? C : attrInt(n, "num_groups", 0);
  if (G <= 0 || C % G != 0)
    throw NodeError{"num_groups must divide the channels"};
  Type e = xt.getElementType();
  float eps = attrFloat(n, "epsilon", 1e-5f);
  Value v = gi.create1("reshape", {x, gi.constI64({-1, G, C / G * spatial})});
  auto mean = [&](Value t) {
    return gi.create1("reduce_mean", {t},
                      {named(gi, "axes", i64s(gi, {2})),
                       named(gi, "keepdims", gi.b.getBoolAttr(true))});
  };
  Value d = bin(gi, "sub", v, mean(v));
  Value var = mean(bin(gi, "mul", d, d));
  Value y = bin(gi, "div", d,
                un(gi, "sqrt", bin(gi, "add", var, scalarOf(gi, e, eps))));
  // Per-group scale and bias (GroupNormalization-18: shape [G]).
  bool perGroup = !instance && typeOf(scale).getRank() == 1 &&
                  typeOf(scale).getDimSize(0) == G && G != C;
  if (perGroup) {
    y = bin(gi, "mul", y, gi.create1("reshape", {scale, gi.constI64({G, 1})}));
    y = bin(gi, "add", y, gi.create1("reshape", {bias, gi.constI64({G, 1})}));
  }
  SmallVector<int64_t> shape(xt.getShape());
  shape[0] = -1;
  y = gi.create1("reshape", {y, gi.constI64(shape)});
  if (!perGroup) {
    if (typeOf(scale).getNumElements() != C ||
        typeOf(bias).getNumElements() != C)
      throw NodeError{"scale and bias must have one value per channel"};
    SmallVector<int64_t> cshape(xt.getRank() - 1, 1);
    cshape[0] = C;
    y = bin(gi, "mul", y, gi.create1("reshape", {scale, gi.constI64(cshape)}));
    y = bin(gi, "add", y, gi.create1("reshape", {bias, gi.constI64(cshape)}));
  }
  single(gi, n, y);
}

//===----------------------------------------------------------------------===//
// Sequences, resolved at import: a sequence is the list of its tensors, and
// every position must be known at compile time. A model whose output is a
// sequence is not supported (the runtime returns tensors).
//===----------------------------------------------------------------------===//

SmallVector<Value> &sequenceInput(GraphImporter &gi, const Node &n, int i) {
  if (i >= n.input_size() || n.input(i).empty())
    throw NodeError{"needs a sequence input"};
  auto it = gi.sequences.find(n.input(i));
  if (it == gi.sequences.end())
    throw NodeError{"input '" + n.input(i) +
                    "' is not a sequence made by an earlier node (sequence "
                    "graph inputs are not supported)"};
  return it->second;
}

void setSequence(GraphImporter &gi, const Node &n, SmallVector<Value> seq) {
  if (n.output_size() < 1 || n.output(0).empty())
    throw NodeError{"needs an output"};
  gi.sequences[n.output(0)] = std::move(seq);
}

/// A position input (scalar, known at compile time; negative counts from
/// the end), checked against [0, size] (`insert`) or [0, size).
int64_t sequencePosition(GraphImporter &gi, const Node &n, int i, int64_t size,
                         bool insert, int64_t def) {
  Value p = gi.optionalInput(n, i);
  if (!p)
    return def;
  auto v = lop::getKnownIntValues(p);
  if (!v || v->size() != 1 || ShapedType::isDynamic((*v)[0]))
    throw NodeError{"the position must be known at compile time"};
  int64_t pos = (*v)[0] < 0 ? (*v)[0] + size : (*v)[0];
  if (pos < 0 || pos > size || (!insert && pos == size))
    throw NodeError{"position " + std::to_string((*v)[0]) +
                    " is out of range for a sequence of " +
                    std::to_string(size)};
  return pos;
}

void addSequenceConverters(llvm::StringMap<Converter> &t) {
  t["SequenceEmpty"] = [](GraphImporter &gi, const Node &n) {
    setSequence(gi, n, {});
  };
  t["SequenceConstruct"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> seq;
    for (int i = 0; i < n.input_size(); ++i)
      seq.push_back(gi.input(n, i));
    setSequence(gi, n, seq);
  };
  t["SequenceInsert"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> seq = sequenceInput(gi, n, 0);
    int64_t pos = sequencePosition(gi, n, 2, seq.size(), true, seq.size());
    seq.insert(seq.begin() + pos, gi.input(n, 1));
    setSequence(gi, n, seq);
  };
  t["SequenceErase"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> seq = sequenceInput(gi, n, 0);
    if (seq.empty())
      throw NodeError{"erase from an empty sequence"};
    int64_t pos = sequencePosition(gi, n, 1, seq.size(), false, seq.size() - 1);
    seq.erase(seq.begin() + pos);
    setSequence(gi, n, seq);
  };
  t["SequenceAt"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> &seq = sequenceInput(gi, n, 0);
    if (!gi.optionalInput(n, 1))
      throw NodeError{"needs a position"};
    int64_t pos = sequencePosition(gi, n, 1, seq.size(), false, 0);
    single(gi, n, seq[pos]);
  };
  t["SequenceLength"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> &seq = sequenceInput(gi, n, 0);
    single(gi, n, gi.constI64({(int64_t)seq.size()}, /*scalar=*/true));
  };
  t["ConcatFromSequence"] = [](GraphImporter &gi, const Node &n) {
    SmallVector<Value> seq = sequenceInput(gi, n, 0);
    if (seq.empty())
      throw NodeError{"concatenation of an empty sequence"};
    if (!findAttr(n, "axis"))
      throw NodeError{"needs the 'axis' attribute"};
    bool newAxis = attrInt(n, "new_axis", 0) != 0;
    int64_t rank = typeOf(seq[0]).getRank() + (newAxis ? 1 : 0);
    int64_t axis = normAxis(attrInt(n, "axis", 0), rank);
    if (newAxis)
      for (Value &v : seq)
        v = gi.create1("unsqueeze", {v}, {named(gi, "axes", i64s(gi, {axis}))});
    single(gi, n,
           gi.create1("concat", seq,
                      {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
  };
  t["SplitToSequence"] = [](GraphImporter &gi, const Node &n) {
    Value x = gi.input(n, 0);
    auto xt = typeOf(x);
    int64_t axis = normAxis(attrInt(n, "axis", 0), xt.getRank());
    int64_t dim = xt.getDimSize(axis);
    if (ShapedType::isDynamic(dim))
      throw NodeError{"the split axis must have a static size"};
    SmallVector<int64_t> sizes;
    bool squeeze = false;
    if (Value s = gi.optionalInput(n, 1)) {
      auto v = lop::getKnownIntValues(s);
      if (!v || llvm::any_of(*v, ShapedType::isDynamic))
        throw NodeError{"split must be known at compile time"};
      if (typeOf(s).getRank() == 0) {
        int64_t chunk = (*v)[0];
        if (chunk <= 0)
          throw NodeError{"split must be positive"};
        for (int64_t o = 0; o < dim; o += chunk)
          sizes.push_back(std::min(chunk, dim - o));
      } else {
        sizes.assign(v->begin(), v->end());
      }
    } else {
      sizes.assign(dim, 1);
      squeeze = attrInt(n, "keepdims", 1) == 0;
    }
    int64_t total = 0;
    for (int64_t z : sizes)
      total += z;
    if (total != dim)
      throw NodeError{"the split sizes do not add up to the axis"};
    SmallVector<Value> seq;
    if (!sizes.empty()) {
      Operation *op =
          gi.create("split", {x},
                    {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
                     named(gi, "split", i64s(gi, sizes))},
                    sizes.size());
      for (Value r : op->getResults())
        seq.push_back(squeeze
                          ? gi.create1("squeeze", {r},
                                       {named(gi, "axes", i64s(gi, {axis}))})
                          : r);
    }
    setSequence(gi, n, seq);
  };
}

/// Converters by ONNX op type.
const llvm::StringMap<Converter> &converters() {
  static const llvm::StringMap<Converter> table = [] {
    llvm::StringMap<Converter> t;
    auto unary = [&](StringRef onnx, StringRef lop) {
      std::string name = lop.str();
      t[onnx] = [name](GraphImporter &gi, const Node &n) {
        single(gi, n, gi.create1(name, {gi.input(n, 0)}));
      };
    };
    for (auto [o, l] : {std::pair{"Sqrt", "sqrt"},
                        {"Reciprocal", "reciprocal"},
                        {"Exp", "exp"},
                        {"Log", "log"},
                        {"Neg", "neg"},
                        {"Abs", "abs"},
                        {"Erf", "erf"},
                        {"Tanh", "tanh"},
                        {"Sigmoid", "sigmoid"},
                        {"Relu", "relu"},
                        {"Not", "not"},
                        {"HardSwish", "hard_swish"}})
      unary(o, l);
    auto binary = [&](StringRef onnx, StringRef lop) {
      std::string name = lop.str();
      t[onnx] = [name](GraphImporter &gi, const Node &n) {
        single(gi, n, gi.create1(name, {gi.input(n, 0), gi.input(n, 1)}));
      };
    };
    for (auto [o, l] : {std::pair{"Add", "add"},
                        {"Sub", "sub"},
                        {"Mul", "mul"},
                        {"Div", "div"},
                        {"Pow", "pow"},
                        {"Equal", "equal"},
                        {"Less", "less"},
                        {"Greater", "greater"},
                        {"And", "and"}})
      binary(o, l);
    auto withFloats = [&](StringRef onnx, StringRef lop,
                          std::vector<std::pair<std::string, float>> attrs) {
      std::string name = lop.str();
      t[onnx] = [name, attrs](GraphImporter &gi, const Node &n) {
        SmallVector<NamedAttribute> a;
        for (auto &[k, d] : attrs)
          a.push_back(named(gi, k, gi.b.getF32FloatAttr(attrFloat(n, k, d))));
        single(gi, n, gi.create1(name, {gi.input(n, 0)}, a));
      };
    };
    withFloats("LeakyRelu", "leaky_relu", {{"alpha", 0.01f}});
    withFloats("Elu", "elu", {{"alpha", 1.0f}});
    withFloats("HardSigmoid", "hard_sigmoid",
               {{"alpha", 0.2f}, {"beta", 0.5f}});
    t["Gelu"] = [](GraphImporter &gi, const Node &n) {
      single(gi, n,
             gi.create1("gelu", {gi.input(n, 0)},
                        {named(gi, "approximate",
                               gi.b.getStringAttr(
                                   attrString(n, "approximate", "none")))}));
    };
    t["Identity"] = [](GraphImporter &gi, const Node &n) {
      single(gi, n, gi.input(n, 0));
    };
    t["Dropout"] = [](GraphImporter &gi, const Node &n) {
      if (Value training = gi.optionalInput(n, 2)) {
        auto v = lop::getConstantIntValues(training);
        if (!v || (*v)[0] != 0)
          throw NodeError{"Dropout in training mode is not supported"};
      }
      Value x = gi.input(n, 0);
      if (n.output_size() > 1 && !n.output(1).empty()) {
        // In inference the mask keeps everything.
        auto xt = typeOf(x);
        if (!xt.hasStaticShape())
          throw NodeError{"the Dropout mask output needs a static shape"};
        gi.setOutputs(
            n, ValueRange{x, filled(gi, gi.b.getI1Type(), 1, xt.getShape())});
        return;
      }
      single(gi, n, x);
    };
    t["Softmax"] = [](GraphImporter &gi, const Node &n) {
      convertSoftmax(gi, n, "softmax");
    };
    t["LogSoftmax"] = [](GraphImporter &gi, const Node &n) {
      convertSoftmax(gi, n, "log_softmax");
    };
    t["Clip"] = convertClip;
    t["Cast"] = [](GraphImporter &gi, const Node &n) {
      if (!findAttr(n, "to"))
        throw NodeError{"Cast needs the 'to' attribute"};
      Type to = gi.elementType(attrInt(n, "to", 0), "Cast target");
      single(gi, n,
             gi.create1("cast", {gi.input(n, 0)},
                        {named(gi, "to", TypeAttr::get(to))}));
    };
    t["Where"] = [](GraphImporter &gi, const Node &n) {
      single(gi, n,
             gi.create1("where",
                        {gi.input(n, 0), gi.input(n, 1), gi.input(n, 2)}));
    };
    t["Conv"] = [](GraphImporter &gi, const Node &n) {
      convertConv(gi, n, false);
    };
    t["ConvTranspose"] = [](GraphImporter &gi, const Node &n) {
      convertConv(gi, n, true);
    };
    t["Gemm"] = convertGemm;
    t["MatMul"] = convertMatMul;
    t["BatchNormalization"] = [](GraphImporter &gi, const Node &n) {
      if (attrInt(n, "training_mode", 0))
        throw NodeError{"BatchNormalization in training mode is not supported"};
      single(gi, n,
             gi.create1("batch_norm",
                        {gi.input(n, 0), gi.input(n, 1), gi.input(n, 2),
                         gi.input(n, 3), gi.input(n, 4)},
                        {named(gi, "epsilon",
                               gi.b.getF32FloatAttr(
                                   attrFloat(n, "epsilon", 1e-5f)))}));
    };
    t["LayerNormalization"] = [](GraphImporter &gi, const Node &n) {
      if ((n.output_size() > 1 && !n.output(1).empty()) ||
          (n.output_size() > 2 && !n.output(2).empty()))
        return convertNormWritten(gi, n, false);
      Value x = gi.input(n, 0), scale = gi.input(n, 1),
            bias = gi.optionalInput(n, 2);
      int64_t axis = normAxis(attrInt(n, "axis", -1), typeOf(x).getRank());
      SmallVector<Value> ops{x, scale};
      if (bias)
        ops.push_back(bias);
      single(gi, n,
             gi.create1("layer_norm", ops,
                        {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
                         named(gi, "epsilon",
                               gi.b.getF32FloatAttr(
                                   attrFloat(n, "epsilon", 1e-5f)))}));
    };
    t["InstanceNormalization"] = [](GraphImporter &gi, const Node &n) {
      convertGroupedNorm(gi, n, /*instance=*/true);
    };
    t["GroupNormalization"] = [](GraphImporter &gi, const Node &n) {
      convertGroupedNorm(gi, n, /*instance=*/false);
    };
    t["LRN"] = convertLRN;
    t["MaxPool"] = [](GraphImporter &gi, const Node &n) {
      convertPool(gi, n, true);
    };
    t["AveragePool"] = [](GraphImporter &gi, const Node &n) {
      convertPool(gi, n, false);
    };
    t["GlobalAveragePool"] = [](GraphImporter &gi, const Node &n) {
      single(gi, n, gi.create1("global_average_pool", {gi.input(n, 0)}));
    };
    t["GlobalMaxPool"] = [](GraphImporter &gi, const Node &n) {
      single(gi, n, gi.create1("global_max_pool", {gi.input(n, 0)}));
    };
    t["ReduceMean"] = [](GraphImporter &gi, const Node &n) {
      convertReduce(gi, n, "reduce_mean", 18);
    };
    t["ReduceSum"] = [](GraphImporter &gi, const Node &n) {
      convertReduce(gi, n, "reduce_sum", 13);
    };
    t["ReduceMax"] = [](GraphImporter &gi, const Node &n) {
      convertReduce(gi, n, "reduce_max", 18);
    };
    t["ReduceMin"] = [](GraphImporter &gi, const Node &n) {
      convertReduce(gi, n, "reduce_min", 18);
    };
    t["ArgMax"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0);
      int64_t axis = normAxis(attrInt(n, "axis", 0), typeOf(x).getRank());
      single(gi, n,
             gi.create1("argmax", {x},
                        {named(gi, "axis", gi.b.getI64IntegerAttr(axis)),
                         named(gi, "keepdims",
                               gi.b.getBoolAttr(attrInt(n, "keepdims", 1))),
                         named(gi, "select_last_index",
                               gi.b.getBoolAttr(
                                   attrInt(n, "select_last_index", 0)))}));
    };
    t["TopK"] = convertTopK;
    t["Reshape"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0), shape = gi.input(n, 1);
      if (!knownInts(shape))
        if (auto t = declaredFor(gi, n, 0, staticNumel(x)))
          shape = gi.constI64(t.getShape());
      single(gi, n,
             gi.create1("reshape", {x, shape},
                        {named(gi, "allowzero",
                               gi.b.getBoolAttr(attrInt(n, "allowzero", 0)))}));
    };
    t["Flatten"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0);
      int64_t rank = typeOf(x).getRank();
      int64_t axis = attrInt(n, "axis", 1);
      if (axis < -rank || axis > rank)
        throw NodeError{"axis " + std::to_string(axis) + " is out of range"};
      if (axis < 0)
        axis += rank;
      single(gi, n,
             gi.create1("flatten", {x},
                        {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
    };
    t["Transpose"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0);
      SmallVector<int64_t> perm;
      if (auto p = attrInts(n, "perm"))
        perm = *p;
      else
        for (int64_t i = typeOf(x).getRank() - 1; i >= 0; --i)
          perm.push_back(i);
      single(gi, n,
             gi.create1("transpose", {x}, {named(gi, "perm", i64s(gi, perm))}));
    };
    t["Concat"] = [](GraphImporter &gi, const Node &n) {
      SmallVector<Value> ins;
      for (int i = 0; i < n.input_size(); ++i)
        ins.push_back(gi.input(n, i));
      if (ins.empty())
        throw NodeError{"Concat needs inputs"};
      if (!findAttr(n, "axis"))
        throw NodeError{"Concat needs the 'axis' attribute"};
      int64_t axis = normAxis(attrInt(n, "axis", 0), typeOf(ins[0]).getRank());
      single(gi, n,
             gi.create1("concat", ins,
                        {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
    };
    t["Split"] = convertSplit;
    t["Slice"] = convertSlice;
    t["Squeeze"] = [](GraphImporter &gi, const Node &n) {
      convertSqueeze(gi, n, false);
    };
    t["Unsqueeze"] = [](GraphImporter &gi, const Node &n) {
      convertSqueeze(gi, n, true);
    };
    t["Gather"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0);
      int64_t axis = normAxis(attrInt(n, "axis", 0), typeOf(x).getRank());
      single(gi, n,
             gi.create1("gather", {x, gi.input(n, 1)},
                        {named(gi, "axis", gi.b.getI64IntegerAttr(axis))}));
    };
    t["Shape"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0);
      int64_t rank = typeOf(x).getRank();
      auto clampDim = [&](int64_t v) {
        if (v < 0)
          v += rank;
        return std::clamp<int64_t>(v, 0, rank);
      };
      int64_t start = clampDim(attrInt(n, "start", 0));
      int64_t end = std::max(start, clampDim(attrInt(n, "end", rank)));
      single(gi, n,
             gi.create1("shape", {x},
                        {named(gi, "start", gi.b.getI64IntegerAttr(start)),
                         named(gi, "end", gi.b.getI64IntegerAttr(end))}));
    };
    t["Constant"] = convertConstant;
    t["ConstantOfShape"] = convertConstantOfShape;
    t["Expand"] = [](GraphImporter &gi, const Node &n) {
      Value shape = gi.input(n, 1);
      if (!knownInts(shape))
        if (auto t = declaredFor(gi, n, 0))
          shape = gi.constI64(t.getShape());
      single(gi, n, gi.create1("expand", {gi.input(n, 0), shape}));
    };
    t["Tile"] = [](GraphImporter &gi, const Node &n) {
      Value x = gi.input(n, 0), repeats = gi.input(n, 1);
      auto xt = typeOf(x);
      if (!knownInts(repeats) && xt.hasStaticShape())
        if (auto t = declaredFor(gi, n, 0); t && t.getRank() == xt.getRank()) {
          SmallVector<int64_t> reps;
          for (int64_t i = 0; i < xt.getRank(); ++i) {
            int64_t in = xt.getDimSize(i), out = t.getDimSize(i);
            if (in == 0 || out % in)
              throw NodeError{"the declared output is not a tiling of the "
                              "input"};
            reps.push_back(out / in);
          }
          repeats = gi.constI64(reps);
        }
      single(gi, n, gi.create1("tile", {x, repeats}));
    };
    t["Range"] = [](GraphImporter &gi, const Node &n) {
      Value r =
          gi.create1("range", {gi.input(n, 0), gi.input(n, 1), gi.input(n, 2)});
      // The length of a range of run-time values is the declared one.
      if (typeOf(r).isDynamicDim(0))
        if (auto t = declaredFor(gi, n, 0);
            t && t.getRank() == 1 && t.getElementType() == elemOf(r))
          r.setType(t);
      single(gi, n, r);
    };
    t["Pad"] = convertPad;
    t["Resize"] = convertResize;
    t["RNN"] = [](GraphImporter &gi, const Node &n) {
      convertRecurrent(gi, n, "RNN");
    };
    t["GRU"] = [](GraphImporter &gi, const Node &n) {
      convertRecurrent(gi, n, "GRU");
    };
    t["LSTM"] = [](GraphImporter &gi, const Node &n) {
      convertRecurrent(gi, n, "LSTM");
    };
    t["Einsum"] = convertEinsum;
    t["If"] = convertIf;
    t["Loop"] = convertLoop;
    t["Scan"] = convertScan;
    t["OneHot"] = convertOneHot;
    t["GatherND"] = convertGatherND;
    t["ReverseSequence"] = convertReverseSequence;
    t["Det"] = convertDet;
    t["Compress"] = convertCompress;
    addCoverageConverters(t);
    addConvPoolConverters(t);
    addQuantConverters(t);
    addSequenceConverters(t);
    return t;
  }();
  return table;
}
} // namespace

std::string GraphImporter::converterKey(const onnx::NodeProto &node) {
  if (node.domain().empty() || node.domain() == "ai.onnx")
    return node.op_type();
  return node.domain() + "." + node.op_type();
}

bool GraphImporter::isSupported(StringRef key) {
  return converters().count(key);
}

/// Ops other than the quantized ones read a quantized input as ONNX does, as
/// raw integers; ops that only move values run in float and quantize back.
onnx::NodeProto GraphImporter::upgradeLegacy(const onnx::NodeProto &in) {
  onnx::NodeProto n = in;
  auto take = [&](StringRef name) -> std::optional<onnx::AttributeProto> {
    for (int i = 0; i < n.attribute_size(); ++i)
      if (n.attribute(i).name() == name) {
        onnx::AttributeProto a = n.attribute(i);
        n.mutable_attribute()->DeleteSubrange(i, 1);
        return a;
      }
    return std::nullopt;
  };
  // A value made here, bound under a name no model can use.
  auto bind = [&](Value v) {
    std::string name =
        "\x01legacy:" + n.name() + ":" + std::to_string(values.size());
    values[name] = v;
    return name;
  };
  take("consumed_inputs");
  StringRef op = n.op_type();
  if (llvm::is_contained({"Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor",
                          "Equal", "Less", "Greater"},
                         op)) {
    auto bc = take("broadcast");
    auto axis = take("axis");
    if (bc && bc->i() && axis && n.input_size() == 2) {
      // B's dims align with A's starting at `axis`: trailing ones make
      // that numpy broadcasting.
      auto at = typeOf(input(n, 0)), bt = typeOf(input(n, 1));
      int64_t ax = axis->i() < 0 ? axis->i() + at.getRank() : axis->i();
      int64_t trailing = at.getRank() - ax - bt.getRank();
      if (ax < 0 || trailing < 0)
        throw NodeError{"broadcast axis does not fit the operands"};
      if (trailing > 0) {
        if (!bt.hasStaticShape())
          throw NodeError{"a legacy axis broadcast needs a static second "
                          "operand"};
        SmallVector<int64_t> shape(bt.getShape());
        shape.append(trailing, 1);
        n.set_input(1,
                    bind(create1("reshape", {input(n, 1), constI64(shape)})));
      }
    }
  } else if (op == "Gemm") {
    take("broadcast");
  } else if (op == "Reshape" && n.input_size() == 1) {
    auto shape = take("shape");
    if (!shape)
      throw NodeError{"Reshape needs a shape"};
    n.add_input(bind(constI64(
        SmallVector<int64_t>(shape->ints().begin(), shape->ints().end()))));
  } else if (op == "Concat" && !findAttr(n, "axis")) {
    auto *a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(1); // Concat-1's default
  } else if (op == "Pad") {
    if (auto p = take("paddings")) {
      p->set_name("pads");
      *n.add_attribute() = *p;
    }
  } else if (op == "Cast") {
    auto to = findAttr(n, "to");
    if (to && to->type() == onnx::AttributeProto::STRING) {
      onnx::TensorProto::DataType dt;
      if (!onnx::TensorProto::DataType_Parse(to->s(), &dt))
        throw NodeError{"unknown Cast target '" + to->s() + "'"};
      auto a = *take("to");
      a.set_type(onnx::AttributeProto::INT);
      a.clear_s();
      a.set_i(dt);
      *n.add_attribute() = a;
    }
  } else if (op == "BatchNormalization") {
    if (auto sp = take("spatial"); sp && sp->i() == 0)
      throw NodeError{"BatchNormalization with spatial=0 (per-element "
                      "statistics) is not supported"};
    take("is_test");
  } else if (op == "Dropout") {
    take("is_test"); // inference: Dropout is the identity either way
  } else if (op == "Tile" && n.input_size() == 3) {
    throw NodeError{"Tile-1 (tiles and axis inputs) is not supported"};
  }
  return n;
}

void GraphImporter::convertNode(const onnx::NodeProto &original) {
  // Only default-domain nodes of a model that imports opset 1-6 (opset is
  // -1 when the model imports no default opset).
  bool legacy = opset >= 1 && opset < 7 &&
                (original.domain().empty() || original.domain() == "ai.onnx");
  onnx::NodeProto upgraded;
  if (legacy)
    upgraded = upgradeLegacy(original);
  const onnx::NodeProto &node = legacy ? upgraded : original;
  std::string key = converterKey(node);
  const Converter &convert = converters().find(key)->second;
  static const llvm::StringSet<> aware = [] {
    llvm::StringMap<Converter> q;
    addQuantConverters(q);
    llvm::StringSet<> s;
    for (auto &e : q)
      s.insert(e.getKey());
    return s;
  }();
  SmallVector<std::pair<std::string, Value>> saved;
  if (!aware.contains(key) && key != "Identity" && key != "Dropout")
    for (const std::string &name : node.input()) {
      Value v = name.empty() ? Value() : values.lookup(name);
      if (v && isQuantized(v) &&
          llvm::none_of(saved, [&](auto &p) { return p.first == name; }))
        saved.push_back({name, v});
    }
  if (saved.empty())
    return convert(*this, node);
  Type common = elemOf(saved[0].second);
  bool inFloat =
      movesValues(key) && isa<quant::UniformQuantizedType>(common) &&
      llvm::all_of(saved, [&](auto &p) { return elemOf(p.second) == common; });
  for (auto &[name, v] : saved)
    values[name] = inFloat ? create1("dequantize", {v}) : rawOf(*this, v);
  auto restore = [&] {
    for (auto &[name, v] : saved)
      values[name] = v;
  };
  try {
    convert(*this, node);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  if (!inFloat)
    return;
  for (const std::string &out : node.output()) {
    Value v = out.empty() ? Value() : values.lookup(out);
    if (!v || !elemOf(v).isF32())
      continue;
    values[out] = lop::QuantizeOp::create(
        b, loc, RankedTensorType::get(typeOf(v).getShape(), common), v);
  }
}

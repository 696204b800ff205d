//===- LopOps.cpp - the lop dialect ---------------------------------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace lopper::lop;

#include "lopper/Dialect/Lop/LopDialect.cpp.inc"
#include "lopper/Dialect/Lop/LopEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "lopper/Dialect/Lop/LopAttrs.cpp.inc"

void LopDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lopper/Dialect/Lop/LopAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "lopper/Dialect/Lop/LopOps.cpp.inc"
      >();
}

Operation *LopDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements, SparsityAttr());
}

std::string lopper::lop::getNodeName(Operation *op) {
  if (auto nl = dyn_cast<NameLoc>(op->getLoc()))
    return nl.getName().str();
  return op->getName().getStringRef().str();
}

//===----------------------------------------------------------------------===//
// Reading and creating constants
//===----------------------------------------------------------------------===//

bool lopper::lop::getConstantBytes(ConstantOp c, std::vector<uint8_t> &out) {
  ElementsAttr attr = c.getValue();
  Type elem = attr.getElementType();
  int64_t n = attr.getNumElements();
  int64_t eb = getStorageBytes(elem);
  out.assign(n * eb, 0);
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != n * eb)
      return false;
    memcpy(out.data(), blob->getData().data(), n * eb);
    return true;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  if (elem.isInteger(1)) {
    int64_t i = 0;
    for (bool v : dense.getValues<bool>())
      out[i++] = v;
    return true;
  }
  if (isa<FloatType>(elem)) {
    int64_t i = 0;
    for (APFloat v : dense.getValues<APFloat>()) {
      uint64_t w = v.bitcastToAPInt().getZExtValue();
      memcpy(out.data() + i * eb, &w, eb);
      ++i;
    }
    return true;
  }
  if (isa<IntegerType>(elem)) {
    int64_t i = 0;
    for (APInt v : dense.getValues<APInt>()) {
      uint64_t w = v.getZExtValue();
      memcpy(out.data() + i * eb, &w, eb);
      ++i;
    }
    return true;
  }
  return false;
}

std::optional<std::vector<float>> lopper::lop::getConstantF32(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c || !c.getValue().getElementType().isF32())
    return std::nullopt;
  std::vector<uint8_t> bytes;
  if (!getConstantBytes(c, bytes))
    return std::nullopt;
  std::vector<float> out(bytes.size() / 4);
  memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

ConstantOp lopper::lop::createConstant(OpBuilder &b, Location loc,
                                       RankedTensorType type,
                                       ArrayRef<char> bytes,
                                       StringRef blobName) {
  Type elem = type.getElementType();
  Type storage = elem;
  if (auto q = dyn_cast<quant::QuantizedType>(elem))
    storage = q.getStorageType();
  auto valueType = RankedTensorType::get(type.getShape(), storage);
  ElementsAttr value;
  if (type.getNumElements() <= 16) {
    if (storage.isInteger(1)) {
      SmallVector<bool> v;
      for (char ch : bytes)
        v.push_back(ch != 0);
      value = DenseElementsAttr::get(valueType, v);
    } else {
      value = DenseElementsAttr::getFromRawBuffer(valueType, bytes);
    }
  } else {
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        bytes, 64, /*dataIsMutable=*/false);
    value =
        DenseResourceElementsAttr::get(valueType, blobName, std::move(blob));
  }
  return ConstantOp::create(b, loc, type, value, SparsityAttr());
}

ConstantOp lopper::lop::createF32Constant(OpBuilder &b, Location loc,
                                          ArrayRef<int64_t> shape,
                                          ArrayRef<float> data,
                                          StringRef blobName) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return createConstant(
      b, loc, type,
      ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                     data.size() * sizeof(float)),
      blobName);
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

Attribute SparsityAttr::parse(AsmParser &p, Type) {
  // #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>
  StringRef kw;
  SmallVector<int64_t, 2> pattern;
  int64_t axis = 0;
  double density = 0;
  if (p.parseLess() || p.parseKeyword(&kw))
    return {};
  auto kind = symbolizeSparsityKind(kw);
  if (!kind) {
    p.emitError(p.getCurrentLocation(), "unknown sparsity kind '") << kw << "'";
    return {};
  }
  if (succeeded(p.parseOptionalLSquare())) {
    if (p.parseCommaSeparatedList(
            [&] { return p.parseInteger(pattern.emplace_back()); }) ||
        p.parseRSquare())
      return {};
  }
  if (p.parseComma() || p.parseKeyword("output_axis") || p.parseEqual() ||
      p.parseInteger(axis) || p.parseComma() || p.parseKeyword("density") ||
      p.parseEqual() || p.parseFloat(density) || p.parseGreater())
    return {};
  return SparsityAttr::getChecked([&] { return p.emitError(p.getNameLoc()); },
                                  p.getContext(), *kind, pattern, axis,
                                  APFloat(density));
}

void SparsityAttr::print(AsmPrinter &p) const {
  p << "<" << stringifySparsityKind(getKind());
  if (!getPattern().empty()) {
    p << "[";
    llvm::interleaveComma(getPattern(), p);
    p << "]";
  }
  p << ", output_axis = " << getOutputAxis() << ", density = ";
  p.printFloat(getDensity());
  p << ">";
}

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   SparsityKind kind, ArrayRef<int64_t> pattern,
                                   int64_t outputAxis, APFloat density) {
  double d = density.convertToDouble();
  if (!(d >= 0.0 && d <= 1.0))
    return emitError() << "sparsity density must be in [0, 1], got " << d;
  if (outputAxis < 0)
    return emitError() << "sparsity output_axis must be >= 0";
  switch (kind) {
  case SparsityKind::unstructured:
    if (!pattern.empty())
      return emitError() << "unstructured sparsity takes no pattern";
    break;
  case SparsityKind::block:
    if (pattern.size() != 2 || pattern[0] < 1 || pattern[1] < 1)
      return emitError() << "block sparsity needs [R, C] with R, C >= 1";
    break;
  case SparsityKind::nm:
    if (pattern.size() != 2 || pattern[0] < 1 || pattern[1] <= pattern[0])
      return emitError() << "N:M sparsity needs [N, M] with 1 <= N < M";
    break;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Type compatibility and known values
//===----------------------------------------------------------------------===//

bool lopper::lop::areCompatibleReturnTypes(TypeRange l, TypeRange r) {
  if (l.size() != r.size())
    return false;
  for (auto [a, b] : llvm::zip(l, r)) {
    auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
    if (!ta || !tb) {
      if (a != b)
        return false;
      continue;
    }
    Type ea = ta.getElementType(), eb = tb.getElementType();
    if (ea != eb) {
      auto qb = dyn_cast<quant::QuantizedType>(eb);
      if (!qb || qb.getExpressedType() != ea)
        return false;
    }
    if (ta.getRank() != tb.getRank())
      return false;
    // A declared `?` where inference knows the size is fine too: a pass that
    // folds an operand into a constant makes inference more precise than
    // the type the op already carries.
    for (auto [x, y] : llvm::zip(ta.getShape(), tb.getShape()))
      if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
        return false;
  }
  return true;
}

std::optional<SmallVector<double>>
lopper::lop::readElementsAsDouble(ElementsAttr attr) {
  Type elem = attr.getElementType();
  SmallVector<double> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isa<FloatType>(elem)) {
      for (APFloat v : dense.getValues<APFloat>())
        out.push_back(v.convertToDouble());
      return out;
    }
    if (auto it = dyn_cast<IntegerType>(elem)) {
      for (APInt v : dense.getValues<APInt>())
        out.push_back(it.isUnsigned() ? (double)v.getZExtValue()
                                      : (double)v.getSExtValue());
      return out;
    }
    return std::nullopt;
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> bytes = blob->getData();
  int64_t n = attr.getNumElements();
  auto read = [&](auto tag) -> bool {
    using T = decltype(tag);
    if ((int64_t)bytes.size() != n * (int64_t)sizeof(T))
      return false;
    const T *p = reinterpret_cast<const T *>(bytes.data());
    for (int64_t i = 0; i < n; ++i)
      out.push_back((double)p[i]);
    return true;
  };
  bool ok = false;
  if (elem.isF32())
    ok = read(float());
  else if (elem.isF64())
    ok = read(double());
  else if (auto it = dyn_cast<IntegerType>(elem)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8:
      ok = u ? read(uint8_t()) : read(int8_t());
      break;
    case 16:
      ok = u ? read(uint16_t()) : read(int16_t());
      break;
    case 32:
      ok = u ? read(uint32_t()) : read(int32_t());
      break;
    case 64:
      ok = u ? read(uint64_t()) : read(int64_t());
      break;
    default:
      break;
    }
  }
  if (!ok)
    return std::nullopt;
  return out;
}

std::optional<SmallVector<double>>
lopper::lop::getConstantFloatValues(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  return readElementsAsDouble(c.getValue());
}

std::optional<SmallVector<int64_t>> lopper::lop::getConstantIntValues(Value v) {
  // Read integers exactly: INT64_MAX ("to the end" in Slice) must not pass
  // through double and come back as INT64_MIN, which is kDynamic.
  auto c = v.getDefiningOp<ConstantOp>();
  auto it =
      c ? dyn_cast<IntegerType>(c.getValue().getElementType()) : IntegerType();
  if (!it)
    return std::nullopt;
  SmallVector<int64_t> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(c.getValue())) {
    for (APInt x : dense.getValues<APInt>())
      out.push_back(it.isUnsigned() ? (int64_t)x.getZExtValue()
                                    : x.getSExtValue());
    return out;
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(c.getValue());
  AsmResourceBlob *blob = res ? res.getRawHandle().getBlob() : nullptr;
  if (!blob || it.getWidth() % 8 != 0)
    return std::nullopt;
  ArrayRef<char> bytes = blob->getData();
  size_t width = it.getWidth() / 8, n = res.getNumElements();
  if (bytes.size() != n * width)
    return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes.data() + i * width, width);
    APInt x(it.getWidth(), raw);
    out.push_back(it.isUnsigned() ? (int64_t)x.getZExtValue()
                                  : x.getSExtValue());
  }
  return out;
}

std::optional<SmallVector<int64_t>> lopper::lop::getKnownIntValues(Value v) {
  constexpr int64_t kDyn = ShapedType::kDynamic;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getRank() > 1 || !t.hasStaticShape() ||
      !isa<IntegerType>(t.getElementType()) || t.getNumElements() > 64)
    return std::nullopt;
  int64_t n = t.getNumElements();
  SmallVector<int64_t> unknown(n, kDyn);
  if (auto c = getConstantIntValues(v))
    return c;
  Operation *def = v.getDefiningOp();
  if (!def)
    return unknown;
  auto elementwise = [&](auto fn) -> SmallVector<int64_t> {
    auto a = getKnownIntValues(def->getOperand(0)),
         b = getKnownIntValues(def->getOperand(1));
    if (!a || !b)
      return unknown;
    SmallVector<int64_t> out;
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = (*a)[a->size() == 1 ? 0 : i],
              y = (*b)[b->size() == 1 ? 0 : i];
      out.push_back(x == kDyn || y == kDyn ? kDyn : fn(x, y));
    }
    return out;
  };
  return llvm::TypeSwitch<Operation *, SmallVector<int64_t>>(def)
      .Case([&](ShapeOp op) {
        auto in = cast<RankedTensorType>(op.getInput().getType());
        return SmallVector<int64_t>(
            in.getShape().slice(op.getStart(), op.getEnd() - op.getStart()));
      })
      .Case([&](ConcatOp op) {
        SmallVector<int64_t> out;
        for (Value in : op.getInputs()) {
          auto part = getKnownIntValues(in);
          if (!part)
            return unknown;
          out.append(*part);
        }
        return out.size() == (size_t)n ? out : unknown;
      })
      .Case([&](GatherOp op) {
        auto data = getKnownIntValues(op.getInput());
        auto idx = getConstantIntValues(op.getIndices());
        if (!data || !idx || op.getAxis() != 0)
          return unknown;
        SmallVector<int64_t> out;
        for (int64_t i : *idx) {
          if (i < 0)
            i += data->size();
          if (i < 0 || i >= (int64_t)data->size())
            return unknown;
          out.push_back((*data)[i]);
        }
        return out.size() == (size_t)n ? out : unknown;
      })
      .Case([&](SliceOp op) {
        auto data = getKnownIntValues(op.getInput());
        auto st = getConstantIntValues(op.getStarts()),
             en = getConstantIntValues(op.getEnds()),
             sp = getConstantIntValues(op.getSteps());
        if (!data || !st || !en || !sp || st->size() != 1 || (*sp)[0] != 1)
          return unknown;
        int64_t size = data->size();
        int64_t s = (*st)[0] < 0 ? (*st)[0] + size : (*st)[0];
        s = std::clamp<int64_t>(s, 0, size);
        SmallVector<int64_t> out(data->begin() + s,
                                 data->begin() + std::min(size, s + n));
        return out.size() == (size_t)n ? out : unknown;
      })
      .Case<UnsqueezeOp, SqueezeOp, CastOp, ReshapeOp>([&](auto op) {
        auto in = getKnownIntValues(op->getOperand(0));
        if (!in || in->size() != (size_t)n)
          return unknown;
        if (t.getElementType().isInteger(1))
          for (int64_t &x : *in)
            x = x == kDyn ? kDyn : x != 0;
        return *in;
      })
      .Case([&](ModOp m) {
        bool fmod = m.getFmod();
        return elementwise([&](int64_t a, int64_t b) {
          if (b == 0)
            return kDyn;
          int64_t r = a % b;
          if (!fmod && r != 0 && ((r < 0) != (b < 0)))
            r += b;
          return r;
        });
      })
      .Case([&](EqualOp) {
        return elementwise(
            [](int64_t a, int64_t b) -> int64_t { return a == b; });
      })
      .Case([&](LessOp) {
        return elementwise(
            [](int64_t a, int64_t b) -> int64_t { return a < b; });
      })
      .Case([&](GreaterOp) {
        return elementwise(
            [](int64_t a, int64_t b) -> int64_t { return a > b; });
      })
      .Case([&](AndOp) {
        return elementwise(
            [](int64_t a, int64_t b) -> int64_t { return a && b; });
      })
      .Case([&](OrOp) {
        return elementwise(
            [](int64_t a, int64_t b) -> int64_t { return a || b; });
      })
      .Case([&](XorOp) {
        return elementwise([](int64_t a, int64_t b) -> int64_t {
          return (a != 0) != (b != 0);
        });
      })
      .Case([&](NotOp op) {
        auto in = getKnownIntValues(op.getInput());
        if (!in || in->size() != (size_t)n)
          return unknown;
        for (int64_t &x : *in)
          x = x == kDyn ? kDyn : !x;
        return *in;
      })
      .Case([&](RangeOp op) {
        auto st = getKnownIntValues(op.getStart()),
             dl = getKnownIntValues(op.getDelta());
        if (!st || !dl || (*st)[0] == kDyn || (*dl)[0] == kDyn)
          return unknown;
        SmallVector<int64_t> out;
        for (int64_t i = 0; i < n; ++i)
          out.push_back((*st)[0] + i * (*dl)[0]);
        return out;
      })
      .Case([&](WhereOp op) {
        auto c = getKnownIntValues(op.getCondition()),
             x = getKnownIntValues(op.getX()), y = getKnownIntValues(op.getY());
        if (!c || !x || !y)
          return unknown;
        SmallVector<int64_t> out;
        for (int64_t i = 0; i < n; ++i) {
          auto at = [&](const SmallVector<int64_t> &v) {
            return v.size() == 1 ? v[0] : i < (int64_t)v.size() ? v[i] : kDyn;
          };
          int64_t ci = at(*c);
          out.push_back(ci == kDyn ? kDyn : ci ? at(*x) : at(*y));
        }
        return out;
      })
      .Case([&](AddOp) { return elementwise(std::plus<int64_t>()); })
      .Case([&](SubOp) { return elementwise(std::minus<int64_t>()); })
      .Case([&](MulOp) { return elementwise(std::multiplies<int64_t>()); })
      .Case([&](DivOp) {
        return elementwise(
            [&](int64_t a, int64_t b) { return b == 0 ? kDyn : a / b; });
      })
      .Default([&](Operation *) { return unknown; });
}

std::string lopper::lop::getOnnxOpType(Operation *op) {
  static const llvm::StringMap<StringRef> special = {
      {"quantize", "QuantizeLinear"},
      {"dequantize", "DequantizeLinear"},
      {"matmul", "MatMul"},
      {"batch_norm", "BatchNormalization"},
      {"layer_norm", "LayerNormalization"},
      {"instance_norm", "InstanceNormalization"},
      {"argmax", "ArgMax"},
      {"topk", "TopK"},
      {"argmin", "ArgMin"},
      {"scatter_nd", "ScatterND"},
  };
  StringRef mnemonic = op->getName().stripDialect();
  if (auto it = special.find(mnemonic); it != special.end())
    return it->second.str();
  // Everything else is the mnemonic in CamelCase: "hard_swish" -> "HardSwish".
  std::string name;
  bool upper = true;
  for (char c : mnemonic) {
    if (c == '_') {
      upper = true;
      continue;
    }
    name += upper ? llvm::toUpper(c) : c;
    upper = false;
  }
  return name;
}

int64_t lopper::lop::getStorageBytes(Type elem) {
  if (auto q = dyn_cast<quant::QuantizedType>(elem))
    return (q.getStorageTypeIntegralWidth() + 7) / 8;
  return elem.isInteger(1) ? 1 : (elem.getIntOrFloatBitWidth() + 7) / 8;
}

//===----------------------------------------------------------------------===//
// Sparsity
//===----------------------------------------------------------------------===//

LogicalResult lopper::lop::verifySparsity(std::optional<Location> loc,
                                          ShapedType type, SparsityAttr sp,
                                          const SmallVectorImpl<double> *data) {
  int64_t rank = type.getRank();
  if (sp.getOutputAxis() >= rank)
    return emitOptionalError(loc, "sparsity output_axis ", sp.getOutputAxis(),
                             " out of range for a rank-", rank, " weight");
  if (sp.getKind() != SparsityKind::unstructured && rank < 2)
    return emitOptionalError(loc, "structured sparsity needs a weight of "
                                  "rank >= 2");
  if (!type.hasStaticShape())
    return success();
  int64_t o = type.getDimSize(sp.getOutputAxis());
  int64_t r = type.getNumElements() / std::max<int64_t>(o, 1);
  if (sp.getKind() == SparsityKind::nm && r % sp.getSecond() != 0)
    return emitOptionalError(loc, "N:M sparsity needs a reduction length (", r,
                             ") that is a multiple of M = ", sp.getSecond());
  if (!data)
    return success();
  // Element (row, col) of the [O, R] view: the output axis moved to the front.
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * type.getDimSize(i + 1);
  int64_t axis = sp.getOutputAxis(), axisStride = strides[axis];
  int64_t inner = axisStride, outerStride = axisStride * o;
  auto at = [&](int64_t row, int64_t col) {
    int64_t outer = col / inner, in = col % inner;
    return (*data)[outer * outerStride + row * axisStride + in];
  };
  // Density counts nonzero elements, or nonzero blocks for block sparsity.
  int64_t kept = 0, units = 0;
  if (sp.getKind() == SparsityKind::block) {
    int64_t br = sp.getFirst(), bc = sp.getSecond();
    for (int64_t row = 0; row < o; row += br)
      for (int64_t col = 0; col < r; col += bc, ++units) {
        bool any = false;
        for (int64_t i = row; i < std::min(o, row + br) && !any; ++i)
          for (int64_t j = col; j < std::min(r, col + bc) && !any; ++j)
            any = at(i, j) != 0.0;
        kept += any;
      }
  } else {
    units = data->size();
    for (double v : *data)
      kept += v != 0.0;
  }
  double achieved = units ? (double)kept / units : 0.0;
  // The printed density keeps about seven digits; allow for that rounding.
  if (std::fabs(achieved - sp.getDensityValue()) > 1e-5)
    return emitOptionalError(loc, "sparsity density ", sp.getDensityValue(),
                             " does not match the data's density ", achieved);
  if (sp.getKind() == SparsityKind::nm) {
    int64_t n = sp.getFirst(), m = sp.getSecond();
    for (int64_t row = 0; row < o; ++row)
      for (int64_t g = 0; g < r; g += m) {
        int64_t count = 0;
        for (int64_t j = g; j < g + m; ++j)
          count += at(row, j) != 0.0;
        if (count > n)
          return emitOptionalError(loc, "N:M sparsity ", n, ":", m,
                                   " violated: output channel ", row, " has ",
                                   count, " nonzeros in the group at ", g);
      }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp, QuantizeOp, ShapeOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  auto resultType = cast<RankedTensorType>(getOutput().getType());
  if (valueType.getShape() != resultType.getShape())
    return emitOpError("value shape does not match the result shape");
  Type ve = valueType.getElementType(), re = resultType.getElementType();
  if (ve != re) {
    auto q = dyn_cast<quant::QuantizedType>(re);
    if (!q || !isa<IntegerType>(ve) ||
        cast<IntegerType>(ve).getWidth() != q.getStorageTypeIntegralWidth())
      return emitOpError("value element type ")
             << ve << " does not match result element type " << re
             << " (a quantized result needs integer storage of its width)";
  }
  if (auto sp = getSparsityAttr()) {
    std::optional<SmallVector<double>> data = readElementsAsDouble(getValue());
    if (failed(
            verifySparsity(getLoc(), resultType, sp, data ? &*data : nullptr)))
      return failure();
  }
  return success();
}

// A ConstantLike op's fold must succeed: the greedy driver's constant
// deduplication reads the folded attribute (keyed with the result type, so
// quantized constants with equal storage data but other scales stay apart).
// Returning nothing for quantized constants let it merge different weights.
OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult QuantizeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  auto q = dyn_cast<quant::QuantizedType>(out.getElementType());
  if (!q)
    return emitOpError("result must have a quantized element type, got ")
           << out.getElementType();
  if (q.getExpressedType() != in.getElementType())
    return emitOpError("input element type ")
           << in.getElementType() << " differs from the expressed type "
           << q.getExpressedType();
  if (in.getRank() != out.getRank() ||
      !areCompatibleReturnTypes(
          TypeRange{RankedTensorType::get(in.getShape(), q.getExpressedType())},
          TypeRange{out}))
    return emitOpError("input shape does not match the result shape");
  if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    int64_t axis = pa.getQuantizedDimension();
    if (axis >= out.getRank())
      return emitOpError("quantized dimension ")
             << axis << " out of range for rank " << out.getRank();
    if (!out.isDynamicDim(axis) &&
        (int64_t)pa.getScales().size() != out.getDimSize(axis))
      return emitOpError("per-axis type has ")
             << pa.getScales().size() << " scales for axis size "
             << out.getDimSize(axis);
  }
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  ArrayRef<int64_t> dims =
      in.getShape().slice(getStart(), getEnd() - getStart());
  if (llvm::any_of(dims, ShapedType::isDynamic))
    return {};
  return DenseElementsAttr::get(cast<ShapedType>(getOutput().getType()), dims);
}

//===----------------------------------------------------------------------===//
// inferReturnTypes adaptors: the generated op code calls these.
//===----------------------------------------------------------------------===//

namespace lopper::lop {
using infer::Types;
using Loc = std::optional<Location>;

template <typename A>
static LogicalResult inferSameAsInput(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::sameAsInput(loc, a.getInput(), t);
}
template <typename A>
static LogicalResult inferBroadcast(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::broadcast(loc, {a.getLhs(), a.getRhs()}, Type(), true, t);
}
template <typename A>
static LogicalResult inferPow(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::broadcast(loc, {a.getLhs(), a.getRhs()}, Type(), false, t);
}
template <typename A>
static LogicalResult inferCompare(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::compare(loc, a.getLhs(), a.getRhs(), t);
}
template <typename A>
static LogicalResult inferLogical(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::logical(loc, a.getLhs(), a.getRhs(), t);
}
template <typename A>
static LogicalResult inferWhere(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::where(loc, a.getCondition(), a.getX(), a.getY(), t);
}
template <typename A>
static LogicalResult inferCast(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::cast(loc, a.getInput(), a.getTo(), t);
}
template <typename A>
static LogicalResult inferDequantize(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::dequantize(loc, a.getInput(), t);
}
template <typename A> static infer::Epilogue epilogue(A a) {
  return {a.getBias(), a.getResidual()};
}
template <typename A>
static LogicalResult inferConv(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::conv(loc, a.getInput(), a.getWeight(), epilogue(a),
                     a.getStrides(), a.getPads(), a.getDilations(),
                     a.getGroup(), false, {}, t);
}
template <typename A>
static LogicalResult inferConvTranspose(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::conv(loc, a.getInput(), a.getWeight(), epilogue(a),
                     a.getStrides(), a.getPads(), a.getDilations(),
                     a.getGroup(), true, a.getOutputPadding(), t);
}
template <typename A>
static LogicalResult inferGemm(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::gemm(loc, a.getInput(), a.getWeight(), epilogue(a),
                     a.getTransA(), a.getTransB(), t);
}
template <typename A>
static LogicalResult inferMatMul(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::matmul(loc, a.getInput(), a.getWeight(), epilogue(a), t);
}
template <typename A>
static LogicalResult inferBatchNorm(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::batchNorm(
      loc, a.getInput(),
      {a.getScale(), a.getBias(), a.getMean(), a.getVariance()}, t);
}
template <typename A>
static LogicalResult inferLayerNorm(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::layerNorm(loc, a.getInput(), a.getScale(), a.getBias(),
                          a.getAxis(), t);
}
template <typename A>
static LogicalResult inferInstanceNorm(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::batchNorm(loc, a.getInput(), {a.getScale(), a.getBias()}, t);
}
template <typename A>
static LogicalResult inferPool(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::pool(loc, a.getInput(), a.getKernelShape(), a.getStrides(),
                     a.getPads(), a.getDilations(), a.getCeilMode(), t);
}
template <typename A>
static LogicalResult inferMaxPoolIndices(MLIRContext *ctx, Loc loc, A a,
                                         Types &t) {
  if (failed(inferPool(ctx, loc, a, t)))
    return failure();
  auto r = cast<RankedTensorType>(t.back());
  t.back() = r.clone(IntegerType::get(ctx, 64));
  return success();
}
template <typename A>
static LogicalResult inferGridSample(MLIRContext *, Loc loc, A a, Types &t) {
  auto x = dyn_cast<RankedTensorType>(a.getInput().getType());
  auto g = dyn_cast<RankedTensorType>(a.getGrid().getType());
  if (!x || !g || x.getRank() < 3 || g.getRank() != x.getRank() ||
      (!g.isDynamicDim(g.getRank() - 1) &&
       g.getDimSize(g.getRank() - 1) != x.getRank() - 2))
    return emitOptionalError(loc, "grid_sample needs input [N, C, D...] and "
                                  "grid [N, O..., spatial rank]");
  if (a.getMode() != "linear" && a.getMode() != "nearest" &&
      a.getMode() != "cubic")
    return emitOptionalError(loc, "unknown grid_sample mode ", a.getMode());
  if (a.getPaddingMode() != "zeros" && a.getPaddingMode() != "border" &&
      a.getPaddingMode() != "reflection")
    return emitOptionalError(loc, "unknown padding_mode ", a.getPaddingMode());
  SmallVector<int64_t> out{x.getDimSize(0), x.getDimSize(1)};
  for (int64_t i = 1; i + 1 < g.getRank(); ++i)
    out.push_back(g.getDimSize(i));
  t.push_back(RankedTensorType::get(out, x.getElementType()));
  return success();
}
template <typename A>
static LogicalResult inferRoiAlign(MLIRContext *, Loc loc, A a, Types &t) {
  auto x = dyn_cast<RankedTensorType>(a.getInput().getType());
  auto r = dyn_cast<RankedTensorType>(a.getRois().getType());
  if (!x || !r || x.getRank() != 4 || r.getRank() != 2 ||
      (!r.isDynamicDim(1) && r.getDimSize(1) != 4))
    return emitOptionalError(loc, "roi_align needs input [N, C, H, W] and "
                                  "rois [R, 4]");
  if (a.getMode() != "avg" && a.getMode() != "max")
    return emitOptionalError(loc, "roi_align mode must be avg or max");
  // I64Attr getters return uint64_t.
  auto oh = (int64_t)a.getOutputHeight(), ow = (int64_t)a.getOutputWidth();
  if (oh < 1 || ow < 1 || (int64_t)a.getSamplingRatio() < 0)
    return emitOptionalError(loc, "output sizes must be >= 1 and "
                                  "sampling_ratio >= 0");
  t.push_back(RankedTensorType::get({r.getDimSize(0), x.getDimSize(1), oh, ow},
                                    x.getElementType()));
  return success();
}
template <typename A>
static LogicalResult inferDeformConv(MLIRContext *, Loc loc, A a, Types &t) {
  auto x = dyn_cast<RankedTensorType>(a.getInput().getType());
  auto w = dyn_cast<RankedTensorType>(a.getWeight().getType());
  auto o = dyn_cast<RankedTensorType>(a.getOffset().getType());
  if (!x || !w || !o || x.getRank() != 4 || w.getRank() != 4 ||
      o.getRank() != 4)
    return emitOptionalError(loc, "deform_conv supports 2-D only: input, "
                                  "weight and offset must be 4-D");
  if (a.getStrides().size() != 2 || a.getDilations().size() != 2 ||
      a.getPads().size() != 4)
    return emitOptionalError(loc, "strides and dilations need 2 values, "
                                  "pads 4");
  if ((int64_t)a.getGroup() < 1 || (int64_t)a.getOffsetGroup() < 1)
    return emitOptionalError(loc, "group and offset_group must be >= 1");
  t.push_back(RankedTensorType::get(
      {x.getDimSize(0), w.getDimSize(0), o.getDimSize(2), o.getDimSize(3)},
      x.getElementType()));
  return success();
}
template <typename A>
static LogicalResult inferGlobalPool(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::globalPool(loc, a.getInput(), t);
}
template <typename A>
static LogicalResult inferReduce(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::reduce(loc, a.getInput(), a.getAxes(), a.getKeepdims(), t);
}
template <typename A>
static LogicalResult inferArgMax(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::argMax(loc, a.getInput(), a.getAxis(), a.getKeepdims(), t);
}
template <typename A>
static LogicalResult inferGatherElements(MLIRContext *, Loc loc, A a,
                                         Types &t) {
  auto x = dyn_cast<RankedTensorType>(a.getInput().getType());
  auto i = dyn_cast<RankedTensorType>(a.getIndices().getType());
  if (!x || !i)
    return emitOptionalError(loc, "expects ranked tensors");
  if (x.getRank() != i.getRank())
    return emitOptionalError(loc, "indices rank ", i.getRank(),
                             " differs from the input rank ", x.getRank());
  if ((int64_t)a.getAxis() < 0 || (int64_t)a.getAxis() >= x.getRank())
    return emitOptionalError(loc, "axis ", a.getAxis(),
                             " out of range for rank ", x.getRank());
  if (!isa<IntegerType>(i.getElementType()))
    return emitOptionalError(loc, "indices must be integers, got ",
                             i.getElementType());
  t.push_back(RankedTensorType::get(i.getShape(), x.getElementType()));
  return success();
}
template <typename A>
static LogicalResult inferReduceRuntimeAxes(MLIRContext *, Loc loc, A a,
                                            Types &t) {
  auto x = dyn_cast<RankedTensorType>(a.getInput().getType());
  auto axes = dyn_cast<RankedTensorType>(a.getAxes().getType());
  if (!x || !axes)
    return emitOptionalError(loc, "expects ranked tensors");
  if (axes.getRank() != 1 || !isa<IntegerType>(axes.getElementType()))
    return emitOptionalError(loc, "axes must be a 1-D integer tensor");
  StringRef kind = a.getKind();
  if (kind != "sum" && kind != "mean" && kind != "max" && kind != "min" &&
      kind != "prod")
    return emitOptionalError(loc, "unknown reduction kind '", kind, "'");
  SmallVector<int64_t> dims;
  if (a.getKeepdims()) {
    for (int64_t d : x.getShape())
      dims.push_back(d == 1 ? 1 : ShapedType::kDynamic);
  } else {
    if (axes.isDynamicDim(0))
      return emitOptionalError(loc, "without keepdims the number of axes "
                                    "must be static");
    int64_t k = axes.getDimSize(0);
    int64_t rank =
        k == 0 ? (a.getNoopWithEmptyAxes() ? x.getRank() : 0) : x.getRank() - k;
    if (rank < 0)
      return emitOptionalError(loc, "more axes than the input has");
    dims.assign(rank, ShapedType::kDynamic);
  }
  t.push_back(RankedTensorType::get(dims, x.getElementType()));
  return success();
}
template <typename A>
static LogicalResult inferTopK(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::topK(loc, a.getInput(), a.getK(), a.getAxis(), t);
}
template <typename A>
static LogicalResult inferReshape(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::reshape(loc, a.getInput(), a.getShape(), a.getAllowzero(), t);
}
template <typename A>
static LogicalResult inferFlatten(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::flatten(loc, a.getInput(), a.getAxis(), t);
}
template <typename A>
static LogicalResult inferTranspose(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::transpose(loc, a.getInput(), a.getPerm(), t);
}
template <typename A>
static LogicalResult inferSqueeze(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::squeeze(loc, a.getInput(), a.getAxes(), t);
}
template <typename A>
static LogicalResult inferUnsqueeze(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::unsqueeze(loc, a.getInput(), a.getAxes(), t);
}
template <typename A>
static LogicalResult inferConcat(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::concat(loc, a.getInputs(), a.getAxis(), t);
}
template <typename A>
static LogicalResult inferSplit(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::split(loc, a.getInput(), a.getAxis(), a.getSplit(), t);
}
template <typename A>
static LogicalResult inferSlice(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::slice(loc, a.getInput(), a.getStarts(), a.getEnds(),
                      a.getAxes(), a.getSteps(), t);
}
template <typename A>
static LogicalResult inferGather(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::gather(loc, a.getInput(), a.getIndices(), a.getAxis(), t);
}
template <typename A>
static LogicalResult inferShape(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::shape(loc, a.getInput(), a.getStart(), a.getEnd(), t);
}
template <typename A>
static LogicalResult inferConstantOfShape(MLIRContext *, Loc loc, A a,
                                          Types &t) {
  return infer::constantOfShape(loc, a.getShape(), a.getValue(), t);
}
template <typename A>
static LogicalResult inferExpand(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::expand(loc, a.getInput(), a.getShape(), t);
}
template <typename A>
static LogicalResult inferTile(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::tile(loc, a.getInput(), a.getRepeats(), t);
}
template <typename A>
static LogicalResult inferRange(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::range(loc, a.getStart(), a.getLimit(), a.getDelta(), t);
}
template <typename A>
static LogicalResult inferPad(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::pad(loc, a.getInput(), a.getPads(), a.getMode(), t);
}
template <typename A>
static LogicalResult inferResize(MLIRContext *, Loc loc, A a, Types &t) {
  return infer::resize(loc, a.getInput(), a.getScales(), a.getSizes(),
                       a.getMode(), t);
}
} // namespace lopper::lop

#define GET_OP_CLASSES
#include "lopper/Dialect/Lop/LopOps.cpp.inc"

//===- OnnxExporter.cpp - the lop dialect back to ONNX --------------------===//
//
// The inverse of the importer: each lop op becomes the ONNX node it stands
// for, written in the opset >= 17 input forms (axes, pads, split sizes and
// clip bounds as initializers). Heavy ops expand their epilogue into
// following Add and activation nodes; constants become initializers.
//
//===----------------------------------------------------------------------===//

#include "lopper/Export/OnnxExporter.h"
#include "lopper/Dialect/Lop/LopOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <cctype>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
using namespace lopper;

/// Renders a location the way error lines name it.
static std::string locString(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

/// The ONNX data type of an element type (quantized: its storage), or 0.
static int32_t onnxDataType(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t)) {
    unsigned w = q.getStorageTypeIntegralWidth();
    bool s = q.isSigned();
    switch (w) {
    case 8:
      return s ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    case 16:
      return s ? onnx::TensorProto::INT16 : onnx::TensorProto::UINT16;
    case 32:
      return s ? onnx::TensorProto::INT32 : onnx::TensorProto::UINT32;
    default:
      return 0;
    }
  }
  if (t.isF32())
    return onnx::TensorProto::FLOAT;
  if (t.isF16())
    return onnx::TensorProto::FLOAT16;
  if (t.isBF16())
    return onnx::TensorProto::BFLOAT16;
  if (t.isF64())
    return onnx::TensorProto::DOUBLE;
  auto it = dyn_cast<IntegerType>(t);
  if (!it)
    return 0;
  if (it.getWidth() == 1)
    return onnx::TensorProto::BOOL;
  bool u = it.isUnsigned();
  switch (it.getWidth()) {
  case 8:
    return u ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8;
  case 16:
    return u ? onnx::TensorProto::UINT16 : onnx::TensorProto::INT16;
  case 32:
    return u ? onnx::TensorProto::UINT32 : onnx::TensorProto::INT32;
  case 64:
    return u ? onnx::TensorProto::UINT64 : onnx::TensorProto::INT64;
  default:
    return 0;
  }
}

/// Appends `v` as one little-endian element of `elem` to `out`.
static void appendScalar(std::string &out, Type elem, double v) {
  if (auto ft = dyn_cast<FloatType>(elem)) {
    APFloat f(v);
    bool lost = false;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    uint64_t bits = f.bitcastToAPInt().getZExtValue();
    char buf[8];
    std::memcpy(buf, &bits, sizeof(bits));
    out.append(buf, ft.getWidth() / 8);
    return;
  }
  int64_t i = (int64_t)std::llround(v);
  char buf[8];
  std::memcpy(buf, &i, sizeof(i));
  out.append(buf, lop::getStorageBytes(elem));
}

/// The first NameLoc name inside `loc`, if any.
static std::optional<std::string> nameOfLoc(Location loc) {
  if (auto nl = dyn_cast<NameLoc>(loc))
    return nl.getName().str();
  if (auto fl = dyn_cast<FusedLoc>(loc))
    for (Location l : fl.getLocations())
      if (auto n = nameOfLoc(l))
        return n;
  return std::nullopt;
}

/// Lop attributes whose names and meanings are ONNX's.
static bool isOnnxAttrName(StringRef name) {
  static const llvm::StringSet<> names = {"strides",
                                          "pads",
                                          "dilations",
                                          "group",
                                          "kernel_shape",
                                          "axis",
                                          "perm",
                                          "epsilon",
                                          "alpha",
                                          "beta",
                                          "transA",
                                          "transB",
                                          "keepdims",
                                          "ceil_mode",
                                          "count_include_pad",
                                          "allowzero",
                                          "select_last_index",
                                          "largest",
                                          "sorted",
                                          "mode",
                                          "coordinate_transformation_mode",
                                          "nearest_mode",
                                          "cubic_coeff_a",
                                          "approximate",
                                          "output_padding",
                                          "start",
                                          "end",
                                          "to",
                                          "fmod",
                                          "direction",
                                          "upper",
                                          "exclusive",
                                          "reverse",
                                          "reduction",
                                          "noop_with_empty_axes"};
  return names.contains(name);
}

namespace {

/// Builds one ModelProto from @main.
class Exporter {
public:
  Exporter(ModuleOp module, std::vector<std::string> &errors)
      : module(module), errors(errors) {}

  LogicalResult run(std::string &bytes);

private:
  LogicalResult fail(Operation *op, const Twine &msg) {
    errors.push_back("op '" + op->getName().getStringRef().str() + "' at " +
                     locString(op->getLoc()) + ": " + msg.str());
    return failure();
  }

  /// `base` itself when no value uses it yet, else `base_N`.
  std::string unique(StringRef base) {
    if (used.insert(base).second)
      return base.str();
    return fresh((base + "_").str());
  }

  /// A name no other value, initializer or node output uses yet.
  std::string fresh(StringRef prefix) {
    while (true) {
      std::string n = (prefix + Twine(counters[prefix.str()]++)).str();
      if (used.insert(n).second)
        return n;
    }
  }

  std::string nameOf(Value v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    return names[v] = fresh("v_");
  }

  std::string nodeName(Operation *op, StringRef suffix = "") {
    std::string base = nameOfLoc(op->getLoc()).value_or("");
    if (base.empty())
      base = "lop_" + std::to_string(opIndex);
    if (!suffix.empty())
      base += "/" + suffix.str();
    std::string n = base;
    for (int i = 1; !nodeNames.insert(n).second; ++i)
      n = base + "_" + std::to_string(i);
    return n;
  }

  onnx::NodeProto *addNode(StringRef type, ArrayRef<std::string> ins,
                           ArrayRef<std::string> outs, std::string name) {
    onnx::NodeProto *n = graph->add_node();
    n->set_op_type(type.str());
    n->set_name(std::move(name));
    for (const auto &i : ins)
      n->add_input(i);
    for (const auto &o : outs)
      n->add_output(o);
    return n;
  }

  /// One node writing a fresh value; returns the value's name.
  std::string addNode1(Operation *op, StringRef type, ArrayRef<std::string> ins,
                       StringRef suffix) {
    std::string out = fresh("v_");
    addNode(type, ins, {out}, nodeName(op, suffix));
    return out;
  }

  void setTensorType(onnx::TypeProto *tp, RankedTensorType t, bool nameDyn);
  void
  addValueInfo(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
               const std::string &name, RankedTensorType t, bool nameDyn);

  /// An initializer holding `bytes`, reused when an identical one exists.
  std::string initializer(StringRef base, int32_t dtype, ArrayRef<int64_t> dims,
                          std::string bytes, bool share = true);
  std::string intsInit(ArrayRef<int64_t> v) {
    std::string bytes;
    for (int64_t x : v)
      bytes.append(reinterpret_cast<const char *>(&x), sizeof(x));
    return initializer("ints_", onnx::TensorProto::INT64, {(int64_t)v.size()},
                       std::move(bytes));
  }
  std::string scalarInit(Type elem, double v) {
    std::string bytes;
    appendScalar(bytes, elem, v);
    return initializer("scalar_", onnxDataType(elem), {}, std::move(bytes));
  }

  LogicalResult exportConstant(lop::ConstantOp op);
  LogicalResult exportHeavy(Operation *op);
  LogicalResult exportQuant(Operation *op);
  LogicalResult exportOp(Operation *op);
  LogicalResult addScaleZeroPoint(Operation *op, quant::QuantizedType q,
                                  std::vector<std::string> &ins, int64_t &axis);
  /// Writes the activation `kind` applied to `x`; returns its name.
  FailureOr<std::string> emitActivation(Operation *op, lop::ActivationKind kind,
                                        FloatAttr alpha, FloatAttr beta,
                                        const std::string &x, Type elem);
  std::string emitGelu(Operation *op, const std::string &x, Type elem,
                       bool tanhForm);
  /// Copies the ONNX-named attributes of `op` not in `skip` onto `n`.
  LogicalResult copyAttrs(Operation *op, onnx::NodeProto *n,
                          ArrayRef<StringRef> skip = {});

  ModuleOp module;
  std::vector<std::string> &errors;
  onnx::ModelProto model;
  onnx::GraphProto *graph = nullptr;
  int64_t opset = 17;
  int64_t opIndex = 0;
  int64_t dynCounter = 0;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> used, nodeNames;
  std::map<std::string, int64_t> counters;
  std::map<std::string, std::string> sharedInits;
};

} // namespace

void Exporter::setTensorType(onnx::TypeProto *tp, RankedTensorType t,
                             bool nameDyn) {
  auto *tt = tp->mutable_tensor_type();
  tt->set_elem_type(onnxDataType(t.getElementType()));
  auto *shape = tt->mutable_shape();
  for (int64_t d : t.getShape()) {
    auto *dim = shape->add_dim();
    if (!ShapedType::isDynamic(d))
      dim->set_dim_value(d);
    else if (nameDyn)
      dim->set_dim_param("d" + std::to_string(dynCounter++));
  }
}

void Exporter::addValueInfo(
    google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
    const std::string &name, RankedTensorType t, bool nameDyn) {
  onnx::ValueInfoProto *vi = list->Add();
  vi->set_name(name);
  setTensorType(vi->mutable_type(), t, nameDyn);
}

std::string Exporter::initializer(StringRef base, int32_t dtype,
                                  ArrayRef<int64_t> dims, std::string bytes,
                                  bool share) {
  std::string key;
  if (share) {
    key = std::to_string(dtype) + ":";
    for (int64_t d : dims)
      key += std::to_string(d) + ",";
    key += ":" + bytes;
    auto it = sharedInits.find(key);
    if (it != sharedInits.end())
      return it->second;
  }
  onnx::TensorProto *t = graph->add_initializer();
  // A base ending in '_' is a prefix to number; any other is kept if free.
  std::string name = base.ends_with("_") ? fresh(base) : unique(base);
  t->set_name(name);
  t->set_data_type(dtype);
  for (int64_t d : dims)
    t->add_dims(d);
  t->set_raw_data(std::move(bytes));
  if (share)
    sharedInits[key] = name;
  return name;
}

LogicalResult Exporter::copyAttrs(Operation *op, onnx::NodeProto *n,
                                  ArrayRef<StringRef> skip) {
  for (NamedAttribute na : op->getAttrs()) {
    StringRef name = na.getName().getValue();
    if (!isOnnxAttrName(name) || llvm::is_contained(skip, name))
      continue;
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name(name.str());
    Attribute attr = na.getValue();
    if (auto b = dyn_cast<BoolAttr>(attr)) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(b.getValue() ? 1 : 0);
    } else if (auto i = dyn_cast<IntegerAttr>(attr)) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(i.getInt());
    } else if (auto f = dyn_cast<FloatAttr>(attr)) {
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f((float)f.getValueAsDouble());
    } else if (auto s = dyn_cast<StringAttr>(attr)) {
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(s.getValue().str());
    } else if (auto arr = dyn_cast<DenseI64ArrayAttr>(attr)) {
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : arr.asArrayRef())
        a->add_ints(v);
    } else if (auto ty = dyn_cast<TypeAttr>(attr)) {
      int32_t dt = onnxDataType(ty.getValue());
      if (!dt)
        return fail(op, "attribute '" + name +
                            "' names a type ONNX cannot "
                            "express");
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(dt);
    } else {
      return fail(op, "attribute '" + name +
                          "' has a kind the exporter does "
                          "not write");
    }
  }
  return success();
}

LogicalResult Exporter::exportConstant(lop::ConstantOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  ElementsAttr value = op.getValue();
  Type valElem = value.getElementType();
  int32_t dtype = onnxDataType(type.getElementType());
  if (!dtype)
    return fail(op, "the constant's element type has no ONNX data type");
  int64_t count = value.getNumElements();
  int64_t width = lop::getStorageBytes(valElem);
  std::string bytes;
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (valElem.isInteger(1)) {
      for (bool b : dense.getValues<bool>())
        bytes.push_back(b ? 1 : 0);
    } else {
      ArrayRef<char> raw = dense.getRawData();
      if (dense.isSplat()) {
        bytes.reserve(count * width);
        for (int64_t i = 0; i < count; ++i)
          bytes.append(raw.data(), width);
      } else {
        bytes.assign(raw.data(), raw.size());
      }
    }
  } else if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return fail(op, "the constant's resource blob '" +
                          res.getRawHandle().getKey() + "' is not loaded");
    ArrayRef<char> data = blob->getData();
    bytes.assign(data.data(), data.size());
  } else {
    return fail(op, "the constant's value is neither dense nor a "
                    "dense_resource");
  }
  if ((int64_t)bytes.size() != count * width)
    return fail(op, "the constant holds " + Twine(bytes.size()) +
                        " bytes, but its shape and type need " +
                        Twine(count * width));
  std::string base = "init_";
  if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
    base = res.getRawHandle().getKey().str();
  names[op.getResult()] = initializer(base, dtype, type.getShape(),
                                      std::move(bytes), /*share=*/false);
  return success();
}

std::string Exporter::emitGelu(Operation *op, const std::string &x, Type elem,
                               bool tanhForm) {
  auto c = [&](double v) { return scalarInit(elem, v); };
  std::string inner;
  if (!tanhForm) {
    // 0.5 * x * (1 + erf(x / sqrt(2)))
    std::string d = addNode1(op, "Div", {x, c(std::sqrt(2.0))}, "gelu_div");
    inner = addNode1(op, "Erf", {d}, "gelu_erf");
  } else {
    // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
    std::string x2 = addNode1(op, "Mul", {x, x}, "gelu_sq");
    std::string x3 = addNode1(op, "Mul", {x2, x}, "gelu_cube");
    std::string k = addNode1(op, "Mul", {x3, c(0.044715)}, "gelu_k");
    std::string s = addNode1(op, "Add", {x, k}, "gelu_sum");
    std::string m = addNode1(
        op, "Mul", {s, c(std::sqrt(2.0 / llvm::numbers::pi))}, "gelu_scale");
    inner = addNode1(op, "Tanh", {m}, "gelu_tanh");
  }
  std::string one = addNode1(op, "Add", {inner, c(1.0)}, "gelu_one");
  std::string xm = addNode1(op, "Mul", {x, one}, "gelu_mul");
  return addNode1(op, "Mul", {xm, c(0.5)}, "gelu_half");
}

FailureOr<std::string> Exporter::emitActivation(Operation *op,
                                                lop::ActivationKind kind,
                                                FloatAttr alpha, FloatAttr beta,
                                                const std::string &x,
                                                Type elem) {
  using K = lop::ActivationKind;
  switch (kind) {
  case K::none:
    return x;
  case K::relu:
    return addNode1(op, "Relu", {x}, "relu");
  case K::sigmoid:
    return addNode1(op, "Sigmoid", {x}, "sigmoid");
  case K::tanh:
    return addNode1(op, "Tanh", {x}, "tanh");
  case K::hard_swish:
    return addNode1(op, "HardSwish", {x}, "hard_swish");
  case K::silu: {
    std::string s = addNode1(op, "Sigmoid", {x}, "silu_sigmoid");
    return addNode1(op, "Mul", {x, s}, "silu");
  }
  case K::clip: {
    std::vector<std::string> ins{
        x, alpha ? scalarInit(elem, alpha.getValueAsDouble()) : std::string()};
    if (beta)
      ins.push_back(scalarInit(elem, beta.getValueAsDouble()));
    return addNode1(op, "Clip", ins, "clip");
  }
  case K::leaky_relu: {
    std::string out = fresh("v_");
    onnx::NodeProto *n =
        addNode("LeakyRelu", {x}, {out}, nodeName(op, "leaky_relu"));
    auto *a = n->add_attribute();
    a->set_name("alpha");
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(alpha ? (float)alpha.getValueAsDouble() : 0.01f);
    return out;
  }
  case K::gelu:
  case K::gelu_tanh: {
    bool t = kind == K::gelu_tanh;
    if (opset < 20)
      return emitGelu(op, x, elem, t);
    std::string out = fresh("v_");
    onnx::NodeProto *n = addNode("Gelu", {x}, {out}, nodeName(op, "gelu"));
    if (t) {
      auto *a = n->add_attribute();
      a->set_name("approximate");
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s("tanh");
    }
    return out;
  }
  }
  (void)fail(op, "unknown epilogue activation");
  return failure();
}

LogicalResult Exporter::exportHeavy(Operation *op) {
  auto isQuant = [](Type t) {
    return isa<quant::QuantizedType>(getElementTypeOrSelf(t));
  };
  Value x = op->getOperand(0), w = op->getOperand(1), bias, residual;
  // Quantized operands export in QDQ form: a DequantizeLinear feeds the
  // float op (onnxruntime fuses the pattern into its int8 kernels). A float
  // input with a quantized weight (dynamic quantization) gets
  // DynamicQuantizeLinear + DequantizeLinear, which is what the int8
  // kernel does to it at run time.
  std::string xName = nameOf(x), wName = nameOf(w);
  auto dequantized = [&](Value v, std::string &name) -> LogicalResult {
    auto q = dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(v.getType()));
    if (!q)
      return success();
    std::vector<std::string> ins{name};
    int64_t axis = -1;
    if (failed(addScaleZeroPoint(op, q, ins, axis)))
      return failure();
    std::string out = fresh("dq_");
    onnx::NodeProto *n =
        addNode("DequantizeLinear", ins, {out}, nodeName(op, "dequantize"));
    if (axis >= 0) {
      auto *a = n->add_attribute();
      a->set_name("axis");
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(axis);
    }
    name = out;
    return success();
  };
  bool dynamicInput = !isQuant(x.getType()) && isQuant(w.getType());
  if (failed(dequantized(x, xName)) || failed(dequantized(w, wName)))
    return failure();
  if (dynamicInput) {
    std::string q = fresh("dq_"), s = fresh("dq_"), z = fresh("dq_");
    addNode("DynamicQuantizeLinear", {xName}, {q, s, z},
            nodeName(op, "dynamic_quantize"));
    xName = addNode1(op, "DequantizeLinear", {q, s, z}, "dequantize_input");
  }

  lop::ActivationKind act;
  FloatAttr alpha, beta;
  auto grab = [&](auto o) {
    bias = o.getBias();
    residual = o.getResidual();
    act = o.getActivation();
    alpha = o.getActivationAlphaAttr();
    beta = o.getActivationBetaAttr();
  };
  if (auto o = dyn_cast<lop::ConvOp>(op))
    grab(o);
  else if (auto o = dyn_cast<lop::ConvTransposeOp>(op))
    grab(o);
  else if (auto o = dyn_cast<lop::GemmOp>(op))
    grab(o);
  else
    grab(cast<lop::MatMulOp>(op));

  bool isMatMul = isa<lop::MatMulOp>(op);
  bool isConv = isa<lop::ConvOp, lop::ConvTransposeOp>(op);
  if (bias && isConv && cast<RankedTensorType>(bias.getType()).getRank() != 1)
    return fail(op, "a convolution bias must be 1-D to export");
  if (bias && !getElementTypeOrSelf(bias.getType()).isF32() &&
      (isQuant(x.getType()) || isQuant(w.getType())))
    return fail(op, "exporting an int8 op with an integer bias is not "
                    "supported yet");
  std::vector<std::string> ins{xName, wName};
  if (bias && !isMatMul)
    ins.push_back(nameOf(bias));
  std::string cur = fresh("v_");
  onnx::NodeProto *n =
      addNode(lop::getOnnxOpType(op), ins, {cur}, nodeName(op));
  if (failed(copyAttrs(op, n)))
    return failure();
  if (bias && isMatMul)
    cur = addNode1(op, "Add", {cur, nameOf(bias)}, "bias");
  if (residual)
    cur = addNode1(op, "Add", {cur, nameOf(residual)}, "residual");
  Type elem =
      cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  auto requant = dyn_cast<quant::QuantizedType>(elem);
  if (requant)
    elem = requant.getExpressedType();
  auto out = emitActivation(op, act, alpha, beta, cur, elem);
  if (failed(out))
    return failure();
  if (requant) {
    // The requantizing epilogue: a QuantizeLinear writes the result.
    std::vector<std::string> ins{graph->node(graph->node_size() - 1).output(0)};
    int64_t axis = -1;
    if (failed(addScaleZeroPoint(op, requant, ins, axis)))
      return failure();
    addNode("QuantizeLinear", ins, {nameOf(op->getResult(0))},
            nodeName(op, "requantize"));
    return success();
  }
  // The last node of the chain writes the op's result name.
  graph->mutable_node(graph->node_size() - 1)
      ->set_output(0, nameOf(op->getResult(0)));
  return success();
}

LogicalResult Exporter::addScaleZeroPoint(Operation *op, quant::QuantizedType q,
                                          std::vector<std::string> &ins,
                                          int64_t &axis) {
  Type expressed = q.getExpressedType();
  int32_t sdt = onnxDataType(expressed);
  int32_t zdt = onnxDataType(q);
  if (!sdt || !isa<FloatType>(expressed) || !zdt)
    return fail(op, "the quantized type has no ONNX scale/zero-point form");
  std::string sb, zb;
  SmallVector<int64_t> dims;
  axis = -1;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    appendScalar(sb, expressed, u.getScale());
    appendScalar(zb, q.getStorageType(), (double)u.getZeroPoint());
  } else if (auto p = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    for (double s : p.getScales())
      appendScalar(sb, expressed, s);
    for (int64_t z : p.getZeroPoints())
      appendScalar(zb, q.getStorageType(), (double)z);
    dims.push_back(p.getScales().size());
    axis = p.getQuantizedDimension();
  } else {
    return fail(op, "only uniform quantized types can be exported");
  }
  ins.push_back(initializer("scale_", sdt, dims, std::move(sb)));
  ins.push_back(initializer("zero_point_", zdt, dims, std::move(zb)));
  return success();
}

LogicalResult Exporter::exportQuant(Operation *op) {
  bool isQ = isa<lop::QuantizeOp>(op);
  Type qt = getElementTypeOrSelf(isQ ? op->getResult(0).getType()
                                     : op->getOperand(0).getType());
  auto q = dyn_cast<quant::QuantizedType>(qt);
  if (!q)
    return fail(op, "expects a quantized element type");
  std::vector<std::string> ins{nameOf(op->getOperand(0))};
  int64_t axis = -1;
  if (failed(addScaleZeroPoint(op, q, ins, axis)))
    return failure();
  onnx::NodeProto *n = addNode(lop::getOnnxOpType(op), ins,
                               {nameOf(op->getResult(0))}, nodeName(op));
  if (axis >= 0) {
    auto *a = n->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return success();
}

LogicalResult Exporter::exportOp(Operation *op) {
  if (auto c = dyn_cast<lop::ConstantOp>(op))
    return c->use_empty() ? success() : exportConstant(c);
  if (isa<lop::ConvOp, lop::ConvTransposeOp, lop::GemmOp, lop::MatMulOp>(op))
    return exportHeavy(op);
  if (isa<lop::QuantizeOp, lop::DequantizeOp>(op))
    return exportQuant(op);
  if (op->getDialect() == nullptr || op->getDialect()->getNamespace() != "lop")
    return fail(op, "only lop ops can be exported to ONNX");

  Value x = op->getNumOperands() ? op->getOperand(0) : Value();
  Type elem = x ? getElementTypeOrSelf(x.getType()) : Type();
  std::vector<std::string> ins;
  for (Value v : op->getOperands())
    ins.push_back(nameOf(v));
  std::vector<std::string> outs;
  for (Value r : op->getResults())
    outs.push_back(nameOf(r));
  std::string type = lop::getOnnxOpType(op);
  SmallVector<StringRef> skip;
  SmallVector<std::pair<std::string, SmallVector<int64_t>>> intsAttrs;

  if (auto g = dyn_cast<lop::GeluOp>(op); g && opset < 20) {
    emitGelu(op, ins[0], elem, g.getApproximate() == "tanh");
    graph->mutable_node(graph->node_size() - 1)->set_output(0, outs[0]);
    return success();
  }
  auto axesOf = [](Operation *o) {
    return cast<DenseI64ArrayAttr>(o->getAttr("axes")).asArrayRef();
  };
  if (isa<lop::SqueezeOp, lop::UnsqueezeOp>(op)) {
    skip.push_back("axes");
    if (axesOf(op).empty())
      type = "Identity";
    else
      ins.push_back(intsInit(axesOf(op)));
  } else if (auto rr = dyn_cast<lop::ReduceRuntimeAxesOp>(op)) {
    // Back to ONNX's Reduce<Kind> with its axes input.
    StringRef kind = rr.getKind();
    type = "Reduce" + std::string(1, (char)std::toupper(kind[0])) +
           kind.drop_front().str();
    skip.push_back("kind");
    // The result's shape is not computable from the axes' type: declare it,
    // as the importer needs it back.
    auto *vi = graph->add_value_info();
    vi->set_name(outs[0]);
    setTensorType(vi->mutable_type(), cast<RankedTensorType>(rr.getType()),
                  false);
    if (opset < (kind == "sum" ? 13 : 18))
      return fail(op, type + " with run-time axes needs opset " +
                          (kind == "sum" ? "13" : "18") +
                          " (the model declares " + Twine(opset) + ")");
  } else if (isa<lop::ReduceMeanOp, lop::ReduceSumOp, lop::ReduceMaxOp,
                 lop::ReduceMinOp, lop::ReduceProdOp>(op)) {
    skip.push_back("axes");
    ArrayRef<int64_t> axes = axesOf(op);
    if (!axes.empty()) {
      if (isa<lop::ReduceSumOp>(op) || opset >= 18)
        ins.push_back(intsInit(axes));
      else
        intsAttrs.push_back({"axes", SmallVector<int64_t>(axes)});
    }
  } else if (auto s = dyn_cast<lop::SplitOp>(op)) {
    ins.push_back(intsInit(s.getSplit()));
  } else if (auto p = dyn_cast<lop::PadOp>(op)) {
    skip.push_back("pads");
    ins.push_back(intsInit(p.getPads()));
    if (p.getMode() == "constant" && p.getValue().convertToDouble() != 0.0)
      ins.push_back(scalarInit(elem, p.getValue().convertToDouble()));
  } else if (auto c = dyn_cast<lop::ClipOp>(op)) {
    auto mn = c.getMinAttr(), mx = c.getMaxAttr();
    if (mn || mx)
      ins.push_back(mn ? scalarInit(elem, mn.getValueAsDouble()) : "");
    if (mx)
      ins.push_back(scalarInit(elem, mx.getValueAsDouble()));
  } else if (auto r = dyn_cast<lop::ResizeOp>(op)) {
    ins = {nameOf(r.getInput()), "",
           r.getScales() ? nameOf(r.getScales()) : std::string()};
    if (r.getSizes())
      ins.push_back(nameOf(r.getSizes()));
  } else if (auto ap = dyn_cast<lop::AveragePoolOp>(op); ap && opset < 19) {
    skip.push_back("dilations");
    if (llvm::any_of(ap.getDilations(), [](int64_t d) { return d != 1; }))
      return fail(op, "AveragePool dilations need opset 19 (the model "
                      "declares " +
                          Twine(opset) + ")");
  }

  onnx::NodeProto *n = addNode(type, ins, outs, nodeName(op));
  if (type == "Identity")
    return success();
  if (failed(copyAttrs(op, n, skip)))
    return failure();
  for (auto &[name, vals] : intsAttrs) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : vals)
      a->add_ints(v);
  }
  if (auto cos = dyn_cast<lop::ConstantOfShapeOp>(op)) {
    TypedAttr v = cos.getValue();
    int32_t dt = onnxDataType(v.getType());
    if (!dt)
      return fail(op, "the fill value's type has no ONNX data type");
    std::string bytes;
    if (auto f = dyn_cast<FloatAttr>(v))
      appendScalar(bytes, v.getType(), f.getValueAsDouble());
    else if (auto i = dyn_cast<IntegerAttr>(v)) {
      int64_t iv = v.getType().isInteger(1) ? (i.getValue().isZero() ? 0 : 1)
                                            : i.getValue().getSExtValue();
      bytes.append(reinterpret_cast<const char *>(&iv),
                   lop::getStorageBytes(v.getType()));
    } else
      return fail(op, "the fill value must be an integer or float");
    auto *a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto *t = a->mutable_t();
    t->set_data_type(dt);
    t->add_dims(1);
    t->set_raw_data(bytes);
  }
  return success();
}

LogicalResult Exporter::run(std::string &bytes) {
  auto fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn || fn.getBody().empty()) {
    errors.push_back("the module has no func.func @main with a body");
    return failure();
  }
  if (!fn.getBody().hasOneBlock()) {
    errors.push_back("func.func @main must have a single block");
    return failure();
  }
  int64_t moduleOpset = 17;
  if (auto a = module->getAttrOfType<IntegerAttr>("lop.opset"))
    moduleOpset = a.getInt();
  opset = std::max<int64_t>(moduleOpset, 17);

  model.set_ir_version(opset >= 21 ? 10 : opset >= 19 ? 9 : 8);
  model.set_producer_name("lopper");
  auto *imp = model.add_opset_import();
  imp->set_domain("");
  imp->set_version(opset);
  graph = model.mutable_graph();
  graph->set_name("main");

  Block &body = fn.getBody().front();
  bool ok = true;
  // Graph inputs.
  for (BlockArgument arg : body.getArguments()) {
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    std::string name = "input_" + std::to_string(arg.getArgNumber());
    if (auto s =
            fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "lop.name"))
      name = s.getValue().str();
    if (!t || !onnxDataType(t.getElementType())) {
      errors.push_back("argument '" + name +
                       "' has a type ONNX cannot express");
      ok = false;
      continue;
    }
    if (!used.insert(name).second) {
      errors.push_back("two arguments are named '" + name + "'");
      ok = false;
      continue;
    }
    names[arg] = name;
    addValueInfo(graph->mutable_input(), name, t, /*nameDyn=*/true);
  }
  if (!ok)
    return failure();

  // Graph outputs: the producing node writes the output's name where it can;
  // otherwise an Identity does.
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!ret) {
    errors.push_back("func.func @main must end with func.return");
    return failure();
  }
  SmallVector<std::pair<Value, std::string>> identities;
  SmallVector<std::string> outNames;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    std::string name = "output_" + std::to_string(i);
    if (auto s = fn.getResultAttrOfType<StringAttr>(i, "lop.name"))
      name = s.getValue().str();
    outNames.push_back(name);
    auto it = names.find(v);
    if (it != names.end() && it->second == name)
      continue; // an input returned under its own name
    if (!used.insert(name).second) {
      errors.push_back("graph output '" + name +
                       "' reuses another value's name");
      ok = false;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (it == names.end() && def && !isa<lop::ConstantOp>(def))
      names[v] = name;
    else
      identities.push_back({v, name});
  }
  if (!ok)
    return failure();

  for (Operation &op : body.without_terminator()) {
    if (failed(exportOp(&op)))
      ok = false;
    ++opIndex;
  }
  if (!ok)
    return failure();
  for (auto &[v, name] : identities)
    addNode("Identity", {nameOf(v)}, {name}, [&] {
      std::string n = "output_identity_" + name;
      nodeNames.insert(n);
      return n;
    }());

  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t || !onnxDataType(t.getElementType())) {
      errors.push_back("graph output '" + outNames[i] +
                       "' has a type ONNX cannot express");
      return failure();
    }
    addValueInfo(graph->mutable_output(), outNames[i], t, /*nameDyn=*/false);
  }

  if (!model.SerializeToString(&bytes)) {
    errors.push_back("the ONNX model could not be serialized (over 2 GiB?)");
    return failure();
  }
  return success();
}

LogicalResult lopper::exportOnnx(ModuleOp module, llvm::raw_ostream &os,
                                 std::vector<std::string> &errors) {
  Exporter exporter(module, errors);
  std::string bytes;
  if (failed(exporter.run(bytes)))
    return failure();
  os.write(bytes.data(), bytes.size());
  return success();
}

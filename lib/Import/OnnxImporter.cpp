//===- OnnxImporter.cpp - ONNX model to the lop dialect -------------------===//
//
// Parses the protobuf (or the ONNX text syntax) with libonnx and builds
// `func.func @main` of lop ops. Shapes come from the lop ops' own inference,
// not from libonnx, whose schemas stop at opset 17. Node conversion errors
// are collected as one line per node; unsupported ops are all listed before
// any conversion is tried.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/defs/parser.h>

#include <cstring>
#include <functional>

using namespace mlir;
using namespace lopper;
using namespace lopper::import;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *import::findAttr(const onnx::NodeProto &node,
                                             StringRef name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

static void expectAttrType(const onnx::AttributeProto &a,
                           onnx::AttributeProto::AttributeType type,
                           StringRef what) {
  // Old exporters leave `type` unset; accept that when the field is present.
  if (a.type() != type && a.type() != onnx::AttributeProto::UNDEFINED)
    throw NodeError{"attribute '" + a.name() + "' must be " + what.str()};
}

int64_t import::attrInt(const onnx::NodeProto &node, StringRef name,
                        int64_t def) {
  const auto *a = findAttr(node, name);
  if (!a)
    return def;
  expectAttrType(*a, onnx::AttributeProto::INT, "an int");
  return a->i();
}

float import::attrFloat(const onnx::NodeProto &node, StringRef name,
                        float def) {
  const auto *a = findAttr(node, name);
  if (!a)
    return def;
  expectAttrType(*a, onnx::AttributeProto::FLOAT, "a float");
  return a->f();
}

std::string import::attrString(const onnx::NodeProto &node, StringRef name,
                               StringRef def) {
  const auto *a = findAttr(node, name);
  if (!a)
    return def.str();
  expectAttrType(*a, onnx::AttributeProto::STRING, "a string");
  return a->s();
}

std::optional<SmallVector<int64_t>>
import::attrInts(const onnx::NodeProto &node, StringRef name) {
  const auto *a = findAttr(node, name);
  if (!a)
    return std::nullopt;
  expectAttrType(*a, onnx::AttributeProto::INTS, "a list of ints");
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

/// ONNX's name of a data type, including those newer than libonnx 1.12.
static std::string typeName(int32_t t) {
  static const char *newer[] = {
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",        "INT4",           "FLOAT4E2M1"};
  std::string name;
  if (onnx::TensorProto::DataType_IsValid(t))
    name = onnx::TensorProto::DataType_Name(t);
  else if (t >= 17 && t < 17 + (int32_t)std::size(newer))
    name = newer[t - 17];
  return name.empty() ? "data type " + std::to_string(t)
                      : name + " (" + std::to_string(t) + ")";
}

Type GraphImporter::elementType(int32_t t, StringRef what) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
    return b.getIntegerType(64);
  case onnx::TensorProto::UINT8:
    return b.getIntegerType(8, false);
  case onnx::TensorProto::UINT16:
    return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32:
    return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64:
    return b.getIntegerType(64, false);
  default:
    throw NodeError{what.str() + " has unsupported element type " +
                    typeName(t)};
  }
}

/// A blob key for a tensor name: letters, digits, '_' and '.'.
static std::string blobKey(const std::string &name) {
  std::string key = name.empty() ? std::string("tensor") : name;
  for (char &c : key)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  return key;
}

/// Copies the typed repeated fields of a TensorProto into little-endian
/// bytes of `width` per element.
static std::string typedFieldBytes(const onnx::TensorProto &t, Type elem,
                                   int64_t count) {
  std::string out;
  int64_t width = lop::getStorageBytes(elem);
  out.resize(count * width);
  char *p = out.data();
  auto put = [&](int64_t i, auto v) {
    std::memcpy(p + i * width, &v, std::min<int64_t>(sizeof(v), width));
  };
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    for (int64_t i = 0; i < count; ++i)
      put(i, t.float_data(i));
    break;
  case onnx::TensorProto::DOUBLE:
    for (int64_t i = 0; i < count; ++i)
      put(i, t.double_data(i));
    break;
  case onnx::TensorProto::INT64:
    for (int64_t i = 0; i < count; ++i)
      put(i, t.int64_data(i));
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (int64_t i = 0; i < count; ++i)
      put(i, t.uint64_data(i));
    break;
  default: // int32_data holds every narrower integer, bool, fp16 and bf16.
    for (int64_t i = 0; i < count; ++i)
      put(i, t.int32_data(i));
    break;
  }
  return out;
}

static int64_t typedFieldCount(const onnx::TensorProto &t) {
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    return t.float_data_size();
  case onnx::TensorProto::DOUBLE:
    return t.double_data_size();
  case onnx::TensorProto::INT64:
    return t.int64_data_size();
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    return t.uint64_data_size();
  default:
    return t.int32_data_size();
  }
}

RankedTensorType GraphImporter::tensorType(const onnx::TensorProto &t,
                                           StringRef what) {
  Type elem = elementType(t.data_type(), what);
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && count > (int64_t(1) << 40) / d))
      throw NodeError{what.str() + " has an invalid dimension " +
                      std::to_string(d)};
    shape.push_back(d);
    count *= d;
  }
  return RankedTensorType::get(shape, elem);
}

ArrayRef<char> GraphImporter::externalData(const onnx::TensorProto &t,
                                           StringRef what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v;
      if (!llvm::to_integer(kv.value(), v, 10) || v < 0)
        throw NodeError{what.str() + " has an invalid external-data " +
                        kv.key() + " '" + kv.value() + "'"};
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    throw NodeError{what.str() + " has external data without a location"};
  if (baseDir.empty())
    throw NodeError{what.str() + " uses external data, which a model read "
                                 "from memory cannot have"};
  if (llvm::sys::path::is_absolute(location) ||
      StringRef(location).contains(".."))
    throw NodeError{what.str() + ": external-data location '" + location +
                    "' must be a relative path inside the model's folder"};
  SmallString<256> path(baseDir);
  llvm::sys::path::append(path, location);
  // Exporters put every tensor in one file: map it once per model.
  std::shared_ptr<llvm::MemoryBuffer> &file = externalFiles[path];
  if (!file) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      throw NodeError{what.str() + ": external data file '" +
                      std::string(path) +
                      "' cannot be read: " + buffer.getError().message()};
    file = std::move(*buffer);
  }
  lastExternalFile = file;
  int64_t size = file->getBufferSize();
  if (length < 0)
    length = size - offset;
  if (offset > size || length > size - offset)
    throw NodeError{what.str() + ": external data file '" + std::string(path) +
                    "' is too short (" + std::to_string(size) +
                    " bytes, need " + std::to_string(offset + length) + ")"};
  return ArrayRef<char>(file->getBufferStart() + offset, length);
}

ElementsAttr GraphImporter::tensorToAttr(const onnx::TensorProto &t,
                                         StringRef what) {
  RankedTensorType type = tensorType(t, what);
  Type elem = type.getElementType();
  int64_t count = type.getNumElements();
  // A view of the data where it already lies; only typed fields are copied.
  std::string typed;
  ArrayRef<char> bytes;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    bytes = externalData(t, what);
  } else if (t.has_raw_data()) {
    bytes = ArrayRef<char>(t.raw_data().data(), t.raw_data().size());
  } else {
    if (typedFieldCount(t) != count)
      throw NodeError{
          what.str() + " holds " + std::to_string(typedFieldCount(t)) +
          " values for shape with " + std::to_string(count) + " elements"};
    typed = typedFieldBytes(t, elem, count);
    bytes = ArrayRef<char>(typed.data(), typed.size());
  }
  int64_t need = count * lop::getStorageBytes(elem);
  if ((int64_t)bytes.size() != need)
    throw NodeError{what.str() + " holds " + std::to_string(bytes.size()) +
                    " bytes, but its shape and type need " +
                    std::to_string(need)};

  if (count <= options.inlineElementLimit) {
    if (elem.isInteger(1)) {
      SmallVector<bool> v;
      for (char c : bytes)
        v.push_back(c != 0);
      return DenseElementsAttr::get(type, v);
    }
    bool splat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, bytes, splat))
      throw NodeError{what.str() + " has data that does not fit its type"};
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  // Large values go to a blob: never through dense attributes in bulk.
  // External data stays where it is mapped (no copy: a model over 2 GB is
  // held once); the blob keeps the mapping alive.
  size_t eb = lop::getStorageBytes(elem);
  if (t.data_location() == onnx::TensorProto::EXTERNAL && lastExternalFile &&
      eb > 0 && reinterpret_cast<uintptr_t>(bytes.data()) % eb == 0) {
    std::shared_ptr<llvm::MemoryBuffer> keep = lastExternalFile;
    AsmResourceBlob blob(
        bytes, eb, [keep](void *, size_t, size_t) mutable { keep.reset(); },
        /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(type, blobKey(t.name()),
                                          std::move(blob));
  }
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64);
  return DenseResourceElementsAttr::get(type, blobKey(t.name()),
                                        std::move(blob));
}

ElementsAttr GraphImporter::initializerToAttr(onnx::TensorProto &t,
                                              StringRef what) {
  // Large raw data moves into the blob (no copy) when it is aligned enough
  // for every element type; anything else takes the copying path, which
  // also reports what is wrong with the tensor.
  constexpr size_t kAlign = alignof(std::max_align_t);
  bool movable =
      t.data_location() != onnx::TensorProto::EXTERNAL && t.has_raw_data() &&
      t.data_type() != onnx::TensorProto::BOOL &&
      (int64_t)t.raw_data().size() > 16 * options.inlineElementLimit &&
      reinterpret_cast<uintptr_t>(t.raw_data().data()) % kAlign == 0;
  if (!movable)
    return tensorToAttr(t, what);
  RankedTensorType type = tensorType(t, what);
  if ((int64_t)t.raw_data().size() !=
      type.getNumElements() * lop::getStorageBytes(type.getElementType()))
    return tensorToAttr(t, what);
  std::string *raw = t.release_raw_data();
  AsmResourceBlob blob(
      ArrayRef<char>(raw->data(), raw->size()), kAlign,
      [raw](void *, size_t, size_t) { delete raw; }, /*dataIsMutable=*/false);
  return DenseResourceElementsAttr::get(type, blobKey(t.name()),
                                        std::move(blob));
}

//===----------------------------------------------------------------------===//
// Values and op creation
//===----------------------------------------------------------------------===//

Value GraphImporter::constant(ElementsAttr value, Type resultType) {
  if (!resultType)
    resultType = value.getType();
  return lop::ConstantOp::create(b, loc, resultType, value,
                                 lop::SparsityAttr());
}

Value GraphImporter::constI64(ArrayRef<int64_t> v, bool scalar) {
  auto type = RankedTensorType::get(
      scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)v.size()},
      b.getI64Type());
  return constant(DenseElementsAttr::get(type, v));
}

Value GraphImporter::optionalInput(const onnx::NodeProto &node, int i) {
  if (i >= node.input_size() || node.input(i).empty())
    return {};
  const std::string &name = node.input(i);
  if (Value v = values.lookup(name))
    return v;
  auto it = initializers.find(name);
  if (it == initializers.end())
    throw NodeError{"input '" + name +
                    "' is not a graph input, an initializer or the output of "
                    "an earlier node"};
  Value v =
      constant(initializerToAttr(*it->second, "initializer '" + name + "'"));
  values[name] = v;
  return v;
}

Value GraphImporter::input(const onnx::NodeProto &node, int i) {
  Value v = optionalInput(node, i);
  if (!v)
    throw NodeError{"expects input #" + std::to_string(i) + ", which is " +
                    (i >= node.input_size() ? "missing" : "empty")};
  return v;
}

void GraphImporter::setOutputs(const onnx::NodeProto &node, ValueRange vals) {
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    if (i >= (int)vals.size())
      throw NodeError{"output #" + std::to_string(i) + " ('" + node.output(i) +
                      "') is not supported"};
    values[node.output(i)] = vals[i];
  }
}

Operation *GraphImporter::create(StringRef name, ValueRange operands,
                                 ArrayRef<NamedAttribute> attrs,
                                 unsigned numResults) {
  OperationState state(loc, ("lop." + name).str());
  state.addOperands(operands);
  state.addAttributes(attrs);
  // Result types are inferred below; NoneType holds their place until then.
  state.addTypes(SmallVector<Type>(numResults, b.getNoneType()));
  Operation *op = b.create(state);
  auto iface = dyn_cast<InferTypeOpInterface>(op);
  if (!iface) {
    op->erase();
    throw NodeError{"lop." + name.str() + " cannot infer its result type"};
  }
  SmallVector<Type> types;
  std::string reason;
  LogicalResult inferred = failure();
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      if (reason.empty())
        reason = d.str();
      return success();
    });
    inferred = iface.inferReturnTypes(
        ctx, loc, op->getOperands(), op->getRawDictionaryAttrs(),
        op->getPropertiesStorage(), op->getRegions(), types);
  }
  if (failed(inferred) || types.size() != numResults) {
    op->erase();
    throw NodeError{reason.empty() ? "operands do not fit lop." + name.str()
                                   : reason};
  }
  for (auto [r, t] : llvm::zip(op->getResults(), types))
    r.setType(t);
  return op;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

/// The tensor type of a graph input or output, or a reason it has none.
static FailureOr<RankedTensorType> valueInfoType(GraphImporter &gi,
                                                 const onnx::ValueInfoProto &vi,
                                                 std::string &reason) {
  if (!vi.type().has_tensor_type()) {
    reason = "is not a tensor (sequences, maps and optionals are unsupported)";
    return failure();
  }
  const auto &tt = vi.type().tensor_type();
  Type elem;
  try {
    elem = gi.elementType(tt.elem_type(), "'" + vi.name() + "'");
  } catch (NodeError &e) {
    reason = "has an unsupported element type " + typeName(tt.elem_type());
    return failure();
  }
  SmallVector<int64_t> dims;
  auto pinned = gi.options.inputShapes.find(vi.name());
  if (pinned != gi.options.inputShapes.end()) {
    for (int64_t d : pinned->second)
      dims.push_back(d < 0 ? ShapedType::kDynamic : d);
    if (tt.has_shape() && tt.shape().dim_size() != (int)dims.size()) {
      reason = "has rank " + std::to_string(tt.shape().dim_size()) +
               " but --input-shape gives " + std::to_string(dims.size()) +
               " dimensions";
      return failure();
    }
  } else {
    if (!tt.has_shape()) {
      reason =
          "has no shape; give one with --input-shape " + vi.name() + "=DIMS";
      return failure();
    }
    for (const auto &d : tt.shape().dim()) {
      dims.push_back(d.has_dim_value() && d.dim_value() >= 0
                         ? d.dim_value()
                         : ShapedType::kDynamic);
    }
  }
  if (gi.options.pinDynamicDims > 0)
    for (int64_t &d : dims)
      if (ShapedType::isDynamic(d))
        d = gi.options.pinDynamicDims;
  return RankedTensorType::get(dims, elem);
}

RankedTensorType GraphImporter::declaredStaticType(const std::string &name) {
  auto it = declared.find(name);
  if (it == declared.end() || !it->second->type().has_tensor_type())
    return {};
  const auto &tt = it->second->type().tensor_type();
  if (!tt.has_shape())
    return {};
  SmallVector<int64_t> dims;
  for (const auto &d : tt.shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() < 0)
      return {};
    dims.push_back(d.dim_value());
  }
  try {
    return RankedTensorType::get(dims, elementType(tt.elem_type(), name));
  } catch (NodeError &) {
    return {};
  }
}

/// Checks a shape the model declares against the one Lopper inferred.
static bool declaredShapeFits(const onnx::ValueInfoProto &vi, Type inferred) {
  auto t = dyn_cast<RankedTensorType>(inferred);
  if (!t || !vi.type().has_tensor_type() ||
      !vi.type().tensor_type().has_shape())
    return true;
  const auto &shape = vi.type().tensor_type().shape();
  if (shape.dim_size() != t.getRank())
    return false;
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto &d = shape.dim(i);
    if (d.has_dim_value() && !t.isDynamicDim(i) &&
        d.dim_value() != t.getDimSize(i))
      return false;
  }
  return true;
}

static std::string shapeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

LogicalResult GraphImporter::importGraph(onnx::GraphProto &graph,
                                         ModuleOp module) {
  for (auto &init : *graph.mutable_initializer())
    initializers[init.name()] = &init;
  // Bound inputs become initializers: checked against the declared input.
  for (const auto &[name, bound] : options.boundInputs) {
    const onnx::ValueInfoProto *decl = nullptr;
    for (const auto &in : graph.input())
      if (in.name() == name && !initializers.count(name))
        decl = &in;
    if (!decl) {
      errors.push_back(fileName + ": --bind-input names '" + name +
                       "', which is not an input of the model");
      return failure();
    }
    const auto &tt = decl->type().tensor_type();
    bool fits = decl->type().has_tensor_type() && tt.elem_type() == bound.dtype;
    if (fits && tt.has_shape()) {
      fits = tt.shape().dim_size() == (int)bound.shape.size();
      for (int i = 0; fits && i < tt.shape().dim_size(); ++i)
        if (tt.shape().dim(i).has_dim_value() &&
            tt.shape().dim(i).dim_value() != bound.shape[i])
          fits = false;
    }
    if (!fits) {
      errors.push_back(fileName + ": --bind-input '" + name +
                       "': the value's type or shape does not match the "
                       "input's declaration");
      return failure();
    }
    onnx::TensorProto &t = boundTensors.emplace_back();
    t.set_name(name);
    t.set_data_type(bound.dtype);
    for (int64_t d : bound.shape)
      t.add_dims(d);
    t.set_raw_data(bound.raw);
    initializers[name] = &t;
  }

  // Every unsupported op at once, before converting anything.
  // Unnamed nodes (common in the text syntax) are named by their index.
  auto label = [&](int i) {
    const auto &node = graph.node(i);
    return node.name().empty() ? "#" + std::to_string(i)
                               : "'" + node.name() + "'";
  };
  // Subgraphs (If, Loop, Scan bodies) are searched too; their nodes are
  // named with the attribute and node that hold them.
  std::vector<std::string> unsupported;
  std::function<void(const onnx::GraphProto &, const std::string &)> scan =
      [&](const onnx::GraphProto &g, const std::string &where) {
        for (int i = 0; i < g.node_size(); ++i) {
          const auto &node = g.node(i);
          std::string name = node.name().empty() ? "#" + std::to_string(i)
                                                 : "'" + node.name() + "'";
          bool defaultDomain =
              node.domain().empty() || node.domain() == "ai.onnx";
          if (!isSupported(converterKey(node)))
            unsupported.push_back(name + " (" +
                                  (defaultDomain ? "" : node.domain() + ".") +
                                  node.op_type() + ")" + where);
          for (const auto &a : node.attribute()) {
            std::string in = " in " + a.name() + " of node " + name + " (" +
                             node.op_type() + ")" + where;
            if (a.has_g())
              scan(a.g(), in);
            for (const auto &sub : a.graphs())
              scan(sub, in);
          }
        }
      };
  scan(graph, "");
  if (!unsupported.empty()) {
    std::string msg = fileName + ": " + std::to_string(unsupported.size()) +
                      " unsupported op" + (unsupported.size() > 1 ? "s" : "") +
                      ": ";
    for (size_t i = 0; i < unsupported.size(); ++i)
      msg += (i ? ", node " : "node ") + unsupported[i];
    errors.push_back(msg);
    return failure();
  }

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  SmallVector<Attribute> dimParams;
  bool anyDimParam = false;
  bool ok = true;
  for (const auto &in : graph.input()) {
    if (initializers.count(in.name()))
      continue; // IR < 4 lists initializers as inputs too.
    std::string reason;
    auto t = valueInfoType(*this, in, reason);
    if (failed(t)) {
      errors.push_back(fileName + ": input '" + in.name() + "' " + reason);
      ok = false;
      continue;
    }
    argTypes.push_back(*t);
    argNames.push_back(in.name());
    // Symbolic dim names ("batch", "seq") name and tie dynamic dims for the
    // code generator.
    SmallVector<Attribute> params;
    auto rt = dyn_cast<RankedTensorType>(*t);
    if (rt && in.type().has_tensor_type() &&
        in.type().tensor_type().has_shape()) {
      const auto &shape = in.type().tensor_type().shape();
      for (int64_t k = 0; k < rt.getRank(); ++k) {
        std::string p;
        if (rt.isDynamicDim(k) && k < shape.dim_size() &&
            shape.dim(k).has_dim_param())
          p = shape.dim(k).dim_param();
        if (!p.empty())
          anyDimParam = true;
        params.push_back(b.getStringAttr(p));
      }
    }
    dimParams.push_back(b.getArrayAttr(params));
  }
  for (const auto &[name, shape] : options.inputShapes)
    if (!llvm::is_contained(argNames, name)) {
      errors.push_back(fileName + ": --input-shape names '" + name +
                       "', which is not an input of the model");
      ok = false;
    }
  if (!ok)
    return failure();

  b.setInsertionPointToEnd(module.getBody());
  auto fnType = b.getFunctionType(argTypes, {});
  auto fn = func::FuncOp::create(b, UnknownLoc::get(ctx), "main", fnType);
  if (anyDimParam)
    fn->setAttr("lop.input_dim_params", b.getArrayAttr(dimParams));
  Block *entry = fn.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    values[name] = entry->getArgument(i);
    fn.setArgAttr(i, "lop.name", b.getStringAttr(name));
  }
  b.setInsertionPointToEnd(entry);

  declared.clear();
  for (const auto &vi : graph.value_info())
    declared[vi.name()] = &vi;
  for (const auto &out : graph.output())
    declared[out.name()] = &out;

  for (int i = 0; i < graph.node_size(); ++i) {
    const auto &node = graph.node(i);
    std::string nodeName = node.name().empty()
                               ? node.op_type() + "_" + std::to_string(i)
                               : node.name();
    loc = NameLoc::get(b.getStringAttr(nodeName),
                       FileLineColLoc::get(ctx, fileName, 0, 0));
    try {
      convertNode(node);
      for (const auto &out : node.output()) {
        auto it = declared.find(out);
        Value v = values.lookup(out);
        if (it != declared.end() && v &&
            !declaredShapeFits(*it->second, v.getType()))
          throw NodeError{"output '" + out +
                          "' is declared with a shape "
                          "that contradicts the inferred " +
                          shapeString(v.getType())};
      }
    } catch (NodeError &e) {
      errors.push_back(fileName + ": node " + label(i) + " (" + node.op_type() +
                       "): " + e.message);
      return failure();
    }
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v) {
      auto init = initializers.find(out.name());
      if (init == initializers.end()) {
        errors.push_back(fileName + ": graph output '" + out.name() + "' " +
                         (sequences.count(out.name())
                              ? "is a sequence; models whose outputs are "
                                "sequences are not supported"
                              : "is produced by no node"));
        return failure();
      }
      try {
        v = constant(initializerToAttr(*init->second,
                                       "initializer '" + out.name() + "'"));
      } catch (NodeError &e) {
        errors.push_back(fileName + ": " + e.message);
        return failure();
      }
    }
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, UnknownLoc::get(ctx), results);
  fn.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    fn.setResultAttr(i, "lop.name", b.getStringAttr(out.name()));
  // Drop what no output needs: nodes whose results are unused, and the
  // integer constants a DequantizeLinear re-typed into quantized weights.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isOpTriviallyDead(&op))
      op.erase();
  return success();
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

/// Parses binary protobuf or the text syntax into `model`.
static LogicalResult parseModel(StringRef buffer, const std::string &file,
                                onnx::ModelProto &model, ImportErrors &errors) {
  // The text syntax starts with '<' after white space and '#' comments.
  StringRef rest = buffer;
  while (true) {
    rest = rest.ltrim(" \t\r\n");
    if (!rest.starts_with("#"))
      break;
    rest = rest.drop_until([](char c) { return c == '\n'; });
  }
  if (rest.starts_with("<")) {
    std::string copy = buffer.str();
    onnx::Status status;
    try {
      status = onnx::OnnxParser::Parse(model, copy.c_str());
    } catch (std::exception &e) {
      errors.push_back(file + ": not a valid ONNX text model: " + e.what());
      return failure();
    }
    if (!status.IsOK()) {
      std::string msg = status.ErrorMessage();
      std::replace(msg.begin(), msg.end(), '\n', ' ');
      errors.push_back(file + ": not a valid ONNX text model: " + msg);
      return failure();
    }
    return success();
  }
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(buffer.data()), buffer.size());
  stream.SetTotalBytesLimit(INT32_MAX);
  if (buffer.empty() || !model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    errors.push_back(file + ": not a valid ONNX model (the protobuf does not "
                            "parse; is the file truncated?)");
    return failure();
  }
  return success();
}

/// Imports a parsed model. Large raw initializers move out of `model` into
/// the module's blobs rather than being copied.
static OwningOpRef<ModuleOp> importModel(onnx::ModelProto &model,
                                         const std::string &file,
                                         StringRef baseDir, MLIRContext *ctx,
                                         const ImportOptions &options,
                                         ImportErrors &errors) {
  ctx->loadDialect<lop::LopDialect, func::FuncDialect, quant::QuantDialect>();
  if (!model.has_graph() || model.graph().node_size() == 0) {
    errors.push_back(file + ": not a valid ONNX model (it has no graph nodes)");
    return {};
  }
  // A model of only ai.onnx.ml (or other) ops imports no default opset; its
  // nodes are then reported as unsupported by the graph importer.
  int64_t opset = -1;
  for (const auto &imp : model.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx")
      opset = imp.version();
  bool usesDefault = llvm::any_of(model.graph().node(), [](const auto &n) {
    return n.domain().empty() || n.domain() == "ai.onnx";
  });
  if (opset < 0 && usesDefault) {
    errors.push_back(file + ": the model uses ONNX ops but imports no "
                            "default-domain opset");
    return {};
  }
  // Opsets 1-6 import through GraphImporter::upgradeLegacy.
  if (opset == 0) {
    errors.push_back(file + ": opset 0 is not an ONNX opset");
    return {};
  }

  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(ctx));
  (*module)->setAttr("lop.opset", b.getI64IntegerAttr(opset));
  (*module)->setAttr("lop.ir_version", b.getI64IntegerAttr(model.ir_version()));
  if (!model.producer_name().empty())
    (*module)->setAttr("lop.producer", b.getStringAttr(model.producer_name()));

  GraphImporter gi(ctx, options, file, baseDir.str(), opset, errors);
  if (failed(gi.importGraph(*model.mutable_graph(), *module)))
    return {};

  std::string reason;
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      if (reason.empty()) {
        reason = d.str();
        if (auto nl = dyn_cast<NameLoc>(d.getLocation()))
          reason = "node '" + nl.getName().str() + "': " + reason;
      }
      return success();
    });
    if (failed(verify(*module))) {
      errors.push_back(file + ": imported model does not verify: " + reason);
      return {};
    }
  }
  return module;
}

OwningOpRef<ModuleOp>
lopper::importOnnxBuffer(StringRef buffer, StringRef displayName,
                         StringRef baseDir, MLIRContext *ctx,
                         const ImportOptions &options, ImportErrors &errors) {
  std::string file = displayName.str();
  onnx::ModelProto model;
  if (failed(parseModel(buffer, file, model, errors)))
    return {};
  return importModel(model, file, baseDir, ctx, options, errors);
}

OwningOpRef<ModuleOp> lopper::importOnnxFile(StringRef path, MLIRContext *ctx,
                                             const ImportOptions &options,
                                             ImportErrors &errors) {
  std::string file = path.str();
  if (llvm::sys::fs::is_directory(path)) {
    errors.push_back(file + ": is a directory, not an ONNX model");
    return {};
  }
  onnx::ModelProto model;
  {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer) {
      errors.push_back(file + ": cannot read: " + buffer.getError().message());
      return {};
    }
    if (failed(parseModel((*buffer)->getBuffer(), file, model, errors)))
      return {};
    // The file's bytes are released here, before the weights move to blobs.
  }
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return importModel(model, file, dir, ctx, options, errors);
}

bool lopper::parseInputShape(StringRef spec, ImportOptions &options,
                             std::string &error) {
  auto [name, dimsText] = spec.rsplit('=');
  if (name.empty() || dimsText.empty() || !spec.contains('=')) {
    error =
        "--input-shape '" + spec.str() +
        "' must look like NAME=1x3x224x224 (? or -1 keeps a dimension dynamic)";
    return false;
  }
  SmallVector<int64_t> dims;
  SmallVector<StringRef> parts;
  dimsText.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p == "?")
      d = -1;
    else if (p.getAsInteger(10, d) || d < -1 || d > (int64_t(1) << 32)) {
      error = "--input-shape '" + spec.str() + "': '" + p.str() +
              "' is not a dimension";
      return false;
    }
    dims.push_back(d);
  }
  options.inputShapes[name.str()] = dims;
  return true;
}

bool lopper::parseInputShapes(ArrayRef<std::string> specs,
                              ImportOptions &options, std::string &error) {
  return llvm::all_of(specs, [&](const std::string &spec) {
    return parseInputShape(spec, options, error);
  });
}

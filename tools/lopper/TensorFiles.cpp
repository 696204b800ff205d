//===- TensorFiles.cpp - .npy and ONNX TensorProto files ------------------===//
//
// Built with -fexceptions (protobuf needs them); nothing here throws or
// catches: ParseFromArray and SerializeToString report failure as false.
//
//===----------------------------------------------------------------------===//

#include "TensorFiles.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SwapByteOrder.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

using namespace llvm;

namespace lopper::tools {

//===----------------------------------------------------------------------===//
// Types and shapes
//===----------------------------------------------------------------------===//

std::optional<DType> dtypeFromInt(int64_t value) {
  switch (value) {
  case 1:
  case 2:
  case 3:
  case 4:
  case 5:
  case 6:
  case 7:
  case 9:
  case 10:
  case 11:
  case 12:
  case 13:
  case 16:
    return static_cast<DType>(value);
  default:
    return std::nullopt;
  }
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::U8:
  case DType::I8:
  case DType::Bool:
    return 1;
  case DType::U16:
  case DType::I16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::I64:
  case DType::U64:
  case DType::F64:
    return 8;
  case DType::Undefined:
    break;
  }
  return 0;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::U8:
    return "u8";
  case DType::I8:
    return "i8";
  case DType::U16:
    return "u16";
  case DType::I16:
    return "i16";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::Bool:
    return "bool";
  case DType::F16:
    return "f16";
  case DType::F64:
    return "f64";
  case DType::U32:
    return "u32";
  case DType::U64:
    return "u64";
  case DType::BF16:
    return "bf16";
  case DType::Undefined:
    break;
  }
  return "undefined";
}

bool isFloatDType(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F64 || dtype == DType::F16 ||
         dtype == DType::BF16;
}

std::optional<int64_t> numElements(ArrayRef<int64_t> shape,
                                   size_t elementSize) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return std::nullopt;
    n *= d;
  }
  if (elementSize > 1 &&
      n > std::numeric_limits<int64_t>::max() / int64_t(elementSize))
    return std::nullopt;
  return n;
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ",";
    s += std::to_string(d);
  }
  return s + "]";
}

int64_t HostTensor::numElements() const {
  size_t size = dtypeSize(dtype);
  return size ? int64_t(data.size() / size) : 0;
}

static double halfToDouble(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v;
  if (exponent == 0)
    v = std::ldexp(double(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? std::numeric_limits<double>::quiet_NaN()
                 : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(double(mantissa + 1024), exponent - 25);
  return (h & 0x8000) ? -v : v;
}

template <typename T> static T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double HostTensor::elementAsDouble(int64_t i) const {
  const uint8_t *p = data.data() + size_t(i) * dtypeSize(dtype);
  switch (dtype) {
  case DType::F32:
    return load<float>(p);
  case DType::F64:
    return load<double>(p);
  case DType::F16:
    return halfToDouble(load<uint16_t>(p));
  case DType::BF16: {
    uint32_t bits = uint32_t(load<uint16_t>(p)) << 16;
    return double(load<float>(reinterpret_cast<const uint8_t *>(&bits)));
  }
  case DType::U8:
  case DType::Bool:
    return *p;
  case DType::I8:
    return load<int8_t>(p);
  case DType::U16:
    return load<uint16_t>(p);
  case DType::I16:
    return load<int16_t>(p);
  case DType::I32:
    return load<int32_t>(p);
  case DType::U32:
    return load<uint32_t>(p);
  case DType::I64:
    return double(load<int64_t>(p));
  case DType::U64:
    return double(load<uint64_t>(p));
  case DType::Undefined:
    break;
  }
  return 0;
}

bool makeHostTensor(DType dtype, ArrayRef<int64_t> shape, HostTensor &out,
                    std::string &error) {
  size_t size = dtypeSize(dtype);
  if (!size) {
    error = "unsupported element type " + std::to_string(int(dtype));
    return false;
  }
  std::optional<int64_t> n = numElements(shape, size);
  if (!n || uint64_t(*n) * size > uint64_t(SIZE_MAX / 2)) {
    error = "shape " + shapeString(shape) + " of " + dtypeName(dtype) +
            " is not a valid tensor size";
    return false;
  }
  out.dtype = dtype;
  out.shape.assign(shape.begin(), shape.end());
  out.data.assign(size_t(*n) * size, 0);
  return true;
}

/// Sets `error` to "FILE: MSG" and returns false.
static bool fail(StringRef fileName, const Twine &msg, std::string &error) {
  error = (fileName + ": " + msg).str();
  return false;
}

static std::string bytesNeeded(ArrayRef<int64_t> shape, DType dtype) {
  return "shape " + shapeString(shape) + " of " + dtypeName(dtype) + " needs " +
         std::to_string(uint64_t(*numElements(shape)) * dtypeSize(dtype)) +
         " bytes";
}

std::string TensorSig::str() const {
  std::string s = std::string(dtypeName(dtype)) + " [";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      s += ",";
    if (dims[i] >= 0)
      s += std::to_string(dims[i]);
    else
      s += dimNames[i].empty() ? "?" : dimNames[i];
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

static constexpr char npyMagic[] = "\x93NUMPY";
static constexpr size_t npyMagicSize = 6;

static std::optional<DType> dtypeFromDescr(StringRef descr) {
  // One-byte types have no byte order: NumPy writes '|', accept '<' too.
  if (descr == "|b1" || descr == "<b1")
    return DType::Bool;
  if (descr == "|i1" || descr == "<i1")
    return DType::I8;
  if (descr == "|u1" || descr == "<u1")
    return DType::U8;
  return StringSwitch<std::optional<DType>>(descr)
      .Case("<f2", DType::F16)
      .Case("<f4", DType::F32)
      .Case("<f8", DType::F64)
      .Case("<i2", DType::I16)
      .Case("<u2", DType::U16)
      .Case("<i4", DType::I32)
      .Case("<u4", DType::U32)
      .Case("<i8", DType::I64)
      .Case("<u8", DType::U64)
      .Default(std::nullopt);
}

static const char *descrFor(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::U8:
    return "|u1";
  case DType::I8:
    return "|i1";
  case DType::U16:
    return "<u2";
  case DType::I16:
    return "<i2";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  case DType::Bool:
    return "|b1";
  case DType::F16:
    return "<f2";
  case DType::F64:
    return "<f8";
  case DType::U32:
    return "<u4";
  case DType::U64:
    return "<u8";
  case DType::BF16:
  case DType::Undefined:
    break;
  }
  return nullptr;
}

namespace {
/// A parser for the Python dict literal of a .npy header, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class NpyHeaderParser {
public:
  explicit NpyHeaderParser(StringRef text) : text(text) {}

  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &msg) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return bad("the header is not a Python dict", msg);
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return bad("expected a quoted key in the header", msg);
      skipSpace();
      if (!consume(':'))
        return bad("expected ':' after '" + key + "' in the header", msg);
      skipSpace();
      if (key == "descr") {
        if (haveDescr)
          return bad("'descr' appears twice in the header", msg);
        haveDescr = true;
        if (peek() == '[')
          return bad("structured dtypes are not supported", msg);
        if (!parseString(descr))
          return bad("'descr' is not a string", msg);
      } else if (key == "fortran_order") {
        if (haveOrder)
          return bad("'fortran_order' appears twice in the header", msg);
        haveOrder = true;
        if (consumeWord("True"))
          fortranOrder = true;
        else if (consumeWord("False"))
          fortranOrder = false;
        else
          return bad("'fortran_order' is not True or False", msg);
      } else if (key == "shape") {
        if (haveShape)
          return bad("'shape' appears twice in the header", msg);
        haveShape = true;
        if (!parseShape(shape, msg))
          return false;
      } else {
        return bad("unexpected key '" + key + "' in the header", msg);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return bad("expected ',' or '}' in the header", msg);
    }
    skipSpace();
    if (pos != text.size())
      return bad("unexpected text after the header dict", msg);
    if (!haveDescr)
      return bad("the header has no 'descr'", msg);
    if (!haveOrder)
      return bad("the header has no 'fortran_order'", msg);
    if (!haveShape)
      return bad("the header has no 'shape'", msg);
    return true;
  }

private:
  StringRef text;
  size_t pos = 0;

  static bool bad(const Twine &what, std::string &msg) {
    msg = what.str();
    return false;
  }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  bool consumeWord(StringRef word) {
    if (!text.substr(pos).starts_with(word))
      return false;
    pos += word.size();
    return true;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool parseString(std::string &out) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    size_t end = text.find(quote, pos + 1);
    if (end == StringRef::npos)
      return false;
    out = text.slice(pos + 1, end).str();
    if (StringRef(out).contains('\\'))
      return false;
    pos = end + 1;
    return true;
  }
  bool parseInt(int64_t &out) {
    size_t start = pos;
    uint64_t v = 0;
    while (pos < text.size() && isDigit(text[pos])) {
      if (v > (uint64_t(1) << 62) / 10)
        return false;
      v = v * 10 + uint64_t(text[pos] - '0');
      ++pos;
    }
    if (pos == start)
      return false;
    consume('L'); // Python 2 era headers: (3L, 4L)
    out = int64_t(v);
    return true;
  }
  bool parseShape(std::vector<int64_t> &shape, std::string &msg) {
    if (!consume('('))
      return bad("'shape' is not a tuple", msg);
    shape.clear();
    skipSpace();
    if (consume(')'))
      return true;
    while (true) {
      skipSpace();
      int64_t d;
      if (!parseInt(d))
        return bad("'shape' holds something other than a dimension size "
                   "(a non-negative integer below 2^62)",
                   msg);
      shape.push_back(d);
      skipSpace();
      if (consume(')'))
        return true;
      if (!consume(','))
        return bad("'shape' is not a tuple of integers", msg);
      skipSpace();
      if (consume(')'))
        return true;
    }
  }
};
} // namespace

bool parseNpy(StringRef bytes, StringRef fileName, HostTensor &out,
              std::string &error) {
  if (bytes.size() < npyMagicSize ||
      bytes.substr(0, npyMagicSize) != StringRef(npyMagic, npyMagicSize))
    return fail(fileName, "not a .npy file (bad magic)", error);
  if (bytes.size() < 10)
    return fail(fileName, "truncated .npy header", error);
  unsigned major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  size_t headerLen, headerStart;
  const uint8_t *p = reinterpret_cast<const uint8_t *>(bytes.data());
  if (major == 1) {
    headerLen = support::endian::read16le(p + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail(fileName, "truncated .npy header", error);
    headerLen = support::endian::read32le(p + 8);
    headerStart = 12;
  } else {
    return fail(fileName,
                "unsupported .npy format version " + Twine(major) + "." +
                    Twine(minor) + " (1.0, 2.0 and 3.0 are supported)",
                error);
  }
  if (headerLen > bytes.size() - headerStart)
    return fail(fileName,
                "truncated .npy header (it declares " + Twine(headerLen) +
                    " bytes but the file has " +
                    Twine(bytes.size() - headerStart) + " after the magic)",
                error);
  StringRef header = bytes.substr(headerStart, headerLen);
  std::string descr, msg;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  if (!NpyHeaderParser(header).parse(descr, fortranOrder, shape, msg))
    return fail(fileName, "malformed .npy header: " + msg, error);
  if (fortranOrder)
    return fail(fileName,
                "fortran_order is True; only C-order arrays are supported "
                "(save np.ascontiguousarray(a))",
                error);
  std::optional<DType> dtype = dtypeFromDescr(descr);
  if (!dtype) {
    if (descr.size() == 3 && descr[0] == '>')
      return fail(fileName, "big-endian dtype '" + descr + "' is not supported",
                  error);
    return fail(fileName,
                "unsupported dtype '" + descr +
                    "' (supported: <f2 <f4 <f8 |i1 |u1 <i2 <u2 <i4 <u4 <i8 "
                    "<u8 |b1)",
                error);
  }
  size_t size = dtypeSize(*dtype);
  std::optional<int64_t> n = numElements(shape, size);
  if (!n)
    return fail(fileName, "shape " + shapeString(shape) + " is too large",
                error);
  uint64_t needed = uint64_t(*n) * size;
  uint64_t have = bytes.size() - headerStart - headerLen;
  if (have < needed)
    return fail(fileName,
                "truncated data: " + bytesNeeded(shape, *dtype) +
                    " but the file has " + Twine(have),
                error);
  if (have > needed)
    return fail(fileName,
                "size mismatch: " + bytesNeeded(shape, *dtype) +
                    " but the file has " + Twine(have) + " (" +
                    Twine(have - needed) + " extra)",
                error);
  out.dtype = *dtype;
  out.shape = std::move(shape);
  const uint8_t *data = p + headerStart + headerLen;
  out.data.assign(data, data + needed);
  return true;
}

bool serializeNpy(const HostTensor &tensor, std::string &out,
                  std::string &error) {
  const char *descr = descrFor(tensor.dtype);
  if (!descr) {
    error = std::string(dtypeName(tensor.dtype)) +
            " tensors cannot be stored in .npy (use .pb)";
    return false;
  }
  std::string dict;
  raw_string_ostream os(dict);
  os << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
  for (auto [i, d] : llvm::enumerate(tensor.shape))
    os << (i ? ", " : "") << d;
  if (tensor.shape.size() == 1)
    os << ",";
  os << "), }";
  // Pad with spaces and a final newline so that the data starts at a
  // multiple of 64 bytes, as NumPy does.
  size_t prefix = npyMagicSize + 2 + 2;
  size_t total = prefix + dict.size() + 1;
  bool v2 = false;
  size_t padded = alignTo(total, 64);
  if (padded - prefix > 0xffff) {
    v2 = true;
    prefix += 2;
    padded = alignTo(prefix + dict.size() + 1, 64);
  }
  dict.append(padded - prefix - dict.size() - 1, ' ');
  dict += '\n';
  out.clear();
  out.reserve(padded + tensor.data.size());
  out.append(npyMagic, npyMagicSize);
  out += char(v2 ? 2 : 1);
  out += char(0);
  uint32_t len = uint32_t(dict.size());
  out += char(len & 0xff);
  out += char((len >> 8) & 0xff);
  if (v2) {
    out += char((len >> 16) & 0xff);
    out += char((len >> 24) & 0xff);
  }
  out += dict;
  out.append(reinterpret_cast<const char *>(tensor.data.data()),
             tensor.data.size());
  return true;
}

//===----------------------------------------------------------------------===//
// TensorProto
//===----------------------------------------------------------------------===//

static std::string onnxTypeName(int32_t type) {
  if (onnx::TensorProto_DataType_IsValid(type)) {
    const std::string &name = onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(type));
    if (!name.empty())
      return name + " (" + std::to_string(type) + ")";
  }
  return "type " + std::to_string(type);
}

template <typename T, typename Field>
static bool copyTyped(const Field &values, HostTensor &out, int64_t lo,
                      uint64_t hi, StringRef fieldName, StringRef fileName,
                      std::string &error) {
  for (int i = 0, e = values.size(); i < e; ++i) {
    auto v = values.Get(i);
    using V = decltype(v);
    if constexpr (std::is_integral_v<V>) {
      bool tooLow = std::is_signed_v<V> && int64_t(v) < lo;
      bool tooHigh = v > 0 && uint64_t(v) > hi;
      if (tooLow || tooHigh)
        return fail(fileName,
                    fieldName + "[" + Twine(i) + "] = " + std::to_string(v) +
                        " does not fit in " + dtypeName(out.dtype),
                    error);
    }
    T t = static_cast<T>(v);
    std::memcpy(out.data.data() + size_t(i) * sizeof(T), &t, sizeof(T));
  }
  return true;
}

bool parseTensorProto(StringRef bytes, StringRef fileName, HostTensor &out,
                      std::string &error, std::string *name) {
  if (bytes.size() > size_t(INT_MAX))
    return fail(fileName, "too large for a TensorProto (over 2 GiB)", error);
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), int(bytes.size())))
    return fail(fileName,
                "not a valid ONNX TensorProto (the protobuf does not parse; "
                "is the file truncated?)",
                error);
  if (proto.has_segment())
    return fail(fileName, "segmented TensorProtos are not supported", error);
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
    return fail(fileName, "TensorProtos with external data are not supported",
                error);
  if (!proto.has_data_type() ||
      proto.data_type() == onnx::TensorProto_DataType_UNDEFINED)
    return fail(fileName, "the TensorProto has no data_type", error);
  std::optional<DType> dtype = dtypeFromInt(proto.data_type());
  if (!dtype)
    return fail(fileName,
                "unsupported element type " + onnxTypeName(proto.data_type()),
                error);
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0)
      return fail(fileName, "negative dimension in dims " + shapeString(shape),
                  error);
  // Every element takes at least one byte of the file (raw or typed
  // fields), so dims that claim more elements than the file has bytes are
  // wrong: say so before allocating anything for them.
  std::optional<int64_t> claimed = numElements(shape);
  if (claimed && *claimed > int64_t(bytes.size()))
    return fail(fileName,
                "dims " + shapeString(shape) + " claim " + Twine(*claimed) +
                    " elements but the file has only " + Twine(bytes.size()) +
                    " bytes",
                error);
  std::string msg;
  if (!makeHostTensor(*dtype, shape, out, msg))
    return fail(fileName, msg, error);
  int64_t n = *numElements(shape);
  std::string typeName = onnxTypeName(proto.data_type());

  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (raw.size() != out.data.size())
      return fail(fileName,
                  (raw.size() < out.data.size() ? "truncated raw_data: "
                                                : "size mismatch: ") +
                      bytesNeeded(shape, *dtype) + " but raw_data has " +
                      Twine(raw.size()),
                  error);
    if (!raw.empty()) // an empty tensor has no buffer to copy into
      std::memcpy(out.data.data(), raw.data(), raw.size());
  } else {
    // The typed field each element type keeps its values in.
    StringRef field;
    int64_t count = 0;
    switch (*dtype) {
    case DType::F32:
      field = "float_data";
      count = proto.float_data_size();
      break;
    case DType::F64:
      field = "double_data";
      count = proto.double_data_size();
      break;
    case DType::I64:
      field = "int64_data";
      count = proto.int64_data_size();
      break;
    case DType::U32:
    case DType::U64:
      field = "uint64_data";
      count = proto.uint64_data_size();
      break;
    default:
      field = "int32_data";
      count = proto.int32_data_size();
      break;
    }
    if (count != n)
      return fail(fileName,
                  "size mismatch: a " + typeName + " tensor of shape " +
                      shapeString(shape) + " needs " + Twine(n) +
                      " values in " + field + " (or raw_data) but " + field +
                      " has " + Twine(count),
                  error);
    bool ok = true;
    switch (*dtype) {
    case DType::F32:
      ok = copyTyped<float>(proto.float_data(), out, 0, 0, field, fileName,
                            error);
      break;
    case DType::F64:
      ok = copyTyped<double>(proto.double_data(), out, 0, 0, field, fileName,
                             error);
      break;
    case DType::I64:
      ok = copyTyped<int64_t>(proto.int64_data(), out, INT64_MIN, INT64_MAX,
                              field, fileName, error);
      break;
    case DType::U32:
      ok = copyTyped<uint32_t>(proto.uint64_data(), out, 0, UINT32_MAX, field,
                               fileName, error);
      break;
    case DType::U64:
      ok = copyTyped<uint64_t>(proto.uint64_data(), out, 0, UINT64_MAX, field,
                               fileName, error);
      break;
    case DType::I32:
      ok = copyTyped<int32_t>(proto.int32_data(), out, INT32_MIN, INT32_MAX,
                              field, fileName, error);
      break;
    case DType::I16:
      ok = copyTyped<int16_t>(proto.int32_data(), out, INT16_MIN, INT16_MAX,
                              field, fileName, error);
      break;
    case DType::I8:
      ok = copyTyped<int8_t>(proto.int32_data(), out, INT8_MIN, INT8_MAX, field,
                             fileName, error);
      break;
    case DType::U16:
    case DType::F16:
    case DType::BF16: // the 16 bits of each value
      ok = copyTyped<uint16_t>(proto.int32_data(), out, 0, UINT16_MAX, field,
                               fileName, error);
      break;
    case DType::U8:
      ok = copyTyped<uint8_t>(proto.int32_data(), out, 0, UINT8_MAX, field,
                              fileName, error);
      break;
    case DType::Bool:
      ok = copyTyped<uint8_t>(proto.int32_data(), out, 0, 1, field, fileName,
                              error);
      break;
    case DType::Undefined:
      break;
    }
    if (!ok)
      return false;
  }
  if (name)
    *name = proto.name();
  return true;
}

bool serializeTensorProto(const HostTensor &tensor, StringRef name,
                          std::string &out, std::string &error) {
  if (!dtypeSize(tensor.dtype)) {
    error = "cannot serialize a tensor without an element type";
    return false;
  }
  onnx::TensorProto proto;
  for (int64_t d : tensor.shape)
    proto.add_dims(d);
  proto.set_data_type(int32_t(tensor.dtype));
  proto.set_name(name.str());
  proto.set_raw_data(tensor.data.data(), tensor.data.size());
  out.clear();
  if (!proto.SerializeToString(&out)) {
    error = "cannot serialize the TensorProto (is it over 2 GiB?)";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

std::optional<TensorFileFormat> tensorFileFormat(StringRef path) {
  StringRef ext = sys::path::extension(path);
  if (ext.equals_insensitive(".npy"))
    return TensorFileFormat::Npy;
  if (ext.equals_insensitive(".pb"))
    return TensorFileFormat::Pb;
  return std::nullopt;
}

bool readTensorFile(StringRef path, HostTensor &out, std::string &error) {
  std::optional<TensorFileFormat> format = tensorFileFormat(path);
  if (!format)
    return fail(path, "unknown tensor file type (expected a .npy or .pb file)",
                error);
  if (sys::fs::is_directory(path))
    return fail(path, "is a directory, not a tensor file", error);
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message(), error);
  StringRef bytes = (*buffer)->getBuffer();
  if (*format == TensorFileFormat::Npy)
    return parseNpy(bytes, path, out, error);
  return parseTensorProto(bytes, path, out, error);
}

bool writeFileAtomically(StringRef path, StringRef bytes, std::string &error) {
  SmallString<256> tmp;
  int fd;
  if (std::error_code ec =
          sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, tmp))
    return fail(path, "cannot create: " + ec.message(), error);
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      sys::fs::remove(tmp);
      return fail(path, "cannot write: " + msg, error);
    }
  }
  if (std::error_code ec = sys::fs::rename(tmp, path)) {
    sys::fs::remove(tmp);
    return fail(path, "cannot write: " + ec.message(), error);
  }
  return true;
}

bool writeTensorFile(StringRef path, TensorFileFormat format,
                     const HostTensor &tensor, StringRef name,
                     std::string &error) {
  std::string bytes, msg;
  bool ok = format == TensorFileFormat::Npy
                ? serializeNpy(tensor, bytes, msg)
                : serializeTensorProto(tensor, name, bytes, msg);
  if (!ok)
    return fail(path, msg, error);
  return writeFileAtomically(path, bytes, error);
}

//===----------------------------------------------------------------------===//
// File names
//===----------------------------------------------------------------------===//

std::vector<std::string> safeFileStems(ArrayRef<std::string> names) {
  std::vector<std::string> stems;
  StringSet<> used;
  for (const std::string &name : names) {
    std::string stem;
    for (char c : name)
      stem += (isAlnum(c) || c == '_' || c == '-' || c == '.') ? c : '_';
    if (stem.empty())
      stem = "_";
    if (stem[0] == '.')
      stem[0] = '_';
    if (stem.size() > 200)
      stem.resize(200);
    std::string unique = stem;
    for (int k = 2; used.contains(unique); ++k)
      unique = stem + "_" + std::to_string(k);
    used.insert(unique);
    stems.push_back(std::move(unique));
  }
  return stems;
}

//===----------------------------------------------------------------------===//
// Random inputs
//===----------------------------------------------------------------------===//

uint64_t SplitMix64::next() {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static constexpr double maxExactInt = 9007199254740992.0; // 2^53

static void integerLimits(DType dtype, double &lo, double &hi) {
  switch (dtype) {
  case DType::U8:
    lo = 0, hi = UINT8_MAX;
    return;
  case DType::I8:
    lo = INT8_MIN, hi = INT8_MAX;
    return;
  case DType::U16:
    lo = 0, hi = UINT16_MAX;
    return;
  case DType::I16:
    lo = INT16_MIN, hi = INT16_MAX;
    return;
  case DType::I32:
    lo = INT32_MIN, hi = INT32_MAX;
    return;
  case DType::U32:
    lo = 0, hi = UINT32_MAX;
    return;
  case DType::U64:
    lo = 0, hi = maxExactInt;
    return;
  default: // i64, bool: bounds beyond 2^53 are refused elsewhere
    lo = -maxExactInt, hi = maxExactInt;
    return;
  }
}

bool checkRandomRange(DType dtype, const RandomRange &range,
                      std::string &error) {
  if (!(range.lo < range.hi)) {
    error = "the range is empty (LO must be below HI)";
    return false;
  }
  if (isFloatDType(dtype) || dtype == DType::Bool)
    return true;
  if (range.lo != std::floor(range.lo) || range.hi != std::floor(range.hi)) {
    error = std::string(dtypeName(dtype)) + " inputs need integer bounds";
    return false;
  }
  double lo, hi;
  integerLimits(dtype, lo, hi);
  if (range.lo < lo || range.hi - 1 > hi || std::fabs(range.lo) > maxExactInt ||
      std::fabs(range.hi) > maxExactInt) {
    error = "[" + std::to_string(int64_t(range.lo)) + ", " +
            std::to_string(int64_t(range.hi)) + ") does not fit in " +
            dtypeName(dtype);
    return false;
  }
  return true;
}

static uint16_t floatToHalfBits(float f) {
  // Round to nearest even; the values drawn here are normal or zero.
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exponent = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return uint16_t(sign | 0x7c00 | (mantissa ? 0x200 : 0));
  if (exponent >= 31)
    return uint16_t(sign | 0x7c00);
  if (exponent <= 0) {
    if (exponent < -10)
      return uint16_t(sign);
    mantissa |= 0x800000;
    uint32_t shift = uint32_t(14 - exponent);
    uint32_t half = mantissa >> shift;
    uint32_t rem = mantissa & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(exponent) << 10) | (mantissa >> 13);
  uint32_t rem = mantissa & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is right
  return uint16_t(sign | half);
}

static uint16_t floatToBF16Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return uint16_t((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

template <typename T> static void store(uint8_t *p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

static void storeFloat(DType dtype, uint8_t *p, double v) {
  switch (dtype) {
  case DType::F32:
    store<float>(p, float(v));
    break;
  case DType::F64:
    store<double>(p, v);
    break;
  case DType::F16:
    store<uint16_t>(p, floatToHalfBits(float(v)));
    break;
  case DType::BF16:
    store<uint16_t>(p, floatToBF16Bits(float(v)));
    break;
  default:
    break;
  }
}

static void storeInt(DType dtype, uint8_t *p, int64_t v) {
  switch (dtype) {
  case DType::U8:
  case DType::Bool:
    store<uint8_t>(p, uint8_t(v));
    break;
  case DType::I8:
    store<int8_t>(p, int8_t(v));
    break;
  case DType::U16:
    store<uint16_t>(p, uint16_t(v));
    break;
  case DType::I16:
    store<int16_t>(p, int16_t(v));
    break;
  case DType::I32:
    store<int32_t>(p, int32_t(v));
    break;
  case DType::U32:
    store<uint32_t>(p, uint32_t(v));
    break;
  case DType::I64:
    store<int64_t>(p, v);
    break;
  case DType::U64:
    store<uint64_t>(p, uint64_t(v));
    break;
  default:
    break;
  }
}

/// Significand bits (with the implicit one) of a float type.
static int significandBits(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return 53;
  case DType::F16:
    return 11;
  case DType::BF16:
    return 8;
  default:
    return 24;
  }
}

void fillRandom(HostTensor &tensor, SplitMix64 &rng,
                const std::optional<RandomRange> &range) {
  size_t size = dtypeSize(tensor.dtype);
  int64_t n = tensor.numElements();
  uint8_t *p = tensor.data.data();
  DType dtype = tensor.dtype;
  if (dtype == DType::Bool) {
    for (int64_t i = 0; i < n; ++i)
      p[i] = uint8_t(rng.next() >> 63);
    return;
  }
  if (isFloatDType(dtype)) {
    if (!range) {
      // k = the top p+1 bits of the draw, value = k * 2^-p - 1: exactly
      // representable in the type and uniform over [-1, 1).
      int bits = significandBits(dtype);
      for (int64_t i = 0; i < n; ++i) {
        uint64_t k = rng.next() >> (63 - bits);
        storeFloat(dtype, p + size_t(i) * size,
                   std::ldexp(double(k), -bits) - 1.0);
      }
      return;
    }
    double span = range->hi - range->lo;
    for (int64_t i = 0; i < n; ++i) {
      double u = std::ldexp(double(rng.next() >> 11), -53);
      storeFloat(dtype, p + size_t(i) * size, range->lo + u * span);
    }
    return;
  }
  int64_t lo = range ? int64_t(range->lo) : 0;
  uint64_t span = range ? uint64_t(int64_t(range->hi) - lo) : 10;
  for (int64_t i = 0; i < n; ++i) {
    // Lemire's multiply-shift: floor(draw * span / 2^64).
    uint64_t offset =
        uint64_t((static_cast<unsigned __int128>(rng.next()) * span) >> 64);
    storeInt(dtype, p + size_t(i) * size, lo + int64_t(offset));
  }
}

bool parseRandomRange(StringRef text, RandomRange &out, std::string &error) {
  auto [loText, hiText] = text.split(',');
  double lo, hi;
  if (!text.contains(',') || loText.trim().getAsDouble(lo) ||
      hiText.trim().getAsDouble(hi) || !std::isfinite(lo) ||
      !std::isfinite(hi)) {
    error = "'" + text.str() + "' must look like LO,HI (two numbers)";
    return false;
  }
  if (!(lo < hi)) {
    error = "'" + text.str() + "' is empty (LO must be below HI)";
    return false;
  }
  out.lo = lo;
  out.hi = hi;
  return true;
}

//===----------------------------------------------------------------------===//
// Comparisons
//===----------------------------------------------------------------------===//

bool compareTensors(const HostTensor &actual, const HostTensor &expected,
                    Agreement &out, std::string &error) {
  if (actual.shape != expected.shape) {
    error = "shapes differ: " + shapeString(actual.shape) + " vs " +
            shapeString(expected.shape);
    return false;
  }
  out = Agreement();
  double diff2 = 0, ref2 = 0, act2 = 0, dot = 0;
  for (int64_t i = 0, n = actual.numElements(); i < n; ++i) {
    double a = actual.elementAsDouble(i), e = expected.elementAsDouble(i);
    if (!std::isfinite(a) || !std::isfinite(e)) {
      if ((std::isnan(a) && std::isnan(e)) || a == e)
        continue;
      ++out.nonFinite;
      continue;
    }
    double d = std::fabs(a - e);
    out.maxAbs = std::max(out.maxAbs, d);
    diff2 += d * d;
    ref2 += e * e;
    act2 += a * a;
    dot += a * e;
  }
  out.relL2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  out.cosine = (ref2 > 0 && act2 > 0) ? dot / std::sqrt(ref2 * act2)
                                      : (ref2 == act2 ? 1.0 : 0.0);
  return true;
}

} // namespace lopper::tools

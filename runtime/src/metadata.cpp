// Metadata text parser and polynomial evaluator (format in artifact_abi.h).
#include "internal.h"

#include <algorithm>

namespace lopper {
namespace rt {

//===--- Polynomials --------------------------------------------------------//

bool parseInt64(std::string_view text, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && text[i] == '-') {
    neg = true;
    ++i;
  }
  if (i == text.size())
    return false;
  // Accumulate negatively so that INT64_MIN parses.
  int64_t v = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9')
      return false;
    if (__builtin_mul_overflow(v, 10, &v) ||
        __builtin_sub_overflow(v, c - '0', &v))
      return false;
  }
  if (!neg) {
    if (v == INT64_MIN)
      return false;
    v = -v;
  }
  *out = v;
  return true;
}

bool parsePoly(std::string_view text, size_t numSyms, Poly *out,
               std::string *err) {
  Poly p;
  if (text.empty()) {
    *err = "empty polynomial";
    return false;
  }
  size_t pos = 0;
  while (true) {
    size_t plus = text.find('+', pos);
    std::string_view term =
        text.substr(pos, plus == std::string_view::npos ? plus : plus - pos);
    if (term.empty()) {
      *err = format("empty term in polynomial '%.*s'",
                    static_cast<int>(text.size()), text.data());
      return false;
    }
    Term t;
    size_t fpos = 0;
    while (true) {
      size_t star = term.find('*', fpos);
      std::string_view factor = term.substr(
          fpos, star == std::string_view::npos ? star : star - fpos);
      if (!factor.empty() && factor[0] == 's') {
        int64_t idx;
        if (factor.size() < 2 || factor[1] == '-' ||
            !parseInt64(factor.substr(1), &idx)) {
          *err = format("bad factor '%.*s' in polynomial",
                        static_cast<int>(factor.size()), factor.data());
          return false;
        }
        if (static_cast<uint64_t>(idx) >= numSyms) {
          *err = format("symbol s%lld out of range (the model has %zu)",
                        static_cast<long long>(idx), numSyms);
          return false;
        }
        t.syms.push_back(static_cast<uint32_t>(idx));
      } else {
        int64_t v;
        if (!parseInt64(factor, &v)) {
          *err = format("bad factor '%.*s' in polynomial",
                        static_cast<int>(factor.size()), factor.data());
          return false;
        }
        if (__builtin_mul_overflow(t.coef, v, &t.coef)) {
          *err = "integer overflow in polynomial";
          return false;
        }
      }
      if (star == std::string_view::npos)
        break;
      fpos = star + 1;
    }
    std::sort(t.syms.begin(), t.syms.end());
    p.terms.push_back(std::move(t));
    if (plus == std::string_view::npos)
      break;
    pos = plus + 1;
  }
  *out = std::move(p);
  return true;
}

bool Poly::eval(const int64_t *syms, int64_t *out) const {
  int64_t sum = 0;
  for (const Term &t : terms) {
    int64_t v = t.coef;
    for (uint32_t s : t.syms)
      if (__builtin_mul_overflow(v, syms[s], &v))
        return false;
    if (__builtin_add_overflow(sum, v, &sum))
      return false;
  }
  *out = sum;
  return true;
}

bool Poly::isConstant(int64_t *value) const {
  for (const Term &t : terms)
    if (!t.syms.empty())
      return false;
  return eval(nullptr, value);
}

int Poly::singleSymbol() const {
  if (terms.size() == 1 && terms[0].coef == 1 && terms[0].syms.size() == 1)
    return static_cast<int>(terms[0].syms[0]);
  return -1;
}

std::string Poly::str(const std::vector<std::string> &symNames) const {
  if (terms.empty())
    return "0";
  std::string s;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Term &t = terms[i];
    int64_t c = t.coef;
    if (i > 0) {
      if (c < 0 && c != INT64_MIN) {
        s += '-';
        c = -c;
      } else {
        s += '+';
      }
    }
    bool first = true;
    if (c != 1 || t.syms.empty()) {
      if (c == -1 && !t.syms.empty())
        s += '-';
      else {
        s += std::to_string(c);
        first = false;
      }
    }
    for (uint32_t sym : t.syms) {
      if (!first)
        s += '*';
      first = false;
      s += sym < symNames.size() && !symNames[sym].empty()
               ? symNames[sym]
               : "s" + std::to_string(sym);
    }
  }
  return s;
}

void Poly::collectSymbols(std::vector<char> &used) const {
  for (const Term &t : terms)
    for (uint32_t s : t.syms)
      if (s < used.size())
        used[s] = 1;
}

//===--- Metadata -----------------------------------------------------------//

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

enum Rank {
  kHeader,
  kModel,
  kSyms,
  kInput,
  kOutput,
  kCheck,
  kBuffer,
  kOp,
  kTap,
  kEnd
};

struct Parser {
  Metadata *md;
  std::string *err;
  size_t line = 0;
  std::vector<std::string_view> f; // fields of the current line

  bool error(const std::string &msg) {
    *err = format("line %zu: ", line) + msg;
    return false;
  }
  bool name(size_t i, std::string *out, const char *what) {
    if (!percentDecode(f[i], out))
      return error(format("bad percent-encoding in %s '%.*s'", what,
                          static_cast<int>(f[i].size()), f[i].data()));
    return true;
  }
  bool integer(size_t i, int64_t *out, const char *what) {
    if (!parseInt64(f[i], out))
      return error(format("%s '%.*s' is not an integer", what,
                          static_cast<int>(f[i].size()), f[i].data()));
    return true;
  }
  bool poly(size_t i, Poly *out, const char *what) {
    std::string e;
    if (!parsePoly(f[i], md->syms.size(), out, &e))
      return error(std::string(what) + ": " + e);
    return true;
  }
  bool need(size_t n) {
    if (f.size() != n)
      return error(format("'%.*s' record has %zu fields, expected %zu",
                          static_cast<int>(f[0].size()), f[0].data(),
                          f.size() - 1, n - 1));
    return true;
  }
  // dtype rank dims... starting at field i; returns the next field index.
  bool typed(size_t i, int32_t *dtype, std::vector<Poly> *dims, size_t *next) {
    if (f.size() < i + 2)
      return error("missing dtype or rank");
    int64_t dt, rank;
    if (!integer(i, &dt, "dtype") || !integer(i + 1, &rank, "rank"))
      return false;
    if (dt <= 0 || dt > 64 ||
        lopper_dtype_size(static_cast<lopper_dtype>(dt)) == 0)
      return error(format("unknown dtype %lld", static_cast<long long>(dt)));
    if (rank < 0 || rank > LOPPER_MAX_RANK)
      return error(format("rank %lld out of range (max %d)",
                          static_cast<long long>(rank), LOPPER_MAX_RANK));
    if (f.size() < i + 2 + static_cast<size_t>(rank))
      return error(format("expected %lld dims", static_cast<long long>(rank)));
    *dtype = static_cast<int32_t>(dt);
    dims->resize(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d)
      if (!poly(i + 2 + static_cast<size_t>(d), &(*dims)[d], "dim"))
        return false;
    *next = i + 2 + static_cast<size_t>(rank);
    return true;
  }

  bool record(int *rank) {
    std::string_view k = f[0];
    auto order = [&](int r) {
      if (r < *rank || (r == *rank && (r == kModel || r == kSyms)))
        return error(format("'%.*s' record out of order",
                            static_cast<int>(k.size()), k.data()));
      *rank = r;
      return true;
    };
    if (k == "model") {
      if (!order(kModel) || !need(2))
        return false;
      return name(1, &md->modelName, "model name");
    }
    if (k == "syms") {
      if (!order(kSyms))
        return false;
      int64_t n;
      if (f.size() < 2)
        return error("missing symbol count");
      if (!integer(1, &n, "symbol count"))
        return false;
      if (n < 0 || static_cast<uint64_t>(n) != f.size() - 2)
        return error(format("symbol count %lld but %zu names",
                            static_cast<long long>(n), f.size() - 2));
      md->syms.resize(static_cast<size_t>(n));
      for (size_t i = 0; i < md->syms.size(); ++i)
        if (!name(2 + i, &md->syms[i], "symbol name"))
          return false;
      return true;
    }
    if (k == "input" || k == "output") {
      bool in = k == "input";
      if (!order(in ? kInput : kOutput))
        return false;
      if (f.size() < 2)
        return error("missing name");
      TensorSig t;
      size_t next;
      if (!name(1, &t.name, "tensor name") ||
          !typed(2, &t.dtype, &t.dims, &next))
        return false;
      if (next != f.size())
        return error("extra fields after the dims");
      (in ? md->inputs : md->outputs).push_back(std::move(t));
      return true;
    }
    if (k == "check") {
      if (!order(kCheck) || !need(5))
        return false;
      CheckRec c;
      if (!poly(1, &c.lhs, "check lhs") || !poly(3, &c.rhs, "check rhs") ||
          !name(4, &c.node, "node name"))
        return false;
      if (f[2] == "le")
        c.le = true;
      else if (f[2] != "eq")
        return error(format("unknown check op '%.*s' (eq or le)",
                            static_cast<int>(f[2].size()), f[2].data()));
      md->checks.push_back(std::move(c));
      return true;
    }
    if (k == "buffer") {
      if (!order(kBuffer) || !need(4))
        return false;
      BufferRec b;
      if (!poly(1, &b.bytes, "buffer size") ||
          !integer(2, &b.firstOp, "first op") ||
          !integer(3, &b.lastOp, "last op"))
        return false;
      if (b.firstOp < 0 || b.lastOp < b.firstOp)
        return error(format("bad op range [%lld, %lld]",
                            static_cast<long long>(b.firstOp),
                            static_cast<long long>(b.lastOp)));
      md->buffers.push_back(std::move(b));
      return true;
    }
    if (k == "op") {
      if (!order(kOp) || !need(3))
        return false;
      OpRec o;
      if (!name(1, &o.kind, "op kind") || !name(2, &o.node, "node name"))
        return false;
      md->ops.push_back(std::move(o));
      return true;
    }
    if (k == "tap") {
      if (!order(kTap))
        return false;
      if (f.size() < 2)
        return error("missing name");
      TapRec t;
      size_t next;
      if (!name(1, &t.name, "tap name") || !typed(2, &t.dtype, &t.dims, &next))
        return false;
      if (f.size() != next + 3)
        return error("expected <where> <index> <byte_offset> after the dims");
      std::string_view w = f[next];
      if (w == "arena")
        t.where = TapWhere::Arena;
      else if (w == "input")
        t.where = TapWhere::Input;
      else if (w == "output")
        t.where = TapWhere::Output;
      else if (w == "weights")
        t.where = TapWhere::Weights;
      else
        return error(format("unknown tap location '%.*s'",
                            static_cast<int>(w.size()), w.data()));
      if (!integer(next + 1, &t.index, "tap index") ||
          !integer(next + 2, &t.byteOffset, "tap byte offset"))
        return false;
      if (t.index < 0 || t.byteOffset < 0)
        return error("negative tap index or byte offset");
      md->taps.push_back(std::move(t));
      return true;
    }
    return error(
        format("unknown record '%.*s'", static_cast<int>(k.size()), k.data()));
  }
};
} // namespace

bool percentDecode(std::string_view in, std::string *out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out->push_back(c);
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    // Names are C strings in the API: %00 (an empty name) decodes to nothing.
    if (hi || lo)
      out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool parseMetadata(const char *text, size_t size, Metadata *md,
                   std::string *err) {
  *md = Metadata();
  Parser p{md, err, 0, {}};
  std::string_view all(text, size);
  if (all.find('\0') != std::string_view::npos) {
    *err = "metadata contains a NUL byte";
    return false;
  }
  int rank = -1;
  size_t pos = 0;
  bool ended = false;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    std::string_view line =
        all.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? all.size() : nl + 1;
    ++p.line;
    if (ended) {
      if (!line.empty())
        return p.error("text after 'end'");
      continue;
    }
    if (line.empty())
      return p.error("empty line");
    p.f.clear();
    size_t fpos = 0;
    while (true) {
      size_t sp = line.find(' ', fpos);
      std::string_view field =
          line.substr(fpos, sp == std::string_view::npos ? sp : sp - fpos);
      if (field.empty())
        return p.error("empty field (fields are separated by single spaces)");
      p.f.push_back(field);
      if (sp == std::string_view::npos)
        break;
      fpos = sp + 1;
    }
    if (rank < 0) {
      int64_t v;
      if (p.f[0] != "lopper-artifact")
        return p.error("expected 'lopper-artifact <abi_version>'");
      if (!p.need(2) || !p.integer(1, &v, "ABI version"))
        return false;
      if (v < 0 || v > UINT32_MAX)
        return p.error("ABI version out of range");
      md->abiVersion = static_cast<uint32_t>(v);
      rank = kHeader;
      continue;
    }
    if (p.f[0] == "end") {
      if (!p.need(1))
        return false;
      ended = true;
      continue;
    }
    if (!p.record(&rank))
      return false;
  }
  if (rank < 0) {
    *err = "empty metadata";
    return false;
  }
  if (!ended) {
    *err = format("line %zu: missing 'end' record", p.line);
    return false;
  }

  // Names need not be unique (ONNX node names, hence tap names, often are
  // not): lookups by name take the first match.
  for (const TapRec &t : md->taps) {
    size_t limit = 0;
    const char *where = "";
    switch (t.where) {
    case TapWhere::Arena:
      limit = md->buffers.size();
      where = "arena buffer";
      break;
    case TapWhere::Input:
      limit = md->inputs.size();
      where = "input";
      break;
    case TapWhere::Output:
      limit = md->outputs.size();
      where = "output";
      break;
    case TapWhere::Weights:
      limit = 1;
      where = "weights";
      break;
    }
    if (static_cast<uint64_t>(t.index) >= limit) {
      *err = format("tap '%s': %s index %lld out of range", t.name.c_str(),
                    where, static_cast<long long>(t.index));
      return false;
    }
  }
  return true;
}

} // namespace rt
} // namespace lopper

// The GPU plan sidecar: writer and checked reader (see gpu_plan.h).
#include "gpu_plan.h"

#include "lopper/artifact_abi.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lopper {
namespace cuda {

static const char kMagic[] = "lopper-gpu-plan 1";

std::string planPathFor(const std::string &artifactPath) {
  return artifactPath + ".gpu";
}

static std::string encodeName(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%00" : out;
}

static bool decodeName(const std::string &s, std::string *out) {
  out->clear();
  if (s == "%00")
    return true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      *out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return false;
    char hex[3] = {s[i + 1], s[i + 2], 0};
    char *end = nullptr;
    long v = std::strtol(hex, &end, 16);
    if (end != hex + 2)
      return false;
    *out += static_cast<char>(v);
    i += 2;
  }
  return true;
}

static void padTo64(std::string *s) { s->resize((s->size() + 63) / 64 * 64); }

static std::string fmtDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string writePlan(GpuPlan &plan, const std::vector<std::string> &blobs,
                      const std::string &kernels) {
  // The header's size depends on the offsets it prints: lay the blobs out
  // after a header written with placeholder widths (20 digits each).
  auto header = [&]() {
    std::string h = std::string(kMagic) + "\n";
    h += "model " + encodeName(plan.model) + "\n";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%016" PRIx64, plan.metadataChecksum);
    h += std::string("metadata-checksum ") + buf + "\n";
    std::string archs;
    for (const std::string &a : plan.archs)
      archs += (archs.empty() ? "" : ",") + a;
    h += "archs " + archs + "\n";
    for (const PlanLayer &l : plan.layers) {
      std::snprintf(buf, sizeof(buf), " %020" PRIu64 " %020" PRIu64, l.offset,
                    l.bytes);
      h += "layer " + encodeName(l.node) + " " + l.format + " " +
           std::to_string(l.rows) + " " + std::to_string(l.cols) + " " +
           std::to_string(l.blockRows) + " " + std::to_string(l.blockCols) +
           " " + fmtDouble(l.density) + " " + fmtDouble(l.denseCost) + " " +
           fmtDouble(l.sparseCost) + buf + "\n";
    }
    std::snprintf(buf, sizeof(buf), "kernels %020" PRIu64 " %020" PRIu64 "\n",
                  plan.kernelsOffset, plan.kernelsBytes);
    h += buf;
    h += "end\n";
    return h;
  };
  std::string out = header();
  padTo64(&out);
  uint64_t pos = out.size();
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    plan.layers[i].offset = pos;
    plan.layers[i].bytes = blobs[i].size();
    pos = (pos + blobs[i].size() + 63) / 64 * 64;
  }
  plan.kernelsOffset = pos;
  plan.kernelsBytes = kernels.size();
  out = header();
  padTo64(&out);
  for (const std::string &b : blobs) {
    out += b;
    padTo64(&out);
  }
  out += kernels;
  uint64_t sum = lopper_checksum64(out.data(), out.size());
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((sum >> (8 * i)) & 0xff);
  return out;
}

static std::vector<std::string> split(const std::string &line) {
  std::vector<std::string> w;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string::npos)
      j = line.size();
    if (j > i)
      w.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return w;
}

static bool parseU64(const std::string &s, int base, uint64_t *out) {
  if (s.empty() || s[0] == '-' || s[0] == '+')
    return false;
  char *end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, base);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

static bool parseI64(const std::string &s, int64_t *out) {
  uint64_t v;
  if (!parseU64(s, 10, &v) || v > static_cast<uint64_t>(INT64_MAX))
    return false;
  *out = static_cast<int64_t>(v);
  return true;
}

static bool parseDouble(const std::string &s, double *out) {
  char *end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && !*end;
}

static bool knownFormat(const std::string &f) {
  return f == "dense" || f == "csr" || f == "bsr" || f == "ell" || f == "2:4";
}

bool readPlan(const uint8_t *data, size_t size, GpuPlan *plan,
              std::string *err) {
  if (size < 8 + sizeof(kMagic) ||
      std::memcmp(data, kMagic, sizeof(kMagic) - 1) != 0) {
    *err = "not a Lopper GPU plan (bad magic)";
    return false;
  }
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i)
    stored |= static_cast<uint64_t>(data[size - 8 + i]) << (8 * i);
  if (lopper_checksum64(data, size - 8) != stored) {
    *err = "checksum mismatch (truncated or modified)";
    return false;
  }
  size_t body = size - 8;
  GpuPlan p;
  bool sawEnd = false, sawKernels = false;
  size_t pos = 0;
  int lineNo = 0;
  auto bad = [&](const std::string &why) {
    *err = "line " + std::to_string(lineNo) + ": " + why;
    return false;
  };
  while (!sawEnd) {
    const void *nl = std::memchr(data + pos, '\n', body - pos);
    ++lineNo;
    if (!nl)
      return bad("header not terminated by 'end'");
    size_t end = static_cast<const uint8_t *>(nl) - data;
    std::string line(reinterpret_cast<const char *>(data + pos), end - pos);
    pos = end + 1;
    if (lineNo == 1)
      continue; // the magic, checked above
    std::vector<std::string> w = split(line);
    if (w.empty())
      return bad("empty line");
    const std::string &key = w[0];
    if (key == "end" && w.size() == 1) {
      sawEnd = true;
    } else if (key == "model" && w.size() == 2) {
      if (!decodeName(w[1], &p.model))
        return bad("bad model name");
    } else if (key == "metadata-checksum" && w.size() == 2) {
      if (!parseU64(w[1], 16, &p.metadataChecksum))
        return bad("bad checksum '" + w[1] + "'");
    } else if (key == "archs" && w.size() == 2) {
      size_t i = 0;
      const std::string &a = w[1];
      while (i <= a.size()) {
        size_t j = a.find(',', i);
        if (j == std::string::npos)
          j = a.size();
        p.archs.push_back(a.substr(i, j - i));
        i = j + 1;
      }
    } else if (key == "layer" && w.size() == 12) {
      PlanLayer l;
      if (!decodeName(w[1], &l.node))
        return bad("bad layer name '" + w[1] + "'");
      l.format = w[2];
      if (!knownFormat(l.format))
        return bad("layer '" + l.node + "': unknown format '" + l.format + "'");
      if (!parseI64(w[3], &l.rows) || !parseI64(w[4], &l.cols) ||
          !parseI64(w[5], &l.blockRows) || !parseI64(w[6], &l.blockCols) ||
          !parseDouble(w[7], &l.density) || !parseDouble(w[8], &l.denseCost) ||
          !parseDouble(w[9], &l.sparseCost) ||
          !parseU64(w[10], 10, &l.offset) || !parseU64(w[11], 10, &l.bytes))
        return bad("layer '" + l.node + "': bad number");
      if (l.rows <= 0 || l.cols <= 0)
        return bad("layer '" + l.node + "': empty weight");
      p.layers.push_back(std::move(l));
    } else if (key == "kernels" && w.size() == 3) {
      if (!parseU64(w[1], 10, &p.kernelsOffset) ||
          !parseU64(w[2], 10, &p.kernelsBytes))
        return bad("bad kernels range");
      sawKernels = true;
    } else {
      return bad("unexpected '" + line.substr(0, 40) + "'");
    }
  }
  if (!sawKernels) {
    *err = "no kernels line";
    return false;
  }
  auto inside = [&](uint64_t off, uint64_t n) {
    return off >= pos && off <= body && n <= body - off;
  };
  for (const PlanLayer &l : p.layers)
    if (!inside(l.offset, l.bytes)) {
      *err = "layer '" + l.node + "': data outside the file";
      return false;
    }
  if (!inside(p.kernelsOffset, p.kernelsBytes)) {
    *err = "kernels image outside the file";
    return false;
  }
  *plan = std::move(p);
  return true;
}

} // namespace cuda
} // namespace lopper

//===- Report.cpp - the per-layer compile report --------------------------===//

#include "Report.h"
#include "TensorFiles.h"

#include "lopper/Analysis/ModelStats.h"
#include "lopper/Dialect/Lop/LopOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

using namespace llvm;
using namespace mlir;

namespace lopper::tools {

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

ModelTotals computeTotals(ModuleOp module) {
  ModelStats s = computeModelStats(module);
  return {s.parameters, s.parameterBytes, s.macs, s.flops};
}

/// "f32", "int8", "uint8", "bf16", "i64", ...
static std::string elementTypeName(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return (q.isSigned() ? "int" : "uint") +
           std::to_string(q.getStorageTypeIntegralWidth());
  if (t.isBF16())
    return "bf16";
  if (auto f = dyn_cast<FloatType>(t))
    return "f" + std::to_string(f.getWidth());
  std::string s;
  raw_string_ostream os(s);
  t.print(os);
  return s;
}

template <typename HeavyOp>
static void describeHeavy(HeavyOp op, LayerRecord &r) {
  r.bias = bool(op.getBias());
  r.residual = bool(op.getResidual());
  r.activation = lop::stringifyActivationKind(op.getActivation()).str();
  Value w = op.getWeight();
  Type direct = cast<ShapedType>(w.getType()).getElementType();
  r.kernel = isa<quant::QuantizedType>(direct) ? "q8" : "dense-f32";
  if (auto dq = w.getDefiningOp<lop::DequantizeOp>())
    w = dq.getInput();
  r.precision = elementTypeName(cast<ShapedType>(w.getType()).getElementType());
  auto c = w.getDefiningOp<lop::ConstantOp>();
  lop::SparsityAttr sp = c ? c.getSparsityAttr() : lop::SparsityAttr();
  if (!sp)
    return;
  r.sparsity = 1 - sp.getDensityValue();
  switch (sp.getKind()) {
  case lop::SparsityKind::unstructured:
    r.sparsityPattern = "unstructured";
    break;
  case lop::SparsityKind::nm:
    r.sparsityPattern = "nm[" + std::to_string(sp.getFirst()) + "," +
                        std::to_string(sp.getSecond()) + "]";
    break;
  case lop::SparsityKind::block:
    r.sparsityPattern = "block[" + std::to_string(sp.getFirst()) + "," +
                        std::to_string(sp.getSecond()) + "]";
    break;
  }
}

std::vector<LayerRecord> computeLayers(ModuleOp module) {
  std::vector<LayerRecord> layers;
  for (const OpStats &s : computeOpStats(module)) {
    LayerRecord r;
    r.name = s.name;
    r.op = s.opType;
    r.parameters = s.parameters;
    r.parameterBytes = s.parameterBytes;
    r.macs = s.macs;
    r.flops = s.flops;
    if (auto op = dyn_cast<lop::ConvOp>(s.op))
      describeHeavy(op, r);
    else if (auto op = dyn_cast<lop::ConvTransposeOp>(s.op))
      describeHeavy(op, r);
    else if (auto op = dyn_cast<lop::GemmOp>(s.op))
      describeHeavy(op, r);
    else if (auto op = dyn_cast<lop::MatMulOp>(s.op))
      describeHeavy(op, r);
    else
      continue;
    layers.push_back(std::move(r));
  }
  return layers;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static json::Object totalsJson(const ModelTotals &t) {
  return json::Object{{"parameters", t.parameters},
                      {"parameter_bytes", t.parameterBytes},
                      {"macs", t.macs},
                      {"flops", t.flops}};
}

json::Object reportToJson(const CompileReportData &report) {
  json::Array layers;
  for (const LayerRecord &l : report.layers)
    layers.push_back(
        json::Object{{"name", l.name},
                     {"op", l.op},
                     {"parameters", l.parameters},
                     {"parameter_bytes", l.parameterBytes},
                     {"macs", l.macs},
                     {"flops", l.flops},
                     {"sparsity", l.sparsity},
                     {"sparsity_pattern", l.sparsityPattern},
                     {"precision", l.precision},
                     {"epilogue", json::Object{{"bias", l.bias},
                                               {"activation", l.activation},
                                               {"residual", l.residual}}},
                     {"kernel", l.kernel},
                     {"kernel_forced", l.kernelForced},
                     {"predicted_us", l.predictedUs},
                     {"dense_predicted_us", l.denseUs}});
  json::Object root{{"model", report.model},
                    {"output", report.output},
                    {"before", totalsJson(report.before)},
                    {"after", totalsJson(report.after)},
                    {"artifact_bytes", int64_t(report.artifactBytes)},
                    {"layers", std::move(layers)}};
  if (report.accuracy) {
    json::Object acc = verifyResultToJson(*report.accuracy, 10);
    acc["data"] = report.accuracyData;
    root["accuracy"] = std::move(acc);
  } else {
    root["accuracy"] = nullptr;
  }
  return root;
}

//===----------------------------------------------------------------------===//
// HTML
//===----------------------------------------------------------------------===//

static std::string escapeHtml(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// 1234567 -> "1,234,567".
static std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

/// A horizontal bar chart, one bar per layer, scaled to the largest value.
static void svgBars(raw_ostream &os, StringRef title,
                    const std::vector<LayerRecord> &layers,
                    llvm::function_ref<double(const LayerRecord &)> value,
                    llvm::function_ref<std::string(double)> label) {
  const int rowHeight = 18, labelWidth = 220, barWidth = 420, top = 8;
  double max = 0;
  for (const LayerRecord &l : layers)
    max = std::max(max, value(l));
  int height = top * 2 + rowHeight * int(layers.size());
  os << "<figure><figcaption>" << escapeHtml(title) << "</figcaption>\n";
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
     << labelWidth + barWidth + 110 << "\" height=\"" << height
     << "\" role=\"img\">\n";
  for (auto [i, l] : enumerate(layers)) {
    int y = top + rowHeight * int(i);
    double v = value(l);
    double w = max > 0 ? v / max * barWidth : 0;
    std::string name = l.name.size() > 32 ? l.name.substr(0, 31) + "…" : l.name;
    os << "<text x=\"" << labelWidth - 6 << "\" y=\"" << y + 13
       << "\" text-anchor=\"end\">" << escapeHtml(name) << "</text>";
    os << format("<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>",
                 labelWidth, y + 2, w, rowHeight - 4);
    os << format("<text x=\"%.1f\" y=\"%d\">", labelWidth + w + 4, y + 13)
       << escapeHtml(label(v)) << "</text>\n";
  }
  os << "</svg></figure>\n";
}

std::string reportToHtml(const CompileReportData &report) {
  std::string html;
  raw_string_ostream os(html);
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
     << "<title>lopper report: " << escapeHtml(report.model) << "</title>\n"
     << "<style>\n"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
        "table{border-collapse:collapse;margin:1em 0}\n"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
        "th{background:#eee}td.l,th.l{text-align:left}\n"
        "figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:4px}\n"
        "svg text{font-size:12px;fill:#222}svg rect{fill:#4a7bb7}\n"
        "</style></head><body>\n";
  os << "<h1>lopper compile report</h1>\n<p>model <code>"
     << escapeHtml(report.model) << "</code> &rarr; <code>"
     << escapeHtml(report.output) << "</code> ("
     << grouped(int64_t(report.artifactBytes)) << " bytes)</p>\n";

  os << "<h2>Totals</h2>\n<table><tr><th class=\"l\"></th><th>before</th>"
        "<th>after</th><th>after / before</th></tr>\n";
  auto total = [&](StringRef what, int64_t b, int64_t a) {
    os << "<tr><td class=\"l\">" << what << "</td><td>" << grouped(b)
       << "</td><td>" << grouped(a) << "</td><td>"
       << (b ? formatv("{0:F3}", double(a) / double(b)).str() : "-")
       << "</td></tr>\n";
  };
  total("parameters", report.before.parameters, report.after.parameters);
  total("parameter bytes", report.before.parameterBytes,
        report.after.parameterBytes);
  total("MACs", report.before.macs, report.after.macs);
  total("FLOPs", report.before.flops, report.after.flops);
  os << "</table>\n";

  if (report.accuracy) {
    const VerifyResult &acc = *report.accuracy;
    os << "<h2>Accuracy</h2>\n<p>" << acc.samples << " sample"
       << (acc.samples == 1 ? "" : "s") << " from <code>"
       << escapeHtml(report.accuracyData) << "</code></p>\n";
    auto table = [&](StringRef first, const std::vector<TensorMetrics> &rows,
                     size_t limit, bool top1) {
      os << "<table><tr><th class=\"l\">" << first
         << "</th><th>max abs</th><th>rel L2</th><th>cosine</th>"
         << (top1 ? "<th>top-1</th>" : "") << "</tr>\n";
      for (size_t i = 0; i < rows.size() && i < limit; ++i) {
        const Metrics &m = rows[i].metrics;
        os << "<tr><td class=\"l\">" << escapeHtml(rows[i].name) << "</td>"
           << format("<td>%.4g</td><td>%.4g</td><td>%.6f</td>", m.maxAbs,
                     m.relL2, m.cosine);
        if (top1)
          os << "<td>"
             << (m.top1 ? formatv("{0:F2}%", *m.top1 * 100).str() : "-")
             << "</td>";
        os << "</tr>\n";
      }
      os << "</table>\n";
    };
    table("output", acc.outputs, acc.outputs.size(), true);
    if (!acc.layers.empty()) {
      os << "<p>The worst layers by relative L2 error (of " << acc.layers.size()
         << " compared):</p>\n";
      table("node", acc.layers, 10, false);
    }
  }

  os << "<h2>Layers</h2>\n";
  if (!report.layers.empty()) {
    svgBars(
        os, "Parameters", report.layers,
        [](const LayerRecord &l) { return double(l.parameters); },
        [](double v) { return grouped(int64_t(v)); });
    svgBars(
        os, "FLOPs", report.layers,
        [](const LayerRecord &l) { return double(l.flops); },
        [](double v) { return grouped(int64_t(v)); });
    svgBars(
        os, "Weight sparsity", report.layers,
        [](const LayerRecord &l) { return l.sparsity; },
        [](double v) { return formatv("{0:F1}%", v * 100).str(); });
  }
  os << "<table><tr><th class=\"l\">node</th><th class=\"l\">op</th>"
        "<th>parameters</th><th>bytes</th><th>FLOPs</th><th>sparsity</th>"
        "<th class=\"l\">pattern</th><th class=\"l\">precision</th>"
        "<th class=\"l\">epilogue</th><th class=\"l\">kernel</th>"
        "<th>predicted &micro;s</th></tr>\n";
  for (const LayerRecord &l : report.layers) {
    std::vector<std::string> epilogue;
    if (l.bias)
      epilogue.push_back("bias");
    if (l.residual)
      epilogue.push_back("residual");
    if (l.activation != "none")
      epilogue.push_back(l.activation);
    os << "<tr><td class=\"l\">" << escapeHtml(l.name)
       << "</td><td class=\"l\">" << escapeHtml(l.op) << "</td><td>"
       << grouped(l.parameters) << "</td><td>" << grouped(l.parameterBytes)
       << "</td><td>" << grouped(l.flops) << "</td><td>"
       << formatv("{0:F1}%", l.sparsity * 100) << "</td><td class=\"l\">"
       << escapeHtml(l.sparsityPattern) << "</td><td class=\"l\">"
       << escapeHtml(l.precision) << "</td><td class=\"l\">"
       << escapeHtml(epilogue.empty() ? "-" : join(epilogue, " + "))
       << "</td><td class=\"l\">" << escapeHtml(l.kernel)
       << (l.kernelForced ? " (forced)" : "") << "</td><td>"
       << formatv("{0:F1}", l.predictedUs) << "</td></tr>\n";
  }
  os << "</table>\n</body></html>\n";
  return html;
}

//===----------------------------------------------------------------------===//
// The summary table
//===----------------------------------------------------------------------===//

void printSummary(const CompileReportData &report, raw_ostream &os) {
  os << format("  %-16s %16s %16s %8s\n", "", "before", "after", "ratio");
  auto row = [&](const char *what, int64_t b, int64_t a) {
    os << format("  %-16s %16s %16s", what, grouped(b).c_str(),
                 grouped(a).c_str());
    if (b)
      os << format(" %8.3f", double(a) / double(b));
    os << "\n";
  };
  row("parameters", report.before.parameters, report.after.parameters);
  row("parameter bytes", report.before.parameterBytes,
      report.after.parameterBytes);
  row("FLOPs", report.before.flops, report.after.flops);
  if (!report.accuracy)
    return;
  const VerifyResult &acc = *report.accuracy;
  os << "  accuracy on " << acc.samples << " sample"
     << (acc.samples == 1 ? "" : "s") << " from " << report.accuracyData
     << ":\n";
  for (const TensorMetrics &t : acc.outputs) {
    const Metrics &m = t.metrics;
    os << "    " << t.name
       << format(": max_abs %.4g, rel_l2 %.4g, cosine %.6f", m.maxAbs, m.relL2,
                 m.cosine);
    if (m.top1)
      os << format(", top-1 %.2f%%", *m.top1 * 100);
    os << "\n";
  }
}

} // namespace lopper::tools

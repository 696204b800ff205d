//===- PruningUtils.cpp - weights, rules and importance for pruning -------===//

#include "PruningUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <cmath>
#include <map>

using namespace mlir;

namespace lopper::pruning {

std::string getNodeName(Operation *op) {
  std::string name;
  op->getLoc()->walk([&](Location l) {
    if (auto nl = dyn_cast<NameLoc>(l)) {
      name = nl.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

std::optional<int64_t> getWeightOutputAxis(Operation *op) {
  auto rankOf = [&](Value v) {
    return cast<RankedTensorType>(v.getType()).getRank();
  };
  return llvm::TypeSwitch<Operation *, std::optional<int64_t>>(op)
      .Case([&](lop::ConvOp c) -> std::optional<int64_t> {
        if (rankOf(c.getWeight()) < 3)
          return std::nullopt;
        return 0;
      })
      .Case([&](lop::GemmOp g) -> std::optional<int64_t> {
        if (rankOf(g.getWeight()) != 2)
          return std::nullopt;
        return g.getTransB() ? 0 : 1;
      })
      .Case([&](lop::MatMulOp m) -> std::optional<int64_t> {
        if (rankOf(m.getWeight()) != 2 || rankOf(m.getInput()) < 2)
          return std::nullopt;
        return 1;
      })
      .Default([](Operation *) { return std::nullopt; });
}

int64_t Layer::inputChannel(int64_t row, int64_t col) const {
  auto conv = dyn_cast<lop::ConvOp>(op);
  if (!conv)
    return col;
  int64_t perGroupIn = type.getDimSize(1);
  int64_t kernel = cols / perGroupIn;
  int64_t group = row / (rows / conv.getGroup());
  return group * perGroupIn + col / kernel;
}

int64_t Layer::numInputChannels() const {
  if (auto conv = dyn_cast<lop::ConvOp>(op))
    return type.getDimSize(1) * conv.getGroup();
  return cols;
}

std::optional<Layer> getLayer(Operation *op, bool requireFloat) {
  std::optional<int64_t> axis = getWeightOutputAxis(op);
  auto cst = op->getOperand(1).getDefiningOp<lop::ConstantOp>();
  if (!axis || !cst)
    return std::nullopt;
  auto type = cast<RankedTensorType>(cst.getOutput().getType());
  if (!type.hasStaticShape() || type.getNumElements() == 0 ||
      (requireFloat && !isa<FloatType>(type.getElementType())))
    return std::nullopt;
  std::optional<SmallVector<double>> data =
      lop::readElementsAsDouble(cst.getValue());
  if (!data)
    return std::nullopt;
  Layer l;
  l.op = op;
  l.weight = cst;
  l.type = type;
  l.name = getNodeName(op);
  l.outputAxis = *axis;
  l.rows = type.getDimSize(*axis);
  l.cols = type.getNumElements() / l.rows;
  for (int64_t i = *axis + 1; i < type.getRank(); ++i)
    l.inner *= type.getDimSize(i);
  l.data = std::move(*data);
  return l;
}

std::vector<Layer> collectLayers(ModuleOp module, bool keepFirstLast) {
  std::vector<Layer> layers;
  Operation *firstConv = nullptr, *lastHeavy = nullptr;
  module.walk([&](Operation *op) {
    if (!isa<lop::ConvOp, lop::ConvTransposeOp, lop::GemmOp, lop::MatMulOp>(op))
      return;
    if (!firstConv && isa<lop::ConvOp>(op))
      firstConv = op;
    lastHeavy = op;
    if (std::optional<Layer> l = getLayer(op, /*requireFloat=*/true))
      layers.push_back(std::move(*l));
  });
  if (!keepFirstLast)
    return layers;
  if (lastHeavy && !isa<lop::GemmOp, lop::MatMulOp>(lastHeavy))
    lastHeavy = nullptr;
  llvm::erase_if(layers, [&](const Layer &l) {
    return l.op == firstConv || l.op == lastHeavy;
  });
  return layers;
}

//===----------------------------------------------------------------------===//
// Config files
//===----------------------------------------------------------------------===//

bool isValidSparsity(double s) { return s >= 0.0 && s < 1.0; }

/// A YAML document as the JSON value it spells (scalars that parse as
/// numbers or booleans become those).
static std::optional<llvm::json::Value> yamlToJson(llvm::yaml::Node *node) {
  if (auto *map = dyn_cast_or_null<llvm::yaml::MappingNode>(node)) {
    llvm::json::Object obj;
    for (auto &kv : *map) {
      auto *key = dyn_cast_or_null<llvm::yaml::ScalarNode>(kv.getKey());
      if (!key)
        return std::nullopt;
      SmallString<32> keyStorage;
      std::optional<llvm::json::Value> v = yamlToJson(kv.getValue());
      if (!v)
        return std::nullopt;
      obj[key->getValue(keyStorage)] = std::move(*v);
    }
    return llvm::json::Value(std::move(obj));
  }
  if (auto *seq = dyn_cast_or_null<llvm::yaml::SequenceNode>(node)) {
    llvm::json::Array arr;
    for (auto &item : *seq) {
      std::optional<llvm::json::Value> v = yamlToJson(&item);
      if (!v)
        return std::nullopt;
      arr.push_back(std::move(*v));
    }
    return llvm::json::Value(std::move(arr));
  }
  if (auto *s = dyn_cast_or_null<llvm::yaml::ScalarNode>(node)) {
    SmallString<32> storage;
    StringRef text = s->getValue(storage);
    if (text == "true")
      return llvm::json::Value(true);
    if (text == "false")
      return llvm::json::Value(false);
    double d;
    if (!text.getAsDouble(d))
      return llvm::json::Value(d);
    return llvm::json::Value(text.str());
  }
  return std::nullopt;
}

/// Reads a JSON file, or a YAML one when the name ends in .yaml or .yml.
static std::optional<llvm::json::Value> readDocument(StringRef path,
                                                     std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) {
    error = (path + ": " + buf.getError().message()).str();
    return std::nullopt;
  }
  if (path.ends_with(".yaml") || path.ends_with(".yml")) {
    llvm::SourceMgr sm;
    std::string diag;
    sm.setDiagHandler(
        [](const llvm::SMDiagnostic &d, void *ctx) {
          *static_cast<std::string *>(ctx) = d.getMessage().str();
        },
        &diag);
    llvm::yaml::Stream stream((*buf)->getBuffer(), sm);
    auto it = stream.begin();
    std::optional<llvm::json::Value> v;
    if (it != stream.end())
      v = yamlToJson(it->getRoot());
    if (!v || !diag.empty()) {
      error =
          (path + ": invalid YAML" + (diag.empty() ? "" : ": ") + diag).str();
      return std::nullopt;
    }
    return v;
  }
  auto v = llvm::json::parse((*buf)->getBuffer());
  if (!v) {
    error = (path + ": invalid JSON: " + llvm::toString(v.takeError())).str();
    return std::nullopt;
  }
  return std::move(*v);
}

static LogicalResult parseRule(const llvm::json::Object &obj, LayerRule &rule,
                               StringRef where, std::string &error) {
  for (auto &kv : obj) {
    StringRef key = kv.first;
    if (key == "match")
      continue;
    if (key == "skip") {
      std::optional<bool> b = kv.second.getAsBoolean();
      if (!b) {
        error = (where + ": \"skip\" must be true or false").str();
        return failure();
      }
      rule.skip = *b;
    } else if (key == "sparsity") {
      std::optional<double> d = kv.second.getAsNumber();
      if (!d || !isValidSparsity(*d)) {
        error = (where + ": \"sparsity\" must be a number in [0, 1)").str();
        return failure();
      }
      rule.sparsity = *d;
    } else if (key == "pattern") {
      std::optional<StringRef> s = kv.second.getAsString();
      if (!s) {
        error = (where + ": \"pattern\" must be a string").str();
        return failure();
      }
      std::string specError;
      rule.pattern = parsePruneSpec(*s, specError);
      if (!rule.pattern) {
        error = (where + ": " + specError).str();
        return failure();
      }
    } else {
      error = (where + ": unknown key \"" + key +
               "\" (expected match, skip, pattern or sparsity)")
                  .str();
      return failure();
    }
  }
  return success();
}

LogicalResult PruneConfig::load(StringRef path, std::string &error) {
  if (path.empty())
    return success();
  std::optional<llvm::json::Value> doc = readDocument(path, error);
  if (!doc)
    return failure();
  const llvm::json::Object *root = doc->getAsObject();
  if (!root) {
    error =
        (path + ": expected an object with \"default\" and \"layers\"").str();
    return failure();
  }
  for (auto &kv : *root) {
    StringRef key = kv.first;
    if (key == "default") {
      const llvm::json::Object *d = kv.second.getAsObject();
      if (!d) {
        error = (path + ": \"default\" must be an object").str();
        return failure();
      }
      if (failed(parseRule(*d, defaults, (path + ": default").str(), error)))
        return failure();
    } else if (key == "layers") {
      const llvm::json::Array *arr = kv.second.getAsArray();
      if (!arr) {
        error = (path + ": \"layers\" must be an array").str();
        return failure();
      }
      for (auto [i, item] : llvm::enumerate(*arr)) {
        std::string where = (path + ": layers[" + Twine(i) + "]").str();
        const llvm::json::Object *o = item.getAsObject();
        std::optional<StringRef> glob =
            o ? o->getString("match") : std::nullopt;
        if (!glob) {
          error = where + ": expected an object with a \"match\" glob";
          return failure();
        }
        if (auto g = llvm::GlobPattern::create(*glob); !g) {
          error = where + ": bad glob: " + llvm::toString(g.takeError());
          return failure();
        }
        Entry e{glob->str(), LayerRule()};
        if (failed(parseRule(*o, e.rule, where, error)))
          return failure();
        entries.push_back(std::move(e));
      }
    } else if (key == "keep_first_last") {
      keepFirstLast = kv.second.getAsBoolean();
      if (!keepFirstLast) {
        error = (path + ": \"keep_first_last\" must be true or false").str();
        return failure();
      }
    } else {
      error = (path + ": unknown key \"" + key +
               "\" (expected default, layers or keep_first_last)")
                  .str();
      return failure();
    }
  }
  return success();
}

LayerRule PruneConfig::ruleFor(StringRef nodeName) const {
  for (const Entry &e : entries) {
    auto g = llvm::GlobPattern::create(e.glob);
    if (!g) {
      llvm::consumeError(g.takeError());
      continue;
    }
    if (!g->match(nodeName))
      continue;
    LayerRule r = defaults;
    r.skip = e.rule.skip;
    if (e.rule.sparsity)
      r.sparsity = e.rule.sparsity;
    if (e.rule.pattern)
      r.pattern = e.rule.pattern;
    return r;
  }
  return defaults;
}

std::vector<PruneSpec> PruneConfig::patterns() const {
  std::vector<PruneSpec> out;
  if (defaults.pattern)
    out.push_back(*defaults.pattern);
  for (const Entry &e : entries)
    if (e.rule.pattern)
      out.push_back(*e.rule.pattern);
  return out;
}

LogicalResult ActivationNorms::load(StringRef path, std::string &error) {
  if (path.empty())
    return success();
  std::optional<llvm::json::Value> doc = readDocument(path, error);
  if (!doc)
    return failure();
  const llvm::json::Object *root = doc->getAsObject();
  if (!root) {
    error = (path + ": expected an object {\"node name\": [norms...]}").str();
    return failure();
  }
  for (auto &kv : *root) {
    const llvm::json::Array *arr = kv.second.getAsArray();
    std::vector<double> v;
    for (size_t i = 0; arr && i < arr->size(); ++i) {
      std::optional<double> d = (*arr)[i].getAsNumber();
      if (!d || *d < 0) {
        arr = nullptr;
        break;
      }
      v.push_back(*d);
    }
    if (!arr) {
      error = (path + ": \"" + kv.first.str() +
               "\": expected an array of non-negative numbers")
                  .str();
      return failure();
    }
    norms[kv.first.str()] = std::move(v);
  }
  return success();
}

LogicalResult ActivationNorms::importance(const Layer &layer,
                                          SmallVectorImpl<double> &out,
                                          std::string &error) const {
  out.resize(layer.data.size());
  for (size_t i = 0; i < layer.data.size(); ++i)
    out[i] = std::fabs(layer.data[i]);
  auto it = norms.find(layer.name);
  if (it == norms.end())
    return success();
  const std::vector<double> &n = it->second;
  if ((int64_t)n.size() != layer.numInputChannels()) {
    error = "activation norms for '" + layer.name + "' have " +
            std::to_string(n.size()) + " values, expected " +
            std::to_string(layer.numInputChannels()) + " (input channels)";
    return failure();
  }
  for (int64_t r = 0; r < layer.rows; ++r)
    for (int64_t c = 0; c < layer.cols; ++c)
      out[layer.index(r, c)] *= n[layer.inputChannel(r, c)];
  return success();
}

LogicalResult PruneContext::init(ModuleOp module, StringRef configFile,
                                 StringRef normsFile, bool only) {
  configOnly = only;
  std::string error;
  if (failed(config.load(configFile, error)) ||
      failed(norms.load(normsFile, error))) {
    module.emitError(error);
    return failure();
  }
  return success();
}

std::vector<Layer> PruneContext::layers(ModuleOp module,
                                        bool keepFirstLast) const {
  return collectLayers(module, config.keepFirstLast.value_or(keepFirstLast));
}

bool PruneContext::selects(const Layer &layer, PruneSpec::Kind kind,
                           PruneSpec &spec) const {
  LayerRule rule = config.ruleFor(layer.name);
  if (rule.skip)
    return false;
  if (rule.pattern) {
    if (rule.pattern->kind != kind)
      return false;
    spec = *rule.pattern;
  } else if (configOnly) {
    return false;
  }
  if (rule.sparsity)
    spec.sparsity = *rule.sparsity;
  return true;
}

//===----------------------------------------------------------------------===//
// Writing weights
//===----------------------------------------------------------------------===//

double densityOf(ArrayRef<double> data) {
  if (data.empty())
    return 0.0;
  int64_t nnz = 0;
  for (double v : data)
    nnz += v != 0.0;
  return (double)nnz / data.size();
}

ElementsAttr makeElements(ElementsAttr like, RankedTensorType type,
                          ArrayRef<double> data) {
  Type elem = type.getElementType();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(like)) {
    std::vector<char> bytes;
    auto append = [&](auto tag) {
      using T = decltype(tag);
      bytes.resize(data.size() * sizeof(T));
      T *p = reinterpret_cast<T *>(bytes.data());
      for (size_t i = 0; i < data.size(); ++i)
        p[i] = (T)data[i];
    };
    if (elem.isF32())
      append(float());
    else if (elem.isF64())
      append(double());
    else if (elem.isInteger(64))
      append(int64_t());
    else if (elem.isInteger(32))
      append(int32_t());
    else
      return {};
    AsmResourceBlob blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 64);
    return DenseResourceElementsAttr::get(type, res.getRawHandle().getKey(),
                                          std::move(blob));
  }
  if (auto ft = dyn_cast<FloatType>(elem)) {
    SmallVector<APFloat> vals;
    for (double d : data) {
      APFloat f(d);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(f);
    }
    return DenseElementsAttr::get(type, vals);
  }
  if (auto it = dyn_cast<IntegerType>(elem)) {
    SmallVector<APInt> vals;
    for (double d : data)
      vals.push_back(APInt(it.getWidth(), (int64_t)d, /*isSigned=*/true));
    return DenseElementsAttr::get(type, vals);
  }
  return {};
}

void WeightWriter::add(const Layer &layer, SmallVector<double> data,
                       lop::SparsityAttr sparsity) {
  // A layer the pass leaves as it was keeps its weight and gets no
  // annotation.
  std::optional<SmallVector<double>> before =
      lop::readElementsAsDouble(lop::ConstantOp(layer.weight).getValue());
  if (before && *before == data)
    return;
  updates.push_back({layer.op, layer.weight, std::move(data), sparsity});
}

void WeightWriter::commit() {
  // Group the updates by constant, in the order they were added.
  std::map<Operation *, std::vector<Update *>> byWeight;
  std::vector<Operation *> order;
  for (Update &u : updates) {
    auto &v = byWeight[u.weight];
    if (v.empty())
      order.push_back(u.weight);
    v.push_back(&u);
  }
  for (Operation *w : order) {
    auto cst = cast<lop::ConstantOp>(w);
    std::vector<Update *> &us = byWeight[w];
    auto type = cast<RankedTensorType>(cst.getOutput().getType());
    bool agree = llvm::all_of(us, [&](Update *u) {
      return u->data == us[0]->data && u->sparsity == us[0]->sparsity;
    });
    bool allUsersPruned = llvm::all_of(cst->getUses(), [&](OpOperand &use) {
      return use.getOperandNumber() == 1 && llvm::any_of(us, [&](Update *u) {
               return u->op == use.getOwner();
             });
    });
    if (agree && allUsersPruned) {
      cst.setValueAttr(makeElements(cst.getValue(), type, us[0]->data));
      cst.setSparsityAttr(us[0]->sparsity);
      continue;
    }
    OpBuilder b(cst);
    for (Update *u : us) {
      auto clone = cast<lop::ConstantOp>(b.clone(*cst));
      clone.setValueAttr(makeElements(cst.getValue(), type, u->data));
      clone.setSparsityAttr(u->sparsity);
      u->op->setOperand(1, clone.getOutput());
    }
    if (cst->use_empty())
      cst->erase();
  }
  updates.clear();
}

} // namespace lopper::pruning

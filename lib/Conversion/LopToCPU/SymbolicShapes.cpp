//===- SymbolicShapes.cpp - dims as polynomials over input symbols --------===//

#include "SymbolicShapes.h"

#include "lopper/Dialect/Lop/LopOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace lopper;
using namespace lopper::lop;

//===----------------------------------------------------------------------===//
// Poly
//===----------------------------------------------------------------------===//

Poly Poly::constant(int64_t c) {
  Poly p;
  if (c != 0)
    p.terms[{}] = c;
  return p;
}

Poly Poly::symbol(unsigned s) {
  Poly p;
  p.terms[{s}] = 1;
  return p;
}

bool Poly::isConstant() const {
  return terms.empty() || (terms.size() == 1 && terms.begin()->first.empty());
}

int64_t Poly::constant() const {
  return terms.empty() ? 0 : terms.begin()->second;
}

std::optional<unsigned> Poly::singleSymbol() const {
  if (terms.size() == 1 && terms.begin()->first.size() == 1 &&
      terms.begin()->second == 1)
    return terms.begin()->first[0];
  return std::nullopt;
}

Poly Poly::operator+(const Poly &o) const {
  Poly r = *this;
  for (auto &[m, c] : o.terms)
    if ((r.terms[m] += c) == 0)
      r.terms.erase(m);
  return r;
}

Poly Poly::operator-(const Poly &o) const { return *this + o * constant(-1); }

Poly Poly::operator*(const Poly &o) const {
  Poly r;
  for (auto &[m1, c1] : terms)
    for (auto &[m2, c2] : o.terms) {
      std::vector<unsigned> m = m1;
      m.insert(m.end(), m2.begin(), m2.end());
      std::sort(m.begin(), m.end());
      if ((r.terms[m] += c1 * c2) == 0)
        r.terms.erase(m);
    }
  return r;
}

std::optional<Poly> Poly::divExact(const Poly &d) const {
  if (d.terms.size() != 1)
    return std::nullopt;
  const auto &[dm, dc] = *d.terms.begin();
  Poly r;
  for (auto &[m, c] : terms) {
    if (c % dc != 0)
      return std::nullopt;
    std::vector<unsigned> rest;
    std::multiset<unsigned> have(m.begin(), m.end());
    for (unsigned s : dm) {
      auto it = have.find(s);
      if (it == have.end())
        return std::nullopt;
      have.erase(it);
    }
    rest.assign(have.begin(), have.end());
    r.terms[rest] = c / dc;
  }
  return r;
}

Poly Poly::remap(const std::vector<unsigned> &map) const {
  Poly r;
  for (auto &[m, c] : terms) {
    std::vector<unsigned> n;
    for (unsigned s : m)
      n.push_back(map[s]);
    std::sort(n.begin(), n.end());
    if ((r.terms[n] += c) == 0)
      r.terms.erase(n);
  }
  return r;
}

int64_t Poly::eval(const std::vector<int64_t> &syms) const {
  int64_t r = 0;
  for (auto &[m, c] : terms) {
    int64_t t = c;
    for (unsigned s : m)
      t *= syms[s];
    r += t;
  }
  return r;
}

std::string Poly::str() const {
  if (terms.empty())
    return "0";
  std::string s;
  for (auto &[m, c] : terms) {
    if (!s.empty())
      s += "+";
    std::string t;
    if (c != 1 || m.empty())
      t = std::to_string(c);
    for (unsigned sym : m)
      t += (t.empty() ? "s" : "*s") + std::to_string(sym);
    s += t;
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

unsigned SymbolicShapes::newSymbol(std::string name) {
  parent.push_back(parent.size());
  rawNames.push_back(std::move(name));
  return parent.size() - 1;
}

unsigned SymbolicShapes::find(unsigned s) {
  while (parent[s] != s)
    s = parent[s] = parent[parent[s]];
  return s;
}

Poly SymbolicShapes::canon(const Poly &p) {
  std::vector<unsigned> map(parent.size());
  for (unsigned i = 0; i < parent.size(); ++i)
    map[i] = find(i);
  return p.remap(map);
}

void SymbolicShapes::equate(const Poly &a0, const Poly &b0,
                            const std::string &node) {
  Poly a = canon(a0), b = canon(b0);
  if (a == b)
    return;
  auto sa = a.singleSymbol(), sb = b.singleSymbol();
  if (sa && sb) {
    // Keep the older symbol (the first input's name) as representative.
    unsigned x = std::min(*sa, *sb), y = std::max(*sa, *sb);
    parent[y] = x;
    return;
  }
  checkList.push_back({a, b, false, node});
}

const PolyVec &SymbolicShapes::dims(Value v) const {
  auto it = dimMap.find(v);
  assert(it != dimMap.end() && "value without analysed dims");
  return it->second;
}

const PolyVec *SymbolicShapes::values(Value v) const {
  auto it = valueMap.find(v);
  return it == valueMap.end() ? nullptr : &it->second;
}

static constexpr int64_t kMaxShapeValues = 64;

/// Broadcast dims of several operands (numpy rules, right aligned).
static PolyVec
broadcastDims(ArrayRef<PolyVec> ops,
              llvm::function_ref<void(const Poly &, const Poly &)> equate) {
  size_t rank = 0;
  for (auto &o : ops)
    rank = std::max(rank, o.size());
  PolyVec out(rank, Poly::constant(1));
  for (auto &o : ops)
    for (size_t i = 0; i < o.size(); ++i) {
      Poly &r = out[rank - o.size() + i];
      const Poly &d = o[i];
      if (d.isConstant() && d.constant() == 1)
        continue;
      if (r.isConstant() && r.constant() == 1)
        r = d;
      else
        equate(r, d);
    }
  return out;
}

bool SymbolicShapes::analyse(Operation *op, std::string &error) {
  std::string node = lop::getNodeName(op);
  auto fail = [&](const Twine &msg) {
    error = ("node '" + node + "' (" + getOnnxOpType(op) + "): " + msg).str();
    return false;
  };
  auto eq = [&](const Poly &a, const Poly &b) { equate(a, b, node); };
  auto in = [&](unsigned i) -> PolyVec & { return dimMap[op->getOperand(i)]; };
  auto valuesOf = [&](Value v) -> const PolyVec * { return values(v); };

  // Result dims: static dims come from the type; rules fill the rest.
  SmallVector<PolyVec> res;
  for (Value r : op->getResults()) {
    auto rt = dyn_cast<RankedTensorType>(r.getType());
    if (!rt)
      return fail("result is not a ranked tensor");
    PolyVec d;
    for (int64_t s : rt.getShape())
      d.push_back(Poly::constant(ShapedType::isDynamic(s) ? -1 : s));
    res.push_back(d);
  }
  auto resultDynamic = [&] {
    for (Value r : op->getResults())
      if (!cast<RankedTensorType>(r.getType()).hasStaticShape())
        return true;
    return false;
  };
  // Rules return the full dims of result 0; unknown dims stay -1.
  std::optional<PolyVec> rule;
  auto sameAs = [&](unsigned i) { rule = in(i); };
  auto valueDims = [&](Value shape) -> std::optional<PolyVec> {
    if (const PolyVec *v = valuesOf(shape))
      return *v;
    return std::nullopt;
  };

  bool ok = true;
  llvm::TypeSwitch<Operation *>(op)
      .Case<SqrtOp, ReciprocalOp, ExpOp, LogOp, NegOp, AbsOp, ErfOp, TanhOp,
            SigmoidOp, ReluOp, NotOp, HardSwishOp, LeakyReluOp, EluOp,
            HardSigmoidOp, GeluOp, ClipOp, SoftmaxOp, LogSoftmaxOp, CastOp,
            BatchNormOp, LayerNormOp, InstanceNormOp, QuantizeOp, DequantizeOp,
            FloorOp, CeilOp, RoundOp, SinOp, CosOp, TanOp, AsinOp, AcosOp,
            AtanOp, SinhOp, CoshOp, AsinhOp, AcoshOp, AtanhOp, BitwiseNotOp,
            TriluOp, CumSumOp, CumProdOp, ScatterElementsOp, ScatterNDOp>(
          [&](Operation *) { sameAs(0); })
      .Case<GatherElementsOp>([&](Operation *) { sameAs(1); })
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, EqualOp, LessOp, GreaterOp,
            AndOp, WhereOp, OrOp, XorOp, BitwiseAndOp, BitwiseOrOp,
            BitwiseXorOp, BitShiftOp, ModOp>([&](Operation *) {
        SmallVector<PolyVec> ops;
        for (Value v : op->getOperands())
          ops.push_back(dimMap[v]);
        rule = broadcastDims(ops, eq);
      })
      .Case<ConvOp, ConvTransposeOp, MaxPoolOp, AveragePoolOp>(
          [&](Operation *) {
            PolyVec d = res[0];
            d[0] = in(0)[0];
            rule = d;
          })
      .Case<GlobalAveragePoolOp, GlobalMaxPoolOp>([&](Operation *) {
        PolyVec d = res[0];
        d[0] = in(0)[0];
        d[1] = in(0)[1];
        rule = d;
      })
      .Case<ResizeOp>([&](ResizeOp r) {
        // An axis with scale 1 keeps the input's size (a dynamic batch).
        PolyVec d = res[0];
        auto sv = r.getScales() ? getConstantFloatValues(r.getScales())
                                : std::nullopt;
        if (sv && sv->size() == d.size())
          for (size_t i = 0; i < d.size(); ++i)
            if ((*sv)[i] == 1.0)
              d[i] = in(0)[i];
        rule = d;
      })
      .Case<GemmOp>([&](GemmOp g) {
        PolyVec a = in(0), b = in(1);
        Poly m = g.getTransA() ? a[1] : a[0], ka = g.getTransA() ? a[0] : a[1];
        Poly n = g.getTransB() ? b[0] : b[1], kb = g.getTransB() ? b[1] : b[0];
        eq(ka, kb);
        rule = PolyVec{m, n};
      })
      .Case<MatMulOp>([&](MatMulOp) {
        PolyVec a = in(0), b = in(1);
        bool aVec = a.size() == 1, bVec = b.size() == 1;
        if (aVec)
          a.insert(a.begin(), Poly::constant(1));
        if (bVec)
          b.push_back(Poly::constant(1));
        eq(a.back(), b[b.size() - 2]);
        PolyVec ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
        PolyVec d = broadcastDims({ab, bb}, eq);
        if (!aVec)
          d.push_back(a[a.size() - 2]);
        if (!bVec)
          d.push_back(b.back());
        rule = d;
      })
      .Case<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp>(
          [&](Operation *) {
            auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes");
            bool keep = op->getAttrOfType<BoolAttr>("keepdims").getValue();
            PolyVec d;
            PolyVec x = in(0);
            for (int64_t i = 0; i < (int64_t)x.size(); ++i) {
              bool r = axes.empty() || llvm::is_contained(axes.asArrayRef(), i);
              if (!r)
                d.push_back(x[i]);
              else if (keep)
                d.push_back(Poly::constant(1));
            }
            rule = d;
          })
      .Case<ReshapeOp>([&](ReshapeOp r) {
        auto shape = valueDims(r.getShape());
        if (!shape) {
          ok = fail("the shape operand is not known from the input shapes; "
                    "pin the inputs with --input-shape");
          return;
        }
        PolyVec x = in(0);
        Poly total = Poly::constant(1);
        for (auto &p : x)
          total = total * p;
        PolyVec d;
        int minusOne = -1;
        Poly known = Poly::constant(1);
        for (size_t i = 0; i < shape->size(); ++i) {
          Poly p = (*shape)[i];
          if (p.isConstant() && p.constant() == 0 && !r.getAllowzero())
            p = x[i];
          if (p.isConstant() && p.constant() == -1) {
            minusOne = i;
            d.push_back(p);
            continue;
          }
          known = known * p;
          d.push_back(p);
        }
        if (minusOne >= 0) {
          auto q = canon(total).divExact(canon(known));
          if (!q) {
            ok = fail("cannot infer the -1 dimension of the reshape from the "
                      "input shapes symbolically");
            return;
          }
          d[minusOne] = *q;
        }
        rule = d;
      })
      .Case<FlattenOp>([&](FlattenOp f) {
        PolyVec x = in(0);
        Poly a = Poly::constant(1), b = Poly::constant(1);
        int64_t axis = f.getAxis();
        for (int64_t i = 0; i < (int64_t)x.size(); ++i)
          (i < axis ? a : b) = (i < axis ? a : b) * x[i];
        rule = PolyVec{a, b};
      })
      .Case<TransposeOp>([&](TransposeOp t) {
        PolyVec x = in(0), d;
        for (int64_t p : t.getPerm())
          d.push_back(x[p]);
        rule = d;
      })
      .Case<SqueezeOp>([&](SqueezeOp s) {
        PolyVec x = in(0), d;
        for (int64_t i = 0; i < (int64_t)x.size(); ++i)
          if (!llvm::is_contained(s.getAxes(), i))
            d.push_back(x[i]);
        rule = d;
      })
      .Case<UnsqueezeOp>([&](UnsqueezeOp u) {
        PolyVec x = in(0), d;
        size_t rank = x.size() + u.getAxes().size(), j = 0;
        for (int64_t i = 0; i < (int64_t)rank; ++i)
          d.push_back(llvm::is_contained(u.getAxes(), i) ? Poly::constant(1)
                                                         : x[j++]);
        rule = d;
      })
      .Case<ConcatOp>([&](ConcatOp c) {
        int64_t axis = c.getAxis();
        PolyVec d = in(0);
        Poly sum = Poly::constant(0);
        for (unsigned i = 0; i < op->getNumOperands(); ++i) {
          PolyVec x = in(i);
          sum = sum + x[axis];
          for (size_t k = 0; k < x.size(); ++k)
            if ((int64_t)k != axis)
              eq(d[k], x[k]);
        }
        d[axis] = sum;
        rule = d;
      })
      .Case<SliceOp>([&](SliceOp s) {
        PolyVec x = in(0), d = x;
        auto starts = valueDims(s.getStarts()), ends = valueDims(s.getEnds());
        auto axes = getKnownIntValues(s.getAxes());
        auto steps = getKnownIntValues(s.getSteps());
        if (!starts || !ends || !axes || !steps) {
          if (resultDynamic())
            ok = fail("slice parameters are not known from the input shapes");
          return;
        }
        for (size_t i = 0; i < axes->size(); ++i) {
          int64_t ax = (*axes)[i] < 0 ? (*axes)[i] + x.size() : (*axes)[i];
          int64_t step = (*steps)[i];
          Poly st = (*starts)[i], en = (*ends)[i], dim = x[ax];
          if (dim.isConstant() && st.isConstant() && en.isConstant()) {
            d[ax] = res[0][ax]; // static: the type has it
            continue;
          }
          if (step != 1 || !st.isConstant() || st.constant() < 0) {
            ok = fail("slicing a dynamic dimension needs step 1 and a "
                      "constant non-negative start");
            return;
          }
          if (en.isConstant() && en.constant() >= (int64_t(1) << 40)) {
            d[ax] = dim - st; // to the end
          } else if (en.isConstant() && en.constant() < 0) {
            d[ax] = dim + en - st;
          } else {
            // A symbolic end: valid while it does not pass the dim.
            checkList.push_back({canon(en), canon(dim), true, node});
            d[ax] = en - st;
          }
        }
        rule = d;
      })
      .Case<GatherOp>([&](GatherOp g) {
        PolyVec x = in(0), idx = in(1), d;
        for (int64_t i = 0; i < (int64_t)g.getAxis(); ++i)
          d.push_back(x[i]);
        d.append(idx.begin(), idx.end());
        for (size_t i = g.getAxis() + 1; i < x.size(); ++i)
          d.push_back(x[i]);
        rule = d;
      })
      .Case<ConstantOfShapeOp>([&](ConstantOfShapeOp c) {
        if (auto v = valueDims(c.getShape()))
          rule = *v;
      })
      .Case<ExpandOp>([&](ExpandOp e) {
        auto shape = valueDims(e.getShape());
        if (!shape)
          return;
        rule = broadcastDims({in(0), *shape}, eq);
      })
      .Case<TileOp>([&](TileOp t) {
        auto reps = valueDims(t.getRepeats());
        if (!reps)
          return;
        PolyVec d = in(0);
        for (size_t i = 0; i < d.size(); ++i)
          d[i] = d[i] * (*reps)[i];
        rule = d;
      })
      .Case<PadOp>([&](PadOp p) {
        PolyVec d = in(0);
        auto pads = p.getPads();
        for (size_t i = 0; i < d.size(); ++i)
          d[i] = d[i] + Poly::constant(pads[i] + pads[i + d.size()]);
        rule = d;
      })
      .Case<RangeOp>([&](RangeOp r) {
        auto st = valueDims(r.getStart()), lim = valueDims(r.getLimit()),
             dl = valueDims(r.getDelta());
        if (st && lim && dl && (*dl)[0].isConstant() &&
            (*dl)[0].constant() == 1)
          rule = PolyVec{(*lim)[0] - (*st)[0]};
      })
      .Default([&](Operation *) {});
  if (!ok)
    return false;

  // Merge the rule into the type's dims.
  if (rule) {
    PolyVec &d = res[0];
    if (rule->size() != d.size())
      return fail("internal error: symbolic rank " +
                  std::to_string(rule->size()) + " differs from the type's " +
                  std::to_string(d.size()));
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i].isConstant() && d[i].constant() == -1)
        d[i] = (*rule)[i];
      else if (!(*rule)[i].isConstant() ||
               (*rule)[i].constant() != d[i].constant())
        if (!((*rule)[i].isConstant() && (*rule)[i].constant() == -1))
          eq((*rule)[i], d[i]); // static in the type: ties a symbol down
    }
  }
  for (unsigned r = 0; r < res.size(); ++r) {
    for (auto &p : res[r])
      if (p.isConstant() && p.constant() == -1)
        return fail("dynamic dimension of result " + std::to_string(r) +
                    " cannot be expressed in the input shapes; pin the "
                    "inputs with --input-shape");
    dimMap[op->getResult(r)] = res[r];
  }

  // Boolean results of comparisons between shape values (ViT's
  // Where(Equal(shape, -1), ...)): dims are positive, so a shape value never
  // equals a negative constant.
  if (auto e = dyn_cast<EqualOp>(op)) {
    auto *a = values(e.getLhs()), *b = values(e.getRhs());
    auto rt = cast<RankedTensorType>(e.getType());
    auto fits = [&](const PolyVec *v) {
      return v->size() == 1 || (int64_t)v->size() == rt.getNumElements();
    };
    if (a && b && rt.hasStaticShape() &&
        rt.getNumElements() <= kMaxShapeValues && fits(a) && fits(b)) {
      int64_t n = rt.getNumElements();
      PolyVec v;
      for (int64_t i = 0; i < n; ++i) {
        Poly x = canon((*a)[a->size() == 1 ? 0 : i]);
        Poly y = canon((*b)[b->size() == 1 ? 0 : i]);
        Poly d = x - y;
        bool xPos = !x.isConstant() &&
                    llvm::all_of(x.terms, [](auto &t) { return t.second > 0; });
        bool yPos = !y.isConstant() &&
                    llvm::all_of(y.terms, [](auto &t) { return t.second > 0; });
        if (d.terms.empty())
          v.push_back(Poly::constant(1));
        else if (d.isConstant())
          v.push_back(Poly::constant(0));
        else if ((xPos && y.isConstant() && y.constant() <= 0) ||
                 (yPos && x.isConstant() && x.constant() <= 0))
          v.push_back(Poly::constant(0));
        else {
          v.clear();
          break;
        }
      }
      if ((int64_t)v.size() == n)
        valueMap[e.getResult()] = v;
    }
  }

  // Values of small integer tensors.
  if (op->getNumResults() != 1)
    return true;
  Value result = op->getResult(0);
  auto rt = cast<RankedTensorType>(result.getType());
  // Anything the dialect folds to constants (Mod, comparisons and logic on
  // shape values, as in the expanded Attention function).
  if (!valueMap.count(result) && !isa<ConstantOp>(op) && rt.hasStaticShape() &&
      rt.getNumElements() <= kMaxShapeValues) {
    if (auto known = getKnownIntValues(result);
        known && !known->empty() &&
        llvm::none_of(*known, ShapedType::isDynamic)) {
      PolyVec v;
      for (int64_t i : *known)
        v.push_back(Poly::constant(i));
      valueMap[result] = v;
      return true;
    }
  }
  if (!rt.getElementType().isInteger() || rt.getElementType().isInteger(1) ||
      !rt.hasStaticShape() || rt.getNumElements() > kMaxShapeValues)
    return true;
  std::optional<PolyVec> vals;
  auto all = [&](Value v) { return valuesOf(v); };
  llvm::TypeSwitch<Operation *>(op)
      .Case<ConstantOp>([&](ConstantOp c) {
        if (auto ints = getConstantIntValues(c.getResult())) {
          PolyVec v;
          for (int64_t i : *ints)
            v.push_back(Poly::constant(i));
          vals = v;
        }
      })
      .Case<ShapeOp>([&](ShapeOp s) {
        PolyVec x = in(0);
        int64_t r = x.size();
        int64_t st = (int64_t)s.getStart(), en = (int64_t)s.getEnd();
        st = st < 0 ? st + r : st;
        en = en < 0 ? en + r : en;
        st = std::clamp<int64_t>(st, 0, r);
        en = std::clamp<int64_t>(en, 0, r);
        vals = PolyVec(x.begin() + st, x.begin() + std::max(st, en));
      })
      .Case<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, CastOp>(
          [&](Operation *) {
            if (auto *v = all(op->getOperand(0)))
              vals = *v;
          })
      .Case<GatherOp>([&](GatherOp g) {
        auto *x = all(g.getInput());
        auto idx = getKnownIntValues(g.getIndices());
        auto xt = cast<RankedTensorType>(g.getInput().getType());
        if (!x || !idx || xt.getRank() != 1)
          return;
        PolyVec v;
        for (int64_t i : *idx) {
          int64_t j = i < 0 ? i + (int64_t)x->size() : i;
          if (j < 0 || j >= (int64_t)x->size())
            return;
          v.push_back((*x)[j]);
        }
        vals = v;
      })
      .Case<ConcatOp>([&](ConcatOp c) {
        if (rt.getRank() != 1)
          return;
        PolyVec v;
        for (Value o : c.getInputs()) {
          auto *x = all(o);
          if (!x)
            return;
          v.append(x->begin(), x->end());
        }
        vals = v;
      })
      .Case<SliceOp>([&](SliceOp s) {
        auto *x = all(s.getInput());
        auto st = getKnownIntValues(s.getStarts());
        auto en = getKnownIntValues(s.getEnds());
        auto stp = getKnownIntValues(s.getSteps());
        if (!x || !st || !en || !stp || rt.getRank() != 1 || st->size() != 1 ||
            (*stp)[0] <= 0)
          return;
        int64_t n = x->size();
        int64_t b = (*st)[0] < 0 ? (*st)[0] + n : (*st)[0];
        int64_t e = (*en)[0] < 0 ? (*en)[0] + n : (*en)[0];
        b = std::clamp<int64_t>(b, 0, n);
        e = std::clamp<int64_t>(e, 0, n);
        PolyVec v;
        for (int64_t i = b; i < e; i += (*stp)[0])
          v.push_back((*x)[i]);
        vals = v;
      })
      .Case<AddOp, SubOp, MulOp, DivOp>([&](Operation *) {
        auto *a = all(op->getOperand(0)), *b = all(op->getOperand(1));
        int64_t n = rt.getNumElements();
        if (!a || !b || (a->size() != 1 && (int64_t)a->size() != n) ||
            (b->size() != 1 && (int64_t)b->size() != n))
          return;
        PolyVec v;
        for (int64_t i = 0; i < n; ++i) {
          const Poly &x = (*a)[a->size() == 1 ? 0 : i];
          const Poly &y = (*b)[b->size() == 1 ? 0 : i];
          if (isa<AddOp>(op))
            v.push_back(x + y);
          else if (isa<SubOp>(op))
            v.push_back(x - y);
          else if (isa<MulOp>(op))
            v.push_back(x * y);
          else { // DivOp
            if (x.isConstant() && y.isConstant() && y.constant() != 0) {
              // ONNX integer Div truncates toward zero like C++.
              v.push_back(Poly::constant(x.constant() / y.constant()));
            } else if (auto q = canon(x).divExact(canon(y))) {
              v.push_back(*q);
            } else {
              return;
            }
          }
        }
        vals = v;
      })
      .Case<ConstantOfShapeOp>([&](ConstantOfShapeOp c) {
        int64_t fill;
        if (auto ia = dyn_cast<IntegerAttr>(c.getValue())) {
          fill = ia.getValue().getSExtValue();
        } else {
          auto attr = dyn_cast<DenseElementsAttr>(c.getValue());
          if (!attr || !attr.getElementType().isInteger())
            return;
          fill = attr.getSplatValue<APInt>().getSExtValue();
        }
        vals = PolyVec(rt.getNumElements(), Poly::constant(fill));
      })
      .Case<WhereOp>([&](WhereOp w) {
        auto *c = all(w.getCondition());
        auto *x = all(w.getX()), *y = all(w.getY());
        int64_t n = rt.getNumElements();
        if (!c || !x || !y)
          return;
        PolyVec v;
        for (int64_t i = 0; i < n; ++i) {
          const Poly &ci = (*c)[c->size() == 1 ? 0 : i];
          if (!ci.isConstant() || (x->size() != 1 && (int64_t)x->size() != n) ||
              (y->size() != 1 && (int64_t)y->size() != n))
            return;
          v.push_back(ci.constant() ? (*x)[x->size() == 1 ? 0 : i]
                                    : (*y)[y->size() == 1 ? 0 : i]);
        }
        vals = v;
      })
      .Default([&](Operation *) {});
  if (vals && (int64_t)vals->size() == rt.getNumElements())
    valueMap[result] = *vals;
  return true;
}

bool SymbolicShapes::run(func::FuncOp fn, std::string &error) {
  // ONNX dim_params name dynamic dims; equal names are one symbol.
  auto params = fn->getAttrOfType<ArrayAttr>("lop.input_dim_params");
  llvm::StringMap<unsigned> byParam;
  for (BlockArgument arg : fn.getArguments()) {
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    if (!t) {
      error = "input " + std::to_string(arg.getArgNumber()) +
              " is not a ranked tensor";
      return false;
    }
    std::string name = "input" + std::to_string(arg.getArgNumber());
    if (auto n =
            fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "lop.name"))
      name = n.str();
    ArrayAttr argParams;
    if (params && arg.getArgNumber() < params.size())
      argParams = dyn_cast<ArrayAttr>(params[arg.getArgNumber()]);
    PolyVec d;
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (!t.isDynamicDim(i)) {
        d.push_back(Poly::constant(t.getDimSize(i)));
        continue;
      }
      StringRef param;
      if (argParams && i < (int64_t)argParams.size())
        if (auto s = dyn_cast<StringAttr>(argParams[i]))
          param = s.getValue();
      if (param.empty()) {
        d.push_back(Poly::symbol(newSymbol(name + "." + std::to_string(i))));
        continue;
      }
      auto it = byParam.find(param);
      if (it == byParam.end())
        it = byParam.insert({param, newSymbol(param.str())}).first;
      d.push_back(Poly::symbol(it->second));
    }
    dimMap[arg] = d;
  }
  for (Operation &op : fn.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      continue;
    if (!analyse(&op, error))
      return false;
  }
  finish();
  return true;
}

void SymbolicShapes::finish() {
  // Dense numbering of the representatives, in order of first appearance.
  std::vector<unsigned> map(parent.size(), ~0u);
  std::vector<unsigned> rep(parent.size());
  for (unsigned i = 0; i < parent.size(); ++i)
    rep[i] = find(i);
  for (unsigned i = 0; i < parent.size(); ++i)
    if (map[rep[i]] == ~0u) {
      map[rep[i]] = names.size();
      names.push_back(rawNames[rep[i]]);
    }
  for (unsigned i = 0; i < parent.size(); ++i)
    map[i] = map[rep[i]];
  for (auto &[v, d] : dimMap)
    for (auto &p : d)
      p = p.remap(map);
  for (auto &[v, d] : valueMap)
    for (auto &p : d)
      p = p.remap(map);
  std::vector<Check> kept;
  for (auto &c : checkList) {
    Check n{c.lhs.remap(map), c.rhs.remap(map), c.lessEqual, c.node};
    if (!n.lessEqual && n.lhs == n.rhs)
      continue;
    kept.push_back(n);
  }
  checkList = kept;
}

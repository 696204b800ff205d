//===- SymbolicShapes.h - dims as polynomials over input symbols -*- C++
//-*-===//
//
// Every dynamic dimension of an imported model is expressed as a polynomial
// with integer coefficients over symbols s0, s1, ..., one per distinct
// dynamic input dimension (dims that must be equal are unified). Small
// integer tensors computed from shapes (Shape -> Gather -> Concat ->
// Reshape) are evaluated to polynomials too, so the code generator knows
// every size from the symbols alone and never reads a shape tensor at run
// time.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_LIB_CONVERSION_SYMBOLICSHAPES_H
#define LOPPER_LIB_CONVERSION_SYMBOLICSHAPES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lopper {

/// sum of coeff * prod(symbols); a monomial is a sorted multiset of symbol
/// ids.
class Poly {
public:
  Poly() = default;
  static Poly constant(int64_t c);
  static Poly symbol(unsigned s);

  bool isConstant() const;
  /// The value of a constant polynomial.
  int64_t constant() const;
  /// The symbol of a polynomial that is exactly one symbol.
  std::optional<unsigned> singleSymbol() const;

  Poly operator+(const Poly &o) const;
  Poly operator-(const Poly &o) const;
  Poly operator*(const Poly &o) const;
  /// this / d when d is a non-zero monomial dividing every term.
  std::optional<Poly> divExact(const Poly &d) const;
  bool operator==(const Poly &o) const { return terms == o.terms; }
  bool operator!=(const Poly &o) const { return terms != o.terms; }
  /// Renames symbols through `map` (old id -> new id).
  Poly remap(const std::vector<unsigned> &map) const;
  /// Evaluates with symbol values `syms`.
  int64_t eval(const std::vector<int64_t> &syms) const;
  /// "2*s0*s1+-4" (artifact metadata syntax).
  std::string str() const;

  std::map<std::vector<unsigned>, int64_t> terms;
};

using PolyVec = llvm::SmallVector<Poly, 4>;

/// The result of the analysis over one function.
class SymbolicShapes {
public:
  /// Analyses `fn`; on failure `error` names the node.
  bool run(mlir::func::FuncOp fn, std::string &error);

  /// Dims of a ranked tensor value (after unification).
  const PolyVec &dims(mlir::Value v) const;
  /// Element values of a small integer tensor, if known.
  const PolyVec *values(mlir::Value v) const;

  unsigned numSymbols() const { return names.size(); }
  const std::vector<std::string> &symbolNames() const { return names; }

  struct Check {
    Poly lhs, rhs;
    bool lessEqual; ///< lhs <= rhs, else lhs == rhs
    std::string node;
  };
  const std::vector<Check> &checks() const { return checkList; }

private:
  unsigned newSymbol(std::string name);
  unsigned find(unsigned s);
  Poly canon(const Poly &p);
  /// Records that a and b are equal: unifies symbols or adds a check.
  void equate(const Poly &a, const Poly &b, const std::string &node);
  bool analyse(mlir::Operation *op, std::string &error);
  void finish();

  llvm::DenseMap<mlir::Value, PolyVec> dimMap;
  llvm::DenseMap<mlir::Value, PolyVec> valueMap;
  std::vector<unsigned> parent;
  std::vector<std::string> rawNames;
  std::vector<std::string> names;
  std::vector<Check> checkList;
};

} // namespace lopper

#endif

//===- DialectTest.cpp - unit tests of the lop dialect helpers ------------===//

#include "lopper/Analysis/ModelStats.h"
#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace lopper;

namespace {

class DialectTest : public ::testing::Test {
protected:
  DialectTest() {
    registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }
  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
};

TEST_F(DialectTest, SparsityChecksNMGroups) {
  auto sp = lop::SparsityAttr::get(context.get(), lop::SparsityKind::nm, {2, 4},
                                   0, llvm::APFloat(0.5));
  auto type = mlir::RankedTensorType::get(
      {2, 4}, mlir::Float32Type::get(context.get()));
  llvm::SmallVector<double> good{1, 0, 2, 0, 0, 3, 0, 4};
  llvm::SmallVector<double> bad{1, 2, 3, 0, 0, 0, 0, 4};
  EXPECT_TRUE(
      mlir::succeeded(lop::verifySparsity(std::nullopt, type, sp, &good)));
  EXPECT_TRUE(mlir::failed(lop::verifySparsity(std::nullopt, type, sp, &bad)));
}

TEST_F(DialectTest, SparsityNMAlongReductionOfOutputAxis1) {
  // A MatMul weight [K, N] = [4, 2]: output axis 1, groups run down K.
  auto sp = lop::SparsityAttr::get(context.get(), lop::SparsityKind::nm, {2, 4},
                                   1, llvm::APFloat(0.5));
  auto type = mlir::RankedTensorType::get(
      {4, 2}, mlir::Float32Type::get(context.get()));
  // Column 0 = {1, 0, 2, 0}, column 1 = {0, 3, 0, 4}: 2 of 4 in each.
  llvm::SmallVector<double> data{1, 0, 0, 3, 2, 0, 0, 4};
  EXPECT_TRUE(
      mlir::succeeded(lop::verifySparsity(std::nullopt, type, sp, &data)));
  // Rows laid out as if axis 0 were the output axis would put 3 in a group.
  llvm::SmallVector<double> bad{1, 0, 1, 3, 2, 0, 0, 4};
  EXPECT_TRUE(mlir::failed(lop::verifySparsity(std::nullopt, type, sp, &bad)));
}

TEST_F(DialectTest, BlockDensityCountsBlocks) {
  auto type = mlir::RankedTensorType::get(
      {4, 2}, mlir::Float32Type::get(context.get()));
  // 4x1 blocks over [O=4, R=2]: column 0 all zero, column 1 kept.
  llvm::SmallVector<double> data{0, 1, 0, 0, 0, 2, 0, 0};
  auto half = lop::SparsityAttr::get(context.get(), lop::SparsityKind::block,
                                     {4, 1}, 0, llvm::APFloat(0.5));
  EXPECT_TRUE(
      mlir::succeeded(lop::verifySparsity(std::nullopt, type, half, &data)));
  auto wrong = lop::SparsityAttr::get(context.get(), lop::SparsityKind::block,
                                      {4, 1}, 0, llvm::APFloat(0.25));
  EXPECT_TRUE(
      mlir::failed(lop::verifySparsity(std::nullopt, type, wrong, &data)));
}

TEST_F(DialectTest, ModelStatsCountMacs) {
  const char *src = R"mlir(
    func.func @main(%x: tensor<?x3x8x8xf32>, %w: tensor<4x3x3x3xf32>,
                    %a: tensor<?x16xf32>, %b: tensor<16x10xf32>) -> (tensor<?x4x8x8xf32>, tensor<?x10xf32>) {
      %0 = lop.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<?x4x8x8xf32>
      %1 = lop.matmul %a, %b : tensor<?x16xf32>, tensor<16x10xf32> -> tensor<?x10xf32>
      return %0, %1 : tensor<?x4x8x8xf32>, tensor<?x10xf32>
    })mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, context.get());
  ASSERT_TRUE(module);
  ModelStats s = computeModelStats(*module, 2);
  EXPECT_EQ(s.macsByOp["Conv"], 2 * 4 * 8 * 8 * 27);
  EXPECT_EQ(s.macsByOp["MatMul"], 2 * 10 * 16);
  EXPECT_EQ(s.nodes, 2);
}

TEST_F(DialectTest, OnnxNames) {
  const char *src = R"mlir(
    func.func @main(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
      %0 = lop.hard_swish %x : tensor<2x3xf32> -> tensor<2x3xf32>
      %1 = lop.layer_norm %0, %s : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
      return %1 : tensor<2x3xf32>
    })mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, context.get());
  ASSERT_TRUE(module);
  std::vector<std::string> names;
  module->walk([&](mlir::Operation *op) {
    if (llvm::isa<lop::LopDialect>(op->getDialect()))
      names.push_back(lop::getOnnxOpType(op));
  });
  EXPECT_EQ(names,
            (std::vector<std::string>{"HardSwish", "LayerNormalization"}));
}

} // namespace

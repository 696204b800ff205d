//===- CostModelTest.cpp - the CPU kernel cost model ----------------------===//

#include "lopper/Conversion/CostModel.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace lopper;

namespace {

bool sparseWins(KernelFamily dense, KernelFamily sparse, double M,
                double density) {
  double ops = 2.0 * 1024 * 1024 * M;
  return predictSeconds(sparse, ops, M, density) <=
         kSparseMargin * predictSeconds(dense, ops, M);
}

TEST(CostModel, DenseRateGrowsWithRows) {
  EXPECT_LT(denseRate(KernelFamily::DenseF32, 1),
            denseRate(KernelFamily::DenseF32, 128));
  // The measured points: 41 GFLOP/s at M = 1, ~110 at M = 128.
  EXPECT_NEAR(denseRate(KernelFamily::DenseF32, 1) / 1e9, 41, 2);
  EXPECT_NEAR(denseRate(KernelFamily::DenseF32, 128) / 1e9, 110, 2);
  EXPECT_NEAR(denseRate(KernelFamily::DenseQ8, 128) / 1e9, 415, 15);
}

TEST(CostModel, BlockSparseOnlyWhereMeasuredFaster) {
  for (auto [d, s] : {std::pair(KernelFamily::DenseF32, KernelFamily::BsrF32),
                      std::pair(KernelFamily::DenseQ8, KernelFamily::BsrQ8)}) {
    for (double M : {1.0, 128.0}) {
      // Measured: 50% and sparser blocks are faster at both M.
      EXPECT_TRUE(sparseWins(d, s, M, 0.5)) << kernelFamilyName(s) << M;
      EXPECT_TRUE(sparseWins(d, s, M, 0.1)) << kernelFamilyName(s) << M;
      // A weight with (nearly) every block stored stays dense.
      EXPECT_FALSE(sparseWins(d, s, M, 1.0)) << kernelFamilyName(s) << M;
      EXPECT_FALSE(sparseWins(d, s, M, 0.95)) << kernelFamilyName(s) << M;
    }
  }
  // Monotone in density.
  double prev = 0;
  for (double dens = 0.05; dens <= 1.0; dens += 0.05) {
    double t = predictSeconds(KernelFamily::BsrQ8, 1e9, 64, dens);
    EXPECT_GT(t, prev);
    prev = t;
  }
}

TEST(CostModel, KernelConfigParsesAndMatchesMostSpecificFirst) {
  std::string path = ::testing::TempDir() + "/kc.json";
  {
    std::ofstream f(path);
    f << R"({"*": "dense", "/layers.0/*": "block-sparse"})";
  }
  KernelConfig c;
  std::string error;
  ASSERT_TRUE(parseKernelConfig(path, c, error)) << error;
  ASSERT_EQ(c.rules.size(), 2u);
  auto hit = c.lookup("/layers.0/fc/MatMul");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->first, "block-sparse");
  hit = c.lookup("/layers.1/fc/MatMul");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->first, "dense");
}

TEST(CostModel, KernelConfigErrorsNameTheEntry) {
  std::string path = ::testing::TempDir() + "/kc-bad.json";
  {
    std::ofstream f(path);
    f << R"({"fc*": 3})";
  }
  KernelConfig c;
  std::string error;
  EXPECT_FALSE(parseKernelConfig(path, c, error));
  EXPECT_NE(error.find("'fc*'"), std::string::npos) << error;
  EXPECT_FALSE(parseKernelConfig(path + ".missing", c, error));
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
}

} // namespace

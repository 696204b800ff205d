//===- PruningTest.cpp - unit tests of the pruning pipeline API -----------===//

#include "lopper/Passes/Pruning.h"
#include "lopper/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace lopper;

namespace {

TEST(PruningSpec, ParsesEveryMode) {
  std::string error;
  auto m = parsePruneSpec("magnitude:0.5", error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, PruneSpec::Kind::Magnitude);
  EXPECT_DOUBLE_EQ(m->sparsity, 0.5);
  EXPECT_FALSE(m->global);
  auto g = parsePruneSpec("magnitude:0.8:global", error);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->global);
  auto nm = parsePruneSpec("nm:2:4", error);
  ASSERT_TRUE(nm);
  EXPECT_EQ(nm->kind, PruneSpec::Kind::NM);
  EXPECT_EQ(nm->n, 2);
  EXPECT_EQ(nm->m, 4);
  auto b = parsePruneSpec("block:4x1:0.75", error);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, PruneSpec::Kind::Block);
  EXPECT_EQ(b->rows, 4);
  EXPECT_EQ(b->cols, 1);
  EXPECT_DOUBLE_EQ(b->sparsity, 0.75);
  auto c = parsePruneSpec("channel:0", error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, PruneSpec::Kind::Channel);
}

TEST(PruningSpec, RejectsBadSpecsWithExactMessages) {
  const std::pair<const char *, const char *> cases[] = {
      {"", "bad pruning spec '': unknown mode '' (expected magnitude, nm, "
           "block or channel)"},
      {"magnitude", "bad pruning spec 'magnitude': expected magnitude:S or "
                    "magnitude:S:global"},
      {"magnitude:x", "bad pruning spec 'magnitude:x': sparsity 'x' is not a "
                      "number in [0, 1)"},
      {"magnitude:-0.1", "bad pruning spec 'magnitude:-0.1': sparsity '-0.1' "
                         "is not a number in [0, 1)"},
      {"nm:2:2", "bad pruning spec 'nm:2:2': N and M must be integers with "
                 "0 < N < M"},
      {"nm:0:4", "bad pruning spec 'nm:0:4': N and M must be integers with "
                 "0 < N < M"},
      {"block:0x4:0.5", "bad pruning spec 'block:0x4:0.5': block size '0x4' "
                        "is not RxC with positive integers"},
      {"block:4x1:1", "bad pruning spec 'block:4x1:1': sparsity '1' is not a "
                      "number in [0, 1)"},
      {"channel:0.5:global", "bad pruning spec 'channel:0.5:global': "
                             "expected channel:S (e.g. channel:0.25)"},
  };
  for (auto [spec, want] : cases) {
    std::string error;
    EXPECT_FALSE(parsePruneSpec(spec, error)) << spec;
    EXPECT_EQ(error, want) << spec;
  }
}

TEST(PruningPipeline, OnePassPerKindChannelFirst) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SmallString<64> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("prune-config", "json", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << R"({"layers": [{"match": "fc*", "pattern": "nm:2:4"}]})";
  }
  mlir::PassManager pm(&context);
  PruningOptions opts;
  opts.configFile = path.str().str();
  std::string error;
  ASSERT_TRUE(
      mlir::succeeded(addPruningPasses(pm, "channel:0.25", opts, error)))
      << error;
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  EXPECT_NE(text.find("lop-prune-channel{"), std::string::npos) << text;
  EXPECT_NE(text.find("lop-prune-nm{"), std::string::npos) << text;
  EXPECT_LT(text.find("lop-prune-channel"), text.find("lop-prune-nm")) << text;
  EXPECT_NE(text.find("config-only=true"), std::string::npos) << text;
  llvm::sys::fs::remove(path);
}

} // namespace

// Unit tests of the runtime's internals: polynomials, the metadata parser,
// the arena planner, the thread pool, CPU features, the kernel registry.
#include "internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

using namespace lopper::rt;

//===--- Polynomials --------------------------------------------------------//

TEST(RuntimePoly, ParseAndEval) {
  Poly p;
  std::string err;
  ASSERT_TRUE(parsePoly("2*s0*s1*s1+-4", 2, &p, &err)) << err;
  int64_t syms[2] = {3, 5};
  int64_t v;
  ASSERT_TRUE(p.eval(syms, &v));
  EXPECT_EQ(v, 2 * 3 * 5 * 5 - 4);
  EXPECT_FALSE(p.isConstant(&v));
  EXPECT_EQ(p.singleSymbol(), -1);
  EXPECT_EQ(p.str({"batch", "seq"}), "2*batch*seq*seq-4");

  ASSERT_TRUE(parsePoly("s1", 2, &p, &err));
  EXPECT_EQ(p.singleSymbol(), 1);
  ASSERT_TRUE(parsePoly("1*s1", 2, &p, &err));
  EXPECT_EQ(p.singleSymbol(), 1);
  ASSERT_TRUE(parsePoly("-7", 0, &p, &err));
  ASSERT_TRUE(p.isConstant(&v));
  EXPECT_EQ(v, -7);
  ASSERT_TRUE(parsePoly("3+4*5", 0, &p, &err));
  ASSERT_TRUE(p.isConstant(&v));
  EXPECT_EQ(v, 23);
  ASSERT_TRUE(parsePoly("s0+-1*s1", 2, &p, &err));
  EXPECT_EQ(p.str({"a", "b"}), "a-b");
  ASSERT_TRUE(parsePoly("-9223372036854775808", 0, &p, &err));
  ASSERT_TRUE(p.isConstant(&v));
  EXPECT_EQ(v, INT64_MIN);

  for (const char *bad : {"", "+", "s0+", "*s0", "s", "s-1", "sx", "2**3",
                          "1.5", "s2", "9223372036854775808", "s0 ", "--1"}) {
    EXPECT_FALSE(parsePoly(bad, 2, &p, &err)) << "'" << bad << "'";
    EXPECT_FALSE(err.empty());
  }
}

TEST(RuntimePoly, Overflow) {
  Poly p;
  std::string err;
  ASSERT_TRUE(parsePoly("s0*s0*s0", 1, &p, &err));
  int64_t big[1] = {3000000}, v;
  EXPECT_FALSE(p.eval(big, &v));
  ASSERT_TRUE(parsePoly("9223372036854775807+s0", 1, &p, &err));
  int64_t one[1] = {1};
  EXPECT_FALSE(p.eval(one, &v));
  EXPECT_FALSE(parsePoly("4611686018427387904*4", 0, &p, &err));
}

//===--- Metadata -----------------------------------------------------------//

namespace {
const char *kGood = "lopper-artifact 1\n"
                    "model my%20model\n"
                    "syms 2 batch seq%25\n"
                    "input ids 7 2 s0 s1\n"
                    "input mask 9 2 s0 s1\n"
                    "output logits 1 3 s0 s1 2*s1+1\n"
                    "check s1 le 512 Reshape_3\n"
                    "check s0*s1 eq s1*s0 MatMul%201\n"
                    "buffer 4*s0*s1 0 1\n"
                    "buffer 64 1 1\n"
                    "op gather Gather_0\n"
                    "op matmul MatMul%201\n"
                    "tap h 1 2 s0 s1 arena 1 0\n"
                    "end\n";

std::string parseError(const std::string &text) {
  Metadata md;
  std::string err;
  if (parseMetadata(text.data(), text.size(), &md, &err))
    return "(parsed)";
  return err;
}
} // namespace

TEST(RuntimeMetadata, Parses) {
  Metadata md;
  std::string err;
  ASSERT_TRUE(parseMetadata(kGood, strlen(kGood), &md, &err)) << err;
  EXPECT_EQ(md.abiVersion, 1u);
  EXPECT_EQ(md.modelName, "my model");
  ASSERT_EQ(md.syms.size(), 2u);
  EXPECT_EQ(md.syms[1], "seq%");
  ASSERT_EQ(md.inputs.size(), 2u);
  EXPECT_EQ(md.inputs[0].dtype, LOPPER_DTYPE_I64);
  EXPECT_EQ(md.inputs[1].dtype, LOPPER_DTYPE_BOOL);
  ASSERT_EQ(md.outputs.size(), 1u);
  ASSERT_EQ(md.outputs[0].dims.size(), 3u);
  int64_t syms[2] = {2, 10}, v;
  ASSERT_TRUE(md.outputs[0].dims[2].eval(syms, &v));
  EXPECT_EQ(v, 21);
  ASSERT_EQ(md.checks.size(), 2u);
  EXPECT_TRUE(md.checks[0].le);
  EXPECT_FALSE(md.checks[1].le);
  EXPECT_EQ(md.checks[1].node, "MatMul 1");
  ASSERT_EQ(md.buffers.size(), 2u);
  EXPECT_EQ(md.buffers[1].firstOp, 1);
  ASSERT_EQ(md.ops.size(), 2u);
  EXPECT_EQ(md.ops[1].kind, "matmul");
  ASSERT_EQ(md.taps.size(), 1u);
  EXPECT_EQ(md.taps[0].where, TapWhere::Arena);
  EXPECT_EQ(md.taps[0].index, 1);
  // Duplicate names are allowed; %00 is the empty name.
  std::string dup = "lopper-artifact 1\nop Conv %00\nop Conv %00\n"
                    "tap %00 1 0 weights 0 0\ntap %00 1 0 weights 0 4\nend\n";
  ASSERT_TRUE(parseMetadata(dup.data(), dup.size(), &md, &err)) << err;
  EXPECT_EQ(md.ops[1].node, "");
  EXPECT_EQ(md.taps[1].name, "");
  // No trailing newline, no model/syms records: fine.
  EXPECT_EQ(parseError("lopper-artifact 1\ninput x 1 1 3\nend"), "(parsed)");
}

TEST(RuntimeMetadata, MalformedIsAnErrorWithLineNumber) {
  struct Case {
    const char *text, *error;
  } cases[] = {
      {"", "empty metadata"},
      {"model x\nend\n", "line 1: expected 'lopper-artifact"},
      {"lopper-artifact one\nend\n", "line 1: ABI version 'one'"},
      {"lopper-artifact 1\n", "line 1: missing 'end'"},
      {"lopper-artifact 1\nmodel x\n\nend\n", "line 3: empty line"},
      {"lopper-artifact 1\nmodel  x\nend\n", "line 2: empty field"},
      {"lopper-artifact 1\nmodel a b\nend\n", "line 2: 'model' record has 2"},
      {"lopper-artifact 1\nmodel a%2\nend\n", "line 2: bad percent-encoding"},
      {"lopper-artifact 1\nmodel a%zz\nend\n", "line 2: bad percent-encoding"},
      {"lopper-artifact 1\nsyms 2 a\nend\n",
       "line 2: symbol count 2 but 1 names"},
      {"lopper-artifact 1\nsyms\nend\n", "line 2: missing symbol count"},
      {"lopper-artifact 1\ninput x 1 2 4\nend\n", "line 2: expected 2 dims"},
      {"lopper-artifact 1\ninput x 1 1 4 5\nend\n", "line 2: extra fields"},
      {"lopper-artifact 1\ninput x 8 1 4\nend\n", "line 2: unknown dtype 8"},
      {"lopper-artifact 1\ninput x 1 9 1 1 1 1 1 1 1 1 1\nend\n",
       "line 2: rank 9 out of range"},
      {"lopper-artifact 1\ninput x 1 1 s0\nend\n",
       "line 2: dim: symbol s0 out of range"},
      {"lopper-artifact 1\ninput x 1\nend\n", "line 2: missing dtype or rank"},
      {"lopper-artifact 1\noutput y 1 0\ninput x 1 0\nend\n",
       "line 3: 'input' record out of order"},
      {"lopper-artifact 1\nmodel a\nmodel b\nend\n",
       "line 3: 'model' record out of order"},
      {"lopper-artifact 1\ncheck 1 ne 1 n\nend\n",
       "line 2: unknown check op 'ne'"},
      {"lopper-artifact 1\ncheck 1 eq 1\nend\n", "line 2: 'check' record has"},
      {"lopper-artifact 1\nbuffer 16 2 1\nend\n", "line 2: bad op range"},
      {"lopper-artifact 1\nbuffer 16 -1 1\nend\n", "line 2: bad op range"},
      {"lopper-artifact 1\nbuffer x 0 1\nend\n", "line 2: buffer size"},
      {"lopper-artifact 1\nop conv\nend\n", "line 2: 'op' record has 1"},
      {"lopper-artifact 1\ntap t 1 1 4 arena 0\nend\n",
       "line 2: expected <where> <index> <byte_offset>"},
      {"lopper-artifact 1\ntap t 1 1 4 disk 0 0\nend\n",
       "line 2: unknown tap location 'disk'"},
      {"lopper-artifact 1\ntap t 1 1 4 arena 0 0\nend\n",
       "tap 't': arena buffer index 0 out of range"},
      {"lopper-artifact 1\ntap t 1 1 4 weights 1 0\nend\n",
       "tap 't': weights index 1 out of range"},
      {"lopper-artifact 1\ntap t 1 1 4 weights 0 -8\nend\n",
       "line 2: negative tap index or byte offset"},
      {"lopper-artifact 1\nfrob 1\nend\n", "line 2: unknown record 'frob'"},
      {"lopper-artifact 1\nend\nmodel x\n", "line 3: text after 'end'"},
      {"lopper-artifact 1\nend x\n", "line 2: 'end' record has 1"},
      {"lopper-artifact 1\r\nend\n", "line 1: ABI version '1\r'"},
  };
  for (const Case &c : cases) {
    std::string err = parseError(c.text);
    EXPECT_NE(err.find(c.error), std::string::npos)
        << "text:\n"
        << c.text << "\nerror: " << err << "\nexpected: " << c.error;
  }
  // An embedded NUL.
  std::string withNul("lopper-artifact 1\nend\n\0", 23);
  EXPECT_NE(parseError(withNul).find("NUL"), std::string::npos);
}

TEST(RuntimeMetadata, FuzzDoesNotCrash) {
  // Random mutations of a valid text: every outcome must be a clean
  // parse or an error message.
  std::mt19937 rng(1234);
  std::string good = kGood;
  const char alphabet[] = " \n%*+-0123456789sabcdeflopr";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string t = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
      case 0:
        t[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
        break;
      case 1:
        t.erase(pos, 1 + rng() % 3);
        break;
      default:
        t.insert(pos, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
      }
      if (t.empty())
        t = "x";
    }
    Metadata md;
    std::string err;
    bool ok = parseMetadata(t.data(), t.size(), &md, &err);
    EXPECT_TRUE(ok || !err.empty());
  }
}

//===--- Arena planner ------------------------------------------------------//

namespace {
void checkPlan(const std::vector<PlanBuffer> &bufs, const Plan &plan) {
  ASSERT_EQ(plan.offsets.size(), bufs.size());
  int64_t sum = 0;
  for (const PlanBuffer &b : bufs)
    sum += (b.bytes + 63) / 64 * 64;
  EXPECT_LE(plan.arenaBytes, sum);
  EXPECT_EQ(plan.arenaBytes % 64, 0);
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0);
    EXPECT_GE(plan.offsets[i], 0);
    EXPECT_LE(plan.offsets[i] + bufs[i].bytes, plan.arenaBytes);
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      bool liveTogether = bufs[i].firstOp <= bufs[j].lastOp &&
                          bufs[j].firstOp <= bufs[i].lastOp;
      bool overlap = bufs[i].bytes > 0 && bufs[j].bytes > 0 &&
                     plan.offsets[i] < plan.offsets[j] + bufs[j].bytes &&
                     plan.offsets[j] < plan.offsets[i] + bufs[i].bytes;
      EXPECT_FALSE(liveTogether && overlap)
          << "buffers " << i << " and " << j << " overlap";
    }
  }
}
} // namespace

TEST(RuntimePlanner, Simple) {
  // A chain: each buffer lives from its producer to its consumer.
  std::vector<PlanBuffer> bufs = {
      {1000, 0, 1}, {2000, 1, 2}, {1000, 2, 3}, {500, 3, 4}};
  Plan plan;
  std::string err;
  ASSERT_TRUE(planArena(bufs, &plan, &err)) << err;
  checkPlan(bufs, plan);
  // Peak: 2000 (+ alignment) + 1024: buffers 0 and 2 share memory.
  EXPECT_EQ(plan.offsets[1], 0);
  EXPECT_EQ(plan.arenaBytes, 2048 + 1024);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
}

TEST(RuntimePlanner, EdgeCases) {
  Plan plan;
  std::string err;
  ASSERT_TRUE(planArena({}, &plan, &err));
  EXPECT_EQ(plan.arenaBytes, 0);
  ASSERT_TRUE(planArena({{0, 0, 5}, {0, 0, 5}}, &plan, &err));
  EXPECT_EQ(plan.arenaBytes, 0);
  ASSERT_TRUE(planArena({{1, 0, 0}, {1, 0, 0}, {1, 0, 0}}, &plan, &err));
  EXPECT_EQ(plan.arenaBytes, 192);
  EXPECT_FALSE(planArena({{-1, 0, 0}}, &plan, &err));
  EXPECT_NE(err.find("negative"), std::string::npos);
  EXPECT_FALSE(
      planArena({{INT64_MAX - 10, 0, 0}, {INT64_MAX - 10, 0, 0}}, &plan, &err));
  EXPECT_NE(err.find("overflow"), std::string::npos);
}

TEST(RuntimePlanner, RandomBuffers) {
  std::mt19937 rng(42);
  for (int iter = 0; iter < 300; ++iter) {
    size_t n = 1 + rng() % 60;
    std::vector<PlanBuffer> bufs(n);
    int64_t live = 0;
    for (PlanBuffer &b : bufs) {
      b.bytes = rng() % 8 == 0 ? 0 : static_cast<int64_t>(rng() % 100000);
      b.firstOp = rng() % 40;
      b.lastOp = b.firstOp + rng() % 10;
      live += b.bytes;
    }
    Plan plan;
    std::string err;
    ASSERT_TRUE(planArena(bufs, &plan, &err)) << err;
    checkPlan(bufs, plan);
    if (HasFailure())
      return;
  }
}

//===--- Thread pool --------------------------------------------------------//

namespace {
struct RangeCheck {
  std::vector<std::atomic<int>> hits;
  std::atomic<int64_t> minChunk{INT64_MAX};
  std::atomic<int> chunks{0};
  explicit RangeCheck(int64_t n) : hits(static_cast<size_t>(n)) {}
  static void fn(void *ctx, int64_t begin, int64_t end) {
    auto *c = static_cast<RangeCheck *>(ctx);
    for (int64_t i = begin; i < end; ++i)
      c->hits[static_cast<size_t>(i)].fetch_add(1);
    int64_t len = end - begin, cur = c->minChunk.load();
    while (len < cur && !c->minChunk.compare_exchange_weak(cur, len)) {
    }
    c->chunks.fetch_add(1);
  }
  bool once() const {
    for (const auto &h : hits)
      if (h.load() != 1)
        return false;
    return true;
  }
};
} // namespace

TEST(RuntimeParallelFor, NullRtRunsSerially) {
  RangeCheck c(1000);
  lopper_rt_parallel_for(nullptr, 1000, 10, RangeCheck::fn, &c);
  EXPECT_TRUE(c.once());
  EXPECT_EQ(c.chunks.load(), 1);
  lopper_rt_parallel_for(nullptr, 0, 10, RangeCheck::fn, &c);
  lopper_rt_parallel_for(nullptr, -5, 10, RangeCheck::fn, &c);
  EXPECT_EQ(c.chunks.load(), 1);
}

TEST(RuntimeParallelFor, ChunksAndCoverage) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.numThreads(), 4);
  RunContext rt;
  rt.pool = &pool;
  for (int64_t n : {1, 7, 63, 64, 65, 1000, 100003}) {
    for (int64_t grain : {int64_t(0), int64_t(1), int64_t(16), int64_t(5000)}) {
      RangeCheck c(n);
      lopper_rt_parallel_for(&rt, n, grain, RangeCheck::fn, &c);
      EXPECT_TRUE(c.once()) << n << " " << grain;
      if (n >= std::max<int64_t>(grain, 1)) {
        EXPECT_GE(c.minChunk.load(), std::max<int64_t>(grain, 1))
            << n << " " << grain;
      }
    }
  }
  // A pool of one thread has no workers and runs on the caller.
  ThreadPool one(1);
  EXPECT_EQ(one.numThreads(), 1);
  rt.pool = &one;
  RangeCheck c(100);
  lopper_rt_parallel_for(&rt, 100, 1, RangeCheck::fn, &c);
  EXPECT_TRUE(c.once());
  EXPECT_EQ(c.chunks.load(), 1);
}

TEST(RuntimeParallelFor, ConcurrentCallers) {
  ThreadPool pool(3);
  RunContext rt;
  rt.pool = &pool;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        int64_t n = 1 + (t * 131 + i * 17) % 3000;
        RangeCheck c(n);
        lopper_rt_parallel_for(&rt, n, 1 + i % 7, RangeCheck::fn, &c);
        if (!c.once())
          ++failures;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

namespace {
struct Nested {
  RunContext *rt;
  std::atomic<int64_t> total{0};
  static void inner(void *ctx, int64_t b, int64_t e) {
    static_cast<Nested *>(ctx)->total.fetch_add(e - b);
  }
  static void outer(void *ctx, int64_t b, int64_t e) {
    auto *n = static_cast<Nested *>(ctx);
    for (int64_t i = b; i < e; ++i)
      lopper_rt_parallel_for(n->rt, 100, 3, inner, n);
  }
};
} // namespace

TEST(RuntimeParallelFor, NestedCallsDoNotDeadlock) {
  ThreadPool pool(4);
  RunContext rt;
  rt.pool = &pool;
  Nested n;
  n.rt = &rt;
  lopper_rt_parallel_for(&rt, 64, 1, Nested::outer, &n);
  EXPECT_EQ(n.total.load(), 6400);
}

TEST(RuntimeParallelFor, UsesSeveralThreads) {
  if (std::thread::hardware_concurrency() < 2)
    GTEST_SKIP() << "one core";
  ThreadPool pool(4);
  RunContext rt;
  rt.pool = &pool;
  struct Ids {
    std::mutex mu;
    std::vector<std::thread::id> ids;
    static void fn(void *ctx, int64_t, int64_t) {
      auto *s = static_cast<Ids *>(ctx);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::lock_guard<std::mutex> lock(s->mu);
      if (std::find(s->ids.begin(), s->ids.end(), std::this_thread::get_id()) ==
          s->ids.end())
        s->ids.push_back(std::this_thread::get_id());
    }
  } ids;
  lopper_rt_parallel_for(&rt, 64, 1, Ids::fn, &ids);
  EXPECT_GE(ids.ids.size(), 2u);
}

//===--- CPU features and kernels -------------------------------------------//

TEST(RuntimeCpu, FeatureNames) {
  EXPECT_EQ(cpuFeatureNames(0), "");
  EXPECT_EQ(cpuFeatureNames(LOPPER_CPU_AVX512F | LOPPER_CPU_AVX512VNNI),
            "avx512f, avx512vnni");
  EXPECT_EQ(cpuFeatureNames(LOPPER_CPU_NEON), "neon");
  EXPECT_EQ(cpuFeatureNames(LOPPER_CPU_SSE42 | (1ull << 40)), "sse4.2, bit40");
}

TEST(RuntimeCpu, HostFeatures) {
  uint64_t f = hostCpuFeatures();
#if defined(__x86_64__)
  EXPECT_EQ(f & LOPPER_CPU_NEON, 0u);
  EXPECT_NE(f & LOPPER_CPU_SSE42, 0u); // every x86-64 this runs on
  if (f & LOPPER_CPU_AVX2) {
    EXPECT_NE(f & LOPPER_CPU_AVX, 0u);
  }
  if (f & LOPPER_CPU_AVX512BW) {
    EXPECT_NE(f & LOPPER_CPU_AVX512F, 0u);
  }
#if defined(__AVX2__)
  EXPECT_NE(f & LOPPER_CPU_AVX2, 0u);
#endif
#elif defined(__aarch64__)
  EXPECT_NE(f & LOPPER_CPU_NEON, 0u);
#endif
  std::printf("host CPU features: %s\n", cpuFeatureNames(f).c_str());
  overrideCpuFeaturesForTesting(true, 5);
  EXPECT_EQ(hostCpuFeatures(), 5u);
  overrideCpuFeaturesForTesting(false, 0);
  EXPECT_EQ(hostCpuFeatures(), f);
}

TEST(RuntimeKernels, Registry) {
  for (const char *name :
       {"lopper_k_op_begin_v1", "lopper_k_op_end_v1", "lopper_k_tap_v1"})
    EXPECT_NE(findKernel(name), nullptr) << name;
  EXPECT_EQ(findKernel("lopper_k_op_begin_v2"), nullptr);
  EXPECT_EQ(findKernel(""), nullptr);
#if LOPPER_TEST_HAVE_CPU_KERNELS
  EXPECT_NE(findKernel("lopper_k_conv2d_f32_v1"), nullptr);
  EXPECT_NE(findKernel("lopper_k_matmul_f32_v1"), nullptr);
  EXPECT_NE(findKernel("lopper_k_conv2d_q8_v1"), nullptr);
  EXPECT_NE(findKernel("lopper_k_matmul_q8_v1"), nullptr);
  EXPECT_NE(findKernel("lopper_k_matmul_bsr_f32_v1"), nullptr);
  EXPECT_NE(findKernel("lopper_k_matmul_bsr_q8_v1"), nullptr);
  EXPECT_EQ(numKernels(), 9u);
#else
  EXPECT_EQ(numKernels(), 3u);
#endif
  for (size_t i = 0; i < numKernels(); ++i)
    EXPECT_EQ(findKernel(kernelName(i)) != nullptr, true);
  EXPECT_EQ(kernelName(numKernels()), nullptr);
}

TEST(RuntimeKernels, HooksWithoutContextAreNoOps) {
  lopper_k_op_begin_v1(nullptr, 0);
  lopper_k_op_end_v1(nullptr, 0);
  lopper_k_tap_v1(nullptr, 0);
  RunContext rt; // profiling and tapping off
  lopper_k_op_begin_v1(&rt, 0);
  lopper_k_op_end_v1(&rt, 0);
  lopper_k_tap_v1(&rt, 0);
}

// Benchmark-only lopper_rt_parallel_for with real threads (the kernel
// benchmarks do not link the runtime library). Same scheduling as the
// runtime's pool (runtime/src/threadpool.cpp): the range is split into
// min(n / grain, 4 * threads) balanced chunks claimed with an atomic
// counter by the caller and by helpers woken through a condition variable.
// rt is a BenchPool * (benchPoolCreate); rt == NULL runs fn(ctx, 0, n).
#include "BenchPool.h"
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Job {
  void (*fn)(void *, int64_t, int64_t);
  void *ctx;
  int64_t n, chunks;
  std::atomic<int64_t> next{0};
  std::atomic<int> pending{0}; // helpers still working on it

  void work() {
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks)
        return;
      const int64_t begin =
          static_cast<int64_t>(static_cast<__int128>(n) * c / chunks);
      const int64_t end =
          static_cast<int64_t>(static_cast<__int128>(n) * (c + 1) / chunks);
      fn(ctx, begin, end);
    }
  }
};

} // namespace

struct BenchPool {
  explicit BenchPool(int threads) {
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this] { loop(); });
  }
  ~BenchPool() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (std::thread &t : workers)
      t.join();
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      Job *j;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || (job && generation != seen); });
        if (stop)
          return;
        seen = generation;
        j = job;
        j->pending.fetch_add(1);
      }
      j->work();
      {
        std::lock_guard<std::mutex> lock(mu);
        j->pending.fetch_sub(1);
      }
      done.notify_all();
    }
  }

  void parallelFor(int64_t n, int64_t grain,
                   void (*fn)(void *, int64_t, int64_t), void *ctx) {
    if (grain < 1)
      grain = 1;
    const int64_t maxChunks = n / grain;
    const int64_t threads = static_cast<int64_t>(workers.size()) + 1;
    if (maxChunks <= 1 || threads == 1) {
      fn(ctx, 0, n);
      return;
    }
    Job j;
    j.fn = fn;
    j.ctx = ctx;
    j.n = n;
    j.chunks = std::min<int64_t>(maxChunks, threads * 4);
    {
      std::lock_guard<std::mutex> lock(mu);
      job = &j;
      ++generation;
    }
    cv.notify_all();
    j.work();
    std::unique_lock<std::mutex> lock(mu);
    job = nullptr; // no new helper joins
    done.wait(lock, [&] { return j.pending.load() == 0; });
  }

  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv, done;
  Job *job = nullptr;
  uint64_t generation = 0;
  bool stop = false;
};

BenchPool *benchPoolCreate(int threads) {
  return new BenchPool(threads < 1 ? 1 : threads);
}
void benchPoolDestroy(BenchPool *pool) { delete pool; }

extern "C" void lopper_rt_parallel_for(void *rt, int64_t n, int64_t grain,
                                       void (*fn)(void *ctx, int64_t begin,
                                                  int64_t end),
                                       void *ctx) {
  if (n <= 0)
    return;
  if (!rt) {
    fn(ctx, 0, n);
    return;
  }
  static_cast<BenchPool *>(rt)->parallelFor(n, grain, fn, ctx);
}

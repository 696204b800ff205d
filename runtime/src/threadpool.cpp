// The model's thread pool and lopper_rt_parallel_for.
//
// A parallelFor call splits [0, n) into chunks, queues one job with up to
// (workers) helper tickets and then works on its own job: each participant
// claims chunks with an atomic counter until none is left. The caller then
// withdraws the job from the queue (so no new helper can join) and waits for
// the helpers that did join. Every chunk is claimed by a running thread, so
// a caller never waits on queued work: concurrent and nested calls cannot
// deadlock.
#include "internal.h"

#include <atomic>

namespace lopper {
namespace rt {

struct ThreadPool::Job {
  ParallelFn fn;
  void *ctx;
  int64_t n, chunks;
  std::atomic<int64_t> next{0};
  int tickets = 0; // helpers that may still join (pool mutex)
  int active = 0;  // helpers working on it (job mutex)
  std::mutex mu;
  std::condition_variable done;

  void work() {
    while (true) {
      int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks)
        return;
      // Balanced split: every chunk has floor or ceil of n / chunks.
      int64_t begin =
          static_cast<int64_t>(static_cast<__int128>(n) * c / chunks);
      int64_t end =
          static_cast<int64_t>(static_cast<__int128>(n) * (c + 1) / chunks);
      fn(ctx, begin, end);
    }
  }
};

int defaultThreadCount() {
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

ThreadPool::ThreadPool(int threads) {
  if (threads < 1)
    threads = 1;
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void ThreadPool::workerLoop() {
  while (true) {
    Job *job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_)
        return;
      job = queue_.front();
      if (--job->tickets == 0)
        queue_.pop_front();
      // Joined while the job is queued: the caller withdraws it under mu_
      // before waiting, so it sees this increment.
      std::lock_guard<std::mutex> jl(job->mu);
      ++job->active;
    }
    job->work();
    std::lock_guard<std::mutex> jl(job->mu);
    if (--job->active == 0)
      job->done.notify_all();
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain, ParallelFn fn,
                             void *ctx) {
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  int64_t maxChunks = n / grain; // every chunk gets >= grain iterations
  int64_t threads = numThreads();
  if (maxChunks <= 1 || threads == 1) {
    fn(ctx, 0, n);
    return;
  }
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  // A few chunks per thread balance uneven chunk costs.
  job.chunks = std::min<int64_t>(maxChunks, threads * 4);
  int helpers = static_cast<int>(
      std::min<int64_t>(static_cast<int64_t>(workers_.size()), job.chunks - 1));
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.tickets = helpers;
    queue_.push_back(&job);
  }
  if (helpers == static_cast<int>(workers_.size()))
    cv_.notify_all();
  else
    for (int i = 0; i < helpers; ++i)
      cv_.notify_one();
  job.work();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (job.tickets > 0) {
      for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == &job) {
          queue_.erase(it);
          break;
        }
      job.tickets = 0;
    }
  }
  std::unique_lock<std::mutex> jl(job.mu);
  job.done.wait(jl, [&] { return job.active == 0; });
}

} // namespace rt
} // namespace lopper

extern "C" void lopper_rt_parallel_for(void *rt, int64_t n, int64_t grain,
                                       void (*fn)(void *ctx, int64_t begin,
                                                  int64_t end),
                                       void *ctx) {
  if (n <= 0 || !fn)
    return;
  auto *run = static_cast<lopper::rt::RunContext *>(rt);
  if (!run || !run->pool) {
    fn(ctx, 0, n);
    return;
  }
  run->pool->parallelFor(n, grain, fn, ctx);
}

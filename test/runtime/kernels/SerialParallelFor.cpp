// Test-only lopper_rt_parallel_for: the kernel tests do not link the
// runtime library. Runs the range in chunks of `grain` on the caller so
// that the kernels' task splitting is exercised as with a thread pool.
#include "parallel.h"

extern "C" void lopper_rt_parallel_for(void *rt, int64_t n, int64_t grain,
                                       void (*fn)(void *ctx, int64_t begin,
                                                  int64_t end),
                                       void *ctx) {
  (void)rt;
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  for (int64_t b = 0; b < n; b += grain)
    fn(ctx, b, b + grain < n ? b + grain : n);
}

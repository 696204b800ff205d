/* Parallel loops for the CPU kernels. Implemented by the runtime core
 * (runtime/src/threadpool.cpp); kernels include this header. */
#ifndef LOPPER_RUNTIME_CPU_PARALLEL_H
#define LOPPER_RUNTIME_CPU_PARALLEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs fn(ctx, begin, end) over [0, n) in chunks of at least `grain`
 * iterations (the last chunk may be the whole range when n < 2 * grain), on
 * the calling thread plus the model's thread pool, and returns when every
 * chunk is done. `rt` is the runtime context passed to the kernel; rt == NULL
 * (kernel unit tests) runs fn(ctx, 0, n) on the calling thread. grain < 1 is
 * treated as 1; n <= 0 does nothing. Safe to call from several threads at
 * once and from inside fn (nested calls make progress on the caller). */
void lopper_rt_parallel_for(void *rt, int64_t n, int64_t grain,
                            void (*fn)(void *ctx, int64_t begin, int64_t end),
                            void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* LOPPER_RUNTIME_CPU_PARALLEL_H */

// Benchmark-only thread pool behind lopper_rt_parallel_for
// (ThreadedParallelFor.cpp): pass the pool as the kernels' rt.
#ifndef LOPPER_TEST_RUNTIME_KERNELS_BENCHPOOL_H
#define LOPPER_TEST_RUNTIME_KERNELS_BENCHPOOL_H

struct BenchPool;

// `threads` participants: the calling thread plus threads - 1 helpers.
BenchPool *benchPoolCreate(int threads);
void benchPoolDestroy(BenchPool *pool);

#endif // LOPPER_TEST_RUNTIME_KERNELS_BENCHPOOL_H

// Arena planner: greedy by size (as in TFLite's GreedyMemoryPlanner).
#include "internal.h"

#include <algorithm>
#include <numeric>

namespace lopper {
namespace rt {

namespace {
bool alignUp(int64_t v, int64_t *out) {
  if (v > INT64_MAX - (kArenaAlign - 1))
    return false;
  *out = (v + kArenaAlign - 1) & ~(kArenaAlign - 1);
  return true;
}
} // namespace

bool planArena(const std::vector<PlanBuffer> &buffers, Plan *plan,
               std::string *err) {
  size_t n = buffers.size();
  plan->offsets.assign(n, 0);
  plan->arenaBytes = 0;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });

  struct Placed {
    int64_t begin, end; // [begin, end) in bytes
    size_t id;
  };
  std::vector<Placed> placed; // sorted by begin
  std::vector<const Placed *> live;
  placed.reserve(n);
  for (size_t id : order) {
    const PlanBuffer &b = buffers[id];
    if (b.bytes < 0) {
      *err = format("arena buffer %zu has negative size %lld", id,
                    static_cast<long long>(b.bytes));
      return false;
    }
    if (b.bytes == 0)
      continue; // occupies nothing; offset 0
    // Buffers placed so far whose lifetimes intersect, by offset.
    live.clear();
    for (const Placed &p : placed) {
      const PlanBuffer &q = buffers[p.id];
      if (q.firstOp <= b.lastOp && b.firstOp <= q.lastOp)
        live.push_back(&p);
    }
    int64_t offset = 0;
    for (const Placed *p : live) {
      int64_t end;
      if (__builtin_add_overflow(offset, b.bytes, &end)) {
        *err = "arena size overflows int64";
        return false;
      }
      if (end <= p->begin)
        break; // fits in the gap before p
      int64_t next;
      if (!alignUp(p->end, &next)) {
        *err = "arena size overflows int64";
        return false;
      }
      offset = std::max(offset, next);
    }
    int64_t end, alignedEnd;
    if (__builtin_add_overflow(offset, b.bytes, &end) ||
        !alignUp(end, &alignedEnd)) {
      *err = "arena size overflows int64";
      return false;
    }
    plan->offsets[id] = offset;
    plan->arenaBytes = std::max(plan->arenaBytes, alignedEnd);
    Placed np{offset, end, id};
    auto it = std::upper_bound(
        placed.begin(), placed.end(), np,
        [](const Placed &a, const Placed &b) { return a.begin < b.begin; });
    // `live` holds pointers into `placed`: rebuilt on the next iteration.
    placed.insert(it, np);
  }
  return true;
}

} // namespace rt
} // namespace lopper

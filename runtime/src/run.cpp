// Shape binding, arena plans and workspaces, lopper_run.
#include "internal.h"

#include <algorithm>
#include <cstring>

namespace lopper {
namespace rt {

namespace {
constexpr size_t kPlanCacheSize = 32;
constexpr size_t kMaxFreeArenas = 64;
alignas(64) uint8_t emptyArena[64];

const char *dtypeName(int32_t d) {
  return lopper_dtype_name(static_cast<lopper_dtype>(d));
}
} // namespace

lopper_status bindInputs(const lopper_model *model,
                         const lopper_tensor_desc *const *inputs,
                         Bound *bound) {
  const Metadata &md = model->md;
  const char *label = model->label.c_str();
  size_t nsyms = md.syms.size();
  bound->syms.assign(nsyms, 0);
  std::vector<size_t> binder(nsyms, SIZE_MAX); // input that bound the symbol

  for (size_t i = 0; i < md.inputs.size(); ++i) {
    const TensorSig &sig = md.inputs[i];
    const lopper_tensor_desc &d = *inputs[i];
    const char *name = sig.name.c_str();
    if (d.dtype != sig.dtype)
      return fail(LOPPER_ERR_SHAPE,
                  "%s: input '%s' has dtype %s, the model expects %s", label,
                  name, dtypeName(d.dtype), dtypeName(sig.dtype));
    if (d.rank != static_cast<int32_t>(sig.dims.size()))
      return fail(LOPPER_ERR_SHAPE,
                  "%s: input '%s' has rank %d, the model expects %zu", label,
                  name, static_cast<int>(d.rank), sig.dims.size());
    for (size_t k = 0; k < sig.dims.size(); ++k) {
      int64_t v = d.dims[k], expect;
      if (v < 0)
        return fail(LOPPER_ERR_SHAPE, "%s: input '%s' dim %zu is %lld", label,
                    name, k, static_cast<long long>(v));
      if (sig.dims[k].isConstant(&expect)) {
        if (v != expect)
          return fail(LOPPER_ERR_SHAPE,
                      "%s: input '%s' dim %zu is %lld, the model expects %lld",
                      label, name, k, static_cast<long long>(v),
                      static_cast<long long>(expect));
        continue;
      }
      int s = sig.dims[k].singleSymbol();
      if (s < 0)
        continue; // checked once every symbol is bound
      size_t si = static_cast<size_t>(s);
      if (binder[si] == SIZE_MAX) {
        binder[si] = i;
        bound->syms[si] = v;
      } else if (bound->syms[si] != v) {
        return fail(LOPPER_ERR_SHAPE,
                    "%s: input '%s' dim %zu is %lld but '%s' is %lld (from "
                    "input '%s')",
                    label, name, k, static_cast<long long>(v),
                    md.syms[si].c_str(),
                    static_cast<long long>(bound->syms[si]),
                    md.inputs[binder[si]].name.c_str());
      }
    }
  }
  for (size_t s = 0; s < nsyms; ++s)
    if (binder[s] == SIZE_MAX && model->symUsed[s])
      return fail(LOPPER_ERR_SHAPE,
                  "%s: symbol '%s' is not the size of any input dim, so it "
                  "cannot be bound",
                  label, md.syms[s].c_str());

  const int64_t *syms = bound->syms.data();
  // Derived input dims ("2*seq").
  for (size_t i = 0; i < md.inputs.size(); ++i) {
    const TensorSig &sig = md.inputs[i];
    for (size_t k = 0; k < sig.dims.size(); ++k) {
      const Poly &p = sig.dims[k];
      int64_t expect;
      if (p.isConstant(&expect) || p.singleSymbol() >= 0)
        continue;
      if (!p.eval(syms, &expect))
        return fail(LOPPER_ERR_SHAPE,
                    "%s: input '%s' dim %zu: %s overflows int64", label,
                    sig.name.c_str(), k, p.str(md.syms).c_str());
      if (inputs[i]->dims[k] != expect)
        return fail(LOPPER_ERR_SHAPE,
                    "%s: input '%s' dim %zu is %lld, the model expects %s = "
                    "%lld",
                    label, sig.name.c_str(), k,
                    static_cast<long long>(inputs[i]->dims[k]),
                    p.str(md.syms).c_str(), static_cast<long long>(expect));
    }
  }
  // The compiler's shape checks.
  for (const CheckRec &c : md.checks) {
    int64_t l, r;
    if (!c.lhs.eval(syms, &l) || !c.rhs.eval(syms, &r))
      return fail(LOPPER_ERR_SHAPE,
                  "%s: node '%s': shape check overflows int64", label,
                  c.node.c_str());
    if (c.le ? !(l <= r) : l != r)
      return fail(LOPPER_ERR_SHAPE,
                  "%s: node '%s': shape check %s %s %s failed (%lld vs %lld)",
                  label, c.node.c_str(), c.lhs.str(md.syms).c_str(),
                  c.le ? "<=" : "==", c.rhs.str(md.syms).c_str(),
                  static_cast<long long>(l), static_cast<long long>(r));
  }
  // Output descs.
  bound->outputs.resize(md.outputs.size());
  for (size_t o = 0; o < md.outputs.size(); ++o) {
    const TensorSig &sig = md.outputs[o];
    lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
    d.dtype = sig.dtype;
    d.rank = static_cast<int32_t>(sig.dims.size());
    d.device = LOPPER_DEVICE_CPU;
    for (size_t k = 0; k < sig.dims.size(); ++k) {
      if (!sig.dims[k].eval(syms, &d.dims[k]))
        return fail(LOPPER_ERR_SHAPE,
                    "%s: output '%s' dim %zu: %s overflows int64", label,
                    sig.name.c_str(), k, sig.dims[k].str(md.syms).c_str());
      if (d.dims[k] < 0)
        return fail(LOPPER_ERR_SHAPE,
                    "%s: output '%s' dim %zu is %s = %lld for these inputs",
                    label, sig.name.c_str(), k,
                    sig.dims[k].str(md.syms).c_str(),
                    static_cast<long long>(d.dims[k]));
    }
    size_t bytes;
    if (!tensorBytes(d.dtype, d.rank, d.dims, &bytes))
      return fail(LOPPER_ERR_SHAPE, "%s: output '%s' %s is too large", label,
                  sig.name.c_str(), dimsString(d.rank, d.dims).c_str());
    bound->outputs[o] = d;
  }
  return LOPPER_OK;
}

lopper_status getPlan(const lopper_model *model,
                      const std::vector<int64_t> &syms,
                      std::shared_ptr<const Plan> *out) {
  {
    std::lock_guard<std::mutex> lock(model->planMu);
    for (lopper_model::CachedPlan &c : model->plans)
      if (c.syms == syms) {
        c.lastUse = ++model->planClock;
        *out = c.plan;
        return LOPPER_OK;
      }
  }
  const Metadata &md = model->md;
  std::vector<PlanBuffer> buffers(md.buffers.size());
  auto plan = std::make_shared<Plan>();
  plan->bufferBytes.resize(md.buffers.size());
  for (size_t b = 0; b < md.buffers.size(); ++b) {
    const BufferRec &r = md.buffers[b];
    int64_t bytes;
    if (!r.bytes.eval(syms.data(), &bytes))
      return fail(LOPPER_ERR_SHAPE,
                  "%s: arena buffer %zu size %s overflows int64",
                  model->label.c_str(), b, r.bytes.str(md.syms).c_str());
    if (bytes < 0)
      return fail(LOPPER_ERR_SHAPE,
                  "%s: arena buffer %zu size %s = %lld for these inputs",
                  model->label.c_str(), b, r.bytes.str(md.syms).c_str(),
                  static_cast<long long>(bytes));
    buffers[b] = PlanBuffer{bytes, r.firstOp, r.lastOp};
    plan->bufferBytes[b] = bytes;
  }
  std::string err;
  if (!planArena(buffers, plan.get(), &err))
    return fail(LOPPER_ERR_SHAPE, "%s: %s", model->label.c_str(), err.c_str());

  std::lock_guard<std::mutex> lock(model->planMu);
  lopper_model::CachedPlan entry{syms, plan, ++model->planClock};
  if (model->plans.size() < kPlanCacheSize) {
    model->plans.push_back(std::move(entry));
  } else {
    auto lru = std::min_element(
        model->plans.begin(), model->plans.end(),
        [](const auto &a, const auto &b) { return a.lastUse < b.lastUse; });
    *lru = std::move(entry);
  }
  *out = plan;
  return LOPPER_OK;
}

namespace {

lopper_model::Arena acquireArena(const lopper_model *m, size_t bytes) {
  lopper_model::Arena a;
  if (bytes == 0) {
    a.data = emptyArena;
    return a;
  }
  {
    std::lock_guard<std::mutex> lock(m->arenaMu);
    auto &fl = m->freeArenas;
    auto best = fl.end();
    for (auto it = fl.begin(); it != fl.end(); ++it)
      if (it->bytes >= bytes && (best == fl.end() || it->bytes < best->bytes))
        best = it;
    if (best != fl.end()) {
      a = *best;
      fl.erase(best);
      return a;
    }
    // Nothing fits: drop a too-small arena so the list does not grow.
    if (!fl.empty()) {
      alignedFree(fl.back().data);
      fl.pop_back();
    }
  }
  a.data = alignedAlloc(bytes);
  a.bytes = a.data ? bytes : 0;
  return a;
}

void releaseArena(const lopper_model *m, lopper_model::Arena a) {
  if (a.data == emptyArena || !a.data)
    return;
  std::lock_guard<std::mutex> lock(m->arenaMu);
  if (m->freeArenas.size() < kMaxFreeArenas)
    m->freeArenas.push_back(a);
  else
    alignedFree(a.data);
}

// Input descs from a caller's array (output_descs, workspace_size).
lopper_status descsFromArray(const lopper_model *model,
                             const lopper_tensor_desc *inputs, size_t numInputs,
                             const char *fn,
                             std::vector<lopper_tensor_desc> *descs) {
  if (!model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
  size_t n = model->md.inputs.size();
  if (numInputs != n)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %zu inputs given, the model has %zu", fn, numInputs, n);
  if (n > 0 && !inputs)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: inputs is NULL", fn);
  descs->resize(n);
  // The array stride is the caller's sizeof(lopper_tensor_desc), which its
  // `size` field records (a newer header may have a larger struct).
  size_t stride = n > 0 ? inputs[0].size : 0;
  for (size_t i = 0; i < n; ++i) {
    std::string what = "inputs[" + std::to_string(i) + "]";
    const auto *in = reinterpret_cast<const lopper_tensor_desc *>(
        reinterpret_cast<const char *>(inputs) + i * stride);
    if (lopper_status st = readDesc(in, &(*descs)[i], fn, what.c_str()))
      return st;
    if (in->size != stride)
      return fail(LOPPER_ERR_INVALID_ARGUMENT,
                  "%s: %s->size is %zu but inputs[0].size is %zu", fn,
                  what.c_str(), in->size, stride);
    if ((*descs)[i].device != LOPPER_DEVICE_CPU)
      return fail(LOPPER_ERR_INVALID_ARGUMENT,
                  "%s: %s has device %d; this runtime supports CPU only", fn,
                  what.c_str(), static_cast<int>((*descs)[i].device));
  }
  return LOPPER_OK;
}

lopper_status bindArray(const lopper_model *model,
                        const lopper_tensor_desc *inputs, size_t numInputs,
                        const char *fn, Bound *bound) {
  std::vector<lopper_tensor_desc> descs;
  if (lopper_status st = descsFromArray(model, inputs, numInputs, fn, &descs))
    return st;
  std::vector<const lopper_tensor_desc *> ptrs(descs.size());
  for (size_t i = 0; i < descs.size(); ++i)
    ptrs[i] = &descs[i];
  return bindInputs(model, ptrs.data(), bound);
}

bool sameShape(const lopper_tensor_desc &a, const lopper_tensor_desc &b) {
  if (a.dtype != b.dtype || a.rank != b.rank)
    return false;
  for (int32_t i = 0; i < a.rank; ++i)
    if (a.dims[i] != b.dims[i])
      return false;
  return true;
}

} // namespace
} // namespace rt
} // namespace lopper

using namespace lopper::rt;

extern "C" {

lopper_status lopper_model_output_descs(const lopper_model *model,
                                        const lopper_tensor_desc *inputs,
                                        size_t num_inputs,
                                        lopper_tensor_desc *out_descs,
                                        size_t num_outputs) {
  const char *fn = "lopper_model_output_descs";
  Bound bound;
  if (lopper_status st = bindArray(model, inputs, num_inputs, fn, &bound))
    return st;
  if (num_outputs != bound.outputs.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: room for %zu outputs, the model has %zu", fn, num_outputs,
                bound.outputs.size());
  if (num_outputs > 0 && !out_descs)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_descs is NULL", fn);
  size_t stride = num_outputs > 0 ? out_descs[0].size : 0;
  for (size_t o = 0; o < num_outputs; ++o) {
    std::string what = "out_descs[" + std::to_string(o) + "]";
    auto *out = reinterpret_cast<lopper_tensor_desc *>(
        reinterpret_cast<char *>(out_descs) + o * stride);
    if (o > 0 && out->size != stride)
      return fail(LOPPER_ERR_INVALID_ARGUMENT,
                  "%s: %s->size is %zu but out_descs[0].size is %zu", fn,
                  what.c_str(), out->size, stride);
    if (lopper_status st = writeDesc(out, bound.outputs[o], fn, what.c_str()))
      return st;
  }
  return LOPPER_OK;
}

lopper_status lopper_model_workspace_size(const lopper_model *model,
                                          const lopper_tensor_desc *inputs,
                                          size_t num_inputs,
                                          size_t *out_bytes) {
  const char *fn = "lopper_model_workspace_size";
  if (model && !out_bytes)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_bytes is NULL", fn);
  Bound bound;
  if (lopper_status st = bindArray(model, inputs, num_inputs, fn, &bound))
    return st;
  std::shared_ptr<const Plan> plan;
  if (lopper_status st = getPlan(model, bound.syms, &plan))
    return st;
  *out_bytes = static_cast<size_t>(plan->arenaBytes);
  return LOPPER_OK;
}

lopper_status lopper_run(const lopper_model *model, lopper_session *session,
                         lopper_tensor *const *inputs, size_t num_inputs,
                         lopper_tensor **outputs, size_t num_outputs) {
  const char *fn = "lopper_run";
  if (!model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
  const Metadata &md = model->md;
  const char *label = model->label.c_str();
  if (num_inputs != md.inputs.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s: %zu inputs given, the model has %zu", fn, label,
                num_inputs, md.inputs.size());
  if (num_outputs != md.outputs.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s: %zu outputs given, the model has %zu", fn, label,
                num_outputs, md.outputs.size());
  if (num_inputs > 0 && !inputs)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: inputs is NULL", fn);
  if (num_outputs > 0 && !outputs)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: outputs is NULL", fn);
  if (session && session->model != model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: the session was created for another model", fn);

  std::vector<const lopper_tensor_desc *> descs(num_inputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    if (!inputs[i])
      return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: inputs[%zu] ('%s') is NULL",
                  fn, i, md.inputs[i].name.c_str());
    descs[i] = &inputs[i]->desc;
  }
  Bound bound;
  if (lopper_status st = bindInputs(model, descs.data(), &bound))
    return st;

  for (size_t o = 0; o < num_outputs; ++o) {
    const lopper_tensor *t = outputs[o];
    if (!t)
      continue;
    const char *name = md.outputs[o].name.c_str();
    const lopper_tensor_desc &want = bound.outputs[o];
    if (!sameShape(t->desc, want))
      return fail(LOPPER_ERR_SHAPE,
                  "%s: output '%s' is a %s %s tensor, this run produces %s %s",
                  label, name, dtypeName(t->desc.dtype),
                  dimsString(t->desc.rank, t->desc.dims).c_str(),
                  dtypeName(want.dtype),
                  dimsString(want.rank, want.dims).c_str());
    for (size_t i = 0; i < num_inputs; ++i)
      if (inputs[i] == t)
        return fail(LOPPER_ERR_INVALID_ARGUMENT,
                    "%s: output '%s' is the same tensor as input '%s'", label,
                    name, md.inputs[i].name.c_str());
    for (size_t p = 0; p < o; ++p)
      if (outputs[p] == t)
        return fail(LOPPER_ERR_INVALID_ARGUMENT,
                    "%s: outputs '%s' and '%s' are the same tensor", label,
                    md.outputs[p].name.c_str(), name);
  }

  std::shared_ptr<const Plan> plan;
  if (lopper_status st = getPlan(model, bound.syms, &plan))
    return st;

  // Owned outputs for the NULL entries; undone if anything below fails.
  std::vector<size_t> created;
  auto undo = [&] {
    for (size_t o : created) {
      lopper_tensor_destroy(outputs[o]);
      outputs[o] = nullptr;
    }
  };
  for (size_t o = 0; o < num_outputs; ++o) {
    if (outputs[o])
      continue;
    lopper_tensor *t = nullptr;
    if (lopper_status st = lopper_tensor_create(&bound.outputs[o], &t)) {
      undo();
      return fail(st, "%s: output '%s': %s", label, md.outputs[o].name.c_str(),
                  lopper_last_error());
    }
    outputs[o] = t;
    created.push_back(o);
  }

  size_t arenaBytes = static_cast<size_t>(plan->arenaBytes);
  lopper_model::Arena arena = acquireArena(model, arenaBytes);
  if (!arena.data) {
    undo();
    return fail(LOPPER_ERR_OUT_OF_MEMORY,
                "%s: cannot allocate a %zu-byte workspace", label, arenaBytes);
  }

  std::vector<void *> inPtrs(num_inputs), outPtrs(num_outputs);
  std::vector<size_t> inBytes(num_inputs), outBytes(num_outputs);
  for (size_t i = 0; i < num_inputs; ++i) {
    inPtrs[i] = inputs[i]->data;
    inBytes[i] = inputs[i]->bytes;
  }
  for (size_t o = 0; o < num_outputs; ++o) {
    outPtrs[o] = outputs[o]->data;
    outBytes[o] = outputs[o]->bytes;
  }

  RunContext ctx;
  ctx.model = model;
  ctx.session = session;
  ctx.pool = model->pool.get();
  ctx.syms = bound.syms.data();
  ctx.offsets = plan->offsets.data();
  ctx.bufferBytes = plan->bufferBytes.data();
  ctx.arena = static_cast<uint8_t *>(arena.data);
  ctx.inputs = inPtrs.data();
  ctx.inputBytes = inBytes.data();
  ctx.outputs = outPtrs.data();
  ctx.outputBytes = outBytes.data();
  if (model->device == LOPPER_DEVICE_CUDA)
    ctx.gpu = model->gpu.get();
  if (session) {
    ctx.profiling = session->profiling && !session->profile.empty();
    ctx.tapping = session->numTapsWanted > 0;
    for (lopper_session::TapValue &v : session->taps)
      v.valid = v.failed = false;
  }

  model->info->run(&ctx, ctx.syms, ctx.offsets, ctx.arena, model->weights,
                   inPtrs.data(), outPtrs.data());
  releaseArena(model, arena);
  return LOPPER_OK;
}

} // extern "C"

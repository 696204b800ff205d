// Sessions: per-op profiles and taps.
#include "internal.h"

#include <new>

using namespace lopper::rt;

lopper_session::~lopper_session() {
  for (TapValue &v : taps)
    alignedFree(v.tensor.data);
}

namespace {
lopper_status checkSession(const lopper_session *s, const char *fn) {
  if (!s)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: session is NULL", fn);
  return LOPPER_OK;
}

// The tap's id, or SIZE_MAX.
size_t findTap(const lopper_model *m, const char *name) {
  for (size_t i = 0; i < m->md.taps.size(); ++i)
    if (m->md.taps[i].name == name)
      return i;
  return SIZE_MAX;
}
} // namespace

extern "C" {

lopper_status lopper_session_create(const lopper_model *model,
                                    lopper_session **out_session) {
  const char *fn = "lopper_session_create";
  if (!out_session)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_session is NULL", fn);
  *out_session = nullptr;
  if (!model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
  lopper_session *s = new (std::nothrow) lopper_session;
  if (!s)
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
  s->model = model;
  s->profile.resize(model->md.ops.size());
  s->tapWanted.assign(model->md.taps.size(), 0);
  s->taps.resize(model->md.taps.size());
  for (lopper_session::TapValue &v : s->taps)
    v.tensor.desc = LOPPER_TENSOR_DESC_INIT;
  *out_session = s;
  return LOPPER_OK;
}

void lopper_session_destroy(lopper_session *session) { delete session; }

lopper_status lopper_session_enable_profiling(lopper_session *session,
                                              int enable) {
  if (lopper_status st =
          checkSession(session, "lopper_session_enable_profiling"))
    return st;
  session->profiling = enable != 0;
  return LOPPER_OK;
}

lopper_status lopper_session_profile_count(const lopper_session *session,
                                           size_t *out_count) {
  const char *fn = "lopper_session_profile_count";
  if (lopper_status st = checkSession(session, fn))
    return st;
  if (!out_count)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_count is NULL", fn);
  *out_count = session->profile.size();
  return LOPPER_OK;
}

lopper_status lopper_session_profile_entry(const lopper_session *session,
                                           size_t index, const char **out_kind,
                                           const char **out_node,
                                           uint64_t *out_total_ns,
                                           uint64_t *out_calls) {
  const char *fn = "lopper_session_profile_entry";
  if (lopper_status st = checkSession(session, fn))
    return st;
  if (index >= session->profile.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: index %zu out of range (the model has %zu ops)", fn, index,
                session->profile.size());
  const OpRec &op = session->model->md.ops[index];
  const lopper_session::ProfileEntry &e = session->profile[index];
  if (out_kind)
    *out_kind = op.kind.c_str();
  if (out_node)
    *out_node = op.node.c_str();
  if (out_total_ns)
    *out_total_ns = e.ns;
  if (out_calls)
    *out_calls = e.calls;
  return LOPPER_OK;
}

lopper_status lopper_session_reset_profile(lopper_session *session) {
  if (lopper_status st = checkSession(session, "lopper_session_reset_profile"))
    return st;
  for (lopper_session::ProfileEntry &e : session->profile)
    e = lopper_session::ProfileEntry();
  return LOPPER_OK;
}

lopper_status lopper_session_tap(lopper_session *session, const char *name) {
  const char *fn = "lopper_session_tap";
  if (lopper_status st = checkSession(session, fn))
    return st;
  if (!name)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: name is NULL", fn);
  size_t id = findTap(session->model, name);
  if (id == SIZE_MAX)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s has no tap '%s'", fn,
                session->model->label.c_str(), name);
  if (!session->tapWanted[id]) {
    session->tapWanted[id] = 1;
    ++session->numTapsWanted;
  }
  return LOPPER_OK;
}

lopper_status lopper_session_get_tap(const lopper_session *session,
                                     const char *name,
                                     const lopper_tensor **out_tensor) {
  const char *fn = "lopper_session_get_tap";
  if (lopper_status st = checkSession(session, fn))
    return st;
  if (!name)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: name is NULL", fn);
  if (!out_tensor)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_tensor is NULL", fn);
  *out_tensor = nullptr;
  size_t id = findTap(session->model, name);
  if (id == SIZE_MAX)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: %s has no tap '%s'", fn,
                session->model->label.c_str(), name);
  if (!session->tapWanted[id])
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: tap '%s' was not requested (call lopper_session_tap "
                "before the run)",
                fn, name);
  const lopper_session::TapValue &v = session->taps[id];
  if (v.failed)
    return fail(LOPPER_ERR_INTERNAL,
                "%s: tap '%s' could not be captured (out of memory, or the "
                "tap record points outside its tensor)",
                fn, name);
  if (!v.valid)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: tap '%s' was not captured by the last run", fn, name);
  *out_tensor = &v.tensor;
  return LOPPER_OK;
}

} // extern "C"

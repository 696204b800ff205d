// lopper/runtime.hpp: header-only C++17 wrapper of <lopper/runtime.h>.
//
// Classes: lopper::Model, lopper::Tensor, lopper::Session (move-only owners
// of the C handles), lopper::TensorView (a non-owning, read-only view, e.g.
// of a tap), lopper::Status.
//
// Errors. Every call that can fail returns a lopper::Status:
//  - with C++ exceptions enabled (__cpp_exceptions defined) and
//    LOPPER_NO_EXCEPTIONS not defined, a failing call throws lopper::Error
//    (a std::runtime_error with code()) instead, so the returned Status is
//    always ok(). The throwing constructors Model(path), Session(model) and
//    the factories Tensor::owned/Tensor::borrowed exist only in this mode.
//  - otherwise (-fno-exceptions, or LOPPER_NO_EXCEPTIONS defined) the Status
//    carries the error: check ok(), code() and message(). Status is
//    [[nodiscard]] in this mode.
// Code that checks every Status works in both modes. The two modes live in
// different inline namespaces (lopper::throwing, lopper::nothrow), so
// translation units built with and without exceptions can be linked into one
// program.
//
// Thread safety is the C API's (see runtime.h): a Model may be run from
// several threads at once; a Session and the Tensors of one run belong to
// one thread at a time.
//
//   lopper::Model model;
//   lopper::Status st = model.load("model.so");
//   if (!st.ok()) { std::fprintf(stderr, "%s\n", st.message().c_str()); ... }
//   std::vector<lopper::Tensor> in(model.num_inputs()), out;
//   st = in[0].allocate(lopper::make_desc(LOPPER_DTYPE_F32, {2, 4}));
//   ...
//   st = model.run(in, out); // out[i] are allocated by the runtime
//   const float *y = out[0].data_as<float>();
#ifndef LOPPER_RUNTIME_HPP
#define LOPPER_RUNTIME_HPP

#include "lopper/runtime.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#if defined(__cpp_exceptions) && !defined(LOPPER_NO_EXCEPTIONS)
#define LOPPER_HPP_EXCEPTIONS 1
#include <stdexcept>
#else
#define LOPPER_HPP_EXCEPTIONS 0
#endif

namespace lopper {
#if LOPPER_HPP_EXCEPTIONS
inline namespace throwing {
#define LOPPER_HPP_NODISCARD
#else
inline namespace nothrow {
#define LOPPER_HPP_NODISCARD [[nodiscard]]
#endif

/// The result of a call: ok(), or a lopper_status code and the message.
class LOPPER_HPP_NODISCARD Status {
public:
  Status() = default;
  Status(lopper_status code, std::string message)
      : code_(code), message_(std::move(message)) {}
  bool ok() const { return code_ == LOPPER_OK; }
  explicit operator bool() const { return ok(); }
  lopper_status code() const { return code_; }
  const std::string &message() const { return message_; }
  const char *code_string() const { return lopper_status_string(code_); }

private:
  lopper_status code_ = LOPPER_OK;
  std::string message_;
};

#if LOPPER_HPP_EXCEPTIONS
/// Thrown by failing calls when exceptions are enabled.
class Error : public std::runtime_error {
public:
  Error(lopper_status code, const std::string &message)
      : std::runtime_error(message), code_(code) {}
  lopper_status code() const noexcept { return code_; }

private:
  lopper_status code_;
};
#endif

namespace detail {
// Turns a C status into a Status (or throws).
inline Status check(lopper_status s) {
  if (s == LOPPER_OK)
    return Status();
  const char *msg = lopper_last_error();
#if LOPPER_HPP_EXCEPTIONS
  throw Error(s, msg ? msg : "");
#else
  return Status(s, msg ? msg : "");
#endif
}
inline Status invalid(const char *msg) {
#if LOPPER_HPP_EXCEPTIONS
  throw Error(LOPPER_ERR_INVALID_ARGUMENT, msg);
#else
  return Status(LOPPER_ERR_INVALID_ARGUMENT, msg);
#endif
}
} // namespace detail

/// A desc with `size` set. More than LOPPER_MAX_RANK dims give a desc the
/// runtime rejects.
inline lopper_tensor_desc make_desc(lopper_dtype dtype,
                                    std::initializer_list<int64_t> dims) {
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  d.dtype = dtype;
  d.rank = static_cast<int32_t>(dims.size());
  size_t i = 0;
  for (int64_t v : dims)
    if (i < LOPPER_MAX_RANK)
      d.dims[i++] = v;
  return d;
}

inline lopper_tensor_desc make_desc(lopper_dtype dtype,
                                    const std::vector<int64_t> &dims) {
  lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
  d.dtype = dtype;
  d.rank = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size() && i < LOPPER_MAX_RANK; ++i)
    d.dims[i] = dims[i];
  return d;
}

/// Product of the dims (1 for rank 0); dynamic (-1) dims count as 0.
inline size_t num_elements(const lopper_tensor_desc &d) {
  size_t n = 1;
  for (int32_t i = 0; i < d.rank && i < LOPPER_MAX_RANK; ++i)
    n *= d.dims[i] < 0 ? 0 : static_cast<size_t>(d.dims[i]);
  return n;
}

/// A read-only, non-owning view of a tensor (taps, or Tensor::view()).
class TensorView {
public:
  TensorView() = default;
  explicit TensorView(const lopper_tensor *t) : t_(t) {}
  bool valid() const { return t_ != nullptr; }
  explicit operator bool() const { return valid(); }
  lopper_tensor_desc desc() const {
    lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
    if (t_)
      (void)lopper_tensor_get_desc(t_, &d);
    return d;
  }
  const void *data() const {
    const void *p = nullptr;
    if (t_)
      (void)lopper_tensor_const_data(t_, &p, nullptr);
    return p;
  }
  size_t bytes() const {
    const void *p = nullptr;
    size_t n = 0;
    if (t_)
      (void)lopper_tensor_const_data(t_, &p, &n);
    return n;
  }
  template <typename T> const T *data_as() const {
    return static_cast<const T *>(data());
  }
  size_t num_elements() const { return lopper::num_elements(desc()); }
  const lopper_tensor *get() const { return t_; }

private:
  const lopper_tensor *t_ = nullptr;
};

/// Owns a lopper_tensor (whose data is owned by the runtime or borrowed).
class Tensor {
public:
  Tensor() = default;
  /// Adopts `t` (destroyed with this object).
  explicit Tensor(lopper_tensor *t) : t_(t) {}
  ~Tensor() { lopper_tensor_destroy(t_); }
  Tensor(Tensor &&o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  Tensor &operator=(Tensor &&o) noexcept {
    if (this != &o)
      reset(std::exchange(o.t_, nullptr));
    return *this;
  }
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;

  /// Replaces the tensor with an owned, zero-filled, 64-byte aligned one.
  Status allocate(const lopper_tensor_desc &desc) {
    lopper_tensor *t = nullptr;
    Status st = detail::check(lopper_tensor_create(&desc, &t));
    if (st.ok())
      reset(t);
    return st;
  }
  /// Replaces the tensor with one over `data` (kept alive by the caller).
  Status borrow(const lopper_tensor_desc &desc, void *data, size_t bytes) {
    lopper_tensor *t = nullptr;
    Status st =
        detail::check(lopper_tensor_create_borrowed(&desc, data, bytes, &t));
    if (st.ok())
      reset(t);
    return st;
  }
#if LOPPER_HPP_EXCEPTIONS
  static Tensor owned(const lopper_tensor_desc &desc) {
    Tensor t;
    (void)t.allocate(desc);
    return t;
  }
  static Tensor borrowed(const lopper_tensor_desc &desc, void *data,
                         size_t bytes) {
    Tensor t;
    (void)t.borrow(desc, data, bytes);
    return t;
  }
#endif

  bool valid() const { return t_ != nullptr; }
  explicit operator bool() const { return valid(); }
  /// An empty desc (rank 0, dtype undefined) when !valid().
  lopper_tensor_desc desc() const { return view().desc(); }
  void *data() {
    void *p = nullptr;
    if (t_)
      (void)lopper_tensor_data(t_, &p, nullptr);
    return p;
  }
  const void *data() const { return view().data(); }
  size_t bytes() const { return view().bytes(); }
  template <typename T> T *data_as() { return static_cast<T *>(data()); }
  template <typename T> const T *data_as() const {
    return static_cast<const T *>(data());
  }
  size_t num_elements() const { return view().num_elements(); }
  TensorView view() const { return TensorView(t_); }

  lopper_tensor *get() const { return t_; }
  lopper_tensor *release() { return std::exchange(t_, nullptr); }
  void reset(lopper_tensor *t = nullptr) {
    lopper_tensor_destroy(std::exchange(t_, t));
  }

private:
  lopper_tensor *t_ = nullptr;
};

/// Load options.
struct Options {
  int num_threads = 0; ///< kernel threads; 0 = one per core
  lopper_options c() const {
    lopper_options o = LOPPER_OPTIONS_INIT;
    o.num_threads = num_threads;
    return o;
  }
};

/// One input or output of the signature.
struct TensorInfo {
  std::string name;
  lopper_tensor_desc desc; ///< dynamic dims are -1
  /// Per dim: the symbol ("batch"), an expression ("2*seq"), or "" (static).
  std::vector<std::string> dim_names;
};

struct ProfileEntry {
  std::string kind, node;
  uint64_t total_ns = 0, calls = 0;
};

class Model;

/// Per-thread debugging state for runs: profiles and taps.
class Session {
public:
  Session() = default;
#if LOPPER_HPP_EXCEPTIONS
  explicit Session(const Model &model) { (void)create(model); }
#endif
  ~Session() { lopper_session_destroy(s_); }
  Session(Session &&o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Session &operator=(Session &&o) noexcept {
    if (this != &o)
      lopper_session_destroy(std::exchange(s_, std::exchange(o.s_, nullptr)));
    return *this;
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  inline Status create(const Model &model);
  bool valid() const { return s_ != nullptr; }
  explicit operator bool() const { return valid(); }

  Status enable_profiling(bool on = true) {
    return detail::check(lopper_session_enable_profiling(s_, on ? 1 : 0));
  }
  Status reset_profile() {
    return detail::check(lopper_session_reset_profile(s_));
  }
  /// Per-op totals, ops in execution order (empty if !valid()).
  std::vector<ProfileEntry> profile() const {
    std::vector<ProfileEntry> out;
    size_t n = 0;
    if (!s_ || lopper_session_profile_count(s_, &n) != LOPPER_OK)
      return out;
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const char *kind = nullptr, *node = nullptr;
      ProfileEntry &e = out[i];
      if (lopper_session_profile_entry(s_, i, &kind, &node, &e.total_ns,
                                       &e.calls) == LOPPER_OK) {
        e.kind = kind ? kind : "";
        e.node = node ? node : "";
      }
    }
    return out;
  }
  /// Captures tap `name` on later runs.
  Status tap(const std::string &name) {
    return detail::check(lopper_session_tap(s_, name.c_str()));
  }
  /// The value captured by the last run (valid until the next run).
  Status get_tap(const std::string &name, TensorView &out) const {
    const lopper_tensor *t = nullptr;
    Status st = detail::check(lopper_session_get_tap(s_, name.c_str(), &t));
    out = TensorView(t);
    return st;
  }
  lopper_session *get() const { return s_; }

private:
  lopper_session *s_ = nullptr;
};

/// A loaded model. Immutable after load; run() may be called from several
/// threads at once.
class Model {
public:
  Model() = default;
#if LOPPER_HPP_EXCEPTIONS
  explicit Model(const std::string &path, const Options &options = {}) {
    (void)load(path, options);
  }
#endif
  ~Model() { lopper_model_unload(m_); }
  Model(Model &&o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  Model &operator=(Model &&o) noexcept {
    if (this != &o)
      lopper_model_unload(std::exchange(m_, std::exchange(o.m_, nullptr)));
    return *this;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// Loads model.so (replacing any model held).
  Status load(const std::string &path, const Options &options = {}) {
    lopper_options o = options.c();
    lopper_model *m = nullptr;
    Status st = detail::check(lopper_model_load(path.c_str(), &o, &m));
    if (st.ok())
      lopper_model_unload(std::exchange(m_, m));
    return st;
  }
  /// A model object linked into the program (see lopper_model_load_linked).
  Status load_linked(lopper_get_info_fn get_info,
                     const char *sidecar_dir = nullptr,
                     const Options &options = {}) {
    lopper_options o = options.c();
    lopper_model *m = nullptr;
    Status st =
        detail::check(lopper_model_load_linked(get_info, sidecar_dir, &o, &m));
    if (st.ok())
      lopper_model_unload(std::exchange(m_, m));
    return st;
  }
  bool loaded() const { return m_ != nullptr; }
  explicit operator bool() const { return loaded(); }
  const lopper_model *get() const { return m_; }

  size_t num_inputs() const {
    size_t n = 0;
    if (m_)
      (void)lopper_model_num_inputs(m_, &n);
    return n;
  }
  size_t num_outputs() const {
    size_t n = 0;
    if (m_)
      (void)lopper_model_num_outputs(m_, &n);
    return n;
  }
  std::vector<TensorInfo> inputs() const { return signature(false); }
  std::vector<TensorInfo> outputs() const { return signature(true); }
  std::vector<std::string> tap_names() const {
    std::vector<std::string> out;
    size_t n = 0;
    if (!m_ || lopper_model_num_taps(m_, &n) != LOPPER_OK)
      return out;
    for (size_t i = 0; i < n; ++i) {
      const char *name = nullptr;
      if (lopper_model_tap_name(m_, i, &name) == LOPPER_OK && name)
        out.push_back(name);
    }
    return out;
  }

  /// Output descs for these input descs (signature order).
  Status output_descs(const std::vector<lopper_tensor_desc> &inputs,
                      std::vector<lopper_tensor_desc> &out) const {
    lopper_tensor_desc init = LOPPER_TENSOR_DESC_INIT;
    out.assign(num_outputs(), init);
    return detail::check(lopper_model_output_descs(
        m_, inputs.data(), inputs.size(), out.data(), out.size()));
  }
  /// Arena bytes a run with these input descs needs.
  Status workspace_size(const std::vector<lopper_tensor_desc> &inputs,
                        size_t &bytes) const {
    return detail::check(
        lopper_model_workspace_size(m_, inputs.data(), inputs.size(), &bytes));
  }

  /// Runs the model. `outputs` is resized to num_outputs(); empty entries
  /// receive runtime-allocated tensors, others must have the exact desc.
  Status run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs,
             Session *session = nullptr) const {
    outputs.resize(num_outputs());
    std::vector<const Tensor *> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      in[i] = &inputs[i];
    return run(in.data(), in.size(), outputs.data(), outputs.size(), session);
  }
  /// The same over arrays (inputs[i] non-null).
  Status run(const Tensor *const *inputs, size_t num_inputs, Tensor *outputs,
             size_t num_outputs, Session *session = nullptr) const {
    std::vector<lopper_tensor *> in(num_inputs), out(num_outputs);
    for (size_t i = 0; i < num_inputs; ++i) {
      if (!inputs || !inputs[i])
        return detail::invalid("lopper::Model::run: input tensor is null");
      in[i] = inputs[i]->get();
    }
    if (num_outputs > 0 && !outputs)
      return detail::invalid("lopper::Model::run: outputs is null");
    for (size_t o = 0; o < num_outputs; ++o)
      out[o] = outputs[o].get();
    Status st =
        detail::check(lopper_run(m_, session ? session->get() : nullptr,
                                 in.data(), in.size(), out.data(), out.size()));
    if (st.ok())
      for (size_t o = 0; o < num_outputs; ++o)
        if (!outputs[o].get())
          outputs[o].reset(out[o]);
    return st;
  }
#if LOPPER_HPP_EXCEPTIONS
  /// Runs with runtime-allocated outputs; throws on error.
  std::vector<Tensor> run(const std::vector<Tensor> &inputs,
                          Session *session = nullptr) const {
    std::vector<Tensor> out;
    (void)run(inputs, out, session);
    return out;
  }
#endif

private:
  std::vector<TensorInfo> signature(bool output) const {
    std::vector<TensorInfo> out;
    size_t n = output ? num_outputs() : num_inputs();
    for (size_t i = 0; i < n; ++i) {
      TensorInfo info;
      info.desc = LOPPER_TENSOR_DESC_INIT;
      const char *name = nullptr;
      lopper_status s = output ? lopper_model_output(m_, i, &name, &info.desc)
                               : lopper_model_input(m_, i, &name, &info.desc);
      if (s != LOPPER_OK)
        continue;
      info.name = name ? name : "";
      for (int32_t d = 0; d < info.desc.rank; ++d) {
        const char *dn = nullptr;
        (void)lopper_model_dim_name(m_, output ? 1 : 0, i,
                                    static_cast<size_t>(d), &dn);
        info.dim_names.push_back(dn ? dn : "");
      }
      out.push_back(std::move(info));
    }
    return out;
  }

  lopper_model *m_ = nullptr;
};

inline Status Session::create(const Model &model) {
  lopper_session *s = nullptr;
  Status st = detail::check(lopper_session_create(model.get(), &s));
  if (st.ok())
    lopper_session_destroy(std::exchange(s_, s));
  return st;
}

#undef LOPPER_HPP_NODISCARD
} // namespace throwing / nothrow
} // namespace lopper

#endif // LOPPER_RUNTIME_HPP

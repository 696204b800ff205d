//===- Bench.cpp - lopper bench ------------------------------------------===//
//
// `lopper bench MODEL.so`: times lopper_run over N runs after W warm-up runs
// and prints median, min, max, p10/p90 and stddev; `--profile` adds the
// per-op table and `--json` prints everything as one object.
//
// `--compare onnxruntime --onnx MODEL.onnx` runs tools/scripts/ort_bench.py
// in a child process and interleaves the two engines over a line protocol
// on the child's stdin/stdout (docs/cli.md, "lopper bench"):
//   child -> "ready {JSON}" or "error MESSAGE"   (once, after loading)
//   "run\n"  -> "ok NANOSECONDS"                  (one timed session.run)
//   "save\n" -> "saved [{"name": N, "file": F}, ...]"
//   "quit\n" -> "bye"
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "TensorFiles.h"

#include "lopper/runtime.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef LOPPER_SOURCE_DIR
#define LOPPER_SOURCE_DIR ""
#endif

using namespace llvm;
using namespace lopper::tools;

static cl::OptionCategory &cat = lopperCategory();
static cl::SubCommand benchCmd("bench",
                               "time a compiled model (and compare it with "
                               "onnxruntime)");
static cl::opt<std::string> benchModel(cl::Positional, cl::desc("<model.so>"),
                                       cl::Required, cl::sub(benchCmd));
static cl::opt<int> benchRuns("runs", cl::desc("measured runs"), cl::init(100),
                              cl::sub(benchCmd), cl::cat(cat));
static cl::opt<int> benchWarmup("warmup",
                                cl::desc("warm-up runs (not measured)"),
                                cl::init(20), cl::sub(benchCmd), cl::cat(cat));
static cl::opt<int> benchThreads(
    "threads",
    cl::desc("kernel threads for lopper and onnxruntime (0: one per core)"),
    cl::init(0), cl::sub(benchCmd), cl::cat(cat));
static cl::opt<bool> benchProfile("profile",
                                  cl::desc("print a per-op time profile"),
                                  cl::sub(benchCmd), cl::cat(cat));
static cl::opt<bool> benchJson("json", cl::desc("print one JSON object"),
                               cl::sub(benchCmd), cl::cat(cat));
static cl::list<std::string>
    benchInputs("input", cl::desc("an input tensor from a .npy or .pb file"),
                cl::value_desc("NAME=FILE"), cl::sub(benchCmd), cl::cat(cat));
static cl::opt<uint64_t> benchSeed(
    "random-inputs",
    cl::desc("generate every input not given with --input (splitmix64)"),
    cl::value_desc("SEED"), cl::sub(benchCmd), cl::cat(cat));
static cl::list<std::string> benchRanges(
    "random-range",
    cl::desc("draw random values from [LO, HI) (all inputs, or input NAME)"),
    cl::value_desc("[NAME=]LO,HI"), cl::sub(benchCmd), cl::cat(cat));
static cl::list<std::string>
    benchDims("dim", cl::desc("the size of a dynamic dimension (default 1)"),
              cl::value_desc("NAME=VALUE"), cl::sub(benchCmd), cl::cat(cat));
static cl::opt<std::string>
    benchCompare("compare",
                 cl::desc("also time this engine, interleaved (onnxruntime)"),
                 cl::value_desc("ENGINE"), cl::sub(benchCmd), cl::cat(cat));
static cl::opt<std::string> benchOnnx("onnx",
                                      cl::desc("the ONNX model for --compare"),
                                      cl::value_desc("MODEL.onnx"),
                                      cl::sub(benchCmd), cl::cat(cat));
static cl::opt<std::string>
    benchPython("python",
                cl::desc("the Python with onnxruntime for --compare (default: "
                         "$LOPPER_PYTHON, else python3 on PATH)"),
                cl::value_desc("PATH"), cl::sub(benchCmd), cl::cat(cat));

namespace {

//===----------------------------------------------------------------------===//
// Statistics
//===----------------------------------------------------------------------===//

struct Stats {
  size_t n = 0;
  double median = 0, min = 0, max = 0, p10 = 0, p90 = 0, mean = 0, stddev = 0;
};

/// Quantile `q` of sorted values, interpolated linearly (NumPy's default).
double quantile(ArrayRef<double> sorted, double q) {
  double pos = q * double(sorted.size() - 1);
  size_t lo = size_t(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - double(lo));
}

/// Stats of `ms`; stddev is the sample standard deviation (n - 1).
Stats computeStats(std::vector<double> ms) {
  Stats s;
  s.n = ms.size();
  if (ms.empty())
    return s;
  std::sort(ms.begin(), ms.end());
  s.min = ms.front();
  s.max = ms.back();
  s.median = quantile(ms, 0.5);
  s.p10 = quantile(ms, 0.1);
  s.p90 = quantile(ms, 0.9);
  double sum = 0;
  for (double v : ms)
    sum += v;
  s.mean = sum / double(ms.size());
  double ss = 0;
  for (double v : ms)
    ss += (v - s.mean) * (v - s.mean);
  s.stddev = ms.size() > 1 ? std::sqrt(ss / double(ms.size() - 1)) : 0;
  return s;
}

json::Object statsJson(const Stats &s, ArrayRef<double> samples) {
  return json::Object{{"runs", int64_t(s.n)},
                      {"median_ms", s.median},
                      {"min_ms", s.min},
                      {"max_ms", s.max},
                      {"p10_ms", s.p10},
                      {"p90_ms", s.p90},
                      {"mean_ms", s.mean},
                      {"stddev_ms", s.stddev},
                      {"samples_ms", json::Array(samples)}};
}

//===----------------------------------------------------------------------===//
// The machine
//===----------------------------------------------------------------------===//

std::string cpuModel() {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFileAsStream("/proc/cpuinfo");
  if (buffer) {
    SmallVector<StringRef> lines;
    (*buffer)->getBuffer().split(lines, '\n');
    for (StringRef line : lines) {
      auto [key, value] = line.split(':');
      if (key.trim() == "model name" && !value.trim().empty())
        return value.trim().str();
    }
  }
  return sys::getHostCPUName().str();
}

unsigned availableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return unsigned(CPU_COUNT(&set));
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

//===----------------------------------------------------------------------===//
// The onnxruntime child process
//===----------------------------------------------------------------------===//

/// A child process with its stdin and stdout on pipes.
class Child {
public:
  ~Child() { finish(); }

  bool start(const std::vector<std::string> &argv, std::string &error) {
    int toChild[2], fromChild[2];
    if (pipe2(toChild, O_CLOEXEC) != 0) {
      error = std::string("cannot create a pipe: ") + strerror(errno);
      return false;
    }
    if (pipe2(fromChild, O_CLOEXEC) != 0) {
      error = std::string("cannot create a pipe: ") + strerror(errno);
      close(toChild[0]);
      close(toChild[1]);
      return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, toChild[0], 0);
    posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1);
    // The child gets SIGPIPE's default action back (the parent ignores it
    // while the child runs).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    std::vector<char *> args;
    for (const std::string &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(),
                          environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(toChild[0]);
    close(fromChild[1]);
    if (rc != 0) {
      pid = -1;
      close(toChild[1]);
      close(fromChild[0]);
      error = "cannot start '" + argv[0] + "': " + strerror(rc);
      return false;
    }
    in = toChild[1];
    out = fromChild[0];
    return true;
  }

  bool send(StringRef line) {
    std::string text = line.str() + "\n";
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = write(in, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      done += size_t(n);
    }
    return true;
  }

  /// The next line without its newline; false at end of file.
  bool readLine(std::string &line) {
    while (true) {
      size_t nl = buffer.find('\n');
      if (nl != std::string::npos) {
        line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        return true;
      }
      char chunk[4096];
      ssize_t n = read(out, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      buffer.append(chunk, size_t(n));
    }
  }

  /// Closes the pipes, waits for the child and describes how it ended.
  std::string finish() {
    if (pid <= 0)
      return "";
    closeFds();
    int status = 0;
    pid_t r = 0;
    // The child exits when its stdin closes; give it a few seconds.
    for (int i = 0; i < 500; ++i) {
      r = waitpid(pid, &status, WNOHANG);
      if (r != 0)
        break;
      usleep(10000);
    }
    if (r == 0) {
      kill(pid, SIGKILL);
      r = waitpid(pid, &status, 0);
    }
    pid = -1;
    if (r < 0)
      return "could not be waited for";
    if (WIFEXITED(status))
      return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
      return "was killed by signal " + std::to_string(WTERMSIG(status));
    return "ended";
  }

private:
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string buffer;

  void closeFds() {
    if (in >= 0)
      close(in);
    if (out >= 0)
      close(out);
    in = out = -1;
  }
};

/// Ignores SIGPIPE while alive (a dead child's pipe gives EPIPE instead).
class IgnoreSigpipe {
public:
  IgnoreSigpipe() {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &saved);
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &saved, nullptr); }

private:
  struct sigaction saved = {};
};

/// A temporary directory, removed with everything in it.
class TempDir {
public:
  ~TempDir() {
    if (!path.empty())
      sys::fs::remove_directories(path);
  }
  SmallString<256> path;
};

/// The onnxruntime side: starts the script, and talks to it.
class OrtPeer {
public:
  json::Object info; ///< the "ready" reply
  std::string python, script;

  bool start(const std::vector<std::string> &argv, std::string &error) {
    python = argv[0];
    script = argv[1];
    if (!child.start(argv, error)) {
      error = "--compare onnxruntime: " + error +
              " (set --python or LOPPER_PYTHON to a Python with onnxruntime)";
      return false;
    }
    std::string line;
    if (!expect("ready", line, error))
      return false;
    Expected<json::Value> value = json::parse(line);
    if (!value || !value->getAsObject()) {
      if (!value)
        consumeError(value.takeError());
      error = "onnxruntime helper: malformed ready line '" + line + "'";
      return false;
    }
    info = std::move(*value->getAsObject());
    return true;
  }

  /// One timed run: its milliseconds.
  bool run(double &ms, std::string &error) {
    std::string line;
    if (!request("run", "ok", line, error))
      return false;
    uint64_t ns;
    if (StringRef(line).trim().getAsInteger(10, ns)) {
      error = "onnxruntime helper: malformed reply 'ok " + line + "'";
      return false;
    }
    ms = double(ns) / 1e6;
    return true;
  }

  /// Runs once and saves the outputs: (name, file) pairs.
  bool save(std::vector<std::pair<std::string, std::string>> &files,
            std::string &error) {
    std::string line;
    if (!request("save", "saved", line, error))
      return false;
    Expected<json::Value> value = json::parse(line);
    const json::Array *array = value ? value->getAsArray() : nullptr;
    if (!array) {
      if (!value)
        consumeError(value.takeError());
      error = "onnxruntime helper: malformed reply 'saved " + line + "'";
      return false;
    }
    for (const json::Value &v : *array) {
      const json::Object *o = v.getAsObject();
      std::optional<StringRef> name = o ? o->getString("name") : std::nullopt;
      std::optional<StringRef> file = o ? o->getString("file") : std::nullopt;
      if (!name || !file) {
        error = "onnxruntime helper: malformed reply 'saved " + line + "'";
        return false;
      }
      files.emplace_back(name->str(), file->str());
    }
    return true;
  }

  bool quit(std::string &error) {
    std::string line;
    if (!request("quit", "bye", line, error))
      return false;
    std::string how = child.finish();
    if (how != "exited with status 0") {
      error = "onnxruntime helper " + how;
      return false;
    }
    return true;
  }

private:
  Child child;

  bool request(StringRef command, StringRef reply, std::string &rest,
               std::string &error) {
    if (!child.send(command)) {
      error = "onnxruntime helper " + child.finish() + " (broken pipe)";
      return false;
    }
    return expect(reply, rest, error);
  }

  /// Reads a line "REPLY REST"; an "error MESSAGE" line or the end of the
  /// child become the error.
  bool expect(StringRef reply, std::string &rest, std::string &error) {
    std::string line;
    if (!child.readLine(line)) {
      error = "onnxruntime helper (" + python + " " + script + ") " +
              child.finish() + " without replying";
      return false;
    }
    StringRef l = line;
    if (l.consume_front("error ")) {
      error = "onnxruntime: " + l.str();
      child.finish();
      return false;
    }
    if (!l.consume_front(reply) || (!l.empty() && !l.consume_front(" "))) {
      error = "onnxruntime helper: expected '" + reply.str() + "', got '" +
              line + "'";
      child.finish();
      return false;
    }
    rest = l.str();
    return true;
  }
};

std::string findScript() {
  if (std::optional<std::string> env =
          sys::Process::GetEnv("LOPPER_ORT_BENCH_SCRIPT"))
    return *env;
  SmallString<256> path(LOPPER_SOURCE_DIR);
  sys::path::append(path, "tools", "scripts", "ort_bench.py");
  return path.str().str();
}

std::string findPython() {
  if (benchPython.getNumOccurrences())
    return benchPython;
  if (std::optional<std::string> env = sys::Process::GetEnv("LOPPER_PYTHON"))
    if (!env->empty())
      return *env;
  return "python3";
}

//===----------------------------------------------------------------------===//
// Profile
//===----------------------------------------------------------------------===//

struct ProfileEntry {
  std::string kind, node;
  uint64_t ns = 0, calls = 0;
};

bool readProfile(lopper_session *session, std::vector<ProfileEntry> &out,
                 std::string &error) {
  size_t count = 0;
  if (lopper_session_profile_count(session, &count) != LOPPER_OK) {
    error = runtimeError();
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    const char *kind = nullptr, *node = nullptr;
    ProfileEntry e;
    if (lopper_session_profile_entry(session, i, &kind, &node, &e.ns,
                                     &e.calls) != LOPPER_OK) {
      error = runtimeError();
      return false;
    }
    e.kind = kind ? kind : "";
    e.node = node ? node : "";
    out.push_back(std::move(e));
  }
  // By time, longest first; execution order among equals.
  std::stable_sort(
      out.begin(), out.end(),
      [](const ProfileEntry &a, const ProfileEntry &b) { return a.ns > b.ns; });
  return true;
}

/// Milliseconds right-aligned in 10 columns: 4 decimals from 1 ms up, 6
/// below (so microsecond-scale runs still show).
std::string ms(double value) {
  return formatv(value >= 1 || value == 0 ? "{0,10:f4}" : "{0,10:f6}", value)
      .str();
}

std::string clip(StringRef s, size_t width) {
  if (s.size() <= width)
    return s.str();
  return s.take_front(width - 3).str() + "...";
}

void printProfile(raw_ostream &os, ArrayRef<ProfileEntry> entries, int runs) {
  constexpr size_t top = 30;
  uint64_t total = 0, calls = 0;
  for (const ProfileEntry &e : entries) {
    total += e.ns;
    calls += e.calls;
  }
  size_t shown = std::min(top, entries.size());
  size_t kindWidth = 4, nodeWidth = 4;
  for (const ProfileEntry &e : entries.take_front(shown)) {
    kindWidth = std::max(kindWidth, std::min<size_t>(e.kind.size(), 24));
    nodeWidth = std::max(nodeWidth, std::min<size_t>(e.node.size(), 48));
  }
  os << "\nprofile: per-op totals over " << runs << " runs";
  if (shown < entries.size())
    os << " (top " << shown << " of " << entries.size() << " ops)";
  os << "\n";
  os << left_justify("kind", kindWidth) << "  "
     << left_justify("node", nodeWidth) << "  " << right_justify("total ms", 10)
     << "  " << right_justify("calls", 8) << "  " << right_justify("%", 6)
     << "\n";
  for (const ProfileEntry &e : entries.take_front(shown)) {
    double pct = total ? 100.0 * double(e.ns) / double(total) : 0;
    os << left_justify(clip(e.kind, 24), kindWidth) << "  "
       << left_justify(clip(e.node, 48), nodeWidth) << "  "
       << ms(double(e.ns) / 1e6) << "  "
       << right_justify(std::to_string(e.calls), 8) << "  "
       << format("%6.1f", pct) << "\n";
  }
  if (shown < entries.size()) {
    uint64_t restNs = 0, restCalls = 0;
    for (const ProfileEntry &e : entries.drop_front(shown)) {
      restNs += e.ns;
      restCalls += e.calls;
    }
    os << left_justify("(other " + std::to_string(entries.size() - shown) +
                           " ops)",
                       kindWidth + 2 + nodeWidth)
       << "  " << ms(double(restNs) / 1e6) << "  "
       << right_justify(std::to_string(restCalls), 8) << "  "
       << format("%6.1f", total ? 100.0 * double(restNs) / double(total) : 0)
       << "\n";
  }
  os << left_justify("total", kindWidth + 2 + nodeWidth) << "  "
     << ms(double(total) / 1e6) << "  "
     << right_justify(std::to_string(calls), 8) << "  "
     << format("%6.1f", total ? 100.0 : 0.0) << "\n";
  if (runs > 0)
    os << "per run: " << StringRef(ms(double(total) / 1e6 / runs)).ltrim()
       << " ms in ops\n";
}

void printStatsRow(raw_ostream &os, StringRef name, const Stats &s) {
  os << left_justify(name, 12);
  for (double v : {s.median, s.min, s.max, s.p10, s.p90, s.stddev})
    os << " " << ms(v);
  os << "\n";
}

json::Array shapeJson(ArrayRef<int64_t> shape) {
  json::Array a;
  for (int64_t d : shape)
    a.push_back(d);
  return a;
}

//===----------------------------------------------------------------------===//
// lopper bench
//===----------------------------------------------------------------------===//

int runBench() {
  bool compare = benchCompare.getNumOccurrences() > 0;
  if (compare && benchCompare != "onnxruntime")
    return error("--compare '" + benchCompare +
                 "' is not supported (only 'onnxruntime')");
  if (compare && benchOnnx.empty())
    return error("--compare onnxruntime needs --onnx MODEL.onnx");
  if (!compare && benchOnnx.getNumOccurrences())
    return error("--onnx is only used with --compare onnxruntime");
  if (!compare && benchPython.getNumOccurrences())
    return error("--python is only used with --compare onnxruntime");
  if (benchRuns < 1)
    return error("--runs must be at least 1");
  if (benchWarmup < 0)
    return error("--warmup must be 0 or more");
  if (compare && (benchRuns < 50 || benchWarmup < 20))
    return error("--compare needs --runs 50 or more and --warmup 20 or more "
                 "(got --runs " +
                 Twine(benchRuns) + " --warmup " + Twine(benchWarmup) + ")");
  if (benchThreads < 0)
    return error("--threads must be 0 (one per core) or more");
  int threads = benchThreads ? int(benchThreads) : int(availableCores());

  InputOptions options;
  options.files.assign(benchInputs.begin(), benchInputs.end());
  if (benchSeed.getNumOccurrences())
    options.seed = benchSeed;
  options.ranges.assign(benchRanges.begin(), benchRanges.end());
  options.dims.assign(benchDims.begin(), benchDims.end());

  std::string msg;
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(benchModel, status))
    return error(benchModel + ": cannot read: " + ec.message());
  if (compare) {
    if (std::error_code ec = sys::fs::status(benchOnnx, status))
      return error(benchOnnx + ": cannot read: " + ec.message());
    if (sys::fs::is_directory(status))
      return error(benchOnnx + ": is a directory, not an ONNX model");
  }
  std::vector<std::pair<std::string, HostTensor>> files;
  if (!readInputFiles(options, files, msg))
    return error(msg);
  Model model;
  auto loadStart = std::chrono::steady_clock::now();
  bool loaded = loadModel(benchModel, threads, model, msg);
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - loadStart)
                      .count();
  if (!loaded)
    return error(msg);
  ModelInputs inputs;
  if (!bindInputs(model, options, std::move(files), inputs, msg))
    return error(msg);

  // Outputs: allocated once when the shapes are known up front; otherwise
  // the runtime allocates them in each run (and the time includes that).
  size_t numOutputs = model.outputs.size();
  TensorList outputs;
  outputs.tensors.assign(numOutputs, nullptr);
  bool preallocated = false;
  size_t workspaceBytes = 0;
  {
    std::vector<lopper_tensor_desc> inDescs, outDescs(numOutputs);
    for (lopper_tensor *t : inputs.tensors.tensors) {
      lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
      if (lopper_tensor_get_desc(t, &d) != LOPPER_OK)
        return error(runtimeError());
      inDescs.push_back(d);
    }
    for (lopper_tensor_desc &d : outDescs)
      d = LOPPER_TENSOR_DESC_INIT;
    // If the runtime cannot say (a real problem shows up in the first run),
    // the outputs are left to lopper_run.
    // The planned arena (peak intermediate memory) for these shapes.
    if (lopper_model_workspace_size(model.handle, inDescs.data(),
                                    inDescs.size(),
                                    &workspaceBytes) != LOPPER_OK)
      workspaceBytes = 0;
    preallocated =
        lopper_model_output_descs(model.handle, inDescs.data(), inDescs.size(),
                                  outDescs.data(), numOutputs) == LOPPER_OK;
    for (const lopper_tensor_desc &d : outDescs)
      for (int32_t i = 0; i < d.rank && i < LOPPER_MAX_RANK; ++i)
        preallocated &= d.dims[i] >= 0;
    for (size_t i = 0; preallocated && i < numOutputs; ++i)
      if (lopper_tensor_create(&outDescs[i], &outputs.tensors[i]) != LOPPER_OK)
        return error(runtimeError());
  }

  struct SessionDeleter {
    void operator()(lopper_session *s) const { lopper_session_destroy(s); }
  };
  std::unique_ptr<lopper_session, SessionDeleter> session;
  if (benchProfile) {
    lopper_session *s = nullptr;
    if (lopper_session_create(model.handle, &s) != LOPPER_OK)
      return error(runtimeError());
    session.reset(s);
    if (lopper_session_enable_profiling(session.get(), 1) != LOPPER_OK)
      return error(runtimeError());
  }

  auto runLopper = [&](double *ms) {
    if (!preallocated)
      for (lopper_tensor *&t : outputs.tensors) {
        lopper_tensor_destroy(t);
        t = nullptr;
      }
    auto start = std::chrono::steady_clock::now();
    lopper_status st = lopper_run(
        model.handle, session.get(), inputs.tensors.tensors.data(),
        inputs.tensors.tensors.size(), outputs.tensors.data(), numOutputs);
    auto end = std::chrono::steady_clock::now();
    if (ms)
      *ms = std::chrono::duration<double, std::milli>(end - start).count();
    return st == LOPPER_OK;
  };

  // The onnxruntime peer reads the same inputs from .npy files.
  std::optional<IgnoreSigpipe> noSigpipe;
  TempDir temp;
  OrtPeer ort;
  if (compare) {
    noSigpipe.emplace();
    if (std::error_code ec =
            sys::fs::createUniqueDirectory("lopper-bench", temp.path))
      return error("cannot create a temporary directory: " + ec.message());
    std::vector<std::string> names;
    for (const TensorSig &sig : model.inputs)
      names.push_back(sig.name);
    std::vector<std::string> stems = safeFileStems(names);
    json::Array manifest;
    for (size_t i = 0; i < names.size(); ++i) {
      SmallString<256> path(temp.path);
      sys::path::append(path, "input_" + stems[i] + ".npy");
      if (!writeTensorFile(path, TensorFileFormat::Npy, inputs.host[i],
                           names[i], msg))
        return error("--compare onnxruntime: input '" + names[i] + "': " + msg);
      manifest.push_back(
          json::Object{{"name", names[i]}, {"file", path.str().str()}});
    }
    SmallString<256> manifestPath(temp.path), outDir(temp.path);
    sys::path::append(manifestPath, "inputs.json");
    sys::path::append(outDir, "ort_outputs");
    if (std::error_code ec = sys::fs::create_directory(outDir))
      return error(outDir + ": cannot create: " + ec.message());
    std::string manifestText =
        formatv("{0}",
                json::Value(json::Object{{"inputs", std::move(manifest)}}))
            .str();
    if (!writeFileAtomically(manifestPath, manifestText, msg))
      return error(msg);
    std::string script = findScript();
    if (!sys::fs::exists(script))
      return error("--compare onnxruntime: the helper script '" + script +
                   "' does not exist (set LOPPER_ORT_BENCH_SCRIPT)");
    std::vector<std::string> argv = {findPython(), script,
                                     "--model",    benchOnnx,
                                     "--inputs",   manifestPath.str().str(),
                                     "--threads",  std::to_string(threads),
                                     "--save-dir", outDir.str().str()};
    if (!ort.start(argv, msg))
      return error(msg);
  }

  // Warm-up, alternating when comparing.
  for (int i = 0; i < benchWarmup; ++i) {
    if (!runLopper(nullptr))
      return error(runtimeError());
    double ms;
    if (compare && !ort.run(ms, msg))
      return error(msg);
  }
  if (session && lopper_session_reset_profile(session.get()) != LOPPER_OK)
    return error(runtimeError());

  // Agreement of the outputs, from lopper's last run and one onnxruntime run.
  struct OutputAgreement {
    std::string name;
    std::optional<Agreement> agreement;
    std::string problem;
  };
  std::vector<OutputAgreement> agreements;
  if (compare) {
    std::vector<std::pair<std::string, std::string>> ortFiles;
    if (!ort.save(ortFiles, msg))
      return error(msg);
    for (size_t i = 0; i < numOutputs; ++i) {
      OutputAgreement a;
      a.name = model.outputs[i].name;
      HostTensor mine, theirs;
      auto it =
          llvm::find_if(ortFiles, [&](auto &f) { return f.first == a.name; });
      if (it == ortFiles.end())
        a.problem = "onnxruntime has no output of this name";
      else if (!tensorToHost(outputs.tensors[i], mine, msg))
        a.problem = msg;
      else if (!readTensorFile(it->second, theirs, msg))
        a.problem = msg;
      else {
        Agreement agreement;
        if (compareTensors(mine, theirs, agreement, msg))
          a.agreement = agreement;
        else
          a.problem = msg;
      }
      agreements.push_back(std::move(a));
    }
  }

  // Measured runs: lopper, onnxruntime, lopper, onnxruntime, ...
  std::vector<double> lopperMs, ortMs;
  for (int i = 0; i < benchRuns; ++i) {
    double ms;
    if (!runLopper(&ms))
      return error(runtimeError());
    lopperMs.push_back(ms);
    if (compare) {
      if (!ort.run(ms, msg))
        return error(msg);
      ortMs.push_back(ms);
    }
  }
  if (compare && !ort.quit(msg))
    return error(msg);
  Stats lopperStats = computeStats(lopperMs), ortStats = computeStats(ortMs);

  std::vector<ProfileEntry> profile;
  if (session && !readProfile(session.get(), profile, msg))
    return error(msg);

  std::string cpu = cpuModel();
  unsigned cores = availableCores();
  int physical = get_physical_cores();
  unsigned logical = std::thread::hardware_concurrency();

  if (benchJson) {
    json::Array inputList;
    for (size_t i = 0; i < model.inputs.size(); ++i)
      inputList.push_back(
          json::Object{{"name", model.inputs[i].name},
                       {"dtype", dtypeName(inputs.host[i].dtype)},
                       {"shape", shapeJson(inputs.host[i].shape)},
                       {"source", inputs.sources[i]}});
    json::Object dims;
    for (auto &[name, value] : inputs.dimValues)
      dims[name] = value;
    json::Array ranges;
    for (const std::string &r : benchRanges)
      ranges.push_back(r);
    json::Object settings{
        {"runs", int64_t(benchRuns)},
        {"warmup", int64_t(benchWarmup)},
        {"threads", int64_t(threads)},
        {"threads_requested", int64_t(benchThreads)},
        {"profile", bool(benchProfile)},
        {"dims", std::move(dims)},
        {"random_seed", options.seed ? json::Value(uint64_t(*options.seed))
                                     : json::Value(nullptr)},
        {"random_ranges", std::move(ranges)},
        {"outputs_preallocated", preallocated},
        {"workspace_bytes", int64_t(workspaceBytes)},
        {"load_ms", loadMs},
        {"interleaved", compare},
    };
    json::Array outputList;
    for (size_t i = 0; i < numOutputs; ++i) {
      lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
      std::vector<int64_t> shape;
      if (outputs.tensors[i] &&
          lopper_tensor_get_desc(outputs.tensors[i], &d) == LOPPER_OK)
        shape.assign(d.dims, d.dims + std::clamp(d.rank, 0, LOPPER_MAX_RANK));
      outputList.push_back(
          json::Object{{"name", model.outputs[i].name},
                       {"dtype", dtypeName(model.outputs[i].dtype)},
                       {"shape", shapeJson(shape)}});
    }
    json::Object root{
        {"model", benchModel.getValue()},
        {"onnx",
         compare ? json::Value(benchOnnx.getValue()) : json::Value(nullptr)},
        {"runtime_api", formatv("{0}.{1}", LOPPER_RUNTIME_VERSION_MAJOR,
                                LOPPER_RUNTIME_VERSION_MINOR)
                            .str()},
        {"settings", std::move(settings)},
        {"inputs", std::move(inputList)},
        {"outputs", std::move(outputList)},
        {"machine", json::Object{{"cpu_model", cpu},
                                 {"host_cpu", sys::getHostCPUName()},
                                 {"cores", int64_t(cores)},
                                 {"logical_cores", int64_t(logical)},
                                 {"physical_cores", int64_t(physical)}}},
        {"lopper", statsJson(lopperStats, lopperMs)},
    };
    if (benchProfile) {
      uint64_t total = 0;
      for (const ProfileEntry &e : profile)
        total += e.ns;
      json::Array ops;
      for (const ProfileEntry &e : profile)
        ops.push_back(json::Object{
            {"kind", e.kind},
            {"node", e.node},
            {"total_ms", double(e.ns) / 1e6},
            {"calls", int64_t(e.calls)},
            {"percent", total ? 100.0 * double(e.ns) / double(total) : 0.0}});
      root["profile"] = json::Object{{"runs", int64_t(benchRuns)},
                                     {"total_ms", double(total) / 1e6},
                                     {"ops", std::move(ops)}};
    }
    if (compare) {
      json::Object o = std::move(ort.info);
      o["onnx_model"] = benchOnnx.getValue();
      o["python"] = ort.python;
      o["script"] = ort.script;
      o["timing"] = statsJson(ortStats, ortMs);
      root["onnxruntime"] = std::move(o);
      root["comparison"] =
          json::Object{{"ratio", lopperStats.median / ortStats.median},
                       {"speedup", ortStats.median / lopperStats.median}};
      json::Array agree;
      for (const OutputAgreement &a : agreements) {
        if (a.agreement)
          agree.push_back(json::Object{{"output", a.name},
                                       {"max_abs", a.agreement->maxAbs},
                                       {"rel_l2", a.agreement->relL2},
                                       {"cosine", a.agreement->cosine},
                                       {"nonfinite", a.agreement->nonFinite}});
        else
          agree.push_back(
              json::Object{{"output", a.name}, {"error", a.problem}});
      }
      root["agreement"] = std::move(agree);
    }
    outs() << formatv("{0:2}", json::Value(std::move(root))) << "\n";
    return 0;
  }

  raw_ostream &os = outs();
  os << "model:    " << benchModel << "\n";
  if (compare)
    os << "onnx:     " << benchOnnx << "\n";
  os << "machine:  " << cpu << ", " << cores << " cores\n";
  os << "threads:  " << threads
     << (compare ? " (lopper; onnxruntime intra-op, inter-op 1)" : "") << "\n";
  os << "load:     " << format("%.1f", loadMs)
     << " ms (open, checks, weight checksum)\n";
  if (workspaceBytes)
    os << "arena:    " << workspaceBytes
       << " bytes (planned intermediate memory for these shapes)\n";
  os << "runs:     " << benchRuns << " measured after " << benchWarmup
     << " warm-up" << (compare ? " each, interleaved" : "") << "\n";
  for (size_t i = 0; i < model.inputs.size(); ++i)
    os << "input:    " << model.inputs[i].name << " "
       << dtypeName(inputs.host[i].dtype) << " "
       << shapeString(inputs.host[i].shape) << " "
       << (inputs.sources[i] == "random"
               ? "random (seed " + std::to_string(*options.seed) + ")"
               : inputs.sources[i])
       << "\n";
  os << "\n"
     << left_justify("", 12)
     << "     median        min        max        p10        p90     stddev"
        "  (ms)\n";
  printStatsRow(os, "lopper", lopperStats);
  if (compare) {
    printStatsRow(os, "onnxruntime", ortStats);
    os << "\nlopper/onnxruntime: "
       << format("%.3f", lopperStats.median / ortStats.median) << " (speedup "
       << format("%.2f", ortStats.median / lopperStats.median) << "x)\n";
    if (const json::Value *v = ort.info.get("onnxruntime"))
      if (std::optional<StringRef> version = v->getAsString())
        os << "onnxruntime " << *version
           << ": ORT_ENABLE_ALL, intra-op threads " << threads
           << ", inter-op threads 1, sequential\n";
    // The accuracy at this setting, beside the speed: onnxruntime runs the
    // original model, so for a compressed artifact this is its error.
    os << "\naccuracy: outputs vs onnxruntime on the original model:\n";
    for (const OutputAgreement &a : agreements) {
      os << "  " << a.name << ": ";
      if (a.agreement) {
        os << "max abs " << format("%.3g", a.agreement->maxAbs) << ", rel L2 "
           << format("%.3g", a.agreement->relL2) << ", cosine "
           << format("%.6f", a.agreement->cosine);
        if (a.agreement->nonFinite)
          os << ", " << a.agreement->nonFinite << " non-finite mismatches";
        os << "\n";
      } else {
        os << "cannot compare: " << a.problem << "\n";
      }
    }
  }
  if (benchProfile)
    printProfile(os, profile, benchRuns);
  return 0;
}

} // namespace

lopper::tools::Command lopper::tools::benchCommand() {
  return {&benchCmd, runBench};
}

// lopper-gpu-e2e: a compiled model run end to end on the GPU through the
// runtime (lopper_model_load with LOPPER_DEVICE_CUDA) with every plan layer
// dense, then with every layer 2:4 (plans rewritten here from the compiled
// plan's weights, which must be 2:4: the cost model keeps 1024x1024 layers
// dense), against the CPU run of the same artifact. Prints the max error of
// each against the CPU and the end-to-end time per run.
//
//   lopper-gpu-e2e --model m.so [--runs N] [--seed N] [--tolerance T]
//                  [--mock]
//
// --mock runs the GPU loads on the runtime's CPU mock backend (fp16
// numerics on the CPU): a check of this program and of the dispatch on a
// machine without a GPU; its times mean nothing.
//
// Exit status: 0 good, 1 a check failed (error over the tolerance, a plan
// layer that did not run on the GPU), 2 no usable GPU (the load fell back
// to the CPU), 3 bad arguments or files.
#include "formats.h"
#include "gpu_plan.h"
#include "internal.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace cuda = lopper::cuda;

namespace {

std::string readFile(const std::string &path, bool *ok) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  *ok = static_cast<bool>(in);
  return s.str();
}

bool writeFile(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

template <typename T> void put(std::string &blob, const std::vector<T> &v) {
  blob.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
  blob.resize((blob.size() + 63) / 64 * 64);
}

// The plan `bytes` with every layer rewritten in `format` (dense or 2:4).
bool rewritePlan(const std::string &bytes, const std::string &format,
                 std::string *out, std::string *err) {
  cuda::GpuPlan plan;
  const auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
  if (!cuda::readPlan(data, bytes.size(), &plan, err))
    return false;
  std::vector<std::string> blobs;
  for (cuda::PlanLayer &l : plan.layers) {
    std::vector<float> w;
    if (!cuda::unpackPlanBlob(l.format, l.rows, l.cols, l.blockRows,
                              data + l.offset, l.bytes, &w, err))
      return false;
    std::string blob;
    if (format == "2:4") {
      cuda::Sparse24 s;
      if (!cuda::compress24(cuda::DenseView{w.data(), nullptr, l.rows, l.cols},
                            &s, err)) {
        *err = "layer '" + l.node + "': " + *err;
        return false;
      }
      put(blob, s.values);
      put(blob, s.meta);
    } else {
      std::vector<uint16_t> h(w.size());
      for (size_t i = 0; i < w.size(); ++i)
        h[i] = cuda::floatToHalf(w[i]);
      put(blob, h);
    }
    blobs.push_back(blob);
    l.format = format;
    l.blockRows = l.blockCols = 0;
  }
  *out = cuda::writePlan(plan, blobs,
                         bytes.substr(plan.kernelsOffset, plan.kernelsBytes));
  return true;
}

struct Loaded {
  lopper_model *model = nullptr;
  std::vector<lopper_tensor_desc> in, out;
};

bool load(const std::string &path, bool gpu, Loaded *l) {
  lopper_options o = LOPPER_OPTIONS_INIT;
  if (gpu)
    o.device = LOPPER_DEVICE_CUDA;
  if (lopper_model_load(path.c_str(), &o, &l->model) != LOPPER_OK) {
    std::fprintf(stderr, "lopper-gpu-e2e: %s\n", lopper_last_error());
    return false;
  }
  size_t ni = 0, no = 0;
  lopper_model_num_inputs(l->model, &ni);
  lopper_model_num_outputs(l->model, &no);
  l->in.resize(ni);
  l->out.resize(no);
  for (size_t i = 0; i < ni; ++i) {
    l->in[i] = LOPPER_TENSOR_DESC_INIT;
    lopper_model_input(l->model, i, nullptr, &l->in[i]);
    for (int r = 0; r < l->in[i].rank; ++r)
      if (l->in[i].dims[r] < 0) {
        std::fprintf(stderr,
                     "lopper-gpu-e2e: %s: input %zu has a dynamic "
                     "dim; give the model static shapes\n",
                     path.c_str(), i);
        return false;
      }
  }
  return true;
}

struct Timed {
  std::vector<std::vector<float>> outputs;
  double ms = 0; // mean per run
};

// Runs `runs` times (after two warm-up runs) on fixed inputs.
bool timeRuns(const Loaded &l, const std::vector<std::vector<float>> &inputs,
              int runs, Timed *t) {
  std::vector<lopper_tensor *> in(inputs.size()), out(l.out.size(), nullptr);
  std::vector<std::vector<float>> inCopy = inputs;
  for (size_t i = 0; i < in.size(); ++i)
    lopper_tensor_create_borrowed(&l.in[i], inCopy[i].data(),
                                  inCopy[i].size() * 4, &in[i]);
  lopper_session *s = nullptr;
  lopper_session_create(l.model, &s);
  bool ok = true;
  auto run = [&]() {
    if (lopper_run(l.model, s, in.data(), in.size(), out.data(), out.size()) !=
        LOPPER_OK) {
      std::fprintf(stderr, "lopper-gpu-e2e: %s\n", lopper_last_error());
      ok = false;
    }
  };
  run();
  run();
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < runs && ok; ++r)
    run();
  auto t1 = std::chrono::steady_clock::now();
  t->ms = std::chrono::duration<double, std::milli>(t1 - t0).count() / runs;
  for (lopper_tensor *o : out) {
    void *data = nullptr;
    size_t bytes = 0;
    if (o && lopper_tensor_data(o, &data, &bytes) == LOPPER_OK) {
      const float *f = static_cast<const float *>(data);
      t->outputs.emplace_back(f, f + bytes / 4);
    }
    lopper_tensor_destroy(o);
  }
  for (lopper_tensor *i : in)
    lopper_tensor_destroy(i);
  lopper_session_destroy(s);
  return ok;
}

// Max |a - b| / (1 + |b|) over every output.
double maxError(const Timed &a, const Timed &b) {
  double e = a.outputs.size() == b.outputs.size() ? 0 : INFINITY;
  for (size_t o = 0; o < a.outputs.size() && o < b.outputs.size(); ++o) {
    if (a.outputs[o].size() != b.outputs[o].size())
      return INFINITY;
    for (size_t i = 0; i < a.outputs[o].size(); ++i) {
      double d = std::fabs(double(a.outputs[o][i]) - b.outputs[o][i]) /
                 (1.0 + std::fabs(b.outputs[o][i]));
      if (!(d <= e)) // NaN counts
        e = std::isnan(d) ? INFINITY : d;
    }
  }
  return e;
}

// Every plan layer ran on the GPU in every run, none on the CPU.
bool allOnGpu(const Loaded &l, int runs, const char *what) {
  const lopper::rt::GpuModel *g = l.model->gpu.get();
  bool ok = true;
  for (size_t i = 0; i < g->layers.size(); ++i) {
    int64_t gpu = g->stats[i].gpuCalls.load(),
            cpu = g->stats[i].cpuCalls.load();
    if (gpu != runs + 2 || cpu != 0) {
      std::printf("  %s: layer %s (%s): %lld GPU calls, %lld CPU calls "
                  "(want %d and 0)\n",
                  what, g->layers[i].node.c_str(), g->layers[i].format.c_str(),
                  static_cast<long long>(gpu), static_cast<long long>(cpu),
                  runs + 2);
      ok = false;
    }
  }
  return ok;
}

std::unique_ptr<lopper::rt::GpuBackend> mockBackend(int, std::string *) {
  return std::make_unique<lopper::rt::MockGpuBackend>();
}

} // namespace

int main(int argc, char **argv) {
  std::string model;
  int runs = 20;
  unsigned seed = 1;
  double tol = 5e-2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--model")
      model = next();
    else if (a == "--runs")
      runs = std::atoi(next());
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::atoi(next()));
    else if (a == "--tolerance")
      tol = std::atof(next());
    else if (a == "--quick")
      runs = 5;
    else if (a == "--mock")
      lopper::rt::setGpuBackendFactoryForTesting(&mockBackend);
    else {
      std::fprintf(stderr, "lopper-gpu-e2e: unknown argument '%s'\n",
                   a.c_str());
      return 3;
    }
  }
  if (model.empty() || runs <= 0) {
    std::fprintf(stderr, "usage: lopper-gpu-e2e --model m.so [--runs N] "
                         "[--seed N] [--tolerance T]\n");
    return 3;
  }
  bool ok;
  std::string plan = readFile(cuda::planPathFor(model), &ok);
  if (!ok) {
    std::fprintf(stderr, "lopper-gpu-e2e: cannot read %s\n",
                 cuda::planPathFor(model).c_str());
    return 3;
  }
  // The variants: the same artifact beside a dense and a 2:4 plan.
  char tmpl[] = "/tmp/lopper-gpu-e2e-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("lopper-gpu-e2e: mkdtemp");
    return 3;
  }
  std::string dir = tmpl, dense = dir + "/dense.so", s24 = dir + "/sparse24.so";
  std::string artifact = readFile(model, &ok);
  std::string err;
  for (const std::string &v : {dense, s24}) {
    std::string p;
    if (!ok || !writeFile(v, artifact) ||
        !rewritePlan(plan, v == dense ? "dense" : "2:4", &p, &err) ||
        !writeFile(cuda::planPathFor(v), p)) {
      std::fprintf(stderr, "lopper-gpu-e2e: cannot write the %s plan: %s\n",
                   v == dense ? "dense" : "2:4", err.c_str());
      return 3;
    }
  }

  Loaded cpu, sparse, dn;
  int status = 0;
  if (!load(model, false, &cpu) || !load(s24, true, &sparse) ||
      !load(dense, true, &dn)) {
    status = 3;
  } else if (sparse.model->device != LOPPER_DEVICE_CUDA ||
             dn.model->device != LOPPER_DEVICE_CUDA) {
    std::printf("lopper-gpu-e2e: the CUDA load fell back to the CPU: %s\n",
                sparse.model->deviceNote.c_str());
    status = 2;
  } else {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<std::vector<float>> inputs;
    for (const lopper_tensor_desc &d : cpu.in) {
      size_t n = 1;
      for (int r = 0; r < d.rank; ++r)
        n *= static_cast<size_t>(d.dims[r]);
      std::vector<float> v(n);
      for (float &x : v)
        x = nd(rng);
      inputs.push_back(v);
    }
    Timed tc, ts, td;
    if (!timeRuns(cpu, inputs, runs, &tc) ||
        !timeRuns(sparse, inputs, runs, &ts) ||
        !timeRuns(dn, inputs, runs, &td)) {
      status = 1;
    } else {
      const auto &layers = sparse.model->gpu->layers;
      std::printf("model %s: %zu GPU layers (", model.c_str(), layers.size());
      for (size_t i = 0; i < layers.size(); ++i)
        std::printf("%s%s %lldx%lld", i ? ", " : "", layers[i].node.c_str(),
                    static_cast<long long>(layers[i].rows),
                    static_cast<long long>(layers[i].cols));
      std::printf("), input");
      for (const lopper_tensor_desc &d : cpu.in)
        for (int r = 0; r < d.rank; ++r)
          std::printf("%s%lld", r ? "x" : " ",
                      static_cast<long long>(d.dims[r]));
      std::printf(", %d runs\n", runs);
      double es = maxError(ts, tc), ed = maxError(td, tc);
      std::printf("%-22s %10s %12s %10s\n", "run", "ms/run", "max error",
                  "vs dense");
      std::printf("%-22s %10.3f %12s %10s\n", "cpu (fp32)", tc.ms, "-", "-");
      std::printf("%-22s %10.3f %12.3g %10s\n", "gpu dense plan", td.ms, ed,
                  "1.00x");
      std::printf("%-22s %10.3f %12.3g %9.2fx\n", "gpu 2:4 plan", ts.ms, es,
                  td.ms / ts.ms);
      std::printf("(times: lopper_run end to end, host round trip per layer; "
                  "error: max |gpu - cpu| / (1 + |cpu|), tolerance %g)\n",
                  tol);
      if (!(es <= tol) || !(ed <= tol)) {
        std::printf("FAIL: error over the tolerance\n");
        status = 1;
      }
      if (!allOnGpu(sparse, runs, "2:4 plan") ||
          !allOnGpu(dn, runs, "dense plan"))
        status = 1;
    }
  }
  for (Loaded *l : {&cpu, &sparse, &dn})
    if (l->model)
      lopper_model_unload(l->model);
  for (const std::string &v : {dense, s24}) {
    unlink(cuda::planPathFor(v).c_str());
    unlink(v.c_str());
  }
  rmdir(dir.c_str());
  return status;
}

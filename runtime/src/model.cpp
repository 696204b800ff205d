// Loading (dlopen or linked), artifact checks, signature queries.
#include "internal.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <new>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace lopper::rt;

lopper_model::~lopper_model() {
  pool.reset();
  for (Arena &a : freeArenas)
    alignedFree(a.data);
  if (mapped)
    munmap(mapped, mappedSize);
  if (dl)
    dlclose(dl);
}

namespace {

std::mutex slotMu; // kernel slots live in the artifact: fill one at a time

constexpr size_t kMinOptionsSize =
    offsetof(lopper_options, num_threads) + sizeof(int32_t);

lopper_status readOptions(const lopper_options *o, const char *fn, int *threads,
                          int *device, int *deviceId) {
  *threads = 0;
  *device = LOPPER_DEVICE_CPU;
  *deviceId = 0;
  if (!o)
    return LOPPER_OK;
  if (o->size < kMinOptionsSize)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: options->size is %zu; set it to sizeof(lopper_options) "
                "(LOPPER_OPTIONS_INIT)",
                fn, o->size);
  if (o->num_threads < 0)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: num_threads is %d", fn,
                static_cast<int>(o->num_threads));
  if (o->size >= offsetof(lopper_options, device) + sizeof(int32_t)) {
    if (o->device != LOPPER_DEVICE_CPU && o->device != LOPPER_DEVICE_CUDA)
      return fail(LOPPER_ERR_INVALID_ARGUMENT,
                  "%s: device %d is not a lopper_device (CPU %d, CUDA %d)", fn,
                  static_cast<int>(o->device), LOPPER_DEVICE_CPU,
                  LOPPER_DEVICE_CUDA);
    *device = o->device;
  }
  if (o->size >= offsetof(lopper_options, device_id) + sizeof(int32_t)) {
    if (o->device_id < 0)
      return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: device_id is %d", fn,
                  static_cast<int>(o->device_id));
    *deviceId = o->device_id;
  }
  *threads = o->num_threads;
  return LOPPER_OK;
}

std::string joinPath(const std::string &dir, const char *file) {
  if (file[0] == '/' || dir.empty())
    return file;
  if (dir.back() == '/')
    return dir + file;
  return dir + "/" + file;
}

lopper_status loadSidecar(lopper_model *m, const lopper_artifact_info *info,
                          const std::string &dir) {
  const char *name = info->weights_file;
  std::string path = joinPath(dir, name);
  const char *label = m->label.c_str();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(LOPPER_ERR_IO, "%s: weights file %s: cannot open %s: %s", label,
                name, path.c_str(), std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(LOPPER_ERR_IO, "%s: weights file %s: not a regular file", label,
                name);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size != info->weights_size) {
    close(fd);
    return fail(LOPPER_ERR_IO,
                "%s: weights file %s: %llu bytes, expected %llu (truncated or "
                "from another build?)",
                label, name, static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(info->weights_size));
  }
  if (size > 0) {
    void *p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      close(fd);
      return fail(e == ENOMEM ? LOPPER_ERR_OUT_OF_MEMORY : LOPPER_ERR_IO,
                  "%s: weights file %s: mmap failed: %s", label, name,
                  std::strerror(e));
    }
    m->mapped = p;
    m->mappedSize = size;
    m->weights = static_cast<const uint8_t *>(p);
  }
  close(fd);
  m->weightsSize = size;
  if (lopper_checksum64(m->weights, size) != info->weights_checksum)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: weights file %s: checksum mismatch (file changed?)", label,
                name);
  return LOPPER_OK;
}

// Checks the info block and builds the model. `sidecarDir` is where a
// weights_file is looked up.
lopper_status finishLoad(lopper_model *m, const lopper_artifact_info *info,
                         const std::string &sidecarDir, int threads) {
  const char *label = m->label.c_str();
  if (!info)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: lopper_artifact_get_info returned NULL", label);
  if (std::memcmp(info->magic, LOPPER_ARTIFACT_MAGIC, 8) != 0)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: not a Lopper artifact (bad magic in the info block)",
                label);
  if (info->abi_version != LOPPER_ABI_VERSION)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: ABI version %u, this runtime supports %u", label,
                info->abi_version, LOPPER_ABI_VERSION);
  if (info->info_size < sizeof(lopper_artifact_info))
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: info block is %u bytes, ABI version %u needs %zu", label,
                info->info_size, LOPPER_ABI_VERSION,
                sizeof(lopper_artifact_info));
  uint64_t missing = info->required_features & ~hostCpuFeatures();
  if (missing)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: needs CPU features %s that this CPU lacks", label,
                cpuFeatureNames(missing).c_str());
  if (!info->metadata)
    return fail(LOPPER_ERR_INCOMPATIBLE, "%s: no metadata", label);
  if (lopper_checksum64(info->metadata, info->metadata_size) !=
      info->metadata_checksum)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: metadata checksum mismatch (corrupted artifact?)", label);
  std::string err;
  if (!parseMetadata(info->metadata, info->metadata_size, &m->md, &err))
    return fail(LOPPER_ERR_INCOMPATIBLE, "%s: bad metadata: %s", label,
                err.c_str());
  if (m->md.abiVersion != info->abi_version)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: metadata says ABI version %u, the info block %u", label,
                m->md.abiVersion, info->abi_version);
  if (!info->run)
    return fail(LOPPER_ERR_INCOMPATIBLE, "%s: no run entry point", label);

  // Weights.
  if (info->weights_file) {
    if (info->weights)
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: both embedded weights and weights file %s are set",
                  label, info->weights_file);
    lopper_status st = loadSidecar(m, info, sidecarDir);
    if (st != LOPPER_OK)
      return st;
  } else {
    if (info->weights_size > 0 && !info->weights)
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: %llu bytes of weights but no weights pointer", label,
                  static_cast<unsigned long long>(info->weights_size));
    if (info->weights_size > 0 &&
        reinterpret_cast<uintptr_t>(info->weights) % kArenaAlign != 0)
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: embedded weights are not 64-byte aligned", label);
    m->weights = info->weights;
    m->weightsSize = info->weights_size;
    if (lopper_checksum64(m->weights, m->weightsSize) != info->weights_checksum)
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: weights checksum mismatch (corrupted artifact?)", label);
  }

  // Kernel slots.
  if (info->kernel_count > 0 && (!info->kernel_names || !info->kernel_slots))
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: %u kernels but no kernel name or slot table", label,
                info->kernel_count);
  std::vector<void *> fns(info->kernel_count);
  for (uint32_t i = 0; i < info->kernel_count; ++i) {
    const char *name = info->kernel_names[i];
    if (!name)
      return fail(LOPPER_ERR_INCOMPATIBLE, "%s: kernel name %u is NULL", label,
                  i);
    fns[i] = findKernel(name);
    if (!fns[i])
      return fail(LOPPER_ERR_INCOMPATIBLE,
                  "%s: needs kernel %s that this runtime does not provide; "
                  "upgrade liblopper_runtime",
                  label, name);
  }
  {
    // Loading an artifact again (dlopen hands back the same image) finds
    // the slots filled: leave them alone, runs may be reading them.
    std::lock_guard<std::mutex> lock(slotMu);
    for (uint32_t i = 0; i < info->kernel_count; ++i)
      if (info->kernel_slots[i] != fns[i])
        info->kernel_slots[i] = fns[i];
  }
  m->info = info;

  // Derived signature data.
  const Metadata &md = m->md;
  auto dimNames = [&](const std::vector<TensorSig> &sigs,
                      std::vector<std::vector<std::string>> *out) {
    out->resize(sigs.size());
    for (size_t i = 0; i < sigs.size(); ++i)
      for (const Poly &p : sigs[i].dims) {
        int64_t v;
        int s = p.singleSymbol();
        (*out)[i].push_back(s >= 0             ? md.syms[static_cast<size_t>(s)]
                            : p.isConstant(&v) ? std::string()
                                               : p.str(md.syms));
      }
  };
  dimNames(md.inputs, &m->inputDimNames);
  dimNames(md.outputs, &m->outputDimNames);
  m->symUsed.assign(md.syms.size(), 0);
  for (const auto *list : {&md.inputs, &md.outputs})
    for (const TensorSig &t : *list)
      for (const Poly &p : t.dims)
        p.collectSymbols(m->symUsed);
  for (const CheckRec &c : md.checks) {
    c.lhs.collectSymbols(m->symUsed);
    c.rhs.collectSymbols(m->symUsed);
  }
  for (const BufferRec &b : md.buffers)
    b.bytes.collectSymbols(m->symUsed);
  for (const TapRec &t : md.taps)
    for (const Poly &p : t.dims)
      p.collectSymbols(m->symUsed);

  m->pool.reset(new (std::nothrow)
                    ThreadPool(threads > 0 ? threads : defaultThreadCount()));
  if (!m->pool)
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: cannot create the thread pool",
                label);
  return LOPPER_OK;
}

// dlopen maps a truncated file and dies with SIGBUS when it touches the
// missing pages: check the ELF headers against the file size first.
lopper_status checkElf(int fd, uint64_t fileSize, const char *path) {
  ElfW(Ehdr) eh;
  if (fileSize < sizeof(eh) ||
      pread(fd, &eh, sizeof(eh), 0) != static_cast<ssize_t>(sizeof(eh)))
    return fail(LOPPER_ERR_IO,
                "%s: not a shared library (too short for an ELF header)", path);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return fail(LOPPER_ERR_IO, "%s: not a shared library (no ELF header)",
                path);
#if defined(__x86_64__)
  const unsigned machine = EM_X86_64;
#elif defined(__aarch64__)
  const unsigned machine = EM_AARCH64;
#else
  const unsigned machine = eh.e_machine;
#endif
  const unsigned char elfClass = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const unsigned char elfData = ELFDATA2LSB;
#else
  const unsigned char elfData = ELFDATA2MSB;
#endif
  if (eh.e_ident[EI_CLASS] != elfClass || eh.e_ident[EI_DATA] != elfData ||
      eh.e_machine != machine)
    return fail(LOPPER_ERR_INCOMPATIBLE,
                "%s: built for another architecture (ELF machine %u)", path,
                static_cast<unsigned>(eh.e_machine));
  if (eh.e_type != ET_DYN)
    return fail(LOPPER_ERR_IO, "%s: not a shared library (ELF type %u)", path,
                static_cast<unsigned>(eh.e_type));
  auto truncated = [&](uint64_t need) {
    return fail(LOPPER_ERR_IO,
                "%s: truncated file (%llu bytes, its ELF headers need %llu)",
                path, static_cast<unsigned long long>(fileSize),
                static_cast<unsigned long long>(need));
  };
  if (eh.e_phentsize != sizeof(ElfW(Phdr)))
    return fail(LOPPER_ERR_IO, "%s: not a shared library (bad ELF header)",
                path);
  uint64_t phEnd = eh.e_phoff + uint64_t(eh.e_phnum) * sizeof(ElfW(Phdr));
  if (eh.e_phoff > fileSize || phEnd > fileSize)
    return truncated(phEnd);
  std::vector<ElfW(Phdr)> ph(eh.e_phnum);
  size_t phBytes = ph.size() * sizeof(ElfW(Phdr));
  if (pread(fd, ph.data(), phBytes, static_cast<off_t>(eh.e_phoff)) !=
      static_cast<ssize_t>(phBytes))
    return fail(LOPPER_ERR_IO, "%s: cannot read the ELF program headers", path);
  for (const ElfW(Phdr) & p : ph) {
    if (p.p_type != PT_LOAD && p.p_type != PT_DYNAMIC)
      continue;
    uint64_t end;
    if (__builtin_add_overflow(uint64_t(p.p_offset), uint64_t(p.p_filesz),
                               &end) ||
        end > fileSize)
      return truncated(end);
  }
  if (eh.e_shoff != 0) {
    uint64_t shEnd = eh.e_shoff + uint64_t(eh.e_shnum) * eh.e_shentsize;
    if (eh.e_shoff > fileSize || shEnd > fileSize)
      return truncated(shEnd);
  }
  return LOPPER_OK;
}

lopper_status checkModel(const lopper_model *m, const char *fn) {
  if (!m)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
  return LOPPER_OK;
}

lopper_status signatureEntry(const lopper_model *m, bool output, size_t index,
                             const char **outName, lopper_tensor_desc *outDesc,
                             const char *fn) {
  if (lopper_status st = checkModel(m, fn))
    return st;
  const auto &list = output ? m->md.outputs : m->md.inputs;
  if (index >= list.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: index %zu out of range (the model has %zu %s)", fn, index,
                list.size(), output ? "outputs" : "inputs");
  const TensorSig &t = list[index];
  if (outDesc) {
    lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
    d.dtype = t.dtype;
    d.rank = static_cast<int32_t>(t.dims.size());
    for (size_t i = 0; i < t.dims.size(); ++i) {
      int64_t v;
      d.dims[i] = t.dims[i].isConstant(&v) && v >= 0 ? v : -1;
    }
    d.device = LOPPER_DEVICE_CPU;
    if (lopper_status st = writeDesc(outDesc, d, fn, "out_desc"))
      return st;
  }
  if (outName)
    *outName = t.name.c_str();
  return LOPPER_OK;
}

} // namespace

extern "C" {

lopper_status lopper_model_load(const char *path, const lopper_options *options,
                                lopper_model **out_model) {
  const char *fn = "lopper_model_load";
  if (!out_model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_model is NULL", fn);
  *out_model = nullptr;
  if (!path)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: path is NULL", fn);
  int threads, device, deviceId;
  if (lopper_status st = readOptions(options, fn, &threads, &device, &deviceId))
    return st;

  // Check the file first: dlopen's messages for a missing file are vague.
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(LOPPER_ERR_IO, "%s: cannot open: %s", path,
                std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(LOPPER_ERR_IO, "%s: not a regular file", path);
  }
  lopper_status elf = checkElf(fd, static_cast<uint64_t>(st.st_size), path);
  close(fd);
  if (elf != LOPPER_OK)
    return elf;

  std::unique_ptr<lopper_model> m(new (std::nothrow) lopper_model);
  if (!m)
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  m->label = path;
  // dlopen searches the library path for names without a slash.
  std::string dlPath = std::strchr(path, '/') ? path : std::string("./") + path;
  dlerror();
  m->dl = dlopen(dlPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->dl) {
    const char *e = dlerror();
    return fail(LOPPER_ERR_IO, "%s: cannot load as a shared library: %s", path,
                e ? e : "unknown error");
  }
  auto getInfo = reinterpret_cast<lopper_artifact_get_info_fn>(
      dlsym(m->dl, "lopper_artifact_get_info"));
  if (!getInfo)
    return fail(
        LOPPER_ERR_INCOMPATIBLE,
        "%s: not a Lopper artifact (no lopper_artifact_get_info symbol)", path);
  const char *slash = std::strrchr(path, '/');
  std::string dir = !slash          ? std::string(".")
                    : slash == path ? std::string("/")
                                    : std::string(path, slash);
  if (lopper_status s = finishLoad(m.get(), getInfo(), dir, threads))
    return s;
  if (device == LOPPER_DEVICE_CUDA)
    if (lopper_status s = attachGpuPlan(m.get(), path, deviceId))
      return s;
  *out_model = m.release();
  return LOPPER_OK;
}

lopper_status lopper_model_load_linked(lopper_get_info_fn get_info,
                                       const char *sidecar_dir,
                                       const lopper_options *options,
                                       lopper_model **out_model) {
  const char *fn = "lopper_model_load_linked";
  if (!out_model)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_model is NULL", fn);
  *out_model = nullptr;
  if (!get_info)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: get_info is NULL", fn);
  int threads, device, deviceId;
  if (lopper_status st = readOptions(options, fn, &threads, &device, &deviceId))
    return st;
  if (device == LOPPER_DEVICE_CUDA)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: device CUDA needs the artifact's GPU plan file, found "
                "next to a shared library: load it with lopper_model_load",
                fn);
  std::unique_ptr<lopper_model> m(new (std::nothrow) lopper_model);
  if (!m)
    return fail(LOPPER_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
  m->label = "linked model";
  const lopper_artifact_info *info = get_info();
  // Name the model in later messages once its metadata is known to be sane.
  if (lopper_status s =
          finishLoad(m.get(), info, sidecar_dir ? sidecar_dir : ".", threads))
    return s;
  if (!m->md.modelName.empty())
    m->label = "linked model " + m->md.modelName;
  *out_model = m.release();
  return LOPPER_OK;
}

void lopper_model_unload(lopper_model *model) { delete model; }

lopper_status lopper_model_num_inputs(const lopper_model *model,
                                      size_t *out_count) {
  if (lopper_status st = checkModel(model, "lopper_model_num_inputs"))
    return st;
  if (!out_count)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "lopper_model_num_inputs: out_count is NULL");
  *out_count = model->md.inputs.size();
  return LOPPER_OK;
}

lopper_status lopper_model_num_outputs(const lopper_model *model,
                                       size_t *out_count) {
  if (lopper_status st = checkModel(model, "lopper_model_num_outputs"))
    return st;
  if (!out_count)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "lopper_model_num_outputs: out_count is NULL");
  *out_count = model->md.outputs.size();
  return LOPPER_OK;
}

lopper_status lopper_model_input(const lopper_model *model, size_t index,
                                 const char **out_name,
                                 lopper_tensor_desc *out_desc) {
  return signatureEntry(model, false, index, out_name, out_desc,
                        "lopper_model_input");
}

lopper_status lopper_model_output(const lopper_model *model, size_t index,
                                  const char **out_name,
                                  lopper_tensor_desc *out_desc) {
  return signatureEntry(model, true, index, out_name, out_desc,
                        "lopper_model_output");
}

lopper_status lopper_model_dim_name(const lopper_model *model, int is_output,
                                    size_t tensor, size_t dim,
                                    const char **out_name) {
  const char *fn = "lopper_model_dim_name";
  if (lopper_status st = checkModel(model, fn))
    return st;
  if (!out_name)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_name is NULL", fn);
  const auto &names = is_output ? model->outputDimNames : model->inputDimNames;
  if (tensor >= names.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: %s index %zu out of range (the model has %zu)", fn,
                is_output ? "output" : "input", tensor, names.size());
  if (dim >= names[tensor].size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: dim %zu out of range (rank %zu)", fn, dim,
                names[tensor].size());
  const std::string &n = names[tensor][dim];
  *out_name = n.empty() ? nullptr : n.c_str();
  return LOPPER_OK;
}

lopper_status lopper_model_num_taps(const lopper_model *model,
                                    size_t *out_count) {
  if (lopper_status st = checkModel(model, "lopper_model_num_taps"))
    return st;
  if (!out_count)
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "lopper_model_num_taps: out_count is NULL");
  *out_count = model->md.taps.size();
  return LOPPER_OK;
}

lopper_status lopper_model_tap_name(const lopper_model *model, size_t index,
                                    const char **out_name) {
  const char *fn = "lopper_model_tap_name";
  if (lopper_status st = checkModel(model, fn))
    return st;
  if (!out_name)
    return fail(LOPPER_ERR_INVALID_ARGUMENT, "%s: out_name is NULL", fn);
  if (index >= model->md.taps.size())
    return fail(LOPPER_ERR_INVALID_ARGUMENT,
                "%s: index %zu out of range (the model has %zu taps)", fn,
                index, model->md.taps.size());
  *out_name = model->md.taps[index].name.c_str();
  return LOPPER_OK;
}

} // extern "C"

//===- CPU.cpp - the CPU artifact: object emission and linking ------------===//
//
// lop -> (LopToCPU) memref/linalg/scf -> LLVM dialect -> LLVM IR, plus the
// artifact's globals (info block, metadata, kernel slots) -> O3 -> object
// through TargetMachine, in process. The weights never become an LLVM
// constant: they are written as the single section of a small ELF object
// straight from the blob, and ld.lld links both objects.
//
//===----------------------------------------------------------------------===//

#include "lopper/Target/CPU.h"
#include "lopper/Conversion/LopToCPU.h"
#include "lopper/Passes/Passes.h"
#include "lopper/artifact_abi.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <chrono>
#include <cstring>
#include <mutex>

using namespace lopper;

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

/// A file in the output's directory that is removed unless kept.
struct TempFile {
  std::string path;
  bool keep = false;
  explicit TempFile(const std::string &target, const char *suffix) {
    llvm::SmallString<256> model(target);
    model += ".tmp-%%%%%%";
    model += suffix;
    llvm::SmallString<256> p;
    llvm::sys::fs::createUniquePath(model, p, /*MakeAbsolute=*/false);
    path = std::string(p);
  }
  ~TempFile() {
    if (!keep)
      llvm::sys::fs::remove(path);
  }
  /// Renames the file to `target` (atomic on one file system) and keeps it.
  bool commit(const std::string &target, std::string &error) {
    if (auto ec = llvm::sys::fs::rename(path, target)) {
      error = target + ": " + ec.message();
      return false;
    }
    keep = true;
    return true;
  }
};

bool writeFile(const std::string &path, llvm::ArrayRef<char> data,
               std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = path + ": " + ec.message();
    return false;
  }
  os.write(data.data(), data.size());
  os.close();
  if (os.has_error()) {
    error = path + ": write failed: " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

bool writeFile(const std::string &path, const std::vector<uint8_t> &data,
               std::string &error) {
  return writeFile(path,
                   llvm::ArrayRef<char>((const char *)data.data(), data.size()),
                   error);
}

//===----------------------------------------------------------------------===//
// The weights object: a hand-written ELF64 relocatable file with one
// SHF_ALLOC section holding the blob and one hidden global symbol.
//===----------------------------------------------------------------------===//

template <typename T> void put(std::vector<uint8_t> &o, T v) {
  uint8_t b[sizeof(T)];
  memcpy(b, &v, sizeof(T)); // the hosts we build on are little-endian
  o.insert(o.end(), b, b + sizeof(T));
}

bool writeWeightsObject(const std::string &path, const llvm::Triple &triple,
                        const std::string &symbol,
                        const std::vector<uint8_t> &blob, std::string &error) {
  uint16_t machine;
  if (triple.getArch() == llvm::Triple::x86_64)
    machine = 62; // EM_X86_64
  else if (triple.getArch() == llvm::Triple::aarch64)
    machine = 183; // EM_AARCH64
  else {
    error = "weights object: unsupported architecture " +
            triple.getArchName().str();
    return false;
  }
  static const char kShstr[] =
      "\0.lopper.weights\0.symtab\0.strtab\0.shstrtab"; // + implicit NUL
  std::string shstr(kShstr, sizeof kShstr);
  std::string str = std::string("\0", 1) + symbol + std::string("\0", 1);
  uint64_t dataOff = 64;
  uint64_t symOff = (dataOff + blob.size() + 7) & ~uint64_t(7);
  uint64_t symSize = 2 * 24;
  uint64_t strOff = symOff + symSize;
  uint64_t shstrOff = strOff + str.size();
  uint64_t shOff = (shstrOff + shstr.size() + 7) & ~uint64_t(7);

  std::vector<uint8_t> head;
  const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  head.insert(head.end(), ident, ident + 16);
  put<uint16_t>(head, 1); // ET_REL
  put<uint16_t>(head, machine);
  put<uint32_t>(head, 1);     // EV_CURRENT
  put<uint64_t>(head, 0);     // e_entry
  put<uint64_t>(head, 0);     // e_phoff
  put<uint64_t>(head, shOff); // e_shoff
  put<uint32_t>(head, 0);     // e_flags
  put<uint16_t>(head, 64);    // e_ehsize
  put<uint16_t>(head, 0);     // e_phentsize
  put<uint16_t>(head, 0);     // e_phnum
  put<uint16_t>(head, 64);    // e_shentsize
  put<uint16_t>(head, 5);     // e_shnum
  put<uint16_t>(head, 4);     // e_shstrndx

  std::vector<uint8_t> tail; // everything after the blob
  tail.resize(symOff - (dataOff + blob.size()), 0);
  // Symbols: null, then the global.
  tail.resize(tail.size() + 24, 0);
  put<uint32_t>(tail, 1);   // st_name
  put<uint8_t>(tail, 0x11); // STB_GLOBAL, STT_OBJECT
  put<uint8_t>(tail, 2);    // STV_HIDDEN
  put<uint16_t>(tail, 1);   // st_shndx
  put<uint64_t>(tail, 0);   // st_value
  put<uint64_t>(tail, blob.size());
  tail.insert(tail.end(), str.begin(), str.end());
  tail.insert(tail.end(), shstr.begin(), shstr.end());
  tail.resize(shOff - (dataOff + blob.size()), 0);
  auto section = [&](uint32_t name, uint32_t type, uint64_t flags, uint64_t off,
                     uint64_t size, uint32_t link, uint32_t info,
                     uint64_t align, uint64_t entsize) {
    put<uint32_t>(tail, name);
    put<uint32_t>(tail, type);
    put<uint64_t>(tail, flags);
    put<uint64_t>(tail, 0); // sh_addr
    put<uint64_t>(tail, off);
    put<uint64_t>(tail, size);
    put<uint32_t>(tail, link);
    put<uint32_t>(tail, info);
    put<uint64_t>(tail, align);
    put<uint64_t>(tail, entsize);
  };
  section(0, 0, 0, 0, 0, 0, 0, 0, 0);
  section(1, 1 /*PROGBITS*/, 2 /*ALLOC*/, dataOff, blob.size(), 0, 0, 64, 0);
  section(17, 2 /*SYMTAB*/, 0, symOff, symSize, 3, 1, 8, 24);
  section(25, 3 /*STRTAB*/, 0, strOff, str.size(), 0, 0, 1, 0);
  section(33, 3 /*STRTAB*/, 0, shstrOff, shstr.size(), 0, 0, 1, 0);

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = path + ": " + ec.message();
    return false;
  }
  os.write((const char *)head.data(), head.size());
  os.write((const char *)blob.data(), blob.size()); // straight from the blob
  os.write((const char *)tail.data(), tail.size());
  os.close();
  if (os.has_error()) {
    error = path + ": write failed";
    os.clear_error();
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// CPU features
//===----------------------------------------------------------------------===//

struct FeatureBit {
  const char *llvmName;
  const char *shortName;
  uint64_t bit;
};
const FeatureBit kX86Features[] = {
    {"sse4.2", "sse4.2", LOPPER_CPU_SSE42},
    {"avx", "avx", LOPPER_CPU_AVX},
    {"avx2", "avx2", LOPPER_CPU_AVX2},
    {"fma", "fma", LOPPER_CPU_FMA},
    {"bmi2", "bmi2", LOPPER_CPU_BMI2},
    {"f16c", "f16c", LOPPER_CPU_F16C},
    {"avx512f", "avx512f", LOPPER_CPU_AVX512F},
    {"avx512bw", "avx512bw", LOPPER_CPU_AVX512BW},
    {"avx512dq", "avx512dq", LOPPER_CPU_AVX512DQ},
    {"avx512vl", "avx512vl", LOPPER_CPU_AVX512VL},
    {"avx512vnni", "avx512vnni", LOPPER_CPU_AVX512VNNI},
    {"avx512bf16", "avx512bf16", LOPPER_CPU_AVX512BF16},
    {"avx512fp16", "avx512fp16", LOPPER_CPU_AVX512FP16},
    {"amx-tile", "amx-tile", LOPPER_CPU_AMX_TILE},
};

//===----------------------------------------------------------------------===//
// LLVM IR: artifact globals
//===----------------------------------------------------------------------===//

/// Replaces each declared kernel `lopper_k_*` with an internal stub that
/// calls through a slot of the kernel table the runtime fills at load.
void routeKernelsThroughSlots(llvm::Module &m, llvm::GlobalVariable *&slots,
                              llvm::GlobalVariable *&names, unsigned &count) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::PointerType *ptrT = llvm::PointerType::getUnqual(ctx);
  std::vector<llvm::Function *> kernels;
  for (llvm::Function &f : m)
    if (f.isDeclaration() && f.getName().starts_with("lopper_k_"))
      kernels.push_back(&f);
  std::sort(kernels.begin(), kernels.end(),
            [](llvm::Function *a, llvm::Function *b) {
              return a->getName() < b->getName();
            });
  count = kernels.size();
  auto *arrT = llvm::ArrayType::get(ptrT, std::max<unsigned>(count, 1));
  slots = new llvm::GlobalVariable(
      m, arrT, /*isConstant=*/false, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantAggregateZero::get(arrT), "lopper_kernel_slots");
  std::vector<llvm::Constant *> nameConsts;
  for (auto [i, f] : llvm::enumerate(kernels)) {
    std::string name = f->getName().str();
    nameConsts.push_back(
        llvm::IRBuilder<>(ctx).CreateGlobalString(name, "lopper_kname", 0, &m));
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *bb = llvm::BasicBlock::Create(ctx, "entry", f);
    llvm::IRBuilder<> b(bb);
    llvm::Value *slot = b.CreateConstInBoundsGEP2_32(arrT, slots, 0, i);
    llvm::Value *fp = b.CreateLoad(ptrT, slot);
    std::vector<llvm::Value *> args;
    for (llvm::Argument &a : f->args())
      args.push_back(&a);
    b.CreateCall(f->getFunctionType(), fp, args);
    b.CreateRetVoid();
    f->addFnAttr(llvm::Attribute::AlwaysInline);
  }
  if (nameConsts.empty())
    nameConsts.push_back(llvm::ConstantPointerNull::get(ptrT));
  auto *namesArr = llvm::ConstantArray::get(arrT, nameConsts);
  names = new llvm::GlobalVariable(m, arrT, true,
                                   llvm::GlobalValue::InternalLinkage, namesArr,
                                   "lopper_kernel_names");
}

/// Adds the run wrapper, metadata and info block; returns false on error.
bool addArtifactGlobals(llvm::Module &m, const LoweredModel &lm,
                        const std::string &getInfoName,
                        const std::string &weightsSymbol,
                        const std::string &sidecarName, uint64_t features,
                        uint64_t weightsChecksum, std::string &error) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::PointerType *ptrT = llvm::PointerType::getUnqual(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Function *model = m.getFunction("lopper_model");
  if (!model) {
    error = "internal error: lowered module has no lopper_model";
    return false;
  }
  model->setLinkage(llvm::GlobalValue::InternalLinkage);

  // void lopper_artifact_run(rt, syms, offsets, arena, weights, ins, outs)
  auto *runT = llvm::FunctionType::get(
      llvm::Type::getVoidTy(ctx), {ptrT, ptrT, ptrT, ptrT, ptrT, ptrT, ptrT},
      false);
  auto *run = llvm::Function::Create(runT, llvm::GlobalValue::InternalLinkage,
                                     "lopper_artifact_run", m);
  {
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", run));
    std::vector<llvm::Value *> args;
    auto desc = [&](llvm::Value *p) {
      args.push_back(p);
      args.push_back(p);
      args.push_back(b.getInt64(0));
      args.push_back(b.getInt64(int64_t(1) << 40));
      args.push_back(b.getInt64(1));
    };
    for (unsigned i = 0; i < 5; ++i)
      desc(run->getArg(i));
    for (unsigned i = 0; i < lm.numInputs; ++i)
      desc(b.CreateLoad(ptrT, b.CreateConstGEP1_32(ptrT, run->getArg(5), i)));
    for (unsigned i = 0; i < lm.numOutputs; ++i)
      desc(b.CreateLoad(ptrT, b.CreateConstGEP1_32(ptrT, run->getArg(6), i)));
    if (args.size() != model->arg_size()) {
      error = "internal error: lopper_model takes " +
              std::to_string(model->arg_size()) + " arguments, expected " +
              std::to_string(args.size());
      return false;
    }
    b.CreateCall(model, args);
    b.CreateRetVoid();
  }

  llvm::GlobalVariable *slots, *names;
  unsigned count;
  routeKernelsThroughSlots(m, slots, names, count);

  llvm::IRBuilder<> b(ctx);
  llvm::Constant *meta =
      b.CreateGlobalString(lm.metadata, "lopper_metadata", 0, &m);
  llvm::Constant *weights = llvm::ConstantPointerNull::get(ptrT);
  llvm::Constant *sidecar = llvm::ConstantPointerNull::get(ptrT);
  if (sidecarName.empty()) {
    auto *w = new llvm::GlobalVariable(
        m, llvm::ArrayType::get(b.getInt8Ty(), 0), true,
        llvm::GlobalValue::ExternalLinkage, nullptr, weightsSymbol);
    w->setVisibility(llvm::GlobalValue::HiddenVisibility);
    weights = w;
  } else {
    sidecar = b.CreateGlobalString(sidecarName, "lopper_sidecar", 0, &m);
  }
  char magic[8];
  memcpy(magic, LOPPER_ARTIFACT_MAGIC, 8);
  auto *infoT = llvm::StructType::create(
      ctx,
      {llvm::ArrayType::get(b.getInt8Ty(), 8), i32, i32, i64, ptrT, i64, i64,
       ptrT, i64, i64, ptrT, i32, i32, ptrT, ptrT, ptrT},
      "lopper_artifact_info");
  uint64_t infoSize = m.getDataLayout().getTypeAllocSize(infoT);
  llvm::Constant *fields[] = {
      llvm::ConstantDataArray::get(
          ctx, llvm::ArrayRef<uint8_t>((const uint8_t *)magic, 8)),
      b.getInt32(LOPPER_ABI_VERSION),
      b.getInt32(infoSize),
      b.getInt64(features),
      meta,
      b.getInt64(lm.metadata.size()),
      b.getInt64(lopper_checksum64(lm.metadata.data(), lm.metadata.size())),
      weights,
      b.getInt64(lm.weights.size()),
      b.getInt64(weightsChecksum),
      sidecar,
      b.getInt32(count),
      b.getInt32(0),
      names,
      slots,
      run};
  auto *info = new llvm::GlobalVariable(
      m, infoT, true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantStruct::get(infoT, fields), "lopper_artifact_info_block");
  // Nothing but the get-info function is visible outside the artifact.
  for (llvm::Function &f : m)
    if (!f.isDeclaration())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  auto *getT = llvm::FunctionType::get(ptrT, {}, false);
  auto *get = llvm::Function::Create(getT, llvm::GlobalValue::ExternalLinkage,
                                     getInfoName, m);
  get->setVisibility(llvm::GlobalValue::DefaultVisibility);
  llvm::IRBuilder<> gb(llvm::BasicBlock::Create(ctx, "entry", get));
  gb.CreateRet(info);
  return true;
}

std::string findLinker(const std::string &requested) {
  if (!requested.empty())
    return requested;
  for (const char *name : {"ld.lld-22", "ld.lld"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  if (llvm::sys::fs::exists("/usr/lib/llvm-22/bin/ld.lld"))
    return "/usr/lib/llvm-22/bin/ld.lld";
  return "";
}

bool runLinker(const std::string &linker, llvm::ArrayRef<std::string> args,
               std::string &error) {
  std::vector<llvm::StringRef> argv{linker};
  for (auto &a : args)
    argv.push_back(a);
  std::string errMsg;
  // The linker's messages go to a file in the system's temporary folder.
  llvm::SmallString<128> tmpDir;
  llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, tmpDir);
  llvm::sys::path::append(tmpDir, "lopper-link");
  TempFile log(std::string(tmpDir), ".log");
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(log.path), llvm::StringRef(log.path)};
  int rc = llvm::sys::ExecuteAndWait(linker, argv, std::nullopt, redirects, 0,
                                     0, &errMsg);
  if (rc != 0) {
    auto buf = llvm::MemoryBuffer::getFile(log.path);
    error = "linking with " + linker + " failed" +
            (errMsg.empty() ? "" : ": " + errMsg) +
            (buf ? ":\n" + (*buf)->getBuffer().str() : "");
    return false;
  }
  return true;
}

/// Writes a text output: "-" is stdout, anything else goes through a
/// temporary file that is renamed.
bool writeOutput(const std::string &outputPath, const std::string &text,
                 std::string &error) {
  if (outputPath == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return true;
  }
  TempFile tmp(outputPath, "");
  return writeFile(tmp.path, llvm::ArrayRef<char>(text.data(), text.size()),
                   error) &&
         tmp.commit(outputPath, error);
}

std::string sanitizeSymbol(const std::string &s) {
  std::string r;
  for (char c : s)
    r += (isalnum((unsigned char)c) || c == '_') ? c : '_';
  if (r.empty() || isdigit((unsigned char)r[0]))
    r = "m_" + r;
  return r;
}

} // namespace

bool lopper::compileForCPU(mlir::ModuleOp lopModule,
                           const CPUCompileOptions &options,
                           const std::string &outputPath,
                           CPUCompileReport &report, std::string &error) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  if (outputPath != "-") {
    llvm::StringRef dir = llvm::sys::path::parent_path(outputPath);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir)) {
      error = "cannot write " + outputPath + ": directory " + dir.str() +
              " does not exist";
      return false;
    }
  }
  // fp16/bf16: ops without a half-precision lowering compute in f32 (after
  // fusion, so a recomposed LayerNorm or a conv with its epilogue computes
  // in f32 as a whole).
  {
    mlir::PassManager pm(lopModule.getContext());
    pm.addNestedPass<mlir::func::FuncOp>(createLopWidenHalf());
    if (mlir::failed(pm.run(lopModule))) {
      error = "the lop-widen-half pass failed";
      return false;
    }
  }
  std::string modelName = options.name;
  LoweredModel lm;
  if (!lowerLopToCPU(
          lopModule, modelName, lm, error,
          options.kernelConfig.rules.empty() ? nullptr : &options.kernelConfig))
    return false;
  report.kernels = lm.kernels;
  report.numOps = lm.numOps;
  report.numBuffers = lm.numBuffers;
  report.numSymbols = lm.numSymbols;
  report.symbolNames = lm.symbolNames;
  report.metadata = lm.metadata;
  report.weightBytes = lm.weights.size();
  report.lowerSeconds = seconds(t0);

  if (options.emit == EmitKind::MLIR) {
    // The metadata first, as comments, so tests can check the symbolic
    // dims, buffers and checks next to the code.
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::StringRef md(lm.metadata);
    while (!md.empty()) {
      auto [line, rest] = md.split('\n');
      os << "// " << line << "\n";
      md = rest;
    }
    lm.module->print(os);
    return writeOutput(outputPath, text, error);
  }

  // MLIR -> LLVM dialect.
  auto t1 = clock::now();
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
  mlir::MLIRContext *ctx = lopModule.getContext();
  {
    mlir::DialectRegistry reg;
    mlir::registerBuiltinDialectTranslation(reg);
    mlir::registerLLVMDialectTranslation(reg);
    ctx->appendDialectRegistry(reg);
  }
  mlir::PassManager pm(ctx);
  const char *pipeline =
      "canonicalize,cse,convert-linalg-to-loops,"
      "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
      "convert-math-to-llvm,convert-math-to-libm,"
      // bf16 conversions as integer code: no compiler-rt builtins needed.
      "arith-expand{include-bf16=true},"
      "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
      "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts";
  std::string perr;
  llvm::raw_string_ostream perrOs(perr);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, perrOs))) {
    error = "internal error: bad pass pipeline: " + perr;
    return false;
  }
  {
    // exp, tanh and erf as polynomials (accurate to a few ulp) instead of
    // libm calls, so LLVM can vectorize the loops around them.
    mlir::RewritePatternSet patterns(ctx);
    mlir::populateMathPolynomialApproximationPatterns(
        patterns, [](llvm::StringRef name) {
          return name == "exp" || name == "tanh" || name == "erf" ||
                 name == "math.exp" || name == "math.tanh" ||
                 name == "math.erf";
        });
    if (mlir::failed(
            mlir::applyPatternsGreedily(*lm.module, std::move(patterns)))) {
      error = "internal error: math approximation did not converge";
      return false;
    }
  }
  std::string diag;
  {
    mlir::ScopedDiagnosticHandler handler(ctx, [&](mlir::Diagnostic &d) {
      llvm::raw_string_ostream os(diag);
      os << d.getLocation() << ": " << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(pm.run(*lm.module))) {
      error = "lowering to LLVM failed: " + diag;
      return false;
    }
  }
  llvm::LLVMContext llctx;
  auto llm = mlir::translateModuleToLLVMIR(*lm.module, llctx, "lopper_model");
  if (!llm) {
    error = "translation to LLVM IR failed";
    return false;
  }
  llm->setSourceFileName("lopper_model");

  // Target.
  llvm::Triple triple(options.triple.empty()
                          ? llvm::sys::getDefaultTargetTriple()
                          : options.triple);
  if (triple.getArch() != llvm::Triple::x86_64 &&
      triple.getArch() != llvm::Triple::aarch64) {
    error = "--mtriple=" + triple.str() +
            ": only x86_64 and aarch64 targets are supported";
    return false;
  }
  std::string terr;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, terr);
  if (!target) {
    error = "--mtriple=" + triple.str() + ": " + terr;
    return false;
  }
  std::string cpu = options.cpu;
  std::string featureStr;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SmallVector<std::string> feats;
    for (auto &f : llvm::sys::getHostCPUFeatures())
      feats.push_back((f.second ? "+" : "-") + f.first().str());
    std::sort(feats.begin(), feats.end());
    featureStr = llvm::join(feats, ",");
  } else if (cpu.empty()) {
    cpu = triple.getArch() == llvm::Triple::x86_64 ? "x86-64-v3" : "generic";
  }
  {
    // Check the name first: LLVM itself only warns about unknown CPUs.
    std::unique_ptr<llvm::MCSubtargetInfo> probe(
        target->createMCSubtargetInfo(triple, "", ""));
    if (!probe || !probe->isCPUStringValid(cpu)) {
      error = "--mcpu=" + options.cpu + ": unknown CPU for " + triple.str();
      return false;
    }
  }
  llvm::TargetOptions topts;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, featureStr, topts, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm) {
    error = "cannot create a target machine for " + triple.str();
    return false;
  }
  const llvm::MCSubtargetInfo *sti = tm->getMCSubtargetInfo();
  report.triple = triple.str();
  report.cpu = cpu;
  uint64_t features = 0;
  if (triple.getArch() == llvm::Triple::x86_64) {
    for (const FeatureBit &f : kX86Features)
      if (sti->checkFeatures(std::string("+") + f.llvmName)) {
        features |= f.bit;
        report.requiredFeatures.push_back(f.shortName);
      }
  } else if (triple.getArch() == llvm::Triple::aarch64) {
    if (sti->checkFeatures("+neon")) {
      features |= LOPPER_CPU_NEON;
      report.requiredFeatures.push_back("neon");
    }
  }
  llm->setTargetTriple(triple);
  llm->setDataLayout(tm->createDataLayout());

  bool external =
      options.externalWeights || lm.weights.size() > options.externalThreshold;
  bool isObject = options.emit == EmitKind::Object;
  std::string sym = sanitizeSymbol(options.name);
  std::string getInfo =
      isObject ? "lopper_artifact_get_info_" + sym : "lopper_artifact_get_info";
  std::string weightsSym = "__lopper_weights_" + sym;
  std::string sidecarPath = outputPath + ".weights";
  std::string sidecarName =
      external ? llvm::sys::path::filename(sidecarPath).str() : "";
  uint64_t checksum = lopper_checksum64(lm.weights.data(), lm.weights.size());
  if (!addArtifactGlobals(*llm, lm, getInfo, weightsSym, sidecarName, features,
                          checksum, error))
    return false;
  if (llvm::verifyModule(*llm, &llvm::errs())) {
    error = "internal error: generated LLVM IR does not verify";
    return false;
  }

  // O3.
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*llm, mam);
  }
  report.llvmSeconds = seconds(t1);

  if (options.emit == EmitKind::LLVMIR) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llm->print(os, nullptr);
    return writeOutput(outputPath, text, error);
  }

  // Object code.
  auto t2 = clock::now();
  llvm::SmallVector<char, 0> obj;
  {
    llvm::raw_svector_ostream os(obj);
    llvm::legacy::PassManager cg;
    if (tm->addPassesToEmitFile(cg, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return false;
    }
    cg.run(*llm);
  }
  report.codeBytes = obj.size();
  report.codegenSeconds = seconds(t2);

  // Link.
  auto t3 = clock::now();
  TempFile codeObj(outputPath, ".code.o"), weightsObj(outputPath, ".w.o");
  TempFile out(outputPath, "");
  if (!writeFile(codeObj.path, obj, error))
    return false;
  std::vector<std::string> inputs{codeObj.path};
  if (!external) {
    if (!writeWeightsObject(weightsObj.path, triple, weightsSym, lm.weights,
                            error))
      return false;
    inputs.push_back(weightsObj.path);
  }
  std::string linker = findLinker(options.linker);
  if (linker.empty()) {
    error = "ld.lld not found: apt-get install lld-22 (or pass --linker)";
    return false;
  }
  std::vector<std::string> args;
  if (isObject) {
    args = {"-r", "-o", out.path};
  } else {
    args = {"-shared",
            "-o",
            out.path,
            "--build-id=none",
            "-z",
            "noexecstack",
            "-z",
            "relro",
            "-z",
            "now",
            "--hash-style=gnu",
            "--no-undefined-version",
            "-soname",
            llvm::sys::path::filename(outputPath).str()};
  }
  args.insert(args.end(), inputs.begin(), inputs.end());
  if (!runLinker(linker, args, error))
    return false;
  TempFile sideTmp(sidecarPath, "");
  if (external) {
    if (!writeFile(sideTmp.path, lm.weights, error))
      return false;
  }
  if (isObject) {
    // The header declares the get-info function for static linking.
    std::string hdrPath =
        (llvm::sys::path::parent_path(outputPath).empty()
             ? std::string()
             : llvm::sys::path::parent_path(outputPath).str() + "/") +
        llvm::sys::path::stem(outputPath).str() + ".h";
    std::string guard = "LOPPER_MODEL_" + sym + "_H";
    for (char &c : guard)
      c = toupper((unsigned char)c);
    std::string h =
        "/* Generated by lopper compile --emit=obj. Link the object "
        "and liblopper_runtime, then:\n"
        " *   lopper_model_load_linked(" +
        getInfo + ", sidecar_dir, NULL, &model); */\n#ifndef " + guard +
        "\n#define " + guard +
        "\n#include <lopper/runtime.h>\n#ifdef __cplusplus\nextern "
        "\"C\" {\n#endif\nconst struct lopper_artifact_info *" +
        getInfo + "(void);\n#ifdef __cplusplus\n}\n#endif\n#endif\n";
    if (!writeOutput(hdrPath, h, error))
      return false;
  }
  if (external) {
    if (!sideTmp.commit(sidecarPath, error))
      return false;
    report.sidecar = true;
    report.sidecarPath = sidecarPath;
  }
  if (!out.commit(outputPath, error))
    return false;
  uint64_t size = 0;
  llvm::sys::fs::file_size(outputPath, size);
  report.artifactBytes = size;
  report.linkSeconds = seconds(t3);
  return true;
}

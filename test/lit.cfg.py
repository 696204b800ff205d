# Lit configuration for the Lopper regression tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Lopper"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lopper_obj_root, "test")
# Python-driven suites (e2e, onnx-backend, bench) run from the test script.
config.excludes = ["e2e", "onnx-backend", "bench", "unit", "fuzz", "gpu", "lit.cfg.py",
                   "lit.site.cfg.py", "CMakeLists.txt", "Inputs", "requirements.txt"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.lopper_tools_dir, append_path=True)

tools = ["lopper", "lopper-opt", "lopper-translate", "lopper-runtime-tests", "mlir-tblgen", "FileCheck", "not", "count"]
llvm_config.add_tool_substitutions(tools, [config.lopper_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%mlir_include", config.mlir_include_dir))

tools = ["llvm-nm", "llvm-readelf"]
llvm_config.add_tool_substitutions(tools, [config.llvm_tools_dir])

# CPU features of the machine running the tests (artifact load checks).
try:
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if "avx512_fp16" not in flags:
        config.available_features.add("lopper-cpu-lacks-avx512fp16")
except OSError:
    pass

# The CUDA kernels' PTX (built when CMake found nvcc): a feature per arch,
# lopper-cuda-sm_80 and so on, for the ptxas checks in Target/CUDA.
if config.lopper_cuda_compiler:
    ptxas = os.path.join(os.path.dirname(config.lopper_cuda_compiler), "ptxas")
    if os.path.exists(ptxas):
        config.substitutions.append(("%ptxas", ptxas))
        config.substitutions.append(("%lopper_cuda_kernels", config.lopper_cuda_kernel_dir))
        if os.path.isdir(config.lopper_cuda_kernel_dir):
            for name in os.listdir(config.lopper_cuda_kernel_dir):
                if name.startswith("lopper_kernels_") and name.endswith(".ptx"):
                    config.available_features.add("lopper-cuda-" + name[len("lopper_kernels_"):-4])

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
config.excludes = ["e2e", "onnx-backend", "bench", "unit", "fuzz", "lit.cfg.py",
                   "lit.site.cfg.py", "CMakeLists.txt", "Inputs", "requirements.txt"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.lopper_tools_dir, append_path=True)

tools = ["lopper", "lopper-opt", "lopper-translate", "mlir-tblgen", "FileCheck", "not", "count"]
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

"""Writes the external-data test models (run with the test venv's python)."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

W = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "W")
set_external_data(W, location="external-weights.bin")
W.ClearField("raw_data")
g = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 8])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 8])],
    initializer=[W])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                      producer_name="lopper-tests")
m.ir_version = 8
open("external-data.onnx", "wb").write(m.SerializeToString())
np.arange(64, dtype=np.float32).tofile("external-weights.bin")
# The same model pointing at a file that does not exist.
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "missing-weights.bin"
open("missing-external-data.onnx", "wb").write(m.SerializeToString())

# An input without any shape information.
g = helper.make_graph(
    [helper.make_node("Relu", ["X"], ["Y"], name="relu")], "g",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
open("no-shape.onnx", "wb").write(m.SerializeToString())

"""Writes the tensor files of the `lopper run`/`lopper bench` error tests
(run with the test venv's python from this folder)."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

x = np.arange(8, dtype=np.float32).reshape(2, 4)
np.save("x.npy", x)
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save("bigendian.npy", x.astype(">f4"))
np.save("complex.npy", x.astype(np.complex64))
open("x.pb", "wb").write(numpy_helper.from_array(x, "x").SerializeToString())
open("string.pb", "wb").write(
    helper.make_tensor("s", TensorProto.STRING, [1], [b"hi"]).SerializeToString())
t = TensorProto(name="m", data_type=TensorProto.FLOAT, dims=[2, 2])
t.float_data.extend([1.0, 2.0, 3.0])
open("mismatch.pb", "wb").write(t.SerializeToString())

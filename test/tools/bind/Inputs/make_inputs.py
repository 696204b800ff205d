"""Writes the --bind-input test inputs (run with the test venv's python)."""
import numpy as np
from onnx import numpy_helper

np.save("axes1.npy", np.array([1], dtype=np.int64))
np.save("axes-f32.npy", np.array([1.0], dtype=np.float32))
np.save("axes2.npy", np.array([0, 1], dtype=np.int64))
np.save("x.npy", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
with open("axes1.pb", "wb") as f:
    f.write(numpy_helper.from_array(np.array([1], dtype=np.int64), "axes").SerializeToString())

"""Writes the data sets of the `lopper verify` tests (run with the test
venv's python from this folder)."""
import os

import numpy as np
from onnx import numpy_helper

x = (np.arange(24, dtype=np.float32).reshape(3, 2, 4) - 11.5) / 4
os.makedirs("npy", exist_ok=True)
np.save("npy/x.npy", x)  # 3 samples of [2, 4]
np.savez("data.npz", x=x)
np.savez_compressed("data-compressed.npz", x=x)
for i in range(2):
    d = f"testdata/test_data_set_{i}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/input_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(x[i], "x").SerializeToString())
    with open(f"{d}/output_0.pb", "wb") as f:
        f.write(numpy_helper.from_array(np.zeros((2, 3), np.float32), "logits").SerializeToString())
for name, i in (("a", 0), ("b", 2)):
    os.makedirs(f"samples/{name}", exist_ok=True)
    np.save(f"samples/{name}/x.npy", x[i])

# Bad data for add2.onnxtxt (a: f32 [N, 4], b: f32 [4]).
a = np.ones((2, 4), np.float32)
for d in ("missing", "dtype", "rank", "dim", "count", "unknown"):
    os.makedirs(f"bad/{d}", exist_ok=True)
np.save("bad/missing/a.npy", a)
np.save("bad/dtype/a.npy", a)
np.save("bad/dtype/b.npy", np.ones(4, np.int64))
np.save("bad/rank/a.npy", a)
np.save("bad/rank/b.npy", np.ones((1, 1, 4), np.float32))
np.save("bad/dim/a.npy", a)
np.save("bad/dim/b.npy", np.ones(5, np.float32))
np.save("bad/count/a.npy", np.ones((3, 2, 4), np.float32))
np.save("bad/count/b.npy", np.ones((2, 4), np.float32))
np.save("bad/unknown/a.npy", a)
np.save("bad/unknown/b.npy", np.ones(4, np.float32))
np.save("bad/unknown/z.npy", a)
np.savez("bad/dtype.npz", a=a, b=np.ones(4, np.float64))

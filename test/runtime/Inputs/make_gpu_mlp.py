#!/usr/bin/env python3
"""Writes the small MLPs the GPU dispatch tests run (docs/gpu.md, "Runtime").

Every weight is 2:4 sparse (at most 2 nonzeros in each group of 4 along the
reduction), so the same weight is exact in every GPU format (dense, CSR,
BSR, Blocked-ELL, 2:4) and a test can pick any format per layer.

  make_gpu_mlp.py test  out.onnx   # 8x64, four layers (checked in as gpu-mlp.onnx)
  make_gpu_mlp.py bench out.onnx [--hidden 1024 --layers 6 --rows 128]

test model (x [8, 64]):
  fc1   Gemm(x, W1^T, b1) -> Relu          bias + relu epilogue
  fc2   MatMul(h1, W2) + b2 + h1           bias + residual epilogue
  fc3   Gemm(h2, W3^T, b3) -> Tanh         tanh: no GPU epilogue, CPU kernel
  fc4   MatMul(h3, W4) -> y                no bias
  gram  MatMul(y, Transpose(y)) -> s       no constant weight: no plan layer
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def sparse24(rng, rows, cols):
    """[rows, cols] (outputs x reduction) with 2 of every 4 kept."""
    w = rng.standard_normal((rows, cols)).astype(np.float32) / np.sqrt(cols)
    for r in range(rows):
        for g in range(0, cols, 4):
            drop = rng.choice(4, 2, replace=False)
            w[r, g + drop] = 0.0
    return w.astype(np.float32)


def test_model(path, seed):
    rng = np.random.default_rng(seed)
    n, h = 8, 64
    w = [sparse24(rng, h, h) for _ in range(4)]
    b = [rng.standard_normal(h).astype(np.float32) * 0.1 for _ in range(3)]
    inits = [
        numpy_helper.from_array(w[0], "W1"),            # [out, in], transB
        numpy_helper.from_array(np.ascontiguousarray(w[1].T), "W2"),  # [in, out]
        numpy_helper.from_array(w[2], "W3"),
        numpy_helper.from_array(np.ascontiguousarray(w[3].T), "W4"),
        numpy_helper.from_array(b[0], "b1"),
        numpy_helper.from_array(b[1], "b2"),
        numpy_helper.from_array(b[2], "b3"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["g1"], name="fc1", transB=1),
        helper.make_node("Relu", ["g1"], ["h1"], name="relu1"),
        helper.make_node("MatMul", ["h1", "W2"], ["m2"], name="fc2"),
        helper.make_node("Add", ["m2", "b2"], ["a2"], name="bias2"),
        helper.make_node("Add", ["a2", "h1"], ["h2"], name="res2"),
        helper.make_node("Gemm", ["h2", "W3", "b3"], ["g3"], name="fc3", transB=1),
        helper.make_node("Tanh", ["g3"], ["h3"], name="tanh3"),
        helper.make_node("MatMul", ["h3", "W4"], ["y"], name="fc4"),
        helper.make_node("Transpose", ["y"], ["yt"], name="yt", perm=[1, 0]),
        helper.make_node("MatMul", ["y", "yt"], ["s"], name="gram"),
    ]
    graph = helper.make_graph(
        nodes, "gpu_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, h])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, h]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [n, n])],
        inits)
    save(graph, path)


def bench_model(path, seed, hidden, layers, rows):
    """`layers` Gemm+Relu layers [hidden, hidden], 2:4 weights, x [rows, hidden]."""
    rng = np.random.default_rng(seed)
    nodes, inits, cur = [], [], "x"
    for i in range(layers):
        inits.append(numpy_helper.from_array(sparse24(rng, hidden, hidden), f"W{i}"))
        inits.append(numpy_helper.from_array(
            rng.standard_normal(hidden).astype(np.float32) * 0.1, f"b{i}"))
        nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"g{i}"],
                                      name=f"fc{i}", transB=1))
        out = "y" if i == layers - 1 else f"h{i}"
        nodes.append(helper.make_node("Relu", [f"g{i}"], [out], name=f"relu{i}"))
        cur = out
    graph = helper.make_graph(
        nodes, "gpu_mlp_bench",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, hidden])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, hidden])],
        inits)
    save(graph, path)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["test", "bench"])
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--rows", type=int, default=128)
    a = p.parse_args()
    if a.kind == "test":
        test_model(a.out, a.seed)
    else:
        bench_model(a.out, a.seed, a.hidden, a.layers, a.rows)


if __name__ == "__main__":
    main()

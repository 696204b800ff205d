#!/usr/bin/python3
"""Train small classifiers on the 8x8 handwritten digits and export them.

Run with Debian's Python (python3-torch, python3-sklearn):

    /usr/bin/python3 test/e2e/models/export_digits.py --out DIR [--seeds 0,1,2,3,4]

Data: scikit-learn's bundled `load_digits` (1,797 images, pixel values 0..16,
scaled to [0, 1]), split once with train_test_split(test_size=0.25,
random_state=0, stratify=labels): 1,347 training and 450 held-out images.
Every seed trains the same MLP (64-256-256-10, ReLU; Adam, 60 epochs, batch
64, one thread so the weights are the same on every run) and exports it
with opset 17 and a dynamic batch axis "N" to DIR/digits_s<SEED>.onnx
(input "input" [N, 64], output "logits" [N, 10]).

Next to the models:
  digits_calib.npz        256 training images, key "input", [256, 1, 64]
  digits_test.npz         the 450 held-out images, key "input", [450, 1, 64]
  digits_test_labels.npy  their labels, int64 [450]
  digits.json             the split, the recipe and each seed's torch accuracy
Files that exist and are newer than this script are kept.

This script never imports onnx or onnxruntime.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OPSET = 17
HIDDEN = 256
EPOCHS = 60
BATCH = 64
LR = 1e-3
CALIB_SAMPLES = 256


def data():
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)


def mlp():
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, 10))


def train(seed, x_train, y_train):
    torch.manual_seed(seed)
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(-1).numpy()
    return float((pred == y).mean())


def fresh(paths):
    me = os.path.getmtime(os.path.abspath(__file__))
    return all(os.path.exists(p) and os.path.getmtime(p) > me for p in paths)


def save_npy_like(path, save, *args, **kw):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        save(f, *args, **kw)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--force", action="store_true")
    a = p.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    x_train, x_test, y_train, y_test = data()
    meta_path = os.path.join(a.out, "digits.json")
    files = [os.path.join(a.out, f) for f in
             ["digits_calib.npz", "digits_test.npz", "digits_test_labels.npy"]]
    models = {s: os.path.join(a.out, "digits_s%d.onnx" % s) for s in seeds}
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    if not a.force and fresh(files + list(models.values()) + [meta_path]) \
            and all(str(s) in meta.get("torch_accuracy", {}) for s in seeds):
        print("digits: cached (%s)" % ", ".join(
            "seed %d %.2f%%" % (s, 100 * meta["torch_accuracy"][str(s)])
            for s in seeds), flush=True)
        return 0
    save_npy_like(files[0], np.savez, input=x_train[:CALIB_SAMPLES, None, :])
    save_npy_like(files[1], np.savez, input=x_test[:, None, :])
    save_npy_like(files[2], np.save, y_test)
    meta = {
        "data": "sklearn.datasets.load_digits, pixels / 16",
        "split": "train_test_split(test_size=0.25, random_state=0, stratify=y)",
        "train": len(x_train), "test": len(x_test),
        "calibration": "the first %d training images" % CALIB_SAMPLES,
        "model": "MLP 64-%d-%d-10 ReLU" % (HIDDEN, HIDDEN),
        "training": "Adam lr %g, %d epochs, batch %d, 1 thread"
                    % (LR, EPOCHS, BATCH),
        "opset": OPSET, "torch": torch.__version__,
        "inputs": [{"name": "input", "shape": ["N", 64], "dtype": "float32"}],
        "outputs": [{"name": "logits", "shape": ["N", 10],
                     "dtype": "float32"}],
        "torch_accuracy": {},
    }
    for s in seeds:
        start = time.monotonic()
        model = train(s, x_train, y_train)
        acc = accuracy(model, x_test, y_test)
        meta["torch_accuracy"][str(s)] = acc
        tmp = models[s] + ".tmp"
        torch.onnx.export(model, (torch.from_numpy(x_test[:2]),), tmp,
                          opset_version=OPSET, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        os.replace(tmp, models[s])
        print("digits seed %d: held-out top-1 %.2f%% (torch), trained and "
              "exported in %.1f s" % (s, 100 * acc, time.monotonic() - start),
              flush=True)
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(meta_path + ".tmp", meta_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

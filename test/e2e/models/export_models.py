#!/usr/bin/python3
"""Export the real architectures used by Lopper's end-to-end tests to ONNX.

Run with Debian's Python, which has python3-torch and python3-torchvision:

    /usr/bin/python3 test/e2e/models/export_models.py --out DIR \
        [--models resnet18,resnet50,...] [--tier default|full]

Every model is built with torch.manual_seed(0) and random weights
(weights=None), put in eval mode and exported with opset 17. The batch axis is
dynamic ("batch"); the BERT-style encoders also have a dynamic "seq" axis.
Next to each NAME.onnx the script writes NAME.inputs.json describing the
inputs and outputs. A model whose NAME.onnx (and NAME.inputs.json) already
exists and is newer than this script is skipped.

This script never imports onnx or onnxruntime.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

OPSET = 17

# ---------------------------------------------------------------------------
# A BERT-style encoder written out op by op. nn.TransformerEncoderLayer is not
# used on purpose: its eval-mode fast path does not export to ONNX.
# ---------------------------------------------------------------------------


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        assert hidden % heads == 0
        self.heads = heads
        self.head_dim = hidden // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split_heads(self, x):
        # [b, s, hidden] -> [b, heads, s, head_dim]
        b, s = x.size(0), x.size(1)
        return x.reshape(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        scores = scores + mask_bias  # [b, 1, 1, s] broadcast
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v)  # [b, heads, s, head_dim]
        b, s = ctx.size(0), ctx.size(2)
        ctx = ctx.transpose(1, 2).reshape(b, s, self.heads * self.head_dim)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.act = nn.GELU()
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, mask_bias):
        x = self.attn_norm(x + self.attention(x, mask_bias))
        x = self.ffn_norm(x + self.ffn_out(self.act(self.ffn_in(x))))
        return x


class BertEncoder(nn.Module):
    def __init__(self, layers, hidden, heads, ffn, vocab=30522, max_pos=512,
                 eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.register_buffer(
            "position_ids", torch.arange(max_pos, dtype=torch.int64).unsqueeze(0),
            persistent=False)
        self.emb_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            [EncoderLayer(hidden, heads, ffn, eps) for _ in range(layers)])

    def forward(self, input_ids, attention_mask):
        seq = input_ids.size(1)
        pos = self.position_ids[:, :seq]
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos)
        x = self.emb_norm(x)
        # 1 = attend, 0 = padding -> additive bias of 0 / -10000.
        mask = attention_mask.to(x.dtype)
        mask_bias = (1.0 - mask[:, None, None, :]) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


BERT_CONFIGS = {
    # name: (layers, hidden, heads, ffn)
    "bert_encoder": (12, 768, 12, 3072),
    "bert_small": (6, 384, 6, 1536),
    # The default tier's compiled encoder: BERT-base width, two layers.
    "bert_2layer": (2, 768, 12, 3072),
}
BERT_VOCAB = 30522

# Shapes of the dummy inputs used for tracing. Batch 2 (not 1) so that no
# size-1 broadcast or squeeze gets baked into the graph.
EXPORT_BATCH = 2
EXPORT_SEQ = 16
IMAGE_SIZE = 224
CALIBRATION_BATCH = 8

TORCHVISION_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0",
                      "vit_b_16"]


class Recurrent(nn.Module):
    """nn.LSTM or nn.GRU returning every output (Y, and Y_h / Y_c)."""

    def __init__(self, cell, **kwargs):
        super().__init__()
        self.rnn = getattr(nn, cell)(**kwargs)

    def forward(self, x):
        y, state = self.rnn(x)
        if isinstance(state, tuple):
            return (y,) + state
        return y, state


# name: (cell, constructor arguments, sequence length, input size). The
# batch axis is dynamic, the sequence length static: Lopper unrolls recurrent
# layers over a static sequence length.
RNN_CONFIGS = {
    "lstm_small": ("LSTM", dict(input_size=8, hidden_size=16, num_layers=2,
                                bidirectional=True, batch_first=True), 5, 8),
    "gru_small": ("GRU", dict(input_size=8, hidden_size=12, batch_first=True),
                  6, 8),
}
ALL_MODELS = TORCHVISION_MODELS + list(BERT_CONFIGS) + list(RNN_CONFIGS)
TIERS = {
    "default": ["resnet18", "mobilenet_v2", "bert_small", "bert_2layer",
                "lstm_small", "gru_small"],
    "full": ALL_MODELS,
}


def condition_weights(model):
    """Makes torchvision's fresh initialisation numerically useful.

    Straight out of the constructor, BatchNorm running statistics are 0/1, so
    in eval mode activations shrink layer by layer (efficientnet_b0 outputs
    are ~1e-14, mobilenet_v2 ~1e-9), and vit_b_16's head is all zeros (its
    output is exactly 0). Comparing such outputs against a reference tests
    nothing. So: weight tensors that are entirely zero get N(0, 0.02), and
    BatchNorm running statistics are measured on one seeded batch of random
    images (as a trained network's would be on data), rounded to float16
    values so that the result does not depend on the thread count.
    """
    with torch.no_grad():
        for m in model.modules():
            w = getattr(m, "weight", None)
            if isinstance(m, (nn.Linear, nn.Conv2d)) and not bool(w.any()):
                nn.init.normal_(w, std=0.02)
        bns = [m for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not bns:
            return
        model.eval()
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
            m.train()
        model(torch.randn(CALIBRATION_BATCH, 3, IMAGE_SIZE, IMAGE_SIZE))
        for m in bns:
            m.running_mean.copy_(m.running_mean.half().float())
            m.running_var.copy_(m.running_var.half().float())
            m.momentum = 0.1
        model.eval()


def build(name, condition=True):
    """Returns (module, args, inputs spec, outputs spec, config)."""
    torch.manual_seed(0)
    if name in BERT_CONFIGS:
        layers, hidden, heads, ffn = BERT_CONFIGS[name]
        model = BertEncoder(layers, hidden, heads, ffn, vocab=BERT_VOCAB)
        ids = torch.randint(0, BERT_VOCAB, (EXPORT_BATCH, EXPORT_SEQ),
                            dtype=torch.int64)
        mask = torch.ones(EXPORT_BATCH, EXPORT_SEQ, dtype=torch.int64)
        mask[1, EXPORT_SEQ - 4:] = 0
        inputs = [
            {"name": "input_ids", "shape": ["batch", "seq"], "dtype": "int64",
             "range": [0, BERT_VOCAB - 1]},
            {"name": "attention_mask", "shape": ["batch", "seq"],
             "dtype": "int64", "range": [0, 1]},
        ]
        outputs = [{"name": "last_hidden_state",
                    "shape": ["batch", "seq", hidden], "dtype": "float32"}]
        config = {"layers": layers, "hidden": hidden, "heads": heads,
                  "ffn": ffn, "vocab": BERT_VOCAB, "max_positions": 512}
        return model, (ids, mask), inputs, outputs, config

    if name in RNN_CONFIGS:
        cell, kwargs, seq, size = RNN_CONFIGS[name]
        model = Recurrent(cell, **kwargs)
        x = torch.randn(EXPORT_BATCH, seq, size)
        inputs = [{"name": "input", "shape": ["batch", seq, size],
                   "dtype": "float32"}]
        dirs = 2 if kwargs.get("bidirectional") else 1
        state = [kwargs.get("num_layers", 1) * dirs, "batch",
                 kwargs["hidden_size"]]
        outputs = [{"name": "output", "dtype": "float32",
                    "shape": ["batch", seq, dirs * kwargs["hidden_size"]]},
                   {"name": "h_n", "dtype": "float32", "shape": state}]
        if cell == "LSTM":
            outputs.append({"name": "c_n", "dtype": "float32",
                            "shape": state})
        return model, (x,), inputs, outputs, {"cell": cell, **kwargs}

    import torchvision
    ctor = getattr(torchvision.models, name)
    model = ctor(weights=None)
    if condition:
        condition_weights(model)
    x = torch.randn(EXPORT_BATCH, 3, IMAGE_SIZE, IMAGE_SIZE)
    inputs = [{"name": "input", "shape": ["batch", 3, IMAGE_SIZE, IMAGE_SIZE],
               "dtype": "float32"}]
    outputs = [{"name": "output", "shape": ["batch", 1000],
                "dtype": "float32"}]
    config = {"init": "torchvision default, seed 0"
              + (", zero weights re-drawn, BatchNorm statistics from "
                 f"{CALIBRATION_BATCH} random images" if condition else "")}
    return model, (x,), inputs, outputs, config


def up_to_date(onnx_path, json_path, condition):
    paths = [onnx_path, json_path]
    if not all(os.path.exists(p) for p in paths):
        return False
    script_mtime = os.path.getmtime(os.path.abspath(__file__))
    if not all(os.path.getmtime(p) > script_mtime for p in paths):
        return False
    try:
        with open(json_path) as f:
            return json.load(f).get("raw_init") == (not condition)
    except (OSError, ValueError):
        return False


def export(name, out_dir, force=False, condition=True):
    onnx_path = os.path.join(out_dir, name + ".onnx")
    json_path = os.path.join(out_dir, name + ".inputs.json")
    if not force and up_to_date(onnx_path, json_path, condition):
        print(f"{name}: cached ({os.path.getsize(onnx_path) / 1e6:.1f} MB)",
              flush=True)
        return 0.0
    start = time.monotonic()
    model, args, inputs, outputs, config = build(name, condition)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    dynamic_axes = {}
    for spec in inputs + outputs:
        dynamic_axes[spec["name"]] = {
            i: d for i, d in enumerate(spec["shape"]) if isinstance(d, str)}
    tmp_path = onnx_path + ".tmp"
    # Grad stays enabled on purpose: with grad disabled, eval-mode
    # nn.MultiheadAttention (vit_b_16) takes its fused fast path
    # (aten::_native_multi_head_attention), which has no ONNX export.
    with torch.enable_grad():
        torch.onnx.export(
            model, args, tmp_path,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            # PRESERVE with an eval-mode model keeps BatchNormalization as
            # inference nodes; EVAL would fold it into the convolutions,
            # which is Lopper's own fusion pass's job.
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=[s["name"] for s in inputs],
            output_names=[s["name"] for s in outputs],
            dynamic_axes=dynamic_axes)
    os.replace(tmp_path, onnx_path)
    meta = {
        "model": name,
        "opset": OPSET,
        "seed": 0,
        "raw_init": not condition,
        "parameters": params,
        "inputs": inputs,
        "outputs": outputs,
        "export_shapes": {s["name"]: list(a.shape)
                          for s, a in zip(inputs, args)},
        "torch": torch.__version__,
    }
    if config:
        meta["config"] = config
    with open(json_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(json_path + ".tmp", json_path)
    elapsed = time.monotonic() - start
    print(f"{name}: exported in {elapsed:.1f} s "
          f"({os.path.getsize(onnx_path) / 1e6:.1f} MB, {params / 1e6:.2f} M params)",
          flush=True)
    return elapsed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--models", default=None,
                   help="comma-separated model names (overrides --tier); "
                   "known: " + ",".join(ALL_MODELS))
    p.add_argument("--tier", default="default", choices=sorted(TIERS))
    p.add_argument("--force", action="store_true",
                   help="re-export even when the cached file is up to date")
    p.add_argument("--raw-init", action="store_true",
                   help="export torchvision's initialisation as is (no "
                   "BatchNorm statistics, zero heads kept); a later run without it re-exports")
    a = p.parse_args(argv)
    names = a.models.split(",") if a.models else TIERS[a.tier]
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in ALL_MODELS]
    if unknown:
        p.error(f"unknown model(s): {', '.join(unknown)}; "
                f"known: {', '.join(ALL_MODELS)}")
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    failed = []
    for name in names:
        try:
            export(name, a.out, force=a.force or a.raw_init,
                   condition=not a.raw_init)
        except Exception as e:  # report and go on with the other models
            print(f"{name}: FAILED: {type(e).__name__}: {e}", file=sys.stderr,
                  flush=True)
            failed.append(name)
    if failed:
        print(f"export failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

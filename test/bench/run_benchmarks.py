#!/usr/bin/env python3
"""Latency of compiled models against onnxruntime, measured in one run.

    VENV/bin/python test/bench/run_benchmarks.py --bin BUILD/bin \
        --models-dir DIR [--models a,b] [--threads 2] [--runs 50] \
        [--warmup 20] [--json OUT] [--markdown OUT.md]

For each model: `lopper compile`, then `lopper bench --compare onnxruntime`
(onnxruntime 1.30 in a separate process, graph optimization ALL, the same
intra-op thread count, one inter-op thread; the engines alternate run by
run; warm-up runs discarded; medians compared). Batch 1; BERT-style models
at sequence 128. The ratio is lopper's median over onnxruntime's (below 1
means lopper is faster). Speed is never asserted here: this is a report.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0",
          "vit_b_16", "bert_encoder", "bert_2layer"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    lopper = os.path.join(a.bin, "lopper")
    env = dict(os.environ)
    env.setdefault("LOPPER_PYTHON", sys.executable)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lopper-bench-") as work:
        for name in a.models.split(","):
            onnx = os.path.join(a.models_dir, name + ".onnx")
            so = os.path.join(work, name + ".so")
            subprocess.run([lopper, "compile", onnx, "-o", so, "--quiet"],
                           check=True)
            cmd = [lopper, "bench", so, "--compare", "onnxruntime", "--onnx",
                   onnx, "--threads", str(a.threads), "--runs", str(a.runs),
                   "--warmup", str(a.warmup), "--random-inputs", "1", "--json",
                   "--dim", "batch=1"]
            if name.startswith("bert"):
                cmd += ["--dim", "seq=128", "--random-range",
                        "input_ids=0,30522", "--random-range",
                        "attention_mask=1,2"]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if p.returncode != 0:
                print(f"{name}: bench failed: {p.stderr.strip()}")
                rows.append({"model": name, "error": p.stderr.strip()})
                continue
            r = json.loads(p.stdout)
            r["model"] = name
            rows.append(r)
            print(f"{name:16s} lopper {r['lopper']['median_ms']:8.2f} ms  "
                  f"onnxruntime {r['onnxruntime']['timing']['median_ms']:8.2f} ms"
                  f"  ratio {r['comparison']['ratio']:.2f}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("| model | lopper median ms | onnxruntime median ms | "
                    "ratio (lopper / onnxruntime) | load ms | arena MiB |\n"
                    "|---|---:|---:|---:|---:|---:|\n")
            for r in rows:
                if "error" in r:
                    f.write(f"| {r['model']} | failed | | |\n")
                    continue
                f.write(f"| {r['model']} | {r['lopper']['median_ms']:.2f} | "
                        f"{r['onnxruntime']['timing']['median_ms']:.2f} | "
                        f"{r['comparison']['ratio']:.2f} | "
                        f"{r['settings']['load_ms']:.1f} | "
                        f"{r['settings']['workspace_bytes'] / 2**20:.1f} |\n")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

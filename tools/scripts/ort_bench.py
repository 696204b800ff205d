#!/usr/bin/env python3
"""The onnxruntime side of `lopper bench --compare onnxruntime`.

Started by lopper as a child process; talks a line protocol on its
stdin/stdout (everything else goes to stderr):

  after loading:  "ready {JSON}"  (versions and session settings)
                  or "error MESSAGE" and exit status 1
  "run"   ->  "ok NS"   one session.run, timed with time.perf_counter_ns
  "save"  ->  "saved [{"name": OUTPUT, "file": PATH}, ...]"  one run whose
              outputs are written as .npy files into --save-dir
  "quit"  ->  "bye", exit status 0 (end of input also exits)

Any failure replies "error MESSAGE" and exits with status 1. The session
uses ORT_ENABLE_ALL, --threads intra-op threads, one inter-op thread and
sequential execution on the CPU execution provider.

--inputs names a JSON manifest {"inputs": [{"name": N, "file": F.npy}, ...]}
with every input of the model.
"""

import argparse
import json
import os
import sys
import time


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def one_line(e):
    text = str(e).strip() or type(e).__name__
    return " ".join(text.split())


def fail(message):
    reply("error " + one_line(message))
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="the ONNX model")
    parser.add_argument("--inputs", required=True, help="the JSON manifest")
    parser.add_argument("--threads", type=int, required=True,
                        help="intra-op threads")
    parser.add_argument("--save-dir", required=True,
                        help="where 'save' writes the outputs")
    args = parser.parse_args()

    try:
        import numpy as np
        import onnxruntime as ort
    except Exception as e:  # ImportError, or a broken install
        return fail("cannot import onnxruntime and numpy with %s (%s); "
                    "install test/requirements.txt there, or pass --python "
                    "or set LOPPER_PYTHON" % (sys.executable, one_line(e)))

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # The two engines alternate run by run: onnxruntime's default spin-wait
    # after each run would keep a core busy through lopper's run (measured:
    # lopper's ResNet-18 went from 28 to 43 ms at 2 threads). Neither engine
    # spins, so each runs on an idle machine; alone, spinning makes
    # onnxruntime about 8% faster on ResNet-18 (17.4 vs 18.9 ms).
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(args.model, so,
                                       providers=["CPUExecutionProvider"])
    except Exception as e:
        return fail("cannot load %s: %s" % (args.model, one_line(e)))

    try:
        with open(args.inputs) as f:
            manifest = json.load(f)
        files = {entry["name"]: entry["file"] for entry in manifest["inputs"]}
    except Exception as e:
        return fail("cannot read the input manifest %s: %s"
                    % (args.inputs, one_line(e)))
    wanted = [i.name for i in session.get_inputs()]
    missing = [n for n in wanted if n not in files]
    extra = [n for n in files if n not in wanted]
    if missing or extra:
        parts = []
        if missing:
            parts.append("%s has inputs the compiled model lacks: %s"
                         % (args.model, ", ".join(missing)))
        if extra:
            parts.append("the compiled model has inputs %s lacks: %s"
                         % (args.model, ", ".join(extra)))
        return fail("; ".join(parts))
    feeds = {}
    for name in wanted:
        try:
            feeds[name] = np.load(files[name], allow_pickle=False)
        except Exception as e:
            return fail("cannot read input '%s' from %s: %s"
                        % (name, files[name], one_line(e)))
    output_names = [o.name for o in session.get_outputs()]

    reply("ready " + json.dumps({
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "python_version": sys.version.split()[0],
        "python_executable": sys.executable,
        "providers": session.get_providers(),
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "intra_op_threads": args.threads,
        "inter_op_threads": 1,
        "execution_mode": "ORT_SEQUENTIAL",
        "intra_op_allow_spinning": False,
        "outputs": output_names,
    }))

    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            try:
                start = time.perf_counter_ns()
                session.run(output_names, feeds)
                elapsed = time.perf_counter_ns() - start
            except Exception as e:
                return fail("run failed: " + one_line(e))
            reply("ok %d" % elapsed)
        elif command == "save":
            try:
                values = session.run(output_names, feeds)
                saved = []
                for i, (name, value) in enumerate(zip(output_names, values)):
                    path = os.path.join(args.save_dir, "output%d.npy" % i)
                    np.save(path, np.ascontiguousarray(value),
                            allow_pickle=False)
                    saved.append({"name": name, "file": path})
            except Exception as e:
                return fail("saving the outputs failed: " + one_line(e))
            reply("saved " + json.dumps(saved))
        elif command == "quit":
            reply("bye")
            return 0
        else:
            return fail("unknown command '%s'" % command)
    return 0


if __name__ == "__main__":
    sys.exit(main())

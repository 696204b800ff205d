#!/usr/bin/python3
"""Regenerates test/e2e/models/example-cnn.onnx, the small bundled example.

    /usr/bin/python3 test/e2e/models/make_example.py [--out PATH]

Needs Debian's python3-torch (use /usr/bin/python3). The model is a small
seeded CNN: three conv-bn-relu blocks (the third with a residual add before
its relu), max pool, global average pool, flatten, linear, softmax. Input
"image" is float32 [batch, 3, 32, 32] with a dynamic batch axis; output
"probs" is [batch, 10]. Opset 17.

BatchNormalization is kept as its own node (the export does not fold it into
the convolutions) and its statistics and affine parameters are random, so
batch-norm folding has real work to do. The output is byte-identical from run
to run.
"""

import argparse
import os
import sys

import torch
import torch.nn as nn

OPSET = 17
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "example-cnn.onnx")


class ExampleCNN(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2, 2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, image):
        x = self.relu(self.bn1(self.conv1(image)))   # [b, 16, 32, 32]
        x = self.pool(x)                             # [b, 16, 16, 16]
        x = self.relu(self.bn2(self.conv2(x)))       # [b, 32, 16, 16]
        x = self.relu(self.bn3(self.conv3(x)) + x)   # residual
        x = self.flatten(self.gap(x))                # [b, 32]
        return self.softmax(self.fc(x))              # [b, 10]


def build():
    torch.manual_seed(0)
    model = ExampleCNN()
    with torch.no_grad():
        for bn in (model.bn1, model.bn2, model.bn3):
            c = bn.num_features
            bn.weight.copy_(torch.rand(c) + 0.5)          # gamma in [0.5, 1.5)
            bn.bias.copy_(torch.randn(c) * 0.1)           # beta
            bn.running_mean.copy_(torch.randn(c) * 0.1)
            bn.running_var.copy_(torch.rand(c) * 0.5 + 0.5)
    model.eval()
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    a = p.parse_args(argv)
    model = build()
    x = torch.randn(2, 3, 32, 32)
    tmp = a.out + ".tmp"
    with torch.no_grad():
        # PRESERVE with an eval-mode model exports inference-mode
        # BatchNormalization nodes; EVAL would fold them into the Convs.
        torch.onnx.export(
            model, (x,), tmp,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=False,  # nothing to fold; avoids a warning
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=["image"],
            output_names=["probs"],
            dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}})
    os.replace(tmp, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""PyTorch peer of `npm run bench:peers` (bench/peers/peers.ts runs it; not meant to be run alone).

Trains and evaluates the same LeNet-5 as the engine's presets on MNIST, on the CPU, and prints one
JSON object on stdout: images per second for training and inference, the steps taken, and the first
and last batch losses. The C3 table is applied as masked weights (conv2's weight times a 0/1 mask in
every forward, so masked entries get zero gradient), as the engine's definitions in docs/engine.md.

Run it with OPENBLAS_NUM_THREADS=1 (the caller does): Debian's OpenBLAS otherwise starts its own
threads against torch's and halves the speed.
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# LeCun 1998, Table 1: table[in][out], as LECUN_C3_TABLE in src/engine/presets.ts.
C3_TABLE = [
    [1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1],
    [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
    [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1],
    [0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1],
    [0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1],
    [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1],
]

PRESETS = {
    "lenet5-tanh-mse": {"act": "tanh", "bn": False},
    "lenet5-relu-ce-bn": {"act": "relu", "bn": True},
    "lenet5-tanh-mse-bn": {"act": "tanh", "bn": True},
    "lenet5-relu-ce": {"act": "relu", "bn": False},
}


def read_idx(directory, stem, header):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                return np.frombuffer(f.read(), dtype=np.uint8, offset=header)
    raise SystemExit(f"torch_peer: {stem} not found in {directory}")


class LeNet5(nn.Module):
    def __init__(self, act, bn, table):
        super().__init__()
        self.tanh = act == "tanh"
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        norm = (lambda c, two_d: (nn.BatchNorm2d(c) if two_d else nn.BatchNorm1d(c))) if bn else (lambda c, two_d: nn.Identity())
        self.bn1, self.bn2 = norm(6, True), norm(16, True)
        self.bn3, self.bn4, self.bn5 = norm(120, False), norm(84, False), norm(10, False)
        if table:
            # mask[out, in, 1, 1] broadcast over the 5×5 kernel.
            mask = torch.tensor(C3_TABLE, dtype=torch.float32).t().reshape(16, 6, 1, 1)
            self.register_buffer("mask", mask)
            with torch.no_grad():
                self.conv2.weight.mul_(mask)
        else:
            self.mask = None

    def forward(self, x):
        act = torch.tanh if self.tanh else F.relu
        pool = F.avg_pool2d if self.tanh else F.max_pool2d
        x = pool(act(self.bn1(self.conv1(x))), 2)
        w2 = self.conv2.weight if self.mask is None else self.conv2.weight * self.mask
        x = pool(act(self.bn2(F.conv2d(x, w2, self.conv2.bias))), 2)
        x = torch.flatten(x, 1)
        x = act(self.bn3(self.fc1(x)))
        x = act(self.bn4(self.fc2(x)))
        x = self.bn5(self.fc3(x))
        # tanh outputs for MSE; the softmax is inside cross_entropy for the relu presets.
        return torch.tanh(x) if self.tanh else x


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mnist", required=True, help="folder with the four MNIST IDX files")
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-batch", type=int, default=0, help="images per inference batch (default: --batch)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--table", type=int, choices=(0, 1), default=1, help="1: C3 table as masked weights")
    p.add_argument("--seconds", type=float, default=2.0, help="training time; inference gets half")
    p.add_argument("--steps", type=int, default=0, help="instead of --seconds: this many training and inference batches")
    p.add_argument("--warmup", type=int, default=20, help="warm-up steps (at most 0.5 s)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    eval_batch = a.eval_batch or a.batch

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = PRESETS[a.preset]
    train_x = torch.from_numpy(read_idx(a.mnist, "train-images-idx3-ubyte", 16).copy()).reshape(-1, 1, 28, 28)
    train_y = torch.from_numpy(read_idx(a.mnist, "train-labels-idx1-ubyte", 8).astype(np.int64))
    test_x = torch.from_numpy(read_idx(a.mnist, "t10k-images-idx3-ubyte", 16).copy()).reshape(-1, 1, 28, 28)

    model = LeNet5(cfg["act"], cfg["bn"], bool(a.table))
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9)
    eye = torch.eye(10)
    order = torch.randperm(train_x.shape[0])
    pos = 0

    def train_step():
        nonlocal pos, order
        if pos + a.batch > order.shape[0]:
            order, pos = torch.randperm(train_x.shape[0]), 0
        idx = order[pos : pos + a.batch]
        pos += a.batch
        # The dataset stays uint8 until a batch is built, as in the engine.
        x = train_x[idx].float().div_(255)
        y = train_y[idx]
        out = model(x)
        if cfg["act"] == "tanh":
            loss = 0.5 * (out - eye[y]).pow(2).sum() / a.batch
        else:
            loss = F.cross_entropy(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    def measure(step, budget_steps, budget_seconds):
        count = 0
        t0 = time.perf_counter()
        while (count < budget_steps) if budget_steps > 0 else (time.perf_counter() - t0 < budget_seconds):
            step()
            count += 1
        return count, time.perf_counter() - t0

    model.train()
    t0 = time.perf_counter()
    for i in range(a.warmup):
        train_step()
        if i >= 1 and time.perf_counter() - t0 > 0.5:
            break
    losses = []
    steps, seconds = measure(lambda: losses.append(train_step()), a.steps, a.seconds)
    train_rate = steps * a.batch / seconds

    model.eval()
    start = 0

    def eval_step():
        nonlocal start
        idx = torch.arange(start, start + eval_batch) % test_x.shape[0]
        start += eval_batch
        with torch.inference_mode():
            model(test_x[idx].float().div_(255))

    for _ in range(min(3, a.warmup)):
        eval_step()
    eval_steps, eval_seconds = measure(eval_step, a.steps, a.seconds / 2)
    eval_rate = eval_steps * eval_batch / eval_seconds

    json.dump(
        {
            "engine": "pytorch",
            "version": torch.__version__,
            "threads": torch.get_num_threads(),
            "trainImagesPerSecond": train_rate,
            "evalImagesPerSecond": eval_rate,
            "trainSteps": steps,
            "firstLoss": losses[0],
            "lastLoss": losses[-1],
            "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

"""Train the baseline LeNet-5 on the demo training digits and export its weights for predict.py.

    python examples/mnist-lenet/train.py [--epochs 8]

Uses the first 8,000 digits of data/mnist-10k (the demo training split; the last 2,000 are the
hidden test set the grader scores on, and are never read here). CPU only, about a minute on two
cores. Writes lenet.npz next to this file: plain float32 arrays, so predict.py needs only NumPy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import paddle
from paddle import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for grader.datasets

from grader.datasets import DEMO_DIR, load_split  # noqa: E402


class LeNet(nn.Layer):
    """LeNet-5 with ReLU and max pooling: 61,706 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2D(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2D(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.pool = nn.MaxPool2D(2, 2)
        self.relu = nn.ReLU()

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = paddle.flatten(x, 1)
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(x)))))


def train(epochs: int, batch: int = 64, seed: int = 0) -> LeNet:
    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    images, labels = load_split(DEMO_DIR, "train")
    x_all = (images.astype("float32") / 255.0)[:, None]
    y_all = labels.astype("int64")
    model = LeNet()
    optimizer = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        order, started, total = rng.permutation(len(x_all)), time.time(), 0.0
        model.train()
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            loss = loss_fn(model(paddle.to_tensor(x_all[idx])), paddle.to_tensor(y_all[idx]))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f} ({time.time() - started:.1f} s)")
    return model


def export(model: LeNet, path: Path) -> None:
    """Conv weights (out, in, kh, kw) and Linear weights (in, out), as Paddle stores them."""
    arrays = {name.replace(".", "_"): p.numpy() for name, p in model.named_parameters()}
    np.savez(path, **arrays)
    print(f"wrote {path} ({sum(a.size for a in arrays.values())} parameters)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    started = time.time()
    export(train(args.epochs), HERE / "lenet.npz")
    print(f"trained in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

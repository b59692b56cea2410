"""A Paddle package for homework 6-2: the baseline LeNet-5 as a dygraph `paddle.nn.Layer`.

What a bootcamp student hands in: `predict.py` imports paddle, builds the network and loads its
state dict from `lenet.pdparams` next to it. The weights are the committed baseline's
(examples/mnist-lenet/lenet.npz), converted by package.py; no training is involved.
"""

from __future__ import annotations

import os

import numpy as np
import paddle
from paddle import nn

_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet.pdparams")
_BATCH = 500


class LeNet(nn.Layer):
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


def predict(images: np.ndarray) -> np.ndarray:
    model = LeNet()
    model.set_state_dict(paddle.load(_WEIGHTS))
    model.eval()
    x = images.astype("float32")[:, None] / 255.0
    labels = []
    with paddle.no_grad():
        for i in range(0, len(x), _BATCH):
            labels.append(model(paddle.to_tensor(x[i : i + _BATCH])).argmax(axis=1).numpy())
    return np.concatenate(labels)

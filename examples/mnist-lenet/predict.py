"""Baseline predictor for homework 6-2: LeNet-5 forward pass in plain NumPy.

The grader imports this file and calls `predict(images)` with a uint8 array (N, 28, 28); it
returns N integer labels. Weights come from lenet.npz in this file's directory (written by
train.py). NumPy only: no Paddle import (about 2 s) is needed to run a network this small.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet.npz")
_BATCH = 500  # bounds the im2col buffers to a few tens of MB


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int = 0) -> np.ndarray:
    """Cross-correlation like paddle.nn.Conv2D: x (N,C,H,W), w (O,C,kh,kw) -> (N,O,H',W').

    im2col: every output pixel's input window becomes one row, so the conv is one matmul.
    """
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, width = x.shape
    out_c, _, kh, kw = w.shape
    oh, ow = h - kh + 1, width - kw + 1
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N,C,H',W',kh,kw)
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ w.reshape(out_c, -1).T + b
    return out.reshape(n, oh, ow, out_c).transpose(0, 3, 1, 2)


def _pool(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _forward(p: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    x = _pool(np.maximum(_conv(x, p["conv1_weight"], p["conv1_bias"], pad=2), 0))
    x = _pool(np.maximum(_conv(x, p["conv2_weight"], p["conv2_bias"]), 0))
    x = x.reshape(len(x), -1)
    x = np.maximum(x @ p["fc1_weight"] + p["fc1_bias"], 0)
    x = np.maximum(x @ p["fc2_weight"] + p["fc2_bias"], 0)
    return x @ p["fc3_weight"] + p["fc3_bias"]


def predict(images: np.ndarray) -> np.ndarray:
    with np.load(_WEIGHTS, allow_pickle=False) as weights:
        params = {name: weights[name] for name in weights.files}
    x = images.astype(np.float32)[:, None] / 255.0
    logits = [_forward(params, x[i : i + _BATCH]) for i in range(0, len(x), _BATCH)]
    return np.concatenate(logits).argmax(axis=1)

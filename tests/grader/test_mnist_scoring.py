"""Scoring logic without the sandbox: prediction files, the public split, the report.

A fake runner (writing chosen predictions) stands in for the sandbox here only; the real
sandbox runs the same task in test_mnist_task.py and test_mnist_hostile.py.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import grader
from grader.datasets import DEMO_DIR, load_split
from grader.sandbox import Outcome
from grader.tasks.mnist import task as mnist_task
from grader.tasks.mnist.scoring import OutputError, accuracies, public_mask, read_predictions
from tests.grader.graderkit import FAST

N = 20


def saved(tmp_path, array, **kwargs):
    path = tmp_path / "p.npy"
    with path.open("wb") as f:
        np.save(f, array, **kwargs)
    return path


@pytest.mark.parametrize(
    "array", [np.arange(N) % 10, (np.arange(N) % 10).astype(np.uint8), (np.arange(N) % 10).astype(float)]
)
def test_valid_predictions(tmp_path, array):
    got = read_predictions(saved(tmp_path, array), N)
    assert got.dtype == np.int64 and got.tolist() == (np.arange(N) % 10).tolist()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(N - 1, int), "must return 20 labels"),
        (np.zeros((N, 1), int), "shape"),
        (np.zeros((N, 10)), "argmax"),
        (np.full(N, 2.5), "integers"),
        (np.full(N, np.inf), "integers"),
        (np.zeros(N, bool), "integers"),
        (np.zeros(N, complex), "integers"),
        (np.array(["1"] * N), "integers"),
        (np.full(N, 10), "0-9"),
    ],
)
def test_invalid_predictions(tmp_path, array, message):
    with pytest.raises(OutputError, match=message) as caught:
        read_predictions(saved(tmp_path, array), N)
    assert caught.value.zh


def test_untrusted_file_formats(tmp_path):
    path = tmp_path / "p.npy"
    for data, message in [
        (b"", "No predictions"),
        (b"\x93NUMPY garbage", "cannot be read"),
        (b"x" * 10**6, "too large"),
        (pickle.dumps(list(range(N))), "cannot be read"),
    ]:
        path.write_bytes(data)
        with pytest.raises(OutputError, match=message):
            read_predictions(path, N)
    object_array = np.array([0] * (N - 1) + [None], dtype=object)
    with pytest.raises(OutputError, match="cannot be read"):  # never unpickled
        read_predictions(saved(tmp_path, object_array, allow_pickle=True), N)
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros(N, int))
    path.write_bytes(buffer.getvalue())
    assert zipfile.is_zipfile(path)
    with pytest.raises(OutputError, match="cannot be read"):  # not an .npy header at all
        read_predictions(path, N)


def npy_with_header(header: str, data: bytes = b"") -> bytes:
    """An .npy file (version 1.0) with `header` written as is, and `data` after it."""
    padded = header.ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded.encode() + data


@pytest.mark.parametrize(
    ("shape", "data"),
    [
        (f"({2**70}, 0)", b""),     # 0 bytes claimed: NumPy's reader raised OverflowError
        ("(True,)", b"\0" * 8),      # a bool is an int to Python: NumPy's reader raised TypeError
        ("(-4, -5)", b"\0" * 160),   # negative sizes whose product matches the bytes
        ("(2**70, 0)", b""),        # an expression, not a literal
    ],
)
def test_a_crafted_header_is_bad_output_not_a_crash(tmp_path, shape, data):
    """Any failure to read the program's file is its output's fault: an exception escaping the
    reader was no verdict at all: the grading was queued again and again until its tries ran out."""
    path = tmp_path / "p.npy"
    path.write_bytes(npy_with_header(f"{{'descr': '<i8', 'fortran_order': False, 'shape': {shape}, }}", data))
    with pytest.raises(OutputError, match="cannot be read"):
        read_predictions(path, N)


def test_public_mask_is_fixed_and_exact():
    mask = public_mask(2000, 0.5, "camp")
    assert mask.sum() == 1000 and not mask.flags.writeable
    assert np.array_equal(mask, public_mask(2000, 0.5, "camp"))
    assert not np.array_equal(mask, public_mask(2000, 0.5, "other seed"))
    # pinned: changing the rule would silently reshuffle every published leaderboard
    assert np.flatnonzero(public_mask(10, 0.3, "camp")).tolist() == [0, 5, 8]


def test_accuracies():
    labels = np.array([0, 1, 2, 3])
    preds = np.array([0, 1, 0, 0])
    mask = np.array([True, True, False, False])
    assert accuracies(preds, labels, None) == {"accuracy": 0.5, "correct": 2, "total": 4}
    split = accuracies(preds, labels, mask)
    assert split["public_accuracy"] == 1.0 and split["private_accuracy"] == 0.0
    assert split["public_count"] == split["private_count"] == 2


def fake_runner(predictions):
    """Stand-in for run_python: writes `predictions(images)` where the runner would."""

    def run(script, args, *, limits, package, inputs, outputs):
        images = np.load(inputs["images.npy"])
        with outputs["predictions.npy"].open("wb") as f:
            np.save(f, predictions(images))
        return Outcome(exit_code=0, signal=None, timed_out=False, error=None, log="fake log",
                       output_bytes=8, wall_seconds=0.01, gpu=False)

    return run


@pytest.fixture
def perfect(monkeypatch):
    """Right on the hidden digits, and on the public sample digits run before them."""
    labels, train = load_split(DEMO_DIR, "test")[1], load_split(DEMO_DIR, "train")[1]
    monkeypatch.setattr(mnist_task, "run_python", fake_runner(
        lambda images: labels if len(images) == len(labels) else train[: len(images)]))


@pytest.mark.parametrize(
    ("config", "score"),
    [({}, 1.0), ({"dataset": "demo"}, 1.0), ({"public_fraction": 0.25, "rank_on": "public"}, 1.0),
     ({"public_fraction": 0.25, "rank_on": "all"}, 1.0)],
)
def test_task_glue_with_a_fake_runner(perfect, config, score):
    report = grader.grade("mnist", assignment="6-2", files={"predict.py": b""}, config=config, limits=FAST)
    assert report.verdict == "accepted" and report.score == score and report.staff_log == "fake log"
    assert report.log.count("fake log") == 1  # the sample run's; the hidden run's is the staff's
    if "public_fraction" in config:
        assert report.detail["public_count"] == 500


def test_task_glue_min_accuracy(monkeypatch):
    monkeypatch.setattr(mnist_task, "run_python", fake_runner(lambda images: np.zeros(len(images), int)))
    report = grader.grade("mnist", assignment="6-2", files={"predict.py": b""},
                          config={"min_accuracy": 0.9}, limits=FAST)
    assert report.verdict == "wrong" and 0 < report.score < 0.2

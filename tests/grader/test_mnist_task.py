"""The `mnist` task end to end with the real sandbox: the baseline, package layouts, outputs."""

from __future__ import annotations

import glob

import numpy as np
import pytest

import grader
from grader.datasets import DEMO_DIR, DatasetError, load_split
from grader.datasets.idx import write_idx_gz
from grader.limits import Limits
from grader.report import ConfigError
from grader.sandbox import runtime
from grader.sandbox.runtime import Runtime
from grader.tasks.mnist import task as mnist_task
from tests.grader.graderkit import BASELINE, BASELINE_ACCURACY, FAST, zip_bytes

pytestmark = pytest.mark.sandbox

HIDDEN = load_split(DEMO_DIR, "test")[1]
ZERO_ACCURACY = float(np.mean(HIDDEN == 0))


def grade_files(files, config=None, limits=FAST):
    return grader.grade("mnist", assignment="6-2", files=files, config=config or {}, limits=limits)


def test_baseline_is_accepted_with_its_accuracy(baseline_zip):
    report = grade_files({"mnist-lenet.zip": baseline_zip}, limits=Limits())  # production limits
    assert report.verdict == "accepted" and report.passed
    assert report.score == pytest.approx(BASELINE_ACCURACY)
    assert report.detail["correct"] == round(BASELINE_ACCURACY * 2000) and report.detail["total"] == 2000
    assert report.detail["device"] == "cpu"
    assert "98.20%" in report.messages["zh_CN"] and "98.20%" in report.messages["en"]
    assert report.to_dict()["passed"] is True


def test_baseline_in_a_top_folder_and_as_single_files():
    predict = (BASELINE / "predict.py").read_bytes()
    weights = (BASELINE / "lenet.npz").read_bytes()
    nested = zip_bytes({"lenet/predict.py": predict, "lenet/lenet.npz": weights})
    assert grade_files({"hw6-2.zip": nested}).score == pytest.approx(BASELINE_ACCURACY)
    plain = grade_files({"predict.py": b"import numpy as np\ndef predict(x):\n    return [1] * len(x)\n"})
    assert plain.verdict == "accepted" and plain.score == pytest.approx(float(np.mean(HIDDEN == 1)))


def test_public_private_split(baseline_zip):
    config = {"public_fraction": 0.5, "rank_on": "private"}
    report = grade_files({"p.zip": baseline_zip}, config=config)
    d = report.detail
    assert d["public_count"] == d["private_count"] == 1000
    assert report.score == d["private_accuracy"]
    assert d["accuracy"] == pytest.approx((d["public_accuracy"] + d["private_accuracy"]) / 2)
    assert f"{100 * d['public_accuracy']:.2f}%" in report.messages["en"]  # public is what is shown
    assert "public" in report.messages["en"]
    public = grade_files({"p.zip": baseline_zip}, config={**config, "rank_on": "public"})
    assert public.score == d["public_accuracy"]


def test_min_accuracy_makes_a_weak_model_wrong():
    weak = {"predict.py": b"def predict(x):\n    return [0] * len(x)\n"}
    report = grade_files(weak, config={"min_accuracy": 0.5})
    assert report.verdict == "wrong" and report.score == pytest.approx(ZERO_ACCURACY)
    assert "50.00%" in report.messages["en"]


OUTPUTS = [
    # caught on the 8 public sample digits first (the student sees that run's log)
    ("return np.zeros(10, dtype=int)", "bad_output", "must return 8 labels"),
    # right on the samples, wrong on the hidden digits
    ("return np.zeros(10 if len(images) > 100 else len(images), dtype=int)", "bad_output",
     "must return 2000 labels"),
    ("return np.zeros((len(images), 10))", "bad_output", "forgot argmax"),
    ("return np.full(len(images), 0.5)", "bad_output", "integers"),
    ("return np.full(len(images), np.nan)", "bad_output", "integers"),
    ("return np.array(['7'] * len(images))", "bad_output", "integers"),
    ("return np.full(len(images), 10)", "bad_output", "0-9"),
    ("return np.full(len(images), -1)", "bad_output", "0-9"),
    ("return None", "bad_output", "No predictions"),
    ("return [0, 'a', None]", "bad_output", "No predictions"),
    ("return np.zeros(10**5, dtype=np.int64)", "bad_output", "too large"),
    ("return np.zeros(len(images), dtype=np.float32)", "accepted", None),
    ("return [0] * len(images)", "accepted", None),
    ("return np.zeros(len(images), dtype=np.uint8)", "accepted", None),
]


@pytest.mark.parametrize(("body", "verdict", "message"), OUTPUTS)
def test_outputs_are_checked_outside(body, verdict, message):
    code = f"import numpy as np\ndef predict(images):\n    {body}\n"
    report = grade_files({"predict.py": code.encode()})
    assert report.verdict == verdict, report
    if message:
        assert message in report.messages["en"] and report.score == 0.0
    else:
        assert report.score == pytest.approx(ZERO_ACCURACY)


@pytest.mark.slow  # imports Paddle in the sandbox
def test_paddle_predictor_in_the_sandbox():
    code = b"""
import numpy as np
import paddle

def predict(images):
    x = paddle.to_tensor(images.astype("float32"))
    return paddle.full([x.shape[0]], 3, dtype="int64")  # a Tensor, converted by np.asarray
"""
    limits = Limits(**{**FAST.__dict__, "memory_bytes": 2 * 1024**3, "wall_seconds": 60})
    report = grade_files({"predict.py": code}, limits=limits)
    assert report.verdict == "accepted", report
    assert report.score == pytest.approx(float(np.mean(HIDDEN == 3)))


def test_gpu_request_falls_back_to_cpu_without_devices(baseline_zip):
    if glob.glob("/dev/nvidia*"):
        pytest.skip("this machine has a GPU; the fallback path is for CPU-only workers")
    report = grade_files({"p.zip": baseline_zip}, limits=Limits(**{**FAST.__dict__, "gpu": "0"}))
    assert report.verdict == "accepted" and report.detail["device"] == "cpu"


def test_imported_dataset_is_graded(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = np.arange(50, dtype=np.uint8) % 10
    write_idx_gz(images, tmp_path / "t10k-images-idx3-ubyte.gz")
    write_idx_gz(labels, tmp_path / "t10k-labels-idx1-ubyte.gz")
    code = b"def predict(images):\n    return [i % 10 for i in range(len(images))]\n"
    report = grade_files({"predict.py": code}, config={"dataset": str(tmp_path)})
    assert report.score == 1.0 and report.detail["total"] == 50


def test_dataset_visible_to_the_sandbox_is_refused(tmp_path, monkeypatch):
    real = runtime()
    monkeypatch.setattr(mnist_task, "runtime", lambda: Runtime(real.python, (str(DEMO_DIR),), ()))
    with pytest.raises(ConfigError, match="bound into the sandbox"):
        grade_files({"predict.py": b"def predict(x):\n    return [0] * len(x)\n"})


def test_missing_dataset_is_infrastructure(tmp_path):
    with pytest.raises(DatasetError):
        grade_files({"predict.py": b""}, config={"dataset": str(tmp_path)})


@pytest.mark.parametrize(
    "config",
    [{"public_fraction": 1.5}, {"public_fraction": "half"}, {"rank_on": "private"},
     {"rank_on": "best", "public_fraction": 0.5}, {"min_accuracy": "high"}],
)
def test_bad_config(config):
    with pytest.raises(ConfigError):
        grade_files({"predict.py": b""}, config=config)


def test_queue():
    assert grader.queue_for("mnist") == "gpu"
    assert "mnist" in grader.task_names() and "conv_opcount" in grader.task_names()

"""Hidden digits that cannot be looked up: the exact-lookup attack replayed, before and after."""

from __future__ import annotations

import hashlib
import io
import runpy

import numpy as np
import pytest

import grader
from grader.datasets.mnist import DEMO_DIR, read_pair
from grader.tasks.mnist.perturb import perturb
from tests.grader.graderkit import BASELINE, BASELINE_ACCURACY, FAST, zip_bytes

#: the attack: every public demo digit (training and hidden part alike) by its bytes' hash
LOOKUP = """
import hashlib, os
import numpy as np

_TABLE = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "table.npz"))
_LABELS = dict(zip((bytes(h) for h in _TABLE["hashes"]), _TABLE["labels"].tolist()))


def predict(images):
    return np.array([_LABELS.get(hashlib.sha256(im.tobytes()).digest()[:16], 0) for im in images])
"""


def public_digits() -> tuple[np.ndarray, np.ndarray]:
    return read_pair(DEMO_DIR / "images-idx3-ubyte.gz", DEMO_DIR / "labels-idx1-ubyte.gz")


def lookup_package() -> bytes:
    images, labels = public_digits()
    hashes = np.array([np.frombuffer(hashlib.sha256(im.tobytes()).digest()[:16], dtype=np.uint8)
                       for im in images])
    table = io.BytesIO()
    np.savez(table, hashes=hashes, labels=labels)
    return zip_bytes({"predict.py": LOOKUP, "table.npz": table.getvalue()})


def baseline_predict() -> object:
    return runpy.run_path(str(BASELINE / "predict.py"))["predict"]


def test_the_perturbation_is_fixed_by_the_seed_and_differs_per_course() -> None:
    images, _ = public_digits()
    sample = images[-200:]
    one, again, other = perturb(sample, "course-a"), perturb(sample, "course-a"), perturb(sample, "course-b")
    assert np.array_equal(one, again) and not np.array_equal(one, other)
    assert one.dtype == np.uint8 and one.shape == sample.shape
    public = {im.tobytes() for im in images}
    assert not any(im.tobytes() in public for im in one)  # no byte-exact public digit is left


@pytest.mark.slow  # the baseline over 2,000 digits, four times
def test_the_baseline_loses_under_one_point() -> None:
    images, labels = public_digits()
    hidden, truth = images[-2000:], labels[-2000:]
    predict = baseline_predict()
    plain = float((predict(hidden) == truth).mean())
    assert plain == pytest.approx(BASELINE_ACCURACY)
    for seed in ("course-a", "course-b", "course-c"):
        moved = float((predict(perturb(hidden, seed)) == truth).mean())
        assert plain - moved < 0.01, (seed, plain, moved)


@pytest.mark.sandbox
def test_an_exact_lookup_package_scores_full_marks_without_and_chance_with_the_perturbation() -> None:
    package = {"lookup.zip": lookup_package()}
    plain = grader.grade("mnist", assignment="6-2", files=package, config={}, limits=FAST)
    assert plain.verdict == "accepted" and plain.score == 1.0  # the attack, as it worked before
    sealed = grader.grade("mnist", assignment="6-2", files=package, config={"perturb_seed": "x" * 32},
                          limits=FAST)
    assert sealed.score < 0.2, sealed  # the lookup finds nothing; its fallback label is one digit's share

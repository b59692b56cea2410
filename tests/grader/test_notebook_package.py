"""A notebook as an MNIST code package: which lines become predict.py (the catalog's one rule),
strict reading in the grader, and the baseline LeNet graded from a notebook in the real sandbox."""

from __future__ import annotations

import ast
import json

import pytest

import grader
from grader.archive import PackageError, unpack
from grader.catalog import notebook_code
from grader.limits import Limits
from tests.grader.graderkit import BASELINE, BASELINE_ACCURACY, FAST, zip_bytes
from tests.support.notebooks import (
    code,
    dumps,
    lenet_notebook,
    lenet_notebook_beside_its_weights,
    markdown,
    notebook,
)


def test_magics_and_shell_lines_are_left_out_and_listed() -> None:
    cells = notebook(
        markdown("# title"),
        code("%pip install paddle\n!ls data\nimport numpy as np\nif True:\n    !nvidia-smi\n"),
        code("%%bash\necho hi"),
        code("%%time\nx = 1\n%timeit x"),
        code("train()", tags=["camp-skip"]),
        code(["def predict(images):\n", "    return np.zeros(len(images), dtype=int)\n"]),
    )["cells"]
    made = notebook_code(cells)
    assert made.cells == 5
    assert [(s.cell, s.line, s.why) for s in made.skipped] == [
        (1, 1, "magic"), (1, 2, "shell"), (1, 5, "shell"), (2, 1, "cell magic"),
        (3, 1, "cell magic"), (3, 3, "magic"), (4, 1, "tag")]
    tree = ast.parse(made.source)  # a block whose only line was a shell command is still a block
    assert any(isinstance(n, ast.FunctionDef) and n.name == "predict" for n in tree.body)
    assert "echo hi" not in made.source and "train()" not in made.source and "x = 1" in made.source
    assert made.source.count("# --- cell ") == 5


BAD = {
    "not json": b"{nope",
    "not utf-8": json.dumps({"nbformat": 4, "cells": []}).encode() + b"\xff",
    "nbformat 3": json.dumps({"nbformat": 3, "worksheets": []}).encode(),
    "cells not a list": json.dumps({"nbformat": 4, "cells": {}}).encode(),
    "source not text": json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}).encode(),
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "too large": b" " * (16 * 1024**2 + 1),
}


@pytest.mark.parametrize("why", BAD)
def test_the_grader_reads_a_notebook_strictly(why: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    limits = Limits(package_bytes=64 * 1024**2)
    with pytest.raises(PackageError) as caught:
        unpack({"hw.ipynb": BAD[why]}, tmp_path, limits)
    assert caught.value.zh and caught.value.en
    assert not (tmp_path / "predict.py").exists()


def test_a_notebook_and_a_zip_together_are_two_packages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PackageError) as caught:
        unpack({"a.ipynb": dumps(notebook()), "b.zip": b"PK"}, tmp_path, FAST)
    assert "a.ipynb, b.zip" in caught.value.en


def test_unpack_writes_predict_py_and_a_note(tmp_path) -> None:  # type: ignore[no-untyped-def]
    size, note = unpack({"作业6-2.ipynb": lenet_notebook()}, tmp_path, FAST)
    written = (tmp_path / "predict.py").read_text(encoding="utf-8")
    assert size == len(written.encode()) and "def predict(" in written
    assert note.startswith("=== notebook: 4 code cells taken as predict.py ===\n"
                           "lines of predict.py: cell 1 = 2-7, cell 2 = 8-10, cell 3 = 11-12, cell 4 = 13-")
    lines = written.splitlines()
    assert lines[1] == "# --- cell 1 ---" and lines[12] == "# --- cell 4 ---"
    assert "left out (IPython magic): cell 1, line 1: %pip install paddlepaddle" in note
    assert "left out (shell command): cell 1, line 2: !ls /home/aistudio/data" in note
    assert "left out (cell magic): cell 3, line 1: %%bash" in note


@pytest.mark.sandbox
def test_the_baseline_as_a_notebook_scores_as_the_baseline_package() -> None:
    report = grader.grade("mnist", assignment="6-2", files={"lenet.ipynb": lenet_notebook()}, config={},
                          limits=Limits())
    assert report.verdict == "accepted", report.log
    assert report.score == pytest.approx(BASELINE_ACCURACY)
    assert report.log.startswith("=== notebook: 4 code cells taken as predict.py ===")
    assert "run on 8 public sample digits" in report.log


@pytest.mark.sandbox
def test_a_crashing_notebook_is_a_runtime_error_pointing_at_predict_py() -> None:
    crash = dumps(notebook(code("import numpy as np"),
                           code("def predict(images):\n    return 1 / 0")))
    report = grader.grade("mnist", assignment="6-2", files={"hw.ipynb": crash}, config={}, limits=FAST)
    assert report.verdict == "runtime_error"
    assert "ZeroDivisionError" in report.log and "predict.py" in report.log
    assert "lines of predict.py: cell 1 = 2-4, cell 2 = 5-7" in report.log



def test_in_a_zip_predict_py_wins_and_a_lone_notebook_is_the_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    predict = b"def predict(x):\n    return [0] * len(x)\n"
    both = zip_bytes({"predict.py": predict, "explore.ipynb": dumps(notebook(code("x = 1")))})
    (tmp_path / "a").mkdir()
    assert unpack({"p.zip": both}, tmp_path / "a", FAST)[1] == ""  # no notebook note: predict.py ran
    assert (tmp_path / "a" / "predict.py").read_bytes() == predict
    two = zip_bytes({"a.ipynb": dumps(notebook()), "b.ipynb": dumps(notebook()), "w.npz": b"x"})
    (tmp_path / "b").mkdir()
    with pytest.raises(PackageError) as caught:
        unpack({"p.zip": two}, tmp_path / "b", FAST)
    assert "single .ipynb" in caught.value.en


@pytest.mark.sandbox
def test_a_zip_of_a_notebook_and_its_weights_scores_as_the_baseline() -> None:
    package = zip_bytes({"hw6-2/main.ipynb": lenet_notebook_beside_its_weights(),
                         "hw6-2/lenet.npz": (BASELINE / "lenet.npz").read_bytes()})
    report = grader.grade("mnist", assignment="6-2", files={"hw6-2.zip": package}, config={}, limits=FAST)
    assert report.verdict == "accepted", report.log
    assert report.score == pytest.approx(BASELINE_ACCURACY)
    assert report.log.startswith("=== notebook: 2 code cells taken as predict.py ===")
    assert "left out (shell command): cell 1, line 1: !unzip -o data.zip" in report.log

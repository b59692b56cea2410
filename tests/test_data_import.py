"""`camp data import-mnist DIR`: official MNIST files checked and stored for the mnist task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.datasets.idx import write_idx_gz
from tests.support.stacks import Stack


def write_official_layout(folder: Path, n_train: int = 30, n_test: int = 20) -> None:
    rng = np.random.default_rng(7)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx_gz(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), folder / f"{prefix}-images-idx3-ubyte.gz")
        write_idx_gz(rng.integers(0, 10, n, dtype=np.uint8), folder / f"{prefix}-labels-idx1-ubyte.gz")


@pytest.mark.slow  # `camp` and the grader's importer, each in a process of its own
def test_import_official_files(embedded: Stack, tmp_path: Path) -> None:
    src, dest = tmp_path / "official", tmp_path / "stored"
    src.mkdir()
    write_official_layout(src)
    result = embedded.camp_process("data", "import-mnist", str(src), "--dest", str(dest))
    assert result.returncode == 0, result.stderr
    assert "30 training and 20 test digits" in result.stdout
    assert f"dataset: {dest}" in result.stdout
    assert sorted(p.name for p in dest.iterdir()) == sorted(p.name for p in src.iterdir())


@pytest.mark.slow  # `camp` and the grader's importer, each in a process of its own
def test_import_refuses_broken_files_and_writes_nothing(embedded: Stack, tmp_path: Path) -> None:
    src, dest = tmp_path / "official", tmp_path / "stored"
    src.mkdir()
    write_official_layout(src)
    (src / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    result = embedded.camp_process("data", "import-mnist", str(src), "--dest", str(dest))
    assert result.returncode != 0 and "error:" in result.stderr
    assert not dest.exists()

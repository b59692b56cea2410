"""Fixtures for the grader tests: the real sandbox, the baseline package, small limits.

Tests marked `sandbox` run student code in bubblewrap. They fail (never skip) when bwrap is
missing: the Makefile installs it, and a silently skipped sandbox test proves nothing.
"""

from __future__ import annotations

import runpy
import shutil
from collections.abc import Callable

import pytest

import grader
from grader.limits import Limits
from tests.grader.graderkit import BASELINE, BASELINE_ACCURACY, FAST, zip_bytes


@pytest.fixture(autouse=True)
def _bwrap_is_installed(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sandbox") and shutil.which("bwrap") is None:
        pytest.fail("bubblewrap (bwrap) is not installed: run `make system-deps`", pytrace=False)


@pytest.fixture(scope="session")
def baseline_zip() -> bytes:
    return runpy.run_path(str(BASELINE / "package.py"))["build"]()


GradeCode = Callable[..., grader.Report]


@pytest.fixture
def grade_code() -> GradeCode:
    """Grade a one-file package `predict.py` holding `code` with the `mnist` task."""

    def grade(
        code: str, *, limits: Limits = FAST, config: dict | None = None, **files: bytes
    ) -> grader.Report:
        package = zip_bytes({"predict.py": code, **files})
        return grader.grade(
            "mnist", assignment="6-2", files={"pkg.zip": package}, config=config or {}, limits=limits
        )

    return grade


@pytest.fixture
def assert_still_works(baseline_zip: bytes) -> Callable[[], None]:
    """After a hostile run, the next good package must still be graded normally."""

    def check() -> None:
        report = grader.grade("mnist", assignment="6-2", files={"lenet.zip": baseline_zip}, limits=FAST)
        assert report.verdict == "accepted", report
        assert report.score == pytest.approx(BASELINE_ACCURACY)

    return check

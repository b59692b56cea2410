"""The layering is checked, not hoped for: grader is pure, app never runs grading code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.support.stacks import PROJECT_ROOT


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(exe)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (PROJECT_ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path), node.module))
    return found


def test_grader_imports_neither_app_nor_worker_even_lazily() -> None:
    """import-linter sees module-level imports; this also catches imports inside functions."""
    bad = {(f, m) for f, m in imported_modules("grader") if m.split(".")[0] in ("app", "worker")}
    assert not bad


def test_app_never_imports_grader_or_worker() -> None:
    bad = {(f, m) for f, m in imported_modules("app") if m.split(".")[0] in ("grader", "worker")}
    assert not bad


def test_tests_take_helpers_from_support_not_from_a_conftest() -> None:
    """conftest.py files hold fixtures and hooks; helpers live in tests/support/ (or a folder's
    kit), so importing them never runs another folder's fixtures and hooks twice."""
    bad = {(f, m) for f, m in imported_modules("tests") if m.split(".")[-1] == "conftest"}
    assert not bad, "import helpers from tests/support/ (e.g. tests.support.web), not from a conftest"

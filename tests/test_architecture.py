"""The layering is checked, not hoped for: the import contracts in pyproject.toml hold (grader is
pure, the app reads only the grader's catalog, services know no pages, web and API are
independent, the draw core stands alone), and what import-linter cannot see is checked here."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.stacks import PROJECT_ROOT


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(exe)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts())} kept, 0 broken" in result.stdout


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


#: the grader modules the web app may import (import-linter allows these): standard library only
APP_VISIBLE = ("catalog.py", "formats.py", "opcount_parse.py")


@pytest.mark.parametrize("module", APP_VISIBLE)
def test_what_the_app_reads_of_the_grader_needs_only_the_standard_library(module: str) -> None:
    """The app imports grader.catalog and grader.formats (the contract allows those): they must
    not pull the tasks, the sandbox or NumPy into the web process."""
    tree = ast.parse((PROJECT_ROOT / "grader" / module).read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    allowed = set(sys.stdlib_module_names) | {"__future__"}
    grader_modules = {n for n in names if n.startswith("grader.")}
    assert {f"{n.split('.')[1]}.py" for n in grader_modules} <= set(APP_VISIBLE), names
    assert {n.split(".")[0] for n in names - grader_modules} <= allowed, names


@pytest.mark.parametrize(("module", "loaded"), [
    ("grader.catalog", ["grader", "grader.catalog"]),
    ("grader.formats", ["grader", "grader.catalog", "grader.formats", "grader.opcount_parse"]),
])
def test_importing_what_the_app_reads_loads_no_grading_code(module: str, loaded: list[str]) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith(('grader', 'numpy'))))"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == str(loaded), result.stdout + result.stderr


def test_every_registered_task_is_in_the_catalog() -> None:
    import grader
    from grader.catalog import KINDS, QUEUES, VERDICTS

    assert set(grader.task_names()) == set(KINDS)
    for kind in KINDS.values():
        assert kind.queue in QUEUES and kind.verdicts <= VERDICTS
        assert grader.queue_for(kind.name) == kind.queue


def test_tests_take_helpers_from_support_not_from_a_conftest() -> None:
    """conftest.py files hold fixtures and hooks; helpers live in tests/support/ (or a folder's
    kit), so importing them never runs another folder's fixtures and hooks twice."""
    bad = {(f, m) for f, m in imported_modules("tests") if m.split(".")[-1] == "conftest"}
    assert not bad, "import helpers from tests/support/ (e.g. tests.support.web), not from a conftest"


def test_tests_take_helpers_from_support_not_from_another_test_module() -> None:
    """A helper imported from another test module imports that module's tests too (pytest may
    collect them twice under another name) and breaks when they move: it belongs in tests/support/."""
    bad = {(f, m) for f, m in imported_modules("tests") if m.split(".")[-1].startswith("test_")}
    assert not bad, f"move these helpers to tests/support/: {sorted(bad)}"


def test_queries_live_in_services_not_in_handlers() -> None:
    """web/ and api/ call services (app/services/); a `select(` in a handler or a schema is a
    query in the wrong layer (and the usual source of one query per row)."""
    found = []
    for folder in ("web", "api"):
        for path in (PROJECT_ROOT / "app" / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "select":
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not found, "move these queries into app/services/: " + ", ".join(found)

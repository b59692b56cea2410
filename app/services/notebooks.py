"""Reading an uploaded Jupyter notebook (`.ipynb`, what AI Studio saves) strictly, before it is
stored: size, UTF-8, JSON, the nbformat 4 structure, and bounded counts of cells and outputs.
A file that fails any of these is refused with the reason in the reader's language (the form
keeps its text); a notebook that passes can be shown (`notebook_render`) and, for homework that
grades code, run as a package: `defines_predict` is the upload-time pre-check.

Only the structure the renderer and the grader read is checked; unknown keys (metadata,
widgets, attachments) are ignored, never shown.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from app.errors import Invalid, TooLarge
from grader import catalog

CELL_TYPES = frozenset({"markdown", "code", "raw"})
OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error", "update_display_data"})
#: outputs in the whole notebook, and per code cell
MAX_OUTPUTS = 2000
MAX_CELL_OUTPUTS = 200


@dataclass(frozen=True)
class Notebook:
    cells: list[dict[str, Any]]
    language: str  # the kernel's language ("python" for AI Studio), for highlighting


def read_notebook(name: str, data: bytes) -> Notebook:
    """The parsed notebook, or Invalid/TooLarge naming the file and what is wrong with it."""
    if len(data) > catalog.NOTEBOOK_BYTES:
        raise TooLarge.file(name, len(data), catalog.NOTEBOOK_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The notebook {name} is not UTF-8 text", name=name) from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid("The notebook {name} is not valid JSON", name=name) from None
    if not isinstance(doc, dict) or type(doc.get("nbformat")) is not int or doc["nbformat"] != 4:
        raise Invalid("The notebook {name} is not in nbformat 4 (save it again from Jupyter or "
                      "AI Studio)", name=name)
    cells = doc.get("cells")
    if not isinstance(cells, list) or not isinstance(doc.get("metadata", {}), dict):
        raise Invalid("The notebook {name} has no list of cells", name=name)
    if len(cells) > catalog.NOTEBOOK_CELLS:
        raise Invalid("The notebook {name} has {n} cells; the limit is {limit}", name=name,
                      n=len(cells), limit=catalog.NOTEBOOK_CELLS)
    outputs = sum(_check_cell(name, number, cell) for number, cell in enumerate(cells, 1))
    if outputs > MAX_OUTPUTS:
        raise Invalid("The notebook {name} has {n} outputs; the limit is {limit}: clear the "
                      "outputs you do not need and save it again", name=name, n=outputs, limit=MAX_OUTPUTS)
    return Notebook(cells, _language(doc["metadata"] if "metadata" in doc else {}))


def _language(metadata: dict[str, Any]) -> str:
    for key in ("language_info", "kernelspec"):
        info = metadata.get(key)
        value = info.get("name" if key == "language_info" else "language") if isinstance(info, dict) else None
        if isinstance(value, str):
            return value.lower()
    return "python"


def _is_text(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _check_cell(name: str, number: int, cell: object) -> int:
    """Raise on a malformed cell; return how many outputs it has."""
    if (not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES
            or not _is_text(cell.get("source", ""))):
        raise Invalid("Cell {n} of the notebook {name} is malformed", name=name, n=number)
    if cell["cell_type"] != "code":
        return 0
    outputs = cell.get("outputs", [])
    if not isinstance(outputs, list) or len(outputs) > MAX_CELL_OUTPUTS:
        raise Invalid("Cell {n} of the notebook {name} has too many or malformed outputs (at most "
                      "{limit})", name=name, n=number, limit=MAX_CELL_OUTPUTS)
    if not all(_good_output(o) for o in outputs):
        raise Invalid("Cell {n} of the notebook {name} has a malformed output", name=name, n=number)
    return len(outputs)


def _good_output(output: object) -> bool:
    if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
        return False
    kind = output["output_type"]
    if kind == "stream":
        return _is_text(output.get("text", ""))
    if kind == "error":
        return _is_text(output.get("traceback", [])) and all(
            isinstance(output.get(k, ""), str) for k in ("ename", "evalue"))
    data = output.get("data", {})
    return isinstance(data, dict) and all(isinstance(k, str) for k in data)


def graded_code(notebook: Notebook) -> catalog.NotebookCode:
    """The code the grader will run for this notebook (the one rule is in the catalog)."""
    return catalog.notebook_code(notebook.cells)


def defines_predict(name: str, notebook: Notebook) -> None:
    """The upload-time check for homework that grades code: the notebook's code parses as Python
    and defines `predict` at the top level. Refused here, the reply takes no floor and no attempt."""
    source = graded_code(notebook).source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        cell, line = _cell_of(source, getattr(exc, "lineno", None) or 0)
        raise Invalid("The notebook {name} does not parse as Python (code cell {cell}, line {line}); "
                      "nothing was posted and no attempt was used", name=name, cell=cell, line=line) from None
    if not any(_binds_predict(node) for node in tree.body):
        raise Invalid("The notebook {name} defines no predict(images) function in its code cells; "
                      "nothing was posted and no attempt was used", name=name)


def _binds_predict(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == "predict"
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == "predict" for t in targets)
    if isinstance(node, ast.ImportFrom | ast.Import):
        return any((alias.asname or alias.name) == "predict" for alias in node.names)
    if isinstance(node, ast.If | ast.Try):
        inner = node.body + node.orelse + (getattr(node, "finalbody", []))
        return any(_binds_predict(n) for n in inner)
    return False


def _cell_of(source: str, lineno: int) -> tuple[int, int]:
    """A line of the extracted code as (code cell, line in that cell), from the cell headers."""
    cell, start = 0, 0
    for number, line in enumerate(source.splitlines()[:lineno], 1):
        if line.startswith("# --- cell ") and line.endswith("---"):
            cell, start = int(line.split()[3]), number
    return cell, max(1, lineno - start)

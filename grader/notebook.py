"""A Jupyter notebook as a code package: its code cells become `predict.py`.

Why extraction and not running the cells one by one in a kernel (docs/grading.md, "Notebooks"):
the sandbox already runs one Python file under its limits, the grader already imports
`predict.py` and calls `predict(images)`, and a notebook's own outputs and kernel state are not
needed to grade it. Which lines run is decided in `grader.catalog.notebook_code`, the same rule
the web app's pre-check uses; IPython-only lines (`%pip`, `!ls`, `%%bash` cells) are left out
and listed in the student's log.

The web app has checked the notebook at upload; everything is checked again here (size, UTF-8,
JSON, nbformat 4, cells) because the grader trusts no file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grader.catalog import NOTEBOOK_BYTES, NOTEBOOK_CELLS, NotebookCode, notebook_code

_WHY = {"magic": "IPython magic", "shell": "shell command", "cell magic": "cell magic",
        "tag": "cell tagged camp-skip"}
_LISTED = 20  # skipped lines named in the log; the rest are counted


class NotebookError(Exception):
    """The notebook cannot be read; `zh` and `en` tell the student why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class NotebookPackage:
    source: bytes  # what is written as predict.py
    note: str  # for the student's log: what was taken, what was left out


def _cells(data: bytes) -> list[dict[str, object]]:
    if len(data) > NOTEBOOK_BYTES:
        raise NotebookError(f"笔记本太大，上限 {NOTEBOOK_BYTES // 1024**2} MiB。",
                            f"The notebook is too large; the limit is {NOTEBOOK_BYTES // 1024**2} MiB.")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotebookError("笔记本不是有效的 UTF-8 JSON 文件。",
                            "The notebook is not a valid UTF-8 JSON file.") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("nbformat") != 4 or not isinstance(cells, list):
        raise NotebookError("只接受 nbformat 4 格式的笔记本（Jupyter / AI Studio 保存的 .ipynb）。",
                            "Only nbformat 4 notebooks are accepted "
                            "(.ipynb as Jupyter or AI Studio saves it).")
    if len(cells) > NOTEBOOK_CELLS or not all(isinstance(c, dict) for c in cells):
        raise NotebookError(f"笔记本的单元格不对（最多 {NOTEBOOK_CELLS} 个）。",
                            f"The notebook's cells are malformed (at most {NOTEBOOK_CELLS}).")
    return cells


def notebook_package(data: bytes) -> NotebookPackage:
    """`predict.py` for a notebook, and the log note that says how it was made."""
    try:
        code = notebook_code(_cells(data))
    except ValueError:
        raise NotebookError("笔记本里有单元格的 source 不是文本。",
                            "A cell's source in the notebook is not text.") from None
    source = HEADER + code.source
    return NotebookPackage(source.encode("utf-8", "replace"), log_note(code, source))


HEADER = "# predict.py made from the code cells of a notebook (IPython-only lines left out)\n"


def cell_lines(source: str) -> list[tuple[int, int, int]]:
    """(cell, first line, last line) of each code cell inside predict.py, from its header comment,
    so that a traceback's `predict.py, line 40` can be found in the notebook."""
    found: list[tuple[int, int, int]] = []
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        if line.startswith("# --- cell ") and line.endswith("---"):
            if found:
                found[-1] = (found[-1][0], found[-1][1], number - 1)
            found.append((int(line.split()[3]), number, len(lines)))
    return found


def log_note(code: NotebookCode, source: str) -> str:
    lines = [f"=== notebook: {code.cells} code cells taken as predict.py ==="]
    spans = [f"cell {c} = {a}-{b}" for c, a, b in cell_lines(source)]
    if spans:
        lines.append("lines of predict.py: " + ", ".join(spans))
    for item in code.skipped[:_LISTED]:
        shown = item.text.strip()
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        lines.append(f"left out ({_WHY[item.why]}): cell {item.cell}, line {item.line}: {shown}")
    if len(code.skipped) > _LISTED:
        lines.append(f"... and {len(code.skipped) - _LISTED} more lines left out")
    return "\n".join(lines) + "\n"

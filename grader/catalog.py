"""What the rest of Camp may know about the reference tasks, as plain data (standard library only).

The web app imports this module and nothing else of `grader/` (an import-linter contract), so
the facts it needs live here once: each task kind's name, the queue its submissions go to,
whether it grades an uploaded code package, the verdicts it can give and their labels, and the
grammar of the `作业X-Y：` reply prefix. The tasks read their queue from here, and a test checks
that every registered task has an entry and gives only the verdicts listed for it.

Labels are English msgids: the app translates them (`locales/`), the grader never shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def translatable(text: str) -> str:
    """Marks a msgid for `make messages` (pybabel keyword); the app translates it when shown."""
    return text


# Verdicts shared by every reference task. Tasks may add detail, never new meanings.
ACCEPTED = "accepted"  # the work meets the task (score tells how well)
WRONG = "wrong"  # understood, but not correct
FORMAT_ERROR = "format_error"  # does not follow the reply format
NOT_UNDERSTOOD = "not_understood"  # no answer could be read from it
TIME_LIMIT = "time_limit"
MEMORY_LIMIT = "memory_limit"
RUNTIME_ERROR = "runtime_error"
BAD_OUTPUT = "bad_output"
BAD_PACKAGE = "bad_package"  # the uploaded code package is unusable (broken zip, zip slip...)

#: verdict -> its label (an English msgid), in the order pages list them
VERDICT_LABELS: dict[str, str] = {
    ACCEPTED: translatable("Accepted"),
    WRONG: translatable("Wrong answer"),
    FORMAT_ERROR: translatable("Format error"),
    NOT_UNDERSTOOD: translatable("Not understood"),
    TIME_LIMIT: translatable("Time limit exceeded"),
    MEMORY_LIMIT: translatable("Memory limit exceeded"),
    RUNTIME_ERROR: translatable("Runtime error"),
    BAD_OUTPUT: translatable("Bad output"),
    BAD_PACKAGE: translatable("Bad package"),
}
VERDICTS = frozenset(VERDICT_LABELS)

#: what running student code in the sandbox can end in, whatever the task
SANDBOX_VERDICTS = frozenset({TIME_LIMIT, MEMORY_LIMIT, RUNTIME_ERROR, BAD_OUTPUT, BAD_PACKAGE})

#: a code package: its entry point, and the caps on what it may unpack to (the grader's Limits
#: defaults; the web app checks an upload against them before it costs an attempt)
PACKAGE_ENTRY = "predict.py"
PACKAGE_UNPACKED_BYTES = 128 * 1024**2
PACKAGE_FILES = 1000

#: a Jupyter notebook (what AI Studio saves) is a code package too: its code cells become
#: `predict.py` (docs/grading.md, "Notebooks"). Caps on what the web app and the grader read.
NOTEBOOK_SUFFIX = ".ipynb"
NOTEBOOK_CONTENT_TYPE = "application/x-ipynb+json"
NOTEBOOK_BYTES = 16 * 1024**2
NOTEBOOK_CELLS = 2000
#: a code cell carrying this tag (cell metadata `tags`) is left out of the graded code
NOTEBOOK_SKIP_TAG = "camp-skip"
#: cell magics whose body is still Python: the magic line goes, the body stays
_PYTHON_CELL_MAGICS = frozenset({"time", "capture"})


@dataclass(frozen=True)
class Skipped:
    """A line of a notebook's code that the grader does not run, and why ("magic", "shell",
    "cell magic", "tag"); `cell` and `line` count from 1, code cells only."""

    cell: int
    line: int
    text: str
    why: str


@dataclass(frozen=True)
class NotebookCode:
    source: str
    cells: int  # code cells taken
    skipped: tuple[Skipped, ...]


def cell_text(source: object) -> str:
    """A cell's `source`: nbformat 4 allows a string or a list of strings."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise ValueError("a cell's source must be a string or a list of strings")


def notebook_code(cells: list[dict[str, object]]) -> NotebookCode:
    """The Python the grader runs for a notebook: its code cells in order, each headed by a
    `# --- cell N ---` comment. IPython-only lines are not Python and are left out, each as a
    `pass` at the same indent (a block stays a block): line magics (`%pip install ...`), shell
    lines (`!ls`), a cell magic's whole cell (`%%bash`; `%%time` and `%%capture` keep their
    Python body), and cells tagged `camp-skip` (training cells, say). The web app's pre-check and
    the grader's unpacking both build the code here, so they agree on what runs."""
    parts: list[str] = []
    skipped: list[Skipped] = []
    taken = 0
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        taken += 1
        lines = cell_text(cell.get("source", "")).splitlines()
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        if isinstance(tags, list) and NOTEBOOK_SKIP_TAG in tags:
            skipped.append(Skipped(taken, 1, lines[0] if lines else "", "tag"))
            parts.append(f"# --- cell {taken} (tagged {NOTEBOOK_SKIP_TAG}: not run) ---\n")
            continue
        first = lines[0].strip() if lines else ""
        if first.startswith("%%"):
            skipped.append(Skipped(taken, 1, lines[0], "cell magic"))
            magic = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
            if magic not in _PYTHON_CELL_MAGICS:
                parts.append(f"# --- cell {taken} ({first.split()[0]}: not Python, not run) ---\n")
                continue
            lines = ["", *lines[1:]]
        out = []
        for number, line in enumerate(lines, 1):
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                skipped.append(Skipped(taken, number, line, "magic" if stripped[0] == "%" else "shell"))
                line = line[: len(line) - len(stripped)] + "pass  # [camp] IPython line left out"
            out.append(line)
        parts.append(f"# --- cell {taken} ---\n" + "\n".join(out) + "\n")
    return NotebookCode("\n".join(parts), taken, tuple(skipped))


def package_entry(paths: list[str]) -> str | None:
    """The entry point among a zip's file paths (`/`-separated, as stored): `predict.py` at the
    top or in the single top folder that holds everything; failing that, the one notebook
    (`.ipynb`) there, whose code cells become predict.py. None when there is neither."""
    tops = {p.split("/", 1)[0] for p in paths}
    roots = [""] + ([next(iter(tops)) + "/"] if len(tops) == 1 else [])
    for root in roots:
        if root + PACKAGE_ENTRY in paths:
            return root + PACKAGE_ENTRY
    for root in roots:
        notebooks = [p for p in paths if p.startswith(root) and "/" not in p[len(root):]
                     and p.lower().endswith(NOTEBOOK_SUFFIX)]
        if len(notebooks) == 1:
            return notebooks[0]
    return None


CPU, GPU = "cpu", "gpu"
QUEUES = (CPU, GPU)


@dataclass(frozen=True)
class TaskKind:
    name: str
    #: the Celery queue: cheap checks on "cpu"; student code that wants a GPU on "gpu" (it runs
    #: on a CPU too when the worker has none)
    queue: str
    #: True: grades an uploaded code package; False: grades the reply's text
    grades_code: bool
    verdicts: frozenset[str]


KINDS: dict[str, TaskKind] = {
    kind.name: kind
    for kind in (
        TaskKind("reply_format", CPU, False, frozenset({ACCEPTED, FORMAT_ERROR})),
        TaskKind("conv_opcount", CPU, False, frozenset({ACCEPTED, WRONG, NOT_UNDERSTOOD})),
        TaskKind("mnist", GPU, True, frozenset({ACCEPTED, WRONG}) | SANDBOX_VERDICTS),
    )
}

#: a homework whose grading names no known kind is sent here, and fails there for staff to see
DEFAULT_QUEUE = CPU


def queue_of(kind: str) -> str:
    """The queue a homework of this grading kind sends its submissions to."""
    known = KINDS.get(kind)
    return known.queue if known else DEFAULT_QUEUE


def grades_code(kind: str) -> bool:
    known = KINDS.get(kind)
    return known.grades_code if known else False


# --- the reply prefix: `作业` + a homework code ------------------------------------------------
#: the word that starts a homework reply
PREFIX_WORD = "作业"
#: the colons that may follow it, ASCII and full-width
COLONS = ":："
#: characters of a written code, as regex class contents: digits and dashes, ASCII and full-width
DIGITS = "0-9０-９"
DASHES = "-－‐‑‒–—―−"
#: a homework code as students write it: digits, dashes between them (spaces around a dash allowed)
WRITTEN_CODE = rf"[{DIGITS}]+(?:[ \t]*[{DASHES}][ \t]*[{DIGITS}]+)*"
#: `作业` and a written code (group `code`), wherever it stands: the thread's router decides from
#: what surrounds it whether it is a prefix (app/services/reply_routing.py); the similarity check
#: strips it from the start of a reply
ANY_PREFIX = re.compile(rf"{PREFIX_WORD}[ \t\u3000]*(?P<code>{WRITTEN_CODE})")
#: opening brackets (regex class contents) that may follow the code directly:
#: `作业3-1(1)…`, `作业3-1（1）…`, `作业3-1【1】…`
OPENERS = "(（\\[【"


def prefix_pattern(code: str) -> re.Pattern[str]:
    """The strict prefix a homework's own reply starts with, as the grader checks it:
    `作业7-1：`, `作业 7-1:`, `作业7-1 ：`, `作业8\\n…`, but not `作业7-10:` for code `7-1`.

    The code must be followed by a colon (ASCII or full-width), by white space, or by an opening
    bracket that starts the answer's numbered parts (`作业3-1(1)…(2)…`, the format homework 3-1
    states), so that `作业7-1已完成` does not pass as well formed. The bracket stays part of the
    answer. (The thread's router reads prefixes more leniently: `ANY_PREFIX`.)
    """
    return re.compile(
        rf"^\s*{PREFIX_WORD}\s*{re.escape(code)}(?![\d\-])(?:\s*[{COLONS}]|\s+|$|(?=\s*[{OPENERS}]))\s*",
        re.UNICODE,
    )


def example_prefix(code: str) -> str:
    """How a reply to homework `code` starts, as pages and messages show it."""
    return f"{PREFIX_WORD}{code}："

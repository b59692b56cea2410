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


def prefix_pattern(code: str) -> re.Pattern[str]:
    """The strict prefix a homework's own reply starts with, as the grader checks it:
    `作业7-1：`, `作业 7-1:`, `作业7-1 ：`, `作业8\\n…`, but not `作业7-10:` for code `7-1`.

    The code must be followed by a colon (ASCII or full-width) or by white space, so that
    `作业7-1已完成` does not pass as well formed. (The thread's router reads prefixes more
    leniently: `ANY_PREFIX`.)
    """
    return re.compile(
        rf"^\s*{PREFIX_WORD}\s*{re.escape(code)}(?![\d\-])(?:\s*[{COLONS}]|\s+|$)\s*", re.UNICODE
    )


def example_prefix(code: str) -> str:
    """How a reply to homework `code` starts, as pages and messages show it."""
    return f"{PREFIX_WORD}{code}："

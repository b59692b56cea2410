"""First code to run inside the sandbox (trusted, stdlib + numpy only, never imports grader).

    python -I -B -u /camp/bootstrap.py STATUS_FD SCRIPT [ARGS...]

1. Copy the package from /camp/pkg into the working directory (a size-capped tmpfs), so the
   program can read its weights by relative path and write next to them.
2. Import numpy: a broken scientific stack is the grader's fault, not the student's.
3. Write `ready` on STATUS_FD. Outside, a run that never said `ready` is an infrastructure
   failure (bwrap could not start, a bind was missing); everything after it is the program's.
4. Run SCRIPT as `__main__`. An uncaught exception is reported on STATUS_FD by type name
   (`{"error": "MemoryError"}`) so the grader can tell a memory limit from a crash; the
   traceback goes to stderr for the student's log.

STATUS_FD stays open for the program too: writing to it can only change which failure verdict
the program's own run gets, never its score (scores come from outputs checked outside).
"""

import json
import os
import runpy
import shutil
import sys
import traceback

PACKAGE = "/camp/pkg"
_OUT_OF_MEMORY = b'{"error": "MemoryError"}\n'  # pre-built: no allocation needed to report it


def _report(fd: int, exc: BaseException) -> None:
    try:
        if isinstance(exc, MemoryError):
            os.write(fd, _OUT_OF_MEMORY)
        else:
            os.write(fd, (json.dumps({"error": type(exc).__name__}) + "\n").encode())
    except OSError:
        pass  # the program closed the status pipe; the exit status still tells a failure


def main() -> None:
    fd, script = int(sys.argv[1]), sys.argv[2]
    if os.path.isdir(PACKAGE):
        shutil.copytree(PACKAGE, ".", dirs_exist_ok=True)
    import numpy  # noqa: F401

    os.write(fd, b"ready\n")
    sys.argv = [script, *sys.argv[3:]]
    sys.path.insert(0, os.getcwd())  # -I left the cwd off sys.path; the package imports from it
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as exc:
        _report(fd, exc)
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main()

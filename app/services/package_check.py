"""A code package looked at before it is filed: a package the grader could only refuse is refused
here, with the reason, before it takes a floor or one of the day's code attempts.

Only the zip's directory is read (names, declared sizes) and its entry point inflated, so the
check is cheap; the grader still checks everything again while it unpacks (`grader/archive.py`),
because headers can lie. The facts (entry name, caps) come from the grader's catalog.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from app.errors import Invalid
from app.services.notebooks import defines_predict, read_notebook
from app.services.uploads import CheckedFile
from grader import catalog

_JUNK = ("__MACOSX/", ".DS_Store")
#: an entry point larger than this is left to the grader (it is read whole here)
_ENTRY_READ_BYTES = 4 * 1024 * 1024


def check_package(files: list[CheckedFile]) -> None:
    """Refuse (Invalid, the reason in the reader's language) a code upload the grader cannot run."""
    code = [f for f in files if f.kind == "code"]
    if len(code) > 1:
        raise Invalid("Upload exactly one code package (.py, .zip or .ipynb); got: {names}",
                      names=", ".join(f.filename for f in code))
    if code and code[0].filename.lower().endswith(".zip"):
        _check_zip(code[0])
    if code and code[0].filename.lower().endswith(catalog.NOTEBOOK_SUFFIX):
        defines_predict(code[0].filename, read_notebook(code[0].filename, code[0].data))


def _check_zip(upload: CheckedFile) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as zf:
            infos = [i for i in zf.infolist() if not any(j in i.filename for j in _JUNK)]
            _check_sizes(upload.filename, infos)
            entry = _entry(upload.filename, infos)
            if entry.flag_bits & 0x1:
                raise Invalid("The zip {name} is encrypted; upload it without a password",
                              name=upload.filename)
            notebook = entry.filename.lower().endswith(catalog.NOTEBOOK_SUFFIX)
            if notebook and entry.file_size > catalog.NOTEBOOK_BYTES:
                raise Invalid("The zip {name} holds a notebook over {limit} MB", name=upload.filename,
                              limit=catalog.NOTEBOOK_BYTES // 1024**2)
            if notebook:  # the entry point is a notebook: it must define predict, as a lone one must
                inner = PurePosixPath(entry.filename).name
                defines_predict(inner, read_notebook(inner, zf.read(entry)))
            elif entry.file_size <= _ENTRY_READ_BYTES:
                zf.read(entry)  # inflated and its CRC checked: a truncated upload fails here
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError,
            ValueError, zlib.error):
        raise Invalid("The file {name} is not a readable zip archive; pack it again and upload it",
                      name=upload.filename) from None


def _check_sizes(name: str, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > catalog.PACKAGE_FILES:
        raise Invalid("The zip {name} holds {n} files; the limit is {limit}",
                      name=name, n=len(infos), limit=catalog.PACKAGE_FILES)
    if sum(i.file_size for i in infos) > catalog.PACKAGE_UNPACKED_BYTES:
        raise Invalid("The zip {name} unpacks to more than {limit} MB", name=name,
                      limit=catalog.PACKAGE_UNPACKED_BYTES // 1024**2)


def _entry(name: str, infos: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    """`predict.py` at the top, or in the single top folder that holds everything; else the one
    notebook there (the grader's rule: `catalog.package_entry`)."""
    by_path = {str(PurePosixPath(i.filename.replace("\\", "/"))): i for i in infos if not i.is_dir()}
    found = catalog.package_entry(list(by_path))
    if found is not None:
        return by_path[found]
    raise Invalid("The zip {name} has no predict.py at its root (or in its single top folder), nor a "
                  "single notebook there; nothing was posted and no attempt was used", name=name)

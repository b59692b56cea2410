"""Unpack an uploaded code package safely: a `.py` file, or a `.zip` holding `predict.py`.

Everything about a zip is untrusted, so every entry is checked before anything is written:
names (no absolute paths, drive letters, `..`, NUL), types (no symlinks or device entries in
the Unix mode bits, no encryption), counts and sizes (header totals against the caps), then
sizes again while extracting, because headers can lie: the bytes actually inflated are counted
and extraction stops at the cap. Files are created with O_EXCL|O_NOFOLLOW in a fresh directory.
A zip whose files all sit in one top folder (`mnist/predict.py`) is unpacked from inside it;
macOS metadata (`__MACOSX/`, `.DS_Store`) is skipped. Problems raise `PackageError`, a message
for the student in both languages; the task turns it into the `bad_package` verdict.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NoReturn

from grader.catalog import NOTEBOOK_SUFFIX, PACKAGE_ENTRY, package_entry
from grader.limits import Limits
from grader.notebook import NotebookError, notebook_package

ENTRY = PACKAGE_ENTRY
#: deeper or longer paths are refused: a 1000-level path made the unpacker recurse to death
MAX_DEPTH = 32
MAX_PATH = 1024
MAX_NAME = 255
_CHUNK = 1024 * 1024
_JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$)")


class PackageError(Exception):
    """The package cannot be used; `zh` and `en` tell the student why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _mib(size: int) -> str:
    return f"{size / 1024**2:g} MiB"


def choose_package(files: Mapping[str, bytes]) -> tuple[str, bytes]:
    """The one code file among a submission's uploads (other attachments, like plots, are ignored)."""
    code = {n: d for n, d in files.items() if n.lower().endswith((".zip", ".py", NOTEBOOK_SUFFIX))}
    if not code:
        raise PackageError(
            "没有找到代码包：请上传 predict.py、包含 predict.py 的 .zip 文件，"
            "或定义了 predict 的 .ipynb 笔记本。",
            "No code package found: upload predict.py, a .zip holding predict.py, "
            "or an .ipynb notebook that defines predict.",
        )
    if len(code) > 1:
        names = ", ".join(sorted(code))
        raise PackageError(
            f"请只上传一个代码包（.py、.zip 或 .ipynb），现在有：{names}",
            f"Upload exactly one code package (.py, .zip or .ipynb); got: {names}",
        )
    return next(iter(code.items()))


def unpack_package(files: Mapping[str, bytes], dest: Path, limits: Limits) -> int:
    """Write the submission's code package into the empty directory `dest`; return its size."""
    return unpack(files, dest, limits)[0]


def unpack(files: Mapping[str, bytes], dest: Path, limits: Limits) -> tuple[int, str]:
    """As `unpack_package`, with a note for the student's log ("" unless the package was a
    notebook: then which cells became predict.py and which lines were left out)."""
    name, data = choose_package(files)
    if len(data) > limits.package_bytes:
        raise PackageError(
            f"代码包太大（{_mib(len(data))}），上限是 {_mib(limits.package_bytes)}。",
            f"The package is too large ({_mib(len(data))}); the limit is {_mib(limits.package_bytes)}.",
        )
    note = ""
    if name.lower().endswith(NOTEBOOK_SUFFIX):
        try:
            made = notebook_package(data)
        except NotebookError as exc:
            raise PackageError(exc.zh, exc.en) from exc
        data, note = made.source, made.note
    if name.lower().endswith((".py", NOTEBOOK_SUFFIX)):
        with _create(dest / ENTRY) as out:
            out.write(data)
        return len(data), note
    try:
        written = extract_zip(data, dest, limits)
        if not (dest / ENTRY).exists():  # the zip's entry point is its notebook (_root)
            return written, _notebook_entry(dest)
        return written, note
    except (RecursionError, MemoryError) as exc:  # whatever the checks above missed: still the package's
        raise PackageError(
            "压缩包结构过于复杂，无法解压。", f"The zip is too complex to unpack ({type(exc).__name__})."
        ) from exc


def _notebook_entry(dest: Path) -> str:
    """A zip whose root holds one notebook and no predict.py: the notebook becomes predict.py,
    beside the package's other files (weights)."""
    (notebook,) = [p for p in dest.iterdir() if p.name.lower().endswith(NOTEBOOK_SUFFIX) and p.is_file()]
    try:
        made = notebook_package(notebook.read_bytes())
    except NotebookError as exc:
        raise PackageError(exc.zh, exc.en) from exc
    with _create(dest / ENTRY) as out:
        out.write(made.source)
    return made.note


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise PackageError(
            "上传的文件不是有效的 zip 压缩包。", f"The upload is not a valid zip archive ({exc})."
        ) from exc


def _safe_name(info: zipfile.ZipInfo) -> PurePosixPath:
    raw = info.filename.replace("\\", "/")
    parts = PurePosixPath(raw).parts
    bad = (
        not raw
        or "\0" in raw
        or raw.startswith("/")
        or re.match(r"^[A-Za-z]:", raw) is not None
        or ".." in parts
    )
    if bad:
        raise PackageError(
            f"压缩包里的路径不安全：{raw!r}（不允许绝对路径或 ..）。",
            f"Unsafe path in the zip: {raw!r} (absolute paths and .. are not allowed).",
        )
    if len(parts) > MAX_DEPTH or len(raw) > MAX_PATH or any(len(p.encode()) > MAX_NAME for p in parts):
        shown = raw[:60] + "…" if len(raw) > 60 else raw
        raise PackageError(
            f"压缩包里的路径太深或太长：{shown!r}（最多 {MAX_DEPTH} 层、{MAX_PATH} 个字符）。",
            f"A path in the zip is too deep or too long: {shown!r} "
            f"(at most {MAX_DEPTH} levels and {MAX_PATH} characters).",
        )
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        what = "符号链接" if kind == stat.S_IFLNK else "特殊文件"
        raise PackageError(
            f"压缩包里不能有{what}：{raw!r}。",
            f"The zip may only hold plain files and folders; {raw!r} is a "
            f"{'symlink' if kind == stat.S_IFLNK else 'special file'}.",
        )
    if info.flag_bits & 0x1:
        raise PackageError(f"压缩包加密了：{raw!r}。", f"The zip is encrypted: {raw!r}.")
    return PurePosixPath(*[p for p in parts if p != "."])


def _entries(zf: zipfile.ZipFile, limits: Limits) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = zf.infolist()
    if len(infos) > limits.package_files:
        raise PackageError(
            f"压缩包里的文件太多（{len(infos)} 个），上限 {limits.package_files} 个。",
            f"Too many entries in the zip ({len(infos)}); the limit is {limits.package_files}.",
        )
    declared = sum(i.file_size for i in infos)
    if declared > limits.unpacked_bytes:
        _too_big(limits)
    entries = [(i, _safe_name(i)) for i in infos if not _JUNK.search(i.filename)]
    names = [str(path) for info, path in entries if not info.is_dir()]
    if len(set(names)) != len(names):
        raise PackageError("压缩包里有重名文件。", "The zip holds the same file name twice.")
    return entries


def _too_big(limits: Limits) -> NoReturn:
    raise PackageError(
        f"解压后的内容太大，上限 {_mib(limits.unpacked_bytes)}。",
        f"The package unpacks to too much data; the limit is {_mib(limits.unpacked_bytes)}.",
    )


def _root(entries: list[tuple[zipfile.ZipInfo, PurePosixPath]]) -> PurePosixPath:
    """`predict.py` at the top, or inside the single top folder that holds everything; failing
    that, the one notebook (`.ipynb`) there, which becomes predict.py (catalog.package_entry)."""
    paths = [str(p) for info, p in entries if p.parts and not info.is_dir()]
    found = package_entry(paths)
    if found is None:
        raise PackageError(
            "压缩包的根目录（或唯一的顶层文件夹）里没有 predict.py，也没有唯一的 .ipynb 笔记本。",
            "predict.py is missing from the root of the zip (or of its single top folder), "
            "and there is no single .ipynb notebook there either.",
        )
    return PurePosixPath(found).parent


def extract_zip(data: bytes, dest: Path, limits: Limits) -> int:
    """Extract a package zip into `dest`; returns the number of bytes written."""
    with _open_zip(data) as zf:
        entries = _entries(zf, limits)
        root = _root(entries)
        written = 0
        try:
            for info, path in entries:
                if not path.is_relative_to(root) or path == root:
                    continue
                target = dest.joinpath(*path.relative_to(root).parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if info.file_size > limits.file_bytes:
                    raise PackageError(
                        f"文件 {path} 太大，单个文件上限 {_mib(limits.file_bytes)}。",
                        f"{path} is too large; one file may hold {_mib(limits.file_bytes)}.",
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                written += _inflate(zf, info, target, limits.unpacked_bytes - written)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error) as exc:
            raise PackageError(
                "压缩包已损坏或使用了不支持的压缩方式。",
                f"The zip is damaged or uses an unsupported compression ({_no_paths(exc)}).",
            ) from exc
        return written


def _no_paths(exc: BaseException) -> str:
    """An error's text without the host paths an OSError carries (the student sees it)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    """Stream one entry to `target`, counting the bytes as they inflate: stop at its declared
    size or at the remaining budget, whatever the header claimed."""
    size = 0
    with zf.open(info) as stream, _create(target) as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > budget:
                raise PackageError(
                    "解压后的内容超过上限（压缩炸弹？）。",
                    "The package inflates beyond the limit (a zip bomb?).",
                )
            if size > info.file_size:
                raise PackageError(
                    f"压缩包里 {info.filename!r} 的大小与声明不符。",
                    f"{info.filename!r} inflates to more than its header says.",
                )
            out.write(chunk)
    return size


def _create(target: Path) -> BinaryIO:
    """A new file, never an existing one and never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.fdopen(os.open(target, flags, 0o644), "wb")

"""Writing the user's files: every destination is checked before any work, written through a temporary file
beside it and renamed into place, never overwritten unless asked (--force), and nothing is left when a command
fails."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from banditmap.errors import BanditmapError

Writer = Callable[[Path], object]  # writes a whole file at the path it is given (its result is ignored)


def check_destination(path: Path, option: str, *, force: bool = False, suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse, before any work, a destination that cannot or must not be written: a folder, an existing file
    without --force, a missing or unwritable folder, a file name with the wrong suffix."""
    where = str(path)
    if path.name in ("", ".", ".."):
        raise BanditmapError("expected a file name, got a folder", source=where, field=option)
    if suffixes and path.suffix.lower() not in suffixes:
        raise BanditmapError(f"expected a file name ending in {' or '.join(suffixes)}", source=where, field=option)
    if path.is_dir():
        raise BanditmapError("is a folder; expected a file name", source=where, field=option)
    if path.exists() or path.is_symlink():
        if not force:
            raise BanditmapError("exists already; choose another name, or pass --force to replace it",
                                 source=where, field=option)
        if not path.is_file():
            raise BanditmapError("exists and is not a regular file; it is never replaced", source=where,
                                 field=option)
    parent = path.parent
    if not parent.exists():
        raise BanditmapError(f"no such folder: {parent}", source=where, field=option)
    if not parent.is_dir():
        raise BanditmapError(f"{parent} is not a folder", source=where, field=option)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BanditmapError(f"cannot write in the folder {parent}", source=where, field=option)
    return path


def _temporary(path: Path) -> Path:
    """A new empty file beside `path` that keeps its suffix (writers such as matplotlib go by the suffix), with
    the permissions a new file gets from the umask (or those of the file it replaces), not mkstemp's 0600."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    try:
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _cannot_write(path: Path, exc: OSError) -> BanditmapError:
    return BanditmapError(f"cannot write: {exc.strerror or exc}", source=str(path))


def write_via(path: Path, writer: Writer) -> None:
    """Let `writer` write a temporary file beside `path`, then rename it into place; on any failure the
    temporary file is removed and `path` is untouched."""
    try:
        tmp = _temporary(path)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        writer(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write text (UTF-8) atomically: readers see the old file or the whole new one, never half of it."""
    write_via(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@dataclass
class Outputs:
    """The files one command writes, all or none: each is written to a temporary file as it is added, and all
    are renamed into place by `commit` once the command has succeeded; `discard` (or leaving the `with` block
    by an exception) removes them and leaves every destination as it was."""

    pending: list[tuple[Path, Path]] = field(default_factory=list)

    def add(self, path: Path, writer: Writer) -> None:
        try:
            tmp = _temporary(path)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        self.pending.append((tmp, path))
        try:
            writer(tmp)
        except OSError as exc:
            raise _cannot_write(path, exc) from None

    def add_text(self, path: Path, text: str) -> None:
        self.add(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def commit(self) -> None:
        try:
            for tmp, path in self.pending:
                os.replace(tmp, path)
        except OSError as exc:
            self.discard()
            raise _cannot_write(path, exc) from None
        self.pending.clear()

    def discard(self) -> None:
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)
        self.pending.clear()

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

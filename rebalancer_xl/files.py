"""Replacing a file atomically: write a temporary file beside it, then rename it over.

One helper for every writer (the batch run, `new`, `new --macro`), so that all of them
treat modes and symbolic links the same way. Standard library only: the Excel button
imports the package, and its start-up time is felt on every click.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_ATTEMPTS = 100  # random names that clash this often mean something else is wrong


@dataclass(slots=True)
class PendingFile:
    """The temporary file of an `atomic_write`: write to `path`, or `cancel()` the write."""

    path: Path
    cancelled: bool = False

    def cancel(self) -> None:
        """Keep the destination as it is; the temporary file is deleted on exit."""
        self.cancelled = True


@contextlib.contextmanager
def atomic_write(destination: str | os.PathLike[str]) -> Iterator[PendingFile]:
    """Yield a temporary file beside `destination`; on success, rename it over it.

    A symbolic link is followed: the file it points to is replaced and the link stays a
    link. A replaced file keeps its mode; a new one gets the mode any new file gets
    (0o666 less the umask). The temporary file is gone afterwards in every case: after
    an exception, after `cancel()`, and after the rename.
    """
    # The temporary file must sit on the target's file system for the rename to be atomic,
    # and renaming over the link itself would turn it into a regular file.
    target = Path(os.path.realpath(destination))
    target.parent.mkdir(parents=True, exist_ok=True)
    pending = PendingFile(_create_beside(target))
    try:
        yield pending
        if not pending.cancelled:
            _copy_mode(target, pending.path)
            os.replace(pending.path, target)
    finally:
        pending.path.unlink(missing_ok=True)


def _create_beside(target: Path) -> Path:
    """A new, empty file in `target`'s folder with a name no other file has.

    Not tempfile.mkstemp: it creates files owner-only (0o600), which a new workbook
    would keep. os.open with 0o666 lets the umask (and any default ACL) decide, as for
    any file a program creates.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_ATTEMPTS):
        # Hidden (leading dot) and marked .tmp, so a person seeing one knows what it is.
        candidate = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(candidate, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"could not create a temporary file beside {target}")


def _copy_mode(target: Path, tmp: Path) -> None:
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return  # a new file: keep the mode it was created with
    with contextlib.suppress(OSError):  # a mode we cannot copy is no reason to lose the write
        os.chmod(tmp, mode)

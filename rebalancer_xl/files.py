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


@contextlib.contextmanager
def locked(path: Path) -> Iterator[os.stat_result | None]:
    """Hold an exclusive advisory lock on `path` while a run reads and replaces it.

    Yields the locked file's status (to notice a replace by someone who did not lock),
    or None when another process holds the lock. Two runs on one workbook at once would
    otherwise both succeed and one result would vanish. Where the platform has no
    `fcntl` (Windows), only the status check protects the file.
    """
    try:
        import fcntl
    except ImportError:
        yield path.stat()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield os.fstat(fd)
    finally:
        os.close(fd)  # closing releases the lock


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
        candidate = target.with_name(_temporary_name(target.name, os.urandom(4).hex()))
        try:
            fd = os.open(candidate, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"could not create a temporary file beside {target}")


#: The longest file name most file systems take, in bytes (ext4, APFS, NTFS: 255).
_NAME_MAX = 255


def _temporary_name(name: str, tag: str) -> str:
    """``.NAME.TAG.tmp``, with NAME shortened when the whole would pass `_NAME_MAX` bytes.

    A workbook may itself be named with 250 characters; its temporary file must still
    be creatable. The tag keeps shortened names apart.
    """
    suffix = f".{tag}.tmp"
    budget = _NAME_MAX - 1 - len(suffix.encode())
    encoded = name.encode()
    if len(encoded) > budget:
        name = encoded[:budget].decode(errors="ignore")  # never half a character
    return f".{name}{suffix}"


def _copy_mode(target: Path, tmp: Path) -> None:
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return  # a new file: keep the mode it was created with
    with contextlib.suppress(OSError):  # a mode we cannot copy is no reason to lose the write
        os.chmod(tmp, mode)

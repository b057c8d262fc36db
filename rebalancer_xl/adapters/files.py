"""Replacing a file atomically: write a temporary file beside it, then rename it over.

One helper for every writer (the batch run, `new`, `new --macro`), so that all of them
treat modes and symbolic links the same way. Standard library only: the Excel button
imports the package, and its start-up time is felt on every click.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_ATTEMPTS = 100  # random names that clash this often mean something else is wrong
# Where the writer's process cannot be asked whether it still runs (Windows: os.kill
# would end it), a temporary file this old is taken as left behind by a killed run.
_STALE_SECONDS = 24 * 3600


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
def atomic_write(
    destination: str | os.PathLike[str], *, cleared: bool = False
) -> Iterator[PendingFile]:
    """Yield a temporary file beside `destination`; on success, rename it over it.

    A symbolic link is followed: the file it points to is replaced and the link stays a
    link. A replaced file keeps its mode; a new one gets the mode any new file gets
    (0o666 less the umask). The temporary file is gone afterwards in every case: after
    an exception, after `cancel()`, and after the rename. `cleared` says the caller has
    just removed the stale temporary files beside `destination` (each removal lists the
    whole folder, which a batch folder of many workbooks makes costly).
    """
    # The temporary file must sit on the target's file system for the rename to be atomic,
    # and renaming over the link itself would turn it into a regular file.
    target = Path(os.path.realpath(destination))
    if not target.parent.is_dir():  # one stat where the folder is there, as it nearly always is
        target.parent.mkdir(parents=True, exist_ok=True)
    if not cleared:
        remove_stale(target)
    pending = PendingFile(_create_beside(target))
    renamed = False
    try:
        yield pending
        if not pending.cancelled:
            _copy_mode(target, pending.path)
            os.replace(pending.path, target)
            renamed = True
    finally:
        if not renamed:  # renamed, it has no name left to remove
            pending.path.unlink(missing_ok=True)


def _create_beside(target: Path) -> Path:
    """A new, empty file in `target`'s folder with a name no other file has.

    Not tempfile.mkstemp: it creates files owner-only (0o600), which a new workbook
    would keep. os.open with 0o666 lets the umask (and any default ACL) decide, as for
    any file a program creates.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_ATTEMPTS):
        # Hidden (leading dot) and marked .tmp, so a person seeing one knows what it is;
        # the writer's process id lets a later run tell a killed run's file from a live one.
        tag = f"{os.getpid()}-{os.urandom(4).hex()}"
        candidate = target.with_name(_temporary_name(target.name, tag))
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


def remove_stale(target: Path) -> list[Path]:
    """Delete the temporary files a killed run left beside `target`; return them.

    Only our own names for this one file are touched (`.NAME.PID-XXXXXXXX.tmp`, or
    `.NAME.XXXXXXXX.tmp` from earlier versions, once a day old), and only when the
    process that made one is gone: a run of the same workbook still writing in
    another window keeps its file. A process killed with SIGKILL cannot clean up after
    itself, so its next run does.
    """
    return remove_stale_beside(target.parent, (target.name,))


def remove_stale_beside(folder: Path, names: Iterable[str]) -> list[Path]:
    """`remove_stale` for every file of `names` in `folder`, in one listing of it.

    Listing a folder costs a step per file in it, so a batch that listed the folder of
    each of its workbooks grew with the square of their number: 6.7 ms a workbook in a
    folder of 5,000, most of a small workbook's whole run. A batch clears each folder
    once, before its first file.
    """
    wanted = set(names)
    removed: list[Path] = []
    try:
        siblings = list(folder.iterdir())
    except OSError:
        return removed
    for path in siblings:
        found = _TEMPORARY.match(path.name)
        if found is None or not _names_temporary_of(found.group(1), wanted, path.name):
            continue
        # Names without a process id come from versions before it was added: only age
        # can tell those from a live write.
        pid = int(found.group(2)) if found.group(2) else None
        if _still_writing(pid, path):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


_TEMPORARY = re.compile(r"^\.(.+)\.(?:(\d+)-)?[0-9a-f]{8}\.tmp$")


def _still_writing(pid: int | None, path: Path) -> bool:
    if pid == os.getpid():
        return True  # this process: another write of ours may be under way
    if pid is not None and os.name == "posix":
        try:
            os.kill(pid, 0)  # signal 0 asks whether the process exists; it sends nothing
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True
    try:
        return time.time() - path.stat().st_mtime < _STALE_SECONDS
    except OSError:
        return True


def _names_temporary_of(stem: str, names: set[str], temporary: str) -> bool:
    """Whether a temporary file's NAME part is one of `names`, or one shortened to fit."""
    if stem in names:
        return True
    if len(temporary.encode()) < _NAME_MAX - 1:
        return False
    prefix = stem.encode()
    return any(name.encode().startswith(prefix) for name in names)


def _copy_mode(target: Path, tmp: Path) -> None:
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return  # a new file: keep the mode it was created with
    with contextlib.suppress(OSError):  # a mode we cannot copy is no reason to lose the write
        os.chmod(tmp, mode)

"""Imported only by the local cluster's fork server (its preload): end it at once.

The fork server stops when the command exits (it sees its pipe close), then runs
Python's finalization over everything it preloaded, Dask and the workbook modules:
0.1-0.2 s of CPU for a process that holds nothing to save, during which it still holds
the command's standard output and error open, so whoever reads them (a pipe, a script,
the benchmark) waits for it after the command has gone. Its last act is ending here
instead. The workers it forked are not affected: a forked child leaves by `os._exit`
from the fork server's own code and never runs these handlers.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

_SERVER = os.getpid()


def _end_now() -> None:
    if os.getpid() != _SERVER:  # (a child never gets here; the check is for safety)
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed or broken: nothing left to save
            stream.flush()
    os._exit(0)


# Registered last, so it runs first, skipping the other handlers and the finalization.
atexit.register(_end_now)

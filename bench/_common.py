"""Small helpers shared by the bench scripts: timing, tables, targets, sample workbooks.

The scripts are run as files (``python bench/engine_scaling.py``), so Python puts this
folder on ``sys.path`` and ``import _common`` works without installing anything.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_time(
    fn: Callable[[], object],
    repeats: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.process_time,
) -> float:
    """Median time of `fn()` in seconds over `repeats` runs, after `warmup` runs.

    CPU time by default: on a shared 2-core machine other people's work inflates wall
    time by 10–30% from one minute to the next, but hardly touches our CPU time.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


class Stopwatch:
    """Wall and CPU time of a block, this process's CPU plus its finished children's."""

    def __enter__(self) -> Stopwatch:
        # Start from a clean heap: otherwise a full garbage collection of what earlier
        # items left behind lands, at random, on whichever item runs when it triggers.
        gc.collect()
        self._wall = time.perf_counter()
        self._cpu = _cpu_now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = _cpu_now() - self._cpu


def _cpu_now() -> float:
    try:
        import resource
    except ImportError:  # not on Windows: own CPU time only
        return time.process_time()
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def fmt_s(seconds: float) -> str:
    """Seconds in the unit a person reads easily."""
    if abs(seconds) < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if abs(seconds) < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if abs(seconds) < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine_line() -> str:
    """One line saying what this was measured on (numbers mean little without it)."""
    import openpyxl

    load = ""
    if hasattr(os, "getloadavg"):  # a busy machine makes every number here worse
        load = f" · load {os.getloadavg()[0]:.2f}"
    return (
        f"python {platform.python_version()} · openpyxl {openpyxl.__version__} · "
        f"{os.cpu_count()} cores · {platform.machine()} {platform.system()}{load}"
    )


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: readable in a terminal, a log file and a README alike."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        # Text columns left, everything that starts like a number right.
        out = []
        for i, c in enumerate(row):
            numeric = re.match(r"[-+]?\.?\d", c) is not None
            out.append(c.rjust(widths[i]) if numeric else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def make_sample(path: Path) -> Path:
    """The bundled sample workbook, made the way a user makes it (`rebalancer-xl new`)."""
    from rebalancer_xl.adapters.template import build_workbook

    build_workbook(path, sample=True)
    return path


def copies(src: Path, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        dest = folder / f"book{i:04d}{src.suffix}"
        shutil.copyfile(src, dest)
        out.append(dest)
    return out


def cli_command() -> list[str]:
    """How to start the real command: the installed script, else `-m rebalancer_xl.cli`."""
    script = Path(sys.executable).with_name("rebalancer-xl")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "rebalancer_xl.cli"]


def run_quiet(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall time of a subprocess; raises with its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:4])} … exited {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed


class Phases:
    """Time named functions inside a run by wrapping them where the pipeline looks them up.

    ``with Phases() as ph: process_file(...)`` then ``ph.totals`` maps phase → seconds.
    A name that no longer exists (the code moved on) is skipped, never an error. Indented
    phases are parts of others and are left out of the sum that gives "other".
    """

    #: (phase, module, attribute); `module` is where the caller looks the name up.
    TARGETS: tuple[tuple[str, str, str], ...] = (
        ("open package (hostile checks)", "rebalancer_xl.adapters.package", "Package.__init__"),
        ("read sheets (lxml)", "rebalancer_xl.adapters.package_read", "book_from_package"),
        ("read inputs", "rebalancer_xl.pipeline", "read_inputs"),
        ("engine plan", "rebalancer_xl.pipeline", "make_plan"),
        ("render ops", "rebalancer_xl.pipeline", "render_plan"),
        ("apply ops to the package", "rebalancer_xl.adapters.package", "Package.apply"),
        ("write the package", "rebalancer_xl.adapters.package", "Package.write"),
        ("verify the written package", "rebalancer_xl.adapters.package", "verify"),
    )

    #: The engine's stages, for a profile of `engine.plan` alone. A target naming a tuple
    #: of functions (the engine's ordered stage lists) times each one under its own name,
    #: indented as the phase is.
    ENGINE: tuple[tuple[str, str, str], ...] = (
        ("", "rebalancer_xl.core.engine", "STAGES"),
        ("  ", "rebalancer_xl.core.stages.allocate", "ALLOCATION"),
    )

    def __init__(self, targets: tuple[tuple[str, str, str], ...] | None = None) -> None:
        self.targets = self.TARGETS if targets is None else targets
        self.totals: dict[str, float] = {}
        self._undo: list[tuple[object, str, object]] = []

    def __enter__(self) -> Phases:
        import importlib

        for phase, module_name, attr in self.targets:
            try:
                owner: object = importlib.import_module(module_name)
                *path, name = attr.split(".")
                for part in path:
                    owner = getattr(owner, part)
                original = getattr(owner, name)
            except (ImportError, AttributeError):
                continue
            if isinstance(original, tuple):  # an ordered list of stages: time each one
                wrapped = tuple(self._timed(f"{phase}{f.__name__}", f) for f in original)
                setattr(owner, name, wrapped)
                self._undo.append((owner, name, original))
                continue
            setattr(owner, name, self._timed(phase, original))
            self._undo.append((owner, name, original))
        return self

    def _timed(self, phase: str, original: object) -> object:
        import functools

        self.totals.setdefault(phase, 0.0)

        def timed(
            *args: object, _f: object = original, _p: str = phase, **kwargs: object
        ) -> object:
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)  # type: ignore[operator]
            finally:
                self.totals[_p] += time.perf_counter() - start

        functools.update_wrapper(timed, original)  # type: ignore[arg-type]
        return timed

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def rows(
        self, total: float, per: int = 1, other: str = "other (checks, temp file, rename, CLI)"
    ) -> list[tuple[str, str, str]]:
        """(phase, time per item, share of total) rows, in pipeline order, plus `other`."""
        out = [(p, fmt_s(t / per), f"{t / total:.0%}") for p, t in self.totals.items()]
        top = sum(t for p, t in self.totals.items() if not p.startswith(" "))
        out.append(
            (
                other,
                fmt_s((total - top) / per),
                f"{(total - top) / total:.0%}",
            )
        )
        return out

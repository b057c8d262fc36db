"""What the Run Rebalance button costs before and while it works.

1. Import time of the xlwings entry module `rebalancer_xl.xl`, in fresh interpreters
   (median of several): the time measured inside the child around the import, and the
   child's whole wall time. `python -X importtime` names the heaviest imports.
2. A full `run_rebalance(book)` on the sample workbook through xlwings' remote engine
   (`xw.Book(json=payload)`, XLWINGS_LICENSE_KEY=noncommercial), with the VBA client's
   payload made by `tests/xlpayload.py` from the sample as saved by openpyxl (formula
   cells carry no calculated values; the inputs the run reads are plain values). Times
   are CPU time, median. Needs the test extras (`pip install -e '.[test]'`).

    python bench/button_latency.py
    python bench/button_latency.py --repeats 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from _common import REPO, fmt_s, machine_line, make_sample, median_time, print_table, verdict

TARGET_IMPORT_S = 0.5
ENTRY = "rebalancer_xl.xl"
#: What run_rebalance imports on its first call (xl.py keeps them out of its own import).
FIRST_CALL = ("xlwings", "rebalancer_xl.pipeline")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    return env


def _child(code: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False, cwd=REPO
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return wall, done.stdout


def import_times(modules: Sequence[str], repeats: int, env: dict[str, str]) -> tuple[float, float]:
    """(median seconds inside the child around the imports, median child wall time)."""
    body = "; ".join(f"import {m}" for m in modules)
    code = f"import time; t = time.perf_counter(); {body}; print(time.perf_counter() - t)"
    inner, wall = [], []
    for _ in range(repeats):
        w, out = _child(code, env)
        wall.append(w)
        inner.append(float(out.strip().splitlines()[-1]))
    return statistics.median(inner), statistics.median(wall)


def heaviest_imports(
    modules: Sequence[str], env: dict[str, str], top: int = 8
) -> list[tuple[str, str, str]]:
    """Packages by the import time spent in their own modules (`python -X importtime`
    self times, summed per top-level package: no double counting)."""
    code = "; ".join(f"import {m}" for m in modules)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=REPO,
    )
    by_package: dict[str, int] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)", line)
        if m:
            package = m.group(3).split(".")[0]
            by_package[package] = by_package.get(package, 0) + int(m.group(1))
    total = sum(by_package.values()) or 1
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return [(name, fmt_s(us / 1e6), f"{us / total:.0%}") for name, us in ranked]


def _xlpayload() -> ModuleType:
    """The tests' payload builder, loaded from its file (the tests are no package here)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # it imports tests.lo lazily, by package
    spec = importlib.util.spec_from_file_location("xlpayload", REPO / "tests" / "xlpayload.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def remote_run(repeats: int) -> list[tuple[str, str]]:
    """Median time of payload → xw.Book(json=…) → run_rebalance(book) → actions."""
    # xlwings registers its remote engine at import, only if it sees a key by then.
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    from rebalancer_xl.xl import run_rebalance

    builder = _xlpayload().vba_payload
    with tempfile.TemporaryDirectory(prefix="rbx-button-") as tmp:
        sample = make_sample(Path(tmp) / "Sample.xlsx")
        payload = builder(sample)
        t_payload = median_time(lambda: builder(sample), repeats)
        t_book = median_time(lambda: xw.Book(json=payload), repeats)
        actions: list[object] = []

        def full() -> None:
            book = xw.Book(json=payload)
            outcome = run_rebalance(book)
            if not outcome.ok:
                raise RuntimeError(f"run_rebalance found problems: {outcome.problems[:3]}")
            actions[:] = book.json()["actions"]

        t_full = median_time(full, repeats)
    return [
        ("payload from the sample .xlsx (vba_payload, a test helper)", fmt_s(t_payload)),
        ("xw.Book(json=payload), remote engine", fmt_s(t_book)),
        (f"xw.Book + run_rebalance + book.json() ({len(actions)} actions)", fmt_s(t_full)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Import time of the xlwings entry module and a full run_rebalance "
        "through xlwings' remote engine."
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=7,
        metavar="K",
        help="fresh interpreters / runs per measurement (median; default 7)",
    )
    args = parser.parse_args(argv)
    env = _env()

    print(machine_line())
    started = time.perf_counter()
    what, modules = f"import {ENTRY}", (ENTRY,)

    _, base_wall = import_times(("sys",), args.repeats, env)
    rows = [("python -c (interpreter start-up only)", "-", fmt_s(base_wall))]
    xw_inner, xw_wall = import_times(("xlwings",), args.repeats, env)
    rows.append(("import xlwings (the floor)", fmt_s(xw_inner), fmt_s(xw_wall)))
    inner, wall = import_times(modules, args.repeats, env)
    rows.append((what, fmt_s(inner), fmt_s(wall)))
    first_click = (*modules, *FIRST_CALL)
    click_inner, click_wall = import_times(first_click, args.repeats, env)
    rows.append(
        (
            f"  + what the first click imports ({', '.join(FIRST_CALL)})",
            fmt_s(click_inner),
            fmt_s(click_wall),
        )
    )
    print_table(
        f"import in a fresh interpreter (median of {args.repeats})",
        ("what", "import", "process wall"),
        rows,
    )
    print_table(
        "where a first click's import time goes (python -X importtime, self time by package)",
        ("package", "time", "share"),
        heaviest_imports(first_click, env),
    )

    print_table(
        "run_rebalance on the sample through the remote engine (median)",
        ("what", "time"),
        remote_run(max(1, args.repeats // 2)),
    )
    print_table(
        "targets",
        ("what", "target", "measured", ""),
        [(what, f"< {TARGET_IMPORT_S} s", fmt_s(inner), verdict(inner < TARGET_IMPORT_S))],
    )
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

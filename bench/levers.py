"""How much each suspect costs: switch one piece off at a time and measure what is saved.

These are upper bounds on what a fix could buy, not fixes: a run with the guard switched
off is not a run anyone should do. On a shared machine each figure moves by a few ms from
run to run: read differences under ~3 ms as noise. The script reaches into internals by
name (monkeypatching), so when the code moves on a lever may print "n/a" until this
script follows it.

1. Per workbook, on copies of the sample (each variant paired file by file with a bare
   openpyxl load + save, CPU time): as is; no save-loss guard; no calamine pass for
   formulas' cached values; no `_autofit`; no Log sheet (its render, apply and save).
2. The --jobs process pool: start-up of the pool and of the workers' imports.
3. The engine's Decimal rounding: the share of `plan` spent in `pp`, `cents` and
   `Decimal.quantize` (cProfile), and the cost of one Decimal operation against a float.

    python bench/levers.py             # 40 workbooks per variant
    python bench/levers.py --n 10
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import pstats
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator, Sequence
from pathlib import Path

from _common import (
    Stopwatch,
    cli_command,
    copies,
    fmt_s,
    machine_line,
    make_sample,
    print_table,
    run_quiet,
)
from batch_throughput import bare_one, run_one


@contextlib.contextmanager
def patched(module: str, attr: str, value: object) -> Iterator[bool]:
    """Set module.attr for the block; yields False (and changes nothing) if it is gone."""
    try:
        owner = importlib.import_module(module)
        original = getattr(owner, attr)
    except (ImportError, AttributeError):
        yield False
        return
    setattr(owner, attr, value)
    try:
        yield True
    finally:
        setattr(owner, attr, original)


def _no_losses(*args: object, **kwargs: object) -> list[object]:
    return []


def _no_inventory(source: object) -> object:
    from rebalancer_xl.workbook.guard import Inventory

    return Inventory((), {})


def _same_book(book: object, path: object) -> object:
    return book


def _nothing(*args: object, **kwargs: object) -> list[object]:
    return []


LEVERS: tuple[tuple[str, tuple[tuple[str, str, object], ...]], ...] = (
    ("as is", ()),
    (
        "no save-loss guard (inventories, predict, check)",
        (
            ("rebalancer_xl.workbook.guard", "inventory", _no_inventory),
            ("rebalancer_xl.workbook.guard", "predict_losses", _no_losses),
            ("rebalancer_xl.workbook.guard", "check_save", _no_losses),
        ),
    ),
    (
        "no calamine pass for cached values",
        (("rebalancer_xl.workbook.xlsx", "_with_cached_values", _same_book),),
    ),
    ("no _autofit", (("rebalancer_xl.workbook.xlsx", "_autofit", _nothing),)),
    (
        "no Log sheet (render + apply + save)",
        (("rebalancer_xl.workbook.render", "_log", _nothing),),
    ),
)


def pipeline_levers(files: Sequence[Path], root: Path) -> list[tuple[str, ...]]:
    """Every variant on every file, round-robin (the order rotating from file to file), so
    that all variants see the same machine load; CPU totals per variant."""
    usable = []
    for name, patches in LEVERS:
        with contextlib.ExitStack() as stack:
            if all(stack.enter_context(patched(*p)) for p in patches):
                usable.append((name, patches))
    cpu = {name: 0.0 for name, _ in usable}
    bare_cpu = 0.0
    for i, f in enumerate(files):
        with Stopwatch() as b:
            bare_one(str(f), str(root))
        bare_cpu += b.cpu
        order = usable[i % len(usable) :] + usable[: i % len(usable)]
        for name, patches in order:
            with contextlib.ExitStack() as stack:
                for p in patches:
                    stack.enter_context(patched(*p))
                with Stopwatch() as r:
                    run_one(str(f), str(root / f"v{LEVERS.index((name, patches))}"))
            cpu[name] += r.cpu
    n = len(files)
    as_is = cpu.get("as is", 0.0)
    rows = [("bare openpyxl load + save", fmt_s(bare_cpu / n), "1.00×", "")]
    for name, _ in LEVERS:
        if name not in cpu:
            rows.append((name, "n/a", "", ""))
            continue
        saved = "" if name == "as is" else fmt_s((as_is - cpu[name]) / n)
        rows.append((name, fmt_s(cpu[name] / n), f"{cpu[name] / bare_cpu:.2f}×", saved))
    return rows


def pool_levers(files: Sequence[Path], root: Path) -> list[tuple[str, str]]:
    from concurrent.futures import ProcessPoolExecutor

    def empty_pool() -> None:
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(abs, [1, 2]))

    start = time.perf_counter()
    for _ in range(3):
        empty_pool()
    t_pool = (time.perf_counter() - start) / 3
    two = [str(f) for f in files[:2]]
    base = [*cli_command(), "run", *two, "--quiet"]
    t1 = min(run_quiet([*base, "--output-dir", str(root / "p1"), "--jobs", "1"]) for _ in range(3))
    t2 = min(run_quiet([*base, "--output-dir", str(root / "p2"), "--jobs", "2"]) for _ in range(3))
    return [
        ("ProcessPoolExecutor(2): start, 2 trivial tasks, shut down", fmt_s(t_pool)),
        ("rebalancer-xl run, 2 files, --jobs 1 (best of 3)", fmt_s(t1)),
        ("rebalancer-xl run, 2 files, --jobs 2 (best of 3)", fmt_s(t2)),
    ]


def decimal_levers(positions: int) -> list[tuple[str, str]]:
    from decimal import Decimal

    from engine_scaling import AS_OF, SETTINGS, portfolio

    from rebalancer_xl.engine import plan

    holdings, lots = portfolio(positions)
    profile = cProfile.Profile()
    profile.enable()
    plan(holdings, SETTINGS, as_of=AS_OF, lots=lots)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in stats.values())  # the outermost cumulative time
    rounding = sum(
        v[3]
        for (file, _, func), v in stats.items()
        if func in ("pp", "cents") and file.endswith("model.py")
    )
    rows = [
        (
            f"share of plan() in pp()/cents() rounding ({positions:,} positions, cProfile)",
            f"{rounding / total:.0%}",
        )
    ]
    a, b = Decimal("1234.5678"), Decimal("0.000123456")
    x, y = 1234.5678, 0.000123456
    n = 200_000
    t_dec = timeit.timeit(lambda: a * b, number=n) / n
    t_flt = timeit.timeit(lambda: x * y, number=n) / n
    t_q = timeit.timeit(lambda: (a * b).quantize(Decimal("0.01")), number=n) / n
    t_r = timeit.timeit(lambda: round(x * y, 2), number=n) / n
    rows += [
        ("one Decimal multiply (incl. call overhead)", fmt_s(t_dec)),
        ("one float multiply (incl. call overhead)", fmt_s(t_flt)),
        ("Decimal multiply + quantize to cents", fmt_s(t_q)),
        ("float multiply + round(…, 2)", fmt_s(t_r)),
    ]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Upper bounds of the speed levers: guard, calamine, autofit, the Log "
        "sheet, the process pool, Decimal rounding."
    )
    parser.add_argument(
        "--n", type=int, default=40, metavar="N", help="sample workbooks per variant (default 40)"
    )
    parser.add_argument(
        "--positions",
        type=int,
        default=10_000,
        metavar="P",
        help="portfolio size for the Decimal profile (default 10000)",
    )
    args = parser.parse_args(argv)

    print(machine_line())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rbx-levers-") as tmp:
        root = Path(tmp)
        sample = make_sample(root / "Sample.xlsx")
        files = copies(sample, root / "in", max(2, args.n))
        run_one(str(files[0]), str(root / "warm"))
        bare_one(str(files[0]), str(root))
        print_table(
            f"per sample workbook, CPU, {len(files)} files per variant",
            ("variant", "CPU per workbook", "÷ bare", "saved per workbook"),
            pipeline_levers(files, root),
        )
        print_table("process pool start-up (wall)", ("what", "time"), pool_levers(files, root))
    print_table("Decimal in the engine", ("what", "value"), decimal_levers(args.positions))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

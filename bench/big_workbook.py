"""One big workbook end to end: a Holdings sheet of 10,000 positions (default).

The workbook is made by the real template (`rebalancer-xl new --sample` code) with the
sample's six holdings replaced by N seeded random positions plus CASH, so it has what a
user's book has: the formula columns, the Excel table, validations, colours, the other
sheets. Then, on the same file:

- bare openpyxl `load_workbook` + `save` (the floor any openpyxl tool pays),
- `process_file` (what `rebalancer-xl run` does per file) in-process, with a phase table,
- the `rebalancer-xl` command in a subprocess (start-up and imports included).

    python bench/big_workbook.py               # 10,000 rows
    python bench/big_workbook.py --rows 2000   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from _common import (
    Phases,
    Stopwatch,
    cli_command,
    fmt_s,
    machine_line,
    print_table,
    run_quiet,
    verdict,
)
from engine_scaling import portfolio

from rebalancer_xl.workbook.schema import HoldingsHeader as H

TARGET_RATIO = 1.15


@contextlib.contextmanager
def _sample_with(rows: int) -> Iterator[None]:
    """The template's sample data, swapped for `rows` random positions while it writes."""
    from rebalancer_xl.workbook import sample as sample_data

    holdings, _ = portfolio(rows, seed=11)
    table = tuple(
        {
            H.TICKER: h.ticker,
            H.PURCHASE_PRICE: float(h.purchase_price) if h.purchase_price is not None else None,
            H.CURRENT_PRICE: float(h.price),
            H.SHARES: float(h.shares),
            H.TARGET: float(h.target),
            H.SCORE: float(h.score) if h.score is not None else None,
            H.PREVIOUS_SCORE: float(h.previous_score) if h.previous_score is not None else None,
            H.EXIT_TRIGGERS: h.exit_triggers,
            H.COMPANY_EVENT: "Yes" if h.company_event else "No",
            H.LOCK: "Yes" if h.lock else "No",
        }
        for h in holdings
    )
    saved = {
        name: getattr(sample_data, name) for name in ("HOLDINGS", "LOTS", "PERFORMANCE", "SETTINGS")
    }
    try:
        sample_data.HOLDINGS = table
        sample_data.LOTS = ()  # the sample's lots name the sample's tickers
        sample_data.PERFORMANCE = ()
        sample_data.SETTINGS = {**saved["SETTINGS"], "Relative Band": 0.25}
        yield
    finally:
        for name, value in saved.items():
            setattr(sample_data, name, value)


def make_big(path: Path, rows: int) -> Path:
    from rebalancer_xl.adapters.template import build_workbook

    with _sample_with(rows):
        build_workbook(path, sample=True)
    return path


def bare_once(src: Path, dest: Path) -> Stopwatch:
    from openpyxl import load_workbook

    with Stopwatch() as sw:
        wb = load_workbook(src, keep_links=True)
        wb.save(dest)
    return sw


def run_once(src: Path, out: Path, phases: Phases | None = None) -> Stopwatch:
    from rebalancer_xl.pipeline import process_file

    with Stopwatch() as sw, phases if phases is not None else contextlib.nullcontext():
        result = process_file(src, output_dir=out)
    if not result.ok:
        raise RuntimeError("; ".join(str(p) for p in result.problems[:5]))
    return sw


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="A Holdings sheet of many rows end to end, against bare openpyxl."
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000,
        metavar="N",
        help="positions on the Holdings sheet (default 10000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        metavar="K",
        help="timed runs of each in-process measurement (median; default 3)",
    )
    parser.add_argument(
        "--skip-subprocess",
        action="store_true",
        help="do not time the rebalancer-xl command in a subprocess",
    )
    args = parser.parse_args(argv)

    print(machine_line())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rbx-big-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        src = make_big(root / "Big.xlsx", args.rows)
        print(
            f"Holdings of {args.rows:,} positions + CASH: {src.stat().st_size / 2**20:.1f} MiB "
            f"(made in {time.perf_counter() - t:.1f} s)"
        )

        bares: list[Stopwatch] = []
        runs: list[Stopwatch] = []
        phases = Phases()
        for i in range(max(1, args.repeats)):  # interleaved, so load changes hit both
            bares.append(bare_once(src, root / "bare.xlsx"))
            runs.append(run_once(src, root / "out", phases if i == 0 else None))
        b_wall = statistics.median(b.wall for b in bares)
        b_cpu = statistics.median(b.cpu for b in bares)
        r_wall = statistics.median(r.wall for r in runs)
        r_cpu = statistics.median(r.cpu for r in runs)
        rows = [
            ("bare openpyxl load + save", fmt_s(b_wall), fmt_s(b_cpu), "1.00×"),
            (
                "process_file (rebalancer-xl run, in-process)",
                fmt_s(r_wall),
                fmt_s(r_cpu),
                f"{r_cpu / b_cpu:.2f}×",
            ),
        ]
        if not args.skip_subprocess:
            cmd = [*cli_command(), "run", str(src), "--output-dir", str(root / "sub"), "--quiet"]
            with Stopwatch() as sub:
                run_quiet(cmd)
            rows.append(
                (
                    "rebalancer-xl run (command, 1 run, incl. start-up)",
                    fmt_s(sub.wall),
                    fmt_s(sub.cpu),
                    f"{sub.cpu / b_cpu:.2f}×",
                )
            )
        print_table(
            f"one workbook, {args.rows:,} holdings (median of {len(runs)})",
            ("what", "wall", "CPU", "CPU ÷ bare"),
            rows,
        )
        print_table(
            "where process_file's time goes (first run)",
            ("phase", "time", "share"),
            phases.rows(runs[0].wall),
        )
        ratio = r_cpu / b_cpu
        print_table(
            "targets",
            ("what", "target", "measured", ""),
            [
                (
                    "run ÷ bare load+save, CPU (the batch target, on one big book)",
                    f"≤ {TARGET_RATIO:.2f}×",
                    f"{ratio:.2f}×",
                    verdict(ratio <= TARGET_RATIO),
                )
            ],
        )
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

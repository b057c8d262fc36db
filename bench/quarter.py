"""What closing the quarter costs next to the run itself, per workbook, on the sample.

Each command runs in this process (as `rebalancer-xl COMMAND` would, without the start-up
of Python) on a fresh copy of the planned sample, median CPU time of --repeats runs:

- run: the quarter-end run, for reference;
- record: four fills typed, one of them partial; it writes Holdings, Lots, Trades,
  Settings, Performance, History and Checklist through the lossless writer;
- record again: nothing new to record, so nothing is written (the idempotent case);
- check: the emergency rules and one History snapshot;
- orders and calendar: read the workbook, write a CSV or an .ics.

Target: each command costs no more than the run (ratio ≤ 1.0): closing the quarter must
not be slower than planning it.

    python bench/quarter.py
    python bench/quarter.py --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from _common import fmt_s, machine_line, make_sample, median_time, print_table, verdict

FILLS = {"PLTR": (33, 181.5, None), "ALAB": (19, 131.8, None), "TEM": (40, 55.9, 1.0)}


def _cli(*args: object) -> int:
    from rebalancer_xl.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in args])


def _type_fills(path: Path) -> None:
    """Fills typed as a person would (openpyxl here plays the person, not the tool)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["Trades"]
    col = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        fill = FILLS.get(ws.cell(r, col["Ticker"]).value)
        if fill:
            shares, price, commission = fill
            ws.cell(r, col["Filled Shares"]).value = shares
            ws.cell(r, col["Fill Price"]).value = price
            ws.cell(r, col["Date"]).value = date(2027, 1, 4)
            ws.cell(r, col["Commission"]).value = commission
    wb.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs per command (15)")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = make_sample(folder / "sample.xlsx")
        planned = folder / "planned.xlsx"
        shutil.copyfile(sample, planned)
        assert _cli("run", planned) == 0
        typed = folder / "typed.xlsx"
        shutil.copyfile(planned, typed)
        _type_fills(typed)
        recorded = folder / "recorded.xlsx"
        shutil.copyfile(typed, recorded)
        assert _cli("record", recorded, "--as-of", "2027-01-05") == 0
        work = folder / "work.xlsx"

        def fresh(src: Path, *command: object) -> Callable[[], object]:
            def go() -> object:
                shutil.copyfile(src, work)
                return _cli(*command)

            return go

        def copy_only(src: Path) -> Callable[[], object]:
            return lambda: shutil.copyfile(src, work)

        cases = {
            "run": (sample, ("run", work)),
            "record": (typed, ("record", work, "--as-of", "2027-01-05")),
            "record again": (recorded, ("record", work, "--as-of", "2027-01-06")),
            "check": (recorded, ("check", work, "--as-of", "2027-01-13")),
            "orders": (recorded, ("orders", work, "-o", folder / "orders.csv")),
            "calendar": (recorded, ("calendar", work, "-o", folder / "r.ics")),
        }
        times = {}
        for name, (src, command) in cases.items():
            total = median_time(fresh(src, *command), args.repeats)
            copy = median_time(copy_only(src), args.repeats)
            times[name] = max(total - copy, 1e-9)  # the command, not the copy before it
    base = times["run"]
    rows = [(name, fmt_s(t), f"{t / base:.2f}×") for name, t in times.items()]
    print_table("per workbook (sample), CPU time, median", ("command", "time", "÷ run"), rows)
    worst = max(t / base for name, t in times.items() if name != "run")
    print_table(
        "targets",
        ("target", "measured", "verdict"),
        [("each command ≤ 1.0× run", f"{worst:.2f}×", verdict(worst <= 1.0))],
    )


if __name__ == "__main__":
    main()

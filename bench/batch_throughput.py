"""Batch throughput: `rebalancer-xl run` on N copies of the sample workbook, against the
floor set by openpyxl itself (bare `load_workbook` + `save` of the same files), measured
in the same run.

Measured over the same N copies (outputs go to folders of their own; inputs stay as they
were):

- bare        openpyxl `load_workbook(f, keep_links=True)` + `save`
- in-process  `rebalancer_xl.cli.process_to_dict(f, options)`: the very function the
              command runs for each file (it calls `pipeline.process_file`)
- subprocess  the `rebalancer-xl run FILES --output-dir D --quiet` command as a user runs
              it, `--jobs 1` and `--jobs 2` (start-up, imports, report included)
- bare ×2     the bare load + save on a 2-process pool: what two cores can give at all

The per-workbook ratio is reported from the in-process pair, measured file by file (bare
on file i, then run on file i), in CPU time as well as wall time: on a shared machine
other processes move wall time by 10–30% from minute to minute, and pairing file by file
with CPU time keeps that out of the ratio. The --jobs speed-up is wall time (that is
what parallelism buys), measured in the order j1, j2, j2, j1 over the two halves of the
files so that a drift in machine load cancels out.

    python bench/batch_throughput.py             # N = 200
    python bench/batch_throughput.py --n 20      # quicker
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _common import (
    Phases,
    Stopwatch,
    cli_command,
    copies,
    fmt_s,
    machine_line,
    make_sample,
    print_table,
    verdict,
)

TARGET_RATIO = 1.15
TARGET_SPEEDUP = 1.7


def bare_one(src: str, out_dir: str) -> None:
    """What any openpyxl tool pays for a workbook: load it and save it."""
    from openpyxl import load_workbook

    wb = load_workbook(src, keep_links=True)
    wb.save(os.path.join(out_dir, os.path.basename(src)))


def run_one(src: str, out_dir: str) -> None:
    """What `rebalancer-xl run --output-dir out_dir` does for one file."""
    from rebalancer_xl.cli import process_to_dict

    result = process_to_dict(src, {"output_dir": out_dir})
    if result["status"] != "ok":
        raise RuntimeError(f"{src}: {result['problems'][:3]}")


def paired(files: Sequence[Path], root: Path) -> tuple[Stopwatch, Stopwatch]:
    """Bare and run, file by file; the two totals."""
    (root / "bare").mkdir(parents=True, exist_ok=True)
    bare_total, run_total = Stopwatch(), Stopwatch()
    bare_total.wall = bare_total.cpu = run_total.wall = run_total.cpu = 0.0
    for f in files:
        with Stopwatch() as b:
            bare_one(str(f), str(root / "bare"))
        with Stopwatch() as r:
            run_one(str(f), str(root / "run"))
        bare_total.wall += b.wall
        bare_total.cpu += b.cpu
        run_total.wall += r.wall
        run_total.cpu += r.cpu
    return bare_total, run_total


def bare_pool(files: Sequence[Path], out: Path, jobs: int) -> float:
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(bare_one, [str(f) for f in files], [str(out)] * len(files)))
    return time.perf_counter() - start


def command(files: Sequence[Path], out: Path, jobs: int) -> Stopwatch:
    import subprocess

    cmd = [
        *cli_command(),
        "run",
        *map(str, files),
        "--output-dir",
        str(out),
        "--quiet",
        "--jobs",
        str(jobs),
    ]
    with Stopwatch() as sw:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"rebalancer-xl run exited {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return sw


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Per-workbook cost of `rebalancer-xl run` against bare openpyxl "
        "load + save, and the --jobs 2 speed-up."
    )
    parser.add_argument(
        "--n",
        type=int,
        default=200,
        metavar="N",
        help="number of sample workbook copies (default 200)",
    )
    parser.add_argument(
        "--skip-subprocess",
        action="store_true",
        help="measure in-process only (no --jobs comparison)",
    )
    parser.add_argument(
        "--phases",
        type=int,
        default=30,
        metavar="K",
        help="files to time phase by phase after the main run (default 30; 0 = none)",
    )
    args = parser.parse_args(argv)
    n = max(2, args.n)

    print(machine_line())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rbx-batch-") as tmp:
        root = Path(tmp)
        sample = make_sample(root / "Sample.xlsx")
        files = copies(sample, root / "in", n)
        print(f"{n} copies of the sample workbook ({sample.stat().st_size / 1024:.0f} KiB each)")

        paired(files[:2], root / "warm")  # imports and caches, paid by neither side
        bare, run = paired(files, root)
        rows = [
            (
                "bare openpyxl load + save",
                "1",
                fmt_s(bare.wall / n),
                fmt_s(bare.cpu / n),
                "1.00×",
                "1.00×",
            ),
            (
                "run, in-process (cli.process_to_dict)",
                "1",
                fmt_s(run.wall / n),
                fmt_s(run.cpu / n),
                f"{run.wall / bare.wall:.2f}×",
                f"{run.cpu / bare.cpu:.2f}×",
            ),
        ]
        checks = [
            (
                "run per workbook ÷ bare load+save (in-process, CPU)",
                f"≤ {TARGET_RATIO:.2f}×",
                f"{run.cpu / bare.cpu:.2f}×",
                verdict(run.cpu / bare.cpu <= TARGET_RATIO),
            )
        ]

        if not args.skip_subprocess:
            half = n // 2
            a, b = files[:half], files[half:]
            j1 = command(a, root / "j1", 1)
            j2 = command(a, root / "j2", 2)
            j2b = command(b, root / "j2", 2)
            j1b = command(b, root / "j1", 1)
            j1_wall, j2_wall = j1.wall + j1b.wall, j2.wall + j2b.wall
            j1_cpu = j1.cpu + j1b.cpu
            t_pool = bare_pool(files, root / "bare2", 2)
            rows += [
                (
                    "rebalancer-xl run --jobs 1 (command)",
                    "1",
                    fmt_s(j1_wall / n),
                    fmt_s(j1_cpu / n),
                    f"{j1_wall / bare.wall:.2f}×",
                    f"{j1_cpu / bare.cpu:.2f}×",
                ),
                (
                    "rebalancer-xl run --jobs 2 (command)",
                    "2",
                    fmt_s(j2_wall / n),
                    "",
                    f"{j2_wall / bare.wall:.2f}×",
                    "",
                ),
                (
                    "bare load + save, 2-process pool",
                    "2",
                    fmt_s(t_pool / n),
                    "",
                    f"{t_pool / bare.wall:.2f}×",
                    "",
                ),
            ]
            speedup = j1_wall / j2_wall
            checks += [
                (
                    "(indicative: unpaired) command --jobs 1 CPU ÷ bare",
                    "",
                    f"{j1_cpu / bare.cpu:.2f}×",
                    "",
                ),
                (
                    "--jobs 2 speed-up over --jobs 1 (command, wall)",
                    f"≥ {TARGET_SPEEDUP:.1f}×",
                    f"{speedup:.2f}×",
                    verdict(speedup >= TARGET_SPEEDUP),
                ),
                (
                    "(for scale) bare load+save speed-up on a 2-process pool",
                    "",
                    f"{bare.wall / t_pool:.2f}×",
                    "",
                ),
            ]
        print_table(
            f"{n} workbooks, time per workbook",
            ("what", "procs", "wall", "CPU", "wall ÷ bare", "CPU ÷ bare"),
            rows,
        )

        if args.phases > 0:
            some = files[: min(n, args.phases)]
            with Stopwatch() as sw, Phases() as phases:
                for f in some:
                    run_one(str(f), str(root / "phases"))
            print_table(
                f"where a run's time goes (wall, mean of {len(some)} files)",
                ("phase", "per workbook", "share"),
                phases.rows(sw.wall, len(some)),
            )
        print_table("targets", ("what", "target", "measured", ""), checks)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

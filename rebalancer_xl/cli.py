"""The `rebalancer-xl` command: make a workbook, run the rulebook over one or many.

Exit codes: 0 every file succeeded, 1 at least one failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Any

from rebalancer_xl import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> date:
    # The As-of Date setting's own parser: `--as-of` and the cell accept the same text.
    from rebalancer_xl.values import BadValue, parse_date

    try:
        return parse_date(text, "--as-of")
    except BadValue:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rebalancer-xl",
        description="Quarterly portfolio rebalancing by the rulebook, in an Excel workbook.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = sub.add_parser(
        "new",
        help="create a new rebalancing workbook",
        description="Create a new rebalancing workbook with every sheet, formula and "
        "drop-down in place.",
    )
    new.add_argument("path", metavar="PATH", help="the .xlsx (or .xlsm with --macro) to create")
    new.add_argument(
        "--sample",
        action="store_true",
        help="fill it with the guide's sample portfolio to try things out",
    )
    new.add_argument(
        "--household",
        action="store_true",
        help="several accounts in one workbook: an Accounts sheet and Account columns "
        "(with --sample: the sample portfolio held in a Brokerage account and an IRA)",
    )
    new.add_argument(
        "--macro",
        action="store_true",
        help="make a macro-enabled .xlsm with a Run Rebalance button (xlwings)",
    )
    new.add_argument("--force", action="store_true", help="overwrite PATH if it exists")

    run = sub.add_parser(
        "run",
        help="plan the rebalance of one or more workbooks and write the results",
        description="Read Holdings and Settings, apply the rulebook, and write Action … "
        "Flags, the Trades sheet, a History row, the dated Log sheet and the "
        "Checklist ticks. Files are changed in place unless --output-dir or "
        "--dry-run is given; a workbook with problems is never changed.",
    )
    run.add_argument("files", nargs="+", metavar="FILE", help="workbooks (.xlsx or .xlsm)")
    run.add_argument("--dry-run", action="store_true", help="plan and report; write nothing")
    run.add_argument(
        "--json", action="store_true", help="print one JSON document with every file's result"
    )
    run.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write processed copies into DIR; the originals stay untouched",
    )
    run.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="process N files at once in separate processes (default 1)",
    )
    run.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the run date (default: the As-of Date setting, else today)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="write in place even if saving would lose content openpyxl "
        "cannot keep (shapes, form controls, sparklines …)",
    )
    run.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    return parser


def _stop(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every temporary file is removed on the way out."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "new":
        return _new(args)
    return _run(args)


# --- new ---------------------------------------------------------------------------------


def _new(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"rebalancer-xl: {path} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_FAILED
    if args.macro:
        from rebalancer_xl.macro import build_macro_workbook

        if path.suffix.lower() != ".xlsm":
            print("rebalancer-xl: a macro-enabled workbook must end in .xlsm", file=sys.stderr)
            return EXIT_USAGE
        try:
            made = build_macro_workbook(path, sample=args.sample, household=args.household)
        except FileExistsError as err:
            print(f"rebalancer-xl: {err}", file=sys.stderr)
            return EXIT_FAILED
        except ValueError as err:
            print(f"rebalancer-xl: {err}", file=sys.stderr)
            return EXIT_USAGE
        for p in made:
            print(f"created {p}")
        return EXIT_OK
    from rebalancer_xl.workbook.template import build_workbook

    if path.suffix.lower() != ".xlsx":
        print(
            "rebalancer-xl: the workbook must end in .xlsx (or use --macro with .xlsm)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    build_workbook(path, sample=args.sample, household=args.household)
    kind = " (sample household)" if args.household else " (sample portfolio)"
    print(f"created {path}" + (kind if args.sample else ""))
    return EXIT_OK


# --- run ---------------------------------------------------------------------------------


def process_to_dict(path: str, options: dict[str, Any]) -> dict[str, Any]:
    """Process one file and return its JSON-ready result (runs in worker processes)."""
    from rebalancer_xl.model import WHOLE_FILE, Problem
    from rebalancer_xl.pipeline import FileResult, process_file
    from rebalancer_xl.report import result_to_dict

    try:
        result = process_file(path, **options)
    except Exception as err:  # one file's bug must not stop the batch
        # Through result_to_dict like any other failure, so the entry has the same keys.
        problem = Problem("internal-error", f"{type(err).__name__}: {err}", WHOLE_FILE)
        result = FileResult(path, "error", problems=[problem])
    return result_to_dict(result)


def _run(args: argparse.Namespace) -> int:
    from rebalancer_xl.report import print_human

    options = {
        "dry_run": args.dry_run,
        "output_dir": args.output_dir,
        "as_of": args.as_of,
        "force": args.force,
    }
    if args.output_dir and args.dry_run:
        print("rebalancer-xl: --dry-run writes nothing; --output-dir is ignored", file=sys.stderr)
    # The same file twice would race with itself, however it is spelled (a.xlsx, ./a.xlsx).
    first: dict[str, str] = {}
    for f in args.files:
        first.setdefault(os.path.realpath(f), f)
    files = []
    for f in first.values():
        if Path(f).name.startswith("~$"):  # Excel's lock file beside an open workbook
            print(
                f"rebalancer-xl: skipping {f}: an Excel lock file, not a workbook", file=sys.stderr
            )
        else:
            files.append(f)
    if args.output_dir and not args.dry_run:
        same = [f for f in files if Path(f).resolve().parent == Path(args.output_dir).resolve()]
        if same:
            print(
                f"rebalancer-xl: --output-dir is the folder {same[0]} is in: that would "
                "overwrite it in place; leave out --output-dir to update files in place",
                file=sys.stderr,
            )
            return EXIT_USAGE
        names = [Path(f).name for f in files]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:  # one copy would silently overwrite the other in DIR
            print(
                f"rebalancer-xl: --output-dir would write {', '.join(clash)} more than once; "
                "run those files separately or into different folders",
                file=sys.stderr,
            )
            return EXIT_USAGE
    results = _process_all(files, options, args.jobs, show_progress=len(files) > 1)
    if args.json:
        json.dump({"files": results}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_human(results, quiet=args.quiet, dry_run=args.dry_run)
    return EXIT_OK if all(r["status"] == "ok" for r in results) else EXIT_FAILED


def _process_all(
    files: list[str], options: dict[str, Any], jobs: int, show_progress: bool
) -> list[dict[str, Any]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    )
    by_path: dict[str, dict[str, Any]] = {}
    with progress:
        task = progress.add_task("rebalancing", total=len(files))
        if jobs == 1 or len(files) == 1:
            for f in files:
                by_path[f] = process_to_dict(f, options)
                progress.advance(task)
        else:
            workers = min(jobs, len(files), os.cpu_count() or 1) if jobs > 0 else 1
            with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = {pool.submit(process_to_dict, f, options): f for f in files}
                for fut in as_completed(futures):
                    by_path[futures[fut]] = fut.result()
                    progress.advance(task)
    return [by_path[f] for f in files]


if __name__ == "__main__":
    raise SystemExit(main())

"""The `rebalancer-xl` command: make a workbook, run the rulebook over one or many.

Exit codes: 0 every file succeeded, 1 at least one failed, 2 bad usage, 3 from `check`
when something needs action (see `rebalancer_xl.quarter.commands`), 130 stopped by
Ctrl-C (or 128 + the signal's number). `RUN_EPILOG` says so in `run --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Any

from rebalancer_xl import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, what a shell reports for Ctrl-C

RUN_EPILOG = f"""\
exit codes:
  {EXIT_OK}    every file succeeded
  {EXIT_FAILED}    at least one file failed (its problems are printed; it was not changed)
  {EXIT_USAGE}    bad usage (an unknown option, a bad --as-of date, clashing names)
  {EXIT_INTERRUPTED}  stopped by Ctrl-C (143 by SIGTERM): no new file is started, the files
       in hand finish, those written are listed; the rest are unchanged

--json prints one document, {{"files": [ENTRY, ...]}}, one ENTRY per FILE in the
order given. Every ENTRY has the same keys, whatever its status:
  path, status ("ok" or "error"), problems [{{sheet, cell, code, message,
  severity}}], actions [{{ticker, action, amount, shares, post_trade_pct, rule,
  rule_id, reason, flags}}], trades [{{side, ticker, shares, price, amount, rule,
  rule_id, lots,
  short_term_gain, long_term_gain, estimated_tax}}], portfolio_value, cash_left,
  as_of, next_rebalance_date, emergency_only, notes, metrics, tax, accounts (a
  household's, with each account's cash before and after; else empty), written,
  content_lost. In a household every action and trade also has its account.
A key with no value is an empty list, or null: a file with errors has no plan, and
written is null on a dry run or when nothing was written. Stopped by Ctrl-C, the
document lists only the files that were finished.
"""


def _date(text: str) -> date:
    # The As-of Date setting's own parser: `--as-of` and the cell accept the same text
    # and the same range of dates.
    from rebalancer_xl.core.values import BadValue, parse_run_date

    try:
        return parse_run_date(text, "--as-of")
    except BadValue as err:
        if err.code == "date-out-of-range":
            raise argparse.ArgumentTypeError(err.message) from None
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
        epilog="Exit codes: 0 ok, 1 a file failed, 2 bad usage, 130 stopped by Ctrl-C. "
        "`rebalancer-xl run --help` gives them in full and the --json document's keys.",
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
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        help="process N files at once in separate processes (default 1); with "
        "--scheduler local, the number of Dask workers",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run one task per file on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786), or 'local' for a Dask LocalCluster of --jobs workers here. "
        "The workers read and write the files: FILEs and --output-dir must be on a "
        "filesystem every worker mounts at the same path. Needs "
        "pip install 'rebalancer-xl[dask]'",
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
        help="write even if the verifier finds more changed than the run's own cells "
        "(would-lose-content); what it found is listed as content_lost",
    )
    run.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    from rebalancer_xl.quarter.commands import add_parsers

    add_parsers(sub, _date)  # record, check, orders, calendar
    return parser


def _stop(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every temporary file is removed on the way out."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread() and not _ignored(signal.SIGTERM):
        signal.signal(signal.SIGTERM, _stop)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "new":
            return _new(args)
        if args.command != "run":
            from rebalancer_xl.quarter import commands

            return commands.main(args)
        return _run(args)
    except KeyboardInterrupt:  # outside a batch (which reports what it wrote itself)
        print("rebalancer-xl: stopped by Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`... --json | head`): nothing more can be said to it, and
        # that is no failure of the run. Python would still flush stdout at exit and
        # complain a second time, so stdout is pointed at the null device first.
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by an object with no descriptor (tests)
        pass


# --- new ---------------------------------------------------------------------------------


def _new(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"rebalancer-xl: {path} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_FAILED
    if args.macro:
        from rebalancer_xl.adapters.macro import build_macro_workbook

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
    from rebalancer_xl.adapters.template import build_workbook

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
    from rebalancer_xl.core.model import WHOLE_FILE
    from rebalancer_xl.core.problems import problem as catalogued
    from rebalancer_xl.pipeline import FileResult, process_file
    from rebalancer_xl.report import result_to_dict

    try:
        result = process_file(path, **options)
    except Exception as err:  # one file's bug must not stop the batch
        # Through result_to_dict like any other failure, so the entry has the same keys.
        problem = catalogued("internal-error", WHOLE_FILE, kind=type(err).__name__, error=err)
        result = FileResult(path, "error", problems=[problem])
    return result_to_dict(result)


def _run(args: argparse.Namespace) -> int:
    from rebalancer_xl.adapters.cluster import (
        ClusterError,  # standard library only; Dask comes later
    )
    from rebalancer_xl.terminal import print_human

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
        into = Path(args.output_dir).resolve()
        same = [f for f in files if Path(f).resolve().parent == into]
        if same:
            print(
                f"rebalancer-xl: --output-dir is the folder {same[0]} is in: that would "
                "overwrite it in place; leave out --output-dir to update files in place",
                file=sys.stderr,
            )
            return EXIT_USAGE
        # Counted once, not with names.count per file: 20,000 files took 9 s to check.
        counts = Counter(Path(f).name for f in files)
        clash = sorted(n for n, k in counts.items() if k > 1)
        if clash:  # one copy would silently overwrite the other in DIR
            print(
                f"rebalancer-xl: --output-dir would write {', '.join(clash)} more than once; "
                "run those files separately or into different folders",
                file=sys.stderr,
            )
            return EXIT_USAGE
    if args.scheduler is None:  # a cluster's workers clear their own files' folders
        _clear_stale(files, args.output_dir)
        options["swept"] = True
    try:
        results, stopped = _process_all(
            files, options, args.jobs, show_progress=len(files) > 1, scheduler=args.scheduler
        )
    except ClusterError as err:  # Dask missing, or no scheduler to reach: no file was run
        print(f"rebalancer-xl: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.json:
            json.dump({"files": results}, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
            sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        elif stopped is None:
            print_human(results, quiet=args.quiet, dry_run=args.dry_run)
    except BrokenPipeError:
        raise
    except OSError as err:  # stdout on a full disk, say: the files are done all the same
        _silence_stdout()
        print(f"rebalancer-xl: could not print the results: {err}", file=sys.stderr)
        return EXIT_FAILED
    if stopped is not None:
        _report_interrupted(results, len(files), stopped)
        return stopped
    return EXIT_OK if all(r["status"] == "ok" for r in results) else EXIT_FAILED


def _clear_stale(files: list[str], output_dir: str | None) -> None:
    """Remove what killed runs left beside the batch's workbooks (and their copies in
    `output_dir`), listing each folder once rather than once a file: a folder of many
    workbooks made the batch grow with the square of their number."""
    from rebalancer_xl.adapters.files import remove_stale_beside

    by_folder: dict[Path, list[str]] = {}
    for f in files:
        for target in (f,) if output_dir is None else (f, os.path.join(output_dir, Path(f).name)):
            real = Path(os.path.realpath(target))  # where the run writes: a link's target
            by_folder.setdefault(real.parent, []).append(real.name)
    for folder, names in by_folder.items():
        remove_stale_beside(folder, names)


def _report_interrupted(results: list[dict[str, Any]], total: int, code: int) -> None:
    written = [r["written"] for r in results if r.get("written")]
    how = "Ctrl-C" if code == EXIT_INTERRUPTED else f"signal {code - 128}"
    lines = [
        f"rebalancer-xl: stopped by {how} after {len(results)} of {total} files; "
        f"{len(written)} written, every other file unchanged"
    ]
    lines += [f"  written: {w}" for w in written]
    print("\n".join(lines), file=sys.stderr)


_STOP: Any = None  # in a worker: the batch's stop event (a multiprocessing.Event)


def _start_worker(stop: Any) -> None:
    """In each worker: Ctrl-C reaches every process of the terminal's group, but only
    the parent decides what stops. A worker finishes (or rolls back) the file in hand;
    the parent's stop event keeps it from starting another."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop


def _work(path: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """`process_to_dict` in a worker, or None once the batch is stopping: files handed to
    the pool ahead of time are then left as they are."""
    if _STOP is not None and _STOP.is_set():
        return None
    return process_to_dict(path, options)


def _process_all(
    files: list[str],
    options: dict[str, Any],
    jobs: int,
    show_progress: bool,
    scheduler: str | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Every file's result in the order given, and the exit code if Ctrl-C (or SIGTERM)
    stopped the batch, when only the finished files have a result."""
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
    stopped: int | None = None
    with progress:
        task = progress.add_task("rebalancing", total=len(files))
        if scheduler is not None:
            from rebalancer_xl.adapters.cluster import process_on_cluster

            results = process_on_cluster(
                files, options, scheduler, jobs, lambda: progress.advance(task)
            )
            return results, None
        if jobs == 1 or len(files) == 1:
            stopped = _one_by_one(files, options, by_path, lambda: progress.advance(task))
        else:
            stopped = _in_workers(files, options, jobs, by_path, lambda: progress.advance(task))
    return [by_path[f] for f in files if f in by_path], stopped


def _one_by_one(
    files: list[str], options: dict[str, Any], by_path: dict[str, dict[str, Any]], advance: Any
) -> int | None:
    """Run the files here, one after another, filling `by_path`; the exit code if Ctrl-C
    (or SIGTERM) stopped it.

    As in a pool's workers, the file in hand finishes: while it runs, a first Ctrl-C or
    SIGTERM is only noted, and acts once its result is recorded. Acting at once would roll
    back most files, but one whose replacement had just been renamed into place would be
    written and yet missing from the list of what was written. A second one stops at once
    and the file in hand rolls back whole (atomic_write), as it does where Python cannot
    take signals (any thread but the main one).
    """
    here = threading.current_thread() is threading.main_thread()
    noted: list[int] = []
    try:
        for f in files:
            before = _note_signals(noted) if here else None
            try:
                by_path[f] = process_to_dict(f, options)
                advance()
            finally:
                if before is not None:
                    for signum, handler in before.items():
                        signal.signal(signum, handler)
            if noted:
                return 128 + noted[0]  # EXIT_INTERRUPTED for Ctrl-C, as `_stop` gives SIGTERM
    except (KeyboardInterrupt, SystemExit) as stop:
        return _stop_code(stop)
    return None


def _note_signals(noted: list[int]) -> dict[int, Any]:
    """Make Ctrl-C and SIGTERM append to `noted` instead of acting; the handlers before."""

    def note(signum: int, frame: object) -> None:
        if noted:  # asked twice: stop now, rolling the file in hand back
            raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)
        noted.append(signum)
        print(
            "rebalancer-xl: stopping after the workbook in hand (again to stop now)",
            file=sys.stderr,
        )

    return {
        signum: signal.signal(signum, note)
        for signum in (signal.SIGINT, signal.SIGTERM)
        if not _ignored(signum)
    }


def _ignored(signum: int) -> bool:
    """Whether the command was started with `signum` ignored, and so keeps ignoring it.

    A shell starts a script's `command &` with Ctrl-C ignored, and `nohup`-like tools
    do the same for other signals: the caller's way of saying the signal is not for
    this job. Python itself keeps an ignored SIGINT ignored (no KeyboardInterrupt), so
    the pool's batch already did; the one-by-one batch and SIGTERM now agree with it.
    """
    return signal.getsignal(signum) is signal.SIG_IGN


def _in_workers(
    files: list[str],
    options: dict[str, Any],
    jobs: int,
    by_path: dict[str, dict[str, Any]],
    advance: Any,
) -> int | None:
    """Run the files in a process pool, filling `by_path`; the exit code if Ctrl-C (or
    SIGTERM, which `_stop` turns into SystemExit) stopped it.

    On Ctrl-C no new file is started: the files in flight finish (each is replaced
    atomically or not at all), their results are kept, and the rest stay untouched.
    """
    import multiprocessing

    workers = max(1, min(jobs, len(files), os.cpu_count() or 1))
    stop = multiprocessing.Event()
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(stop,))
    futures = {pool.submit(_work, f, options): f for f in files}
    try:
        for fut in as_completed(futures):
            by_path[futures[fut]] = _finished(fut.result())
            advance()
    except (KeyboardInterrupt, SystemExit) as stopping:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for fut, f in futures.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                result = fut.result()
                if result is not None:
                    by_path[f] = result
        return _stop_code(stopping)
    pool.shutdown(wait=True)
    return None


def _stop_code(stop: BaseException) -> int:
    if isinstance(stop, SystemExit) and isinstance(stop.code, int):
        return stop.code
    return EXIT_INTERRUPTED


def _finished(result: dict[str, Any] | None) -> dict[str, Any]:
    assert result is not None, "a worker skips files only after the batch was stopped"
    return result


if __name__ == "__main__":
    raise SystemExit(main())

"""The quarter's commands of `rebalancer-xl`: record, check, orders, calendar.

Each reads a workbook through the same safe path as `run` (`pipeline.edit_file`) and,
where it writes the workbook, writes it the same atomic, lossless way.

Exit codes: 0 done; 1 a file had problems (each printed by cell) or failed; 2 bad usage;
`check` alone exits 3 when something needs action now (and no file failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rebalancer_xl.adapters.files import atomic_write
from rebalancer_xl.pipeline import Edit, FileResult, edit_file
from rebalancer_xl.workbook.grid import Book

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ACTION = 0, 1, 2, 3
COMMANDS = ("record", "check", "orders", "calendar")


def add_parsers(sub: Any, parse_date: Callable[[str], date]) -> None:
    """Register the quarter's subcommands on the `rebalancer-xl` parser."""

    def as_of(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--as-of", type=parse_date, metavar="YYYY-MM-DD", help=what)

    record = sub.add_parser(
        "record",
        help="carry the fills typed into Trades into Holdings, Lots and the tracking",
        description="Apply the fills typed into the Trades sheet (Filled Shares, Fill Price, "
        "Date, optional Commission): Holdings shares and cash, Lots, Purchase Price; on the "
        "plan's first recording also Settings' Last Rebalance Date and Performance's Last "
        "Rebalance Price. A partial fill leaves the rest open; each fill is marked Applied "
        "and never applied twice. A workbook with a bad fill is not changed.",
    )
    record.add_argument("files", nargs="+", metavar="FILE")
    as_of(record, "the day of recording, written as Applied (default: today)")
    record.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    record.add_argument("--output-dir", metavar="DIR", help="write recorded copies into DIR")
    record.add_argument("--force", action="store_true", help="write even if the verifier objects")
    record.add_argument("--json", action="store_true", help="print one JSON document")

    check = sub.add_parser(
        "check",
        help="between quarters: evaluate the emergency rules, record a value snapshot",
        description="Evaluate only the rules that cannot wait for the quarter end (50% cap, "
        "exit signals, crash check, company events) and append one value snapshot to "
        "History. Writes no Trades, Log or Holdings outputs. Exit status 0: nothing to do; "
        "3: something needs action; 1: a file could not be checked. For cron or Task "
        "Scheduler.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    as_of(check, "the day of the check (default: today)")
    check.add_argument("--dry-run", action="store_true", help="check; write no snapshot")
    check.add_argument("--json", action="store_true", help="print one JSON document")

    orders = sub.add_parser(
        "orders",
        help="write the open orders of the Trades sheet as a CSV for the broker",
        description="Write the open orders (no fill typed, not applied), sells first, as "
        "limit orders at the Trades sheet's Limit Price. --format generic: Side, Ticker, "
        "Quantity, Order Type, Limit Price, Time in Force, Account, Planned Date. --format "
        "ibkr: Interactive Brokers BasketTrader columns Action, Quantity, Symbol, SecType, "
        "Exchange, Currency, TimeInForce, OrderType, LmtPrice, Account, BasketTag.",
    )
    orders.add_argument("file", metavar="FILE")
    orders.add_argument("-o", "--output", required=True, metavar="CSV", help="the CSV to write")
    orders.add_argument("--format", choices=("generic", "ibkr"), default="generic")
    orders.add_argument("--tif", choices=("DAY", "GTC"), default="DAY", help="time in force")
    orders.add_argument("--account", default="", help="account for rows without an Account")
    orders.add_argument("--currency", default="USD", help="currency for --format ibkr")
    as_of(orders, "orders planned up to this day are due (default: As-of Date, else today)")

    cal = sub.add_parser(
        "calendar",
        help="write the next rebalance, staged orders and weekly checks as an .ics file",
        description="Write an iCalendar file (Outlook, Google Calendar, Apple Calendar "
        "import it) with the next rebalance date, the staged orders' dates and a check "
        "every --check-every days until the next rebalance; tick the Checklist's calendar "
        "step in the workbook.",
    )
    cal.add_argument("file", metavar="FILE")
    cal.add_argument("-o", "--output", required=True, metavar="ICS", help="the .ics to write")
    cal.add_argument(
        "--check-every", type=int, default=7, metavar="DAYS", help="days between checks (7)"
    )
    as_of(cal, "the first day of the reminders (default: As-of Date, else today)")


# --- shared ---------------------------------------------------------------------------------


def _problems(result: FileResult) -> list[dict[str, str]]:
    from rebalancer_xl.report import problem_to_dict

    return [problem_to_dict(p) for p in result.problems]


def _print_problems(path: str, problems: list[dict[str, str]]) -> None:
    from rebalancer_xl.report import problem_line

    for p in problems:
        print(problem_line(path, p), file=sys.stderr)


def _guarded(path: str, editor: Callable[[Book], Edit], **options: Any) -> FileResult:
    """edit_file, with a bug turned into a located problem rather than a traceback."""
    from rebalancer_xl.core.model import WHOLE_FILE
    from rebalancer_xl.core.problems import problem as catalogued

    try:
        return edit_file(path, editor, **options)
    except Exception as err:
        problem = catalogued("internal-error", WHOLE_FILE, kind=type(err).__name__, error=err)
        return FileResult(path, "error", problems=[problem])


def _cannot_write(path: str, err: OSError) -> int:
    print(f"rebalancer-xl: cannot write {path}: {err.strerror or err}", file=sys.stderr)
    return EXIT_FAILED


def _money(x: Decimal) -> str:
    return f"{x:+,.2f}"


def main(args: argparse.Namespace) -> int:
    return {"record": _record, "check": _check, "orders": _orders, "calendar": _calendar}[
        args.command
    ](args)


# --- record ---------------------------------------------------------------------------------


def _record(args: argparse.Namespace) -> int:
    from rebalancer_xl.quarter.record import Recording, plan_record

    on = args.as_of or date.today()
    docs = []
    for path in args.files:
        result = _guarded(
            path,
            lambda book: plan_record(book, on),
            dry_run=args.dry_run,
            output_dir=args.output_dir,
            force=args.force,
        )
        rec = result.detail if isinstance(result.detail, Recording) else None
        doc: dict[str, Any] = {
            "path": path,
            "status": result.status,
            "problems": _problems(result),
            "fills": []
            if rec is None
            else [
                {
                    "row": f.order.row,
                    "side": f.order.side,
                    "ticker": f.order.ticker,
                    "shares": float(f.shares),
                    "price": float(f.price),
                    "date": f.on.isoformat(),
                    "commission": float(f.commission),
                    "left_open": float(f.rest),
                }
                for f in rec.fills
            ],
            "cash_change": None if rec is None else float(rec.cash_change),
            "plan_date": None
            if rec is None or rec.plan_date is None
            else rec.plan_date.isoformat(),
            "rolled_forward": None if rec is None else rec.rolled_forward,
            "notes": [] if rec is None else list(rec.notes),
            "written": result.written,
        }
        docs.append(doc)
        if args.json:
            continue
        _print_problems(path, doc["problems"])
        if rec is None:
            continue
        if not rec.fills:
            print(f"{path}: no new fills to record; nothing written")
            continue
        for f in rec.fills:
            rest = f", {f.rest.normalize():f} left open" if f.rest > 0 else ""
            print(
                f"{path}: {f.order.side} {f.shares.normalize():f} {f.order.ticker} "
                f"@ {f.price:,.2f} on {f.on}{rest}"
            )
        print(f"{path}: cash {_money(rec.cash_change)}")
        if rec.rolled_forward and rec.plan_date is not None:
            print(
                f"{path}: Last Rebalance Date is now {rec.plan_date}; "
                "Performance prices reset for next quarter"
            )
        for note in rec.notes:
            print(f"{path}: note: {note}")
        if args.dry_run:
            print(f"{path}: dry run; nothing written")
    if args.json:
        json.dump({"files": docs}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return EXIT_OK if all(d["status"] == "ok" for d in docs) else EXIT_FAILED


# --- check ----------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from rebalancer_xl.quarter.check import CheckResult, plan_check

    on = args.as_of or date.today()
    docs = []
    for path in args.files:
        result = _guarded(path, lambda book: plan_check(book, on), dry_run=args.dry_run)
        found = result.detail if isinstance(result.detail, CheckResult) else None
        doc: dict[str, Any] = {
            "path": path,
            "status": result.status,
            "problems": _problems(result),
            "date": on.isoformat(),
            "portfolio_value": None if found is None else found.value,
            "crash": None if found is None else found.crash,
            "needs_action": [] if found is None else list(found.needs_action),
            "notes": [] if found is None else list(found.notes),
            "written": result.written,
        }
        docs.append(doc)
        if args.json:
            continue
        _print_problems(path, doc["problems"])
        if found is None:
            continue
        if found.needs_action:
            print(f"{path}: needs action on {on}:")
            for line in found.needs_action:
                print(f"  {line}")
        else:
            print(f"{path}: nothing needs action on {on} (value {found.value:,.2f})")
        for note in found.notes:
            print(f"  {note}")
    if args.json:
        json.dump({"files": docs}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    if any(d["status"] != "ok" for d in docs):
        return EXIT_FAILED
    return EXIT_ACTION if any(d["needs_action"] for d in docs) else EXIT_OK


# --- orders ---------------------------------------------------------------------------------


def _read_only(path: str, read: Callable[[Book], Any]) -> tuple[Any, FileResult]:
    """Read `path` as every command does, and hand the book to `read`; write nothing."""
    box: dict[str, Any] = {}

    def editor(book: Book) -> Edit:
        box["value"] = read(book)
        return Edit(True)

    result = _guarded(path, editor, dry_run=True)
    return box.get("value"), result


def _due_date(book: Book, override: date | None) -> date:
    from rebalancer_xl.workbook.inputs import read_inputs

    return override or read_inputs(book).settings.as_of_date or date.today()


def _orders(args: argparse.Namespace) -> int:
    from rebalancer_xl.quarter.orders_out import OrderOptions, open_orders, render_csv
    from rebalancer_xl.quarter.trades_sheet import read_orders, trades_table

    def read(book: Book) -> tuple[list[Any], list[Any], date] | None:
        table = trades_table(book)
        if table is None:
            return None
        due_by = _due_date(book, args.as_of)
        return (*open_orders(read_orders(table), due_by), due_by)

    found, result = _read_only(args.file, read)
    if not result.ok:
        _print_problems(args.file, _problems(result))
        return EXIT_FAILED
    if found is None:
        print(
            f"rebalancer-xl: {args.file} has no Trades sheet: run a rebalance first",
            file=sys.stderr,
        )
        return EXIT_FAILED
    due, later, due_by = found
    options = OrderOptions(
        due_by,
        time_in_force=args.tif,
        account=args.account,
        currency=args.currency,
        tag=f"rebalance-{Path(args.file).stem}-{due_by.isoformat()}",
    )
    text = render_csv(due, args.format, options)
    try:
        with atomic_write(Path(args.output)) as pending, pending.path.open("w", newline="") as f:
            f.write(text)
    except OSError as err:
        return _cannot_write(args.output, err)
    print(f"{args.output}: {len(due)} open order(s), sells first ({args.format})")
    for o in later:
        print(f"  not yet due: {o.side} {o.shares.normalize():f} {o.ticker} on {o.planned}")
    return EXIT_OK


# --- calendar -------------------------------------------------------------------------------


def _calendar(args: argparse.Namespace) -> int:
    from rebalancer_xl.quarter.calendar_ics import next_rebalance, reminders, render_ics
    from rebalancer_xl.quarter.tracking import checklist_ops
    from rebalancer_xl.quarter.trades_sheet import read_orders, trades_table
    from rebalancer_xl.workbook.inputs import read_inputs

    if args.check_every < 0:
        print("rebalancer-xl: --check-every must be 0 (no checks) or more", file=sys.stderr)
        return EXIT_USAGE
    name = Path(args.file).name
    out = Path(args.output)
    made: dict[str, Any] = {}

    def editor(book: Book) -> Edit:
        inputs = read_inputs(book)
        if inputs.errors:
            return Edit(False, problems=inputs.problems)
        today = args.as_of or inputs.settings.as_of_date or date.today()
        table = trades_table(book)
        orders = [] if table is None else read_orders(table)
        nxt = next_rebalance(book, inputs.settings, today)
        items = reminders(name, nxt, orders, today, args.check_every)
        # The .ics is written before the workbook's tick, so a tick means a file exists.
        try:
            with atomic_write(out) as pending:
                pending.path.write_bytes(render_ics(name, items))
        except OSError as err:
            made["error"] = err
            return Edit(True)  # nothing to write into the workbook either
        made.update(next=nxt, count=len(items))
        return Edit(
            True,
            checklist_ops(book, ("documentation.reminder",), f"ticked by calendar of {today}"),
            [p for p in inputs.problems if not p.is_error],
        )

    result = _guarded(args.file, editor)
    _print_problems(args.file, _problems(result))
    if not result.ok:
        return EXIT_FAILED
    if "error" in made:
        return _cannot_write(str(out), made["error"])
    print(f"{out}: {made['count']} reminder(s); next rebalance {made['next']}")
    return EXIT_OK

"""Results as people read them on a terminal: the plan of one file, the summary of many.

Tables are fitted to the terminal's width before rich lays them out: numbers and dates
are never wrapped or cut (a cut "5,9…" reads as a different amount), text columns fold,
and when even that is too wide the least needed columns are left out; reasons wrap
under themselves. Rich's automatic highlighting is off: it colours the digits of
"3,300.00" as two numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rebalancer_xl.core.rules.metrics import QUARTER_PERFORMANCE_LABEL, QUARTER_RETURN_LABEL
from rebalancer_xl.report import problem_line

FOLD_MIN = 10  # a folded text column is given at least this many characters


@dataclass(slots=True)
class _Column:
    header: str
    cells: list[str]
    numeric: bool = False  # numbers and dates: kept whole, right-aligned for numbers
    keep: int = 99  # the lowest is left out first when the table is too wide
    right: bool = False

    def need(self) -> int:
        natural = max(
            [len(line) for line in self.header.split("\n")]
            + [len(_plain_text(c)) for c in self.cells]
        )
        return natural if self.numeric else min(natural, FOLD_MIN)


def _plain_text(cell: str) -> str:
    return Text.from_markup(cell).plain


def _table_width(columns: Sequence[_Column]) -> int:
    """Width of a table drawn by `_table`: cells, one space of padding inside each
    separator, and the separators (no outer edge)."""
    n = len(columns)
    return sum(c.need() for c in columns) + 3 * (n - 1)


def fit_columns(columns: Sequence[_Column], width: int) -> list[_Column]:
    """The columns to show in `width` characters, in their order, least needed dropped."""
    shown = list(columns)
    while len(shown) > 1 and _table_width(shown) > width:
        shown.remove(min(shown, key=lambda c: c.keep))
    return shown


def _table(console: Console, title: str, columns: Sequence[_Column]) -> Table:
    shown = fit_columns(columns, console.width)
    table = Table(title=title, show_edge=False, pad_edge=False)
    for c in shown:
        table.add_column(
            c.header,
            justify="right" if c.right else "left",
            no_wrap=c.numeric,
            overflow="fold",
        )
    for i in range(len(columns[0].cells) if columns else 0):
        table.add_row(*(c.cells[i] for c in shown))
    return table


class _Console(Console):
    """A console that lets a closed pipe reach the command, which ends quietly (rich's
    own answer is to exit with status 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _console(*, stderr: bool = False) -> Console:
    return _Console(stderr=stderr, highlight=False)


def print_human(results: list[dict[str, Any]], *, quiet: bool, dry_run: bool) -> None:
    out = _console()
    err = _console(stderr=True)
    for r in results:
        for p in r["problems"]:
            style = "yellow" if p.get("severity") == "warning" else "red"
            # One line a problem, however long: people grep these and scripts parse them.
            err.print(problem_line(r["path"], p), style=style, markup=False, soft_wrap=True)
    if len(results) == 1 and results[0]["status"] == "ok" and not quiet:
        _print_plan(out, results[0], dry_run)
        return
    ok = [r["status"] == "ok" for r in results]

    def cells(get: Any) -> list[str]:
        return [get(r) if good else "" for r, good in zip(results, ok, strict=True)]

    columns = [
        _Column("file", [r["path"] for r in results], keep=100),
        _Column("status", ["[green]ok[/]" if good else "[red]error[/]" for good in ok], keep=100),
        _Column("value", cells(lambda r: f"{r['portfolio_value']:,.2f}"), True, 90, True),
        _Column("trades", cells(lambda r: str(len(r["trades"]))), True, 50, True),
        _Column("cash\nleft", cells(lambda r: f"{r['cash_left']:,.2f}"), True, 70, True),
        _Column("next\nrebalance", cells(lambda r: str(r["next_rebalance_date"])), True, 60),
        _Column("problems", [str(len(r["problems"])) for r in results], True, 80, True),
    ]
    out.print(_table(out, "rebalancer-xl run" + (" (dry run)" if dry_run else ""), columns))
    failed = ok.count(False)
    out.print(f"{len(results) - failed} ok, {failed} failed")


def _metrics_line(m: dict[str, Any]) -> str:
    """'Gain since purchase +17,720.00 (+17.3%) · largest PLTR 37.5% · …', or ''."""
    parts = []
    if m["gain"] is not None:
        pct = f" ({m['gain_pct']:+.1%})" if m["gain_pct"] is not None else ""
        parts.append(f"Gain since purchase {m['gain']:+,.2f}{pct}")
    for key in ("largest", "smallest"):
        if m[key] is not None:
            parts.append(f"{key} {m[key]['ticker']} {m[key]['weight']:.1%}")
    if m["quarter_performance"] is not None:
        label = QUARTER_PERFORMANCE_LABEL.format(since=m["performance_since"])
        parts.append(f"{label} {m['quarter_performance']:+.2%}")
    if m["quarter_return"] is not None:
        classes = ", ".join(
            f"{x['ticker']} {x['class']}" for x in m["returns"] if x["class"] != "In-line"
        )
        parts.append(
            f"{QUARTER_RETURN_LABEL} {m['quarter_return']:+.2%}"
            + (f" ({classes})" if classes else "")
        )
    return " · ".join(parts)


def _print_plan(out: Console, r: dict[str, Any], dry_run: bool) -> None:
    title = f"{r['path']} — as of {r['as_of']}: portfolio {r['portfolio_value']:,.2f}" + (
        " — EMERGENCY-ONLY RUN" if r["emergency_only"] else ""
    )
    actions = r["actions"]
    colour = {"SELL": "red", "TRIM": "yellow", "ADD": "green", "BUY": "green"}
    columns = [
        _Column("Ticker", [_in_account(a, " ({})") for a in actions], True, 100),
        _Column(
            "Action",
            [f"[{colour.get(a['action'], 'white')}]{a['action']}[/]" for a in actions],
            True,
            100,
        ),
        _Column("Amount", [f"{a['amount']:,.2f}" for a in actions], True, 100, True),
        _Column("Shares", [f"{a['shares']:g}" for a in actions], True, 60, True),
        _Column("Post-Trade %", [f"{a['post_trade_pct']:.2%}" for a in actions], True, 50, True),
        _Column("Rule", [escape(a["rule"]) for a in actions], keep=70),
        _Column("Flags", [escape(a["flags"]) for a in actions], keep=80),
    ]
    out.print(_table(out, title, columns))
    summary = _metrics_line(r["metrics"])
    if summary:
        out.print(summary, markup=False)
    reasons = [
        (_in_account(a, " in {}"), a["reason"])
        for a in actions
        if a["action"] != "HOLD" or a["flags"]
    ]
    if reasons:
        out.print(_hanging(reasons))
    tax = r["tax"]
    if tax["applies"]:
        out.print(
            f"Tax: short-term gain {tax['short_term_gain']:,.2f}, long-term gain "
            f"{tax['long_term_gain']:,.2f}, estimated tax {tax['estimated_tax']:,.2f}",
            markup=False,
        )
        sold = []
        for t in r["trades"]:
            if t["lots"]:
                lots = "; ".join(
                    f"{lot['shares']:g} sh bought {lot['acquired']} at "
                    f"{lot['cost_per_share']:,.2f} ({'long' if lot['long_term'] else 'short'}"
                    f"-term, {lot['gain']:+,.2f})"
                    for lot in t["lots"]
                )
                sold.append((t["ticker"], f"sells from lots: {lots}"))
        if sold:
            out.print(_hanging(sold))
    for note in tax["notes"]:
        out.print(Padding(Text(note), (0, 0, 0, 2)))
    accounts = []
    for acct in r.get("accounts", []):  # a household: where each order goes (SPEC §9)
        orders = [t for t in r["trades"] if t.get("account") == acct["account"]]
        listing = ", ".join(f"{t['side']} {t['shares']:g} {t['ticker']}" for t in orders)
        accounts.append(
            (
                f"{acct['account']} ({acct['type']})",
                f"{listing or 'no trades'}; cash {acct['cash']:,.2f} → {acct['cash_after']:,.2f}",
            )
        )
    if accounts:
        out.print(_hanging(accounts))
    out.print(
        f"Cash after trades: {r['cash_left']:,.2f}.  Next rebalance: {r['next_rebalance_date']}.",
        markup=False,
    )
    if dry_run:
        out.print("Dry run: nothing was written.")
    elif r.get("written"):
        out.print(
            f"Written to {r['written']} (Holdings outputs, Trades, History, "
            f"Log {r['as_of']}, Checklist).",
            markup=False,
        )
    for lost in r.get("content_lost", []):
        out.print(f"[yellow]warning:[/] the written copy lost: {escape(lost)}")


def _hanging(rows: Sequence[tuple[str, str]]) -> Table:
    """'  PLTR: reason …' lines, the reason wrapped under itself at the terminal's width."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for ticker, text in rows:
        grid.add_row(Text(f"  {ticker}:"), Text(text))
    return grid


def _in_account(a: dict[str, Any], form: str) -> str:
    """A ticker, with its account in a household ("PLTR (IRA)", "PLTR in IRA")."""
    account = a.get("account")
    return a["ticker"] + form.format(account) if account else str(a["ticker"])

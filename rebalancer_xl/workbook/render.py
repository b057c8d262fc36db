"""A plan, rendered as the writes that put it into the workbook. Pure: no openpyxl.

What a run writes: the Holdings output columns (Action … Flags), the Trades sheet (sells
first), one History row per run date, a `Log YYYY-MM-DD` sheet laid out like the
guide's quarterly log, and ticks on the Checklist for the steps the run did itself. A
second run on the same date replaces that date's Log sheet and History row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import AccountType, Action, Decision, LotSale, Plan
from rebalancer_xl.core.rules.metrics import QUARTER_PERFORMANCE_LABEL, QUARTER_RETURN_LABEL
from rebalancer_xl.core.rules.review import targets_reviewed
from rebalancer_xl.quarter.orders_plan import order_lines
from rebalancer_xl.quarter.tracking import checklist_ops, history_row_ops
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.formulas import holdings_formulas
from rebalancer_xl.workbook.grid import (
    AddSheet,
    Autofit,
    Book,
    ClearContents,
    DeleteSheet,
    FitRows,
    Formula,
    Op,
    PrintLayout,
    SetColor,
    SetFormat,
    SetValues,
    column_writes,
)
from rebalancer_xl.workbook.inputs import BookInputs, Table, find_table

# Light fills only: every xlwings client can colour a range but not its font, so the
# text stays black and must stay readable.
HEADER_COLOR = "BDD7EE"
LABEL_COLOR = S.BODY_FILL[S.Kind.OUTPUT]


#: Excel stores doubles; Decimals leave the core here. (`float` itself: it is called on
#: every number of every row written, and a wrapper would be a Python call each time.)
num: Callable[[Decimal], float] = float

# An enum member's `.value` is a descriptor call in CPython 3.11; rows read the word here.
_ACTION_WORD = {a: a.value for a in Action}


@dataclass(frozen=True, slots=True)
class RunInfo:
    as_of: date
    run_label: str  # "rebalancer-xl 0.1.0"


def render_plan(plan: Plan, inputs: BookInputs, book: Book, info: RunInfo) -> list[Op]:
    ops: list[Op] = []
    orders = trade_rows(plan, inputs)  # on the Trades sheet and in the Log alike
    ops += _holdings(plan, inputs)
    ops += _archive_fills(book, inputs, info)
    ops += _trades(plan, inputs, book, orders)
    ops += _history(plan, inputs, book)
    ops += _log(plan, inputs, book, info, orders)
    ops += _checklist(plan, inputs, book, info)
    return ops


# --- Holdings --------------------------------------------------------------------------


_OUTPUTS: tuple[tuple[str, str], ...] = (
    (S.HoldingsHeader.ACTION, S.GENERAL),
    (S.HoldingsHeader.AMOUNT, S.MONEY),
    (S.HoldingsHeader.SHARES_TO_TRADE, S.GENERAL),
    (S.HoldingsHeader.POST_TRADE, S.PERCENT),
    (S.HoldingsHeader.RULE, S.GENERAL),
    (S.HoldingsHeader.REASON, S.GENERAL),
    (S.HoldingsHeader.FLAGS, S.GENERAL),
)


def _holdings(plan: Plan, inputs: BookInputs) -> list[Op]:
    table = inputs.holdings_table
    assert table is not None
    first, last = table.first_row, table.last_row()
    ops: list[Op] = []
    if plan.is_household:
        # A ticker has a row per account: each decision knows its own row.
        by_row = {first + d.row: d for d in plan.decisions}
        ops += _new_rows(plan, table, last)
        last = max(last, *by_row)
    else:
        by_row = {
            inputs.holding_rows[d.ticker]: d
            for d in plan.decisions
            if d.ticker in inputs.holding_rows
        }
    blank = (None,) * len(_OUTPUTS)  # a blank row: clear what an earlier run left
    rows = [_outputs(by_row[r]) if r in by_row else blank for r in range(first, last + 1)]
    if not rows:
        return ops
    outputs = [table.columns[header] for header, _ in _OUTPUTS]
    ops += column_writes(
        S.HOLDINGS, first, dict(zip(outputs, zip(*rows, strict=True), strict=True))
    )
    for (_, fmt), col in zip(_OUTPUTS, outputs, strict=True):
        if fmt != S.GENERAL:
            ops.append(SetFormat(S.HOLDINGS, first, col, len(rows), 1, fmt))
    # The template wraps the Reason column: its rows grow to show the whole reason.
    ops.append(FitRows(S.HOLDINGS, first, len(rows), table.columns[S.HoldingsHeader.REASON]))
    return ops


def _new_rows(plan: Plan, table: Table, last: int) -> list[Op]:
    """A household buy in an account that had no row for the ticker opens one below the
    table (the table grows to take it): its ticker, account, 0 shares and price."""
    ops: list[Op] = []
    prices = {t.ticker: t.price for t in plan.trades}
    # The template's formulas (Current Value, % of Portfolio …) read "this row", so they
    # serve a new row as they are; written by the run, since neither the package nor
    # every Excel client fills a table's calculated columns into a row added below it.
    formulas = {
        table.columns[header]: Formula("=" + text)
        for header, text in holdings_formulas(household=True).items()
        if header in table.columns
    }
    for d in plan.decisions:
        r = table.first_row + d.row
        if r <= last:
            continue
        for col, formula in formulas.items():
            ops.append(SetValues(S.HOLDINGS, r, col, ((formula,),)))
        for header, value in (
            (S.HoldingsHeader.TICKER, d.ticker),
            (S.HoldingsHeader.ACCOUNT, d.account),
            (S.HoldingsHeader.SHARES, 0),
            (S.HoldingsHeader.CURRENT_PRICE, num(prices.get(d.ticker, d.value))),
        ):
            if header in table.columns:
                ops.append(SetValues(S.HOLDINGS, r, table.columns[header], ((value,),)))
    return ops


def _outputs(d: Decision) -> tuple[object, ...]:
    """One row's output cells, in `_OUTPUTS` order."""
    return (
        _ACTION_WORD[d.action],
        num(d.amount),
        num(d.shares),
        num(d.post_trade_weight),
        d.rule,
        d.reason,
        d.flag_text or None,
    )


# --- Trades ----------------------------------------------------------------------------


def _lots_text(lots: Sequence[LotSale]) -> str:
    return "; ".join(
        f"{s.shares.normalize():f} sh of {s.acquired.isoformat()} @ "
        f"{s.cost_per_share:,.2f} ({'LT' if s.long_term else 'ST'})"
        for s in lots
    )


def trade_headers(plan: Plan) -> tuple[str, ...]:
    """The Trades columns a plan writes: a household's orders also say their account."""
    headers = S.headers(S.TRADES_COLUMNS)
    return (*headers, S.TradesHeader.ACCOUNT) if plan.is_household else headers


def trade_formats(plan: Plan) -> tuple[str | None, ...]:
    """The number formats of `trade_headers`' columns (None: as the cell is)."""
    formats = tuple(
        None if c.number_format in (S.GENERAL, S.COUNT) else c.number_format
        for c in S.TRADES_COLUMNS
    )
    return (*formats, None) if plan.is_household else formats


def trade_rows(
    plan: Plan, inputs: BookInputs, account: str | None = None
) -> list[tuple[object, ...]]:
    """Orders as rows in `trade_headers` order (fills blank): limits moved by the Limit
    Offset, a new position's buy staged into weekly tranches (`quarter.orders_plan`);
    only `account`'s orders if given."""
    held: dict[str, Decimal] = {}
    for h in inputs.holdings:  # a household holds a ticker in several accounts
        held[h.ticker] = held.get(h.ticker, Decimal(0)) + h.shares
    rows: list[tuple[object, ...]] = []
    for line in order_lines(plan, inputs.settings, held):
        if account is not None and line.account != account:
            continue
        this, of = line.tranche
        rows.append(
            (
                line.side,
                line.ticker,
                num(line.shares),
                num(line.limit_price),
                num(line.amount),
                line.rule if of == 1 else f"{line.rule} (tranche {this} of {of})",
                _lots_text(line.lots) or None,
                None,
                None,
                None,
                None,
                line.planned,
                None,
            )
            + ((line.account,) if plan.is_household else ())
        )
    return rows


def _sheet_table(book: Book, sheet: str, key: str) -> Table | None:
    s = book.get(sheet)
    return None if s is None else find_table(s, key)


def _trades(plan: Plan, inputs: BookInputs, book: Book, rows: list[tuple[object, ...]]) -> list[Op]:
    ops: list[Op] = []
    table = _sheet_table(book, S.TRADES, S.TradesHeader.SIDE)
    headers = trade_headers(plan)
    if table is None:
        ops.append(AddSheet(S.TRADES))
        ops.append(SetValues(S.TRADES, 1, 1, (headers,)))
        ops.append(SetColor(S.TRADES, 1, 1, 1, len(headers), HEADER_COLOR))
        cols = {h: i + 1 for i, h in enumerate(headers)}
        first, old_last, width = 2, 1, len(headers)
    else:
        cols = dict(table.columns)
        first, old_last = table.first_row, table.last_row()
        width = max(cols.values())
        for header in headers:
            if header not in cols:  # a household's Account column, added after the others
                width += 1
                cols[header] = width
                ops.append(SetValues(S.TRADES, table.header_row, width, ((header,),)))
                ops.append(SetColor(S.TRADES, table.header_row, width, 1, 1, HEADER_COLOR))
    if old_last >= first:
        ops.append(ClearContents(S.TRADES, first, 1, old_last - first + 1, width))
    columns = zip(headers, zip(*rows, strict=True) if rows else (), strict=False)
    ops += column_writes(S.TRADES, first, {cols[h]: v for h, v in columns if h in cols})
    for header, fmt in (
        (S.TradesHeader.LIMIT_PRICE, S.MONEY),
        (S.TradesHeader.EST_AMOUNT, S.MONEY),
        (S.TradesHeader.PLANNED_DATE, S.DATE),
    ):
        if rows and header in cols:
            ops.append(SetFormat(S.TRADES, first, cols[header], len(rows), 1, fmt))
    return ops


def _archive_fills(book: Book, inputs: BookInputs, info: RunInfo) -> list[Op]:
    """Before Trades is replaced, copy filled rows into the Log of the run that proposed
    them (the latest earlier run), so the trade history survives for wash-sale checks."""
    table = _sheet_table(book, S.TRADES, S.TradesHeader.SIDE)
    if table is None or S.TradesHeader.FILLED_SHARES not in table.columns:
        return []
    filled = []
    header = S.headers(S.TRADES_COLUMNS)
    if S.TradesHeader.ACCOUNT in table.columns:  # a household's fills keep their account
        header = (*header, S.TradesHeader.ACCOUNT)
    for r in range(table.first_row, table.last_row() + 1):
        # The values as the sheet shows them: a fill typed as =5*2 is archived as 10 (the
        # archive is a record, and a formula copied elsewhere would point at other cells).
        # Read by header, so the archive has the schema's order whatever the sheet's is.
        row = {h: _shown(table.get(r, h)) for h in header}
        if all(row[h] not in (None, "") for h in _FILLED):
            filled.append(tuple(row.values()))
    earlier = sorted(e.date for e in inputs.history if e.date < info.as_of and not e.snapshot)
    target = S.log_sheet_name(earlier[-1]) if earlier else None
    if not filled or target is None or book.get(target) is None:
        return []
    log = book.get(target)
    assert log is not None
    if any(isinstance(v, str) and v == _EXECUTED for row in log.rows for v in row):
        return []  # archived by an earlier run already
    start = log.max_row + 2
    return [
        SetValues(target, start, 1, ((_EXECUTED,),)),
        SetValues(target, start + 1, 1, (header, *filled)),
        SetColor(target, start + 1, 1, 1, len(header), HEADER_COLOR),
    ]


_EXECUTED = "Executed trades (fills copied from the Trades sheet)"
_FILLED = (S.TradesHeader.FILLED_SHARES, S.TradesHeader.DATE)  # what makes a row a fill


def _shown(value: object) -> object:
    """A cell's value as a person sees it: a formula's calculated value, else its text."""
    if isinstance(value, Formula):
        return value.cached if value.cached is not None else value.text
    return value


# --- History ---------------------------------------------------------------------------


def quarter_performance(plan: Plan) -> float | None:
    """The History sheet's Quarter Return: SPEC §1's quarter performance."""
    p = plan.metrics.quarter_performance
    return None if p is None else num(p)


def _history(plan: Plan, inputs: BookInputs, book: Book) -> list[Op]:
    table = _sheet_table(book, S.HISTORY, S.HistoryHeader.DATE)
    headers = S.headers(S.HISTORY_COLUMNS)
    ops: list[Op] = []
    if table is None:
        ops.append(AddSheet(S.HISTORY))
        ops.append(SetValues(S.HISTORY, 1, 1, (headers,)))
        cols = {h: i + 1 for i, h in enumerate(headers)}
        row = 2
    else:
        cols = table.columns
        row = table.last_row() + 1
        for r in range(table.first_row, table.last_row() + 1):
            when = table.get(r, S.HistoryHeader.DATE)
            if hasattr(when, "date") and callable(when.date):
                when = when.date()
            kind = table.get(r, S.HistoryHeader.RUN_TYPE)
            if when == plan.as_of and kind not in S.SNAPSHOT_RUN_TYPES:
                row = r  # a second run on the same date replaces its row (not a snapshot)
                break
    values: dict[str, object] = {
        S.HistoryHeader.DATE: plan.as_of,
        S.HistoryHeader.VALUE: num(plan.portfolio_value),
        S.HistoryHeader.RETURN: quarter_performance(plan),
        S.HistoryHeader.STRATEGY: inputs.settings.strategy.value,
        S.HistoryHeader.TRADES: len(plan.trades),
        S.HistoryHeader.TURNOVER: num(plan.turnover),
        S.HistoryHeader.NEXT_DATE: plan.next_rebalance_date,
        S.HistoryHeader.RUN_TYPE: S.RUN_EMERGENCY if plan.emergency_only else S.RUN_FULL,
    }
    return ops + history_row_ops(row, cols, values)


# --- the dated Log sheet ---------------------------------------------------------------


def _log(
    plan: Plan, inputs: BookInputs, book: Book, info: RunInfo, orders: list[tuple[object, ...]]
) -> list[Op]:
    name = S.log_sheet_name(plan.as_of)
    ops: list[Op] = []
    if name in book.sheet_order:
        ops.append(DeleteSheet(name))
    ops.append(AddSheet(name))
    w = _Writer(name)
    w.title("Quarterly rebalancing log")
    m = plan.metrics
    w.pair("Date", plan.as_of, S.DATE)
    w.pair("Portfolio Value", num(plan.portfolio_value), S.MONEY)
    # Two different measures, so two labels that say what each one measures (SPEC §1's
    # quarter performance; the Performance sheet's and the Dashboard's quarter return).
    if m.quarter_performance is not None and m.performance_since is not None:
        w.pair(
            QUARTER_PERFORMANCE_LABEL.format(since=m.performance_since.isoformat()),
            num(m.quarter_performance),
            S.SIGNED_PERCENT,
        )
    else:
        w.pair(QUARTER_PERFORMANCE_LABEL.format(since="row"), "n/a (no earlier History row)")
    if m.quarter_return is not None:
        w.pair(QUARTER_RETURN_LABEL, num(m.quarter_return), S.SIGNED_PERCENT)
    if m.gain is not None:
        w.pair(
            "Gain/Loss since purchase",
            num(m.gain),
            S.MONEY,
            None if m.gain_pct is None else num(m.gain_pct),
            S.SIGNED_PERCENT,
        )
    if m.largest is not None:
        w.pair("Largest Position", m.largest[0], None, num(m.largest[1]), S.PERCENT)
    if m.smallest is not None:
        w.pair("Smallest Position", m.smallest[0], None, num(m.smallest[1]), S.PERCENT)
    w.pair("Strategy", inputs.settings.strategy.value)
    w.pair("Run Type", "Emergency only" if plan.emergency_only else "Full")
    w.pair("Written by", info.run_label)
    w.gap()

    table_top = w.r
    w.title("Holdings analysis")
    analysis_header = w.r  # the table that runs over pages in a big book
    w.table(
        (
            *S.headers(S.LOG_ANALYSIS_COLUMNS),
            str(S.HoldingsHeader.POST_TRADE),
            str(S.HoldingsHeader.RULE),
            str(S.HoldingsHeader.FLAGS),
        ),
        [
            (
                f"{d.ticker} ({d.account})" if d.account else d.ticker,
                num(d.value),
                num(d.weight),
                num(d.target),
                num(d.drift_pp / 100),
                _ACTION_WORD[d.action],  # SPEC §7's word, as on Holdings: the CASH row too
                num(d.amount),
                num(d.post_trade_weight),
                d.rule,
                d.flag_text or None,
            )
            for d in plan.decisions
        ],
        (
            None,
            S.MONEY,
            S.PERCENT,
            S.PERCENT,
            S.SIGNED_PERCENT,
            None,
            S.MONEY,
            S.PERCENT,
            None,
            None,
        ),
    )
    w.gap()

    if m.returns:
        # The Performance sheet moves on next quarter; the log keeps this one's.
        w.title("Performance since the last rebalance")
        w.table(
            tuple(
                map(
                    str,
                    (
                        S.PerformanceHeader.TICKER,
                        S.PerformanceHeader.LAST_PRICE,
                        S.PerformanceHeader.CURRENT_PRICE,
                        S.PerformanceHeader.RETURN,
                        S.PerformanceHeader.CONTRIBUTION,
                        S.PerformanceHeader.CLASS,
                    ),
                )
            ),
            [
                (
                    r.ticker,
                    num(r.last_price),
                    num(r.price),
                    num(r.quarterly_return),
                    None if r.contribution is None else num(r.contribution),
                    r.performance_class.value,
                )
                for r in m.returns
            ],
            (None, S.MONEY, S.MONEY, S.SIGNED_PERCENT, S.SIGNED_PERCENT, None),
        )
        w.gap()

    if plan.is_household:
        # The accounts execute: each one's orders and cash, as its broker will see them.
        for c in plan.accounts:
            account = c.account.name
            w.title(f"Trades in {account} ({c.account.type.value})")
            rows = trade_rows(plan, inputs, account)
            if rows:
                w.table(trade_headers(plan), rows, trade_formats(plan))
            else:
                w.line(f"No trades in {account} this run.")
            w.pair(f"Cash in {account}: before", num(c.cash), S.MONEY)
            w.pair(f"Cash in {account}: after trades", num(c.cash_after), S.MONEY)
            w.gap()
    w.title("Trades")
    if plan.trades:
        w.table(trade_headers(plan), orders, trade_formats(plan))
    else:
        w.line("No trades this run.")
    w.pair("Cash after trades", num(plan.cash_left), S.MONEY)
    table_bottom = w.r
    w.gap()

    w.title("Rationale")
    for d in plan.decisions:
        if d.action is not Action.HOLD or d.flags:
            where = f" in {d.account}" if d.account else ""
            w.line(f"{d.ticker}{where} {d.action.value}: {d.rule}. {d.reason}")
    for note in plan.notes:
        w.line(f"Note: {note}")
    for p in plan.problems:
        w.line(f"Warning: {p}")
    w.gap()

    tax = plan.tax
    w.title("Tax summary")
    if tax.applies:
        w.pair("Short-term gain", num(tax.short_term_gain), S.MONEY)
        w.pair("Long-term gain", num(tax.long_term_gain), S.MONEY)
        w.pair("Estimated tax", num(tax.estimated_tax), S.MONEY)
        if tax.disallowed_loss:
            w.pair("Loss disallowed (wash sales)", num(tax.disallowed_loss), S.MONEY)
    for note in tax.notes:
        w.line(note)
    if not tax.applies and not tax.notes:
        w.line("Taxes not estimated.")
    w.gap()
    w.pair("Next Rebalance Date", plan.next_rebalance_date, S.DATE)
    ops += w.ops
    # Fit the tables' columns; the long rationale lines below may run past them.
    ops.append(Autofit(name, table_top + 1, 1, table_bottom - table_top, 10))
    # Ten columns do not fit a portrait page: landscape, scaled to the page's width.
    # The holdings table's header repeats on every printed page.
    ops.append(PrintLayout(name, repeat_row=analysis_header))
    return ops


class _Writer:
    """Lays out the log top to bottom, one block after another."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.r = 1
        self._ops: list[Op] = []
        # Lines of text one under another, written as one block when something else
        # comes: the rationale has a line per trade (8,568 at 10,000 positions), and an
        # op each was a round trip each for the Excel button and a third of the Log's
        # cost in the batch writer.
        self._lines: list[tuple[str]] = []

    @property
    def ops(self) -> list[Op]:
        """The log's writes so far, the lines still held included."""
        self._flush()
        return self._ops

    def _flush(self) -> None:
        if self._lines:
            top = self.r - len(self._lines)
            self._ops.append(SetValues(self.sheet, top, 1, tuple(self._lines)))
            self._lines = []

    def title(self, text: str) -> None:
        self.ops.append(SetValues(self.sheet, self.r, 1, ((text,),)))
        self.ops.append(SetColor(self.sheet, self.r, 1, 1, 1, LABEL_COLOR))
        self.r += 1

    def pair(
        self,
        label: str,
        value: object,
        fmt: str | None = None,
        extra: object = None,
        extra_fmt: str | None = None,
    ) -> None:
        """A labelled value, and optionally a second one beside it (a share, a weight)."""
        values = (label, value) if extra is None else (label, value, extra)
        self.ops.append(SetValues(self.sheet, self.r, 1, (values,)))
        if fmt and not isinstance(value, str):
            self.ops.append(SetFormat(self.sheet, self.r, 2, 1, 1, fmt))
        if extra is not None and extra_fmt:
            self.ops.append(SetFormat(self.sheet, self.r, 3, 1, 1, extra_fmt))
        self.r += 1

    def header(self, headers: tuple[str, ...]) -> None:
        self.ops.append(SetValues(self.sheet, self.r, 1, (headers,)))
        self.ops.append(SetColor(self.sheet, self.r, 1, 1, len(headers), HEADER_COLOR))
        self.r += 1

    def table(
        self,
        headers: tuple[str, ...],
        rows: Sequence[tuple[object, ...]],
        formats: tuple[str | None, ...],
    ) -> None:
        """A header and its rows: one block of values, one number format per column.

        A write per block, not per cell: each op is a round trip for the Excel button,
        and a 10,000-row portfolio would otherwise cost over 100,000 of them.
        """
        self.header(headers)
        if not rows:
            return
        self.ops.append(SetValues(self.sheet, self.r, 1, tuple(rows)))
        for c, fmt in enumerate(formats, start=1):
            if fmt:
                self.ops.append(SetFormat(self.sheet, self.r, c, len(rows), 1, fmt))
        self.r += len(rows)

    def line(self, text: str) -> None:
        self._lines.append((text,))
        self.r += 1

    def gap(self) -> None:
        self._flush()
        self.r += 1


# --- Checklist -------------------------------------------------------------------------


def checklist_keys(plan: Plan, inputs: BookInputs) -> list[str]:
    """The steps the run did itself."""
    # Only what the run itself did: prices and shares are the user's (and `record`'s),
    # the calendar reminder is `rebalancer-xl calendar`'s.
    keys = [
        "analysis.tiers",
        "decision.caps",
        "decision.drift",
        "decision.downgrades",
        "decision.trades",
        "execution.orders",
        "documentation.rationale",
        "documentation.allocations",
    ]
    if any(h.last_price is not None for h in inputs.holdings):
        keys.append("analysis.returns")
    if plan.tax.applies and inputs.settings.account_type is AccountType.TAXABLE:
        keys.append("execution.taxes")
    if targets_reviewed(inputs.settings, plan.as_of):  # else the run warns instead
        keys.append("analysis.targets")
    return keys


def _checklist(plan: Plan, inputs: BookInputs, book: Book, info: RunInfo) -> list[Op]:
    keys = set(checklist_keys(plan, inputs))
    return checklist_ops(book, keys, f"ticked by the run of {plan.as_of.isoformat()}")

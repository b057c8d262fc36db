"""`rebalancer-xl record`: carry the fills typed into Trades into the rest of the workbook.

Pure: a `grid.Book` in, an `Edit` (the writes, or every problem with
its cell) out; the batch path and the Excel button carry the writes out alike.

For each fill (Filled Shares, Fill Price and Date typed on an order row, Applied blank):

- Holdings Shares move by the filled shares; the CASH row by the filled amount (sales
  add, buys subtract) less the optional Commission;
- Lots: a sale of the whole order takes the lots the plan named in Lots Used, any other
  quantity takes lots by the Lot Method; a buy adds a lot at its Fill Price and Date
  (for a new position, or a ticker that keeps lots); Purchase Price becomes the lots'
  average cost (without lots, a buy averages it with the fill price);
- a partial fill leaves the rest of the order open, as a new row at the end of Trades;
- the order row's Applied cell gets the date of recording: a fill is applied once.

The first recording of a plan (no order row applied yet) also moves Settings' Last
Rebalance Date to the plan's run date and the Performance sheet's Last Rebalance Price
to each position's price (so the next quarter's returns are measured from them).
Every recording notes itself in a History row of Run Type Record and ticks the
Checklist steps it did.

Example: the plan of 2026-12-31 sells 33 PLTR at $180. Filled Shares 20 at $181.50 on
2027-01-04 → PLTR 250 → 230 shares, CASH +$3,630.00, 20 shares leave PLTR's lots, an
open order for the other 13 is added to Trades, and the row's Applied says 2027-01-04.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import CASH, ZERO, Holding, Lot, cents
from rebalancer_xl.core.problems import message
from rebalancer_xl.core.rules.lots import order_lots
from rebalancer_xl.core.settings import Settings, is_blank
from rebalancer_xl.pipeline import Edit
from rebalancer_xl.quarter.fills import Fill, located, read_fills
from rebalancer_xl.quarter.tracking import as_date, cell_number, checklist_ops, snapshot_row_ops
from rebalancer_xl.quarter.trades_sheet import OrderRow, plain, read_orders, trades_table
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, ClearContents, Formula, Op, SetFormat, SetValues
from rebalancer_xl.workbook.inputs import BookInputs, Table, find_table, read_inputs
from rebalancer_xl.workbook.totals import writes_on_totals

_T = S.TradesHeader
_H = S.HoldingsHeader
_NAMED_LOT = re.compile(r"([\d.]+) sh of (\d{4}-\d{2}-\d{2}) @ ([\d,]+\.\d+)")
#: Average costs keep four places: enough for a per-share cost, short enough to read.
COST_PLACES = Decimal("0.0001")
CHECKLIST_KEYS = ("analysis.allocations", "documentation.holdings")


@dataclass(frozen=True, slots=True)
class Recording:
    """What a recording did, for the terminal, JSON and tests."""

    on: date
    plan_date: date | None
    fills: tuple[Fill, ...] = ()
    cash_change: Decimal = ZERO
    value_after: Decimal = ZERO
    rolled_forward: bool = False  # Last Rebalance Date and Performance prices moved on
    notes: tuple[str, ...] = ()


# --- applying them -------------------------------------------------------------------------


@dataclass(slots=True)
class _LotState:
    ticker: str
    acquired: date
    shares: Decimal
    cost: Decimal
    row: int | None  # Excel row on Lots; None for a lot this recording adds
    original: Decimal = ZERO


@dataclass(slots=True)
class _Books:
    """The quantities a recording changes, as they stand after each fill."""

    shares: dict[str, Decimal]
    purchase: dict[str, Decimal | None]
    cash: Decimal
    lots: dict[str, list[_LotState]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _named_lots(text: str) -> list[tuple[Decimal, date, Decimal]]:
    picks = []
    for shares, day, cost in _NAMED_LOT.findall(text):
        try:
            picks.append((Decimal(shares), date.fromisoformat(day), Decimal(cost.replace(",", ""))))
        except (ValueError, ArithmeticError):
            return []
    return picks


def _take_named(states: list[_LotState], text: str, shares: Decimal) -> bool:
    """Take the lots Lots Used names, if they are all there and add up to `shares`."""
    picks = _named_lots(text)
    if not picks or sum(p[0] for p in picks) != shares:
        return False
    chosen: list[tuple[_LotState, Decimal]] = []
    for n, day, cost in picks:
        match = next(
            (
                s
                for s in states
                if s.acquired == day
                and cents(s.cost) == cents(cost)
                and s.shares - sum((m for c, m in chosen if c is s), ZERO) >= n
            ),
            None,
        )
        if match is None:
            return False
        chosen.append((match, n))
    for state, n in chosen:
        state.shares -= n
    return True


def _take_by_method(
    states: list[_LotState], shares: Decimal, fill: Fill, settings: Settings
) -> None:
    live = [s for s in states if s.shares > 0]
    as_lots = [Lot(s.ticker, s.acquired, s.shares, s.cost, row=s.row or 0) for s in live]
    state_of = {id(lot): s for lot, s in zip(as_lots, live, strict=True)}
    left = shares
    for lot in order_lots(as_lots, fill.price, fill.on, settings.lot_method):
        if left <= 0:
            break
        state = state_of[id(lot)]
        n = min(state.shares, left)
        state.shares -= n
        left -= n


def _apply(fill: Fill, books: _Books, held_before: dict[str, Decimal], settings: Settings) -> None:
    o, t = fill.order, fill.order.ticker
    books.touched.add(t)
    states = books.lots.get(t)
    if o.side == "SELL":
        books.shares[t] -= fill.shares
        books.cash += fill.amount - fill.commission
        if states:
            whole = o.shares is not None and fill.shares == o.shares
            if not (whole and _take_named(states, o.lots_used, fill.shares)):
                _take_by_method(states, fill.shares, fill, settings)
        return
    old_shares, old_cost = books.shares[t], books.purchase.get(t)
    books.shares[t] += fill.shares
    books.cash -= fill.amount + fill.commission
    if states is not None or held_before.get(t, ZERO) == 0:
        books.lots.setdefault(t, []).append(
            _LotState(t, fill.on, fill.shares, fill.price, None, ZERO)
        )
    else:
        books.notes.append(
            f"{t} keeps no lots on the Lots sheet, so the {fill.shares:f} shares bought "
            "were not added there"
        )
    if t not in books.lots and (old_shares == 0 or old_cost is not None):
        base = old_cost or ZERO
        books.purchase[t] = (
            (old_shares * base + fill.shares * fill.price) / books.shares[t]
        ).quantize(COST_PLACES)


def _plan_date(inputs: BookInputs, orders: list[OrderRow], on: date) -> date | None:
    """The run date of the plan the fills belong to: the latest run in History."""
    runs = [e.date for e in inputs.history if not e.snapshot and e.date <= on]
    if runs:
        return max(runs)
    planned = [o.planned for o in orders if o.planned is not None]
    return min(planned) if planned else None


def plan_record(book: Book, on: date) -> Edit:
    """The writes that record the fills typed into Trades on `on`, or every problem."""
    inputs = read_inputs(book)
    warnings = [p for p in inputs.problems if not p.is_error]
    if inputs.errors:
        return Edit(False, problems=inputs.problems)
    table = trades_table(book)
    if table is None:
        return Edit(
            False,
            problems=[located("missing-sheet", message("missing-sheet", "trades"), S.TRADES, "")],
        )
    orders = read_orders(table)
    fills, problems = read_fills(orders, table, inputs, on)
    holdings = {h.ticker: h for h in inputs.holdings}
    htable = inputs.holdings_table
    assert htable is not None
    if fills and CASH not in holdings:
        problems.append(
            located(
                "missing-cash-row",
                message("missing-cash-row"),
                S.HOLDINGS,
                htable.cell(htable.first_row, _H.TICKER),
            )
        )
    for t in sorted({f.order.ticker for f in fills} | ({CASH} if fills else set())):
        if t in inputs.holding_rows and isinstance(
            htable.get(inputs.holding_rows[t], _H.SHARES), Formula
        ):
            problems.append(
                located(
                    "formula-in-input",
                    message("formula-in-input", ticker=t),
                    S.HOLDINGS,
                    htable.cell(inputs.holding_rows[t], _H.SHARES),
                    t,
                )
            )
    if problems:
        return Edit(False, problems=warnings + problems)
    plan_date = _plan_date(inputs, orders, on)
    if not fills:
        return Edit(True, problems=warnings, detail=Recording(on, plan_date))

    settings = inputs.settings
    books = _Books(
        shares={h.ticker: h.shares for h in inputs.holdings},
        purchase={h.ticker: h.purchase_price for h in inputs.holdings},
        cash=holdings[CASH].shares,
    )
    for lot in inputs.lots:
        books.lots.setdefault(lot.ticker, []).append(
            _LotState(lot.ticker, lot.acquired, lot.shares, lot.cost_per_share, lot.row, lot.shares)
        )
    held_before = dict(books.shares)
    for fill in fills:
        _apply(fill, books, held_before, settings)
    if books.cash < 0:
        row = inputs.holding_rows[CASH]
        return Edit(
            False,
            problems=[
                *warnings,
                located(
                    "cash-negative",
                    message("cash-negative", short=-books.cash, cash=holdings[CASH].shares),
                    S.HOLDINGS,
                    htable.cell(row, _H.SHARES),
                    CASH,
                ),
            ],
        )
    for t in books.touched:
        live = [s for s in books.lots.get(t, []) if s.shares > 0]
        total = sum((s.shares for s in live), ZERO)
        if total > 0:
            cost = sum((s.shares * s.cost for s in live), ZERO) / total
            books.purchase[t] = cost.quantize(COST_PLACES)

    value_after = sum(
        (books.shares[h.ticker] * h.price for h in inputs.holdings if not h.is_cash), ZERO
    )
    value_after += books.cash
    # The plan's first recording (no row of its Trades sheet applied yet) moves the
    # tracking on; later ones, for partial fills or staged tranches, leave it be.
    rolled = plan_date is not None and not any(o.applied for o in orders)
    ops: list[Op] = []
    ops += _holdings_ops(inputs, books, htable)
    ops += _lots_ops(book, books)
    ops += _trades_ops(table, fills, on)
    if rolled:
        assert plan_date is not None
        ops += _settings_ops(book, plan_date)
        ops += _performance_ops(book, inputs.holdings, books)
    applied_today = sum(1 for o in orders if o.applied and as_date(o.applied_raw) == on)
    ops += _history_ops(book, on, value_after, settings, applied_today + len(fills))
    ops += _checklist_ops(book, on)
    recording = Recording(
        on,
        plan_date,
        tuple(fills),
        books.cash - holdings[CASH].shares,
        cents(value_after),
        rolled,
        tuple(books.notes),
    )
    blocked = writes_on_totals(book, ops)  # a lot or a History row where a table sums
    if blocked:
        return Edit(False, problems=warnings + blocked)
    return Edit(True, ops, warnings, recording)


# --- the writes ----------------------------------------------------------------------------


def _holdings_ops(inputs: BookInputs, books: _Books, table: Table) -> list[Op]:
    ops: list[Op] = []
    shares_col = table.columns[_H.SHARES]
    price_col = table.columns.get(_H.PURCHASE_PRICE)
    for t in sorted(books.touched | {CASH}):
        row = inputs.holding_rows[t]
        value = books.cash if t == CASH else books.shares[t]
        ops.append(SetValues(S.HOLDINGS, row, shares_col, ((cell_number(value),),)))
        cost = books.purchase.get(t)
        if t != CASH and price_col is not None and cost is not None:
            old = next(h.purchase_price for h in inputs.holdings if h.ticker == t)
            if cost != old:
                ops.append(SetValues(S.HOLDINGS, row, price_col, ((cell_number(cost),),)))
    return ops


def _lots_ops(book: Book, books: _Books) -> list[Op]:
    sheet = book.get(S.LOTS)
    table = None if sheet is None else find_table(sheet, S.LotsHeader.TICKER)
    if table is None:
        return []
    cols = table.columns
    needed = (S.LotsHeader.TICKER, S.LotsHeader.ACQUIRED, S.LotsHeader.SHARES, S.LotsHeader.COST)
    if any(h not in cols for h in needed):
        return []
    ops: list[Op] = []
    next_row = table.last_row() + 1
    for t in sorted(books.touched):
        for s in books.lots.get(t, []):
            if s.row is not None:
                if s.shares == s.original:
                    continue
                if s.shares == 0:  # a lot sold out: its row is emptied
                    ops += [ClearContents(S.LOTS, s.row, cols[h], 1, 1) for h in needed]
                else:
                    ops.append(
                        SetValues(
                            S.LOTS, s.row, cols[S.LotsHeader.SHARES], ((cell_number(s.shares),),)
                        )
                    )
                continue
            for header, value, fmt in (
                (S.LotsHeader.TICKER, s.ticker, None),
                (S.LotsHeader.ACQUIRED, s.acquired, S.DATE),
                (S.LotsHeader.SHARES, cell_number(s.shares), None),
                (S.LotsHeader.COST, cell_number(s.cost), S.MONEY),
            ):
                ops.append(SetValues(S.LOTS, next_row, cols[header], ((value,),)))
                if fmt:
                    ops.append(SetFormat(S.LOTS, next_row, cols[header], 1, 1, fmt))
            next_row += 1
    return ops


def _trades_ops(table: Table, fills: list[Fill], on: date) -> list[Op]:
    ops: list[Op] = []
    cols = dict(table.columns)
    if _T.APPLIED not in cols:  # a Trades sheet from before `record`: give it the column
        col = max(cols.values()) + 1
        cols[_T.APPLIED] = col
        ops.append(SetValues(S.TRADES, table.header_row, col, ((str(_T.APPLIED),),)))
    for f in fills:
        ops.append(SetValues(S.TRADES, f.order.row, cols[_T.APPLIED], ((on,),)))
        ops.append(SetFormat(S.TRADES, f.order.row, cols[_T.APPLIED], 1, 1, S.DATE))
    row = table.last_row() + 1
    for f in fills:
        if f.rest <= 0:
            continue
        o = f.order
        ordered = o.shares or f.shares
        amount = None if o.amount is None else cents(o.amount * f.rest / ordered)
        values: dict[str, object] = {
            _T.SIDE: o.side,
            _T.TICKER: o.ticker,
            _T.SHARES: cell_number(f.rest),
            _T.LIMIT_PRICE: None if o.limit_price is None else cell_number(o.limit_price),
            _T.EST_AMOUNT: None if amount is None else cell_number(amount),
            _T.RULE: f"{o.rule} (rest of a partial fill)" if o.rule else "rest of a partial fill",
            _T.PLANNED_DATE: o.planned,
            "Account": o.account,
        }
        for header, value in values.items():
            if header in cols and value is not None:
                ops.append(SetValues(S.TRADES, row, cols[header], ((value,),)))
        for header, fmt in (
            (_T.LIMIT_PRICE, S.MONEY),
            (_T.EST_AMOUNT, S.MONEY),
            (_T.PLANNED_DATE, S.DATE),
        ):
            if header in cols:
                ops.append(SetFormat(S.TRADES, row, cols[header], 1, 1, fmt))
        row += 1
    return ops


def _settings_ops(book: Book, plan_date: date) -> list[Op]:
    sheet = book.get(S.SETTINGS_SHEET)
    table = None if sheet is None else find_table(sheet, S.SettingsHeader.SETTING)
    if table is None or S.SettingsHeader.VALUE not in table.columns:
        return []
    name = "Last Rebalance Date"
    value_col = table.columns[S.SettingsHeader.VALUE]
    row = None
    for r in range(table.first_row, table.last_row() + 1):
        text = plain(table.get(r, S.SettingsHeader.SETTING))
        if isinstance(text, str) and text.strip().casefold() == name.casefold():
            row = r
            break
    ops: list[Op] = []
    if row is None:  # a Settings sheet without the row: add it
        row = table.last_row() + 1
        ops.append(
            SetValues(S.SETTINGS_SHEET, row, table.columns[S.SettingsHeader.SETTING], ((name,),))
        )
    ops.append(SetValues(S.SETTINGS_SHEET, row, value_col, ((plan_date,),)))
    ops.append(SetFormat(S.SETTINGS_SHEET, row, value_col, 1, 1, S.DATE))
    return ops


def _performance_ops(book: Book, holdings: tuple[Holding, ...], books: _Books) -> list[Op]:
    """Each position's price now becomes its Last Rebalance Price: next quarter's base."""
    sheet = book.get(S.PERFORMANCE)
    table = None if sheet is None else find_table(sheet, S.PerformanceHeader.TICKER)
    if table is None or S.PerformanceHeader.LAST_PRICE not in table.columns:
        return []
    tcol = table.columns[S.PerformanceHeader.TICKER]
    pcol = table.columns[S.PerformanceHeader.LAST_PRICE]
    rows: dict[str, int] = {}
    free: list[int] = []
    for r in range(table.first_row, table.last_row() + 1):
        ticker = plain(table.get(r, S.PerformanceHeader.TICKER))
        if is_blank(ticker) and is_blank(plain(table.get(r, S.PerformanceHeader.LAST_PRICE))):
            free.append(r)  # the template's rows wait with their formulas for a ticker
        elif isinstance(ticker, str):
            rows.setdefault(ticker.strip().upper(), r)
    end = table.last_row() + 1
    ops: list[Op] = []
    for h in holdings:
        row = rows.get(h.ticker)
        if row is None:
            if books.shares.get(h.ticker, ZERO) == 0:
                continue  # nothing held: no return to measure next quarter
            row = free.pop(0) if free else end
            end += row == end
            ops.append(SetValues(S.PERFORMANCE, row, tcol, ((h.ticker,),)))
        ops.append(SetValues(S.PERFORMANCE, row, pcol, ((cell_number(h.price),),)))
        ops.append(SetFormat(S.PERFORMANCE, row, pcol, 1, 1, S.MONEY))
    return ops


def _history_ops(book: Book, on: date, value: Decimal, settings: Settings, fills: int) -> list[Op]:
    return snapshot_row_ops(
        book,
        on,
        S.RUN_RECORD,
        {
            S.HistoryHeader.VALUE: float(cents(value)),
            S.HistoryHeader.STRATEGY: settings.strategy.value,
            S.HistoryHeader.TRADES: fills,
        },
    )


def _checklist_ops(book: Book, on: date) -> list[Op]:
    return checklist_ops(book, CHECKLIST_KEYS, f"ticked by record of {on.isoformat()}")

"""The fills typed into Trades, read and checked against the plan, every problem by cell.

A fill is an order row with Filled Shares typed and Applied blank. It is refused, with
the cell to fix, when a number is not a number (text in Fill Price), a price or date is
missing, the date lies after the day of recording, more shares are filled than ordered,
a sale takes more than Holdings holds, or the plan did not propose that trade: no
Holdings row for the ticker, or its Action (TRIM/SELL, ADD/BUY) on the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import CASH, ZERO, CellRef, Problem, Where, cents
from rebalancer_xl.core.past import order_side
from rebalancer_xl.core.problems import message
from rebalancer_xl.core.settings import is_blank
from rebalancer_xl.core.values import BadValue, parse_date, parse_decimal
from rebalancer_xl.quarter.trades_sheet import OrderRow, plain
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.inputs import BookInputs, Table

_T = S.TradesHeader
_H = S.HoldingsHeader


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill read from an order row, checked and ready to apply."""

    order: OrderRow
    shares: Decimal
    price: Decimal
    on: date
    commission: Decimal

    @property
    def amount(self) -> Decimal:
        return cents(self.shares * self.price)

    @property
    def rest(self) -> Decimal:
        """Shares of the order still open after this fill."""
        ordered = self.order.shares or ZERO
        return max(ZERO, ordered - self.shares)


def located(code: str, text: str, sheet: str, cell: str, ticker: str | None = None) -> Problem:
    """A problem at `sheet`!`cell`, worded `text` (the catalogue's, or a value's own)."""
    return Problem(code, text, Where(sheet, ticker=ticker, cell=CellRef(sheet, cell)))


def _proposed_sides(inputs: BookInputs) -> dict[str, str]:
    """The side the plan proposed for each ticker, from Holdings' Action column."""
    table = inputs.holdings_table
    sides: dict[str, str] = {}
    if table is None:
        return sides
    for ticker, row in inputs.holding_rows.items():
        action = plain(table.get(row, _H.ACTION))
        side = order_side(action)
        if side is not None:
            sides[ticker] = side
    return sides


def read_fills(
    orders: list[OrderRow], table: Table, inputs: BookInputs, on: date
) -> tuple[list[Fill], list[Problem]]:
    """The fills typed and not yet applied, and every problem with them, by cell."""
    held = {h.ticker: h for h in inputs.holdings}
    proposed = _proposed_sides(inputs)
    fills: list[Fill] = []
    problems: list[Problem] = []
    sold: dict[str, Decimal] = {}
    for o in orders:
        if o.applied or not o.filled:
            continue

        def cell(header: str, o: OrderRow = o) -> str:
            return table.cell(o.row, header) if header in table.columns else f"{o.row}:{o.row}"

        def flag(code: str, text: str, header: str, o: OrderRow = o) -> None:
            problems.append(located(code, text, S.TRADES, cell(header), o.ticker or None))

        before = len(problems)
        shares = price = None
        when = None
        commission = ZERO
        try:
            shares = parse_decimal(o.filled_raw, _T.FILLED_SHARES)
        except BadValue as err:
            flag(err.code, err.message, _T.FILLED_SHARES)
        if shares is not None and shares < 0:
            flag("bad-fill", message("bad-fill", shares=shares), _T.FILLED_SHARES)
        if shares == 0:
            continue  # nothing traded on this row (yet)
        if is_blank(o.price_raw):
            flag("missing-fill-price", message("missing-fill-price"), _T.FILL_PRICE)
        else:
            try:
                price = parse_decimal(o.price_raw, _T.FILL_PRICE)
                if price <= 0:
                    flag("bad-price", message("bad-price", "fill", price=price), _T.FILL_PRICE)
            except BadValue as err:
                flag(err.code, err.message, _T.FILL_PRICE)
        if is_blank(o.date_raw):
            flag("missing-fill-date", message("missing-fill-date"), _T.DATE)
        else:
            try:
                when = parse_date(o.date_raw, _T.DATE)
                if when > on:
                    said = message("date-in-future", "fill", when=when, on=on)
                    flag("date-in-future", said, _T.DATE)
            except BadValue as err:
                flag(err.code, err.message, _T.DATE)
        if not is_blank(o.commission_raw):
            try:
                commission = parse_decimal(o.commission_raw, _T.COMMISSION)
                if commission < 0:
                    said = message("bad-commission", commission=commission)
                    flag("bad-commission", said, _T.COMMISSION)
            except BadValue as err:
                flag(err.code, err.message, _T.COMMISSION)
        if o.ticker not in held or o.ticker == CASH:
            form = "not-held" if o.ticker else "blank-ticker"
            flag("not-proposed", message("not-proposed", form, ticker=o.ticker), _T.TICKER)
        elif proposed.get(o.ticker) != o.side:
            what = proposed.get(o.ticker)
            form = "other-side" if what else "no-trade"
            said = message("not-proposed", form, side=o.side, ticker=o.ticker, proposed=what)
            flag("not-proposed", said, _T.SIDE)
        if shares is not None and shares > 0:
            if o.shares is None:
                flag("not-a-number", message("not-a-number", "order-shares"), _T.SHARES)
            elif shares > o.shares:
                said = message("more-than-ordered", shares=shares, ordered=o.shares)
                flag("more-than-ordered", said, _T.FILLED_SHARES)
            if o.side == "SELL" and o.ticker in held:
                sold[o.ticker] = sold.get(o.ticker, ZERO) + shares
                if sold[o.ticker] > held[o.ticker].shares:
                    said = message(
                        "sells-more-than-held",
                        sold=sold[o.ticker],
                        ticker=o.ticker,
                        held=held[o.ticker].shares,
                    )
                    flag("sells-more-than-held", said, _T.FILLED_SHARES)
        if len(problems) == before:
            assert shares is not None
            assert price is not None
            assert when is not None
            fills.append(Fill(o, shares, price, when, commission))
    return fills, problems

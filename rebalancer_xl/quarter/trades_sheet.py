"""The Trades sheet read back: each order row, what was typed as its fill, and its state.

Pure: a `grid.Book` in, `OrderRow`s out. An order is *open* while nothing is typed in
Filled Shares and Applied is blank; *filled* once Filled Shares is typed; *applied* once
`record` has carried the fill into Holdings and Lots and dated the Applied cell.
Anything at all in Applied counts as applied, so a fill is never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.settings import is_blank
from rebalancer_xl.core.values import BadValue, parse_date, parse_decimal
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Formula
from rebalancer_xl.workbook.inputs import Table, find_table

SIDES = ("SELL", "BUY")
_T = S.TradesHeader


def plain(value: object) -> object:
    """A formula's cached value (what a person sees), else the value itself."""
    return value.cached if isinstance(value, Formula) else value


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One row of the Trades sheet with a SELL or BUY side; raw fill cells kept as typed."""

    row: int  # Excel row
    side: str  # SELL | BUY (as typed, upper-cased)
    ticker: str
    shares: Decimal | None  # ordered; None if unreadable
    limit_price: Decimal | None
    amount: Decimal | None
    rule: str
    lots_used: str
    planned: date | None
    account: str | None
    filled_raw: object
    price_raw: object
    date_raw: object
    commission_raw: object
    applied_raw: object

    @property
    def applied(self) -> bool:
        return not is_blank(self.applied_raw)

    @property
    def filled(self) -> bool:
        return not is_blank(self.filled_raw)

    @property
    def open(self) -> bool:
        return not self.applied and not self.filled


def trades_table(book: Book) -> Table | None:
    sheet = book.get(S.TRADES)
    return None if sheet is None else find_table(sheet, _T.SIDE)


def _number(raw: object, what: str) -> Decimal | None:
    try:
        return parse_decimal(raw, what)
    except BadValue:
        return None


def _date(raw: object, what: str) -> date | None:
    try:
        return parse_date(raw, what)
    except BadValue:
        return None


def read_orders(table: Table) -> list[OrderRow]:
    """Every row of the table whose Side is SELL or BUY, in sheet order."""
    rows: list[OrderRow] = []
    for r in range(table.first_row, table.last_row() + 1):

        def get(header: str, r: int = r) -> object:
            return plain(table.get(r, header))

        side = get(_T.SIDE)
        if not isinstance(side, str) or side.strip().upper() not in SIDES:
            continue
        account = get("Account")
        rows.append(
            OrderRow(
                row=r,
                side=side.strip().upper(),
                ticker=str(get(_T.TICKER) or "").strip().upper(),
                shares=_number(get(_T.SHARES), _T.SHARES),
                limit_price=_number(get(_T.LIMIT_PRICE), _T.LIMIT_PRICE),
                amount=_number(get(_T.EST_AMOUNT), _T.EST_AMOUNT),
                rule=str(get(_T.RULE) or ""),
                lots_used=str(get(_T.LOTS_USED) or ""),
                planned=_date(get(_T.PLANNED_DATE), _T.PLANNED_DATE),
                account=None if is_blank(account) else str(account).strip(),
                filled_raw=get(_T.FILLED_SHARES),
                price_raw=get(_T.FILL_PRICE),
                date_raw=get(_T.DATE),
                commission_raw=get(_T.COMMISSION),
                applied_raw=get(_T.APPLIED),
            )
        )
    return rows

"""`rebalancer-xl orders`: the open orders of the Trades sheet as a CSV for the broker.

An order is open while nothing is typed in its Filled Shares and it is not Applied.
Orders come sells first (place them first to raise the cash), as limit orders at the
Trades sheet's Limit Price. Staged tranches whose Planned Date is still ahead are left
out until they are due.

Two layouts:

- ``generic``: Side, Ticker, Quantity, Order Type, Limit Price, Time in Force, Account,
  Planned Date — one order a row, for any broker's import or a person's eyes;
- ``ibkr``: Interactive Brokers' BasketTrader CSV (TWS → Trade → BasketTrader → Load):
  Action, Quantity, Symbol, SecType, Exchange, Currency, TimeInForce, OrderType,
  LmtPrice, Account, BasketTag — stocks (STK) routed SMART, in the currency given
  (USD by default); BasketTag names the plan, so the fills can be found in TWS reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rebalancer_xl.quarter.trades_sheet import OrderRow

ORDER_TYPE = "LMT"
GENERIC_COLUMNS = (
    "Side",
    "Ticker",
    "Quantity",
    "Order Type",
    "Limit Price",
    "Time in Force",
    "Account",
    "Planned Date",
)
IBKR_COLUMNS = (
    "Action",
    "Quantity",
    "Symbol",
    "SecType",
    "Exchange",
    "Currency",
    "TimeInForce",
    "OrderType",
    "LmtPrice",
    "Account",
    "BasketTag",
)
FORMATS = ("generic", "ibkr")
TIME_IN_FORCE = ("DAY", "GTC")


@dataclass(frozen=True, slots=True)
class OrderOptions:
    due_by: date  # tranches planned after this day are not due yet
    time_in_force: str = "DAY"
    account: str = ""
    currency: str = "USD"
    tag: str = ""


def open_orders(orders: Sequence[OrderRow], due_by: date) -> tuple[list[OrderRow], list[OrderRow]]:
    """(orders to place now, sells first; staged orders not yet due)."""
    live = [o for o in orders if o.open and o.shares is not None and o.shares > 0]
    due = [o for o in live if o.planned is None or o.planned <= due_by]
    later = [o for o in live if o not in due]
    due.sort(key=lambda o: 0 if o.side == "SELL" else 1)  # stable: sheet order within a side
    return due, later


def _qty(o: OrderRow) -> str:
    assert o.shares is not None
    return f"{o.shares.normalize():f}"


def _limit(o: OrderRow) -> str:
    return "" if o.limit_price is None else f"{o.limit_price:.2f}"


def render_csv(orders: Sequence[OrderRow], layout: str, options: OrderOptions) -> str:
    """The CSV text of `orders` in `layout` ("generic" or "ibkr")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if layout == "generic":
        writer.writerow(GENERIC_COLUMNS)
        for o in orders:
            writer.writerow(
                (
                    o.side,
                    o.ticker,
                    _qty(o),
                    ORDER_TYPE,
                    _limit(o),
                    options.time_in_force,
                    o.account or options.account,
                    "" if o.planned is None else o.planned.isoformat(),
                )
            )
    elif layout == "ibkr":
        writer.writerow(IBKR_COLUMNS)
        for o in orders:
            writer.writerow(
                (
                    o.side,
                    _qty(o),
                    o.ticker,
                    "STK",
                    "SMART",
                    options.currency,
                    options.time_in_force,
                    ORDER_TYPE,
                    _limit(o),
                    o.account or options.account,
                    options.tag,
                )
            )
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return out.getvalue()

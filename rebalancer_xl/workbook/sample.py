"""The sample portfolio the template can fill in: a worked example to try the tool on.

It is the guide's six-stock portfolio plus cash, worth exactly $120,000 on 2026-12-31,
one quarter after a rebalance on 2026-09-30. Rows are keyed by header text so the
template can lay them out in whatever column order the schema gives.
"""

from __future__ import annotations

from datetime import date

from rebalancer_xl.workbook.schema import (
    RUN_FULL,
    AccountsHeader,
    HistoryHeader,
    HoldingsHeader,
    LotsHeader,
    PerformanceHeader,
)

AS_OF = date(2026, 12, 31)
LAST_REBALANCE = date(2026, 9, 30)
TARGETS_REVIEWED = date(2026, 1, 15)  # the yearly review of targets, this year

#: Settings that differ from the defaults; everything else is left at its default.
SETTINGS: dict[str, object] = {
    "As-of Date": AS_OF,
    "Last Rebalance Date": LAST_REBALANCE,
    "Targets Reviewed": TARGETS_REVIEWED,
}

_H = HoldingsHeader
_HOLDING_FIELDS = (
    _H.TICKER,
    _H.PURCHASE_PRICE,
    _H.CURRENT_PRICE,
    _H.SHARES,
    _H.TARGET,
    _H.SCORE,
    _H.PREVIOUS_SCORE,
    _H.EXIT_TRIGGERS,
    _H.COMPANY_EVENT,
    _H.LOCK,
)
# Purchase Price is each ticker's average cost over its lots below.
_HOLDING_ROWS: tuple[tuple[object, ...], ...] = (
    ("PLTR", 95, 180, 250, 0.30, 78, 80, 0, "No", "No"),
    ("ALAB", 110, 132, 200, 0.25, 70.8, 68, 0, "No", "No"),
    ("CRWV", 120, 96, 220, 0.20, 66, 65.2, 0, "No", "No"),
    ("ARM", 140, 150, 80, 0.10, 62, 64, 0, "No", "No"),
    ("TEM", 80, 56, 125, 0.10, 55.2, 48, 0, "No", "No"),
    ("IONQ", 45, 42, 150, 0.05, 41, 52, 0, "No", "No"),
    ("CASH", 1, 1, 2180, 0, None, None, 0, "No", "No"),
)
HOLDINGS: tuple[dict[str, object], ...] = tuple(
    dict(zip(_HOLDING_FIELDS, row, strict=True)) for row in _HOLDING_ROWS
)

# The one row an empty workbook starts with: cash is a row like any position, and a new
# user would not guess that it must be there nor how it is typed.
CASH_ROW: dict[str, object] = {
    _H.TICKER: "CASH",
    _H.CURRENT_PRICE: 1,
    _H.SHARES: 0,
    _H.TARGET: 0,
}
CASH_NOTE = (
    "Your cash. Type its balance in Shares (Current Price stays 1) and its target in "
    "Target %. Keep this row: sales pay into it and buys are paid from it."
)

_LAST_PRICES = {"PLTR": 150, "ALAB": 125, "CRWV": 110, "ARM": 145, "TEM": 70, "IONQ": 44, "CASH": 1}
PERFORMANCE: tuple[dict[str, object], ...] = tuple(
    {PerformanceHeader.TICKER: ticker, PerformanceHeader.LAST_PRICE: price}
    for ticker, price in _LAST_PRICES.items()
)

# A mix of long-term lots (bought before 2025-12-31) and short-term ones, some of them
# under water at today's prices, so tax-aware lot picking has something to choose from.
_LOT_ROWS: tuple[tuple[str, date, int, float], ...] = (
    ("PLTR", date(2025, 3, 14), 150, 80.00),
    ("PLTR", date(2026, 5, 20), 100, 117.50),
    ("ALAB", date(2025, 6, 10), 120, 98.00),
    ("ALAB", date(2026, 8, 14), 80, 128.00),
    ("CRWV", date(2025, 10, 1), 140, 112.00),
    ("CRWV", date(2026, 7, 8), 80, 134.00),
    ("ARM", date(2025, 2, 11), 80, 140.00),
    ("TEM", date(2025, 9, 5), 75, 72.00),
    ("TEM", date(2026, 3, 18), 50, 92.00),
    ("IONQ", date(2026, 6, 24), 150, 45.00),
)
LOTS: tuple[dict[str, object], ...] = tuple(
    {LotsHeader.TICKER: t, LotsHeader.ACQUIRED: d, LotsHeader.SHARES: s, LotsHeader.COST: c}
    for t, d, s, c in _LOT_ROWS
)

_Y = HistoryHeader
_HISTORY_ROWS: tuple[tuple[date, float, int, float, date], ...] = (
    (date(2026, 3, 31), 96_500, 3, 0.041, date(2026, 6, 30)),
    (date(2026, 6, 30), 98_200, 2, 0.027, date(2026, 9, 30)),
    (date(2026, 9, 30), 104_000, 4, 0.063, date(2026, 12, 31)),
)


def _history() -> tuple[dict[str, object], ...]:
    rows: list[dict[str, object]] = []
    previous: float | None = None
    for day, value, trades, turnover, next_date in _HISTORY_ROWS:
        rows.append(
            {
                _Y.DATE: day,
                _Y.VALUE: value,
                # The first entry has nothing to compare with, so its return stays blank.
                _Y.RETURN: None if previous is None else round(value / previous - 1, 6),
                _Y.STRATEGY: "Hybrid",
                _Y.TRADES: trades,
                _Y.TURNOVER: turnover,
                _Y.NEXT_DATE: next_date,
                _Y.RUN_TYPE: RUN_FULL,
            }
        )
        previous = value
    return tuple(rows)


HISTORY: tuple[dict[str, object], ...] = _history()

NOTE = (
    "Sample data: an example portfolio as of 2026-12-31, for trying the tool. "
    "Replace Holdings, Performance, Lots and History with your own."
)


# --- the household sample: the same portfolio held in two accounts (SPEC §9) -------------

BROKERAGE, IRA = "Brokerage", "IRA"
ACCOUNTS: tuple[dict[str, object], ...] = (
    {AccountsHeader.ACCOUNT: BROKERAGE, AccountsHeader.TYPE: "Taxable", AccountsHeader.NOTE: ""},
    {
        AccountsHeader.ACCOUNT: IRA,
        AccountsHeader.TYPE: "Retirement",
        AccountsHeader.NOTE: "Traditional IRA: sells here cost no tax",
    },
)

# (account, shares) per ticker; the targets are the household's, given on the first row.
_SPLIT: dict[str, tuple[tuple[str, int], ...]] = {
    "PLTR": ((BROKERAGE, 100), (IRA, 150)),
    "ALAB": ((BROKERAGE, 200),),
    "CRWV": ((IRA, 220),),
    "ARM": ((IRA, 80),),
    "TEM": ((BROKERAGE, 125),),
    "IONQ": ((BROKERAGE, 150),),
    "CASH": ((BROKERAGE, 1180), (IRA, 1000)),
}


def _household_holdings() -> tuple[dict[str, object], ...]:
    rows: list[dict[str, object]] = []
    for row in HOLDINGS:
        for i, (account, shares) in enumerate(_SPLIT[str(row[_H.TICKER])]):
            split = {**row, _H.SHARES: shares, _H.ACCOUNT: account}
            if i:  # the household's target is given once
                split[_H.TARGET] = None
            rows.append(split)
    return tuple(rows)


HOUSEHOLD_HOLDINGS = _household_holdings()

# The Brokerage account's lots (an IRA's sales are not taxed, so its lots are not needed).
_HOUSEHOLD_LOTS: tuple[tuple[str, date, int, float], ...] = (
    ("PLTR", date(2025, 3, 14), 100, 80.00),
    ("ALAB", date(2025, 6, 10), 120, 98.00),
    ("ALAB", date(2026, 8, 14), 80, 128.00),
    ("TEM", date(2025, 9, 5), 75, 72.00),
    ("TEM", date(2026, 3, 18), 50, 92.00),
    ("IONQ", date(2026, 6, 24), 150, 45.00),
)
HOUSEHOLD_LOTS: tuple[dict[str, object], ...] = tuple(
    {
        LotsHeader.TICKER: t,
        LotsHeader.ACQUIRED: d,
        LotsHeader.SHARES: s,
        LotsHeader.COST: c,
        LotsHeader.ACCOUNT: BROKERAGE,
    }
    for t, d, s, c in _HOUSEHOLD_LOTS
)

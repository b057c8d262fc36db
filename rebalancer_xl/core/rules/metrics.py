"""The quarter's numbers (SPEC §1): what the portfolio is worth, what it gained since
purchase, its largest and smallest position, and each position's return since the last
rebalance with its class and its part of the portfolio's return.

They are measured on the holdings as they stand, before new capital or a withdrawal,
exactly as the workbook's Dashboard and Performance formulas measure them, so the sheet
and the engine agree. Example: PLTR was $150 at the last rebalance and is $180 now:
+20.0%, a Winner (≥ +20%); held at 250 shares out of a book then worth $115,830, its
weight was 32.4% and it contributed +6.5 points to the quarter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rebalancer_xl.core.model import (
    CASH,
    ZERO,
    HistoryEntry,
    Holding,
    Metrics,
    PerformanceClass,
    PositionReturn,
)

WINNER_FROM = Decimal("0.20")
LAGGARD_BELOW = Decimal("-0.10")
_RETURN_STEP = Decimal("0.0001")  # classes compare returns rounded to 0.01 %, as the sheet


def performance_class(quarterly_return: Decimal) -> PerformanceClass:
    """Winner at +20% or more, Laggard below −10%, In-line between.

    The return is rounded to 0.01% first, as drift is rounded to 0.01 pp: in floating
    point 180/150 − 1 is 0.19999…, and the sheet (which rounds too) calls it a Winner.
    """
    r = quarterly_return.quantize(_RETURN_STEP, ROUND_HALF_UP)
    if r >= WINNER_FROM:
        return PerformanceClass.WINNER
    if r >= LAGGARD_BELOW:
        return PerformanceClass.IN_LINE
    return PerformanceClass.LAGGARD


# The Dashboard, the Performance sheet, the Log and the terminal all say these.
QUARTER_RETURN_LABEL = "Quarter return since last rebalance"  # prices × last weights
QUARTER_PERFORMANCE_LABEL = "Quarter performance (value vs History {since})"


def quarter_performance(
    value: Decimal, history: Sequence[HistoryEntry], as_of: date
) -> tuple[Decimal | None, date | None]:
    """SPEC §1's quarter performance: `value` against the value of the latest History
    row before `as_of` (a second run on the same date compares with the one before),
    and that row's date; (None, None) without one. Snapshot rows (recorded fills, a
    between-quarter check) are not runs, so a quarter is not measured from them."""
    earlier = [e for e in history if e.date < as_of and e.portfolio_value > 0 and not e.snapshot]
    if not earlier:
        return None, None
    last = max(earlier, key=lambda e: e.date)
    return value / last.portfolio_value - 1, last.date


def portfolio_metrics(
    holdings: Sequence[Holding],
    history: Sequence[HistoryEntry] = (),
    as_of: date | None = None,
    value_now: Decimal | None = None,
) -> Metrics:
    """The totals of SPEC §1 and the Performance table, for holdings as they stand;
    with `history`, `as_of` and the run's portfolio value, the quarter performance."""
    # One pass over the holdings (a plan's set-up runs it on every row), each sum taken
    # in the holdings' order as sum() would.
    value = cost = ZERO
    # The value of the positions with a known cost: None while every row so far has
    # one, when it is `value`, the same sum of the same rows in the same order. The
    # first row without one starts it from `value` as it stands; most books have a
    # cost on every row and take one sum fewer (−0.55k instructions a position).
    costed_value: Decimal | None = None
    costed = False
    largest = smallest = None
    most = least = ZERO  # their values
    for h in holdings:
        v = h.value
        # Only positions with a known cost can have gained: a blank Purchase Price is
        # unknown, not free (which would count the whole position as gain).
        paid = h.purchase_price
        if paid is None:
            if costed_value is None:
                costed_value = value
        else:
            costed = True
            if costed_value is not None:
                costed_value += v
            if paid:
                cost += h.shares * paid
        value += v
        # Largest and smallest are among stock positions: cash is not a position to
        # trim, and a new pick with no shares yet is not held. First of equals wins, as
        # max and min would pick.
        if h.ticker != CASH:
            if largest is None or v > most:
                largest, most = h, v
            # `v`: shares and prices are never negative, and a truth test is `> ZERO`
            if v and (smallest is None or v < least):
                smallest, least = h, v
    if costed_value is None:
        costed_value = value
    gain = costed_value - cost if costed else None

    priced = [h for h in holdings if h.last_price is not None]
    last_value = sum((h.shares * h.last_price for h in priced if h.last_price), ZERO)
    returns = []
    for h in priced:
        assert h.last_price is not None
        if h.last_price == 0:
            continue  # no return from a price of zero (the sheet shows a blank)
        r = h.price / h.last_price - 1
        weight = h.shares * h.last_price / last_value if last_value else None
        returns.append(
            PositionReturn(
                ticker=h.ticker,
                last_price=h.last_price,
                price=h.price,
                quarterly_return=r,
                last_weight=weight,
                contribution=None if weight is None else weight * r,
                performance_class=performance_class(r),
            )
        )
    contributions = [p.contribution for p in returns if p.contribution is not None]
    performance, since = (
        quarter_performance(value_now, history, as_of)
        if value_now is not None and as_of is not None
        else (None, None)
    )
    return Metrics(
        value=value,
        cost=cost if costed else None,
        gain=gain,
        gain_pct=gain / cost if gain is not None and cost > 0 else None,
        largest=None if largest is None else (largest.ticker, _weight(largest, value)),
        smallest=None if smallest is None else (smallest.ticker, _weight(smallest, value)),
        returns=tuple(returns),
        quarter_return=sum(contributions, ZERO) if last_value > 0 else None,
        quarter_performance=performance,
        performance_since=since,
    )


def _weight(h: Holding, value: Decimal) -> Decimal:
    return h.value / value if value else ZERO


def with_quarter_performance(
    metrics: Metrics, history: Sequence[HistoryEntry], as_of: date, value_now: Decimal
) -> Metrics:
    """`metrics` of the holdings alone, with the quarter performance of `value_now`: the
    engine measures the holdings first (their value is the plan's starting point) and
    the run's value only once it knows it."""
    performance, since = quarter_performance(value_now, history, as_of)
    return dataclasses.replace(metrics, quarter_performance=performance, performance_since=since)

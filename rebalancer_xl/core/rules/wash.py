"""Wash sales (SPEC §6): a loss is disallowed when the ticker is bought back within 30 days.

Purchases of the same ticker within 30 days either side of a sale at a loss are
replacement shares; the disallowed part of the loss is min(1, replacement / shares sold at
a loss) × loss, and it moves into the replacement shares' cost. A gain is never a wash
sale. Example: 100 shares sold at a $1,000 loss with 25 bought 10 days before: $250 of
the loss is disallowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import ONE, ZERO, LotSale, PastTrade, Trade, cents

WASH_WINDOW_DAYS = 30


# --- wash sales ----------------------------------------------------------------------


def in_wash_window(day: date, sold_on: date) -> bool:
    """Within 30 days before or after the sale, both ends included (day 31 is out)."""
    return abs((day - sold_on).days) <= WASH_WINDOW_DAYS


def wash_purchases(ticker: str, sold_on: date, purchases: Iterable[PastTrade]) -> list[PastTrade]:
    """The purchases (ADD/BUY) of `ticker` inside the wash window of a sale on `sold_on`."""
    return [
        p
        for p in purchases
        if p.ticker == ticker and p.side.is_buy and in_wash_window(p.date, sold_on)
    ]


def planned_purchases(trades: Iterable[Trade], on: date) -> tuple[PastTrade, ...]:
    """The plan's own buys as purchases dated `on`, to join the trade log's for wash sales."""
    return tuple(PastTrade(on, t.ticker, t.action, t.shares) for t in trades if t.action.is_buy)


def wash_sale_disallowed(
    ticker: str,
    sold_on: date,
    loss_shares: Decimal,
    gain: Decimal,
    purchases: Iterable[PastTrade],
    *,
    sold_from_window: Decimal = ZERO,
) -> Decimal:
    """The loss (≥ 0, in cents) a wash sale disallows; 0 when there is no wash sale.

    `loss_shares` shares were sold at a realised `gain` (negative: a loss). Purchases of
    the ticker within 30 days either side are replacement shares; the disallowed part is
    min(1, replacement / loss_shares) × loss. A gain is never a wash sale.
    `sold_from_window`: shares of this sale that were themselves bought inside the
    window — a share cannot replace itself, so they do not count as replacements.
    """
    if gain >= 0 or loss_shares <= 0:
        return ZERO
    bought = sum((p.shares for p in wash_purchases(ticker, sold_on, purchases)), ZERO)
    replacement = bought - sold_from_window
    if replacement <= 0:
        return ZERO
    return cents(-gain * min(ONE, replacement / loss_shares))


def spread_disallowed(sales: Sequence[LotSale], disallowed: Decimal) -> tuple[LotSale, ...]:
    """Share a disallowed loss among the loss lots in proportion to each lot's loss."""
    losers = [i for i, s in enumerate(sales) if s.gain < 0]
    total = sum((sales[i].gain for i in losers), ZERO)
    out = list(sales)
    left = disallowed
    for n, i in enumerate(losers):
        # The last loss lot takes the remainder, so the parts add up to the cent.
        part = left if n == len(losers) - 1 else cents(disallowed * sales[i].gain / total)
        out[i] = dataclasses.replace(sales[i], disallowed_loss=part)
        left -= part
    return tuple(out)

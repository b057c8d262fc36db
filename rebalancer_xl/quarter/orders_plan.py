"""From a plan's trades to the orders a person places: limit prices and staged tranches.

Pure: a plan and its settings in, order lines out. The engine sizes one trade per
position; this is where a trade becomes the orders of the Trades sheet:

- each order's limit sits `Limit Offset` away from the price the plan assumed, sells
  above and buys below ("don't chase"): with a 0.5% offset a sale planned at $180.00 is
  limited at $180.90 and a buy planned at $132.00 at $131.34;
- the buy of a new position (no shares held before) is split into `Stage New Positions
  Over` equal weekly orders, each with its own planned date: 40 shares over 4 weeks are
  four orders of 10, placed on the run date and 7, 14 and 21 days later. The plan's
  totals and Post-Trade % are those of all tranches together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from rebalancer_xl.core.model import ZERO, Action, LotSale, Plan, Trade, cents
from rebalancer_xl.core.settings import Settings

WEEK = timedelta(days=7)
#: Fractional tranches are cut to this many places; the last one takes the rest.
FRACTION = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One row of the Trades sheet: an order to place, or one tranche of a staged buy."""

    side: str  # SELL | BUY
    ticker: str
    shares: Decimal
    limit_price: Decimal
    amount: Decimal  # shares × the price the plan assumed
    rule: str
    lots: tuple[LotSale, ...]
    planned: date
    tranche: tuple[int, int] = (1, 1)  # (this one, of how many)
    account: str = ""  # a household's account the order goes to (SPEC §9); "" otherwise


def limit_price(trade: Trade, offset: Decimal) -> Decimal:
    """The order's limit: sells `offset` above the plan's price, buys `offset` below."""
    if offset == 0:
        return trade.price
    factor = 1 + offset if trade.action.is_sale else 1 - offset
    return cents(trade.price * factor)


def _split(shares: Decimal, parts: int, whole: bool) -> list[Decimal]:
    """`shares` in `parts` near-equal pieces adding up to it exactly, largest first."""
    if whole and shares == shares.to_integral_value():
        base, extra = divmod(int(shares), parts)
        return [Decimal(base + (1 if i < extra else 0)) for i in range(parts)]
    piece = (shares / parts).quantize(FRACTION, ROUND_DOWN)
    return [piece] * (parts - 1) + [shares - piece * (parts - 1)]


def order_lines(
    plan: Plan, settings: Settings, held: Mapping[str, Decimal] | None = None
) -> list[OrderLine]:
    """The plan's trades as orders, sells first, staged buys split into weekly tranches.

    `held` maps a ticker to the shares held before the run; a buy of a ticker held at 0
    (or absent) opens a new position and is staged.
    """
    held = held or {}  # a household's: per ticker, over every account
    weeks = settings.stage_new_positions_over
    lines: list[OrderLine] = []
    for t in plan.trades:
        limit = limit_price(t, settings.limit_offset)
        new_position = t.action is Action.BUY and held.get(t.ticker, ZERO) == 0
        # Only a new position's buy is staged: the others are never split.
        staged = new_position and weeks > 1
        pieces = (
            [p for p in _split(t.shares, weeks, settings.whole_shares) if p > 0] if staged else []
        )
        if len(pieces) <= 1:
            lines.append(
                OrderLine(
                    t.side,
                    t.ticker,
                    t.shares,
                    limit,
                    t.amount,
                    t.rule,
                    t.lots,
                    plan.as_of,
                    account=t.account,
                )
            )
            continue
        spent = ZERO
        for i, n in enumerate(pieces):
            # Cent rounding per tranche could add up to more than the plan's amount; the
            # last tranche takes what is left, so the tranches add up to it exactly.
            amount = cents(n * t.price) if i < len(pieces) - 1 else t.amount - spent
            spent += amount
            lines.append(
                OrderLine(
                    t.side,
                    t.ticker,
                    n,
                    limit,
                    amount,
                    t.rule,
                    (),
                    plan.as_of + WEEK * i,
                    (i + 1, len(pieces)),
                    t.account,
                )
            )
    return lines

"""Stage 2, avoid wash sales: no buy back within 30 days of a loss sale (SPEC §6).

Buying then would disallow that loss. Every buy the plan could make waits, the rule's and
the top-up alike: a drift correction loses little by waiting a few days, a disallowed
loss is real money. The row is flagged WASH-SALE and says when buying may resume; sales
are not affected. Taxable accounts only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from rebalancer_xl.core.model import ZERO, AccountType, Flag, Holding, Lot, PastTrade
from rebalancer_xl.core.reasons import WashWait
from rebalancer_xl.core.rules.wash import WASH_WINDOW_DAYS
from rebalancer_xl.core.stages.state import PlanState, Position


class _HasTicker(Protocol):
    @property
    def ticker(self) -> str: ...


_T = TypeVar("_T", bound=_HasTicker)


def by_ticker(items: Iterable[_T]) -> dict[str, list[_T]]:
    """Lots or trades grouped by ticker, in input order: each row then looks at its own
    instead of scanning every ticker's (which made large portfolios quadratic)."""
    grouped: dict[str, list[_T]] = {}
    for item in items:
        grouped.setdefault(item.ticker, []).append(item)
    return grouped


def avoid_wash_sales(state: PlanState) -> None:
    # Only a past sale can hold a buy back: without one, no row is looked at.
    if state.settings.account_type is not AccountType.TAXABLE or not state.past_trades:
        return
    past, lots = by_ticker(state.past_trades), by_ticker(state.lots)
    for p in state.positions:
        ticker = p.holding.ticker
        sold = past.get(ticker)
        if sold:  # only a past sale can hold a buy back
            _hold_back(p, sold, state, _cost_basis(p.holding, lots.get(ticker, ())))


def _cost_basis(h: Holding, lots: Sequence[Lot]) -> Decimal | None:
    """Cost per share of a position: Purchase Price, else the average of its lots."""
    if h.purchase_price is not None:
        return h.purchase_price
    shares = sum((lot.shares for lot in lots), ZERO)
    if shares <= ZERO:
        return None
    return sum((lot.shares * lot.cost_per_share for lot in lots), ZERO) / shares


def _hold_back(
    p: Position, past: Sequence[PastTrade], state: PlanState, basis: Decimal | None
) -> None:
    h = p.holding
    for t in past:
        if (
            t.ticker == h.ticker
            and t.side.is_sale
            and 0 <= (state.as_of - t.date).days <= WASH_WINDOW_DAYS
            and t.price is not None
            and basis is not None
            and t.price < basis
        ):
            if p.buy == ZERO and not p.may_top_up and h.ticker != state.settings.leftover_to:
                return  # nothing this plan could buy: nothing to hold back
            first_safe = t.date + timedelta(days=WASH_WINDOW_DAYS + 1)
            p.why += (WashWait(p.buy, first_safe, h.ticker, t.date),)
            p.buy = ZERO
            p.may_top_up = False
            p.buy_blocked = True
            p.flags |= {Flag.WASH_SALE}
            return

"""Harvest sales (SPEC §6b): sell lots at a loss to offset the gains a plan realises.

With Harvest Losses set to Broken Thesis or All, a plan that realises a net gain sells
lots standing at a loss until the net gain reaches zero, never beyond: first positions
whose thesis is broken, then (with All) any other; within each group lot by lot, the
largest loss per dollar sold first. A lot whose whole loss is below Harvest Minimum Loss
is skipped; the last lot may be sold in part. Example: a trim realises +$3,000 long-term;
PATH at $20 has a lot of 100 sh bought at $100 ($80 of loss a share, $4 per dollar sold):
sell 3,000 / 80 = 37.5 sh, a $3,000 loss that saves $600 at a 20% long-term rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from rebalancer_xl.core.model import ZERO, HarvestLosses, Holding, Lot, LotSale, cents
from rebalancer_xl.core.rules.lots import lot_sale, rates_of
from rebalancer_xl.core.settings import Settings


@dataclass(frozen=True, slots=True)
class HarvestSale:
    """The harvest of one position: the lot sales it makes and what they save."""

    ticker: str
    sales: tuple[tuple[int, LotSale], ...]  # (index of the lot among the ticker's, sale)
    loss: Decimal  # realised loss, positive, in cents
    tax_saved: Decimal  # loss × the rate of each lot's term

    @property
    def shares(self) -> Decimal:
        return sum((s.shares for _, s in self.sales), ZERO)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A position that may be harvested: it trades nothing else in the plan."""

    holding: Holding
    lots: Sequence[Lot]  # the ticker's lots, in input order


def plan_harvest(
    gain: Decimal,
    candidates: Sequence[Candidate],
    sold_on: date,
    settings: Settings,
    step: Decimal,
) -> tuple[HarvestSale, ...]:
    """The harvest sales that bring a realised net `gain` down to zero at most.

    `step` is the share quantum (1 for whole shares). Returns one sale per ticker, in the
    order they were chosen; empty when the gain is not positive or harvesting is off.
    """
    if gain <= 0 or settings.harvest_losses is HarvestLosses.NO:
        return ()
    everyone = settings.harvest_losses is HarvestLosses.ALL
    short, long = rates_of(settings)
    order: list[tuple[int, Decimal, str, date, int, int, Candidate]] = []
    for c in candidates:
        h = c.holding
        group = 0 if not h.thesis_intact else 1
        if group == 1 and not everyone:
            continue
        for i, lot in enumerate(c.lots):
            per_share = lot.cost_per_share - h.price
            if lot.shares <= 0 or per_share <= 0:
                continue
            if lot.shares * per_share < settings.harvest_minimum_loss:
                continue
            per_dollar = per_share / h.price
            order.append((group, -per_dollar, h.ticker, lot.acquired, lot.row, i, c))
    order.sort(key=lambda o: o[:6])

    left = gain
    chosen: dict[str, list[tuple[int, LotSale]]] = {}
    for *_, i, c in order:
        if left <= 0:
            break
        h, lot = c.holding, c.lots[i]
        per_share = lot.cost_per_share - h.price
        n = min(lot.shares, (left / per_share).quantize(step, rounding=ROUND_DOWN))
        sale = lot_sale(lot, n, h.price, sold_on)
        while n > 0 and -sale.gain > left:  # cents rounding may not carry it past zero
            n -= step
            sale = lot_sale(lot, n, h.price, sold_on)
        if n <= 0:
            continue
        chosen.setdefault(h.ticker, []).append((i, sale))
        left += sale.gain
    out = []
    for ticker, sales in chosen.items():
        loss = -sum((s.gain for _, s in sales), ZERO)
        saved = -sum((s.gain * (long if s.long_term else short) for _, s in sales), ZERO)
        out.append(HarvestSale(ticker, tuple(sales), loss, cents(saved)))
    return tuple(out)

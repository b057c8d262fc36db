"""Stage 10, harvest (SPEC §6b): sell losses to offset the gains the plan realises.

Runs after `taxes`, when the plan's realised gains are known: with Harvest Losses on, a
taxable account with lots and a full run, it picks loss lots among the positions the
plan leaves alone (`rules.harvest`), makes each a SELL with rule `harvest`, blocks its
buy-back for the wash-sale window, and runs the allocation, explanation and taxes again
so the harvest's proceeds are deployed like any other.

The harvest's money may spare a funding trim and so change the gains it offsets. The
first harvest is sized on the gains without it; when that overshoots (the gains fell),
it is sized again on the gains it left, and if it still overshoots it is dropped: a
harvest never takes the realised net gain below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.core.model import ZERO, AccountType, Flag, HarvestLosses, RuleId
from rebalancer_xl.core.reasons import BelowMinimum, Clause, Harvest
from rebalancer_xl.core.rules.floor import thesis
from rebalancer_xl.core.rules.harvest import Candidate, HarvestSale, plan_harvest
from rebalancer_xl.core.rules.wash import in_wash_window
from rebalancer_xl.core.stages.allocate import FRACTION, WHOLE, allocate
from rebalancer_xl.core.stages.explain import explain
from rebalancer_xl.core.stages.state import PlanState, Position
from rebalancer_xl.core.stages.taxes import recent_lot_purchases, taxes
from rebalancer_xl.core.stages.wash import by_ticker

_TRIES = 2  # sized on the gains without it, then on the gains it left


@dataclass(frozen=True, slots=True)
class _Before:
    """A candidate's judgement before any harvest, to restore between tries."""

    rule: RuleId
    why: tuple[Clause, ...]
    flags: frozenset[Flag]
    may_top_up: bool
    may_fund: bool
    may_withdraw: bool
    buy_blocked: bool
    suppressed: BelowMinimum | None


def harvest(state: PlanState) -> None:
    s = state.settings
    if (
        s.harvest_losses is HarvestLosses.NO
        or s.account_type is not AccountType.TAXABLE
        or not state.lots
        or state.restricted
    ):
        return
    candidates = _candidates(state)
    if not candidates:
        return
    before = {p: _snapshot(p) for _, p in candidates.values()}
    step = WHOLE if s.whole_shares else FRACTION
    gain = _realised_gain(state)
    for _ in range(_TRIES):
        sales = plan_harvest(gain, [c for c, _ in candidates.values()], state.as_of, s, step)
        if not sales:
            break
        _undo(state, before)
        for sale in sales:
            _mark(candidates[sale.ticker][1], sale, gain)
        _rerun(state)
        gain = _realised_gain(state)
        loss = sum((sale.loss for sale in sales), ZERO)
        if gain - loss >= 0:
            return
    # No harvest fits: the plan as it was, with a note saying why.
    if any(p.harvest is not None for p in before):
        _undo(state, before)
        _rerun(state)
        state.notes.append(
            "Harvest: no loss sale fits without taking the realised net gain below zero"
        )


def _candidates(state: PlanState) -> dict[str, tuple[Candidate, Position]]:
    """Positions the plan leaves alone and may sell at a loss: no trade of their own, not
    locked, no company event, not bought within the wash window (a loss sale then would
    be a wash sale, not a harvest)."""
    lots_of = by_ticker(state.lots)
    recent = {
        t.ticker
        for t in [
            *state.past_trades,
            *recent_lot_purchases(state.lots, state.past_trades, state.as_of),
        ]
        if t.side.is_buy and in_wash_window(t.date, state.as_of)
    }
    out: dict[str, tuple[Candidate, Position]] = {}
    for p in state.positions:
        h = p.holding
        if (
            p.shares == 0
            and p.to_buy == 0
            and p.to_sell == 0
            and p.suppressed is None
            and not h.lock
            and not h.company_event
            and h.shares > 0
            and h.ticker not in recent
            and lots_of.get(h.ticker)
        ):
            out[h.ticker] = (Candidate(h, lots_of[h.ticker]), p)
    return out


def _realised_gain(state: PlanState) -> Decimal:
    """Net realised gain of the plan's sales other than harvests."""
    harvested = {p.holding.ticker for p in state.positions if p.harvest is not None}
    return sum(
        (
            t.short_term_gain + t.long_term_gain
            for t in state.trades
            if t.action.is_sale and t.ticker not in harvested
        ),
        ZERO,
    )


def _snapshot(p: Position) -> _Before:
    return _Before(
        p.rule,
        p.why,
        p.flags,
        p.may_top_up,
        p.may_fund,
        p.may_withdraw,
        p.buy_blocked,
        p.suppressed,
    )


def _undo(state: PlanState, before: dict[Position, _Before]) -> None:
    for p, b in before.items():
        p.rule, p.why, p.flags = b.rule, b.why, b.flags
        p.may_top_up, p.may_fund, p.may_withdraw = b.may_top_up, b.may_fund, b.may_withdraw
        p.buy_blocked, p.suppressed = b.buy_blocked, b.suppressed
        p.sell = ZERO
        p.rule_sale = p.exit_sale = p.full_exit = False
        p.harvest = None


def _mark(p: Position, sale: HarvestSale, gain: Decimal) -> None:
    h = p.holding
    shares = sale.shares
    p.rule = RuleId.HARVEST
    broken = None if h.thesis_intact else thesis(h)
    p.why = (Harvest(broken, sale.loss, gain, sale.tax_saved),)
    p.flags |= {Flag.WASH_SALE}
    p.harvest = sale
    p.sell = shares * h.price
    p.rule_sale = p.exit_sale = True
    p.full_exit = shares >= h.shares
    # The sale is the harvest's own: nothing else may add to it or buy it back.
    p.may_top_up = p.may_fund = p.may_withdraw = False
    p.buy_blocked = True


def _rerun(state: PlanState) -> None:
    # The last allocation pass's notes are said again by the rerun: drop the old ones.
    if state.pass_notes and state.notes[-len(state.pass_notes) :] == state.pass_notes:
        del state.notes[-len(state.pass_notes) :]
    for stage in (allocate, explain, taxes):
        stage(state)

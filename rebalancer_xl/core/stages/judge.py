"""Stage 1, judge: what the rulebook says about each position before money moves.

Precedence: exit signals and caps first (the larger sale wins), then, on a full run, the
reversion floor and the drift strategy. Emergency-only runs and the crash check leave
only the urgent cap and exit signals acting; company events and locks keep a position
from trading and say what it wanted to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rebalancer_xl.core.model import (
    CASH,
    HUNDRED,
    THESIS_SCORE,
    ZERO,
    Flag,
    Holding,
    pp,
    pp_limit,
    thesis_intact,
)
from rebalancer_xl.core.reasons import (
    AlsoCap,
    AlsoExits,
    Block,
    Blocked,
    CapWaits,
    Clause,
    Exits,
    ExitSale,
    NoBuy,
    Remark,
    RulesOnlyTrim,
    new_clause,
)
from rebalancer_xl.core.rules import floor as floor_rule
from rebalancer_xl.core.rules.caps import cap_breach
from rebalancer_xl.core.rules.drift import DriftRule, drift_rule
from rebalancer_xl.core.rules.exits import exit_signals
from rebalancer_xl.core.rules.labels import rule_label
from rebalancer_xl.core.stages.state import NO_FLAGS, PlanState, Position, new_position

# Each flag a row may gain, as a set bound once: `flags |= {Flag.MONITOR}` read the enum
# member (slow in CPython 3.11) and built a set on every row that gained it.
_REVIEW = frozenset({Flag.REVIEW})
_MONITOR, _URGENT = frozenset({Flag.MONITOR}), frozenset({Flag.URGENT})


def judge(state: PlanState) -> None:
    state.positions = _Judge(state).positions(state.holdings)


class _Judge:
    """The rulebook's judgement of one plan's rows.

    What depends only on the settings and the plan (the rules' edges, the drift rule,
    the flags every row starts with, whether the run is restricted or Rules Only) is
    worked out once here; `position` then reads it from plain slots on every row
    instead of through the state's properties (`rules_only` was ~0.1 µs a trading row).
    """

    __slots__ = (
        "cap_edge",
        "drift",
        "flags",
        "floor_edge",
        "restricted",
        "rules_only",
        "s",
        "st",
        "value",
    )

    def __init__(self, st: PlanState) -> None:
        s = st.settings
        self.st, self.s, self.value, self.restricted = st, s, st.value, st.restricted
        # Flags are frozen sets, replaced when one is added: most rows have none, and
        # share the one empty set instead of each making its own.
        self.flags = _REVIEW if st.crash.crashed else NO_FLAGS
        self.rules_only = st.rules_only
        # Below these weights no cap can be broken, and above these no floor: each
        # rule's own test (on the weight in pp, rounded) then runs only on the few rows
        # near its edge instead of rounding every row's weight. A weight w with
        # pp(w) > L has 100·w ≥ L + 0.005 > L, so the edges (L / 100) pass every row
        # the rule may act on.
        self.cap_edge = min(pp_limit(s.cap), pp_limit(s.urgent_cap)) / HUNDRED
        self.floor_edge = pp_limit(s.reversion_floor) / HUNDRED
        self.drift: DriftRule = drift_rule(s)

    def positions(self, holdings: Sequence[Holding]) -> list[Position]:
        """Each row's position, in the holdings' order, the cash row aside.

        One loop over the rows, not a method called on each (a Python call a row, and the
        plan's values read from slots on every row: −0.43k instructions a position).
        """
        total, cap_edge, restricted, flags = self.value, self.cap_edge, self.restricted, self.flags
        positions: list[Position] = []
        for h in holdings:
            if h.ticker == CASH:
                continue
            value = h.value
            weight = value / total
            score, previous = h.score, h.previous_score
            # Most rows meet no exit signal and no cap on a full run: no trigger, no fall
            # in score (exit_signals' own first test) and a weight below every cap's
            # edge. They go straight to the floor and the drift strategy, without the
            # signals' record and the tests on it (~0.8k instructions a row). The cap's
            # edge is tested once, for both.
            near_cap = weight >= cap_edge
            if (
                h.exit_triggers
                or near_cap
                or restricted
                or (score is not None and previous is not None and score < previous)
            ):
                p = self._signals_and_caps(h, value, weight, near_cap)
            else:
                # thesis_intact(h), whose trigger test is already made: a call fewer a row.
                intact = score is None or score >= THESIS_SCORE
                p = self._floor_and_drift(h, weight, None, flags, intact)
            if h.company_event or h.lock:
                _event_and_lock(h, p)
            positions.append(p)
        return positions

    def _signals_and_caps(
        self, h: Holding, value: Decimal, weight: Decimal, near_cap: bool
    ) -> Position:
        """Exit signals and caps first (the larger sale wins), then what a restricted run
        says, or else the floor and the drift strategy."""
        s = self.s
        flags = self.flags
        exits = exit_signals(h)
        if exits.monitor:
            flags |= _MONITOR
        cap = cap_breach(pp(weight), s) if near_cap else None
        waiting_cap = None
        if cap is not None and self.restricted and not cap.urgent:
            waiting_cap = CapWaits(cap.why)
            cap = None

        exit_amount = cap_amount = ZERO
        selling = False
        if exits.count or cap is not None:  # most rows have neither: no sums for them
            exit_amount = value * exits.sell_fraction if exits.count else ZERO
            cap_amount = max(ZERO, value - cap.trim_to * self.value) if cap else ZERO
            selling = exit_amount > ZERO or cap_amount > ZERO
        p: Position
        if selling:
            if cap is not None and cap.urgent:
                flags |= _URGENT
            if exit_amount >= cap_amount:
                assert exits.why is not None  # signals to sell have words
                whole = exits.count >= 2  # sell_fraction == 1, without a Decimal test
                why: tuple[Clause, ...] = (exits.why, new_clause(ExitSale, (whole,)))
                if cap is not None:
                    why += (AlsoCap(rule_label(cap.rule, s), cap.why),)
                # Built bare and then set, as in _floor_and_drift.
                p = new_position(h, weight, exits.rule, why, flags)
                p.sell = exit_amount
                p.rule_sale = p.exit_sale = True
                p.full_exit = whole
            else:
                assert cap is not None
                why = (cap.why,)
                if exits.count:
                    assert exits.why is not None
                    why += (AlsoExits(exits.why),)
                # may_fund: a capped winner may be trimmed further, down to its target,
                # to pay for the buys the rules call for (the guide's example 4 trims
                # PLTR so).
                p = new_position(
                    h, weight, cap.rule, why, flags, sell=cap_amount, rule_sale=True, may_fund=True
                )
        elif self.restricted:
            why = (self.st.why_restricted,)
            if exits.why is not None:
                why = (exits.why, *why)
            if waiting_cap is not None:
                why += (waiting_cap,)
            p = new_position(h, weight, self.restricted, why, flags)
        else:
            p = self._floor_and_drift(h, weight, exits.why, flags, thesis_intact(h))
        return p

    def _floor_and_drift(
        self,
        h: Holding,
        weight: Decimal,
        exit_why: Exits | None,
        flags: frozenset[Flag],
        intact: bool,  # thesis_intact(h)
    ) -> Position:
        value = h.value
        # pp(w) < F needs w < F / 100 and pp(target) > F needs target > F / 100 (see
        # __init__). The target first: in a book of many positions no target is near
        # the floor, and the weight is not compared (−0.3k instructions a row).
        floor_edge = self.floor_edge
        near_floor = floor_edge < h.target and weight < floor_edge
        floor = floor_rule.floor_breach(h, pp(weight), self.s) if near_floor else None
        if floor is not None:
            why: tuple[Clause, ...] = (floor.why,) if exit_why is None else (exit_why, floor.why)
            if floor.restore:
                buy = max(ZERO, h.target * self.value - value)
                return new_position(
                    h, weight, floor_rule.RULE, why, flags, buy=buy, may_top_up=True
                )
            return new_position(
                h,
                weight,
                floor_rule.RULE,
                why,
                flags,
                sell=value,
                rule_sale=True,
                exit_sale=True,
                full_exit=True,
            )

        goal, rule, call, drift = self.drift(weight, h.target)
        # By position, and the rest set after: keyword arguments cost ~0.2 µs each, on
        # every row. The target is never negative: a truth test is `> ZERO`.
        why = (call,) if exit_why is None else (exit_why, call)
        p = new_position(h, weight, rule, why, flags, drift, intact and bool(h.target), True)
        if goal is None:
            return p
        amount = value - goal * self.value
        # The sign by truth test and is_signed(): two comparisons with ZERO cost twice.
        if not amount:
            return p
        if not amount.is_signed():
            if self.rules_only:
                p.why += (RulesOnlyTrim(amount),)
            else:
                p.sell = amount
        elif not intact:
            # new_clause: NoBuy without its NamedTuple's Python-level __new__ (see
            # reasons), on every row whose buy a broken thesis stops (9% of the benchmark's).
            p.why += (new_clause(NoBuy, (floor_rule.thesis(h),)),)
        else:
            p.buy = -amount
            p.may_fund = False
        return p


def _event_and_lock(h: Holding, p: Position) -> None:
    """A company event or a lock keeps the position from trading: it says what it wanted."""
    if h.company_event:
        p.flags |= _REVIEW
        if not p.rule_sale and (p.sell or p.buy):
            block(p, Block.EVENT)
        else:  # a blocked trade's words already name the event
            p.why += (Remark.EVENT,)
        p.may_top_up = p.may_fund = False
    if h.lock:
        if p.sell or p.buy:
            p.flags |= _REVIEW
            block(p, Block.LOCK)
        else:
            p.why += (Remark.LOCKED,)
        p.may_top_up = p.may_fund = p.may_withdraw = False


def block(p: Position, because: Block) -> None:
    """The position wanted a trade it may not make: it holds and says what it wanted."""
    p.why += (Blocked(bool(p.sell), p.sell or p.buy, because),)
    p.sell = p.buy = ZERO
    p.rule_sale = p.exit_sale = p.full_exit = False

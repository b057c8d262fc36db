"""Exit signals (guide rules 3 and 5): sell half on one signal, everything on two or more.

Each exit trigger hit counts one signal. A tier drop of two or more rungs counts one
signal when it lands on Moderate and two when it lands on Weak; landing on Strong or
better keeps the thesis and only flags MONITOR, as does a drop of a single rung.
Example: CRWV's score falls 65.2 → 45.0 (Very Strong → Moderate: one signal) and a
trigger fires (one more): two signals, so SELL 100%.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.core.model import (
    Holding,
    RuleId,
    Tier,
    fast_constructor,
    tier_rank,
)
from rebalancer_xl.core.reasons import Exits, new_clause

_ALL, _HALF, _NONE = Decimal(1), Decimal("0.5"), Decimal(0)
_WEAK, _MODERATE = Tier.WEAK.value, Tier.MODERATE.value
# Bound once: reading an enum member through its class is slow in CPython 3.11.
_SIGNALS, _TRIGGERS = RuleId.EXIT_SIGNALS, RuleId.EXIT_TRIGGERS
_DOWNGRADE = RuleId.TIER_DOWNGRADE


@dataclass(frozen=True, slots=True)
class ExitSignals:
    count: int
    monitor: bool
    rule: RuleId
    why: Exits | None  # None: nothing to say (no trigger, no fall of a tier)
    # A field, not a property: judge reads it up to three times on a row that sells,
    # and a property is called from C (~1.2k instructions a read).
    sell_fraction: Decimal  # 1 on two signals or more, 0.5 on one, else 0


_signals = fast_constructor(ExitSignals)  # by position: a frozen __init__ is slow per row
NO_SIGNALS = ExitSignals(
    count=0, monitor=False, rule=RuleId.TIER_DOWNGRADE, why=None, sell_fraction=_NONE
)


def exit_signals(h: Holding) -> ExitSignals:
    """Count the exit signals on one position (a blank score means no tier rules)."""
    if h.exit_triggers == 0 and (
        h.score is None or h.previous_score is None or h.score >= h.previous_score
    ):
        return NO_SIGNALS  # no trigger and no fall in score: no tier can have dropped
    tier_signals = 0
    monitor = False
    triggers = h.exit_triggers
    score, previous = h.score, h.previous_score
    tier = before = 0
    if score is not None and previous is not None:
        # Tiers by rank (0 Weak … 4 Exceptional): ints, not enum members, on many rows.
        tier, before = tier_rank(score), tier_rank(previous)
        drop = before - tier
        if not drop and not triggers:
            # A fall within a tier and no trigger: no signal and nothing to say, the
            # record NO_SIGNALS is, rather than a copy (on 6% of a big book's rows).
            return NO_SIGNALS
        if drop >= 2:
            if tier == _WEAK:
                tier_signals = 2
            elif tier == _MODERATE:
                tier_signals = 1
            else:
                monitor = True
        elif drop == 1:
            monitor = True
    count = tier_signals + triggers
    if tier_signals and triggers:
        rule = _SIGNALS
    elif triggers:
        rule = _TRIGGERS
    else:
        rule = _DOWNGRADE
    said = triggers or before > tier  # a fall within a tier says nothing
    # new_clause: Exits without its NamedTuple's Python-level __new__ (see reasons).
    why = (
        new_clause(Exits, (previous, score, before, tier, tier_signals, triggers)) if said else None
    )
    fraction = _ALL if count >= 2 else _HALF if count == 1 else _NONE
    return _signals(count, monitor, rule, why, fraction)

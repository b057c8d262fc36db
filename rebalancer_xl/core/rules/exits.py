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
    TIER_LABELS,
    Holding,
    RuleId,
    Tier,
    fast_constructor,
    tier_rank,
)

_ALL, _HALF, _NONE = Decimal(1), Decimal("0.5"), Decimal(0)
_WEAK, _MODERATE = Tier.WEAK.value, Tier.MODERATE.value


@dataclass(frozen=True, slots=True)
class ExitSignals:
    count: int
    monitor: bool
    rule: RuleId
    why: str  # "score 65.2 → 45.0 (Very Strong → Moderate, 2 tiers: 1 signal); 1 exit trigger"

    @property
    def sell_fraction(self) -> Decimal:
        return _ALL if self.count >= 2 else _HALF if self.count == 1 else _NONE


def _fmt(score: Decimal) -> str:
    return f"{score.normalize():f}"


_signals = fast_constructor(ExitSignals)  # by position: a frozen __init__ is slow per row
NO_SIGNALS = ExitSignals(count=0, monitor=False, rule=RuleId.TIER_DOWNGRADE, why="")


def exit_signals(h: Holding) -> ExitSignals:
    """Count the exit signals on one position (a blank score means no tier rules)."""
    if h.exit_triggers == 0 and (
        h.score is None or h.previous_score is None or h.score >= h.previous_score
    ):
        return NO_SIGNALS  # no trigger and no fall in score: no tier can have dropped
    tier_signals = 0
    monitor = False
    parts: list[str] = []
    score, previous = h.score, h.previous_score
    if score is not None and previous is not None:
        # Tiers by rank (0 Weak … 4 Exceptional): ints, not enum members, on many rows.
        tier, before = tier_rank(score), tier_rank(previous)
        drop = before - tier
        move = ""
        if drop >= 1:  # a fall within a tier says nothing: no words for it
            move = (
                f"score {_fmt(previous)} → {_fmt(score)} ({TIER_LABELS[before]} → "
                f"{TIER_LABELS[tier]}"
            )
        if drop >= 2:
            if tier == _WEAK:
                tier_signals = 2
            elif tier == _MODERATE:
                tier_signals = 1
            else:
                monitor = True
            plural = "signal" if tier_signals == 1 else "signals"
            parts.append(f"{move}, {drop} tiers down: {tier_signals} {plural})")
        elif drop == 1:
            monitor = True
            parts.append(f"{move}, 1 tier down: monitor)")
    if h.exit_triggers:
        parts.append(f"{h.exit_triggers} exit trigger{'s' if h.exit_triggers > 1 else ''} hit")
    count = tier_signals + h.exit_triggers
    if tier_signals and h.exit_triggers:
        rule = RuleId.EXIT_SIGNALS
    elif h.exit_triggers:
        rule = RuleId.EXIT_TRIGGERS
    else:
        rule = RuleId.TIER_DOWNGRADE
    return _signals(count, monitor, rule, "; ".join(parts))

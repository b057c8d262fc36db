"""Drift strategies (guide strategies A, B, C) for positions no rule has moved.

Threshold: a drift of at least the band goes all the way back to target.
Calendar: every position goes to target each quarter.
Hybrid (default): a drift of at least the outer band goes back to target; a drift
between the band and the outer band goes to target ± band/2 on the side of the drift
(the guide's "midpoint": 37.5% on a 30% target is trimmed to 32.5%); less is held.
Band edges act: 30% − 25% is exactly 5.00 pp, which trims a 25% target to 27.5%.
A relative band, when set, narrows the band for small targets: min(Band, Relative
Band × target), and the outer band scales with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rebalancer_xl.core.model import (
    CENT,
    HUNDRED,
    ZERO,
    RuleId,
    Strategy,
    fast_constructor,
    pp,
)
from rebalancer_xl.core.settings import Settings


@dataclass(frozen=True, slots=True)
class DriftCall:
    goal: Decimal | None  # the weight to trade to; None = hold
    rule: RuleId
    why: str
    drift: Decimal  # weight − target in pp, rounded (the Decision's drift_pp)


_call = fast_constructor(DriftCall)  # one per row: see fast_constructor


def bands(target: Decimal, settings: Settings) -> tuple[Decimal, Decimal]:
    """(band, outer band) for one position, as fractions of the portfolio.

    A 0% target keeps the plain band: a band relative to nothing would be zero, and the
    index fund that Leftover To fills (target 0% is usual) would be sold off in full on
    the next run, undoing what the last one bought.
    """
    band, outer = settings.band, settings.outer_band
    if settings.relative_band is not None and band > ZERO and target > ZERO:
        relative = settings.relative_band * target
        if relative < band:
            outer = outer * relative / band
            band = relative
    return band, outer


# Enum members bound once: `Action.SELL` costs ~0.12 µs in CPython 3.11 (EnumType's
# __getattr__ hook slows every class attribute read), and these are read on every row.
_CALENDAR, _THRESHOLD = Strategy.CALENDAR, Strategy.THRESHOLD
_R_CALENDAR, _R_THRESHOLD = RuleId.CALENDAR, RuleId.THRESHOLD_BAND
_R_HYBRID, _R_OUTER = RuleId.HYBRID_BAND, RuleId.HYBRID_OUTER_BAND


def drift_call(weight: Decimal, target: Decimal, settings: Settings) -> DriftCall:
    # Decimals are put in the words with `!s`: the same text as `{x}` (checked on
    # 200,000 values), at a fifth of the cost of Decimal.__format__, on every row.
    drift = ((weight - target) * HUNDRED).quantize(CENT, ROUND_HALF_UP)  # pp, inline: every row
    d = f"drift {'' if drift.is_signed() else '+'}{drift!s}"  # as f"{drift:+}"
    strategy = settings.strategy
    if strategy is _CALENDAR:
        if drift == ZERO:
            return _call(None, _R_CALENDAR, f"{d} pp: at target", drift)
        return _call(target, _R_CALENDAR, f"{d} pp → back to target {pp(target)!s}%", drift)
    # `bands`, inline: the outer band is only worked out for a drift beyond the band
    # (with a relative band it costs a division, on every row).
    band = settings.band
    relative = settings.relative_band
    if relative is not None and band > ZERO and target > ZERO:
        relative = relative * target
        if not relative < band:
            relative = None
    else:
        relative = None
    band_pp = ((relative if relative is not None else band) * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    size = abs(drift)
    if size < band_pp:
        within = _R_THRESHOLD if strategy is _THRESHOLD else _R_HYBRID
        return _call(None, within, f"{d} pp within ±{band_pp!s} pp band: hold", drift)
    if strategy is _THRESHOLD:
        return _call(
            target,
            _R_THRESHOLD,
            f"{d} pp ≥ {band_pp!s} pp → back to target {pp(target)!s}%",
            drift,
        )
    outer = settings.outer_band
    if relative is not None:
        outer = outer * relative / band
        band = relative
    outer_pp = pp(outer)
    if size >= outer_pp:
        return _call(
            target, _R_OUTER, f"{d} pp ≥ {outer_pp!s} pp → back to target {pp(target)!s}%", drift
        )
    # Between band and outer band: go halfway into the band, on the side of the drift.
    half = band / 2
    goal = target + half if drift > ZERO else target - half
    return _call(
        goal,
        _R_HYBRID,
        f"{d} pp ≥ {band_pp!s} pp band → to target {'+' if drift > ZERO else '−'} "
        f"half band = {pp(goal)!s}%",
        drift,
    )

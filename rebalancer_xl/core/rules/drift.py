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

from decimal import ROUND_HALF_UP, Decimal

from rebalancer_xl.core.model import (
    CENT,
    HUNDRED,
    ZERO,
    RuleId,
    Strategy,
)
from rebalancer_xl.core.reasons import (
    AtTarget,
    BandBack,
    CalendarBack,
    HalfBand,
    WithinBand,
    new_clause,
)
from rebalancer_xl.core.settings import Settings

DriftWords = AtTarget | CalendarBack | WithinBand | BandBack | HalfBand

# What the strategy says about one position: (goal, rule, why, drift). `goal` is the
# weight to trade to (None = hold); `drift` is weight − target in pp, rounded (the
# Decision's drift_pp). A plain tuple: made on every row, it costs a fifth of a frozen
# record (see model.fast_constructor).
DriftCall = tuple[Decimal | None, RuleId, DriftWords, Decimal]


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
    # The words are clauses, worded only when a reader asks (rebalancer_xl.core.reasons).
    drift = ((weight - target) * HUNDRED).quantize(CENT, ROUND_HALF_UP)  # pp, inline: every row
    strategy = settings.strategy
    if strategy is _CALENDAR:
        if drift == ZERO:
            return None, _R_CALENDAR, AtTarget(drift), drift
        return target, _R_CALENDAR, CalendarBack(drift, target), drift
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
    band_pp = ((band if relative is None else relative) * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    size = abs(drift)
    if size < band_pp:
        within = _R_THRESHOLD if strategy is _THRESHOLD else _R_HYBRID
        return None, within, new_clause(WithinBand, (drift, band_pp)), drift
    if strategy is _THRESHOLD:
        return target, _R_THRESHOLD, new_clause(BandBack, (drift, band_pp, target)), drift
    outer = settings.outer_band
    if relative is not None:
        outer = outer * relative / band
        band = relative
    outer_pp = (outer * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    if size >= outer_pp:
        return target, _R_OUTER, new_clause(BandBack, (drift, outer_pp, target)), drift
    # Between band and outer band: go halfway into the band, on the side of the drift.
    half = band / 2
    up = drift > ZERO  # not the sign: a band that rounds to 0 pp lets a 0 drift here
    goal = target + half if up else target - half
    return goal, _R_HYBRID, new_clause(HalfBand, (drift, band_pp, up, goal)), drift

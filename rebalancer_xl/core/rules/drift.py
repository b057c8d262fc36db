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

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, Inexact, getcontext

from rebalancer_xl.core.model import (
    CENT,
    HUNDRED,
    ZERO,
    RuleId,
    Strategy,
    quantizer,
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
_HALF_CENT = Decimal("0.005")
_HALF_HUNDREDTH = Decimal("0.005")  # x / 200, as a product


def exact_ratio(outer_band: Decimal, band: Decimal) -> Decimal | None:
    """Outer Band / Band when `band_x × it` is, in value, `Outer Band × band_x / Band` for
    every band_x: the quotient is exact and Outer Band a power of ten (0.10), so that
    its product with band_x is exact too. Else None."""
    if band <= ZERO or outer_band.normalize().as_tuple().digits != (1,):
        return None
    # A copy of the context, not localcontext(): setting the thread's context would free
    # the one it replaces, and a plan leaves a process's frozen objects as they were.
    ctx = getcontext().copy()
    ctx.clear_flags()
    ratio = ctx.divide(outer_band, band)
    return None if ctx.flags[Inexact] else ratio


DriftRule = Callable[[Decimal, Decimal], DriftCall]


def drift_rule(settings: Settings) -> DriftRule:
    """The drift strategy of `settings` as a function of (weight, target), for one plan.

    What depends on the settings alone (the strategy, the plain band and outer band in
    pp, half the band) is worked out here once instead of on every row: the call per row
    then reads no setting and tests no strategy (1.2 → 0.9 µs a row at 10,000).
    """
    # The words are clauses, worded only when a reader asks (rebalancer_xl.core.reasons).
    band, outer_band = settings.band, settings.outer_band
    strategy = settings.strategy
    # A relative band only narrows a positive band (see `bands`). Its edges are worked
    # out in pp from constants already times 100: a product by a power of ten is exact
    # in value (rounding to 28 significant digits commutes with it), so Relative Band
    # × 100 × target is the value of (Relative Band × target) × 100, and Outer Band ×
    # that / Band the value of Outer Band × Relative Band × target / Band × 100 — one
    # product a row fewer for the band and one for the outer band (judge −0.6k
    # instructions a row).
    relative_band = settings.relative_band if band > ZERO else None
    relative_pp = None if relative_band is None else relative_band * HUNDRED
    band_100 = band * HUNDRED  # unrounded: band_x < band_100 exactly when relative < band
    band_pp = (band * HUNDRED).quantize(CENT, ROUND_HALF_UP)  # the plain band's, in pp
    outer_pp = (outer_band * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    half = band / 2
    # A relative outer band is one product a row rather than a product and a quotient
    # when Outer Band / Band allows it (the defaults', 2): judge −1.4k instructions a row.
    outer_ratio = exact_ratio(outer_band, band)
    half_up = quantizer(ROUND_HALF_UP)  # x.quantize(exp, ROUND_HALF_UP), for every row

    if strategy is _CALENDAR:

        def calendar(weight: Decimal, target: Decimal) -> DriftCall:
            drift = half_up((weight - target) * HUNDRED, CENT)
            if drift == ZERO:
                return None, _R_CALENDAR, AtTarget(drift), drift
            return target, _R_CALENDAR, CalendarBack(drift, target), drift

        return calendar

    threshold = strategy is _THRESHOLD
    within_rule = _R_THRESHOLD if threshold else _R_HYBRID

    def banded(weight: Decimal, target: Decimal) -> DriftCall:
        drift = half_up((weight - target) * HUNDRED, CENT)  # pp: every row
        # copy_abs: the same value as abs(), which also rounds to the context (drift has
        # a handful of digits), ~0.17k instructions more on every row.
        size = drift.copy_abs()
        band_x = None  # the relative band in pp, unrounded, when it applies
        # `target`, not `target > ZERO`: targets are never negative (parse.validate), and
        # a truth test costs a fifth of a comparison.
        if relative_pp is not None and target:
            band_x = relative_pp * target
            if not band_x < band_100:  # the relative band narrows the band, never widens it
                band_x = None
        if band_x is None:  # the plain band: its edges in pp are the plan's constants
            if size < band_pp:
                return None, within_rule, new_clause(WithinBand, (drift, band_pp)), drift
            if threshold:
                return target, _R_THRESHOLD, new_clause(BandBack, (drift, band_pp, target)), drift
            if size >= outer_pp:
                return target, _R_OUTER, new_clause(BandBack, (drift, outer_pp, target)), drift
            up = drift > ZERO  # not the sign: a band that rounds to 0 pp lets a 0 drift here
            goal = target + half if up else target - half
            return goal, _R_HYBRID, new_clause(HalfBand, (drift, band_pp, up, goal)), drift
        # A relative band: the row's own edges, the band and (scaled with it) the outer
        # band. `size` is on the 0.01 grid, so for an edge x, size < x rounded half-up to
        # 0.01 exactly when size + 0.005 <= x: the edges are compared unrounded, and the
        # clause carries the one it shows unrounded too, rounded when it is worded (a
        # rounding a row is ~1.5k instructions; a plan is read for its trades too).
        reach = size + _HALF_CENT
        if reach <= band_x:
            return None, within_rule, new_clause(WithinBand, (drift, band_x)), drift
        if threshold:
            return target, _R_THRESHOLD, new_clause(BandBack, (drift, band_x, target)), drift
        outer_x = outer_band * band_x / band if outer_ratio is None else band_x * outer_ratio
        if reach > outer_x:
            return target, _R_OUTER, new_clause(BandBack, (drift, outer_x, target)), drift
        # Between band and outer band: go halfway into the band, on the side of the drift.
        up = drift > ZERO
        # The relative band as a weight, halved: Relative Band × target / 2. band_x is
        # (Relative Band × target) × 100 in value, rounded or not (see above), so that
        # is band_x / 200, and band_x × 0.005: one product for a product and a quotient.
        half_band = band_x * _HALF_HUNDREDTH
        goal = target + half_band if up else target - half_band
        return goal, _R_HYBRID, new_clause(HalfBand, (drift, band_x, up, goal)), drift

    return banded

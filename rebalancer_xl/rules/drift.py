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
from decimal import Decimal

from rebalancer_xl.model import RuleId, Strategy, pp
from rebalancer_xl.settings import Settings


@dataclass(frozen=True, slots=True)
class DriftCall:
    goal: Decimal | None  # the weight to trade to; None = hold
    rule: RuleId
    why: str


def bands(target: Decimal, settings: Settings) -> tuple[Decimal, Decimal]:
    """(band, outer band) for one position, as fractions of the portfolio.

    A 0% target keeps the plain band: a band relative to nothing would be zero, and the
    index fund that Leftover To fills (target 0% is usual) would be sold off in full on
    the next run, undoing what the last one bought.
    """
    band, outer = settings.band, settings.outer_band
    if settings.relative_band is not None and band > 0 and target > 0:
        relative = settings.relative_band * target
        if relative < band:
            outer = outer * relative / band
            band = relative
    return band, outer


def drift_call(weight: Decimal, target: Decimal, settings: Settings) -> DriftCall:
    drift = pp(weight - target)
    band, outer = bands(target, settings)
    band_pp, outer_pp = pp(band), pp(outer)
    d = f"drift {drift:+}"
    strategy = settings.strategy
    if strategy is Strategy.CALENDAR:
        if drift == 0:
            return DriftCall(None, RuleId.CALENDAR, f"{d} pp: at target")
        return DriftCall(target, RuleId.CALENDAR, f"{d} pp → back to target {pp(target)}%")
    if abs(drift) < band_pp:
        within = RuleId.THRESHOLD_BAND if strategy is Strategy.THRESHOLD else RuleId.HYBRID_BAND
        return DriftCall(None, within, f"{d} pp within ±{band_pp} pp band: hold")
    if strategy is Strategy.THRESHOLD or abs(drift) >= outer_pp:
        rule = RuleId.THRESHOLD_BAND if strategy is Strategy.THRESHOLD else RuleId.HYBRID_OUTER_BAND
        edge = band_pp if strategy is Strategy.THRESHOLD else outer_pp
        return DriftCall(target, rule, f"{d} pp ≥ {edge} pp → back to target {pp(target)}%")
    # Between band and outer band: go halfway into the band, on the side of the drift.
    half = band / 2
    goal = target + half if drift > 0 else target - half
    return DriftCall(
        goal,
        RuleId.HYBRID_BAND,
        f"{d} pp ≥ {band_pp} pp band → to target {'+' if drift > 0 else '−'} "
        f"half band = {pp(goal)}%",
    )

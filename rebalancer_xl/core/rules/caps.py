"""Concentration caps (guide rules 1 and 2): no position may dominate the portfolio.

Above the urgent cap (50%) a position is trimmed to 40% at once, even between
quarters, and flagged URGENT; above the cap (40%) it is trimmed to 35%. Both tests
are strict and made on the weight rounded to 0.01 pp. Example: PLTR is $45,000 of
$100,000 = 45% > 40%, so it is trimmed to 35%: sell $10,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.core.model import RuleId, pp_limit
from rebalancer_xl.core.reasons import Cap
from rebalancer_xl.core.settings import Settings


@dataclass(frozen=True, slots=True)
class CapBreach:
    trim_to: Decimal
    urgent: bool
    rule: RuleId
    why: Cap


def cap_breach(w: Decimal, settings: Settings) -> CapBreach | None:
    """The cap a position's weight `w` (in pp, rounded as `pp` does) breaks, if any."""
    if w > pp_limit(settings.urgent_cap):
        return CapBreach(
            settings.urgent_trim_to,
            True,
            RuleId.URGENT_CAP,
            Cap(w, settings.urgent_cap, settings.urgent_trim_to, True),
        )
    if w > pp_limit(settings.cap):
        return CapBreach(
            settings.cap_trim_to,
            False,
            RuleId.CAP,
            Cap(w, settings.cap, settings.cap_trim_to, False),
        )
    return None

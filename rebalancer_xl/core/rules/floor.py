"""The reversion floor (guide rule 4): a shrunken position is restored or exited.

A position below the floor (5%) whose target is above it is too small to matter but
still worth tracking: with its thesis intact it is bought back to target, with its
thesis broken it is sold. Positions whose target is at or below the floor are left to
the drift strategy. Example: TEM targets 10% but is 3%; score 55 and no trigger →
ADD back to 10%.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.core.model import THESIS_SCORE, Holding, RuleId, pp, pp_limit
from rebalancer_xl.core.reasons import FloorExit, FloorRestore, Thesis, new_clause
from rebalancer_xl.core.settings import Settings

RULE = RuleId.FLOOR


@dataclass(frozen=True, slots=True)
class FloorBreach:
    restore: bool  # True: buy back to target; False: exit
    why: FloorRestore | FloorExit


def floor_breach(h: Holding, w: Decimal, settings: Settings) -> FloorBreach | None:
    """Whether `h`, at weight `w` (in pp, rounded as `pp` does), is below the floor."""
    floor = settings.reversion_floor
    if not (w < pp_limit(floor) < pp(h.target)):
        return None
    if h.thesis_intact:
        return FloorBreach(True, FloorRestore(w, floor, h.target))
    return FloorBreach(False, FloorExit(w, floor, thesis(h)))


def thesis(h: Holding) -> Thesis:
    """Why a thesis counts as broken: its score below Strong, its exit triggers."""
    low = h.score if h.score is not None and h.score < THESIS_SCORE else None
    return new_clause(Thesis, (low, h.exit_triggers))  # as judge's NoBuy that holds it

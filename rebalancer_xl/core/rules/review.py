"""The yearly review of targets (SPEC §6c): the guide asks for one once a year.

Settings' Targets Reviewed holds the date of the last review. Blank, or more than 365
days before the run date, is a warning, not an error: the plan is still made, and the
warning says to look at the targets again. Example: reviewed 2025-12-01, run on
2026-12-31 — 395 days, so the run warns.
"""

from __future__ import annotations

from datetime import date

from rebalancer_xl.core.model import Problem, Where
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.settings import SHEET, Settings

REVIEW_DAYS = 365
SETTING = "Targets Reviewed"
ASK = "review the target allocations: the guide asks for it once a year"


def targets_review(settings: Settings, as_of: date) -> Problem | None:
    """The `targets-not-reviewed` warning, or None when the review is recent."""
    reviewed = settings.targets_reviewed
    if reviewed is None:
        found = f"{SETTING} is blank"
    elif (as_of - reviewed).days > REVIEW_DAYS:
        found = f"{SETTING} {reviewed} is {(as_of - reviewed).days} days before {as_of}"
    else:
        return None
    return problem("targets-not-reviewed", Where(SHEET, column=SETTING), found=found, ask=ASK)


def targets_reviewed(settings: Settings, as_of: date) -> bool:
    """True when the targets were reviewed within the year: the Checklist step is done."""
    return targets_review(settings, as_of) is None

"""The calendar: when the next rebalance falls, emergency-only runs, and the crash check.

Quarters end on Mar 31, Jun 30, Sep 30 and Dec 31; the next rebalance is the next
quarter end after the run (or three months after it, a setting). A run sooner than
Min Days Between Rebalances after the last one acts on emergencies only. The crash
check compares today's value with the History row nearest to 30 days ago (within
±10 days): down 30% or more → every row is flagged REVIEW and only emergencies trade.
Example: run on 2026-11-23 after a rebalance on 2026-09-30: 54 days < 80 →
emergency-only; the next rebalance is 2026-12-31.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rebalancer_xl.core.model import HistoryEntry, Schedule
from rebalancer_xl.core.reasons import Crash
from rebalancer_xl.core.reasons import Schedule as Since
from rebalancer_xl.core.settings import Settings

CRASH_DROP = Decimal("0.30")
CRASH_LOOKBACK = timedelta(days=30)
CRASH_WINDOW = timedelta(days=10)


def next_quarter_end(d: date) -> date:
    """The first quarter end strictly after `d`."""
    for month in (3, 6, 9, 12):
        end = date(d.year, month, calendar.monthrange(d.year, month)[1])
        if end > d:
            return end
    return date(d.year + 1, 3, 31)


def add_months(d: date, months: int) -> date:
    """`d` plus whole months, clamped to the month's last day (Nov 30 + 3 → Feb 28)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def next_rebalance_date(as_of: date, settings: Settings, full_run: bool) -> date:
    if settings.schedule is Schedule.THREE_MONTHS:
        base = (
            as_of
            if full_run or settings.last_rebalance_date is None
            else settings.last_rebalance_date
        )
        nxt = add_months(base, 3)
        return nxt if nxt > as_of else add_months(as_of, 3)
    return next_quarter_end(as_of)


@dataclass(frozen=True, slots=True)
class ScheduleCheck:
    emergency_only: bool
    days_since_last: int | None
    why: Since


def schedule_check(as_of: date, settings: Settings) -> ScheduleCheck:
    last = settings.last_rebalance_date
    minimum = settings.min_days_between_rebalances
    if last is None:
        return ScheduleCheck(False, None, Since(None, minimum, False, False))
    days = (as_of - last).days
    if days >= minimum:
        return ScheduleCheck(False, days, Since(days, minimum, False, False))
    if settings.force_full_run:
        return ScheduleCheck(False, days, Since(days, minimum, False, True))
    return ScheduleCheck(True, days, Since(days, minimum, True, False))


@dataclass(frozen=True, slots=True)
class CrashCheck:
    crashed: bool
    checked: bool
    why: Crash


def crash_check(history: Sequence[HistoryEntry], as_of: date, value: Decimal) -> CrashCheck:
    """Compare `value` with the History row nearest to 30 days before `as_of`."""
    aim = as_of - CRASH_LOOKBACK
    near = [e for e in history if abs(e.date - aim) <= CRASH_WINDOW and e.portfolio_value > 0]
    if not near:
        return CrashCheck(False, False, Crash(aim))
    base = min(near, key=lambda e: (abs(e.date - aim), e.date))
    change = value / base.portfolio_value - 1
    crashed = change <= -CRASH_DROP
    return CrashCheck(
        crashed, True, Crash(aim, base.date, base.portfolio_value, value, change, crashed)
    )

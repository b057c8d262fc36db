"""`rebalancer-xl calendar`: the quarter's dates as an iCalendar (.ics) file.

Outlook, Google Calendar and Apple Calendar all import RFC 5545 files; each reminder is
an all-day event:

- the next rebalance date (History's latest run, else the schedule from the settings);
- each staged tranche still to be placed (Trades rows with a later Planned Date);
- a between-quarter check (`rebalancer-xl check`) every week, by default, until the
  next rebalance.

Every event's UID is built from the workbook's name, the kind of reminder and its date,
so importing a newer file updates the reminders rather than adding a second copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from rebalancer_xl.core.rules.schedule import next_rebalance_date
from rebalancer_xl.core.settings import Settings
from rebalancer_xl.core.values import BadValue, parse_date
from rebalancer_xl.quarter.trades_sheet import OrderRow, plain
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book
from rebalancer_xl.workbook.inputs import find_table

PRODID = "-//rebalancer-xl//quarterly rebalancing//EN"
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str  # rebalance | tranche | check
    day: date
    key: str  # what tells two reminders of one day apart (the ticker of a tranche)
    summary: str
    description: str


def _date(raw: object) -> date | None:
    try:
        return parse_date(plain(raw), "date")
    except BadValue:
        return None


def next_rebalance(book: Book, settings: Settings, today: date) -> date:
    """The Next Rebalance Date of History's latest run, else the schedule's next date."""
    sheet = book.get(S.HISTORY)
    table = None if sheet is None else find_table(sheet, S.HistoryHeader.DATE)
    best: tuple[date, date] | None = None
    if table is not None:
        for r in range(table.first_row, table.last_row() + 1):
            if plain(table.get(r, S.HistoryHeader.RUN_TYPE)) in S.SNAPSHOT_RUN_TYPES:
                continue
            when = _date(table.get(r, S.HistoryHeader.DATE))
            nxt = _date(table.get(r, S.HistoryHeader.NEXT_DATE))
            if when is not None and nxt is not None and (best is None or when > best[0]):
                best = (when, nxt)
    if best is not None and best[1] >= today:
        return best[1]
    return next_rebalance_date(today, settings, True)


def reminders(
    name: str,
    next_date: date,
    orders: Sequence[OrderRow],
    today: date,
    check_every: int = 7,
) -> list[Reminder]:
    """The reminders, in date order: checks, staged tranches, the next rebalance."""
    out: list[Reminder] = []
    if check_every > 0:
        day = today + timedelta(days=check_every)
        while day < next_date:
            out.append(
                Reminder(
                    "check",
                    day,
                    "",
                    f"Portfolio check: {name}",
                    f"Run: rebalancer-xl check {name}. It watches the 50% cap, exit signals, "
                    "company events and a 30% crash, and records the portfolio's value.",
                )
            )
            day += timedelta(days=check_every)
    first = min((o.planned for o in orders if o.planned is not None), default=None)
    for o in orders:
        if o.open and o.planned is not None and first is not None and o.planned > first:
            qty = "" if o.shares is None else f"{o.shares.normalize():f} "
            out.append(
                Reminder(
                    "tranche",
                    o.planned,
                    f"{o.side}-{o.ticker}",
                    f"Place staged order: {o.side} {qty}{o.ticker}",
                    f"{name}: {o.rule}. Limit "
                    + (
                        "as on the Trades sheet"
                        if o.limit_price is None
                        else f"{o.limit_price:.2f}"
                    )
                    + "; record the fill with rebalancer-xl record.",
                )
            )
    out.append(
        Reminder(
            "rebalance",
            next_date,
            "",
            f"Quarterly rebalance: {name}",
            f"Update prices, shares and scores in {name}, then run: rebalancer-xl run {name}",
        )
    )
    return sorted(out, key=lambda r: (r.day, r.kind))


def render_ics(name: str, items: Sequence[Reminder], now: datetime | None = None) -> bytes:
    """An RFC 5545 calendar of all-day events, one per reminder."""
    stamp = now or datetime.now(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Rebalancing: {name}")
    for item in items:
        event = Event()
        key = f"-{item.key}" if item.key else ""
        event.add("uid", f"{item.kind}-{item.day.isoformat()}{key}-{name}@rebalancer-xl")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + DAY)
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy slot
        cal.add_component(event)
    return bytes(cal.to_ical())

"""Reading Holdings rows into `Holding` values, collecting every problem on the way.

Rows arrive as {header text: raw cell value} mappings, whatever the source (a pandas
DataFrame, an openpyxl sheet, an xlwings range). Nothing here raises for a user's
typo: each bad cell becomes a `Problem` with a stable code and its location, and
parsing goes on so that one pass reports everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.model import (
    CASH,
    ONE,
    ZERO,
    CellRef,
    Holding,
    Problem,
    Severity,
    Where,
)
from rebalancer_xl.settings import Settings, is_blank
from rebalancer_xl.values import BadValue, parse_decimal, parse_yes_no

HOLDINGS = "Holdings"

TICKER = "Ticker"
PURCHASE_PRICE = "Purchase Price"
CURRENT_PRICE = "Current Price"
SHARES = "Shares"
TARGET = "Target %"
SCORE = "Score"
PREVIOUS_SCORE = "Previous Score"
EXIT_TRIGGERS = "Exit Triggers Hit"
COMPANY_EVENT = "Company Event"
LOCK = "Lock"
LAST_PRICE = "Last Rebalance Price"  # from the Performance sheet; optional in the API

REQUIRED_COLUMNS = (TICKER, CURRENT_PRICE, SHARES, TARGET)
INPUT_COLUMNS = (
    TICKER, PURCHASE_PRICE, CURRENT_PRICE, SHARES, TARGET, SCORE, PREVIOUS_SCORE,
    EXIT_TRIGGERS, COMPANY_EVENT, LOCK,
)

# Letters, digits and the punctuation real symbols use (BRK.B, RDS-A, BF/B, "ABC 1").
_TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9.\-/: ^]{0,19}$")
TARGET_TOLERANCE = Decimal("0.0001")  # targets must sum to 100% ± 0.01 pp

Locate = Callable[[int, str], CellRef | None]


@dataclass(frozen=True, slots=True)
class ParsedHoldings:
    holdings: tuple[Holding, ...]
    problems: tuple[Problem, ...]


def _where(locate: Locate | None, row: int, column: str, ticker: str | None) -> Where:
    cell = locate(row, column) if locate else None
    return Where(HOLDINGS, row=row, column=column, ticker=ticker or None, cell=cell)


def parse_holdings(
    rows: Sequence[Mapping[str, object]],
    columns: Collection[str] | None = None,
    locate: Locate | None = None,
) -> ParsedHoldings:
    """Parse input rows; blank rows are skipped, every bad cell is a problem.

    `columns` is the set of headers present (defaults to the first row's keys); a
    missing required header is one problem, not one per row.
    """
    present = set(columns) if columns is not None else set(rows[0]) if rows else set()
    problems: list[Problem] = []
    for name in REQUIRED_COLUMNS:
        if name not in present:
            problems.append(Problem(
                "missing-column",
                f"the {HOLDINGS} table has no {name!r} column"
                + _near_miss(name, present),
                Where(HOLDINGS, column=name),
            ))
    if problems:
        return ParsedHoldings((), tuple(problems))

    holdings: list[Holding] = []
    first_row: dict[str, int] = {}
    for index, row in enumerate(rows):
        inputs = {k: row.get(k) for k in INPUT_COLUMNS if k in row}
        if all(is_blank(v) for v in inputs.values()):
            continue
        holding, row_problems = _parse_row(index, row, locate)
        problems.extend(row_problems)
        raw = row.get(TICKER)
        ticker = "" if is_blank(raw) else str(raw).strip().upper()
        if ticker in first_row:
            problems.append(Problem(
                "duplicate-ticker",
                f"{ticker} appears again (first on row {first_row[ticker] + 1} "
                "of the table); keep one row per position",
                _where(locate, index, TICKER, ticker),
            ))
            continue
        if ticker:
            first_row[ticker] = index
        if holding is not None:
            holdings.append(holding)
    return ParsedHoldings(tuple(holdings), tuple(problems))


def _near_miss(name: str, present: Collection[str]) -> str:
    folded = {str(p).strip().casefold(): str(p) for p in present}
    key = name.casefold()
    if key in folded:
        return f" (found {folded[key]!r}: headers must match exactly)"
    for k, original in folded.items():
        if key.replace(" ", "") == k.replace(" ", "") or key.rstrip("%").strip() == k:
            return f" (found {original!r}: was it renamed?)"
    return ""


def _parse_row(
    index: int, row: Mapping[str, object], locate: Locate | None
) -> tuple[Holding | None, list[Problem]]:
    problems: list[Problem] = []
    raw_ticker = row.get(TICKER)
    ticker = "" if is_blank(raw_ticker) else str(raw_ticker).strip().upper()

    def where(column: str) -> Where:
        return _where(locate, index, column, ticker)

    def bad(column: str, code: str, message: str) -> None:
        problems.append(Problem(code, message, where(column)))

    if not ticker:
        bad(TICKER, "missing-ticker", "this row has data but no ticker")
    elif not _TICKER.match(ticker):
        bad(TICKER, "bad-ticker",
            f"Ticker is {str(raw_ticker)[:40]!r}; use letters, digits, '.', '-' or '/'")
    is_cash = ticker == CASH

    def number(column: str, *, default: Decimal | None, percent: bool = False) -> Decimal | None:
        raw = row.get(column)
        if is_blank(raw):
            return default
        try:
            return parse_decimal(raw, column, percent=percent)
        except BadValue as err:
            bad(column, err.code, err.message)
            return None

    shares = number(SHARES, default=ZERO)
    if shares is not None and shares < 0:
        bad(SHARES, "negative-shares", f"Shares is {shares}; a position cannot be negative")
        shares = None

    price = number(CURRENT_PRICE, default=ONE if is_cash else None)
    if price is None and is_blank(row.get(CURRENT_PRICE)):
        bad(CURRENT_PRICE, "missing-price", "Current Price is blank")
    elif price is not None and price <= 0:
        bad(CURRENT_PRICE, "bad-price", f"Current Price is {price}; it must be above zero")
        price = None
    elif price is not None and is_cash and price != ONE:
        bad(CURRENT_PRICE, "cash-price",
            f"the CASH row's Current Price is {price}; it must be 1 (Shares holds the balance)")
        price = None

    target = number(TARGET, default=ZERO, percent=True)
    if target is not None and not ZERO <= target <= ONE:
        hint = f" (did you mean {target}%? type it as {target}% or {target / 100})" \
            if 1 < target <= 100 else ""
        bad(TARGET, "out-of-range", f"Target % is {target}; expected 0% to 100%{hint}")
        target = None

    scores: dict[str, Decimal | None] = {}
    for column in (SCORE, PREVIOUS_SCORE):
        s = number(column, default=None)
        if s is not None and not ZERO <= s <= 100:
            bad(column, "score-out-of-range", f"{column} is {s}; scores run from 0 to 100")
            s = None
        scores[column] = s

    triggers_raw = number(EXIT_TRIGGERS, default=ZERO)
    triggers = 0
    if triggers_raw is not None:
        if triggers_raw < 0 or triggers_raw != triggers_raw.to_integral_value():
            bad(EXIT_TRIGGERS, "bad-count",
                f"Exit Triggers Hit is {triggers_raw}; expected a whole number ≥ 0")
        else:
            triggers = int(triggers_raw)

    company_event = _company_event(row.get(COMPANY_EVENT))
    lock = False
    if not is_blank(row.get(LOCK)):
        try:
            lock = parse_yes_no(row.get(LOCK), LOCK)
        except BadValue as err:
            bad(LOCK, err.code, err.message)

    purchase = number(PURCHASE_PRICE, default=None)
    last_price = number(LAST_PRICE, default=None) if LAST_PRICE in row else None

    if problems or shares is None or price is None or target is None or not ticker:
        return None, problems
    return Holding(
        ticker=ticker,
        shares=shares,
        price=price,
        target=target,
        score=scores[SCORE],
        previous_score=scores[PREVIOUS_SCORE],
        exit_triggers=triggers,
        company_event=company_event,
        lock=lock,
        purchase_price=purchase,
        last_price=last_price,
        row=index,
    ), problems


def _company_event(raw: object) -> bool:
    """Yes/No, or a few words describing the event (any other text counts as yes)."""
    if is_blank(raw):
        return False
    try:
        return parse_yes_no(raw, COMPANY_EVENT)
    except BadValue:
        return True


def validate(
    holdings: Sequence[Holding],
    settings: Settings,
    locate: Locate | None = None,
    locate_setting: Callable[[str], Where] | None = None,
) -> list[Problem]:
    """Checks across rows and settings: targets add to 100%, caps, the leftover ticker."""
    problems: list[Problem] = []
    at_setting = locate_setting or (lambda name: Where("Settings", column=name))
    if holdings:
        total = sum((h.target for h in holdings), ZERO)
        if abs(total - ONE) > TARGET_TOLERANCE:
            problems.append(Problem(
                "targets-not-100",
                f"Target % adds up to {total * 100:.2f}%; it must be 100% (± 0.01%), "
                "cash included",
                Where(HOLDINGS, column=TARGET),
            ))
    else:
        problems.append(Problem("no-holdings", "the Holdings table has no positions",
                                Where(HOLDINGS)))
    for h in holdings:
        if h.target > settings.cap and not h.is_cash:
            problems.append(Problem(
                "target-above-cap",
                f"{h.ticker} Target % {h.target:.2%} is above the {settings.cap:.0%} cap; "
                "the cap will trim it whenever it reaches its target",
                _where(locate, h.row, TARGET, h.ticker),
                Severity.WARNING,
            ))
    tickers = {h.ticker for h in holdings}
    if settings.leftover_to != CASH and settings.leftover_to not in tickers:
        problems.append(Problem(
            "leftover-ticker-missing",
            f"Leftover To names {settings.leftover_to}, which has no Holdings row; add a row "
            "for it (its price, target 0% is fine) or set Leftover To to Cash",
            at_setting("Leftover To"),
        ))
    value = sum((h.value for h in holdings), ZERO) + settings.new_capital
    if holdings and settings.withdrawal >= value:
        problems.append(Problem(
            "withdrawal-too-large",
            f"Withdrawal {settings.withdrawal:,.2f} is not less than the portfolio's value "
            f"{value:,.2f}",
            at_setting("Withdrawal"),
        ))
    return problems

"""Reading Holdings rows into `Holding` values, collecting every problem on the way.

Rows arrive as {header text: raw cell value} mappings, whatever the source (a pandas
DataFrame, an openpyxl sheet, an xlwings range). Nothing here raises for a user's
typo: each bad cell becomes a `Problem` with a stable code and its location, and
parsing goes on so that one pass reports everything. The checks across rows
(`validate_parsed`, `check_lot_totals`) then run on whatever could be read, bad cells
or not, and skip only what a bad cell makes unknowable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from rebalancer_xl.core.household.accounts import merge_targets
from rebalancer_xl.core.model import (
    CASH,
    ONE,
    ZERO,
    CellRef,
    Holding,
    Lot,
    Problem,
    Where,
    new_holding,
)
from rebalancer_xl.core.problems import message, problem
from rebalancer_xl.core.settings import Settings, is_blank
from rebalancer_xl.core.values import BadValue, parse_decimal, parse_run_date, parse_yes_no

HOLDINGS = "Holdings"
LOTS = "Lots"

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
ACCOUNT = "Account"  # optional: its presence makes the rows a household's (SPEC §9)
LAST_PRICE = "Last Rebalance Price"  # from the Performance sheet; optional in the API
# What a run writes beside each position (the API's result columns too).
ACTION = "Action"
AMOUNT = "Amount"
SHARES_TO_TRADE = "Shares to Trade"
POST_TRADE = "Post-Trade %"
RULE = "Rule"
REASON = "Reason"
FLAGS = "Flags"
RULE_ID = "Rule ID"  # the API's only: the sheet shows the Rule label

# The Lots table (its Ticker and Shares headers are the Holdings ones).
ACQUIRED = "Acquired"
COST_PER_SHARE = "Cost per Share"
LOT_COLUMNS = (TICKER, ACQUIRED, SHARES, COST_PER_SHARE)

REQUIRED_COLUMNS = (TICKER, CURRENT_PRICE, SHARES, TARGET)
INPUT_COLUMNS = (
    TICKER,
    PURCHASE_PRICE,
    CURRENT_PRICE,
    SHARES,
    TARGET,
    SCORE,
    PREVIOUS_SCORE,
    EXIT_TRIGGERS,
    COMPANY_EVENT,
    LOCK,
    ACCOUNT,
)

# Letters, digits and the punctuation real symbols use (BRK.B, RDS-A, BF/B, "ABC 1").
_TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9.\-/: ^]{0,19}$")
TARGET_TOLERANCE = Decimal("0.0001")  # targets must sum to 100% ± 0.01 pp

Locate = Callable[[int, str], CellRef | None]


class Unread:
    """The value of a cell the reader could not read and has already reported (a formula
    with no calculated value). The parser treats it as unknown, not blank: a blank Target %
    means 0%, but an unknown one makes the targets' sum unknown. It reports nothing of
    its own for such a cell, so the one fault is said once."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREAD"


UNREAD = Unread()


@dataclass(frozen=True, slots=True)
class RowRead:
    """What one non-blank input row gave, kept even when the row is refused, so that the
    checks across rows can still run on the cells that were read."""

    row: int  # 0-based, among the input rows
    ticker: str | None  # None: blank, unreadable or not a valid symbol
    target: Decimal | None  # None: the Target % cell was bad or unreadable
    holding: Holding | None  # None: the row was refused, or repeats a ticker
    account: str = ""  # the Account cell, in a household
    target_given: bool = True  # False: Target % left blank (in a household: "not given here")


@dataclass(frozen=True, slots=True)
class ParsedHoldings:
    holdings: tuple[Holding, ...]
    problems: tuple[Problem, ...]
    rows: tuple[RowRead, ...] = ()
    missing_columns: tuple[str, ...] = ()  # required headers not found: nothing was read


def tickers_known(rows: Sequence[RowRead]) -> bool:
    """Every row has a valid ticker of its own: none blank, unreadable or repeated.

    "No row holds X" is only a fact when this is true: a row whose ticker is blank,
    mistyped or repeated (often a typo for another) may be the one meant to hold X."""
    tickers = [r.ticker for r in rows]
    return None not in tickers and len(set(tickers)) == len(tickers)


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
            problems.append(
                problem(
                    "missing-column",
                    Where(HOLDINGS, column=name),
                    "table",
                    table=HOLDINGS,
                    name=name,
                    hint=_near_miss(name, present),
                )
            )
    if problems:
        return ParsedHoldings(
            (), tuple(problems), missing_columns=tuple(str(p.where.column) for p in problems)
        )

    holdings: list[Holding] = []
    read: list[RowRead] = []
    # In a household a ticker may have one row per account: a repeat is the same
    # (account, ticker) twice.
    household = ACCOUNT in present
    first_row: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        inputs = {k: row.get(k) for k in INPUT_COLUMNS if k in row}
        # A row whose only content is unreadable formulas is not a position: the reader
        # has reported those cells, and "this row has no ticker" would be an echo.
        if all(is_blank(v) or isinstance(v, Unread) for v in inputs.values()):
            continue
        holding, target, row_problems = _parse_row(index, row, locate)
        problems.extend(row_problems)
        raw = row.get(TICKER)
        ticker = ticker_text(raw)
        valid = ticker if ticker and _TICKER.match(ticker) else None
        account = _account_text(row.get(ACCOUNT)) if household else ""
        given = not is_blank(row.get(TARGET))
        key = (account, ticker)
        if key in first_row:
            again = f"{ticker} in {account}" if account else ticker
            problems.append(
                problem(
                    "duplicate-ticker",
                    _where(locate, index, TICKER, ticker),
                    again=again,
                    first=_first_at(locate, first_row[key]),
                    per=" and account" if household else "",
                )
            )
            read.append(RowRead(index, valid, target, None, account, given))
            continue
        if ticker:
            first_row[key] = index
        if holding is not None:
            if account:
                holding = replace(holding, account=account)
            holdings.append(holding)
        read.append(RowRead(index, valid, target, holding, account, given))
    return ParsedHoldings(tuple(holdings), tuple(problems), tuple(read))


def ticker_text(raw: object) -> str:
    """A Ticker cell as the symbol it names: text upper-cased and trimmed; a number as
    it reads (Tokyo's 7203 arrives from Excel as 7203.0, from pandas as 7203); "" for a
    blank or unread cell. A yes/no value is no symbol: it reads as "TRUE", which
    `_TICKER` would take, so it is given as its repr for the row to refuse."""
    if is_blank(raw) or isinstance(raw, Unread):
        return ""
    if isinstance(raw, bool):
        return repr(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, Decimal):
        return format(raw.normalize(), "f") if raw.is_finite() else str(raw)
    if hasattr(raw, "item") and not isinstance(raw, str):  # a numpy scalar from pandas
        return ticker_text(raw.item())
    return str(raw).strip().upper()


def _account_text(raw: object) -> str:
    """An account's name as rows give it; names match as typed, spaces trimmed."""
    return "" if is_blank(raw) or isinstance(raw, Unread) else str(raw).strip()


def _first_at(locate: Locate | None, row: int) -> str:
    """Where a ticker's first row is, in the terms of whoever gave the rows: the workbook
    reader locates it as a cell; rows from a DataFrame are counted as `df.iloc` does."""
    cell = locate(row, TICKER) if locate else None
    if cell is not None:
        return f"at {cell}"
    return f"on row {row} of the input, counting from 0 as df.iloc does"


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
) -> tuple[Holding | None, Decimal | None, list[Problem]]:
    """The row's holding (None if refused), its target (None if unknown) and problems."""
    problems: list[Problem] = []
    raw_ticker = row.get(TICKER)
    ticker = ticker_text(raw_ticker)
    unread = Unread in map(type, row.values())  # (no class derives from Unread)

    def where(column: str) -> Where:
        return _where(locate, index, column, ticker)

    def bad(column: str, code: str, form: str = "", /, **values: object) -> None:
        problems.append(problem(code, where(column), form, **values))

    def refused(column: str, err: BadValue) -> None:
        # the value reader worded it already
        problems.append(Problem(err.code, err.message, where(column)))

    if not ticker:
        if not isinstance(raw_ticker, Unread):  # an unreadable one is reported already
            bad(TICKER, "missing-ticker")
    elif not _TICKER.match(ticker):
        bad(TICKER, "bad-ticker", "row", value=str(raw_ticker)[:40])
    is_cash = ticker == CASH

    def number(column: str, *, default: Decimal | None, percent: bool = False) -> Decimal | None:
        raw = row.get(column)
        kind = type(raw)
        if kind is int or (kind is float and raw == raw):  # most cells (NaN: a blank)
            try:
                return parse_decimal(raw, column, percent=percent)
            except BadValue as err:
                refused(column, err)
                return None
        if isinstance(raw, Unread):
            return None
        if is_blank(raw):
            return default
        try:
            return parse_decimal(raw, column, percent=percent)
        except BadValue as err:
            refused(column, err)
            return None

    shares = number(SHARES, default=ZERO)
    if shares is not None and shares < 0:
        bad(SHARES, "negative-shares", shares=shares)
        shares = None

    price = number(CURRENT_PRICE, default=ONE if is_cash else None)
    if price is None and is_blank(row.get(CURRENT_PRICE)):
        bad(CURRENT_PRICE, "missing-price")
    elif price is not None and price <= 0:
        bad(CURRENT_PRICE, "bad-price", "current", price=price)
        price = None
    elif price is not None and is_cash and price != ONE:
        bad(CURRENT_PRICE, "cash-price", price=price)
        price = None

    target = number(TARGET, default=ZERO, percent=True)
    if target is not None and not ZERO <= target <= ONE:
        hint = (
            f" (did you mean {target}%? type it as {target}% or {target / 100})"
            if 1 < target <= 100
            else ""
        )
        bad(TARGET, "out-of-range", "target", value=target, hint=hint)
        target = None

    scores: dict[str, Decimal | None] = {}
    for column in (SCORE, PREVIOUS_SCORE):
        s = number(column, default=None)
        if s is not None and not ZERO <= s <= 100:
            bad(column, "score-out-of-range", what=column, value=s)
            s = None
        scores[column] = s

    triggers_raw = number(EXIT_TRIGGERS, default=ZERO)
    triggers = 0
    if triggers_raw is not None:
        if triggers_raw < 0 or triggers_raw != triggers_raw.to_integral_value():
            bad(EXIT_TRIGGERS, "bad-count", value=triggers_raw)
        else:
            triggers = int(triggers_raw)

    # Yes/No only, like Lock: "no event" typed as words must not count as an event.
    flags: dict[str, bool] = {}
    for column in (COMPANY_EVENT, LOCK):
        raw = row.get(column)
        flags[column] = False
        if not is_blank(raw) and not isinstance(raw, Unread):
            try:
                flags[column] = parse_yes_no(raw, column)
            except BadValue as err:
                refused(column, err)
    company_event, lock = flags[COMPANY_EVENT], flags[LOCK]

    purchase = number(PURCHASE_PRICE, default=None)
    last_price = number(LAST_PRICE, default=None) if LAST_PRICE in row else None

    if problems or unread or shares is None or price is None or target is None or not ticker:
        return None, target, problems
    return (
        new_holding(
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
        ),
        target,
        problems,
    )


def validate(
    holdings: Sequence[Holding],
    settings: Settings,
    locate: Locate | None = None,
    locate_setting: Callable[[str], Where] | None = None,
    *,
    rows: Sequence[RowRead] | None = None,
    refused_settings: Collection[str] = (),
) -> list[Problem]:
    """Checks across rows and settings: targets add to 100%, caps, the leftover ticker.

    `rows` is what every input row gave, refused rows included (`ParsedHoldings.rows`);
    without it each holding counts as a row read in full. Each check runs on what could
    be read and is skipped only when a value it needs could not be: a sum with an
    unknown term is unknown, and a guess at it would be reported as fact. For the same
    reason a check is skipped when a setting it uses is in `refused_settings` (the
    default standing in for it is not what the user typed).
    """
    read = (
        list(rows)
        if rows is not None
        else [RowRead(h.row, h.ticker, h.target, h) for h in holdings]
    )
    refused = set(refused_settings)
    problems: list[Problem] = []
    at_setting = locate_setting or (lambda name: Where("Settings", column=name))
    if any(r.account for r in read):
        # A household's targets are per ticker, over its rows in every account (SPEC §9).
        read, disagree = merge_targets(read, lambda r: _where(locate, r.row, TARGET, r.ticker))
        problems.extend(disagree)
    if all(r.ticker == CASH for r in read):
        # A new workbook starts with its CASH row: until a position is typed there is
        # nothing to rebalance, and that is the one thing to say.
        problems.append(problem("no-holdings", Where(HOLDINGS), "cash-only" if read else ""))
        return problems
    if all(r.target is not None for r in read):
        total = sum((r.target for r in read if r.target is not None), ZERO)
        if abs(total - ONE) > TARGET_TOLERANCE:
            problems.append(
                problem("targets-not-100", Where(HOLDINGS, column=TARGET), percent=total * 100)
            )
    if "Cap" not in refused:
        for r in read:
            if r.target is not None and r.target > settings.cap and r.ticker != CASH:
                name = f"{r.ticker} " if r.ticker else ""
                problems.append(
                    problem(
                        "target-above-cap",
                        _where(locate, r.row, TARGET, r.ticker),
                        named=name,
                        target=r.target,
                        cap=settings.cap,
                    )
                )
    if (
        settings.leftover_to != CASH
        and "Leftover To" not in refused
        and tickers_known(read)
        and settings.leftover_to not in {r.ticker for r in read}
    ):
        problems.append(
            problem(
                "leftover-ticker-missing", at_setting("Leftover To"), ticker=settings.leftover_to
            )
        )
    complete = [r.holding for r in read if r.holding is not None]
    if read and len(complete) == len(read) and not refused & {"Withdrawal", "New Capital"}:
        value = sum((h.value for h in complete), ZERO) + settings.new_capital
        if value == 0:
            # Said as it is: a Withdrawal nobody set is not the fault here.
            problems.append(problem("portfolio-worth-nothing", Where(HOLDINGS, column=SHARES)))
        elif settings.withdrawal >= value:
            problems.append(
                problem(
                    "withdrawal-too-large",
                    at_setting("Withdrawal"),
                    "value",
                    withdrawal=settings.withdrawal,
                    value=value,
                )
            )
    return problems


def refused_setting_names(problems: Sequence[Problem]) -> frozenset[str]:
    """Settings whose value was refused, from the problems `parse_settings` found."""
    return frozenset(
        p.where.column for p in problems if p.where.column and p.code != "unknown-setting"
    )


def validate_parsed(
    parsed: ParsedHoldings,
    settings: Settings,
    setting_problems: Sequence[Problem] = (),
    locate: Locate | None = None,
    locate_setting: Callable[[str], Where] | None = None,
) -> list[Problem]:
    """`validate` on what `parse_holdings` could read, bad cells or not, so that one pass
    reports every problem. Nothing when the table itself could not be read."""
    if parsed.missing_columns:
        return []
    return validate(
        parsed.holdings,
        settings,
        locate,
        locate_setting,
        rows=parsed.rows,
        refused_settings=refused_setting_names(setting_problems),
    )


LotFault = tuple[str, str, str]  # (header, code, message)


def parse_lot(values: Mapping[str, object], row: int = 0) -> tuple[Lot | None, list[LotFault]]:
    """One tax lot from {LOT_COLUMNS header: value}; None and every fault if refused.
    The workbook reader and the API both read lots through here."""
    faults: list[LotFault] = []
    ticker = ticker_text(values.get(TICKER))
    if not ticker:
        faults.append(_fault(TICKER, "missing-ticker", "lot"))
    elif not _TICKER.match(ticker):
        faults.append(_fault(TICKER, "bad-ticker", "lot", value=ticker[:40]))
    read: dict[str, object] = {}
    for header, reader in (
        (ACQUIRED, parse_run_date),
        (SHARES, parse_decimal),
        (COST_PER_SHARE, parse_decimal),
    ):
        raw = values.get(header)
        if is_blank(raw):
            faults.append(_fault(header, "missing-value", what=header))
            continue
        try:
            read[header] = reader(raw, header)
        except BadValue as err:
            faults.append((header, err.code, err.message))  # worded by the value reader
    shares = read.get(SHARES)
    if isinstance(shares, Decimal) and shares <= 0:
        faults.append(_fault(SHARES, "bad-shares", shares=shares))
    cost = read.get(COST_PER_SHARE)
    if isinstance(cost, Decimal) and cost < 0:
        faults.append(_fault(COST_PER_SHARE, "bad-price", "cost", cost=cost))
    if faults:
        return None, faults
    return (
        Lot(ticker, read[ACQUIRED], read[SHARES], read[COST_PER_SHARE], row=row),  # type: ignore[arg-type]
        faults,
    )


def _fault(header: str, code: str, form: str = "", /, **values: object) -> LotFault:
    """A lot's fault at `header`, worded by the catalogue."""
    return header, code, message(code, form, **values)


LocateLots = Callable[[str, int, Holding | None], Where]


def check_lot_totals(
    lots: Sequence[Lot],
    parsed: ParsedHoldings,
    locate: LocateLots,
    refused_lots: Collection[str | None] = (),
) -> list[Problem]:
    """The lots of each ticker must add up to the shares its Holdings row says are held.

    `locate(ticker, i, holding)` places a problem: `i` indexes the ticker's first lot in
    `lots`; `holding` is its Holdings row, None when there is none. `refused_lots` are
    the tickers of lots that could not be read (None for a lot with no ticker).
    A ticker is compared only when every number is known: its one Holdings row was read
    in full and none of its lots was refused; otherwise a "mismatch" would only echo a
    problem already reported. "No such ticker" is said only when `tickers_known`, and
    nothing at all if a refused lot had no ticker (its shares could be anyone's).
    """
    if not lots or parsed.missing_columns or None in refused_lots:
        return []
    totals: dict[str, Decimal] = {}
    first: dict[str, int] = {}
    for i, lot in enumerate(lots):
        totals[lot.ticker] = totals.get(lot.ticker, ZERO) + lot.shares
        first.setdefault(lot.ticker, i)
    rows_of: dict[str, list[RowRead]] = {}
    for r in parsed.rows:
        if r.ticker:
            rows_of.setdefault(r.ticker, []).append(r)
    orphans_known = tickers_known(parsed.rows)
    problems: list[Problem] = []
    for ticker, total in totals.items():
        if ticker in refused_lots:
            continue
        held = rows_of.get(ticker, [])
        if not held:
            if orphans_known:
                problems.append(
                    problem(
                        "lot-without-holding",
                        locate(ticker, first[ticker], None),
                        ticker=ticker,
                        total=total,
                    )
                )
            continue
        h = held[0].holding
        if len(held) > 1 or h is None:
            continue
        if total != h.shares:
            problems.append(
                problem(
                    "lots-mismatch",
                    locate(ticker, first[ticker], h),
                    ticker=ticker,
                    total=total,
                    shares=h.shares,
                )
            )
    return problems

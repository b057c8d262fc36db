"""The Python API: a pandas DataFrame of holdings in, the same rows with decisions out.

Columns and settings use the workbook's own words ("Ticker", "Target %", "Band" …), so
a sheet read with `pandas.read_excel` can be passed straight in.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from rebalancer_xl.core.engine import plan as _plan
from rebalancer_xl.core.household import plan_household
from rebalancer_xl.core.household.accounts import NAME as ACCOUNTS_NAME
from rebalancer_xl.core.household.accounts import TYPE as ACCOUNTS_TYPE
from rebalancer_xl.core.household.accounts import (
    NamedRow,
    canonical,
    check_account_lots,
    parse_accounts,
    resolve_accounts,
)
from rebalancer_xl.core.model import (
    CASH,
    Account,
    Decision,
    HistoryEntry,
    Holding,
    InputError,
    Lot,
    PastTrade,
    Plan,
    Problem,
    Severity,
    Where,
)
from rebalancer_xl.core.parse import (
    ACCOUNT,
    ACTION,
    AMOUNT,
    CURRENT_PRICE,
    FLAGS,
    HOLDINGS,
    LOT_COLUMNS,
    LOTS,
    POST_TRADE,
    REASON,
    RULE,
    RULE_ID,
    SHARES,
    SHARES_TO_TRADE,
    TARGET,
    TICKER,
    check_lot_totals,
    parse_holdings,
    parse_lot,
    ticker_text,
    validate_parsed,
)
from rebalancer_xl.core.past import (
    FILL_COLUMNS,
    HISTORY,
    HISTORY_DATE,
    PORTFOLIO_VALUE,
    RUN_TYPE,
    TRADES,
    Fault,
    parse_fill,
    parse_history_row,
)
from rebalancer_xl.core.settings import Settings, is_blank, parse_settings

if TYPE_CHECKING:
    import pandas as pd


class RebalanceWarning(UserWarning):
    """A problem in the input that did not stop the plan, such as a target above the cap.

    `rebalance` emits one through `warnings.warn` for each such problem; the text is the
    problem's location, code and message, and `problem` is the `Problem` itself.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Prepared:
    """Parsed, validated inputs ready for the engine (or the problems that stop it)."""

    holdings: tuple[Holding, ...]
    settings: Settings
    problems: tuple[Problem, ...]
    accounts: tuple[Account, ...] | None = None  # a household's (SPEC §9); None: one account

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def prepare(
    rows: Sequence[Mapping[str, object]],
    settings: Mapping[str, object] | None,
    columns: Sequence[str] | None = None,
    *,
    lots: Sequence[Lot] = (),
    problems_before: Sequence[Problem] = (),
    refused_lots: Sequence[str | None] = (),
    accounts: Mapping[str, str] | None = None,
) -> Prepared:
    """Parse and check everything in one pass: bad cells do not stop the checks across
    rows (targets' sum, cap, Leftover To) nor the lots' totals, which run on what could be
    read. Only the engine waits for input without errors. `problems_before` are those
    found in reading the input (a repeated column, a lot that could not be read).
    `accounts` (name → Type) or an Account column makes the rows a household's."""
    parsed = parse_holdings(rows, columns)
    parsed_settings, setting_problems = parse_settings(settings)
    problems = list(problems_before) + list(parsed.problems) + setting_problems
    problems += validate_parsed(parsed, parsed_settings, setting_problems)
    problems += check_lot_totals(lots, parsed, _locate_lot, refused_lots)
    present = set(columns) if columns is not None else set(rows[0]) if rows else set()
    if accounts is None and ACCOUNT not in present:
        return Prepared(parsed.holdings, parsed_settings, tuple(problems))
    listed = None
    if accounts is not None:
        listed, account_problems = parse_accounts(
            [{ACCOUNTS_NAME: name, ACCOUNTS_TYPE: kind} for name, kind in accounts.items()],
            lambda i, column: None,
        )
        problems += account_problems
    named = [
        NamedRow(
            r.account,
            r.holding.shares if r.holding is not None else None,
            Where(HOLDINGS, row=r.row, column=ACCOUNT, ticker=r.ticker),
        )
        for r in parsed.rows
    ]
    named += [
        NamedRow(lot.account, lot.shares, Where(LOTS, row=i, column=ACCOUNT, ticker=lot.ticker))
        for i, lot in enumerate(lots)
    ]
    found, account_problems = resolve_accounts(listed, named, parsed_settings.account_type)
    problems += account_problems
    if parsed_settings.withdrawal:
        problems.append(
            Problem(
                "household-withdrawal",
                "a Withdrawal across several accounts is not planned yet; plan the account "
                "that pays it on its own",
                Where("Settings", column="Withdrawal"),
            )
        )
    name = canonical(found)
    holdings = tuple(replace(h, account=name(h.account)) for h in parsed.holdings)
    problems += check_account_lots(
        [replace(lot, account=name(lot.account)) for lot in lots],
        holdings,
        lambda i: Where(LOTS, row=i, column=TICKER, ticker=lots[i].ticker),
        lambda h: Where(HOLDINGS, row=h.row, column=SHARES, ticker=h.ticker),
    )
    return Prepared(holdings, parsed_settings, tuple(problems), found)


def _locate_lot(ticker: str, index: int, holding: Holding | None) -> Where:
    """A lot problem, at the ticker's first lot (0-based, in the order given): its Shares
    when they do not add up, its Ticker when no holding has that ticker."""
    return Where(LOTS, row=index, column=TICKER if holding is None else SHARES, ticker=ticker)


def make_plan(
    holdings: pd.DataFrame,
    settings: Mapping[str, object] | None = None,
    *,
    history: Sequence[HistoryEntry | Mapping[str, object]] | pd.DataFrame = (),
    lots: Sequence[Lot | Mapping[str, object]] | pd.DataFrame = (),
    past_trades: Sequence[PastTrade | Mapping[str, object]] | pd.DataFrame = (),
    today: date | None = None,
    accounts: Mapping[str, str] | None = None,
) -> Plan:
    """Plan a rebalance; raises `InputError` if the input has errors.

    `holdings` is a DataFrame with the Holdings sheet's headers; `settings` maps the
    Settings sheet's names to values; `lots` are `Lot` values, or a DataFrame (or rows)
    with the Lots sheet's headers; `history` is `HistoryEntry` values or the History
    sheet's rows (Date, Portfolio Value, Run Type); `past_trades` is `PastTrade` values
    or the Trades sheet's rows (Side, Ticker, Filled Shares, Fill Price, Date, and
    Limit Price for a fill typed without its price; rows not filled are skipped).
    Anything else is a `TypeError`. The error carries every problem found, warnings
    too, in one pass. Rows are counted from 0 in the order given (as `df.iloc` does),
    and so are `lots`, whose shares must add up, per ticker, to the Shares of its
    holding. A History row or a fill that cannot be read is a warning, as in the
    workbook: the plan goes on without it (`rebalance` emits it).

    A household (SPEC §9): an Account column, and `accounts` naming each account's Type
    (``{"Brokerage": "Taxable", "IRA": "Retirement"}``; without it every account is of
    Settings' Account Type). Lots and past trades then carry their `account` too.
    """
    frame, problems = _unique_columns(_frame(holdings))
    if settings is not None and not isinstance(settings, Mapping):
        raise TypeError(
            "settings must be a mapping of setting names to values, such as "
            f'{{"Strategy": "Hybrid", "Band": 0.05}}; got {type(settings).__name__}'
        )
    lot_values, lot_problems, refused_lots = _lots(lots)
    history_values, history_problems = _past_rows(
        history, HistoryEntry, HISTORY, _HISTORY_READ, parse_history_row
    )
    trade_values, trade_problems = _past_rows(
        past_trades, PastTrade, TRADES, FILL_COLUMNS, parse_fill
    )
    rows: list[dict[str, object]] = [
        {str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")
    ]
    prepared = prepare(
        rows,
        settings,
        [str(c) for c in frame.columns],
        lots=lot_values,
        problems_before=problems + lot_problems + history_problems + trade_problems,
        refused_lots=refused_lots,
        accounts=accounts,
    )
    if prepared.errors:
        raise InputError(list(prepared.problems))
    lots, history, past_trades = lot_values, history_values, trade_values
    as_of = prepared.settings.as_of_date or today or date.today()
    warned = [p for p in prepared.problems if not p.is_error]
    if prepared.accounts is not None:
        name = canonical(prepared.accounts)
        result = plan_household(
            prepared.holdings,
            prepared.accounts,
            prepared.settings,
            as_of=as_of,
            history=history,
            lots=[replace(lot, account=name(lot.account)) for lot in lots],
            past_trades=[replace(t, account=name(t.account)) for t in past_trades],
            warnings=warned,
        )
    else:
        result = _plan(
            prepared.holdings,
            prepared.settings,
            as_of=as_of,
            history=history,
            lots=lots,
            past_trades=past_trades,
            warnings=warned,
        )
    if result.errors:
        raise InputError(list(result.problems))
    return result


def _frame(holdings: object) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(holdings, pd.DataFrame):
        hint = (
            "; pass pandas.DataFrame(rows) for a list of rows"
            if isinstance(holdings, list | tuple | dict)
            else ""
        )
        raise TypeError(
            "holdings must be a pandas DataFrame with the Holdings sheet's headers "
            f"(Ticker, Shares, Current Price, Target % …); got {type(holdings).__name__}{hint}"
        )
    return holdings


def _unique_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """The frame with each column name once (its first), and a problem per repeat: which
    of two Shares columns is meant is anyone's guess, so neither is taken silently."""
    names = [str(c) for c in frame.columns]
    problems = [
        Problem(
            "duplicate-column",
            f"the {name!r} column appears twice (first at position {names.index(name)}, "
            f"again at {i}); keep one, or rename the other",
            Where(HOLDINGS, column=name),
        )
        for i, name in enumerate(names)
        if name in names[:i]
    ]
    if problems:
        frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame, problems


def _lots(lots: object) -> tuple[list[Lot], list[Problem], list[str | None]]:
    """Lots given as `Lot` values, as a DataFrame with the Lots sheet's headers, or as
    rows (mappings) with them; their problems, located by row from 0 and header; and the
    tickers of lots refused (None for one with no ticker), for `check_lot_totals`."""
    rows = _rows_of(lots, _LOTS_EXPECTED)
    out: list[Lot] = []
    problems: list[Problem] = []
    refused: list[str | None] = []
    for i, row in enumerate(rows):
        account = row.account if isinstance(row, Lot) else None
        if isinstance(row, Lot):
            # A Lot value is checked like a row of the Lots sheet: one check of a lot's
            # numbers, wherever the lot comes from.
            row = dict(
                zip(
                    LOT_COLUMNS,
                    (row.ticker, row.acquired, row.shares, row.cost_per_share),
                    strict=True,
                )
            )
        if not isinstance(row, Mapping):
            raise TypeError(_LOTS_EXPECTED + f"; lot {i} is a {type(row).__name__}")
        values = {str(k): v for k, v in row.items()}
        lot, faults = parse_lot(values, row=i)
        for header, code, message in faults:
            problems.append(Problem(code, message, Where(LOTS, row=i, column=header)))
        if lot is None:
            refused.append(ticker_text(values.get(TICKER)) or None)
            continue
        if account is None and not is_blank(values.get(ACCOUNT)):
            account = str(values[ACCOUNT]).strip()
        out.append(replace(lot, account=account) if account else lot)
    return out, problems, refused


T = TypeVar("T", HistoryEntry, PastTrade)
_HISTORY_READ = (HISTORY_DATE, PORTFOLIO_VALUE, RUN_TYPE)


def _past_rows(
    given: object,
    kind: type[T],
    sheet: str,
    headers: Sequence[str],
    parse: Callable[[Mapping[str, object]], tuple[T | None, list[Fault]]],
) -> tuple[list[T], list[Problem]]:
    """History entries or past trades given as values, or as a DataFrame or rows with
    the sheet's headers, read by the workbook reader's own row parser (`core.past`);
    a row it leaves out is a warning located by row from 0 and header."""
    expected = (
        f"{sheet.lower()} must be {kind.__name__} values, or a DataFrame or rows with the "
        f"{sheet} headers ({', '.join(headers)})"
    )
    rows = _rows_of(given, expected)
    out: list[T] = []
    problems: list[Problem] = []
    for i, row in enumerate(rows):
        if isinstance(row, kind):
            out.append(row)
            continue
        if not isinstance(row, Mapping):
            raise TypeError(expected + f"; row {i} is a {type(row).__name__}")
        value, faults = parse({str(k): v for k, v in row.items()})
        problems += [
            Problem(f.code, f.message, Where(sheet, row=i, column=f.header), Severity.WARNING)
            for f in faults
        ]
        if value is not None:
            out.append(value)
    return out, problems


def _rows_of(given: object, expected: str) -> list[object]:
    """A DataFrame's records, or the items of a list or tuple; else a TypeError."""
    import pandas as pd

    if isinstance(given, pd.DataFrame):
        return [dict(r) for r in given.to_dict(orient="records")]
    if isinstance(given, Sequence) and not isinstance(given, str | bytes):
        return list(given)
    raise TypeError(expected + f"; got {type(given).__name__}")


_LOTS_EXPECTED = (
    f"lots must be Lot values, or a DataFrame or rows with the Lots headers "
    f"({', '.join(LOT_COLUMNS)})"
)


def rebalance(
    holdings: pd.DataFrame,
    settings: Mapping[str, object] | None = None,
    **options: object,
) -> pd.DataFrame:
    """Return a copy of `holdings` with Action, Amount, Shares to Trade, Post-Trade %,
    Rule, Rule ID (the rule's stable name, e.g. `cap`), Reason and Flags filled. Amount
    and Shares to Trade are positive; the Action gives the direction. A CASH row is
    appended if the input had none.

    Input errors raise `InputError`, as in `make_plan`. Warnings do not stop the plan
    (a target above the cap, for one); each is emitted as a `RebalanceWarning` through
    the `warnings` module, its text the problem's location, code and message, e.g.
    ``Holdings / ALAB / Target %: target-above-cap: ALAB Target % 45.00% is above ...``.
    Catch them with `warnings.catch_warnings(record=True)`, or make them errors with
    ``warnings.simplefilter("error", RebalanceWarning)``.
    """

    result = make_plan(holdings, settings, **options)  # type: ignore[arg-type]
    for problem in result.problems:
        # stacklevel 2: the warning points at the caller's line, not at this module.
        warnings.warn(RebalanceWarning(problem), stacklevel=2)
    out = holdings.loc[:, ~holdings.columns.duplicated()].copy()
    if result.is_household:
        return _household_frame(out, result)
    tickers = [ticker_text(t) for t in out[TICKER]]
    added = CASH not in tickers
    if added:
        out = _with_cash_row(out)
        tickers.append(CASH)
    by_ticker = {d.ticker: d for d in result.decisions}

    def reason(d: Decision) -> str:
        if d.ticker == CASH and added:
            return f"{_ADDED_CASH}; {d.reason}"
        return d.reason

    for column, get in _outputs(reason):
        out[column] = [get(by_ticker[t]) if t in by_ticker else None for t in tickers]
    return out


_ADDED_CASH = "row added by rebalance(): the input had no CASH row, so cash was 0"


def _with_cash_row(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` and a CASH row holding no cash, under the caller's index and dtypes.

    The row gets the values the engine assumed (0 shares at 1, a 0% target); a column
    it has no value for is blank, which changes the dtype only of an integer or yes/no
    column (to float or object: pandas has no blank for those)."""
    import pandas as pd

    known: dict[str, object] = {TICKER: CASH, SHARES: 0, CURRENT_PRICE: 1, TARGET: 0}
    label = _next_label(frame.index)
    columns = {}
    for name in frame.columns:
        column = pd.Series([known.get(str(name))], index=[label])
        try:
            columns[name] = column.astype(frame[name].dtype)
        except (TypeError, ValueError):  # no blank in this dtype (int, bool)
            columns[name] = column
    return pd.concat([frame, pd.DataFrame(columns, index=[label])])


def _next_label(index: pd.Index) -> object:
    """A label after the caller's last: the next integer of a numbered index, else CASH."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(index.dtype):
        return int(index.max()) + 1 if len(index) else 0
    return CASH if CASH not in index else f"{CASH} (added)"


def _outputs(
    reason: Callable[[Decision], str] = lambda d: d.reason,
) -> tuple[tuple[str, Callable[[Decision], Any]], ...]:
    """The columns `rebalance()` adds, in the workbook's order."""
    return (
        (ACTION, lambda d: d.action.value),
        (AMOUNT, lambda d: float(d.amount)),
        (SHARES_TO_TRADE, lambda d: float(d.shares)),
        (POST_TRADE, lambda d: float(d.post_trade_weight)),
        (RULE, lambda d: d.rule),
        (RULE_ID, lambda d: d.rule_id.value),
        (REASON, reason),
        (FLAGS, lambda d: d.flag_text),
    )


def _household_frame(out: pd.DataFrame, result: Plan) -> pd.DataFrame:
    """A household's rows, each with its own account's decision (rows are matched by
    position); a buy in an account that had no row for the ticker appends one."""
    import pandas as pd

    out = out.reset_index(drop=True)
    by_row = {d.row: d for d in result.decisions}
    new = [d for d in result.decisions if d.row >= len(out)]
    if new:
        prices = {t.ticker: float(t.price) for t in result.trades}
        added = pd.DataFrame(
            [
                {
                    TICKER: d.ticker,
                    ACCOUNT: d.account,
                    SHARES: 0,
                    CURRENT_PRICE: prices.get(d.ticker),
                }
                for d in new
            ]
        )
        out = pd.concat([out, added], ignore_index=True)
    for column, get in _outputs():
        out[column] = [get(by_row[i]) if i in by_row else None for i in range(len(out))]
    return out

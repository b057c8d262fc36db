"""The Python API: a pandas DataFrame of holdings in, the same rows with decisions out.

Columns and settings use the workbook's own words ("Ticker", "Target %", "Band" …), so
a sheet read with `pandas.read_excel` can be passed straight in.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from rebalancer_xl.core.engine import plan as _plan
from rebalancer_xl.core.household import plan_household
from rebalancer_xl.core.household.accounts import ACCOUNTS as ACCOUNTS_SHEET
from rebalancer_xl.core.household.accounts import NAME as ACCOUNTS_NAME
from rebalancer_xl.core.household.accounts import TYPE as ACCOUNTS_TYPE
from rebalancer_xl.core.model import (
    CASH,
    Decision,
    HistoryEntry,
    InputError,
    Lot,
    PastTrade,
    Plan,
    Problem,
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
    ticker_text,
)
from rebalancer_xl.core.past import (
    FILL_COLUMNS,
    HISTORY,
    HISTORY_DATE,
    PORTFOLIO_VALUE,
    RUN_TYPE,
    TRADES,
)
from rebalancer_xl.core.prepare import Rows, prepare_inputs
from rebalancer_xl.core.problems import problem as catalogued

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
    too, in one pass. Every table is read and checked by the workbook's own preparation
    (`core.prepare`), located at its row (from 0, as `df.iloc` counts) and header
    instead of a cell. A ticker's lots must add up to the Shares of its holding (a
    mismatch is said at that Shares); a blank lot row is none. A History row or a fill
    that cannot be read is a warning: the plan goes on without it (`rebalance` emits
    it).

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
    rows: list[dict[str, object]] = [
        {str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")
    ]
    prepared = prepare_inputs(
        Rows(HOLDINGS, rows, [str(c) for c in frame.columns], problems=problems),
        settings,
        lots=Rows(LOTS, _lot_rows(lots)),
        history=_past_rows(history, HistoryEntry, HISTORY, _HISTORY_READ),
        fills=[_past_rows(past_trades, PastTrade, TRADES, FILL_COLUMNS)],
        accounts=None
        if accounts is None
        else Rows(
            ACCOUNTS_SHEET,
            [{ACCOUNTS_NAME: name, ACCOUNTS_TYPE: kind} for name, kind in accounts.items()],
        ),
    )
    if prepared.errors:
        raise InputError(list(prepared.problems))
    as_of = prepared.settings.as_of_date or today or date.today()
    warned = [p for p in prepared.problems if not p.is_error]
    if prepared.accounts is not None:
        result = plan_household(
            prepared.holdings,
            prepared.accounts,
            prepared.settings,
            as_of=as_of,
            history=prepared.history,
            lots=prepared.lots,
            past_trades=prepared.past_trades,
            warnings=warned,
        )
    else:
        result = _plan(
            prepared.holdings,
            prepared.settings,
            as_of=as_of,
            history=prepared.history,
            lots=prepared.lots,
            past_trades=prepared.past_trades,
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
        catalogued(
            "duplicate-column",
            Where(HOLDINGS, column=name),
            "frame",
            name=name,
            first=names.index(name),
            again=i,
        )
        for i, name in enumerate(names)
        if name in names[:i]
    ]
    if problems:
        frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame, problems


def _lot_rows(lots: object) -> list[dict[str, object]]:
    """Lots given as `Lot` values, as a DataFrame with the Lots sheet's headers, or as
    rows (mappings) with them, as rows of the Lots sheet: a `Lot` value is checked like
    one, so a lot's numbers have one check wherever the lot comes from."""
    out: list[dict[str, object]] = []
    for i, row in enumerate(_rows_of(lots, _LOTS_EXPECTED)):
        if isinstance(row, Lot):
            values = (row.ticker, row.acquired, row.shares, row.cost_per_share, row.account)
            row = dict(zip((*LOT_COLUMNS, ACCOUNT), values, strict=True))
        if not isinstance(row, Mapping):
            raise TypeError(_LOTS_EXPECTED + f"; lot {i} is a {type(row).__name__}")
        out.append({str(k): v for k, v in row.items()})
    return out


T = TypeVar("T", HistoryEntry, PastTrade)
_HISTORY_READ = (HISTORY_DATE, PORTFOLIO_VALUE, RUN_TYPE)


def _past_rows(given: object, kind: type[T], sheet: str, headers: Sequence[str]) -> Rows:
    """History entries or past trades given as values, or as a DataFrame or rows with
    the sheet's headers (read by the workbook reader's own row parser)."""
    expected = (
        f"{sheet.lower()} must be {kind.__name__} values, or a DataFrame or rows with the "
        f"{sheet} headers ({', '.join(headers)})"
    )
    rows: list[object] = []
    for i, row in enumerate(_rows_of(given, expected)):
        if isinstance(row, Mapping):
            row = {str(k): v for k, v in row.items()}
        elif not isinstance(row, kind):
            raise TypeError(expected + f"; row {i} is a {type(row).__name__}")
        rows.append(row)
    return Rows(sheet, rows)


def _rows_of(given: object, expected: str) -> list[object]:
    """A DataFrame's records, or the items of a list or tuple; else a TypeError.

    A DataFrame's blank cells are given as None: a blank date column holds NaT, which
    the readers would otherwise take for a date (and fail to compare)."""
    import pandas as pd

    if isinstance(given, pd.DataFrame):
        cells = given.astype(object).where(given.notna(), None)
        return [dict(r) for r in cells.to_dict(orient="records")]
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

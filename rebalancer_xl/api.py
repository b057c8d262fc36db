"""The Python API: a pandas DataFrame of holdings in, the same rows with decisions out.

Columns and settings use the workbook's own words ("Ticker", "Target %", "Band" …), so
a sheet read with `pandas.read_excel` can be passed straight in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rebalancer_xl.engine import plan as _plan
from rebalancer_xl.model import (
    CASH,
    HistoryEntry,
    Holding,
    InputError,
    Lot,
    PastTrade,
    Plan,
    Problem,
)
from rebalancer_xl.parse import parse_holdings, validate
from rebalancer_xl.settings import Settings, parse_settings

if TYPE_CHECKING:
    import pandas as pd

OUTPUT_COLUMNS = ("Action", "Amount", "Shares to Trade", "Post-Trade %", "Rule", "Reason", "Flags")


@dataclass(frozen=True, slots=True)
class Prepared:
    """Parsed, validated inputs ready for the engine (or the problems that stop it)."""

    holdings: tuple[Holding, ...]
    settings: Settings
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def prepare(rows: Sequence[Mapping[str, object]], settings: Mapping[str, object] | None,
            columns: Sequence[str] | None = None) -> Prepared:
    parsed = parse_holdings(rows, columns)
    parsed_settings, setting_problems = parse_settings(settings)
    problems = list(parsed.problems) + setting_problems
    if not parsed.problems:
        problems += validate(parsed.holdings, parsed_settings)
    return Prepared(parsed.holdings, parsed_settings, tuple(problems))


def make_plan(
    holdings: pd.DataFrame,
    settings: Mapping[str, object] | None = None,
    *,
    history: Sequence[HistoryEntry] = (),
    lots: Sequence[Lot] = (),
    past_trades: Sequence[PastTrade] = (),
    today: date | None = None,
) -> Plan:
    """Plan a rebalance; raises `InputError` carrying every problem if the input is bad."""
    rows: list[dict[str, object]] = [
        {str(k): v for k, v in r.items()} for r in holdings.to_dict(orient="records")]
    prepared = prepare(rows, settings, [str(c) for c in holdings.columns])
    if prepared.errors:
        raise InputError(prepared.errors)
    as_of = prepared.settings.as_of_date or today or date.today()
    return _plan(prepared.holdings, prepared.settings, as_of=as_of, history=history, lots=lots,
                 past_trades=past_trades,
                 warnings=[p for p in prepared.problems if not p.is_error])


def rebalance(
    holdings: pd.DataFrame,
    settings: Mapping[str, object] | None = None,
    **options: object,
) -> pd.DataFrame:
    """Return a copy of `holdings` with Action, Amount, Shares to Trade, Post-Trade %,
    Rule, Reason and Flags filled. Amount and Shares to Trade are positive; the Action
    gives the direction. A CASH row is appended if the input had none."""
    import pandas as pd

    result = make_plan(holdings, settings, **options)  # type: ignore[arg-type]
    out = holdings.copy()
    if "Ticker" in out.columns and not (out["Ticker"].astype(str).str.upper() == CASH).any():
        out = pd.concat([out, pd.DataFrame([{"Ticker": CASH}])], ignore_index=True)
    by_ticker = {d.ticker: d for d in result.decisions}
    tickers = out["Ticker"].map(lambda t: str(t).strip().upper() if isinstance(t, str) else t)
    for column, get in (
        ("Action", lambda d: d.action.value),
        ("Amount", lambda d: float(d.amount)),
        ("Shares to Trade", lambda d: float(d.shares)),
        ("Post-Trade %", lambda d: float(d.post_trade_weight)),
        ("Rule", lambda d: d.rule),
        ("Reason", lambda d: d.reason),
        ("Flags", lambda d: d.flag_text),
    ):
        out[column] = [get(by_ticker[t]) if t in by_ticker else None for t in tickers]
    return out

"""The pandas API at its edges: wrong types, lots in other shapes, a missing CASH row,
numbers beyond reason, numeric tickers, repeated columns, and the README's own example.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import rebalancer_xl
from rebalancer_xl import InputError
from rebalancer_xl.core.model import Lot

AS_OF = {"As-of Date": "2026-12-31"}
README = Path(__file__).resolve().parent.parent / "README.md"


def frame(**overrides: list[object]) -> pd.DataFrame:
    columns: dict[str, list[object]] = {
        "Ticker": ["AAA", "BBB", "CASH"],
        "Shares": [100, 300, 1000],
        "Current Price": [120, 100, 1],
        "Target %": [0.35, 0.6, 0.05],
        "Score": [70, 65, None],
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


SETTINGS = {**AS_OF, "Cap": 0.65, "Cap Trim To": 0.6, "Urgent Cap": 0.7, "Urgent Trim To": 0.65}


def problems(err: InputError) -> list[tuple[str, int | None, str | None]]:
    return [(p.code, p.where.row, p.where.column) for p in err.problems]


# --- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [frame().to_dict(orient="records"), frame().to_dict(), None],
    ids=["list-of-dicts", "dict", "None"],
)
def test_holdings_that_are_not_a_dataframe_are_a_type_error(given):
    with pytest.raises(TypeError, match="holdings must be a pandas DataFrame"):
        rebalancer_xl.rebalance(given, SETTINGS)
    with pytest.raises(TypeError, match="holdings must be a pandas DataFrame"):
        rebalancer_xl.make_plan(given, SETTINGS)


def test_settings_that_are_not_a_mapping_are_a_type_error():
    with pytest.raises(TypeError, match="settings must be a mapping"):
        rebalancer_xl.make_plan(frame(), [("Band", 0.05)])  # type: ignore[arg-type]


# --- lots in the shapes people have them --------------------------------------------------------

LOTS = [
    ("AAA", date(2025, 1, 10), 60, 90),
    ("AAA", date(2026, 11, 20), 40, 125),
    ("BBB", date(2024, 5, 2), 300, 80),
]


def _lot_values() -> list[Lot]:
    return [Lot(t, d, Decimal(s), Decimal(c)) for t, d, s, c in LOTS]


def _as_rows() -> list[dict[str, object]]:
    return [{"Ticker": t, "Acquired": d, "Shares": s, "Cost per Share": c} for t, d, s, c in LOTS]


@pytest.mark.parametrize("shape", ["rows", "dataframe"])
def test_lots_as_rows_or_a_dataframe_plan_as_lot_values_do(shape):
    expected = rebalancer_xl.make_plan(frame(), SETTINGS, lots=_lot_values())
    given = _as_rows() if shape == "rows" else pd.DataFrame(_as_rows())
    plan = rebalancer_xl.make_plan(frame(), SETTINGS, lots=given)
    assert plan.trades == expected.trades
    assert plan.tax == expected.tax
    assert any(t.lots for t in plan.trades), "the lots were used"


def test_lots_as_tuples_say_what_is_expected():
    with pytest.raises(
        TypeError, match=r"Lots headers \(Ticker, Acquired, Shares, Cost per Share\)"
    ):
        rebalancer_xl.make_plan(frame(), SETTINGS, lots=LOTS)  # type: ignore[arg-type]


def test_a_bad_lot_row_is_located_by_row_and_header():
    rows = _as_rows()
    rows[1]["Shares"] = "forty"
    with pytest.raises(InputError) as caught:
        rebalancer_xl.make_plan(frame(), SETTINGS, lots=rows)
    # The refused lot's ticker is not also called a mismatch.
    assert problems(caught.value) == [("not-a-number", 1, "Shares")]
    assert caught.value.problems[0].where.sheet == "Lots"


# --- no CASH row -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [pd.RangeIndex(10, 12), pd.Index(["first", "second"])],
    ids=["numbered-from-10", "labels"],
)
def test_a_missing_cash_row_is_added_under_the_callers_index_and_dtypes(index):
    holdings = pd.DataFrame(
        {
            "Ticker": ["AAA", "BBB"],
            "Shares": [100, 300],
            "Current Price": [120, 100],
            "Target %": [0.4, 0.6],
            "Score": [70.0, 65.0],
            "Note": ["core", "satellite"],
        },
        index=index,
    )
    out = rebalancer_xl.rebalance(holdings, SETTINGS)
    assert list(out.index[:2]) == list(index)
    added = out.index[2]
    assert added == (12 if isinstance(index, pd.RangeIndex) else "CASH")
    for column in holdings.columns:
        assert out[column].dtype == holdings[column].dtype, column
    cash = out.loc[added]
    assert (cash["Ticker"], cash["Shares"], cash["Current Price"], cash["Target %"]) == (
        "CASH",
        0,
        1,
        0,
    )
    assert "the input had no CASH row" in cash["Reason"]
    assert not out[["Action", "Amount", "Rule", "Reason"]].isna().any().any()


# --- numbers beyond reason -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("Shares", float("inf"), "not-a-number"),
        ("Shares", 1e308, "out-of-range"),
        ("Current Price", 1e308, "out-of-range"),
        ("Current Price", 1e-300, "out-of-range"),
        ("Current Price", "180,50", "decimal-comma"),
        ("Shares", "50%", "unexpected-percent"),
    ],
)
def test_values_beyond_reason_are_input_errors_at_the_cell(column, value, code):
    values = list(frame()[column])
    values[1] = value
    with pytest.raises(InputError) as caught:
        rebalancer_xl.make_plan(frame(**{column: values}), SETTINGS)
    assert problems(caught.value) == [(code, 1, column)]


# --- tickers that are not text -------------------------------------------------------------------------


def test_numeric_tickers_get_their_decisions():
    holdings = frame(Ticker=[7203, 45.6, "CASH"])
    plan = rebalancer_xl.make_plan(holdings, SETTINGS)
    assert {d.ticker for d in plan.decisions} == {"7203", "45.6", "CASH"}
    out = rebalancer_xl.rebalance(holdings, SETTINGS)
    assert not out[["Action", "Amount", "Rule"]].isna().any().any()
    by_row = dict(zip(out["Ticker"], out["Action"], strict=True))
    assert by_row[7203] == plan.decision("7203").action.value
    assert by_row[45.6] == plan.decision("45.6").action.value


def test_a_yes_no_value_is_not_a_ticker():
    with pytest.raises(InputError) as caught:
        rebalancer_xl.make_plan(frame(Ticker=[True, "BBB", "CASH"]), SETTINGS)
    assert problems(caught.value) == [("bad-ticker", 0, "Ticker")]


def test_repeated_columns_are_refused():
    holdings = frame()
    holdings.insert(2, "Shares", [1, 2, 3], allow_duplicates=True)
    with pytest.raises(InputError) as caught:
        rebalancer_xl.make_plan(holdings, SETTINGS)
    assert problems(caught.value) == [("duplicate-column", None, "Shares")]


# --- the README's example ----------------------------------------------------------------------------------


def test_the_readme_example_runs_without_warnings(capsys):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code.group(1), str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "Reason" in out
    assert "PLTR" in out
    assert "trim to" in out  # the example has a trade to show


# --- the note on buys scaled to the money available ---------------------------------------------------------


@pytest.mark.parametrize(("cash", "says"), [("36999.98", "by $0.01"), ("36999.9945", None)])
def test_the_scaled_buys_note_never_contradicts_itself(cash, says):
    """A floor restore wanting a little more than the money there is: the note appears
    only when the amounts it prints differ, and then says by how much."""
    holdings = pd.DataFrame(
        {
            "Ticker": ["AAA", "BBB", "CASH"],
            "Shares": [600, 30, float(cash)],
            "Current Price": [100, 100, 1],
            "Target %": [0.6, 0.3, 0.1],
            "Score": [70, 70, None],
        }
    )
    settings = {
        **AS_OF,
        "Sell Mode": "Rules Only",
        "Cap": 0.7,
        "Cap Trim To": 0.65,
        "Urgent Cap": 0.8,
        "Urgent Trim To": 0.7,
    }
    plan = rebalancer_xl.make_plan(holdings, settings)
    notes = [n for n in plan.notes if "exceed the money" in n]
    for note in notes:
        wanted, available = re.findall(r"\(\$([\d,.]+)\)", note)
        assert wanted != available, note
    if says is None:
        assert notes == []
    else:
        assert len(notes) == 1
        assert says in notes[0]
    assert plan.decision("BBB").action.value == "ADD"

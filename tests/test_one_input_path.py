"""One input-preparation path (core/prepare.py): the workbook reader and the API hand
their rows to the same function, so the same bad lot, History row or fill gets the same
code through either way in, located by cell in the workbook and by row and column in a
DataFrame; and Lots, History and Trades given to the API as DataFrames with the
workbook's headers plan exactly as the workbook does."""

from __future__ import annotations

import warnings
from datetime import datetime

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import coordinate_to_tuple

import rebalancer_xl
from rebalancer_xl import InputError
from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.core.model import CellRef, Severity
from rebalancer_xl.core.parse import UNREAD
from rebalancer_xl.core.prepare import Rows, prepare_inputs
from rebalancer_xl.workbook import schema as S

PAST_SHEETS = (S.LOTS, S.HISTORY, S.TRADES)


def _headers(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


def _append(ws, values: dict[str, object]) -> None:
    h = _headers(ws)
    r = ws.max_row + 1
    for header, value in values.items():
        ws.cell(r, h[header]).value = value


def _set_first_blank(ws, values: dict[str, object]) -> None:
    """Type `values` into the first row of `ws` with nothing under its first header."""
    h = _headers(ws)
    r = next(r for r in range(2, ws.max_row + 2) if ws.cell(r, 1).value is None)
    for header, value in values.items():
        ws.cell(r, h[header]).value = value


def _book(tmp_path, name: str, change) -> object:
    path = tmp_path / name
    build_workbook(path, sample=True)
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def _bad(wb) -> None:
    """A lot with negative shares, one with a negative cost, a History row whose date is
    words, and a fill whose Filled Shares is words."""
    lots = wb[S.LOTS]
    _append(lots, {"Ticker": "PLTR", "Acquired": datetime(2025, 1, 2), "Shares": -10})
    lots.cell(lots.max_row, _headers(lots)["Cost per Share"]).value = 80
    _append(lots, {"Ticker": "ALAB", "Acquired": datetime(2025, 1, 2), "Shares": 5})
    lots.cell(lots.max_row, _headers(lots)["Cost per Share"]).value = -3
    _append(wb[S.HISTORY], {"Date": "last spring", "Portfolio Value": 100000})
    _set_first_blank(
        wb[S.TRADES],
        {"Side": "SELL", "Ticker": "PLTR", "Filled Shares": "ten", "Date": datetime(2026, 12, 1)},
    )


def _api_inputs(path) -> tuple[pd.DataFrame, dict[str, object], dict[str, pd.DataFrame]]:
    """The workbook's sheets as a person with pandas would read them."""

    def sheet(name: str) -> pd.DataFrame:
        return pd.read_excel(path, sheet_name=name, engine="openpyxl")

    holdings = sheet(S.HOLDINGS).merge(
        sheet(S.PERFORMANCE)[["Ticker", "Last Rebalance Price"]], on="Ticker", how="left"
    )
    table = sheet(S.SETTINGS_SHEET)
    settings = {
        k: (None if pd.isna(v) else v)
        for k, v in zip(table["Setting"], table["Value"], strict=True)
        if isinstance(k, str)
    }
    past = {"lots": sheet(S.LOTS), "history": sheet(S.HISTORY), "past_trades": sheet(S.TRADES)}
    return holdings, settings, past


def _book_faults(problems, path) -> set[tuple[str, int, str, str, str]]:
    """(sheet, 0-based data row, header, code, severity) of the workbook's problems on
    Lots, History and Trades, from the cell each names."""
    wb = openpyxl.load_workbook(path)
    out = set()
    for p in problems:
        if p["sheet"] not in PAST_SHEETS:
            continue
        by_column = {c: h for h, c in _headers(wb[p["sheet"]]).items()}
        row, col = coordinate_to_tuple(p["cell"])
        out.add((p["sheet"], row - 2, by_column[col], p["code"], p["severity"]))
    return out


def test_the_same_bad_rows_are_refused_and_warned_alike_through_the_api_and_a_workbook(
    tmp_path, cli
):
    path = _book(tmp_path, "Bad.xlsx", _bad)
    run = cli("run", path, "--dry-run", "--json")
    assert run.code == 1  # the bad lots stop the plan
    from_book = _book_faults(run.file["problems"], path)

    holdings, settings, past = _api_inputs(path)
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(holdings, settings, **past)  # type: ignore[arg-type]
    found = err.value.problems
    from_api = {
        (p.where.sheet, p.where.row, p.where.column, p.code, p.severity.value)
        for p in found
        if p.where.sheet in PAST_SHEETS
    }
    lots = len(past["lots"])
    history = len(past["history"])
    assert from_book == {
        (S.LOTS, lots - 2, "Shares", "bad-shares", "error"),
        (S.LOTS, lots - 1, "Cost per Share", "bad-price", "error"),
        (S.HISTORY, history - 1, "Date", "not-a-date", "warning"),
        (S.TRADES, 0, "Filled Shares", "not-a-number", "warning"),
    }
    assert from_api == from_book
    # Every problem, not only these: the same codes, said once each, on either path.
    assert sorted(p["code"] for p in run.file["problems"]) == sorted(p.code for p in found)
    # The API names the DataFrame's row and column; it has no cells.
    [fill] = [p for p in found if p.where.sheet == S.TRADES]
    assert fill.where.cell is None
    assert str(fill.where) == "Trades / row 0 / Filled Shares"
    assert fill.message.endswith("left out of the wash-sale check")


def _unreadable_fill(wb) -> None:
    _set_first_blank(
        wb[S.TRADES],
        {"Side": "SELL", "Ticker": "ALAB", "Filled Shares": 5, "Date": "yesterday"},
    )


def test_an_unreadable_fill_is_a_located_warning_and_the_plan_goes_on_both_ways(tmp_path, cli):
    path = _book(tmp_path, "Fill.xlsx", _unreadable_fill)
    run = cli("run", path, "--dry-run", "--json")
    assert run.code == 0
    [in_book] = [p for p in run.file["problems"] if p["sheet"] == S.TRADES]
    date_column = openpyxl.utils.get_column_letter(
        _headers(openpyxl.load_workbook(path)[S.TRADES])["Date"]
    )
    assert (in_book["cell"], in_book["code"], in_book["severity"]) == (
        f"{date_column}2",
        "not-a-date",
        "warning",
    )
    holdings, settings, past = _api_inputs(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rebalancer_xl.rebalance(holdings, settings, **past)
    [in_api] = [
        w.message.problem
        for w in caught
        if isinstance(w.message, rebalancer_xl.RebalanceWarning)
        and w.message.problem.where.sheet == S.TRADES
    ]
    assert (in_api.where.row, in_api.where.column, in_api.code, in_api.severity) == (
        0,
        "Date",
        "not-a-date",
        Severity.WARNING,
    )


def _loss_sale(wb) -> None:
    """ALAB sold at a loss a week before the sample's quarter end: the plan would buy
    ALAB back, which the wash-sale rule holds back."""
    _set_first_blank(
        wb[S.TRADES],
        {
            "Side": "SELL",
            "Ticker": "ALAB",
            "Filled Shares": 10,
            "Fill Price": 60,
            "Date": datetime(2026, 12, 24),
        },
    )


def test_lots_history_and_trades_frames_plan_as_the_same_workbook_through_the_command(
    tmp_path, cli
):
    path = _book(tmp_path, "Past.xlsx", _loss_sale)
    run = cli("run", path, "--dry-run", "--json")
    assert run.code == 0, run.file["problems"]
    holdings, settings, past = _api_inputs(path)
    plan = rebalancer_xl.make_plan(holdings, settings, **past)  # type: ignore[arg-type]
    fields = ("ticker", "action", "amount", "rule_id", "reason", "flags")
    from_api = [
        (
            d.ticker,
            d.action.value,
            float(d.amount),
            d.rule_id.value,
            d.reason,
            d.flag_text,
        )
        for d in plan.decisions
    ]
    assert from_api == [tuple(a[f] for f in fields) for a in run.file["actions"]]
    # The frames mattered: lots gave a tax estimate, the fill held ALAB's buy back.
    assert plan.tax.applies
    assert "WASH-SALE" in plan.decision("ALAB").flag_text
    no_fill = rebalancer_xl.make_plan(
        holdings, settings, lots=past["lots"], history=past["history"]
    )
    assert no_fill.decision("ALAB").action is not plan.decision("ALAB").action


def test_prepare_locates_problems_in_the_caller_s_terms():
    """The one function places a fault where the caller says its cell is, and a cell its
    reader reported already (UNREAD) is not reported a second time."""
    holdings = Rows(
        S.HOLDINGS,
        [
            {"Ticker": "AAA", "Shares": 10, "Current Price": 10, "Target %": 0.3},
            {"Ticker": "CASH", "Shares": 100, "Current Price": 1, "Target %": 0.7},
        ],
        cell=lambda i, header: CellRef(S.HOLDINGS, f"{header}@{i}"),
    )
    lots = Rows(
        S.LOTS,
        [{"Ticker": "AAA", "Acquired": "2025-01-02", "Shares": 10, "Cost per Share": -1}],
        cell=lambda i, header: CellRef(S.LOTS, f"{header}@{i + 7}"),
        first_row=7,
    )
    fills = Rows(
        S.TRADES,
        [
            {"Side": "SELL", "Ticker": "AAA", "Filled Shares": UNREAD, "Date": "2026-12-01"},
            {"Side": "SELL", "Ticker": "AAA", "Filled Shares": 1, "Date": "soon"},
        ],
        cell=lambda i, header: CellRef(S.TRADES, f"{header}@{i}"),
    )
    prepared = prepare_inputs(holdings, {"As-of Date": "2026-12-31"}, lots=lots, fills=[fills])
    assert [(p.code, str(p.where)) for p in prepared.problems] == [
        ("bad-price", "Lots!Cost per Share@7"),
        ("not-a-date", "Trades!Date@1"),
    ]
    assert prepared.past_trades == ()
    assert [h.ticker for h in prepared.holdings] == ["AAA", "CASH"]


def _pltr_lot_short(wb) -> None:
    """PLTR's first lot holds 10 shares fewer than the Holdings row says: a mismatch."""
    lots = wb[S.LOTS]
    shares = _headers(lots)["Shares"]
    lots.cell(2, shares).value = lots.cell(2, shares).value - 10


def test_a_lots_mismatch_is_said_at_the_holdings_shares_on_both_paths(tmp_path, cli):
    """No one lot is wrong when they do not add up: the workbook points at the Holdings
    row's Shares, and the API now does too (it pointed at the first lot)."""
    path = _book(tmp_path, "Mismatch.xlsx", _pltr_lot_short)
    run = cli("run", path, "--dry-run", "--json")
    [in_book] = [p for p in run.file["problems"] if p["code"] == "lots-mismatch"]
    holdings, settings, past = _api_inputs(path)
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(holdings, settings, **past)  # type: ignore[arg-type]
    [in_api] = [p for p in err.value.problems if p.code == "lots-mismatch"]
    row = list(holdings["Ticker"]).index("PLTR")
    assert (in_api.where.sheet, in_api.where.row, in_api.where.column) == (
        S.HOLDINGS,
        row,
        "Shares",
    )
    shares = openpyxl.utils.get_column_letter(
        _headers(openpyxl.load_workbook(path)[S.HOLDINGS])["Shares"]
    )
    assert (in_book["sheet"], in_book["cell"]) == (S.HOLDINGS, f"{shares}{row + 2}")


def _blank_lot_row(wb) -> None:
    """An empty row between two lots, as people leave them."""
    wb[S.LOTS].insert_rows(3)


def test_a_blank_row_among_the_lots_is_no_lot_on_both_paths(tmp_path, cli):
    path = _book(tmp_path, "Gap.xlsx", _blank_lot_row)
    run = cli("run", path, "--dry-run", "--json")
    assert run.code == 0, run.file["problems"]
    holdings, settings, past = _api_inputs(path)
    assert past["lots"].iloc[1].isna().all()  # pandas reads the gap as a row of blanks
    plan = rebalancer_xl.make_plan(holdings, settings, **past)  # type: ignore[arg-type]
    assert [a["amount"] for a in run.file["actions"]] == [float(d.amount) for d in plan.decisions]
    assert plan.tax.applies


def _lot_without_date(wb) -> None:
    lots = wb[S.LOTS]
    lots.cell(2, _headers(lots)["Acquired"]).value = None


def test_a_lot_without_its_date_is_the_same_problem_in_a_frame_as_on_the_sheet(tmp_path, cli):
    """pandas reads the blank date as NaT; it is a blank cell, not a date that fails to
    compare (a TypeError once)."""
    path = _book(tmp_path, "NoDate.xlsx", _lot_without_date)
    run = cli("run", path, "--dry-run", "--json")
    holdings, settings, past = _api_inputs(path)
    assert pd.isna(past["lots"]["Acquired"].iloc[0])
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(holdings, settings, **past)  # type: ignore[arg-type]
    from_api = {
        (p.where.sheet, p.where.row, p.where.column, p.code, p.severity.value)
        for p in err.value.problems
    }
    assert from_api == _book_faults(run.file["problems"], path)
    assert from_api == {(S.LOTS, 0, "Acquired", "missing-value", "error")}

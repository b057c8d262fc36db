"""Three ways in, one answer: the pandas API on a sheet read by pandas gives exactly the
plan the workbook run gives for the same file."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from rebalancer_xl import HistoryEntry, Lot, make_plan, rebalance
from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.core.values import to_decimal
from rebalancer_xl.pipeline import process_file


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("three") / "Rebalancing.xlsx"
    build_workbook(path, sample=True)
    return path


def _day(x: object) -> date:
    return x.date() if isinstance(x, datetime) else x  # type: ignore[return-value]


def _api_inputs(path):
    holdings = pd.read_excel(path, sheet_name="Holdings", engine="calamine")
    perf = pd.read_excel(path, sheet_name="Performance", engine="calamine")
    holdings = holdings.merge(perf[["Ticker", "Last Rebalance Price"]], on="Ticker", how="left")
    raw = pd.read_excel(path, sheet_name="Settings", engine="calamine")
    settings = {
        r.Setting: (None if pd.isna(r.Value) else r.Value)
        for r in raw.itertuples()
        if isinstance(r.Setting, str)
    }
    settings = {k: (_day(v) if isinstance(v, datetime) else v) for k, v in settings.items()}
    lots = [
        Lot(r.Ticker, _day(r.Acquired.to_pydatetime()), to_decimal(r.Shares), to_decimal(r._4))
        for r in pd.read_excel(path, sheet_name="Lots", engine="calamine").itertuples()
    ]
    history = [
        HistoryEntry(_day(r.Date.to_pydatetime()), to_decimal(r._2))
        for r in pd.read_excel(path, sheet_name="History", engine="calamine").itertuples()
    ]
    return holdings, settings, lots, history


def test_the_api_and_the_workbook_run_agree_on_every_row(sample):
    holdings, settings, lots, history = _api_inputs(sample)
    api = make_plan(holdings, settings, lots=lots, history=history)
    book = process_file(sample, dry_run=True).plan
    assert book is not None
    fields = (
        "ticker",
        "action",
        "amount",
        "shares",
        "post_trade_weight",
        "rule",
        "reason",
        "flags",
    )
    assert [tuple(getattr(d, f) for f in fields) for d in api.decisions] == [
        tuple(getattr(d, f) for f in fields) for d in book.decisions
    ]
    assert api.trades == book.trades
    assert (api.cash_left, api.next_rebalance_date, api.tax) == (
        book.cash_left,
        book.next_rebalance_date,
        book.tax,
    )
    assert any(d.action.value != "HOLD" for d in api.decisions)  # the sample does trade


def test_rebalance_fills_the_output_columns_from_the_same_plan(sample):
    holdings, settings, lots, history = _api_inputs(sample)
    out = rebalance(holdings, settings, lots=lots, history=history)
    plan = process_file(sample, dry_run=True).plan
    assert plan is not None
    by_ticker = {d.ticker: d for d in plan.decisions}
    for row in out.itertuples():
        d = by_ticker[row.Ticker]
        assert row.Action == d.action.value
        assert Decimal(repr(row.Amount)) == d.amount
        assert row.Rule == d.rule
        assert row.Reason == d.reason
    assert len(out) == len(holdings)  # the sample has a CASH row: nothing appended


@pytest.fixture(scope="module")
def harvesting(tmp_path_factory: pytest.TempPathFactory):
    """The sample with Harvest Losses = Broken Thesis and Lot Method = LIFO: IONQ (score
    41, a loss) offsets part of PLTR's gain."""
    import openpyxl

    path = tmp_path_factory.mktemp("harvest") / "Harvest.xlsx"
    build_workbook(path, sample=True)
    wb = openpyxl.load_workbook(path)
    for row in wb["Settings"].iter_rows(min_row=2):
        if row[0].value == "Harvest Losses":
            row[1].value = "Broken Thesis"
        if row[0].value == "Lot Method":
            row[1].value = "LIFO"
    wb.save(path)
    return path


def test_a_harvest_is_the_same_plan_through_the_api_and_the_workbook_run(harvesting, cli):
    holdings, settings, lots, history = _api_inputs(harvesting)
    api = make_plan(holdings, settings, lots=lots, history=history)
    book = process_file(harvesting, dry_run=True).plan
    assert book is not None
    assert api.decisions == book.decisions
    assert api.trades == book.trades
    assert api.tax == book.tax
    ionq = api.decision("IONQ")
    assert (ionq.action.value, ionq.rule_id.value) == ("SELL", "harvest")
    gain = api.tax.short_term_gain + api.tax.long_term_gain
    assert gain >= 0
    result = cli("run", harvesting, "--dry-run", "--json")
    assert result.code == 0
    [row] = [a for a in result.file["actions"] if a["ticker"] == "IONQ"]
    assert (row["action"], row["rule_id"], row["flags"]) == (
        "SELL",
        "harvest",
        "MONITOR, WASH-SALE",
    )
    assert any("Harvest: IONQ sold at a loss" in n for n in result.file["tax"]["notes"])

"""What a run leaves in the workbook, checked against the engine and against arithmetic.

The engine's plan for comparison comes from the pandas API on the sheets as pandas reads
them (`make_plan`), not from the run's own reader, so a reader or writer bug cannot hide
behind itself. Numbers are also checked by plain arithmetic on the inputs.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from rebalancer_xl import HistoryEntry, Lot, Plan, make_plan
from rebalancer_xl.core.model import Tier
from rebalancer_xl.core.values import to_decimal
from tests.conftest import (
    AS_OF,
    SAMPLE_TICKERS,
    Layout,
    Processed,
    copy_as,
    located,
    run_json,
    sha256,
    sheet_part,
    xlsxwriter_copy,
)

LOG = f"Log {AS_OF.isoformat()}"
OUTPUTS = ("Action", "Amount", "Shares to Trade", "Post-Trade %", "Rule", "Reason", "Flags")


# --- reading -------------------------------------------------------------------------------------


def _day(x: Any) -> date:
    x = x.to_pydatetime() if hasattr(x, "to_pydatetime") else x
    return x.date() if isinstance(x, datetime) else x  # type: ignore[no-any-return]


def api_plan(path: Path) -> Plan:
    """The engine's plan for `path`, through the pandas API on pandas' reading of it."""
    holdings = pd.read_excel(path, sheet_name="Holdings", engine="calamine")
    holdings = holdings[holdings["Ticker"].notna()]
    perf = pd.read_excel(path, sheet_name="Performance", engine="calamine")
    perf = perf[perf["Ticker"].notna()][["Ticker", "Last Rebalance Price"]]
    holdings = holdings.merge(perf, on="Ticker", how="left")
    raw = pd.read_excel(path, sheet_name="Settings", engine="calamine")
    settings = {
        r["Setting"]: (None if pd.isna(r["Value"]) else r["Value"])
        for _, r in raw.iterrows()
        if isinstance(r["Setting"], str)
    }
    settings = {
        k: _day(v) if isinstance(v, datetime | pd.Timestamp) else v for k, v in settings.items()
    }
    lots = [
        Lot(
            r["Ticker"],
            _day(r["Acquired"]),
            to_decimal(r["Shares"]),
            to_decimal(r["Cost per Share"]),
        )
        for _, r in pd.read_excel(path, sheet_name="Lots", engine="calamine").iterrows()
    ]
    history = [
        HistoryEntry(_day(r["Date"]), to_decimal(r["Portfolio Value"]))
        for _, r in pd.read_excel(path, sheet_name="History", engine="calamine").iterrows()
    ]
    return make_plan(holdings, settings, lots=lots, history=history)


def table(path: Path, sheet: str, key: str = "Ticker") -> list[dict[str, Any]]:
    """Rows under the first header row holding `key`, as {header: value}, up to the first
    row without a `key` value."""
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if key in row)
    header = rows[top]
    out = []
    for row in rows[top + 1 :]:
        record = {str(h): v for h, v in zip(header, row, strict=False) if h is not None}
        if record.get(key) in (None, ""):
            break
        out.append(record)
    return out


def by_ticker(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["Ticker"]: r for r in rows}


@pytest.fixture(scope="module")
def plan(sample_master: Path) -> Plan:
    return api_plan(sample_master)


@pytest.fixture(scope="module")
def inputs(sample_master: Path) -> dict[str, dict[str, Any]]:
    return by_ticker(table(sample_master, "Holdings"))


# --- Holdings ----------------------------------------------------------------------------------


def test_holdings_outputs_are_the_engines_plan(processed: Processed, plan: Plan):
    rows = by_ticker(table(processed.path, "Holdings"))
    assert list(rows) == list(SAMPLE_TICKERS)
    assert [d.ticker for d in plan.decisions] == list(SAMPLE_TICKERS)
    for d in plan.decisions:
        row = rows[d.ticker]
        assert {h: row[h] for h in OUTPUTS} == {
            "Action": d.action.value,
            "Amount": pytest.approx(float(d.amount), abs=1e-9),
            "Shares to Trade": pytest.approx(float(d.shares), abs=1e-9),
            "Post-Trade %": pytest.approx(float(d.post_trade_weight), abs=1e-12),
            "Rule": d.rule,
            "Reason": d.reason,
            "Flags": d.flag_text or None,
        }, d.ticker


def test_holdings_outputs_add_up(processed: Processed, inputs):
    """Arithmetic on the written cells alone: amounts are shares × price to the cent, cash
    pays for the buys with what the sells raise, and weights after trading sum to 100%."""
    rows = by_ticker(table(processed.path, "Holdings"))
    total = sum(
        Decimal(str(r["Shares"])) * Decimal(str(r["Current Price"])) for r in inputs.values()
    )
    after = Decimal(0)
    cash = Decimal(str(inputs["CASH"]["Shares"]))
    for ticker, row in rows.items():
        price = Decimal(str(inputs[ticker]["Current Price"]))
        shares = Decimal(str(inputs[ticker]["Shares"]))
        traded = Decimal(str(row["Shares to Trade"]))
        amount = Decimal(str(row["Amount"]))
        if ticker == "CASH":
            continue
        assert amount == (traded * price).quantize(Decimal("0.01")), ticker
        sign = {"SELL": -1, "TRIM": -1, "ADD": 1, "BUY": 1, "HOLD": 0}[row["Action"]]
        assert (sign == 0) == (traded == 0), ticker
        cash -= sign * amount
        after += (shares + sign * traded) * price
        assert float(row["Post-Trade %"]) == pytest.approx(
            float((shares + sign * traded) * price / total), abs=1e-12
        )
    assert cash >= 0
    assert after + cash == total  # cash is conserved to the cent
    assert float(rows["CASH"]["Post-Trade %"]) == pytest.approx(float(cash / total), abs=1e-12)
    assert sum(r["Post-Trade %"] for r in rows.values()) == pytest.approx(1, abs=1e-12)
    assert any(r["Action"] in ("TRIM", "SELL") for r in rows.values())  # the sample trades
    assert any(r["Action"] in ("ADD", "BUY") for r in rows.values())


def test_inputs_and_formulas_are_untouched(processed: Processed, sample_master: Path):
    before = openpyxl.load_workbook(sample_master)["Holdings"]
    after = openpyxl.load_workbook(processed.path)["Holdings"]
    header = [c.value for c in before[1]]
    kept = [i for i, h in enumerate(header) if h not in OUTPUTS]
    assert len(kept) == len(header) - len(OUTPUTS)
    for row_before, row_after in zip(
        before.iter_rows(values_only=True), after.iter_rows(values_only=True), strict=True
    ):
        assert [row_before[i] for i in kept] == [row_after[i] for i in kept]


# --- Trades, History, Log, Checklist -----------------------------------------------------------


def test_trades_sheet_lists_sells_first(processed: Processed, inputs):
    trades = table(processed.path, "Trades", key="Side")
    sides = [t["Side"] for t in trades]
    assert {"SELL", "BUY"} <= set(sides)
    assert sides == sorted(sides, key=lambda s: s != "SELL")  # every SELL before any BUY
    holdings = by_ticker(table(processed.path, "Holdings"))
    expected = {
        ("SELL" if h["Action"] in ("TRIM", "SELL") else "BUY", t, h["Shares to Trade"])
        for t, h in holdings.items()
        if h["Action"] != "HOLD"
    }
    assert {(t["Side"], t["Ticker"], t["Shares"]) for t in trades} == expected
    for t in trades:
        assert t["Limit Price"] == inputs[t["Ticker"]]["Current Price"]
        assert t["Est. Amount"] == pytest.approx(t["Shares"] * t["Limit Price"], abs=0.005)
        assert (t["Filled Shares"], t["Fill Price"]) == (None, None)  # left for the user


def test_one_history_row_for_the_run_date(processed: Processed, sample_master: Path, inputs):
    before = table(sample_master, "History", key="Date")
    after = table(processed.path, "History", key="Date")
    assert after[: len(before)] == before  # earlier rows kept as they were
    [row] = [r for r in after if _day(r["Date"]) == AS_OF]
    assert len(after) == len(before) + 1
    total = sum(r["Shares"] * r["Current Price"] for r in inputs.values())
    assert row["Portfolio Value"] == pytest.approx(total, abs=0.005)
    last = before[-1]["Portfolio Value"]
    assert row["Quarter Return"] == pytest.approx(total / last - 1, abs=1e-12)
    assert row["Trades"] == len(table(processed.path, "Trades", key="Side"))
    assert _day(row["Next Rebalance Date"]).isoformat() == processed.result["next_rebalance_date"]
    assert _day(row["Next Rebalance Date"]) > AS_OF


def test_log_sheet_holds_the_analysis_table(processed: Processed, inputs):
    wb = openpyxl.load_workbook(processed.path)
    assert wb.sheetnames[-1] == LOG
    rows = by_ticker(table(processed.path, LOG))
    assert list(rows) == list(SAMPLE_TICKERS)
    header = set(next(iter(rows.values())))
    assert {
        "Ticker",
        "Current Value",
        "Current %",
        "Target %",
        "Drift",
        "Action",
        "Amount",
    } <= header
    total = sum(r["Shares"] * r["Current Price"] for r in inputs.values())
    actions = by_ticker(table(processed.path, "Holdings"))
    for ticker, row in rows.items():
        value = inputs[ticker]["Shares"] * inputs[ticker]["Current Price"]
        assert row["Current Value"] == pytest.approx(value, abs=0.005)
        assert row["Current %"] == pytest.approx(value / total, abs=1e-12)
        assert row["Target %"] == inputs[ticker]["Target %"]
        assert row["Drift"] == pytest.approx(
            value / total - inputs[ticker]["Target %"], abs=0.00005
        )  # shown to 0.01 pp
        assert row["Action"] == actions[ticker]["Action"]  # SPEC §7's word, CASH too
        assert row["Amount"] == actions[ticker]["Amount"]
    cells = [v for row in wb[LOG].iter_rows(values_only=True) for v in row]
    assert AS_OF in [v.date() if isinstance(v, datetime) else v for v in cells]


def test_log_sheet_keeps_the_quarters_numbers(processed: Processed, plan: Plan):
    rows = list(openpyxl.load_workbook(processed.path)[LOG].iter_rows(values_only=True))
    pairs = {row[0]: row[1:3] for row in rows if row and isinstance(row[0], str)}
    m = plan.metrics
    assert pairs["Gain/Loss since purchase"] == pytest.approx((float(m.gain), float(m.gain_pct)))
    assert pairs["Largest Position"] == (m.largest[0], float(m.largest[1]))
    assert pairs["Smallest Position"] == (m.smallest[0], float(m.smallest[1]))
    # The Performance table as it stood this quarter (the sheet itself moves on).
    top = next(i for i, row in enumerate(rows) if row[0] == "Performance since the last rebalance")
    header = rows[top + 1]
    assert header[:6] == (
        "Ticker",
        "Last Rebalance Price",
        "Current Price",
        "Quarterly Return",
        "Contribution",
        "Class",
    )
    logged = {row[0]: row for row in rows[top + 2 : top + 2 + len(m.returns)]}
    for r in m.returns:
        assert logged[r.ticker][3] == pytest.approx(float(r.quarterly_return), rel=1e-14)
        assert logged[r.ticker][5] == r.performance_class.value
    label = "Quarter return since last rebalance"
    assert pairs[label][0] == pytest.approx(float(m.quarter_return), rel=1e-14)


def test_checklist_ticks_what_the_run_did_and_only_that(processed: Processed):
    steps = {r["Key"]: r for r in table(processed.path, "Checklist", key="Key")}
    done = {k for k, r in steps.items() if r["Done"] == "Yes"}
    # What the run itself did: measured weights and tiers, applied caps, drift and
    # downgrade rules, listed the orders (a taxable account: with tax estimates), and wrote
    # the rationale.
    assert {
        "analysis.tiers",
        "decision.caps",
        "decision.drift",
        "decision.downgrades",
        "execution.orders",
        "execution.taxes",
        "documentation.rationale",
    } <= done
    # What only a person can do stays open, and what `record` (shares) and `calendar`
    # (the reminder) tick when they have done it.
    for key in (
        "analysis.allocations",
        "documentation.holdings",
        "documentation.reminder",
        "analysis.scores",
        "execution.sells",
        "execution.buys",
        "execution.fills",
        "documentation.records",
    ):
        assert key in steps, key
        assert key not in done, key
    assert all(AS_OF.isoformat() in str(steps[k]["Note"]) for k in done)


def test_a_second_run_on_the_same_date_replaces_rather_than_adds(processed: Processed, tmp_path):
    path = copy_as(processed.path, tmp_path / "again.xlsx")
    first = openpyxl.load_workbook(path)
    history_before = table(path, "History", key="Date")
    code, doc = run_json("run", path)
    assert code == 0
    second = openpyxl.load_workbook(path)
    assert second.sheetnames == first.sheetnames
    assert second.sheetnames.count(LOG) == 1
    assert table(path, "History", key="Date") == history_before
    assert doc["files"][0]["actions"] == processed.result["actions"]
    assert table(path, LOG) == table(processed.path, LOG)


def test_a_run_on_another_date_adds_a_log_and_a_history_row(processed: Processed, tmp_path):
    path = copy_as(processed.path, tmp_path / "later.xlsx")
    code, doc = run_json("run", path, "--as-of", "2027-03-31")
    assert code == 0, doc
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-2:] == [LOG, "Log 2027-03-31"]
    dates = [_day(r["Date"]) for r in table(path, "History", key="Date")]
    assert dates[-2:] == [AS_OF, date(2027, 3, 31)]


# --- text stays text -----------------------------------------------------------------------------


def test_written_strings_are_text_never_formulas(processed: Processed, at: Layout):
    with zipfile.ZipFile(processed.path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                for formula in re.findall(rb"<f[^>]*>(.*?)</f>", z.read(name)):
                    assert b"HYPERLINK" not in formula.upper()
        holdings = z.read(sheet_part(z, "Holdings"))
    for header in ("Action", "Rule", "Reason"):
        letter = at.letter("Holdings", header)
        for ticker in SAMPLE_TICKERS:
            row = at.row_of("Holdings", ticker)
            cell = re.search(
                rb'<c r="' + f"{letter}{row}".encode() + rb'"[^>]*?(/>|>.*?</c>)', holdings
            )
            assert cell is not None
            assert re.search(rb't="(s|inlineStr)"', cell.group(0)), cell.group(0)
            assert b"<f>" not in cell.group(0)


# --- workbooks no spreadsheet opened, and ones LibreOffice saved ----------------------------------


@pytest.mark.libreoffice
def test_never_opened_and_recalculated_workbooks_give_the_same_plan(
    libreoffice, written_books, tmp_path
):
    original = written_books["sample"]
    saved = copy_as(libreoffice["sample"], tmp_path / "saved.xlsx")

    # The premise: ours has formulas without results, LibreOffice's has the results.
    def cached(path: Path) -> list[Any]:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Holdings").to_python()
        return [row[rows[0].index("Current Value")] for row in rows[1:] if row[0]]

    assert set(cached(original)) == {""}
    assert all(isinstance(v, float) and v > 0 for v in cached(saved))

    code_a, a = run_json("run", original, "--dry-run")
    code_b, b = run_json("run", saved, "--dry-run")
    assert (code_a, code_b) == (0, 0)
    fa, fb = a["files"][0], b["files"][0]
    assert located(fb) == []
    for key in ("actions", "trades", "portfolio_value", "cash_left", "next_rebalance_date", "tax"):
        assert fb[key] == fa[key], key


@pytest.mark.libreoffice
def test_libreoffice_computes_the_engines_numbers(libreoffice, plan: Plan):
    """Current Value, % of Portfolio, Drift and Tier as LibreOffice calculates them in a
    processed workbook equal the engine's value, weight, drift and tier. The engine
    compares drift in points rounded to 0.01 (SPEC §1), so the sheet's exact drift is
    checked against weight − target, and its rounding against drift_pp."""
    rows = (
        CalamineWorkbook.from_path(str(libreoffice["processed"]))
        .get_sheet_by_name("Holdings")
        .to_python()
    )
    header = [str(h) for h in rows[0]]
    sheet = {row[0]: dict(zip(header, row, strict=False)) for row in rows[1:] if row[0]}
    for d in plan.decisions:
        row = sheet[d.ticker]
        assert row["Current Value"] == pytest.approx(float(d.value), abs=1e-9), d.ticker
        assert row["% of Portfolio"] == pytest.approx(float(d.weight), abs=1e-9), d.ticker
        assert row["Drift"] == pytest.approx(float(d.weight - d.target), abs=1e-9), d.ticker
        assert Decimal(str(round(row["Drift"] * 100, 2))) == d.drift_pp, d.ticker
        score = row["Score"]
        assert row["Tier"] == ("" if score == "" else Tier.of(Decimal(str(score))).label)


# --- macro-enabled workbooks --------------------------------------------------------------------


MACRO_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def test_xlsm_keeps_its_vba_project(sample_master, tmp_path, vba_project):
    path = xlsxwriter_copy(sample_master, tmp_path / "Macro.xlsm", vba=vba_project)
    with zipfile.ZipFile(path) as z:
        assert MACRO_TYPE in z.read("[Content_Types].xml")  # the premise
    before = sha256(path)
    code, doc = run_json("run", path)
    assert code == 0, doc
    result = doc["files"][0]
    assert result["problems"] == []
    assert result["content_lost"] == []
    assert sha256(path) != before
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba_project
        assert MACRO_TYPE in z.read("[Content_Types].xml")
        assert b"vbaProject" in z.read("xl/_rels/workbook.xml.rels")
    assert LOG in openpyxl.load_workbook(path, keep_vba=True).sheetnames


def test_harvest_notes_do_not_invent_a_past_purchase(processed: Processed, sample_master):
    # The premise: no CRWV lot or fill within 30 days of the run; the plan ADDs CRWV.
    lots = [r for r in table(sample_master, "Lots") if r["Ticker"] == "CRWV"]
    assert lots
    assert all((AS_OF - _day(r["Acquired"])).days > 30 for r in lots)
    assert table(sample_master, "Trades", key="Side") == []
    assert {a["ticker"]: a["action"] for a in processed.result["actions"]}["CRWV"] == "ADD"
    notes = [n for n in processed.result["tax"]["notes"] if n.startswith("Harvest: CRWV")]
    assert notes
    assert not any("was bought within" in n for n in notes), notes
    assert any("this plan buys more of it" in n for n in notes), notes

"""The workbook template: the committed sample is current, the contract is all there, and
the formulas compute what the rulebook says (checked by LibreOffice recalculating them).
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.core.settings import BY_NAME, SETTINGS, display_value
from rebalancer_xl.core.settings import Kind as SettingKind
from rebalancer_xl.core.values import EXCEL_ERRORS
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.formulas import NAME_QUARTER_RETURN, holdings_formulas
from tests.lo import read_values, recalculate, records

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "workbook" / "Rebalancing.xlsx"
H = S.HoldingsHeader
P = S.PerformanceHeader

# docProps/core.xml carries times; they are fixed today, but a difference there alone
# should not fail the freshness check.
_TIMES = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = _TIMES.sub(b"", parts["docProps/core.xml"])
    return parts


@pytest.fixture(scope="module")
def book() -> openpyxl.Workbook:
    return openpyxl.load_workbook(COMMITTED)


def _header_row(ws: Worksheet) -> list[object]:
    return [c.value for c in ws[1]]


def _index(ws: Worksheet, header: str) -> int:
    return _header_row(ws).index(header) + 1


# --- the committed file ---------------------------------------------------------------


def test_committed_sample_matches_generator(tmp_path: Path) -> None:
    fresh = tmp_path / "Rebalancing.xlsx"
    build_workbook(fresh, sample=True)
    committed, made = _parts(COMMITTED), _parts(fresh)
    assert sorted(committed) == sorted(made), "run: python scripts/make_sample.py"
    stale = [name for name in made if committed[name] != made[name]]
    assert not stale, f"{stale} differ; run: python scripts/make_sample.py"


def test_building_twice_gives_the_same_bytes_and_leaves_no_temp_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "book.xlsx", tmp_path / "b" / "book.xlsx"
    build_workbook(first, sample=True)
    build_workbook(second, sample=True)
    assert first.read_bytes() == second.read_bytes()
    build_workbook(first, sample=False)  # replaces the existing file in place
    assert sorted(p.name for p in first.parent.iterdir()) == ["book.xlsx"]
    assert openpyxl.load_workbook(first)[S.HOLDINGS]["A2"].value is None


# --- the contract -----------------------------------------------------------------------


def test_sheets_in_order(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == list(S.SHEET_ORDER)


@pytest.mark.parametrize("sheet", list(S.COLUMNS))
def test_every_header_is_in_row_one(book: openpyxl.Workbook, sheet: str) -> None:
    assert _header_row(book[sheet])[: len(S.COLUMNS[sheet])] == list(S.headers(S.COLUMNS[sheet]))


def test_holdings_headers_are_the_contract() -> None:
    assert S.headers(S.HOLDINGS_COLUMNS) == (
        "Ticker", "Purchase Price", "Current Price", "Shares", "Current Value",
        "% of Portfolio", "Target %", "Drift", "Score", "Previous Score", "Tier",
        "Exit Triggers Hit", "Company Event", "Lock", "Action", "Amount", "Shares to Trade",
        "Post-Trade %", "Rule", "Reason", "Flags",
    )  # fmt: skip
    assert S.headers(S.TRADES_COLUMNS) == (
        "Side", "Ticker", "Shares", "Limit Price", "Est. Amount", "Rule", "Lots Used",
        "Filled Shares", "Fill Price", "Date", "Commission", "Planned Date", "Applied",
    )  # fmt: skip
    assert S.headers(S.HISTORY_COLUMNS) == (
        "Date", "Portfolio Value", "Quarter Return", "Strategy", "Trades", "Turnover",
        "Next Rebalance Date", "Run Type",
    )  # fmt: skip
    assert S.headers(S.PERFORMANCE_COLUMNS) == (
        "Ticker", "Last Rebalance Price", "Current Price", "Quarterly Return",
        "Weight at Last Rebalance", "Contribution", "Class",
    )  # fmt: skip
    assert S.headers(S.LOTS_COLUMNS) == ("Ticker", "Acquired", "Shares", "Cost per Share")
    assert S.headers(S.SETTINGS_COLUMNS)[:2] == ("Setting", "Value")


def test_every_header_has_its_note(book: openpyxl.Workbook) -> None:
    for sheet, columns in S.COLUMNS.items():
        for col in columns:
            comment = book[sheet].cell(row=1, column=_index(book[sheet], col.header)).comment
            assert comment is not None, (sheet, col.header)
            assert col.note in comment.text, (sheet, col.header)
    ticker_note = book[S.HOLDINGS]["A1"].comment
    assert ticker_note is not None
    assert "Sample data" in ticker_note.text


def test_settings_rows_follow_the_catalogue(book: openpyxl.Workbook) -> None:
    ws = book[S.SETTINGS_SHEET]
    for row, spec in enumerate(SETTINGS, start=2):
        name, value = ws.cell(row=row, column=1).value, ws.cell(row=row, column=2)
        assert name == spec.name
        expected = sample_data.SETTINGS.get(spec.name, display_value(spec))
        got = value.value.date() if hasattr(value.value, "date") else value.value
        assert got == expected, spec.name
        assert value.number_format == S.setting_number_format(spec)
        if spec.kind is SettingKind.PERCENT:
            assert value.number_format == S.PERCENT
        if spec.kind is SettingKind.DATE:
            assert value.number_format == S.DATE
    assert ws.max_row == len(SETTINGS) + 1


def test_holdings_is_a_table_with_calculated_columns(book: openpyxl.Workbook) -> None:
    ws = book[S.HOLDINGS]
    table = ws.tables[S.HOLDINGS_TABLE]
    last_row = len(sample_data.HOLDINGS) + 1
    assert table.ref == f"A1:U{last_row}"
    assert [c.name for c in table.tableColumns] == list(S.headers(S.HOLDINGS_COLUMNS))
    formulas = holdings_formulas()
    for table_column in table.tableColumns:
        col = S.column(S.HOLDINGS_COLUMNS, table_column.name)
        calculated = table_column.calculatedColumnFormula
        if col.kind is S.Kind.FORMULA:
            assert calculated is not None
            assert calculated.attr_text == formulas[col.header]
            for row in range(2, last_row + 1):
                assert ws.cell(row=row, column=_index(ws, col.header)).value == (
                    "=" + formulas[col.header]
                )
        else:
            assert calculated is None
    assert ws.freeze_panes == "B2"


def test_kinds_are_coloured(book: openpyxl.Workbook) -> None:
    ws = book[S.HOLDINGS]
    for col in S.HOLDINGS_COLUMNS:
        index = _index(ws, col.header)
        assert ws.cell(row=1, column=index).fill.fgColor.rgb.endswith(S.HEADER_FILL[col.kind])
        assert ws.cell(row=2, column=index).fill.fgColor.rgb.endswith(S.BODY_FILL[col.kind])
        assert ws.cell(row=2, column=index).number_format == col.number_format
    legend = {c.value for row in book[S.DASHBOARD].iter_rows() for c in row}
    for kind in (S.Kind.INPUT, S.Kind.FORMULA, S.Kind.OUTPUT):
        assert S.KIND_LEGEND[kind] in legend


def _list_choices(ws: Worksheet, cell: str) -> list[str]:
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list" and cell in dv.sqref:
            return dv.formula1.strip('"').split(",")
    raise AssertionError(f"no drop-down on {ws.title}!{cell}")


def test_drop_downs(book: openpyxl.Workbook) -> None:
    ws = book[S.SETTINGS_SHEET]
    closed = 0
    for row, spec in enumerate(SETTINGS, start=2):
        if spec.kind is SettingKind.CHOICE:
            assert _list_choices(ws, f"B{row}") == list(spec.choices), spec.name
            closed += 1
        elif spec.kind is SettingKind.YES_NO:
            assert _list_choices(ws, f"B{row}") == ["Yes", "No"], spec.name
            closed += 1
    assert closed >= 7  # Strategy, Sell Mode, Lot Method, Account Type, Schedule, 2 yes/no
    holdings = book[S.HOLDINGS]
    for header in (H.COMPANY_EVENT, H.LOCK):
        letter = openpyxl.utils.get_column_letter(_index(holdings, header))
        for row in (2, 8, 200):  # data rows and rows a user may add later
            assert _list_choices(holdings, f"{letter}{row}") == ["Yes", "No"]


def test_the_tax_and_review_settings_are_as_workbook_md_lists_them(
    book: openpyxl.Workbook,
) -> None:
    # WORKBOOK.md: "Lot Method (Min Tax / HIFO / FIFO / LIFO), Harvest Losses (No / Broken
    # Thesis / All), Harvest Minimum Loss, Targets Reviewed (a date)".
    ws = book[S.SETTINGS_SHEET]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    assert _list_choices(ws, f"B{rows['Lot Method']}") == ["Min Tax", "HIFO", "FIFO", "LIFO"]
    assert _list_choices(ws, f"B{rows['Harvest Losses']}") == ["No", "Broken Thesis", "All"]
    assert ws.cell(row=rows["Harvest Losses"], column=2).value == "No"
    assert ws.cell(row=rows["Harvest Minimum Loss"], column=2).value == 0
    reviewed = ws.cell(row=rows["Targets Reviewed"], column=2)
    assert reviewed.number_format == S.DATE
    assert reviewed.value.date() == sample_data.TARGETS_REVIEWED
    for name in ("Lot Method", "Harvest Losses", "Harvest Minimum Loss", "Targets Reviewed"):
        note = ws.cell(row=rows[name], column=3).value
        assert note == BY_NAME[name].help
        assert len(note) > 30, name
    assert "LIFO" in BY_NAME["Lot Method"].help


def test_drift_colours_read_the_bands(book: openpyxl.Workbook) -> None:
    ws = book[S.HOLDINGS]
    letter = openpyxl.utils.get_column_letter(_index(ws, H.DRIFT))
    rules = [
        rule.formula[0]
        for cf in ws.conditional_formatting
        if str(cf.sqref).startswith(f"{letter}2:")
        for rule in cf.rules
    ]
    assert any(re.search(r"\bOuterBand\b", f) for f in rules)
    assert any(re.search(r"\bBand\b", f) for f in rules)


def test_defined_names_point_at_settings_values(book: openpyxl.Workbook) -> None:
    for row, spec in enumerate(SETTINGS, start=2):
        name = book.defined_names[S.setting_defined_name(spec.name)]
        assert name.attr_text.replace("'", "") == f"{S.SETTINGS_SHEET}!$B${row}"
    assert S.setting_defined_name("Outer Band") == "OuterBand"
    assert S.setting_defined_name("As-of Date") == "AsOfDate"
    assert NAME_QUARTER_RETURN in book.defined_names


def test_dashboard_chart_compares_current_target_and_post_trade(book: openpyxl.Workbook) -> None:
    charts = book[S.DASHBOARD]._charts
    assert len(charts) == 1
    chart = charts[0]
    assert isinstance(chart, BarChart)
    assert chart.grouping == "clustered"
    refs = [s.val.numRef.f.replace("'", "") for s in chart.series]
    assert refs == ["Holdings!$F$2:$F$8", "Holdings!$G$2:$G$8", "Holdings!$R$2:$R$8"]
    titles = [s.tx.strRef.f.replace("'", "") for s in chart.series]
    assert titles == ["Holdings!F1", "Holdings!G1", "Holdings!R1"]  # by header: % of Portfolio …
    with zipfile.ZipFile(COMMITTED) as archive:
        assert any(n.startswith("xl/charts/chart") for n in archive.namelist())


def test_checklist_has_four_phases_with_stable_keys(book: openpyxl.Workbook) -> None:
    keys = [item.key for item in S.CHECKLIST_ITEMS]
    assert len(keys) == len(set(keys))
    assert {item.phase for item in S.CHECKLIST_ITEMS} == set(S.CHECKLIST_PHASES)
    assert S.CHECKLIST_PHASES == ("Analysis", "Decision", "Execution", "Documentation")
    rows = list(book[S.CHECKLIST].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (i.key, i.phase, i.step, None) for i in S.CHECKLIST_ITEMS
    ]


def test_log_sheet_names() -> None:
    assert S.log_sheet_name(date(2026, 12, 31)) == "Log 2026-12-31"
    assert S.log_date("Log 2026-12-31") == date(2026, 12, 31)
    assert S.log_date("Log 2026-02-30") is None
    assert S.log_date("Holdings") is None


# --- the sample data ----------------------------------------------------------------------


def test_sample_is_worth_120000_and_targets_add_to_100() -> None:
    total = sum(float(r[H.SHARES]) * float(r[H.CURRENT_PRICE]) for r in sample_data.HOLDINGS)
    assert total == 120_000
    assert sum(float(r[H.TARGET]) for r in sample_data.HOLDINGS) == pytest.approx(1.0)


def test_sample_lots_add_up_to_holdings() -> None:
    lots: dict[str, list[dict[str, object]]] = defaultdict(list)
    for lot in sample_data.LOTS:
        lots[str(lot[S.LotsHeader.TICKER])].append(lot)
    holdings = {r[H.TICKER]: r for r in sample_data.HOLDINGS if r[H.TICKER] != "CASH"}
    assert set(lots) == set(holdings)
    year_ago = sample_data.AS_OF.replace(year=sample_data.AS_OF.year - 1)
    terms, losses = set(), 0
    for ticker, rows in lots.items():
        shares = sum(float(r[S.LotsHeader.SHARES]) for r in rows)
        cost = sum(float(r[S.LotsHeader.SHARES]) * float(r[S.LotsHeader.COST]) for r in rows)
        assert shares == holdings[ticker][H.SHARES]
        assert cost / shares == pytest.approx(holdings[ticker][H.PURCHASE_PRICE])
        for r in rows:
            terms.add(r[S.LotsHeader.ACQUIRED] < year_ago)  # type: ignore[operator]
            losses += float(r[S.LotsHeader.COST]) > float(holdings[ticker][H.CURRENT_PRICE])
    assert terms == {True, False}
    assert losses >= 1


# --- LibreOffice recalculates the formulas ------------------------------------------------


def _tier(score: float | None) -> str:
    if score is None:
        return ""
    for floor, name in ((75, "Exceptional"), (65, "Very Strong"), (50, "Strong"), (35, "Moderate")):
        if score >= floor:
            return name
    return "Weak"


def _no_errors(path: Path, sheets: list[str]) -> None:
    for sheet in sheets:
        for r, row in enumerate(read_values(path, sheet), start=1):
            for c, value in enumerate(row, start=1):
                assert not (isinstance(value, str) and value in EXCEL_ERRORS), (sheet, r, c, value)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recalculate(COMMITTED, tmp_path_factory.mktemp("lo"))


@pytest.mark.libreoffice
def test_holdings_formulas_in_libreoffice(recalculated: Path) -> None:
    rows = records(recalculated, S.HOLDINGS)
    inputs = sample_data.HOLDINGS
    assert [r[H.TICKER] for r in rows] == [r[H.TICKER] for r in inputs]
    values = [float(r[H.SHARES]) * float(r[H.CURRENT_PRICE]) for r in inputs]
    total = sum(values)
    for got, given, value in zip(rows, inputs, values, strict=True):
        weight = value / total
        assert got[H.CURRENT_VALUE] == pytest.approx(value)
        assert got[H.WEIGHT] == pytest.approx(weight)
        assert got[H.DRIFT] == pytest.approx(weight - float(given[H.TARGET]))
        score = given[H.SCORE]
        assert got[H.TIER] == _tier(None if score is None else float(score))
    pltr = rows[0]
    assert (pltr[H.CURRENT_VALUE], pltr[H.WEIGHT], pltr[H.TIER]) == (45000, 0.375, "Exceptional")
    assert pltr[H.DRIFT] == pytest.approx(0.075)


@pytest.mark.libreoffice
def test_performance_formulas_in_libreoffice(recalculated: Path) -> None:
    rows = records(recalculated, S.PERFORMANCE)
    prices = {r[H.TICKER]: float(r[H.CURRENT_PRICE]) for r in sample_data.HOLDINGS}
    shares = {r[H.TICKER]: float(r[H.SHARES]) for r in sample_data.HOLDINGS}
    last = {r[P.TICKER]: float(r[P.LAST_PRICE]) for r in sample_data.PERFORMANCE}
    last_total = sum(shares[t] * last[t] for t in last)
    expected_portfolio = 0.0
    for got in rows:
        ticker = got[P.TICKER]
        r = prices[ticker] / last[ticker] - 1
        weight = shares[ticker] * last[ticker] / last_total
        expected_portfolio += weight * r
        assert got[P.CURRENT_PRICE] == prices[ticker]
        assert got[P.RETURN] == pytest.approx(r)
        assert got[P.LAST_WEIGHT] == pytest.approx(weight)
        assert got[P.CONTRIBUTION] == pytest.approx(weight * r)
        # round like the sheet: 180/150 − 1 is 0.19999… in floating point, a Winner
        r = round(r, 4)
        assert got[P.CLASS] == ("Winner" if r >= 0.2 else "In-line" if r >= -0.1 else "Laggard")
    classes = {got[P.TICKER]: got[P.CLASS] for got in rows}
    assert (classes["PLTR"], classes["ALAB"], classes["CRWV"]) == ("Winner", "In-line", "Laggard")
    grid = read_values(recalculated, S.PERFORMANCE)
    summary = {row[8]: row[9] for row in grid if len(row) > 9 and row[8]}
    assert summary["Quarter return since last rebalance"] == pytest.approx(expected_portfolio)
    assert expected_portfolio == pytest.approx(120_000 / 115_830 - 1)


@pytest.mark.libreoffice
def test_dashboard_in_libreoffice(recalculated: Path) -> None:
    grid = read_values(recalculated, S.DASHBOARD)
    metrics = {row[0]: row[1:3] for row in grid if row and row[0]}
    cost = sum(float(r[H.SHARES]) * float(r[H.PURCHASE_PRICE]) for r in sample_data.HOLDINGS)
    assert metrics["Total value"][0] == 120_000
    assert metrics["Cost (shares × purchase price)"][0] == pytest.approx(cost)
    assert metrics["Gain / loss since purchase"][0] == pytest.approx(120_000 - cost)
    assert metrics["Gain / loss since purchase"][1] == pytest.approx(120_000 / cost - 1)
    assert metrics["Largest position"] == ["PLTR", 0.375]
    assert metrics["Smallest position"][0] == "IONQ"
    assert metrics["Smallest position"][1] == pytest.approx(6300 / 120_000)
    assert metrics["Targets add up to"][0] == pytest.approx(1.0)
    assert metrics["Strategy"][0] == "Hybrid"
    _no_errors(recalculated, list(S.SHEET_ORDER))


@pytest.mark.libreoffice
def test_blank_template_has_no_error_noise(tmp_path: Path) -> None:
    blank = tmp_path / "in" / "blank.xlsx"
    build_workbook(blank, sample=False)
    out = recalculate(blank, tmp_path / "out")
    _no_errors(out, list(S.SHEET_ORDER))
    # Only the CASH row a new workbook starts with, typed as it should be.
    [cash] = records(out, S.HOLDINGS)
    assert (cash[H.TICKER], cash[H.CURRENT_PRICE], cash[H.SHARES], cash[H.TARGET]) == (
        "CASH",
        1,
        0,
        0,
    )
    assert all(not r[P.TICKER] for r in records(out, S.PERFORMANCE))


# --- LibreOffice's numbers are the engine's ----------------------------------------------


def _engine_metrics(path: Path):  # type: ignore[no-untyped-def]
    from rebalancer_xl.pipeline import plan_book
    from tests.openpyxl_book import book_from_openpyxl

    outcome = plan_book(book_from_openpyxl(openpyxl.load_workbook(path), path))
    assert outcome.plan is not None, outcome.problems
    return outcome.plan.metrics


def _dashboard(path: Path) -> dict[object, list[object]]:
    return {row[0]: row[1:3] for row in read_values(path, S.DASHBOARD) if row and row[0]}


def _assert_dashboard_is_the_engines(recalculated: Path, m) -> None:  # type: ignore[no-untyped-def]
    board = _dashboard(recalculated)
    assert board["Total value"][0] == pytest.approx(float(m.value))
    assert board["Gain / loss since purchase"][0] == pytest.approx(float(m.gain))
    assert board["Gain / loss since purchase"][1] == pytest.approx(float(m.gain_pct))
    assert board["Largest position"][0] == m.largest[0]
    assert board["Largest position"][1] == pytest.approx(float(m.largest[1]))
    assert board["Smallest position"][0] == m.smallest[0]
    assert board["Smallest position"][1] == pytest.approx(float(m.smallest[1]))


@pytest.mark.libreoffice
def test_libreoffice_and_the_engine_agree_on_the_quarters_numbers(recalculated: Path) -> None:
    m = _engine_metrics(COMMITTED)
    _assert_dashboard_is_the_engines(recalculated, m)
    sheet = {r[P.TICKER]: r for r in records(recalculated, S.PERFORMANCE) if r[P.TICKER]}
    assert set(sheet) == {r.ticker for r in m.returns}
    for r in m.returns:
        got = sheet[r.ticker]
        assert got[P.RETURN] == pytest.approx(float(r.quarterly_return))
        assert got[P.LAST_WEIGHT] == pytest.approx(float(r.last_weight))
        assert got[P.CONTRIBUTION] == pytest.approx(float(r.contribution), abs=1e-15)
        assert got[P.CLASS] == r.performance_class.value
    grid = read_values(recalculated, S.PERFORMANCE)
    summary = {row[8]: row[9] for row in grid if len(row) > 9 and row[8]}
    assert summary["Quarter return since last rebalance"] == pytest.approx(float(m.quarter_return))


@pytest.mark.libreoffice
def test_a_blank_purchase_price_counts_as_unknown_in_the_sheet_and_the_engine(
    tmp_path: Path,
) -> None:
    src = tmp_path / "in" / "blank-cost.xlsx"
    build_workbook(src, sample=True)
    wb = openpyxl.load_workbook(src)
    ws = wb[S.HOLDINGS]
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, _index(ws, H.TICKER)).value == "ALAB":
            ws.cell(row, _index(ws, H.PURCHASE_PRICE)).value = None
    wb.save(src)
    m = _engine_metrics(src)
    alab = next(r for r in sample_data.HOLDINGS if r[H.TICKER] == "ALAB")
    assert m.value - m.cost - m.gain == float(alab[H.SHARES]) * float(alab[H.CURRENT_PRICE])
    _assert_dashboard_is_the_engines(recalculate(src, tmp_path / "lo"), m)


def test_the_flags_note_names_every_flag() -> None:
    from rebalancer_xl.core.model import Flag

    note = S.column(S.HOLDINGS_COLUMNS, H.FLAGS).note
    assert all(flag.value in note for flag in Flag)

"""An Excel Table's Total Row (Table Design > Total Row) is not data, and not the run's.

People switch a table's Total Row on to see their sums. The run reads it as a blank row
(it was a holding named "Total" with no price, refused), writes nothing on it (the sums
stay byte for byte), and where it must add rows right where the Total Row sits (History,
Trades), it refuses before writing anything, saying how to get out of the way. The
button's reading of the same books is held to the command's in test_xl.py.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from rebalancer_xl.workbook.grid import (
    AddSheet,
    Book,
    DeleteSheet,
    FitRows,
    SetFormat,
    SetValues,
    Sheet,
)
from rebalancer_xl.workbook.totals import sheet_without_totals, writes_on_totals
from tests.conftest import listing, run_json, sha256, sheet_part
from tests.household_books import MONEY_IS_HERE, build_household

HOLDINGS_TOTALS = {"Current Value": "sum", "Target %": "sum", "Amount": "sum"}


def with_holdings_total_row(src: Path, dst: Path) -> Path:
    """The sample with tblHoldings' Total Row shown: a label and three SUBTOTALs, one of
    them under Amount, a column the run writes."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Holdings"]
    table = ws.tables["tblHoldings"]
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(table.ref)
    total = r2 + 1
    table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{total}"
    table.totalsRowCount = 1
    if table.autoFilter is not None:
        table.autoFilter.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    table.tableColumns[0].totalsRowLabel = "Total"
    ws.cell(total, c1, "Total")
    for name, function in HOLDINGS_TOTALS.items():
        i = headers.index(name)
        table.tableColumns[i].totalsRowFunction = function
        ws.cell(total, c1 + i, f"=SUBTOTAL(109,tblHoldings[{name}])")
    wb.save(dst)
    return dst


def with_total_row_on(src: Path, dst: Path, sheet: str) -> Path:
    """`sheet`'s rows made a table with its Total Row right under them (under one blank
    data row when the sheet has only its header: a table needs a row of data)."""
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    width = max(c for c in range(1, ws.max_column + 1) if ws.cell(1, c).value)
    total = ws.max_row + (2 if ws.max_row == 1 else 1)
    ws.cell(total, 1, "Total")
    table = Table(displayName=f"tbl{sheet}Sums", ref=f"A1:{get_column_letter(width)}{total}")
    table.totalsRowCount = 1
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
    table._initialise_columns()
    for i, column in enumerate(table.tableColumns):
        column.name = str(ws.cell(1, i + 1).value)
    table.tableColumns[0].totalsRowLabel = "Total"
    ws.add_table(table)
    wb.save(dst)
    return dst


def _row_xml(path: Path, sheet: str, row: int) -> bytes:
    """The `<row>` element of `row` on `sheet`, as stored."""
    with zipfile.ZipFile(path) as z:
        data = z.read(sheet_part(z, sheet))
    found = re.search(rb'<row r="%d"[ >].*?</row>' % row, data, re.S)
    assert found is not None
    return found.group(0)


def _actions(doc: dict) -> list[tuple[object, ...]]:
    [result] = doc["files"]
    return [
        (a["ticker"], a["action"], a["amount"], a["shares"], a["rule_id"])
        for a in result["actions"]
    ]


def test_a_holdings_total_row_is_no_holding_and_keeps_its_sums(sample_master, tmp_path):
    book = with_holdings_total_row(sample_master, tmp_path / "totals.xlsx")
    plain = shutil.copyfile(sample_master, tmp_path / "plain.xlsx")
    total_row = _row_xml(book, "Holdings", 9)
    assert b"SUBTOTAL(109,tblHoldings[Amount])" in total_row

    code, doc = run_json("run", book)
    assert code == 0, doc
    [result] = doc["files"]
    assert "Total" not in {a["ticker"] for a in result["actions"]}
    # The same plan, and the same warnings, as the sample without its Total Row.
    code, theirs = run_json("run", plain)
    assert code == 0
    assert _actions(doc) == _actions(theirs)
    assert [p["code"] for p in result["problems"]] == [
        p["code"] for p in theirs["files"][0]["problems"]
    ]
    assert _row_xml(book, "Holdings", 9) == total_row  # not a byte of the sums changed


def test_rows_to_add_where_a_total_row_sits_are_refused_and_nothing_is_written(
    sample_master, tmp_path
):
    for sheet, row in (("History", 5), ("Trades", 3)):
        book = with_total_row_on(sample_master, tmp_path / f"{sheet}.xlsx", sheet)
        before, files = sha256(book), listing(tmp_path)
        code, doc = run_json("run", book)
        assert code == 1
        [result] = doc["files"]
        assert [(p["code"], f"{p['sheet']}!{p['cell']}") for p in result["problems"]] == [
            ("table-total-row", f"{sheet}!A{row}")
        ]
        assert "Table Design > Total Row" in result["problems"][0]["message"]
        assert result["written"] is None
        assert (sha256(book), listing(tmp_path)) == (before, files)
        # A dry run says so too: the plan a real run could not write is not shown as one.
        assert run_json("run", book, "--dry-run")[0] == 1


def test_a_household_row_to_open_on_the_total_row_is_refused_too(tmp_path):
    """SPEC §9: a buy in an account with no row for the ticker opens one under the
    Holdings table, which is where its Total Row is."""
    plain = build_household(tmp_path / "household.xlsx", MONEY_IS_HERE)
    code, doc = run_json("run", plain, "--dry-run")
    assert code == 0
    opened = [
        a for a in doc["files"][0]["actions"] if (a["ticker"], a["account"]) == ("IONQ", "Taxable")
    ]
    assert [a["action"] for a in opened] == ["BUY"]  # the new row the plan opens
    book = with_holdings_total_row(plain, tmp_path / "totals.xlsx")
    before = sha256(book)
    code, doc = run_json("run", book)
    assert code == 1
    errors = [p for p in doc["files"][0]["problems"] if p["severity"] == "error"]
    assert [(p["code"], f"{p['sheet']}!{p['cell']}") for p in errors] == [
        ("table-total-row", "Holdings!A7")
    ]
    assert sha256(book) == before


def test_only_writes_on_a_total_row_count() -> None:
    rows: tuple[tuple[object, ...], ...] = (("Date", "Value"), ("2026-09-30", 1), ("Total", 1))
    sheet = sheet_without_totals("History", rows, (), frozenset({3}))
    assert sheet.rows == rows[:2]  # read as blank (and trailing, so gone)
    assert sheet.totals_rows == frozenset({3})
    book = Book(
        {"History": sheet, "Log 2026-12-31": Sheet("Log 2026-12-31", (), (), frozenset({3}))}
    )
    assert writes_on_totals(book, [SetValues("History", 2, 1, (("x",),))]) == []
    assert writes_on_totals(book, [FitRows("History", 1, 5, 1)]) == []  # a row's height
    # A sheet the ops delete and add again is new: its old table went with it.
    replaced = [DeleteSheet("Log 2026-12-31"), AddSheet("Log 2026-12-31")]
    assert writes_on_totals(book, [*replaced, SetValues("Log 2026-12-31", 3, 1, (("x",),))]) == []
    [found] = writes_on_totals(
        book, [SetFormat("History", 3, 4, 1, 2, "0.00"), SetValues("History", 2, 2, ((1,), (2,)))]
    )
    assert found.code == "table-total-row"
    assert str(found.where.cell) == "History!B3"  # the first column any op writes there

"""Broken workbooks, each a real file on disk, run through the command as a user would.

Every case checks the four promises of a refused run: the problem is named by a stable
code and located as `Sheet!Cell` (the whole sheet when it is missing, nothing for a file
that cannot be opened), the exit code is 1, nothing is written (the file is byte for byte
the same and no temporary file is left beside it), and nothing else is reported: one
typo gives one problem, not a cascade.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl.workbook.workbook import Workbook

from tests.conftest import (
    SAMPLE_TICKERS,
    CliRun,
    Layout,
    Processed,
    edit,
    listing,
    located,
    run_subprocess,
    set_cell,
    sha256,
    sheet_part,
)

Cli = Callable[..., CliRun]


def refused(cli: Cli, path: Path, *options: str) -> list[tuple[str, str]]:
    """Run `path`, check it was refused and left alone; return its located problems."""
    before, files = (sha256(path), listing(path.parent)) if path.is_file() else (None, None)
    run = cli("run", path, "--json", *options)
    assert run.code == 1, run.err
    result = run.file
    assert result["status"] == "error"
    assert result["actions"] == []
    assert result["written"] is None
    if before is not None:
        assert sha256(path) == before, "a refused workbook must not change"
        assert listing(path.parent) == files, "a refused run must leave no file behind"
    return located(result)


def broken(sample: Path, change: Callable[[Workbook], object]) -> Path:
    return edit(sample, change)


# --- sheets and headers ---------------------------------------------------------------------


def test_missing_holdings_sheet(cli, sample):
    broken(sample, lambda wb: wb.remove(wb["Holdings"]))
    assert refused(cli, sample) == [("missing-sheet", "Holdings")]


def test_missing_settings_sheet(cli, sample):
    broken(sample, lambda wb: wb.remove(wb["Settings"]))
    assert refused(cli, sample) == [("missing-sheet", "Settings")]


def test_renamed_header_shares_to_qty(cli, sample, at: Layout):
    header = at.header_row("Holdings")  # "Holdings!1:1"
    row = header.split("!")[1].split(":")[0]
    broken(sample, set_cell("Holdings", f"{at.letter('Holdings', 'Shares')}{row}", "Qty"))
    # One problem for the header row, not one per position nor one per tax lot.
    assert refused(cli, sample) == [("missing-column", header)]


def test_missing_output_column(cli, sample, at: Layout):
    """The run needs somewhere to write: a deleted Reason column is refused, not skipped."""
    col = at.letter("Holdings", "Reason")
    broken(sample, lambda wb: wb["Holdings"].delete_cols(wb["Holdings"][f"{col}1"].column))
    assert refused(cli, sample) == [("missing-column", at.header_row("Holdings"))]


def test_renamed_settings_header(cli, sample):
    broken(sample, set_cell("Settings", "B1", "Val"))
    assert refused(cli, sample) == [("missing-column", "Settings!A1")]


# --- cells ------------------------------------------------------------------------------------


def test_text_in_a_number_cell(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "ten"))
    assert refused(cli, sample) == [("not-a-number", cell)]


def test_blank_ticker_on_a_row_with_data(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Ticker", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], None))
    # ALAB's tax lots now have no Holdings row; that echo of the same blank is not reported.
    assert refused(cli, sample) == [("missing-ticker", cell)]


def test_duplicate_ticker(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Ticker", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "pltr "))  # case and spaces too
    assert refused(cli, sample) == [("duplicate-ticker", cell)]
    # The first PLTR is named by its cell, as the sheet shows it, not by a table row.
    first = at.cell("Holdings", "Ticker", "PLTR")
    message = cli("run", sample, "--json").file["problems"][0]["message"]
    assert f"(first at {first})" in message


def test_negative_shares(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "CRWV")
    broken(sample, set_cell("Holdings", cell.split("!")[1], -5))
    assert refused(cli, sample) == [("negative-shares", cell)]


def test_zero_price(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Current Price", "ARM")
    broken(sample, set_cell("Holdings", cell.split("!")[1], 0))
    assert refused(cli, sample) == [("bad-price", cell)]


def test_targets_adding_to_95_percent(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Target %", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], 0.20))  # 25% -> 20%
    run = cli("run", sample, "--json")
    assert located(run.file) == [("targets-not-100", at.column("Holdings", "Target %"))]
    assert "95.00%" in run.file["problems"][0]["message"]


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#DIV/0!"])
def test_excel_error_values(cli, sample, at: Layout, error):
    cell = at.cell("Holdings", "Current Price", "TEM")
    broken(sample, set_cell("Holdings", cell.split("!")[1], error, data_type="e"))
    with zipfile.ZipFile(sample) as z:  # really an error cell, not the text "#N/A"
        assert re.search(
            rb'<c r="' + cell.split("!")[1].encode() + rb'"[^>]*t="e"',
            z.read(sheet_part(z, "Holdings")),
        )
    assert refused(cli, sample) == [("excel-error", cell)]


def test_excel_error_in_shares(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "IONQ")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "#REF!", data_type="e"))
    assert refused(cli, sample) == [("excel-error", cell)]


def test_date_typed_as_text(cli, sample, at: Layout):
    cell = at.setting("As-of Date")
    broken(sample, set_cell("Settings", cell.split("!")[1], "31/12/2026"))
    run = cli("run", sample, "--json")
    assert located(run.file) == [("not-a-date", cell)]
    assert "31/12/2026" in run.file["problems"][0]["message"]


def test_merged_cells_across_the_table(cli, sample, at: Layout):
    first = at.cell("Holdings", "Ticker", "ALAB").split("!")[1]
    last = at.cell("Holdings", "Shares", "ALAB").split("!")[1]
    broken(sample, lambda wb: wb["Holdings"].merge_cells(f"{first}:{last}"))
    # Merging keeps only the top-left value, so ALAB's price is gone as well: both said.
    assert refused(cli, sample) == [
        ("merged-cells", f"Holdings!{first}:{last}"),
        ("missing-price", at.cell("Holdings", "Current Price", "ALAB")),
    ]


def test_merged_cells_over_optional_inputs_only(cli, sample, at: Layout):
    top = at.cell("Holdings", "Exit Triggers Hit", "ALAB").split("!")[1]
    bottom = at.cell("Holdings", "Lock", "CRWV").split("!")[1]
    broken(sample, lambda wb: wb["Holdings"].merge_cells(f"{top}:{bottom}"))
    assert refused(cli, sample) == [("merged-cells", f"Holdings!{top}:{bottom}")]


def test_hyperlink_formula_text_as_a_string_ticker(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Ticker", "ALAB")
    broken(
        sample,
        set_cell("Holdings", cell.split("!")[1], '=HYPERLINK("http://x","y")', data_type="s"),
    )
    assert refused(cli, sample) == [("bad-ticker", cell)]


def test_hyperlink_formula_as_a_ticker(cli, sample, at: Layout):
    """A formula in Ticker is refused, calculated or not (openpyxl wrote this one)."""
    cell = at.cell("Holdings", "Ticker", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], '=HYPERLINK("http://x","y")'))
    assert refused(cli, sample) == [("formula-in-ticker", cell)]


@pytest.mark.libreoffice
def test_hyperlink_formula_as_a_ticker_after_a_spreadsheet_saved_it(
    cli, sample, at: Layout, tmp_path: Path
):
    """Saved by a spreadsheet, the formula has a cached value ("y"); still no ticker."""
    from tests.lo import recalculate, require_soffice

    require_soffice()
    cell = at.cell("Holdings", "Ticker", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], '=HYPERLINK("http://x","y")'))
    saved = recalculate(sample, tmp_path / "saved")
    assert refused(cli, saved) == [("formula-in-ticker", cell)]


def test_uncalculated_formula_in_an_input(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Current Price", "ARM")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "=150*1"))
    assert refused(cli, sample) == [("formula-not-calculated", cell)]


# --- settings and lots --------------------------------------------------------------------------


def test_unknown_setting_name(cli, sample, at: Layout):
    row = at.last_row("Settings", key="Setting") + 1
    name_col = at.letter("Settings", "Setting", key="Setting")
    value_col = at.letter("Settings", "Value", key="Setting")

    def add(wb: Workbook) -> None:
        wb["Settings"][f"{name_col}{row}"] = "Stratgy"
        wb["Settings"][f"{value_col}{row}"] = "Hybrid"

    broken(sample, add)
    # The typo is in the name, so the name's cell is pointed at.
    assert refused(cli, sample) == [("unknown-setting", f"Settings!{name_col}{row}")]


def test_bad_strategy_choice(cli, sample, at: Layout):
    cell = at.setting("Strategy")
    broken(sample, set_cell("Settings", cell.split("!")[1], "Momentum"))
    run = cli("run", sample, "--json")
    assert located(run.file) == [("bad-choice", cell)]
    assert all(c in run.file["problems"][0]["message"] for c in ("Hybrid", "Threshold", "Calendar"))


def test_lots_not_adding_up(cli, sample, at: Layout):
    """PLTR's lots hold 150 + 100 shares; make the first 140, so they add up to 240 ≠ 250."""
    lot = at.cell("Lots", "Shares", "PLTR")  # the first PLTR lot
    broken(sample, set_cell("Lots", lot.split("!")[1], 140))
    run = cli("run", sample, "--json")
    assert located(run.file) == [("lots-mismatch", at.cell("Holdings", "Shares", "PLTR"))]
    assert "240" in run.file["problems"][0]["message"]
    assert "250" in run.file["problems"][0]["message"]


def test_lot_of_a_ticker_not_held(cli, sample, at: Layout):
    row = at.last_row("Lots") + 1
    broken(sample, lambda wb: wb["Lots"].append(["NVDA", "2025-01-02", 10, 100]))
    assert refused(cli, sample) == [("lot-without-holding", f"Lots!A{row}")]


def test_lot_with_a_text_date(cli, sample, at: Layout):
    cell = at.cell("Lots", "Acquired", "ARM")
    broken(sample, set_cell("Lots", cell.split("!")[1], "11/02/2025"))
    assert refused(cli, sample) == [("not-a-date", cell)]


# --- checks across rows, beside bad cells ----------------------------------------------------------


def _targets(at: Layout, **targets: float) -> Callable[[Workbook], None]:
    def change(wb: Workbook) -> None:
        for ticker, value in targets.items():
            wb["Holdings"][at.cell("Holdings", "Target %", ticker).split("!")[1]] = value

    return change


def test_bad_cells_do_not_hide_the_checks_across_rows(cli, sample, at: Layout):
    """Negative shares and a text price, with targets adding up to 105% and ALAB's 45%
    above the 40% cap: one run names all four, each once."""
    shares = at.cell("Holdings", "Shares", "PLTR")
    price = at.cell("Holdings", "Current Price", "TEM")

    def change(wb: Workbook) -> None:
        wb["Holdings"][shares.split("!")[1]] = -5
        wb["Holdings"][price.split("!")[1]] = "abc"
        _targets(at, ALAB=0.45, CRWV=0.05)(wb)

    broken(sample, change)
    assert refused(cli, sample) == [
        ("negative-shares", shares),
        ("not-a-number", price),
        ("targets-not-100", at.column("Holdings", "Target %")),
        ("target-above-cap", at.cell("Holdings", "Target %", "ALAB")),
    ]
    problems = cli("run", sample, "--json").file["problems"]
    assert "105.00%" in problems[2]["message"]
    assert problems[3]["severity"] == "warning"


def test_a_bad_target_cell_skips_only_the_sum(cli, sample, at: Layout):
    """With PLTR's Target % unreadable the sum is unknown, so it is not reported; ALAB's
    target above the cap still is."""
    target = at.cell("Holdings", "Target %", "PLTR")

    def change(wb: Workbook) -> None:
        wb["Holdings"][target.split("!")[1]] = "thirty"
        _targets(at, ALAB=0.45)(wb)

    broken(sample, change)
    assert refused(cli, sample) == [
        ("not-a-number", target),
        ("target-above-cap", at.cell("Holdings", "Target %", "ALAB")),
    ]


def test_leftover_ticker_is_checked_beside_a_bad_cell(cli, sample, at: Layout):
    shares = at.cell("Holdings", "Shares", "ALAB")
    leftover = at.setting("Leftover To")

    def change(wb: Workbook) -> None:
        wb["Holdings"][shares.split("!")[1]] = "ten"
        wb["Settings"][leftover.split("!")[1]] = "QQQ"

    broken(sample, change)
    assert refused(cli, sample) == [("not-a-number", shares), ("leftover-ticker-missing", leftover)]


def test_lots_are_checked_for_the_rows_that_were_read(cli, sample, at: Layout):
    """CRWV's price is bad, which says nothing about PLTR's lots: 140 + 100 ≠ 250."""
    price = at.cell("Holdings", "Current Price", "CRWV")

    def change(wb: Workbook) -> None:
        wb["Holdings"][price.split("!")[1]] = "abc"
        wb["Lots"][at.cell("Lots", "Shares", "PLTR").split("!")[1]] = 140

    broken(sample, change)
    assert refused(cli, sample) == [
        ("not-a-number", price),
        ("lots-mismatch", at.cell("Holdings", "Shares", "PLTR")),
    ]


def test_lots_of_a_refused_holding_are_not_compared(cli, sample, at: Layout):
    """PLTR's shares are unreadable: its lots can be neither right nor wrong."""
    shares = at.cell("Holdings", "Shares", "PLTR")
    broken(sample, set_cell("Holdings", shares.split("!")[1], "ten"))
    assert refused(cli, sample) == [("not-a-number", shares)]


def test_lots_of_a_ticker_with_a_refused_lot_are_not_compared(cli, sample, at: Layout):
    """One PLTR lot's shares are unreadable: PLTR's total is unknown, not 100."""
    lot = at.cell("Lots", "Shares", "PLTR")
    broken(sample, set_cell("Lots", lot.split("!")[1], "many"))
    assert refused(cli, sample) == [("not-a-number", lot)]


def test_an_uncalculated_target_is_unknown_not_zero(cli, sample, at: Layout):
    """A Target % formula with no value is reported once; the sum is not taken with it as
    0% (which would add up to 75% and be a second, false complaint)."""
    cell = at.cell("Holdings", "Target %", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "=0.2+0.05"))
    assert refused(cli, sample) == [("formula-not-calculated", cell)]


def test_uncalculated_shares_are_unknown_not_zero(cli, sample, at: Layout):
    """Shares as a formula with no value are not 0 shares, so PLTR's lots are not said to
    disagree with them."""
    cell = at.cell("Holdings", "Shares", "PLTR")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "=200+50"))
    assert refused(cli, sample) == [("formula-not-calculated", cell)]


# --- files that are not workbooks -----------------------------------------------------------------


def test_empty_file(cli, tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert refused(cli, path) == [("empty-file", "")]


def test_truncated_file(cli, tmp_path, sample_master):
    data = sample_master.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert refused(cli, path) == [("corrupt-file", "")]


def test_text_file_named_xlsx(cli, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("Ticker,Shares\nPLTR,250\n")
    assert refused(cli, path) == [("corrupt-file", "")]


def test_zip_that_is_not_a_workbook(cli, tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    run = cli("run", path, "--json")
    assert run.code == 1
    assert located(run.file) == [("corrupt-file", "")]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
        ("holdings.csv", b"Ticker,Shares\nPLTR,250\n"),
        ("book.ods", b"PK\x03\x04"),
    ],
)
def test_other_formats(cli, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    run = cli("run", path, "--json")
    assert located(run.file) == [("unsupported-format", "")]
    assert ".xlsx" in run.file["problems"][0]["message"]  # says what to do
    assert path.read_bytes() == data


# Excel's "Strict Open XML Spreadsheet" save: the same parts, every name in the ISO
# namespaces. A real one is caught at its relationships' names; a strict workbook reached
# through a transitional relationship, at the workbook's own.
_SHEET_NAMES = (
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    b"http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_RELATIONSHIP_NAMES = (
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    b"http://purl.oclc.org/ooxml/officeDocument/relationships",
)


@pytest.mark.parametrize(
    "renamed",
    [(_SHEET_NAMES, _RELATIONSHIP_NAMES), (_SHEET_NAMES,)],
    ids=["every name", "the sheets' names only"],
)
def test_a_strict_open_xml_save_is_refused_with_what_to_do(cli, tmp_path, sample_master, renamed):
    path = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(sample_master) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            for old, new in renamed:
                data = data.replace(old, new)
            out.writestr(info, data)
    assert refused(cli, path) == [("unsupported-format", "")]
    message = cli("run", path, "--json").file["problems"][0]["message"]
    assert "Strict Open XML" in message
    assert "Excel Workbook (.xlsx)" in message  # and what to do


def test_password_protected_ole_header(cli, tmp_path):
    """An encrypted .xlsx is an OLE compound file, not a zip: the magic number says so."""
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert refused(cli, path) == [("password-protected", "")]


def test_password_protected_real(cli, tmp_path, sample_master):
    """A workbook really encrypted with a password (as Excel's File > Protect does)."""
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    path = tmp_path / "locked.xlsx"
    with sample_master.open("rb") as plain, path.open("wb") as out:
        ooxml.OOXMLFile(plain).encrypt("secret", out)
    assert refused(cli, path) == [("password-protected", "")]


def test_file_that_does_not_exist(cli, tmp_path):
    path = tmp_path / "missing.xlsx"
    assert refused(cli, path) == [("file-not-found", "")]
    assert not path.exists()


def test_a_folder(cli, tmp_path):
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert refused(cli, folder) == [("not-a-file", "")]


# --- many at once ---------------------------------------------------------------------------------


def test_every_problem_in_one_pass(cli, sample, at: Layout):
    shares = at.cell("Holdings", "Shares", "ALAB")
    price = at.cell("Holdings", "Current Price", "CRWV")
    ticker = at.cell("Holdings", "Ticker", "ARM")
    strategy = at.setting("Strategy")
    as_of = at.setting("As-of Date")
    lot_date = at.cell("Lots", "Acquired", "TEM")

    def change(wb: Workbook) -> None:
        for ref, value in (
            (shares, "ten"),
            (price, 0),
            (ticker, "IONQ"),
            (strategy, "Momentum"),
            (as_of, "31/12/2026"),
            (lot_date, "soon"),
        ):
            sheet, cell = ref.split("!")
            wb[sheet][cell] = value

    broken(sample, change)
    assert sorted(refused(cli, sample)) == sorted(
        [
            ("not-a-number", shares),
            ("bad-price", price),
            ("duplicate-ticker", at.cell("Holdings", "Ticker", "IONQ")),
            ("bad-choice", strategy),
            ("not-a-date", as_of),
            ("not-a-date", lot_date),
        ]
    )


def test_problems_are_printed_by_cell_for_people(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "ten"))
    run = cli("run", sample)
    assert run.code == 1
    assert f"{sample}: {cell}: not-a-number: Shares is 'ten'" in run.err


def test_refused_in_a_separate_process(sample, at: Layout):
    cell = at.cell("Holdings", "Current Price", "ARM")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "#N/A", data_type="e"))
    before = sha256(sample)
    run = run_subprocess("run", sample, "--json")
    assert run.code == 1
    assert located(run.file) == [("excel-error", cell)]
    assert sha256(sample) == before


# --- what a run may and may not change -----------------------------------------------------------


def test_a_successful_run_changes_the_file_in_place(cli, sample):
    before = sha256(sample)
    run = cli("run", sample, "--json")
    assert run.code == 0, run.err
    assert run.file["status"] == "ok"
    assert run.file["written"] == str(sample)
    assert sha256(sample) != before
    assert listing(sample.parent) == {sample.name}  # no temporary file left behind


def test_dry_run_never_changes_the_file(cli, sample):
    before = sha256(sample)
    run = cli("run", sample, "--dry-run", "--json")
    assert run.code == 0
    assert [a["ticker"] for a in run.file["actions"]] == list(SAMPLE_TICKERS)
    assert run.file["written"] is None
    assert sha256(sample) == before
    assert listing(sample.parent) == {sample.name}


def test_dry_run_of_a_broken_file_reports_the_same_problems(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "ALAB")
    broken(sample, set_cell("Holdings", cell.split("!")[1], "ten"))
    assert refused(cli, sample, "--dry-run") == [("not-a-number", cell)]


@pytest.mark.slow
def test_100000_formatted_blank_rows_are_not_data(sample, tmp_path, processed: Processed):
    """Formatting blank rows down to row 100,001 (as people do to 'prepare' a sheet) adds
    no positions: the run succeeds with exactly the sample's plan. The cells are written
    into the sheet's XML the way Excel stores formatted empty cells: <c r="A9" s="3"/>."""
    _format_blank_rows(sample, "Holdings", last_row=100_001, columns=("A", "G"))
    with zipfile.ZipFile(sample) as z:
        xml = z.read(sheet_part(z, "Holdings"))
    assert b'<c r="G100001" s=' in xml
    assert xml.count(b"<row ") > 100_000
    before = sha256(sample)
    # A separate process with a time limit: a run that hangs fails instead of stalling.
    run = run_subprocess("run", sample, "--output-dir", tmp_path / "out", "--json", timeout=180)
    assert run.code == 0, run.err
    assert run.file["problems"] == []
    assert run.file["actions"] == processed.result["actions"]  # the plain sample's plan
    assert sha256(sample) == before  # --output-dir leaves the original alone
    assert (tmp_path / "out" / sample.name).exists()


# --- helpers ------------------------------------------------------------------------------------


def _format_blank_rows(path: Path, sheet: str, *, last_row: int, columns: tuple[str, ...]) -> None:
    """Append styled, empty cells in `columns` from the row after the data to `last_row`."""
    tmp = path.with_suffix(".building")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        part = sheet_part(zin, sheet)
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text = data.decode()
                rows = [int(r) for r in re.findall(r'<row r="(\d+)"', text)]
                style = re.findall(r'<c r="[A-Z]+\d+" s="(\d+)"', text)[-1]
                start = max(rows) + 1
                body = "".join(
                    f'<row r="{r}">'
                    + "".join(f'<c r="{c}{r}" s="{style}"/>' for c in columns)
                    + "</row>"
                    for r in range(start, last_row + 1)
                )
                text = text.replace("</sheetData>", body + "</sheetData>", 1)
                text = re.sub(
                    r'<dimension ref="([A-Z]+\d+):([A-Z]+)\d+"/>',
                    rf'<dimension ref="\1:\g<2>{last_row}"/>',
                    text,
                    count=1,
                )
                data = text.encode()
            zout.writestr(item, data)
    tmp.replace(path)

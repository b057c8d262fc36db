"""What a new user sees in the workbook itself: one label and one number per measure,
reasons that wrap, a Log that prints, a new workbook that starts with its CASH row and a
sane chart. Each on real files; the rendered ones through LibreOffice, by reading the
values and the page setup it saved, or the PDF it printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.core.rules.metrics import QUARTER_PERFORMANCE_LABEL, QUARTER_RETURN_LABEL
from rebalancer_xl.workbook import schema as S
from tests.conftest import AS_OF, Processed
from tests.lo import read_values

LOG = f"Log {AS_OF.isoformat()}"


def _pairs(path: Path, sheet: str) -> dict[str, tuple[object, ...]]:
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return {row[0]: row[1:3] for row in rows if row and isinstance(row[0], str)}


# --- one label, one number ------------------------------------------------------------------


def test_the_log_names_each_quarter_measure_for_what_it_measures(processed: Processed):
    m = processed.result["metrics"]
    pairs = _pairs(processed.path, LOG)
    since = m["performance_since"]
    assert since is not None
    performance = QUARTER_PERFORMANCE_LABEL.format(since=since)
    assert pairs[performance][0] == pytest.approx(m["quarter_performance"], rel=1e-12)
    assert pairs[QUARTER_RETURN_LABEL][0] == pytest.approx(m["quarter_return"], rel=1e-12)
    # Each said once, and the old look-alike labels are gone.
    labels = [
        row[0]
        for row in openpyxl.load_workbook(processed.path)[LOG].iter_rows(values_only=True)
        if row and isinstance(row[0], str)
    ]
    assert labels.count(performance) == 1
    assert labels.count(QUARTER_RETURN_LABEL) == 1
    assert "Quarter Performance" not in labels
    assert "Portfolio quarter return" not in labels
    # The History row holds the same quarter performance.
    history = openpyxl.load_workbook(processed.path)[S.HISTORY]
    header = [c.value for c in history[1]]
    row = next(
        r
        for r in history.iter_rows(min_row=2, values_only=True)
        if isinstance(r[0], datetime) and r[0].date() == AS_OF
    )
    assert row[header.index(S.HistoryHeader.RETURN)] == pytest.approx(m["quarter_performance"])


def test_the_terminal_says_the_same_numbers_under_the_same_labels(cli, sample, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line, to find each label beside its number
    doc = cli("run", sample, "--dry-run", "--json").file["metrics"]
    out = cli("run", sample, "--dry-run").out
    performance = QUARTER_PERFORMANCE_LABEL.format(since=doc["performance_since"])
    assert f"{performance} {doc['quarter_performance']:+.2%}" in out
    assert f"{QUARTER_RETURN_LABEL} {doc['quarter_return']:+.2%}" in out


@pytest.mark.libreoffice
def test_the_dashboard_shows_the_logs_quarter_return(libreoffice, processed: Processed):
    board = {row[0]: row[1] for row in read_values(libreoffice["processed"], S.DASHBOARD) if row}
    assert board[QUARTER_RETURN_LABEL] == pytest.approx(
        processed.result["metrics"]["quarter_return"], abs=1e-9
    )


# --- reasons wrap in their column ----------------------------------------------------------------


@pytest.mark.libreoffice
def test_reasons_wrap_and_their_rows_grow(libreoffice, processed: Processed):
    wb = openpyxl.load_workbook(libreoffice["processed"])
    ws = wb[S.HOLDINGS]
    header = [c.value for c in ws[1]]
    reason = header.index(S.HoldingsHeader.REASON) + 1
    long_rows = []
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, reason)
        if not cell.value:
            continue
        assert cell.alignment.wrap_text, f"Reason in row {r} does not wrap"
        if len(str(cell.value)) > 60:
            long_rows.append(r)
    assert long_rows, "the sample has long reasons"
    default = ws.sheet_format.defaultRowHeight or 15
    for r in long_rows:  # LibreOffice made the row tall enough for the wrapped text
        assert (ws.row_dimensions[r].height or default) > default


# --- the Log prints --------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_log_prints_landscape_one_page_wide(libreoffice):
    ws = openpyxl.load_workbook(libreoffice["processed"])[LOG]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth in (1, None)  # 1 is the default, which LibreOffice omits
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr is not None
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.oddHeader.left.text == "&A"  # the sheet's name heads each page
    assert ws.oddHeader.right.text == "Page &P of &N"


def _print_log_alone(exe: str, book: Path, log: str, folder: Path) -> None:
    """`folder/log.pdf`: the workbook's `log` sheet alone, printed by LibreOffice."""
    wb = openpyxl.load_workbook(book)
    for name in wb.sheetnames:
        if name != log:
            wb.remove(wb[name])
    only_log = folder / "log.xlsx"
    wb.save(only_log)
    _to_pdf(exe, only_log, folder)


def _to_pdf(exe: str, book: Path, folder: Path) -> None:
    """`folder/<book's name>.pdf`: `book` printed by LibreOffice."""
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(book),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )


@pytest.mark.libreoffice
def test_the_printed_log_is_short(processed: Processed, tmp_path: Path):
    """Printed alone, the sample's Log takes one or two pages (it took four, portrait)."""
    from tests.lo import require_soffice

    _print_log_alone(require_soffice(), processed.path, LOG, tmp_path)
    pdf = (tmp_path / "log.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:  # poppler-utils, which CI installs for pdftoppm
        text = subprocess.run(
            [pdftotext, str(tmp_path / "log.pdf"), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert LOG in text  # each page is headed by the log's name …
        assert f"Page 1 of {pages}" in text  # … and its number


# --- a new workbook --------------------------------------------------------------------------------


def test_a_new_workbook_starts_with_its_cash_row(tmp_path: Path, cli):
    path = tmp_path / "new.xlsx"
    assert cli("new", path).code == 0
    ws = openpyxl.load_workbook(path)[S.HOLDINGS]
    header = [c.value for c in ws[1]]
    rows = [r for r in ws.iter_rows(min_row=2) if r[0].value]
    [cash] = rows
    values = {h: c.value for h, c in zip(header, cash, strict=False)}
    assert (values["Ticker"], values["Current Price"], values["Shares"], values["Target %"]) == (
        "CASH",
        1,
        0,
        0,
    )
    assert cash[0].comment is not None
    assert "Shares" in cash[0].comment.text  # says where the balance goes
    # Until a position is typed, that is the one thing a run says.
    run = cli("run", path, "--json")
    assert [p["code"] for p in run.file["problems"]] == ["no-holdings"]


def test_a_new_workbooks_chart_has_a_sane_axis(tmp_path: Path):
    path = tmp_path / "new.xlsx"
    build_workbook(path, sample=False)
    [chart] = openpyxl.load_workbook(path)[S.DASHBOARD]._charts
    assert chart.y_axis.scaling.min == 0
    assert chart.y_axis.scaling.max == 1  # 100%, not whatever an empty chart picks
    sample = tmp_path / "sample.xlsx"
    build_workbook(sample, sample=True)
    [chart] = openpyxl.load_workbook(sample)[S.DASHBOARD]._charts
    assert chart.y_axis.scaling.max is None  # with data, the axis fits the data


@pytest.mark.libreoffice
def test_a_new_workbook_renders_its_dashboard(tmp_path: Path):
    """The empty Dashboard as LibreOffice draws it: the chart is there, its axis labels
    run to 100% (they ran to 1200%)."""
    from tests.lo import require_pdftoppm, require_soffice

    exe = require_soffice()
    require_pdftoppm()  # poppler-utils, which brings pdftotext too
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    book = tmp_path / "new.xlsx"
    build_workbook(book, sample=False)
    _to_pdf(exe, book, tmp_path)
    text = subprocess.run(
        [pdftotext, "-f", "1", "-l", "1", str(tmp_path / "new.pdf"), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "100%" in text
    assert "1200%" not in text


def test_a_row_height_the_user_set_is_kept(cli, sample, at):
    """Rows grow for long reasons, shrink back for short ones, and a height set by hand
    stays as it was."""
    pltr = at.row_of("Holdings", "PLTR")
    arm = at.row_of("Holdings", "ARM")
    wb = openpyxl.load_workbook(sample)
    wb[S.HOLDINGS].row_dimensions[pltr].height = 50  # openpyxl marks it customHeight
    wb.save(sample)
    assert cli("run", sample).code == 0
    ws = openpyxl.load_workbook(sample)[S.HOLDINGS]
    assert ws.row_dimensions[pltr].height == 50
    header = [c.value for c in ws[1]]
    reason = header.index(S.HoldingsHeader.REASON) + 1
    for r in range(2, ws.max_row + 1):
        text = ws.cell(r, reason).value
        if r == pltr or not text:
            continue
        if len(text) > 80:
            assert (ws.row_dimensions[r].height or 0) >= 30, r
        elif r == arm:  # "drift +0.00 pp within ±5.00 pp band: hold" fits one line
            assert ws.row_dimensions[r].height is None


# --- the chart follows the table -------------------------------------------------------------------


def test_the_chart_takes_in_a_holding_typed_below_the_table(cli, sample, at):
    """A holding typed under the last row (as openpyxl or LibreOffice leave it, outside
    the Excel Table): the run grows the table over it, and the Dashboard chart's series
    with it; current, target and post-trade weight all reach the new row."""
    below = at.last_row("Holdings") + 1
    wb = openpyxl.load_workbook(sample)
    ws = wb[S.HOLDINGS]
    header = [c.value for c in ws[1]]
    for name, value in {
        "Ticker": "NVDA",
        "Current Price": 100,
        "Shares": 10,
        "Target %": 0,
    }.items():
        ws.cell(below, header.index(name) + 1).value = value
    wb.save(sample)
    run = cli("run", sample, "--json")
    assert run.code == 0, run.out
    assert "NVDA" in {a["ticker"] for a in run.file["actions"]}
    [chart] = openpyxl.load_workbook(sample)[S.DASHBOARD]._charts
    refs = [s.val.numRef.f.replace("'", "") for s in chart.series]
    letters = [
        openpyxl.utils.get_column_letter(header.index(h) + 1)
        for h in ("% of Portfolio", "Target %", "Post-Trade %")
    ]
    assert refs == [f"Holdings!${c}$2:${c}${below}" for c in letters]
    categories = {s.cat.numRef.f if s.cat.numRef else s.cat.strRef.f for s in chart.series}
    assert {c.replace("'", "") for c in categories} == {f"Holdings!$A$2:$A${below}"}


@pytest.mark.libreoffice
def test_a_long_log_repeats_its_table_header_on_every_page(tmp_path: Path, cli):
    """A book of 120 holdings: the Log's holdings table runs over several pages, and
    each printed page starts again with its header row (Excel's print titles)."""
    from tests.conftest import big_book
    from tests.lo import require_pdftoppm, require_soffice

    exe = require_soffice()
    require_pdftoppm()  # poppler-utils, which brings pdftotext too
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    book = big_book(tmp_path / "big.xlsx", 120)
    for _ in range(2):  # the second run replaces the day's Log, and its print titles
        assert cli("run", book, "--as-of", "2026-12-31").code == 0
    with zipfile.ZipFile(book) as z:
        assert z.read("xl/workbook.xml").count(b"_xlnm.Print_Titles") == 1
    wb = openpyxl.load_workbook(book)
    log = next(n for n in wb.sheetnames if n.startswith("Log "))
    titles = wb[log].print_title_rows
    assert titles is not None
    header_row = int(titles.split(":")[0].lstrip("$"))
    assert wb[log].cell(row=header_row, column=1).value == "Ticker"
    _print_log_alone(exe, book, log, tmp_path)
    text = subprocess.run(
        [pdftotext, "-layout", str(tmp_path / "log.pdf"), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3, len(pages)
    for page in pages[1:-1]:  # every page the table runs over starts with its header
        assert "Current Value" in page.split("T00")[0], page[:400]

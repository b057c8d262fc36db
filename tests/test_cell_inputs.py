"""Cell-level input a hostile tester typed, each on a real workbook run by the command:
every one is a located problem (or read correctly), never an internal error nor a silent
wrong number. `refused` also checks the file was left byte for byte as it was.
"""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from tests.conftest import Layout, copy_as, edit, located, set_cell
from tests.test_broken_inputs import refused


def cell_of(ref: str) -> str:
    return ref.split("!")[1]


# --- numbers out of any sane range ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value"),
    [("Shares", 1e308), ("Current Price", 1e308), ("Current Price", 1e-300)],
    ids=["huge-shares", "huge-price", "tiny-price"],
)
def test_a_number_beyond_any_sane_range_is_refused_at_its_cell(
    cli, sample, at: Layout, header, value
):
    cell = at.cell("Holdings", header, "ALAB")
    edit(sample, set_cell("Holdings", cell_of(cell), value))
    assert refused(cli, sample) == [("out-of-range", cell)]


def test_a_huge_setting_is_refused_at_its_cell(cli, sample, at: Layout):
    cell = at.setting("New Capital")
    edit(sample, set_cell("Settings", cell_of(cell), 1e308))
    assert refused(cli, sample) == [("out-of-range", cell)]


# --- text that would be read as the wrong number -------------------------------------------------


def test_a_decimal_comma_is_not_read_as_a_thousands_separator(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Current Price", "ALAB")
    edit(sample, set_cell("Holdings", cell_of(cell), "180,50"))  # 180.50, not 18,050
    assert refused(cli, sample) == [("decimal-comma", cell)]
    message = cli("run", sample, "--json").file["problems"][0]["message"]
    assert "180.50" in message


def test_percent_text_in_shares_is_refused(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Shares", "ALAB")
    edit(sample, set_cell("Holdings", cell_of(cell), "50%"))
    assert refused(cli, sample) == [("unexpected-percent", cell)]


def test_thousands_separators_still_read(cli, sample, at: Layout):
    before = cli("run", sample, "--dry-run", "--json").file["portfolio_value"]
    shares = at.cell("Holdings", "Shares", "CASH")
    held = openpyxl.load_workbook(sample)["Holdings"][cell_of(shares)].value
    assert held >= 1000
    edit(sample, set_cell("Holdings", cell_of(shares), f"{held:,}"))  # '2,180' for 2180
    run = cli("run", sample, "--dry-run", "--json")
    assert run.code == 0, run.err
    assert run.file["portfolio_value"] == before


# --- a setting or a column given twice ---------------------------------------------------------


def test_a_setting_given_twice_names_both_cells(cli, sample, at: Layout):
    first = at.setting("Band")
    row = at.last_row("Settings", key="Setting") + 1
    name_col = at.letter("Settings", "Setting", key="Setting")
    value_col = at.letter("Settings", "Value", key="Setting")

    def again(wb: Workbook) -> None:
        wb["Settings"][f"{name_col}{row}"] = "Band"
        wb["Settings"][f"{value_col}{row}"] = 0.10

    edit(sample, again)
    assert refused(cli, sample) == [("duplicate-setting", f"Settings!{value_col}{row}")]
    assert first in cli("run", sample, "--json").file["problems"][0]["message"]


def test_a_second_shares_column_is_refused_at_the_header_row(cli, sample, at: Layout):
    wb = openpyxl.load_workbook(sample)
    spare = wb["Holdings"].max_column + 1
    header_row = int(at.header_row("Holdings").split("!")[1].split(":")[0])
    letter = openpyxl.utils.get_column_letter(spare)
    edit(sample, set_cell("Holdings", f"{letter}{header_row}", "Shares"))
    assert refused(cli, sample) == [("duplicate-column", f"Holdings!{letter}{header_row}")]


# --- formulas with no calculated value ---------------------------------------------------------


def test_settings_formulas_without_values_are_refused_not_defaulted(cli, sample, at: Layout):
    """openpyxl writes formulas with no cached value: the setting's value is unknown, and
    the default must not stand in for it silently."""
    cap, strategy = at.setting("Cap"), at.setting("Strategy")

    def formulas(wb: Workbook) -> None:
        wb["Settings"][cell_of(cap)] = "=0.3"
        wb["Settings"][cell_of(strategy)] = '="Calendar"'

    edit(sample, formulas)
    assert sorted(refused(cli, sample)) == sorted(
        [("formula-not-calculated", cap), ("formula-not-calculated", strategy)]
    )


def _trades_cells(path) -> tuple[str, str]:
    wb = openpyxl.load_workbook(path)
    ws = wb["Trades"]
    header = {c.value: c.column_letter for c in ws[1] if c.value}
    return f"{header['Filled Shares']}2", f"{header['Date']}2"


def test_fills_typed_as_formulas_without_values_are_located(cli, processed, tmp_path):
    path = copy_as(processed.path, tmp_path / "book.xlsx")
    shares, day = _trades_cells(path)

    def fill(wb: Workbook) -> None:
        wb["Trades"][shares] = "=5*2"
        wb["Trades"][day] = "=DATE(2027,1,5)"

    edit(path, fill)
    assert sorted(refused(cli, path, "--as-of", "2027-01-25")) == sorted(
        [
            ("formula-not-calculated", f"Trades!{day}"),
            ("formula-not-calculated", f"Trades!{shares}"),
        ]
    )


@pytest.mark.libreoffice
def test_fills_typed_as_formulas_are_archived_by_their_values(cli, processed, tmp_path):
    """Saved by a spreadsheet, the formulas have values: the next run archives 10 shares
    on 2027-01-05 into the earlier Log (where it used to crash converting a formula)."""
    from tests.lo import recalculate, require_soffice

    require_soffice()
    path = copy_as(processed.path, tmp_path / "book.xlsx")
    shares, day = _trades_cells(path)

    def fill(wb: Workbook) -> None:
        wb["Trades"][shares] = "=5*2"
        wb["Trades"][day] = "=DATE(2027,1,5)"

    edit(path, fill)
    saved = recalculate(path, tmp_path / "saved")
    run = cli("run", saved, "--as-of", "2027-01-25", "--json")
    assert run.code == 0, run.out
    wb = openpyxl.load_workbook(saved)
    log = wb[f"Log {processed.result['as_of']}"]
    rows = [tuple(r) for r in log.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith("Executed"))
    header = rows[start + 1]
    archived = rows[start + 2]
    assert archived[header.index("Filled Shares")] == 10
    assert archived[header.index("Date")] in (datetime(2027, 1, 5), date(2027, 1, 5), 46392)


# --- a portfolio worth nothing -------------------------------------------------------------------


def test_a_portfolio_worth_nothing_says_so(cli, sample, at: Layout):
    def empty(wb: Workbook) -> None:
        for ticker in (*at_tickers(at), "CASH"):
            wb["Holdings"][cell_of(at.cell("Holdings", "Shares", ticker))] = 0
        wb.remove(wb["Lots"])  # lots of shares no longer held would be problems of their own

    edit(sample, empty)
    assert refused(cli, sample) == [("portfolio-worth-nothing", at.column("Holdings", "Shares"))]


def at_tickers(at: Layout) -> tuple[str, ...]:
    from tests.conftest import SAMPLE_TICKERS

    return tuple(t for t in SAMPLE_TICKERS if t != "CASH")


# --- dates outside any sane window -----------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_as_of_option_outside_the_window_is_bad_usage(cli, sample, day):
    run = cli("run", sample, "--as-of", day)
    assert run.code == 2
    assert "expected a date from 1900-01-01" in run.err
    assert "Traceback" not in run.err


def test_an_as_of_setting_outside_the_window_is_refused_at_its_cell(cli, sample, at: Layout):
    cell = at.setting("As-of Date")
    edit(sample, set_cell("Settings", cell_of(cell), datetime(9999, 12, 31)))
    assert refused(cli, sample) == [("date-out-of-range", cell)]


# --- tickers typed as numbers --------------------------------------------------------------------


def test_a_numeric_ticker_keeps_its_performance_row(cli, sample, at: Layout):
    """Tokyo's 7203 typed as a number in Holdings, Performance and Lots: it is one ticker."""

    def renumber(wb: Workbook) -> None:
        for sheet in ("Holdings", "Performance", "Lots"):
            for row in wb[sheet].iter_rows():
                for c in row:
                    if c.value == "ARM":
                        c.value = 7203

    edit(sample, renumber)
    run = cli("run", sample, "--dry-run", "--json")
    assert run.code == 0, run.out
    returns = {r["ticker"]: r for r in run.file["metrics"]["returns"]}
    assert "7203" in returns
    assert returns["7203"]["last_price"] == 145
    assert "7203" in {a["ticker"] for a in run.file["actions"]}


# --- Company Event -------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "event"), [("Yes", True), ("y", True), ("No", False)])
def test_company_event_reads_yes_and_no(cli, sample, at: Layout, typed, event):
    edit(sample, set_cell("Holdings", cell_of(at.cell("Holdings", "Company Event", "ALAB")), typed))
    run = cli("run", sample, "--dry-run", "--json")
    assert run.code == 0, run.out
    alab = next(a for a in run.file["actions"] if a["ticker"] == "ALAB")
    assert ("REVIEW" in alab["flags"]) is event


def test_company_event_other_text_is_refused(cli, sample, at: Layout):
    cell = at.cell("Holdings", "Company Event", "ALAB")
    edit(sample, set_cell("Holdings", cell_of(cell), "none that I know of"))
    assert refused(cli, sample) == [("not-yes-no", cell)]
    assert located(cli("run", sample, "--json").file) == [("not-yes-no", cell)]


def test_a_setting_given_twice_once_as_an_uncalculated_formula(cli, sample, at: Layout):
    """Both faults are said, each at its own cell, and nothing breaks on the way."""
    first = at.setting("Band")
    row = at.last_row("Settings", key="Setting") + 1
    name_col = at.letter("Settings", "Setting", key="Setting")
    value_col = at.letter("Settings", "Value", key="Setting")

    def again(wb: Workbook) -> None:
        wb["Settings"][cell_of(first)] = "=0.05"
        wb["Settings"][f"{name_col}{row}"] = "band"
        wb["Settings"][f"{value_col}{row}"] = 0.10

    edit(sample, again)
    assert sorted(refused(cli, sample)) == sorted(
        [("formula-not-calculated", first), ("duplicate-setting", f"Settings!{value_col}{row}")]
    )

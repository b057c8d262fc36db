"""The trade history the workbook keeps: fills typed on the Trades sheet survive the next
run (archived into the Log of the run that proposed them) and feed the wash-sale rule."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.pipeline import process_file
from rebalancer_xl.workbook import schema as S

FILL_DAY = date(2027, 1, 5)
SECOND_RUN = date(2027, 1, 25)


def _rows(ws, key: str) -> tuple[dict[str, int], int]:
    header = {c.value: c.column for c in ws[1] if c.value}
    assert key in header
    return header, ws.max_row


def _set(ws, ticker: str, **values: object) -> None:
    header, last = _rows(ws, "Ticker")
    for r in range(2, last + 1):
        if ws.cell(r, header["Ticker"]).value == ticker:
            for name, value in values.items():
                ws.cell(r, header[name]).value = value
            return
    raise AssertionError(ticker)


@pytest.fixture
def book_after_fill(tmp_path):
    """Run 1 sells all IONQ at a loss; the user then records the fill and updates Holdings."""
    path = tmp_path / "History.xlsx"
    build_workbook(path, sample=True)
    wb = openpyxl.load_workbook(path)
    _set(wb[S.HOLDINGS], "IONQ", **{"Exit Triggers Hit": 2})  # two triggers: sell it all
    wb.save(path)
    first = process_file(path)
    assert first.ok, first.problems
    ionq = first.plan.decision("IONQ")
    assert (ionq.action.value, ionq.shares) == ("SELL", 150)

    wb = openpyxl.load_workbook(path)
    trades = wb[S.TRADES]
    header, last = _rows(trades, "Side")
    for r in range(2, last + 1):
        if trades.cell(r, header["Ticker"]).value == "IONQ":
            trades.cell(r, header["Filled Shares"]).value = 150
            trades.cell(r, header["Fill Price"]).value = 41.0  # below the $45 cost: a loss
            trades.cell(r, header["Date"]).value = datetime(2027, 1, 5)
    # The quarter goes on: IONQ is gone, its score recovers, the cash is in the bank.
    _set(
        wb[S.HOLDINGS], "IONQ", Shares=0, Score=60, **{"Previous Score": 41, "Exit Triggers Hit": 0}
    )
    holdings = wb[S.HOLDINGS]
    cash_header, _ = _rows(holdings, "Ticker")
    for r in range(2, holdings.max_row + 1):
        if holdings.cell(r, cash_header["Ticker"]).value == "CASH":
            cell = holdings.cell(r, cash_header["Shares"])
            cell.value = float(cell.value) + 150 * 41.0
    lots = wb[S.LOTS]
    for r in range(lots.max_row, 1, -1):
        if lots.cell(r, 1).value == "IONQ":
            lots.delete_rows(r)
    settings = wb[S.SETTINGS_SHEET]
    for r in range(2, settings.max_row + 1):
        if settings.cell(r, 1).value == "As-of Date":
            settings.cell(r, 2).value = datetime(2027, 1, 25)
        if settings.cell(r, 1).value == "Force Full Run":
            settings.cell(r, 2).value = "Yes"
    wb.save(path)
    return path


def test_a_recent_loss_sale_holds_back_the_buy_back(book_after_fill):
    second = process_file(book_after_fill)
    assert second.ok, second.problems
    ionq = second.plan.decision("IONQ")
    # IONQ is a 5% target with no shares and an intact thesis: a top-up candidate, but it
    # was sold at a loss 20 days ago. Buying it now would wash that loss.
    assert ionq.action.value == "HOLD"
    assert "sold at a loss on 2027-01-05" in ionq.reason
    assert "waits until 2027-02-05" in ionq.reason
    assert "WASH-SALE" in ionq.flag_text


def test_fills_are_archived_in_the_proposing_runs_log_and_still_count(book_after_fill):
    process_file(book_after_fill)
    wb = openpyxl.load_workbook(book_after_fill)
    log = wb[S.log_sheet_name(date(2026, 12, 31))]
    texts = [c.value for row in log.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("Executed trades") for t in texts)
    # The Trades sheet now holds the second run's proposals only: no fills left there.
    trades = wb[S.TRADES]
    header, last = _rows(trades, "Side")
    assert all(trades.cell(r, header["Filled Shares"]).value is None for r in range(2, last + 1))
    # A re-run on the same date finds the fill in the archive and still holds IONQ back.
    again = process_file(book_after_fill)
    assert again.ok
    assert "sold at a loss on 2027-01-05" in again.plan.decision("IONQ").reason
    assert (
        len([n for n in openpyxl.load_workbook(book_after_fill).sheetnames if n.startswith("Log ")])
        == 2
    )


def test_the_buy_back_goes_ahead_once_the_window_has_passed(book_after_fill):
    later = process_file(book_after_fill, as_of=date(2027, 2, 5))
    assert later.ok
    assert later.plan.decision("IONQ").action.value == "BUY"


def test_a_fill_typed_without_its_price_is_taken_at_the_limit_price(book_after_fill):
    # The user typed Filled Shares and Date but no Fill Price: the order's Limit Price
    # ($42, below the $45 cost) still tells that the sale was at a loss.
    wb = openpyxl.load_workbook(book_after_fill)
    trades = wb[S.TRADES]
    header, last = _rows(trades, "Side")
    for r in range(2, last + 1):
        if trades.cell(r, header["Ticker"]).value == "IONQ":
            assert trades.cell(r, header["Limit Price"]).value < 45
            trades.cell(r, header["Fill Price"]).value = None
    wb.save(book_after_fill)
    second = process_file(book_after_fill)
    assert second.ok, second.problems
    ionq = second.plan.decision("IONQ")
    assert ionq.action.value == "HOLD"
    assert "WASH-SALE" in ionq.flag_text


def test_an_unreadable_fill_is_a_located_warning_not_silence(tmp_path, cli):
    """A fill typed as text still happened: the run says it left it out of the wash-sale
    check, at its cell, and plans anyway (a warning, not an error)."""
    path = tmp_path / "Fill.xlsx"
    build_workbook(path, sample=True)
    first = process_file(path)
    assert first.ok, first.problems
    wb = openpyxl.load_workbook(path)
    trades = wb[S.TRADES]
    header, last = _rows(trades, "Side")
    row = next(r for r in range(2, last + 1) if trades.cell(r, header["Ticker"]).value)
    trades.cell(row, header["Filled Shares"]).value = "all of them"
    trades.cell(row, header["Date"]).value = datetime(2027, 1, 5)
    wb.save(path)
    cell = f"{openpyxl.utils.get_column_letter(header['Filled Shares'])}{row}"
    run = cli("run", path, "--dry-run", "--json", "--as-of", "2027-01-25")
    assert run.code == 0
    found = [(p["sheet"], p["cell"], p["code"], p["severity"]) for p in run.file["problems"]]
    assert (S.TRADES, cell, "not-a-number", "warning") in found
    [p] = [p for p in run.file["problems"] if p["cell"] == cell]
    assert "left out of the wash-sale check" in p["message"]

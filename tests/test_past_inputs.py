"""History rows and fills have one reading (core/past.py): the workbook and the API give
the same located warnings for the same bad rows, a fill given to the API counts for wash
sales as it does in the workbook, and a Trades sheet in another column order still works."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import coordinate_to_tuple

import rebalancer_xl
from rebalancer_xl import HistoryEntry, PastTrade
from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.core.model import Action, Severity
from rebalancer_xl.pipeline import process_file
from rebalancer_xl.workbook import schema as S
from tests.tables import frame

AS_OF = "2027-01-25"


def _header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


@pytest.fixture
def bad_rows_book(tmp_path):
    """The sample after one run, then bad rows typed into History and into the fills."""
    path = tmp_path / "Bad.xlsx"
    build_workbook(path, sample=True)
    assert process_file(path).ok
    wb = openpyxl.load_workbook(path)
    history = wb[S.HISTORY]
    h = _header(history)
    r = history.max_row + 1
    history.cell(r, h[S.HistoryHeader.DATE]).value = "last spring"
    history.cell(r, h[S.HistoryHeader.VALUE]).value = 100000
    history.cell(r + 1, h[S.HistoryHeader.DATE]).value = datetime(2026, 11, 30)
    history.cell(r + 1, h[S.HistoryHeader.VALUE]).value = "a lot"
    trades = wb[S.TRADES]
    t = _header(trades)
    rows = [r for r in range(2, trades.max_row + 1) if trades.cell(r, t["Ticker"]).value]
    assert len(rows) >= 4
    bad = (
        {S.TradesHeader.FILLED_SHARES: "all of them", S.TradesHeader.DATE: datetime(2027, 1, 5)},
        {S.TradesHeader.FILLED_SHARES: 3, S.TradesHeader.DATE: "soon"},
        {S.TradesHeader.SIDE: "HOLD", S.TradesHeader.FILLED_SHARES: 2},
        {S.TradesHeader.FILLED_SHARES: 4, S.TradesHeader.FILL_PRICE: "forty"},
    )
    for row, values in zip(rows, bad, strict=False):
        trades.cell(row, t[S.TradesHeader.DATE]).value = datetime(2027, 1, 5)
        for header, value in values.items():
            trades.cell(row, t[header]).value = value
    wb.save(path)
    return path


def _sheet_faults(problems, sheet: str, path) -> set[tuple[int, str, str, str]]:
    """The workbook's problems on `sheet` as (0-based data row, header, code, severity)."""
    ws = openpyxl.load_workbook(path)[sheet]
    by_column = {col: name for name, col in _header(ws).items()}
    out = set()
    for p in problems:
        if p["sheet"] != sheet:
            continue
        row, col = coordinate_to_tuple(p["cell"])
        out.add((row - 2, by_column[col], p["code"], p["severity"]))
    return out


def test_the_workbook_and_the_api_give_the_same_warnings_for_the_same_bad_rows(bad_rows_book, cli):
    run = cli("run", bad_rows_book, "--dry-run", "--json", "--as-of", AS_OF)
    assert run.code == 0, run.file["problems"]  # warnings: the plan goes on
    problems = run.file["problems"]
    from_book = {
        sheet: _sheet_faults(problems, sheet, bad_rows_book) for sheet in (S.HISTORY, S.TRADES)
    }
    assert {c for _, _, c, _ in from_book[S.HISTORY]} == {"not-a-date", "not-a-number"}
    assert {(h, c) for _, h, c, _ in from_book[S.TRADES]} == {
        (S.TradesHeader.FILLED_SHARES, "not-a-number"),
        (S.TradesHeader.DATE, "not-a-date"),
        (S.TradesHeader.SIDE, "bad-side"),
        (S.TradesHeader.FILL_PRICE, "not-a-number"),
    }

    # The same sheets, read as a person with pandas would, given to the API.
    def sheet(name: str) -> pd.DataFrame:
        return pd.read_excel(bad_rows_book, sheet_name=name, engine="openpyxl")

    table = sheet(S.SETTINGS_SHEET)
    settings = dict(zip(table["Setting"], table["Value"], strict=True))
    settings["As-of Date"] = AS_OF
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rebalancer_xl.rebalance(
            sheet(S.HOLDINGS),
            settings,
            history=sheet(S.HISTORY),
            past_trades=sheet(S.TRADES),
            lots=sheet(S.LOTS),
        )
    found = [
        w.message.problem for w in caught if isinstance(w.message, rebalancer_xl.RebalanceWarning)
    ]
    from_api = {
        name: {
            (p.where.row, p.where.column, p.code, p.severity.value)
            for p in found
            if p.where.sheet == name
        }
        for name in (S.HISTORY, S.TRADES)
    }
    assert from_api == from_book
    assert all(p.severity is Severity.WARNING for p in found if p.where.sheet == S.TRADES)
    messages = {p.where.column: p.message for p in found if p.where.sheet == S.TRADES}
    assert messages.pop(S.TradesHeader.FILL_PRICE).endswith("at its Limit Price")
    assert all(m.endswith("left out of the wash-sale check") for m in messages.values())


LOSS_SALE = """
    Ticker | Shares | Current Price | Target % | Purchase Price | Score
    AAA    | 100    | 100           | 0.45     | 90             | 80
    BBB    | 0      | 40            | 0.45     | 45             | 80
    CASH   | 10000  | 1             | 0.10     |                |
"""
SALE = {"Side": "SELL", "Ticker": "BBB", "Filled Shares": 100, "Fill Price": 41.0}


@pytest.mark.parametrize(
    "fills",
    [
        pytest.param(pd.DataFrame([{**SALE, "Date": "2027-01-05"}]), id="trades-frame"),
        pytest.param([{**SALE, "Date": date(2027, 1, 5)}], id="rows"),
        pytest.param(
            [PastTrade(date(2027, 1, 5), "BBB", Action.SELL, Decimal(100), Decimal(41))],
            id="values",
        ),
        # Typed without its Fill Price, the fill is taken at its Limit Price (a loss too).
        pytest.param(
            pd.DataFrame([{**SALE, "Fill Price": None, "Limit Price": 42.0, "Date": "2027-01-05"}]),
            id="limit-price",
        ),
    ],
)
def test_a_loss_sale_given_to_the_api_holds_back_the_buy_back(fills):
    settings = {"As-of Date": AS_OF, "Force Full Run": "Yes"}
    free = rebalancer_xl.make_plan(frame(LOSS_SALE), settings)
    assert free.decision("BBB").action is Action.BUY  # without the sale: a plain buy
    held = rebalancer_xl.make_plan(frame(LOSS_SALE), settings, past_trades=fills)
    bbb = held.decision("BBB")
    assert bbb.action is Action.HOLD
    assert "WASH-SALE" in bbb.flag_text
    assert "sold at a loss on 2027-01-05" in bbb.reason


def test_history_as_a_frame_plans_as_history_values_do():
    """The crash check reads the History rows given as a frame exactly as the values."""
    rows = [("2026-12-01", 250000, "Check"), ("2026-09-30", 240000, "Full")]
    as_frame = pd.DataFrame(rows, columns=["Date", "Portfolio Value", "Run Type"])
    as_values = [
        HistoryEntry(date(2026, 12, 1), Decimal(250000), True, snapshot=True),
        HistoryEntry(date(2026, 9, 30), Decimal(240000)),
    ]
    settings = {"As-of Date": "2026-12-31"}
    a = rebalancer_xl.make_plan(frame(LOSS_SALE), settings, history=as_frame)
    b = rebalancer_xl.make_plan(frame(LOSS_SALE), settings, history=as_values)
    assert not rebalancer_xl.make_plan(frame(LOSS_SALE), settings).emergency_only
    # The value fell by over 20% within a month: the crash check stops the full run.
    assert a.emergency_only
    assert b.emergency_only
    assert [(d.ticker, d.action, d.rule_id) for d in a.decisions] == [
        (d.ticker, d.action, d.rule_id) for d in b.decisions
    ]


def test_history_or_trades_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="history must be HistoryEntry values"):
        rebalancer_xl.make_plan(frame(LOSS_SALE), {}, history="History.csv")
    with pytest.raises(TypeError, match=r"trades must be PastTrade values.*row 0 is a int"):
        rebalancer_xl.make_plan(frame(LOSS_SALE), {}, past_trades=[5])


def _reverse_columns(ws) -> None:
    grid = [[c.value for c in row] for row in ws.iter_rows()]
    width = max(len(r) for r in grid)
    for r, values in enumerate(grid, start=1):
        values = values + [None] * (width - len(values))
        for c, v in enumerate(reversed(values), start=1):
            ws.cell(r, c).value = v


def sold_ionq_at_a_loss(path, arrange_trades=_reverse_columns) -> None:
    """The sample: run 1 sells all IONQ (two exit triggers); `arrange_trades` then
    rearranges the Trades sheet, and the sale is typed as filled at $41 (below its $45
    cost) on 2027-01-05, the holdings updated as a person would after it."""
    build_workbook(path, sample=True)
    wb = openpyxl.load_workbook(path)
    holdings = wb[S.HOLDINGS]
    h = _header(holdings)
    row_of = {holdings.cell(r, h["Ticker"]).value: r for r in range(2, holdings.max_row + 1)}
    holdings.cell(row_of["IONQ"], h["Exit Triggers Hit"]).value = 2
    wb.save(path)
    assert process_file(path).ok

    wb = openpyxl.load_workbook(path)
    trades = wb[S.TRADES]
    arrange_trades(trades)
    t = _header(trades)
    [row] = [r for r in range(2, trades.max_row + 1) if trades.cell(r, t["Ticker"]).value == "IONQ"]
    trades.cell(row, t[S.TradesHeader.FILLED_SHARES]).value = 150
    trades.cell(row, t[S.TradesHeader.FILL_PRICE]).value = 41.0
    trades.cell(row, t[S.TradesHeader.DATE]).value = datetime(2027, 1, 5)
    holdings = wb[S.HOLDINGS]
    for header, value in (("Shares", 0), ("Exit Triggers Hit", 0), ("Score", 60)):
        holdings.cell(row_of["IONQ"], h[header]).value = value
    cash = holdings.cell(row_of["CASH"], h["Shares"])
    cash.value = float(cash.value) + 150 * 41.0
    lots = wb[S.LOTS]
    for r in range(lots.max_row, 1, -1):
        if lots.cell(r, 1).value == "IONQ":
            lots.delete_rows(r)
    wb.save(path)


def test_a_trades_sheet_in_another_column_order_is_read_and_archived_by_header(tmp_path):
    """Fills are found by header: with the Trades columns in reverse order, a filled loss
    sale still holds back the buy-back, and the Log's archive has the schema's order."""
    path = tmp_path / "Reordered.xlsx"

    def reverse_and_check(ws) -> None:
        _reverse_columns(ws)
        t = _header(ws)
        assert t[S.TradesHeader.SIDE] > t[S.TradesHeader.DATE]  # really reordered

    sold_ionq_at_a_loss(path, reverse_and_check)
    second = process_file(path, as_of=date(2027, 1, 25))
    assert second.ok, second.problems
    decision = second.plan.decision("IONQ")
    assert decision.action is Action.HOLD
    assert "sold at a loss on 2027-01-05" in decision.reason

    log = openpyxl.load_workbook(path)[S.log_sheet_name(date(2026, 12, 31))]
    cells = [[c.value for c in row] for row in log.iter_rows()]
    start = next(i for i, r in enumerate(cells) if r[0] and str(r[0]).startswith("Executed"))
    archived_header = cells[start + 1][: len(S.TRADES_COLUMNS)]
    assert tuple(archived_header) == S.headers(S.TRADES_COLUMNS)
    archived = dict(zip(archived_header, cells[start + 2], strict=False))
    assert archived[S.TradesHeader.TICKER] == "IONQ"
    assert archived[S.TradesHeader.SIDE] == "SELL"
    assert archived[S.TradesHeader.FILLED_SHARES] == 150
    assert archived[S.TradesHeader.FILL_PRICE] == 41.0


RENAMED_SCRIPT = """
import sys
from datetime import date
from pathlib import Path

import openpyxl

import rebalancer_xl
from rebalancer_xl.pipeline import process_file
from tests.test_past_inputs import LOSS_SALE, frame, sold_ionq_at_a_loss

assert rebalancer_xl.__file__.startswith(sys.argv[1]), rebalancer_xl.__file__
book = Path(sys.argv[1]) / "book.xlsx"
sold_ionq_at_a_loss(book, lambda ws: None)
header = [c.value for c in openpyxl.load_workbook(book)["Trades"][1]]
print("trades header", "Units Filled" in header, "Filled Shares" in header)
decision = process_file(book, as_of=date(2027, 1, 25)).plan.decision("IONQ")
print("run", decision.action.value, "sold at a loss" in decision.reason)
sale = {"Side": "SELL", "Ticker": "BBB", "Units Filled": 100, "Fill Price": 41, "Date": "2027-01-05"}
settings = {"As-of Date": "2027-01-25", "Force Full Run": "Yes"}
plan = rebalancer_xl.make_plan(frame(LOSS_SALE), settings, past_trades=[sale])
print("api", plan.decision("BBB").action.value)
"""


def test_renaming_filled_shares_in_one_line_is_followed_by_sheet_reader_and_api(tmp_path):
    """`Filled Shares` renamed in core/past.py alone: the Trades sheet a run writes has
    the new header, a fill typed under it counts for wash sales, and so does one given
    to the API under it."""
    package = Path(rebalancer_xl.__file__).parent
    shutil.copytree(
        package, tmp_path / "rebalancer_xl", ignore=shutil.ignore_patterns("__pycache__")
    )
    past = tmp_path / "rebalancer_xl" / "core" / "past.py"
    text = past.read_text(encoding="utf-8")
    line = '\nFILLED_SHARES = "Filled Shares"\n'
    assert text.count(line) == 1
    past.write_text(text.replace(line, '\nFILLED_SHARES = "Units Filled"\n'), "utf-8")
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n" + RENAMED_SCRIPT
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["trades header True False", "run HOLD True", "api HOLD"]

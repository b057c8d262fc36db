"""A whole quarter on the command line, on real files: run → fills → record → run → check.

The sample is planned on its quarter end (2026-12-31: sell 33 PLTR, buy ALAB, CRWV and
TEM), the fills are typed into Trades as a person would (TEM only partly filled, one
commission), `record` carries them into the workbook, a run the next day proposes
nothing, weekly checks record snapshots until a 30% fall is flagged, and the next
quarter's run measures its returns from the prices recorded.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from icalendar import Calendar

from tests.conftest import AS_OF, CliRun, Layout, edit, located, sha256

D = Decimal
RECORDED = date(2027, 1, 5)
FILLED = date(2027, 1, 4)
#: What the broker gave: (filled shares, fill price, commission). TEM is a partial fill.
FILLS: dict[str, tuple[float, float, float | None]] = {
    "PLTR": (33, 181.50, None),
    "ALAB": (19, 131.80, None),
    "CRWV": (21, 96.20, 1.00),
    "TEM": (40, 55.90, None),
}


def table(path: Path, sheet: str, key: str = "Ticker") -> list[dict[str, Any]]:
    """The rows under the header row holding `key`, as {header: value}; blank rows left out."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if key in row)
    header = [str(h) if h is not None else "" for h in rows[top]]
    out = []
    for row in rows[top + 1 :]:
        if row[header.index(key)] is None:
            continue
        out.append({h: v for h, v in zip(header, row, strict=False) if h})
    return out


def day(v: object) -> date | None:
    return v.date() if isinstance(v, datetime) else v  # type: ignore[return-value]


def type_fills(fills: dict[str, tuple[float, float, float | None]], when: date = FILLED):
    """An `edit` change typing fills into the Trades rows of those tickers."""

    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["Trades"]
        col = {c.value: c.column for c in ws[1]}
        for r in range(2, ws.max_row + 1):
            ticker = ws.cell(r, col["Ticker"]).value
            if ticker in fills and ws.cell(r, col["Applied"]).value is None:
                shares, price, commission = fills[ticker]
                ws.cell(r, col["Filled Shares"]).value = shares
                ws.cell(r, col["Fill Price"]).value = price
                ws.cell(r, col["Date"]).value = when
                if commission is not None:
                    ws.cell(r, col["Commission"]).value = commission

    return change


def holdings(path: Path) -> dict[str, dict[str, Any]]:
    return {r["Ticker"]: r for r in table(path, "Holdings")}


@pytest.fixture
def planned(sample: Path, cli: Callable[..., CliRun]) -> tuple[Path, dict[str, Any]]:
    """The sample after `run` on its quarter end, with the plan's JSON."""
    run = cli("run", sample, "--json")
    assert run.code == 0, run.err
    return sample, run.file


# --- record ------------------------------------------------------------------------------


def test_record_carries_the_fills_into_the_workbook(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    path, _plan = planned
    before = holdings(path)
    lots_before = table(path, "Lots")
    edit(path, type_fills(FILLS))
    rec = cli("record", path, "--as-of", RECORDED, "--json")
    assert rec.code == 0, rec.err
    doc = rec.file
    assert doc["problems"] == []
    assert [(f["ticker"], f["side"], f["shares"], f["left_open"]) for f in doc["fills"]] == [
        ("PLTR", "SELL", 33, 0),
        ("ALAB", "BUY", 19, 0),
        ("CRWV", "BUY", 21, 0),
        ("TEM", "BUY", 40, 23),
    ]
    after = holdings(path)
    # Shares move by the filled shares; cash by the filled amounts less the commission.
    assert after["PLTR"]["Shares"] == before["PLTR"]["Shares"] - 33
    assert after["ALAB"]["Shares"] == before["ALAB"]["Shares"] + 19
    assert after["TEM"]["Shares"] == before["TEM"]["Shares"] + 40
    cash = D(str(before["CASH"]["Shares"])) + D("33") * D("181.50")
    cash -= D("19") * D("131.80") + D("21") * D("96.20") + D("1.00") + D("40") * D("55.90")
    assert D(str(after["CASH"]["Shares"])) == cash
    assert doc["cash_change"] == pytest.approx(float(cash - D(str(before["CASH"]["Shares"]))))

    # Lots: the sale took the lot the plan named; each buy added a lot at its fill.
    [named] = [t for t in table(path, "Trades", key="Side") if t["Ticker"] == "PLTR"]
    lots = table(path, "Lots")
    pltr = {(day(lot["Acquired"]), lot["Shares"]) for lot in lots if lot["Ticker"] == "PLTR"}
    old = {(day(lot["Acquired"]), lot["Shares"]) for lot in lots_before if lot["Ticker"] == "PLTR"}
    assert pltr == {(d, n - 33) if d == date(2025, 3, 14) else (d, n) for d, n in old}
    assert named["Lots Used"].startswith("33 sh of 2025-03-14")
    new = [lot for lot in lots if day(lot["Acquired"]) == FILLED]
    assert {(lot["Ticker"], lot["Shares"], lot["Cost per Share"]) for lot in new} == {
        ("ALAB", 19, 131.8),
        ("CRWV", 21, 96.2),
        ("TEM", 40, 55.9),
    }
    # Purchase Price is the lots' average cost.
    for ticker in ("PLTR", "ALAB", "TEM"):
        mine = [lot for lot in lots if lot["Ticker"] == ticker]
        cost = sum(lot["Shares"] * lot["Cost per Share"] for lot in mine)
        assert after[ticker]["Purchase Price"] == pytest.approx(
            cost / sum(lot["Shares"] for lot in mine), abs=1e-4
        )

    # The rest of TEM's order stays open; every applied row says when it was applied.
    trades = table(path, "Trades", key="Side")
    applied = [t for t in trades if t["Applied"] is not None]
    assert {t["Ticker"] for t in applied} == set(FILLS)
    assert all(day(t["Applied"]) == RECORDED for t in applied)
    [rest] = [t for t in trades if t["Applied"] is None]
    assert (rest["Side"], rest["Ticker"], rest["Shares"], rest["Filled Shares"]) == (
        "BUY",
        "TEM",
        23,
        None,
    )

    # The plan's date and prices become next quarter's starting point.
    settings = {r["Setting"]: r["Value"] for r in table(path, "Settings", key="Setting")}
    assert day(settings["Last Rebalance Date"]) == AS_OF
    perf = {r["Ticker"]: r["Last Rebalance Price"] for r in table(path, "Performance")}
    assert {t: perf[t] for t in before} == {t: r["Current Price"] for t, r in before.items()}
    [noted] = [r for r in table(path, "History", key="Date") if r["Run Type"] == "Record"]
    assert (day(noted["Date"]), noted["Trades"]) == (RECORDED, 4)
    done = {r["Key"]: r for r in table(path, "Checklist", key="Key")}
    assert done["analysis.allocations"]["Done"] == "Yes"
    assert done["documentation.holdings"]["Done"] == "Yes"
    assert "record" in done["documentation.holdings"]["Note"]


def test_recording_twice_changes_nothing_the_second_time(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    path, _ = planned
    edit(path, type_fills(FILLS))
    assert cli("record", path, "--as-of", RECORDED).code == 0
    first = sha256(path)
    again = cli("record", path, "--as-of", date(2027, 1, 6))
    assert again.code == 0
    assert "no new fills" in again.out
    assert sha256(path) == first  # byte for byte


def test_the_rest_of_a_partial_fill_is_recorded_when_it_fills(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    path, _ = planned
    edit(path, type_fills(FILLS))
    assert cli("record", path, "--as-of", RECORDED).code == 0
    tem = holdings(path)["TEM"]["Shares"]
    edit(path, type_fills({"TEM": (23, 55.5, None)}, date(2027, 1, 6)))
    rec = cli("record", path, "--as-of", date(2027, 1, 7), "--json")
    assert rec.code == 0, rec.err
    assert [(f["ticker"], f["shares"]) for f in rec.file["fills"]] == [("TEM", 23)]
    assert rec.file["rolled_forward"] is False  # the plan's date and prices moved once
    assert holdings(path)["TEM"]["Shares"] == tem + 23
    assert all(t["Applied"] is not None for t in table(path, "Trades", key="Side"))


def test_bad_fills_are_located_all_at_once_and_the_file_is_untouched(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    path, _ = planned
    edit(path, type_fills({**FILLS, "ALAB": (25, 131.8, None)}))  # 25 > the 19 ordered

    def more(wb: openpyxl.Workbook) -> None:
        ws = wb["Trades"]
        col = {c.value: c.column for c in ws[1]}
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["Ticker"]).value == "CRWV":
                ws.cell(r, col["Fill Price"]).value = "about 96"
        row = ws.max_row + 1  # a fill for a ticker the plan never proposed
        for header, value in (("Side", "BUY"), ("Ticker", "NVDA"), ("Shares", 5)):
            ws.cell(row, col[header]).value = value
        for header, value in (("Filled Shares", 5), ("Fill Price", 140.0), ("Date", FILLED)):
            ws.cell(row, col[header]).value = value

    edit(path, more)
    layout = Layout(path)
    untouched = sha256(path)
    rec = cli("record", path, "--as-of", RECORDED, "--json")
    assert rec.code == 1
    assert set(located(rec.file)) == {
        ("more-than-ordered", layout.cell("Trades", "Filled Shares", "ALAB")),
        ("not-a-number", layout.cell("Trades", "Fill Price", "CRWV")),
        ("not-proposed", layout.cell("Trades", "Ticker", "NVDA")),
    }
    assert sha256(path) == untouched
    # the catalogue's words for fills, pinned as the recorder said them before it had them
    said = {p["code"]: p["message"] for p in rec.file["problems"]}
    assert said["more-than-ordered"] == "Filled Shares 25 is more than the 19 shares ordered"
    assert said["not-proposed"] == (
        "a fill for NVDA, which the plan did not propose (Holdings has no such position)"
    )
    human = cli("record", path, "--as-of", RECORDED)
    assert "Trades!" in human.err
    assert "Traceback" not in human.err + human.out


def test_a_fill_on_the_wrong_side_and_a_sale_beyond_the_holding_are_problems(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    path, _ = planned

    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["Trades"]
        col = {c.value: c.column for c in ws[1]}
        row = ws.max_row + 1  # ALAB is a buy in the plan, not a sale
        for header, value in (("Side", "SELL"), ("Ticker", "ALAB"), ("Shares", 5)):
            ws.cell(row, col[header]).value = value
        for header, value in (("Filled Shares", 5), ("Fill Price", 130.0), ("Date", FILLED)):
            ws.cell(row, col[header]).value = value

    edit(path, change)
    rec = cli("record", path, "--as-of", RECORDED, "--json")
    assert rec.code == 1
    assert [p["code"] for p in rec.file["problems"]] == ["not-proposed"]
    assert rec.file["problems"][0]["message"] == (
        "a SELL fill for ALAB, but the plan proposed a BUY of ALAB"
    )
    assert rec.file["problems"][0]["cell"].startswith(Layout(path).letter("Trades", "Side", "Side"))


def test_a_partial_sale_takes_lots_by_the_lot_method(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    """Not the whole order: Lots Used (which named the 2025 lot) no longer says which lots,
    the Lot Method does: HIFO takes the costlier PLTR lot (2026-05-20 at $117.50)."""
    path, _ = planned
    method = Layout(path).setting("Lot Method").split("!")[1]
    edit(path, lambda wb: wb["Settings"].__setitem__(method, "HIFO"))
    edit(path, type_fills({"PLTR": (10, 181.5, None)}))
    assert cli("record", path, "--as-of", RECORDED).code == 0
    pltr = {day(r["Acquired"]): r["Shares"] for r in table(path, "Lots") if r["Ticker"] == "PLTR"}
    assert pltr == {date(2025, 3, 14): 150, date(2026, 5, 20): 90}
    rest = [t for t in table(path, "Trades", key="Side") if t["Applied"] is None]
    assert ("SELL", "PLTR", 23) in {(t["Side"], t["Ticker"], t["Shares"]) for t in rest}


# --- the quarter, end to end -----------------------------------------------------------------


def test_a_whole_quarter_on_the_command_line(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    path, plan = planned
    post = {a["ticker"]: a["post_trade_pct"] for a in plan["actions"]}
    edit(path, type_fills(FILLS))
    assert cli("record", path, "--as-of", RECORDED).code == 0

    # The next day: emergency-only, nothing proposed for the filled orders, and the
    # weights are the plan's Post-Trade % up to what the fills' prices changed.
    nxt = cli("run", path, "--as-of", date(2027, 1, 6), "--json").file
    assert nxt["status"] == "ok"
    assert nxt["emergency_only"] is True
    assert nxt["trades"] == []
    value = plan["portfolio_value"]
    slip = sum(abs(p - next(t["price"] for t in plan["trades"] if t["ticker"] == k)) * n
               for k, (n, p, _) in FILLS.items()) + 1.0  # fmt: skip
    for a in nxt["actions"]:
        if a["ticker"] not in ("TEM", "CASH"):  # TEM was only partly filled
            assert abs(a["post_trade_pct"] - post[a["ticker"]]) <= slip / value
    assert abs(sum(a["post_trade_pct"] for a in nxt["actions"]) - 1) < 1e-9
    # The recorded fills went into the plan's own Log, for the wash-sale checks.
    log = [
        str(v)
        for row in openpyxl.load_workbook(path)[f"Log {AS_OF}"].iter_rows(values_only=True)
        for v in row
    ]
    assert any(v.startswith("Executed trades") for v in log)

    # Weekly checks for a month: each adds one snapshot, nothing needs action.
    weeks = [date(2027, 1, 13), date(2027, 1, 20), date(2027, 1, 27), date(2027, 2, 3)]
    for when in weeks:
        check = cli("check", path, "--as-of", when, "--json")
        assert check.code == 0, check.out
        assert check.file["needs_action"] == []
    history = table(path, "History", key="Date")
    assert [day(r["Date"]) for r in history if r["Run Type"] == "Check"] == weeks
    assert "crash check:" in " ".join(check.file["notes"])  # a month-old value to compare

    # Prices fall 30%: the next check flags the crash and exits 3.
    def crash(wb: openpyxl.Workbook) -> None:
        ws = wb["Holdings"]
        col = {c.value: c.column for c in ws[1]}
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["Ticker"]).value not in (None, "CASH"):
                ws.cell(r, col["Current Price"]).value *= 0.65

    edit(path, crash)
    before = list(table(path, "Trades", key="Side"))
    check = cli("check", path, "--as-of", date(2027, 2, 12), "--json")
    assert check.code == 3
    assert check.file["crash"] is True
    assert any("down 30% or more" in line for line in check.file["needs_action"])
    assert table(path, "Trades", key="Side") == before  # a check writes no Trades
    human = cli("check", path, "--as-of", date(2027, 2, 12))
    assert human.code == 3
    assert "needs action" in human.out

    # The next quarter's run measures returns from the prices recorded at 2026-12-31.
    q2 = cli("run", path, "--as-of", date(2027, 3, 31), "--json").file
    assert q2["status"] == "ok"
    assert q2["emergency_only"] is False
    returns = {r["ticker"]: r["quarterly_return"] for r in q2["metrics"]["returns"]}
    for ticker in ("PLTR", "ALAB", "ARM"):
        assert returns[ticker] == pytest.approx(-0.35)


def test_check_on_an_urgent_cap_needs_action_and_writes_only_history(
    sample: Path, cli: Callable[..., CliRun], at: Layout
) -> None:
    price = at.cell("Holdings", "Current Price", "PLTR").split("!")[1]
    edit(sample, lambda wb: wb["Holdings"].__setitem__(price, 600))  # PLTR at 2/3 of the whole
    trades, log_sheets = (
        table(sample, "Trades", key="Side"),
        openpyxl.load_workbook(sample).sheetnames,
    )
    check = cli("check", sample, "--as-of", date(2027, 1, 20), "--json")
    assert check.code == 3
    [line] = [x for x in check.file["needs_action"] if x.startswith("PLTR")]
    assert "TRIM" in line
    assert "50%" in line
    assert table(sample, "Trades", key="Side") == trades
    assert openpyxl.load_workbook(sample).sheetnames == log_sheets
    assert [r["Run Type"] for r in table(sample, "History", key="Date")][-1] == "Check"


def test_check_of_a_broken_workbook_fails_with_located_problems(
    sample: Path, cli: Callable[..., CliRun], at: Layout
) -> None:
    ref = at.cell("Holdings", "Shares", "ALAB")
    edit(sample, lambda wb: wb["Holdings"].__setitem__(ref.split("!")[1], "ten"))
    untouched = sha256(sample)
    check = cli("check", sample, "--as-of", date(2027, 1, 20), "--json")
    assert check.code == 1
    assert ("not-a-number", ref) in located(check.file)
    assert sha256(sample) == untouched


# --- orders -------------------------------------------------------------------------------


def test_orders_come_out_sells_first_as_csv(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    path, plan = planned
    out = tmp_path / "orders.csv"
    assert cli("orders", path, "-o", out).code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = [(t["side"], t["ticker"], t["shares"], t["price"]) for t in plan["trades"]]
    assert [
        (r["Side"], r["Ticker"], float(r["Quantity"]), float(r["Limit Price"])) for r in rows
    ] == expected
    assert rows[0]["Side"] == "SELL"
    assert {r["Order Type"] for r in rows} == {"LMT"}
    assert {r["Time in Force"] for r in rows} == {"DAY"}

    ibkr = tmp_path / "basket.csv"
    assert (
        cli(
            "orders", path, "-o", ibkr, "--format", "ibkr", "--tif", "GTC", "--account", "U123"
        ).code
        == 0
    )
    basket = list(csv.DictReader(io.StringIO(ibkr.read_text())))
    assert list(basket[0]) == [
        "Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency",
        "TimeInForce", "OrderType", "LmtPrice", "Account", "BasketTag",
    ]  # fmt: skip
    assert [(r["Action"], r["Symbol"], float(r["Quantity"])) for r in basket] == [
        (s, t, n) for s, t, n, _ in expected
    ]
    assert {(r["SecType"], r["OrderType"], r["TimeInForce"], r["Account"]) for r in basket} == {
        ("STK", "LMT", "GTC", "U123")
    }

    # Filled and applied orders are not open any more.
    edit(path, type_fills(FILLS))
    assert cli("record", path, "--as-of", RECORDED).code == 0
    assert cli("orders", path, "-o", out).code == 0
    assert [(r["Ticker"], r["Quantity"]) for r in csv.DictReader(io.StringIO(out.read_text()))] == [
        ("TEM", "23")
    ]


def test_a_limit_offset_sets_limits_away_from_the_price(
    sample: Path, cli: Callable[..., CliRun], at: Layout, tmp_path: Path
) -> None:
    ref = at.setting("Limit Offset").split("!")[1]
    edit(sample, lambda wb: wb["Settings"].__setitem__(ref, 0.01))
    run = cli("run", sample, "--json").file
    trades = table(sample, "Trades", key="Side")
    for t in trades:
        price = next(x["price"] for x in run["trades"] if x["ticker"] == t["Ticker"])
        factor = 1.01 if t["Side"] == "SELL" else 0.99
        assert t["Limit Price"] == pytest.approx(round(price * factor, 2))
    out = tmp_path / "orders.csv"
    assert cli("orders", sample, "-o", out).code == 0
    limits = {
        r["Ticker"]: float(r["Limit Price"]) for r in csv.DictReader(io.StringIO(out.read_text()))
    }
    assert limits == {t["Ticker"]: t["Limit Price"] for t in trades}


# --- staged buys ------------------------------------------------------------------------------


def _new_pick(path: Path, at: Layout, weeks: int) -> None:
    """Fund a new position: NVDA at 10% of the portfolio, taken from IONQ and cash."""

    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["Holdings"]
        col = {c.value: c.column for c in ws[1]}
        row = at.row_of("Holdings", "IONQ")
        ws.cell(row, col["Target %"]).value = 0.0
        ws.cell(row, col["Exit Triggers Hit"]).value = 2
        new = at.last_row("Holdings") + 1
        for header, value in (
            ("Ticker", "NVDA"), ("Purchase Price", None), ("Current Price", 140),
            ("Shares", 0), ("Target %", 0.05), ("Score", 80), ("Previous Score", 80),
            ("Exit Triggers Hit", 0), ("Company Event", "No"), ("Lock", "No"),
        ):  # fmt: skip
            ws.cell(new, col[header]).value = value
        settings = wb["Settings"]
        settings[at.setting("Stage New Positions Over").split("!")[1]] = weeks

    edit(path, change)


def test_a_new_position_is_bought_in_weekly_tranches(
    sample: Path, cli: Callable[..., CliRun], at: Layout, tmp_path: Path
) -> None:
    _new_pick(sample, at, 4)
    run = cli("run", sample, "--json")
    assert run.code == 0, run.err
    [buy] = [t for t in run.file["trades"] if t["ticker"] == "NVDA"]
    tranches = [t for t in table(sample, "Trades", key="Side") if t["Ticker"] == "NVDA"]
    assert len(tranches) == 4
    assert [day(t["Planned Date"]) for t in tranches] == [
        date(2026, 12, 31), date(2027, 1, 7), date(2027, 1, 14), date(2027, 1, 21),
    ]  # fmt: skip
    assert sum(t["Shares"] for t in tranches) == buy["shares"]
    assert sum(t["Est. Amount"] for t in tranches) == pytest.approx(buy["amount"], abs=0.005)
    assert max(t["Shares"] for t in tranches) - min(t["Shares"] for t in tranches) <= 1
    assert "tranche 1 of 4" in tranches[0]["Rule"]
    # The plan's Post-Trade % is that of all tranches.
    nvda = next(a for a in run.file["actions"] if a["ticker"] == "NVDA")
    assert nvda["post_trade_pct"] == pytest.approx(
        buy["amount"] / run.file["portfolio_value"], abs=1e-9
    )

    # Only the first tranche is due on the run date; record applies tranches as they fill.
    out = tmp_path / "orders.csv"
    done = cli("orders", sample, "-o", out)
    nvda_now = [r for r in csv.DictReader(io.StringIO(out.read_text())) if r["Ticker"] == "NVDA"]
    assert len(nvda_now) == 1
    assert "not yet due" in done.out
    first = tranches[0]["Shares"]
    edit(sample, type_fills({"NVDA": (first, 139.0, None)}))

    def only_first(wb: openpyxl.Workbook) -> None:  # type_fills filled every NVDA row
        ws = wb["Trades"]
        col = {c.value: c.column for c in ws[1]}
        seen = 0
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["Ticker"]).value == "NVDA":
                seen += 1
                if seen > 1:
                    for h in ("Filled Shares", "Fill Price", "Date"):
                        ws.cell(r, col[h]).value = None

    edit(sample, only_first)
    rec = cli("record", sample, "--as-of", RECORDED, "--json")
    assert rec.code == 0, rec.err
    assert [(f["ticker"], f["shares"]) for f in rec.file["fills"]] == [("NVDA", first)]
    assert holdings(sample)["NVDA"]["Shares"] == first
    assert [(r["Ticker"], r["Shares"]) for r in table(sample, "Lots") if r["Ticker"] == "NVDA"] == [
        ("NVDA", first)
    ]


# --- calendar -------------------------------------------------------------------------------


def test_the_calendar_holds_the_next_rebalance_the_tranches_and_weekly_checks(
    sample: Path, cli: Callable[..., CliRun], at: Layout, tmp_path: Path
) -> None:
    _new_pick(sample, at, 3)
    assert cli("run", sample).code == 0
    ics = tmp_path / "rebalancing.ics"
    made = cli("calendar", sample, "-o", ics)
    assert made.code == 0, made.err
    cal = Calendar.from_ical(ics.read_bytes())
    events = [(e.decoded("dtstart"), str(e.get("summary"))) for e in cal.walk("VEVENT")]
    rebalance = [d for d, s in events if s.startswith("Quarterly rebalance")]
    assert rebalance == [date(2027, 3, 31)]
    tranches = sorted(d for d, s in events if "NVDA" in s)
    assert tranches == [date(2027, 1, 7), date(2027, 1, 14)]
    checks = sorted(d for d, s in events if s.startswith("Portfolio check"))
    assert checks[0] == date(2027, 1, 7)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(checks))
    assert checks[-1] < date(2027, 3, 31) <= checks[-1] + (checks[1] - checks[0])
    uids = [str(e.get("uid")) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    steps = {r["Key"]: r for r in table(sample, "Checklist", key="Key")}
    assert steps["documentation.reminder"]["Done"] == "Yes"
    assert "calendar" in steps["documentation.reminder"]["Note"]


# --- the Dashboard ---------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_dashboard_shows_the_next_rebalance_date(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    """Recalculated by LibreOffice after a run and a recording: the run's next date (the
    Record row of History has none, and does not move it)."""
    from tests.conftest import convert_many
    from tests.lo import read_values

    path, plan = planned
    edit(path, type_fills(FILLS))
    assert cli("record", path, "--as-of", RECORDED).code == 0
    calculated = convert_many([path], tmp_path / "lo")[path.resolve()]
    board = {row[0]: row[1] for row in read_values(calculated, "Dashboard") if row and row[0]}
    shown = board["Next rebalance"]
    shown = shown.date() if isinstance(shown, datetime) else shown
    assert shown == date.fromisoformat(plan["next_rebalance_date"])


def test_a_company_event_between_quarters_needs_a_review(
    sample: Path, cli: Callable[..., CliRun], at: Layout
) -> None:
    ref = at.cell("Holdings", "Company Event", "ARM").split("!")[1]
    edit(sample, lambda wb: wb["Holdings"].__setitem__(ref, "Yes"))
    check = cli("check", sample, "--as-of", date(2027, 1, 20), "--json")
    assert check.code == 3
    assert [x.split(":")[0] for x in check.file["needs_action"]] == ["ARM"]
    assert "REVIEW" in check.file["needs_action"][0]


def test_a_trades_sheet_from_before_record_gets_an_applied_column(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun]
) -> None:
    """An older workbook's Trades sheet stops at Date: record adds Applied after it."""
    path, _ = planned

    def old_layout(wb: openpyxl.Workbook) -> None:
        ws = wb["Trades"]
        col = {c.value: c.column for c in ws[1]}
        ws.delete_cols(col["Commission"], 3)  # Commission, Planned Date, Applied

    edit(path, old_layout)
    wb = openpyxl.load_workbook(path)
    ws = wb["Trades"]
    col = {c.value: c.column for c in ws[1]}
    assert "Applied" not in col
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, col["Ticker"]).value == "PLTR":
            ws.cell(r, col["Filled Shares"]).value = 33
            ws.cell(r, col["Fill Price"]).value = 181.5
            ws.cell(r, col["Date"]).value = FILLED
    wb.save(path)
    assert cli("record", path, "--as-of", RECORDED).code == 0
    trades = table(path, "Trades", key="Side")
    assert [day(t["Applied"]) for t in trades if t["Ticker"] == "PLTR"] == [RECORDED]
    once = sha256(path)
    assert cli("record", path, "--as-of", RECORDED).code == 0
    assert sha256(path) == once


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("Stage New Positions Over", 0, "out-of-range"),
        ("Stage New Positions Over", 2.5, "out-of-range"),
        ("Limit Offset", "lots", "not-a-number"),
    ],
)
def test_bad_quarter_settings_are_located(
    sample: Path, cli: Callable[..., CliRun], at: Layout, setting: str, value: object, code: str
) -> None:
    ref = at.setting(setting)
    edit(sample, lambda wb: wb["Settings"].__setitem__(ref.split("!")[1], value))
    run = cli("run", sample, "--json")
    assert run.code == 1
    assert (code, ref) in located(run.file)


@pytest.mark.parametrize("command", ["orders", "calendar"])
def test_an_output_that_cannot_be_written_is_a_message_not_a_traceback(
    planned: tuple[Path, dict[str, Any]], cli: Callable[..., CliRun], tmp_path: Path, command: str
) -> None:
    path, _ = planned
    before = sha256(path)
    folder = tmp_path / "a folder"
    folder.mkdir()
    done = cli(command, path, "-o", folder)  # a folder cannot be replaced by a file
    assert done.code == 1
    assert "cannot write" in done.err
    assert "Traceback" not in done.err
    assert sha256(path) == before  # no Checklist tick for a calendar that was not written


@pytest.mark.parametrize("command", ["record", "check", "orders", "calendar"])
def test_each_quarter_command_has_help(cli: Callable[..., CliRun], command: str) -> None:
    done = cli(command, "--help")
    assert done.code == 0
    assert done.out.startswith(f"usage: rebalancer-xl {command}")
    assert "%%" not in done.out

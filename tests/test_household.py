"""Households (SPEC §9): several accounts in one workbook. The household decides, the
accounts execute. SPEC §9's worked rows through the API and through the command on a
workbook (the button path is in test_xl.py), the problems a household can have, wash
sales across accounts, and properties over random households."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rebalancer_xl
from rebalancer_xl.cli import main as cli_main
from rebalancer_xl.core.engine import plan as plan_one
from rebalancer_xl.core.household import plan_household
from rebalancer_xl.core.household.accounts import NamedRow, parse_accounts, resolve_accounts
from rebalancer_xl.core.model import (
    CASH,
    Account,
    AccountType,
    Action,
    Flag,
    Holding,
    InputError,
    Lot,
    PastTrade,
    Plan,
    Where,
    cents,
)
from rebalancer_xl.core.settings import Settings
from rebalancer_xl.workbook import schema as S
from tests.household_books import (
    AS_OF,
    MONEY_IS_HERE,
    RETIREMENT_FIRST,
    RETIREMENT_FIRST_LOTS,
    Row,
    build_household,
)

D = Decimal
TYPES = {"Taxable": "Taxable", "IRA": "Retirement"}
OPTIONS = {"As-of Date": "2026-12-31", "Whole Shares": "No"}


def frame(rows: tuple[Row, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Account": a,
                "Ticker": t,
                "Shares": n,
                "Current Price": p,
                "Target %": tgt,
                "Score": s,
            }
            for a, t, n, p, tgt, s in rows
        ]
    )


def lots_of(rows: tuple[tuple[str, str, date, float, float], ...]) -> list[Lot]:
    return [Lot(t, d, D(n), D(c), account=a) for a, t, d, n, c in rows]


def trades_of(plan: Plan) -> list[tuple[str, str, str, Decimal]]:
    return [(t.account, t.side, t.ticker, t.amount) for t in plan.trades]


# --- SPEC §9's worked rows, through the API -------------------------------------------------


def test_retirement_first_through_the_api() -> None:
    plan = rebalancer_xl.make_plan(
        frame(RETIREMENT_FIRST),
        OPTIONS,
        accounts=TYPES,
        lots=lots_of(RETIREMENT_FIRST_LOTS),
    )
    assert trades_of(plan) == [
        ("IRA", "SELL", "PLTR", D("10000.00")),
        ("IRA", "BUY", "ALAB", D("2500.00")),
        ("IRA", "BUY", "ARM", D("7500.00")),
    ]
    assert plan.trades[0].shares == 100
    assert plan.trades[0].rule_id.value == "cap"  # household PLTR 45% > the 40% cap
    taxable = [d for d in plan.decisions if d.account == "Taxable"]
    assert [(d.ticker, d.action) for d in taxable] == [("PLTR", Action.HOLD)]
    assert "placed in IRA" in taxable[0].reason
    assert plan.tax.short_term_gain == plan.tax.long_term_gain == 0
    assert plan.tax.estimated_tax == 0
    assert {c.account.name: c.cash_after for c in plan.accounts} == {"Taxable": 0, "IRA": 0}


def test_buy_where_the_money_is_through_the_api() -> None:
    out = rebalancer_xl.rebalance(frame(MONEY_IS_HERE), OPTIONS, accounts=TYPES)
    trading = out[out["Action"] != "HOLD"]
    assert trading[["Account", "Ticker", "Action", "Amount"]].values.tolist() == [
        ["Taxable", "IONQ", "BUY", 20000.0]
    ]
    assert trading.index.tolist() == [len(MONEY_IS_HERE)]  # a new Taxable row, appended
    assert out.loc[len(MONEY_IS_HERE), "Shares"] == 0


def test_an_account_column_alone_makes_accounts_of_settings_type() -> None:
    """Without `accounts`, every named account is Settings' Account Type (Taxable here):
    the PLTR trim then goes to the account whose lots cost the least tax."""
    plan = rebalancer_xl.make_plan(
        frame(RETIREMENT_FIRST), OPTIONS, lots=lots_of(RETIREMENT_FIRST_LOTS)
    )
    assert [c.account.type for c in plan.accounts] == [AccountType.TAXABLE] * 2
    sells = [(t.account, t.ticker) for t in plan.trades if t.action.is_sale]
    # IRA holds no lots: its sale is not estimated, so it counts as no tax and goes first.
    assert sells == [("IRA", "PLTR")]


# --- SPEC §9's worked rows, through the command on a workbook ------------------------------------


def run_json(*args: object) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main([*map(str, args), "--json"])
    doc = json.loads(out.getvalue())["files"][0]
    doc["exit"] = code
    return doc


def test_retirement_first_through_the_command(tmp_path: Path) -> None:
    book = build_household(
        tmp_path / "h.xlsx",
        RETIREMENT_FIRST,
        lots=RETIREMENT_FIRST_LOTS,
    )
    doc = run_json("run", book)
    assert doc["exit"] == 0, doc["problems"]
    assert [(t["account"], t["side"], t["ticker"], t["amount"]) for t in doc["trades"]] == [
        ("IRA", "SELL", "PLTR", 10000.0),
        ("IRA", "BUY", "ALAB", 2500.0),
        ("IRA", "BUY", "ARM", 7500.0),
    ]
    assert all("account" in a for a in doc["actions"])
    assert doc["tax"]["long_term_gain"] == 0
    assert [(a["account"], a["cash_after"]) for a in doc["accounts"]] == [
        ("Taxable", 0.0),
        ("IRA", 0.0),
    ]
    wb = openpyxl.load_workbook(book)
    ws = wb[S.HOLDINGS]
    cols = {c.value: c.column for c in ws[1]}
    rows = [
        (
            ws.cell(r, cols["Account"]).value,
            ws.cell(r, cols["Ticker"]).value,
            ws.cell(r, cols["Action"]).value,
        )
        for r in range(2, 6)
    ]
    assert rows == [
        ("Taxable", "PLTR", "HOLD"),
        ("IRA", "PLTR", "TRIM"),
        ("IRA", "ALAB", "ADD"),
        ("IRA", "ARM", "ADD"),
    ]
    trades = list(wb[S.TRADES].iter_rows(values_only=True))
    header = trades[0]
    assert header[-1] == "Account"
    assert [(r[0], r[1], r[-1]) for r in trades[1:4]] == [
        ("SELL", "PLTR", "IRA"),
        ("BUY", "ALAB", "IRA"),
        ("BUY", "ARM", "IRA"),
    ]
    log = [[v for v in r if v is not None] for r in wb[f"Log {AS_OF}"].iter_rows(values_only=True)]
    assert ["Trades in IRA (Retirement)"] in log
    assert ["No trades in Taxable this run."] in log
    assert ["Cash in IRA: after trades", 0] in log


def test_buy_where_the_money_is_through_the_command(tmp_path: Path) -> None:
    book = build_household(tmp_path / "h.xlsx", MONEY_IS_HERE)
    doc = run_json("run", book)
    assert doc["exit"] == 0, doc["problems"]
    assert [(t["account"], t["side"], t["ticker"], t["amount"]) for t in doc["trades"]] == [
        ("Taxable", "BUY", "IONQ", 20000.0)
    ]
    ws = openpyxl.load_workbook(book)[S.HOLDINGS]
    cols = {c.value: c.column for c in ws[1]}
    new = 2 + len(MONEY_IS_HERE)  # the row the buy opened in the Taxable account
    assert (
        ws.cell(new, cols["Ticker"]).value,
        ws.cell(new, cols["Account"]).value,
        ws.cell(new, cols["Shares"]).value,
        ws.cell(new, cols["Action"]).value,
    ) == ("IONQ", "Taxable", 0, "BUY")
    assert str(ws.cell(new, cols["Current Value"]).value).startswith("=")  # formulas too
    assert ws.tables[S.HOLDINGS_TABLE].ref.endswith(str(new))  # the table took the row
    again = run_json("run", book, "--dry-run")  # the new row reads back as a household row
    assert again["exit"] == 0, again["problems"]


def test_the_household_sample_runs_and_places_per_account(tmp_path: Path) -> None:
    book = tmp_path / "H.xlsx"
    assert cli_main(["new", str(book), "--sample", "--household"]) == 0
    doc = run_json("run", book, "--dry-run")
    assert doc["exit"] == 0, doc["problems"]
    assert {t["account"] for t in doc["trades"]} == {"Brokerage", "IRA"}
    # The PLTR trim goes to the IRA: no tax on it.
    assert [(t["account"], t["ticker"]) for t in doc["trades"] if t["side"] == "SELL"] == [
        ("IRA", "PLTR")
    ]
    for a in doc["accounts"]:
        assert a["cash_after"] >= 0


def test_a_household_s_orders_say_which_account_each_goes_to(tmp_path: Path) -> None:
    """The run writes Trades with an Account column; `orders` carries it to the broker's
    file, so each order is placed in the account the plan chose."""
    import csv

    book = tmp_path / "H.xlsx"
    assert cli_main(["new", str(book), "--sample", "--household"]) == 0
    doc = run_json("run", book)
    assert doc["exit"] == 0, doc["problems"]
    out = tmp_path / "orders.csv"
    assert cli_main(["orders", str(book), "-o", str(out)]) == 0
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    planned = sorted((t["account"], t["side"], t["ticker"]) for t in doc["trades"])
    assert sorted((r["Account"], r["Side"], r["Ticker"]) for r in rows) == planned
    assert {r["Account"] for r in rows} == {"Brokerage", "IRA"}


# --- what a household can get wrong --------------------------------------------------------


def located(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["code"], f"{p['sheet']}!{p['cell']}") for p in doc["problems"]}


def test_household_problems_are_located_all_in_one_pass(tmp_path: Path) -> None:
    rows: tuple[Row, ...] = (
        ("Taxable", "PLTR", 200, 100, 0.30, 80),
        ("IRA", "PLTR", 250, 100, 0.35, 80),  # row 3: disagrees with row 2
        ("Roth", "ALAB", 300, 100, 0.35, 70),  # row 4: no such account
        (None, "ARM", 250, 100, 0.35, 60),  # row 5: shares, but no account
        ("IRA", "ALAB", 1, 100, None, 70),
        ("IRA", "ALAB", 1, 100, None, 70),  # row 7: the same account twice
    )
    book = build_household(tmp_path / "bad.xlsx", rows)
    before = book.read_bytes()
    doc = run_json("run", book)
    assert doc["exit"] == 1
    assert located(doc) >= {
        ("targets-disagree", "Holdings!G3"),
        ("unknown-account", "Holdings!V4"),
        ("missing-account", "Holdings!V5"),
        ("duplicate-ticker", "Holdings!A7"),
    }
    assert book.read_bytes() == before  # the user's file is untouched


def test_an_accounts_sheet_with_a_bad_type(tmp_path: Path) -> None:
    book = build_household(
        tmp_path / "t.xlsx", RETIREMENT_FIRST, accounts=(("Taxable", "Taxable"), ("IRA", "Pension"))
    )
    doc = run_json("run", book)
    assert ("bad-choice", "Accounts!B3") in located(doc)


def test_a_withdrawal_in_a_household_is_refused_with_its_reason() -> None:
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(
            frame(RETIREMENT_FIRST), {**OPTIONS, "Withdrawal": 1000}, accounts=TYPES
        )
    assert [p.code for p in err.value.problems] == ["household-withdrawal"]


def test_without_accounts_a_repeated_ticker_is_still_a_duplicate() -> None:
    rows = frame(RETIREMENT_FIRST).drop(columns=["Account"])
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(rows, OPTIONS)
    assert "duplicate-ticker" in [p.code for p in err.value.problems]


# --- wash sales across accounts ----------------------------------------------------------------

TAXABLE = Account("Taxable", AccountType.TAXABLE)
IRA = Account("IRA", AccountType.RETIREMENT)


def test_a_loss_sale_in_taxable_with_a_buy_in_the_ira_loses_the_loss_for_good() -> None:
    """XYZ must go (two exit triggers), held only in Taxable, at a loss; the IRA bought XYZ
    ten days ago: a wash sale whose disallowed loss never comes back."""
    rows = [
        Holding("XYZ", D(100), D(50), D("0.10"), score=D(70), exit_triggers=2, account="Taxable"),
        Holding("ABC", D(900), D(100), D("0.90"), score=D(70), row=1, account="IRA"),
        Holding("XYZ", D(0), D(50), D(0), row=2, account="IRA"),
    ]
    lots = [Lot("XYZ", date(2025, 1, 2), D(100), D(80), account="Taxable")]
    bought = [PastTrade(AS_OF - timedelta(days=10), "XYZ", Action.BUY, D(20), D(52), "IRA")]
    plan = plan_household(
        rows, [TAXABLE, IRA], Settings(), as_of=AS_OF, lots=lots, past_trades=bought
    )
    sale = next(d for d in plan.decisions if d.ticker == "XYZ" and d.account == "Taxable")
    assert sale.action is Action.SELL
    assert Flag.WASH_SALE in sale.flags
    assert "disallowed for good" in sale.reason
    assert plan.tax.disallowed_loss > 0


def test_a_loss_sold_in_taxable_holds_back_the_buy_in_the_ira() -> None:
    """Sold at a loss in Taxable last week: the household's buy of it waits, whichever
    account would have bought it."""
    rows = [
        Holding(
            "XYZ", D(0), D(50), D("0.20"), score=D(70), purchase_price=D(80), account="Taxable"
        ),
        Holding("CASH", D(20000), D(1), D(0), row=1, account="IRA"),
        Holding("ABC", D(800), D(100), D("0.80"), score=D(70), row=2, account="IRA"),
    ]
    sold = [PastTrade(AS_OF - timedelta(days=7), "XYZ", Action.SELL, D(10), D(50), "Taxable")]
    plan = plan_household(rows, [TAXABLE, IRA], Settings(), as_of=AS_OF, past_trades=sold)
    assert [t for t in plan.trades if t.ticker == "XYZ"] == []
    xyz = next(d for d in plan.decisions if d.ticker == "XYZ")
    assert Flag.WASH_SALE in xyz.flags


# --- properties over random households ------------------------------------------------------------

TICKERS = ("AAA", "BBB", "CCC", "DDD")


@st.composite
def households(draw: st.DrawFn) -> tuple[list[Holding], list[Account], list[Lot], Settings]:
    accounts = [
        Account(f"A{i}", draw(st.sampled_from(list(AccountType))))
        for i in range(draw(st.integers(1, 3)))
    ]
    rows: list[Holding] = []
    lots: list[Lot] = []
    weights = [draw(st.integers(0, 10)) for _ in TICKERS]
    total = sum(weights) or 1
    cash_weight = D(draw(st.integers(0, 10))) / 100
    targets = [cents((1 - cash_weight) * w / total) for w in weights]
    targets[0] += 1 - cash_weight - sum(targets)
    for i, (ticker, target) in enumerate(zip(TICKERS, targets, strict=True)):
        price = D(draw(st.integers(5, 300)))
        for a in accounts:
            if not draw(st.booleans()):
                continue
            shares = D(draw(st.integers(0, 400)))
            rows.append(
                Holding(
                    ticker,
                    shares,
                    price,
                    target,
                    score=D(draw(st.sampled_from([30, 60, 80]))),
                    lock=draw(st.booleans()) and draw(st.booleans()),
                    row=len(rows),
                    account=a.name,
                )
            )
            if shares and a.type.taxed:
                cost = D(draw(st.integers(5, 300)))
                lots.append(Lot(ticker, date(2025, 1 + i, 1), shares, cost, account=a.name))
        if not any(h.ticker == ticker for h in rows):
            rows.append(Holding(ticker, D(0), price, target, score=D(60), row=len(rows)))
    for a in accounts:
        cash = D(draw(st.integers(0, 20000)))
        rows.append(Holding(CASH, cash, D(1), cash_weight, row=len(rows), account=a.name))
    s = Settings(whole_shares=draw(st.booleans()))
    return rows, accounts, lots, s


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households())
def test_properties_of_a_household_plan(
    household: tuple[list[Holding], list[Account], list[Lot], Settings],
) -> None:
    rows, accounts, lots, s = household
    if sum((h.value for h in rows), D(0)) <= 0:
        return
    plan = plan_household(rows, accounts, s, as_of=AS_OF, lots=lots)
    assert not plan.errors
    by_name = {a.name: a for a in accounts}
    held = {(h.account, h.ticker): h for h in rows}
    for c in plan.accounts:
        # No account ends below zero; money in = money out, per account, to the cent.
        assert c.cash_after >= 0
        mine = [t for t in plan.trades if t.account == c.account.name]
        assert c.sold == sum((t.amount for t in mine if t.action.is_sale), D(0))
        assert c.bought == sum((t.amount for t in mine if t.action.is_buy), D(0))
        assert c.cash_after == c.cash + c.sold - c.bought
    for t in plan.trades:
        row = held.get((t.account, t.ticker))
        if t.action.is_sale:
            assert row is not None
            assert not row.lock
            assert t.shares <= row.shares
    # No taxable sale while an untaxed account holding the ticker had shares left to sell.
    for t in plan.trades:
        if not (t.action.is_sale and by_name[t.account].type.taxed):
            continue
        for a in accounts:
            other = held.get((a.name, t.ticker))
            if a.type.taxed or other is None or other.lock or other.shares == 0:
                continue
            sold_there = sum(
                (x.shares for x in plan.trades if x.account == a.name and x.ticker == t.ticker),
                D(0),
            )
            assert sold_there == other.shares


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households())
def test_a_feasible_placement_gives_the_single_account_plan_s_weights(
    household: tuple[list[Holding], list[Account], list[Lot], Settings],
) -> None:
    """Where every household amount is placed, the household ends where one account
    holding everything would: the same trades per ticker, so the same weights."""
    rows, accounts, _, s = household
    if sum((h.value for h in rows), D(0)) <= 0:
        return
    plan = plan_household(rows, accounts, s, as_of=AS_OF)
    if any("not placed" in d.reason for d in plan.decisions):
        return  # rounding or a lock left some of it unplaced: not a feasible placement
    if any(h.lock for h in rows):
        return  # a lock on one account's row is the household's only when all are
    merged: dict[str, Holding] = {}
    for h in rows:
        m = merged.get(h.ticker)
        merged[h.ticker] = (
            Holding(h.ticker, h.shares, h.price, h.target, score=h.score, row=len(merged))
            if m is None
            else Holding(
                h.ticker,
                m.shares + h.shares,
                m.price,
                max(m.target, h.target),
                score=m.score,
                row=m.row,
            )
        )
    single = plan_one(list(merged.values()), s, as_of=AS_OF)
    per_ticker: dict[str, Decimal] = {}
    for t in plan.trades:
        sign = -1 if t.action.is_sale else 1
        per_ticker[t.ticker] = per_ticker.get(t.ticker, D(0)) + sign * t.shares
    expected = {t.ticker: (-1 if t.action.is_sale else 1) * t.shares for t in single.trades}
    assert per_ticker == expected


def test_each_account_s_lots_must_add_up_to_its_row() -> None:
    """PLTR has a row in each account: the Taxable lots are checked against the Taxable
    row, and a lot in an account with no PLTR row is one without a holding."""
    lots = [
        Lot("PLTR", date(2024, 1, 2), D(150), D(50), account="Taxable"),  # row says 200
        Lot("PLTR", date(2024, 1, 2), D(5), D(50), account="Roth"),
    ]
    with pytest.raises(InputError) as err:
        rebalancer_xl.make_plan(
            frame(RETIREMENT_FIRST), OPTIONS, accounts={**TYPES, "Roth": "Roth"}, lots=lots
        )
    assert {(p.code, p.where.row, p.where.column) for p in err.value.problems} == {
        ("lots-mismatch", 0, "Shares"),
        ("lot-without-holding", 1, "Ticker"),
    }


def test_a_lots_mismatch_in_a_household_workbook_is_located(tmp_path: Path) -> None:
    book = build_household(
        tmp_path / "l.xlsx",
        RETIREMENT_FIRST,
        lots=(("Taxable", "PLTR", date(2024, 1, 2), 150, 50),),
    )
    doc = run_json("run", book)
    assert located(doc) == {("lots-mismatch", "Holdings!D2")}


def test_an_account_column_without_an_accounts_sheet_and_an_old_trades_sheet(
    tmp_path: Path,
) -> None:
    """No Accounts sheet: both accounts are Settings' Account Type (Retirement here, so
    nothing is taxed). A Trades sheet from before the household gains its Account column."""
    book = build_household(
        tmp_path / "a.xlsx",
        RETIREMENT_FIRST,
        accounts=None,
        settings={"Account Type": "Retirement"},
    )
    wb = openpyxl.load_workbook(book)
    trades = wb[S.TRADES]
    trades.delete_cols(trades.max_column)  # the Account header of the household template
    wb.save(book)
    doc = run_json("run", book)
    assert doc["exit"] == 0, doc["problems"]
    assert [(a["account"], a["type"]) for a in doc["accounts"]] == [
        ("Taxable", "Retirement"),
        ("IRA", "Retirement"),
    ]
    assert doc["tax"]["applies"] is False
    rows = list(openpyxl.load_workbook(book)[S.TRADES].iter_rows(values_only=True))
    assert rows[0][-1] == "Account"
    assert {r[-1] for r in rows[1:] if r[0]} <= {"Taxable", "IRA"}


def test_a_roth_ira_is_untaxed_and_sells_before_taxable() -> None:
    plan = rebalancer_xl.make_plan(
        frame(RETIREMENT_FIRST),
        OPTIONS,
        accounts={"Taxable": "Taxable", "IRA": "Roth IRA"},
        lots=lots_of(RETIREMENT_FIRST_LOTS),
    )
    assert [c.account.type for c in plan.accounts] == [AccountType.TAXABLE, AccountType.ROTH]
    assert [(t.account, t.ticker) for t in plan.trades if t.action.is_sale] == [("IRA", "PLTR")]


# --- the household template's formulas, recalculated by LibreOffice ---------------------------


@pytest.mark.libreoffice
def test_libreoffice_gets_the_household_numbers_the_engine_gets(tmp_path: Path) -> None:
    """A ticker's drift, the largest and smallest position and the quarter's return are
    the household's, summed over its accounts' rows, in the sheet as in the engine."""
    from tests.lo import read_values, recalculate, records

    book = tmp_path / "H.xlsx"
    assert cli_main(["new", str(book), "--sample", "--household"]) == 0
    doc = run_json("run", book, "--dry-run")
    calculated = recalculate(book, tmp_path / "lo")
    rows = records(calculated, S.HOLDINGS)
    drift = {
        (r["Account"], r["Ticker"]): r["Drift"] for r in rows if r["Target %"] not in ("", None)
    }
    # PLTR: 100 sh in Brokerage and 150 in the IRA at $180 = 37.5% of $120,000, target 30%.
    assert drift[("Brokerage", "PLTR")] == pytest.approx(0.075)
    assert all(r["Drift"] in ("", None) for r in rows if r["Target %"] in ("", None))
    metrics = doc["metrics"]
    dashboard = {str(r[0]): r[1:3] for r in read_values(calculated, S.DASHBOARD) if r and r[0]}
    assert dashboard["Largest position"][0] == metrics["largest"]["ticker"] == "PLTR"
    assert dashboard["Largest position"][1] == pytest.approx(metrics["largest"]["weight"])
    assert dashboard["Smallest position"][0] == metrics["smallest"]["ticker"]
    assert dashboard["Smallest position"][1] == pytest.approx(metrics["smallest"]["weight"])
    assert dashboard["Quarter return since last rebalance"][0] == pytest.approx(
        sum(r["contribution"] for r in metrics["returns"])
    )


def test_a_lock_in_the_ira_sends_the_sale_to_taxable_and_says_so() -> None:
    rows = [
        Holding("PLTR", D(200), D(100), D(0), score=D(80), account="Taxable"),
        Holding("PLTR", D(250), D(100), D("0.35"), score=D(80), lock=True, row=1, account="IRA"),
        Holding("ALAB", D(300), D(100), D("0.325"), score=D(70), row=2, account="IRA"),
        Holding("ARM", D(250), D(100), D("0.325"), score=D(60), row=3, account="IRA"),
    ]
    lots = [Lot("PLTR", date(2024, 1, 2), D(200), D(50), account="Taxable")]
    plan = plan_household(rows, [TAXABLE, IRA], Settings(), as_of=AS_OF, lots=lots)
    sells = [(t.account, t.ticker, t.shares) for t in plan.trades if t.action.is_sale]
    assert sells == [("Taxable", "PLTR", 100)]
    assert plan.tax.long_term_gain == D("5000.00")  # 100 sh at $100 bought at $50
    # Its proceeds stay in Taxable: the IRA has no money, so the top-ups go there too.
    assert {t.account for t in plan.trades} == {"Taxable"}
    for c in plan.accounts:
        assert c.cash_after >= 0


def test_what_whole_shares_leave_unplaced_is_said_on_the_row() -> None:
    """Each account has $150: the household buys 3 sh at $100, but no account can pay for
    more than one, so one share is not placed, and every XYZ row says why."""
    rows = [
        Holding("CASH", D(150), D(1), D(0), account="Taxable"),
        Holding("CASH", D(150), D(1), D(0), row=1, account="IRA"),
        Holding("ABC", D(33), D(100), D("0.33"), score=D(70), row=2, account="IRA"),
        Holding("DEF", D(33), D(100), D("0.33"), score=D(70), row=3, account="Taxable"),
        Holding("GHI", D(31), D(100), D("0.31"), score=D(70), row=4, account="IRA"),
        Holding("XYZ", D(0), D(100), D("0.03"), score=D(70), row=5),
    ]
    plan = plan_household(rows, [TAXABLE, IRA], Settings(), as_of=AS_OF)
    buys = sorted((t.account, t.ticker, t.shares) for t in plan.trades)
    assert buys == [("IRA", "XYZ", 1), ("Taxable", "XYZ", 1)]
    xyz = [d for d in plan.decisions if d.ticker == "XYZ"]
    assert xyz
    assert all("1 sh not placed: no account has the money" in d.reason for d in xyz)
    assert {c.account.name: c.cash_after for c in plan.accounts} == {"Taxable": 50, "IRA": 50}


def test_a_past_loss_is_judged_by_the_taxable_lots_when_no_purchase_price_is_given() -> None:
    """No Purchase Price: the Taxable lots' cost ($80) says last week's sale at $50 was a
    loss, so the household's buy of XYZ waits."""
    rows = [
        Holding("XYZ", D(10), D(50), D("0.20"), score=D(70), account="Taxable"),
        Holding("CASH", D(20000), D(1), D(0), row=1, account="IRA"),
        Holding("ABC", D(795), D(100), D("0.80"), score=D(70), row=2, account="IRA"),
    ]
    lots = [Lot("XYZ", date(2025, 1, 2), D(10), D(80), account="Taxable")]
    sold = [PastTrade(AS_OF - timedelta(days=7), "XYZ", Action.SELL, D(10), D(50), "Taxable")]
    plan = plan_household(
        rows, [TAXABLE, IRA], Settings(), as_of=AS_OF, lots=lots, past_trades=sold
    )
    assert [t for t in plan.trades if t.ticker == "XYZ"] == []
    assert Flag.WASH_SALE in next(d for d in plan.decisions if d.ticker == "XYZ").flags
    unwashed = plan_household(rows, [TAXABLE, IRA], Settings(), as_of=AS_OF, past_trades=sold)
    assert [t.ticker for t in unwashed.trades if t.action.is_buy] == ["XYZ"]  # basis unknown


def test_household_problems_keep_their_words() -> None:
    """The household's messages are worded by the catalogue's templates now; this pins
    each one word for word, as the users read them (values included)."""

    def said_by(**kw: Any) -> list[tuple[str, str]]:
        with pytest.raises(InputError) as err:
            rebalancer_xl.make_plan(**kw)
        return [(p.code, p.message) for p in err.value.problems]

    sheet = [
        {"Account": None, "Type": "IRA"},
        {"Account": "A", "Type": "Taxable"},
        {"Account": "a", "Type": "Roth"},
        {"Account": "B", "Type": "Pension"},
        {"Account": "C", "Type": None},
    ]
    _, found = parse_accounts(sheet, lambda i, c: None)
    named = [NamedRow("", D(3), Where("Holdings")), NamedRow("Roth", D(1), Where("Holdings"))]
    _, unknown = resolve_accounts([TAXABLE, IRA], named, AccountType.TAXABLE)
    _, none_listed = resolve_accounts([], named[1:], AccountType.TAXABLE)
    said = [(p.code, p.message) for p in found + unknown + none_listed]
    lots = [
        Lot("PLTR", date(2024, 1, 2), D("150.5"), D(50), account="Taxable"),
        Lot("PLTR", date(2024, 1, 2), D(5), D(50), account="Roth"),
    ]
    rows = frame(RETIREMENT_FIRST)
    said += said_by(holdings=rows, settings=OPTIONS, accounts={**TYPES, "Roth": "Roth"}, lots=lots)
    disagree = rows.copy()
    disagree.loc[0, "Target %"] = 0.3
    disagree.loc[1, "Target %"] = 0.125
    said += [
        m
        for m in said_by(holdings=disagree, settings=OPTIONS, accounts=TYPES)
        if m[0] == "targets-disagree"
    ]
    said += said_by(holdings=rows, settings={**OPTIONS, "Withdrawal": 1000}, accounts=TYPES)
    said += [
        m
        for m in said_by(holdings=rows.drop(columns=["Account"]), settings=OPTIONS, accounts=TYPES)
        if m[0] == "missing-column"
    ]
    assert said == [
        ("missing-value", "this account has no name"),
        ("duplicate-account", "account 'a' is listed twice; list each account once"),
        ("bad-choice", "B's Type is 'Pension'; expected Taxable, Retirement or Roth"),
        ("bad-choice", "C's Type is blank; expected Taxable, Retirement or Roth"),
        (
            "missing-account",
            "this row holds shares but names no account; in a household every position "
            "belongs to one",
        ),
        ("unknown-account", "account 'Roth' is not on the Accounts sheet (accounts: Taxable, IRA)"),
        ("unknown-account", "account 'Roth' is not on the Accounts sheet (accounts: none)"),
        (
            "lots-mismatch",
            "lots of PLTR in Taxable add up to 150.5 shares, but its Holdings row there says 200",
        ),
        (
            "lot-without-holding",
            "lots of PLTR in Roth add up to 5 shares, but that account has no Holdings row for it",
        ),
        (
            "targets-disagree",
            "PLTR's Target % is 12.50% here and 30.00% at Holdings / PLTR / Target %; give the "
            "household's target once, or the same on each row",
        ),
        (
            "household-withdrawal",
            "a Withdrawal across several accounts is not planned yet (which account pays it?); "
            "sell by hand, or plan the account that pays it on its own",
        ),
        (
            "missing-column",
            "accounts are listed, so the Holdings table needs an 'Account' column saying which "
            "account holds each row",
        ),
    ]

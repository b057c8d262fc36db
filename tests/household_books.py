"""Household workbooks (SPEC §9) for the tests: the template with an Accounts sheet and
Account columns, filled from small readable tables. Written with openpyxl, as a person's
Excel would save them; the run under test then edits them with the package writer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl.utils import get_column_letter

from rebalancer_xl.adapters.template import render_workbook, save_workbook
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.formulas import holdings_formulas

AS_OF = date(2026, 12, 31)
_H = S.HoldingsHeader

# (account, ticker, shares, price, target or None, score or None)
Row = tuple[str | None, str, float, float, float | None, float | None]

# SPEC §9 "retirement first": Taxable PLTR 200 sh (one long-term lot at $50); an IRA
# holding PLTR 250, ALAB 300, ARM 250; all at $100.
RETIREMENT_FIRST: tuple[Row, ...] = (
    ("Taxable", "PLTR", 200, 100, None, 80),
    ("IRA", "PLTR", 250, 100, 0.35, 80),
    ("IRA", "ALAB", 300, 100, 0.325, 70),
    ("IRA", "ARM", 250, 100, 0.325, 60),
)
RETIREMENT_FIRST_LOTS = (("Taxable", "PLTR", date(2024, 1, 2), 200, 50),)

# SPEC §9 "buy where the money is": the Taxable account has the only cash; IONQ is held
# nowhere (a 0-share row with no account, there for its price and target).
MONEY_IS_HERE: tuple[Row, ...] = (
    ("Taxable", "CASH", 20000, 1, 0, None),
    ("Taxable", "ALAB", 300, 100, 0.30, 70),
    ("IRA", "PLTR", 300, 100, 0.30, 80),
    ("IRA", "ARM", 200, 100, 0.20, 60),
    (None, "IONQ", 0, 100, 0.20, 60),
)

ACCOUNTS = (("Taxable", "Taxable"), ("IRA", "Retirement"))
# Fractional shares, Hybrid 5/10 (the defaults), as SPEC §9's worked rows say.
SETTINGS: dict[str, object] = {"As-of Date": AS_OF, "Whole Shares": "No"}


def build_household(
    path: Path,
    rows: Sequence[Row],
    *,
    accounts: Sequence[tuple[str, str]] | None = ACCOUNTS,
    lots: Sequence[tuple[str, str, date, float, float]] = (),
    settings: dict[str, object] | None = None,
) -> Path:
    """A household workbook holding `rows`; `accounts=None` leaves the Accounts sheet out
    (an Account column alone)."""
    wb = render_workbook(household=True)
    ws = wb[S.HOLDINGS]
    cols = {c.value: c.column for c in ws[1]}
    formulas = holdings_formulas(household=True)
    for r, (account, ticker, shares, price, target, score) in enumerate(rows, start=2):
        for header, value in (
            (_H.ACCOUNT, account),
            (_H.TICKER, ticker),
            (_H.SHARES, shares),
            (_H.CURRENT_PRICE, price),
            (_H.TARGET, target),
            (_H.SCORE, score),
        ):
            ws.cell(r, cols[header], value)
        for header, formula in formulas.items():
            ws.cell(r, cols[header], "=" + formula)
    ws.delete_rows(2 + len(rows), ws.max_row)  # the template's blank rows go
    ws.tables[S.HOLDINGS_TABLE].ref = f"A1:{get_column_letter(len(cols))}{1 + len(rows)}"
    if accounts is None:
        del wb[S.ACCOUNTS]
    else:
        sheet = wb[S.ACCOUNTS]
        for r, (name, kind) in enumerate(accounts, start=2):
            sheet.cell(r, 1, name)
            sheet.cell(r, 2, kind)
    lot_sheet = wb[S.LOTS]
    lot_cols = {c.value: c.column for c in lot_sheet[1]}
    for r, (account, ticker, acquired, shares, cost) in enumerate(lots, start=2):
        for header, value in (
            (S.LotsHeader.ACCOUNT, account),
            (S.LotsHeader.TICKER, ticker),
            (S.LotsHeader.ACQUIRED, acquired),
            (S.LotsHeader.SHARES, shares),
            (S.LotsHeader.COST, cost),
        ):
            lot_sheet.cell(r, lot_cols[header], value)
    values = {**SETTINGS, **(settings or {})}
    sheet = wb[S.SETTINGS_SHEET]
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(r, 1).value in values:
            sheet.cell(r, 2, values[sheet.cell(r, 1).value])
    save_workbook(wb, path)
    return path

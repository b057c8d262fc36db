"""The Holdings sheet: the table with its live formulas, drop-downs and drift colours."""

from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.adapters.template.style import (
    AMBER,
    RED,
    list_validation,
    note,
    number_validation,
    rule,
    write_header,
    write_rows,
)
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.formulas import drift_reaches, holdings_formulas, letter
from rebalancer_xl.workbook.schema import (
    HOLDINGS_COLUMNS,
    HOLDINGS_TABLE,
    HOUSEHOLD_HOLDINGS_COLUMN,
    HoldingsHeader,
    column,
)

#: Empty rows the blank template's Holdings table starts with (a table needs a body).
BLANK_HOLDING_ROWS = 10
#: How far down drop-downs and drift colours reach, so rows users add get them too.
VALIDATED_ROWS = 500


def holdings_sheet(ws: Worksheet, sample: bool, household: bool = False) -> int:
    """Fill Holdings; return the last table row."""
    columns = (*HOLDINGS_COLUMNS, HOUSEHOLD_HOLDINGS_COLUMN) if household else HOLDINGS_COLUMNS
    notes = None
    if sample:
        ticker = column(columns, HoldingsHeader.TICKER)
        notes = {ticker.header: f"{sample_data.NOTE}\n\n{ticker.note}"}
    write_header(ws, columns, notes)
    ws.freeze_panes = "B2"  # keep the Ticker column in view while scrolling right

    sample_rows = sample_data.HOUSEHOLD_HOLDINGS if household else sample_data.HOLDINGS
    rows = (
        sample_rows
        if sample
        else [*({} for _ in range(BLANK_HOLDING_ROWS - 1)), sample_data.CASH_ROW]
    )
    last = write_rows(ws, columns, rows)
    if not sample:
        ws.cell(row=last, column=1).comment = note(sample_data.CASH_NOTE)
    formulas = holdings_formulas(household=household)
    for row in range(2, last + 1):
        for index, col in enumerate(columns, start=1):
            if col.header in formulas:
                ws.cell(row=row, column=index, value="=" + formulas[col.header])

    # Setting calculatedColumnFormula makes Excel fill the formulas into new rows.
    table = Table(
        displayName=HOLDINGS_TABLE,
        ref=f"A1:{get_column_letter(len(columns))}{last}",
        tableStyleInfo=TableStyleInfo(name="TableStyleLight1", showRowStripes=False),
        tableColumns=[
            TableColumn(
                id=index,
                name=col.header,
                calculatedColumnFormula=(
                    TableFormula(attr_text=formulas[col.header]) if col.header in formulas else None
                ),
            )
            for index, col in enumerate(columns, start=1)
        ],
    )
    ws.add_table(table)
    _validations(ws)
    _colours(ws)
    return last


def _span(header: str) -> str:
    at = letter(HOLDINGS_COLUMNS, header)
    return f"{at}2:{at}{VALIDATED_ROWS}"


def _validations(ws: Worksheet) -> None:
    h = HoldingsHeader
    yes_no = list_validation(("Yes", "No"), "Yes or No")
    yes_no.add(_span(h.COMPANY_EVENT))
    yes_no.add(_span(h.LOCK))
    target = number_validation(
        "decimal", "between", "0", "1", "Target %", "Enter a percentage from 0% to 100%."
    )
    target.add(_span(h.TARGET))
    score = number_validation(
        "decimal", "between", "0", "100", "Score", "Enter a score from 0 to 100, or leave blank."
    )
    score.add(_span(h.SCORE))
    score.add(_span(h.PREVIOUS_SCORE))
    triggers = number_validation(
        "whole", "greaterThanOrEqual", "0", None, "Exit Triggers Hit", "Enter 0 or more."
    )
    triggers.add(_span(h.EXIT_TRIGGERS))
    for dv in (yes_no, target, score, triggers):
        ws.add_data_validation(dv)


def _colours(ws: Worksheet) -> None:
    h = HoldingsHeader
    drift = letter(HOLDINGS_COLUMNS, h.DRIFT)
    cell = f"${drift}2"
    area = _span(h.DRIFT)
    ws.conditional_formatting.add(
        area,
        rule(
            formula=[drift_reaches(cell, "Outer Band")],
            fill=RED,
            font=Font(color="9C0006", bold=True),
            stop=True,
        ),
    )
    ws.conditional_formatting.add(
        area,
        rule(formula=[drift_reaches(cell, "Band")], fill=AMBER, font=Font(color="9C5700")),
    )
    action = letter(HOLDINGS_COLUMNS, h.ACTION)
    a_cell = f"${action}2"
    a_area = _span(h.ACTION)
    ws.conditional_formatting.add(
        a_area,
        rule(
            formula=[f'OR({a_cell}="SELL",{a_cell}="TRIM")'], font=Font(color="C00000", bold=True)
        ),
    )
    ws.conditional_formatting.add(
        a_area,
        rule(formula=[f'OR({a_cell}="ADD",{a_cell}="BUY")'], font=Font(color="006100", bold=True)),
    )
    flags = letter(HOLDINGS_COLUMNS, h.FLAGS)
    ws.conditional_formatting.add(
        _span(h.FLAGS),
        rule(formula=[f'ISNUMBER(SEARCH("URGENT",${flags}2))'], fill=RED),
    )

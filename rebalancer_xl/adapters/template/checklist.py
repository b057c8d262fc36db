"""The Checklist sheet: the quarter's steps in four phases, ticked by runs or by hand."""

from __future__ import annotations

from openpyxl.styles import Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.adapters.template.style import (
    FONT_NAME,
    GREEN,
    THIN,
    list_validation,
    rule,
    write_header,
    write_rows,
)
from rebalancer_xl.workbook.formulas import letter
from rebalancer_xl.workbook.schema import CHECKLIST_COLUMNS, CHECKLIST_ITEMS, ChecklistHeader


def checklist_sheet(ws: Worksheet) -> None:
    columns = CHECKLIST_COLUMNS
    c = ChecklistHeader
    rows: list[dict[str, object]] = [
        {c.KEY: item.key, c.PHASE: item.phase, c.STEP: item.step} for item in CHECKLIST_ITEMS
    ]
    last = write_rows(ws, columns, rows)
    write_header(ws, columns)
    for row in range(2, last + 1):  # keys are for the run, so keep them quiet
        ws.cell(row=row, column=1).font = Font(name=FONT_NAME, color="808080")
    done = letter(columns, c.DONE)
    dv = list_validation(("Yes", "No"), "Done")
    dv.add(f"{done}2:{done}{last}")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add(
        f"A2:{get_column_letter(len(columns))}{last}",
        rule(formula=[f'UPPER(${done}2)="YES"'], fill=GREEN),
    )
    # A thicker rule above the first step of each phase separates the four phases.
    previous = None
    for row in range(2, last + 1):
        phase = ws.cell(row=row, column=2).value
        if phase != previous:
            for index in range(1, len(columns) + 1):
                cell = ws.cell(row=row, column=index)
                cell.border = Border(
                    left=THIN, right=THIN, bottom=THIN, top=Side(style="medium", color="595959")
                )
            ws.cell(row=row, column=2).font = Font(name=FONT_NAME, bold=True)
        previous = phase

"""How the template looks: fonts, fills, borders, header and body cells, validations
and conditional formats, shared by every sheet's builder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Literal, cast

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.workbook.schema import (
    BODY_FILL,
    HEADER_FILL,
    ChecklistHeader,
    Column,
    HoldingsHeader,
    PerformanceHeader,
    TradesHeader,
)

NumberKind = Literal["whole", "decimal", "date"]
Operator = Literal["between", "greaterThanOrEqual"]
#: A value openpyxl can put in a cell.
CellValue = str | int | float | date | datetime | None

THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Named explicitly: a Font without a name renders in a serif fallback in LibreOffice.
FONT_NAME = "Calibri"
HEADER_FONT = Font(name=FONT_NAME, bold=True, color="FFFFFF")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=16, color="1F3864")
SECTION_FONT = Font(name=FONT_NAME, bold=True, size=12, color="1F3864")
SAMPLE_FILL = PatternFill("solid", fgColor="FCE4D6")
AMBER = PatternFill("solid", fgColor="FFEB9C")
RED = PatternFill("solid", fgColor="FFC7CE")
GREEN = PatternFill("solid", fgColor="C6EFCE")

# Short words read best centred under their header.
_CENTRED = frozenset(
    {
        HoldingsHeader.COMPANY_EVENT,
        HoldingsHeader.LOCK,
        HoldingsHeader.ACTION,
        TradesHeader.SIDE,
        ChecklistHeader.DONE,
        PerformanceHeader.CLASS,
    }
)


_WRAPPED = frozenset({HoldingsHeader.REASON})


def note(text: str) -> Comment:
    """A cell note of the size every note in the template has."""
    comment = Comment(text, "rebalancer_xl")
    comment.width = 260
    comment.height = 90
    return comment


def write_header(
    ws: Worksheet, columns: tuple[Column, ...], notes: Mapping[str, str] | None = None
) -> None:
    """Row 1: coloured header cells with a note each; widths; header row frozen."""
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index, value=col.header)
        cell.font = HEADER_FONT
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL[col.kind])
        cell.alignment = HEADER_ALIGN
        cell.border = BORDER
        cell.comment = note((notes or {}).get(col.header, col.note))
        ws.column_dimensions[get_column_letter(index)].width = col.width
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "A2"
    landscape(ws)


def style_body(ws: Worksheet, row: int, columns: tuple[Column, ...]) -> None:
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index)
        cell.fill = PatternFill("solid", fgColor=BODY_FILL[col.kind])
        cell.number_format = col.number_format
        cell.border = BORDER
        if col.header in _CENTRED:
            cell.alignment = Alignment(horizontal="center")
        elif col.header in _WRAPPED:
            # A long reason wraps inside its column instead of running on over Flags
            # (and being cut where Flags has text); the row grows to show it.
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_rows(
    ws: Worksheet, columns: tuple[Column, ...], rows: Iterable[Mapping[str, object]]
) -> int:
    """Write rows keyed by header from row 2 on; return the last row written."""
    last = 1
    for last, values in enumerate(rows, start=2):
        style_body(ws, last, columns)
        for index, col in enumerate(columns, start=1):
            value = values.get(col.header)
            if value is not None:
                ws.cell(row=last, column=index, value=cast(CellValue, value))
    return last


def plain_sheet(
    ws: Worksheet, columns: tuple[Column, ...], rows: Iterable[Mapping[str, object]]
) -> None:
    """A header and the rows given, nothing else."""
    # Only rows with data are styled: styled empty rows would count as used rows, and a
    # writer appending after the last used row would leave a gap.
    write_header(ws, columns)
    write_rows(ws, columns, rows)


def landscape(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def list_validation(choices: Iterable[str], what: str) -> DataValidation:
    items = ",".join(choices)
    return DataValidation(
        type="list",
        formula1=f'"{items}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=what,
        error=f"Choose one of: {items.replace(',', ', ')}",
    )


def number_validation(
    kind: NumberKind, operator: Operator, low: str, high: str | None, what: str, message: str
) -> DataValidation:
    return DataValidation(
        type=kind,
        operator=operator,
        formula1=low,
        formula2=high,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=what,
        error=message,
    )


def define(wb: Workbook, name: str, sheet: str, cell: str) -> None:
    """A workbook name for one cell, absolute, for formulas on other sheets."""
    column_part = "".join(ch for ch in cell if ch.isalpha())
    row_part = cell[len(column_part) :]
    ref = f"{quote_sheetname(sheet)}!${column_part}${row_part}"
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def rule(
    formula: list[str],
    fill: PatternFill | None = None,
    font: Font | None = None,
    stop: bool | None = None,
) -> Rule:
    """A conditional format by formula (a typed front for openpyxl's untyped helper)."""
    made: Rule = FormulaRule(  # type: ignore[no-untyped-call]
        formula=formula, fill=fill, font=font, stopIfTrue=stop
    )
    return made

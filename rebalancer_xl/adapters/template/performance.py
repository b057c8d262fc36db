"""The Performance sheet: a row of formulas per ticker typed, and the portfolio's quarter
beside the table."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from rebalancer_xl.adapters.template.style import (
    BORDER,
    FONT_NAME,
    GREEN,
    HEADER_ALIGN,
    HEADER_FONT,
    RED,
    define,
    rule,
    style_body,
    write_header,
    write_rows,
)
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.formulas import letter, performance_formulas, performance_summary
from rebalancer_xl.workbook.schema import (
    BODY_FILL,
    HEADER_FILL,
    PERFORMANCE,
    PERFORMANCE_COLUMNS,
    Kind,
    PerformanceHeader,
)

#: Performance rows that carry formulas, filled or not; type a ticker and they work.
PERFORMANCE_ROWS = 50


def performance_sheet(wb: Workbook, sample: bool, household: bool = False) -> None:
    ws = wb[PERFORMANCE]
    columns = PERFORMANCE_COLUMNS
    p = PerformanceHeader
    write_header(ws, columns)
    first, last = 2, PERFORMANCE_ROWS + 1
    write_rows(ws, columns, sample_data.PERFORMANCE if sample else ())
    for row in range(first, last + 1):
        style_body(ws, row, columns)
        for header, formula in performance_formulas(row, household=household).items():
            index = [c.header for c in columns].index(header) + 1
            ws.cell(row=row, column=index, value="=" + formula)

    # The portfolio's summary sits beside the table, in columns no header claims, so a
    # reader going down the Ticker column never mistakes it for a position.
    label_col = len(columns) + 2
    value_col = label_col + 1
    head = ws.cell(row=1, column=label_col, value="Portfolio")
    head.font = HEADER_FONT
    head.fill = PatternFill("solid", fgColor=HEADER_FILL[Kind.FORMULA])
    head.alignment = HEADER_ALIGN
    ws.cell(row=1, column=value_col).fill = PatternFill("solid", fgColor=HEADER_FILL[Kind.FORMULA])
    for row, (label, formula, fmt, name) in enumerate(performance_summary(first, last), start=2):
        ws.cell(row=row, column=label_col, value=label).font = Font(name=FONT_NAME, bold=True)
        cell = ws.cell(row=row, column=value_col, value=formula)
        cell.number_format = fmt
        cell.fill = PatternFill("solid", fgColor=BODY_FILL[Kind.FORMULA])
        cell.border = BORDER
        define(wb, name, PERFORMANCE, cell.coordinate)
    ws.column_dimensions[get_column_letter(label_col - 1)].width = 3
    ws.column_dimensions[get_column_letter(label_col)].width = 30
    ws.column_dimensions[get_column_letter(value_col)].width = 14
    ret = letter(columns, p.RETURN)
    klass = letter(columns, p.CLASS)
    for word, fill in (("Winner", GREEN), ("Laggard", RED)):
        ws.conditional_formatting.add(
            f"{klass}{first}:{klass}{last}",
            rule(formula=[f'${klass}{first}="{word}"'], fill=fill),
        )
    ws.conditional_formatting.add(
        f"{ret}{first}:{ret}{last}",
        rule(formula=[f"AND(ISNUMBER(${ret}{first}),${ret}{first}<0)"], font=Font(color="C00000")),
    )

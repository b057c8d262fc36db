"""The Dashboard sheet: the portfolio's numbers (formulas from workbook.dashboard), the
colour key and the weights chart."""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.adapters.template.style import (
    BORDER,
    FONT_NAME,
    HEADER_FONT,
    RED,
    SAMPLE_FILL,
    SECTION_FONT,
    TITLE_FONT,
    landscape,
    rule,
)
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.dashboard import (
    FIRST_METRIC_ROW,
    METRICS,
    dashboard_metrics,
    metric_row,
)
from rebalancer_xl.workbook.formulas import letter
from rebalancer_xl.workbook.schema import (
    BODY_FILL,
    HEADER_FILL,
    HOLDINGS,
    HOLDINGS_COLUMNS,
    KIND_LEGEND,
    PERCENT,
    HoldingsHeader,
    Kind,
)


def dashboard_sheet(
    ws: Worksheet, holding_rows: int, sample: bool, household: bool = False
) -> None:
    ws.sheet_view.showGridLines = False
    for column, width in (("A", 34), ("B", 16), ("C", 11), ("D", 3)):
        ws.column_dimensions[column].width = width
    landscape(ws)

    ws["A1"] = "Quarterly Rebalancing"
    ws["A1"].font = TITLE_FONT
    ws.row_dimensions[1].height = 26
    if sample:
        ws["A2"] = sample_data.NOTE
        ws["A2"].fill = SAMPLE_FILL
        ws["A2"].font = Font(name=FONT_NAME, bold=True, color="833C0B")
        ws.merge_cells("A2:P2")
    else:
        ws["A2"] = "Fill in Holdings and Settings, then run a rebalance."
        ws["A2"].font = Font(name=FONT_NAME, italic=True, color="595959")

    ws.cell(row=FIRST_METRIC_ROW - 1, column=1, value="Portfolio").font = SECTION_FONT
    formula_fill = PatternFill("solid", fgColor=BODY_FILL[Kind.FORMULA])
    for label, metric in dashboard_metrics(household).items():
        row = metric_row(label)
        ws.cell(row=row, column=1, value=label).border = BORDER
        main: str | ArrayFormula = metric.value
        share: str | ArrayFormula | None = metric.share
        if metric.array:
            main = ArrayFormula(f"B{row}", metric.value)
            share = ArrayFormula(f"C{row}", metric.share)
        cell = ws.cell(row=row, column=2, value=main)
        cell.number_format = metric.number_format
        cell.alignment = Alignment(horizontal="right")
        side = ws.cell(row=row, column=3, value=share)
        # Largest/smallest weigh 0 in an empty book; show nothing rather than 0.00%.
        side.number_format = "0.00%;-0.00%;;@" if metric.array else PERCENT
        for c in (cell, side):
            c.fill = formula_fill
            c.border = BORDER
    # Targets must add up to 100% (SPEC §1); show the sum red when they do not.
    targets = f"B{metric_row('Targets add up to')}"
    ws.conditional_formatting.add(
        targets,
        rule(formula=[f"ABS({targets}-1)>0.0001"], fill=RED, font=Font(color="9C0006")),
    )

    legend_top = FIRST_METRIC_ROW + len(METRICS) + 1
    ws.cell(row=legend_top, column=1, value="Colour key").font = SECTION_FONT
    for offset, kind in enumerate((Kind.INPUT, Kind.FORMULA, Kind.OUTPUT), start=1):
        row = legend_top + offset
        swatch = ws.cell(row=row, column=1, value=kind.value.title())
        swatch.fill = PatternFill("solid", fgColor=HEADER_FILL[kind])
        swatch.font = HEADER_FONT
        swatch.border = BORDER
        swatch.alignment = Alignment(vertical="center", indent=1)
        text = ws.cell(row=row, column=2, value=KIND_LEGEND[kind])
        text.fill = PatternFill("solid", fgColor=BODY_FILL[kind])
        text.alignment = Alignment(wrap_text=True, vertical="center")
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        ws.row_dimensions[row].height = 30
    ws.cell(
        row=legend_top + 4,
        column=1,
        value="Drift turns amber at the Band and red at the Outer Band (see Settings).",
    ).font = Font(name=FONT_NAME, italic=True, color="595959")

    ws.add_chart(weights_chart(holding_rows, empty=not sample), f"E{FIRST_METRIC_ROW - 1}")


def weights_chart(last_row: int, *, empty: bool = False) -> BarChart:
    """Clustered bars per ticker, read from Holdings: the weight now, the target, and
    the weight after the run's trades (blank until a run has written them)."""
    h = HoldingsHeader
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = "Current, target and post-trade weight"
    chart.y_axis.title = "Weight"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    if empty:
        # With nothing to show, spreadsheets pick an axis of their own (LibreOffice's
        # runs to 1200%); weights run from 0% to 100%.
        chart.y_axis.scaling.max = 1
        chart.y_axis.majorUnit = 0.2
    # openpyxl marks axes deleted by default; recent Excel then hides the labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width = 20
    chart.height = 10
    for header, colour in (
        (h.WEIGHT, HEADER_FILL[Kind.OUTPUT]),
        (h.TARGET, "A5A5A5"),
        (h.POST_TRADE, "70AD47"),
    ):
        chart.add_data(_holdings_range(header, last_row, with_header=True), titles_from_data=True)
        chart.series[-1].graphicalProperties.solidFill = colour
        chart.series[-1].graphicalProperties.line.solidFill = colour
    chart.set_categories(_holdings_range(h.TICKER, last_row, with_header=False))
    return chart


def _holdings_range(header: str, last_row: int, *, with_header: bool) -> Reference:
    """A chart range down one column of the Holdings table, by header."""
    at = letter(HOLDINGS_COLUMNS, header)
    top = 1 if with_header else 2
    return Reference(range_string=f"{quote_sheetname(HOLDINGS)}!${at}${top}:${at}${last_row}")

"""Build a new rebalancing workbook: every sheet of the contract, styled, with live formulas.

`build_workbook` writes the file; `render_workbook` builds it in memory. The layout
comes from `schema`: this module decides only how things look and which formulas go
where.

Formulas on Holdings use structured references (`tblHoldings[[#This Row],[Shares]]`)
rather than cell letters: they keep pointing at the right column when a user reorders
or inserts columns, and totals such as `SUM(tblHoldings[[Current Value]])` grow with the
table when Excel adds a row. LibreOffice 7.4 reads and recalculates them too (the tests
check). Conditional formats, validations and the chart cannot hold structured
references in Excel, so those use A1 ranges and workbook names for settings.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Literal, cast

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from rebalancer_xl.adapters.files import atomic_write
from rebalancer_xl.core.model import CASH
from rebalancer_xl.core.rules.metrics import LAGGARD_BELOW, QUARTER_RETURN_LABEL, WINNER_FROM
from rebalancer_xl.core.settings import SETTINGS, SettingSpec, display_value
from rebalancer_xl.core.settings import Kind as SettingKind
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.formulas import holdings_formulas
from rebalancer_xl.workbook.formulas import whole as _whole
from rebalancer_xl.workbook.schema import (
    ACCOUNTS,
    ACCOUNTS_COLUMNS,
    BODY_FILL,
    CHECKLIST,
    CHECKLIST_COLUMNS,
    CHECKLIST_ITEMS,
    DASHBOARD,
    DATE,
    GENERAL,
    HEADER_FILL,
    HISTORY,
    HISTORY_COLUMNS,
    HOLDINGS,
    HOLDINGS_COLUMNS,
    HOLDINGS_TABLE,
    HOUSEHOLD_HOLDINGS_COLUMN,
    HOUSEHOLD_LOTS_COLUMN,
    HOUSEHOLD_TRADES_COLUMN,
    KIND_LEGEND,
    LOTS,
    LOTS_COLUMNS,
    MONEY,
    PERCENT,
    PERFORMANCE,
    PERFORMANCE_COLUMNS,
    SETTINGS_COLUMNS,
    SETTINGS_SHEET,
    SHEET_ORDER,
    SIGNED_PERCENT,
    TRADES,
    TRADES_COLUMNS,
    ChecklistHeader,
    Column,
    HistoryHeader,
    HoldingsHeader,
    Kind,
    PerformanceHeader,
    TradesHeader,
    column,
    setting_defined_name,
    setting_number_format,
)

_NumberKind = Literal["whole", "decimal", "date"]
_Operator = Literal["between", "greaterThanOrEqual"]
#: A value openpyxl can put in a cell.
CellValue = str | int | float | date | datetime | None

#: Fixed document times, so building twice gives the same file.
FIXED_TIME = datetime(2026, 1, 1)
#: Empty rows the blank template's Holdings table starts with (a table needs a body).
BLANK_HOLDING_ROWS = 10
#: Performance rows that carry formulas, filled or not; type a ticker and they work.
PERFORMANCE_ROWS = 50
#: How far down drop-downs and drift colours reach, so rows users add get them too.
VALIDATED_ROWS = 500

#: Names of cells other than settings, for formulas on other sheets.
NAME_LAST_VALUE = "LastRebalanceValue"
NAME_QUARTER_RETURN = "PortfolioQuarterReturn"

# The thresholds the formulas test are the core's (rules.metrics; the tier floors are
# model.TIER_FLOORS, in workbook.formulas): a changed threshold changes the engine and
# the sheet together.
_WINNER_FROM = float(WINNER_FROM)  # as a float, so the formula reads 0.2, not 0.20
_LAGGARD_BELOW = float(LAGGARD_BELOW)

_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# Named explicitly: a Font without a name renders in a serif fallback in LibreOffice.
_FONT_NAME = "Calibri"
_HEADER_FONT = Font(name=_FONT_NAME, bold=True, color="FFFFFF")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TITLE_FONT = Font(name=_FONT_NAME, bold=True, size=16, color="1F3864")
_SECTION_FONT = Font(name=_FONT_NAME, bold=True, size=12, color="1F3864")
_SAMPLE_FILL = PatternFill("solid", fgColor="FCE4D6")
_AMBER = PatternFill("solid", fgColor="FFEB9C")
_RED = PatternFill("solid", fgColor="FFC7CE")
_GREEN = PatternFill("solid", fgColor="C6EFCE")


def build_workbook(
    path: str | os.PathLike[str], *, sample: bool = False, household: bool = False
) -> None:
    """Write a new workbook to `path`; with `sample`, filled with the sample portfolio;
    with `household`, with an Accounts sheet and Account columns (SPEC §9).

    The file is written to a temporary name beside `path` and then moved into place, so
    an existing workbook is never left half-written.
    """
    save_workbook(render_workbook(sample=sample, household=household), Path(path))


def render_workbook(*, sample: bool = False, household: bool = False) -> Workbook:
    """The workbook in memory, before it is saved."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for name in SHEET_ORDER:
        wb.create_sheet(name)
    if household:
        # The household's extra columns go last, so every other column keeps its letter.
        wb.create_sheet(ACCOUNTS, index=SHEET_ORDER.index(HOLDINGS) + 1)
        _plain_sheet(wb[ACCOUNTS], ACCOUNTS_COLUMNS, sample_data.ACCOUNTS if sample else ())

    _settings_sheet(wb, sample)
    holding_rows = _holdings_sheet(wb[HOLDINGS], sample, household)
    _performance_sheet(wb, sample, household)
    trades = (*TRADES_COLUMNS, HOUSEHOLD_TRADES_COLUMN) if household else TRADES_COLUMNS
    _plain_sheet(wb[TRADES], trades, ())
    lots_columns = (*LOTS_COLUMNS, HOUSEHOLD_LOTS_COLUMN) if household else LOTS_COLUMNS
    lots = sample_data.HOUSEHOLD_LOTS if household else sample_data.LOTS
    _plain_sheet(wb[LOTS], lots_columns, lots if sample else ())
    _plain_sheet(wb[HISTORY], HISTORY_COLUMNS, sample_data.HISTORY if sample else ())
    _checklist_sheet(wb[CHECKLIST])
    _dashboard_sheet(wb[DASHBOARD], holding_rows, sample, household)

    wb.active = 0
    props = wb.properties
    props.creator = "rebalancer_xl"
    props.title = "Quarterly rebalancing" + (" (sample data)" if sample else "")
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    # Nothing computed is stored in the file: make Excel calculate everything on open.
    wb.calculation.fullCalcOnLoad = True
    return wb


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save `wb` to `path` atomically, with fixed zip entry times for a stable file."""
    buffer = io.BytesIO()
    # openpyxl's own save() stamps the current time as "modified"; its writer does not.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    with (
        atomic_write(path) as pending,
        zipfile.ZipFile(pending.path, "w", zipfile.ZIP_DEFLATED) as zf,
        zipfile.ZipFile(buffer) as built,
    ):
        for item in built.infolist():
            # A fixed entry time: regenerating an unchanged workbook changes no byte.
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, built.read(item.filename))


# --- Shared helpers ------------------------------------------------------------------


def _letter(columns: tuple[Column, ...], header: str) -> str:
    return get_column_letter([c.header for c in columns].index(header) + 1)


def _write_header(
    ws: Worksheet, columns: tuple[Column, ...], notes: Mapping[str, str] | None = None
) -> None:
    """Row 1: coloured header cells with a note each; widths; header row frozen."""
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index, value=col.header)
        cell.font = _HEADER_FONT
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL[col.kind])
        cell.alignment = _HEADER_ALIGN
        cell.border = _BORDER
        text = (notes or {}).get(col.header, col.note)
        comment = Comment(text, "rebalancer_xl")
        comment.width = 260
        comment.height = 90
        cell.comment = comment
        ws.column_dimensions[get_column_letter(index)].width = col.width
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "A2"
    _landscape(ws)


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


def _style_body(ws: Worksheet, row: int, columns: tuple[Column, ...]) -> None:
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index)
        cell.fill = PatternFill("solid", fgColor=BODY_FILL[col.kind])
        cell.number_format = col.number_format
        cell.border = _BORDER
        if col.header in _CENTRED:
            cell.alignment = Alignment(horizontal="center")
        elif col.header in _WRAPPED:
            # A long reason wraps inside its column instead of running on over Flags
            # (and being cut where Flags has text); the row grows to show it.
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _write_rows(
    ws: Worksheet, columns: tuple[Column, ...], rows: Iterable[Mapping[str, object]]
) -> int:
    """Write rows keyed by header from row 2 on; return the last row written."""
    last = 1
    for last, values in enumerate(rows, start=2):
        _style_body(ws, last, columns)
        for index, col in enumerate(columns, start=1):
            value = values.get(col.header)
            if value is not None:
                ws.cell(row=last, column=index, value=cast(CellValue, value))
    return last


def _landscape(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _list_validation(choices: Iterable[str], what: str) -> DataValidation:
    items = ",".join(choices)
    return DataValidation(
        type="list",
        formula1=f'"{items}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=what,
        error=f"Choose one of: {items.replace(',', ', ')}",
    )


def _number_validation(
    kind: _NumberKind, operator: _Operator, low: str, high: str | None, what: str, message: str
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


def _define(wb: Workbook, name: str, sheet: str, cell: str) -> None:
    column_part = "".join(ch for ch in cell if ch.isalpha())
    row_part = cell[len(column_part) :]
    ref = f"{quote_sheetname(sheet)}!${column_part}${row_part}"
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _rule(
    formula: list[str],
    fill: PatternFill | None = None,
    font: Font | None = None,
    stop: bool | None = None,
) -> Rule:
    """A conditional format by formula (a typed front for openpyxl's untyped helper)."""
    rule: Rule = FormulaRule(  # type: ignore[no-untyped-call]
        formula=formula, fill=fill, font=font, stopIfTrue=stop
    )
    return rule


# --- Holdings --------------------------------------------------------------------------


def _holdings_sheet(ws: Worksheet, sample: bool, household: bool = False) -> int:
    """Fill Holdings; return the last table row."""
    columns = (*HOLDINGS_COLUMNS, HOUSEHOLD_HOLDINGS_COLUMN) if household else HOLDINGS_COLUMNS
    notes = None
    if sample:
        ticker = column(columns, HoldingsHeader.TICKER)
        notes = {ticker.header: f"{sample_data.NOTE}\n\n{ticker.note}"}
    _write_header(ws, columns, notes)
    ws.freeze_panes = "B2"  # keep the Ticker column in view while scrolling right

    sample_rows = sample_data.HOUSEHOLD_HOLDINGS if household else sample_data.HOLDINGS
    rows = (
        sample_rows
        if sample
        else [*({} for _ in range(BLANK_HOLDING_ROWS - 1)), sample_data.CASH_ROW]
    )
    last = _write_rows(ws, columns, rows)
    if not sample:
        note = Comment(sample_data.CASH_NOTE, "rebalancer_xl")
        note.width, note.height = 260, 90
        ws.cell(row=last, column=1).comment = note
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
    _holdings_validations(ws)
    _holdings_colours(ws)
    return last


def _holdings_validations(ws: Worksheet) -> None:
    h = HoldingsHeader

    def span(header: str) -> str:
        letter = _letter(HOLDINGS_COLUMNS, header)
        return f"{letter}2:{letter}{VALIDATED_ROWS}"

    yes_no = _list_validation(("Yes", "No"), "Yes or No")
    yes_no.add(span(h.COMPANY_EVENT))
    yes_no.add(span(h.LOCK))
    target = _number_validation(
        "decimal", "between", "0", "1", "Target %", "Enter a percentage from 0% to 100%."
    )
    target.add(span(h.TARGET))
    score = _number_validation(
        "decimal", "between", "0", "100", "Score", "Enter a score from 0 to 100, or leave blank."
    )
    score.add(span(h.SCORE))
    score.add(span(h.PREVIOUS_SCORE))
    triggers = _number_validation(
        "whole", "greaterThanOrEqual", "0", None, "Exit Triggers Hit", "Enter 0 or more."
    )
    triggers.add(span(h.EXIT_TRIGGERS))
    for dv in (yes_no, target, score, triggers):
        ws.add_data_validation(dv)


def _band(name: str) -> str:
    # A blank setting means its default, so the colours must not treat blank as 0%.
    spec = next(s for s in SETTINGS if s.name == name)
    return f"IF(ISNUMBER({setting_defined_name(name)}),{setting_defined_name(name)},{spec.default})"


def _holdings_colours(ws: Worksheet) -> None:
    h = HoldingsHeader
    drift = _letter(HOLDINGS_COLUMNS, h.DRIFT)
    cell = f"${drift}2"
    # Round as SPEC §1 does (to 0.01 pp), so 30% − 25% counts as a full 5-point drift.
    size = f"ROUND(ABS({cell}),4)"
    area = f"{drift}2:{drift}{VALIDATED_ROWS}"
    ws.conditional_formatting.add(
        area,
        _rule(
            formula=[f"AND(ISNUMBER({cell}),{size}>={_band('Outer Band')})"],
            fill=_RED,
            font=Font(color="9C0006", bold=True),
            stop=True,
        ),
    )
    ws.conditional_formatting.add(
        area,
        _rule(
            formula=[f"AND(ISNUMBER({cell}),{size}>={_band('Band')})"],
            fill=_AMBER,
            font=Font(color="9C5700"),
        ),
    )
    action = _letter(HOLDINGS_COLUMNS, h.ACTION)
    a_cell = f"${action}2"
    a_area = f"{action}2:{action}{VALIDATED_ROWS}"
    ws.conditional_formatting.add(
        a_area,
        _rule(
            formula=[f'OR({a_cell}="SELL",{a_cell}="TRIM")'], font=Font(color="C00000", bold=True)
        ),
    )
    ws.conditional_formatting.add(
        a_area,
        _rule(formula=[f'OR({a_cell}="ADD",{a_cell}="BUY")'], font=Font(color="006100", bold=True)),
    )
    flags = _letter(HOLDINGS_COLUMNS, h.FLAGS)
    ws.conditional_formatting.add(
        f"{flags}2:{flags}{VALIDATED_ROWS}",
        _rule(formula=[f'ISNUMBER(SEARCH("URGENT",${flags}2))'], fill=_RED),
    )


# --- Settings --------------------------------------------------------------------------


def _settings_sheet(wb: Workbook, sample: bool) -> None:
    ws = wb[SETTINGS_SHEET]
    columns = SETTINGS_COLUMNS
    _write_header(ws, columns)
    overrides = sample_data.SETTINGS if sample else {}
    value_letter = get_column_letter(2)
    validations: dict[str, DataValidation] = {}
    for row, spec in enumerate(SETTINGS, start=2):
        _style_body(ws, row, columns)
        ws.cell(row=row, column=1, value=spec.name)
        value = ws.cell(
            row=row, column=2, value=cast(CellValue, overrides.get(spec.name, display_value(spec)))
        )
        value.number_format = setting_number_format(spec)
        value.alignment = Alignment(horizontal="right")
        ws.cell(row=row, column=3, value=spec.help).alignment = Alignment(wrap_text=True)
        _define(wb, setting_defined_name(spec.name), SETTINGS_SHEET, f"{value_letter}{row}")
        dv = _setting_validation(spec, validations)
        if dv is not None:
            dv.add(f"{value_letter}{row}")
    for dv in validations.values():
        ws.add_data_validation(dv)


def _setting_validation(
    spec: SettingSpec, made: dict[str, DataValidation]
) -> DataValidation | None:
    """The validation for a setting's Value cell, shared among settings alike."""
    if spec.kind is SettingKind.CHOICE:
        key = "list:" + ",".join(spec.choices)
        if key not in made:
            made[key] = _list_validation(spec.choices, spec.name)
    elif spec.kind is SettingKind.YES_NO:
        key = "yes/no"
        if key not in made:
            made[key] = _list_validation(("Yes", "No"), "Yes or No")
    elif spec.kind is SettingKind.PERCENT:
        key = "percent"
        if key not in made:
            made[key] = _number_validation(
                "decimal", "between", "0", "1", "Percentage", "Enter a percentage from 0% to 100%."
            )
    elif spec.kind is SettingKind.MONEY:
        key = "money"
        if key not in made:
            made[key] = _number_validation(
                "decimal",
                "greaterThanOrEqual",
                "0",
                None,
                "Amount",
                "Enter an amount of 0 or more.",
            )
    elif spec.kind is SettingKind.DAYS:
        key = "days"
        if key not in made:
            made[key] = _number_validation(
                "whole", "greaterThanOrEqual", "0", None, "Days", "Enter whole days, 0 or more."
            )
    elif spec.kind is SettingKind.WEEKS:
        key = "weeks"
        if key not in made:
            made[key] = _number_validation(
                "whole", "between", "1", "52", "Weeks", "Enter whole weeks, 1 to 52."
            )
    elif spec.kind is SettingKind.DATE:
        key = "date"
        if key not in made:
            # 36526 is 2000-01-01: anything earlier is a typo, not a rebalance date.
            made[key] = _number_validation(
                "date", "greaterThanOrEqual", "36526", None, "Date", "Enter a date (YYYY-MM-DD)."
            )
    else:
        return None
    return made[key]


# --- Performance -------------------------------------------------------------------------


def performance_formulas(row: int, *, household: bool = False) -> dict[str, str]:
    """The formula of each Performance formula column on `row` (no leading '=').

    In a household a ticker's shares are summed over its rows in every account."""
    p, h = PerformanceHeader, HoldingsHeader
    cols = PERFORMANCE_COLUMNS
    ticker = f"{_letter(cols, p.TICKER)}{row}"
    last_price = f"{_letter(cols, p.LAST_PRICE)}{row}"
    price = f"{_letter(cols, p.CURRENT_PRICE)}{row}"
    ret = f"{_letter(cols, p.RETURN)}{row}"
    weight = f"{_letter(cols, p.LAST_WEIGHT)}{row}"
    match = f"MATCH({ticker},{_whole(h.TICKER)},0)"
    shares = (
        f"SUMIF({_whole(h.TICKER)},{ticker},{_whole(h.SHARES)})"
        if household
        else f"INDEX({_whole(h.SHARES)},{match})"
    )
    return {
        p.CURRENT_PRICE: (
            f'IF({ticker}="","",IFERROR(INDEX({_whole(h.CURRENT_PRICE)},{match}),""))'
        ),
        p.RETURN: (
            f"IF(AND(ISNUMBER({last_price}),ISNUMBER({price})),"
            f'IF({last_price}=0,"",{price}/{last_price}-1),"")'
        ),
        p.LAST_WEIGHT: (
            f'IF(OR({ticker}="",NOT(ISNUMBER({last_price}))),"",'
            f'IFERROR({shares}*{last_price}/{NAME_LAST_VALUE},""))'
        ),
        p.CONTRIBUTION: f'IF(AND(ISNUMBER({weight}),ISNUMBER({ret})),{weight}*{ret},"")',
        # Rounded like drift, so a return of exactly +20% is a Winner despite floats.
        p.CLASS: (
            f'IF(ISNUMBER({ret}),IF(ROUND({ret},4)>={_WINNER_FROM},"Winner",'
            f'IF(ROUND({ret},4)>={_LAGGARD_BELOW},"In-line","Laggard")),"")'
        ),
    }


def _performance_sheet(wb: Workbook, sample: bool, household: bool = False) -> None:
    ws = wb[PERFORMANCE]
    columns = PERFORMANCE_COLUMNS
    p = PerformanceHeader
    _write_header(ws, columns)
    first, last = 2, PERFORMANCE_ROWS + 1
    _write_rows(ws, columns, sample_data.PERFORMANCE if sample else ())
    for row in range(first, last + 1):
        _style_body(ws, row, columns)
        for header, formula in performance_formulas(row, household=household).items():
            index = [c.header for c in columns].index(header) + 1
            ws.cell(row=row, column=index, value="=" + formula)

    # The portfolio's summary sits beside the table, in columns no header claims, so a
    # reader going down the Ticker column never mistakes it for a position.
    label_col = len(columns) + 2
    value_col = label_col + 1
    tickers = f"${_letter(columns, p.TICKER)}${first}:${_letter(columns, p.TICKER)}${last}"
    prices = f"${_letter(columns, p.LAST_PRICE)}${first}:${_letter(columns, p.LAST_PRICE)}${last}"
    contrib = _letter(columns, p.CONTRIBUTION)
    h = HoldingsHeader
    summary = (
        (
            "Value at last rebalance prices",
            f"=SUMPRODUCT(SUMIF({_whole(h.TICKER)},{tickers},{_whole(h.SHARES)}),{prices})",
            MONEY,
            NAME_LAST_VALUE,
        ),
        (
            QUARTER_RETURN_LABEL,
            f'=IF(N({NAME_LAST_VALUE})>0,SUM({contrib}{first}:{contrib}{last}),"")',
            SIGNED_PERCENT,
            NAME_QUARTER_RETURN,
        ),
    )
    head = ws.cell(row=1, column=label_col, value="Portfolio")
    head.font = _HEADER_FONT
    head.fill = PatternFill("solid", fgColor=HEADER_FILL[Kind.FORMULA])
    head.alignment = _HEADER_ALIGN
    ws.cell(row=1, column=value_col).fill = PatternFill("solid", fgColor=HEADER_FILL[Kind.FORMULA])
    for row, (label, formula, fmt, name) in enumerate(summary, start=2):
        ws.cell(row=row, column=label_col, value=label).font = Font(name=_FONT_NAME, bold=True)
        cell = ws.cell(row=row, column=value_col, value=formula)
        cell.number_format = fmt
        cell.fill = PatternFill("solid", fgColor=BODY_FILL[Kind.FORMULA])
        cell.border = _BORDER
        _define(wb, name, PERFORMANCE, cell.coordinate)
    ws.column_dimensions[get_column_letter(label_col - 1)].width = 3
    ws.column_dimensions[get_column_letter(label_col)].width = 30
    ws.column_dimensions[get_column_letter(value_col)].width = 14
    ret = _letter(columns, p.RETURN)
    klass = _letter(columns, p.CLASS)
    for word, fill in (("Winner", _GREEN), ("Laggard", _RED)):
        ws.conditional_formatting.add(
            f"{klass}{first}:{klass}{last}",
            _rule(formula=[f'${klass}{first}="{word}"'], fill=fill),
        )
    ws.conditional_formatting.add(
        f"{ret}{first}:{ret}{last}",
        _rule(formula=[f"AND(ISNUMBER(${ret}{first}),${ret}{first}<0)"], font=Font(color="C00000")),
    )


# --- Plain sheets and the checklist -------------------------------------------------------


def _plain_sheet(
    ws: Worksheet, columns: tuple[Column, ...], rows: Iterable[Mapping[str, object]]
) -> None:
    # Only rows with data are styled: styled empty rows would count as used rows, and a
    # writer appending after the last used row would leave a gap.
    _write_header(ws, columns)
    _write_rows(ws, columns, rows)


def _checklist_sheet(ws: Worksheet) -> None:
    columns = CHECKLIST_COLUMNS
    c = ChecklistHeader
    rows: list[dict[str, object]] = [
        {c.KEY: item.key, c.PHASE: item.phase, c.STEP: item.step} for item in CHECKLIST_ITEMS
    ]
    last = _write_rows(ws, columns, rows)
    _write_header(ws, columns)
    for row in range(2, last + 1):  # keys are for the run, so keep them quiet
        ws.cell(row=row, column=1).font = Font(name=_FONT_NAME, color="808080")
    done = _letter(columns, c.DONE)
    dv = _list_validation(("Yes", "No"), "Done")
    dv.add(f"{done}2:{done}{last}")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add(
        f"A2:{get_column_letter(len(columns))}{last}",
        _rule(formula=[f'UPPER(${done}2)="YES"'], fill=_GREEN),
    )
    # A thicker rule above the first step of each phase separates the four phases.
    previous = None
    for row in range(2, last + 1):
        phase = ws.cell(row=row, column=2).value
        if phase != previous:
            for index in range(1, len(columns) + 1):
                cell = ws.cell(row=row, column=index)
                cell.border = Border(
                    left=_THIN, right=_THIN, bottom=_THIN, top=Side(style="medium", color="595959")
                )
            ws.cell(row=row, column=2).font = Font(name=_FONT_NAME, bold=True)
        previous = phase


# --- Dashboard ----------------------------------------------------------------------------

#: Dashboard rows, top to bottom; formulas find each other's cells through this order.
_METRICS: tuple[str, ...] = (
    "Total value",
    "Cost (shares × purchase price)",
    "Gain / loss since purchase",
    "Largest position",
    "Smallest position",
    "Cash",
    "Targets add up to",
    QUARTER_RETURN_LABEL,
    "Strategy",
    "As-of date",
    "Last rebalance",
    "Next rebalance",
)
_FIRST_METRIC_ROW = 5


def _metric_row(label: str) -> int:
    return _FIRST_METRIC_ROW + _METRICS.index(label)


def _dashboard_metrics(
    household: bool = False,
) -> dict[str, tuple[str | ArrayFormula, str | ArrayFormula | None, str]]:
    """Per metric: the value formula (column B), the weight formula (column C), the format.

    In a household the largest and smallest positions are tickers, their weight summed
    over every account's row (SPEC §9), not single rows."""
    h = HoldingsHeader
    value, weight, ticker = _whole(h.CURRENT_VALUE), _whole(h.WEIGHT), _whole(h.TICKER)
    total = f"B{_metric_row('Total value')}"
    cost = f"B{_metric_row('Cost (shares × purchase price)')}"
    gain = f"B{_metric_row('Gain / loss since purchase')}"
    cash = f"B{_metric_row('Cash')}"
    strategy = setting_defined_name("Strategy")
    default_strategy = display_value(next(s for s in SETTINGS if s.name == "Strategy"))
    as_of = setting_defined_name("As-of Date")
    last = setting_defined_name("Last Rebalance Date")
    next_letter = _letter(HISTORY_COLUMNS, HistoryHeader.NEXT_DATE)
    next_dates = f"{quote_sheetname(HISTORY)}!${next_letter}$2:${next_letter}$10000"
    # Largest and smallest are among stock positions: cash is not a position to trim,
    # and a zero-share new pick is not held yet. Array formulas, so that Excel versions
    # without dynamic arrays evaluate the IF over the whole column too.
    stock = f'ISNUMBER({weight})*({ticker}<>"{CASH}")'
    if household:
        weight = f"SUMIF({ticker},{ticker},{weight})"

    def position(label: str, pick: str) -> tuple[ArrayFormula, ArrayFormula, str]:
        row = _metric_row(label)
        share = f"C{row}"
        name = (
            f"=IF(N({share})>0,INDEX({ticker},MATCH(1,({weight}={share})"
            f'*({ticker}<>"{CASH}"),0)),"")'
        )
        return ArrayFormula(f"B{row}", name), ArrayFormula(share, pick), GENERAL

    return {
        "Total value": (f"=SUM({value})", None, MONEY),
        "Cost (shares × purchase price)": (
            f"=SUMPRODUCT({_whole(h.SHARES)},{_whole(h.PURCHASE_PRICE)})",
            None,
            MONEY,
        ),
        # Only rows with a Purchase Price gained anything: a blank cost is unknown, and
        # counting such a row's whole value as gain would overstate it (the engine agrees).
        "Gain / loss since purchase": (
            f"=SUMPRODUCT(--ISNUMBER({_whole(h.PURCHASE_PRICE)}),{value})-{cost}",
            f'=IF({cost}>0,{gain}/{cost},"")',
            MONEY,
        ),
        "Largest position": position("Largest position", f"=MAX(IF({stock},{weight}))"),
        "Smallest position": position(
            "Smallest position", f"=MIN(IF({stock}*({weight}>0),{weight}))"
        ),
        "Cash": (f'=SUMIF({ticker},"{CASH}",{value})', f'=IF({total}>0,{cash}/{total},"")', MONEY),
        "Targets add up to": (f"=SUM({_whole(h.TARGET)})", None, PERCENT),
        QUARTER_RETURN_LABEL: (f"={NAME_QUARTER_RETURN}", None, SIGNED_PERCENT),
        "Strategy": (f'=IF({strategy}="","{default_strategy}",{strategy})', None, GENERAL),
        "As-of date": (f'=IF(ISNUMBER({as_of}),{as_of},"today")', None, DATE),
        "Last rebalance": (f'=IF(ISNUMBER({last}),{last},"not set")', None, DATE),
        # Each run writes its Next Rebalance Date to History and snapshots leave it blank,
        # so the latest run's is the largest date in the column.
        "Next rebalance": (
            f'=IF(MAX({next_dates})>0,MAX({next_dates}),"after the first run")',
            None,
            DATE,
        ),
    }


def _dashboard_sheet(
    ws: Worksheet, holding_rows: int, sample: bool, household: bool = False
) -> None:
    ws.sheet_view.showGridLines = False
    for letter, width in (("A", 34), ("B", 16), ("C", 11), ("D", 3)):
        ws.column_dimensions[letter].width = width
    _landscape(ws)

    ws["A1"] = "Quarterly Rebalancing"
    ws["A1"].font = _TITLE_FONT
    ws.row_dimensions[1].height = 26
    if sample:
        ws["A2"] = sample_data.NOTE
        ws["A2"].fill = _SAMPLE_FILL
        ws["A2"].font = Font(name=_FONT_NAME, bold=True, color="833C0B")
        ws.merge_cells("A2:P2")
    else:
        ws["A2"] = "Fill in Holdings and Settings, then run a rebalance."
        ws["A2"].font = Font(name=_FONT_NAME, italic=True, color="595959")

    ws.cell(row=_FIRST_METRIC_ROW - 1, column=1, value="Portfolio").font = _SECTION_FONT
    formula_fill = PatternFill("solid", fgColor=BODY_FILL[Kind.FORMULA])
    for label, (main, share, fmt) in _dashboard_metrics(household).items():
        row = _metric_row(label)
        ws.cell(row=row, column=1, value=label).border = _BORDER
        cell = ws.cell(row=row, column=2, value=main)
        cell.number_format = fmt
        cell.alignment = Alignment(horizontal="right")
        side = ws.cell(row=row, column=3, value=share)
        # Largest/smallest weigh 0 in an empty book; show nothing rather than 0.00%.
        side.number_format = "0.00%;-0.00%;;@" if isinstance(share, ArrayFormula) else PERCENT
        for c in (cell, side):
            c.fill = formula_fill
            c.border = _BORDER
    # Targets must add up to 100% (SPEC §1); show the sum red when they do not.
    targets = f"B{_metric_row('Targets add up to')}"
    ws.conditional_formatting.add(
        targets,
        _rule(formula=[f"ABS({targets}-1)>0.0001"], fill=_RED, font=Font(color="9C0006")),
    )

    legend_top = _FIRST_METRIC_ROW + len(_METRICS) + 1
    ws.cell(row=legend_top, column=1, value="Colour key").font = _SECTION_FONT
    for offset, kind in enumerate((Kind.INPUT, Kind.FORMULA, Kind.OUTPUT), start=1):
        row = legend_top + offset
        swatch = ws.cell(row=row, column=1, value=kind.value.title())
        swatch.fill = PatternFill("solid", fgColor=HEADER_FILL[kind])
        swatch.font = _HEADER_FONT
        swatch.border = _BORDER
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
    ).font = Font(name=_FONT_NAME, italic=True, color="595959")

    ws.add_chart(_weights_chart(holding_rows, empty=not sample), f"E{_FIRST_METRIC_ROW - 1}")


def _weights_chart(last_row: int, *, empty: bool = False) -> BarChart:
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
    sheet = _HoldingsRef(last_row)
    for header, colour in (
        (h.WEIGHT, HEADER_FILL[Kind.OUTPUT]),
        (h.TARGET, "A5A5A5"),
        (h.POST_TRADE, "70AD47"),
    ):
        chart.add_data(sheet.column(header, with_header=True), titles_from_data=True)
        chart.series[-1].graphicalProperties.solidFill = colour
        chart.series[-1].graphicalProperties.line.solidFill = colour
    chart.set_categories(sheet.column(h.TICKER, with_header=False))
    return chart


class _HoldingsRef:
    """Chart ranges over the Holdings table, by header."""

    def __init__(self, last_row: int) -> None:
        self.last_row = last_row

    def column(self, header: str, *, with_header: bool) -> Reference:
        index = [c.header for c in HOLDINGS_COLUMNS].index(header) + 1
        return Reference(
            range_string=f"{quote_sheetname(HOLDINGS)}!${get_column_letter(index)}$"
            f"{1 if with_header else 2}:${get_column_letter(index)}${self.last_row}"
        )

"""The openpyxl ends of the batch path: a loaded workbook to a `Book`, `Op`s back onto it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import (
    LINE_HEIGHT,
    AddSheet,
    Autofit,
    Book,
    ClearContents,
    DeleteSheet,
    FitRows,
    Formula,
    Op,
    PrintLayout,
    SetColor,
    SetFormat,
    SetValues,
    Sheet,
    wrapped_lines,
)

READ_SHEETS = S.READ_SHEETS


def book_from_openpyxl(wb: Workbook, path: Path | None = None) -> Book:
    """Read the sheets a run needs. Formula cells become `Formula`s; if any input holds
    one, Excel's cached values are fetched (with calamine) so it can be used."""
    sheets: dict[str, Sheet] = {}
    has_formula = False
    for ws in wb.worksheets:
        if ws.title not in READ_SHEETS and S.log_date(ws.title) is None:
            continue
        rows, formulas = _sheet_rows(ws)
        has_formula = has_formula or formulas
        merged = tuple((m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges)
        sheets[ws.title] = Sheet(ws.title, _trim(rows), merged)
    book = Book(
        sheets,
        macro_enabled=bool(getattr(wb, "vba_archive", None)),
        sheet_order=tuple(wb.sheetnames),
    )
    if has_formula and path is not None:
        book = _with_cached_values(book, path)
    return book


def _sheet_rows(ws: Worksheet) -> tuple[list[tuple[object, ...]], bool]:
    """The cells `ws` holds, as rows from row 1; and whether any is a formula.

    Reads the sheet's own cells rather than `iter_rows`, which walks the whole used
    rectangle and creates a cell object for every empty position in it: a Holdings sheet
    with blank rows formatted down to row 100,000 would cost millions of cells, seconds,
    and a bloated save. A formula is a cell of type "f"; text that merely starts with
    "=" is text.
    """
    grid: dict[int, dict[int, object]] = {}
    has_formula = False
    for (r, c), cell in ws._cells.items():
        v: object = cell.value
        if v is None:
            continue
        if cell.data_type == "f":
            v = Formula(v if isinstance(v, str) else str(getattr(v, "text", v)))
            has_formula = True
        elif isinstance(v, datetime) and v.time() == datetime.min.time():
            v = v.date()
        grid.setdefault(r, {})[c] = v
    rows: list[tuple[object, ...]] = []
    for r in range(1, max(grid, default=0) + 1):
        cols = grid.get(r, {})
        rows.append(tuple(cols.get(c) for c in range(1, max(cols, default=0) + 1)))
    return rows, has_formula


def _trim(rows: list[tuple[object, ...]]) -> tuple[tuple[object, ...], ...]:
    """Drop trailing empty rows (a sheet formatted down to row 100,000 has no data there)."""
    end = len(rows)
    while end and all(v is None or v == "" for v in rows[end - 1]):
        end -= 1
    return tuple(rows[:end])


def _with_cached_values(book: Book, path: Path) -> Book:
    """Attach the values Excel last calculated to each Formula (None if never calculated)."""
    from python_calamine import CalamineWorkbook

    try:
        cal = CalamineWorkbook.from_path(str(path))
    except Exception:  # an unreadable cache only means formulas have no cached values
        return book
    sheets = {}
    for name, sheet in book.sheets.items():
        if not any(isinstance(v, Formula) for row in sheet.rows for v in row):
            sheets[name] = sheet
            continue
        try:
            cached = cal.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception:
            cached = []
        rows = []
        for r, row in enumerate(sheet.rows):
            cells = []
            for c, v in enumerate(row):
                if isinstance(v, Formula):
                    value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
                    v = Formula(v.text, None if value == "" else value)
                cells.append(v)
            rows.append(tuple(cells))
        sheets[name] = Sheet(name, tuple(rows), sheet.merged)
    return Book(sheets, book.macro_enabled, book.sheet_order)


def apply_ops(wb: Workbook, ops: Iterable[Op]) -> None:
    """Carry out the writes on an openpyxl workbook (the batch path's 'apply')."""
    # `wb[name]` scans every sheet's title on each call: look sheets up once instead.
    sheets = {name: wb[name] for name in wb.sheetnames}
    for op in ops:
        if isinstance(op, SetValues):
            ws = sheets[op.sheet]
            existing = ws._cells
            for dr, row in enumerate(op.values):
                for dc, value in enumerate(row):
                    r, c = op.row + dr, op.col + dc
                    if value is None and (r, c) not in existing:
                        continue  # already blank: a new empty cell would only bloat the file
                    cell = ws.cell(row=r, column=c)
                    cell.value = value  # type: ignore[assignment]  # plain cell values only
                    if isinstance(value, str):
                        cell.data_type = "s"  # text stays text, never a formula
        elif isinstance(op, SetFormat):
            ws = sheets[op.sheet]
            for cell in _cells(ws, op.row, op.col, op.rows, op.cols):
                cell.number_format = op.number_format
        elif isinstance(op, SetColor):
            ws = sheets[op.sheet]
            fill = PatternFill("solid", fgColor=op.color) if op.color else PatternFill()
            for cell in _cells(ws, op.row, op.col, op.rows, op.cols):
                cell.fill = fill
        elif isinstance(op, ClearContents):
            ws = sheets[op.sheet]
            for cell in _cells(ws, op.row, op.col, op.rows, op.cols):
                cell.value = None
        elif isinstance(op, AddSheet):
            sheets[op.name] = wb.create_sheet(op.name)
        elif isinstance(op, DeleteSheet):
            wb.remove(sheets.pop(op.name))
        elif isinstance(op, Autofit):
            _autofit(sheets[op.sheet], op)
        elif isinstance(op, FitRows):
            _fit_rows(sheets[op.sheet], op)
        elif isinstance(op, PrintLayout):
            ws = sheets[op.sheet]
            ws.page_setup.orientation = "landscape"
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
            ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
            ws.oddHeader.left.text = "&A"
            ws.oddHeader.right.text = "Page &P of &N"


def _cells(ws: Worksheet, row: int, col: int, rows: int, cols: int) -> Iterable:  # type: ignore[type-arg]
    for r in range(row, row + rows):
        for c in range(col, col + cols):
            yield ws.cell(row=r, column=c)


def _fit_rows(ws: Worksheet, op: FitRows) -> None:
    """The package writer's estimate (FitRows), on an openpyxl sheet."""
    letter = get_column_letter(op.col)
    width = ws.column_dimensions[letter].width or 8.43
    for r in range(op.row, op.row + op.rows):
        dim = ws.row_dimensions[r]
        if dim.customHeight and dim.height:
            continue
        value = ws.cell(row=r, column=op.col).value
        lines = wrapped_lines(str(value), width) if value else 1
        dim.height = lines * LINE_HEIGHT if lines > 1 else None


def _autofit(ws: Worksheet, op: Autofit) -> None:
    """Column widths from the longest text in the block, as Excel's autofit roughly does."""
    widths: dict[int, int] = {}
    last_row, last_col = op.row + op.rows - 1, op.col + op.cols - 1
    # The cells that exist, as `_sheet_rows` reads them: `iter_rows` would create an
    # empty cell at every blank position of the block, and save them all.
    for (r, c), cell in ws._cells.items():
        value = cell.value
        if value is None or not (op.row <= r <= last_row and op.col <= c <= last_col):
            continue
        text = (
            value.isoformat()
            if isinstance(value, date)
            else (f"{value:,.2f}" if isinstance(value, float) else str(value))
        )
        widths[c] = max(widths.get(c, 0), len(text))
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(80, max(8, width + 2))

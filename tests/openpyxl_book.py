"""A second reader of a workbook, through openpyxl (and calamine for cached values).

The run reads packages with `rebalancer_xl.adapters.package_read`; tests read the same
files through this independent path and compare the two."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import (
    Book,
    Formula,
    Sheet,
)
from rebalancer_xl.workbook.totals import sheet_without_totals

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
        sheets[ws.title] = sheet_without_totals(ws.title, _trim(rows), merged, _totals_rows(ws))
    book = Book(
        sheets,
        macro_enabled=bool(getattr(wb, "vba_archive", None)),
        sheet_order=tuple(wb.sheetnames),
    )
    if has_formula and path is not None:
        book = _with_cached_values(book, path)
    return book


def _totals_rows(ws: Worksheet) -> frozenset[int]:
    """The last row of each table on `ws` that shows a Total Row."""
    return frozenset(
        range_boundaries(t.ref)[3] for t in ws.tables.values() if (t.totalsRowCount or 0) > 0
    )


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
        sheets[name] = Sheet(name, tuple(rows), sheet.merged, sheet.totals_rows)
    return Book(sheets, book.macro_enabled, book.sheet_order)

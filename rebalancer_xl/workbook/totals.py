"""Excel Tables' Total Rows: never read as data, never written over.

A table's Total Row (Table Design > Total Row) is the row of SUBTOTALs Excel keeps under
its last row of data. Read as data it was a holding named "Total" with no price, or a
History entry dated "Total"; the run reads it as a blank row instead. Rows the run adds
to a table (History, Trades, a household's new row) go where that row is: the run cannot
move it down as Excel's own Insert does, so a write that would land on it is refused
before anything is written, with what to do, rather than overwriting the user's sums.
"""

from __future__ import annotations

from collections.abc import Iterable

from rebalancer_xl.core.model import CellRef, Problem, Where
from rebalancer_xl.core.problems import problem
from rebalancer_xl.workbook.grid import (
    AddSheet,
    Book,
    ClearContents,
    DeleteSheet,
    Op,
    SetColor,
    SetFormat,
    SetValues,
    Sheet,
    Value,
    a1,
)


def sheet_without_totals(
    name: str,
    rows: tuple[tuple[Value, ...], ...],
    merged: tuple[tuple[int, int, int, int], ...],
    totals_rows: frozenset[int],
) -> Sheet:
    """The sheet as the run reads it: each Total Row blank (and still known)."""
    if totals_rows:
        kept = list(rows)
        for r in totals_rows:
            if 1 <= r <= len(kept):
                kept[r - 1] = ()
        while kept and all(v is None for v in kept[-1]):
            kept.pop()  # a Total Row last on the sheet leaves no trailing blank rows
        rows = tuple(kept)
    return Sheet(name, rows, merged, totals_rows)


def writes_on_totals(book: Book, ops: Iterable[Op]) -> list[Problem]:
    """A problem for each Total Row that one of `ops` would write on, at its first cell
    written, sheet by sheet in the order the ops reach them."""
    # Most books have no Total Row: their ops are not looked at (a run renders a hundred).
    if not any(sheet.totals_rows for sheet in book.sheets.values()):
        return []
    made = set()  # sheets the ops delete or add: a table of the old sheet is gone
    found: dict[tuple[str, int], int] = {}  # (sheet, Total Row) -> first column written
    for op in ops:
        if isinstance(op, AddSheet | DeleteSheet):
            made.add(op.name)
            continue
        if isinstance(op, SetValues):
            rows = len(op.values)
            cols = max((len(r) for r in op.values), default=0)
        elif isinstance(op, SetFormat | SetColor | ClearContents):
            rows, cols = op.rows, op.cols
        else:
            continue  # column widths, row heights, page setup: not the row's cells
        sheet = book.get(op.sheet)
        if sheet is None or not sheet.totals_rows or op.sheet in made or not cols:
            continue
        for r in sheet.totals_rows:
            if op.row <= r < op.row + rows:
                key = (op.sheet, r)
                found[key] = min(found.get(key, op.col), op.col)
    return [
        problem(
            "table-total-row",
            Where(sheet, cell=CellRef(sheet, a1(r, col))),
            row=r,
        )
        for (sheet, r), col in found.items()
    ]

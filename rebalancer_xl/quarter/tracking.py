"""Writes the quarter's commands share: cell numbers, History snapshots, Checklist ticks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.values import BadValue, parse_date
from rebalancer_xl.quarter.trades_sheet import plain
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Op, SetFormat, row_writes
from rebalancer_xl.workbook.inputs import find_table


def cell_number(value: Decimal) -> int | float:
    """A Decimal as a cell value: whole numbers stay whole (250, not 250.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def as_date(raw: object) -> date | None:
    try:
        return parse_date(raw, "date")
    except BadValue:
        return None


def snapshot_row_ops(book: Book, when: date, run_type: str, values: dict[str, object]) -> list[Op]:
    """One History row of `run_type` for `when`, replacing that date's row of the type."""
    sheet = book.get(S.HISTORY)
    table = None if sheet is None else find_table(sheet, S.HistoryHeader.DATE)
    if table is None:
        return []
    row = table.last_row() + 1
    for r in range(table.first_row, table.last_row() + 1):
        if as_date(plain(table.get(r, S.HistoryHeader.DATE))) == when and (
            plain(table.get(r, S.HistoryHeader.RUN_TYPE)) == run_type
        ):
            row = r
            break
    full = {S.HistoryHeader.DATE: when, S.HistoryHeader.RUN_TYPE: run_type, **values}
    return history_row_ops(row, table.columns, full)


def history_row_ops(row: int, cols: Mapping[str, int], values: Mapping[str, object]) -> list[Op]:
    """History row `row`: each column the sheet has (`cols`, header -> column) gets its
    value (blank where `values` has none) as one write, then its number format."""
    written = [c for c in S.HISTORY_COLUMNS if c.header in cols]
    ops: list[Op] = []
    ops += row_writes(S.HISTORY, row, {cols[c.header]: values.get(c.header) for c in written})
    ops += [SetFormat(S.HISTORY, row, cols[c.header], 1, 1, c.number_format) for c in written]
    return ops


def checklist_ops(book: Book, keys: Collection[str], note: str) -> list[Op]:
    """Tick `keys` on the Checklist, saying who ticked them."""
    sheet = book.get(S.CHECKLIST)
    table = None if sheet is None else find_table(sheet, S.ChecklistHeader.KEY)
    if table is None or S.ChecklistHeader.DONE not in table.columns:
        return []
    tick = {table.columns[S.ChecklistHeader.DONE]: S.DONE}
    if S.ChecklistHeader.NOTE in table.columns:
        tick[table.columns[S.ChecklistHeader.NOTE]] = note
    ops: list[Op] = []
    for r in range(table.first_row, table.last_row() + 1):
        if plain(table.get(r, S.ChecklistHeader.KEY)) in keys:
            ops += row_writes(S.CHECKLIST, r, tick)
    return ops

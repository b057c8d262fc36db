"""What every way into a workbook shares: a grid of cell values in, a list of writes out.

Reading a workbook (openpyxl for batch runs, xlwings for the Excel button) ends in a
`Book` of plain values; planning produces `Op`s that say what to write. Only those two
ends differ between the paths, so the button and the batch run cannot disagree. The
ops are deliberately the few things every xlwings client can carry out: set values,
number formats and colours, add, delete or clear sheets and ranges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rebalancer_xl.core.model import fast_constructor

Value = object  # str, int, float, bool, datetime/date, None, or Formula


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula found in a cell, with the value Excel last calculated for it, if any."""

    text: str
    cached: object = None


#: `Formula(text, cached)` without the frozen class's cost per field: a reader makes one
#: per formula cell (250 in the sample's Performance sheet, 80,000 in a 10,000-row
#: Holdings sheet), where the class's own __init__ cost ~7,000 instructions each.
new_formula = fast_constructor(Formula)


@dataclass(frozen=True, slots=True)
class Sheet:
    """Cell values of one sheet; rows[0] is Excel row 1, rows[r][0] column A."""

    name: str
    rows: tuple[tuple[Value, ...], ...]
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (min_row, min_col, max_row, max_col)
    # The Total Row of each Excel Table on the sheet (Table Design > Total Row): a row of
    # the table's sums, not of its data. The run reads no data from it and writes none.
    totals_rows: frozenset[int] = frozenset()

    def value(self, row: int, col: int) -> Value:
        """The value at 1-based (row, col), None outside the grid."""
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= col <= len(cells):
                return cells[col - 1]
        return None

    @property
    def max_row(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class Book:
    """The sheets a run reads, by name, in workbook order."""

    sheets: dict[str, Sheet]
    macro_enabled: bool = False
    sheet_order: tuple[str, ...] = field(default=())

    def get(self, name: str) -> Sheet | None:
        return self.sheets.get(name)


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


# --- writes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetValues:
    """Write a block of values with its top-left at 1-based (row, col). Text is text:
    a string is never turned into a formula."""

    sheet: str
    row: int
    col: int
    values: tuple[tuple[Value, ...], ...]


@dataclass(frozen=True, slots=True)
class SetFormat:
    sheet: str
    row: int
    col: int
    rows: int
    cols: int
    number_format: str


@dataclass(frozen=True, slots=True)
class SetColor:
    sheet: str
    row: int
    col: int
    rows: int
    cols: int
    color: str | None  # "RRGGBB", or None to clear


@dataclass(frozen=True, slots=True)
class ClearContents:
    sheet: str
    row: int
    col: int
    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class AddSheet:
    name: str


@dataclass(frozen=True, slots=True)
class DeleteSheet:
    name: str


@dataclass(frozen=True, slots=True)
class Autofit:
    """Fit column widths to the cells of this block (not to long notes elsewhere)."""

    sheet: str
    row: int
    col: int
    rows: int
    cols: int


@dataclass(frozen=True, slots=True)
class FitRows:
    """Make rows `row` … `row + rows − 1` tall enough for the wrapped text of column
    `col`. Excel (the button) measures it itself; the command estimates it from the
    text's length and the column's width, and leaves a height the user set alone."""

    sheet: str
    row: int
    rows: int
    col: int


# Excel's header codes: the sheet's name on the left, "Page n of m" on the right.
PRINT_HEADER = "&L&A&RPage &P of &N"


@dataclass(frozen=True, slots=True)
class PrintLayout:
    """Print a sheet the run made landscape, scaled to one page wide (as many pages tall
    as it needs), each page headed by the sheet's name and its page number, and row
    `repeat_row` (the header of its long table) printed again at the top of every page.
    Only the command's writer carries it out: xlwings' remote clients have no page
    setup, so the button leaves the sheet to Excel's defaults."""

    sheet: str
    repeat_row: int | None = None


Op = (
    SetValues
    | SetFormat
    | SetColor
    | ClearContents
    | AddSheet
    | DeleteSheet
    | Autofit
    | FitRows
    | PrintLayout
)


LINE_HEIGHT = 15.0  # points a line of 11-point text takes, Excel's default row height


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped in a column `width` characters wide.

    A column's width counts the digit '0'; the average letter of a sentence is a little
    narrower, so about 1.1 of them fit in each unit. Words are not split."""
    per_line = max(1, int(width * 1.1))
    lines, used = 1, 0
    for word in text.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > per_line:
            lines, used = lines + 1, len(word)
        else:
            used += need
    return lines


def column_block(values: Sequence[Value]) -> tuple[tuple[Value, ...], ...]:
    return tuple((v,) for v in values)


def _adjacent(columns: Iterable[int]) -> list[list[int]]:
    """Column numbers, sorted, cut into runs of adjacent ones: 1 2 3 5 6 → [1 2 3] [5 6]."""
    runs: list[list[int]] = []
    for col in sorted(columns):
        if runs and col == runs[-1][-1] + 1:
            runs[-1].append(col)
        else:
            runs.append([col])
    return runs


def row_writes(sheet: str, row: int, cells: Mapping[int, Value]) -> list[SetValues]:
    """Cells of one row, by column, as one write per run of adjacent columns.

    Each op is a round trip for the Excel button: a History row of eight columns is one
    write, not eight, and a Checklist tick with its note beside it one, not two.
    """
    return [
        SetValues(sheet, row, run[0], (tuple(cells[c] for c in run),)) for run in _adjacent(cells)
    ]


def column_writes(sheet: str, row: int, columns: Mapping[int, Sequence[Value]]) -> list[SetValues]:
    """Columns of values of one length, by column, from `row` down: one block per run of
    adjacent columns (a round trip for the Excel button, as `row_writes` says)."""
    return [
        SetValues(sheet, row, run[0], tuple(zip(*(columns[c] for c in run), strict=True)))
        for run in _adjacent(columns)
    ]

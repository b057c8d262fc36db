"""The Run Rebalance button: the xlwings ends of the shared pipeline.

A click reads every sheet the run needs into a `grid.Book` (read everything first),
calls `pipeline.plan_book` — the very function `rebalancer-xl run` calls — and then
carries out the rendered `Op`s through xlwings. Only the reading and the writing
differ from the batch path, so the button and the command cannot disagree.

The writes use only the part of xlwings every client can carry out: desktop Excel
(Windows, macOS) and xlwings' remote clients (VBA, Office Scripts, Office.js and
xlwings Lite), whose action lists are much shorter than the desktop API. Each `Op`
maps to one of setValues, setNumberFormat, setRangeColor, rangeClearContents,
addSheet, sheetDelete, setAutofit and activateSheet; a workbook with errors gets one
alert and nothing else.

xlwings is imported inside functions: importing this module stays cheap (it is
imported by every `Rebalancing.py` beside a workbook, and by xlwings Lite scripts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import (
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
)
from rebalancer_xl.workbook.totals import sheet_without_totals

if TYPE_CHECKING:
    import xlwings as xw

    from rebalancer_xl.core.model import Problem
    from rebalancer_xl.pipeline import Edit, Outcome

#: Sheets a run reads (one list, in the schema); `Log YYYY-MM-DD` sheets too.
READ_SHEETS = S.READ_SHEETS

ALERT_TITLE = "Rebalance not run"

# Floats at or beyond 2**53 are not all whole numbers a spreadsheet could have typed.
_EXACT_INT = 2**53


def run_rebalance(
    book: xw.Book | None = None, *, as_of: date | None = None, today: date | None = None
) -> Outcome:
    """Plan the workbook and write the results into it; `None` means the calling book.

    Reads first, then plans with the same pipeline as `rebalancer-xl run`, then writes.
    A workbook with errors gets one alert listing every problem by cell, and no writes.
    Returns the pipeline's `Outcome` (the plan, the writes, the problems).
    """
    from rebalancer_xl.pipeline import plan_book

    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    grid = read_book(book)
    outcome = plan_book(grid, as_of=as_of, today=today)
    if not outcome.ok:
        book.app.alert(
            problems_message(book.name, outcome.problems),
            title=ALERT_TITLE,
            buttons="ok",
            mode="critical",
        )
        return outcome
    active = _active_sheet(book)
    write_ops(book, outcome.ops)
    if any(isinstance(op, AddSheet) for op in outcome.ops) and active in _names(book):
        # Adding a sheet activates it; bring the user back to where they pressed the button.
        book.sheets[active].activate()
    return outcome


RECORD_TITLE = "Fills not recorded"


def record_fills(book: xw.Book | None = None, *, on: date | None = None) -> Edit:
    """Record the fills typed into Trades (`rebalancer-xl record`) in the open workbook.

    The same reading, checks and writes as the command: a bad fill gets one alert
    listing every problem by cell, and nothing changes; no new fills, one short note.
    Like the Run Rebalance button, it does not save.
    """
    from rebalancer_xl.quarter.record import Recording, plan_record

    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    edit = plan_record(read_book(book), on or date.today())
    if not edit.ok:
        book.app.alert(
            problems_message(book.name, edit.problems),
            title=RECORD_TITLE,
            buttons="ok",
            mode="critical",
        )
        return edit
    if isinstance(edit.detail, Recording) and not edit.detail.fills:
        book.app.alert(
            "No new fills to record: type Filled Shares, Fill Price and Date on the "
            "Trades sheet first. Fills already recorded have an Applied date.",
            title="Record fills",
            buttons="ok",
            mode="info",
        )
        return edit
    write_ops(book, edit.ops)
    return edit


def _active_sheet(book: xw.Book) -> str | None:
    try:
        return str(book.sheets.active.name)
    except Exception:  # a chart sheet is active: there is no worksheet to return to
        return None


# --- reading ------------------------------------------------------------------------------


def read_book(book: xw.Book) -> Book:
    """The sheets a run reads, as a `grid.Book` of plain values like the openpyxl path's."""
    order = tuple(_names(book))
    sheets: dict[str, Sheet] = {}
    for name in order:
        if name not in READ_SHEETS and S.log_date(name) is None:
            continue
        sheet = book.sheets[name]
        rows = _used_values(sheet)
        merged = _merged_areas(sheet, rows) if name == S.HOLDINGS else ()
        sheets[name] = sheet_without_totals(name, rows, merged, _totals_rows(sheet))
    return Book(
        sheets, macro_enabled=book.name.lower().endswith((".xlsm", ".xlsb")), sheet_order=order
    )


def _totals_rows(sheet: xw.Sheet) -> frozenset[int]:
    """The Total Row of each Excel Table on the sheet: its range's last row, when shown.
    Every xlwings client sends the sheet's tables (desktop Excel, VBA, Office.js)."""
    try:
        return frozenset(t.range.last_cell.row for t in sheet.tables if t.show_totals)
    except Exception:
        # A client without tables, or a table it cannot describe: read as before (a
        # Total Row is then a row of data, which the checks refuse, a "Total" priceless).
        return frozenset()


def _names(book: xw.Book) -> list[str]:
    return [sheet.name for sheet in book.sheets]


def _used_values(sheet: xw.Sheet) -> tuple[tuple[object, ...], ...]:
    """Values from A1 to the used range's last cell (the used range may start later)."""
    last = sheet.used_range.last_cell
    block = sheet.range((1, 1), (last.row, last.column))
    # err_to_str: an error cell reads as '#N/A' like openpyxl gives it, not as blank.
    values = block.options(ndim=2, err_to_str=True).value
    rows = [tuple(cell_value(v) for v in row) for row in values]
    end = len(rows)
    while end and all(v is None for v in rows[end - 1]):
        end -= 1  # a sheet formatted far down has no data there (as the openpyxl path trims)
    return tuple(rows[:end])


def cell_value(value: object) -> object:
    """One cell as the openpyxl path would give it, so both paths plan identically.

    Excel hands every number over as a float, and `Decimal` keeps the difference between
    250.0 and 250 in reasons and messages; openpyxl reads a whole number as an int. Dates
    arrive as datetimes at midnight, which the openpyxl path turns into dates. Empty text
    is a blank cell.
    """
    if isinstance(value, str):
        return value if value != "" else None
    if (
        isinstance(value, float)
        and math.isfinite(value)
        and value.is_integer()
        and abs(value) < _EXACT_INT
    ):
        return int(value)
    if isinstance(value, datetime) and value.time() == time():
        return value.date()
    return value


def _merged_areas(
    sheet: xw.Sheet, rows: Sequence[Sequence[object]]
) -> tuple[tuple[int, int, int, int], ...]:
    """Merged areas inside the used range, where the engine can say (desktop Excel).

    The remote engines (xlwings Server, xlwings Lite) cannot read merges synchronously;
    there the check is skipped and the batch path is the one that reports merged cells.
    """
    width = max((len(r) for r in rows), default=0)
    if not rows or not width:
        return ()
    try:
        if sheet.range((1, 1), (len(rows), width)).merge_cells is False:
            return ()
        areas = set()
        for r in range(1, len(rows) + 1):
            for c in range(1, width + 1):
                cell = sheet.range((r, c))
                if cell.merge_cells:
                    area = cell.merge_area
                    areas.add((area.row, area.column, area.last_cell.row, area.last_cell.column))
    except NotImplementedError:
        return ()
    return tuple(sorted(areas))


# --- writing ------------------------------------------------------------------------------


def write_ops(book: xw.Book, ops: Iterable[Op]) -> None:
    """Carry out the writes with the actions every xlwings client supports."""
    for op in ops:
        if isinstance(op, SetValues):
            width = max((len(row) for row in op.values), default=0)
            if not width:
                continue
            values = [
                [excel_value(v) for v in row] + [None] * (width - len(row)) for row in op.values
            ]
            _range(book, op.sheet, op.row, op.col, len(values), width).value = values
        elif isinstance(op, SetFormat):
            _range(
                book, op.sheet, op.row, op.col, op.rows, op.cols
            ).number_format = op.number_format
        elif isinstance(op, SetColor):
            # Render only ever sets colours; clearing one (None) works on desktop and
            # Office.js, but the VBA and Office Scripts clients cannot do it.
            _range(book, op.sheet, op.row, op.col, op.rows, op.cols).color = (
                f"#{op.color}" if op.color else None
            )
        elif isinstance(op, ClearContents):
            _range(book, op.sheet, op.row, op.col, op.rows, op.cols).clear_contents()
        elif isinstance(op, AddSheet):
            # After the last sheet, as openpyxl's create_sheet does; desktop Excel's own
            # default would be before the active sheet.
            book.sheets.add(op.name, after=book.sheets[len(book.sheets) - 1])
        elif isinstance(op, DeleteSheet):
            book.sheets[op.name].delete()
        elif isinstance(op, Autofit):
            _range(book, op.sheet, op.row, op.col, op.rows, op.cols).columns.autofit()
        elif isinstance(op, FitRows):
            _range(book, op.sheet, op.row, op.col, op.rows, 1).rows.autofit()
        elif isinstance(op, PrintLayout):
            pass  # no page setup on xlwings' remote clients: Excel's defaults stand
        else:  # pragma: no cover - a new Op type needs its mapping here
            raise TypeError(f"no xlwings mapping for {op!r}")


def _range(book: xw.Book, sheet: str, row: int, col: int, rows: int, cols: int) -> xw.Range:
    return book.sheets[sheet].range((row, col), (row + rows - 1, col + cols - 1))


def excel_value(value: object) -> Any:
    """A value as xlwings should hand it to Excel, so that Excel stores exactly it.

    Text goes through Excel's typing rules on every client (Range.Value, Office.js
    `values`, VBA's setValues): '=x' would become a formula, '7203' a number,
    '2026-12-31' a date, 'TRUE' a boolean. A leading apostrophe is how a person
    types text that must stay text; Excel stores the text without it.
    """
    if value is None:
        return None
    if isinstance(value, Formula):  # a new household row's copy of the table's formulas
        return value.text if value.text.startswith("=") else "=" + value.text
    if isinstance(value, str):
        if value == "":
            return None
        return "'" + value if text_needs_guard(value) else value
    if isinstance(value, bool | int | float | date):
        # Dates go as dates: desktop Excel gets a COM/AppleScript date, the remote
        # engine sends ISO text ('2026-12-31') that its clients turn back into a date.
        return value
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to Excel")


def text_needs_guard(text: str) -> bool:
    """Whether Excel might read `text` as something other than text.

    Deliberately broad: anything with a digit could be a number, date, time, fraction
    or percentage in some locale; a leading = + - @ starts a formula; '#…' could be an
    error literal; an apostrophe would itself be eaten.
    """
    return (
        text[0] in "=+-@#'"
        or any(ch.isdigit() for ch in text)
        or text.strip().upper() in ("TRUE", "FALSE")
    )


# --- problems -----------------------------------------------------------------------------


def problem_text(problem: Problem) -> str:
    """`Holdings!D5: not-a-number: Shares is 'ten', not a number`, as the CLI prints it."""
    from rebalancer_xl.core.model import problem_line
    from rebalancer_xl.report import problem_to_dict, where_text

    p = problem_to_dict(problem)
    return problem_line(where_text(p), p["code"], p["message"], warning=not problem.is_error)


def problems_message(book_name: str, problems: Sequence[Problem]) -> str:
    """The alert text: what stopped the run, every problem on its own line, errors first."""
    errors = [p for p in problems if p.is_error]
    ordered = errors + [p for p in problems if not p.is_error]
    count = f"{len(errors)} problem" + ("s" if len(errors) != 1 else "")
    lines = [f"{book_name} has {count} to fix; nothing was written.", ""]
    lines += [problem_text(p) for p in ordered]
    return "\n".join(lines)

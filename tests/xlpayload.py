"""Excel, as xlwings' remote clients see it: payloads in, actions out, replayed on a file.

Desktop Excel does not run here, so the button is tested through xlwings' own remote
engine (`xw.Book(json=payload)`), which runs the same Book/Sheet/Range code the
button uses and records every write as an action for the client to carry out.

- `vba_payload` / `officejs_payload` build the JSON a client posts, from a real
  workbook that LibreOffice has recalculated (`excel_view`), shaped as
  `xlwings/addin/Remote.bas` (`RunServerPython`, client "VBA") and xlwings' Office.js
  client (`getBookData`, client "Office.js", also used by xlwings Lite) build it.
- `replay` carries the returned actions out on the .xlsx with openpyxl, the way the
  VBA client does (`Remote.bas`: setValues … sheetDelete), so the result can be
  compared with what `rebalancer-xl run` writes.

xlwings' remote engine is part of xlwings PRO (PolyForm Noncommercial for this use);
`remote_xlwings()` enables it for the tests only, with XLWINGS_LICENSE_KEY=noncommercial.
The product itself never needs it.
"""

# No `from __future__ import annotations`: dataclasses then resolve their annotations
# without looking the module up in sys.modules, so scripts may load this file by path.
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

#: What the VBA and Office Scripts clients can carry out (Remote.bas, js/xlwings.ts).
CLIENT_ACTIONS = frozenset(
    {
        "activateSheet",
        "addHyperlink",
        "addPicture",
        "addSheet",
        "addTable",
        "alert",
        "copyRange",
        "deletePicture",
        "nameDelete",
        "namesAdd",
        "rangeClear",
        "rangeClearContents",
        "rangeClearFormats",
        "rangeDelete",
        "rangeInsert",
        "rangeSelect",
        "resizeTable",
        "runMacro",
        "setAutofit",
        "setNumberFormat",
        "setPictureHeight",
        "setPictureName",
        "setPictureWidth",
        "setRangeColor",
        "setRangeName",
        "setSheetName",
        "setTableName",
        "setTableStyle",
        "setValues",
        "sheetClear",
        "sheetClearContents",
        "sheetClearFormats",
        "sheetDelete",
        "showAutofilterTable",
        "showHeadersTable",
        "showTotalsTable",
        "updatePicture",
    }
)

# The error texts WebHelpers.ConvertToJson knows (other error codes break its JSON).
_VBA_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def remote_xlwings() -> ModuleType:
    """xlwings with its remote engine enabled (noncommercial key, tests only)."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    if "remote" not in [e.name for e in xw.engines]:
        # xlwings was imported before the key was set: register the engine now.
        from xlwings.pro import _xlremote

        xw.engines.add(xw.main.Engine(impl=_xlremote.engine))
    return xw


def remote_book(payload: dict[str, Any]) -> Any:
    """`xw.Book(json=payload)` after a JSON round trip, as a server receives it."""
    xw = remote_xlwings()
    return xw.Book(json=json.loads(json.dumps(payload)))


def excel_view(xlsx: Path, workdir: Path) -> Path:
    """The workbook as Excel would hold it: formulas calculated (by LibreOffice)."""
    from tests.lo import recalculate  # here, so scripts outside pytest can use the builders

    return recalculate(xlsx, workdir)


# --- reading the workbook the way a client does ---------------------------------------------


@dataclass
class _SheetData:
    name: str
    ws: Worksheet
    cells: list[list[object]]  # calamine values from A1, '' for empty
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # 1-based -> '#N/A'
    texts: set[tuple[int, int]] = field(default_factory=set)  # formula cells holding ''


def _read(xlsx: Path) -> tuple[Workbook, list[_SheetData]]:
    formulas = load_workbook(xlsx)
    cached = load_workbook(xlsx, data_only=True)
    cal = CalamineWorkbook.from_path(str(xlsx))
    sheets = []
    for ws in formulas.worksheets:
        data = _SheetData(
            ws.title, ws, cal.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
        )
        # calamine gives '' both for error results and for formulas returning "": tell
        # them apart with openpyxl, which reads the cached error text.
        for row in cached[ws.title].iter_rows():
            for cell in row:
                if cell.data_type == "e" and isinstance(cell.value, str):
                    data.errors[(cell.row, cell.column)] = cell.value
                elif cell.value == "" and ws.cell(cell.row, cell.column).value is not None:
                    data.texts.add((cell.row, cell.column))
        sheets.append(data)
    return formulas, sheets


def _value(data: _SheetData, row: int, col: int) -> object:
    """The cell as Excel holds it: None when empty, else text, number, bool or date."""
    if (row, col) in data.errors:
        return _Error(data.errors[(row, col)])
    if row <= len(data.cells) and col <= len(data.cells[row - 1]):
        value = data.cells[row - 1][col - 1]
        if value == "" and (row, col) not in data.texts:
            return None
        return value
    return None


@dataclass(frozen=True)
class _Error:
    text: str


def _extent(data: _SheetData) -> tuple[int, int, int, int]:
    """First row, first column, last row, last column holding a value (0s when empty)."""
    used = [
        (r, c)
        for r in range(1, len(data.cells) + 1)
        for c in range(1, len(data.cells[r - 1]) + 1)
        if _value(data, r, c) is not None
    ]
    used += list(data.errors)
    if not used:
        return 0, 0, 0, 0
    return (
        min(r for r, _ in used),
        min(c for _, c in used),
        max(r for r, _ in used),
        max(c for _, c in used),
    )


def _wire_number(x: float | int, *, vba: bool) -> float | int:
    """A number as the client's JSON carries it.

    VBA's JSON writer prints CStr(number): 15 significant digits. JavaScript prints the
    shortest exact form. Either way a whole number arrives with no decimal point.
    """
    if isinstance(x, int):
        return x
    if not math.isfinite(x):
        raise ValueError(f"Excel holds no {x!r}")
    wire = json.loads(format(x, ".15g")) if vba else x
    if isinstance(wire, float) and wire.is_integer() and abs(wire) < 1e16:
        return int(wire)
    return wire  # type: ignore[no-any-return]


def _iso(value: date | time | timedelta) -> str:
    """A date cell as both clients send it: ISO text with a Z (VBA's ConvertToIso,
    Office.js' toISOString of the serial number; neither converts time zones)."""
    if isinstance(value, time):
        value = datetime.combine(_EXCEL_EPOCH.date(), value)
    elif isinstance(value, timedelta):
        value = _EXCEL_EPOCH + value
    elif not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _vba_cell(value: object) -> object:
    if value is None:
        return None  # an Empty variant is written as null
    if isinstance(value, _Error):
        return value.text if value.text in _VBA_ERRORS else ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _wire_number(value, vba=True)
    if isinstance(value, date | time | timedelta):
        return _iso(value)
    return str(value)


def _officejs_cell(value: object) -> object:
    if value is None:
        return ""  # Office.js `values` gives "" for empty cells
    if isinstance(value, _Error):
        return value.text
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _wire_number(value, vba=False)
    if isinstance(value, date | time | timedelta):
        return _iso(value)  # number format category Date/Time -> ISO text
    return str(value)


def _absolute(ref: str) -> str:
    """'A1:U8' -> '$A$1:$U$8' (VBA's Range.Address)."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", ref.replace("$", ""))


def _names(wb: Workbook, *, vba: bool) -> list[dict[str, Any]]:
    """Named ranges: book scope, then (Office.js) sheet scope; constants are skipped."""
    sheet_index = {ws.title: i for i, ws in enumerate(wb.worksheets)}
    out = []
    scopes: list[tuple[str | None, Any]] = [(None, wb.defined_names)]
    scopes += [(ws.title, ws.defined_names) for ws in wb.worksheets]
    for scope, names in scopes:
        for name, defined in names.items():
            dests = list(defined.destinations)
            if len(dests) != 1:
                continue  # not a single range: the clients skip it
            sheet, ref = dests[0]
            entry = {
                "name": name if scope is None or not vba else f"{_quoted(scope)}!{name}",
                "sheet_index": sheet_index[sheet],
                "address": ref.replace("$", ""),
                "book_scope": scope is None,
                "scope_sheet_name": scope,
                "scope_sheet_index": None if scope is None else sheet_index[scope],
            }
            if vba:  # Remote.bas adds keys in this order
                entry = {
                    k: entry[k]
                    for k in (
                        "name",
                        "sheet_index",
                        "address",
                        "book_scope",
                        "scope_sheet_name",
                        "scope_sheet_index",
                    )
                }
            out.append(entry)
    return out


def _quoted(sheet: str) -> str:
    return f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet


def _tables(ws: Worksheet, *, vba: bool) -> list[dict[str, Any]]:
    out = []
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        headers = (table.headerRowCount or 1) > 0
        totals = (table.totalsRowCount or 0) > 0
        first_body = min_row + (1 if headers else 0)
        last_body = max_row - (1 if totals else 0)

        def ref(r1: int, r2: int, c1: int = min_col, c2: int = max_col) -> str:
            a = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
            return _absolute(a) if vba else a

        style = table.tableStyleInfo
        entry: dict[str, Any] = {
            "name": table.displayName,
            "range_address": ref(min_row, max_row),
            "header_row_range_address": ref(min_row, min_row) if headers else None,
            "data_body_range_address": ref(first_body, last_body),
            "total_row_range_address": ref(max_row, max_row) if totals else None,
            "show_headers": headers,
            "show_totals": totals,
            "table_style": style.name if style is not None else None,
            "show_autofilter": table.autoFilter is not None,
        }
        if not vba:
            entry["row_count"] = max_row - min_row + 1
            entry["column_count"] = max_col - min_col + 1
            entry.update(
                {
                    "show_table_style_first_column": bool(style and style.showFirstColumn),
                    "show_table_style_last_column": bool(style and style.showLastColumn),
                    "show_table_style_row_stripes": bool(style and style.showRowStripes),
                    "show_table_style_column_stripes": bool(style and style.showColumnStripes),
                }
            )
        out.append(entry)
    return out


def _book_name(xlsx: Path, book_name: str | None) -> str:
    return book_name or xlsx.name


def vba_payload(
    xlsx: Path,
    *,
    book_name: str | None = None,
    active_sheet: str = "Holdings",
    selection: str = "A1",
) -> dict[str, Any]:
    """The body `RunServerPython` (xlwings/addin/Remote.bas) posts for this workbook."""
    import xlwings

    wb, sheets = _read(xlsx)
    order = [s.name for s in sheets]
    payload: dict[str, Any] = {
        "client": "VBA",
        "version": xlwings.__version__,  # XLWINGS_VERSION of the installed add-in
        "book": {
            "name": _book_name(xlsx, book_name),
            "active_sheet_index": order.index(active_sheet),
            "selection": selection,
        },
        "names": _names(wb, vba=True),
        "sheets": [],
    }
    for data in sheets:
        # UsedRange.Value from A1: Excel's used range also covers formatted empty cells,
        # which openpyxl's dimensions include too.
        _, _, last_row, last_col = _extent(data)
        last_row, last_col = max(last_row, data.ws.max_row), max(last_col, data.ws.max_column)
        if last_row == 0:
            values: list[list[object]] = [[]]
        else:
            values = [
                [_vba_cell(_value(data, r, c)) for c in range(1, last_col + 1)]
                for r in range(1, last_row + 1)
            ]
        payload["sheets"].append(
            {
                "name": data.name,
                "pictures": [],  # msoPicture shapes; these workbooks have none
                "tables": _tables(data.ws, vba=True),
                "values": values,
            }
        )
    return payload


def officejs_payload(
    xlsx: Path,
    *,
    book_name: str | None = None,
    active_sheet: str = "Holdings",
    selection: str | None = "A1",
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """The payload `getBookData` builds in xlwings' Office.js client (xlwings Lite)."""
    import xlwings

    wb, sheets = _read(xlsx)
    order = [s.name for s in sheets]
    payload: dict[str, Any] = {
        "client": "Office.js",
        "version": xlwings.__version__,
        "book": {
            "name": _book_name(xlsx, book_name),
            "active_sheet_index": order.index(active_sheet),
            "selection": selection,
            "calculation": "Automatic",
        },
        "names": _names(wb, vba=False),
        "sheets": [],
    }
    for data in sheets:
        excluded = data.name in exclude
        first_row, first_col, last_row, last_col = _extent(data)
        if excluded:
            values: list[list[object]] = [[]]
        elif last_row == 0:
            values = [[""]]  # an empty sheet still sends A1
        else:  # A1 to the last cell of the values-only used range
            values = [
                [_officejs_cell(_value(data, r, c)) for c in range(1, last_col + 1)]
                for r in range(1, last_row + 1)
            ]
        used = (
            (f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}")
            if last_row
            else None
        )
        payload["sheets"].append(
            {
                "name": data.name,
                "visibility": {"visible": "Visible", "hidden": "Hidden"}.get(
                    data.ws.sheet_state, "VeryHidden"
                ),
                "print_area": _print_area(data.ws),
                "notes": []
                if excluded
                else [
                    {"address": cell.coordinate}
                    for row in data.ws.iter_rows()
                    for cell in row
                    if cell.comment is not None
                ],
                "used_range_address": used,
                "used_range_row_count": last_row - first_row + 1 if used else 0,
                "used_range_column_count": last_col - first_col + 1 if used else 0,
                "values": values,
                "pictures": [],
                "shapes": [],
                "charts": []
                if excluded
                else [
                    {
                        "name": f"Chart {i}",
                        "chart_type": _chart_type(chart),
                        "left": 0,
                        "top": 0,
                        "width": 0,
                        "height": 0,
                    }  # geometry is not used by the button
                    for i, chart in enumerate(data.ws._charts, start=1)
                ],
                "tables": [] if excluded else _tables(data.ws, vba=False),
            }
        )
    return payload


def _print_area(ws: Worksheet) -> str | None:
    area = ws.print_area
    if not area:
        return None
    return ",".join(part.split("!")[-1].replace("$", "") for part in area.split(","))


def _chart_type(chart: Any) -> str:
    kind = getattr(chart, "type", "col")
    return "BarClustered" if kind == "bar" else "ColumnClustered"


# --- replaying the actions ----------------------------------------------------------------


@dataclass
class Replay:
    """What the client did: the workbook afterwards and the alerts it showed."""

    alerts: list[str] = field(default_factory=list)
    writes: int = 0


def replay(actions: Iterable[dict[str, Any]], xlsx: Path, out: Path) -> Replay:
    """Carry out `actions` on `xlsx` as the VBA client does, and save to `out`.

    Values pass through the client's conversions: every text is offered to
    WebHelpers.ParseIso (VBA's setValues turns anything it can parse into a date),
    then typed into Excel, which keeps a leading apostrophe as 'this is text'.
    """
    wb = load_workbook(xlsx)
    done = Replay()
    for action in actions:
        func = action["func"]
        if func not in CLIENT_ACTIONS:
            raise AssertionError(f"{func} is not an action every client can carry out")
        args = action["args"]
        if func == "alert":
            done.alerts.append(args[0])
            continue
        done.writes += 1
        if func == "addSheet":
            wb.create_sheet(args[1], index=args[0])
        elif func == "sheetDelete":
            wb.remove(wb.worksheets[action["sheet_position"]])
        elif func == "activateSheet":
            wb.active = args[0]
        elif func in (
            "setValues",
            "setNumberFormat",
            "setRangeColor",
            "rangeClearContents",
            "setAutofit",
        ):
            _range_action(wb.worksheets[action["sheet_position"]], action)
        else:
            raise AssertionError(f"the replayer does not know {func}")
    wb.save(out)
    return done


def _range_action(ws: Worksheet, action: dict[str, Any]) -> None:
    func, args = action["func"], action["args"]
    r0, c0 = action["start_row"] + 1, action["start_column"] + 1
    rows, cols = action["row_count"], action["column_count"]
    if func == "setValues":
        values = action["values"]
        if len(values) != rows or any(len(v) != cols for v in values):
            raise AssertionError(f"values do not fill the range: {action}")
        for dr, row in enumerate(values):
            for dc, value in enumerate(row):
                ws.cell(r0 + dr, c0 + dc).value = _typed(value)
        return
    if func == "setAutofit":
        # Every client fits columns and rows (xlwings' VBA Columns/Rows.AutoFit, Office.js
        # autofitColumns/autofitRows); widths and heights are not compared.
        assert args in (["columns"], ["rows"]), args
        return
    for r in range(r0, r0 + rows):
        for c in range(c0, c0 + cols):
            cell = ws.cell(r, c)
            if func == "setNumberFormat":
                cell.number_format = args[0]
            elif func == "setRangeColor":
                if not (isinstance(args[0], str) and re.fullmatch(r"#[0-9A-Fa-f]{6}", args[0])):
                    raise AssertionError(f"VBA's HexToRgb needs a colour, got {args[0]!r}")
                cell.fill = PatternFill("solid", fgColor=args[0][1:].upper())
            elif func == "rangeClearContents":
                cell.value = None


_CINT = re.compile(r"^\s*[+-]?\d+(\.\d*)?\s*$")


def vba_parse_iso(text: str) -> datetime | None:
    """WebHelpers.ParseIso as far as it matters: split at 'T', date parts at '-',
    each through CInt; anything that fails stays what it was."""
    parts = text.split("T")
    date_parts = parts[0].split("-")
    if len(date_parts) < 3 or not all(_CINT.match(p) for p in date_parts[:3]):
        return None
    try:
        y, m, d = (round(float(p)) for p in date_parts[:3])
        value = datetime(y, m, d)
    except ValueError:
        return None  # VBA's DateSerial would roll over; no sane cell text does this
    if len(parts) > 1:
        clock = parts[1].replace("Z", "").split("+")[0].split(":")
        if not all(_CINT.match(p) for p in clock):
            return None
        h, mi, s = ([round(float(p)) for p in clock] + [0, 0])[:3]
        value += timedelta(hours=h, minutes=mi, seconds=s)
    return value


def _typed(value: object) -> object:
    """What Excel stores when the VBA client writes `value` into a cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return value
    assert isinstance(value, str), value
    parsed = vba_parse_iso(value)
    if parsed is not None:
        return parsed
    if value.startswith("'"):
        return value[1:]  # typed text; Excel keeps the rest as it is
    if value.startswith("=") and "tblHoldings[[#This Row]" in value:
        return value  # a new household row's formula, meant as one (openpyxl stores it so)
    # Anything else is typed as it stands; make sure Excel would keep it as text.
    if (
        value[0] in "=+-@#"
        or any(ch.isdigit() for ch in value)
        or value.strip().upper() in ("TRUE", "FALSE")
    ):
        raise AssertionError(f"Excel would not store {value!r} as text")
    return value

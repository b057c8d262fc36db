"""The batch path's writer: carry out `Op`s by editing the .xlsx package in place.

openpyxl's load + save rewrites every part of a workbook and drops whatever it does not
model (pictures, data bars, sparklines, cached formula values, …). This writer instead
opens the zip, edits only the parts the run must change, and copies every other member
as its raw compressed bytes: untouched parts come out byte for byte, and the cost of a
run no longer grows with what the user keeps in the workbook.

What changes, and only when the ops ask for it:

- the worksheet parts the ops write to: only the ``<c>`` elements of written cells, and
  ``<row>``/``<dimension>`` where cells are added (every other element is kept as parsed);
- a new or replaced sheet (the dated Log): its part, plus ``xl/workbook.xml``, its rels,
  ``[Content_Types].xml`` and the sheet titles in ``docProps/app.xml``;
- ``xl/styles.xml``, only when a number format or fill the ops need has no cell style
  yet (styles are appended, never renumbered);
- the ``ref`` of an Excel Table that rows are added directly below;
- ``xl/workbook.xml``'s ``calcPr``, so Excel recalculates formulas fed by written cells,
  and ``xl/calcChain.xml`` is dropped when a formula cell is overwritten (Excel rebuilds it).

Strings are written inline (``t="inlineStr"``) so the shared-string table is never touched.

`verify` checks a written package against its source: every member the writer did not
mean to change is byte-identical, and every element of a changed sheet other than its
cells is still there. The caller refuses to replace the original otherwise.
"""

from __future__ import annotations

import copy
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

from lxml import etree

from rebalancer_xl.workbook.grid import (
    LINE_HEIGHT,
    PRINT_HEADER,
    AddSheet,
    Autofit,
    ClearContents,
    DeleteSheet,
    FitRows,
    Formula,
    Op,
    PrintLayout,
    SetColor,
    SetFormat,
    SetValues,
    column_letter,
    wrapped_lines,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
WORKSHEET_TYPE = REL_NS + "/worksheet"
CALC_CHAIN_TYPE = REL_NS + "/calcChain"
TABLE_TYPE = REL_NS + "/table"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

#: A part we parse may inflate to at most this much; larger is refused, not read.
MAX_PART_BYTES = 256 * 1024 * 1024
#: A part compressing better than this (and big) is a zip bomb, not a spreadsheet.
MAX_RATIO = 200
_CHUNK = 1 << 20

_M = f"{{{MAIN}}}"
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=True,
    remove_blank_text=False,
)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")

#: Number formats Excel knows by id without a ``<numFmt>`` (ECMA-376 §18.8.30).
_BUILTIN_FORMATS = {
    "General": 0,
    "0": 1,
    "0.00": 2,
    "#,##0": 3,
    "#,##0.00": 4,
    "0%": 9,
    "0.00%": 10,
    "0.00E+00": 11,
    "mm-dd-yy": 14,
    "d-mmm-yy": 15,
    "h:mm": 20,
    "@": 49,
}
_DATE_FORMAT = "yyyy-mm-dd"
_C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_CHART_PART = re.compile(r"^xl/charts/chart\d+\.xml$")
# A chart series over one column: 'Holdings'!$F$2:$F$8 (or Holdings!$F$2:$F$8).
_COLUMN_RANGE = re.compile(
    r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!]+))!"
    r"\$(?P<col>[A-Z]{1,3})\$(?P<top>\d+):\$(?P<col2>[A-Z]{1,3})\$(?P<bottom>\d+)$"
)
_DEFAULT_COL_WIDTH = 8.43  # Excel's, for a column the sheet gives no width


class PackageError(Exception):
    """A package this writer will not read or write (unsafe or not a workbook)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- reading the package safely --------------------------------------------------------


def check_members(zf: zipfile.ZipFile) -> None:
    """Refuse member names that could escape a folder or shadow each other."""
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or "\x00" in name or ":" in parts[0]:
            raise PackageError(
                "unsafe-package",
                f"the package holds a member named {name!r}, which points outside the workbook",
            )
        if name.lower() in seen:
            raise PackageError("unsafe-package", f"the package holds {name!r} twice")
        seen.add(name.lower())


def read_part(zf: zipfile.ZipFile, name: str, limit: int = MAX_PART_BYTES) -> bytes:
    """A member's bytes, refusing one that inflates past `limit` (whatever it claims)."""
    info = zf.getinfo(name)
    _check_size(info, limit)
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise PackageError("unsafe-package", f"{name} inflates past {limit:,} bytes: refused")
    return data


def preflight(path: Path) -> None:
    """Refuse a hostile package before any reader inflates it.

    Member names must stay inside the package; no XML part may inflate past
    `MAX_PART_BYTES` or compress like a zip bomb; none may declare a DOCTYPE or entities.
    zipfile never reads past a member's declared size, so checking the declared sizes
    bounds what every later reader (openpyxl included) can inflate. Members that are
    not XML (pictures, a VBA project, a 2 GiB blob nothing refers to) are never read.
    """
    with zipfile.ZipFile(path) as zf:
        check_members(zf)
        for info in zf.infolist():
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            _check_size(info)
            with zf.open(info) as f:
                head = f.read(65536)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise PackageError(
                    "unsafe-package",
                    f"{info.filename} declares a DOCTYPE or "
                    "entities, which no spreadsheet writes: refused",
                )


def _check_size(info: zipfile.ZipInfo, limit: int = MAX_PART_BYTES) -> None:
    big = info.file_size > 10 * 1024 * 1024
    if info.file_size > limit or (big and info.file_size > MAX_RATIO * max(1, info.compress_size)):
        raise PackageError(
            "unsafe-package",
            f"{info.filename} inflates to "
            f"{info.file_size:,} bytes from {info.compress_size:,}: refused "
            "as a zip bomb",
        )


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse a part; a DOCTYPE (entity declarations, external fetches) is refused."""
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data[:65536]:
        raise PackageError(
            "unsafe-package",
            f"{name} declares a DOCTYPE or entities, which no spreadsheet writes: refused",
        )
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as err:
        raise PackageError("corrupt-file", f"{name} is not well-formed XML: {err}") from None


def _serialize(root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def _resolve(base: str, target: str) -> str:
    """A relationship target as a member name ('/xl/x.xml' or 'x.xml' beside `base`)."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_name(part: str) -> str:
    folder, leaf = posixpath.split(part)
    return posixpath.join(folder, "_rels", leaf + ".rels")


# --- cells -----------------------------------------------------------------------------


def parse_ref(ref: str) -> tuple[int, int]:
    m = _CELL_REF.match(ref.upper().replace("$", ""))
    if m is None:
        raise PackageError("corrupt-file", f"a cell is named {ref!r}")
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _excel_serial(value: date | datetime, date1904: bool) -> float | int:
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    delta = moment - epoch
    days = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return int(days) if days == int(days) else days


class _SheetEdit:
    """One worksheet part being edited: its rows indexed once, cells found by (row, col)."""

    def __init__(self, part: str, root: etree._Element, *, new: bool) -> None:
        self.part = part
        self.root = root
        self.new = new
        data = root.find(_M + "sheetData")
        if data is None:
            data = etree.SubElement(root, _M + "sheetData")
        self.data = data
        self.rows: dict[int, etree._Element] = {}
        self._cells: dict[int, dict[int, etree._Element]] = {}
        for row in data.iterchildren(_M + "row"):
            r = int(row.get("r", "0"))
            self.rows[r] = row
        self.last_row = max(self.rows, default=0)
        self.typed_rows = frozenset(self.rows)  # rows the file had before this run
        self.overwrote_formula = False
        self.extent: tuple[int, int, int, int] | None = None  # min_r, min_c, max_r, max_c
        self.written_text: dict[tuple[int, int], str] = {}

    def _row_cells(self, r: int) -> dict[int, etree._Element]:
        cells = self._cells.get(r)
        if cells is None:
            cells = {}
            row = self.rows.get(r)
            if row is not None:
                for c in row.iterchildren(_M + "c"):
                    ref = c.get("r")
                    if ref is not None:
                        cells[parse_ref(ref)[1]] = c
            self._cells[r] = cells
        return cells

    def cell(self, r: int, c: int, create: bool) -> etree._Element | None:
        cells = self._row_cells(r)
        found = cells.get(c)
        if found is not None or not create:
            return found
        row = self.rows.get(r)
        if row is None:
            row = etree.Element(_M + "row", r=str(r))
            if r > self.last_row:  # the usual case, rows added at the end: no search
                self.data.append(row)
                self.last_row = r
            else:
                self.rows[min(k for k in self.rows if k > r)].addprevious(row)
            self.rows[r] = row
        element = etree.Element(_M + "c", r=f"{column_letter(c)}{r}")
        if not cells or c > max(cells):
            row.append(element)
        else:
            cells[min(k for k in cells if k > c)].addprevious(element)
        cells[c] = element
        if "spans" in row.attrib:  # a hint Excel recomputes; a stale one is worse than none
            del row.attrib["spans"]
        self._grow(r, c)
        return element

    def _grow(self, r: int, c: int) -> None:
        if self.extent is None:
            self.extent = (r, c, r, c)
        else:
            a, b, y, z = self.extent
            self.extent = (min(a, r), min(b, c), max(y, r), max(z, c))

    def finish(self) -> None:
        """Widen ``<dimension>`` to the cells added (it is a hint, but Excel trusts it)."""
        if self.extent is None:
            return
        dim = self.root.find(_M + "dimension")
        a, b, y, z = self.extent
        if dim is not None:
            ref = dim.get("ref", "")
            try:
                ends = [parse_ref(p) for p in ref.split(":")]
                a, b = min(a, ends[0][0]), min(b, ends[0][1])
                y, z = max(y, ends[-1][0]), max(z, ends[-1][1])
            except PackageError:
                pass
            new = f"{column_letter(b)}{a}" + (f":{column_letter(z)}{y}" if (a, b) != (y, z) else "")
            if new != ref:
                dim.set("ref", new)


def _clear_value(cell: etree._Element, sheet: _SheetEdit) -> None:
    for child in list(cell):
        if child.tag == _M + "f":
            sheet.overwrote_formula = True
        if child.tag in (_M + "f", _M + "v", _M + "is"):
            cell.remove(child)
    for attr in ("t", "cm", "vm"):  # value and cell metadata belong to the old value
        cell.attrib.pop(attr, None)


def _set_value(cell: etree._Element, value: object, sheet: _SheetEdit, date1904: bool) -> None:
    _clear_value(cell, sheet)
    if value is None or value == "":
        return
    ext = [c for c in cell if c.tag == _M + "extLst"]
    for c in ext:
        cell.remove(c)
    if isinstance(value, Formula):
        f = etree.SubElement(cell, _M + "f")
        f.text = value.text[1:] if value.text.startswith("=") else value.text
    elif isinstance(value, bool):
        cell.set("t", "b")
        etree.SubElement(cell, _M + "v").text = "1" if value else "0"
    elif isinstance(value, int | float | Decimal):
        etree.SubElement(cell, _M + "v").text = _number(value)
    elif isinstance(value, date):
        etree.SubElement(cell, _M + "v").text = _number(_excel_serial(value, date1904))
    else:
        text = _ILLEGAL_XML.sub("", str(value))
        cell.set("t", "inlineStr")
        t = etree.SubElement(etree.SubElement(cell, _M + "is"), _M + "t")
        t.text = text
        if text != text.strip() or "\n" in text:
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    for c in ext:
        cell.append(c)


def _number(value: object) -> str:
    """A number as openpyxl writes one ("%.16g"), so both writers store the same value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.16g}"  # type: ignore[arg-type]


# --- styles ----------------------------------------------------------------------------


class _Styles:
    """``xl/styles.xml``, appended to only when a wanted style does not exist."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.changed = False
        self.xfs = self._section("cellXfs")
        self.fills = self._section("fills")
        self._memo: dict[tuple[int, str | None, str | None, bool], int] = {}
        self._xf_index: dict[tuple[object, ...], int] = {
            self._xf_key(xf): i for i, xf in reversed(list(enumerate(self.xfs)))
        }
        num_fmts = root.find(_M + "numFmts")
        self.formats: dict[str, int] = dict(_BUILTIN_FORMATS)
        self.codes: dict[int, str] = {v: k for k, v in _BUILTIN_FORMATS.items()}
        if num_fmts is not None:
            for nf in num_fmts:
                if nf.tag == _M + "numFmt":
                    fid, code = int(nf.get("numFmtId", "0")), nf.get("formatCode", "")
                    self.formats.setdefault(code, fid)
                    self.codes[fid] = code

    def _section(self, tag: str) -> etree._Element:
        section = self.root.find(_M + tag)
        if section is None:
            raise PackageError("corrupt-file", f"xl/styles.xml has no <{tag}>")
        return section

    @staticmethod
    def _xf_key(xf: etree._Element) -> tuple[object, ...]:
        return (tuple(sorted(xf.attrib.items())), tuple(etree.tostring(c) for c in xf))

    def is_date(self, s: int) -> bool:
        xf = self.xfs[s] if 0 <= s < len(self.xfs) else None
        fid = int(xf.get("numFmtId", "0")) if xf is not None else 0
        if 14 <= fid <= 22 or 45 <= fid <= 47:
            return True
        code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", self.codes.get(fid, "")).lower()
        return any(ch in code for ch in "dy")

    def _format_id(self, code: str) -> int:
        if code in self.formats:
            return self.formats[code]
        num_fmts = self.root.find(_M + "numFmts")
        if num_fmts is None:
            num_fmts = etree.Element(_M + "numFmts")
            self.root.insert(0, num_fmts)
        fid = max([163, *self.codes])
        fid = max(fid, 163) + 1
        etree.SubElement(num_fmts, _M + "numFmt", numFmtId=str(fid), formatCode=code)
        num_fmts.set("count", str(len(num_fmts)))
        self.formats[code] = fid
        self.codes[fid] = code
        self.changed = True
        return fid

    def _fill_id(self, color: str) -> int:
        fill = etree.Element(_M + "fill")
        pattern = etree.SubElement(fill, _M + "patternFill", patternType="solid")
        etree.SubElement(pattern, _M + "fgColor", rgb="00" + color.upper())
        etree.SubElement(pattern, _M + "bgColor", indexed="64")
        wanted = etree.tostring(fill)
        for i, existing in enumerate(self.fills):
            if etree.tostring(existing) == wanted:
                return i
        self.fills.append(fill)
        self.fills.set("count", str(len(self.fills)))
        self.changed = True
        return len(self.fills) - 1

    def derive(
        self,
        s: int,
        *,
        number_format: str | None = None,
        color: str | None = None,
        clear_fill: bool = False,
    ) -> int:
        """The index of style `s` with a number format or fill changed; appended if new."""
        key = (s, number_format, color, clear_fill)
        if key in self._memo:
            return self._memo[key]
        base = self.xfs[s] if 0 <= s < len(self.xfs) else self.xfs[0]
        xf = copy.deepcopy(base)
        if number_format is not None:
            xf.set("numFmtId", str(self._format_id(number_format)))
            xf.set("applyNumberFormat", "1")
        if color is not None or clear_fill:
            xf.set("fillId", str(self._fill_id(color) if color else 0))
            xf.set("applyFill", "1")
        found = self._xf_index.get(self._xf_key(xf))
        if found is None:
            self.xfs.append(xf)
            self.xfs.set("count", str(len(self.xfs)))
            found = len(self.xfs) - 1
            self._xf_index[self._xf_key(xf)] = found
            self.changed = True
        self._memo[key] = found
        return found


# --- the package -----------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What `write` changed: parts replaced, added and removed (for the verifier)."""

    replaced: dict[str, bytes] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    sheet_parts: dict[str, str] = field(default_factory=dict)  # changed sheet part -> name
    new_sheet_parts: set[str] = field(default_factory=set)


class Package:
    """An .xlsx/.xlsm opened for surgical edits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zf = zipfile.ZipFile(path)
        check_members(self.zf)
        self.names = {i.filename for i in self.zf.infolist()}
        self.plan = Plan()
        self._trees: dict[str, etree._Element] = {}
        self.workbook_part = self._main_part()
        wb = self.tree(self.workbook_part)
        pr = wb.find(_M + "workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        self.rels_part = _rels_name(self.workbook_part)
        self.sheet_part: dict[str, str] = {}
        rels = (
            {r.get("Id"): r for r in self.tree(self.rels_part)}
            if self.rels_part in self.names
            else {}
        )
        sheets = wb.find(_M + "sheets")
        if sheets is None:
            raise PackageError("corrupt-file", "the workbook lists no sheets")
        for sheet in sheets:
            rel = rels.get(sheet.get(f"{{{REL_NS}}}id"))
            if rel is not None and rel.get("Type") == WORKSHEET_TYPE:
                self.sheet_part[sheet.get("name", "")] = _resolve(
                    self.workbook_part, rel.get("Target", "")
                )
        self._edits: dict[str, _SheetEdit] = {}
        self._styles: _Styles | None = None
        # Sheets deleted by the ops: (their <sheets>, position, element), until re-added.
        self._deleted: dict[str, tuple[etree._Element, int, etree._Element]] = {}

    def close(self) -> None:
        self.zf.close()

    def _main_part(self) -> str:
        root = self.tree("_rels/.rels")
        for rel in root:
            if rel.get("Type", "").endswith("/officeDocument"):
                return _resolve("", rel.get("Target", "").lstrip("/"))
        raise PackageError("corrupt-file", "the package names no workbook part")

    def tree(self, name: str) -> etree._Element:
        if name not in self._trees:
            if name not in self.names:
                raise PackageError("corrupt-file", f"the package has no {name}")
            self._trees[name] = parse_xml(read_part(self.zf, name), name)
        return self._trees[name]

    def _dirty(self, name: str) -> None:
        self.plan.replaced[name] = b""  # serialized in `write`

    @property
    def styles(self) -> _Styles:
        if self._styles is None:
            self._styles = _Styles(self.tree("xl/styles.xml"))
        return self._styles

    # --- sheets ---

    def _edit(self, name: str) -> _SheetEdit:
        part = self.sheet_part.get(name)
        if part is None:
            raise PackageError("corrupt-file", f"the workbook has no worksheet named {name!r}")
        edit = self._edits.get(part)
        if edit is None:
            edit = _SheetEdit(part, self.tree(part), new=part in self.plan.new_sheet_parts)
            self._edits[part] = edit
            self.plan.sheet_parts[part] = name
            self._dirty(part)
        return edit

    def add_sheet(self, name: str, replacing: str | None) -> None:
        """A new empty worksheet called `name`; reuses the part of a sheet just deleted."""
        root = etree.fromstring(
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL_NS}"><dimension ref="A1"/>'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75"'
            ' header="0.3" footer="0.3"/>'
            "</worksheet>".encode()
        )
        if replacing is not None:
            part = replacing
            rels = _rels_name(part)
            if rels in self.names:
                self.plan.removed.add(rels)
            self._restore_sheet_entry(name)
        else:
            part = self._new_sheet_part(name)
        self._trees[part] = root
        self.plan.new_sheet_parts.add(part)
        self.sheet_part[name] = part
        self._edits.pop(part, None)
        self.plan.sheet_parts[part] = name
        self._dirty(part)

    def _new_sheet_part(self, name: str) -> str:
        n = 1
        while f"xl/worksheets/sheet{n}.xml" in self.names | set(self._trees):
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        rels = self.tree(self.rels_part)
        ids = {r.get("Id") for r in rels}
        k = len(ids) + 1
        while f"rId{k}" in ids:
            k += 1
        rid = f"rId{k}"
        target = posixpath.relpath(part, posixpath.dirname(self.workbook_part))
        etree.SubElement(
            rels, f"{{{PKG_REL}}}Relationship", Id=rid, Type=WORKSHEET_TYPE, Target=target
        )
        self._dirty(self.rels_part)
        wb = self.tree(self.workbook_part)
        sheets = wb.find(_M + "sheets")
        assert sheets is not None
        sheet_id = max([int(s.get("sheetId", "0")) for s in sheets] + [0]) + 1
        # Declare r: here when the root does not (openpyxl declares it on each <sheet>),
        # so the element reads r:id rather than an invented ns0:id.
        entry = etree.SubElement(
            sheets, _M + "sheet", name=name, sheetId=str(sheet_id), nsmap={"r": REL_NS}
        )
        entry.set(f"{{{REL_NS}}}id", rid)
        self._dirty(self.workbook_part)
        types = self.tree("[Content_Types].xml")
        etree.SubElement(
            types, f"{{{CT_NS}}}Override", PartName="/" + part, ContentType=WORKSHEET_CT
        )
        self._dirty("[Content_Types].xml")
        self._app_titles(add=name)
        return part

    def _restore_sheet_entry(self, name: str) -> None:
        entry = self._deleted.pop(name, None)
        if entry is None:
            return
        sheets, index, element = entry
        sheets.insert(index, element)

    def delete_sheet(self, name: str) -> None:
        """Take `name` out of the workbook; `add_sheet` of the same name puts it back."""
        wb = self.tree(self.workbook_part)
        sheets = wb.find(_M + "sheets")
        assert sheets is not None
        for i, sheet in enumerate(sheets):
            if sheet.get("name") == name:
                self._deleted[name] = (sheets, i, sheet)
                sheets.remove(sheet)
                self._dirty(self.workbook_part)
                break
        self.sheet_part.pop(name, None)

    def _finish_deletes(self) -> None:
        """A sheet deleted and not re-added: remove its part, rels and registrations."""
        for name, (sheets, index, element) in self._deleted.items():
            rid = element.get(f"{{{REL_NS}}}id")
            rels = self.tree(self.rels_part)
            for rel in list(rels):
                if rel.get("Id") == rid:
                    part = _resolve(self.workbook_part, rel.get("Target", ""))
                    rels.remove(rel)
                    self._dirty(self.rels_part)
                    self.plan.removed.add(part)
                    if _rels_name(part) in self.names:
                        self.plan.removed.add(_rels_name(part))
                    types = self.tree("[Content_Types].xml")
                    for o in list(types):
                        if o.get("PartName") == "/" + part:
                            types.remove(o)
                    self._dirty("[Content_Types].xml")
            wb = self.tree(self.workbook_part)
            names = wb.find(_M + "definedNames")
            if names is not None:
                for dn in list(names):
                    local = dn.get("localSheetId")
                    if local is None:
                        continue
                    if int(local) == index:
                        names.remove(dn)
                    elif int(local) > index:
                        dn.set("localSheetId", str(int(local) - 1))
            views = wb.find(_M + "bookViews")
            for view in views if views is not None else ():
                for attr in ("activeTab", "firstSheet"):
                    if view.get(attr) is not None and int(view.get(attr, "0")) >= len(sheets):
                        view.set(attr, str(max(0, len(sheets) - 1)))
            self._app_titles(remove=name)

    def _app_titles(self, add: str | None = None, remove: str | None = None) -> None:
        """Keep ``docProps/app.xml``'s sheet titles in step; an unusual layout is left alone."""
        if "docProps/app.xml" not in self.names:
            return
        try:
            root = self.tree("docProps/app.xml")
        except PackageError:
            return
        ep = root.nsmap.get(None, "")
        pairs = root.find(f"{{{ep}}}HeadingPairs/{{{VT_NS}}}vector")
        titles = root.find(f"{{{ep}}}TitlesOfParts/{{{VT_NS}}}vector")
        if pairs is None or titles is None:
            return
        values = list(pairs)
        offset = 0
        for i in range(0, len(values) - 1, 2):
            label = values[i].find(f"{{{VT_NS}}}lpstr")
            count = values[i + 1].find(f"{{{VT_NS}}}i4")
            if label is None or count is None or count.text is None:
                return
            n = int(count.text)
            if label.text in ("Worksheets", "Feuilles de calcul", "Arbeitsblätter"):
                items = list(titles)[offset : offset + n]
                if add is not None:
                    new = etree.Element(f"{{{VT_NS}}}lpstr")
                    new.text = add
                    (items[-1].addnext(new) if items else titles.insert(offset, new))
                    count.text = str(n + 1)
                elif remove is not None:
                    for item in items:
                        if item.text == remove:
                            titles.remove(item)
                            count.text = str(n - 1)
                            break
                titles.set("size", str(len(titles)))
                self._dirty("docProps/app.xml")
                return
            offset += n

    # --- ops ---

    def apply(self, ops: Iterable[Op]) -> None:
        deleted: dict[str, str | None] = {}
        for op in ops:
            if isinstance(op, SetValues):
                edit = self._edit(op.sheet)
                for dr, row in enumerate(op.values):
                    for dc, value in enumerate(row):
                        r, c = op.row + dr, op.col + dc
                        cell = edit.cell(r, c, create=value is not None and value != "")
                        if cell is None:
                            continue
                        _set_value(cell, value, edit, self.date1904)
                        edit.written_text[(r, c)] = _display(value)
                        if isinstance(value, date):
                            s = int(cell.get("s", "0"))
                            if not self.styles.is_date(s):
                                cell.set(
                                    "s", str(self.styles.derive(s, number_format=_DATE_FORMAT))
                                )
            elif isinstance(op, SetFormat | SetColor):
                edit = self._edit(op.sheet)
                for r in range(op.row, op.row + op.rows):
                    for c in range(op.col, op.col + op.cols):
                        cell = edit.cell(r, c, create=True)
                        assert cell is not None
                        s = int(cell.get("s", "0"))
                        if isinstance(op, SetFormat):
                            new = self.styles.derive(s, number_format=op.number_format)
                        else:
                            new = self.styles.derive(s, color=op.color, clear_fill=op.color is None)
                        if new == 0:
                            cell.attrib.pop("s", None)
                        else:
                            cell.set("s", str(new))
            elif isinstance(op, ClearContents):
                edit = self._edit(op.sheet)
                for r in range(op.row, op.row + op.rows):
                    for c in range(op.col, op.col + op.cols):
                        cell = edit.cell(r, c, create=False)
                        if cell is not None:
                            _clear_value(cell, edit)
                            edit.written_text.pop((r, c), None)
            elif isinstance(op, DeleteSheet):
                deleted[op.name] = self.sheet_part.get(op.name)
                self.delete_sheet(op.name)
            elif isinstance(op, AddSheet):
                part = deleted.pop(op.name, None)
                self.add_sheet(op.name, replacing=part)
            elif isinstance(op, Autofit):
                self._autofit(self._edit(op.sheet), op)
            elif isinstance(op, PrintLayout):
                self._print_layout(self._edit(op.sheet))
            elif isinstance(op, FitRows):
                self._fit_rows(self._edit(op.sheet), op)
        self._finish_deletes()
        for edit in self._edits.values():
            edit.finish()
            self._extend_tables(edit)
        self._after_writes()

    def _autofit(self, edit: _SheetEdit, op: Autofit) -> None:
        """Column widths for a block, on a sheet this run created (the user's are theirs)."""
        if not edit.new:
            return
        widths: dict[int, int] = {}
        for (r, c), text in edit.written_text.items():
            if op.row <= r < op.row + op.rows and op.col <= c < op.col + op.cols:
                widths[c] = max(widths.get(c, 0), len(text))
        if not widths:
            return
        cols = edit.root.find(_M + "cols")
        if cols is None:
            cols = etree.Element(_M + "cols")
            edit.data.addprevious(cols)
        for c in sorted(widths):
            etree.SubElement(
                cols,
                _M + "col",
                min=str(c),
                max=str(c),
                width=str(min(80, max(8, widths[c] + 2))),
                customWidth="1",
            )

    def _fit_rows(self, edit: _SheetEdit, op: FitRows) -> None:
        """Row heights for wrapped text (see FitRows). A row height the user set
        (customHeight) is theirs; one this run set before is set again."""
        width = _DEFAULT_COL_WIDTH
        cols = edit.root.find(_M + "cols")
        if cols is not None:
            for col in cols.iterchildren(_M + "col"):
                if int(col.get("min", "0")) <= op.col <= int(col.get("max", "0")):
                    width = float(col.get("width", width))
        for r in range(op.row, op.row + op.rows):
            row = edit.rows.get(r)
            if row is None or row.get("customHeight") in ("1", "true"):
                continue
            text = edit.written_text.get((r, op.col), "")
            lines = wrapped_lines(text, width) if text else 1
            if lines > 1:
                row.set("ht", f"{lines * LINE_HEIGHT:g}")
            elif "ht" in row.attrib:
                del row.attrib["ht"]

    def _print_layout(self, edit: _SheetEdit) -> None:
        """Landscape, one page wide, on a sheet this run created (the user's are theirs)."""
        if not edit.new:
            return
        root = edit.root
        pr = root.find(_M + "sheetPr")
        if pr is None:
            pr = etree.Element(_M + "sheetPr")
            root.insert(0, pr)  # sheetPr comes first in a worksheet
        setup_pr = pr.find(_M + "pageSetUpPr")
        if setup_pr is None:
            setup_pr = etree.SubElement(pr, _M + "pageSetUpPr")
        setup_pr.set("fitToPage", "1")
        setup = root.find(_M + "pageSetup")
        if setup is None:
            setup = etree.Element(_M + "pageSetup")
            margins = root.find(_M + "pageMargins")
            if margins is not None:
                margins.addnext(setup)
            else:
                root.append(setup)
        setup.set("orientation", "landscape")
        setup.set("fitToWidth", "1")
        setup.set("fitToHeight", "0")  # as many pages tall as the log needs
        # Every printed page says whose it is: the sheet's name, and page n of m.
        if root.find(_M + "headerFooter") is None:
            header_footer = etree.Element(_M + "headerFooter")
            etree.SubElement(header_footer, _M + "oddHeader").text = PRINT_HEADER
            setup.addnext(header_footer)

    def _extend_tables(self, edit: _SheetEdit) -> None:
        """An Excel Table whose last row sits right above added rows grows to take them."""
        if edit.new or edit.extent is None:
            return
        rels_name = _rels_name(edit.part)
        if rels_name not in self.names:
            return
        for rel in self.tree(rels_name):
            if rel.get("Type") != TABLE_TYPE:
                continue
            part = _resolve(edit.part, rel.get("Target", ""))
            if part not in self.names:
                continue
            table = self.tree(part)
            ref = table.get("ref", "")
            try:
                (r1, c1), (r2, c2) = (parse_ref(p) for p in ref.split(":"))
            except (PackageError, ValueError):
                continue
            last = r2
            while last + 1 in edit.rows and any(
                c1 <= c <= c2 and _has_value(e) for c, e in edit._row_cells(last + 1).items()
            ):
                last += 1
            if last == r2 or table.get("totalsRowCount", "0") != "0":
                continue
            new_ref = f"{column_letter(c1)}{r1}:{column_letter(c2)}{last}"
            table.set("ref", new_ref)
            auto = table.find(_M + "autoFilter")
            if auto is not None:
                auto.set("ref", new_ref)
            self._dirty(part)
            # Rows the person typed under the table, as Excel would have taken them in
            # (and its charts with them); rows the run appends (History, Trades) change
            # no chart: a chart is not the run's to edit for its own rows.
            if all(r in edit.typed_rows for r in range(r2 + 1, last + 1)):
                self._extend_chart_ranges(self.plan.sheet_parts[edit.part], (r1, c1, r2, c2), last)

    def _extend_chart_ranges(self, sheet: str, table: tuple[int, int, int, int], last: int) -> None:
        """Chart series over a whole column of a table that grew grow with it, as Excel
        keeps a chart made from a table in step with it (the Dashboard's weights chart
        is one: a holding typed below the table would be left out of it)."""
        r1, c1, r2, c2 = table
        for part in sorted(n for n in self.names if _CHART_PART.match(n)):
            root = self.tree(part)
            changed = False
            for f in root.iter(_C + "f"):
                found = _COLUMN_RANGE.match(f.text or "")
                if found is None:
                    continue
                quoted = found["quoted"]
                if (quoted.replace("''", "'") if quoted else found["plain"]) != sheet:
                    continue
                col = parse_ref(f"{found['col']}1")[1]
                if not (
                    found["col"] == found["col2"]
                    and c1 <= col <= c2
                    and int(found["top"]) == r1 + 1
                    and int(found["bottom"]) == r2
                ):
                    continue
                f.text = f"{f.text[: found.start('bottom')]}{last}"
                changed = True
            if changed:
                self._dirty(part)

    def _after_writes(self) -> None:
        if not self._edits and not self.plan.new_sheet_parts:
            return
        wb = self.tree(self.workbook_part)
        calc = wb.find(_M + "calcPr")
        if calc is None:
            calc = etree.Element(_M + "calcPr", calcId="191029")
            anchor = None
            for tag in ("definedNames", "externalReferences", "functionGroups", "sheets"):
                anchor = wb.find(_M + tag)
                if anchor is not None:
                    break
            if anchor is not None:
                anchor.addnext(calc)
            else:
                wb.append(calc)
        if calc.get("fullCalcOnLoad") != "1":
            calc.set("fullCalcOnLoad", "1")
            self._dirty(self.workbook_part)
        if any(e.overwrote_formula for e in self._edits.values()):
            self._drop_calc_chain()

    def _drop_calc_chain(self) -> None:
        rels = self.tree(self.rels_part)
        for rel in list(rels):
            if rel.get("Type") == CALC_CHAIN_TYPE:
                part = _resolve(self.workbook_part, rel.get("Target", ""))
                rels.remove(rel)
                self._dirty(self.rels_part)
                self.plan.removed.add(part)
                types = self.tree("[Content_Types].xml")
                for o in list(types):
                    if o.get("PartName") == "/" + part:
                        types.remove(o)
                        self._dirty("[Content_Types].xml")

    # --- writing ---

    def write(self, out: IO[bytes]) -> Plan:
        """Write the edited package to `out`: changed parts anew, the rest copied raw."""
        if self._styles is not None and self._styles.changed:
            self._dirty("xl/styles.xml")
        for name in self.plan.replaced:
            self.plan.replaced[name] = _serialize(self._trees[name])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            written: set[str] = set()
            for info in self.zf.infolist():
                name = info.filename
                if name in self.plan.removed:
                    continue
                if name in self.plan.replaced:
                    _write_new(dst, name, self.plan.replaced[name], info)
                else:
                    _copy_raw(self.zf, info, dst)
                written.add(name)
            for name, data in self.plan.replaced.items():
                if name not in written:
                    _write_new(dst, name, data, None)
        return self.plan


def _display(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, Formula):
        return ""
    return "" if value is None else str(value)


def _has_value(cell: etree._Element) -> bool:
    return any(c.tag in (_M + "v", _M + "is", _M + "f") for c in cell)


def _write_new(dst: zipfile.ZipFile, name: str, data: bytes, like: zipfile.ZipInfo | None) -> None:
    info = zipfile.ZipInfo(name, date_time=like.date_time if like else (1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = like.external_attr if like else 0o600 << 16
    dst.writestr(info, data)


def _copy_raw(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> None:
    """Copy one member's compressed bytes as they are: no inflate, no deflate.

    zipfile has no public call for this; its own `writestr` path is followed by hand:
    write the local header, stream the data, and register the entry for the central
    directory that `close()` writes (with Zip64 records where sizes need them).
    """
    fp = src.fp
    assert fp is not None
    assert dst.fp is not None
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise PackageError("corrupt-file", f"{info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    out = copy.copy(info)
    out.flag_bits &= ~0x08  # sizes go in the local header; no data descriptor follows
    out.extra = _strip_zip64(info.extra)
    out.header_offset = dst.fp.tell()
    zip64 = info.file_size > zipfile.ZIP64_LIMIT or info.compress_size > zipfile.ZIP64_LIMIT
    dst.fp.write(out.FileHeader(zip64))
    remaining = info.compress_size
    while remaining:
        chunk = fp.read(min(_CHUNK, remaining))
        if not chunk:
            raise PackageError("corrupt-file", f"{info.filename} is truncated")
        dst.fp.write(chunk)
        remaining -= len(chunk)
    dst.filelist.append(out)
    dst.NameToInfo[out.filename] = out
    dst.start_dir = dst.fp.tell()
    dst._didModify = True  # type: ignore[attr-defined]  # what writestr sets


def _strip_zip64(extra: bytes) -> bytes:
    """Extra fields less the Zip64 one, which `FileHeader` writes afresh when needed."""
    kept, i = b"", 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[i : i + 4])
        if tag != 0x0001:
            kept += extra[i : i + 4 + size]
        i += 4 + size
    return kept


# --- the verifier ----------------------------------------------------------------------


def verify(source: Path, written: Path, plan: Plan) -> list[str]:
    """What the written package changed that `plan` did not mean to; empty when none."""
    problems: list[str] = []
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(written) as b:
        theirs = {i.filename: i for i in b.infolist()}
        for info in a.infolist():
            name = info.filename
            if name in plan.removed:
                continue
            other = theirs.get(name)
            if other is None:
                problems.append(f"{name} is missing")
                continue
            if name in plan.replaced:
                continue
            if (other.CRC, other.compress_size, other.file_size, other.compress_type) != (
                info.CRC,
                info.compress_size,
                info.file_size,
                info.compress_type,
            ):
                problems.append(f"{name} changed")
        for part in plan.sheet_parts:
            if part in plan.new_sheet_parts or part not in a.NameToInfo:
                continue
            before = parse_xml(read_part(a, part), part)
            after = parse_xml(read_part(b, part), part)
            if _frame(before) != _frame(after):
                problems.append(f"{plan.sheet_parts[part]}: an element other than cells changed")
    return problems


def _frame(root: etree._Element) -> list[bytes]:
    """A sheet's elements other than its cells and the hints that follow them."""
    skip = {_M + "sheetData", _M + "dimension"}
    return [etree.tostring(c) for c in root if c.tag not in skip]

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

An edited sheet is written as its original bytes with only ``<sheetData>`` and the
``<dimension>`` ref replaced (`_splice`), so everything else in it stays byte for byte.

`verify` checks a written package against its source: every member the writer did not
mean to change is byte-identical, and every element of a changed sheet other than its
cells is still there (for a spliced sheet: its bytes outside the cells are the
original's). The caller refuses to replace the original otherwise.
"""

from __future__ import annotations

import bisect
import copy
import io
import math
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from lxml import etree

from rebalancer_xl.core.problems import message
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
TABLE_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
#: Where the names of Strict Open XML (ISO/IEC 29500 strict) begin: Excel's "Strict Open
#: XML Spreadsheet" save. The same parts under other names, which nothing here reads.
STRICT_NS = "http://purl.oclc.org/ooxml/"

#: A part we parse may inflate to at most this much; larger is refused, not read.
MAX_PART_BYTES = 256 * 1024 * 1024
#: A part compressing better than this (and big) is a zip bomb, not a spreadsheet.
MAX_RATIO = 200
_CHUNK = 1 << 20
#: A written package up to this size is assembled in memory and written in one call.
_BUFFER_BYTES = 64 * 1024 * 1024

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

    def __init__(self, code: str, form: str, /, **values: object) -> None:
        # worded by the problem catalogue, so the raise site passes only what it found
        text = message(code, form, **values)
        super().__init__(text)
        self.code = code
        self.message = text


# --- reading the package safely --------------------------------------------------------


def check_members(zf: zipfile.ZipFile) -> None:
    """Refuse member names that could escape a folder or shadow each other."""
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or "\x00" in name or ":" in parts[0]:
            raise PackageError("unsafe-package", "climbs-out", part=name)
        if name.lower() in seen:
            raise PackageError("unsafe-package", "twice", part=name)
        seen.add(name.lower())


def read_part(zf: zipfile.ZipFile, name: str, limit: int = MAX_PART_BYTES) -> bytes:
    """A member's bytes, refusing one that inflates past `limit` (whatever it claims)."""
    info = zf.getinfo(name)
    _check_size(info, limit)
    data = _inflated(zf, info, limit)
    if data is not None:
        return data
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise PackageError("unsafe-package", "too-large", part=name, limit=limit)
    return data


def _inflated(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """A deflated member inflated straight from its raw bytes, as `_prolog` reads them,
    when all is as zipfile would check it (the local header and its name, the whole
    stream, its size and CRC); None otherwise, for zipfile to read or refuse as ever.
    A ZipExtFile per part cost ~110,000 instructions more: ~1.6M of a small run."""
    # Not encrypted (0x01), not patched data (0x20): the flags zipfile handles apart.
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x21:
        return None
    # The stream is read whole, so its declared size must be one deflate can honestly
    # have for `file_size` bytes (stored blocks add 5 bytes in 65,535): a member that
    # claims a small part in a huge stream is left to zipfile, which reads it in chunks.
    if info.compress_size > info.file_size + (info.file_size >> 10) + 1024:
        return None
    fp = zf.fp
    assert fp is not None
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return None
    name_len: int
    extra_len: int
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if fp.read(name_len).decode(encoding, "replace") != info.orig_filename:
        return None
    fp.seek(extra_len, os.SEEK_CUR)
    inflater = zlib.decompressobj(-15)
    try:
        data = inflater.decompress(fp.read(info.compress_size), limit + 1)
    except zlib.error:
        return None
    if inflater.eof and len(data) == info.file_size and zlib.crc32(data) == info.CRC:
        return data
    return None


def refuse_hostile(zf: zipfile.ZipFile, inflated: dict[str, bytes] | None = None) -> None:
    """Refuse a hostile package before any reader parses it.

    Member names must stay inside the package; no XML part may inflate past
    `MAX_PART_BYTES` or compress like a zip bomb; none may declare a DOCTYPE or entities.
    zipfile never reads past a member's declared size, so checking the declared sizes
    bounds what any later reader can inflate. Members that are not XML (pictures, a VBA
    project, a 2 GiB blob nothing refers to) are never read.

    Given `inflated`, the parts a run usually reads (`_READ_NEXT`, up to
    `_READ_NEXT_BYTES` in all) are inflated whole here, checked from their bytes and
    kept in it for the reader; every other part is checked from its first kilobyte.
    Inflating the head of each part that a reader then inflates again whole cost the
    names book's run ~0.35M instructions.
    """
    check_members(zf)
    budget = _READ_NEXT_BYTES
    for info in zf.infolist():
        name = info.filename
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        _check_size(info)
        data = None
        if inflated is not None and info.file_size <= budget and _READ_NEXT.match(name):
            data = _inflated(zf, info, MAX_PART_BYTES)
            if data is not None:
                inflated[name] = data
                budget -= len(data)
        prolog = _prolog(zf, info) if data is None else _prolog_of(data)
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            raise PackageError("unsafe-package", "entities", part=name)


# The parts a run reads in the usual layout: the package's and the workbook's relations,
# the workbook, its worksheets, shared strings and styles. Only a guess at what comes
# next: a part named otherwise is checked from its head and inflated when it is read.
_READ_NEXT = re.compile(
    r"_rels/\.rels|xl/(?:workbook\.xml|_rels/workbook\.xml\.rels|sharedStrings\.xml"
    r"|styles\.xml|worksheets/[^/]+\.xml)\Z"
)
#: What `refuse_hostile` inflates whole, all parts together: a guess may be wrong (a sheet
#: no run reads), so it may cost no more than this in time and memory. A part past it is
#: inflated when it is read, as any other.
_READ_NEXT_BYTES = 4 << 20


def _prolog_of(data: bytes) -> bytes:
    """`_prolog` of a part inflated whole: what it would inflate of it and answer."""
    before = _before_root(data[:1024])
    return data[:65536] if before is None else before


_START_TAG = re.compile(rb"<[A-Za-z_]")


def _before_root(head: bytes) -> bytes | None:
    """What of `head` comes before the root element; None when the root does not start
    in it, or a comment (which may hide a ``<``) stands before it: look further then."""
    start = _START_TAG.search(head)
    if start is None or b"<!--" in head[: start.start()]:
        return None
    return head[: start.start()]


def _prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """What comes before a part's root element, where a DOCTYPE would have to stand.

    Only the first kilobyte is inflated, straight from the member's raw bytes (a
    ZipExtFile per member costs more than the check). A prolog with a comment, which
    may hide a ``<``, or an unusual member, is read the ordinary way, up to 64 KiB.
    """
    plain = info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    if plain and not info.flag_bits & 0x01:  # not encrypted
        fp = zf.fp
        assert fp is not None
        fp.seek(_data_offset(fp, info))
        raw = fp.read(min(info.compress_size, 4096))
        if info.compress_type == zipfile.ZIP_STORED:
            head = raw[:1024]
        else:
            # A prolog is nearly always the XML declaration alone, well under 128 bytes:
            # those are inflated first, and the rest of the kilobyte only when the root
            # element does not start in them (the whole kilobyte of each of the names
            # book's 19 parts cost ~165,000 instructions more).
            inflater = zlib.decompressobj(-15)
            try:
                head = inflater.decompress(raw, 128)
                if _START_TAG.search(head) is None:
                    head += inflater.decompress(inflater.unconsumed_tail, 1024 - len(head))
            except zlib.error:
                head = b""
        before = _before_root(head)
        if before is not None:
            return before
    with zf.open(info) as f:
        return f.read(65536)


def _data_offset(fp: IO[bytes], info: zipfile.ZipInfo) -> int:
    """Where a member's (compressed) data starts: after its local header."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise PackageError("corrupt-file", "local-header", part=info.filename)
    name_len: int
    extra_len: int
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return int(info.header_offset) + 30 + name_len + extra_len


def _check_size(info: zipfile.ZipInfo, limit: int = MAX_PART_BYTES) -> None:
    big = info.file_size > 10 * 1024 * 1024
    if info.file_size > limit or (big and info.file_size > MAX_RATIO * max(1, info.compress_size)):
        raise PackageError(
            "unsafe-package",
            "zip-bomb",
            part=info.filename,
            size=info.file_size,
            compressed=info.compress_size,
        )


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse a part; a DOCTYPE (entity declarations, external fetches) is refused."""
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data[:65536]:
        raise PackageError("unsafe-package", "entities", part=name)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as err:
        raise PackageError("corrupt-file", "not-xml", part=name, error=err) from None


_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")


def utf8(data: bytes) -> bool:
    """Whether a part (after any byte order mark) is UTF-8 as far as its declaration says."""
    declared = _ENCODING.match(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def _serialize(root: etree._Element) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The package at `path`; one of ordinary size read into memory in one call, so
    that each member read after it (the prolog checks, the parts parsed, the raw
    copies) is a slice rather than a seek and a read of the file."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size <= _BUFFER_BYTES:
            return zipfile.ZipFile(io.BytesIO(f.read()))
    return zipfile.ZipFile(path)


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
        raise PackageError("corrupt-file", "cell-name", ref=ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


_COLUMN_OF: dict[str, int] = {}


def column_of(ref: str) -> int:
    """The column number of a cell reference such as ``C12``.

    Called once per cell read or edited, so the letters' value is remembered: a sheet
    has few distinct columns and many rows.
    """
    letters = ref.rstrip("0123456789")
    col = _COLUMN_OF.get(letters)
    if col is None:
        col = parse_ref(ref)[1]
        if len(_COLUMN_OF) < 20_000:
            _COLUMN_OF[letters] = col
    return col


def _excel_serial(value: date | datetime, date1904: bool) -> float | int:
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    delta = moment - epoch
    days = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return int(days) if days == int(days) else days


# A cell edit on a row the sheet already has, kept until `_SheetEdit.finish`:
# [value, style, raw]. value is the cell's XML after its r/s attributes (see `_value_xml`),
# None to clear the value, or _KEEP to leave it; style is the new s, or None to leave it;
# raw is the value written (what row heights measure).
_KEEP: Any = object()
_Lazy = Callable[[], "_Styles"]  # the package's styles, parsed only when a date needs them
_Edits = dict[int, dict[int, list[Any]]]
_V, _IS = _M + "v", _M + "is"
_NO_VALUE_ATTRS = frozenset(("t", "cm", "vm"))  # value and cell metadata of the old value


class _SheetEdit:
    """One worksheet part being edited: its rows indexed once, cells found by (row, col).

    Writes are not carried out one lxml element at a time (that cost most of a run on a
    big sheet): cells of rows the sheet has are recorded in `edits`, cells of rows it has
    not in `pending`, and `finish` turns both into elements with one parse each.
    """

    def __init__(self, part: str, root: etree._Element) -> None:
        self.part = part
        self.root = root
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
        self.date1904 = False
        self.edits: _Edits = {}
        # Rows the sheet does not have yet (new Trades and History rows): plain cells.
        self.pending: _Rows = {}

    # The calls `Package.apply` makes; `_NewSheet` answers the same ones.

    def set_values(
        self, r0: int, c0: int, values: Sequence[Sequence[object]], date1904: bool, styles: _Lazy
    ) -> None:
        """A block of values (a SetValues op), with a date style where a date lands."""
        self.date1904 = date1904
        rows, edits = self.rows, self.edits
        # Rows the sheet does not have: plain cells, the whole block in one call.
        grown = _put_block(self.pending, r0, c0, values, date1904, styles, False, skip=rows)
        if grown is not None:
            self._grow(grown[0], grown[1])
            self._grow(grown[2], grown[3])
        for dr, line in enumerate(values):
            r = r0 + dr
            if r not in rows:
                continue
            row_edits = edits.get(r)
            if row_edits is None:
                row_edits = edits[r] = {}
            for dc, value in enumerate(line):
                c = c0 + dc
                rec = row_edits.get(c)
                if rec is None:
                    rec = row_edits[c] = [_KEEP, None, None]
                if value is None or value == "":
                    rec[0] = None
                    rec[2] = None
                    continue
                rec[0] = _value_xml(value, date1904)
                rec[2] = value
                if isinstance(value, date):
                    s = self.style(r, c)
                    if not styles().is_date(s):
                        rec[1] = styles().derive(s, number_format=_DATE_FORMAT)

    def restyle(self, r0: int, c0: int, nrows: int, ncols: int, new: Callable[[int], int]) -> None:
        """Every cell of a block gets the style `new` makes of its own (SetFormat/SetColor)."""
        memo: dict[int, int] = {}
        new_rows = [r for r in range(r0, r0 + nrows) if r not in self.rows]
        if new_rows:
            _restyle_rows(self.pending, new_rows, c0, ncols, new, memo)
            self._grow(new_rows[0], c0)
            self._grow(new_rows[-1], c0 + ncols - 1)
        for r in range(r0, r0 + nrows):
            if r not in self.rows:
                continue
            for c in range(c0, c0 + ncols):
                old = self.style(r, c)
                s = memo.get(old)
                if s is None:
                    s = memo[old] = new(old)
                self.set_style(r, c, s)

    def set_value(self, r: int, c: int, value: object, date1904: bool) -> None:
        empty = value is None or value == ""
        if r not in self.rows:
            if empty:
                _drop_value(self.pending, r, c)
            else:
                _pending_cell(self.pending, r, c)[0] = _value_xml(value, date1904)
                self._grow(r, c)
            return
        self.date1904 = date1904
        rec = self._edit(r, c)
        rec[0] = None if empty else _value_xml(value, date1904)
        rec[2] = None if empty else value

    def style(self, r: int, c: int) -> int:
        if r not in self.rows:
            found = self.pending.get(r, {}).get(c)
            return found[1] if found is not None else 0
        rec = self.edits.get(r, {}).get(c)
        if rec is not None and rec[1] is not None:
            return int(rec[1])
        return self._old_style(r, c)

    def _old_style(self, r: int, c: int) -> int:
        """The style cell (r, c) of a row the sheet has carries in the file."""
        cell = self._row_cells(r).get(c)
        return int(cell.get("s", "0")) if cell is not None else 0

    def set_style(self, r: int, c: int, s: int) -> None:
        if r not in self.rows:
            _pending_cell(self.pending, r, c)[1] = s
            self._grow(r, c)
            return
        self._edit(r, c)[1] = s

    def clear(self, r: int, c: int) -> None:
        if r not in self.rows:
            _drop_value(self.pending, r, c)
            return
        rec = self._edit(r, c)
        rec[0] = rec[2] = None

    def text(self, r: int, c: int) -> str:
        """The text cell (r, c) shows once the writes are done (for row heights)."""
        rec = self.edits.get(r, {}).get(c)
        if rec is not None and rec[0] is not _KEEP:
            return "" if rec[2] is None else _shown_text(rec[2], self.date1904)
        return self._old_text(r, c)

    def _old_text(self, r: int, c: int) -> str:
        cell = self._row_cells(r).get(c)
        return _cell_text(cell) if cell is not None else ""

    # What `_fit_rows` and `Package._extend_tables` ask of a sheet (see `TextSheetEdit`,
    # which answers them from the sheet's text).

    def column_width(self, col: int) -> float:
        """The width the sheet gives column `col` (Excel's default when it gives none)."""
        width = _DEFAULT_COL_WIDTH
        cols = self.root.find(_M + "cols")
        if cols is not None:
            for entry in cols.iterchildren(_M + "col"):
                if int(entry.get("min", "0")) <= col <= int(entry.get("max", "0")):
                    width = float(entry.get("width", width))
        return width

    def custom_height(self, r: int) -> bool | None:
        """Whether the user set row `r`'s height (None: the sheet has no such row)."""
        row = self.rows.get(r)
        return None if row is None else row.get("customHeight") in ("1", "true")

    def set_height(self, r: int, height: str | None) -> None:
        """Give row `r` a height (None: the default height)."""
        row = self.rows[r]
        if height is not None:
            row.set("ht", height)
        elif "ht" in row.attrib:
            del row.attrib["ht"]

    def row_has_value(self, r: int, c1: int, c2: int) -> bool:
        """Whether row `r`, once finished, holds a value in a column from c1 to c2."""
        return r in self.rows and any(
            c1 <= c <= c2 and _has_value(e) for c, e in self._row_cells(r).items()
        )

    def spliced_into(self, original: bytes) -> bytes | None:
        """The finished sheet as `original` with its cells and dimension replaced (see
        `_splice`), or None when it cannot be done safely: the sheet is serialized."""
        new = etree.tostring(self.data, encoding="UTF-8", xml_declaration=False, with_tail=False)
        first = new.find(b">") + 1
        if new[first - 2 : first] == b"/>":
            body = b""
        elif new.endswith(_CLOSE):
            body = new[first : -len(_CLOSE)]
        else:
            return None
        # The serialized <sheetData> declares the namespaces its cells use, which the
        # original declares further up: its own start tag is dropped for the original's.
        # A declaration further in would be a namespace not in scope there.
        if b"xmlns" in body:
            return None
        dim = self.root.find(_M + "dimension")
        return _splice(original, body, None if dim is None else dim.get("ref", ""))

    def _edit(self, r: int, c: int) -> list[Any]:
        row_edits = self.edits.get(r)
        if row_edits is None:
            row_edits = self.edits[r] = {}
        rec = row_edits.get(c)
        if rec is None:
            rec = row_edits[c] = [_KEEP, None, None]
        return rec

    def _apply_edits(self) -> None:
        """Carry out the recorded edits: cells that get a value are written as text and
        parsed in one go, then each takes its old element's place; the old cell's other
        attributes go with it. A cell with anything else inside (an extLst) or a
        namespaced attribute is edited in place instead, so nothing of it is lost."""
        texts: list[str] = []
        jobs: list[tuple[int, int, etree._Element | None]] = []
        for r in sorted(self.edits):
            cells = self._row_cells(r)
            for c, (value, s, raw) in sorted(self.edits[r].items()):
                old = cells.get(c)
                if old is not None and value is not _KEEP and value is not None:
                    attrs = _plain_attrs(old, s)
                    if attrs is None:  # not a plain cell: edit the element itself
                        _set_value(old, raw, self, self.date1904)
                        if s is not None:
                            _set_s(old, s)
                        continue
                    texts.append(f"<c{attrs}{value}")
                    jobs.append((r, c, old))
                elif old is not None:
                    if value is None:
                        _clear_value(old, self)
                    if s is not None:
                        _set_s(old, s)
                elif value is not None or s is not None:
                    # No such cell yet: a value, or a style (Excel keeps a styled empty cell).
                    style = f' s="{s}"' if s else ""
                    tail = "/>" if value is _KEEP or value is None else value
                    texts.append(f'<c r="{column_letter(c)}{r}"{style}{tail}')
                    jobs.append((r, c, None))
        self.edits = {}
        if not texts:
            return
        fragment = etree.fromstring(f'<x xmlns="{MAIN}">{"".join(texts)}</x>'.encode())
        for (r, c, old), new in zip(jobs, list(fragment), strict=True):
            row = self.rows[r]
            cells = self._row_cells(r)
            if old is not None:
                new.tail = old.tail
                row.replace(old, new)
            else:
                if not cells or c > max(cells):
                    row.append(new)
                else:
                    cells[min(k for k in cells if k > c)].addprevious(new)
                if "spans" in row.attrib:  # a hint Excel recomputes; a stale one is worse
                    del row.attrib["spans"]
                self._grow(r, c)
            cells[c] = new

    def _add_pending_rows(self) -> None:
        """Parse the pending rows in one go and put each in its place among the others."""
        if not self.pending:
            return
        text = "".join(_rows_xml(self.pending))
        fragment = etree.fromstring(f'<sheetData xmlns="{MAIN}">{text}</sheetData>'.encode())
        existing = sorted(self.rows)
        for row in list(fragment):
            r = int(row.get("r", "0"))
            if r > self.last_row:  # the usual case, rows added at the end: no search
                self.data.append(row)
                self.last_row = r
            else:
                after = existing[bisect.bisect_right(existing, r)]
                self.rows[after].addprevious(row)
            self.rows[r] = row
            self._cells.pop(r, None)
        self.pending = {}

    def _row_cells(self, r: int) -> dict[int, etree._Element]:
        cells = self._cells.get(r)
        if cells is None:
            cells = {}
            row = self.rows.get(r)
            if row is not None:
                for c in row.iterchildren(_M + "c"):
                    ref = c.get("r")
                    if ref is not None:
                        cells[column_of(ref)] = c
            self._cells[r] = cells
        return cells

    def _grow(self, r: int, c: int) -> None:
        if self.extent is None:
            self.extent = (r, c, r, c)
        else:
            a, b, y, z = self.extent
            self.extent = (min(a, r), min(b, c), max(y, r), max(z, c))

    def finish(self) -> _SheetEdit:
        """Carry out the edits, add the pending rows; widen ``<dimension>`` to the cells
        added (it is a hint, but Excel trusts it). Returns the edit to write."""
        self._apply_edits()
        self._add_pending_rows()
        dim = self.root.find(_M + "dimension")
        if dim is not None:
            ref = dim.get("ref", "")
            new = _widened(ref, self.extent)
            if new != ref:
                dim.set("ref", new)
        return self


def _widened(ref: str, extent: tuple[int, int, int, int] | None) -> str:
    """A ``<dimension>`` ref widened to take in the cells added (`extent`)."""
    if extent is None:
        return ref
    a, b, y, z = extent
    try:
        ends = [parse_ref(p) for p in ref.split(":")]
        a, b = min(a, ends[0][0]), min(b, ends[0][1])
        y, z = max(y, ends[-1][0]), max(z, ends[-1][1])
    except PackageError:
        pass
    return f"{column_letter(b)}{a}" + (f":{column_letter(z)}{y}" if (a, b) != (y, z) else "")


_ATTR_SPECIAL = re.compile(r'[&<"\t\n\r]')


def _plain_attrs(cell: etree._Element, s: int | None) -> str | None:
    """A cell's attributes as text for the same cell with a new value (its ``t``, ``cm``
    and ``vm`` dropped, ``s`` set to `s` unless None), or None when the cell holds more
    than a value (an extLst, a comment) or an attribute in a namespace."""
    for child in cell:  # a formula is overwritten in place too, so that it is noted
        tag = child.tag
        if tag != _V and tag != _IS:
            return None
    parts = []
    for key, value in cell.attrib.items():
        if key in _NO_VALUE_ATTRS:
            continue
        if key[0] == "{":
            return None
        if key == "s" and s is not None:
            if s:
                parts.append(f' s="{s}"')
            s = None
            continue
        if _ATTR_SPECIAL.search(value):
            value = _escape(value).replace('"', "&quot;").replace("\t", "&#9;")
            value = value.replace("\n", "&#10;")
        parts.append(f' {key}="{value}"')
    if s:
        parts.append(f' s="{s}"')
    return "".join(parts)


def _set_s(cell: etree._Element, s: int) -> None:
    if s == 0:
        cell.attrib.pop("s", None)
    else:
        cell.set("s", str(s))


def _shown_text(value: object, date1904: bool) -> str:
    """What `_cell_text` reads back from a cell holding `value`."""
    _, child, text = _encode(value, date1904)
    return text if child in ("is", "v") else ""


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
    kind, child, text = _encode(value, date1904)
    if kind is not None:
        cell.set("t", kind)
    if child == "is":
        t = etree.SubElement(etree.SubElement(cell, _M + "is"), _M + "t")
        t.text = text
        if _needs_preserve(text):
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    else:
        etree.SubElement(cell, _M + child).text = text
    for c in ext:
        cell.append(c)


def _encode(value: object, date1904: bool) -> tuple[str | None, str, str]:
    """How a value is stored in a cell: its ``t`` type (if any), child element and text.

    The one statement of the encoding, shared by edited sheets (lxml) and new ones (text).
    """
    if isinstance(value, str):  # the usual case first: this runs once per written cell
        return "inlineStr", "is", _ILLEGAL_XML.sub("", value)
    if type(value) is float or type(value) is int:  # not bool, a subclass of int
        return None, "v", _number(value)
    if isinstance(value, Formula):
        return None, "f", value.text[1:] if value.text.startswith("=") else value.text
    if isinstance(value, bool):
        return "b", "v", "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return None, "v", _number(value)
    if isinstance(value, date):
        return None, "v", _number(_excel_serial(value, date1904))
    return "inlineStr", "is", _ILLEGAL_XML.sub("", str(value))


def _value_xml(value: object, date1904: bool) -> str:
    """A non-empty value as the text of its cell after the r and s attributes, up to and
    including ``</c>``: the form both sheet kinds keep a written value in until they
    are serialized, so each value is encoded once."""
    if type(value) is float:  # the common cases first, without `_encode`'s tuple
        return f"><v>{value:.16g}</v></c>"
    if type(value) is int:
        return f"><v>{value}</v></c>"
    if type(value) is str:  # names and rules repeat down a column: encode each once
        found = _STR_XML.get(value)
        if found is None:
            if len(_STR_XML) >= 50_000:
                _STR_XML.clear()
            found = _STR_XML[value] = _text_xml(_ILLEGAL_XML.sub("", value))
        return found
    kind, child, text = _encode(value, date1904)
    if child == "is":
        return _text_xml(text)
    t = f' t="{kind}"' if kind is not None else ""
    return f"{t}><{child}>{_escape(text)}</{child}></c>"


_STR_XML: dict[str, str] = {}


def _text_xml(text: str) -> str:
    space = ' xml:space="preserve"' if _needs_preserve(text) else ""
    return f' t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _needs_preserve(text: str) -> bool:
    return text != text.strip() or "\n" in text


def _number(value: object) -> str:
    """A number as openpyxl writes one ("%.16g"), so both writers store the same value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.16g}"  # type: ignore[arg-type]


# row -> column -> [value as `_value_xml` text or None, style, width shown (new sheets)]
_Rows = dict[int, dict[int, list[Any]]]


def _pending_cell(rows: _Rows, r: int, c: int) -> list[Any]:
    cols = rows.get(r)
    if cols is None:
        cols = rows[r] = {}
    cell = cols.get(c)
    if cell is None:
        cell = cols[c] = [None, 0, 0]
    return cell


def _drop_value(rows: _Rows, r: int, c: int) -> None:
    """Clear a plain cell's value; a cell left with no value and no style goes."""
    cols = rows.get(r)
    cell = cols.get(c) if cols is not None else None
    if cols is None or cell is None:
        return
    cell[0] = None
    if cell[1] == 0:
        del cols[c]
        if not cols:
            del rows[r]


def _put_block(
    rows: _Rows,
    r0: int,
    c0: int,
    values: Sequence[Sequence[object]],
    date1904: bool,
    styles: _Lazy,
    widths: bool,
    skip: Container[int] = (),
) -> tuple[int, int, int, int] | None:
    """A SetValues block into plain cells, rows in `skip` left out: what `set_value` does
    per cell, and a date style where a date lands without one; with `widths`, each
    cell's shown width. Returns the extent given values (top, left, bottom, right)."""
    strings = _STR_XML
    top = left = bottom = right = 0
    r = r0 - 1
    # Once per cell written: 330,000 times for a 10,000-position book (its Log and
    # Trades), written mostly as blocks one column wide, so the whole block is one call
    # and floats and strings, nearly all of the values, are encoded without one.
    for line in values:
        r += 1
        if r in skip:
            continue
        cols = rows.get(r)
        c = c0 - 1
        for value in line:
            c += 1
            kind = type(value)
            if value is None or (not value and isinstance(value, str)):
                if cols is not None and c in cols:
                    _drop_value(rows, r, c)
                    if r not in rows:
                        cols = None
                continue
            if cols is None:
                cols = rows[r] = {}
            if kind is float:
                xml = f"><v>{value:.16g}</v></c>"  # as `_value_xml` writes a float
                # The number itself: its shown width (`_display`'s) is worked out by
                # `autofit`, for the few numbers that can be a column's widest.
                width = value if widths else 0
            elif isinstance(value, str):  # `kind is str`: a subclass went the last way
                xml = strings.get(value) or _value_xml(value, date1904)
                width = len(value)  # what `_display` shows of a string: itself
            else:
                xml = _value_xml(value, date1904)
                width = len(_display(value)) if widths else 0
            cell = cols.get(c)
            if cell is None:
                cell = cols[c] = [xml, 0, width]
            else:
                cell[0] = xml
                cell[2] = width
            dated = kind is not float and kind is not str and isinstance(value, date)
            if dated and not styles().is_date(cell[1]):
                cell[1] = styles().derive(cell[1], number_format=_DATE_FORMAT)
            if not top:
                top, left, right = r, c, c
            elif c < left:
                left = c
            elif c > right:
                right = c
            bottom = r  # rows come in order
    return (top, left, bottom, right) if top else None


_LETTERS: dict[int, str] = {}
_STYLE_ATTRS: dict[int, str] = {}


def _letters(c: int) -> str:
    found = _LETTERS.get(c)
    if found is None:
        found = _LETTERS[c] = column_letter(c)
    return found


def _rows_xml(rows: _Rows) -> Iterator[str]:
    """The ``<row>`` elements of plain cells, in order, as text."""
    # Once per cell written: 190,000 times for a 10,000-position Log. Column letters
    # and style attributes repeat, so each is made once; no call per cell.
    letters, styles = _LETTERS, _STYLE_ATTRS
    for r in sorted(rows):
        cols = rows[r]
        out = [f'<row r="{r}">']
        for c in sorted(cols):
            value, s, _ = cols[c]
            ref = letters.get(c) or _letters(c)
            style = styles.get(s)
            if style is None:
                style = styles[s] = f' s="{s}"' if s else ""
            out.append(f'<c r="{ref}{r}"{style}{"/>" if value is None else value}')
        out.append("</row>")
        yield "".join(out)


def _restyle_rows(
    rows: _Rows,
    which: Iterable[int],
    c0: int,
    ncols: int,
    new: Callable[[int], int],
    memo: dict[int, int],
) -> None:
    """Give `ncols` cells of rows `which` held as records, from column `c0`, the style
    `new` makes of each one's own; `memo` keeps one derived style per old one for the
    block. One call for a block: blocks are mostly a column of thousands of rows."""
    columns = range(c0, c0 + ncols)
    for r in which:
        cols = rows.get(r)
        if cols is None:
            cols = rows[r] = {}
        for c in columns:
            cell = cols.get(c)
            if cell is None:
                cell = cols[c] = [None, 0, 0]
            s = memo.get(cell[1])
            if s is None:
                s = memo[cell[1]] = new(cell[1])
            cell[1] = s


class _NewSheet:
    """A sheet this run creates (the dated Log): cells kept as plain values, XML written once.

    Nobody else has touched such a sheet, so there is nothing to keep: building one lxml
    element per cell (190,000 of them for a 10,000-position Log) would cost more than the
    rest of the run, while the XML of a fresh sheet is simple enough to write as text.
    """

    def __init__(self, part: str) -> None:
        self.part = part
        self.rows: _Rows = {}
        self.widths: dict[int, int] = {}
        self.overwrote_formula = False
        self.print_layout = False  # landscape, one page wide, headed (see PrintLayout)

    def set_values(
        self, r0: int, c0: int, values: Sequence[Sequence[object]], date1904: bool, styles: _Lazy
    ) -> None:
        _put_block(self.rows, r0, c0, values, date1904, styles, True)

    def restyle(self, r0: int, c0: int, nrows: int, ncols: int, new: Callable[[int], int]) -> None:
        _restyle_rows(self.rows, range(r0, r0 + nrows), c0, ncols, new, {})

    def set_value(self, r: int, c: int, value: object, date1904: bool) -> None:
        if value is None or value == "":
            self.clear(r, c)
            return
        cell = _pending_cell(self.rows, r, c)
        cell[0] = _value_xml(value, date1904)
        cell[2] = len(_display(value))

    def style(self, r: int, c: int) -> int:
        found = self.rows.get(r, {}).get(c)
        return found[1] if found is not None else 0

    def set_style(self, r: int, c: int, s: int) -> None:
        _pending_cell(self.rows, r, c)[1] = s

    def clear(self, r: int, c: int) -> None:
        _drop_value(self.rows, r, c)

    def autofit(self, op: Autofit) -> None:
        """Widen each column of the block to the longest text written in it.

        A float's cell holds the number, not its width (see `_put_block`): shown as
        f"{v:,.2f}", a number is never narrower than a smaller one of its sign, so only a
        column's largest and its most negative are formatted, not its 100,000 numbers.
        """
        widths = self.widths
        highest: dict[int, float] = {}  # per column: the largest number at or above zero
        lowest: dict[int, float] = {}  # and the most negative
        for r, cols in self.rows.items():
            if not op.row <= r < op.row + op.rows:
                continue
            for c, (value, _, width) in cols.items():
                if value is None or not op.col <= c < op.col + op.cols:
                    continue
                if type(width) is not float:
                    if width >= widths.get(c, 0):
                        widths[c] = width
                elif not math.isfinite(width):
                    widths[c] = max(widths.get(c, 0), len(_display(width)))
                elif math.copysign(1.0, width) > 0:  # -0.0 shows as "-0.00"
                    if width >= highest.get(c, 0.0):
                        highest[c] = width
                elif width <= lowest.get(c, -0.0):
                    lowest[c] = width
        for extremes in (highest, lowest):
            for c, number in extremes.items():
                widths[c] = max(widths.get(c, 0), len(_display(number)))

    def serialize(self) -> bytes:
        if self.rows:
            top, bottom = min(self.rows), max(self.rows)
            left = min(min(cols) for cols in self.rows.values())
            right = max(max(cols) for cols in self.rows.values())
            dimension = f"{column_letter(left)}{top}"
            if (top, left) != (bottom, right):
                dimension += f":{column_letter(right)}{bottom}"
        else:
            dimension = "A1"
        out = [
            "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n",
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL_NS}">',
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if self.print_layout else "",
            f'<dimension ref="{dimension}"/>',
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews>',
            '<sheetFormatPr defaultRowHeight="15"/>',
        ]
        if self.widths:
            out.append("<cols>")
            for c in sorted(self.widths):
                width = min(80, max(8, self.widths[c] + 2))
                out.append(f'<col min="{c}" max="{c}" width="{width}" customWidth="1"/>')
            out.append("</cols>")
        out.append("<sheetData>")
        out.extend(_rows_xml(self.rows))
        out.append(
            '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75"'
            ' header="0.3" footer="0.3"/>'
        )
        if self.print_layout:
            # As many pages tall as the log needs; each page says whose it is.
            out.append('<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
            out.append(
                f"<headerFooter><oddHeader>{_escape(PRINT_HEADER)}</oddHeader></headerFooter>"
            )
        out.append("</worksheet>")
        return "".join(out).encode()


def _escape(text: str) -> str:
    # A carriage return as a reference: the parser would read a bare one back as "\n".
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _fit_rows(edit: _SheetEdit, op: FitRows) -> None:
    """Row heights for wrapped text (see FitRows). A row height the user set
    (customHeight) is theirs; one this run set before is set again."""
    width = edit.column_width(op.col)
    for r in range(op.row, op.row + op.rows):
        if edit.custom_height(r) is not False:  # no such row, or the user's height
            continue
        text = edit.text(r, op.col)
        lines = wrapped_lines(text, width) if text else 1
        edit.set_height(r, f"{lines * LINE_HEIGHT:g}" if lines > 1 else None)


def _cell_text(cell: etree._Element) -> str:
    """The text a cell shows, as far as its XML says (inline strings and plain values)."""
    if cell.get("t") == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(_M + "t"))
    v = cell.find(_M + "v")
    return (v.text or "") if v is not None else ""


# --- styles ----------------------------------------------------------------------------


class _Styles:
    """``xl/styles.xml``, appended to only when a wanted style does not exist."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.changed = False
        self.xfs = self._section("cellXfs")
        self.fills = self._section("fills")
        self._memo: dict[tuple[int, str | None, str | None, bool], int] = {}
        self._dates: dict[int, bool] = {}  # style index -> shows a date (asked per cell)
        self._xf_index: dict[tuple[object, ...], int] | None = None  # built on first derive
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
            raise PackageError("corrupt-file", "no-style-section", tag=tag)
        return section

    @staticmethod
    def _xf_key(xf: etree._Element) -> tuple[object, ...]:
        # Made for every cell style when the first is derived: most have no children.
        return (tuple(sorted(xf.items())), tuple(map(etree.tostring, xf)) if len(xf) else ())

    def is_date(self, s: int) -> bool:
        known = self._dates.get(s)
        if known is None:
            xf = self.xfs[s] if 0 <= s < len(self.xfs) else None
            fid = int(xf.get("numFmtId", "0")) if xf is not None else 0
            code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", self.codes.get(fid, "")).lower()
            known = 14 <= fid <= 22 or 45 <= fid <= 47 or any(ch in code for ch in "dy")
            self._dates[s] = known
        return known

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
        if self._xf_index is None:  # the reader never derives a style: index them lazily
            self._xf_index = {self._xf_key(x): i for i, x in reversed(list(enumerate(self.xfs)))}
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
    # Changed sheets written as their original bytes with only <sheetData> and the
    # <dimension> ref replaced (see `_splice`), with those bytes as read (zipfile checked
    # their CRC): `verify` compares the rest byte for byte without inflating them again.
    spliced: dict[str, bytes] = field(default_factory=dict)


class Package:
    """An .xlsx/.xlsm opened for surgical edits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zf = _open_zip(path)
        self.plan = Plan()
        self._trees: dict[str, etree._Element] = {}
        self._data: dict[str, bytes] = {}  # members inflated, kept for the one parse
        self._edits: dict[str, _SheetEdit | _NewSheet] = {}
        self._styles: _Styles | None = None
        # Sheets deleted by the ops: (their <sheets>, position, element), until re-added.
        self._deleted: dict[str, tuple[etree._Element, int, etree._Element]] = {}
        self.sheet_part: dict[str, str] = {}
        # part -> the text inside <sheetData> of a sheet the reader scanned cell by cell
        # (package_read): its shape is known, so it can be edited as text.
        self.scanned: dict[str, str] = {}
        try:
            refuse_hostile(self.zf, self._data)
            self.names = {i.filename for i in self.zf.infolist()}
            self.workbook_part = self._main_part()
            self.rels_part = _rels_name(self.workbook_part)
            self._index_sheets()
        except BaseException:
            self.zf.close()
            raise

    def _index_sheets(self) -> None:
        wb = self.tree(self.workbook_part)
        if isinstance(wb.tag, str) and wb.tag.startswith("{" + STRICT_NS):
            # a strict workbook under a transitional relationship: read, it has no sheets
            raise PackageError("unsupported-format", "strict")
        pr = wb.find(_M + "workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        rels = (
            {r.get("Id"): r for r in self.tree(self.rels_part)}
            if self.rels_part in self.names
            else {}
        )
        sheets = wb.find(_M + "sheets")
        if sheets is None:
            raise PackageError("corrupt-file", "no-sheets")
        for sheet in sheets:
            rel = rels.get(sheet.get(f"{{{REL_NS}}}id"))
            if rel is not None and rel.get("Type") == WORKSHEET_TYPE:
                self.sheet_part[sheet.get("name", "")] = _resolve(
                    self.workbook_part, rel.get("Target", "")
                )

    def close(self) -> None:
        """Close the file, and let go of what was read and made of it.

        An edit of a sheet kept as text can still parse that sheet through this package,
        so the two refer to each other and only the garbage collector could free them,
        and it seldom looks at the oldest objects, where a plan moves them. Until it did,
        every run's inflated parts, trees and written bytes stayed in memory: a batch's
        heap grew by about 140 KB a small workbook, and each run worked in fresh pages.
        """
        self.zf.close()
        self._edits.clear()
        self._trees.clear()
        self._data.clear()
        self.scanned.clear()

    def _main_part(self) -> str:
        root = self.tree("_rels/.rels")
        for rel in root:
            kind = rel.get("Type", "")
            if kind.endswith("/officeDocument"):
                if kind.startswith(STRICT_NS):
                    raise PackageError("unsupported-format", "strict")
                return _resolve("", rel.get("Target", "").lstrip("/"))
        raise PackageError("corrupt-file", "no-workbook-part")

    def data(self, name: str) -> bytes:
        """A member's inflated bytes, read once: the reader scans a sheet's text, and a
        writer that edits the sheet next parses the same bytes."""
        found = self._data.get(name)
        if found is None:
            if name not in self.names:
                raise PackageError("corrupt-file", "no-part", part=name)
            found = self._data[name] = read_part(self.zf, name)
        return found

    def tree(self, name: str) -> etree._Element:
        if name not in self._trees:
            self._trees[name] = parse_xml(self.data(name), name)
        return self._trees[name]

    def _dirty(self, name: str) -> None:
        self.plan.replaced[name] = b""  # serialized in `write`

    @property
    def styles(self) -> _Styles:
        if self._styles is None:
            self._styles = _Styles(self.tree("xl/styles.xml"))
        return self._styles

    # --- sheets ---

    def _edit(self, name: str) -> _SheetEdit | _NewSheet:
        part = self.sheet_part.get(name)
        if part is None:
            raise PackageError("corrupt-file", "no-worksheet", sheet=name)
        edit = self._edits.get(part)
        if edit is None:
            edit = self._text_edit(part) or _SheetEdit(part, self.tree(part))
            self._edits[part] = edit
            self.plan.sheet_parts[part] = name
            self._dirty(part)
        return edit

    def _text_edit(self, part: str) -> _SheetEdit | None:
        """An edit of a sheet the reader scanned, kept as text, when it can be spliced."""
        body = self.scanned.get(part)
        data = self._data.get(part)
        if body is None or data is None:
            return None
        span = _sheet_data_span(data)
        if span is None or len(_DIMENSION_REF.findall(data, 0, span[0])) > 1:
            return None
        # Imported here: sheet_text builds on this module's cell encoding.
        from rebalancer_xl.adapters.sheet_text import TextSheetEdit

        return TextSheetEdit.open(part, body, data[: span[0]], lambda: self.tree(part))

    def add_sheet(self, name: str, replacing: str | None) -> None:
        """A new empty worksheet called `name`; reuses the part of a sheet just deleted."""
        if replacing is not None:
            part = replacing
            rels = _rels_name(part)
            if rels in self.names:
                self.plan.removed.add(rels)
            self._restore_sheet_entry(name)
        else:
            part = self._new_sheet_part(name)
        self._trees.pop(part, None)
        self._data.pop(part, None)
        self.plan.new_sheet_parts.add(part)
        self.sheet_part[name] = part
        self._edits[part] = _NewSheet(part)
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

        def styles() -> _Styles:  # parsed only when a written date needs a date style
            return self.styles

        for op in ops:
            if isinstance(op, SetValues):
                edit = self._edit(op.sheet)
                edit.set_values(op.row, op.col, op.values, self.date1904, styles)
            elif isinstance(op, SetFormat | SetColor):
                edit = self._edit(op.sheet)
                edit.restyle(op.row, op.col, op.rows, op.cols, self._restyler(op))
            elif isinstance(op, ClearContents):
                edit = self._edit(op.sheet)
                for r in range(op.row, op.row + op.rows):
                    for c in range(op.col, op.col + op.cols):
                        edit.clear(r, c)
            elif isinstance(op, DeleteSheet):
                deleted[op.name] = self.sheet_part.get(op.name)
                self.delete_sheet(op.name)
            elif isinstance(op, AddSheet):
                part = deleted.pop(op.name, None)
                self.add_sheet(op.name, replacing=part)
            elif isinstance(op, Autofit):
                edit = self._edit(op.sheet)
                if isinstance(edit, _NewSheet):  # column widths on the user's sheets are theirs
                    edit.autofit(op)
            elif isinstance(op, PrintLayout):
                edit = self._edit(op.sheet)
                if isinstance(edit, _NewSheet):  # so is the page setup of the user's sheets
                    edit.print_layout = True
                    if op.repeat_row is not None:
                        self._print_titles(op.sheet, op.repeat_row)
            elif isinstance(op, FitRows):
                edit = self._edit(op.sheet)
                if isinstance(edit, _SheetEdit):
                    _fit_rows(edit, op)
        self._finish_deletes()
        for part, edit in list(self._edits.items()):
            if isinstance(edit, _SheetEdit):
                # A sheet edited as text may hand over to the tree on a cell it cannot do.
                edit = self._edits[part] = edit.finish()
                self._extend_tables(edit)
        self._after_writes()

    def _restyler(self, op: SetFormat | SetColor) -> Callable[[int], int]:
        """The style a cell's style becomes under `op` (styles parsed at the first cell)."""

        def new(s: int) -> int:
            if isinstance(op, SetFormat):
                return self.styles.derive(s, number_format=op.number_format)
            return self.styles.derive(s, color=op.color, clear_fill=op.color is None)

        return new

    def _print_titles(self, name: str, row: int) -> None:
        """Row `row` of sheet `name` repeats at the top of each printed page: Excel's
        ``_xlnm.Print_Titles`` defined name, local to the sheet (one per sheet)."""
        wb = self.tree(self.workbook_part)
        sheets = wb.find(_M + "sheets")
        assert sheets is not None
        index = next(i for i, s in enumerate(sheets) if s.get("name") == name)
        names = wb.find(_M + "definedNames")
        if names is None:
            names = etree.Element(_M + "definedNames")
            anchor = sheets  # definedNames follows sheets, functionGroups, externalReferences
            for tag in ("functionGroups", "externalReferences"):
                found = wb.find(_M + tag)
                anchor = found if found is not None else anchor
            anchor.addnext(names)
        for dn in list(names):  # a replaced Log's own, from the run it replaces
            if dn.get("name") == "_xlnm.Print_Titles" and dn.get("localSheetId") == str(index):
                names.remove(dn)
        entry = etree.SubElement(
            names, _M + "definedName", name="_xlnm.Print_Titles", localSheetId=str(index)
        )
        entry.text = "'{}'!${}:${}".format(name.replace("'", "''"), row, row)
        self._dirty(self.workbook_part)

    def _extend_tables(self, edit: _SheetEdit) -> None:
        """An Excel Table whose last row sits right above added rows grows to take them."""
        if edit.extent is None:
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
            while edit.row_has_value(last + 1, c1, c2):
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
            edit = self._edits.get(name)
            if isinstance(edit, _NewSheet):
                self.plan.replaced[name] = edit.serialize()
                continue
            original = self._data[name]
            spliced = edit.spliced_into(original) if isinstance(edit, _SheetEdit) else None
            if spliced is not None:
                self.plan.spliced[name] = original
            self.plan.replaced[name] = spliced or _serialize(self._trees[name])
        # A package of ordinary size is put together in memory and written in one call:
        # zipfile seeks back over every new member's header, and on a file each seek
        # flushes a write. A big one (a 2 GiB member nothing refers to) streams as before.
        size = sum(i.compress_size for i in self.zf.infolist())
        size += sum(len(data) for data in self.plan.replaced.values())
        target: IO[bytes] = io.BytesIO() if size <= _BUFFER_BYTES else out
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
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
        if isinstance(target, io.BytesIO):
            out.write(target.getbuffer())
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


#: Up to this size a written part is deflated with a smaller hash table (see `_deflate`).
_SMALL_PART = 256 * 1024


def _write_new(dst: zipfile.ZipFile, name: str, data: bytes, like: zipfile.ZipInfo | None) -> None:
    """Write one member made by this run: deflated in one call, then its local header
    with the sizes and CRC already known, so nothing is sought back over and rewritten
    (zipfile's `writestr` streams through a compressor and patches the header after)."""
    assert dst.fp is not None
    info = zipfile.ZipInfo(name, date_time=like.date_time if like else (1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = like.external_attr if like else 0o600 << 16
    body = _deflate(data)
    info.file_size, info.compress_size, info.CRC = len(data), len(body), zlib.crc32(data)
    info.header_offset = dst.fp.tell()
    zip64 = info.file_size > zipfile.ZIP64_LIMIT or info.compress_size > zipfile.ZIP64_LIMIT
    dst.fp.write(info.FileHeader(zip64))
    dst.fp.write(body)
    _register(dst, info)


def _deflate(data: bytes) -> bytes:
    """`data` as a raw deflate stream, as a zip member holds it.

    Level 1, not zlib's default 6: under half the time for parts 25% larger, and Excel
    recompresses the whole file on its next save anyway. A small part (nearly every
    written one) gets zlib's memLevel 6 instead of 8: the hash table zlib clears for
    each stream is a quarter the size, which was a sixth of the cost of deflating a
    run's parts, for 0.1% more bytes; a big part keeps the default table.
    """
    mem_level = 6 if len(data) <= _SMALL_PART else 8
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15, mem_level)
    return compressor.compress(data) + compressor.flush()


def _register(dst: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Enter a member written by hand for the central directory that `close()` writes,
    as zipfile's own `writestr` does."""
    assert dst.fp is not None
    dst.filelist.append(info)
    dst.NameToInfo[info.filename] = info
    dst.start_dir = dst.fp.tell()
    dst._didModify = True  # type: ignore[attr-defined]  # what writestr sets


def _copy_raw(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile) -> None:
    """Copy one member's compressed bytes as they are: no inflate, no deflate.

    zipfile has no public call for this; its own `writestr` path is followed by hand:
    write the local header, stream the data, and register the entry for the central
    directory that `close()` writes (with Zip64 records where sizes need them).
    """
    fp = src.fp
    assert fp is not None
    assert dst.fp is not None
    fp.seek(_data_offset(fp, info))
    out = _clone(info)
    out.flag_bits &= ~0x08  # sizes go in the local header; no data descriptor follows
    out.extra = _strip_zip64(info.extra)
    out.header_offset = dst.fp.tell()
    zip64 = info.file_size > zipfile.ZIP64_LIMIT or info.compress_size > zipfile.ZIP64_LIMIT
    dst.fp.write(out.FileHeader(zip64))
    remaining = info.compress_size
    while remaining:
        chunk = fp.read(min(_CHUNK, remaining))
        if not chunk:
            raise PackageError("corrupt-file", "truncated", part=info.filename)
        dst.fp.write(chunk)
        remaining -= len(chunk)
    _register(dst, out)


_INFO_SLOTS = tuple(zipfile.ZipInfo.__slots__)


def _clone(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A copy of `info`, slot by slot: `copy.copy` goes through `__reduce_ex__`, at
    three times the cost, once per member copied."""
    out = zipfile.ZipInfo.__new__(zipfile.ZipInfo)
    for name in _INFO_SLOTS:
        if hasattr(info, name):
            setattr(out, name, getattr(info, name))
    return out


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


def verify(source: Path | zipfile.ZipFile, written: Path, plan: Plan) -> list[str]:
    """What the written package changed that `plan` did not mean to; empty when none.

    `source` may be the package still open for writing (its members are not re-read).
    """
    if isinstance(source, zipfile.ZipFile):
        return _verify(source, written, plan)
    with zipfile.ZipFile(source) as a:
        return _verify(a, written, plan)


def _verify(a: zipfile.ZipFile, written: Path, plan: Plan) -> list[str]:
    problems: list[str] = []
    with _open_zip(written) as b:
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
            after = read_part(b, part)
            original = plan.spliced.get(part)
            if original is not None:
                same = _same_but_cells(original, after)
            else:
                before = parse_xml(read_part(a, part), part)
                same = _frame(before) == _frame(_without_cells(after, part))
            if not same:
                problems.append(f"{plan.sheet_parts[part]}: an element other than cells changed")
    return problems


_SHEET_DATA = re.compile(rb"<([\w.\-]+:)?sheetData[\s/>]")


def _without_cells(data: bytes, part: str) -> etree._Element:
    """A written sheet parsed without its ``<sheetData>``: the cells are most of a big
    sheet, and the frame leaves them out anyway. Anything unexpected parses in full."""
    start = _SHEET_DATA.search(data)
    if start is not None:
        prefix = start.group(1) or b""
        if data[start.end() - 1 : start.end()] == b"/":  # <sheetData/>
            return parse_xml(data, part)
        close = data.rfind(b"</" + prefix + b"sheetData>")
        if close > start.start():
            end = close + len(b"</" + prefix + b"sheetData>")
            return parse_xml(data[: start.start()] + data[end:], part)
    return parse_xml(data, part)


def _frame(root: etree._Element) -> list[bytes]:
    """A sheet's elements other than its cells and the hints that follow them."""
    skip = {_M + "sheetData", _M + "dimension"}
    return [etree.tostring(c) for c in root if c.tag not in skip]


# --- splicing an edited sheet ------------------------------------------------------------
#
# An edited sheet changes only inside <sheetData> and in <dimension>'s ref. Written as its
# original bytes with just those replaced, everything else in it (conditional formats,
# validations, extensions, even the original's quoting and namespace declarations) is
# kept byte for byte, and the verifier checks that with a comparison instead of parsing
# both versions: serializing and re-parsing whole sheets cost a tenth of a small run.

_CLOSE = b"</sheetData>"
_DIMENSION_REF = re.compile(rb'<dimension ref="([^"]*)"')


def _sheet_data_span(data: bytes) -> tuple[int, int, int] | None:
    """Where a sheet's one unprefixed ``<sheetData>`` starts, where its start tag ends,
    and where it ends; None for any other shape (a prefix, the name in a comment)."""
    start = data.find(b"<sheetData")
    count = data.count(b"sheetData")
    if start < 0 or data[start + 10 : start + 11] not in (b" ", b">", b"/") or count > 2:
        return None
    opened = data.find(b">", start) + 1
    if data[opened - 2 : opened] == b"/>":
        return (start, opened, opened) if count == 1 else None
    close = data.find(_CLOSE, opened)
    if close < 0 or count != 2:
        return None
    return start, opened, close + len(_CLOSE)


def _splice(original: bytes, body: bytes, dimension: str | None) -> bytes | None:
    """`original` with the inside of its <sheetData> replaced by `body` and its
    <dimension> ref by `dimension` (None: it has none); None when the sheet is in a
    shape this cannot do safely (then it is serialized)."""
    span = _sheet_data_span(original)
    if span is None or not utf8(original):
        return None
    start, opened, end = span
    head = original[:start]
    if dimension is not None:
        refs = list(_DIMENSION_REF.finditer(head))
        if len(refs) != 1:
            return None
        ref = dimension.encode()
        head = head[: refs[0].start(1)] + ref + head[refs[0].end(1) :]
    opening = original[start:opened]
    if opening.endswith(b"/>"):
        opening = opening[:-2] + b">"
    return head + opening + body + _CLOSE + original[end:]


def _same_but_cells(before: bytes, after: bytes) -> bool:
    """Whether `after` is `before` but for what `_splice` replaces."""
    a, b = _sheet_data_span(before), _sheet_data_span(after)
    if a is None or b is None:
        return False
    head_a = _DIMENSION_REF.sub(b'<dimension ref=""', before[: a[0]], 1)
    head_b = _DIMENSION_REF.sub(b'<dimension ref=""', after[: b[0]], 1)
    open_a = before[a[0] : a[1]].removesuffix(b"/>").removesuffix(b">")
    open_b = after[b[0] : b[1]].removesuffix(b">")
    return head_a == head_b and open_a == open_b and before[a[2] :] == after[b[2] :]

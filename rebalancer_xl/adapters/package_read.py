"""The batch path's reader: the sheets a run needs, straight from the package XML.

openpyxl's `load_workbook` builds every sheet, style and drawing of the workbook to read
a few hundred cells; here only the sheets a run reads are read, and those (with the
shared strings) are scanned from their text where it is in the plain shape every common
writer gives it, or else parsed with the same hardened parser the writer uses. The result
is the same `Book` the openpyxl reader makes: values typed as openpyxl types them,
formulas as `Formula` with the value Excel last calculated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import chain

from lxml import etree

from rebalancer_xl.adapters.package import (
    _M,
    CT_NS,
    MAIN,
    TABLE_CT,
    TABLE_TYPE,
    Package,
    PackageError,
    _rels_name,
    _resolve,
    _Styles,
    column_of,
    parse_ref,
    parse_xml,
    utf8,
)
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Formula, Sheet, new_formula
from rebalancer_xl.workbook.totals import sheet_without_totals


def book_from_package(package: Package) -> Book:
    """Read the sheets a run needs from an opened package.

    A sheet's cells are scanned from its text (see `_scan_sheet`); a sheet in a shape
    the scan does not know is parsed and walked. The inflated bytes (and any tree, or
    the text of a scanned sheet's cells) stay in the package, so a writer that edits a
    sheet next reads nothing twice.
    """
    strings = _shared_strings(package)
    styles = package.styles if "xl/styles.xml" in package.names else None
    epoch = datetime(1904, 1, 1) if package.date1904 else datetime(1899, 12, 30)
    sheets: dict[str, Sheet] = {}
    totals = _tables_with_totals(package)
    for name, part in package.sheet_part.items():
        if name not in S.READ_SHEETS and S.log_date(name) is None:
            continue
        data = package.data(part)
        scanned = _scan_sheet(data, strings, styles, epoch)
        if scanned is None:
            root = package.tree(part)
            grid, merged = _cells(root, strings, styles, epoch), _merges(root)
        else:
            grid, merged, body = scanned
            # A sheet whose cells all scanned can be edited as text (sheet_text.py).
            package.scanned[part] = body
        totals_rows = _totals_rows(package, part, totals) if totals else frozenset()
        sheets[name] = sheet_without_totals(name, _rows(grid), tuple(merged), totals_rows)
    wb = package.tree(package.workbook_part)
    order = tuple(s.get("name", "") for s in wb.iterfind(f"{_M}sheets/{_M}sheet"))
    macro = any(n.lower().endswith("vbaproject.bin") for n in package.names)
    return Book(sheets, macro_enabled=macro, sheet_order=order)


#: A table definition's count of Total Rows, when it is not 0.
_TOTALS_ROW_COUNT = re.compile(rb'totalsRowCount\s*=\s*["\']0*[1-9]')


def _tables_with_totals(package: Package) -> dict[str, etree._Element]:
    """The package's Excel Tables that show a Total Row, by part name.

    Most books have none: the tables are found by their content type and each one's few
    hundred bytes searched, so that only a book with a Total Row has its sheets'
    relationships walked (every sheet of the template has some)."""
    if "[Content_Types].xml" not in package.names:
        return {}
    found: dict[str, etree._Element] = {}
    for override in package.tree("[Content_Types].xml").iterfind(f"{{{CT_NS}}}Override"):
        if override.get("ContentType") != TABLE_CT:
            continue
        part = override.get("PartName", "").lstrip("/")
        if part in package.names and _TOTALS_ROW_COUNT.search(package.data(part)):
            found[part] = package.tree(part)
    return found


def _totals_rows(
    package: Package, sheet_part: str, tables: dict[str, etree._Element]
) -> frozenset[int]:
    """The rows of `sheet_part` that are its tables' Total Rows (the ref's last rows)."""
    rels = _rels_name(sheet_part)
    if rels not in package.names:
        return frozenset()
    rows: set[int] = set()
    for rel in package.tree(rels):
        table = tables.get(_resolve(sheet_part, rel.get("Target", "")))
        if rel.get("Type") != TABLE_TYPE or table is None:
            continue
        try:
            count = int(table.get("totalsRowCount", "0"))
            last = parse_ref(table.get("ref", "").split(":")[-1])[0]
        except (PackageError, ValueError):
            continue  # no ref a row can be told from: the table is read as any other
        rows.update(range(last - count + 1, last + 1))
    return frozenset(rows)


def _shared_strings(package: Package) -> list[str]:
    rels = package.tree(package.rels_part) if package.rels_part in package.names else []
    for rel in rels:
        if rel.get("Type", "").endswith("/sharedStrings"):
            part = _resolve(package.workbook_part, rel.get("Target", ""))
            if part in package.names:
                data = package.data(part)
                found = _scan_string_text(data)
                if found is not None:
                    return found
                return [_text(si) for si in parse_xml(data, part).iterfind(_M + "si")]
    return []


def _text(element: etree._Element) -> str:
    """A string item's text: its runs joined, phonetic guides (rPh) left out."""
    plain = element.find(_M + "t")
    if plain is not None:
        return plain.text or ""
    return "".join(t.text or "" for t in element.iterfind(f"{_M}r/{_M}t"))


_ROW, _C, _V, _F, _IS = (_M + t for t in ("row", "c", "v", "f", "is"))


def _cells(
    root: etree._Element, strings: list[str], styles: _Styles | None, epoch: datetime
) -> dict[int, dict[int, object]]:
    grid: dict[int, dict[int, object]] = {}
    data = root.find(_M + "sheetData")
    if data is None:
        return grid
    row_no = 0
    for row in data.iterchildren(_ROW):
        row_no = int(row.get("r", row_no + 1))
        col = 0
        for c in row.iterchildren(_C):
            ref = c.get("r")
            col = column_of(ref) if ref else col + 1
            value = _cell_value(c, strings, styles, epoch)
            if value is not None:
                cells = grid.get(row_no)
                if cells is None:
                    cells = grid[row_no] = {}
                cells[col] = value
    return grid


def _cell_value(
    c: etree._Element, strings: list[str], styles: _Styles | None, epoch: datetime
) -> object:
    """The value of one parsed ``<c>``: typed, or a `Formula` with its cached value."""
    # One pass over the cell's children: this runs once per cell walked, so it stays
    # free of repeated searches.
    text: str | None = None
    formula: etree._Element | None = None
    inline: etree._Element | None = None
    for child in c:
        tag = child.tag
        if tag == _V:
            text = child.text
        elif tag == _F:
            formula = child
        elif tag == _IS:
            inline = child
    kind = c.get("t", "n")
    value: object
    if kind == "inlineStr":
        value = _text(inline) if inline is not None else None
    elif text is None:
        value = None
    else:
        value = _value(kind, text, c.get("r"), c.get("s"), strings, styles, epoch)
    if formula is not None:
        value = Formula("=" + (formula.text or ""), value)
    return value


def _value(
    kind: str,
    text: str,
    ref: str | None,
    s: str | None,
    strings: list[str],
    styles: _Styles | None,
    epoch: datetime,
) -> object:
    """The typed value of a cell whose ``<v>`` holds `text`, as openpyxl would type it."""
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            raise PackageError("corrupt-file", "shared-string", ref=ref) from None
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text.strip() in ("1", "true")
    if kind == "d":
        try:
            return _midnight_to_date(datetime.fromisoformat(text))
        except ValueError:
            return text
    number = _number(text)
    if type(number) is str:
        return number
    if styles is not None and styles.is_date(int("0" if s is None else s)):
        try:
            return _midnight_to_date(epoch + timedelta(days=number))  # type: ignore[arg-type]
        except OverflowError:
            return float(number)
    return number


def _number(text: str) -> int | float | str:
    """A number's text typed as openpyxl types it: an int where it is written as one."""
    try:
        number = float(text)
    except ValueError:
        return text
    # Three `in` tests, not any() over a generator: this runs for every number read.
    if number.is_integer() and "." not in text and "e" not in text and "E" not in text:
        return int(text)
    return number


# --- scanning the shared strings ---------------------------------------------------------
#
# Walking an lxml tree from Python costs a proxy object per element: for the shared
# strings, one ``<si>`` and one ``<t>`` per string, which made them a sixth of reading a
# small workbook. Nearly every item is plain text, ``<si><t>Ticker</t></si>``, so the
# part's text (already parsed, so known to be well-formed) is cut into items with one
# regular expression; an item with runs or phonetic guides is parsed on its own. The
# pieces must join up to the whole text again: any other shape leaves a gap, the scan
# answers None and the tree is walked as before. (A sheet's cells are scanned in the
# same way, below.)

_SST_TOKEN = re.compile(
    r"<si><t(?: xml:space=\"preserve\")?+(?:/>|>([^<]*+)</t>)</si>|<si/>"
    # Rich text or phonetic guides, read from a parse of the item. The item may not run
    # past the next <si>: a lazy ".*?</si>" would rescan the rest of the part from every
    # <si> an unclosed item leaves, and a part of a few MB would take hours (see
    # tests/test_package_read.py). Each character is looked at a bounded number of times.
    r"|<si>((?:[^<]|<(?!si[\s>/]|/si>))*+)</si>"
    # Anything else, a gap where the scan steps aside: with it the tokens always join up
    # to the body, which spares a group for each whole token and the check that they
    # join (the sample's 194 strings: 0.55M instructions -> 0.44M, as for the cells).
    r"|([^<]++|<)",
    re.S,
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    """Text as the parser gives it: the five XML entities and character references
    replaced (the parse has refused anything else)."""
    if "&" not in text:
        return text
    if "&#" in text:
        return _ENTITY.sub(_entity, text)
    # Only the five named entities (formulas' &gt; and &lt;, mostly): replaced in C, not
    # by a call per match; &amp; last, so that "&amp;lt;" comes out as "&lt;".
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _ENTITIES[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def _body(data: bytes, tag: str) -> str | None:
    """The text between the one ``<tag ...>`` of the part and its ``</tag>``; "" for an
    empty element; None when the part is not plain UTF-8 with `tag` unprefixed, or
    holds carriage returns (which the parser would have turned into line feeds)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not utf8(data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text.find(f"<{tag}")
    if start < 0 or text.find(f"<{tag}", start + 1) >= 0:
        return None
    head_end = text.find(">", start)
    if head_end < 0:
        return None
    if text[head_end - 1] == "/":
        return ""
    end = text.find(f"</{tag}>", head_end)
    if end < 0:
        return None
    body = text[head_end + 1 : end]
    return None if "\r" in body else body


# What the parser would refuse and a match would not notice: an unknown entity, a
# character XML does not allow (looked for apart: one pattern for both is 10x slower).
_UNKNOWN_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_CONTROL = (*range(9), 11, 12, *range(14, 32))
_DEFAULT_NS = f'xmlns="{MAIN}"'.encode()
_START_TAG = re.compile(rb"<[A-Za-z_]")


def _plain_body(data: bytes, root: str, tag: str) -> str | None:
    """`_body` of `tag` in a part read as text, not parsed, when the parser would read
    that text the same way: `root` is the root element, unprefixed, and the one element
    declaring a default namespace, the spreadsheet's; no character XML refuses and no
    entity it does not know stands in the body. Otherwise None."""
    start = _START_TAG.search(data)
    if start is None or data.count(b'xmlns="') != 1:
        return None
    head = data[start.start() : data.find(b">", start.start())]
    if not head.startswith(b"<" + root.encode()) or _DEFAULT_NS not in head:
        return None
    if head[len(root) + 1 : len(root) + 2] not in (b" ", b"\t", b"\n", b"\r"):
        return None
    # One memchr per control character: a quarter of the instructions of deleting them
    # all with bytes.translate and comparing lengths (Performance's 32 KB: 0.41M -> 0.10M).
    if any(byte in data for byte in _CONTROL):
        return None
    body = _body(data, tag)
    if body is None or _UNKNOWN_ENTITY.search(body):
        return None
    return body


def _scan_strings(data: bytes, root: etree._Element) -> list[str] | None:
    """The shared strings `_text` reads from `root`, scanned from the text; None when
    some item is not plain text (rich text, phonetic guides) or the text is unusual."""
    if root.tag != _M + "sst" or root.prefix is not None:
        return None
    return _scan_string_text(data)


def _scan_string_text(data: bytes) -> list[str] | None:
    """`_scan_strings` of a part not parsed: its text checked as `_plain_body` does."""
    body = _plain_body(data, "sst", "sst")
    if body is None:
        return None
    found = []
    for text, rich, gap in _SST_TOKEN.findall(body):
        if gap:
            return None
        if not rich:
            found.append(_unescape(text))
            continue
        try:  # a prefix declared on <sst> would not be known to the item alone
            item = etree.fromstring(f'<si xmlns="{MAIN}">{rich}</si>')
        except etree.XMLSyntaxError:
            return None
        found.append(_text(item))
    return found


# --- scanning a sheet's cells ------------------------------------------------------------
#
# The same idea for the cells of a sheet: walking the tree costs about 2.7 µs a cell on
# top of the parse, and most sheets a run reads are never edited (Settings, Performance,
# Lots), so for them neither is needed. A cell in the shape every common writer gives it
# (Excel, XlsxWriter, openpyxl, LibreOffice: r, then s and t; a formula, a value or an
# inline string) is read from one match; any other cell is parsed on its own. The tokens
# must join up to the whole ``<sheetData>``, or the sheet is parsed and walked instead.

# One alternative per token (findall's tuples are cheaper than match objects). Each
# capturing group costs every token ~200 instructions, so there are as few as the loop
# needs: a formula or an inline string whose text is empty is left to the parse, so that
# its text's group alone tells it from none; a self-closed row is told from ``</row>``
# by nothing, as neither leaves a row open; and the last alternative takes whatever no
# other does, so the tokens always join up to the body: anything but a cell there is a
# gap, where the scan steps aside. The possessive ``?+`` never gives back what matched
# (nothing could match after it if it did), which spares the engine saving its groups
# to backtrack into. The sample's Settings (149 tokens): 0.95M instructions -> 0.54M;
# its Performance: 2.7M -> 1.5M.
_SHEET_TOKEN = re.compile(
    r'<c r="(([A-Z]{1,3})[0-9]+)"(?: s="([0-9]+)")?+(?: t="([a-zA-Z]+)")?+'
    r"(?:/>|>(?:<f>([^<]++)</f>)?+(?:<v>([^<]*+)</v>|<v/>"
    r'|<is><t(?: xml:space="preserve")?+>([^<]++)</t></is>)?+</c>)'
    r'|<row r="([0-9]+)"[^>]*+(?<!/)>|<row r="[0-9]+"[^>]*/>|</row>'
    # Any other cell, parsed on its own; as for <si> above, it may not run past the next
    # <c>, so an unclosed cell costs the scan its own length, not the rest of the sheet.
    # Or a gap: text, or a "<" that starts no token.
    r"|(<c\b[^>]*/>|<c\b[^>]*>(?:[^<]|<(?!c[\s>/]|/c>))*+</c>|[^<]++|<)",
    re.S,
)
_MERGE = re.compile(rb'<mergeCell ref="([^"]*)"\s*/>')
_MERGE_TAG = re.compile(rb"<mergeCell[\s/>]")


class _DateStyles(dict[str, bool]):
    """Whether a cell style (its ``s`` as written) shows a date, worked out once per
    style: ``dates[s]`` is a lookup in C for every number cell after the first."""

    def __init__(self, styles: _Styles | None) -> None:
        super().__init__()
        self.styles = styles

    def __missing__(self, s: str) -> bool:
        found = self[s] = self.styles is not None and self.styles.is_date(int(s or "0"))
        return found


def _scan_sheet(
    data: bytes, strings: list[str], styles: _Styles | None, epoch: datetime
) -> tuple[dict[int, dict[int, object]], list[tuple[int, int, int, int]], str] | None:
    """The cells and merged ranges `_cells` and `_merges` read from the parsed sheet,
    scanned from its text, and the text of its ``<sheetData>``; None when the sheet is
    in a shape the scan does not know."""
    body = _plain_body(data, "worksheet", "sheetData")
    if body is None:
        return None
    grid: dict[int, dict[int, object]] = {}
    cells: dict[int, object] | None = None
    in_row = False
    row_no = col = 0
    known: dict[str, int] = {}
    dates = _DateStyles(styles)
    for ref, letters, s, kind, f, v, inline, r, other in _tokens(body):
        value: object
        if letters:
            if not in_row:
                return None
            col = known.get(letters) or known.setdefault(letters, column_of(ref))
            if kind == "inlineStr":
                value = (_unescape(inline) if "&" in inline else inline) if inline else None
            elif not v:  # no <v>, or an empty one: the tree has no text for either
                value = None
            elif not kind and "&" not in v and not dates[s]:
                value = _number(v)  # the most common cell, a number not shown as a date
            elif kind == "s":
                try:  # a shared string, the commonest text cell: looked up without a call
                    value = strings[int(v)]
                except (ValueError, IndexError):  # "&#49;" (parsed "1"), or no such string
                    value = _value(kind, _unescape(v), ref, s or None, strings, styles, epoch)
            else:
                text = _unescape(v) if "&" in v else v
                value = _value(kind or "n", text, ref, s or None, strings, styles, epoch)
            if f:
                value = new_formula("=" + (_unescape(f) if "&" in f else f), value)
        elif r:
            row_no, col, cells, in_row = int(r), 0, None, True
            continue
        elif other:
            if not in_row or not other.startswith("<c"):
                return None  # a gap between tokens: not a shape the scan knows
            try:
                c = etree.fromstring(f'<x xmlns="{MAIN}">{other}</x>')[0]
            except etree.XMLSyntaxError:
                return None
            at = c.get("r")
            col = column_of(at) if at else col + 1
            value = _cell_value(c, strings, styles, epoch)
        else:  # </row>, or a row closed as it opened
            in_row = False
            continue
        if value is not None:
            if cells is None:
                cells = grid.get(row_no)
                if cells is None:
                    cells = grid[row_no] = {}
            cells[col] = value
    if b"<mergeCell" not in data:  # most sheets: no merged cells, no scan for them
        return grid, [], body
    refs = _MERGE.findall(data)
    if len(refs) != len(_MERGE_TAG.findall(data)):
        return None
    return grid, [_merge(ref.decode()) for ref in refs], body


#: How much of a sheet's text (in characters) `_tokens` matches at a time, at least.
_SCAN_CHUNK = 1 << 18


def _tokens(body: str) -> Iterator[tuple[str, ...]]:
    """`_SHEET_TOKEN.findall(body)`, a stretch of rows at a time.

    All of a big sheet's tokens at once were most of a run's memory (a 10,000-row
    Holdings: ~350,000 tuples, 119 MB at the reader's peak) and, handed back and taken
    again, thousands of page faults. Each stretch ends where a ``<row`` starts, which in
    a sheet the scan knows is where a token starts; should it not be (the text inside a
    comment or an extension), the tokens there do not join up, a gap shows, and the
    sheet is parsed instead, as for any other shape the scan does not know. The lists
    are chained in C, not handed on token by token by a generator (a Python step for
    every cell of every sheet read).
    """
    findall = _SHEET_TOKEN.findall
    return chain.from_iterable(findall(body, start, stop) for start, stop in _stretches(body))


def _stretches(body: str) -> Iterator[tuple[int, int]]:
    start, end = 0, len(body)
    while start < end:
        cut = body.find("<row", start + _SCAN_CHUNK) if start + _SCAN_CHUNK < end else -1
        stop = end if cut < 0 else cut
        yield start, stop
        start = stop


def _midnight_to_date(moment: datetime) -> date | datetime:
    return moment.date() if moment.time() == datetime.min.time() else moment


def _merges(root: etree._Element) -> list[tuple[int, int, int, int]]:
    return [_merge(m.get("ref", "")) for m in root.iterfind(f"{_M}mergeCells/{_M}mergeCell")]


def _merge(ref: str) -> tuple[int, int, int, int]:
    ends = [parse_ref(p) for p in ref.split(":")]
    (r1, c1), (r2, c2) = ends[0], ends[-1]
    return r1, c1, r2, c2


def _rows(grid: dict[int, dict[int, object]]) -> tuple[tuple[object, ...], ...]:
    """Rows from row 1; trailing empty rows dropped."""
    # Rows with no cells stay the shared empty tuple: one cell in row 1,048,576 must not
    # cost a million row objects.
    rows: list[tuple[object, ...]] = [()] * max(grid, default=0)
    for r, cols in grid.items():
        # Placed by column rather than looked up for each: a generator per row cost
        # twice as much, and this runs for every row of every sheet read.
        row: list[object] = [None] * max(cols)
        for c, value in cols.items():
            row[c - 1] = value
        rows[r - 1] = tuple(row)
    end = len(rows)
    while end and all(v is None or v == "" for v in rows[end - 1]):
        end -= 1
    return tuple(rows[:end])

"""Editing a worksheet as text: the rows a run writes are rewritten, every other byte kept.

`_SheetEdit` parses a whole sheet with lxml and edits cell elements. For a 10,000-row
Holdings sheet that is a tree of some 400,000 elements built, indexed, walked and
serialized again, to change nine cells a row: most of the writer's time on a big book.

A sheet the reader scanned cell by cell (`package_read._scan_sheet`) has a known shape:
its ``<sheetData>`` is rows, each ``<row r="N" …>`` holding cells. `TextSheetEdit` keeps
that text as read, records the writes exactly as `_SheetEdit` records them (the methods
that record are inherited), and `finish` rewrites only the rows written, and in them only
the cells written. What a written cell keeps is what `_SheetEdit._apply_edits` keeps:
its other attributes and any extension list; its type, cell metadata and old value or
formula go. A cell in a shape this does not rewrite (attributes in an unusual order, a
child other than a formula, a value or an extension list) hands the whole sheet to
`_SheetEdit`, which replays the same records on the parsed tree, so the text path never
has to be right about a shape it has not seen.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from operator import itemgetter

from lxml import etree

from rebalancer_xl.adapters.package import (
    _COLUMN_OF,
    _DEFAULT_COL_WIDTH,
    _KEEP,
    _letters,
    _rows_xml,
    _SheetEdit,
    _splice,
    _widened,
    column_of,
)
from rebalancer_xl.adapters.package_read import _unescape

# Every row of a scanned <sheetData> starts so (the scan's own row token), and nothing
# else in it can: a "<" in text is always escaped.
_ROW_AT = re.compile(r'<row r="([0-9]+)"')
_ROW_TAG = re.compile(r'<row\b(?:\s+[\w:.-]+="[^"]*")*\s*(/?)>')
_CELL_TAG = re.compile(r'<c\b((?:\s+[\w:.-]+="[^"]*")*)\s*(/?)>')
_ATTR = re.compile(r'\s+([\w:.-]+)="([^"]*)"')
_ROW_REFS = re.compile(r'<c r="([A-Z]{1,3})([0-9]+)"')
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_MISLEADING = re.compile(r"<[!?]")  # a comment, CDATA or processing instruction
# A cell's value children; what is left of its children must be an extension list.
_F_XML = r"<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>"
_V_XML = r"<v/>|<v>[^<]*</v>|<is>(?:[^<]|<(?!/is>))*+</is>"
_VALUE_CHILD = re.compile(f"{_F_XML}|{_V_XML}")
_VALUE_ONLY = re.compile(f"(?:{_F_XML})?(?:{_V_XML})?")
_EXTENSIONS = re.compile(r"(?:<extLst>(?:[^<]|<(?!/extLst>))*+</extLst>)?")
_FORMULA = re.compile(r"<f[\s/>]")
_VALUE_TEXT = re.compile(r"<v>([^<]*)</v>")
_T_TEXT = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>")
_CUSTOM_HEIGHT = re.compile(r'\s+customHeight="([^"]*)"')
_STYLE = re.compile(r'\s+s="([0-9]+)"')
_HAS_VALUE = re.compile(r"<(?:v|is|f)[\s/>]")
_COL = re.compile(r"<col\b([^>]*)>")
_DIMENSION = re.compile(r'<dimension ref="([^"]*)"')
# The old value's type and metadata go with it.
_NO_VALUE_ATTR = re.compile(r'\s+(?:t|cm|vm)="[^"]*"')
_ROW_END = "</row>"


class _Unhandled(Exception):
    """A cell in a shape the text edit does not rewrite: the tree takes over."""


class TextSheetEdit(_SheetEdit):
    """A `_SheetEdit` whose sheet stays text until `finish` (see the module docstring)."""

    @classmethod
    def open(
        cls, part: str, body: str, head: bytes, tree: Callable[[], etree._Element]
    ) -> TextSheetEdit | None:
        """The edit of a sheet whose <sheetData> holds `body` (as the reader scanned it)
        and whose bytes before it are `head`; None when its rows are not in order."""
        starts = [(int(m.group(1)), m.start()) for m in _ROW_AT.finditer(body)]
        if any(a[0] >= b[0] for a, b in itertools.pairwise(starts)):
            return None  # rows out of order: leave the sheet to the tree
        if starts and starts[0][1] != 0:
            return None
        return cls(part, body, head.decode("utf-8", errors="replace"), starts, tree)

    def __init__(
        self,
        part: str,
        body: str,
        head: str,
        starts: list[tuple[int, int]],
        tree: Callable[[], etree._Element],
    ) -> None:
        # Not `_SheetEdit.__init__`: that parses the sheet, which is what this avoids.
        self.part = part
        self._body = body
        self._head = head
        self._tree = tree
        self._base: _SheetEdit | None = None  # the tree's edit, when a cell needs it
        ends = [s for _, s in starts[1:]] + [len(body)]
        self.spans = {r: (s, e) for (r, s), e in zip(starts, ends, strict=True)}
        self._numbers = [r for r, _ in starts]
        self.rows = self.spans  # `r in self.rows` is all the base asks of it
        self.last_row = self._numbers[-1] if starts else 0
        self.typed_rows = frozenset(self.spans)
        self.overwrote_formula = False
        self.extent = None
        self.date1904 = False
        self.edits = {}
        self.pending = {}
        self.heights: dict[int, str | None] = {}  # row -> height set (None: default)
        self._parts: dict[int, tuple[str, bool, str]] = {}  # row -> (tag, closed, cells)
        self._done: dict[int, str] = {}  # rows rewritten or added, as finished
        self._found: dict[str, tuple[int, int, re.Match[str]] | None] = {}  # by reference
        self._text: bytes | None = None  # the finished <sheetData> body
        self._dimension: str | None = None

    # --- reading the cells as the file has them ---

    def _row(self, r: int) -> tuple[str, bool, str]:
        """Row `r`'s start tag, whether it is empty (``<row …/>``), and its cells' text."""
        found = self._parts.get(r)
        if found is None:
            a, b = self.spans[r]
            text = self._body[a:b]
            tag = _ROW_TAG.match(text)
            if tag is None:
                raise _Unhandled(r)
            closed = bool(tag.group(1))
            if closed:
                cells = ""
            elif text.endswith(_ROW_END):
                cells = text[tag.end() : -len(_ROW_END)]
            else:
                raise _Unhandled(r)
            # Every cell must be found by its reference: each names this row, once, with
            # r="…" first (as every common writer puts it). Text a search could be misled
            # by (a comment, CDATA, a processing instruction) leaves the row to the tree.
            # Each test is one pass in C: this runs for every row written.
            refs = _ROW_REFS.findall(cells)
            # Every "<c" a reference: no cell without one (rich text's <color> and
            # <condense> start so too, hence the exact count when the quick one differs).
            if cells.count("<c") != len(refs):
                exact = cells.count("<c ") + cells.count("<c>") + cells.count("<c/")
                if exact != len(refs) or "<c\t" in cells or "<c\n" in cells:
                    raise _Unhandled(r)
            if (
                _MISLEADING.search(cells)
                or not set(map(_SECOND, refs)) <= {str(r)}
                or len(set(map(_FIRST, refs))) != len(refs)
            ):
                raise _Unhandled(r)
            found = self._parts[r] = (tag.group(0), closed, cells)
        return found

    @staticmethod
    def _find(cells: str, ref: str, after: int = 0) -> tuple[int, int, re.Match[str]] | None:
        """Where cell `ref` starts and ends in a row's cells, and its start tag; cells
        are searched from `after` on (where the last cell written ended), then before."""
        needle = f'<c r="{ref}"'
        pos = cells.find(needle, after)
        if pos < 0 and after:
            pos = cells.find(needle, 0, after)
        if pos < 0:
            return None
        tag = _CELL_TAG.match(cells, pos)
        if tag is None:
            raise _Unhandled(ref)
        if tag.group(2):
            return pos, tag.end(), tag
        close = cells.find("</c>", tag.end())
        if close < 0:
            raise _Unhandled(ref)
        return pos, close + 4, tag

    def _cell(self, r: int, c: int) -> tuple[dict[str, str], str] | None:
        """The attributes and children text of cell (r, c) as the file has it."""
        cells = self._row(r)[2]
        found = self._find(cells, f"{_letters(c)}{r}")
        if found is None:
            return None
        _start, end, tag = found
        children = "" if tag.group(2) else cells[tag.end() : end - 4]
        return dict(_ATTR.findall(tag.group(1))), children

    def _old_style(self, r: int, c: int) -> int:
        ref = f"{_letters(c)}{r}"
        try:
            found = self._found[ref] = self._find(self._row(r)[2], ref)
        except _Unhandled:
            return self._tree_edit()._old_style(r, c)
        if found is None:
            return 0
        style = _STYLE.search(found[2].group(1))
        return int(style.group(1)) if style is not None else 0

    def _old_text(self, r: int, c: int) -> str:
        try:
            cell = self._cell(r, c)
        except _Unhandled:
            return self._tree_edit()._old_text(r, c)
        if cell is None:
            return ""
        attrs, children = cell
        if attrs.get("t") == "inlineStr":  # as `_cell_text`: every <t> in it
            return "".join(_unescape(t) for t in _T_TEXT.findall(children))
        value = _VALUE_TEXT.search(children)
        return _unescape(value.group(1)) if value is not None else ""

    def _tree_edit(self) -> _SheetEdit:
        """The same sheet as a tree, for what the text cannot answer."""
        if self._base is None:
            self._base = _SheetEdit(self.part, self._tree())
        return self._base

    # --- what `_fit_rows` and `_extend_tables` ask ---

    def column_width(self, col: int) -> float:
        width = _DEFAULT_COL_WIDTH
        for entry in _COL.finditer(self._head):
            attrs = dict(_ATTR.findall(" " + entry.group(1).rstrip("/")))
            try:
                if int(attrs.get("min", "0")) <= col <= int(attrs.get("max", "0")):
                    width = float(attrs.get("width", width))
            except ValueError:
                return self._tree_edit().column_width(col)
        return width

    def custom_height(self, r: int) -> bool | None:
        if r not in self.spans:
            return None
        try:
            tag = self._row(r)[0]
        except _Unhandled:
            return self._tree_edit().custom_height(r)
        found = _CUSTOM_HEIGHT.search(tag)
        return found is not None and found.group(1) in ("1", "true")

    def set_height(self, r: int, height: str | None) -> None:
        self.heights[r] = height

    def row_has_value(self, r: int, c1: int, c2: int) -> bool:
        if self._text is None:  # handed over to the tree, which answers
            return self._tree_edit().row_has_value(r, c1, c2)
        text = self._done.get(r)
        if text is None:
            span = self.spans.get(r)
            if span is None:
                return False
            text = self._body[span[0] : span[1]]
        for found in _CELL_TAG.finditer(text):
            ref = dict(_ATTR.findall(found.group(1))).get("r")
            if ref is None or found.group(2) or not c1 <= column_of(ref) <= c2:
                continue
            close = text.find("</c>", found.end())
            if _HAS_VALUE.search(text, found.end(), close):
                return True
        return False

    # --- writing ---

    def finish(self) -> _SheetEdit:
        """Rewrite the rows written and add the new ones, as text; or, when a cell is in
        a shape the text cannot do, hand every record to the tree's edit and finish that."""
        noted = self.overwrote_formula
        try:
            body = self._render()
        except _Unhandled:
            self.overwrote_formula = noted
            return self._hand_over()
        self._text = body.encode("utf-8")
        dim = _DIMENSION.search(self._head)
        if dim is not None:
            self._dimension = _widened(dim.group(1), self.extent)
        return self

    def _hand_over(self) -> _SheetEdit:
        base = self._tree_edit()
        base.edits, base.pending, base.extent = self.edits, self.pending, self.extent
        base.date1904 = self.date1904
        base.overwrote_formula = self.overwrote_formula
        for r, height in self.heights.items():
            base.set_height(r, height)
        return base.finish()

    def spliced_into(self, original: bytes) -> bytes | None:
        assert self._text is not None, "finish() first"
        return _splice(original, self._text, self._dimension)

    def _render(self) -> str:
        """The new <sheetData> body: the original text, with the rows written rewritten
        and the new rows put in their places (after the rows numbered below them)."""
        body, numbers, spans = self._body, self._numbers, self.spans
        touched = sorted(set(self.edits) | set(self.heights))
        added = sorted(self.pending)
        new_rows = dict(zip(added, _rows_xml(self.pending), strict=True))
        out: list[str] = []
        cursor = 0
        for r in sorted(touched + added):
            if r in spans:
                start, end = spans[r]
                text = self._rewrite_row(r)
            else:  # a new row goes before the first row numbered above it
                i = bisect.bisect_right(numbers, r)
                start = end = spans[numbers[i]][0] if i < len(numbers) else len(body)
                text = new_rows[r]
            out.append(body[cursor:start])
            out.append(text)
            self._done[r] = text
            cursor = end
        out.append(body[cursor:])
        self.pending = {}
        return "".join(out)

    def _rewrite_row(self, r: int) -> str:
        tag, closed, cells = self._row(r)
        edits = self.edits.get(r, {})
        out: list[str] = []
        cursor = 0
        columns: list[int] | None = None  # the row's cells' columns, for an insertion
        starts: list[int] = []
        added = False
        for c in sorted(edits):
            value, s, _ = edits[c]
            letters = _letters(c)
            ref = f"{letters}{r}"
            # A cell restyled was found then (`_old_style`); its place has not moved.
            found = self._found[ref] if ref in self._found else self._find(cells, ref, cursor)
            if found is not None:
                start, end, cell_tag = found
                if start < cursor:
                    raise _Unhandled(r)  # cells out of column order
                out.append(cells[cursor:start])
                out.append(self._rewrite_cell(cells, start, end, cell_tag, value, s))
                cursor = end
                continue
            if value is None and s is None:
                continue
            if columns is None:
                # Where each of the row's cells starts, and its column: worked out once
                # a row, on its first insertion (most writes of a book XlsxWriter made
                # are insertions: it writes no cell it has no value for).
                columns, starts = [], []
                known = _COLUMN_OF
                for m in _ROW_REFS.finditer(cells):
                    starts.append(m.start())
                    letters_at = m.group(1)
                    columns.append(known.get(letters_at) or column_of(letters_at))
                # `_row` found each column once, so in order is sorted: a test in C.
                if columns != sorted(columns):
                    raise _Unhandled(r)  # cells out of column order
            i = bisect.bisect_right(columns, c)
            at = starts[i] if i < len(starts) else len(cells)
            if at < cursor:
                raise _Unhandled(r)
            style = f' s="{s}"' if s else ""
            tail = "/>" if value is _KEEP or value is None else value
            out.append(cells[cursor:at])
            out.append(f'<c r="{letters}{r}"{style}{tail}')
            cursor = at
            if not added:
                added, first = True, c
            last = c
        out.append(cells[cursor:])
        if added:  # the columns come in order: the first and last inserted bound them
            self._grow(r, first)
            self._grow(r, last)
        new_cells = "".join(out)
        if r in self.heights:
            tag = _set_attr(tag, "ht", self.heights[r])
        if added:  # a hint Excel recomputes; a stale one is worse
            tag = _set_attr(tag, "spans", None)
        if closed:
            if not new_cells:
                return tag
            tag = tag[:-2].rstrip() + ">"
        return f"{tag}{new_cells}{_ROW_END}"

    def _rewrite_cell(
        self, cells: str, start: int, end: int, tag: re.Match[str], value: object, s: int | None
    ) -> str:
        """One written cell as `_SheetEdit._apply_edits` leaves it."""
        attrs = tag.group(1)
        children = "" if tag.group(2) else cells[tag.end() : end - 4]
        if value is _KEEP:  # a new style only
            if s is None:
                return cells[start:end]
            head = _with_style(attrs, s)
            return f"<c{head}/>" if tag.group(2) else f"<c{head}>{children}</c>"
        # Nearly always a formula and/or a value and nothing else: one match says so.
        rest = "" if _VALUE_ONLY.fullmatch(children) else _VALUE_CHILD.sub("", children)
        if rest and not _EXTENSIONS.fullmatch(rest):
            raise _Unhandled(cells[start:end])
        if "<f" in children and _FORMULA.search(children):
            self.overwrote_formula = True
        if "t=" in attrs or "m=" in attrs:  # a type, cm or vm to drop (most cells: none)
            attrs = _NO_VALUE_ATTR.sub("", attrs)
        head = _with_style(attrs, s)
        if value is None:  # cleared: no value, no type; what else it had stays
            return f"<c{head}>{rest}</c>" if rest else f"<c{head}/>"
        assert isinstance(value, str)  # `_value_xml` text: [ t="…"]>…</c>
        if rest:
            value = value[: -len("</c>")] + rest + "</c>"
        return f"<c{head}{value}"


def _with_style(attrs: str, s: int | None) -> str:
    """A cell's attributes (as text) with its style set to `s`: in its place, else at
    the end; 0 drops it; None leaves it as it was."""
    if s is None:
        return attrs
    found = _STYLE.search(attrs)
    if found is None:
        return f'{attrs} s="{s}"' if s else attrs
    new = f' s="{s}"' if s else ""
    return attrs[: found.start()] + new + attrs[found.end() :]


_ATTR_OF: dict[str, re.Pattern[str]] = {}  # attribute name -> where it is in a tag


def _set_attr(tag: str, key: str, value: str | None) -> str:
    """A start tag with attribute `key` set to `value` in its place (else at the end),
    or removed when `value` is None."""
    pattern = _ATTR_OF.get(key)
    if pattern is None:  # a compiled pattern per name: `re.search` looks each up anew
        pattern = _ATTR_OF[key] = re.compile(rf'\s+{key}="[^"]*"')
    found = pattern.search(tag)
    if value is None:
        return tag if found is None else tag[: found.start()] + tag[found.end() :]
    if found is not None:
        return f'{tag[: found.start()]} {key}="{value}"{tag[found.end() :]}'
    close = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:close].rstrip()} {key}="{value}"{tag[close:]}'

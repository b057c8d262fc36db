"""The batch path's reader: the sheets a run needs, straight from the package XML.

openpyxl's `load_workbook` builds every sheet, style and drawing of the workbook to read
a few hundred cells; here only the sheets a run reads are parsed (with the same hardened
parser the writer uses), shared strings and the cell formats that say "this number is a
date" excepted. The result is the same `Book` the openpyxl reader makes: values typed as
openpyxl types them, formulas as `Formula` with the value Excel last calculated.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from lxml import etree

from rebalancer_xl.adapters.package import (
    _M,
    Package,
    PackageError,
    _resolve,
    _Styles,
    column_of,
    parse_ref,
    parse_xml,
    read_part,
)
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Formula, Sheet


def book_from_package(package: Package) -> Book:
    """Read the sheets a run needs from an opened package.

    The parsed sheets stay in the package, so a writer that edits them next does not
    parse them again.
    """
    strings = _shared_strings(package)
    styles = package.styles if "xl/styles.xml" in package.names else None
    epoch = datetime(1904, 1, 1) if package.date1904 else datetime(1899, 12, 30)
    sheets: dict[str, Sheet] = {}
    for name, part in package.sheet_part.items():
        if name not in S.READ_SHEETS and S.log_date(name) is None:
            continue
        root = package.tree(part)
        grid = _cells(root, strings, styles, epoch)
        merged = tuple(_merges(root))
        sheets[name] = Sheet(name, _rows(grid), merged)
    wb = package.tree(package.workbook_part)
    order = tuple(s.get("name", "") for s in wb.iterfind(f"{_M}sheets/{_M}sheet"))
    macro = any(n.lower().endswith("vbaproject.bin") for n in package.names)
    return Book(sheets, macro_enabled=macro, sheet_order=order)


def _shared_strings(package: Package) -> list[str]:
    rels = package.tree(package.rels_part) if package.rels_part in package.names else []
    for rel in rels:
        if rel.get("Type", "").endswith("/sharedStrings"):
            part = _resolve(package.workbook_part, rel.get("Target", ""))
            if part in package.names:
                root = parse_xml(read_part(package.zf, part), part)
                return [_text(si) for si in root.iterfind(_M + "si")]
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
            # One pass over the cell's children: this loop runs once per cell of every
            # sheet read, so it stays free of repeated searches.
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
                value = _value(kind, text, c, strings, styles, epoch)
            if formula is not None:
                value = Formula("=" + (formula.text or ""), value)
            if value is not None:
                cells = grid.get(row_no)
                if cells is None:
                    cells = grid[row_no] = {}
                cells[col] = value
    return grid


def _value(
    kind: str,
    text: str,
    c: etree._Element,
    strings: list[str],
    styles: _Styles | None,
    epoch: datetime,
) -> object:
    """The typed value of a cell whose ``<v>`` holds `text`, as openpyxl would type it."""
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            raise PackageError(
                "corrupt-file", f"cell {c.get('r')} names a missing shared string"
            ) from None
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text.strip() in ("1", "true")
    if kind == "d":
        try:
            return _midnight_to_date(datetime.fromisoformat(text))
        except ValueError:
            return text
    try:
        number = float(text)
    except ValueError:
        return text
    if styles is not None and styles.is_date(int(c.get("s", "0"))):
        try:
            return _midnight_to_date(epoch + timedelta(days=number))
        except OverflowError:
            return number
    if number.is_integer() and not any(ch in text for ch in ".eE"):
        return int(text)
    return number


def _midnight_to_date(moment: datetime) -> date | datetime:
    return moment.date() if moment.time() == datetime.min.time() else moment


def _merges(root: etree._Element) -> list[tuple[int, int, int, int]]:
    out = []
    for m in root.iterfind(f"{_M}mergeCells/{_M}mergeCell"):
        ends = [parse_ref(p) for p in m.get("ref", "").split(":")]
        (r1, c1), (r2, c2) = ends[0], ends[-1]
        out.append((r1, c1, r2, c2))
    return out


def _rows(grid: dict[int, dict[int, object]]) -> tuple[tuple[object, ...], ...]:
    """Rows from row 1; trailing empty rows dropped."""
    # Rows with no cells stay the shared empty tuple: one cell in row 1,048,576 must not
    # cost a million row objects.
    rows: list[tuple[object, ...]] = [()] * max(grid, default=0)
    for r, cols in grid.items():
        rows[r - 1] = tuple(cols.get(c) for c in range(1, max(cols) + 1))
    end = len(rows)
    while end and all(v is None or v == "" for v in rows[end - 1]):
        end -= 1
    return tuple(rows[:end])

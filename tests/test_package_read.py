"""The reader's text scan gives exactly what walking the parsed tree gives.

`package_read` reads cells and shared strings by cutting the part's text into the shapes
spreadsheet programs write, and walks the lxml tree for any other shape. These tests hold
the two paths to the same answer: on every book of the lossless suite (XlsxWriter, `new`,
Excel-style, LibreOffice re-saves) and on hand-written cells in unusual shapes.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from rebalancer_xl.adapters import package_read as R
from rebalancer_xl.adapters.package import MAIN, Package, parse_xml
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Formula
from tests.test_lossless import BOOKS, LO_BOOKS, book_path, library, lo_library

__all__ = ["library", "lo_library"]  # fixtures, imported for the books

EPOCH = datetime(1899, 12, 30)


def _typed(grid: dict[int, dict[int, object]]) -> dict[tuple[int, int], tuple[type, object]]:
    """Cells with their types: 1 and 1.0 and True compare equal, but are not the same read."""
    return {(r, c): (type(v), v) for r, cols in grid.items() for c, v in cols.items() if cols}


def _sst_part(pk: Package) -> str | None:
    for rel in pk.tree(pk.rels_part):
        if rel.get("Type", "").endswith("/sharedStrings"):
            return R._resolve(pk.workbook_part, rel.get("Target", ""))
    return None


@pytest.mark.parametrize("book", BOOKS)
def test_scan_reads_every_book_as_the_tree_does(book, request):
    pk = Package(book_path(book, request))
    try:
        strings: list[str] = []
        part = _sst_part(pk)
        if part is not None:
            data = pk.raw(part)
            root = parse_xml(data, part)
            strings = [R._text(si) for si in root.iterfind(R._M + "si")]
            scanned = R._scan_strings(data, root)
            assert scanned is not None, "the shared strings of a real book fell back"
            assert scanned == strings
        scanned_sheets = 0
        for name, part in pk.sheet_part.items():
            root = pk.tree(part)
            walked = R._cells(root, strings, pk.styles, EPOCH)
            grid = R._scan_cells(pk.raw(part), root, strings, pk.styles, EPOCH)
            if grid is not None:
                scanned_sheets += 1
                assert _typed(grid) == _typed(walked), name
        # The scan is the path taken for the books people make, not a dead branch;
        # LibreOffice writes cells in shapes the scan may not know, so only agreement counts.
        if book not in LO_BOOKS:
            assert scanned_sheets == len(pk.sheet_part)
    finally:
        pk.close()


def _sheet(cells: str, rows: str | None = None) -> tuple[bytes, etree._Element]:
    body = rows if rows is not None else f'<row r="2">{cells}</row>'
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'
    )
    data = text.encode()
    return data, parse_xml(data, "sheet.xml")


STRINGS = ["zero", "one"]

# (cells or rows, whether the scan should read them itself)
SHAPES = {
    "plain numbers": ('<c r="A2"><v>5</v></c><c r="B2" t="n"><v>2.50</v></c>', True),
    "exponent and integral": ('<c r="A2"><v>1E3</v></c><c r="B2"><v>-0</v></c>', True),
    "shared string": ('<c r="A2" t="s"><v>1</v></c>', True),
    "bool, error, str": (
        '<c r="A2" t="b"><v>1</v></c><c r="B2" t="e"><v>#N/A</v></c><c r="C2" t="str"><v>x</v></c>',
        True,
    ),
    "entities": (
        '<c r="A2" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#233;&#x41;</t></is></c>'
        '<c r="B2"><f>IF(A2="","",1)&amp;"&quot;"</f><v>1</v></c>',
        True,
    ),
    "empty values": ('<c r="A2"><v></v></c><c r="B2"><v/></c><c r="C2" s="1"/>', True),
    "formulas": (
        '<c r="A2"><f>B2*2</f><v>4</v></c><c r="B2"><f t="shared" ref="B2:B3" si="0">C2</f>'
        '<v></v></c><c r="C2"><f t="shared" si="0"/><v>3</v></c><c r="D2"><f></f></c>',
        True,
    ),
    "inline preserve and empty": (
        '<c r="A2" t="inlineStr"><is><t xml:space="preserve"> a\nb </t></is></c>'
        '<c r="B2" t="inlineStr"><is><t/></is></c><c r="C2" t="inlineStr"/>',
        True,
    ),
    "a date style": ('<c r="A2" s="1"><v>46022</v></c><c r="B2" s="1"><v>46022.5</v></c>', True),
    "rows without cells": (None, True),
    "attributes in another order": ('<c t="s" r="A2"><v>0</v></c>', False),
    "cell metadata": ('<c r="A2" s="0" t="n" cm="1"><v>7</v></c>', False),
    "rich inline text": (
        '<c r="A2" t="inlineStr"><is><r><t>a</t></r><r><rPr><b/></rPr><t>b</t></r></is></c>',
        False,
    ),
    "a cell with no reference": ('<c r="A2"><v>1</v></c><c><v>2</v></c>', False),
    "a comment": ('<c r="A2"><v>1</v><!-- x --></c>', False),
    "pretty-printed": ('\n  <c r="A2">\n    <v>1</v>\n  </c>\n', False),
    "single quotes": ("<c r='A2'><v>1</v></c>", False),
}


class _DateStyles:
    """Style 1 shows a date, the rest do not (what `_Styles.is_date` answers)."""

    def is_date(self, s: int) -> bool:
        return s == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_scan_of_unusual_shapes_agrees_or_steps_aside(shape):
    cells, scanned = SHAPES[shape]
    rows = (
        '<row r="2"/><row r="3" spans="1:2"></row><row r="5"><c r="A5"><v>1</v></c></row>'
        if cells is None
        else None
    )
    data, root = _sheet(cells or "", rows)
    styles = _DateStyles()
    walked = R._cells(root, STRINGS, styles, EPOCH)  # type: ignore[arg-type]
    grid = R._scan_cells(data, root, STRINGS, styles, EPOCH)  # type: ignore[arg-type]
    assert (grid is not None) == scanned
    if grid is not None:
        assert _typed(grid) == _typed(walked)


def test_scanned_values_are_typed_as_openpyxl_types_them():
    data, root = _sheet(SHAPES["entities"][0] + '<c r="C2" s="1"><v>46022</v></c>')
    grid = R._scan_cells(data, root, STRINGS, _DateStyles(), EPOCH)  # type: ignore[arg-type]
    assert grid == {
        2: {1: "a & b <c> éA", 2: Formula('=IF(A2="","",1)&"""', 1), 3: date(2025, 12, 31)}
    }


def test_a_missing_shared_string_is_the_same_problem_either_way():
    data, root = _sheet('<c r="D2" t="s"><v>9</v></c>')
    with pytest.raises(R.PackageError, match="cell D2 names a missing shared string"):
        R._scan_cells(data, root, STRINGS, None, EPOCH)
    with pytest.raises(R.PackageError, match="cell D2 names a missing shared string"):
        R._cells(root, STRINGS, None, EPOCH)


def test_rich_shared_strings_are_read_item_by_item():
    text = (
        f'<sst xmlns="{MAIN}"><si><t>plain</t></si><si><r><t>ri</t></r><r><t>ch</t></r>'
        '<rPh sb="0" eb="1"><t>guide</t></rPh></si><si/><si><t xml:space="preserve"> x </t></si></sst>'
    )
    data = text.encode()
    root = parse_xml(data, "sst.xml")
    assert R._scan_strings(data, root) == ["plain", "rich", "", " x "]
    assert R._scan_strings(data, root) == [R._text(si) for si in root.iterfind(R._M + "si")]


def test_the_sheets_a_run_reads_are_all_scanned(tmp_path):
    """The sample's sheets take the scan (the speed of a run depends on it)."""
    from rebalancer_xl.adapters.template import build_workbook

    path = build_workbook(tmp_path / "s.xlsx", sample=True) or tmp_path / "s.xlsx"
    pk = Package(Path(path))
    try:
        for name, part in pk.sheet_part.items():
            if name in S.READ_SHEETS:
                assert R._scan_cells(pk.raw(part), pk.tree(part), [], pk.styles, EPOCH) is not None
    finally:
        pk.close()

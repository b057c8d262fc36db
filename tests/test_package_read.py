"""The reader's scan of the shared strings gives exactly what walking the parsed tree gives.

`package_read` reads ``xl/sharedStrings.xml`` by cutting its text into items, and walks
the lxml tree for any shape it does not know. These tests hold the two paths to the same
strings: on every book of the lossless suite (XlsxWriter, `new`, Excel-style,
LibreOffice re-saves) and on hand-written parts in unusual shapes.
"""

from __future__ import annotations

import pytest
from lxml import etree

from rebalancer_xl.adapters import package_read as R
from rebalancer_xl.adapters.package import MAIN, Package, parse_xml
from tests.test_lossless import BOOKS, LO_BOOKS, book_path, library, lo_library

__all__ = ["library", "lo_library"]  # fixtures, imported for the books


def _walked(data: bytes) -> list[str]:
    return [R._text(si) for si in parse_xml(data, "sst.xml").iterfind(R._M + "si")]


@pytest.mark.parametrize("book", BOOKS)
def test_scan_reads_every_books_strings_as_the_tree_does(book, request):
    pk = Package(book_path(book, request))
    try:
        part = next(
            (
                R._resolve(pk.workbook_part, rel.get("Target", ""))
                for rel in pk.tree(pk.rels_part)
                if rel.get("Type", "").endswith("/sharedStrings")
            ),
            None,
        )
        if part is None:  # openpyxl writes every string inline
            assert R._shared_strings(pk) == []
            return
        data = pk.data(part)
        scanned = R._scan_strings(data, parse_xml(data, part))
        # The scan is the path taken for the books people make, not a dead branch;
        # LibreOffice may write items in shapes it does not know, so there only agreement counts.
        if book not in LO_BOOKS:
            assert scanned is not None
        if scanned is not None:
            assert scanned == _walked(data)
        assert R._shared_strings(pk) == _walked(data)
    finally:
        pk.close()


def _sst(items: str, head: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="{MAIN}"{head} count="9">{items}</sst>'
    ).encode()


# (items, whether the scan should read them itself)
SHAPES = {
    "plain": ("<si><t>Ticker</t></si><si><t>Target %</t></si>", True),
    "entities": ("<si><t>a &amp; b &lt;c&gt; &quot;&apos; &#233;&#x41;</t></si>", True),
    "empty items": ("<si><t/></si><si><t></t></si><si/>", True),
    "preserved spaces and lines": ('<si><t xml:space="preserve"> a\nb </t></si>', True),
    "rich text and phonetic guides": (
        '<si><r><rPr><b/></rPr><t>ri</t></r><r><t xml:space="preserve">ch </t></r>'
        '<rPh sb="0" eb="1"><t>guide</t></rPh><phoneticPr fontId="1"/></si><si><t>x</t></si>',
        True,
    ),
    "a prefix from the root in a rich item": (
        "<si><r><t>a</t></r><x14ac:z/></si>",
        False,
    ),
    "pretty-printed": ("\n  <si>\n    <t>a</t>\n  </si>\n", False),
    "a comment": ("<si><t>a</t></si><!-- b -->", False),
    "carriage returns": ("<si><t>a\r\nb</t></si>", False),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_scan_of_unusual_shapes_agrees_or_steps_aside(shape):
    items, scanned = SHAPES[shape]
    head = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    data = _sst(items, head)
    found = R._scan_strings(data, parse_xml(data, "sst.xml"))
    assert (found is not None) == scanned
    if found is not None:
        assert found == _walked(data)


def test_scanned_strings_are_the_text_a_person_sees():
    data = _sst(SHAPES["entities"][0] + SHAPES["rich text and phonetic guides"][0])
    assert R._scan_strings(data, parse_xml(data, "sst.xml")) == [
        "a & b <c> \"' éA",
        "rich ",
        "x",
    ]


def test_an_empty_table_and_another_root_are_handled():
    empty = f'<sst xmlns="{MAIN}" count="0"/>'.encode()
    assert R._scan_strings(empty, parse_xml(empty, "sst.xml")) == []
    other = f'<x:sst xmlns:x="{MAIN}"><x:si><x:t>a</x:t></x:si></x:sst>'.encode()
    assert R._scan_strings(other, parse_xml(other, "sst.xml")) is None
    assert _walked(other) == ["a"]


# --- the cells of a sheet ------------------------------------------------------------------


def _walked_sheet(data: bytes) -> tuple[dict[int, dict[int, object]], list[object]]:
    root = parse_xml(data, "sheet.xml")
    return R._cells(root, [f"s{i}" for i in range(200)], None, R.datetime(1899, 12, 30)), list(
        R._merges(root)
    )


def _scanned_sheet(data: bytes) -> object:
    found = R._scan_sheet(data, [f"s{i}" for i in range(200)], None, R.datetime(1899, 12, 30))
    return None if found is None else (found[0], list(found[1]))


@pytest.mark.parametrize("book", BOOKS)
def test_scan_reads_every_books_cells_as_the_tree_does(book, request):
    pk = Package(book_path(book, request))
    try:
        strings = R._shared_strings(pk)
        epoch = R.datetime(1904, 1, 1) if pk.date1904 else R.datetime(1899, 12, 30)
        for name, part in pk.sheet_part.items():
            data = pk.data(part)
            root = parse_xml(data, part)
            scanned = R._scan_sheet(data, strings, pk.styles, epoch)
            # As for the strings: the books people make take the scan, not the walk.
            if book not in LO_BOOKS:
                assert scanned is not None, name
            if scanned is not None:
                grid, merged, _ = scanned
                assert grid == R._cells(root, strings, pk.styles, epoch), name
                assert list(merged) == R._merges(root), name
    finally:
        pk.close()


def _sheet(cells: str, head: str = "", tail: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN}"{head}><sheetData>{cells}</sheetData>{tail}</worksheet>'
    ).encode()


# (rows, whether the scan should read them itself)
SHEET_SHAPES = {
    "plain": ('<row r="1"><c r="A1" t="s"><v>3</v></c><c r="B1" s="2"><v>1.5</v></c></row>', True),
    "inline strings and entities": (
        '<row r="2" spans="1:3"><c r="A2" t="inlineStr"><is><t xml:space="preserve"> a &amp;'
        ' &#233;</t></is></c><c r="C2" t="str"><v>x &lt; y</v></c></row>',
        True,
    ),
    "formulas, cached or not": (
        '<row r="3"><c r="A3"><f>SUM(B3:C3)&gt;1</f><v>1</v></c><c r="B3"><f>1+1</f><v></v>'
        '</c><c r="C3" t="b"><f>TRUE()</f><v>1</v></c><c r="D3" s="4"/></row>',
        True,
    ),
    "empty and repeated rows": (
        '<row r="4"/><row r="5"><c r="A5"><v>1</v></c></row><row r="5"><c r="B5"><v>2</v></c>'
        "</row>",
        True,
    ),
    "cells in other shapes, each parsed": (
        '<row r="6"><c t="n" r="A6" s="1"><v>7</v></c><c r="B6" t="inlineStr"><is><r><t>ri'
        '</t></r><r><t>ch</t></r></is></c><c r="C6"><f t="shared" si="0" ref="C6:C7">A6</f>'
        "<v>7</v></c><c><v>8</v></c></row>",
        True,
    ),
    "an empty formula or inline string, each parsed": (
        '<row r="8"><c r="A8"><f></f><v>1</v></c><c r="B8" t="inlineStr"><is><t></t></is></c>'
        '<c r="C8" t="inlineStr"></c><c r="D8" t="s"><v>&#49;</v></c></row>',
        True,
    ),
    "a cell with a prefix from the root": (
        '<row r="7"><c r="A7" x14ac:z="1"><v>1</v></c></row>',
        False,
    ),
    "pretty-printed": ('\n  <row r="1">\n    <c r="A1"><v>1</v></c>\n  </row>\n', False),
    "a comment": ('<row r="1"><c r="A1"><v>1</v></c></row><!-- b -->', False),
    "a row without its number": ('<row><c r="A1"><v>1</v></c></row>', False),
    "a cell outside a row": ('<c r="A1"><v>1</v></c>', False),
    "carriage returns": ('<row r="1"><c r="A1" t="str"><v>a\r\nb</v></c></row>', False),
}


@pytest.mark.parametrize("shape", SHEET_SHAPES)
def test_sheet_scan_of_unusual_shapes_agrees_or_steps_aside(shape):
    rows, scanned = SHEET_SHAPES[shape]
    head = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    data = _sheet(rows, head, '<mergeCells count="1"><mergeCell ref="A1:B2"/></mergeCells>')
    found = _scanned_sheet(data)
    assert (found is not None) == scanned
    if found is not None:
        assert found == _walked_sheet(data)


# Rows whose cells are all scanned, and a cell whose extension holds a `<row` of its own.
_SCANNED_ROWS = "".join(rows for rows, scanned in SHEET_SHAPES.values() if scanned)
_ROW_INSIDE_A_CELL = (
    '<row r="9"><c r="A9"><v>1</v><extLst><ext uri="u"><row/></ext></extLst>'
    '</c><c r="B9"><v>2</v></c></row>'
)


@pytest.mark.parametrize("chunk", [1, 17, 64, 1 << 18])
def test_a_sheet_scanned_a_stretch_at_a_time_reads_as_in_one_go(chunk, monkeypatch):
    """However small the stretches `_tokens` matches, the scan reads what one pass reads;
    a stretch cut where a `<row` is not a token's start makes it step aside, never
    misread."""
    whole = _sheet(_SCANNED_ROWS * 3)
    inside = _sheet(_SCANNED_ROWS + _ROW_INSIDE_A_CELL + _SCANNED_ROWS)
    in_one_go = _scanned_sheet(whole)
    assert in_one_go is not None
    assert _scanned_sheet(inside) is not None
    monkeypatch.setattr(R, "_SCAN_CHUNK", chunk)
    stretches = len(list(R._stretches(R._body(whole, "sheetData") or "")))
    assert stretches > 1 if chunk < 1 << 18 else stretches == 1  # cut, or the control
    assert _scanned_sheet(whole) == in_one_go == _walked_sheet(whole)
    found = _scanned_sheet(inside)
    assert found is None or found == _walked_sheet(inside)
    if chunk == 1:  # a cut at every `<row`, the one inside the cell too
        assert found is None


def test_a_sheet_in_another_namespace_or_with_other_merges_is_walked():
    other = _sheet('<row r="1"><c r="A1"><v>1</v></c></row>').replace(
        MAIN.encode(), b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    )
    assert _scanned_sheet(other) is None
    assert _walked_sheet(other) == ({}, [])
    merges = _sheet("", "", '<mergeCells><mergeCell r:id="x" ref="A1:B2"/></mergeCells>')
    assert _scanned_sheet(merges) is None


@pytest.mark.parametrize(
    "data",
    [
        f'<sst count="1"><si xmlns="{MAIN}"><t>a</t></si></sst>'.encode(),
        f'<worksheet><sheetData xmlns="{MAIN}"><row r="1"><c r="A1"><v>1</v></c></row>'
        "</sheetData></worksheet>".encode(),
        f'<worksheets xmlns="{MAIN}"><sheetData/></worksheets>'.encode(),
        f'<sst xmlns="{MAIN}"><si><t>a\x01</t></si></sst>'.encode(),
        f'<sst xmlns="{MAIN}"><si><t>a &nbsp;</t></si></sst>'.encode(),
    ],
    ids=["namespace on an item", "namespace on sheetData", "another root", "control", "entity"],
)
def test_text_is_read_unparsed_only_when_the_parser_would_read_it_alike(data):
    assert R._plain_body(data, "sst", "sst") is None
    assert R._plain_body(data, "worksheet", "sheetData") is None
    assert R._scan_string_text(data) is None


@pytest.mark.parametrize("part", ["sheet", "strings"])
def test_a_malformed_part_is_scanned_in_linear_time(part):
    """Cells or string items that never close (a broken or hostile file) make the scan
    step aside after one look at each character. A lazy ``.*?</c>`` rescanned the rest of
    the part from each opening: 0.5 MB took 100 s, these 4 MB would take hours."""
    import time
    from datetime import datetime

    n = 256_000
    start = time.perf_counter()
    if part == "sheet":
        body = '<row r="1">' + '<c r="A1" q="1">x' * n
        data = f'<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'
        assert R._scan_sheet(data.encode(), [], None, datetime(1899, 12, 30)) is None
    else:
        data = f'<sst xmlns="{MAIN}">{"<si>x" * n}</sst>'
        assert R._scan_string_text(data.encode()) is None
    assert time.perf_counter() - start < 20  # linear: well under a second here


@pytest.mark.parametrize(
    "text",
    [
        "a &lt; b",
        "&amp;lt;",
        "&quot;x&quot; &apos;y&apos;",
        "A&amp;B &gt;= 1",
        "&#60;&#x3e;&amp;",
        "plain",
    ],
)
def test_unescape_reads_text_as_the_parser_does(text):
    """The scan's entity replacement (named ones in C, references by pattern) gives what
    lxml gives for the same text."""
    parsed = etree.fromstring(f"<t>{text}</t>").text or ""
    assert R._unescape(text) == parsed

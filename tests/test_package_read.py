"""The reader's scan of the shared strings gives exactly what walking the parsed tree gives.

`package_read` reads ``xl/sharedStrings.xml`` by cutting its text into items, and walks
the lxml tree for any shape it does not know. These tests hold the two paths to the same
strings: on every book of the lossless suite (XlsxWriter, `new`, Excel-style,
LibreOffice re-saves) and on hand-written parts in unusual shapes.
"""

from __future__ import annotations

import pytest

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
        data = R.read_part(pk.zf, part)
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

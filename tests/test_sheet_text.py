"""A sheet edited as text comes out with the cells the tree edit would have written.

`TextSheetEdit` rewrites the written cells of a scanned sheet as text; `_SheetEdit` edits
the parsed tree. The same ops through both must give the same cells, attribute for
attribute and child for child, on every book of the lossless suite and on a big one;
where the text meets a cell it does not rewrite, the sheet goes to the tree whole.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from rebalancer_xl.adapters import package as P
from rebalancer_xl.adapters.package_read import book_from_package
from rebalancer_xl.adapters.sheet_text import TextSheetEdit
from rebalancer_xl.pipeline import plan_book
from rebalancer_xl.workbook.grid import SetColor, SetValues
from tests.test_lossless import BOOKS, LO_BOOKS, book_path, library, lo_library

__all__ = ["library", "lo_library"]  # fixtures, imported for the books

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _write(src: Path, out: Path, *, text: bool, ops: list | None = None) -> dict[str, str]:
    """Run the book's plan (or `ops`) with sheets edited as text or as trees; returns
    each edited part's edit kind."""
    pkg = P.Package(src)
    try:
        book = book_from_package(pkg)
        if not text:
            pkg.scanned.clear()  # what the tree edit gets: no scanned text to edit
        if ops is None:
            outcome = plan_book(book)
            assert outcome.ok, outcome.problems
            ops = outcome.ops
        pkg.apply(ops)
        with out.open("wb") as f:
            plan = pkg.write(f)
        assert P.verify(pkg.zf, out, plan) == []
        return {part: type(e).__name__ for part, e in pkg._edits.items()}
    finally:
        pkg.close()


def _sheet_cells(path: Path, part: str) -> list[tuple[object, ...]]:
    """Every row's attributes and every cell as (attributes, children serialized); not
    c14n, which crashes lxml on a comment."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read(part))
    rows = []
    for row in root.iter(M + "row"):
        cells = tuple(
            (dict(c.attrib), tuple(etree.tostring(k, with_tail=False) for k in c)) for c in row
        )
        rows.append((dict(row.attrib), cells))
    dim = root.find(M + "dimension")
    return [None if dim is None else dim.get("ref"), *rows]


def _same_sheets(a: Path, b: Path, parts: set[str]) -> None:
    for part in sorted(parts):
        assert _sheet_cells(a, part) == _sheet_cells(b, part), part


@pytest.mark.parametrize("book", BOOKS)
def test_the_text_edit_writes_the_cells_the_tree_edit_writes(book, request, tmp_path):
    src = book_path(book, request)
    text_out, tree_out = tmp_path / ("text" + src.suffix), tmp_path / ("tree" + src.suffix)
    kinds = _write(src, text_out, text=True)
    tree_kinds = _write(src, tree_out, text=False)
    edited = {part for part, kind in tree_kinds.items() if kind == "_SheetEdit"}
    assert edited
    if book not in LO_BOOKS:  # every sheet of our own and of XlsxWriter's shape scans
        assert {kinds[part] for part in edited} == {"TextSheetEdit"}
    _same_sheets(text_out, tree_out, edited)


def test_a_big_holdings_sheet_is_edited_as_text_alike(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "bench"))
    from big_workbook import make_big

    src = make_big(tmp_path / "big.xlsx", 400)
    kinds = _write(src, tmp_path / "text.xlsx", text=True)
    tree_kinds = _write(src, tmp_path / "tree.xlsx", text=False)
    edited = {part for part, kind in tree_kinds.items() if kind == "_SheetEdit"}
    assert {kinds[part] for part in edited} == {"TextSheetEdit"}
    _same_sheets(tmp_path / "text.xlsx", tmp_path / "tree.xlsx", edited)


def _with_cell(sample: Path, out: Path, old: bytes, new: bytes) -> Path:
    """The sample with one cell of Holdings replaced by hand."""
    pkg = P.Package(sample)
    part = pkg.sheet_part["Holdings"]
    pkg.close()
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                assert data.count(old) == 1, old
                data = data.replace(old, new)
            dst.writestr(info, data)
    return out


def _first_cell(sample: Path, ref: str) -> bytes:
    pkg = P.Package(sample)
    try:
        data = pkg.data(pkg.sheet_part["Holdings"])
    finally:
        pkg.close()
    start = data.index(f'<c r="{ref}"'.encode())
    end = data.index(b"</c>", start) + 4 if data[data.index(b">", start) - 1] != 47 else None
    return data[start : end or data.index(b">", start) + 1]


def _child(extra: bytes):
    """A cell with `extra` put after its value (a cell given as <c …/> is opened)."""

    def shape(cell: bytes) -> bytes:
        if cell.endswith(b"/>"):
            return cell[:-2] + b">" + extra + b"</c>"
        return cell[:-4] + extra + b"</c>"

    return shape


@pytest.mark.parametrize(
    ("shape", "kind"),
    [
        (_child(b"<extra/>"), "_SheetEdit"),
        (_child(b'<extLst><ext uri="u"/></extLst>'), "TextSheetEdit"),
        # a comment that names another cell of the row: a search could land in it
        (_child(b'<!-- <c r="B3"/> -->'), "_SheetEdit"),
        # the same cell twice: the tree edits the last, so the text must not guess
        (lambda cell: cell + cell, "_SheetEdit"),
    ],
    ids=["unknown child", "extension list", "comment", "cell twice"],
)
def test_an_odd_cell_a_run_writes_is_written_as_the_tree_would(sample, tmp_path, shape, kind):
    """An extension list is kept as text; any other oddity hands the sheet to the tree.
    Either way the cells come out as the tree edit writes them."""
    ref = "A3"  # the first holding's ticker: the ops below write over it
    cell = _first_cell(sample, ref)
    src = _with_cell(sample, tmp_path / "odd.xlsx", cell, shape(cell))
    ops = [SetValues("Holdings", 3, 1, (("ZZZ",),)), SetColor("Holdings", 3, 1, 1, 1, "FFEE00")]
    kinds = _write(src, tmp_path / "text.xlsx", text=True, ops=ops)
    _write(src, tmp_path / "tree.xlsx", text=False, ops=ops)
    pkg = P.Package(src)
    part = pkg.sheet_part["Holdings"]
    pkg.close()
    _same_sheets(tmp_path / "text.xlsx", tmp_path / "tree.xlsx", {part})
    with zipfile.ZipFile(tmp_path / "text.xlsx") as z:
        cells = [c for c in etree.fromstring(z.read(part)).iter(M + "c") if c.get("r") == ref]
    assert cells[-1].findtext(f"{M}is/{M}t") == "ZZZ"
    assert kinds[part] == kind


def test_rows_out_of_order_are_left_to_the_tree():
    body = '<row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>'
    assert TextSheetEdit.open("x", body, b"", lambda: etree.Element("x")) is None

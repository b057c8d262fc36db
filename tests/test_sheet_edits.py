"""The writer's cell edits on a sheet the workbook has: what a written cell keeps of the
old one, where a new cell goes in its row, and text that must come back as written.

The writer records the cells a run writes and turns them into XML in one go when the
ops are done (see `_SheetEdit`); these pin what that must preserve, cell by cell.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
from lxml import etree

from rebalancer_xl.adapters import package
from rebalancer_xl.workbook.grid import AddSheet, SetColor, SetFormat, SetValues

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def _book(tmp_path: Path) -> Path:
    """A one-sheet book; B1 is given an extLst and a namespaced attribute by hand."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 1
    ws["B1"] = 2
    ws["D1"] = "=A1*2"
    ws["A2"] = 5
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet ", f'<worksheet xmlns:x14ac="{X14AC}" '.encode())
                data = data.replace(
                    b'<c r="B1" t="n"><v>2</v></c>',
                    b'<c r="B1" t="n" x14ac:flag="7"><v>2</v><extLst><ext uri="u"/></extLst></c>',
                )
                assert b"x14ac:flag" in data
            dst.writestr(info, data)
    return path


def _run(path: Path, ops: list, tmp_path: Path) -> tuple[Path, package.Plan]:
    pkg = package.Package(path)
    pkg.apply(ops)
    out = tmp_path / "out.xlsx"
    with out.open("wb") as f:
        plan = pkg.write(f)
    pkg.close()
    return out, plan


def _cells(out: Path, part: str = "xl/worksheets/sheet1.xml") -> dict[str, etree._Element]:
    with zipfile.ZipFile(out) as z:
        root = etree.fromstring(z.read(part))
    return {c.get("r"): c for c in root.iter(M + "c")}


def test_a_written_cell_keeps_what_is_not_its_value(tmp_path: Path) -> None:
    path = _book(tmp_path)
    ops = [
        SetValues("S", 1, 1, (("one", "two", "three", 4.5),)),
        SetFormat("S", 1, 1, 1, 2, "0.00%"),
    ]
    out, plan = _run(path, ops, tmp_path)
    assert package.verify(path, out, plan) == []
    cells = _cells(out)
    a1, b1, c1, d1 = (cells[r] for r in ("A1", "B1", "C1", "D1"))
    assert a1.get("t") == "inlineStr"
    assert a1.findtext(f"{M}is/{M}t") == "one"
    # B1's extLst and namespaced attribute are not the value's: both stay.
    assert b1.get(f"{{{X14AC}}}flag") == "7"
    assert b1.find(f"{M}extLst/{M}ext").get("uri") == "u"
    assert b1.findtext(f"{M}is/{M}t") == "two"
    assert a1.get("s") == b1.get("s")
    assert a1.get("s") not in (None, "0")
    # C1 did not exist: it is made between B1 and D1, in column order.
    row = a1.getparent()
    assert [c.get("r") for c in row] == ["A1", "B1", "C1", "D1"]
    assert c1.findtext(f"{M}is/{M}t") == "three"
    # D1 was a formula: the value written replaces it.
    assert d1.find(M + "f") is None
    assert d1.findtext(M + "v") == "4.5"
    assert cells["A2"].findtext(M + "v") == "5"  # a row the ops do not write is as it was


def test_a_style_alone_makes_an_empty_styled_cell(tmp_path: Path) -> None:
    out, _ = _run(_book(tmp_path), [SetColor("S", 2, 3, 1, 1, "FFEE00")], tmp_path)
    c2 = _cells(out)["C2"]
    assert len(c2) == 0
    assert c2.get("s") not in (None, "0")


def test_a_carriage_return_comes_back_as_written(tmp_path: Path) -> None:
    """A bare carriage return in XML text is read back as a line feed, so text written
    as text (new rows, the Log) has to carry it as a character reference."""
    text = "line one\r\nline two\rend"
    ops = [
        SetValues("S", 1, 1, ((text,),)),  # a row the sheet has
        SetValues("S", 5, 1, ((text,),)),  # a new row
        AddSheet("Log"),
        SetValues("Log", 1, 1, ((text,),)),  # a new sheet
    ]
    out, _ = _run(_book(tmp_path), ops, tmp_path)
    cells = _cells(out)
    assert cells["A1"].findtext(f"{M}is/{M}t") == text
    assert cells["A5"].findtext(f"{M}is/{M}t") == text
    with zipfile.ZipFile(out) as z:
        log = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet") and "1" not in n)
    assert _cells(out, log)["A1"].findtext(f"{M}is/{M}t") == text

"""The save guard against real files: XlsxWriter builds each kind, openpyxl 3.1 round-trips it.

Every case checks both halves of the guard: the inventory comparison after a real
``load_workbook`` + ``save`` reports exactly the lost kind, and ``predict_losses`` says the
same before anything is saved. Kinds XlsxWriter cannot emit (x14 validations, slicers,
threaded comments, …) are added to its output by hand, the way Excel writes them.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from rebalancer_xl.workbook.guard import (
    Inventory,
    Kind,
    Loss,
    check_save,
    inventory,
    losses,
    predict_losses,
)

SHEET = "Holdings"
Build = Callable[[Any, Any], None]  # (xlsxwriter Workbook, Worksheet)

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MS = "http://schemas.microsoft.com"
X14 = f"{MS}/office/spreadsheetml/2009/9/main"
HAVE_PILLOW = importlib.util.find_spec("PIL") is not None


def tiny_png() -> bytes:
    """A 1x1 red PNG, made by hand so the tests need no Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="session")
def vba_project() -> bytes:
    """A real vbaProject.bin, taken from an .xlsm that ships with xlwings."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        pytest.skip("xlwings is not installed")
    for book in sorted(Path(spec.origin).parent.rglob("*.xlsm")):
        with zipfile.ZipFile(book) as archive:
            if "xl/vbaProject.bin" in archive.namelist():
                return archive.read("xl/vbaProject.bin")
    pytest.skip("no .xlsm with a vbaProject.bin inside xlwings")


def build(path: Path, fill: Build, vba: bytes | None = None) -> Path:
    """A workbook with a small grid on `SHEET`, then whatever `fill` adds."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(SHEET)
    for row in range(5):
        sheet.write_row(row, 0, [row + 1, (row + 1) * 2, (row + 1) * 3])
    if vba is not None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
    fill(book, sheet)
    book.close()
    return path


def round_trip(src: Path, dst: Path, **load: bool) -> Path:
    """What the writer does: openpyxl load + save, nothing changed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's "extension is not supported"
        openpyxl.load_workbook(src, **load).save(dst)
    return dst


def codes(found: list[Loss]) -> set[tuple[str, str]]:
    return {(loss.code, loss.sheet) for loss in found}


def inject(
    src: Path,
    dst: Path,
    *,
    parts: dict[str, str] | None = None,
    sheet_xml: str = "",
    sheet_rels: str = "",
    book_xml: str = "",
    book_rels: str = "",
    types: dict[str, str] | None = None,
) -> Path:
    """Copy `src` with parts, relationships and sheet/workbook elements added by hand."""
    sheet_rels_path = "xl/worksheets/_rels/sheet1.xml.rels"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        names = zin.namelist()
        for name in names:
            data = zin.read(name)
            text = data.decode() if name.endswith((".xml", ".rels")) else ""
            if name == "xl/worksheets/sheet1.xml":
                text = text.replace("</worksheet>", sheet_xml + "</worksheet>")
            elif name == sheet_rels_path:
                text = text.replace("</Relationships>", sheet_rels + "</Relationships>")
            elif name == "xl/workbook.xml":
                text = text.replace("</sheets>", "</sheets>" + book_xml)
            elif name == "xl/_rels/workbook.xml.rels":
                text = text.replace("</Relationships>", book_rels + "</Relationships>")
            elif name == "[Content_Types].xml":
                overrides = "".join(
                    f'<Override PartName="/{part}" ContentType="{kind}"/>'
                    for part, kind in (types or {}).items()
                )
                text = text.replace("</Types>", overrides + "</Types>")
            zout.writestr(name, text or data)
        if sheet_rels and sheet_rels_path not in names:
            zout.writestr(sheet_rels_path, rels(sheet_rels))
        for name, text in (parts or {}).items():
            zout.writestr(name, text)
    return dst


def rels(body: str) -> str:
    ns = "http://schemas.openxmlformats.org/package/2006/relationships"
    return f'<?xml version="1.0"?><Relationships xmlns="{ns}">{body}</Relationships>'


def rel(rid: str, kind: str, target: str, mode: str = "") -> str:
    external = f' TargetMode="{mode}"' if mode else ""
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"{external}/>'


# --- kinds XlsxWriter writes ---------------------------------------------------------------


def _chart(book: Any, sheet: Any) -> None:
    chart = book.add_chart({"type": "line"})
    chart.add_series({"values": f"={SHEET}!$A$1:$A$5"})
    sheet.insert_chart("E2", chart)


def _chart_and_text_box(book: Any, sheet: Any) -> None:
    _chart(book, sheet)
    sheet.insert_textbox("E20", "Rebalanced quarterly")


def _image(book: Any, sheet: Any) -> None:
    sheet.insert_image("E2", "dot.png", {"image_data": io.BytesIO(tiny_png())})


def _header_image(book: Any, sheet: Any) -> None:
    sheet.set_header("&L&G", {"image_left": "dot.png", "image_data_left": io.BytesIO(tiny_png())})


def _print_settings(book: Any, sheet: Any) -> None:
    sheet.autofilter("F1:G5")
    sheet.print_area("A1:G5")


def _names(book: Any, sheet: Any) -> None:
    book.define_name("Cash", f"={SHEET}!$A$1")
    book.define_name(f"{SHEET}!Band", f"={SHEET}!$B$1")


LOST_BY_OPENPYXL: dict[str, tuple[Build, set[tuple[str, str]]]] = {
    "text box": (lambda b, s: s.insert_textbox("E2", "Read me"), {("shape", SHEET)}),
    "shape": (
        lambda b, s: s.insert_textbox("E2", "", {"line": {"color": "red"}}),
        {("shape", SHEET)},
    ),
    "text box next to a chart": (_chart_and_text_box, {("shape", SHEET)}),
    "form button": (
        lambda b, s: s.insert_button("E2", {"caption": "Rebalance"}),
        {("form-control", SHEET)},
    ),
    "sparkline": (
        lambda b, s: s.add_sparkline("D1", {"range": f"{SHEET}!A1:C1"}),
        {("sparkline-group", SHEET)},
    ),
    "Excel 2010 data bar": (
        lambda b, s: s.conditional_format(
            "A1:A5", {"type": "data_bar", "data_bar_2010": True, "bar_solid": True}
        ),
        {("x14-conditional-format", SHEET)},
    ),
    "dynamic array formula": (
        lambda b, s: s.write_dynamic_array_formula("F1", "=SORT(A1:A5)"),
        {("dynamic-array", SHEET)},
    ),
    "header picture": (_header_image, {("header-footer-picture", SHEET)}),
    "picture": (_image, set() if HAVE_PILLOW else {("picture", SHEET)}),
}

KEPT_BY_OPENPYXL: dict[str, Build] = {
    "chart": _chart,
    "comment": lambda b, s: s.write_comment("A1", "bought 2019"),
    "table": lambda b, s: s.add_table("A1:C5"),
    "validation": lambda b, s: s.data_validation(
        "A1:A5", {"validate": "list", "source": ["BUY", "SELL"]}
    ),
    "conditional format": lambda b, s: s.conditional_format(
        "B1:B5", {"type": "cell", "criteria": ">", "value": 4, "format": None}
    ),
    "defined names": _names,
    "merged cells": lambda b, s: s.merge_range("H1:I1", "Totals"),
    "hyperlink": lambda b, s: s.write_url("H3", "https://example.com/fund"),
    "print settings": _print_settings,
}


@pytest.mark.parametrize("case", LOST_BY_OPENPYXL)
def test_openpyxl_loses_exactly_this_kind(tmp_path: Path, case: str) -> None:
    fill, lost = LOST_BY_OPENPYXL[case]
    src = build(tmp_path / "in.xlsx", fill)
    out = round_trip(src, tmp_path / "out.xlsx")

    assert codes(losses(inventory(src), inventory(out))) == lost
    assert codes(predict_losses(src)) == lost


@pytest.mark.parametrize("case", KEPT_BY_OPENPYXL)
def test_kinds_openpyxl_keeps_raise_no_alarm(tmp_path: Path, case: str) -> None:
    src = build(tmp_path / "in.xlsx", KEPT_BY_OPENPYXL[case])
    out = round_trip(src, tmp_path / "out.xlsx")

    assert losses(inventory(src), inventory(out)) == []
    assert predict_losses(src) == []


def test_inventory_counts_what_xlsxwriter_wrote(tmp_path: Path) -> None:
    def fill(book: Any, sheet: Any) -> None:
        for build_one in KEPT_BY_OPENPYXL.values():
            build_one(book, sheet)
        sheet.insert_textbox("K2", "one")
        sheet.insert_textbox("K9", "two")

    inv = inventory(build(tmp_path / "in.xlsx", fill))

    assert {kind.code: inv.count(kind, SHEET) for kind in Kind if inv.count(kind, SHEET)} == {
        "sheet": 1,
        "shape": 2,
        "chart": 1,
        "comment": 1,
        "table": 1,
        "data-validation": 1,
        "conditional-format": 1,
        "defined-name": 2,  # the local name and the print area; not _FilterDatabase
        "merged-cells": 1,
        "hyperlink": 1,
    }
    assert inv.count(Kind.DEFINED_NAME) == 1  # "Cash", global
    assert inv.total(Kind.DEFINED_NAME) == 3


# --- kinds added by hand, the way Excel writes them -----------------------------------------

X14_VALIDATION = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="' + X14 + '">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1"><x14:formula1><xm:f>Lists!$A$1:$A$4</xm:f>'
    "</x14:formula1><xm:sqref>B2</xm:sqref></x14:dataValidation></x14:dataValidations></ext>"
    "</extLst>"
)
CONTROLS = (
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x14"><controls><control shapeId="1025" r:id="rId90" name="{name}"/>'
    "</controls></mc:Choice></mc:AlternateContent>"
)

HAND_MADE: dict[str, tuple[dict[str, Any], set[tuple[str, str]]]] = {
    "x14 data validation": ({"sheet_xml": X14_VALIDATION}, {("x14-validation", SHEET)}),
    "unknown sheet extension": (
        {"sheet_xml": '<extLst><ext uri="{F7C9EE02-42E1-4005-9D12-6889AFFD525C}"/></extLst>'},
        {("extension", SHEET)},
    ),
    "threaded comment": (
        {
            "parts": {
                "xl/threadedComments/threadedComment1.xml": (
                    f'<ThreadedComments xmlns="{MS}/office/spreadsheetml/2018/threadedcomments">'
                    '<threadedComment ref="A1" id="{1}"><text>why so much cash?</text>'
                    "</threadedComment></ThreadedComments>"
                )
            },
            "sheet_rels": rel(
                "rId91",
                f"{MS}/office/2017/10/relationships/threadedComment",
                "../threadedComments/threadedComment1.xml",
            ),
        },
        {("threaded-comment", SHEET)},
    ),
    "check box with ctrlProp": (
        {
            "parts": {
                "xl/ctrlProps/ctrlProp1.xml": (
                    f'<formControlPr xmlns="{X14}" objectType="CheckBox" checked="Checked"/>'
                )
            },
            "sheet_xml": CONTROLS.format(name="Check Box 1"),
            "sheet_rels": rel("rId90", f"{R}/ctrlProp", "../ctrlProps/ctrlProp1.xml"),
        },
        {("form-control", SHEET)},
    ),
    "ActiveX control": (
        {
            "parts": {"xl/activeX/activeX1.xml": "<ax:ocx xmlns:ax='x'/>"},
            "sheet_xml": CONTROLS.format(name="CommandButton1"),
            "sheet_rels": rel("rId90", f"{R}/control", "../activeX/activeX1.xml"),
        },
        {("activex", SHEET)},
    ),
    "OLE object": (
        {
            "parts": {"xl/embeddings/oleObject1.bin": "ole"},
            "sheet_xml": '<oleObjects><oleObject progId="Package" shapeId="1026" r:id="rId92"/>'
            "</oleObjects>",
            "sheet_rels": rel("rId92", f"{R}/oleObject", "../embeddings/oleObject1.bin"),
        },
        {("ole-object", SHEET)},
    ),
    "slicer": (
        {
            "parts": {
                "xl/slicers/slicer1.xml": (
                    f'<slicers xmlns="{X14}"><slicer name="Tier" cache="Slicer_Tier" '
                    'caption="Tier" rowHeight="241300"/></slicers>'
                )
            },
            "sheet_rels": rel(
                "rId93", f"{MS}/office/2007/relationships/slicer", "../slicers/slicer1.xml"
            ),
        },
        {("slicer", SHEET)},
    ),
    "custom XML part": (
        {
            "parts": {"customXml/item1.xml": "<policy owner='ops'/>"},
            "book_rels": rel("rId90", f"{R}/customXml", "../customXml/item1.xml"),
        },
        {("custom-xml", "")},
    ),
    "picture in a cell": (
        {
            "parts": {
                "xl/richData/rdrichvalue.xml": (
                    f'<rvData xmlns="{MS}/office/spreadsheetml/2017/richdata" count="1">'
                    '<rv s="0"><v>0</v><v>5</v></rv></rvData>'
                )
            }
        },
        {("rich-value", "")},
    ),
    "query table": (
        {"parts": {"xl/queryTables/queryTable1.xml": "<queryTable name='Prices'/>"}},
        {("query-table", "")},
    ),
    "data connection": (
        {
            "parts": {
                "xl/connections.xml": (
                    '<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                    'main"><connection id="1" name="Prices" type="5" refreshedVersion="6">'
                    '<dbPr connection="Provider=x" command="prices"/></connection></connections>'
                )
            },
            "book_rels": rel("rId91", f"{R}/connections", "connections.xml"),
            "types": {
                "xl/connections.xml": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.connections+xml"
            },
        },
        {("connection", "")},
    ),
}


@pytest.mark.parametrize("case", HAND_MADE)
def test_openpyxl_loses_hand_made_kind(tmp_path: Path, case: str) -> None:
    edits, lost = HAND_MADE[case]
    src = inject(build(tmp_path / "base.xlsx", lambda b, s: None), tmp_path / "in.xlsx", **edits)
    out = round_trip(src, tmp_path / "out.xlsx")

    assert codes(losses(inventory(src), inventory(out))) == lost
    assert codes(predict_losses(src)) == lost


def _external_link(tmp_path: Path) -> Path:
    link = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{R}"><externalBook r:id="rId1"><sheetNames><sheetName val="Prices"/>'
        "</sheetNames></externalBook></externalLink>"
    )
    return inject(
        build(tmp_path / "base.xlsx", lambda b, s: None),
        tmp_path / "in.xlsx",
        parts={
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": rels(
                rel("rId1", f"{R}/externalLinkPath", "prices.xlsx", "External")
            ),
        },
        book_xml=f'<externalReferences><externalReference xmlns:r="{R}" r:id="rId95"/>'
        "</externalReferences>",
        book_rels=rel("rId95", f"{R}/externalLink", "externalLinks/externalLink1.xml"),
        types={
            "xl/externalLinks/externalLink1.xml": "application/vnd.openxmlformats-"
            "officedocument.spreadsheetml.externalLink+xml"
        },
    )


@pytest.mark.parametrize(("keep_links", "lost"), [(True, set()), (False, {("external-link", "")})])
def test_external_links_follow_keep_links(
    tmp_path: Path, keep_links: bool, lost: set[tuple[str, str]]
) -> None:
    src = _external_link(tmp_path)
    out = round_trip(src, tmp_path / "out.xlsx", keep_links=keep_links)

    assert inventory(src).count(Kind.EXTERNAL_LINK) == 1
    assert codes(losses(inventory(src), inventory(out))) == lost
    assert codes(predict_losses(src, keep_links=keep_links)) == lost


# --- macros -------------------------------------------------------------------------------


def _macro_button(book: Any, sheet: Any) -> None:
    sheet.insert_button("E2", {"macro": "Rebalance", "caption": "Run Rebalance"})
    sheet.write_comment("A1", "cash is a position too")


def test_xlsm_keeps_vba_and_button_with_keep_vba(tmp_path: Path, vba_project: bytes) -> None:
    src = build(tmp_path / "in.xlsm", _macro_button, vba=vba_project)
    out = round_trip(src, tmp_path / "out.xlsm", keep_vba=True)

    assert inventory(src).count(Kind.VBA) == 1
    assert inventory(src).count(Kind.FORM_CONTROL, SHEET) == 1
    assert losses(inventory(src), inventory(out)) == []
    assert predict_losses(src, keep_vba=True) == []


def test_xlsm_loses_vba_without_keep_vba(tmp_path: Path, vba_project: bytes) -> None:
    src = build(tmp_path / "in.xlsm", _macro_button, vba=vba_project)
    out = round_trip(src, tmp_path / "out.xlsm", keep_vba=False)
    lost = {("vba", ""), ("macro-enabled-type", ""), ("form-control", SHEET)}

    found = losses(inventory(src), inventory(out))
    assert codes(found) == lost
    assert codes(predict_losses(src, keep_vba=False)) == lost
    assert "workbook: the VBA project would be lost" in [str(loss) for loss in found]


def test_keep_vba_on_plain_xlsx_changes_its_file_type(tmp_path: Path) -> None:
    src = build(tmp_path / "in.xlsx", lambda b, s: None)
    out = round_trip(src, tmp_path / "out.xlsx", keep_vba=True)

    assert codes(losses(inventory(src), inventory(out))) == {("macro-free-type", "")}
    assert codes(predict_losses(src, keep_vba=True)) == {("macro-free-type", "")}


# --- openpyxl's own workbooks: no crying wolf -----------------------------------------------


def _openpyxl_book(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(["Ticker", "Shares", "Price", "Value"])
    for row, (ticker, shares, price) in enumerate(
        [("VTI", 10, 250.5), ("BND", 20, 72.1), ("VXUS", 30, 60.0)], start=2
    ):
        sheet.append([ticker, shares, price, f"=B{row}*C{row}"])
    sheet.add_table(Table(displayName="Positions", ref="A1:D4"))
    validation = DataValidation(type="list", formula1='"BUY,SELL,HOLD"')
    validation.add("E2:E4")
    sheet.add_data_validation(validation)
    sheet.conditional_formatting.add(
        "B2:B4", CellIsRule(operator="greaterThan", formula=["15"], fill=None)
    )
    sheet.conditional_formatting.add(
        "C2:C4", ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max")
    )
    sheet.conditional_formatting.add(
        "D2:D4", DataBarRule(start_type="min", end_type="max", color="638EC6")
    )
    sheet["A2"].comment = Comment("core holding", "ops")
    sheet["A3"].comment = Comment("bond sleeve", "ops")
    sheet.merge_cells("F1:G1")
    sheet["H1"].hyperlink = "https://example.com/fund"
    sheet.print_area = "A1:D4"
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=4, min_row=1, max_row=4), titles_from_data=True)
    sheet.add_chart(chart, "J2")
    book.defined_names["Cash"] = DefinedName("Cash", attr_text=f"{SHEET}!$B$2")
    sheet.defined_names["Band"] = DefinedName("Band", attr_text=f"{SHEET}!$C$2")
    book.create_sheet("Notes")["A1"] = "free text"
    book.save(path)
    return path


def test_openpyxl_written_book_round_trips_without_losses(tmp_path: Path) -> None:
    src = _openpyxl_book(tmp_path / "in.xlsx")
    out = round_trip(src, tmp_path / "out.xlsx")
    inv = inventory(src)

    assert inv.sheets == (SHEET, "Notes")
    assert inv.count(Kind.TABLE, SHEET) == 1
    assert inv.count(Kind.COMMENT, SHEET) == 2
    assert inv.count(Kind.CONDITIONAL, SHEET) == 3
    assert inv.count(Kind.CHART, SHEET) == 1
    assert inv.count(Kind.FORMULA, SHEET) == 3
    assert inv.total(Kind.DEFINED_NAME) == 3  # Cash, Band, the print area
    assert check_save(src, out) == []
    assert predict_losses(src) == []


def test_data_only_loses_formulas(tmp_path: Path) -> None:
    src = _openpyxl_book(tmp_path / "in.xlsx")
    out = round_trip(src, tmp_path / "out.xlsx", data_only=True)

    assert codes(check_save(src, out)) == {("formula", SHEET)}
    assert codes(predict_losses(src, data_only=True)) == {("formula", SHEET)}


# --- the values themselves ----------------------------------------------------------------


def test_loss_reads_as_a_sentence() -> None:
    assert str(Loss(Kind.SHAPE, SHEET, 2, 0)) == "Holdings: 2 text box(es)/shape(s) would be lost"
    assert str(Loss(Kind.COMMENT, SHEET, 5, 3)) == "Holdings: 2 comment(s)/note(s) would be lost"
    assert str(Loss(Kind.VBA, "", 1, 0)) == "workbook: the VBA project would be lost"
    assert str(Loss(Kind.SHEET, "Notes", 1, 0)) == "Notes: the worksheet would be lost"


def test_losses_only_count_drops_in_sheet_order() -> None:
    before = Inventory(
        ("Plan", SHEET),
        {
            (Kind.SHAPE, SHEET): 2,
            (Kind.COMMENT, "Plan"): 1,
            (Kind.VBA, ""): 1,
            (Kind.TABLE, SHEET): 1,
        },
    )
    after = Inventory((SHEET,), {(Kind.SHAPE, SHEET): 3, (Kind.TABLE, "Plan"): 4})

    assert [(x.code, x.sheet, x.before, x.after) for x in losses(before, after)] == [
        ("vba", "", 1, 0),
        ("comment", "Plan", 1, 0),
        ("table", SHEET, 1, 0),
    ]
    assert codes(losses(before, after, ignore_sheets={"Plan"})) == {("vba", ""), ("table", SHEET)}


def test_deleted_sheet_is_reported_with_its_content(tmp_path: Path) -> None:
    src = _openpyxl_book(tmp_path / "in.xlsx")
    book = openpyxl.load_workbook(src)
    del book[SHEET]
    book.save(tmp_path / "out.xlsx")

    found = codes(check_save(src, tmp_path / "out.xlsx"))
    assert {("sheet", SHEET), ("table", SHEET), ("chart", SHEET), ("defined-name", SHEET)} <= found
    assert ("sheet", "Notes") not in found


def test_inventory_reads_bytes_like_a_path(tmp_path: Path) -> None:
    src = build(tmp_path / "in.xlsx", _chart_and_text_box)

    assert inventory(src.read_bytes()) == inventory(src)
    assert inventory(str(src)) == inventory(src)

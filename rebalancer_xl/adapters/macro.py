"""A macro-enabled copy of the template with a Run Rebalance button (`new --macro`).

One source of truth for the sheets: the workbook is the template that
`workbook.template.render_workbook` builds, written by openpyxl. This module then adds,
by editing the package, exactly what makes it an .xlsm with a button:

1. `xl/vbaProject.bin`, copied byte for byte from the `quickstart_standalone.xlsm`
   inside the *installed* xlwings (BSD-licensed). Its `Module1.SampleCall` runs
   `import <workbook name>; <workbook name>.main()` through xlwings' standalone
   RunPython, so it needs no add-in — but it is pinned to that xlwings version.
2. A relationship to it in `xl/_rels/workbook.xml.rels`, and in
   `[Content_Types].xml` the workbook part's type
   `application/vnd.ms-excel.sheet.macroEnabled.main+xml` plus an override for
   `/xl/vbaProject.bin` (`application/vnd.ms-office.vbaProject`).
3. Code names `ThisWorkbook` and `Sheet1`… (set through openpyxl before writing), which
   tie the workbook and its sheets to the VBA project's document modules.
4. On Holdings, a form-control button in the sheet's legacy VML drawing (the one that
   already holds the header notes; a new one if there is none): a `_x0000_t201`
   shape with `<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>`, below the Holdings table.
   XlsxWriter's `insert_button` writes the same shape but always marks it
   non-printing; this one has `<x:PrintObject>True</x:PrintObject>`, so it shows in
   print previews and PDFs too.

Beside the workbook goes `<name>.py`, whose `main()` calls
`rebalancer_xl.xl.run_rebalance()`: the module SampleCall imports.
"""

from __future__ import annotations

import importlib.util
import io
import keyword
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from rebalancer_xl.adapters.files import atomic_write
from rebalancer_xl.adapters.template import render_workbook, save_workbook
from rebalancer_xl.workbook import schema as S

MACRO = "SampleCall"  # the macro in xlwings' standalone VBA project
CAPTION = "Run Rebalance"
QUICKSTART = "quickstart_standalone.xlsm"

XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_TYPE = "application/vnd.ms-office.vbaProject"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VML_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"

_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_V = "urn:schemas-microsoft-com:vml"
_O = "urn:schemas-microsoft-com:office:office"
_X = "urn:schemas-microsoft-com:office:excel"

# Button size in pixels, and its place: below the Holdings table, from column B.
BUTTON_WIDTH, BUTTON_HEIGHT = 150, 36
BUTTON_COLUMN = 2
BUTTON_GAP_ROWS = 1
# Comment shapes from openpyxl are numbered from 1026 on; 1025 is free in block 1.
BUTTON_SHAPE_ID = "_x0000_s1025"

# Column widths (characters) to pixels as Excel draws them: Calibri 11's digits are 7 px
# wide, plus 5 px padding; row heights are points (4/3 px each).
_DIGIT_PX, _PADDING_PX = 7, 5
_DEFAULT_WIDTH, _DEFAULT_HEIGHT = 8.43, 15.0

BUTTON_SCRIPT = '''\
"""The Run Rebalance button of the workbook of the same name.

xlwings calls main(): the button's macro (SampleCall) in a macro-enabled workbook,
or "Run main" on the xlwings tab of Excel's ribbon. The rules, the reading and the
writing live in rebalancer_xl, installed with `pip install rebalancer-xl`.
"""

from rebalancer_xl.xl import record_fills, run_rebalance


def main() -> None:
    """Plan this quarter's rebalance and write it into the workbook that called."""
    run_rebalance()


def record() -> None:
    """Carry the fills typed into Trades into Holdings, Lots and the tracking sheets."""
    record_fills()


if __name__ == "__main__":
    # Run from an editor: use the workbook of the same name, open in Excel.
    from pathlib import Path

    import xlwings as xw

    here = Path(__file__)
    book = next(p for p in (here.with_suffix(".xlsm"), here.with_suffix(".xlsx"))
                if p.exists())
    xw.Book(book).set_mock_caller()
    main()
'''


def button_script() -> str:
    """The `<workbook name>.py` that the button imports (also workbook/Rebalancing.py)."""
    return BUTTON_SCRIPT


def build_macro_workbook(
    path: str | os.PathLike[str], *, sample: bool = False, household: bool = False
) -> list[Path]:
    """Write the macro-enabled workbook and the Python module its button runs.

    Returns the files written: the .xlsm and `<name>.py` beside it. Refuses a workbook
    name Python cannot import (the button imports the module named like the workbook),
    and an existing `<name>.py` with other content (it may be someone's code).
    """
    xlsm = Path(path)
    script = xlsm.with_suffix(".py")
    check_module_name(xlsm)
    if script.exists() and script.read_text(encoding="utf-8") != BUTTON_SCRIPT:
        raise FileExistsError(
            f"{script} exists and is not the button's script; move it "
            "away (or delete it) and run again"
        )
    vba = vba_project()
    wb = render_workbook(sample=sample, household=household)
    set_code_names(wb)
    button = ButtonPlace.below_table(wb[S.HOLDINGS])
    package = add_macro_button(_package(wb), vba, sheet=S.HOLDINGS, place=button)
    with atomic_write(xlsm) as pending:
        pending.path.write_bytes(package)
    if not script.exists():
        script.write_text(BUTTON_SCRIPT, encoding="utf-8")
    return [xlsm, script]


def check_module_name(xlsm: Path) -> None:
    """The button runs `import <stem>`: the stem must be an importable, unused name."""
    stem = xlsm.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        suggestion = re.sub(r"\W", "_", stem, flags=re.ASCII).strip("_") or "Rebalancing"
        if not suggestion.isidentifier():
            suggestion = "Book_" + suggestion
        raise ValueError(
            f"{xlsm.name}: the button imports a Python module named after the workbook, so "
            f"the name must be a Python identifier (letters, digits, _), e.g. "
            f"{suggestion}{xlsm.suffix}"
        )
    spec = importlib.util.find_spec(stem)
    ours = xlsm.with_suffix(".py").resolve()
    if spec is not None and (spec.origin is None or Path(spec.origin).resolve() != ours):
        where = spec.origin or ", ".join(spec.submodule_search_locations or ())
        raise ValueError(
            f"{xlsm.name}: a Python module named {stem!r} already exists "
            f"({where}); the button would import that one instead. "
            "Choose another workbook name"
        )
    if (xlsm.parent / stem).is_dir():
        raise ValueError(
            f"{xlsm.name}: the folder {xlsm.parent / stem} beside it would be "
            "imported instead of the button's module. Choose another workbook "
            "name"
        )


def vba_project() -> bytes:
    """`xl/vbaProject.bin` of the standalone quickstart in the installed xlwings."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise RuntimeError("xlwings is not installed; `pip install xlwings` first")
    quickstart = Path(spec.origin).parent / QUICKSTART
    with zipfile.ZipFile(quickstart) as archive:
        return archive.read("xl/vbaProject.bin")


def set_code_names(wb: Workbook) -> None:
    """Code names as Excel gives them, so the sheets meet the VBA project's modules."""
    wb.code_name = "ThisWorkbook"
    for index, ws in enumerate(wb.worksheets, start=1):
        ws.sheet_properties.codeName = f"Sheet{index}"


# --- where the button goes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ButtonPlace:
    """A VML anchor: 0-based start/end columns and rows with pixel offsets, and the
    absolute position in points (margin-left/top, width, height) for the style."""

    anchor: tuple[int, int, int, int, int, int, int, int]
    left_pt: float
    top_pt: float
    width_pt: float
    height_pt: float

    @classmethod
    def below_table(cls, ws: Worksheet) -> ButtonPlace:
        """Under the sheet's (first) table, one empty row between, from column B."""
        last_row = ws.max_row
        for table in ws.tables.values():
            last_row = range_boundaries(table.ref)[3] or last_row
            break
        return cls.at(ws, row=last_row + 1 + BUTTON_GAP_ROWS, col=BUTTON_COLUMN)

    @classmethod
    def at(
        cls,
        ws: Worksheet,
        *,
        row: int,
        col: int,
        width: int = BUTTON_WIDTH,
        height: int = BUTTON_HEIGHT,
    ) -> ButtonPlace:
        """A button of `width` × `height` px with its top-left at 1-based (row, col)."""

        def col_px(c: int) -> int:  # 1-based column
            dim = ws.column_dimensions.get(get_column_letter(c))
            chars = dim.width if dim is not None and dim.width else _DEFAULT_WIDTH
            if chars < 1:
                return int(chars * (_DIGIT_PX + _PADDING_PX) + 0.5)
            return int(chars * _DIGIT_PX + 0.5) + _PADDING_PX

        def row_px(r: int) -> int:
            dim = ws.row_dimensions.get(r)
            points = dim.height if dim is not None and dim.height else _DEFAULT_HEIGHT
            return int(points * 4 / 3)

        left = sum(col_px(c) for c in range(1, col))
        top = sum(row_px(r) for r in range(1, row))
        end_col, x2 = col, width
        while x2 >= col_px(end_col):
            x2 -= col_px(end_col)
            end_col += 1
        end_row, y2 = row, height
        while y2 >= row_px(end_row):
            y2 -= row_px(end_row)
            end_row += 1
        return cls(
            (col - 1, 0, row - 1, 0, end_col - 1, x2, end_row - 1, y2),
            left * 0.75,
            top * 0.75,
            width * 0.75,
            height * 0.75,
        )


# --- the package edits ------------------------------------------------------------------------


def _package(wb: Workbook) -> bytes:
    """The template as openpyxl writes it (through the template's own saver)."""
    with tempfile.TemporaryDirectory(prefix="rebalancer-xl-") as tmp:
        plain = Path(tmp) / "template.xlsx"
        save_workbook(wb, plain)
        return plain.read_bytes()


def add_macro_button(
    package: bytes,
    vba: bytes,
    *,
    sheet: str,
    place: ButtonPlace,
    macro: str = MACRO,
    caption: str = CAPTION,
) -> bytes:
    """`package` (an .xlsx) as an .xlsm holding `vba`, with a button on `sheet`."""
    parts = _read_zip(package)
    if "xl/vbaProject.bin" in parts:
        raise ValueError("the package already holds a VBA project")
    parts["xl/vbaProject.bin"] = vba
    parts["xl/_rels/workbook.xml.rels"] = _add_rel(
        parts["xl/_rels/workbook.xml.rels"], VBA_REL, "vbaProject.bin"
    )
    sheet_part = _sheet_part(parts, sheet)
    rels_name = _rels_name(sheet_part)
    vml_name = _vml_part(parts, sheet_part)
    if vml_name is None:  # no notes on the sheet yet: a drawing of its own
        vml_name = _free_name(parts, "xl/drawings/vmlDrawing{}.vml")
        parts[vml_name] = _empty_vml()
        parts[rels_name] = _add_rel(parts.get(rels_name), VML_REL, "/" + vml_name)
        rid = _rel_id(parts[rels_name], "/" + vml_name)
        parts[sheet_part] = _add_legacy_drawing(parts[sheet_part], rid)
    parts[vml_name] = _add_button_shape(parts[vml_name], place, macro, caption)
    parts["[Content_Types].xml"] = _macro_content_types(parts["[Content_Types].xml"])
    return _zip(parts)


def _read_zip(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # [Content_Types].xml first, as Office writes it; fixed times for a stable file.
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, parts[name])
    return buffer.getvalue()


def _resolve(base: str, target: str) -> str:
    """A relationship target as a part name ('/xl/x.xml' or relative to `base`'s folder)."""
    if target.startswith("/"):
        return target[1:]
    parts: list[str] = []
    for piece in (PurePosixPath(base).parent / target).parts:
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _rels_name(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    book = ET.fromstring(parts["xl/workbook.xml"])
    rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in rels.iter(f"{{{_PR}}}Relationship")
        if r.get("Type") == SHEET_REL
    }
    for node in book.iter(f"{{{_MAIN}}}sheet"):
        if node.get("name") == sheet:
            return _resolve("xl/workbook.xml", targets[node.get(f"{{{_R}}}id")])
    raise KeyError(f"the workbook has no {sheet!r} sheet")


def _vml_part(parts: dict[str, bytes], sheet_part: str) -> str | None:
    rels = parts.get(_rels_name(sheet_part))
    if rels is None:
        return None
    for r in ET.fromstring(rels).iter(f"{{{_PR}}}Relationship"):
        if r.get("Type") == VML_REL:
            return _resolve(sheet_part, r.get("Target", ""))
    return None


def _free_name(parts: dict[str, bytes], pattern: str) -> str:
    n = 1
    while pattern.format(n) in parts:
        n += 1
    return pattern.format(n)


def _insert_before_close(xml: bytes, tag: str, element: str) -> bytes:
    """`element` added as the last child of the root `tag` (no prefix; as written by
    openpyxl and Office), leaving the rest of the part byte for byte as it was."""
    text = xml.decode("utf-8")
    at = text.rindex(f"</{tag}>")
    return (text[:at] + element + text[at:]).encode("utf-8")


def _add_rel(rels: bytes | None, rel_type: str, target: str) -> bytes:
    if not rels:
        rels = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PR}"></Relationships>'
        ).encode()
    ids = {r.get("Id") for r in ET.fromstring(rels)}
    n = 1
    while f"rIdXl{n}" in ids:
        n += 1
    return _insert_before_close(
        rels, "Relationships", f'<Relationship Id="rIdXl{n}" Type="{rel_type}" Target="{target}"/>'
    )


def _rel_id(rels: bytes, target: str) -> str:
    for r in ET.fromstring(rels):
        if r.get("Target") == target:
            return r.get("Id", "")
    raise KeyError(target)


# Elements that may follow <legacyDrawing> in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_LEGACY = (
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


def _add_legacy_drawing(sheet_xml: bytes, rid: str) -> bytes:
    text = sheet_xml.decode("utf-8")
    opening = re.search(r"<(\w+:)?worksheet\b", text)
    ns = (opening.group(1) or "") if opening else ""
    r_prefix = re.search(rf'xmlns:(\w+)="{re.escape(_R)}"', text)
    r_ns = r_prefix.group(1) if r_prefix else "r"
    declare = "" if r_prefix else f' xmlns:r="{_R}"'
    element = f'<{ns}legacyDrawing {r_ns}:id="{rid}"{declare}/>'
    following = re.search(rf"<{ns}(?:{'|'.join(_AFTER_LEGACY)})\b", text)
    at = following.start() if following else text.rindex(f"</{ns}worksheet>")
    return (text[:at] + element + text[at:]).encode("utf-8")


def _empty_vml() -> bytes:
    return (
        f'<xml xmlns:v="{_V}" xmlns:o="{_O}" xmlns:x="{_X}">'
        '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
        "</xml>"
    ).encode()


def _add_button_shape(vml: bytes, place: ButtonPlace, macro: str, caption: str) -> bytes:
    """Append the button's shape type and shape (as XlsxWriter draws one) to a VML part.

    The part is re-serialised with ElementTree's own prefixes (ns0…), as openpyxl writes
    the notes' VML; Excel and LibreOffice read VML by namespace, not by prefix.
    """
    root = ET.fromstring(vml)

    def v(tag: str) -> str:
        return f"{{{_V}}}{tag}"

    def o(tag: str) -> str:
        return f"{{{_O}}}{tag}"

    def x(tag: str) -> str:
        return f"{{{_X}}}{tag}"

    if root.find(f"{v('shapetype')}[@id='_x0000_t201']") is None:
        shapetype = ET.SubElement(
            root,
            v("shapetype"),
            {
                "id": "_x0000_t201",
                "coordsize": "21600,21600",
                o("spt"): "201",
                "path": "m,l,21600r21600,l21600,xe",
            },
        )
        ET.SubElement(shapetype, v("stroke"), {"joinstyle": "miter"})
        ET.SubElement(
            shapetype,
            v("path"),
            {
                "shadowok": "f",
                o("extrusionok"): "f",
                "strokeok": "f",
                "fillok": "f",
                o("connecttype"): "rect",
            },
        )
        ET.SubElement(shapetype, o("lock"), {v("ext"): "edit", "shapetype": "t"})
    style = (
        f"position:absolute;margin-left:{place.left_pt:g}pt;margin-top:{place.top_pt:g}pt;"
        f"width:{place.width_pt:g}pt;height:{place.height_pt:g}pt;z-index:1;"
        "mso-wrap-style:tight"
    )
    shape = ET.SubElement(
        root,
        v("shape"),
        {
            "id": BUTTON_SHAPE_ID,
            "type": "#_x0000_t201",
            "style": style,
            o("button"): "t",
            "fillcolor": "buttonFace [67]",
            "strokecolor": "windowText [64]",
            o("insetmode"): "auto",
        },
    )
    ET.SubElement(shape, v("fill"), {"color2": "buttonFace [67]", o("detectmouseclick"): "t"})
    ET.SubElement(shape, o("lock"), {v("ext"): "edit", "rotation": "t"})
    textbox = ET.SubElement(
        shape, v("textbox"), {"style": "mso-direction-alt:auto", o("singleclick"): "f"}
    )
    div = ET.SubElement(textbox, "div", {"style": "text-align:center"})
    font = ET.SubElement(div, "font", {"face": "Calibri", "size": "220", "color": "#000000"})
    font.text = caption
    data = ET.SubElement(shape, x("ClientData"), {"ObjectType": "Button"})
    for tag, text in (
        ("Anchor", ", ".join(str(n) for n in place.anchor)),
        ("PrintObject", "True"),  # XlsxWriter says False: keep it printable
        ("AutoFill", "False"),
        ("FmlaMacro", f"[0]!{macro}"),
        ("TextHAlign", "Center"),
        ("TextVAlign", "Center"),
    ):
        ET.SubElement(data, x(tag)).text = text
    out: bytes = ET.tostring(root, encoding="UTF-8")
    return out


def _macro_content_types(types_xml: bytes) -> bytes:
    workbook = re.escape(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    text, found = re.subn(
        rf'(PartName="/xl/workbook.xml"\s+ContentType=")({workbook})"|'
        rf'(ContentType=")({workbook})("\s+PartName="/xl/workbook.xml")',
        lambda m: (
            f'{m.group(1)}{XLSM_MAIN}"' if m.group(1) else f"{m.group(3)}{XLSM_MAIN}{m.group(5)}"
        ),
        types_xml.decode("utf-8"),
    )
    if found != 1:
        raise ValueError("no workbook part in [Content_Types].xml to make macro-enabled")
    types_xml = text.encode("utf-8")
    root = ET.fromstring(types_xml)
    if not any(d.get("Extension") == "vml" for d in root.iter(f"{{{_CT}}}Default")):
        types_xml = _insert_before_close(
            types_xml, "Types", f'<Default Extension="vml" ContentType="{VML_TYPE}"/>'
        )
    return _insert_before_close(
        types_xml, "Types", f'<Override PartName="/xl/vbaProject.bin" ContentType="{VBA_TYPE}"/>'
    )

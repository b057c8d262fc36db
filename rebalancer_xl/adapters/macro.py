"""A macro-enabled copy of the template with a Run Rebalance button (`new --macro`).

One source of truth for the sheets: the workbook is the template that
`adapters.template.render_workbook` builds. openpyxl then saves it as an .xlsm by its own
keep-VBA route, the one it takes for a workbook opened with `keep_vba=True`: the workbook
carries a `vba_archive` (here built from the quickstart's parts plus the button's drawing)
and openpyxl's writer

1. copies `xl/vbaProject.bin` from it, byte for byte: the VBA project of the
   `quickstart_standalone.xlsm` inside the *installed* xlwings (BSD-licensed). Its
   `Module1.SampleCall` runs `import <workbook name>; <workbook name>.main()` through
   xlwings' standalone RunPython, so it needs no add-in — but it is pinned to that
   xlwings version;
2. relates it to the workbook and gives the workbook part the macro-enabled type
   (`application/vnd.ms-excel.sheet.macroEnabled.main+xml`). The project's own type is
   a `<Default Extension="bin">` (`application/vnd.ms-office.vbaProject`) that openpyxl
   registers for every `.bin` part: its writer means to copy the project's Override from
   the archive's content types, but its filter (openpyxl 3.1.5) compares part names with
   content types and so never copies one. By the package rule (OPC) a part without an
   Override takes its extension's Default, so the part's type is the same;
3. writes the Holdings sheet's header notes into the legacy VML drawing the archive
   holds for that sheet (`ws.legacy_drawing`), next to the button.

What openpyxl has no API for stays here: the code names `ThisWorkbook` and `Sheet1`…
(set through openpyxl's attributes), which tie the workbook and its sheets to the VBA
project's document modules, and the button itself — a form control, which openpyxl
neither reads nor writes except as VML it carries through. The button is a `_x0000_t201`
shape with `<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>`, below the Holdings table.
XlsxWriter's `insert_button` writes the same shape but always marks it non-printing;
this one has `<x:PrintObject>True</x:PrintObject>`, so it shows in print previews and
PDFs too.

Beside the workbook goes `<name>.py`, whose `main()` calls
`rebalancer_xl.xl.run_rebalance()`: the module SampleCall imports.
"""

from __future__ import annotations

import importlib.util
import io
import keyword
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from openpyxl.comments.shape_writer import ShapeWriter
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import Element, SubElement, tostring

from rebalancer_xl.adapters.template import render_workbook, save_workbook
from rebalancer_xl.workbook import schema as S

MACRO = "SampleCall"  # the macro in xlwings' standalone VBA project
CAPTION = "Run Rebalance"
QUICKSTART = "quickstart_standalone.xlsm"

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
    wb = render_workbook(sample=sample, household=household)
    set_code_names(wb)
    place = ButtonPlace.below_table(wb[S.HOLDINGS])
    with add_macro_button(wb, sheet=S.HOLDINGS, place=place):
        save_workbook(wb, xlsm)
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


# --- the archive openpyxl saves from ------------------------------------------------------------

#: Where the Holdings sheet's drawing goes: a name that openpyxl's writer copies from the
#: archive (its keep-VBA pattern is `xl/drawings/.*vmlDrawing\\d\\.vml`).
BUTTON_VML = "xl/drawings/vmlDrawing1.vml"
#: What openpyxl's writer reads from `vba_archive` besides the VBA project: the package's
#: content types and root relationships (for a ribbon the project might carry).
_ARCHIVE_PARTS = ("xl/vbaProject.bin", "[Content_Types].xml", "_rels/.rels")


def quickstart() -> Path:
    """The standalone quickstart workbook of the installed xlwings."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise RuntimeError("xlwings is not installed; `pip install xlwings` first")
    return Path(spec.origin).parent / QUICKSTART


def vba_project() -> bytes:
    """`xl/vbaProject.bin` of the standalone quickstart in the installed xlwings."""
    with zipfile.ZipFile(quickstart()) as archive:
        return archive.read("xl/vbaProject.bin")


def add_macro_button(
    wb: Workbook,
    *,
    sheet: str,
    place: ButtonPlace,
    source: Path | None = None,
    macro: str = MACRO,
    caption: str = CAPTION,
) -> zipfile.ZipFile:
    """Make `wb` save as an .xlsm holding the VBA project of `source` (an .xlsm; the
    xlwings quickstart by default) with a button running `macro` on `sheet`.

    The workbook gets what `load_workbook(source, keep_vba=True)` would give it, a
    `vba_archive`, whose drawing for `sheet` already holds the button; openpyxl's writer
    does the rest when the workbook is saved (the module docstring lists what). Returns
    that archive (in memory), to be closed once the workbook is saved."""
    if wb.vba_archive is not None:
        raise ValueError("the workbook already holds a VBA project")
    ws = wb[sheet]
    if ws.legacy_drawing is not None:
        raise ValueError(f"the {sheet!r} sheet already has a legacy drawing")
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(source or quickstart()) as original:
        for name in _ARCHIVE_PARTS:
            parts[name] = original.read(name)
    parts[BUTTON_VML] = button_vml(place, macro, caption)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    wb.vba_archive = zipfile.ZipFile(buffer)
    ws.legacy_drawing = BUTTON_VML
    return wb.vba_archive


def button_vml(place: ButtonPlace, macro: str = MACRO, caption: str = CAPTION) -> bytes:
    """A legacy VML drawing holding the button (as XlsxWriter draws one, but printable).

    It starts with the shape layout and the notes' shape type made by openpyxl's own
    `ShapeWriter`: when openpyxl adds the sheet's notes to this drawing it finds its
    shape type there and adds no second layout. Comment shapes are numbered from 1026
    on, so the button takes 1025, the first id of the layout's block.
    """

    def v(tag: str) -> str:
        return f"{{{_V}}}{tag}"

    def o(tag: str) -> str:
        return f"{{{_O}}}{tag}"

    def x(tag: str) -> str:
        return f"{{{_X}}}{tag}"

    root = Element("xml")
    ShapeWriter([]).add_comment_shapetype(root)
    shapetype = SubElement(
        root,
        v("shapetype"),
        {
            "id": "_x0000_t201",
            "coordsize": "21600,21600",
            o("spt"): "201",
            "path": "m,l,21600r21600,l21600,xe",
        },
    )
    SubElement(shapetype, v("stroke"), {"joinstyle": "miter"})
    SubElement(
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
    SubElement(shapetype, o("lock"), {v("ext"): "edit", "shapetype": "t"})
    style = (
        f"position:absolute;margin-left:{place.left_pt:g}pt;margin-top:{place.top_pt:g}pt;"
        f"width:{place.width_pt:g}pt;height:{place.height_pt:g}pt;z-index:1;"
        "mso-wrap-style:tight"
    )
    shape = SubElement(
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
    SubElement(shape, v("fill"), {"color2": "buttonFace [67]", o("detectmouseclick"): "t"})
    SubElement(shape, o("lock"), {v("ext"): "edit", "rotation": "t"})
    textbox = SubElement(
        shape, v("textbox"), {"style": "mso-direction-alt:auto", o("singleclick"): "f"}
    )
    div = SubElement(textbox, "div", {"style": "text-align:center"})
    font = SubElement(div, "font", {"face": "Calibri", "size": "220", "color": "#000000"})
    font.text = caption
    data = SubElement(shape, x("ClientData"), {"ObjectType": "Button"})
    for tag, text in (
        ("Anchor", ", ".join(str(n) for n in place.anchor)),
        ("PrintObject", "True"),  # XlsxWriter says False: keep it printable
        ("AutoFill", "False"),
        ("FmlaMacro", f"[0]!{macro}"),
        ("TextHAlign", "Center"),
        ("TextVAlign", "Center"),
    ):
        SubElement(data, x(tag)).text = text
    # openpyxl's tostring is lxml's (bytes); its stub borrows ElementTree's signature.
    return cast(bytes, tostring(root))

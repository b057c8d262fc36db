"""The macro-enabled workbook (`rebalancer-xl new --macro`): a valid .xlsm package, the
template's sheets, xlwings' VBA project, and a Run Rebalance button bound to its macro.

Excel is not here to press the button. What can be checked is checked: the package
parts and their types, the VBA source inside vbaProject.bin (decompressed as MS-OVBA
describes), the button's VML, that openpyxl and LibreOffice open the file, that a
batch run keeps the button, and — looking at pixels — that LibreOffice draws it.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import openpyxl
import pytest
import xlwings
from openpyxl.workbook.workbook import Workbook

from rebalancer_xl.adapters import macro
from rebalancer_xl.adapters.template import build_workbook, save_workbook
from rebalancer_xl.cli import main as cli_main
from rebalancer_xl.pipeline import process_file
from rebalancer_xl.workbook import schema as S
from tests.conftest import convert_many
from tests.lo import require_pdftoppm, require_soffice

ROOT = Path(__file__).resolve().parents[1]
VML_NS = {"v": "urn:schemas-microsoft-com:vml", "x": "urn:schemas-microsoft-com:office:excel"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The macro workbook (sample data) and the files the builder returned."""
    folder = tmp_path_factory.mktemp("macro")
    xlsm, script = macro.build_macro_workbook(folder / "Rebalancing.xlsm", sample=True)
    return {"xlsm": xlsm, "script": script}


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def holdings_vml(package: dict[str, bytes]) -> tuple[str, bytes]:
    """The legacy VML drawing of the Holdings sheet, found through the relationships."""
    book = package["xl/workbook.xml"].decode()
    rels = package["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(r'<sheet [^>]*name="Holdings"[^>]*r:id="([^"]+)"', book)
    assert rid is not None
    target = re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels
    ) or re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
    assert target is not None
    sheet = target.group(1).lstrip("/")
    sheet_rels = package[f"xl/worksheets/_rels/{sheet.rsplit('/', 1)[1]}.rels"].decode()
    legacy = re.search(r'<legacyDrawing [^>]*r:id="([^"]+)"', package[sheet].decode())
    assert legacy is not None, "Holdings has no legacyDrawing"
    vml = re.search(
        rf'<Relationship [^>]*Target="/?([^"]+)"[^>]*Id="{legacy.group(1)}"', sheet_rels
    ) or re.search(rf'<Relationship [^>]*Id="{legacy.group(1)}"[^>]*Target="/?([^"]+)"', sheet_rels)
    assert vml is not None
    return vml.group(1), package[vml.group(1)]


def content_type(types: str, part: str) -> str | None:
    """The content type `[Content_Types].xml` gives `part` ('/xl/x.bin')."""
    ns = {"ct": "http://schemas.openxmlformats.org/package/2006/content-types"}
    root = ET.fromstring(types)
    for override in root.findall("ct:Override", ns):
        if override.get("PartName", "").lower() == part.lower():
            return override.get("ContentType")
    extension = part.rsplit(".", 1)[-1].lower()
    for default in root.findall("ct:Default", ns):
        if default.get("Extension", "").lower() == extension:
            return default.get("ContentType")
    return None


def buttons(vml: bytes) -> list[dict[str, str]]:
    """Button shapes of a VML part: their caption and ClientData elements."""
    root = ET.fromstring(vml)
    out = []
    for shape in root.iter(f"{{{VML_NS['v']}}}shape"):
        data = shape.find(f"{{{VML_NS['x']}}}ClientData")
        if data is None or data.get("ObjectType") != "Button":
            continue
        entry = {child.tag.split("}")[1]: (child.text or "") for child in data}
        textbox = shape.find(f"{{{VML_NS['v']}}}textbox")
        entry["caption"] = "".join(textbox.itertext()).strip() if textbox is not None else ""
        entry["id"] = shape.get("id", "")
        out.append(entry)
    return out


def cell_view(cell: object) -> tuple[object, ...]:
    value = getattr(cell, "value", None)
    if hasattr(value, "text") and hasattr(value, "ref"):  # an array formula
        value = ("array", value.ref, value.text)
    fill = cell.fill  # type: ignore[attr-defined]
    return (value, cell.number_format, fill.fill_type, fill.fgColor.rgb)  # type: ignore[attr-defined]


# --- MS-OVBA: reading the macro source out of vbaProject.bin ----------------------------------


def ovba_decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1: a CompressedContainer, chunk by chunk."""
    assert data[0] == 1, "not a compressed container"
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # a raw chunk
            out += data[pos : pos + 4096]
            pos += 4096
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def vba_modules(vba: bytes) -> dict[str, str]:
    """Module name -> VBA source, from the dir stream's MODULENAME/MODULEOFFSET records."""
    olefile = pytest.importorskip("olefile")  # reads the OLE compound file around them
    ole = olefile.OleFileIO(vba)
    directory = ovba_decompress(ole.openstream("VBA/dir").read())
    modules: dict[str, str] = {}
    pos, name = 0, ""
    while pos < len(directory):
        rid, size = struct.unpack_from("<HI", directory, pos)
        pos += 6
        if rid == 0x0009:  # PROJECTVERSION: its size field says 4 but 6 bytes follow
            size = 6
        record = directory[pos : pos + size]
        pos += size
        if rid == 0x0019:
            name = record.decode("latin-1")
        elif rid == 0x0031:
            offset = struct.unpack("<I", record)[0]
            stream = ole.openstream(f"VBA/{name}").read()
            modules[name] = ovba_decompress(stream[offset:]).decode("latin-1")
    return modules


# --- the package ---------------------------------------------------------------------------------


def test_the_builder_returns_the_workbook_and_its_python_module(built: dict[str, Path]) -> None:
    assert built["xlsm"].suffix == ".xlsm"
    assert built["script"] == built["xlsm"].with_suffix(".py")
    assert built["script"].read_text(encoding="utf-8") == macro.button_script()


def test_the_bundled_workbook_script_is_the_button_script() -> None:
    """workbook/Rebalancing.py ("Run main" of the add-in) is the same module."""
    assert (ROOT / "workbook" / "Rebalancing.py").read_text(
        encoding="utf-8"
    ) == macro.button_script()


def test_the_button_script_calls_run_rebalance() -> None:
    namespace: dict[str, object] = {"__name__": "Rebalancing"}
    exec(compile(macro.button_script(), "Rebalancing.py", "exec"), namespace)
    from rebalancer_xl.xl import run_rebalance

    assert namespace["run_rebalance"] is run_rebalance
    assert callable(namespace["main"])


def test_it_is_a_macro_enabled_package(built: dict[str, Path]) -> None:
    package = parts(built["xlsm"])
    types = package["[Content_Types].xml"].decode()
    assert re.search(
        r'PartName="/xl/workbook.xml"\s+ContentType="application/vnd.ms-excel'
        r'.sheet.macroEnabled.main\+xml"',
        types,
    )
    # The package's rule (OPC): a part's type is its Override, else its extension's Default.
    assert content_type(types, "/xl/vbaProject.bin") == "application/vnd.ms-office.vbaProject"
    drawing, _ = holdings_vml(package)
    assert content_type(types, "/" + drawing) == (
        "application/vnd.openxmlformats-officedocument.vmlDrawing"
    )
    rels = package["xl/_rels/workbook.xml.rels"].decode()
    assert re.search(
        r'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
        r'\s+Target="vbaProject.bin"',
        rels,
    )
    assert re.search(r'codeName="ThisWorkbook"', package["xl/workbook.xml"].decode())


def test_the_vba_project_is_the_installed_xlwings_one(built: dict[str, Path]) -> None:
    quickstart = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    with zipfile.ZipFile(quickstart) as z:
        assert parts(built["xlsm"])["xl/vbaProject.bin"] == z.read("xl/vbaProject.bin")


def test_the_macro_the_button_runs_imports_the_module_named_like_the_workbook(
    built: dict[str, Path],
) -> None:
    modules = vba_modules(parts(built["xlsm"])["xl/vbaProject.bin"])
    sample_call = re.search(r"Sub SampleCall\(\)(.*?)End Sub", modules["Module1"], re.S)
    assert sample_call is not None
    body = sample_call.group(1)
    assert 'Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name, "."' in body
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in body
    # Pinned to the xlwings it came from: the standalone module says which version.
    assert f"'Version: {xlwings.__version__}" in modules["xlwings"]


def test_the_holdings_sheet_has_a_printable_button_bound_to_the_macro(
    built: dict[str, Path],
) -> None:
    _, vml = holdings_vml(parts(built["xlsm"]))
    [button] = buttons(vml)
    assert button["caption"] == macro.CAPTION == "Run Rebalance"
    assert button["FmlaMacro"] == "[0]!SampleCall"
    assert button["PrintObject"] == "True"
    # Below the sample's table (rows 1-8), from column B: 0-based anchor columns/rows.
    left_col, _, top_row, _, right_col, _, bottom_row, _ = map(int, button["Anchor"].split(","))
    assert (left_col, top_row) == (1, 9)
    assert right_col >= left_col
    assert bottom_row >= top_row
    # The header notes still live in the same drawing.
    assert vml.count(b'ObjectType="Note"') == len(S.HOLDINGS_COLUMNS)


def test_the_sheets_are_the_template_s(built: dict[str, Path], tmp_path: Path) -> None:
    """One source of truth: every cell, formula, format and fill as `new --sample` has them,
    the same tables and defined names."""
    template = tmp_path / "template.xlsx"
    build_workbook(template, sample=True)
    ours = openpyxl.load_workbook(built["xlsm"])
    theirs = openpyxl.load_workbook(template)
    assert ours.sheetnames == theirs.sheetnames == list(S.SHEET_ORDER)
    for name in theirs.sheetnames:
        a, b = ours[name], theirs[name]
        assert (a.max_row, a.max_column) == (b.max_row, b.max_column), name
        for row_a, row_b in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for x, y in zip(row_a, row_b, strict=True):
                assert cell_view(x) == cell_view(y), x.coordinate
        assert {t.displayName: t.ref for t in a.tables.values()} == {
            t.displayName: t.ref for t in b.tables.values()
        }
    assert dict(ours.defined_names.items()).keys() == dict(theirs.defined_names.items()).keys()


def test_openpyxl_keeps_the_macros_when_it_opens_it(built: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(built["xlsm"], keep_vba=True)
    assert wb.vba_archive is not None
    assert "xl/vbaProject.bin" in wb.vba_archive.namelist()
    assert wb.code_name == "ThisWorkbook"
    wb.vba_archive.close()


def test_a_batch_run_keeps_the_button_and_the_macros(
    built: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "Rebalancing.xlsm"
    shutil.copyfile(built["xlsm"], copy)
    result = process_file(copy, output_dir=tmp_path / "out")
    assert result.ok, [str(p) for p in result.problems]
    assert result.losses == []
    package = parts(tmp_path / "out" / "Rebalancing.xlsm")
    assert package["xl/vbaProject.bin"] == parts(built["xlsm"])["xl/vbaProject.bin"]
    assert "macroEnabled.main+xml" in package["[Content_Types].xml"].decode()
    [button] = buttons(holdings_vml(package)[1])
    assert button["FmlaMacro"] == "[0]!SampleCall"


def test_the_command_makes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Portfolio.xlsm"
    assert cli_main(["new", str(path), "--macro"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"created {path}",
        f"created {path.with_suffix('.py')}",
    ]
    wb = openpyxl.load_workbook(path)
    assert wb[S.HOLDINGS].cell(1, 1).value == S.HoldingsHeader.TICKER


@pytest.mark.parametrize(
    "name",
    [
        "My Portfolio.xlsm",
        "2026.xlsm",
        "class.xlsm",
        "json.xlsm",
        "xlwings.xlsm",
        "rebalancer_xl.xlsm",
    ],
)
def test_names_the_button_could_not_import_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="workbook"):
        macro.build_macro_workbook(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_named_like_the_workbook_would_shadow_its_module(tmp_path: Path) -> None:
    (tmp_path / "Portfolio").mkdir()
    with pytest.raises(ValueError, match="folder"):
        macro.build_macro_workbook(tmp_path / "Portfolio.xlsm")


def test_someone_elses_python_file_is_not_overwritten(tmp_path: Path) -> None:
    mine = tmp_path / "Rebalancing.py"
    mine.write_text("print('my code')\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        macro.build_macro_workbook(tmp_path / "Rebalancing.xlsm")
    assert mine.read_text(encoding="utf-8") == "print('my code')\n"
    assert not (tmp_path / "Rebalancing.xlsm").exists()


def test_a_sheet_without_notes_gets_a_drawing_of_its_own(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Holdings"
    wb.active["A1"] = "Ticker"
    macro.set_code_names(wb)
    place = macro.ButtonPlace.at(wb.active, row=3, col=2)
    xlsm = tmp_path / "plain.xlsm"
    with macro.add_macro_button(wb, sheet="Holdings", place=place):
        save_workbook(wb, xlsm)
    name, vml = holdings_vml(parts(xlsm))
    assert name == "xl/drawings/vmlDrawing1.vml"  # a name openpyxl's keep_vba copies
    [button] = buttons(vml)
    assert button["Anchor"] == "1, 0, 2, 0, 3, 22, 3, 16"
    assert b'ObjectType="Note"' not in vml
    reopened = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert reopened["Holdings"]["A1"].value == "Ticker"
    assert reopened.vba_archive is not None
    assert reopened.vba_archive.read("xl/vbaProject.bin") == macro.vba_project()
    reopened.vba_archive.close()


def test_a_workbook_gets_one_vba_project_and_one_button_drawing() -> None:
    wb = Workbook()
    wb.active.title = "Holdings"
    place = macro.ButtonPlace.at(wb.active, row=3, col=2)
    with (
        macro.add_macro_button(wb, sheet="Holdings", place=place),
        pytest.raises(ValueError, match="already holds a VBA project"),
    ):
        macro.add_macro_button(wb, sheet="Holdings", place=place)


def test_the_button_drawing_holds_the_notes_once(built: dict[str, Path]) -> None:
    """openpyxl adds the notes to the button's drawing without a second shape layout."""
    _, vml = holdings_vml(parts(built["xlsm"]))
    root = ET.fromstring(vml)
    office = "urn:schemas-microsoft-com:office:office"
    assert len(root.findall(f"{{{office}}}shapelayout")) == 1
    assert len(root.findall("v:shapetype[@id='_x0000_t202']", VML_NS)) == 1
    ids = [shape.get("id") for shape in root.findall("v:shape", VML_NS)]
    assert len(ids) == len(set(ids)) == len(S.HOLDINGS_COLUMNS) + 1


def test_the_anchor_follows_column_widths_and_row_heights() -> None:
    wb = Workbook()
    ws = wb.active
    ws.column_dimensions["B"].width = 13  # 96 px
    ws.column_dimensions["C"].width = 13
    ws.row_dimensions[3].height = 30  # 40 px
    place = macro.ButtonPlace.at(ws, row=3, col=2, width=150, height=36)
    assert place.anchor == (1, 0, 2, 0, 2, 54, 2, 36)
    assert (place.left_pt, place.top_pt, place.width_pt, place.height_pt) == (
        64 * 0.75,
        20 * 0.75 * 2,
        112.5,
        27.0,
    )


# --- LibreOffice -----------------------------------------------------------------------------------


def without_button(xlsm: Path, out: Path) -> Path:
    """The same package with the button's shape taken out of the Holdings drawing."""
    package = parts(xlsm)
    name, vml = holdings_vml(package)
    text = vml.decode()
    shape = re.compile(
        r"<(\w+):shape [^>]*id=\"" + macro.BUTTON_SHAPE_ID + r"\".*?</\1:shape>", re.S
    )
    stripped, count = shape.subn("", text)
    assert count == 1
    package[name] = stripped.encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in package.items():
            z.writestr(part, data)
    return out


def only_holdings(xlsm: Path, out: Path) -> Path:
    """The same package with every sheet but Holdings hidden, so that a PDF of it
    holds just Holdings (LibreOffice leaves hidden sheets out)."""
    package = parts(xlsm)
    book = package["xl/workbook.xml"].decode()
    book, hidden = re.subn(
        r'<sheet (?![^>]*name="Holdings")([^>]*?)state="visible"', r'<sheet \1state="hidden"', book
    )
    assert hidden == len(S.SHEET_ORDER) - 1
    package["xl/workbook.xml"] = re.sub(
        r'activeTab="\d+"', f'activeTab="{list(S.SHEET_ORDER).index(S.HOLDINGS)}"', book
    ).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in package.items():
            z.writestr(part, data)
    return out


def render_holdings(xlsm: Path, folder: Path, *, dpi: int = 100) -> np.ndarray:
    """The first printed page of Holdings (LibreOffice → PDF → pdftoppm), in grey.

    The template prints Holdings landscape, fitted to the page width, so both renders
    get the same page and scale: pixels can only differ where the drawings differ.
    """
    exe = require_soffice()
    require_pdftoppm()
    folder.mkdir(parents=True, exist_ok=True)
    book = only_holdings(xlsm, folder / xlsm.name)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run(
            [
                exe,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder / "pdf"),
                str(book),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    pdf = folder / "pdf" / f"{book.stem}.pdf"
    for kind in ("-png", "-gray"):  # the PNG is for a person looking at the test's output
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-f",
                "1",
                "-l",
                "1",
                kind,
                str(pdf),
                str(folder / "holdings"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    [pgm] = folder.glob("holdings*.pgm")
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+\d+\s(.*)", pgm.read_bytes(), re.S)
    assert match is not None
    width, height = int(match.group(1)), int(match.group(2))
    return np.frombuffer(match.group(3), np.uint8).reshape(height, width)


@pytest.mark.libreoffice
def test_libreoffice_opens_it(built: dict[str, Path], tmp_path: Path) -> None:
    converted = convert_many([built["xlsm"]], tmp_path / "lo")
    assert built["xlsm"].resolve() in converted
    wb = openpyxl.load_workbook(converted[built["xlsm"].resolve()])
    assert wb.sheetnames == list(S.SHEET_ORDER)
    assert wb[S.HOLDINGS]["A2"].value == "PLTR"


@pytest.mark.libreoffice
def test_libreoffice_draws_the_button_on_holdings(built: dict[str, Path], tmp_path: Path) -> None:
    drawn = render_holdings(built["xlsm"], tmp_path / "with")
    plain = render_holdings(
        without_button(built["xlsm"], tmp_path / "Rebalancing.xlsm"), tmp_path / "without"
    )
    assert drawn.shape == plain.shape
    # Anti-aliasing may shift a grey level here and there; a drawing changes far more.
    rows, cols = np.nonzero(np.abs(drawn.astype(int) - plain.astype(int)) > 16)
    assert len(rows) > 200, "the button is not drawn"
    # Only the button differs: one compact block, left (from column B), below the table,
    # whose last drawn row is the plain render's lowest ink.
    table_bottom = int(np.nonzero((plain < 250).any(axis=1))[0].max())
    width = drawn.shape[1]
    assert rows.min() > table_bottom
    assert cols.max() < width * 0.25
    assert (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) < drawn.size * 0.02

"""A run in place changes only what it must: every other zip member byte for byte.

For each book (XlsxWriter copies of the sample with one feature family each, all of them
together, `new --sample` and `new --sample --macro` output, an "Excel-style" book, and
LibreOffice re-saves where soffice is installed), `rebalancer-xl run BOOK` runs in a
separate process and the package before and after is compared:

* members other than the ones a run may change are present with the same decompressed
  bytes, CRC and (ideally) compressed bytes;
* in the sheets the run writes, every element but <sheetData>, <dimension>, <cols> is the
  same, and so are the root's attributes and namespace declarations;
* the parts a run may change only grow: no sheet, defined name, relationship, content type,
  style or table column is lost.

Sheet names are mapped to parts through xl/workbook.xml and its relationships.
"""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest

from tests import fidelity as F
from tests.conftest import CliRun, run_subprocess

#: Members a run may rewrite, whatever the book.
PACKAGE_PARTS = frozenset(
    {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "docProps/app.xml",
        "xl/styles.xml",
    }
)
CALC_CHAIN = "xl/calcChain.xml"  # may be removed, not changed
#: Elements of a written sheet that may change.
FREE_ELEMENTS = frozenset({"sheetData", "dimension", "cols"})
#: Sheets whose table parts may be rewritten (a table may be extended).
TABLE_SHEETS = ("Trades", "History")
LOG_SHEET = re.compile(r"Log \d{4}-\d{2}-\d{2}")
REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"

XW_BOOKS = (
    "xw_plain",
    *(f"xw_{name}" for name in F.FEATURES),
    "xw_all",
    "excel_style",
    "excel_style_plain",
)
LO_BOOKS = ("lo_new_sample", "lo_xw_all", "lo_excel_style", "lo_xw_notes")
BOOKS = ("new_sample", "new_macro", *XW_BOOKS, *LO_BOOKS)


# --- building the books, once per session ----------------------------------------------------


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every book that needs no LibreOffice, by name. Never write to them."""
    folder = tmp_path_factory.mktemp("lossless-books")
    src = F.sample_source(folder / "src")
    books: dict[str, Path] = {}
    for args, name, suffix in (
        (("--sample",), "new_sample", ".xlsx"),
        (("--sample", "--macro"), "new_macro", ".xlsm"),
    ):
        path = folder / f"{name}{suffix}"
        made = run_subprocess("new", *args, path)
        assert made.code == 0, made.err
        books[name] = path
    books["xw_plain"] = F.build(folder / "xw_plain.xlsx", src)
    for feature in F.FEATURES:
        books[f"xw_{feature}"] = F.build(folder / f"xw_{feature}.xlsx", src, [feature])
    books["xw_all"] = F.everything(folder / "xw_all.xlsx", src)
    books["excel_style"] = F.excel_style(books["xw_all"], folder / "excel_style.xlsx")
    books["excel_style_plain"] = F.excel_style(books["xw_plain"], folder / "excel_style_plain.xlsx")
    return books


@pytest.fixture(scope="session")
def lo_library(
    library: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """LibreOffice re-saves of a few books (one soffice start); skips without soffice."""
    sources = {name: library[name.removeprefix("lo_")] for name in LO_BOOKS}
    saved = F.libreoffice_resave(sources.values(), tmp_path_factory.mktemp("lossless-lo"))
    return {name: saved[src.resolve()] for name, src in sources.items() if src.resolve() in saved}


def book_path(name: str, request: pytest.FixtureRequest) -> Path:
    if name in LO_BOOKS:
        lo = request.getfixturevalue("lo_library")
        if name not in lo:
            pytest.fail(f"LibreOffice could not re-save {name}")
        return lo[name]
    return request.getfixturevalue("library")[name]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Ran:
    before: Path
    after: Path
    run: CliRun


@pytest.fixture(scope="session")
def runs() -> dict[str, Ran]:
    """Runs done so far this session, by book name."""
    return {}


@pytest.fixture
def ran(
    request: pytest.FixtureRequest, runs: dict[str, Ran], tmp_path_factory: pytest.TempPathFactory
) -> Ran:
    """The book named by the test's `book` parameter, copied and run in place (once)."""
    name = request.node.callspec.params["book"]
    if name not in runs:
        src = book_path(name, request)
        after = tmp_path_factory.mktemp(f"run-{name}") / src.name
        shutil.copyfile(src, after)
        runs[name] = Ran(src, after, run_subprocess("run", after))
    result = runs[name]
    if result.run.code != 0:
        pytest.fail(f"run exited {result.run.code}: {result.run.err.strip()[-600:]}")
    return result


# --- reading packages ------------------------------------------------------------------------


def members(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: i for i in z.infolist()}


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def raw_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's stored (compressed) bytes, read past its local file header."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        assert header[:4] == b"PK\x03\x04", info.filename
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        return f.read(info.compress_size)


def package(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    files = package(path)
    return F._sheet_parts(files)


def rels_of(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / f"{p.name}.rels")


def targets(path: Path, part: str, rel_type: str) -> set[str]:
    """Parts that `part` refers to with relationships of `rel_type`."""
    files = package(path)
    rels = files.get(rels_of(part))
    if rels is None:
        return set()
    out = set()
    base = PurePosixPath(part).parent
    for rel in ET.fromstring(rels):
        if rel.get("Type") == rel_type and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            full = PurePosixPath(target.lstrip("/")) if target.startswith("/") else base / target
            out.add(_normalise(str(full)))
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def may_change(before: Path, after: Path) -> tuple[set[str], set[str]]:
    """(members the run may rewrite, members it may add)."""
    old, new = sheet_parts(before), sheet_parts(after)
    changeable = set(PACKAGE_PARTS)
    for parts in (old, new):
        changeable |= {part for sheet, part in parts.items() if sheet in F.WRITTEN_SHEETS}
        changeable |= {part for sheet, part in parts.items() if LOG_SHEET.fullmatch(sheet)}
        changeable |= {rels_of(part) for sheet, part in parts.items() if LOG_SHEET.fullmatch(sheet)}
    for sheet in TABLE_SHEETS:
        if sheet in old:
            changeable |= targets(before, old[sheet], REL_TABLE)
    addable = {part for sheet, part in new.items() if LOG_SHEET.fullmatch(sheet)}
    addable |= {rels_of(part) for part in addable}
    return changeable, addable


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def root_and_children(xml: bytes) -> tuple[dict[str, str], dict[str, str], list[tuple[str, bytes]]]:
    """(namespace declarations on the root, root attributes, [(tag, element bytes)])."""
    import io

    decls: dict[str, str] = {}
    for event, item in ET.iterparse(io.BytesIO(xml), events=("start-ns", "start")):
        if event == "start":
            break
        prefix, uri = item
        decls[prefix] = uri
    root = ET.fromstring(xml)
    children = [(local(child.tag), ET.tostring(child)) for child in root]
    return decls, dict(root.attrib), children


# --- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("book", BOOKS)
def test_books_are_well_formed(book, request):
    """The inputs themselves: every XML part parses and openpyxl can open the book."""
    import openpyxl

    path = book_path(book, request)
    for name, data in package(path).items():
        if name.endswith((".xml", ".rels", ".vml")):
            try:
                ET.fromstring(data)
            except ET.ParseError as error:
                pytest.fail(f"{name}: {error}")
    openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm").close()


@pytest.mark.parametrize("book", BOOKS)
def test_run_exits_0(book, ran):
    assert ran.run.code == 0


@pytest.mark.parametrize("book", BOOKS)
def test_other_members_are_byte_identical(book, ran):
    problems = member_problems(ran.before, ran.after)
    assert not problems, "\n".join(problems)


def member_problems(before: Path, after: Path) -> list[str]:
    """Members that should be untouched but are missing, changed or new."""
    old, new = members(before), members(after)
    changeable, addable = may_change(before, after)
    problems = []
    for name, info in old.items():
        if name in changeable:
            continue
        if name not in new:
            if name != CALC_CHAIN:
                problems.append(f"{name}: missing")
            continue
        if read(before, name) != read(after, name):
            problems.append(f"{name}: content changed")
        elif info.CRC != new[name].CRC:
            problems.append(f"{name}: CRC changed")
    for name in new.keys() - old.keys() - addable:
        problems.append(f"{name}: added")
    return problems


@pytest.mark.parametrize("book", BOOKS)
def test_other_members_keep_their_compressed_bytes(book, ran):
    """Ideally untouched members are copied as stored, not recompressed."""
    old, new = members(ran.before), members(ran.after)
    changeable, _ = may_change(ran.before, ran.after)
    problems = []
    for name, info in old.items():
        if name in changeable or name not in new:
            continue
        if info.compress_type != new[name].compress_type:
            problems.append(
                f"{name}: compression {info.compress_type} -> {new[name].compress_type}"
            )
        elif raw_member(ran.before, info) != raw_member(ran.after, new[name]):
            problems.append(
                f"{name}: recompressed ({info.compress_size} -> {new[name].compress_size} bytes)"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("book", BOOKS)
def test_written_sheets_keep_every_other_element(book, ran):
    problems = element_problems(ran.before, ran.after)
    assert not problems, "\n".join(problems)


def element_problems(before: Path, after: Path) -> list[str]:
    """Elements other than sheetData/dimension/cols changed in the written sheets."""
    old, new = sheet_parts(before), sheet_parts(after)
    problems = []
    for sheet in F.WRITTEN_SHEETS:
        if sheet not in old:
            continue
        if sheet not in new:
            problems.append(f"{sheet}: sheet gone")
            continue
        part = f"{sheet} ({new[sheet]})"
        decls0, attrs0, kids0 = root_and_children(read(before, old[sheet]))
        decls1, attrs1, kids1 = root_and_children(read(after, new[sheet]))
        if missing := {p: u for p, u in decls0.items() if decls1.get(p) != u}:
            problems.append(f"{part}: namespace declarations lost: {sorted(missing)}")
        if attrs0 != attrs1:
            problems.append(f"{part}: root attributes {attrs0} -> {attrs1}")
        kept0 = [k for k in kids0 if k[0] not in FREE_ELEMENTS]
        kept1 = [k for k in kids1 if k[0] not in FREE_ELEMENTS]
        if [t for t, _ in kept0] != [t for t, _ in kept1]:
            problems.append(f"{part}: elements {[t for t, _ in kept0]} -> {[t for t, _ in kept1]}")
        else:
            problems += [
                f"{part}: <{t}> changed"
                for (t, a), (_, b) in zip(kept0, kept1, strict=True)
                if a != b
            ]
    return problems


def _keys(xml: bytes, tag: str, *attrs: str) -> list[tuple[str | None, ...]]:
    root = ET.fromstring(xml)
    return [tuple(e.get(a) for a in attrs) for e in root.iter() if local(e.tag) == tag]


@pytest.mark.parametrize("book", BOOKS)
def test_changed_package_parts_lose_nothing(book, ran):
    """workbook.xml, its rels, content types and styles may grow, never lose an entry."""
    problems = []

    def kept(part: str, tag: str, *attrs: str, ignore: re.Pattern[str] | None = None) -> None:
        before = _keys(read(ran.before, part), tag, *attrs)
        names = members(ran.after)
        after = set(_keys(read(ran.after, part), tag, *attrs)) if part in names else set()
        for key in before:
            if ignore is not None and any(ignore.search(str(v)) for v in key):
                continue
            if key not in after:
                problems.append(f"{part}: <{tag}> {key} lost")

    kept("xl/workbook.xml", "sheet", "name", "sheetId", "state", ignore=LOG_SHEET)
    kept("xl/workbook.xml", "definedName", "name", "localSheetId", "hidden")
    kept("xl/workbook.xml", "ext", "uri")
    kept("xl/workbook.xml", "workbookPr", "date1904", "codeName")
    kept(
        "xl/_rels/workbook.xml.rels",
        "Relationship",
        "Type",
        "Target",
        ignore=re.compile("calcChain"),
    )
    kept("[Content_Types].xml", "Default", "Extension", "ContentType")
    kept(
        "[Content_Types].xml", "Override", "PartName", "ContentType", ignore=re.compile("calcChain")
    )
    kept("xl/styles.xml", "numFmt", "numFmtId", "formatCode")
    kept("xl/styles.xml", "ext", "uri")
    kept("xl/styles.xml", "cellStyle", "name", "builtinId")

    # Existing cell formats are referenced by index from every sheet: append only.
    def xfs(path: Path) -> list[bytes]:
        root = ET.fromstring(read(path, "xl/styles.xml"))
        block = next((e for e in root if local(e.tag) == "cellXfs"), None)
        return [] if block is None else [ET.tostring(x) for x in block]

    xfs0 = xfs(ran.before)
    if xfs(ran.after)[: len(xfs0)] != xfs0:
        problems.append("xl/styles.xml: existing <cellXfs> entries changed or reordered")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("book", BOOKS)
def test_tables_keep_their_definition(book, ran):
    """Trades/History tables may be extended (ref), nothing else about them changes."""
    old = sheet_parts(ran.before)
    names = members(ran.after)
    problems = []
    for sheet in TABLE_SHEETS:
        for part in sorted(targets(ran.before, old.get(sheet, ""), REL_TABLE)):
            if part not in names:
                problems.append(f"{part}: missing")
                continue
            t0 = ET.fromstring(read(ran.before, part))
            t1 = ET.fromstring(read(ran.after, part))
            a0 = {k: v for k, v in t0.attrib.items() if k != "ref"}
            a1 = {k: v for k, v in t1.attrib.items() if k != "ref"}
            if a0 != a1:
                problems.append(f"{part}: attributes {a0} -> {a1}")
            c0 = [(local(e.tag), e.get("name")) for e in t0.iter() if local(e.tag) == "tableColumn"]
            c1 = [(local(e.tag), e.get("name")) for e in t1.iter() if local(e.tag) == "tableColumn"]
            if c0 != c1:
                problems.append(f"{part}: columns {c0} -> {c1}")
            s0 = [ET.tostring(e) for e in t0 if local(e.tag) == "tableStyleInfo"]
            s1 = [ET.tostring(e) for e in t1 if local(e.tag) == "tableStyleInfo"]
            if s0 != s1:
                problems.append(f"{part}: tableStyleInfo changed")
    assert not problems, "\n".join(problems)


#: Holdings formula columns whose cached values an XlsxWriter/Excel-style book carries.
FORMULA_COLUMNS = ("Current Value", "% of Portfolio", "Drift")


@pytest.mark.parametrize("book", XW_BOOKS)
def test_pandas_still_reads_formula_results(book, ran):
    before = pd.read_excel(ran.before, sheet_name="Holdings")
    after = pd.read_excel(ran.after, sheet_name="Holdings")
    for column in FORMULA_COLUMNS:
        values = pd.to_numeric(after[column], errors="coerce")
        assert values.notna().any(), f"{column}: no numbers after the run"
        assert (
            values.dropna().size == pd.to_numeric(before[column], errors="coerce").dropna().size
        ), column
        pd.testing.assert_series_equal(
            values.dropna().reset_index(drop=True),
            pd.to_numeric(before[column], errors="coerce").dropna().reset_index(drop=True),
            check_names=False,
            check_dtype=False,
        )


@pytest.mark.libreoffice
def test_libreoffice_opens_every_output(request, runs, tmp_path):
    """Every book after its run opens (and saves) in LibreOffice without complaint."""
    from tests.conftest import convert_many
    from tests.lo import records, require_soffice

    require_soffice()
    done = {}
    for name in BOOKS:
        if name not in runs:
            src = book_path(name, request)
            after = tmp_path / "in" / name / src.name
            after.parent.mkdir(parents=True)
            shutil.copyfile(src, after)
            runs[name] = Ran(src, after, run_subprocess("run", after))
        if runs[name].run.code == 0:
            done[name] = runs[name].after
    complaints: list[str] = []
    renamed = {}
    for name, path in done.items():  # output names come from stems: make them unique
        renamed[name] = shutil.copyfile(path, tmp_path / f"{name}{path.suffix}")
    converted = convert_many(renamed.values(), tmp_path / "lo", complaints)
    failed = sorted(n for n, p in renamed.items() if Path(p).resolve() not in converted)
    assert not failed, f"LibreOffice could not open: {failed}"
    assert not complaints, complaints
    for name, path in renamed.items():
        tickers = [r["Ticker"] for r in records(converted[Path(path).resolve()], "Holdings")]
        assert "PLTR" in tickers, name
    not_run = sorted(set(BOOKS) - done.keys())
    assert not not_run, f"run failed, so not checked in LibreOffice: {not_run}"


# --- the checks catch what they are for --------------------------------------------------------


def _rewrite(
    src: Path, dst: Path, change: dict[str, bytes | None], level: int | None = None
) -> Path:
    """A copy of `src` with members replaced (None: removed), optionally recompressed."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            data = change.get(info.filename, z.read(info.filename))
            if data is not None:
                out.writestr(info, data, compresslevel=level)
    return dst


def test_the_checks_catch_losses(library, tmp_path):
    """Tamper with a book by hand: each kind of loss is reported by part name."""
    before = library["xw_all"]
    parts = sheet_parts(before)
    holdings = parts["Holdings"]
    xml = read(before, holdings)
    comment = next(n for n in members(before) if n.startswith("xl/comments"))
    dropped = re.sub(rb"<conditionalFormatting .*?</conditionalFormatting>", b"", xml, count=1)
    after = _rewrite(
        before,
        tmp_path / "a.xlsx",
        {comment: None, parts["Lots"]: read(before, parts["Lots"]) + b" ", holdings: dropped},
    )
    found = member_problems(before, after)
    assert f"{comment}: missing" in found
    assert f"{parts['Lots']}: content changed" in found
    assert any(
        "<conditionalFormatting> changed" in p or "elements" in p
        for p in element_problems(before, after)
    )
    # rows and columns are free to change
    free = re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:ZZ99"/>', xml)
    assert element_problems(before, _rewrite(before, tmp_path / "b.xlsx", {holdings: free})) == []
    added = _rewrite(before, tmp_path / "c.xlsx", {})
    with zipfile.ZipFile(added, "a") as z:
        z.writestr("xl/media/extra.png", F.png())
    assert member_problems(before, added) == ["xl/media/extra.png: added"]

"""Shared fixtures for the workbook tests: real workbooks on disk and the CLI run in-process.

The sample workbook is built once per session and copied for each test that changes it.
Locations in expected problems are looked up in that master by header text and ticker
(`at`), the way a person finds a cell, so the tests say "ALAB's Shares cell" rather than
a letter that moves whenever the template's column order does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

from rebalancer_xl.adapters.template import build_workbook
from rebalancer_xl.cli import main
from rebalancer_xl.workbook import sample as sample_data

AS_OF = sample_data.AS_OF  # the sample's As-of Date setting
SAMPLE_TICKERS = tuple(str(row["Ticker"]) for row in sample_data.HOLDINGS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every LibreOffice check is also `slow`, so `pytest -m "not slow"` skips them all.

    Marked here once rather than twice on each test: a LibreOffice test is slow because it
    starts soffice, and a new one cannot forget the second mark.
    """
    for item in items:
        if item.get_closest_marker("libreoffice") is not None:
            item.add_marker(pytest.mark.slow)


# --- files ---------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    """Names in `folder`, hidden ones too (a leftover temporary file would show here)."""
    return {p.name for p in Path(folder).iterdir()}


@pytest.fixture(scope="session")
def sample_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workbook as `rebalancer-xl new --sample` makes it. Never write to it."""
    path = tmp_path_factory.mktemp("master") / "sample.xlsx"
    build_workbook(path, sample=True)
    return path


@pytest.fixture(scope="session")
def blank_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The empty template. Never write to it."""
    path = tmp_path_factory.mktemp("master") / "blank.xlsx"
    build_workbook(path, sample=False)
    return path


@pytest.fixture
def sample(sample_master: Path, tmp_path: Path) -> Path:
    """A private copy of the sample workbook, free to change."""
    path = tmp_path / "book.xlsx"
    shutil.copyfile(sample_master, path)
    return path


def copy_as(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def edit(path: Path, change: Callable[[Workbook], object]) -> Path:
    """Load `path` with openpyxl, apply `change`, save it back."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def set_cell(
    sheet: str, ref: str, value: object, data_type: str | None = None
) -> Callable[[Workbook], None]:
    """An `edit` change writing one cell (a data_type of 'e' makes an Excel error value)."""

    def change(wb: Workbook) -> None:
        cell = wb[sheet][ref]
        cell.value = value
        if data_type is not None:
            cell.data_type = data_type

    return change


# --- where things are in the sample ------------------------------------------------------


class Layout:
    """Cells of the sample workbook, found by header text (read once, with openpyxl)."""

    def __init__(self, path: Path) -> None:
        wb = openpyxl.load_workbook(path)
        self._rows = {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}

    def _table(self, sheet: str, key: str) -> tuple[int, dict[str, int], list[tuple[Any, ...]]]:
        rows = self._rows[sheet]
        for r, row in enumerate(rows, start=1):
            if key in row:
                cols = {str(v): c for c, v in enumerate(row, start=1) if isinstance(v, str)}
                return r, cols, rows
        raise LookupError(f"no {key!r} header on {sheet}")

    def cell(self, sheet: str, header: str, key: str, key_header: str = "Ticker") -> str:
        """'Holdings!D3' for cell('Holdings', 'Shares', 'ALAB'): the first row of `key`."""
        top, cols, rows = self._table(sheet, key_header)
        for r in range(top + 1, len(rows) + 1):
            if rows[r - 1][cols[key_header] - 1] == key:
                return f"{sheet}!{get_column_letter(cols[header])}{r}"
        raise LookupError(f"no {key!r} row on {sheet}")

    def row_of(self, sheet: str, key: str, key_header: str = "Ticker") -> int:
        ref = self.cell(sheet, key_header, key, key_header)
        return int("".join(ch for ch in ref.split("!")[1] if ch.isdigit()))

    def last_row(self, sheet: str, key: str = "Ticker") -> int:
        """The last row with a value under the `key` header."""
        top, cols, rows = self._table(sheet, key)
        return max(r for r in range(top + 1, len(rows) + 1) if rows[r - 1][cols[key] - 1])

    def setting(self, name: str, header: str = "Value") -> str:
        return self.cell("Settings", header, name, key_header="Setting")

    def header_row(self, sheet: str, key: str = "Ticker") -> str:
        top, _, _ = self._table(sheet, key)
        return f"{sheet}!{top}:{top}"

    def column(self, sheet: str, header: str, key: str = "Ticker") -> str:
        """The whole body of a column, 'Holdings!G2:G8'."""
        top, cols, _ = self._table(sheet, key)
        letter = get_column_letter(cols[header])
        return f"{sheet}!{letter}{top + 1}:{letter}{self.last_row(sheet, key)}"

    def letter(self, sheet: str, header: str, key: str = "Ticker") -> str:
        _, cols, _ = self._table(sheet, key)
        return get_column_letter(cols[header])


@pytest.fixture(scope="session")
def at(sample_master: Path) -> Layout:
    return Layout(sample_master)


# --- the command, in-process ---------------------------------------------------------------


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.out)  # type: ignore[no-any-return]

    @property
    def file(self) -> dict[str, Any]:
        """The only file's result of a one-file `--json` run."""
        [f] = self.doc["files"]
        return f  # type: ignore[no-any-return]


def located(result: dict[str, Any]) -> list[tuple[str, str]]:
    """A file result's problems as (code, 'Sheet!Cell'); a whole sheet is 'Sheet', the
    whole file ''."""
    out = []
    for p in result["problems"]:
        where = f"{p['sheet']}!{p['cell']}" if p["cell"] else p["sheet"]
        out.append((p["code"], where))
    return out


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run `rebalancer-xl ARGS` in this process; usage errors come back as exit code 2."""

    def run(*args: object) -> CliRun:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as stop:  # argparse: --help and usage errors
            code = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


def run_json(*args: object) -> tuple[int, dict[str, Any]]:
    """`rebalancer-xl ARGS --json` in this process, for fixtures wider than one test (which
    cannot use capsys): the exit code and the document."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*map(str, args), "--json"])
    return code, json.loads(out.getvalue())


@dataclass(frozen=True)
class Processed:
    path: Path
    result: dict[str, Any]  # the file's entry in the --json document


@pytest.fixture(scope="session")
def processed(sample_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Processed:
    """The sample after one run in place. Never write to it."""
    path = copy_as(sample_master, tmp_path_factory.mktemp("processed") / "processed.xlsx")
    code, doc = run_json("run", path)
    assert code == 0, doc
    return Processed(path, doc["files"][0])


def run_subprocess(*args: object, timeout: float = 120) -> CliRun:
    """Run the command as a separate process, as a script or a shell would."""
    proc = subprocess.run(
        [sys.executable, "-m", "rebalancer_xl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def sheet_part(z: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding `sheet`, found through workbook.xml and its relationships."""
    import re

    book = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', book)
    assert rid is not None, sheet
    for rel in re.findall(r"<Relationship [^>]*/>", rels):
        if f'Id="{rid.group(1)}"' in rel:
            target = re.search(r'Target="([^"]+)"', rel)
            assert target is not None
            name = target.group(1).lstrip("/")
            return name if name.startswith("xl/") else f"xl/{name}"
    raise LookupError(sheet)


# --- building workbooks with XlsxWriter ------------------------------------------------------


def xlsxwriter_copy(
    src: Path,
    dst: Path,
    extra: Callable[[Any, dict[str, Any]], None] | None = None,
    vba: bytes | None = None,
) -> Path:
    """The values of `src` (formulas left out: the run never reads them) in a workbook
    written by XlsxWriter, which can add what openpyxl cannot keep (`extra`)."""
    import io

    import xlsxwriter

    wb = openpyxl.load_workbook(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(dst))
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        sheet = book.add_worksheet(ws.title)
        sheets[ws.title] = sheet
        for row in ws.iter_rows():
            for c in row:
                if c.value is None or c.data_type == "f":
                    continue
                if isinstance(c.value, datetime | date):
                    sheet.write_datetime(c.row - 1, c.column - 1, c.value, day)
                else:
                    sheet.write(c.row - 1, c.column - 1, c.value)
    if vba is not None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
    if extra is not None:
        extra(book, sheets)
    book.close()
    return dst


@pytest.fixture(scope="session")
def vba_project() -> bytes:
    """xl/vbaProject.bin of the quickstart .xlsm that ships with xlwings."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        pytest.skip("xlwings is not installed")
    book = Path(spec.origin).parent / "quickstart_standalone.xlsm"
    if not book.exists():
        pytest.skip("xlwings ships no quickstart_standalone.xlsm")
    with zipfile.ZipFile(book) as archive:
        if "xl/vbaProject.bin" not in archive.namelist():
            pytest.skip("quickstart_standalone.xlsm holds no vbaProject.bin")
        return archive.read("xl/vbaProject.bin")


# --- LibreOffice -----------------------------------------------------------------------------


def convert_many(
    paths: Iterable[Path], outdir: Path, complaints: list[str] | None = None
) -> dict[Path, Path]:
    """Open every file in one headless LibreOffice, recalculate, save each as .xlsx.

    One soffice start for many files: starting it is most of the cost of a conversion.
    Like `tests.lo.recalculate`, it uses a private profile that always recalculates.
    Returns {input: converted}; a file LibreOffice could not open has no entry.
    `complaints`, if given, receives soffice's error lines (it says "Error: ..." on
    stderr about a file it cannot load; its warning about Java is no complaint).
    """
    from tests.lo import _ALWAYS_RECALC, TIMEOUT_SECONDS, require_soffice

    exe = require_soffice()
    paths = [Path(p).resolve() for p in paths]
    stems = [p.stem for p in paths]
    assert len(set(stems)) == len(stems), "output names come from stems; make them unique"
    outdir = Path(outdir).resolve()
    assert all(p.parent != outdir for p in paths)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_ALWAYS_RECALC, encoding="utf-8")
        command = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(outdir),
            *map(str, paths),
        ]
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=TIMEOUT_SECONDS * 2)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    if complaints is not None:
        complaints.extend(line for line in err.splitlines() if line.startswith("Error"))
    done = {p: outdir / f"{p.stem}.xlsx" for p in paths}
    return {src: out for src, out in done.items() if out.exists()}


@pytest.fixture(scope="session")
def written_books(
    tmp_path_factory: pytest.TempPathFactory,
    sample_master: Path,
    blank_master: Path,
    processed: Processed,
) -> dict[str, Path]:
    """Every kind of workbook we write, by name: the two templates, the sample after one
    run, and after a second run on the same date."""
    folder = tmp_path_factory.mktemp("written")
    books = {
        "blank": copy_as(blank_master, folder / "blank.xlsx"),
        "sample": copy_as(sample_master, folder / "sample.xlsx"),
        "processed": copy_as(processed.path, folder / "processed.xlsx"),
        "twice": copy_as(processed.path, folder / "twice.xlsx"),
    }
    code, _ = run_json("run", books["twice"])
    assert code == 0
    return books


@pytest.fixture(scope="session")
def libreoffice_run(
    tmp_path_factory: pytest.TempPathFactory, written_books: dict[str, Path]
) -> tuple[dict[str, Path], list[str]]:
    """`written_books` opened, recalculated and saved by LibreOffice, by the same names
    (one soffice start for all), and what soffice complained about on the way. A name
    is missing if LibreOffice could not open it."""
    complaints: list[str] = []
    converted = convert_many(written_books.values(), tmp_path_factory.mktemp("lo"), complaints)
    return (
        {
            name: converted[path.resolve()]
            for name, path in written_books.items()
            if path.resolve() in converted
        },
        complaints,
    )


@pytest.fixture(scope="session")
def libreoffice(libreoffice_run: tuple[dict[str, Path], list[str]]) -> dict[str, Path]:
    return libreoffice_run[0]


def big_book(path: Path, rows: int) -> Path:
    """A real workbook with `rows` holdings: seconds to process, long enough to be killed."""
    from rebalancer_xl.adapters.template import build_workbook
    from rebalancer_xl.workbook import sample as sample_data
    from rebalancer_xl.workbook.schema import HoldingsHeader as H

    table = tuple(
        {
            H.TICKER: f"T{i:05d}",
            H.PURCHASE_PRICE: 10.0,
            H.CURRENT_PRICE: 10.0 + i % 7,
            H.SHARES: 100.0 + i % 13,
            H.TARGET: 1 / rows,
            H.SCORE: 70.0,
            H.PREVIOUS_SCORE: 70.0,
            H.EXIT_TRIGGERS: 0,
            H.COMPANY_EVENT: "No",
            H.LOCK: "No",
        }
        for i in range(rows)
    )
    saved = {name: getattr(sample_data, name) for name in ("HOLDINGS", "LOTS", "PERFORMANCE")}
    try:
        sample_data.HOLDINGS, sample_data.LOTS, sample_data.PERFORMANCE = table, (), ()
        build_workbook(path, sample=True)
    finally:
        for name, value in saved.items():
            setattr(sample_data, name, value)
    return path

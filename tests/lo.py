"""LibreOffice helpers for tests: recalculate a workbook headlessly and read its values.

openpyxl writes formulas without results, so checking a formula means asking a real
spreadsheet to compute it. `recalculate` converts a file with `soffice`, which loads,
recalculates and saves it; `read_values` reads the stored results with python-calamine.

Tests that need LibreOffice call `require_soffice()` (or use the `soffice` fixture): it
skips when `soffice` is missing, except on CI (`CI=true`), where a missing LibreOffice
must fail loudly instead of quietly skipping the checks.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

TIMEOUT_SECONDS = 120

# Always recalculate on load: by default LibreOffice may trust results cached in the
# file, which would test the writer of the cache rather than the formulas.
_ALWAYS_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
</oor:items>
"""


def soffice_path() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice path; skip the test without it, or fail when CI is "true"."""
    return _require(soffice_path(), "LibreOffice (soffice)")


def require_pdftoppm() -> str:
    """The pdftoppm path (poppler-utils), on the same terms as `require_soffice`."""
    return _require(shutil.which("pdftoppm"), "pdftoppm (poppler-utils)")


def _require(path: str | None, what: str) -> str:
    if path is None:
        message = f"{what} is not on PATH"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}, and CI=true requires it")
        pytest.skip(message)
    return path


@pytest.fixture
def soffice() -> str:
    """Fixture form of `require_soffice`."""
    return require_soffice()


def recalculate(path: Path, outdir: Path) -> Path:
    """Open `path` in headless LibreOffice, recalculate, save as .xlsx in `outdir`.

    Each call gets a private user profile, so parallel runs (pytest-xdist) do not fight
    over one profile lock.
    """
    exe = require_soffice()
    path, outdir = Path(path).resolve(), Path(outdir).resolve()
    if outdir == path.parent:
        raise ValueError("outdir must differ from the input's folder, or the input is overwritten")
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
            str(path),
        ]
        # A new session lets a timeout kill soffice and any helper it started.
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    result = outdir / (path.stem + ".xlsx")
    if proc.returncode != 0 or not result.exists():
        raise RuntimeError(
            f"soffice failed to convert {path} (exit {proc.returncode}):\n{out}\n{err}"
        )
    return result


def read_values(path: Path, sheet: str) -> list[list[object]]:
    """Every cell value of `sheet`, row by row, from A1 (empty cells are '')."""
    book = CalamineWorkbook.from_path(str(path))
    rows: list[list[object]] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return rows


def records(path: Path, sheet: str) -> list[dict[str, object]]:
    """The rows under the header row of `sheet` as {header: value}, skipping empty rows."""
    rows = read_values(path, sheet)
    header = [str(h) for h in rows[0]]
    return [
        dict(zip(header, row, strict=False))
        for row in rows[1:]
        if any(v not in ("", None) for v in row)
    ]

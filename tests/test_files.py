"""Files are replaced atomically, with the mode a person expects, through symbolic links.

Every writer (`run` in place or into --output-dir, `new`, `new --macro`) goes through
`rebalancer_xl.adapters.files.atomic_write`. A new file gets 0o666 less the umask like any new
file; a replaced file keeps its mode; a link is followed and stays a link; and no
temporary file is left behind, whether the write succeeds, fails or is refused.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rebalancer_xl.adapters import package
from rebalancer_xl.adapters.files import atomic_write
from tests.conftest import AS_OF, copy_as, listing, located, sha256, xlsxwriter_copy

LOG = f"Log {AS_OF.isoformat()}"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and symbolic links")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o027], ids=["umask022", "umask027"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under this umask; yields the mode a new file should get."""
    old = os.umask(request.param)
    try:
        yield 0o666 & ~request.param
    finally:
        os.umask(old)


# --- the helper ------------------------------------------------------------------------------


@posix_only
def test_a_new_file_gets_the_default_mode(tmp_path: Path, umask: int) -> None:
    dest = tmp_path / "new" / "book.xlsx"  # the folder is made too
    with atomic_write(dest) as pending:
        pending.path.write_bytes(b"data")
    assert dest.read_bytes() == b"data"
    assert mode(dest) == umask
    assert listing(dest.parent) == {"book.xlsx"}


@posix_only
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    dest = tmp_path / "book.xlsx"
    dest.write_bytes(b"old")
    dest.chmod(0o640)
    with atomic_write(dest) as pending:
        pending.path.write_bytes(b"new")
    assert (dest.read_bytes(), mode(dest)) == (b"new", 0o640)


@posix_only
def test_a_link_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "book.xlsx"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link" / "book.xlsx"
    link.parent.mkdir()
    link.symlink_to(Path("..") / "real" / "book.xlsx")
    with atomic_write(link) as pending:
        # Beside the real file, so the rename stays on its file system.
        assert pending.path.parent == real.parent.resolve()
        pending.path.write_bytes(b"new")
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("..") / "real" / "book.xlsx")
    assert real.read_bytes() == b"new"
    assert (listing(real.parent), listing(link.parent)) == ({"book.xlsx"}, {"book.xlsx"})


def test_a_cancelled_write_changes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "book.xlsx"
    dest.write_bytes(b"old")
    with atomic_write(dest) as pending:
        pending.path.write_bytes(b"new")
        pending.cancel()
    assert dest.read_bytes() == b"old"
    assert listing(tmp_path) == {"book.xlsx"}


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "book.xlsx"
    dest.write_bytes(b"old")

    def write_half() -> None:
        with atomic_write(dest) as pending:
            pending.path.write_bytes(b"half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_half()
    assert dest.read_bytes() == b"old"
    assert listing(tmp_path) == {"book.xlsx"}


def test_the_helper_imports_nothing_heavy() -> None:
    """The Excel button imports the package: this module must not slow that down."""
    code = (
        "import sys; import rebalancer_xl.adapters.files; print(','.join(sorted(m for m in "
        "sys.modules if m.split('.')[0] in ('openpyxl', 'pandas', 'xlwings', 'rich', "
        "'python_calamine'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- the writers ------------------------------------------------------------------------------


@posix_only
def test_a_processed_copy_gets_the_default_mode(
    cli: Any, sample: Path, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "out"
    run = cli("run", sample, "--output-dir", out, "--json")
    assert run.code == 0, run.err
    assert mode(out / sample.name) == umask
    assert listing(out) == {sample.name}


@posix_only
def test_a_run_in_place_keeps_the_mode(cli: Any, sample: Path) -> None:
    old = os.umask(0o022)
    try:
        sample.chmod(0o640)
        run = cli("run", sample, "--json")
    finally:
        os.umask(old)
    assert run.code == 0, run.err
    assert mode(sample) == 0o640
    assert listing(sample.parent) == {sample.name}


@posix_only
def test_new_workbooks_get_the_default_mode(cli: Any, tmp_path: Path, umask: int) -> None:
    book = tmp_path / "book.xlsx"
    assert cli("new", book).code == 0
    assert mode(book) == umask
    assert listing(tmp_path) == {"book.xlsx"}


@posix_only
def test_a_new_macro_workbook_gets_the_default_mode(
    cli: Any, tmp_path: Path, umask: int, vba_project: bytes
) -> None:
    book = tmp_path / "ModeCheckBook.xlsm"
    run = cli("new", book, "--macro")
    assert run.code == 0, run.err
    assert mode(book) == umask
    assert listing(tmp_path) == {"ModeCheckBook.xlsm", "ModeCheckBook.py"}


@posix_only
def test_a_run_in_place_through_a_link_updates_the_real_file(
    cli: Any, sample_master: Path, tmp_path: Path
) -> None:
    real = copy_as(sample_master, tmp_path / "real" / "book.xlsx")
    before = sha256(real)
    link = tmp_path / "link" / "book.xlsx"
    link.parent.mkdir()
    link.symlink_to(Path("..") / "real" / "book.xlsx")
    run = cli("run", link, "--json")
    assert run.code == 0, run.err
    assert link.is_symlink()
    assert link.resolve() == real.resolve()
    assert sha256(real) != before
    assert LOG in openpyxl.load_workbook(real).sheetnames
    assert (listing(real.parent), listing(link.parent)) == ({"book.xlsx"}, {"book.xlsx"})


def _textbox(book: Any, sheets: dict[str, Any]) -> None:
    sheets["Holdings"].insert_textbox("W2", "a note openpyxl cannot keep")


def test_the_save_check_still_refuses_in_place_and_leaves_no_temp_file(
    cli: Any, sample_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part the writer did not mean to change comes out changed: the verifier refuses."""
    path = xlsxwriter_copy(sample_master, tmp_path / "in" / "book.xlsx", extra=_textbox)
    before = sha256(path)
    real = package.Package.write

    def corrupting(self: package.Package, out: Any) -> package.Plan:
        plan = real(self, out)
        out.flush()
        with zipfile.ZipFile(out.name, "a") as zf:  # a second copy of an untouched part
            zf.writestr("docProps/core.xml", b"<changed/>")
        return plan

    monkeypatch.setattr(package.Package, "write", corrupting)
    run = cli("run", path, "--json")
    assert run.code == 1
    assert located(run.file) == [("would-lose-content", "")]
    assert sha256(path) == before
    assert listing(path.parent) == {"book.xlsx"}


def test_a_crash_while_saving_leaves_no_temp_file(
    cli: Any, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sha256(sample)

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(package, "verify", broken)
    run = cli("run", sample, "--json")
    assert run.code == 1
    assert located(run.file) == [("internal-error", "")]
    assert sha256(sample) == before
    assert listing(sample.parent) == {sample.name}

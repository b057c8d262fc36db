"""The package reader and writer under hostile and awkward input, end to end through `run`.

Each hostile file is refused with a located problem, in bounded time and memory, and the
file is left byte for byte as it was.
"""

from __future__ import annotations

import os
import resource
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rebalancer_xl.adapters import package
from tests.conftest import AS_OF, located, sha256


def _rezip(
    src: Path,
    dst: Path,
    extra: dict[str, bytes] | None = None,
    replace: dict[str, bytes] | None = None,
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A copy of `src` with members added or replaced."""
    replace = replace or {}
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", method) as b:
        for info in a.infolist():
            b.writestr(info.filename, replace.get(info.filename, a.read(info)))
        for name, data in (extra or {}).items():
            b.writestr(name, data)
    return dst


def _refused(cli: Any, path: Path, code: str) -> dict[str, Any]:
    before = sha256(path)
    run = cli("run", path, "--json")
    assert run.code == 1, run.out
    assert [c for c, _ in located(run.file)] == [code]
    assert sha256(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    return run.file  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_zip_bomb_is_refused_in_bounded_time_and_memory(
    cli: Any, sample: Path, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb" / "book.xlsx"
    bomb.parent.mkdir()
    # 1 GiB of zeros in the shared strings part: deflate squeezes it to about 1 MB.
    with zipfile.ZipFile(sample) as a, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist():
            b.writestr(info.filename, a.read(info))
        with b.open("xl/padding.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 24)
            for _ in range(64):
                f.write(chunk)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    problem = _refused(cli, bomb, "unsafe-package")
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200 * 1024  # KiB
    assert "zip bomb" in problem["problems"][0]["message"]


def test_xml_entities_are_never_expanded(cli: Any, sample: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(sample) as z:
        core = z.read("docProps/core.xml")
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
    evil += core.split(b"?>", 1)[-1]
    path = _rezip(sample, tmp_path / "evil.xlsx", replace={"docProps/core.xml": evil})
    sample.unlink()
    _refused(cli, path, "unsafe-package")


def test_a_member_name_that_climbs_out_is_refused(cli: Any, sample: Path, tmp_path: Path) -> None:
    path = _rezip(sample, tmp_path / "climb.xlsx", extra={"../../etc/evil.txt": b"x"})
    sample.unlink()
    _refused(cli, path, "unsafe-package")


def test_an_excel_lock_file_is_skipped_with_a_note(cli: Any, sample: Path) -> None:
    lock = sample.with_name("~$" + sample.name)
    lock.write_bytes(b"\x00" * 165)  # what Excel leaves beside an open workbook
    run = cli("run", sample, lock, "--json")
    assert run.code == 0, run.out
    assert [f["path"] for f in run.doc["files"]] == [str(sample)]
    assert "lock file" in run.err


def test_a_read_only_workbook_is_refused_before_any_work(cli: Any, sample: Path) -> None:
    if os.geteuid() == 0:  # root writes through any mode; so test what a user gets
        pytest.skip("root can write to a read-only file")
    sample.chmod(0o444)
    _refused(cli, sample, "read-only")


def test_output_dir_equal_to_the_input_folder_is_refused(cli: Any, sample: Path) -> None:
    before = sha256(sample)
    run = cli("run", sample, "--output-dir", sample.parent)
    assert run.code == 2
    assert "in place" in run.err
    assert sha256(sample) == before


def test_dates_are_written_in_a_1904_book_s_own_system(
    cli: Any, sample: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(sample) as z:
        wb = z.read("xl/workbook.xml")
    if b"<workbookPr" in wb:
        wb = wb.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1)
    else:
        wb = wb.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>', 1)
    path = _rezip(sample, tmp_path / "b1904.xlsx", replace={"xl/workbook.xml": wb})
    sample.unlink()
    run = cli("run", path, "--as-of", AS_OF.isoformat(), "--json")
    assert run.code == 0, run.out
    book = openpyxl.load_workbook(path)
    history = book["History"]
    dates = [row[0] for row in history.iter_rows(min_row=2, values_only=True) if row[0]]
    assert dates[-1].date() == AS_OF


def test_a_file_changed_during_the_run_is_not_replaced(
    cli: Any, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs at once: the one that finishes second sees the change and refuses."""
    real = package.Package.write

    def meanwhile(self: package.Package, out: Any) -> package.Plan:
        plan = real(self, out)
        os.utime(sample, ns=(1, 1))  # another program saved the workbook meanwhile
        return plan

    monkeypatch.setattr(package.Package, "write", meanwhile)
    before = sha256(sample)
    run = cli("run", sample, "--json")
    assert run.code == 1
    assert [c for c, _ in located(run.file)] == ["changed-while-running"]
    assert sha256(sample) == before


def test_untouched_members_are_copied_raw(sample: Path, tmp_path: Path) -> None:
    """A stored (uncompressed) member stays stored: bytes are copied, not re-deflated."""
    blob = os.urandom(1 << 20)
    path = _rezip(
        sample, tmp_path / "raw.xlsx", extra={"customXml/blob.bin": blob}, method=zipfile.ZIP_STORED
    )
    pkg = package.Package(path)
    pkg.apply([])
    out = tmp_path / "out.xlsx"
    with out.open("wb") as f:
        plan = pkg.write(f)
    pkg.close()
    assert package.verify(path, out, plan) == []
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(out) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for x, y in zip(a.infolist(), b.infolist(), strict=True):
            assert (x.CRC, x.compress_size, x.compress_type) == (
                y.CRC,
                y.compress_size,
                y.compress_type,
            )
        assert b.read("customXml/blob.bin") == blob


def test_written_values_read_back_through_openpyxl_and_calamine(processed: Any) -> None:
    from python_calamine import CalamineWorkbook

    path = processed.path
    wb = openpyxl.load_workbook(path)
    cal = CalamineWorkbook.from_path(str(path))
    holdings = wb["Holdings"]
    rows = cal.get_sheet_by_name("Holdings").to_python()
    header = rows[0]
    action = header.index("Action")
    for r, row in enumerate(rows[1:], start=2):
        assert holdings.cell(r, action + 1).value == (row[action] or None)


_TERM_MIDWAY = """
import os, signal, sys
from rebalancer_xl import cli
from rebalancer_xl.adapters import package

real = package.Package.write
times = int(sys.argv[2])

def write(self, out):
    plan = real(self, out)
    out.flush()
    for _ in range(times):  # the scheduler stops us with the temp file written
        os.kill(os.getpid(), signal.SIGTERM)
    return plan

package.Package.write = write
sys.exit(cli.main(["run", sys.argv[1]]))
"""


def _terminated_mid_write(sample: Path, times: int) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _TERM_MIDWAY, str(sample), str(times)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 128 + 15, done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in sample.parent.iterdir()) == [sample.name]
    return done.stderr


def test_sigterm_mid_write_finishes_the_workbook_whole(sample: Path) -> None:
    """A first SIGTERM lets the workbook in hand finish: it is replaced whole and named."""
    before = sha256(sample)
    err = _terminated_mid_write(sample, times=1)
    assert sha256(sample) != before
    assert f"written: {sample}" in err
    with zipfile.ZipFile(sample) as z:
        assert z.testzip() is None
    assert any(name.startswith("Log ") for name in openpyxl.load_workbook(sample).sheetnames)


def test_a_second_sigterm_mid_write_leaves_the_original(sample: Path) -> None:
    """Asked twice, the run stops at once: the original stays and no temporary file."""
    before = sha256(sample)
    err = _terminated_mid_write(sample, times=2)
    assert sha256(sample) == before
    assert "written:" not in err


@pytest.mark.parametrize(
    "prolog",
    [
        # A comment could hide a '<' from a quick look for the root element.
        b'<?xml version="1.0"?><!-- <a> -->' + b" " * 2000,
        # The check inflates a part's first 128 bytes first; the DOCTYPE stands past them.
        b'<?xml version="1.0"?>' + b" " * 300,
    ],
    ids=["behind-a-comment", "after-a-long-prolog"],
)
def test_a_doctype_past_the_first_bytes_is_still_refused(
    cli: Any, sample: Path, tmp_path: Path, prolog: bytes
) -> None:
    """The prolog check reads on until the root element starts, however far that is."""
    with zipfile.ZipFile(sample) as z:
        core = z.read("docProps/core.xml")
    evil = prolog + b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + core.split(b"?>", 1)[-1]
    path = _rezip(sample, tmp_path / "hidden.xlsx", replace={"docProps/core.xml": evil})
    sample.unlink()
    _refused(cli, path, "unsafe-package")


@pytest.mark.parametrize(
    ("part", "prolog"),
    [
        ("xl/styles.xml", b""),
        ("xl/workbook.xml", b"<!-- <a> -->"),
        ("xl/worksheets/sheet1.xml", b" " * 300),
    ],
)
def test_a_doctype_in_a_part_the_run_reads_is_refused(
    cli: Any, sample: Path, tmp_path: Path, part: str, prolog: bytes
) -> None:
    """The parts a run reads are checked from their bytes inflated whole at open (and
    kept for the reader), not from their heads: a DOCTYPE there is refused all the same."""
    with zipfile.ZipFile(sample) as z:
        data = z.read(part)
    evil = b'<?xml version="1.0"?>' + prolog + b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    evil += data.split(b"?>", 1)[-1]
    path = _rezip(sample, tmp_path / "evil.xlsx", replace={part: evil})
    sample.unlink()
    _refused(cli, path, "unsafe-package")


def test_the_parts_a_run_reads_are_inflated_once_at_open(sample: Path) -> None:
    """refuse_hostile keeps what it inflated whole for the reader, within its budget."""
    from rebalancer_xl.adapters import package as P

    kept: dict[str, bytes] = {}
    with zipfile.ZipFile(sample) as z:
        P.refuse_hostile(z, kept)
        assert "xl/workbook.xml" in kept
        assert "docProps/core.xml" not in kept
        assert all(kept[name] == z.read(name) for name in kept)
    assert sum(map(len, kept.values())) <= P._READ_NEXT_BYTES


def test_a_workbook_with_a_250_character_name_runs_in_place(cli: Any, sample: Path) -> None:
    """Its temporary file (name + tag + .tmp) must still fit the file system's 255 bytes."""
    long = sample.with_name("p" * 245 + ".xlsx")
    sample.rename(long)
    run = cli("run", long, "--json", "--as-of", AS_OF.isoformat())
    assert run.code == 0, run.out
    assert f"Log {AS_OF.isoformat()}" in openpyxl.load_workbook(long).sheetnames
    assert sorted(p.name for p in long.parent.iterdir()) == [long.name]


_RACE = """
import sys
from rebalancer_xl import cli
sys.exit(cli.main(["run", sys.argv[1], "--as-of", sys.argv[2], "--json"]))
"""


def test_two_runs_at_once_never_lose_a_result_silently(sample: Path) -> None:
    """Started together on one file with different dates: every run that reports success
    has its Log sheet in the final file; the other says why it wrote nothing."""
    import json
    import subprocess
    import sys

    for rounds in range(6):
        dates = [f"2027-0{rounds + 1}-0{k + 1}" for k in range(2)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _RACE, str(sample), d],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for d in dates
        ]
        outcomes = []
        for d, p in zip(dates, procs, strict=True):
            out, err = p.communicate(timeout=120)
            assert "Traceback" not in err, err
            outcomes.append((d, p.returncode, json.loads(out)["files"][0]))
        sheets = openpyxl.load_workbook(sample).sheetnames
        for d, code, result in outcomes:
            if code == 0:
                assert f"Log {d}" in sheets, (d, sheets)
            else:
                codes = [p["code"] for p in result["problems"]]
                assert codes in (["in-use"], ["changed-while-running"]), codes
        assert any(code == 0 for _, code, _ in outcomes)
        assert sorted(p.name for p in sample.parent.iterdir()) == [sample.name]


def test_the_verifier_finds_a_changed_element_of_a_written_sheet(
    sample: Path, tmp_path: Path
) -> None:
    """Written sheets are compared without their cells, so what else changed must show."""
    from rebalancer_xl.workbook.grid import SetValues

    pkg = package.Package(sample)
    part = pkg.sheet_part["Holdings"]
    pkg.apply([SetValues("Holdings", 2, 15, (("HOLD",),))])
    out = tmp_path / "out.xlsx"
    with out.open("wb") as f:
        plan = pkg.write(f)
    assert package.verify(pkg.zf, out, plan) == []
    with zipfile.ZipFile(out) as z:
        xml = z.read(part)
    assert b"<sheetViews>" in xml
    tampered = xml.replace(b"<sheetViews>", b'<sheetPr codeName="x"/><sheetViews>', 1)
    bad = _rezip(out, tmp_path / "bad.xlsx", replace={part: tampered})
    assert package.verify(pkg.zf, bad, plan) == ["Holdings: an element other than cells changed"]
    pkg.close()


# --- read_part's direct inflate: a damaged member is never read as if it were whole ---

_PART = "xl/a.xml"
_TEXT = b"<?xml version='1.0'?><a>" + b"<b>some cell text</b>" * 200 + b"</a>"


def _one_part(path: Path) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_PART, _TEXT)
    return path.read_bytes()


def _read(data: bytes, path: Path) -> bytes:
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        return package.read_part(z, _PART)


def test_a_whole_member_is_inflated_straight_from_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    _one_part(path)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(_PART)
        assert package._inflated(z, info, package.MAX_PART_BYTES) == _TEXT
        assert package.read_part(z, _PART) == _TEXT


def test_a_member_whose_crc_differs_is_refused_as_zipfile_refuses_it(tmp_path: Path) -> None:
    data = bytearray(_one_part(tmp_path / "a.zip"))
    central = data.index(b"PK\x01\x02")
    data[central + 16] ^= 0xFF  # the central directory's CRC, which readers check against
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        _read(bytes(data), tmp_path / "crc.zip")


def test_a_local_header_naming_another_member_is_refused(tmp_path: Path) -> None:
    data = _one_part(tmp_path / "a.zip")
    local_name = data.index(_PART.encode())  # the first copy: the local header's
    patched = data[:local_name] + b"xl/b.xml" + data[local_name + len(_PART) :]
    with pytest.raises(zipfile.BadZipFile, match="differ"):
        _read(patched, tmp_path / "name.zip")


def test_a_damaged_stream_is_never_returned(tmp_path: Path) -> None:
    data = bytearray(_one_part(tmp_path / "a.zip"))
    start = 30 + len(_PART)  # the compressed stream follows the local header and name
    for i in range(start + 10, start + 40):
        data[i] ^= 0x55
    with pytest.raises((zipfile.BadZipFile, zlib.error)):
        _read(bytes(data), tmp_path / "stream.zip")


def test_a_small_part_in_a_huge_stream_is_left_to_zipfile(tmp_path: Path) -> None:
    """A stream far larger than deflate makes for its part is not read into memory
    whole; zipfile reads it in chunks, up to the part's declared size."""
    path = tmp_path / "a.zip"
    _one_part(path)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(_PART)
        info.compress_size = info.file_size * 2 + 4096  # what a lying directory claims
        assert package._inflated(z, info, package.MAX_PART_BYTES) is None


def test_a_new_sheet_s_columns_fit_their_widest_value(sample: Path, tmp_path: Path) -> None:
    """A number is shown as 1,234.50 and its column fitted to the widest: a negative
    one's sign counts, as does the rounding up of 999.996 to 1,000.00."""
    from rebalancer_xl.workbook.grid import AddSheet, Autofit, SetValues

    numbers = (5.0, 999.996, -0.001, -12.5, 3.25)
    others = (1.5, 2.0, -0.0, -1_234_567.5, 8.5)
    rows = [(n, "ab", f) for n, f in zip(numbers, others, strict=True)]
    pkg = package.Package(sample)
    pkg.apply(
        [
            AddSheet("Fit"),
            SetValues("Fit", 1, 1, (("a header long enough to widen it", None, None),)),
            SetValues("Fit", 2, 1, tuple(rows)),
            SetValues("Fit", 8, 2, (("left out: below the block fitted",),)),
            Autofit("Fit", 2, 1, len(rows), 3),
        ]
    )
    out = tmp_path / "fit.xlsx"
    with out.open("wb") as f:
        written = pkg.write(f)
    pkg.close()
    part = next(p for p, name in written.sheet_parts.items() if name == "Fit")
    cols = openpyxl.load_workbook(out)["Fit"].column_dimensions
    assert part in written.new_sheet_parts
    # Shown widths + 2, at least 8: "1,000.00" (8), "ab" (2), "-1,234,567.50" (13).
    assert [cols[c].width for c in "ABC"] == [10, 8, 15]


def test_a_batch_leaves_nothing_for_the_garbage_collector(sample: Path, tmp_path: Path) -> None:
    """Each file's package is freed as its run ends, not left to the collector.

    A package and its sheet edits referred to each other, so every run's inflated parts
    and written bytes waited for a collection that a long batch seldom makes: a worker's
    memory grew by ~215 MB with each 10,000-holding workbook. The per-file function the
    batch runs is run on the sample (its sheets edited as text) and on a copy with a
    comment among each sheet's rows (which the text scan leaves to lxml: edited as
    trees), and a collection afterwards finds nothing.
    """
    import gc
    from collections import Counter

    from rebalancer_xl.cli import process_to_dict

    with zipfile.ZipFile(sample) as z:
        commented = {
            name: z.read(name).replace(b"<sheetData>", b"<sheetData><!-- kept -->", 1)
            for name in z.namelist()
            if name.startswith("xl/worksheets/sheet")
        }
    trees = _rezip(sample, tmp_path / "trees.xlsx", replace=commented)
    for book in (sample, trees):
        masters = book.read_bytes()
        process_to_dict(str(book), {})  # the first run of a process sets up what it keeps
        book.write_bytes(masters)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept to look at
        try:
            result = process_to_dict(str(book), {})
            found = gc.collect()
            kinds = Counter(type(o).__name__ for o in gc.garbage).most_common(5)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert result["status"] == "ok", result
        assert found == 0, f"{book.name}: {kinds}"

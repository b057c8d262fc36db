"""The command at its edges: closed pipes, Ctrl-C in a batch, killed runs, full disks,
narrow terminals, and what `--help` promises. Each runs the real command on real files,
most of them as a separate process, the way a shell would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import big_book, copy_as, listing, sha256

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and limits")
COMMAND = [sys.executable, "-m", "rebalancer_xl"]


def copies(master: Path, folder: Path, n: int) -> list[Path]:
    return [copy_as(master, folder / f"book{i:02d}.xlsx") for i in range(n)]


# --- a closed pipe ------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize(
    ("option", "read"),
    [("--json", 100), ("--quiet", 0)],
    ids=["json-then-head", "terminal-reader-gone"],
)
def test_a_closed_pipe_ends_the_command_quietly(sample_master, tmp_path, option, read):
    """`rebalancer-xl run … --json | head -c 100`: the reader leaves early; the command
    ends without a traceback and exits 0. Twelve files print more JSON than a pipe holds,
    so the command is still writing when the reader goes; the terminal report is shorter,
    so there the reader is gone before the first line."""
    books = copies(sample_master, tmp_path, 12)
    proc = subprocess.Popen(
        [*COMMAND, "run", *map(str, books), "--dry-run", option],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    head = proc.stdout.read(read)
    proc.stdout.close()  # what head does after its bytes
    _, err = proc.communicate(timeout=120)
    assert len(head) == read
    assert b"Traceback" not in err, err.decode()
    assert b"BrokenPipe" not in err
    assert proc.returncode == 0


# --- Ctrl-C in a batch --------------------------------------------------------------------


def _as_a_foreground_job() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def _ignoring_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


@posix_only
@pytest.mark.parametrize(
    ("jobs", "how"),
    [(1, "ctrl-c"), (2, "ctrl-c"), (2, "sigterm")],
)
def test_ctrl_c_stops_a_batch_and_says_what_was_written(tmp_path, jobs, how):
    """Ctrl-C reaches the terminal's whole process group; a scheduler's SIGTERM reaches
    the command alone. Either way the batch stops promptly and says what it wrote."""
    # Books of 300 holdings take a tenth of a second or so each, so "promptly" is
    # measured against real work rather than the time it takes to notice a write.
    master = big_book(tmp_path / "master" / "big.xlsx", 300)
    books = copies(master, tmp_path, 40)
    before = {b: sha256(b) for b in books}
    proc = subprocess.Popen(
        [*COMMAND, "run", *map(str, books), "--jobs", str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
        # With the signals a terminal's foreground job has: the suite itself may run
        # where Ctrl-C is ignored (a script's `pytest &`), which its children inherit.
        preexec_fn=_as_a_foreground_job,
    )
    # A written book is renamed into place, so its inode changes: a stat of each is quick
    # enough that no further book can finish unseen between looking and signalling, as
    # it could while hashing them all on a busy machine.
    inodes = {b: b.stat().st_ino for b in books}
    changed: list[Path] = []
    deadline = time.monotonic() + 120
    while not changed and time.monotonic() < deadline:
        changed = [b for b in books if b.stat().st_ino != inodes[b]]
        time.sleep(0.01)
    assert changed, "no file was written before the deadline"
    at_signal = len(changed)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == (130 if how == "ctrl-c" else 128 + signal.SIGTERM), err
    assert "Traceback" not in err, err
    assert "KeyboardInterrupt" not in err
    written = [b for b in books if sha256(b) != before[b]]
    # Stopped promptly: only files already in hand were finished (jobs at work, and one
    # handed to the pool ahead), and far from all of them.
    assert len(written) - at_signal <= jobs + 1
    assert len(written) < len(books)
    # Exactly the written files are named, and each is a whole workbook.
    named = set(re.findall(r"written: (\S+)", err))
    assert named == {str(b) for b in written}
    assert f"{len(written)} written" in err
    assert ("Ctrl-C" if how == "ctrl-c" else "signal 15") in err
    for b in written:
        with zipfile.ZipFile(b) as z:
            assert z.testzip() is None
    # Nothing half-done is left beside them.
    assert not [n for n in listing(tmp_path) if n.endswith(".tmp")]


@posix_only
@pytest.mark.parametrize("jobs", [1, 2])
def test_signals_ignored_at_start_stay_ignored(tmp_path, jobs):
    """Started as a script's `command &` is (Ctrl-C ignored; SIGTERM too, as some
    launchers do), the batch is not for those signals to stop: it runs to the end."""
    master = big_book(tmp_path / "master" / "big.xlsx", 300)
    books = copies(master, tmp_path, 6)
    inodes = {b: b.stat().st_ino for b in books}
    proc = subprocess.Popen(
        [*COMMAND, "run", *map(str, books), "--jobs", str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ignoring_signals,
    )
    deadline = time.monotonic() + 120
    while all(b.stat().st_ino == inodes[b] for b in books) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert all(b.stat().st_ino != inodes[b] for b in books)  # every book written
    assert "stopping" not in err


# --- a killed run's temporary file ----------------------------------------------------------


_KILLED_WRITER = """
import sys, time
from rebalancer_xl.adapters.files import atomic_write
with atomic_write(sys.argv[1]) as pending:
    pending.path.write_bytes(b"half a workbook")
    print(pending.path, flush=True)
    time.sleep(600)
"""


def _killed_mid_write(book: Path) -> Path:
    """Start a writer of `book`, kill it with SIGKILL mid-write; its leftover file."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(book)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    left = Path(proc.stdout.readline().strip())
    proc.kill()
    proc.wait()
    assert left.exists()
    return left


@posix_only
def test_the_next_run_removes_a_killed_runs_temporary_file(cli, sample):
    left = _killed_mid_write(sample)
    assert left.name.startswith(f".{sample.name}.")
    assert left.name.endswith(".tmp")
    unrelated = sample.parent / f".{sample.name}.notes.tmp"  # not a name we make
    unrelated.write_text("keep me")
    run = cli("run", sample)
    assert run.code == 0, run.err
    assert not left.exists()
    assert unrelated.exists()


@posix_only
@pytest.mark.parametrize("into", [None, "out"], ids=["in-place", "output-dir"])
def test_a_batch_clears_every_leftover_listing_each_folder_once(
    cli, sample_master, tmp_path, monkeypatch, into
):
    """Twelve workbooks in one folder, each with a killed run's file beside it (and beside
    its copy in --output-dir): all go, and each folder is listed once, not once a file
    (5,000 workbooks in a folder cost 6.7 ms a file to list it each time)."""
    from rebalancer_xl.adapters import files as files_module

    books = copies(sample_master, tmp_path / "books", 12)
    out = tmp_path / "out"
    out.mkdir()
    folders = [books[0].parent] + ([out] if into else [])
    dead = _dead_pid()
    left = [folder / f".{book.name}.{dead}-0123abcd.tmp" for book in books for folder in folders]
    for path in left:
        path.write_bytes(b"half a workbook")
    listed: list[Path] = []
    real_iterdir = Path.iterdir

    def counting(self: Path) -> Iterator[Path]:
        listed.append(self)
        return real_iterdir(self)

    monkeypatch.setattr(files_module.Path, "iterdir", counting)
    run = cli("run", *books, *(["--output-dir", out] if into else []))
    assert run.code == 0, run.err
    assert not [path for path in left if path.exists()]
    assert sorted(listed) == sorted(folders)


def _dead_pid() -> int:
    """A process id no process has: a child's, once it has ended and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@posix_only
def test_a_refused_run_clears_the_leftover_too(cli, sample):
    left = _killed_mid_write(sample)
    with zipfile.ZipFile(sample) as z:
        assert z.namelist()
    run = cli("run", sample, "--as-of", "not-a-date")
    assert run.code == 2  # a usage error reads no file, and so removes nothing
    assert left.exists()
    run = cli("run", sample, "--dry-run")
    assert run.code == 0
    assert not left.exists()


@posix_only
def test_a_live_runs_temporary_file_is_left_alone(cli, sample, tmp_path):
    """Another run of the same workbook, still writing: its file is not ours to remove."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(sample)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        live = Path(proc.stdout.readline().strip())
        assert cli("run", sample, "--dry-run").code == 0
        assert live.exists()
    finally:
        proc.kill()
        proc.wait()


# --- a full disk ---------------------------------------------------------------------------


def _file_size_limit(limit: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@posix_only
def test_no_room_to_write_is_a_problem_not_a_traceback(sample, tmp_path):
    """A write that fails part way (here a file-size limit, as a full disk would) leaves
    the workbook as it was, no temporary file, and nothing but the problem on stderr."""
    before = sha256(sample)
    proc = subprocess.run(
        [*COMMAND, "run", str(sample)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _file_size_limit(sample.stat().st_size // 2),
        check=False,
    )
    assert proc.returncode == 1
    assert "no-space" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr
    assert sha256(sample) == before
    assert listing(sample.parent) == {sample.name}


# --- --help ----------------------------------------------------------------------------------


def test_the_commands_help_points_at_the_exit_codes(cli):
    text = cli("--help").out
    assert "Exit codes" in text
    assert "run --help" in text


def test_run_help_gives_exit_codes_and_every_json_key(cli, sample):
    help_text = cli("run", "--help").out
    for code in ("0", "1", "2", "130"):
        assert re.search(rf"^\s+{code}\s+\S", help_text, re.M), code
    entry = cli("run", sample, "--dry-run", "--json").file
    for key in entry:
        assert re.search(rf"\b{key}\b", help_text), key
    for key in (*entry["actions"][0], *entry["problems"][0:1], *entry["trades"][0]):
        assert re.search(rf"\b{key}\b", help_text), key


# --- the terminal's width --------------------------------------------------------------------


@pytest.mark.parametrize("width", [50, 60, 80, 120])
def test_the_plan_fits_the_terminal(cli, sample, monkeypatch, width):
    doc = cli("run", sample, "--dry-run", "--json").file
    monkeypatch.setenv("COLUMNS", str(width))
    out = cli("run", sample, "--dry-run").out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in out
    for a in doc["actions"]:  # every amount whole, on one line
        assert f"{a['amount']:,.2f}" in out, a["ticker"]
    assert f"{doc['portfolio_value']:,.2f}" in out
    flat = " ".join(out.split())
    for a in doc["actions"]:
        if a["action"] != "HOLD":
            assert " ".join(a["reason"].split()) in flat, a["ticker"]  # wrapped, not cut


@pytest.mark.parametrize("width", [50, 80])
def test_the_batch_summary_fits_the_terminal(cli, sample_master, tmp_path, monkeypatch, width):
    books = copies(sample_master, tmp_path / "a-folder-with-a-long-name", 3)
    doc = cli("run", *books, "--dry-run", "--json").doc
    monkeypatch.setenv("COLUMNS", str(width))
    out = cli("run", *books, "--dry-run").out
    assert max(len(line) for line in out.splitlines()) <= width
    assert "…" not in out
    for f in doc["files"]:
        assert f"{f['portfolio_value']:,.2f}" in out
        assert f["next_rebalance_date"] in out or width < 60
    flat = "".join(re.sub(r"[│┃\s]", "", line) for line in out.splitlines())
    assert books[0].name in flat or str(books[0]).replace(" ", "") in flat


def test_numbers_are_not_coloured_piece_by_piece(cli, sample, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = cli("run", sample, "--dry-run").out
    assert "\x1b[" in out, "colour was not forced"
    tax = next(line for line in out.splitlines() if "estimated tax" in line and "Tax" in line)
    assert "\x1b[" not in tax, repr(tax)
    assert re.search(r"\d,\d{3}\.\d{2}", tax)


def test_an_old_versions_leftover_goes_once_a_day_old(cli, sample):
    """Names from before the process id was in them: only age tells a dead one."""
    old = sample.parent / f".{sample.name}.0123abcd.tmp"
    fresh = sample.parent / f".{sample.name}.89abcdef.tmp"
    for path in (old, fresh):
        path.write_bytes(b"half a workbook")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert cli("run", sample, "--dry-run").code == 0
    assert not old.exists()
    assert fresh.exists()

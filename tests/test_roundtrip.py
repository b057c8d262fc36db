"""Saving never silently loses a user's content, and our own workbook loses nothing.

openpyxl drops text boxes, form controls and sparklines on save. A workbook holding any of
them is refused in place (`would-lose-content`, listing what), written as a processed copy
with `--output-dir`, and overwritten only with `--force`. The template we make round-trips
through a run with every sheet, validation, conditional format, table, defined name, chart
and comment intact; the run adds the Log sheet and nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import (
    AS_OF,
    Processed,
    located,
    sha256,
    xlsxwriter_copy,
)
from tests.inventory import Kind, inventory, losses

LOG = f"Log {AS_OF.isoformat()}"


def _textbox(book: Any, sheets: dict[str, Any]) -> None:
    sheets["Holdings"].insert_textbox("W2", "Remember: check PLTR's lock-up before trimming")


def _button(book: Any, sheets: dict[str, Any]) -> None:
    sheets["Dashboard"].insert_button("E2", {"caption": "Run Rebalance", "macro": "run"})


def _sparkline(book: Any, sheets: dict[str, Any]) -> None:
    sheets["Performance"].add_sparkline("J2", {"range": "Performance!B2:B8"})


EXTRAS: dict[str, tuple[Callable[[Any, dict[str, Any]], None], str, str]] = {
    # name: (what XlsxWriter adds, the sheet it sits on, the guard's words for it)
    "text box": (_textbox, "Holdings", Kind.SHAPE.label),
    "form button": (_button, "Dashboard", Kind.FORM_CONTROL.label),
    "sparkline": (_sparkline, "Performance", Kind.SPARKLINE_GROUP.label),
}


@pytest.fixture(params=list(EXTRAS))
def lossy(request: pytest.FixtureRequest, sample_master: Path, tmp_path: Path) -> tuple[Path, str]:
    """A valid workbook (the sample's values, written by XlsxWriter) plus one thing openpyxl
    cannot keep; and the line the refusal must list for it."""
    add, sheet, label = EXTRAS[request.param]
    path = xlsxwriter_copy(sample_master, tmp_path / "in" / "book.xlsx", extra=add)
    return path, f"{sheet}: 1 {label} would be lost"


def test_the_valid_part_runs(cli, sample_master, tmp_path):
    """The premise: the same values without the extra content run in place."""
    path = xlsxwriter_copy(sample_master, tmp_path / "plain.xlsx")
    before = sha256(path)
    run = cli("run", path, "--json")
    assert run.code == 0, run.err
    assert sha256(path) != before


def test_in_place_run_keeps_what_openpyxl_would_drop(cli, lossy):
    """The writer edits the package: the text box, button or sparkline is still there."""
    path, _ = lossy
    before = inventory(path)
    run = cli("run", path, "--json")
    assert run.code == 0, run.err
    assert run.file["content_lost"] == []
    assert losses(before, inventory(path)) == []
    assert LOG in openpyxl.load_workbook(path).sheetnames


def test_output_dir_copy_keeps_it_too(cli, lossy, tmp_path):
    path, _ = lossy
    before = sha256(path)
    out = tmp_path / "out"
    run = cli("run", path, "--output-dir", out, "--json")
    assert run.code == 0, run.err
    assert sha256(path) == before
    copy = out / path.name
    assert run.file["written"] == str(copy)
    assert losses(inventory(path), inventory(copy)) == []


def test_human_output_has_no_python_warnings(cli, lossy):
    path, _ = lossy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cli("run", path)
    assert run.code == 0
    assert [str(w.message) for w in caught] == []


# --- our own workbook loses nothing -------------------------------------------------------------


def test_our_template_round_trips_through_a_run(sample_master: Path, processed: Processed):
    before, after = inventory(sample_master), inventory(processed.path)
    assert losses(before, after) == []
    assert after.sheets == (*before.sheets, LOG)
    # The template really has each kind, so "nothing lost" means something.
    for kind in (
        Kind.VALIDATION,
        Kind.CONDITIONAL,
        Kind.TABLE,
        Kind.DEFINED_NAME,
        Kind.CHART,
        Kind.COMMENT,
        Kind.FORMULA,
        Kind.MERGED_CELLS,
    ):
        assert before.total(kind) > 0, kind
    # Nothing gained either, except the Log sheet and its print titles (the header row
    # its long table repeats on each page): same counts everywhere else.
    gained = {where: n for where, n in after.counts.items() if before.counts.get(where) != n}
    assert gained == {(Kind.SHEET, LOG): 1, (Kind.DEFINED_NAME, LOG): 1}
    assert processed.result["content_lost"] == []


def test_the_blank_template_round_trips_too(blank_master: Path, tmp_path, cli):
    """The empty template has no positions: the run refuses it, and writes nothing."""
    path = tmp_path / "blank.xlsx"
    path.write_bytes(blank_master.read_bytes())
    run = cli("run", path, "--json")
    assert run.code == 1
    assert [code for code, _ in located(run.file)] == ["no-holdings"]
    assert path.read_bytes() == blank_master.read_bytes()


# --- LibreOffice opens everything we write ------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_has_no_complaint_about_any_workbook_we_write(libreoffice_run):
    converted, complaints = libreoffice_run
    assert converted
    assert complaints == []


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["blank", "sample", "processed", "twice"])
def test_libreoffice_opens_every_workbook_we_write(libreoffice, written_books, name):
    assert name in libreoffice, f"LibreOffice could not convert {written_books[name]}"
    converted = libreoffice[name]
    assert converted.stat().st_size > 0
    ours = openpyxl.load_workbook(written_books[name]).sheetnames
    theirs = openpyxl.load_workbook(converted).sheetnames
    assert theirs == ours

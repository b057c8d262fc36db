"""The quarter through the Excel button: `record_fills` writes what `rebalancer-xl record` writes.

As in tests/test_xl.py, Excel is played by xlwings' remote engine on a workbook that
LibreOffice has calculated: the button plans, the fills are typed, the LibreOffice-saved
copy is posted as the VBA client would, `record_fills` runs, its actions are replayed on
the file and every cell is compared with `rebalancer-xl record --output-dir`.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rebalancer_xl import xl
from rebalancer_xl.cli import main as cli_main
from rebalancer_xl.quarter.record import Recording
from tests.conftest import convert_many, edit
from tests.test_quarter import FILLS, RECORDED, type_fills
from tests.test_xl import actions_of, workbook_differences
from tests.xlpayload import CLIENT_ACTIONS, remote_book, replay, vba_payload

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def typed(sample_master: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """After the quarter-end button press, fills typed, as Excel holds them (calculated):
    'good' with the quarter's fills (TEM partly filled), 'bad' with a text Fill Price."""
    folder = tmp_path_factory.mktemp("xl-quarter")
    planned = folder / "planned.xlsx"
    planned.write_bytes(sample_master.read_bytes())
    book = remote_book(vba_payload(convert_many([planned], folder / "lo0")[planned.resolve()]))
    assert xl.run_rebalance(book).ok
    run = replay(actions_of(book), planned, planned)
    assert run.writes > 0
    good, bad = folder / "good.xlsx", folder / "bad.xlsx"
    good.write_bytes(planned.read_bytes())
    bad.write_bytes(planned.read_bytes())
    edit(good, type_fills(FILLS))
    edit(bad, type_fills({**FILLS, "ALAB": (19, "131,8 USD", None)}))  # type: ignore[dict-item]
    converted = convert_many([good, bad], folder / "lo1")
    return {"good": converted[good.resolve()], "bad": converted[bad.resolve()]}


def _press(xlsx: Path) -> tuple[Any, Any]:
    book = remote_book(vba_payload(xlsx))
    return book, xl.record_fills(book, on=RECORDED)


def test_record_fills_writes_what_the_command_writes(
    typed: dict[str, Path], tmp_path: Path
) -> None:
    book, edit_ = _press(typed["good"])
    assert edit_.ok
    assert isinstance(edit_.detail, Recording)
    assert len(edit_.detail.fills) == 4
    actions = actions_of(book)
    assert {a["func"] for a in actions} <= CLIENT_ACTIONS
    assert not [a for a in actions if a["func"] == "alert"]
    replay(actions, typed["good"], tmp_path / "button.xlsx")
    out = tmp_path / "command"
    assert (
        cli_main(["record", str(typed["good"]), "--as-of", str(RECORDED), "--output-dir", str(out)])
        == 0
    )
    assert workbook_differences(tmp_path / "button.xlsx", out / typed["good"].name) == []
    shares = {
        r[0]: r[3]
        for r in openpyxl.load_workbook(tmp_path / "button.xlsx")["Holdings"].iter_rows(
            min_row=2, values_only=True
        )
        if r[0]
    }
    assert shares["TEM"] == 125 + 40


def test_a_bad_fill_gets_one_alert_and_no_writes(typed: dict[str, Path]) -> None:
    book, edit_ = _press(typed["bad"])
    assert not edit_.ok
    actions = actions_of(book)
    assert [a["func"] for a in actions] == ["alert"]
    text = actions[0]["args"][0]
    assert "Trades!" in text
    assert "not-a-number" in text
    assert actions[0]["args"][1] == xl.RECORD_TITLE


def test_pressing_record_again_after_recording_says_so_and_writes_nothing(
    typed: dict[str, Path], tmp_path: Path
) -> None:
    book, _ = _press(typed["good"])
    once = tmp_path / "once.xlsx"
    replay(actions_of(book), typed["good"], once)
    calculated = convert_many([once], tmp_path / "lo")[once.resolve()]
    again = remote_book(vba_payload(calculated))
    result = xl.record_fills(again, on=date(2027, 1, 6))
    assert result.ok
    actions = actions_of(again)
    assert [a["func"] for a in actions] == ["alert"]
    assert "No new fills" in actions[0]["args"][0]

"""SPEC §6c: the yearly review of targets — a warning when it is due, a Checklist step.

Through every way in: the API (make_plan and rebalance's warnings), the command on a
real workbook (the warning on its Settings cell, in --json and in the Log), and the
Checklist the run ticks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import openpyxl
import pytest

from rebalancer_xl import RebalanceWarning, rebalance
from rebalancer_xl.core.model import Severity
from tests.conftest import edit, set_cell, sha256
from tests.tables import frame, run

BOOK = """
    Ticker | Shares | Current Price | Target % | Score
    A      | 350    | 100           | 0.35     | 70
    B      | 350    | 100           | 0.35     | 70
    C      | 300    | 100           | 0.30     | 70
"""


def _review(reviewed: str | None) -> list[tuple[str, Severity, str]]:
    p = run(BOOK, {"Targets Reviewed": reviewed})
    return [(w.code, w.severity, w.message) for w in p.problems]


def test_a_blank_review_date_warns():
    assert _review(None) == [
        (
            "targets-not-reviewed",
            Severity.WARNING,
            "Targets Reviewed is blank: review the target allocations: the guide asks for "
            "it once a year",
        )
    ]


def test_a_review_366_days_old_warns_and_365_does_not():
    # 2026-12-31 − 365 days = 2025-12-31; one day earlier is more than a year.
    [(code, _, message)] = _review("2025-12-30")
    assert code == "targets-not-reviewed"
    assert "2025-12-30 is 366 days before 2026-12-31" in message
    assert _review("2025-12-31") == []


def test_the_warning_does_not_stop_the_plan_and_rebalance_emits_it():
    with pytest.warns(RebalanceWarning) as caught:
        out = rebalance(
            frame(BOOK),
            {"As-of Date": "2026-12-31"},
        )
    assert list(out["Action"]) == ["HOLD", "HOLD", "HOLD", "HOLD"]
    assert [w.message.problem.code for w in caught] == ["targets-not-reviewed"]  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rebalance(
            frame(BOOK),
            {
                "As-of Date": "2026-12-31",
                "Targets Reviewed": "2026-01-15",
            },
        )


def _checklist(path: Path) -> dict[str, str | None]:
    ws = openpyxl.load_workbook(path)["Checklist"]
    header = [c.value for c in ws[1]]
    key, done = header.index("Key"), header.index("Done")
    return {row[key]: row[done] for row in ws.iter_rows(min_row=2, values_only=True) if row[key]}


def test_a_recent_review_ticks_the_checklist_step(cli, sample):
    # The sample says its targets were reviewed on 2026-01-15, within the year.
    assert _checklist(sample)["analysis.targets"] in (None, "")
    result = cli("run", sample, "--json")
    assert result.code == 0
    assert [p["code"] for p in result.file["problems"]] == []
    assert _checklist(sample)["analysis.targets"] == "Yes"


def test_an_old_review_warns_on_its_cell_in_json_the_terminal_and_the_log(cli, sample, at):
    cell = at.setting("Targets Reviewed")
    sheet, ref = cell.split("!")
    edit(sample, set_cell(sheet, ref, "2025-06-30"))
    before = sha256(sample)
    dry = cli("run", sample, "--dry-run")
    assert dry.code == 0
    assert f"{cell}: targets-not-reviewed" in dry.out + dry.err
    assert sha256(sample) == before

    result = cli("run", sample, "--json")
    assert result.code == 0  # a warning: the run writes its plan
    [problem] = result.file["problems"]
    assert (problem["code"], f"{problem['sheet']}!{problem['cell']}", problem["severity"]) == (
        "targets-not-reviewed",
        cell,
        "warning",
    )
    assert "549 days before 2026-12-31" in problem["message"]
    assert _checklist(sample)["analysis.targets"] in (None, "")
    log = openpyxl.load_workbook(sample)["Log 2026-12-31"]
    lines = [c for row in log.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any(line.startswith("Warning:") and "targets-not-reviewed" in line for line in lines)

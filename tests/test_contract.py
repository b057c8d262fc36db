"""One contract: a header or a threshold is written once, and everything follows it.

Each test changes one line of the package, in a copy, and checks the consequences: the
Holdings column `Shares` renamed `Units` in `parse.py` is the template's header, what the
run reads and writes beside, and the API's column; a changed tier floor or Winner
threshold changes the engine's classes and the sheet's formulas alike.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import rebalancer_xl

SCRIPT = """
import sys
from pathlib import Path

import openpyxl
import pandas as pd

import rebalancer_xl
from rebalancer_xl.pipeline import process_file
from rebalancer_xl.adapters.template import build_workbook

assert rebalancer_xl.__file__.startswith(sys.argv[1]), rebalancer_xl.__file__
book = Path(sys.argv[1]) / "book.xlsx"
build_workbook(book, sample=True)
header = [c.value for c in openpyxl.load_workbook(book)["Holdings"][1]]
print("header", "Units" in header, "Shares" in header)
result = process_file(book)
print("run", result.ok, len(result.problems))
ws = openpyxl.load_workbook(book)["Holdings"]
header = [c.value for c in ws[1]]
formula = ws.cell(2, header.index("Current Value") + 1).value
print("formula", "[Units]" in formula and "[Shares]" not in formula)
actions = {ws.cell(r, 1).value: ws.cell(r, header.index("Action") + 1).value for r in (2, 3)}
print("written", all(actions.values()))
frame = pd.DataFrame(
    {"Ticker": ["A", "B"], "Units": [10, 30], "Current Price": [100, 100], "Target %": [0.4, 0.6]}
)
out = rebalancer_xl.rebalance(frame, {"As-of Date": "2026-12-31", "Cap": 0.7, "Urgent Cap": 0.8})
print("api", list(out["Action"]))
"""


def test_changing_one_header_line_is_followed_by_template_run_and_api(tmp_path: Path) -> None:
    package = Path(rebalancer_xl.__file__).parent
    copy = tmp_path / "rebalancer_xl"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    parse = copy / "core" / "parse.py"
    text = parse.read_text(encoding="utf-8")
    assert text.count('\nSHARES = "Shares"\n') == 1
    parse.write_text(text.replace('\nSHARES = "Shares"\n', '\nSHARES = "Units"\n'), "utf-8")
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n" + SCRIPT
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "header True False",
        "run True 0",
        "formula True",
        "written True",
        "api ['ADD', 'TRIM', 'HOLD']",
    ]


THRESHOLD_SCRIPT = """
from decimal import Decimal

from rebalancer_xl.core.model import Tier
from rebalancer_xl.core.rules.metrics import performance_class
from rebalancer_xl.workbook.formulas import performance_formulas, tier_formula

print("engine", Tier.of(Decimal(78)).label, performance_class(Decimal("0.22")).value)
print("sheet", ">=80," in tier_formula("S"), ">=0.25," in str(performance_formulas(2)))
"""


def test_changing_a_threshold_line_changes_the_engine_and_the_sheets_formulas(tmp_path: Path):
    package = Path(rebalancer_xl.__file__).parent
    copy = tmp_path / "rebalancer_xl"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, old, new in (
        ("core/model.py", "(Decimal(75), Tier.EXCEPTIONAL)", "(Decimal(80), Tier.EXCEPTIONAL)"),
        ("core/rules/metrics.py", 'WINNER_FROM = Decimal("0.20")', 'WINNER_FROM = Decimal("0.25")'),
    ):
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new), "utf-8")
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\n" + THRESHOLD_SCRIPT
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["engine Very Strong In-line", "sheet True True"]

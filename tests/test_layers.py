"""The core (model, rules, engine, API) stays free of spreadsheet and CLI libraries."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_neither_openpyxl_nor_xlwings():
    code = (
        "import sys\n"
        "import rebalancer_xl, rebalancer_xl.engine, rebalancer_xl.rules.tax\n"
        "import rebalancer_xl.rules.drift, rebalancer_xl.parse, rebalancer_xl.settings\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('openpyxl', 'xlwings', 'python_calamine', 'rich', 'pandas'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


_SPREADSHEET_LIBRARIES = ("openpyxl", "python_calamine", "rich", "pandas", "lxml")


def test_the_core_modules_import_no_spreadsheet_library():
    """The pure layers: model, settings, values, problems, rules, the engine's stages,
    the household's folding and placement."""
    code = (
        "import sys\n"
        "import rebalancer_xl.engine, rebalancer_xl.problems, rebalancer_xl.rules.labels\n"
        "import rebalancer_xl.rules.lots, rebalancer_xl.rules.wash, rebalancer_xl.rules.tax\n"
        "import rebalancer_xl.stages.judge, rebalancer_xl.stages.allocate\n"
        "import rebalancer_xl.stages.explain, rebalancer_xl.stages.taxes\n"
        "import rebalancer_xl.household.plan, rebalancer_xl.household.placement\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {_SPREADSHEET_LIBRARIES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_lite_path_plans_and_renders_without_spreadsheet_libraries(sample, tmp_path):
    """What the button does under xlwings Lite (read a grid, plan, render the writes)
    imports neither openpyxl, pandas, rich, calamine nor lxml: Pyodide has none of them."""
    import pickle

    import openpyxl

    from rebalancer_xl.workbook.xlsx import book_from_openpyxl

    grid = tmp_path / "book.pickle"
    grid.write_bytes(pickle.dumps(book_from_openpyxl(openpyxl.load_workbook(sample), sample)))
    code = (
        "import pickle, sys\n"
        "import rebalancer_xl.xl\n"
        "from rebalancer_xl.pipeline import plan_book\n"
        f"book = pickle.loads(open({str(grid)!r}, 'rb').read())\n"
        "outcome = plan_book(book)\n"
        "assert outcome.plan is not None and outcome.ops, outcome.problems\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {_SPREADSHEET_LIBRARIES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""The core (model, rules, stages, engine, API) stays free of spreadsheet and CLI libraries,
and so does the button's path under xlwings Lite (Pyodide has none of them)."""

from __future__ import annotations

import pickle
import subprocess
import sys

_SPREADSHEET_LIBRARIES = ("openpyxl", "xlwings", "python_calamine", "rich", "pandas", "lxml")


def _libraries_imported_by(code: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The spreadsheet and terminal libraries a fresh interpreter holds after `code`."""
    watched = tuple(m for m in _SPREADSHEET_LIBRARIES if m not in allowed)
    probe = f"\nimport sys\nprint(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {watched!r})))\n"
    out = subprocess.run(
        [sys.executable, "-c", code + probe], capture_output=True, text=True, check=True
    )
    return [m for m in out.stdout.strip().split(",") if m]


def test_core_imports_neither_openpyxl_nor_xlwings():
    assert (
        _libraries_imported_by(
            "import rebalancer_xl, rebalancer_xl.engine, rebalancer_xl.rules.tax\n"
            "import rebalancer_xl.rules.drift, rebalancer_xl.parse, rebalancer_xl.settings\n"
        )
        == []
    )


def test_the_core_modules_import_no_spreadsheet_library():
    """The pure layers: model, settings, values, problems, rules, the engine's stages,
    the household's folding and placement."""
    assert (
        _libraries_imported_by(
            "import rebalancer_xl.engine, rebalancer_xl.problems, rebalancer_xl.rules.labels\n"
            "import rebalancer_xl.rules.lots, rebalancer_xl.rules.wash, rebalancer_xl.rules.tax\n"
            "import rebalancer_xl.stages.judge, rebalancer_xl.stages.allocate\n"
            "import rebalancer_xl.stages.explain, rebalancer_xl.stages.taxes\n"
            "import rebalancer_xl.stages.harvest, rebalancer_xl.rules.harvest\n"
            "import rebalancer_xl.rules.review\n"
            "import rebalancer_xl.household.plan, rebalancer_xl.household.placement\n"
        )
        == []
    )


def test_the_lite_path_plans_and_renders_without_spreadsheet_libraries(sample, tmp_path):
    """What the button does under xlwings Lite (read a grid, plan, render the writes)
    imports neither openpyxl, pandas, rich, calamine nor lxml."""
    import openpyxl

    from tests.openpyxl_book import book_from_openpyxl

    grid = tmp_path / "book.pickle"
    grid.write_bytes(pickle.dumps(book_from_openpyxl(openpyxl.load_workbook(sample), sample)))
    code = (
        "import pickle\n"
        "import rebalancer_xl.xl\n"
        "from rebalancer_xl.pipeline import plan_book\n"
        f"book = pickle.loads(open({str(grid)!r}, 'rb').read())\n"
        "outcome = plan_book(book)\n"
        "assert outcome.plan is not None and outcome.ops, outcome.problems\n"
    )
    # xlwings itself is the Lite path's one library (Pyodide provides it).
    assert _libraries_imported_by(code, allowed=("xlwings",)) == []

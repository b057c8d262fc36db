"""The core (model, rules, stages, engine) and the workbook's pure mapping stay free of
spreadsheet and terminal libraries, and so does the button's path under xlwings Lite
(Pyodide has none of them)."""

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
            "import rebalancer_xl, rebalancer_xl.core.engine, rebalancer_xl.core.rules.tax\n"
            "import rebalancer_xl.core.rules.drift, rebalancer_xl.core.parse, rebalancer_xl.core.settings\n"
        )
        == []
    )


def _modules_under(folder: str) -> list[str]:
    from pathlib import Path

    import rebalancer_xl

    root = Path(rebalancer_xl.__file__).parent
    return sorted(
        ".".join(("rebalancer_xl", *p.relative_to(root).with_suffix("").parts))
        for p in (root / folder).rglob("*.py")
        if p.name != "__init__.py"
    )


def test_every_module_of_the_pure_folders_imports_no_spreadsheet_library():
    """The folders are the layers: everything in `core/` (model, settings, values,
    problems, rules, the engine's stages, the household's folding and placement) and in
    `workbook/` (the sheets' contract, reading grids, rendering writes) is pure; the
    libraries live in `adapters/` and the ways in."""
    modules = _modules_under("core") + _modules_under("workbook")
    assert len(modules) > 30  # the walk finds them
    code = "".join(f"import {m}\n" for m in modules)
    assert _libraries_imported_by(code) == []


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

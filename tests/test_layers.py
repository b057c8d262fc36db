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

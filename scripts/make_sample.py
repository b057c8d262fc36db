"""Regenerate the committed sample workbook, workbook/Rebalancing.xlsx.

Run after changing the template, schema or sample data:

    python scripts/make_sample.py

tests/test_template.py fails while the committed file differs from what the code makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "workbook" / "Rebalancing.xlsx"


def main() -> None:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package
    from rebalancer_xl.adapters.template import build_workbook

    build_workbook(SAMPLE, sample=True)
    print(f"wrote {SAMPLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Build test portfolios from small readable tables, as STYLE.md asks."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from rebalancer_xl import Plan, make_plan


def frame(table: str) -> pd.DataFrame:
    """A DataFrame from a pipe table; numbers become floats (as from Excel), blanks None."""
    lines = [ln.strip() for ln in table.strip().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split("|")]
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")]
        cells += [""] * (len(header) - len(cells))  # trailing blank cells may be left out
        row: dict[str, object] = {}
        for name, cell in zip(header, cells, strict=True):
            if cell == "":
                row[name] = None
            else:
                try:
                    row[name] = float(cell)
                except ValueError:
                    row[name] = cell
        rows.append(row)
    return pd.DataFrame(rows, columns=header)


# Targets reviewed within the year, so a test sees only the warnings its own table asks for.
BASE = {"As-of Date": "2026-12-31", "Targets Reviewed": "2026-06-30"}


def run(table: str, settings: dict[str, object] | None = None, **options: object) -> Plan:
    """Plan a portfolio; settings by their sheet names, As-of Date 2026-12-31 and Targets
    Reviewed 2026-06-30 unless given."""
    return make_plan(frame(table), {**BASE, **(settings or {})}, **options)  # type: ignore[arg-type]


def D(x: str | int) -> Decimal:
    return Decimal(str(x))

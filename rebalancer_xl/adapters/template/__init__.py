"""Build a new rebalancing workbook: every sheet of the contract, styled, with live formulas.

`build_workbook` writes the file; `render_workbook` builds it in memory. The layout comes
from `workbook.schema` and the formulas, as text, from `workbook.formulas` and
`workbook.dashboard` (pure); this package decides only how things look and where they go:
`style` (fonts, fills, validations), one module per sheet, and `save`.

Formulas on Holdings use structured references (`tblHoldings[[#This Row],[Shares]]`)
rather than cell letters: they keep pointing at the right column when a user reorders
or inserts columns, and totals such as `SUM(tblHoldings[[Current Value]])` grow with the
table when Excel adds a row. LibreOffice 7.4 reads and recalculates them too (the tests
check). Conditional formats, validations and the chart cannot hold structured
references in Excel, so those use A1 ranges and workbook names for settings.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from rebalancer_xl.adapters.template.checklist import checklist_sheet
from rebalancer_xl.adapters.template.dashboard import dashboard_sheet
from rebalancer_xl.adapters.template.holdings import holdings_sheet
from rebalancer_xl.adapters.template.performance import performance_sheet
from rebalancer_xl.adapters.template.save import save_workbook
from rebalancer_xl.adapters.template.settings_sheet import settings_sheet
from rebalancer_xl.adapters.template.style import plain_sheet
from rebalancer_xl.workbook import sample as sample_data
from rebalancer_xl.workbook.schema import (
    ACCOUNTS,
    ACCOUNTS_COLUMNS,
    CHECKLIST,
    DASHBOARD,
    HISTORY,
    HISTORY_COLUMNS,
    HOLDINGS,
    HOUSEHOLD_LOTS_COLUMN,
    HOUSEHOLD_TRADES_COLUMN,
    LOTS,
    LOTS_COLUMNS,
    SHEET_ORDER,
    TRADES,
    TRADES_COLUMNS,
)

__all__ = ["FIXED_TIME", "build_workbook", "render_workbook", "save_workbook"]

#: Fixed document times, so building twice gives the same file.
FIXED_TIME = datetime(2026, 1, 1)


def build_workbook(
    path: str | os.PathLike[str], *, sample: bool = False, household: bool = False
) -> None:
    """Write a new workbook to `path`; with `sample`, filled with the sample portfolio;
    with `household`, with an Accounts sheet and Account columns (SPEC §9).

    The file is written to a temporary name beside `path` and then moved into place, so
    an existing workbook is never left half-written.
    """
    save_workbook(render_workbook(sample=sample, household=household), Path(path))


def render_workbook(*, sample: bool = False, household: bool = False) -> Workbook:
    """The workbook in memory, before it is saved."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for name in SHEET_ORDER:
        wb.create_sheet(name)
    if household:
        # The household's extra columns go last, so every other column keeps its letter.
        wb.create_sheet(ACCOUNTS, index=SHEET_ORDER.index(HOLDINGS) + 1)
        plain_sheet(wb[ACCOUNTS], ACCOUNTS_COLUMNS, sample_data.ACCOUNTS if sample else ())

    settings_sheet(wb, sample)
    holding_rows = holdings_sheet(wb[HOLDINGS], sample, household)
    performance_sheet(wb, sample, household)
    trades = (*TRADES_COLUMNS, HOUSEHOLD_TRADES_COLUMN) if household else TRADES_COLUMNS
    plain_sheet(wb[TRADES], trades, ())
    lots_columns = (*LOTS_COLUMNS, HOUSEHOLD_LOTS_COLUMN) if household else LOTS_COLUMNS
    lots = sample_data.HOUSEHOLD_LOTS if household else sample_data.LOTS
    plain_sheet(wb[LOTS], lots_columns, lots if sample else ())
    plain_sheet(wb[HISTORY], HISTORY_COLUMNS, sample_data.HISTORY if sample else ())
    checklist_sheet(wb[CHECKLIST])
    dashboard_sheet(wb[DASHBOARD], holding_rows, sample, household)

    wb.active = 0
    props = wb.properties
    props.creator = "rebalancer_xl"
    props.title = "Quarterly rebalancing" + (" (sample data)" if sample else "")
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    # Nothing computed is stored in the file: make Excel calculate everything on open.
    wb.calculation.fullCalcOnLoad = True
    return wb

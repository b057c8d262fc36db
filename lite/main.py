"""Run Rebalance in xlwings Lite: Excel 365 and Excel on the web, no local Python.

Paste this file into the xlwings Lite editor (main.py) of a workbook made with
`rebalancer-xl new`, and add rebalancer-xl to its requirements.txt (see README.md).
The script calls the same `run_rebalance` as the desktop button: it reads the
workbook, plans with the same rules as `rebalancer-xl run`, and writes the results,
or shows one alert that lists every problem and writes nothing.

The sheet button: draw a shape over cell W2 of Holdings, name it RunRebalance in the
name box, and link it (Link / Hyperlink → This Document) to cell W2. Clicking it
selects W2, which xlwings Lite turns into a run of this script.
"""

import xlwings as xw
from xlwings import script

from rebalancer_xl.xl import run_rebalance

#: The shape's name and the cell it links to; change both together.
BUTTON = "[RunRebalance]Holdings!W2"


@script(
    name="Run Rebalance",
    button=BUTTON,
    show_taskpane=True,
    # The Dashboard holds only formulas and a chart: no need to send its cells.
    exclude=["Dashboard"],
)
def run_rebalance_button(book: xw.Book) -> None:
    """Plan this quarter's rebalance and write it into the workbook."""
    outcome = run_rebalance(book)
    if outcome.plan is None:
        print(f"Not run: {sum(p.is_error for p in outcome.problems)} problem(s); "
              "see the alert.")
        return
    plan = outcome.plan
    print(f"Rebalanced as of {plan.as_of.isoformat()}: {len(plan.trades)} trade(s), "
          f"cash after trades {plan.cash_left:,.2f}, next rebalance "
          f"{plan.next_rebalance_date.isoformat()}.")

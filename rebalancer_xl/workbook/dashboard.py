"""The Dashboard's rows and their formulas, as text. Pure: the template's adapter
lays them out and styles them.

Column A holds the label, B the value, C a weight where one means something. The rows
find each other's cells through their order in `METRICS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rebalancer_xl.core.model import CASH
from rebalancer_xl.core.rules.metrics import QUARTER_RETURN_LABEL
from rebalancer_xl.core.settings import BY_NAME, display_value
from rebalancer_xl.workbook.formulas import NAME_QUARTER_RETURN, letter, whole
from rebalancer_xl.workbook.schema import (
    DATE,
    GENERAL,
    HISTORY,
    HISTORY_COLUMNS,
    MONEY,
    PERCENT,
    SIGNED_PERCENT,
    HistoryHeader,
    HoldingsHeader,
    setting_defined_name,
)

#: Dashboard rows, top to bottom.
METRICS: tuple[str, ...] = (
    "Total value",
    "Cost (shares × purchase price)",
    "Gain / loss since purchase",
    "Largest position",
    "Smallest position",
    "Cash",
    "Targets add up to",
    QUARTER_RETURN_LABEL,
    "Strategy",
    "As-of date",
    "Last rebalance",
    "Next rebalance",
)
FIRST_METRIC_ROW = 5


@dataclass(frozen=True, slots=True)
class Metric:
    """One Dashboard row: the value formula (column B), the weight formula (column C),
    the value's number format; `array` marks formulas that must be entered as array
    formulas (B and C of the row)."""

    value: str
    share: str | None
    number_format: str
    array: bool = False


def metric_row(label: str) -> int:
    return FIRST_METRIC_ROW + METRICS.index(label)


def _quote_sheet(name: str) -> str:
    # Quoted always (as openpyxl's quote_sheetname does), so any sheet name is safe.
    return "'{}'".format(name.replace("'", "''"))


def dashboard_metrics(household: bool = False) -> dict[str, Metric]:
    """Each metric's formulas, by label, in `METRICS` order.

    In a household the largest and smallest positions are tickers, their weight summed
    over every account's row (SPEC §9), not single rows."""
    h = HoldingsHeader
    value, weight, ticker = whole(h.CURRENT_VALUE), whole(h.WEIGHT), whole(h.TICKER)
    total = f"B{metric_row('Total value')}"
    cost = f"B{metric_row('Cost (shares × purchase price)')}"
    gain = f"B{metric_row('Gain / loss since purchase')}"
    cash = f"B{metric_row('Cash')}"
    strategy = setting_defined_name("Strategy")
    default_strategy = display_value(BY_NAME["Strategy"])
    as_of = setting_defined_name("As-of Date")
    last = setting_defined_name("Last Rebalance Date")
    next_letter = letter(HISTORY_COLUMNS, HistoryHeader.NEXT_DATE)
    next_dates = f"{_quote_sheet(HISTORY)}!${next_letter}$2:${next_letter}$10000"
    # Largest and smallest are among stock positions: cash is not a position to trim,
    # and a zero-share new pick is not held yet. Array formulas, so that Excel versions
    # without dynamic arrays evaluate the IF over the whole column too.
    stock = f'ISNUMBER({weight})*({ticker}<>"{CASH}")'
    if household:
        weight = f"SUMIF({ticker},{ticker},{weight})"

    def position(label: str, pick: str) -> Metric:
        share = f"C{metric_row(label)}"
        name = (
            f"=IF(N({share})>0,INDEX({ticker},MATCH(1,({weight}={share})"
            f'*({ticker}<>"{CASH}"),0)),"")'
        )
        return Metric(name, pick, GENERAL, array=True)

    return {
        "Total value": Metric(f"=SUM({value})", None, MONEY),
        "Cost (shares × purchase price)": Metric(
            f"=SUMPRODUCT({whole(h.SHARES)},{whole(h.PURCHASE_PRICE)})", None, MONEY
        ),
        # Only rows with a Purchase Price gained anything: a blank cost is unknown, and
        # counting such a row's whole value as gain would overstate it (the engine agrees).
        "Gain / loss since purchase": Metric(
            f"=SUMPRODUCT(--ISNUMBER({whole(h.PURCHASE_PRICE)}),{value})-{cost}",
            f'=IF({cost}>0,{gain}/{cost},"")',
            MONEY,
        ),
        "Largest position": position("Largest position", f"=MAX(IF({stock},{weight}))"),
        "Smallest position": position(
            "Smallest position", f"=MIN(IF({stock}*({weight}>0),{weight}))"
        ),
        "Cash": Metric(
            f'=SUMIF({ticker},"{CASH}",{value})', f'=IF({total}>0,{cash}/{total},"")', MONEY
        ),
        "Targets add up to": Metric(f"=SUM({whole(h.TARGET)})", None, PERCENT),
        QUARTER_RETURN_LABEL: Metric(f"={NAME_QUARTER_RETURN}", None, SIGNED_PERCENT),
        "Strategy": Metric(f'=IF({strategy}="","{default_strategy}",{strategy})', None, GENERAL),
        "As-of date": Metric(f'=IF(ISNUMBER({as_of}),{as_of},"today")', None, DATE),
        "Last rebalance": Metric(f'=IF(ISNUMBER({last}),{last},"not set")', None, DATE),
        # Each run writes its Next Rebalance Date to History and snapshots leave it blank,
        # so the latest run's is the largest date in the column.
        "Next rebalance": Metric(
            f'=IF(MAX({next_dates})>0,MAX({next_dates}),"after the first run")', None, DATE
        ),
    }

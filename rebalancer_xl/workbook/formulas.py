"""The workbook's formulas, as text: Holdings (one definition for the template that lays
them out and for a run that opens a new household row, SPEC §9), Performance, and the
drift colours. Pure: no openpyxl; the template's adapter puts them into cells.

The thresholds they test are the core's (model.TIER_FLOORS, rules.metrics, the Settings
defaults): a changed threshold changes the engine and the sheet together.
"""

from __future__ import annotations

from rebalancer_xl.core.model import TIER_FLOORS, Tier
from rebalancer_xl.core.rules.metrics import LAGGARD_BELOW, QUARTER_RETURN_LABEL, WINNER_FROM
from rebalancer_xl.core.settings import BY_NAME
from rebalancer_xl.workbook.grid import column_letter
from rebalancer_xl.workbook.schema import (
    HOLDINGS_TABLE,
    MONEY,
    PERFORMANCE_COLUMNS,
    SIGNED_PERCENT,
    Column,
    HoldingsHeader,
    PerformanceHeader,
    setting_defined_name,
)

#: Names of cells other than settings, for formulas on other sheets.
NAME_LAST_VALUE = "LastRebalanceValue"
NAME_QUARTER_RETURN = "PortfolioQuarterReturn"

# As floats, so a formula reads 0.2, not 0.20.
_WINNER_FROM = float(WINNER_FROM)
_LAGGARD_BELOW = float(LAGGARD_BELOW)

# The score ladder is the core's (model.TIER_FLOORS): a changed floor changes the
# engine's tiers and the sheet's Tier formula together.
_TIER_FLOORS = TIER_FLOORS


def _esc(header: str) -> str:
    # Inside a structured reference these four characters are escaped with a quote.
    return "".join("'" + ch if ch in "[]#'" else ch for ch in header)


def this_row(header: str) -> str:
    return f"{HOLDINGS_TABLE}[[#This Row],[{_esc(header)}]]"


def whole(header: str) -> str:
    return f"{HOLDINGS_TABLE}[[{_esc(header)}]]"


def tier_formula(score: str) -> str:
    text = f'"{Tier.WEAK.label}"'
    for floor, tier in reversed(_TIER_FLOORS):
        text = f'IF({score}>={floor},"{tier.label}",{text})'
    return f'IF(ISNUMBER({score}),{text},"")'


def holdings_formulas(*, household: bool = False) -> dict[str, str]:
    """The formula of each Holdings formula column (no leading '='), by header.

    Blank inputs give blank results rather than errors, so empty rows stay quiet. In a
    household (SPEC §9) a ticker's drift is its weight over all its rows against the
    target given on one of them: the row with the Target % shows the household's drift.
    """
    h = HoldingsHeader
    shares, price = this_row(h.SHARES), this_row(h.CURRENT_PRICE)
    value, weight, target = this_row(h.CURRENT_VALUE), this_row(h.WEIGHT), this_row(h.TARGET)
    if household:
        weight = f"SUMIF({whole(h.TICKER)},{this_row(h.TICKER)},{whole(h.WEIGHT)})"
    return {
        h.CURRENT_VALUE: f'IF(OR({shares}="",{price}=""),"",{shares}*{price})',
        h.WEIGHT: f'IF({value}="","",IFERROR({value}/SUM({whole(h.CURRENT_VALUE)}),""))',
        h.DRIFT: f'IF(OR({this_row(h.WEIGHT)}="",{target}=""),"",{weight}-{target})',
        h.TIER: tier_formula(this_row(h.SCORE)),
    }


def letter(columns: tuple[Column, ...], header: str) -> str:
    """The column letter of `header` among `columns` as the template lays them out."""
    return column_letter([c.header for c in columns].index(header) + 1)


def setting_or_default(name: str) -> str:
    """A setting's cell, or its default when blank: a blank setting means its default,
    so a formula must not read blank as 0."""
    cell = setting_defined_name(name)
    return f"IF(ISNUMBER({cell}),{cell},{BY_NAME[name].default})"


def drift_reaches(drift_cell: str, band_setting: str) -> str:
    """True where the drift in `drift_cell` reaches the band named `band_setting`.

    Rounded as SPEC §1 does (to 0.01 pp), so 30% − 25% counts as a full 5-point drift."""
    size = f"ROUND(ABS({drift_cell}),4)"
    return f"AND(ISNUMBER({drift_cell}),{size}>={setting_or_default(band_setting)})"


def performance_formulas(row: int, *, household: bool = False) -> dict[str, str]:
    """The formula of each Performance formula column on `row` (no leading '=').

    In a household a ticker's shares are summed over its rows in every account."""
    p, h = PerformanceHeader, HoldingsHeader
    cols = PERFORMANCE_COLUMNS
    ticker = f"{letter(cols, p.TICKER)}{row}"
    last_price = f"{letter(cols, p.LAST_PRICE)}{row}"
    price = f"{letter(cols, p.CURRENT_PRICE)}{row}"
    ret = f"{letter(cols, p.RETURN)}{row}"
    weight = f"{letter(cols, p.LAST_WEIGHT)}{row}"
    match = f"MATCH({ticker},{whole(h.TICKER)},0)"
    shares = (
        f"SUMIF({whole(h.TICKER)},{ticker},{whole(h.SHARES)})"
        if household
        else f"INDEX({whole(h.SHARES)},{match})"
    )
    return {
        p.CURRENT_PRICE: (
            f'IF({ticker}="","",IFERROR(INDEX({whole(h.CURRENT_PRICE)},{match}),""))'
        ),
        p.RETURN: (
            f"IF(AND(ISNUMBER({last_price}),ISNUMBER({price})),"
            f'IF({last_price}=0,"",{price}/{last_price}-1),"")'
        ),
        p.LAST_WEIGHT: (
            f'IF(OR({ticker}="",NOT(ISNUMBER({last_price}))),"",'
            f'IFERROR({shares}*{last_price}/{NAME_LAST_VALUE},""))'
        ),
        p.CONTRIBUTION: f'IF(AND(ISNUMBER({weight}),ISNUMBER({ret})),{weight}*{ret},"")',
        # Rounded like drift, so a return of exactly +20% is a Winner despite floats.
        p.CLASS: (
            f'IF(ISNUMBER({ret}),IF(ROUND({ret},4)>={_WINNER_FROM},"Winner",'
            f'IF(ROUND({ret},4)>={_LAGGARD_BELOW},"In-line","Laggard")),"")'
        ),
    }


def performance_summary(first: int, last: int) -> tuple[tuple[str, str, str, str], ...]:
    """The portfolio's rows beside the Performance table over rows `first`…`last`:
    (label, formula with '=', number format, the defined name of its cell)."""
    p, h = PerformanceHeader, HoldingsHeader
    cols = PERFORMANCE_COLUMNS
    tickers = f"${letter(cols, p.TICKER)}${first}:${letter(cols, p.TICKER)}${last}"
    prices = f"${letter(cols, p.LAST_PRICE)}${first}:${letter(cols, p.LAST_PRICE)}${last}"
    contrib = letter(cols, p.CONTRIBUTION)
    return (
        (
            "Value at last rebalance prices",
            f"=SUMPRODUCT(SUMIF({whole(h.TICKER)},{tickers},{whole(h.SHARES)}),{prices})",
            MONEY,
            NAME_LAST_VALUE,
        ),
        (
            QUARTER_RETURN_LABEL,
            f'=IF(N({NAME_LAST_VALUE})>0,SUM({contrib}{first}:{contrib}{last}),"")',
            SIGNED_PERCENT,
            NAME_QUARTER_RETURN,
        ),
    )

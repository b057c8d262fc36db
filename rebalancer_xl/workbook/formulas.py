"""The Holdings table's formulas, as text: one definition for the template that lays
them out and for a run that opens a new household row (SPEC §9). Pure: no openpyxl."""

from __future__ import annotations

from rebalancer_xl.core.model import TIER_FLOORS, Tier
from rebalancer_xl.workbook.schema import HOLDINGS_TABLE, HoldingsHeader

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

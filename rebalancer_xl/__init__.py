"""rebalancer_xl: quarterly portfolio rebalancing by the rulebook, in a living Excel workbook.

The public API is small: `rebalance` (DataFrame in, DataFrame out) and `make_plan` (the
richer `Plan`), over the pure engine `plan`.
"""

from rebalancer_xl.api import RebalanceWarning, make_plan, rebalance
from rebalancer_xl.core.engine import plan
from rebalancer_xl.core.model import (
    Action,
    Decision,
    Flag,
    HistoryEntry,
    Holding,
    InputError,
    Lot,
    PastTrade,
    Plan,
    Problem,
    Strategy,
    Trade,
)
from rebalancer_xl.core.settings import Settings, parse_settings

__all__ = [
    "Action",
    "Decision",
    "Flag",
    "HistoryEntry",
    "Holding",
    "InputError",
    "Lot",
    "PastTrade",
    "Plan",
    "Problem",
    "RebalanceWarning",
    "Settings",
    "Strategy",
    "Trade",
    "make_plan",
    "parse_settings",
    "plan",
    "rebalance",
]
__version__ = "0.1.0"

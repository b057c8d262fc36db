"""The Rule column's words: one readable label per rule id, the only place they are written.

A label may show a setting (the Rule column says "Rule 1 (40% cap)" so a reader sees
which cap acted); the id never does. Example: `rule_label(RuleId.CAP, Settings())` is
"Rule 1 (40% cap)", and with Cap 45% it becomes "Rule 1 (45% cap)" while the id stays `cap`.
"""

from __future__ import annotations

from rebalancer_xl.core.model import RuleId
from rebalancer_xl.core.settings import Settings

_FIXED = {
    RuleId.TIER_DOWNGRADE: "Rule 3 (tier downgrade)",
    RuleId.EXIT_TRIGGERS: "Rule 5 (exit triggers)",
    RuleId.EXIT_SIGNALS: "Rules 3+5 (exit signals)",
    RuleId.FLOOR: "Rule 4 (reversion floor)",
    RuleId.THRESHOLD_BAND: "Threshold band",
    RuleId.HYBRID_BAND: "Hybrid band",
    RuleId.HYBRID_OUTER_BAND: "Hybrid outer band",
    RuleId.CALENDAR: "Calendar",
    RuleId.CRASH_CHECK: "Crash check",
    RuleId.EMERGENCY_ONLY: "Emergency-only run",
    RuleId.TOP_UP: "Top-up (laggard)",
    RuleId.NEW_PICK: "Top-up (new pick)",
    RuleId.UPGRADE: "Top-up (upgrade)",
    RuleId.HARVEST: "Tax-loss harvest",
    RuleId.FUNDING_TRIM: "Funding trim",
    RuleId.WITHDRAWAL: "Withdrawal",
    RuleId.CASH: "Cash",
}


def rule_label(rule: RuleId, settings: Settings, ticker: str = "") -> str:
    """The Rule column's text for `rule`; `ticker` names the Leftover To fund."""
    if rule is RuleId.URGENT_CAP:
        return f"Rule 2 ({settings.urgent_cap:.0%} urgent cap)"
    if rule is RuleId.CAP:
        return f"Rule 1 ({settings.cap:.0%} cap)"
    if rule is RuleId.LEFTOVER:
        return f"Leftover to {ticker}"
    return _FIXED[rule]

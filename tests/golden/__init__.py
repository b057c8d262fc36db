"""Golden plans: a few portfolios on which, together, every rule acts, rendered as text.

`plans.txt` pins the wording of every row (one line per position: action, amount,
shares, rule id, Rule label, reason, flags) and of the plan's notes. A change of wording
shows there as a diff to read, not as forty substring tests to edit. After a deliberate
change, regenerate it and read the diff before committing:

    .venv/bin/python -m tests.golden --update
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from rebalancer_xl import Action, HistoryEntry, Lot, PastTrade, Plan
from tests.tables import run

GOLDEN = Path(__file__).with_name("plans.txt")
D = Decimal


@dataclass(frozen=True)
class Scenario:
    name: str
    table: str
    settings: dict[str, object] = field(default_factory=dict)
    lots: tuple[Lot, ...] = ()
    past_trades: tuple[PastTrade, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    def plan(self) -> Plan:
        return run(
            self.table,
            self.settings,
            lots=self.lots,
            past_trades=self.past_trades,
            history=self.history,
        )


# The rulebook's precedence on one portfolio (the every-rule book of the button tests):
# V = $990,000 held + $10,000 new capital. A 25% Relative Band gives the 4% targets
# bands of 1 and 2 points, so the hybrid band and the outer band act on small rows too.
EVERY_RULE = Scenario(
    "every rule, hybrid, retirement",
    """
    Ticker | Purchase Price | Current Price | Shares | Target % | Score | Previous Score | Exit Triggers Hit | Company Event | Lock
    AAA    | 60             | 100           | 5150   | 0.33     | 80    | 80             | 0                 | No            | No
    BBB    | 70             | 100           | 4050   | 0.32     | 70    | 70             | 0                 | No            | No
    CCC    | 40             | 50            | 100    | 0.02     | 40    | 72             | 0                 | No            | No
    DDD    | 40             | 50            | 100    | 0.02     | 70    | 70             | 2                 | No            | No
    EEE    | 90             | 100           | 100    | 0.09     | 70    | 70             | 0                 | No            | No
    FFF    | 60             | 50            | 100    | 0.06     | 40    | 40             | 0                 | No            | No
    GGG    | 40             | 50            | 100    | 0.06     | 70    | 70             | 0                 | No            | Yes
    HHH    | 90             | 100           | 100    | 0.01     | 70    | 70             | 0                 | Yes           | No
    III    | 90             | 100           | 250    | 0.04     | 70    | 70             | 0                 | No            | No
    JJJ    | 90             | 100           | 150    | 0.04     | 70    | 70             | 0                 | No            | No
    KKK    | 90             | 100           | 100    | 0.01     | 45    | 72             | 1                 | No            | No
    QQQ    | 500            | 500           | 0      | 0        |       |                | 0                 | No            | No
    CASH   | 1              | 1             | 0      | 0        |       |                | 0                 | No            | No
    """,
    {
        "New Capital": 10000,
        "Leftover To": "QQQ",
        "Relative Band": 0.25,
        "Last Rebalance Date": "2026-09-30",
        "Account Type": "Retirement",
    },
)

# A taxable account: the cap's sale takes lots and estimates its tax, sells the gain lot
# before the loss lot that a recent purchase would make a wash sale, points out that the
# gain lot turns long-term soon, and a top-up waits because its ticker was sold at a loss
# inside the wash window while another under-target position is topped up.
TAXABLE = Scenario(
    "taxable: lots, tax, wash sales",
    """
    Ticker | Shares | Current Price | Target % | Score | Purchase Price
    PLTR   | 450    | 100           | 0.30     | 80    | 70
    ALAB   | 220    | 100           | 0.25     | 70    | 120
    CRWV   | 180    | 100           | 0.22     | 70    | 90
    CASH   | 15000  | 1             | 0.23     |       |
    """,
    {},
    lots=(
        Lot("PLTR", date(2026, 1, 10), D(200), D(50)),  # short-term, turns long in 11 days
        Lot("PLTR", date(2026, 12, 20), D(250), D(110)),  # a loss, bought 11 days ago
        Lot("ALAB", date(2026, 3, 1), D(220), D(120)),
        Lot("CRWV", date(2025, 1, 1), D(180), D(90)),
    ),
    past_trades=(
        PastTrade(date(2026, 12, 1), "ALAB", Action.TRIM, D(30), D(100)),  # a loss sale
        PastTrade(date(2026, 12, 24), "PLTR", Action.ADD, D(100), D(100)),  # replaces it
    ),
)

# A withdrawal under the Threshold strategy, every position inside its band: what the
# cash row cannot pay is sold from the most overweight positions, down to their targets.
WITHDRAWAL = Scenario(
    "withdrawal, threshold",
    """
    Ticker | Shares | Current Price | Target % | Score
    A      | 420    | 100           | 0.40     | 70
    B      | 300    | 100           | 0.30     | 70
    C      | 280    | 100           | 0.30     | 70
    CASH   | 0      | 1             | 0        |
    """,
    {
        "Strategy": "Threshold",
        "Withdrawal": 5000,
        "Cap": 0.5,
        "Cap Trim To": 0.45,
        "Urgent Cap": 0.6,
        "Urgent Trim To": 0.5,
    },
)

# A floor buy that cash cannot pay, funded by trimming what is above target (in
# proportion to the excess), though Y and Z are inside their bands.
FUNDING = Scenario(
    "funding trims",
    """
    Ticker | Shares | Current Price | Target % | Score
    X      | 30     | 100           | 0.07     | 60
    Y      | 930    | 100           | 0.90     |
    Z      | 40     | 100           | 0.03     |
    """,
    {"Cap": 0.99, "Cap Trim To": 0.95, "Urgent Cap": 1, "Urgent Trim To": 0.99},
)

# The Calendar strategy: every position back to target, however small its drift; X fell
# one tier (Exceptional → Very Strong), which only asks to monitor it.
CALENDAR = Scenario(
    "calendar",
    """
    Ticker | Shares | Current Price | Target % | Score | Previous Score
    X      | 310    | 100           | 0.30     | 70    | 80
    Y      | 690    | 100           | 0.70     |       |
    """,
    {
        "Strategy": "Calendar",
        "Cap": 0.8,
        "Cap Trim To": 0.75,
        "Urgent Cap": 0.9,
        "Urgent Trim To": 0.85,
    },
)

# Too soon after the last rebalance: only emergencies act, the cap waits.
EMERGENCY = Scenario(
    "emergency-only run",
    """
    Ticker | Shares | Current Price | Target % | Score
    X      | 450    | 100           | 0.30     | 70
    Y      | 550    | 100           | 0.70     |
    """,
    {
        "Last Rebalance Date": "2026-12-01",
        "Cap": 0.4,
        "Urgent Cap": 0.8,
        "Urgent Trim To": 0.7,
        "Cap Trim To": 0.35,
    },
)

# Down 33% in a month: every row is flagged for review and only emergencies trade.
CRASH = Scenario(
    "crash check",
    """
    Ticker | Shares | Current Price | Target % | Score
    X      | 300    | 100           | 0.50     | 70
    Y      | 700    | 100           | 0.50     |
    """,
    {},
    history=(HistoryEntry(date(2026, 12, 3), D(150000)),),
)

# The guide's order for proceeds, with a harvest: the cap's trim realises +$3,000
# long-term; PATH (thesis broken, $80 a share under cost) is sold at a loss to offset it,
# in whole shares just short of it; ALAB and ARM, laggards, are topped up to target first;
# the new pick DBX and the upgraded TEM (Moderate → Strong) share the rest by their room.
PRIORITIES = Scenario(
    "proceeds in the guide's order, upgrade, harvest",
    """
    Ticker | Shares | Current Price | Target % | Score | Previous Score
    PLTR   | 410    | 100           | 0.35     | 80    | 80
    ALAB   | 230    | 100           | 0.25     | 70.8  | 70.8
    TEM    | 100    | 100           | 0.10     | 55    | 45
    DBX    | 0      | 100           | 0.03     | 72    |
    PATH   | 100    | 20            | 0.02     | 30    | 30
    ARM    | 240    | 100           | 0.25     | 60    | 60
    """,
    {"Harvest Losses": "Broken Thesis"},
    lots=(
        Lot("PLTR", date(2024, 6, 1), D(410), D(50)),
        Lot("ALAB", date(2024, 6, 1), D(230), D(90)),
        Lot("TEM", date(2024, 6, 1), D(100), D(80)),
        Lot("PATH", date(2024, 6, 1), D(100), D(100)),
        Lot("ARM", date(2024, 6, 1), D(240), D(90)),
    ),
)

SCENARIOS = (EVERY_RULE, TAXABLE, WITHDRAWAL, FUNDING, CALENDAR, EMERGENCY, CRASH, PRIORITIES)


def render(plan: Plan) -> str:
    """A plan as stable text: one line per position, then the notes and the tax summary."""
    lines = []
    for d in plan.decisions:
        flags = f" [{d.flag_text}]" if d.flags else ""
        lines.append(
            f"{d.ticker:<5} {d.action.value:<4} {d.amount:>12,.2f} {d.shares.normalize():>8,f} sh"
            f"  {d.rule_id.value} ({d.rule}){flags}\n      {d.reason}"
        )
    lines += [f"  note: {n}" for n in plan.notes]
    lines += [f"  tax: {n}" for n in plan.tax.notes]
    return "\n".join(lines)


def render_all() -> str:
    parts = [f"== {s.name}\n{render(s.plan())}\n" for s in SCENARIOS]
    return "\n".join(parts)

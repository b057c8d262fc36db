"""One test per rule and per edge of the rulebook (SPEC §1–§5, §4b)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rebalancer_xl import Action, Flag, HistoryEntry
from rebalancer_xl.core.model import RuleId, Tier, pp
from rebalancer_xl.core.rules.schedule import add_months, next_quarter_end
from rebalancer_xl.core.values import to_decimal
from tests.tables import D, run

WIDE_CAPS = {"Cap": 0.9, "Cap Trim To": 0.85, "Urgent Cap": 0.95, "Urgent Trim To": 0.9}


def two(x_shares: float, x_target: float = 0.25, settings: dict | None = None):
    """X at x_shares × $100 against OTHER filling the rest of $100,000 (target 1 − x)."""
    return run(
        f"""
        Ticker | Shares                | Current Price | Target %          | Score
        X      | {x_shares}            | 100           | {x_target}        | 70
        OTHER  | {1000 - x_shares}     | 100           | {1 - x_target}    |
    """,
        {**WIDE_CAPS, **(settings or {})},
    )


# --- tiers and drift rounding ------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (75, Tier.EXCEPTIONAL),
        (74.99, Tier.VERY_STRONG),
        (65, Tier.VERY_STRONG),
        (64.99, Tier.STRONG),
        (50, Tier.STRONG),
        (49.99, Tier.MODERATE),
        (35, Tier.MODERATE),
        (34.99, Tier.WEAK),
        (0, Tier.WEAK),
        (100, Tier.EXCEPTIONAL),
    ],
)
def test_tier_edges(score, tier):
    assert Tier.of(to_decimal(score)) is tier


def test_30_minus_25_in_floating_point_is_exactly_5_points():
    assert 0.30 - 0.25 != 0.05
    assert pp(to_decimal(0.30 - 0.25)) == Decimal("5.00")


def test_float_target_just_under_25_still_acts_on_the_5_point_edge():
    # 0.30 - 0.05 == 0.24999999999999997 in floating point; the drift still rounds to 5.00.
    target = 0.30 - 0.05
    p = run(
        f"""
        Ticker | Shares | Current Price | Target %      | Score
        X      | 300    | 100           | {target!r}    | 70
        OTHER  | 700    | 100           | {1 - target!r} |
    """,
        WIDE_CAPS,
    )
    d = p.decision("X")
    assert d.drift_pp == Decimal("5.00")
    assert (d.action, d.rule_id) == (Action.TRIM, RuleId.HYBRID_BAND)


# --- strategies and band edges -----------------------------------------------------------


@pytest.mark.parametrize(
    ("shares", "strategy", "action", "amount"),
    [
        (300, "Threshold", Action.TRIM, "5000.00"),  # exactly 5.00 pp acts
        (299.9, "Threshold", Action.HOLD, "0"),  # 4.99 pp holds
        (300, "Hybrid", Action.TRIM, "2500.00"),  # 5.00 → to 27.5%
        (299.9, "Hybrid", Action.HOLD, "0"),
        (350, "Hybrid", Action.TRIM, "10000.00"),  # exactly 10.00 pp → all the way
        (349.9, "Hybrid", Action.TRIM, "7490.00"),  # 9.99 pp → to 27.5%
        (200, "Hybrid", Action.ADD, "2500.00"),  # −5.00 pp → up to 22.5%
        (150, "Hybrid", Action.ADD, "10000.00"),  # −10 pp → to target 25%
        (260, "Calendar", Action.TRIM, "1000.00"),  # calendar: every drift goes
    ],
)
def test_band_edges(shares, strategy, action, amount):
    p = two(shares, settings={"Strategy": strategy, "Whole Shares": "No"})
    d = p.decision("X")
    assert (d.action, d.amount) == (action, D(amount))


def test_relative_band_trips_a_small_target_sooner():
    # A 4% target with a 25% relative band has a ±1 pp band and a ±2 pp outer band.
    plain = two(50, 0.04).decision("X")
    relative = two(50, 0.04, {"Relative Band": 0.25}).decision("X")
    assert plain.action is Action.HOLD
    assert relative.action is Action.TRIM
    assert relative.amount == D("500.00")  # 5% → 4.5% (target + half of the 1 pp band)
    assert relative.rule_id is RuleId.HYBRID_BAND


def test_relative_band_leaves_a_zero_target_on_the_plain_band():
    # The index fund that takes the leftover usually has a 0% target; 3% of it sits
    # inside the plain 5-point band and stays, relative band or not.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 970    | 100           | 1.00     | 70
        QQQ    | 30     | 100           | 0        |
    """,
        {
            "Relative Band": 0.25,
            "Leftover To": "QQQ",
            "Cap": 1,
            "Cap Trim To": 1,
            "Urgent Cap": 1,
            "Urgent Trim To": 1,
        },
    )
    qqq = p.decision("QQQ")
    assert qqq.action is Action.HOLD
    assert "within ±5.00 pp band" in qqq.reason


# --- caps ----------------------------------------------------------------------------------


def caps(x_shares: int, extra_cols: str = "", extra_vals: str = "") -> object:
    return run(
        f"""
        Ticker | Shares         | Current Price | Target % | Score {extra_cols}
        X      | {x_shares}     | 100           | 0.30     | 70 {extra_vals}
        Y      | {1000 - x_shares} | 100        | 0.70     |
    """,
        {"Cap": 0.4, "Urgent Cap": 0.5, "Band": 0.5, "Outer Band": 0.6},
    )


def test_cap_is_strict_at_40_percent():
    assert caps(400).decision("X").action is Action.HOLD


def test_cap_trims_just_above_40_percent():
    d = caps(401).decision("X")
    assert (d.action, d.amount, d.rule_id) == (Action.TRIM, D("5100.00"), RuleId.CAP)
    assert Flag.URGENT not in d.flags


def test_exactly_50_percent_is_the_ordinary_cap():
    d = caps(500).decision("X")
    assert (d.amount, d.rule_id) == (D("15000.00"), RuleId.CAP)


def test_above_50_percent_is_urgent_and_trims_to_40():
    d = caps(501).decision("X")
    assert (d.action, d.amount) == (Action.TRIM, D("10100.00"))
    assert d.rule_id is RuleId.URGENT_CAP
    assert Flag.URGENT in d.flags


def test_exit_signal_and_cap_take_the_larger_sale():
    # 45% with one trigger: half the position ($22,500) beats the cap's $10,000.
    d = caps(450, "| Exit Triggers Hit", "| 1").decision("X")
    assert (d.action, d.amount) == (Action.SELL, D("22500.00"))
    assert "Rule 1 (40% cap)" in d.reason


def test_cap_beats_a_smaller_exit_sale():
    # 60% with a 1-tier-drop MONITOR only: no exit sale, the urgent cap acts.
    d = caps(600, "| Previous Score", "| 80").decision("X")
    assert (d.action, d.amount) == (Action.TRIM, D("20000.00"))
    assert d.flags == frozenset({Flag.URGENT, Flag.MONITOR})


# --- exit signals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "previous", "triggers", "sold"),
    [
        (40, 70, 0, 100),  # Very Strong → Moderate: one signal → half of 200
        (30, 55, 0, 200),  # Strong → Weak: two signals → all
        (60, 80, 0, 0),  # Exceptional → Strong: thesis intact, MONITOR
        (60, 70, 0, 0),  # one rung: MONITOR
        (70, 70, 1, 100),  # one trigger → half
        (70, 70, 2, 200),  # two triggers → all
        (45, 70, 1, 200),  # downgrade + trigger → all
    ],
)
def test_exit_signals(score, previous, triggers, sold):
    p = run(
        f"""
        Ticker | Shares | Current Price | Target % | Score   | Previous Score | Exit Triggers Hit
        X      | 200    | 100           | 0.20     | {score} | {previous}     | {triggers}
        Y      | 800    | 100           | 0.80     |         |                | 0
    """,
        WIDE_CAPS,
    )
    d = p.decision("X")
    assert d.shares == D(sold)
    assert d.action is (Action.SELL if sold else Action.HOLD)
    if sold:
        assert d.rule_id in {RuleId.TIER_DOWNGRADE, RuleId.EXIT_TRIGGERS, RuleId.EXIT_SIGNALS}


def test_blank_score_means_no_tier_rules():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Previous Score
        QQQ    | 200    | 100           | 0.20     |       | 80
        Y      | 800    | 100           | 0.80     |       |
    """,
        WIDE_CAPS,
    )
    assert p.decision("QQQ").action is Action.HOLD
    assert not p.decision("QQQ").flags


# --- reversion floor -----------------------------------------------------------------------


def floor_case(score: int, triggers: int = 0, target: float = 0.10):
    # Y (92% vs 80%) trims $12,000 by the outer band; $5,000 cash is below its 10%
    # target, so $7,000 is free: exactly what X needs to get back to 10%.
    return run(
        f"""
        Ticker | Shares | Current Price | Target %   | Score   | Exit Triggers Hit
        X      | 30     | 100           | {target}   | {score} | {triggers}
        Y      | 920    | 100           | {0.9 - target} |     | 0
        CASH   | 5000   | 1             | 0.10       |         | 0
    """,
        {"Cap": 0.95, "Cap Trim To": 0.9, "Urgent Cap": 0.99, "Urgent Trim To": 0.95},
    )


def test_floor_restores_an_intact_position_to_target():
    d = floor_case(60).decision("X")
    assert (d.action, d.amount, d.rule_id) == (Action.ADD, D("7000.00"), RuleId.FLOOR)


def test_floor_exits_a_broken_position():
    d = floor_case(40).decision("X")
    assert (d.action, d.shares, d.rule_id) == (Action.SELL, D(30), RuleId.FLOOR)
    assert "thesis broken" in d.reason


def test_floor_ignores_targets_of_5_percent_or_less():
    d = floor_case(60, target=0.05).decision("X")
    assert d.rule_id is not RuleId.FLOOR


# --- deploying proceeds --------------------------------------------------------------------


def test_top_ups_split_in_proportion_to_shortfall():
    # $3,000 of cash; A is $4,000 short and B $2,000: they get $2,000 and $1,000.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        A      | 26     | 1000          | 0.30     | 70
        B      | 28     | 1000          | 0.30     | 70
        C      | 43     | 1000          | 0.40     | 70
        CASH   | 3000   | 1             | 0        |
    """,
        {
            "Cap": 0.5,
            "Cap Trim To": 0.45,
            "Urgent Cap": 0.6,
            "Urgent Trim To": 0.5,
            "Whole Shares": "No",
        },
    )
    assert p.decision("A").amount == D("2000.00")
    assert p.decision("B").amount == D("1000.00")
    assert p.decision("A").rule_id is RuleId.TOP_UP


def test_leftover_goes_to_the_index_fund():
    p = run(EXAMPLE_QQQ, {"Leftover To": "QQQ"})
    qqq = p.decision("QQQ")
    assert qqq.action is Action.BUY
    assert qqq.rule_id is RuleId.LEFTOVER
    assert p.cash_left < D("500")  # only what whole shares cannot spend


EXAMPLE_QQQ = """
    Ticker | Shares | Current Price | Target % | Score
    PLTR   | 450    | 100           | 0.35     | 80
    ALAB   | 550    | 100           | 0.65     | 70
    QQQ    | 0      | 500           | 0        |
    CASH   | 10000  | 1             | 0        |
"""


def test_leftover_ticker_must_have_a_row():
    from rebalancer_xl import InputError

    with pytest.raises(InputError) as err:
        run(EXAMPLE_QQQ, {"Leftover To": "VGT"})
    # ALAB's 65% target is warned of in the same pass; the error is the missing VGT row.
    assert [p.code for p in err.value.problems if p.is_error] == ["leftover-ticker-missing"]


def test_required_buys_are_funded_by_trimming_overweight_positions():
    # Calendar: B must go up $10,000 and there is no cash; A is $10,000 over target.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        A      | 40     | 1000          | 0.30     | 70
        B      | 20     | 1000          | 0.30     | 70
        C      | 40     | 1000          | 0.40     | 70
    """,
        {
            "Strategy": "Calendar",
            "Cap": 0.5,
            "Cap Trim To": 0.45,
            "Urgent Cap": 0.6,
            "Urgent Trim To": 0.5,
        },
    )
    assert (p.decision("A").action, p.decision("A").amount) == (Action.TRIM, D("10000.00"))
    assert (p.decision("B").action, p.decision("B").amount) == (Action.ADD, D("10000.00"))


def test_floor_buy_funded_by_funding_trims_in_proportion_to_excess():
    # X needs $4,000 to return to 7%; Y (+3 pp) and Z (+1 pp) are inside their bands
    # but above target: they pay $3,000 and $1,000, in proportion to their excess.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 30     | 100           | 0.07     | 60
        Y      | 930    | 100           | 0.90     |
        Z      | 40     | 100           | 0.03     |
    """,
        {"Cap": 0.99, "Cap Trim To": 0.95, "Urgent Cap": 1, "Urgent Trim To": 0.99},
    )
    y, z = p.decision("Y"), p.decision("Z")
    assert (y.action, y.amount, y.rule_id) == (Action.TRIM, D("3000.00"), RuleId.FUNDING_TRIM)
    assert (z.action, z.amount, z.rule_id) == (Action.TRIM, D("1000.00"), RuleId.FUNDING_TRIM)
    assert (p.decision("X").action, p.decision("X").amount) == (Action.ADD, D("4000.00"))


def test_a_strategy_trim_is_extended_to_fund_buys():
    # Y's hybrid trim (to 92.5%) frees $4,500; X needs $7,000: Y trims $2,500 more.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 30     | 100           | 0.10     | 60
        Y      | 970    | 100           | 0.90     |
    """,
        {"Cap": 0.99, "Cap Trim To": 0.95, "Urgent Cap": 1, "Urgent Trim To": 0.99},
    )
    y = p.decision("Y")
    assert (y.action, y.amount, y.rule_id) == (Action.TRIM, D("7000.00"), RuleId.HYBRID_BAND)
    assert "to fund the buys" in y.reason
    assert p.decision("X").amount == D("7000.00")


def test_rules_only_does_not_trim_drift_and_scales_buys_down():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 30     | 100           | 0.10     | 60
        Y      | 970    | 100           | 0.90     |
        CASH   | 1000   | 1             | 0        |
    """,
        {
            "Sell Mode": "Rules Only",
            "Cap": 0.99,
            "Cap Trim To": 0.95,
            "Urgent Cap": 1,
            "Urgent Trim To": 0.99,
        },
    )
    assert p.decision("Y").action is Action.HOLD
    x = p.decision("X")
    assert (x.action, x.amount) == (Action.ADD, D("1000.00"))
    assert "scaled to the money available" in x.reason


def test_rules_only_says_why_a_wanted_buy_got_no_money():
    # B is 8 points under target: Hybrid buys it to 27.5% ($5,500), but with no cash
    # and no drift sales allowed, nothing pays.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        A      | 380    | 100           | 0.30     | 70
        B      | 220    | 100           | 0.30     | 70
        C      | 400    | 100           | 0.40     | 70
        CASH   | 0      | 1             | 0        |
    """,
        {"Sell Mode": "Rules Only", **WIDE_CAPS},
    )
    b = p.decision("B")
    assert b.action is Action.HOLD
    assert "the buy of $5,500.00 is not placed" in b.reason
    assert "Rules Only" in b.reason


def test_a_wanted_buy_says_so_when_every_overweight_row_is_locked():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Lock
        A      | 380    | 100           | 0.30     | 70    | Yes
        B      | 220    | 100           | 0.30     | 70    |
        C      | 400    | 100           | 0.40     | 70    |
        CASH   | 0      | 1             | 0        |       |
    """,
        WIDE_CAPS,
    )
    b = p.decision("B")
    assert b.action is Action.HOLD
    assert "the buy of $5,500.00 is not placed" in b.reason


def test_new_capital_is_counted_before_weights_and_deployed():
    # $20,000 new capital: V = $100,000; X is 10% vs 30% → back to target.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 100    | 100           | 0.30     | 70
        Y      | 700    | 100           | 0.70     | 70
    """,
        {"New Capital": 20000, **WIDE_CAPS},
    )
    x = p.decision("X")
    assert x.weight == D("0.1")
    assert (x.action, x.amount) == (Action.ADD, D("20000.00"))
    assert p.cash_left == D("0.00")


def test_withdrawal_comes_from_cash_first_then_the_most_overweight():
    # $110,000 held, $10,000 out: V = $100,000. $4,000 cash pays first; the other
    # $6,000 comes from the largest drift first: A (+4 pp) gives $4,000, then B and C
    # (+1 pp each, in row order) $1,000 each. Wide bands keep the strategy quiet.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        A      | 340    | 100           | 0.30     | 70
        B      | 310    | 100           | 0.30     | 70
        C      | 410    | 100           | 0.40     | 70
        CASH   | 4000   | 1             | 0        |
    """,
        {"Withdrawal": 10000, "Band": 0.1, "Outer Band": 0.2, **WIDE_CAPS},
    )
    assert p.portfolio_value == D("100000.00")
    a = p.decision("A")
    assert (a.action, a.amount, a.rule_id) == (Action.TRIM, D("4000.00"), RuleId.WITHDRAWAL)
    assert "withdrawal" in a.reason
    assert p.decision("B").amount == D("1000.00")
    assert p.decision("C").amount == D("1000.00")
    assert p.cash_left == D("0.00")


def test_a_strategy_sale_that_pays_a_withdrawal_rounds_up_so_cash_never_goes_negative():
    # V = $100,000 − $14,285 = $85,715; A (40%) goes back to 30% = $25,714.50, a sale of
    # $14,285.50 = 14.2855 shares. Half-up would sell 14 ($14,000) and leave cash at
    # −$285; paying the withdrawal, the sale rounds up to 15 shares.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        A      | 40     | 1000          | 0.30     | 70
        B      | 600    | 100           | 0.70     | 70
        CASH   | 0      | 1             | 0        |
    """,
        {"Strategy": "Threshold", "Withdrawal": 14285, **WIDE_CAPS},
    )
    a = p.decision("A")
    assert (a.action, a.shares, a.amount) == (Action.TRIM, D(15), D("15000.00"))
    assert "toward the $14,285.00 withdrawal" in a.reason
    assert p.cash_left == D("715.00")


def test_lock_stops_a_trade_and_asks_for_review():
    p = caps(450, "| Lock", "| Yes")
    d = p.decision("X")
    assert (d.action, d.amount) == (Action.HOLD, D(0))
    assert Flag.REVIEW in d.flags
    assert d.rule_id is RuleId.CAP
    assert "locked" in d.reason


def test_company_event_flags_review_and_blocks_buys():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Company Event
        X      | 30     | 100           | 0.10     | 60    | Yes
        Y      | 970    | 100           | 0.90     |       |
    """,
        {"Cap": 0.99, "Cap Trim To": 0.95, "Urgent Cap": 1, "Urgent Trim To": 0.99},
    )
    d = p.decision("X")
    assert d.action is Action.HOLD
    assert Flag.REVIEW in d.flags
    assert "company event" in d.reason


def test_minimum_trade_suppresses_small_trades_and_says_so():
    p = two(300, settings={"Minimum Trade": 3000})
    d = p.decision("X")
    assert d.action is Action.HOLD
    assert "minimum trade" in d.reason


def test_fractional_shares():
    whole = two(300, settings={"Strategy": "Calendar"})
    fractional = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 100    | 30            | 0.50     | 70
        Y      | 100    | 70            | 0.50     | 70
    """,
        {"Strategy": "Calendar", "Whole Shares": "No", **WIDE_CAPS},
    )
    assert whole.decision("X").shares == D(50)
    assert fractional.decision("Y").shares == D("28.571429")


def test_whole_share_buys_round_down_and_never_overspend():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 0      | 333           | 0.5      | 70
        CASH   | 1000   | 1             | 0.5      |
    """,
        WIDE_CAPS,
    )
    x = p.decision("X")
    assert (x.action, x.shares, x.amount) == (Action.BUY, D(1), D("333.00"))
    assert p.cash_left == D("667.00")


# --- schedule, emergencies -----------------------------------------------------------------


def test_next_quarter_end():
    assert next_quarter_end(date(2026, 11, 23)) == date(2026, 12, 31)
    assert next_quarter_end(date(2026, 12, 31)) == date(2027, 3, 31)
    assert next_quarter_end(date(2026, 3, 30)) == date(2026, 3, 31)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_a_run_too_soon_is_emergency_only():
    p = caps(450, "", "")
    early = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 450    | 100           | 0.30     | 70
        Y      | 550    | 100           | 0.70     |
    """,
        {"As-of Date": "2026-11-23", "Last Rebalance Date": "2026-09-30"},
    )
    assert p.decision("X").action is Action.TRIM
    x = early.decision("X")
    assert x.action is Action.HOLD
    assert "54 days" in x.reason
    assert "waits for the full run" in x.reason
    assert early.emergency_only


def test_emergency_only_still_acts_on_the_urgent_cap_and_exit_signals():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Exit Triggers Hit
        X      | 550    | 100           | 0.30     | 70    | 0
        Y      | 300    | 100           | 0.50     | 70    | 2
        Z      | 150    | 100           | 0.20     | 70    | 0
    """,
        {"As-of Date": "2026-11-23", "Last Rebalance Date": "2026-09-30"},
    )
    assert p.decision("X").action is Action.TRIM
    assert Flag.URGENT in p.decision("X").flags
    assert (p.decision("Y").action, p.decision("Y").shares) == (Action.SELL, D(300))
    assert p.decision("Z").action is Action.HOLD  # no top-up in an emergency run


def test_forced_full_run():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        X      | 450    | 100           | 0.30     | 70
        Y      | 550    | 100           | 0.70     |
    """,
        {"As-of Date": "2026-11-23", "Last Rebalance Date": "2026-09-30", "Force Full Run": "yes"},
    )
    assert p.decision("X").action is Action.TRIM
    assert not p.emergency_only


def test_crash_check_reviews_everything_and_only_emergencies_trade():
    table = """
        Ticker | Shares | Current Price | Target % | Score
        X      | 450    | 100           | 0.30     | 70
        Y      | 550    | 100           | 0.70     |
    """
    history = [HistoryEntry(date(2026, 12, 3), D(150000))]
    p = run(table, history=history)
    assert p.crash
    assert all(Flag.REVIEW in d.flags for d in p.decisions if d.ticker != "CASH")
    assert p.decision("X").action is Action.HOLD  # 45% waits; only >50% would act
    calm = run(table, history=[HistoryEntry(date(2026, 12, 3), D(120000))])
    assert not calm.crash
    assert calm.decision("X").action is Action.TRIM


def test_no_history_row_near_30_days_ago_says_so_once():
    p = run(EXAMPLE_QQQ, history=[HistoryEntry(date(2026, 9, 30), D(1))])
    assert sum("crash check skipped" in n for n in p.notes) == 1
    assert not p.crash


def test_next_rebalance_date_three_months_setting():
    p = run(EXAMPLE_QQQ, {"Schedule": "3 Months", "As-of Date": "2026-11-30"})
    assert p.next_rebalance_date == date(2027, 2, 28)
    assert run(EXAMPLE_QQQ).next_rebalance_date == date(2027, 3, 31)


def test_a_rule_id_never_carries_a_setting_while_its_label_shows_it():
    """Changing the Cap changes the Rule column's words, never the rule's id."""
    ids = set()
    for cap in (0.40, 0.45):
        d = run(
            """
            Ticker | Shares | Current Price | Target % | Score
            X      | 470    | 100           | 0.30     | 70
            Y      | 530    | 100           | 0.70     |
        """,
            {"Cap": cap, "Urgent Cap": 0.5, "Band": 0.5, "Outer Band": 0.6},
        ).decision("X")
        ids.add(d.rule_id)
        assert d.rule == f"Rule 1 ({cap:.0%} cap)"
    assert ids == {RuleId.CAP}
    assert all(not any(ch.isdigit() for ch in r.value) for r in RuleId)


# --- the guide's order of priority for proceeds (SPEC §3) --------------------------------


def test_a_new_pick_of_5_percent_is_bought_all_the_way_to_its_target():
    # DBX: 0 sh, target 5%. The hybrid band buys it to 2.5% (target − half band); the
    # proceeds of PLTR's cap trim then carry it, as a new pick, the rest of the way.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 420    | 100           | 0.35     | 80
        ALAB   | 300    | 100           | 0.30     | 70
        ARM    | 280    | 100           | 0.30     | 60
        DBX    | 0      | 100           | 0.05     | 72
    """,
        {"Whole Shares": "No"},
    )
    dbx = p.decision("DBX")
    assert (dbx.action, dbx.amount, dbx.rule_id) == (Action.BUY, D("5000.00"), RuleId.HYBRID_BAND)
    assert "priority 2 (new pick)" in dbx.reason
    assert p.decision("ARM").amount == D("2000.00")  # the laggard first, in full
    assert p.cash_left == D("0.00")


def test_an_upgrade_under_target_is_a_laggard_first_then_an_upgrade():
    # TEM 8% vs 10%, Moderate → Strong: to 10% as a laggard, then to 12.5% as an upgrade.
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Previous Score
        PLTR   | 420    | 100           | 0.35     | 80    | 80
        TEM    | 80     | 100           | 0.10     | 55    | 45
        ALAB   | 500    | 100           | 0.55     | 40    | 40
    """,
        {"Whole Shares": "No", "Cap": 0.6, "Cap Trim To": 0.55, "Urgent Cap": 0.7},
    )
    tem = p.decision("TEM")
    # PLTR +7 pp: hybrid band to 37.5% releases $4,500. ALAB's thesis is broken (no buy):
    # TEM takes $2,000 as a laggard, then its $2,500 of room as an upgrade.
    assert (tem.action, tem.amount, tem.rule_id) == (Action.ADD, D("4500.00"), RuleId.UPGRADE)
    assert "priority 1 (laggard), then priority 2 (upgrade)" in tem.reason
    assert Flag.UPGRADE in tem.flags


def test_an_upgrade_whose_buys_wait_for_a_wash_sale_is_not_paid():
    from datetime import date

    from rebalancer_xl import PastTrade

    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score | Previous Score | Purchase Price
        PLTR   | 410    | 100           | 0.35     | 80    | 80             | 50
        TEM    | 100    | 100           | 0.10     | 55    | 45             | 120
        ALAB   | 490    | 100           | 0.55     |       |                | 90
    """,
        {"Whole Shares": "No", "Cap": 0.6, "Cap Trim To": 0.55, "Urgent Cap": 0.7},
        past_trades=[PastTrade(date(2026, 12, 20), "TEM", Action.SELL, D(10), D(100))],
    )
    tem = p.decision("TEM")
    assert tem.action is Action.HOLD
    assert Flag.UPGRADE not in tem.flags
    assert Flag.WASH_SALE in tem.flags

"""Stage 8, explain: each position's decision, its order, and the reason in words.

The rule that judged a row stays its rule, unless only the allocation moved it (a
withdrawal, a funding trim, a top-up — a laggard, a new pick or an upgrade, the guide's
priorities — or the leftover), which then names the row. The
reason is the judgement's words followed by what the money did: how much went toward the
withdrawal or the rules' buys, and the order placed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from operator import attrgetter

from rebalancer_xl.core.model import (
    CASH,
    CENT,
    ZERO,
    Action,
    Decision,
    Flag,
    RuleId,
    Trade,
    cents,
    new_decision,
    new_trade,
    pp,
)
from rebalancer_xl.core.rules.drift import bands
from rebalancer_xl.core.rules.labels import rule_label
from rebalancer_xl.core.stages.state import PlanState, Position, money

# Enum members bound once: `Action.SELL` costs ~0.12 µs in CPython 3.11 (EnumType's
# __getattr__ hook slows every class attribute read), and these are read on every row.
_SELL, _TRIM, _BUY, _ADD, _HOLD = Action.SELL, Action.TRIM, Action.BUY, Action.ADD, Action.HOLD
_LEFTOVER, _WITHDRAWAL = RuleId.LEFTOVER, RuleId.WITHDRAWAL
_FUNDING_TRIM = RuleId.FUNDING_TRIM


def explain(state: PlanState) -> None:
    s = state.settings
    positions = state.positions
    # The orders' amounts and the cash they leave come first: each decision's Post-Trade
    # % needs the total after trading, and so each row's decision is made in one pass.
    amounts: list[Decimal] = []
    cash_left = state.cash
    for p in positions:
        n = p.shares
        if n < ZERO:
            amount = (-n * p.holding.price).quantize(CENT, ROUND_HALF_UP)
            cash_left += amount
        elif n > ZERO:
            amount = (n * p.holding.price).quantize(CENT, ROUND_HALF_UP)
            cash_left -= amount
        else:
            amount = ZERO
        amounts.append(amount)
    post_values = [p.holding.value + p.shares * p.holding.price for p in positions]
    total_after = sum(post_values, ZERO) + cash_left

    sells: list[Trade] = []  # in the positions' order; sells go first
    buys: list[Trade] = []
    decisions: list[Decision] = []
    labels: dict[RuleId, str] = {}  # the settings are fixed for the plan: word each once
    for p, amount, post in zip(positions, amounts, post_values, strict=True):
        h = p.holding
        n = p.shares
        shares = -n if n < ZERO else n
        rule, why = p.rule, p.why
        if p.suppressed:
            why = f"{why}; {p.suppressed}"
        if n < ZERO:
            action = _SELL if p.exit_sale else _TRIM
            extra = []
            if p.withdrawal > ZERO:
                if p.sell == ZERO:
                    rule = _WITHDRAWAL
                extra.append(
                    f"{money(cents(p.withdrawal))} toward the {money(s.withdrawal)} withdrawal"
                )
            if p.funding > ZERO:
                if p.sell == ZERO and p.withdrawal == ZERO:
                    rule = _FUNDING_TRIM
                extra.append(
                    f"{money(cents(p.funding))} trimmed to fund the buys the rules call for"
                )
            order = _order("sell ", shares, amount)
            why = f"{why}: {'; '.join(extra)}; {order}" if extra else f"{why}: {order}"
        elif n > ZERO:
            action = _BUY if (h.shares == ZERO or p.leftover) else _ADD
            extra = []
            if p.leftover:
                rule = _LEFTOVER
                why = (
                    "priority 3 (leftover): what the laggards, new picks and upgrades left "
                    "goes to the index fund"
                )
            elif p.buy == ZERO and p.top_up > ZERO:
                rule, why = _priority(p, state)
            elif p.top_up > ZERO:
                extra.append(f"topped up with proceeds as {_priority_words(p)}")
            if p.second_priority > ZERO and h.shares > ZERO:
                p.flags.add(Flag.UPGRADE)
            if p.to_buy < p.buy:
                extra.append(
                    f"scaled to the money available ({money(cents(p.to_buy))} of "
                    f"{money(cents(p.buy))})"
                )
            order = _order("buy ", n, amount)
            why = f"{why}: {'; '.join(extra)}; {order}" if extra else f"{why}: {order}"
        else:
            action = _HOLD
            if p.to_sell > ZERO or p.to_buy > ZERO:
                side = "sale" if p.to_sell > ZERO else "buy"
                why += f"; the {side} of {money(cents(p.to_sell or p.to_buy))} rounds to 0 shares"
            elif p.buy > ZERO:  # the rule wanted a buy and no money was left for it
                source = (
                    "Sell Mode Rules Only pays buys from cash and new capital alone"
                    if state.rules_only
                    else "no position above target may be trimmed"
                )
                why += (
                    f"; the buy of {money(cents(p.buy))} is not placed: no money is free "
                    f"for it ({source})"
                )
        if rule is _LEFTOVER:
            label = rule_label(rule, s, h.ticker)
        else:
            label = labels.get(rule) or labels.setdefault(rule, rule_label(rule, s))
        if action is _HOLD:
            pass
        elif n < ZERO:
            sells.append(new_trade(h.ticker, action, shares, h.price, amount, label, rule))
        else:
            buys.append(new_trade(h.ticker, action, shares, h.price, amount, label, rule))
        decisions.append(
            # By position, in Decision's field order: this runs once per holding.
            new_decision(
                h.ticker,
                action,
                amount,
                shares,
                post / total_after if total_after else ZERO,
                label,
                why,
                rule,
                frozenset(p.flags) if p.flags else _NO_FLAGS,
                p.weight,
                h.target,
                # pp(weight − target), as the drift call rounded it, for the rows it judged
                p.drift if p.drift is not None else pp(p.weight - h.target),
                h.value,
                h.row,
            )
        )
    decisions.append(_cash_decision(state, cash_left, total_after))
    # Sells first, each side by row: a stable sort of each side gives what one sort on
    # (is a buy, row) would, without a key tuple per trade.
    rows_in_order = all(a.row <= b.row for a, b in pairwise(decisions))
    if not rows_in_order:
        decisions.sort(key=_ROW)
        row_of = {p.holding.ticker: p.holding.row for p in state.positions}
        sells.sort(key=lambda t: row_of[t.ticker])
        buys.sort(key=lambda t: row_of[t.ticker])
    trades = sells + buys
    state.decisions, state.trades, state.cash_left = decisions, trades, cash_left


_NO_FLAGS: frozenset[Flag] = frozenset()
_ROW = attrgetter("row")


def _priority_words(p: Position) -> str:
    """Which of the guide's priorities paid a top-up (SPEC §3)."""
    if p.second_priority == ZERO:
        return "priority 1 (laggard)"
    if p.holding.shares == ZERO:
        return "priority 2 (new pick)"
    if p.second_priority < p.top_up:
        return "priority 1 (laggard), then priority 2 (upgrade)"
    return "priority 2 (upgrade)"


def _priority(p: Position, state: PlanState) -> tuple[RuleId, str]:
    """The rule and words of a row that only the proceeds moved."""
    h = p.holding
    words = _priority_words(p)
    if p.second_priority == ZERO:
        below = f"{pp(p.weight)}% below target {pp(h.target)}%, thesis intact"
        return RuleId.TOP_UP, f"{below} → {words}: top up to target with proceeds"
    if h.shares == ZERO:
        return RuleId.NEW_PICK, (
            f"new pick (0 sh, target {pp(h.target)}%) → {words}: buy toward target with "
            "what the laggards left"
        )
    # tier_rose says both tiers are known.
    assert h.tier is not None
    assert h.previous_tier is not None
    goal = h.target + bands(h.target, state.settings)[0] / 2
    return RuleId.UPGRADE, (
        f"tier upgrade {h.previous_tier.label} → {h.tier.label} (score "
        f"{_score(h.previous_score)} → {_score(h.score)}), thesis intact → {words}: add up "
        f"to target + half band = {pp(goal)}% with proceeds"
    )


def _score(score: Decimal | None) -> str:
    return "" if score is None else f"{score.normalize():f}"


def _cash_decision(state: PlanState, cash_left: Decimal, total_after: Decimal) -> Decision:
    s, cash_row = state.settings, state.cash_row
    weight = state.cash / state.value
    flows = []
    if s.new_capital:
        flows.append(f"{money(s.new_capital)} new capital")
    if s.withdrawal:
        flows.append(f"{money(s.withdrawal)} withdrawn")
    why = f"cash {money(cents(cash_row.value))}"
    if flows:
        why += f" with {' and '.join(flows)}"
    why += f" → {money(cents(cash_left))} after trades (target {pp(cash_row.target)}%)"
    return Decision(
        ticker=CASH,
        action=Action.HOLD,
        amount=ZERO,
        shares=ZERO,
        post_trade_weight=cash_left / total_after if total_after else ZERO,
        rule=rule_label(RuleId.CASH, s),
        reason=why,
        rule_id=RuleId.CASH,
        weight=weight,
        target=cash_row.target,
        drift_pp=pp(weight - cash_row.target),
        value=state.cash,
        row=cash_row.row,
    )


def _order(side: str, n: Decimal, amount: Decimal) -> str:
    """`sell 1,234 sh ≈ $5,678.90`: the order as every trading row ends (f"{side}{_qty(n)}
    sh ≈ {money(amount)}"), from str() of the numbers where that reads the same: whole
    shares as plain digits, cents under $1,000,000. Decimal.__format__ was a fifth of
    the explaining."""
    q = str(n)
    if q.isdigit():
        if len(q) > 3:
            q = f"{int(q):,}"
    else:
        q = _qty(n)
    a = str(amount)
    size = len(a)
    if a[-3:-2] != "." or not a[0].isdigit() or size > 9:
        return f"{side}{q} sh ≈ {money(amount)}"
    if size > 6:  # 1,000.00 … 999,999.99: one comma
        return f"{side}{q} sh ≈ ${a[:-6]},{a[-6:]}"
    return f"{side}{q} sh ≈ ${a}"


def _qty(n: Decimal) -> str:
    if n != n.to_integral_value():
        return f"{n.normalize():,f}"
    whole = int(n)
    # str() of a small int reads the same as f"{whole:,}" at a tenth of the cost.
    return str(whole) if -1000 < whole < 1000 else f"{whole:,}"

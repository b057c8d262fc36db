"""Stage 8, explain: each position's decision, its order, and the reason in words.

The rule that judged a row stays its rule, unless only the allocation moved it (a
withdrawal, a funding trim, a top-up, the leftover), which then names the row. The
reason is the judgement's words followed by what the money did: how much went toward the
withdrawal or the rules' buys, and the order placed.
"""

from __future__ import annotations

from decimal import Decimal

from rebalancer_xl.model import CASH, ZERO, Action, Decision, RuleId, Trade, cents, pp
from rebalancer_xl.rules.labels import rule_label
from rebalancer_xl.stages.state import PlanState, Position, money


def explain(state: PlanState) -> None:
    s = state.settings
    cash_left = state.cash
    trades: list[Trade] = []
    rows: list[tuple[Position, Action, Decimal, Decimal, RuleId, str, str]] = []
    for p in state.positions:
        h = p.holding
        n = p.shares
        amount = cents(abs(n) * h.price)
        rule, why = p.rule, p.why
        extra: list[str] = []
        if p.suppressed:
            why = f"{why}; {p.suppressed}"
        if n < 0:
            action = Action.SELL if p.exit_sale else Action.TRIM
            if p.withdrawal > 0:
                if p.sell == 0:
                    rule = RuleId.WITHDRAWAL
                extra.append(
                    f"{money(cents(p.withdrawal))} toward the {money(s.withdrawal)} withdrawal"
                )
            if p.funding > 0:
                if p.sell == 0 and p.withdrawal == 0:
                    rule = RuleId.FUNDING_TRIM
                extra.append(
                    f"{money(cents(p.funding))} trimmed to fund the buys the rules call for"
                )
            extra.append(f"sell {_qty(-n)} sh ≈ {money(amount)}")
            cash_left += amount
        elif n > 0:
            action = Action.BUY if (h.shares == 0 or p.leftover) else Action.ADD
            if p.leftover:
                rule = RuleId.LEFTOVER
                why = "money left after top-ups goes to the index fund"
            elif p.buy == 0 and p.top_up > 0:
                rule = RuleId.TOP_UP
                why = (
                    f"{pp(p.weight)}% below target {pp(h.target)}%, thesis intact → "
                    "top up with proceeds"
                )
            elif p.top_up > 0:
                extra.append("topped up toward target with proceeds")
            if p.to_buy < p.buy:
                extra.append(
                    f"scaled to the money available ({money(cents(p.to_buy))} of "
                    f"{money(cents(p.buy))})"
                )
            extra.append(f"buy {_qty(n)} sh ≈ {money(amount)}")
            cash_left -= amount
        else:
            action = Action.HOLD
            if p.to_sell > 0 or p.to_buy > 0:
                side = "sale" if p.to_sell > 0 else "buy"
                why += f"; the {side} of {money(cents(p.to_sell or p.to_buy))} rounds to 0 shares"
            elif p.buy > 0:  # the rule wanted a buy and no money was left for it
                source = (
                    "Sell Mode Rules Only pays buys from cash and new capital alone"
                    if state.rules_only
                    else "no position above target may be trimmed"
                )
                why += (
                    f"; the buy of {money(cents(p.buy))} is not placed: no money is free "
                    f"for it ({source})"
                )
        if extra and action is not Action.HOLD:
            why = f"{why}: {'; '.join(extra)}"
        label = rule_label(rule, s, h.ticker)
        rows.append((p, action, amount, abs(n), rule, label, why))
        if action is not Action.HOLD:
            trades.append(Trade(h.ticker, action, abs(n), h.price, amount, label, rule))

    post_values = [p.holding.value + p.shares * p.holding.price for p in state.positions]
    total_after = sum(post_values, ZERO) + cash_left
    decisions = [
        Decision(
            ticker=p.holding.ticker,
            action=action,
            amount=amount,
            shares=n,
            post_trade_weight=post / total_after if total_after else ZERO,
            rule=label,
            reason=why,
            rule_id=rule,
            flags=frozenset(p.flags),
            weight=p.weight,
            target=p.holding.target,
            drift_pp=pp(p.weight - p.holding.target),
            value=p.holding.value,
            row=p.holding.row,
        )
        for (p, action, amount, n, rule, label, why), post in zip(rows, post_values, strict=True)
    ]
    decisions.append(_cash_decision(state, cash_left, total_after))
    decisions.sort(key=lambda d: d.row)
    row_of = {p.holding.ticker: p.holding.row for p in state.positions}
    trades.sort(key=lambda t: (not t.action.is_sale, row_of[t.ticker]))
    state.decisions, state.trades, state.cash_left = decisions, trades, cash_left


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


def _qty(n: Decimal) -> str:
    return f"{n.normalize():,f}" if n != n.to_integral_value() else f"{int(n):,}"

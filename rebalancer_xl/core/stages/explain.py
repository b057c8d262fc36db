"""Stage 8, explain: each position's decision, its order, and the reason in words.

The rule that judged a row stays its rule, unless only the allocation moved it (a
withdrawal, a funding trim, a top-up — a laggard, a new pick or an upgrade, the guide's
priorities — or the leftover), which then names the row. The
reason is the judgement's words followed by what the money did: how much went toward the
withdrawal or the rules' buys, and the order placed.
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter

from rebalancer_xl.core.model import (
    CASH,
    ZERO,
    Action,
    Decision,
    Flag,
    RuleId,
    Trade,
    new_decision,
    new_trade,
    pp,
)
from rebalancer_xl.core.reasons import (
    Cash,
    Clause,
    FundingTrim,
    Leftover,
    NewPick,
    NotFunded,
    Priority,
    Reason,
    RoundsToZero,
    Scaled,
    ToppedUp,
    TopUp,
    TowardWithdrawal,
    Upgrade,
    new_clause,
    new_order_reason,
    new_reason,
)
from rebalancer_xl.core.rules.drift import bands
from rebalancer_xl.core.rules.labels import rule_label
from rebalancer_xl.core.stages.state import PlanState, Position

# Enum members bound once: `Action.SELL` costs ~0.12 µs in CPython 3.11 (EnumType's
# __getattr__ hook slows every class attribute read), and these are read on every row.
_SELL, _TRIM, _BUY, _ADD, _HOLD = Action.SELL, Action.TRIM, Action.BUY, Action.ADD, Action.HOLD
_LEFTOVER, _WITHDRAWAL = RuleId.LEFTOVER, RuleId.WITHDRAWAL
_FUNDING_TRIM = RuleId.FUNDING_TRIM
_UPGRADE_FLAG = frozenset({Flag.UPGRADE})  # the flag as a set, as judge binds its own


def explain(state: PlanState) -> None:
    s = state.settings
    positions = state.positions
    # The cash the orders leave and the value after them come first: each decision's
    # Post-Trade % needs the total after trading, and so each row's decision is made in
    # one pass. Each order's amount was worked out with its shares (round_shares).
    # Signs are read with truth tests and `is_signed()`, not compared with ZERO: a
    # Decimal comparison fetches the thread's context (~28 ns against ~10), and these
    # run several times a row. Shares are never negative: the side is `selling`.
    # The value after an order is round_shares' (its unrounded shares × price, which the
    # amount was rounded from): one product a row fewer (explain −0.95k instructions
    # a row, round_shares +0.6k for its sum and store).
    cash_left = state.cash
    post_values: list[Decimal] = []
    for p in positions:
        if p.shares:
            if p.selling:
                cash_left += p.amount
            else:
                cash_left -= p.amount
            post_values.append(p.value_after)
        else:
            post_values.append(p.holding.value)
    total_after = sum(post_values, ZERO) + cash_left

    sells: list[Trade] = []  # in the positions' order; sells go first
    buys: list[Trade] = []
    decisions: list[Decision] = []
    labels: dict[RuleId, str] = {}  # the settings are fixed for the plan: word each once
    buys_scaled = state.buys_scaled  # else no row buys less than its rule's buy
    for p, post in zip(positions, post_values, strict=True):
        h = p.holding
        shares = p.shares
        amount = p.amount
        selling = p.selling
        rule = p.rule
        # The clauses say what happened; rebalancer_xl.core.reasons words them when read.
        why = p.why
        if p.suppressed is not None:
            why = (*why, p.suppressed)
        if selling:
            action = _SELL if p.exit_sale else _TRIM
            # The parts of a sale are never negative: a truth test is `> ZERO`.
            if p.withdrawal:
                if not p.sell:
                    rule = _WITHDRAWAL
                why = (*why, TowardWithdrawal(p.withdrawal, s.withdrawal))
            if p.funding:
                if not p.sell and not p.withdrawal:
                    rule = _FUNDING_TRIM
                why = (*why, FundingTrim(p.funding))
        elif shares:  # a buy; its parts (buy, top_up, second_priority) are never negative
            action = _BUY if (not h.shares or p.leftover) else _ADD
            if p.leftover:
                rule = _LEFTOVER
                why = _LEFTOVER_WHY
            elif not p.buy and p.top_up:
                rule, first = _priority(p, state)
                why = (first,)
            elif p.top_up:
                why = (*why, new_clause(ToppedUp, (_priority_of(p),)))
            if p.second_priority and h.shares > ZERO:
                p.flags |= _UPGRADE_FLAG
            if buys_scaled and p.to_buy < p.buy:
                why = (*why, Scaled(p.to_buy, p.buy))
        else:
            action = _HOLD
            # Amounts to trade are never negative: truth tests are `> ZERO`.
            if p.to_sell or p.to_buy:
                why = (*why, RoundsToZero(bool(p.to_sell), p.to_sell or p.to_buy))
            elif p.buy:  # the rule wanted a buy and no money was left for it
                why = (*why, NotFunded(p.buy, state.rules_only))
        if rule is _LEFTOVER:
            label = rule_label(rule, s, h.ticker)
        else:
            try:  # a subscript, not .get(): no method call on every row (try costs nothing)
                label = labels[rule]
            except KeyError:
                label = labels[rule] = rule_label(rule, s)
        # An order: the reason ends with it, and its trade goes on its side. A sale always
        # has shares (round_shares places none worth less than a cent).
        if shares:
            reason = new_order_reason(why, selling, shares, amount)
            trade = new_trade(h.ticker, action, shares, h.price, amount, label, rule)
            (sells if selling else buys).append(trade)
        else:
            reason = new_reason(why)
        decisions.append(
            # By position, in Decision's field order: this runs once per holding.
            new_decision(
                h.ticker,
                action,
                amount,
                shares,
                post / total_after if total_after else ZERO,
                label,
                reason,
                rule,
                p.flags,
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
    # The rows compared as a list of ints with its sorted copy, in C: a generator over
    # pairs of decisions cost ~0.65k instructions a row more.
    rows = [d.row for d in decisions]
    rows_in_order = rows == sorted(rows)
    if not rows_in_order:
        decisions.sort(key=_ROW)
        row_of = {p.holding.ticker: p.holding.row for p in state.positions}
        sells.sort(key=lambda t: row_of[t.ticker])
        buys.sort(key=lambda t: row_of[t.ticker])
    trades = sells + buys
    state.decisions, state.trades, state.cash_left = decisions, trades, cash_left


_LEFTOVER_WHY: tuple[Clause, ...] = (Leftover(),)

_ROW = attrgetter("row")


def _priority_of(p: Position) -> Priority:
    """Which of the guide's priorities paid a top-up (SPEC §3)."""
    # Truth tests for `== ZERO`, and the members bound once: a laggard topped up is
    # asked on many rows.
    if not p.second_priority:
        return _LAGGARD
    if not p.holding.shares:
        return _NEW_PICK
    if p.second_priority < p.top_up:
        return _LAGGARD_THEN_UPGRADE
    return _UPGRADE


_LAGGARD, _NEW_PICK = Priority.LAGGARD, Priority.NEW_PICK
_LAGGARD_THEN_UPGRADE, _UPGRADE = Priority.LAGGARD_THEN_UPGRADE, Priority.UPGRADE


def _priority(p: Position, state: PlanState) -> tuple[RuleId, Clause]:
    """The rule and words of a row that only the proceeds moved."""
    h = p.holding
    if p.second_priority == ZERO:
        return RuleId.TOP_UP, TopUp(p.weight, h.target)
    if h.shares == ZERO:
        return RuleId.NEW_PICK, NewPick(h.target)
    # tier_rose says both tiers are known.
    assert h.tier is not None
    assert h.previous_tier is not None
    goal = h.target + bands(h.target, state.settings)[0] / 2
    words = Upgrade(
        h.previous_tier.label, h.tier.label, h.previous_score, h.score, _priority_of(p), goal
    )
    return RuleId.UPGRADE, words


def _cash_decision(state: PlanState, cash_left: Decimal, total_after: Decimal) -> Decision:
    s, cash_row = state.settings, state.cash_row
    weight = state.cash / state.value
    why = Cash(cash_row.value, s.new_capital, s.withdrawal, cash_left, cash_row.target)
    return Decision(
        ticker=CASH,
        action=Action.HOLD,
        amount=ZERO,
        shares=ZERO,
        post_trade_weight=cash_left / total_after if total_after else ZERO,
        rule=rule_label(RuleId.CASH, s),
        why=Reason((why,)),
        rule_id=RuleId.CASH,
        weight=weight,
        target=cash_row.target,
        drift_pp=pp(weight - cash_row.target),
        value=state.cash,
        row=cash_row.row,
    )

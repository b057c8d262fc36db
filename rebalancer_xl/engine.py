"""The engine: `plan(holdings, settings, as_of=...) -> Plan`. No I/O, no clock.

The plan is made in stages, each a small step over plain values:
1. judge every position by the rulebook in order of precedence (exit signals, caps,
   reversion floor, drift strategy), with locks, company events, emergency-only runs
   and the crash check deciding what may actually trade;
2. fund a withdrawal (cash above target first, then the most overweight positions);
3. fund the buys the rules call for, trimming over-target positions if money is short;
4. top up under-target positions whose thesis is intact, in proportion to shortfall;
5. send what is left to cash or to the index fund named in Leftover To;
6. round to whole (or fractional) shares without ever spending money that isn't there;
then trades below the minimum are dropped and the money is allocated again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

from rebalancer_xl.model import (
    CASH,
    ONE,
    ZERO,
    AccountType,
    Action,
    Decision,
    Flag,
    HistoryEntry,
    Holding,
    Lot,
    PastTrade,
    Plan,
    Problem,
    RuleId,
    SellMode,
    TaxSummary,
    Trade,
    Where,
    cents,
    pp,
)
from rebalancer_xl.problems import problem
from rebalancer_xl.rules import floor as floor_rule
from rebalancer_xl.rules import tax as tax_rules
from rebalancer_xl.rules.caps import cap_breach
from rebalancer_xl.rules.drift import drift_call
from rebalancer_xl.rules.exits import exit_signals
from rebalancer_xl.rules.labels import rule_label
from rebalancer_xl.rules.metrics import portfolio_metrics
from rebalancer_xl.rules.schedule import crash_check, next_rebalance_date, schedule_check
from rebalancer_xl.rules.wash import WASH_WINDOW_DAYS, planned_purchases
from rebalancer_xl.settings import Settings


class _HasTicker(Protocol):
    @property
    def ticker(self) -> str: ...


_T = TypeVar("_T", bound=_HasTicker)

WHOLE = Decimal(1)
FRACTION = Decimal("0.000001")  # fractional shares: brokers take up to six decimals


def money(x: Decimal) -> str:
    return f"${x:,.2f}"


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the rulebook says about one position before any money is allocated."""

    holding: Holding
    weight: Decimal
    rule: RuleId
    why: str
    flags: frozenset[Flag] = frozenset()
    sell: Decimal = ZERO  # exact sale the rules call for
    buy: Decimal = ZERO  # exact buy the rules call for (floor, strategy)
    rule_sale: bool = False  # sold by exit signals, caps or the floor
    exit_sale: bool = False  # a SELL rather than a TRIM
    full_exit: bool = False
    may_top_up: bool = False
    may_fund: bool = False  # may be trimmed to fund buys
    may_withdraw: bool = True  # may be trimmed to fund a withdrawal
    suppressed: str = ""  # why this position's own trade is not placed (minimum trade)
    buy_blocked: bool = False  # no buy of any kind (wash-sale window)


@dataclass(slots=True)
class _Allocation:
    """Money moved for one position while allocating; mutable, private to one pass."""

    sell: Decimal = ZERO
    buy: Decimal = ZERO
    withdrawal: Decimal = ZERO
    funding: Decimal = ZERO
    top_up: Decimal = ZERO
    leftover: bool = False


@dataclass(frozen=True, slots=True)
class _Context:
    settings: Settings
    as_of: date
    value: Decimal  # V: holdings + new capital − withdrawal
    cash: Decimal  # cash after new capital and withdrawal (may be negative)
    cash_target: Decimal
    restricted: RuleId | None  # the rule that lets only emergencies act, if one does

    @property
    def rules_only(self) -> bool:
        return self.settings.sell_mode is SellMode.RULES_ONLY


def plan(
    holdings: Sequence[Holding],
    settings: Settings,
    *,
    as_of: date,
    history: Sequence[HistoryEntry] = (),
    lots: Sequence[Lot] = (),
    past_trades: Sequence[PastTrade] = (),
    warnings: Sequence[Problem] = (),
) -> Plan:
    """Plan one rebalance of validated holdings. See the module docstring for the stages."""
    cash_row = next((h for h in holdings if h.is_cash), None)
    if cash_row is None:
        cash_row = Holding(CASH, ZERO, ONE, ZERO, row=len(holdings))
    positions = [h for h in holdings if not h.is_cash]
    market_value = sum((h.value for h in holdings), ZERO)
    cash = cash_row.value + settings.new_capital - settings.withdrawal
    value = market_value + settings.new_capital - settings.withdrawal
    if value <= 0:
        return _refused(
            problem(
                "withdrawal-too-large",
                "the withdrawal leaves nothing to rebalance",
                Where("Settings", column="Withdrawal"),
            ),
            as_of,
            warnings,
        )

    notes: list[str] = []
    sched = schedule_check(as_of, settings)
    crash = crash_check(history, as_of, market_value)
    notes.append(sched.why)
    notes.append(crash.why)
    restricted = None
    if crash.crashed:
        restricted = RuleId.CRASH_CHECK
    elif sched.emergency_only:
        restricted = RuleId.EMERGENCY_ONLY
    ctx = _Context(settings, as_of, value, cash, cash_row.target, restricted)
    why_restricted = crash.why if crash.crashed else sched.why

    judged = [_judge(h, ctx, why_restricted, crash.crashed) for h in positions]
    if settings.account_type is AccountType.TAXABLE:
        past_by_ticker, lots_by_ticker = _by_ticker(past_trades), _by_ticker(lots)
        judged = [
            _avoid_washing(
                j,
                past_by_ticker.get(j.holding.ticker, ()),
                as_of,
                settings.leftover_to,
                _cost_basis(j.holding, lots_by_ticker.get(j.holding.ticker, ())),
            )
            for j in judged
        ]

    # Trades below the minimum are suppressed and the money allocated again, until none is.
    for _ in range(len(judged) + 1):
        allocation, shares, trade_notes, refusal = _allocate_and_round(judged, ctx)
        if refusal is not None:
            return _refused(refusal, as_of, warnings)
        if settings.minimum_trade <= 0:
            break
        small = {
            j.holding.ticker: f"{money(cents(abs(shares[j.holding.ticker]) * j.holding.price))} "
            f"< minimum trade {money(settings.minimum_trade)}: not placed"
            for j in judged
            if not j.suppressed
            and shares[j.holding.ticker] != 0
            # A withdrawal is owed to the user: its sales are placed however small.
            and allocation[j.holding.ticker].withdrawal == 0
            and cents(abs(shares[j.holding.ticker]) * j.holding.price) < settings.minimum_trade
        }
        if not small:
            break
        judged = [
            _suppress(j, small[j.holding.ticker]) if j.holding.ticker in small else j
            for j in judged
        ]
    notes.extend(trade_notes)

    decisions, trades, cash_left = _render(judged, allocation, shares, ctx, cash_row)
    decisions, trades, tax = _taxes(decisions, trades, holdings, settings, as_of, lots, past_trades)
    gross = sum((t.amount for t in trades), ZERO)
    return Plan(
        decisions=tuple(decisions),
        trades=tuple(trades),
        portfolio_value=cents(value),
        cash_left=cash_left,
        as_of=as_of,
        next_rebalance_date=next_rebalance_date(as_of, settings, not sched.emergency_only),
        emergency_only=restricted is not None,
        notes=tuple(n for n in notes if n),
        problems=tuple(warnings),
        tax=tax,
        turnover=(gross / 2 / value) if value else ZERO,
        crash=crash.crashed,
        metrics=portfolio_metrics(holdings),
    )


# --- stage 1: judge each position -------------------------------------------------------


def _refused(error: Problem, as_of: date, warnings: Sequence[Problem]) -> Plan:
    """No plan: the user's data asks for the impossible; the error says what to fix."""
    return Plan(
        decisions=(),
        trades=(),
        portfolio_value=ZERO,
        cash_left=ZERO,
        as_of=as_of,
        next_rebalance_date=as_of,
        emergency_only=False,
        problems=(error, *warnings),
    )


def _judge(h: Holding, ctx: _Context, why_restricted: str, crashed: bool) -> Judgement:
    s = ctx.settings
    value, weight = h.value, h.value / ctx.value
    flags: set[Flag] = set()
    if crashed:
        flags.add(Flag.REVIEW)

    exits = exit_signals(h)
    if exits.monitor:
        flags.add(Flag.MONITOR)
    w = pp(weight)
    cap = cap_breach(w, s)
    waiting_cap = ""
    if cap is not None and ctx.restricted and not cap.urgent:
        waiting_cap = f"; {cap.why} waits for the full run"
        cap = None

    exit_amount = value * exits.sell_fraction
    cap_amount = max(ZERO, value - cap.trim_to * ctx.value) if cap else ZERO
    j: Judgement
    if exit_amount > 0 or cap_amount > 0:
        if cap is not None and cap.urgent:
            flags.add(Flag.URGENT)
        if exit_amount >= cap_amount:
            share = "sell all" if exits.sell_fraction == 1 else "sell half"
            why = f"{exits.why} → {share}"
            if cap is not None:
                why += f" (also {rule_label(cap.rule, s)}: {cap.why})"
            j = Judgement(
                h,
                weight,
                exits.rule,
                why,
                sell=exit_amount,
                rule_sale=True,
                exit_sale=True,
                full_exit=exits.sell_fraction == 1,
            )
        else:
            assert cap is not None
            why = cap.why + (f" (also exit signals: {exits.why})" if exits.count else "")
            j = Judgement(h, weight, cap.rule, why, sell=cap_amount, rule_sale=True)
    elif ctx.restricted:
        why = why_restricted + waiting_cap
        if exits.why:
            why = f"{exits.why}; {why}"
        j = Judgement(h, weight, ctx.restricted, why, may_withdraw=True)
    else:
        j = _judge_floor_and_drift(h, weight, w, ctx, exits.why)

    if h.company_event:
        flags.add(Flag.REVIEW)
        if not j.rule_sale and (j.sell or j.buy):
            j = _blocked(j, "company event: reassess by hand before trading")
        else:  # the blocked trade's words already name the event
            j = replace(j, why=j.why + "; company event: reassess by hand")
        j = replace(j, may_top_up=False, may_fund=False)
    if h.lock:
        if j.sell or j.buy:
            flags.add(Flag.REVIEW)
            j = _blocked(j, "locked: not traded")
        else:
            j = replace(j, why=j.why + "; locked")
        j = replace(j, may_top_up=False, may_fund=False, may_withdraw=False)
    if flags:  # most rows carry none: skip the copy (a dataclass replace is ~4 µs)
        j = replace(j, flags=j.flags | flags)
    return j


def _judge_floor_and_drift(
    h: Holding, weight: Decimal, w: Decimal, ctx: _Context, exit_why: str
) -> Judgement:
    s, value = ctx.settings, h.value
    prefix = f"{exit_why}; " if exit_why else ""
    intact = h.thesis_intact
    floor = floor_rule.floor_breach(h, w, s)
    if floor is not None:
        if floor.restore:
            return Judgement(
                h,
                weight,
                floor_rule.RULE,
                prefix + floor.why,
                buy=max(ZERO, h.target * ctx.value - value),
                may_top_up=True,
            )
        return Judgement(
            h,
            weight,
            floor_rule.RULE,
            prefix + floor.why,
            sell=value,
            rule_sale=True,
            exit_sale=True,
            full_exit=True,
        )

    call = drift_call(weight, h.target, s)
    why = prefix + call.why
    top_up = intact and h.target > 0
    amount = ZERO if call.goal is None else value - call.goal * ctx.value
    if amount > 0:
        if ctx.rules_only:
            why += f"; Sell Mode Rules Only: trim of {money(cents(amount))} not placed"
            return Judgement(h, weight, call.rule, why, may_top_up=top_up, may_fund=True)
        return Judgement(h, weight, call.rule, why, sell=amount, may_top_up=top_up, may_fund=True)
    if amount < 0:
        if not intact:
            why += f"; thesis broken ({floor_rule.thesis_words(h)}): no buy"
            return Judgement(h, weight, call.rule, why, may_fund=True)
        return Judgement(h, weight, call.rule, why, buy=-amount, may_top_up=top_up)
    return Judgement(h, weight, call.rule, why, may_top_up=top_up, may_fund=True)


def _by_ticker(items: Iterable[_T]) -> dict[str, list[_T]]:
    """Lots or trades grouped by ticker, in input order: each row then looks at its own
    instead of scanning every ticker's (which made large portfolios quadratic)."""
    grouped: dict[str, list[_T]] = {}
    for item in items:
        grouped.setdefault(item.ticker, []).append(item)
    return grouped


def _cost_basis(h: Holding, lots: Sequence[Lot]) -> Decimal | None:
    """Cost per share of a position: Purchase Price, else the average of its lots."""
    if h.purchase_price is not None:
        return h.purchase_price
    shares = sum((lot.shares for lot in lots), ZERO)
    if shares <= 0:
        return None
    return sum((lot.shares * lot.cost_per_share for lot in lots), ZERO) / shares


def _avoid_washing(
    j: Judgement, past: Sequence[PastTrade], as_of: date, leftover_to: str, basis: Decimal | None
) -> Judgement:
    """No buy back within 30 days of a loss sale of the same ticker (SPEC §6).

    Buying then would disallow that loss (a wash sale). Every buy the plan could make
    waits, the rule's and the top-up alike: a drift correction loses little by waiting a
    few days, a disallowed loss is real money. The row is flagged WASH-SALE and says
    when buying may resume; sales are not affected.
    """
    h = j.holding
    for t in past:
        if (
            t.ticker == h.ticker
            and t.side.is_sale
            and 0 <= (as_of - t.date).days <= WASH_WINDOW_DAYS
            and t.price is not None
            and basis is not None
            and t.price < basis
        ):
            if j.buy == 0 and not j.may_top_up and h.ticker != leftover_to:
                return j  # nothing this plan could buy: nothing to hold back
            first_safe = t.date + timedelta(days=WASH_WINDOW_DAYS + 1)
            wanted = f"a buy of {money(cents(j.buy))}" if j.buy else "any buy"
            return replace(
                j,
                buy=ZERO,
                may_top_up=False,
                buy_blocked=True,
                flags=j.flags | {Flag.WASH_SALE},
                why=(
                    f"{j.why}; {wanted} waits until {first_safe}: {h.ticker} was sold at a "
                    f"loss on {t.date}, and buying back within 30 days would be a wash sale"
                ),
            )
    return j


def _suppress(j: Judgement, because: str) -> Judgement:
    """No trade of its own for this position; it may still pay toward a withdrawal."""
    return replace(
        j,
        sell=ZERO,
        buy=ZERO,
        rule_sale=False,
        exit_sale=False,
        full_exit=False,
        may_top_up=False,
        may_fund=False,
        suppressed=because,
    )


def _blocked(j: Judgement, because: str) -> Judgement:
    wanted = f"sell {money(cents(j.sell))}" if j.sell else f"buy {money(cents(j.buy))}"
    return replace(
        j,
        why=f"{j.why}; wanted to {wanted}, {because}",
        sell=ZERO,
        buy=ZERO,
        rule_sale=False,
        exit_sale=False,
        full_exit=False,
    )


# --- stages 2–6: allocate money, then round to shares ------------------------------------


def _allocate_and_round(
    judged: Sequence[Judgement], ctx: _Context
) -> tuple[dict[str, _Allocation], dict[str, Decimal], list[str], Problem | None]:
    s = ctx.settings
    alloc = {j.holding.ticker: _Allocation() for j in judged}
    live = judged
    notes: list[str] = []

    for j in live:
        alloc[j.holding.ticker].sell = j.sell

    def post(j: Judgement) -> Decimal:
        a = alloc[j.holding.ticker]
        return j.holding.value - a.sell + a.buy

    proceeds = sum((a.sell for a in alloc.values()), ZERO)
    money_in = proceeds + ctx.cash - ctx.cash_target * ctx.value

    # Stage 2: a withdrawal is paid from cash above target, then from the most overweight.
    # Sales the rules already make pay first; marked as paying it, they round up below,
    # so the cash is really there after rounding (a strategy trim rounded half-up could
    # leave the cash row short by a share's price).
    owed = -ctx.cash  # what the cash row cannot pay
    for j in live if s.withdrawal > 0 else ():
        a = alloc[j.holding.ticker]
        if owed <= 0:
            break
        if a.sell > 0:
            a.withdrawal = min(a.sell, owed)
            owed -= a.withdrawal
    if s.withdrawal > 0 and money_in < 0:
        need = min(s.withdrawal, -money_in)
        sources = [j for j in live if j.may_withdraw and not j.full_exit and post(j) > 0]
        by_drift = sorted(
            sources, key=lambda j: (-(post(j) / ctx.value - j.holding.target), j.holding.row)
        )
        for j in by_drift:
            excess = post(j) - j.holding.target * ctx.value
            take = min(need, excess)
            if take > 0:
                alloc[j.holding.ticker].withdrawal += take
                alloc[j.holding.ticker].sell += take
                need -= take
        if need > 0:  # everything is at target: take the rest in proportion to value
            left = {j.holding.ticker: post(j) for j in sources if post(j) > 0}
            for ticker, take in _in_proportion(need, left).items():
                alloc[ticker].withdrawal += take
                alloc[ticker].sell += take
                need -= take
        # Restoring cash to its target is a wish; cash below zero is impossible.
        short = -(ctx.cash + sum((a.sell for a in alloc.values()), ZERO))
        if short > Decimal("0.005"):
            unfunded = problem(
                "withdrawal-unfunded",
                f"the withdrawal is short by {money(cents(short))}: locked rows cannot be sold",
                Where("Settings", column="Withdrawal"),
            )
            return alloc, {}, notes, unfunded
        money_in = (
            sum((a.sell for a in alloc.values()), ZERO) + ctx.cash - ctx.cash_target * ctx.value
        )
    available = max(ZERO, money_in)

    # Stage 3: the buys the rules call for, funded by trims if money is short.
    required = {j.holding.ticker: j.buy for j in live if j.buy > 0}
    wanted = sum(required.values(), ZERO)
    if wanted > available and not ctx.restricted and not ctx.rules_only:
        over_target = {
            j.holding.ticker: post(j) - j.holding.target * ctx.value
            for j in live
            if j.may_fund
            and not j.rule_sale
            and j.buy == 0
            and post(j) > j.holding.target * ctx.value
        }
        for ticker, take in _in_proportion(wanted - available, over_target).items():
            alloc[ticker].funding += take
            alloc[ticker].sell += take
            available += take
    if wanted > available:
        scale = available / wanted if wanted else ZERO
        notes.append(
            f"buys the rules call for ({money(cents(wanted))}) exceed the money "
            f"available ({money(cents(available))}): each scaled to {scale:.1%}"
        )
        required = {t: b * scale for t, b in required.items()}
    for ticker, b in required.items():
        alloc[ticker].buy = b
    available -= sum(required.values(), ZERO)

    # Stage 4: top up under-target positions with an intact thesis, in proportion to need.
    if not ctx.restricted and available > 0:
        shortfall = {
            j.holding.ticker: j.holding.target * ctx.value - post(j)
            for j in live
            if j.may_top_up
            and alloc[j.holding.ticker].sell == 0
            and post(j) < j.holding.target * ctx.value
        }
        for ticker, add in _in_proportion(available, shortfall).items():
            alloc[ticker].top_up += add
            alloc[ticker].buy += add
            available -= add

    # Stage 5: the leftover goes to cash, or to the index fund named in Leftover To.
    leftover = next((j for j in live if j.holding.ticker == s.leftover_to), None)
    if (
        leftover is not None
        and not ctx.restricted
        and available > 0
        and not leftover.suppressed
        and not leftover.buy_blocked
        and not leftover.holding.lock
        and alloc[leftover.holding.ticker].sell == 0
    ):
        alloc[leftover.holding.ticker].buy += available
        alloc[leftover.holding.ticker].leftover = True

    return alloc, _round_shares(judged, alloc, ctx), notes, None


def _in_proportion(amount: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split `amount` in proportion to `weights`, giving no key more than its weight."""
    weights = {k: w for k, w in weights.items() if w > 0}
    total = sum(weights.values(), ZERO)
    if total <= 0 or amount <= 0:
        return {}
    if amount >= total:
        return dict(weights)
    return {k: amount * w / total for k, w in weights.items()}


def _round_shares(
    judged: Sequence[Judgement], alloc: dict[str, _Allocation], ctx: _Context
) -> dict[str, Decimal]:
    """Signed shares per ticker: sells rounded to the nearest share (a withdrawal rounds
    up, so the cash is really there), buys rounded down so cash is never overspent."""
    s = ctx.settings
    step = WHOLE if s.whole_shares else FRACTION
    shares: dict[str, Decimal] = {}
    proceeds = ZERO
    planned_sells = planned_buys = ZERO
    for j in judged:
        h, a = j.holding, alloc[j.holding.ticker]
        shares[h.ticker] = ZERO
        if a.sell <= 0:
            continue
        planned_sells += a.sell
        if j.full_exit or a.sell >= h.value:
            n = h.shares
        else:
            mode = ROUND_CEILING if a.withdrawal > 0 else ROUND_HALF_UP
            n = min(h.shares, (a.sell / h.price).quantize(step, rounding=mode))
        if cents(n * h.price) == 0:  # worth less than a cent: nothing to place
            continue
        shares[h.ticker] = -n
        proceeds += cents(n * h.price)

    buys = [j for j in judged if alloc[j.holding.ticker].buy > 0]
    planned_buys = sum((alloc[j.holding.ticker].buy for j in buys), ZERO)
    # Cash the plan meant to keep stays kept, even when sells rounded down.
    planned_cash = ctx.cash + planned_sells - planned_buys
    keep = max(ZERO, min(planned_cash, ctx.cash_target * ctx.value))
    spendable = max(ZERO, ctx.cash + proceeds - keep)
    scale = min(ONE, spendable / planned_buys) if planned_buys else ONE
    spent = ZERO
    # The index fund buys last and takes what rounding left over from the others.
    for j in sorted(buys, key=lambda j: alloc[j.holding.ticker].leftover):
        h, a = j.holding, alloc[j.holding.ticker]
        budget = a.buy * scale
        if a.leftover:
            budget = spendable - spent
        budget = min(budget, spendable - spent).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        n = (budget / h.price).quantize(step, rounding=ROUND_DOWN)
        while n > 0 and cents(n * h.price) > budget:
            n -= step
        shares[h.ticker] = n if n > 0 and cents(n * h.price) > 0 else ZERO
        spent += cents(shares[h.ticker] * h.price)
    return shares


# --- rendering: decisions, trades, reasons -----------------------------------------------


def _render(
    judged: Sequence[Judgement],
    alloc: dict[str, _Allocation],
    shares: dict[str, Decimal],
    ctx: _Context,
    cash_row: Holding,
) -> tuple[list[Decision], list[Trade], Decimal]:
    s = ctx.settings
    cash_left = ctx.cash
    trades: list[Trade] = []
    rows: list[tuple[Judgement, Action, Decimal, Decimal, RuleId, str, str]] = []
    for j in judged:
        h, a = j.holding, alloc[h_ticker := j.holding.ticker]
        n = shares[h_ticker]
        amount = cents(abs(n) * h.price)
        rule, why = j.rule, j.why
        extra: list[str] = []
        if j.suppressed:
            why = f"{why}; {j.suppressed}"
        if n < 0:
            action = Action.SELL if j.exit_sale else Action.TRIM
            if a.withdrawal > 0:
                if j.sell == 0:
                    rule = RuleId.WITHDRAWAL
                extra.append(
                    f"{money(cents(a.withdrawal))} toward the {money(s.withdrawal)} withdrawal"
                )
            if a.funding > 0:
                if j.sell == 0 and a.withdrawal == 0:
                    rule = RuleId.FUNDING_TRIM
                extra.append(
                    f"{money(cents(a.funding))} trimmed to fund the buys the rules call for"
                )
            extra.append(f"sell {_qty(-n)} sh ≈ {money(amount)}")
            cash_left += amount
        elif n > 0:
            action = Action.BUY if (h.shares == 0 or a.leftover) else Action.ADD
            if a.leftover:
                rule = RuleId.LEFTOVER
                why = "money left after top-ups goes to the index fund"
            elif j.buy == 0 and a.top_up > 0:
                rule = RuleId.TOP_UP
                why = (
                    f"{pp(j.weight)}% below target {pp(h.target)}%, thesis intact → "
                    "top up with proceeds"
                )
            elif a.top_up > 0:
                extra.append("topped up toward target with proceeds")
            if a.buy < j.buy:
                extra.append(
                    f"scaled to the money available ({money(cents(a.buy))} of "
                    f"{money(cents(j.buy))})"
                )
            extra.append(f"buy {_qty(n)} sh ≈ {money(amount)}")
            cash_left -= amount
        else:
            action = Action.HOLD
            if a.sell > 0 or a.buy > 0:
                side = "sale" if a.sell > 0 else "buy"
                why += f"; the {side} of {money(cents(a.sell or a.buy))} rounds to 0 shares"
            elif j.buy > 0:  # the rule wanted a buy and no money was left for it
                source = (
                    "Sell Mode Rules Only pays buys from cash and new capital alone"
                    if ctx.rules_only
                    else "no position above target may be trimmed"
                )
                why += (
                    f"; the buy of {money(cents(j.buy))} is not placed: no money is free "
                    f"for it ({source})"
                )
        if extra:
            why = f"{why}: {'; '.join(extra)}" if action is not Action.HOLD else why
        label = rule_label(rule, s, h_ticker)
        rows.append((j, action, amount, abs(n), rule, label, why))
        if action is not Action.HOLD:
            trades.append(Trade(h_ticker, action, abs(n), h.price, amount, label, rule))

    post_values = {
        j.holding.ticker: j.holding.value + shares[j.holding.ticker] * j.holding.price
        for j in judged
    }
    total_after = sum(post_values.values(), ZERO) + cash_left
    decisions = [
        Decision(
            ticker=j.holding.ticker,
            action=action,
            amount=amount,
            shares=n,
            post_trade_weight=post_values[j.holding.ticker] / total_after if total_after else ZERO,
            rule=label,
            reason=why,
            rule_id=rule,
            flags=j.flags,
            weight=j.weight,
            target=j.holding.target,
            drift_pp=pp(j.weight - j.holding.target),
            value=j.holding.value,
            row=j.holding.row,
        )
        for j, action, amount, n, rule, label, why in rows
    ]
    decisions.append(_cash_decision(cash_row, ctx, cash_left, total_after))
    decisions.sort(key=lambda d: d.row)
    row_of = {j.holding.ticker: j.holding.row for j in judged}
    trades.sort(key=lambda t: (not t.action.is_sale, row_of[t.ticker]))
    return decisions, trades, cash_left


def _cash_decision(
    cash_row: Holding, ctx: _Context, cash_left: Decimal, total_after: Decimal
) -> Decision:
    s = ctx.settings
    weight = ctx.cash / ctx.value
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
        value=ctx.cash,
        row=cash_row.row,
    )


def _qty(n: Decimal) -> str:
    return f"{n.normalize():,f}" if n != n.to_integral_value() else f"{int(n):,}"


# --- taxes (SPEC §6) -----------------------------------------------------------------------


def _taxes(
    decisions: list[Decision],
    trades: list[Trade],
    holdings: Sequence[Holding],
    settings: Settings,
    as_of: date,
    lots: Sequence[Lot],
    past_trades: Sequence[PastTrade],
) -> tuple[list[Decision], list[Trade], TaxSummary]:
    """Pick each sale's lots, estimate its tax, flag wash sales, and sum up the plan."""
    if not settings.account_type.taxed:
        return decisions, trades, tax_rules.summarise([], settings, as_of)
    if not lots:
        return (
            decisions,
            trades,
            TaxSummary(
                applies=False,
                notes=(
                    "No tax lots on the Lots sheet: taxes not estimated. Add lots to see which "
                    "shares each sale takes and the tax it costs.",
                ),
            ),
        )
    buys = [t for t in trades if t.action.is_buy]
    past = [*past_trades, *_recent_lot_purchases(lots, past_trades, as_of)]
    purchases = [*past, *planned_purchases(buys, as_of)]
    lots_of, purchases_of = _by_ticker(lots), _by_ticker(purchases)
    picks = []
    by_ticker = {d.ticker: d for d in decisions}
    new_trades = []
    for t in trades:
        if not t.action.is_sale:
            new_trades.append(t)
            continue
        pick = tax_rules.sell_from_lots(
            t.ticker,
            lots_of.get(t.ticker, []),
            t.shares,
            t.price,
            as_of,
            settings,
            purchases_of.get(t.ticker, []),
        )
        picks.append(pick)
        new_trades.append(
            replace(
                t,
                lots=pick.sales,
                short_term_gain=pick.short_term_gain,
                long_term_gain=pick.long_term_gain,
                estimated_tax=pick.estimated_tax,
            )
        )
        d = by_ticker[t.ticker]
        words = _gain_words(pick)
        flags = d.flags | {Flag.WASH_SALE} if pick.wash_sale else d.flags
        extra = "; ".join(pick.row_notes)
        reason = f"{d.reason}; {words}" + (f"; {extra}" if extra else "")
        by_ticker[t.ticker] = replace(d, reason=reason, flags=frozenset(flags))
    summary = tax_rules.summarise(
        picks, settings, as_of, holdings, lots, past, planned_buys={t.ticker for t in buys}
    )
    return [by_ticker[d.ticker] for d in decisions], new_trades, summary


def _recent_lot_purchases(
    lots: Sequence[Lot], past_trades: Sequence[PastTrade], as_of: date
) -> list[PastTrade]:
    """Lots bought within the wash window before `as_of`, as purchases.

    A lot is a purchase too: shares bought 10 days ago replace shares sold at a loss
    today, whether or not the trade log recorded the buy. A lot whose ticker has a
    purchase in the log on its acquired date is that purchase, not another one.
    """
    logged = {(t.ticker, t.date) for t in past_trades if t.side.is_buy}
    return [
        PastTrade(lot.acquired, lot.ticker, Action.BUY, lot.shares, lot.cost_per_share)
        for lot in lots
        if 0 <= (as_of - lot.acquired).days <= WASH_WINDOW_DAYS
        and (lot.ticker, lot.acquired) not in logged
    ]


def _gain_words(pick: tax_rules.LotPick) -> str:
    if not pick.sales:
        return "no tax lots: tax not estimated"
    parts = []
    if pick.short_term_gain:
        parts.append(f"{pick.short_term_gain:+,.2f} short-term")
    if pick.long_term_gain:
        parts.append(f"{pick.long_term_gain:+,.2f} long-term")
    gains = " and ".join(parts) or "no gain"
    return f"realises {gains}, est. tax {money(pick.estimated_tax)}"

"""A household's plan: the engine decides on the household, the placement executes per
account, and each account's sales get their own lots and tax (SPEC §9).

Example (SPEC §9, "retirement first"): Taxable PLTR 200 sh; IRA PLTR 250, ALAB 300, ARM
250, all at $100. The household holds PLTR at 45%, above the 40% cap: the engine trims
$10,000 and tops up ALAB $2,500 and ARM $7,500. The placement sells the 100 PLTR in the
IRA and buys ALAB and ARM there with the proceeds; the Taxable account realises nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.engine import plan as plan_one
from rebalancer_xl.core.household.aggregate import by_ticker, household_positions
from rebalancer_xl.core.household.placement import Order, Placement, place
from rebalancer_xl.core.model import (
    CASH,
    ZERO,
    Account,
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
    TaxSummary,
    Trade,
    cents,
    new_decision,
)
from rebalancer_xl.core.reasons import (
    CashInAccount,
    Clause,
    InAccount,
    LostToUntaxed,
    NoTax,
    NotPlaced,
    PlacedElsewhere,
    Reason,
)
from rebalancer_xl.core.rules import tax as tax_rules
from rebalancer_xl.core.rules.wash import WASH_WINDOW_DAYS, wash_purchases
from rebalancer_xl.core.settings import Settings
from rebalancer_xl.core.stages.allocate import FRACTION, WHOLE
from rebalancer_xl.core.stages.taxes import gains


def plan_household(
    rows: Sequence[Holding],
    accounts: Sequence[Account],
    settings: Settings,
    *,
    as_of: date,
    history: Sequence[HistoryEntry] = (),
    lots: Sequence[Lot] = (),
    past_trades: Sequence[PastTrade] = (),
    warnings: Sequence[Problem] = (),
) -> Plan:
    """Plan a household: `rows` are every account's Holdings rows (`Holding.account` set;
    blank only on a 0-share row), `lots` and `past_trades` carry their accounts too.
    New Capital arrives in the first account listed."""
    taxed = {a.name: a.type.taxed for a in accounts}
    by_name = {a.name: a for a in accounts}
    positions = household_positions(rows, taxed, _taxable_lot_cost(lots, taxed))
    any_taxed = any(taxed.values())
    taxable = replace(settings, account_type=AccountType.TAXABLE)
    decide = replace(
        settings, account_type=AccountType.TAXABLE if any_taxed else AccountType.RETIREMENT
    )
    # Only a loss sold in a Taxable account can wash; the engine holds back the buys of it.
    taxable_sales = [t for t in past_trades if t.side.is_sale and taxed.get(t.account, False)]
    # Lots are left out of the household's decision: each account's sales are taxed below.
    household = plan_one(
        positions,
        decide,
        as_of=as_of,
        history=history,
        past_trades=taxable_sales,
        warnings=warnings,
    )
    if household.errors:
        return household

    cash = {a.name: ZERO for a in accounts}
    value = {a.name: ZERO for a in accounts}
    for h in rows:
        if h.account in value:
            value[h.account] += h.value
            if h.is_cash:
                cash[h.account] += h.value
    if accounts and settings.new_capital:
        first = accounts[0].name
        cash[first] += settings.new_capital
        value[first] += settings.new_capital
    cash_target = next((h.target for h in positions if h.is_cash), ZERO)
    keep = {name: min(cash[name], cents(cash_target * value[name])) for name in cash}
    step = WHOLE if settings.whole_shares else FRACTION
    lots_of = _lots_by_account(lots)

    def tax_per_share(a: Account, ticker: str, shares: Decimal, price: Decimal) -> Decimal:
        own = lots_of.get((a.name, ticker), [])
        if not own or shares <= 0:
            return ZERO
        pick = tax_rules.sell_from_lots(ticker, own, shares, price, as_of, taxable)
        return pick.estimated_tax / shares

    placement = place(
        household.trades,
        accounts,
        [h for h in rows if not h.is_cash],
        cash,
        keep,
        step,
        tax_per_share,
    )
    trades, notes_of, flags_of, tax = _taxes(
        placement, lots, lots_of, past_trades, by_name, taxable, as_of, rows, any_taxed
    )
    decisions = _decisions(household, rows, placement, notes_of, flags_of)
    gross = sum((t.amount for t in trades), ZERO)
    cash_left = sum((c.cash_after for c in placement.cash), ZERO)
    return replace(
        household,
        decisions=tuple(decisions),
        trades=tuple(trades),
        cash_left=cash_left,
        tax=tax,
        turnover=gross / 2 / household.portfolio_value if household.portfolio_value else ZERO,
        accounts=placement.cash,
    )


def _taxable_lot_cost(lots: Sequence[Lot], taxed: Mapping[str, bool]) -> dict[str, Decimal]:
    """The average cost per share of each ticker's lots in Taxable accounts: the basis a
    past sale's loss is judged by when Holdings gives no Purchase Price (SPEC §6)."""
    shares: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    for lot in lots:
        if taxed.get(lot.account, False):
            shares[lot.ticker] = shares.get(lot.ticker, ZERO) + lot.shares
            cost[lot.ticker] = cost.get(lot.ticker, ZERO) + lot.shares * lot.cost_per_share
    return {t: cost[t] / n for t, n in shares.items() if n > 0}


def _lots_by_account(lots: Sequence[Lot]) -> dict[tuple[str, str], list[Lot]]:
    grouped: dict[tuple[str, str], list[Lot]] = {}
    for lot in lots:
        grouped.setdefault((lot.account, lot.ticker), []).append(lot)
    return grouped


def _taxes(
    placement: Placement,
    lots: Sequence[Lot],
    lots_of: Mapping[tuple[str, str], list[Lot]],
    past_trades: Sequence[PastTrade],
    by_name: Mapping[str, Account],
    taxable: Settings,
    as_of: date,
    rows: Sequence[Holding],
    any_taxed: bool,
) -> tuple[
    list[Trade],
    dict[tuple[str, str], list[Clause]],
    dict[tuple[str, str], frozenset[Flag]],
    TaxSummary,
]:
    """Each order as a Trade with its account; Taxable sales with their lots and tax.

    A wash sale spans accounts: the purchases that replace a loss are every account's
    (the trade log, lots bought in the last 30 days, the plan's own buys). When one was
    made in a Retirement or Roth account the loss is not deferred but lost for good."""
    logged = {(t.account, t.ticker, t.date) for t in past_trades if t.side.is_buy}
    recent = [
        PastTrade(lot.acquired, lot.ticker, Action.BUY, lot.shares, lot.cost_per_share, lot.account)
        for lot in lots
        if 0 <= (as_of - lot.acquired).days <= WASH_WINDOW_DAYS
        and (lot.account, lot.ticker, lot.acquired) not in logged
    ]
    planned = [
        PastTrade(as_of, o.ticker, o.trade.action, o.shares, o.price, o.account.name)
        for o in placement.orders
        if o.shares > 0
    ]
    purchases = [*past_trades, *recent, *planned]
    # Each sale looks at its own ticker's purchases: scanning all of them for every sale
    # made a household of thousands quadratic.
    purchases_of: dict[str, list[PastTrade]] = {}
    for p in purchases:
        purchases_of.setdefault(p.ticker, []).append(p)
    held = {(h.account, h.ticker) for h in rows if h.shares > 0}
    trades: list[Trade] = []
    notes: dict[tuple[str, str], list[Clause]] = {}
    flags: dict[tuple[str, str], frozenset[Flag]] = {}
    picks = []
    for o in placement.orders:
        key = (o.account.name, o.ticker)
        t = o.trade
        action = t.action
        if o.shares > 0 and action is Action.ADD and key not in held:
            action = Action.BUY  # a new position in this account
        trade = Trade(
            o.ticker, action, abs(o.shares), o.price, o.amount, t.rule, t.rule_id, account=key[0]
        )
        if o.shares < 0 and o.account.type.taxed and lots:
            pick = tax_rules.sell_from_lots(
                o.ticker,
                lots_of.get(key, []),
                -o.shares,
                o.price,
                as_of,
                taxable,
                purchases_of.get(o.ticker, []),
            )
            picks.append(pick)
            trade = replace(
                trade,
                lots=pick.sales,
                short_term_gain=pick.short_term_gain,
                long_term_gain=pick.long_term_gain,
                estimated_tax=pick.estimated_tax,
            )
            words: list[Clause] = [gains(pick, in_account=True), *pick.row_notes]
            if pick.wash_sale:
                flags[key] = frozenset({Flag.WASH_SALE})
                lost = sorted(
                    {
                        p.account
                        for p in wash_purchases(o.ticker, as_of, purchases_of.get(o.ticker, []))
                        if p.account in by_name and not by_name[p.account].type.taxed
                    }
                )
                if lost:
                    words.append(LostToUntaxed(tuple(lost)))
            notes[key] = words
        elif o.shares < 0 and not o.account.type.taxed:
            notes[key] = [NoTax(o.account.name, o.account.type.value)]
        trades.append(trade)
    order = {a: i for i, a in enumerate(by_name)}
    trades.sort(key=lambda t: (not t.action.is_sale, order.get(t.account, 0)))

    if not any_taxed:
        summary = tax_rules.summarise(
            [], replace(taxable, account_type=AccountType.RETIREMENT), as_of
        )
    elif not lots:
        summary = TaxSummary(
            applies=False,
            notes=(
                "No tax lots on the Lots sheet: taxes not estimated. Add lots (with their "
                "Account) to see which shares each taxable sale takes and its tax.",
            ),
        )
    else:
        taxed_lots = [
            lot
            for lot in lots
            if by_name.get(lot.account, None) and by_name[lot.account].type.taxed
        ]
        summary = tax_rules.summarise(
            picks,
            taxable,
            as_of,
            [h for h in rows if by_name.get(h.account) and by_name[h.account].type.taxed],
            taxed_lots,
            [*past_trades, *recent],
            planned_buys={p.ticker for p in planned},
        )
    return trades, notes, flags, summary


def _decisions(
    household: Plan,
    rows: Sequence[Holding],
    placement: Placement,
    notes_of: Mapping[tuple[str, str], list[Clause]],
    flags_of: Mapping[tuple[str, str], frozenset[Flag]],
) -> list[Decision]:
    """One decision per account row: the household's rule and reason, and what this
    account does of it. A buy placed where the ticker has no row gets a new row."""
    placed: dict[tuple[str, str], Order] = {(o.account.name, o.ticker): o for o in placement.orders}
    where: dict[str, list[tuple[str, bool, Decimal]]] = {}
    orders_of: dict[str, list[Order]] = {}
    for done in placement.orders:
        orders_of.setdefault(done.ticker, []).append(done)
        where.setdefault(done.ticker, []).append(
            (done.account.name, done.shares < 0, abs(done.shares))
        )
    total = household.portfolio_value
    cash_of = {c.account.name: c for c in placement.cash}
    next_row = max((h.row for h in rows), default=-1) + 1
    out: list[Decision] = []
    rows_of = by_ticker(rows)
    for d in household.decisions:
        group = list(rows_of.get(d.ticker, []))
        if d.ticker == CASH:
            for h in group:
                c = cash_of.get(h.account)
                after = c.cash_after if c is not None else h.value
                why = CashInAccount(
                    h.account,
                    h.value,
                    after,
                    c.sold if c else ZERO,
                    c.bought if c else ZERO,
                    d.why,
                )
                out.append(
                    replace(
                        d,
                        why=Reason((why,)),
                        value=h.value,
                        weight=h.value / total if total else ZERO,
                        post_trade_weight=after / total if total else ZERO,
                        row=h.row,
                        account=h.account,
                    )
                )
            continue
        accounts_here = {h.account for h in group}
        for order in orders_of.get(d.ticker, ()):
            name = order.account.name
            if name not in accounts_here:
                # A buy in an account that does not hold the ticker: a new row there.
                first = group[0] if group else None
                price = first.price if first else order.price
                group.append(Holding(d.ticker, ZERO, price, ZERO, row=next_row, account=name))
                next_row += 1
        left = placement.unplaced.get(d.ticker)
        for h in group:
            o = placed.get((h.account, h.ticker))
            n = ZERO if o is None else o.shares
            extra: list[Clause] = []
            if o is not None:
                extra.append(InAccount(h.account, n < 0, abs(n), o.amount))
                extra.extend(notes_of.get((h.account, h.ticker), []))
            elif d.action is not Action.HOLD and where.get(d.ticker):
                extra.append(PlacedElsewhere(tuple(where[d.ticker])))
            if left is not None:
                extra.append(NotPlaced(left.shares, left.why))
            if o is None:
                action = Action.HOLD
            elif n < 0:
                action = d.action
            else:
                action = Action.ADD if h.shares > 0 else Action.BUY
            post = h.value + n * h.price
            flags = flags_of.get((h.account, h.ticker))
            out.append(
                # The fast constructor: one of these per row of a household of thousands.
                new_decision(
                    d.ticker,
                    action,
                    ZERO if o is None else o.amount,
                    abs(n),
                    post / total if total else ZERO,
                    d.rule,
                    Reason((*d.why.clauses, *extra)) if extra else d.why,
                    d.rule_id,
                    d.flags | flags if flags else d.flags,
                    h.value / total if total else ZERO,
                    d.target,
                    d.drift_pp,
                    h.value,
                    h.row,
                    h.account,
                )
            )
    out.sort(key=lambda d: d.row)
    return out

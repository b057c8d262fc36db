"""Stage 9, taxes (SPEC §6): each sale's lots, its gains and estimated tax, wash sales.

A taxable account with lots gets, on each sell row, the lots taken, the gain by term and
the estimated tax, plus any wash sale or lot about to turn long-term; the plan gets the
summary with the harvest list. A retirement account, or one without lots, says why no
tax is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rebalancer_xl.core.model import (
    Action,
    Flag,
    Lot,
    PastTrade,
    TaxSummary,
    fast_replace,
    new_decision,
    new_trade,
)
from rebalancer_xl.core.reasons import Gains, Reason
from rebalancer_xl.core.rules import tax as tax_rules
from rebalancer_xl.core.rules.wash import WASH_WINDOW_DAYS, planned_purchases
from rebalancer_xl.core.stages.state import PlanState
from rebalancer_xl.core.stages.wash import by_ticker

NO_LOTS = (
    "No tax lots on the Lots sheet: taxes not estimated. Add lots to see which shares each "
    "sale takes and the tax it costs."
)


def taxes(state: PlanState) -> None:
    settings, as_of, lots = state.settings, state.as_of, state.lots
    if not settings.account_type.taxed:
        state.tax = tax_rules.summarise([], settings, as_of)
        return
    if not lots:
        state.tax = TaxSummary(applies=False, notes=(NO_LOTS,))
        return
    buys = [t for t in state.trades if t.action.is_buy]
    past = [*state.past_trades, *recent_lot_purchases(lots, state.past_trades, as_of)]
    purchases = [*past, *planned_purchases(buys, as_of)]
    lots_of, purchases_of = by_ticker(lots), by_ticker(purchases)
    harvest_of = {p.holding.ticker: p.harvest for p in state.positions if p.harvest}
    picks = []
    decision_of = {d.ticker: d for d in state.decisions}
    trades = []
    for t in state.trades:
        if not t.action.is_sale:
            trades.append(t)
            continue
        harvest = harvest_of.get(t.ticker)
        if harvest is not None and harvest.shares == t.shares:
            pick = tax_rules.sell_harvest(
                t.ticker, lots_of.get(t.ticker, []), harvest.sales, as_of, settings
            )
        else:
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
        trades.append(
            fast_replace(
                t,
                new_trade,
                lots=pick.sales,
                short_term_gain=pick.short_term_gain,
                long_term_gain=pick.long_term_gain,
                estimated_tax=pick.estimated_tax,
            )
        )
        d = decision_of[t.ticker]
        flags = d.flags | {Flag.WASH_SALE} if pick.wash_sale else d.flags
        why = Reason((*d.why.clauses, gains(pick), *pick.row_notes))
        decision_of[t.ticker] = fast_replace(d, new_decision, why=why, flags=frozenset(flags))
    state.tax = tax_rules.summarise(
        picks,
        settings,
        as_of,
        state.holdings,
        lots,
        past,
        planned_buys={t.ticker for t in buys},
        # Only harvests placed as orders (a minimum trade may have dropped one).
        harvests=[p.harvest for p in state.positions if p.harvest is not None and p.shares],
    )
    state.decisions = [decision_of[d.ticker] for d in state.decisions]
    state.trades = trades


def recent_lot_purchases(
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


def gains(pick: tax_rules.LotPick, in_account: bool = False) -> Gains:
    """What a sale realises, for its reason: "realises +3,300.00 long-term, est. tax …"."""
    return Gains(
        bool(pick.sales),
        pick.short_term_gain,
        pick.long_term_gain,
        pick.estimated_tax,
        in_account,
    )

"""A household's rows folded into one position per ticker, for the engine to judge.

The household decides (SPEC §9): weights, drift, caps and bands are a ticker's value
over all its accounts against the household's value. Example: PLTR 200 sh in Taxable and
250 sh in an IRA at $100 is one position of 450 sh, $45,000, 45% of a $100,000 household.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from rebalancer_xl.core.model import CASH, ONE, ZERO, Holding


def by_ticker(rows: Sequence[Holding]) -> dict[str, list[Holding]]:
    """The rows of each ticker, CASH included, in input order."""
    grouped: dict[str, list[Holding]] = {}
    for h in rows:
        grouped.setdefault(h.ticker, []).append(h)
    return grouped


def household_positions(
    rows: Sequence[Holding],
    taxed: Mapping[str, bool],
    lot_cost: Mapping[str, Decimal] | None = None,
) -> list[Holding]:
    """One `Holding` per ticker: shares summed, the household's target (the one given on
    its rows: blank ones read as 0, and the rows agree or the input was refused), the
    first score given, the most exit triggers, a company event on any row, locked only
    when every row is (a lock on one account's row is honoured by the placement), and the
    cost of the taxable rows as the purchase price (what a wash-sale check needs).
    `taxed` says, per account name, whether the account is Taxable; `lot_cost` is the
    average cost of a ticker's Taxable lots, for rows with no Purchase Price."""
    lot_cost = lot_cost or {}
    out: list[Holding] = []
    for ticker, group in by_ticker(rows).items():
        if len(group) == 1:
            # Most tickers live in one account: that row is the household's position
            # (the engine never reads its account).
            h = group[0]
            if h.purchase_price is None and ticker in lot_cost:
                h = replace(h, purchase_price=lot_cost[ticker])
            out.append(h)
            continue
        # One pass over the group: a household of thousands folds thousands of these.
        shares, target, triggers = ZERO, ZERO, 0
        score = previous = last = None
        event, locked = False, True
        for h in group:
            shares += h.shares
            target = max(target, h.target)
            triggers = max(triggers, h.exit_triggers)
            score = h.score if score is None else score
            previous = h.previous_score if previous is None else previous
            last = h.last_price if last is None else last
            event = event or h.company_event
            locked = locked and h.lock
        first = group[0]
        out.append(
            Holding(
                ticker,
                shares,
                ONE if ticker == CASH else first.price,
                target,
                score,
                previous,
                triggers,
                event,
                locked,
                _taxable_cost(group, taxed) or lot_cost.get(ticker),
                last,
                first.row,
            )
        )
    return out


def _taxable_cost(group: Sequence[Holding], taxed: Mapping[str, bool]) -> Decimal | None:
    """The average Purchase Price of the ticker's taxable rows, weighted by shares: only a
    taxable account's loss can wash. Falls back to any row's price when none is taxable."""
    for pool in ([h for h in group if taxed.get(h.account, False)], group):
        shares = cost = ZERO
        first: Decimal | None = None
        for h in pool:
            if h.purchase_price is None:
                continue
            first = h.purchase_price if first is None else first
            shares += h.shares
            cost += h.shares * h.purchase_price
        if shares > 0:
            return cost / shares
        if first is not None:
            return first
    return None

"""A household's rows folded into one position per ticker, for the engine to judge.

The household decides (SPEC §9): weights, drift, caps and bands are a ticker's value
over all its accounts against the household's value. Example: PLTR 200 sh in Taxable and
250 sh in an IRA at $100 is one position of 450 sh, $45,000, 45% of a $100,000 household.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from rebalancer_xl.model import CASH, ONE, ZERO, Holding


def by_ticker(rows: Sequence[Holding]) -> dict[str, list[Holding]]:
    """The rows of each ticker, CASH included, in input order."""
    grouped: dict[str, list[Holding]] = {}
    for h in rows:
        grouped.setdefault(h.ticker, []).append(h)
    return grouped


def household_positions(
    rows: Sequence[Holding], targets: Mapping[str, Decimal], taxed: Mapping[str, bool]
) -> list[Holding]:
    """One `Holding` per ticker: shares summed, the household's target (`targets`), the
    first score given, the most exit triggers, a company event on any row, locked only
    when every row is (a lock on one account's row is honoured by the placement), and the
    cost of the taxable rows as the purchase price (what a wash-sale check needs).
    `taxed` says, per account name, whether the account is Taxable."""
    out: list[Holding] = []
    for ticker, group in by_ticker(rows).items():
        first = group[0]
        out.append(
            Holding(
                ticker=ticker,
                shares=sum((h.shares for h in group), ZERO),
                price=ONE if ticker == CASH else first.price,
                target=targets.get(ticker, first.target),
                score=next((h.score for h in group if h.score is not None), None),
                previous_score=next(
                    (h.previous_score for h in group if h.previous_score is not None), None
                ),
                exit_triggers=max(h.exit_triggers for h in group),
                company_event=any(h.company_event for h in group),
                lock=all(h.lock for h in group),
                purchase_price=_taxable_cost(group, taxed),
                last_price=next((h.last_price for h in group if h.last_price is not None), None),
                row=first.row,
            )
        )
    return out


def _taxable_cost(group: Sequence[Holding], taxed: Mapping[str, bool]) -> Decimal | None:
    """The average Purchase Price of the ticker's taxable rows, weighted by shares: only a
    taxable account's loss can wash. Falls back to any row's price when none is taxable."""
    for pool in ([h for h in group if taxed.get(h.account, False)], list(group)):
        priced = [h for h in pool if h.purchase_price is not None and h.shares > 0]
        shares = sum((h.shares for h in priced), ZERO)
        if shares > 0:
            return sum((h.shares * h.purchase_price for h in priced if h.purchase_price), ZERO) / (
                shares
            )
        unweighted = [h.purchase_price for h in pool if h.purchase_price is not None]
        if unweighted:
            return unweighted[0]
    return None

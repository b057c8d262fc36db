"""Tax lots (SPEC §6): how long a lot has been held, and which lots a sale takes.

A sale takes shares from the position's tax lots in a fixed order — Min Tax (the
default) takes lots at a loss first, then long-term lots, then short-term lots, each
highest cost first; HIFO takes the highest cost first; FIFO the oldest first. A lot held
more than one year realises a long-term gain. Example: selling 150 shares at $100 from
lots D (50 sh at $110, a loss) and C (100 sh at $80, long-term) under Min Tax takes D,
then C: −$500 short-term and +$2,000 long-term. `rules.tax` has the full worked example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from rebalancer_xl.model import Lot, LotMethod, LotSale, cents, fast_constructor

_lot_sale_of = fast_constructor(LotSale)  # one or more per sale: see fast_constructor

# --- holding period -------------------------------------------------------------------


def one_year_on(acquired: date) -> date:
    """The day a lot has been held exactly one year: a sale that day is still short-term.

    The holding period starts the day after acquisition and counts in calendar months
    (IRS Pub. 550; Rev. Rul. 66-7). Its anniversary is the same date next year, except
    for a lot bought on the last day of February: Rev. Rul. 66-7 ends the holding months
    of a lot bought on a month's last day on the last day of later months, so its year
    ends on the last day of February next year. Bought 2024-02-29 → one year on
    2025-02-28, long-term from 2025-03-01; bought 2023-02-28 → one year on 2024-02-29,
    long-term from 2024-03-01.
    """
    if acquired.month == 2 and (acquired + timedelta(days=1)).month == 3:
        return date(acquired.year + 1, 3, 1) - timedelta(days=1)
    return acquired.replace(year=acquired.year + 1)


def long_term_from(acquired: date) -> date:
    """The first sale date on which a lot bought on `acquired` is long-term."""
    return one_year_on(acquired) + timedelta(days=1)


def is_long_term(acquired: date, sold: date) -> bool:
    """Held more than one year: sold after the lot's one-year anniversary (`one_year_on`).

    Bought 2025-03-10: sold 2026-03-10 is short-term, 2026-03-11 long-term.
    """
    return sold > one_year_on(acquired)


# --- lot order and lot sales ----------------------------------------------------------


def _order(lots: Sequence[Lot], price: Decimal, sold_on: date, method: LotMethod) -> list[int]:
    """Indices of `lots` in the order a sale consumes them (ties: acquired, row, input)."""

    def tie(i: int) -> tuple[date, int, int]:
        return (lots[i].acquired, lots[i].row, i)

    if method is LotMethod.FIFO:
        return sorted(range(len(lots)), key=tie)
    if method is LotMethod.HIFO:
        return sorted(range(len(lots)), key=lambda i: (-lots[i].cost_per_share, *tie(i)))

    def group(lot: Lot) -> int:
        # A lot with no gain (cost = price) costs no tax either, so it goes with the losses.
        if lot.cost_per_share >= price:
            return 0
        return 1 if is_long_term(lot.acquired, sold_on) else 2

    # Within each group the highest cost comes first; among losses that is the largest
    # loss per share, since every lot sells at the same price.
    return sorted(
        range(len(lots)), key=lambda i: (group(lots[i]), -lots[i].cost_per_share, *tie(i))
    )


def order_lots(lots: Sequence[Lot], price: Decimal, sold_on: date, method: LotMethod) -> list[Lot]:
    """The lots of one ticker in the order a sale at `price` on `sold_on` consumes them.

    Min Tax: lots at a loss (or no gain) first, largest loss per share first; then
    long-term lots, highest cost first; then short-term lots, highest cost first.
    HIFO: highest cost first. FIFO: oldest first. Ties: acquired date, then row.
    """
    return [lots[i] for i in _order(lots, price, sold_on, method)]


def _lot_sale(lot: Lot, shares: Decimal, price: Decimal, sold_on: date) -> LotSale:
    # Proceeds and cost basis are each rounded to cents, as a broker's 1099-B shows them,
    # so gain = proceeds − basis holds to the cent.
    proceeds = cents(shares * price)
    return _lot_sale_of(
        acquired=lot.acquired,
        shares=shares,
        cost_per_share=lot.cost_per_share,
        proceeds=proceeds,
        gain=proceeds - cents(shares * lot.cost_per_share),
        long_term=is_long_term(lot.acquired, sold_on),
    )


def take_indexed(
    lots: Sequence[Lot],
    shares: Decimal,
    price: Decimal,
    sold_on: date,
    method: LotMethod,
    avoid_wash: Callable[[Lot], bool] | None,
) -> list[tuple[int, LotSale]]:
    """The lot sales of a sale, each with the index of the lot it came from."""
    if len({lot.ticker for lot in lots}) > 1:
        raise ValueError("take_lots needs the lots of one ticker")
    order = _order(lots, price, sold_on, method)
    if avoid_wash is not None:
        # A stable partition: washing loss lots go last, so they are sold only when the
        # other lots do not hold enough shares.
        washes = {i for i in order if lots[i].cost_per_share > price and avoid_wash(lots[i])}
        order = [i for i in order if i not in washes] + [i for i in order if i in washes]
    taken: list[tuple[int, LotSale]] = []
    left = shares
    for i in order:
        if left <= 0:
            break
        if lots[i].shares <= 0:
            continue
        n = min(lots[i].shares, left)
        taken.append((i, _lot_sale(lots[i], n, price, sold_on)))
        left -= n
    return taken


def take_lots(
    lots: Sequence[Lot],
    shares: Decimal,
    price: Decimal,
    sold_on: date,
    method: LotMethod,
    avoid_wash: Callable[[Lot], bool] | None = None,
) -> tuple[LotSale, ...]:
    """Sell `shares` of one ticker from `lots` in `order_lots` order, splitting the last lot.

    Each `LotSale` has proceeds = shares × price and gain = proceeds − shares × cost (both
    in cents) and its long-term flag. If the lots hold fewer shares than asked, all of them
    are taken. `avoid_wash(lot)` True marks a loss lot whose sale would be a wash sale:
    such lots move to the back of the order, whatever the method.
    """
    return tuple(sale for _, sale in take_indexed(lots, shares, price, sold_on, method, avoid_wash))

"""Tax lots (SPEC §6): how long a lot has been held, and which lots a sale takes.

A lot held more than one year realises a long-term gain. A sale takes shares from the
position's lots in the Lot Method's order: Min Tax (the default) takes the lot with the
least estimated tax per share first — (price − cost) × the rate of the lot's term, so a
loss (a negative tax) goes before any gain; HIFO the highest cost first; FIFO the oldest
first; LIFO the newest first. Example, selling at $100 with rates 37% / 20%: a
short-term lot at $98 costs 2 × 0.37 = $0.74 a share, a long-term lot at $90 costs
10 × 0.20 = $2.00 a share, so Min Tax sells the short-term lot first, where a fixed
"long-term first" order would pay almost three times the tax. Because every share sold
at one price is alike, taking the cheapest shares first is the least tax any order can
reach for that sale: Min Tax never costs more than HIFO, FIFO or LIFO.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from rebalancer_xl.core.model import ZERO, Lot, LotMethod, LotSale, cents, fast_constructor
from rebalancer_xl.core.settings import Settings

Rates = tuple[Decimal, Decimal]  # (short-term, long-term) tax rates
DEFAULT_RATES: Rates = (Settings().short_term_tax_rate, Settings().long_term_tax_rate)
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


def rates_of(settings: Settings) -> Rates:
    """The (short-term, long-term) rates Min Tax weighs lots by."""
    return settings.short_term_tax_rate, settings.long_term_tax_rate


def tax_per_share(lot: Lot, price: Decimal, sold_on: date, rates: Rates) -> Decimal:
    """Estimated tax of selling one share of `lot` at `price`: negative for a loss."""
    short, long = rates
    return (price - lot.cost_per_share) * (long if is_long_term(lot.acquired, sold_on) else short)


def _order(
    lots: Sequence[Lot], price: Decimal, sold_on: date, method: LotMethod, rates: Rates
) -> list[int]:
    """Indices of `lots` in the order a sale consumes them (ties: acquired, row, input)."""

    def tie(i: int) -> tuple[date, int, int]:
        return (lots[i].acquired, lots[i].row, i)

    every = range(len(lots))
    if method is LotMethod.FIFO:
        return sorted(every, key=tie)
    if method is LotMethod.LIFO:
        # Newest first; lots of one day keep their row order.
        return sorted(every, key=lambda i: (-lots[i].acquired.toordinal(), lots[i].row, i))
    if method is LotMethod.HIFO:
        return sorted(every, key=lambda i: (-lots[i].cost_per_share, *tie(i)))
    # Min Tax: the least tax per share first. Shares sold at one price differ only in
    # the tax they cost, so this greedy order is the least-tax choice for the sale.
    per_share = [tax_per_share(lot, price, sold_on, rates) for lot in lots]
    return sorted(every, key=lambda i: (per_share[i], *tie(i)))


def order_lots(
    lots: Sequence[Lot],
    price: Decimal,
    sold_on: date,
    method: LotMethod,
    rates: Rates = DEFAULT_RATES,
) -> list[Lot]:
    """The lots of one ticker in the order a sale at `price` on `sold_on` consumes them.

    Min Tax: least estimated tax per share first at `rates` (losses first, the largest
    saving first). HIFO: highest cost first. FIFO: oldest first. LIFO: newest first.
    Ties: acquired date (oldest first, newest for LIFO), then row.
    """
    return [lots[i] for i in _order(lots, price, sold_on, method, rates)]


def sale_tax(sales: Sequence[LotSale], rates: Rates) -> Decimal:
    """Tax of one sale before netting: the sum over its lots of gain × the lot's rate
    (a loss counts negative). The measure by which Min Tax is never beaten."""
    short, long = rates
    return sum((s.gain * (long if s.long_term else short) for s in sales), ZERO)


def lot_sale(lot: Lot, shares: Decimal, price: Decimal, sold_on: date) -> LotSale:
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
    rates: Rates = DEFAULT_RATES,
) -> list[tuple[int, LotSale]]:
    """The lot sales of a sale, each with the index of the lot it came from."""
    if len({lot.ticker for lot in lots}) > 1:
        raise ValueError("take_lots needs the lots of one ticker")
    order = _order(lots, price, sold_on, method, rates)
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
        taken.append((i, lot_sale(lots[i], n, price, sold_on)))
        left -= n
    return taken


def take_lots(
    lots: Sequence[Lot],
    shares: Decimal,
    price: Decimal,
    sold_on: date,
    method: LotMethod,
    avoid_wash: Callable[[Lot], bool] | None = None,
    rates: Rates = DEFAULT_RATES,
) -> tuple[LotSale, ...]:
    """Sell `shares` of one ticker from `lots` in `order_lots` order, splitting the last lot.

    Each `LotSale` has proceeds = shares × price and gain = proceeds − shares × cost (both
    in cents) and its long-term flag. If the lots hold fewer shares than asked, all of them
    are taken. `avoid_wash(lot)` True marks a loss lot whose sale would be a wash sale:
    such lots move to the back of the order, whatever the method.
    """
    taken = take_indexed(lots, shares, price, sold_on, method, avoid_wash, rates)
    return tuple(sale for _, sale in taken)

"""Taxes on a plan's sales (SPEC §6): which lots a sale takes, what it realises, what it costs.

The rule in plain words: a sale takes shares from the position's tax lots in a fixed
order — Min Tax (the default) takes lots at a loss first, then long-term lots, then
short-term lots, each highest cost first; HIFO takes the highest cost first; FIFO the
oldest first. A lot held more than one year realises a long-term gain, taxed at the lower
rate. A loss is (partly) disallowed when the same ticker is bought within 30 days either
side of the sale — a wash sale — so the proposal sells other lots first when it can.
Short- and long-term results are netted as the US does; a net loss means no tax, never a
negative one. A retirement account skips all of this (`summarise` says so).

Worked example — sell 150 shares at $100 on 2026-06-30, rates 37% short / 20% long:

    lot  acquired    shares  cost  gain/share  term
    A    2023-05-01  100     $60   +40         long
    B    2025-11-01  100     $85   +15         short
    C    2024-02-01  100     $80   +20         long
    D    2026-01-15   50     $110  −10         short (a loss)

Min Tax takes D (50 × −10 = −$500 short) then C (100 × +20 = +$2,000 long). The short
loss offsets the long gain: $1,500 long-term × 20% = $300 tax. HIFO takes D then B
(100 × +15 = +$1,500 short): $1,000 short-term × 37% = $370. FIFO takes A then C
(100 × 40 + 50 × 20 = +$5,000 long): $1,000.

Min Tax is SPEC §6's rule of thumb, not an optimiser: a short-term lot with a small gain can
cost less tax than a long-term lot with a large one, and Min Tax still takes the long one.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rebalancer_xl.model import (
    ONE,
    ZERO,
    AccountType,
    Holding,
    Lot,
    LotMethod,
    LotSale,
    PastTrade,
    TaxSummary,
    Trade,
    cents,
)
from rebalancer_xl.settings import Settings

WASH_WINDOW_DAYS = 30
RETIREMENT_NOTE = "Retirement account: taxes are not estimated and wash sales do not apply."


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
    return LotSale(
        acquired=lot.acquired,
        shares=shares,
        cost_per_share=lot.cost_per_share,
        proceeds=proceeds,
        gain=proceeds - cents(shares * lot.cost_per_share),
        long_term=is_long_term(lot.acquired, sold_on),
    )


def _take(
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
    return tuple(sale for _, sale in _take(lots, shares, price, sold_on, method, avoid_wash))


# --- wash sales ----------------------------------------------------------------------


def in_wash_window(day: date, sold_on: date) -> bool:
    """Within 30 days before or after the sale, both ends included (day 31 is out)."""
    return abs((day - sold_on).days) <= WASH_WINDOW_DAYS


def wash_purchases(ticker: str, sold_on: date, purchases: Iterable[PastTrade]) -> list[PastTrade]:
    """The purchases (ADD/BUY) of `ticker` inside the wash window of a sale on `sold_on`."""
    return [
        p
        for p in purchases
        if p.ticker == ticker and p.side.is_buy and in_wash_window(p.date, sold_on)
    ]


def planned_purchases(trades: Iterable[Trade], on: date) -> tuple[PastTrade, ...]:
    """The plan's own buys as purchases dated `on`, to join the trade log's for wash sales."""
    return tuple(PastTrade(on, t.ticker, t.action, t.shares) for t in trades if t.action.is_buy)


def wash_sale_disallowed(
    ticker: str,
    sold_on: date,
    loss_shares: Decimal,
    gain: Decimal,
    purchases: Iterable[PastTrade],
    *,
    sold_from_window: Decimal = ZERO,
) -> Decimal:
    """The loss (≥ 0, in cents) a wash sale disallows; 0 when there is no wash sale.

    `loss_shares` shares were sold at a realised `gain` (negative: a loss). Purchases of
    the ticker within 30 days either side are replacement shares; the disallowed part is
    min(1, replacement / loss_shares) × loss. A gain is never a wash sale.
    `sold_from_window`: shares of this sale that were themselves bought inside the
    window — a share cannot replace itself, so they do not count as replacements.
    """
    if gain >= 0 or loss_shares <= 0:
        return ZERO
    bought = sum((p.shares for p in wash_purchases(ticker, sold_on, purchases)), ZERO)
    replacement = bought - sold_from_window
    if replacement <= 0:
        return ZERO
    return cents(-gain * min(ONE, replacement / loss_shares))


def _spread_disallowed(sales: Sequence[LotSale], disallowed: Decimal) -> tuple[LotSale, ...]:
    """Share a disallowed loss among the loss lots in proportion to each lot's loss."""
    losers = [i for i, s in enumerate(sales) if s.gain < 0]
    total = sum((sales[i].gain for i in losers), ZERO)
    out = list(sales)
    left = disallowed
    for n, i in enumerate(losers):
        # The last loss lot takes the remainder, so the parts add up to the cent.
        part = left if n == len(losers) - 1 else cents(disallowed * sales[i].gain / total)
        out[i] = dataclasses.replace(sales[i], disallowed_loss=part)
        left -= part
    return tuple(out)


# --- warnings, netting, harvesting ----------------------------------------------------


def _money(x: Decimal) -> str:
    return f"{'-' if x < 0 else ''}${abs(x):,.2f}"


def _pct(rate: Decimal) -> str:
    text = f"{cents(rate * 100):f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _shares(x: Decimal) -> str:
    return f"{x.normalize():f}"


def short_term_turning_long(
    sales: Iterable[LotSale],
    sold_on: date,
    settings: Settings,
    within_days: int = 30,
    ticker: str = "",
) -> tuple[str, ...]:
    """Warnings for short-term gains whose lot turns long-term within `within_days`.

    E.g. `lot of 2025-12-20 turns long-term on 2026-12-21 (in 12 days): waiting would tax
    the $500.00 gain at 20% instead of 37%`, prefixed by `ticker: ` when given.
    """
    prefix = f"{ticker}: " if ticker else ""
    out = []
    for s in sales:
        if s.long_term or s.gain <= 0:
            continue
        turns = long_term_from(s.acquired)
        days = (turns - sold_on).days
        if 0 < days <= within_days:
            out.append(
                f"{prefix}lot of {s.acquired} turns long-term on {turns} "
                f"(in {days} day{'' if days == 1 else 's'}): waiting would tax the "
                f"{_money(s.gain)} gain at {_pct(settings.long_term_tax_rate)} instead of "
                f"{_pct(settings.short_term_tax_rate)}"
            )
    return tuple(out)


def taxable_gains(short_term_gain: Decimal, long_term_gain: Decimal) -> tuple[Decimal, Decimal]:
    """The (short, long) gains left to tax after US netting; both ≥ 0.

    Each term is already net within itself; a net loss in one term reduces a net gain
    in the other, and a net loss overall leaves nothing to tax.
    """
    st, lt = short_term_gain, long_term_gain
    if st >= 0 and lt >= 0:
        return st, lt
    if st + lt <= 0:
        return ZERO, ZERO
    return (st + lt, ZERO) if st > 0 else (ZERO, st + lt)


def tax_on(short_term_gain: Decimal, long_term_gain: Decimal, settings: Settings) -> Decimal:
    """Estimated tax (cents) at the Settings' rates after netting; never negative."""
    st, lt = taxable_gains(short_term_gain, long_term_gain)
    return cents(st * settings.short_term_tax_rate + lt * settings.long_term_tax_rate)


def harvest_candidates(
    holdings: Iterable[Holding],
    lots: Iterable[Lot],
    as_of: date,
    short_term_gain: Decimal,
    long_term_gain: Decimal,
    settings: Settings,
    exclude: Collection[str] = (),
) -> tuple[tuple[str, Decimal, Decimal], ...]:
    """Positions whose unrealised losses could offset a realised net gain.

    Returns `(ticker, unrealised loss as a positive amount, tax it would save)`, largest
    loss first (ties by ticker); empty when the realised gains net to zero or less. The
    loss is per lot at the holding's price, lots at a gain ignored; a ticker without lots
    falls back to (purchase price − price) × shares, counted as long-term because its term
    is unknown and a long-term loss saves the least. Tax saved = tax on the realised
    gains minus tax with the loss added, so it never exceeds the tax on the gain.
    `exclude`: tickers not to list (sold by the plan, or bought within 30 days).
    """
    if short_term_gain + long_term_gain <= 0:
        return ()
    by_ticker: defaultdict[str, list[Lot]] = defaultdict(list)
    for lot in lots:
        by_ticker[lot.ticker].append(lot)
    tax_now = tax_on(short_term_gain, long_term_gain, settings)
    found = []
    for h in holdings:
        if h.is_cash or h.ticker in exclude:
            continue
        st_loss = lt_loss = ZERO
        if by_ticker[h.ticker]:
            for lot in by_ticker[h.ticker]:
                if lot.shares <= 0 or lot.cost_per_share <= h.price:
                    continue
                loss = cents(lot.shares * (lot.cost_per_share - h.price))
                if is_long_term(lot.acquired, as_of):
                    lt_loss += loss
                else:
                    st_loss += loss
        elif h.purchase_price is not None and h.purchase_price > h.price and h.shares > 0:
            lt_loss = cents(h.shares * (h.purchase_price - h.price))
        if st_loss + lt_loss <= 0:
            continue
        saved = tax_now - tax_on(short_term_gain - st_loss, long_term_gain - lt_loss, settings)
        found.append((h.ticker, st_loss + lt_loss, saved))
    return tuple(sorted(found, key=lambda c: (-c[1], c[0])))


# --- one sale, and the plan's summary -------------------------------------------------


@dataclass(frozen=True, slots=True)
class LotPick:
    """One sale's lots and what it realises: the tax side of a sell `Trade`.

    `short_term_gain`/`long_term_gain` are what is taxed: a disallowed (wash-sale) loss
    is added back. `estimated_tax` is this sale alone, netted across its own terms.
    """

    ticker: str
    sold_on: date
    sales: tuple[LotSale, ...] = ()
    remaining: tuple[Lot, ...] = ()  # the ticker's lots after the sale, in input order
    short_term_gain: Decimal = ZERO
    long_term_gain: Decimal = ZERO
    disallowed_loss: Decimal = ZERO
    estimated_tax: Decimal = ZERO
    unmatched_shares: Decimal = ZERO  # shares sold that no lot covers
    notes: tuple[str, ...] = ()  # for the Log's tax notes, each led by the ticker
    row_notes: tuple[str, ...] = ()  # for the row's reason: wash sales, lots turning long-term

    @property
    def wash_sale(self) -> bool:
        """True when part of the loss is disallowed: flag the row WASH-SALE."""
        return self.disallowed_loss > 0


def sell_from_lots(
    ticker: str,
    lots: Sequence[Lot],
    shares: Decimal,
    price: Decimal,
    sold_on: date,
    settings: Settings,
    purchases: Sequence[PastTrade] = (),
) -> LotPick:
    """Pick the lots for selling `shares` of `ticker`, with wash sales and warnings.

    `lots` may hold every ticker's lots; `purchases` are the trade log's trades plus the
    plan's own buys (`planned_purchases`). Loss lots that would wash go last (SPEC §6:
    avoid it where it can); what still washes is disallowed and noted. A Retirement
    account gets an empty pick: no lots, no gains, no tax.
    """
    if settings.account_type is AccountType.RETIREMENT:
        return LotPick(ticker, sold_on)
    own = [lot for lot in lots if lot.ticker == ticker]
    window = wash_purchases(ticker, sold_on, purchases)
    bought = sum((p.shares for p in window), ZERO)

    def washes(lot: Lot) -> bool:
        # Approximate, per lot: a lot bought inside the window is not its own replacement.
        own_part = lot.shares if in_wash_window(lot.acquired, sold_on) else ZERO
        return bought - own_part > 0

    method = settings.lot_method
    taken = _take(own, shares, price, sold_on, method, washes if bought > 0 else None)
    sales = tuple(sale for _, sale in taken)
    losers = [s for s in sales if s.gain < 0]
    loss_shares = sum((s.shares for s in losers), ZERO)
    loss = sum((s.gain for s in losers), ZERO)
    sold_from_window = sum((s.shares for s in sales if in_wash_window(s.acquired, sold_on)), ZERO)
    disallowed = wash_sale_disallowed(
        ticker, sold_on, loss_shares, loss, window, sold_from_window=sold_from_window
    )
    if disallowed > 0:
        sales = _spread_disallowed(sales, disallowed)

    used: defaultdict[int, Decimal] = defaultdict(lambda: ZERO)
    for i, sale in taken:
        used[i] += sale.shares
    remaining = tuple(
        dataclasses.replace(lot, shares=lot.shares - used[i])
        for i, lot in enumerate(own)
        if lot.shares - used[i] > 0
    )
    st = sum((s.gain + s.disallowed_loss for s in sales if not s.long_term), ZERO)
    lt = sum((s.gain + s.disallowed_loss for s in sales if s.long_term), ZERO)
    covered = sum((s.shares for s in sales), ZERO)
    unmatched = max(ZERO, shares - covered)

    notes: list[str] = []
    row_notes: list[str] = []  # the notes a reader of the row needs, without the ticker
    if unmatched > 0 and not own:
        notes.append(f"{ticker}: no lots on the Lots sheet, so this sale's gain is not estimated")
    elif unmatched > 0:
        notes.append(
            f"{ticker}: lots cover {_shares(covered)} of the {_shares(shares)} sh sold; the "
            f"gain on the other {_shares(unmatched)} sh is not estimated"
        )
    dates = ", ".join(sorted({str(p.date) for p in window}))
    if disallowed > 0:
        row_notes.append(
            f"wash sale: {_shares(bought)} sh bought within {WASH_WINDOW_DAYS} days "
            f"({dates}); {_money(disallowed)} of the {_money(-loss)} loss is disallowed "
            f"(it moves into the replacement shares' cost)"
        )
    elif bought > 0:
        plain = _take(own, shares, price, sold_on, method, None)
        plain_loss_shares = sum((s.shares for _, s in plain if s.gain < 0), ZERO)
        if plain_loss_shares > loss_shares:
            row_notes.append(
                "sold other lots before the loss lots to avoid a wash sale "
                f"({_shares(bought)} sh bought within {WASH_WINDOW_DAYS} days: {dates})"
            )
    row_notes.extend(short_term_turning_long(sales, sold_on, settings))
    notes.extend(f"{ticker}: {n}" for n in row_notes)
    return LotPick(
        ticker=ticker,
        sold_on=sold_on,
        sales=sales,
        remaining=remaining,
        short_term_gain=st,
        long_term_gain=lt,
        disallowed_loss=disallowed,
        estimated_tax=tax_on(st, lt, settings),
        unmatched_shares=unmatched,
        notes=tuple(notes),
        row_notes=tuple(row_notes),
    )


def summarise(
    picks: Sequence[LotPick],
    settings: Settings,
    as_of: date,
    holdings: Sequence[Holding] = (),
    lots: Sequence[Lot] = (),
    purchases: Sequence[PastTrade] = (),
    planned_buys: Collection[str] = (),
) -> TaxSummary:
    """The plan's `TaxSummary`: realised gains, estimated tax, wash sales, harvest list.

    `lots` are all lots before the plan (the picks' `remaining` replace those of sold
    tickers); `purchases` as for `sell_from_lots` — a ticker bought within 30 days is not
    offered for harvest, since selling it at a loss now would be a wash sale.
    Retirement: `TaxSummary(applies=False, notes=(RETIREMENT_NOTE,))`.
    """
    if settings.account_type is AccountType.RETIREMENT:
        return TaxSummary(applies=False, notes=(RETIREMENT_NOTE,))
    st = sum((p.short_term_gain for p in picks), ZERO)
    lt = sum((p.long_term_gain for p in picks), ZERO)
    notes = [n for p in picks for n in p.notes]
    if st + lt < 0:
        notes.append(
            f"Net realised loss of {_money(-(st + lt))}: no tax on a net loss (it offsets "
            f"other gains this year, or carries forward)"
        )

    sold = {p.ticker: p for p in picks}
    lots_now = [lot for lot in lots if lot.ticker not in sold]
    lots_now += [lot for p in picks for lot in p.remaining]
    # A sold ticker with nothing left in its lots must not fall back to purchase price.
    gone = {t for t, p in sold.items() if not p.remaining}
    bought = {p.ticker for p in purchases if p.side.is_buy and in_wash_window(p.date, as_of)}
    planned = set(planned_buys) - gone
    recent = bought | planned
    harvest = harvest_candidates(holdings, lots_now, as_of, st, lt, settings, gone | recent)
    for ticker, loss, saved in harvest:
        notes.append(
            f"Harvest: {ticker} has an unrealised loss of {_money(loss)}; selling it would "
            f"offset realised gains and save ≈ {_money(saved)} in tax"
        )
    washes = recent - gone
    washing = harvest_candidates(
        [h for h in holdings if h.ticker in washes], lots_now, as_of, st, lt, settings
    )
    for ticker, loss, _ in washing:
        why = (
            "this plan buys more of it"
            if ticker in planned and ticker not in bought
            else f"it was bought within {WASH_WINDOW_DAYS} days"
        )
        notes.append(
            f"Harvest: {ticker} has an unrealised loss of {_money(loss)}, but {why}: "
            "selling it at a loss now would be a wash sale"
        )
    if harvest and as_of.month == 12:
        notes.append("December: losses harvested by December 31 offset this year's gains")
    return TaxSummary(
        applies=True,
        short_term_gain=st,
        long_term_gain=lt,
        estimated_tax=tax_on(st, lt, settings),
        disallowed_loss=sum((p.disallowed_loss for p in picks), ZERO),
        harvest=harvest,
        notes=tuple(notes),
    )

"""Taxes on a plan's sales (SPEC §6): which lots a sale takes, what it realises, what it costs.

The rule in plain words: a sale takes shares from the position's tax lots in the Lot
Method's order (`rules.lots`) — Min Tax (the default) the least estimated tax per share
first; HIFO the highest cost first; FIFO the oldest first; LIFO the newest first. A lot
held more than one year realises a long-term gain, taxed at the lower rate. A loss is
(partly) disallowed when the same ticker is bought within 30 days either side of the
sale — a wash sale — so the proposal sells other lots first when it can.
Short- and long-term results are netted as the US does; a net loss means no tax, never a
negative one. A retirement account skips all of this (`summarise` says so).

Worked example — sell 150 shares at $100 on 2026-06-30, rates 37% short / 20% long:

    lot  acquired    shares  cost  gain/share  term
    A    2023-05-01  100     $60   +40         long
    B    2025-11-01  100     $85   +15         short
    C    2024-02-01  100     $80   +20         long
    D    2026-01-15   50     $110  −10         short (a loss)

Tax per share: D −$3.70, C $4.00, B $5.55, A $8.00. Min Tax takes D (50 × −10 = −$500
short) then C (100 × +20 = +$2,000 long). The short loss offsets the long gain: $1,500
long-term × 20% = $300 tax. HIFO takes D then B (100 × +15 = +$1,500 short): $1,000
short-term × 37% = $370. FIFO takes A then C (100 × 40 + 50 × 20 = +$5,000 long): $1,000.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import (
    ZERO,
    Holding,
    Lot,
    LotSale,
    PastTrade,
    TaxSummary,
    cents,
    fast_constructor,
)
from rebalancer_xl.core.reasons import (
    TurnsLongTerm,
    WashAvoided,
    WashDisallowed,
    count,
    percent,
    signed_money,
)
from rebalancer_xl.core.rules.harvest import HarvestSale
from rebalancer_xl.core.rules.lots import is_long_term, long_term_from, rates_of, take_indexed
from rebalancer_xl.core.rules.wash import (
    WASH_WINDOW_DAYS,
    in_wash_window,
    spread_disallowed,
    wash_purchases,
    wash_sale_disallowed,
)
from rebalancer_xl.core.settings import Settings

RowNote = WashDisallowed | WashAvoided | TurnsLongTerm

RETIREMENT_NOTE = "Retirement account: taxes are not estimated and wash sales do not apply."


# --- warnings, netting, harvesting ----------------------------------------------------


_money, _pct, _shares = signed_money, percent, count  # the notes' number formats


def turning_long(
    sales: Iterable[LotSale], sold_on: date, settings: Settings, within_days: int = 30
) -> tuple[TurnsLongTerm, ...]:
    """Short-term gains whose lot turns long-term within `within_days` of `sold_on`."""
    out = []
    for s in sales:
        if s.long_term or s.gain <= 0:
            continue
        turns = long_term_from(s.acquired)
        days = (turns - sold_on).days
        if 0 < days <= within_days:
            out.append(
                TurnsLongTerm(
                    s.acquired,
                    turns,
                    days,
                    s.gain,
                    settings.long_term_tax_rate,
                    settings.short_term_tax_rate,
                )
            )
    return tuple(out)


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
    return tuple(prefix + c.words() for c in turning_long(sales, sold_on, settings, within_days))


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
    row_notes: tuple[RowNote, ...] = ()  # for the row's reason: wash sales, lots turning long-term

    @property
    def wash_sale(self) -> bool:
        """True when part of the loss is disallowed: flag the row WASH-SALE."""
        return self.disallowed_loss > 0


_pick = fast_constructor(LotPick)  # one per sale: see fast_constructor


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
    if not settings.account_type.taxed:
        return LotPick(ticker, sold_on)
    own = [lot for lot in lots if lot.ticker == ticker]
    window = wash_purchases(ticker, sold_on, purchases)
    bought = sum((p.shares for p in window), ZERO)

    def washes(lot: Lot) -> bool:
        # Approximate, per lot: a lot bought inside the window is not its own replacement.
        own_part = lot.shares if in_wash_window(lot.acquired, sold_on) else ZERO
        return bought - own_part > 0

    method = settings.lot_method
    rates = rates_of(settings)
    taken = take_indexed(own, shares, price, sold_on, method, washes if bought > 0 else None, rates)
    sales = tuple(sale for _, sale in taken)
    losers = [s for s in sales if s.gain < 0]
    loss_shares = sum((s.shares for s in losers), ZERO)
    loss = sum((s.gain for s in losers), ZERO)
    sold_from_window = sum((s.shares for s in sales if in_wash_window(s.acquired, sold_on)), ZERO)
    disallowed = wash_sale_disallowed(
        ticker, sold_on, loss_shares, loss, window, sold_from_window=sold_from_window
    )
    if disallowed > 0:
        sales = spread_disallowed(sales, disallowed)

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
    row_notes: list[RowNote] = []  # the notes a reader of the row needs, without the ticker
    if unmatched > 0 and not own:
        notes.append(f"{ticker}: no lots on the Lots sheet, so this sale's gain is not estimated")
    elif unmatched > 0:
        notes.append(
            f"{ticker}: lots cover {_shares(covered)} of the {_shares(shares)} sh sold; the "
            f"gain on the other {_shares(unmatched)} sh is not estimated"
        )
    dates = tuple(p.date for p in window)
    if disallowed > 0:
        row_notes.append(WashDisallowed(bought, dates, disallowed, loss))
    elif bought > 0:
        plain = take_indexed(own, shares, price, sold_on, method, None, rates)
        plain_loss_shares = sum((s.shares for _, s in plain if s.gain < 0), ZERO)
        if plain_loss_shares > loss_shares:
            row_notes.append(WashAvoided(bought, dates))
    row_notes.extend(turning_long(sales, sold_on, settings))
    notes.extend(f"{ticker}: {n.words()}" for n in row_notes)
    return _pick(
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


def sell_harvest(
    ticker: str,
    lots: Sequence[Lot],
    sales: Sequence[tuple[int, LotSale]],
    sold_on: date,
    settings: Settings,
) -> LotPick:
    """The pick of a harvest sale (`rules.harvest`): the very lots it chose, whatever the
    Lot Method, since a method's order could take a lot at a gain instead. `lots` are the
    ticker's lots in input order, as the sale's indices count them. No wash sale: a
    harvest is never planned for a ticker bought within the window, nor bought back."""
    used: defaultdict[int, Decimal] = defaultdict(lambda: ZERO)
    for i, sale in sales:
        used[i] += sale.shares
    remaining = tuple(
        dataclasses.replace(lot, shares=lot.shares - used[i])
        for i, lot in enumerate(lots)
        if lot.shares - used[i] > 0
    )
    taken = tuple(sale for _, sale in sales)
    st = sum((s.gain for s in taken if not s.long_term), ZERO)
    lt = sum((s.gain for s in taken if s.long_term), ZERO)
    return LotPick(
        ticker=ticker,
        sold_on=sold_on,
        sales=taken,
        remaining=remaining,
        short_term_gain=st,
        long_term_gain=lt,
        estimated_tax=tax_on(st, lt, settings),
    )


def summarise(
    picks: Sequence[LotPick],
    settings: Settings,
    as_of: date,
    holdings: Sequence[Holding] = (),
    lots: Sequence[Lot] = (),
    purchases: Sequence[PastTrade] = (),
    planned_buys: Collection[str] = (),
    harvests: Sequence[HarvestSale] = (),
) -> TaxSummary:
    """The plan's `TaxSummary`: realised gains, estimated tax, wash sales, harvest list.

    `lots` are all lots before the plan (the picks' `remaining` replace those of sold
    tickers); `purchases` as for `sell_from_lots` — a ticker bought within 30 days is not
    offered for harvest, since selling it at a loss now would be a wash sale.
    Retirement: `TaxSummary(applies=False, notes=(RETIREMENT_NOTE,))`.
    """
    if not settings.account_type.taxed:
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
    for sale in harvests:
        notes.append(
            f"Harvest: {sale.ticker} sold at a loss of {_money(sale.loss)} to offset realised "
            f"gains, saving ≈ {_money(sale.tax_saved)} in tax; not bought back for "
            f"{WASH_WINDOW_DAYS} days"
        )
    harvested = {sale.ticker for sale in harvests}
    harvest = harvest_candidates(
        holdings, lots_now, as_of, st, lt, settings, gone | recent | harvested
    )
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
    if (harvest or harvests) and as_of.month == 12:
        notes.append("December: losses harvested by December 31 offset this year's gains")
    if picks and as_of.month == 1:
        notes.append(
            "January: a new tax year has begun; what these sales realise counts toward "
            "this year's taxes, with the whole year left to offset it"
        )
    return TaxSummary(
        applies=True,
        short_term_gain=st,
        long_term_gain=lt,
        estimated_tax=tax_on(st, lt, settings),
        disallowed_loss=sum((p.disallowed_loss for p in picks), ZERO),
        harvest=harvest,
        notes=tuple(notes),
    )

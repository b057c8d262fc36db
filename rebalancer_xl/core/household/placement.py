"""Placing the household's orders into accounts (SPEC §9): the accounts execute.

Money never moves between accounts, so each account buys only with its own cash above
its share of the cash target and its own sales. Sells go first to Retirement and Roth
accounts, where they cost no tax (the guide: "execute all trades in the retirement
account first"), then to Taxable accounts, the one whose lots cost the least tax per
share first. Buys go where the money is, untaxed accounts first, and may open a
position in an account that does not hold the ticker yet. Whole shares are rounded per
account, down for buys, so no account is ever overdrawn; what cannot be placed is
returned with the reason. Example: a household TRIM of 100 PLTR held 200 sh in Taxable
and 250 sh in an IRA is placed as 100 sh sold in the IRA; the Taxable account trades
nothing and realises no gain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from rebalancer_xl.core.household.accounts import retirement_first
from rebalancer_xl.core.model import ZERO, Account, AccountCash, Holding, Trade, cents
from rebalancer_xl.core.reasons import LockedIn, NoMoney

# The tax per share a Taxable account would pay to sell `shares` of a ticker there.
TaxPerShare = Callable[[Account, str, Decimal, Decimal], Decimal]


@dataclass(frozen=True, slots=True)
class Order:
    """Shares of one ticker to trade in one account: negative sells, positive buys."""

    account: Account
    ticker: str
    shares: Decimal
    price: Decimal
    trade: Trade  # the household order this is a part of

    @property
    def amount(self) -> Decimal:
        return cents(abs(self.shares) * self.price)


@dataclass(frozen=True, slots=True)
class Unplaced:
    """Shares of a household order no account could take, and why."""

    shares: Decimal
    why: LockedIn | NoMoney


@dataclass(frozen=True, slots=True)
class Placement:
    orders: tuple[Order, ...]
    unplaced: Mapping[str, Unplaced]  # ticker -> what is left of its order
    cash: tuple[AccountCash, ...]  # per account, in Accounts order


def place(
    trades: Sequence[Trade],
    accounts: Sequence[Account],
    rows: Sequence[Holding],
    cash: Mapping[str, Decimal],
    keep: Mapping[str, Decimal],
    step: Decimal,
    tax_per_share: TaxPerShare,
) -> Placement:
    """Place `trades` (sells first, as the engine orders them) into `accounts`.

    `rows` are the accounts' positions (`Holding.account` names the account), `cash` each
    account's cash and `keep` the part of it the cash target keeps there. `step` is 1 for
    whole shares, else the fractional step."""
    order_of = {a.name: i for i, a in enumerate(accounts)}
    by_name = {a.name: a for a in accounts}
    rows_of: dict[str, list[Holding]] = {}
    for h in rows:
        rows_of.setdefault(h.ticker, []).append(h)
    sold = dict.fromkeys(order_of, ZERO)
    bought = dict.fromkeys(order_of, ZERO)
    orders: list[Order] = []
    unplaced: dict[str, Unplaced] = {}

    for t in (t for t in trades if t.action.is_sale):
        holders = [h for h in rows_of.get(t.ticker, []) if h.shares > 0 and h.account in by_name]
        locked = [h for h in holders if h.lock]

        def sell_order(h: Holding, t: Trade = t) -> tuple[int, Decimal, int]:
            a = by_name[h.account]
            taxed = retirement_first(a)
            cost = tax_per_share(a, t.ticker, min(h.shares, t.shares), t.price) if taxed else ZERO
            return (taxed, cost, order_of[a.name])

        left = t.shares
        for h in sorted((h for h in holders if not h.lock), key=sell_order):
            if left <= 0:
                break
            n = min(left, h.shares)
            orders.append(Order(by_name[h.account], t.ticker, -n, t.price, t))
            sold[h.account] += cents(n * t.price)
            left -= n
        if left > 0:
            unplaced[t.ticker] = Unplaced(left, LockedIn(tuple(h.account for h in locked)))

    money = {
        name: max(ZERO, cash.get(name, ZERO) - keep.get(name, ZERO)) + sold[name]
        for name in order_of
    }
    for t in (t for t in trades if t.action.is_buy):
        here = {h.account: h for h in rows_of.get(t.ticker, [])}
        closed = [name for name, h in here.items() if h.lock]

        def buy_order(a: Account, here: Mapping[str, Holding] = here) -> tuple[int, int, int]:
            # Untaxed accounts first; among equals an account that already holds the
            # ticker, so a position is not split where it need not be.
            return (retirement_first(a), 0 if a.name in here else 1, order_of[a.name])

        left = t.shares
        for a in sorted((a for a in accounts if a.name not in closed), key=buy_order):
            if left <= 0:
                break
            free = money[a.name] - bought[a.name]
            n = min(left, (free / t.price).quantize(step, rounding=ROUND_DOWN))
            while n > 0 and cents(n * t.price) > free:
                n -= step
            if n <= 0:
                continue
            orders.append(Order(a, t.ticker, n, t.price, t))
            bought[a.name] += cents(n * t.price)
            left -= n
        if left > 0:
            free_now = tuple((a.name, max(ZERO, money[a.name] - bought[a.name])) for a in accounts)
            unplaced[t.ticker] = Unplaced(left, NoMoney(free_now, tuple(closed)))

    return Placement(
        tuple(orders),
        unplaced,
        tuple(
            AccountCash(a, cash.get(a.name, ZERO), sold[a.name], bought[a.name]) for a in accounts
        ),
    )

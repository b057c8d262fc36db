"""Reasons as data: the clauses a decision's reason is made of, and their one wording.

The stages and rules say *what* happened to a row as clauses, small frozen values that
carry the numbers (a drift and its band, an order's shares and amount); this module is
the only place that turns them into words. A `Reason` is the row's clauses in order; its
text is worded when first read (the Log, the Holdings Reason column, --json, the API)
and kept, so planning does not pay for prose nobody reads and a reader never pays twice.

How clauses are joined is wording too, so it lives here: a clause follows the one before
it after "; " unless its kind says otherwise (`_LEADS`), and the money a row moves (the
withdrawal it pays, a funding trim, a top-up, its order) follows the judgement after
": " and each other after "; ":

    drift +7.50 pp ≥ 5.00 pp band → to target + half band = 32.50%: sell 33 sh ≈ $5,940.00
    └──────────── HalfBand ──────────────────────────────────────┘  └────── Order ───────┘

Decimals go into the words with `str()` where that reads as the format it stands for
(`{x!s}` is `{x}`); the fast paths of `money` and `order_words` are checked against
their formats in tests/test_fast_paths.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol

from rebalancer_xl.core.model import THESIS_SCORE, TIER_LABELS, ZERO, cents, pp
from rebalancer_xl.core.rules.wash import WASH_WINDOW_DAYS as WASH_DAYS


class Clause(Protocol):
    """One part of a reason: a value that can say itself."""

    def words(self) -> str: ...


#: `new_clause(WithinBand, (drift, band))` builds a clause as `WithinBand(drift, band)`
#: does, fields in their declared order, without the Python-level `__new__` a
#: NamedTuple has (0.25 µs against 0.13): for the few clauses made on every row.
new_clause = tuple.__new__


# -- number formats the reasons share --------------------------------------------------


def money(x: Decimal) -> str:
    """`$1,234.50`: an amount as the reasons show it (f"${x:,.2f}")."""
    text = str(x)
    # Most amounts are cents under $1,000, for which str() already reads the same, at a
    # fifth of the cost of Decimal.__format__; every order line has one.
    if len(text) - (text[0] == "-") <= 6 and text[-3:-2] == "." and "E" not in text:
        return "$" + text
    return f"${x:,.2f}"


def signed_money(x: Decimal) -> str:
    """`-$1,234.50`: an amount whose sign matters, in the tax notes."""
    return f"{'-' if x < 0 else ''}${abs(x):,.2f}"


def percent(rate: Decimal) -> str:
    """`37%`, `23.8%`: a tax rate without trailing zeros."""
    text = f"{cents(rate * 100):f}".rstrip("0").rstrip(".")
    return f"{text}%"


def count(x: Decimal) -> str:
    """`12.5`: shares as a plain number."""
    return f"{x.normalize():f}"


def qty(n: Decimal) -> str:
    """Shares in an order: `1,234`, or `12.5` for a fraction."""
    if n != n.to_integral_value():
        return f"{n.normalize():,f}"
    whole = int(n)
    # str() of a small int reads the same as f"{whole:,}" at a tenth of the cost.
    return str(whole) if -1000 < whole < 1000 else f"{whole:,}"


def order_words(side: str, n: Decimal, amount: Decimal) -> str:
    """`sell 1,234 sh ≈ $5,678.90`: the order as every trading row ends (f"{side}{qty(n)}
    sh ≈ {money(amount)}"), from str() of the numbers where that reads the same: whole
    shares as plain digits, cents under $1,000,000. Decimal.__format__ was a fifth of
    the explaining."""
    q = str(n)
    if q.isdigit():
        if len(q) > 3:
            q = f"{int(q):,}"
    else:
        q = qty(n)
    a = str(amount)
    size = len(a)
    if a[-3:-2] != "." or not a[0].isdigit() or size > 9:
        return f"{side}{q} sh ≈ {money(amount)}"
    if size > 6:  # 1,000.00 … 999,999.99: one comma
        return f"{side}{q} sh ≈ ${a[:-6]},{a[-6:]}"
    return f"{side}{q} sh ≈ ${a}"


def _signed(drift: Decimal) -> str:
    return f"{'' if drift.is_signed() else '+'}{drift!s}"  # reads as f"{drift:+}"


def _score(score: Decimal | None) -> str:
    return "" if score is None else f"{score.normalize():f}"


def _whole(rate: Decimal) -> str:
    return f"{rate:.0%}"


# -- what a rule found -----------------------------------------------------------------


class Thesis(NamedTuple):
    """Why a thesis counts as broken: a score below Strong, exit triggers."""

    low_score: Decimal | None
    triggers: int

    def words(self) -> str:
        parts = []
        if self.low_score is not None:
            parts.append(f"score {self.low_score.normalize():f} < {THESIS_SCORE}")
        if self.triggers:
            parts.append(f"{self.triggers} exit trigger(s)")
        return ", ".join(parts) or "intact"


class Exits(NamedTuple):
    """Exit signals: a fall of tiers (ranks, 0 Weak … 4 Exceptional) and triggers hit."""

    previous: Decimal | None
    score: Decimal | None
    rank_before: int
    rank: int
    tier_signals: int
    triggers: int

    def words(self) -> str:
        parts = []
        drop = self.rank_before - self.rank
        if drop >= 1:  # a fall within a tier says nothing: no words for it
            move = (
                f"score {_score(self.previous)} → {_score(self.score)} "
                f"({TIER_LABELS[self.rank_before]} → {TIER_LABELS[self.rank]}"
            )
            if drop >= 2:
                n = self.tier_signals
                parts.append(f"{move}, {drop} tiers down: {n} {'signal' if n == 1 else 'signals'})")
            else:
                parts.append(f"{move}, 1 tier down: monitor)")
        if self.triggers:
            s = "s" if self.triggers > 1 else ""
            parts.append(f"{self.triggers} exit trigger{s} hit")
        return "; ".join(parts)


class ExitSale(NamedTuple):
    whole: bool  # sell all, else half

    def words(self) -> str:
        return "sell all" if self.whole else "sell half"


class Cap(NamedTuple):
    weight_pp: Decimal
    cap: Decimal
    trim_to: Decimal
    urgent: bool

    def words(self) -> str:
        text = f"{self.weight_pp}% > {_whole(self.cap)} → trim to {_whole(self.trim_to)}"
        return f"{text} within a week" if self.urgent else text


class AlsoCap(NamedTuple):
    """An exit sale that also breaks a cap: the larger sale won."""

    label: str
    cap: Cap

    def words(self) -> str:
        return f"(also {self.label}: {self.cap.words()})"


class AlsoExits(NamedTuple):
    exits: Exits

    def words(self) -> str:
        return f"(also exit signals: {self.exits.words()})"


class CapWaits(NamedTuple):
    """A cap an emergency-only run leaves to the next full run."""

    cap: Cap

    def words(self) -> str:
        return f"{self.cap.words()} waits for the full run"


class FloorRestore(NamedTuple):
    weight_pp: Decimal
    floor: Decimal
    target: Decimal

    def words(self) -> str:
        return (
            f"{self.weight_pp}% < {_whole(self.floor)} floor, thesis intact → back to "
            f"{pp(self.target)}%"
        )


class FloorExit(NamedTuple):
    weight_pp: Decimal
    floor: Decimal
    thesis: Thesis

    def words(self) -> str:
        return (
            f"{self.weight_pp}% < {_whole(self.floor)} floor, thesis broken "
            f"({self.thesis.words()}) → exit"
        )


# The drift strategies' calls; `drift` is weight − target in pp, rounded. `band_pp` is
# the band's edge in pp, shown rounded to 0.01 pp: a relative band's edge is carried
# unrounded (the drift rule compares it so), and rounded here, only if it is read.


def _edge(band_pp: Decimal) -> str:
    return str(cents(band_pp))  # cents() rounds half up to 0.01, as `pp` does


class AtTarget(NamedTuple):
    drift: Decimal

    def words(self) -> str:
        return f"drift {_signed(self.drift)} pp: at target"


class CalendarBack(NamedTuple):
    drift: Decimal
    target: Decimal

    def words(self) -> str:
        return f"drift {_signed(self.drift)} pp → back to target {pp(self.target)!s}%"


class WithinBand(NamedTuple):
    drift: Decimal
    band_pp: Decimal

    def words(self) -> str:
        drift, band = self
        sign = "" if drift.is_signed() else "+"
        return f"drift {sign}{drift!s} pp within ±{_edge(band)} pp band: hold"


class BandBack(NamedTuple):
    """A drift of at least the band (threshold) or the outer band (hybrid): to target."""

    drift: Decimal
    band_pp: Decimal
    target: Decimal

    def words(self) -> str:
        drift, band, target = self
        sign = "" if drift.is_signed() else "+"
        return f"drift {sign}{drift!s} pp ≥ {_edge(band)} pp → back to target {pp(target)!s}%"


class HalfBand(NamedTuple):
    """A hybrid drift between the bands: to target ± half the band."""

    drift: Decimal
    band_pp: Decimal
    up: bool
    goal: Decimal

    def words(self) -> str:
        drift, band, up, goal = self
        sign = "" if drift.is_signed() else "+"
        return (
            f"drift {sign}{drift!s} pp ≥ {_edge(band)} pp band → to target {'+' if up else '−'} "
            f"half band = {pp(goal)!s}%"
        )


class RulesOnlyTrim(NamedTuple):
    amount: Decimal

    def words(self) -> str:
        return f"Sell Mode Rules Only: trim of {money(cents(self.amount))} not placed"


class NoBuy(NamedTuple):
    thesis: Thesis

    def words(self) -> str:
        return f"thesis broken ({self.thesis.words()}): no buy"


class Block(enum.Enum):
    """What keeps a position from trading."""

    EVENT = "company event: reassess by hand before trading"
    LOCK = "locked: not traded"


class Blocked(NamedTuple):
    """The trade a position wanted and may not make."""

    sell: bool
    amount: Decimal
    because: Block

    def words(self) -> str:
        side = "sell" if self.sell else "buy"
        return f"wanted to {side} {money(cents(self.amount))}, {self.because.value}"


class Remark(enum.Enum):
    """A fixed remark on a position that did not want to trade."""

    EVENT = "company event: reassess by hand"
    LOCKED = "locked"

    def words(self) -> str:
        return self.value


class WashWait(NamedTuple):
    """Buys held back: the ticker was sold at a loss within the wash window."""

    buy: Decimal  # the rule's buy; ZERO: any buy (a top-up, the leftover)
    first_safe: date
    ticker: str
    sold_on: date

    def words(self) -> str:
        wanted = f"a buy of {money(cents(self.buy))}" if self.buy else "any buy"
        return (
            f"{wanted} waits until {self.first_safe}: {self.ticker} was sold at a loss on "
            f"{self.sold_on}, and buying back within {WASH_DAYS} days would be a wash sale"
        )


class BelowMinimum(NamedTuple):
    amount: Decimal
    minimum: Decimal

    def words(self) -> str:
        return f"{money(self.amount)} < minimum trade {money(self.minimum)}: not placed"


class Harvest(NamedTuple):
    """A loss sold to offset the plan's realised gains (SPEC §6b)."""

    broken: Thesis | None  # None: thesis intact, sold only for its loss
    loss: Decimal
    gain: Decimal
    tax_saved: Decimal

    def words(self) -> str:
        group = "at a loss" if self.broken is None else f"thesis broken ({self.broken.words()})"
        return (
            f"{group}: harvest {money(self.loss)} of loss to offset {money(self.gain)} of "
            f"realised gains (net gain → {money(self.gain - self.loss)}), saves ≈ "
            f"{money(self.tax_saved)} in tax; not bought back within {WASH_DAYS} days "
            "(wash sale)"
        )


# -- when only an emergency may act ----------------------------------------------------


class Schedule(NamedTuple):
    """Days since the last rebalance and what they allow (`days` None: no date)."""

    days: int | None
    minimum: int
    emergency_only: bool
    forced: bool

    def words(self) -> str:
        if self.days is None:
            return "no Last Rebalance Date: full run"
        since = f"{self.days} days since the last rebalance"
        if self.emergency_only:
            return f"{since} (< {self.minimum}): emergency-only run"
        if self.forced:
            return f"{since} (< {self.minimum}), full run forced"
        return f"{since}: full run"


class Crash(NamedTuple):
    """The crash check: the value against History a month ago (`base` None: no row)."""

    aim: date
    base: date | None = None
    base_value: Decimal = ZERO
    value: Decimal = ZERO
    change: Decimal = ZERO
    crashed: bool = False

    def words(self) -> str:
        if self.base is None:
            return f"crash check skipped: no History row within 10 days of {self.aim}"
        words = (
            f"value {self.change:+.1%} since {self.base} ({self.base_value:,.2f} → "
            f"{self.value:,.2f})"
        )
        if self.crashed:
            return (
                f"crash check: {words}, down 30% or more: review every position; only "
                "emergency rules trade"
            )
        return f"crash check: {words}"


# -- what the money did ----------------------------------------------------------------


class Priority(enum.Enum):
    """Which of the guide's priorities paid a top-up (SPEC §3)."""

    LAGGARD = "priority 1 (laggard)"
    NEW_PICK = "priority 2 (new pick)"
    LAGGARD_THEN_UPGRADE = "priority 1 (laggard), then priority 2 (upgrade)"
    UPGRADE = "priority 2 (upgrade)"


class TowardWithdrawal(NamedTuple):
    amount: Decimal
    withdrawal: Decimal

    def words(self) -> str:
        return f"{money(cents(self.amount))} toward the {money(self.withdrawal)} withdrawal"


class FundingTrim(NamedTuple):
    amount: Decimal

    def words(self) -> str:
        return f"{money(cents(self.amount))} trimmed to fund the buys the rules call for"


class ToppedUp(NamedTuple):
    priority: Priority

    def words(self) -> str:
        return f"topped up with proceeds as {self.priority.value}"


class Scaled(NamedTuple):
    to_buy: Decimal
    buy: Decimal

    def words(self) -> str:
        return (
            f"scaled to the money available ({money(cents(self.to_buy))} of "
            f"{money(cents(self.buy))})"
        )


class Order(NamedTuple):
    sell: bool
    shares: Decimal
    amount: Decimal

    def words(self) -> str:
        sell, shares, amount = self
        return order_words("sell " if sell else "buy ", shares, amount)


class Leftover(NamedTuple):
    def words(self) -> str:
        return (
            "priority 3 (leftover): what the laggards, new picks and upgrades left goes to "
            "the index fund"
        )


class TopUp(NamedTuple):
    """A laggard below target that only the proceeds moved (priority 1)."""

    weight: Decimal
    target: Decimal

    def words(self) -> str:
        return (
            f"{pp(self.weight)}% below target {pp(self.target)}%, thesis intact → "
            f"{Priority.LAGGARD.value}: top up to target with proceeds"
        )


class NewPick(NamedTuple):
    target: Decimal

    def words(self) -> str:
        return (
            f"new pick (0 sh, target {pp(self.target)}%) → {Priority.NEW_PICK.value}: buy "
            "toward target with what the laggards left"
        )


class Upgrade(NamedTuple):
    tier_before: str
    tier: str
    score_before: Decimal | None
    score: Decimal | None
    priority: Priority
    goal: Decimal

    def words(self) -> str:
        return (
            f"tier upgrade {self.tier_before} → {self.tier} (score "
            f"{_score(self.score_before)} → {_score(self.score)}), thesis intact → "
            f"{self.priority.value}: add up to target + half band = {pp(self.goal)}% with "
            "proceeds"
        )


class RoundsToZero(NamedTuple):
    sale: bool
    amount: Decimal

    def words(self) -> str:
        side = "sale" if self.sale else "buy"
        return f"the {side} of {money(cents(self.amount))} rounds to 0 shares"


class NotFunded(NamedTuple):
    """A buy the rule wanted and no money was free for."""

    amount: Decimal
    rules_only: bool

    def words(self) -> str:
        source = (
            "Sell Mode Rules Only pays buys from cash and new capital alone"
            if self.rules_only
            else "no position above target may be trimmed"
        )
        return (
            f"the buy of {money(cents(self.amount))} is not placed: no money is free for it "
            f"({source})"
        )


class Cash(NamedTuple):
    value: Decimal
    new_capital: Decimal
    withdrawal: Decimal
    left: Decimal
    target: Decimal

    def words(self) -> str:
        flows = []
        if self.new_capital:
            flows.append(f"{money(self.new_capital)} new capital")
        if self.withdrawal:
            flows.append(f"{money(self.withdrawal)} withdrawn")
        text = f"cash {money(cents(self.value))}"
        if flows:
            text += f" with {' and '.join(flows)}"
        return f"{text} → {money(cents(self.left))} after trades (target {pp(self.target)}%)"


# -- taxes -----------------------------------------------------------------------------


class Gains(NamedTuple):
    """What a sale realises: "realises +3,300.00 long-term, est. tax $495.00"."""

    from_lots: bool  # False: no lot covers the sale
    short_term: Decimal
    long_term: Decimal
    tax: Decimal
    in_account: bool = False  # a household account's sale: "no tax lots in this account"

    def words(self) -> str:
        if not self.from_lots:
            where = " in this account" if self.in_account else ""
            return f"no tax lots{where}: tax not estimated"
        parts = []
        if self.short_term:
            parts.append(f"{self.short_term:+,.2f} short-term")
        if self.long_term:
            parts.append(f"{self.long_term:+,.2f} long-term")
        gains = " and ".join(parts) or "no gain"
        return f"realises {gains}, est. tax {money(self.tax)}"


class WashDisallowed(NamedTuple):
    bought: Decimal
    dates: tuple[date, ...]
    disallowed: Decimal
    loss: Decimal  # negative

    def words(self) -> str:
        return (
            f"wash sale: {count(self.bought)} sh bought within {WASH_DAYS} days "
            f"({_dates(self.dates)}); {signed_money(self.disallowed)} of the "
            f"{signed_money(-self.loss)} loss is disallowed (it moves into the replacement "
            "shares' cost)"
        )


class WashAvoided(NamedTuple):
    bought: Decimal
    dates: tuple[date, ...]

    def words(self) -> str:
        return (
            "sold other lots before the loss lots to avoid a wash sale "
            f"({count(self.bought)} sh bought within {WASH_DAYS} days: {_dates(self.dates)})"
        )


class TurnsLongTerm(NamedTuple):
    """A short-term gain whose lot turns long-term soon."""

    acquired: date
    turns: date
    days: int
    gain: Decimal
    long_rate: Decimal
    short_rate: Decimal

    def words(self) -> str:
        s = "" if self.days == 1 else "s"
        return (
            f"lot of {self.acquired} turns long-term on {self.turns} (in {self.days} day{s}): "
            f"waiting would tax the {signed_money(self.gain)} gain at "
            f"{percent(self.long_rate)} instead of {percent(self.short_rate)}"
        )


# -- a household (SPEC §9) -------------------------------------------------------------


class CashInAccount(NamedTuple):
    """One account's cash row: its own cash, then the household's reason."""

    account: str
    value: Decimal
    after: Decimal
    sold: Decimal
    bought: Decimal
    household: Reason

    def words(self) -> str:
        return (
            f"{self.account}: cash {money(cents(self.value))} → {money(cents(self.after))} "
            f"after its trades (sold {money(self.sold)}, bought {money(self.bought)}); "
            f"household: {self.household.text}"
        )


class InAccount(NamedTuple):
    """The part of the household's order this account places."""

    account: str
    sell: bool
    shares: Decimal
    amount: Decimal

    def words(self) -> str:
        side = "sell" if self.sell else "buy"
        return f"in {self.account}: {side} {qty(self.shares)} sh ≈ {money(self.amount)}"


class PlacedElsewhere(NamedTuple):
    orders: tuple[tuple[str, bool, Decimal], ...]  # (account, sell, shares)

    def words(self) -> str:
        where = ", ".join(
            f"{account} {'sell' if sell else 'buy'} {qty(n)} sh" for account, sell, n in self.orders
        )
        return f"placed in {where}; nothing here"


class LockedIn(NamedTuple):
    """Why shares of a sale found no account: locked there, or no account holds them."""

    accounts: tuple[str, ...]

    def words(self) -> str:
        return f"locked in {', '.join(self.accounts)}" if self.accounts else "no account holds them"


class NoMoney(NamedTuple):
    """Why shares of a buy found no account: the money free in each, the locked ones."""

    free: tuple[tuple[str, Decimal], ...]
    locked: tuple[str, ...]

    def words(self) -> str:
        free = ", ".join(f"{name} ${amount:,.2f}" for name, amount in self.free)
        text = f"no account has the money for them (free: {free})"
        return f"{text}; locked in {', '.join(self.locked)}" if self.locked else text


class NotPlaced(NamedTuple):
    shares: Decimal
    why: LockedIn | NoMoney

    def words(self) -> str:
        return f"{qty(self.shares)} sh not placed: {self.why.words()}"


class NoTax(NamedTuple):
    account: str
    kind: str  # the account type's name, "Retirement"

    def words(self) -> str:
        return f"no tax: {self.account} is a {self.kind} account"


class LostToUntaxed(NamedTuple):
    """A wash sale whose replacement shares sit in untaxed accounts."""

    accounts: tuple[str, ...]

    def words(self) -> str:
        return (
            f"the replacement shares were bought in {', '.join(self.accounts)} (untaxed): "
            "that part of the loss is disallowed for good, not deferred"
        )


def _dates(dates: Iterable[date]) -> str:
    return ", ".join(sorted({str(d) for d in dates}))


# -- the reason ------------------------------------------------------------------------

# The money a row moves: after the judgement ": ", after each other "; ".
_MONEY: frozenset[type] = frozenset({TowardWithdrawal, FundingTrim, ToppedUp, Scaled, Order})
_LEADS: dict[type, str] = {ExitSale: " → ", AlsoCap: " ", AlsoExits: " "}


def word(clauses: tuple[Clause, ...]) -> str:
    """The text of clauses in order, joined as the module docstring says (most rows,
    a judgement and its order, are worded by `Reason.text` without the loop)."""
    out: list[str] = []
    before: type | None = None
    for c in clauses:
        kind = type(c)
        if before is not None:
            if kind in _MONEY:
                out.append("; " if before in _MONEY else ": ")
            else:
                out.append(_LEADS.get(kind, "; "))
        out.append(c.words())
        before = kind
    return "".join(out)


class Reason:
    """A row's clauses, worded once when first read.

    Two reasons are equal when they read the same: a Decision compares as it did when
    its reason was the text (Decimal('1.0') and Decimal('1.00') are equal numbers that
    read differently).

    A trading row's reason ends with its order, kept here as its three values (made by
    `new_order_reason`): the `Order` and the tuple of all the clauses are made only when
    `clauses` is read. Planning made them on every trading row, two objects more a row to
    make and to free (−1.9k instructions a position at 10,000, explain's and the
    freeing's).
    """

    __slots__ = ("_amount", "_head", "_sell", "_shares", "_text")
    _head: tuple[Clause, ...]  # the clauses before the order
    _sell: bool
    _shares: Decimal | None  # None: no order (and no _sell or _amount)
    _amount: Decimal
    _text: str | None

    def __init__(self, clauses: tuple[Clause, ...]) -> None:
        self._head = clauses
        self._shares = None
        self._text = None

    @property
    def clauses(self) -> tuple[Clause, ...]:
        shares = self._shares
        if shares is None:
            return self._head
        return (*self._head, Order(self._sell, shares, self._amount))

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            head, shares = self._head, self._shares
            if shares is not None and len(head) == 1 and type(head[0]) not in _MONEY:
                # word()'s answer for a judgement and its order, without making the
                # Order: after a judgement the order leads with ": " (after a money
                # clause it would be "; ", which the loop gives)
                side = "sell " if self._sell else "buy "
                text = f"{head[0].words()}: {order_words(side, shares, self._amount)}"
            else:
                text = word(self.clauses)
            self._text = text
        return text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reason) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Reason({self.text!r})"

    def __reduce__(self) -> tuple[type[Reason], tuple[tuple[Clause, ...]]]:
        return Reason, (self.clauses,)


_new_object = object.__new__


def new_reason(clauses: tuple[Clause, ...]) -> Reason:
    """`Reason(clauses)` for the engine's rows, one a row: the class's `__init__` is
    called from C, and this plain function, setting the same slots, saves explain
    ~0.3k instructions a row."""
    reason = _new_object(Reason)
    reason._head = clauses
    reason._shares = None
    reason._text = None
    return reason


def new_order_reason(
    clauses: tuple[Clause, ...], sell: bool, shares: Decimal, amount: Decimal
) -> Reason:
    """`Reason((*clauses, Order(sell, shares, amount)))`, for a trading row."""
    reason = _new_object(Reason)
    reason._head = clauses
    reason._sell = sell
    reason._shares = shares
    reason._amount = amount
    reason._text = None
    return reason

"""The vocabulary of the rulebook: small immutable values shared by every layer.

Money and weights are `Decimal` everywhere inside the core. Weights are fractions
(0.30 is 30%); drift and bands are compared in percentage points rounded to 0.01 pp,
so that 30% − 25% is exactly 5 and a 5-point band acts on it. Floats from Excel or
pandas are converted once, at the edge, by `to_decimal`.
"""

from __future__ import annotations

import dataclasses
import enum
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, getcontext
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rebalancer_xl.core.reasons import Reason

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
CASH = "CASH"


def pp(weight: Decimal) -> Decimal:
    """A weight in percentage points rounded to 0.01 pp: the form every band test uses.

    Rounding first makes 30% − 25% exactly 5.00, so a 5-point band acts on it.
    """
    # The rounding mode is passed by position: the keyword costs ~40% more, on every row.
    return (weight * HUNDRED).quantize(CENT, ROUND_HALF_UP)


_PP_LIMITS: dict[Decimal, Decimal] = {}


def pp_limit(limit: Decimal) -> Decimal:
    """`pp` of a setting such as a cap or a band: the same few values on every row.

    A plain dict, not `lru_cache`: a Decimal caches its own hash, so the lookup costs a
    fraction of lru_cache's wrapper, and the settings' few values keep it small.
    """
    found = _PP_LIMITS.get(limit)
    if found is None:
        if len(_PP_LIMITS) > 1024:  # a long-lived process reading many workbooks
            _PP_LIMITS.clear()
        found = _PP_LIMITS[limit] = pp(limit)
    return found


def quantizer(rounding: str) -> Callable[[Decimal, Decimal], Decimal]:
    """`x.quantize(exp, rounding)` as a function of (x, exp), for loops over many rows.

    It is the quantize of a copy of the thread's context with that rounding: the copy
    has the context's precision and traps, so the results are the same, and a context's
    quantize reads its two arguments without the keyword parsing of Decimal.quantize
    (~0.1k instructions a call fewer, three or four a trading row). The copy keeps the
    flags it raises (Inexact, Rounded) to itself. Made per plan, after the thread's
    context may have changed.
    """
    ctx = getcontext().copy()
    ctx.rounding = rounding
    return ctx.quantize


def cents(amount: Decimal) -> Decimal:
    """Money rounded to the cent, halves away from zero (as a broker statement does)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


class _HashedEnum(enum.Enum):
    """An Enum whose members hash by identity: they are singletons compared by identity,
    so that hash is a valid one, and Enum's own (the name's, in Python) costs ~0.3 µs on
    every set or dict use, many times a row in a plan."""

    __hash__ = object.__hash__


class Action(_HashedEnum):
    HOLD = "HOLD"
    TRIM = "TRIM"  # a rebalancing sale (strategy, cap)
    SELL = "SELL"  # a rule sale: exit signals or a broken thesis
    ADD = "ADD"  # buy more of a position already held
    BUY = "BUY"  # a new position, or the index fund that takes the leftover

    @property
    def is_sale(self) -> bool:
        return self in _SALES

    @property
    def is_buy(self) -> bool:
        return self in _BUYS


# Bound once: reading an enum member through its class is slow in CPython 3.11.
_SALES = frozenset({Action.TRIM, Action.SELL})
_BUYS = frozenset({Action.ADD, Action.BUY})


class RuleId(_HashedEnum):
    """Which rule decided a row: a closed set of stable names that never carry a setting's
    value, so `cap` stays `cap` whatever the Cap is. The Rule column shows a readable
    label made from the id and the settings (`rules.labels.rule_label`)."""

    URGENT_CAP = "urgent-cap"  # guide rule 2
    CAP = "cap"  # guide rule 1
    TIER_DOWNGRADE = "tier-downgrade"  # guide rule 3
    EXIT_TRIGGERS = "exit-triggers"  # guide rule 5
    EXIT_SIGNALS = "exit-signals"  # rules 3 and 5 together
    FLOOR = "floor"  # guide rule 4
    THRESHOLD_BAND = "threshold-band"
    HYBRID_BAND = "hybrid-band"
    HYBRID_OUTER_BAND = "hybrid-outer-band"
    CALENDAR = "calendar"
    CRASH_CHECK = "crash-check"  # only emergencies trade after a crash
    EMERGENCY_ONLY = "emergency-only"  # too soon after the last rebalance
    TOP_UP = "top-up"  # proceeds, priority 1: a laggard back to target
    NEW_PICK = "new-pick"  # proceeds, priority 2: a new position toward its target
    UPGRADE = "upgrade"  # proceeds, priority 2: a tier upgrade to target + half band
    HARVEST = "harvest"  # a loss sold to offset the plan's realised gains
    FUNDING_TRIM = "funding-trim"
    WITHDRAWAL = "withdrawal"
    LEFTOVER = "leftover"
    CASH = "cash"


class Flag(_HashedEnum):
    URGENT = "URGENT"
    MONITOR = "MONITOR"
    REVIEW = "REVIEW"
    WASH_SALE = "WASH-SALE"
    UPGRADE = "UPGRADE"


class Strategy(enum.Enum):
    HYBRID = "Hybrid"
    THRESHOLD = "Threshold"
    CALENDAR = "Calendar"


class SellMode(enum.Enum):
    ALLOWED = "Allowed"
    RULES_ONLY = "Rules Only"


class AccountType(enum.Enum):
    TAXABLE = "Taxable"
    RETIREMENT = "Retirement"
    ROTH = "Roth"  # a household account (SPEC §9); taxed like Retirement: not at all

    @property
    def taxed(self) -> bool:
        return self is AccountType.TAXABLE


class LotMethod(enum.Enum):
    MIN_TAX = "Min Tax"
    HIFO = "HIFO"
    FIFO = "FIFO"
    LIFO = "LIFO"


class HarvestLosses(enum.Enum):
    """Which positions a plan may sell at a loss to offset its realised gains (SPEC §6b)."""

    NO = "No"
    BROKEN_THESIS = "Broken Thesis"
    ALL = "All"


class Schedule(enum.Enum):
    QUARTER_END = "Quarter End"
    THREE_MONTHS = "3 Months"


class Tier(enum.Enum):
    """The score ladder; `value` is the ladder index (Weak 0 … Exceptional 4)."""

    WEAK = 0
    MODERATE = 1
    STRONG = 2
    VERY_STRONG = 3
    EXCEPTIONAL = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").title()

    @classmethod
    def of(cls, score: Decimal) -> Tier:
        return _TIER_BY_RANK[tier_rank(score)]


# The score ladder of SPEC §1, highest first: the engine's tiers and the sheet's Tier
# formula are both made from it.
TIER_FLOORS: tuple[tuple[Decimal, Tier], ...] = (
    (Decimal(75), Tier.EXCEPTIONAL),
    (Decimal(65), Tier.VERY_STRONG),
    (Decimal(50), Tier.STRONG),
    (Decimal(35), Tier.MODERATE),
)
THESIS_SCORE = {t: f for f, t in TIER_FLOORS}[Tier.STRONG]  # an intact thesis: Strong+
# The floors low to high, and the tiers by rank: a score's tier is the number of floors at
# or below it (bisect, in C), which reads no enum member on the way (slow in 3.11).
_FLOORS_UP = tuple(floor for floor, _ in reversed(TIER_FLOORS))
_TIER_BY_RANK = tuple(sorted(Tier, key=lambda t: t.value))
TIER_LABELS = tuple(t.label for t in _TIER_BY_RANK)  # "Weak" … "Exceptional", by rank
assert [t.value for _, t in reversed(TIER_FLOORS)] == list(range(1, len(Tier)))


#: `tier_rank(score)` is `Tier.of(score).value`: 0 (Weak) … 4 (Exceptional). A partial of
#: bisect, not a def: a call runs no Python frame (−0.3k instructions; exit signals rank
#: two scores on every row whose score fell).
tier_rank: Callable[[Decimal], int] = partial(bisect_right, _FLOORS_UP)


class PerformanceClass(enum.Enum):
    """How a position did since the last rebalance (SPEC §1)."""

    WINNER = "Winner"  # +20% or more
    IN_LINE = "In-line"
    LAGGARD = "Laggard"  # below −10%


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CellRef:
    sheet: str
    cell: str  # "C7"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet


@dataclass(frozen=True, slots=True)
class Where:
    """Where a problem came from, in the workbook's words.

    `row` is the 0-based index of the holding among the input rows; `column` is the
    header text (or the setting name for the Settings sheet). Adapters that know the
    grid turn this into a `CellRef`.
    """

    sheet: str
    row: int | None = None
    column: str | None = None
    ticker: str | None = None
    cell: CellRef | None = None

    def __str__(self) -> str:
        if self.cell is not None:
            return str(self.cell)
        parts = [self.sheet]
        if self.ticker:
            parts.append(self.ticker)
        elif self.row is not None:
            # 0-based, as df.iloc counts: the count the API's own messages use.
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(self.column)
        return " / ".join(parts)


WHOLE_FILE = Where("", cell=CellRef("", ""))  # a problem of the file, not of one cell


def problem_line(
    where: str, code: str, message: str, *, warning: bool = False, path: str = ""
) -> str:
    """The one wording of a problem, for the terminal, the button and the API's error:
    `book.xlsx: Holdings!D5: not-a-number: Shares is 'ten', not a number`. The path and
    the location are left out when empty (the whole file); a warning may say it is one."""
    head = f"{path}: " if path else ""
    at = f"{where}: " if where else ""
    return f"{head}{at}{code}{' (warning)' if warning else ''}: {message}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A fault in the user's data: a stable code (see `problems.CATALOGUE`), where it is,
    and what was found."""

    code: str
    message: str
    where: Where
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def line(self, *, mark_warning: bool = True) -> str:
        return problem_line(
            str(self.where),
            self.code,
            self.message,
            warning=mark_warning and not self.is_error,
        )

    def __str__(self) -> str:
        return self.line(mark_warning=False)


class InputError(ValueError):
    """Raised by the API when the input has errors; carries every problem found, the
    warnings found in the same pass included (each says it is one)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p.line()}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the input:\n{lines}")


@dataclass(frozen=True, slots=True)
class Holding:
    """One row of the Holdings sheet, parsed. The CASH row has price 1."""

    ticker: str
    shares: Decimal
    price: Decimal
    target: Decimal
    score: Decimal | None = None
    previous_score: Decimal | None = None
    exit_triggers: int = 0
    company_event: bool = False
    lock: bool = False
    purchase_price: Decimal | None = None
    last_price: Decimal | None = None  # price at the last rebalance (Performance sheet)
    row: int = 0  # position among the input rows
    account: str = ""  # the household account holding the row (SPEC §9); "" in one account
    # shares × price, computed once: a plan reads it a dozen times a position.
    value: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", self.shares * self.price)

    @property
    def is_cash(self) -> bool:
        return self.ticker == CASH

    @property
    def tier(self) -> Tier | None:
        return None if self.score is None else Tier.of(self.score)

    @property
    def previous_tier(self) -> Tier | None:
        return None if self.previous_score is None else Tier.of(self.previous_score)

    @property
    def tier_rose(self) -> bool:
        """The tier went up since the last rebalance (Moderate → Strong, say)."""
        return tier_rose(self)

    @property
    def thesis_intact(self) -> bool:
        """Strong or better (or unscored, like an index fund) and no exit trigger hit."""
        return thesis_intact(self)


# The two properties as functions, for the engine's loops: a property is called from C
# (~1.2k instructions a read in CPython 3.11), a function from Python ~0.35k less.


def tier_rose(h: Holding) -> bool:
    """`h.tier_rose`: the tier went up since the last rebalance."""
    score, previous = h.score, h.previous_score
    if score is None or previous is None or score <= previous:
        return False  # tiers rise with the score: no rise without a higher score
    # tier_rank(score) > tier_rank(previous): the first floor above the previous score is
    # at or below the score. One bisect, not two (top_up asks on most held rows: −0.2k
    # instructions a position).
    above = bisect_right(_FLOORS_UP, previous)
    return above < len(_FLOORS_UP) and _FLOORS_UP[above] <= score


def thesis_intact(h: Holding) -> bool:
    """`h.thesis_intact`: Strong or better (or unscored) and no exit trigger hit."""
    score = h.score
    return (score is None or score >= THESIS_SCORE) and h.exit_triggers == 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One row of the History sheet: what the portfolio was worth on a run date."""

    date: date
    portfolio_value: Decimal
    full_run: bool = True
    # A value snapshot (from recording fills or a between-quarter check), not a run: the
    # crash check may compare with it, quarter returns and trade archives do not.
    snapshot: bool = False


@dataclass(frozen=True, slots=True)
class Lot:
    """A tax lot (SPEC §6): shares of one ticker bought on one day at one cost."""

    ticker: str
    acquired: date
    shares: Decimal
    cost_per_share: Decimal
    row: int = 0
    account: str = ""


@dataclass(frozen=True, slots=True)
class PastTrade:
    """A trade already made, from the Trades sheet fills or an earlier Log (wash sales)."""

    date: date
    ticker: str
    side: Action  # ADD/BUY = purchase, TRIM/SELL = sale
    shares: Decimal
    price: Decimal | None = None  # the fill price, when known
    account: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What one position should do, and the rule that says so."""

    ticker: str
    action: Action
    amount: Decimal  # currency, positive, rounded to cents
    shares: Decimal  # positive
    post_trade_weight: Decimal
    rule: str  # the readable label, e.g. "Rule 1 (40% cap)"
    why: Reason  # the reason's clauses; `reason` is its text
    rule_id: RuleId  # the stable name, e.g. RuleId.CAP
    flags: frozenset[Flag] = frozenset()
    weight: Decimal = ZERO  # weight before trading
    target: Decimal = ZERO
    drift_pp: Decimal = ZERO
    value: Decimal = ZERO
    row: int = 0
    account: str = ""

    @property
    def reason(self) -> str:
        """The reason in words, as every way out shows it (worded once, when first read)."""
        return self.why.text

    @property
    def flag_text(self) -> str:
        if not self.flags:  # most rows: read on every row of Holdings and of the Log
            return ""
        return ", ".join(f.value for f in sorted(self.flags, key=_FLAG_ORDER.index))


_FLAG_ORDER = list(Flag)


@dataclass(frozen=True, slots=True)
class LotSale:
    """Shares taken from one lot by a sale, and the gain they realise."""

    acquired: date
    shares: Decimal
    cost_per_share: Decimal
    proceeds: Decimal
    gain: Decimal
    long_term: bool
    disallowed_loss: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Trade:
    """An order to place. Sells come before buys in `Plan.trades`."""

    ticker: str
    action: Action
    shares: Decimal
    price: Decimal
    amount: Decimal
    rule: str
    rule_id: RuleId
    lots: tuple[LotSale, ...] = ()
    short_term_gain: Decimal = ZERO
    long_term_gain: Decimal = ZERO
    estimated_tax: Decimal = ZERO
    account: str = ""

    @property
    def side(self) -> str:
        return "SELL" if self.action.is_sale else "BUY"


_Frozen = TypeVar("_Frozen")


def fast_constructor(cls: type[_Frozen]) -> Callable[..., _Frozen]:
    """A quicker way to build a frozen slots dataclass, for the engine's per-row values.

    A frozen dataclass's `__init__` sets every field through `object.__setattr__`, about
    0.25 µs a field: 3 µs for a Decision or a Trade, a third of a 10,000-position plan.
    The constructor returned here builds a mutable twin (plain attribute stores, ~10 ns a
    field) and then gives the object the frozen class; CPython allows that `__class__`
    assignment because the two layouts are identical. The result is an ordinary instance
    of `cls`: frozen, equal to and hashed like one built by `cls`.
    A mutable slots dataclass (the engine's `Position`) is built by the same written-out
    function on its own class: called from Python rather than as the class's `__init__`
    from C, it costs ~0.6k instructions less.
    """
    every = dataclasses.fields(cls)  # type: ignore[arg-type]
    fields = [f for f in every if f.init]
    post_init = getattr(cls, "__post_init__", None)
    # A field outside __init__ is __post_init__'s to set, as in the class's own __init__,
    # or, without a default, left unset as that __init__ leaves it.
    missing = dataclasses.MISSING
    unset = [f for f in every if not f.init and f.default is f.default_factory is missing]
    assert post_init or len(fields) + len(unset) == len(every), f"{cls.__name__}: who sets?"
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # A mutable class needs no twin: its own plain stores are the fast ones.
    # The twin is a subclass that adds no slot and takes back object's own attribute
    # stores and init. A subclass, not a class of its own with the same slots: the
    # `__class__` assignment then finds the layouts alike by walking up to `cls`, rather
    # than by comparing the two classes' slot names (−0.6k instructions a Decision or
    # Trade, on most rows). With object's init, called with no arguments, it is made by
    # type.__call__ straight through object's own new and init, ~0.28k instructions
    # fewer than `object.__new__(twin)`, whose wrapper parses an argument tuple.
    twin = (
        type(
            f"_Mutable{cls.__name__}",
            (cls,),
            {
                "__slots__": (),
                "__init__": object.__init__,
                "__setattr__": object.__setattr__,
                "__delattr__": object.__delattr__,
            },
        )
        if frozen
        else cls
    )
    # A class with object's init (the twin; `Position`, which declares none so that this
    # is its one constructor) is called bare, as said above.
    bare = vars(twin).get("__init__", object.__init__) is object.__init__
    # The builder is written out, as dataclasses writes an __init__, so that a call is one
    # Python frame of plain stores: the twin's own __init__ behind a wrapper was two
    # frames and an argument tuple (0.38 µs a Decision against 0.28).
    names: dict[str, Any] = {
        "_new": object.__new__,
        "_twin": twin,
        "_cls": cls,
        "_post_init": post_init,
    }
    params, lines = [], []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            names["_MISSING"] = dataclasses.MISSING
            params.append(f"{f.name}=_MISSING")
            lines.append(f"    if {f.name} is _MISSING: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        lines.append(f"    obj.{f.name} = {f.name}")
    source = "\n".join(
        [f"def build({', '.join(params)}):",
         "    obj = _twin()" if bare else "    obj = _new(_twin)", *lines,
         *(["    obj.__class__ = _cls"] if frozen else []),
         *(["    _post_init(obj)"] if post_init else []),
         "    return obj"]
    )  # fmt: skip
    exec(source, names)  # our own field names only, as dataclasses does
    build: Callable[..., _Frozen] = names["build"]
    build.__qualname__ = f"new {cls.__name__}"
    return build


def fast_replace(obj: _Frozen, build: Callable[..., _Frozen], **changes: Any) -> _Frozen:
    """`dataclasses.replace(obj, **changes)` through a `fast_constructor`'s `build`."""
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    values.update(changes)
    return build(**values)


new_decision = fast_constructor(Decision)
new_trade = fast_constructor(Trade)
new_holding = fast_constructor(Holding)  # one per input row


@dataclass(frozen=True, slots=True)
class TaxSummary:
    """Realised gains and estimated tax of a plan (SPEC §6)."""

    applies: bool
    short_term_gain: Decimal = ZERO
    long_term_gain: Decimal = ZERO
    estimated_tax: Decimal = ZERO
    disallowed_loss: Decimal = ZERO
    harvest: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (ticker, unrealised loss, tax saved)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PositionReturn:
    """One row of the Performance table: a position's return since the last rebalance."""

    ticker: str
    last_price: Decimal
    price: Decimal
    quarterly_return: Decimal  # price / last price − 1
    last_weight: Decimal | None  # weight at last rebalance prices
    contribution: Decimal | None  # last weight × return: its part of the quarter's return
    performance_class: PerformanceClass


@dataclass(frozen=True, slots=True)
class Metrics:
    """The totals a quarterly review looks at, for the holdings as they stand."""

    value: Decimal  # all positions, cash included (before new capital or a withdrawal)
    cost: Decimal | None = None  # shares × Purchase Price, where it is known
    gain: Decimal | None = None  # value − cost of those same positions
    gain_pct: Decimal | None = None  # gain / cost
    largest: tuple[str, Decimal] | None = None  # (ticker, weight), cash left out
    smallest: tuple[str, Decimal] | None = None  # the smallest held, cash left out
    returns: tuple[PositionReturn, ...] = ()  # positions with a Last Rebalance Price
    # Two numbers, each with its own label wherever it is shown: the positions' price
    # return since the last rebalance (the Performance sheet's and the Dashboard's), and
    # the change in value since the last History row (SPEC §1's quarter performance, the
    # History sheet's Quarter Return; new capital and withdrawals move it too).
    quarter_return: Decimal | None = None  # the sum of the contributions
    quarter_performance: Decimal | None = None  # value / the last History value − 1
    performance_since: date | None = None  # the date of that History row


@dataclass(frozen=True, slots=True)
class Account:
    """One account of a household (SPEC §9): its name, as rows name it, and its type."""

    name: str
    type: AccountType
    note: str = ""


@dataclass(frozen=True, slots=True)
class AccountCash:
    """One household account's money in a plan: cash before, sales in, buys out, after."""

    account: Account
    cash: Decimal
    sold: Decimal
    bought: Decimal

    @property
    def cash_after(self) -> Decimal:
        return self.cash + self.sold - self.bought


@dataclass(frozen=True, slots=True)
class Plan:
    """The engine's answer: one decision per holding, the orders, and the totals."""

    decisions: tuple[Decision, ...]
    trades: tuple[Trade, ...]
    portfolio_value: Decimal
    cash_left: Decimal
    as_of: date
    next_rebalance_date: date
    emergency_only: bool
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()  # warnings; or the errors that refused the plan
    tax: TaxSummary = field(default_factory=lambda: TaxSummary(applies=False))
    turnover: Decimal = ZERO  # (buys + sells) / 2 / portfolio value
    crash: bool = False
    metrics: Metrics = field(default_factory=lambda: Metrics(value=ZERO))
    accounts: tuple[AccountCash, ...] = ()  # a household's accounts; () for one account

    @property
    def is_household(self) -> bool:
        return bool(self.accounts)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that refused this plan: when there are any, it holds no decisions."""
        return tuple(p for p in self.problems if p.is_error)

    def decision(self, ticker: str) -> Decision:
        for d in self.decisions:
            if d.ticker == ticker:
                return d
        raise KeyError(ticker)

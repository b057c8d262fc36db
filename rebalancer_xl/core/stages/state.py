"""The state the stages share: one `Position` per holding and the plan's running totals.

Mutable on purpose and private to one `plan` call: each stage updates the positions in
place instead of copying frozen values (a `dataclasses.replace` per row per stage was a
seventh of a taxable plan's time). What leaves the engine is frozen (`Decision`, `Plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.model import (
    ZERO,
    Decision,
    Flag,
    HistoryEntry,
    Holding,
    Lot,
    PastTrade,
    Problem,
    RuleId,
    SellMode,
    TaxSummary,
    Trade,
    fast_constructor,
)
from rebalancer_xl.core.reasons import BelowMinimum, Clause, Crash, Schedule
from rebalancer_xl.core.reasons import money as money  # re-exported: the stages' amounts
from rebalancer_xl.core.rules.harvest import HarvestSale
from rebalancer_xl.core.rules.schedule import CrashCheck, ScheduleCheck
from rebalancer_xl.core.settings import Settings


# eq=False: hashed by identity, so a dict key. init=False: built by `new_position` only,
# which makes a class without an __init__ of its own by calling it bare (~0.28k
# instructions a row fewer than object.__new__).
@dataclass(slots=True, eq=False, init=False)
class Position:
    """One position while the plan is made: what the rulebook says about it (set by
    `judge` and `avoid_wash_sales`), then the money the allocation moves for it."""

    holding: Holding
    weight: Decimal
    rule: RuleId
    # The judgement's clauses; explain adds what the money did. A tuple, replaced when a
    # clause is added: the row's Reason keeps it as it is, without a copy.
    why: tuple[Clause, ...]
    flags: frozenset[Flag]  # replaced, never changed: most rows keep the shared empty one
    # The three a drift call sets, first of the defaults: judge passes them by position
    # on most rows rather than storing them again after the defaults (−70 instructions
    # a position).
    drift: Decimal | None = None  # weight − target in pp, rounded, when judging needed it
    may_top_up: bool = False
    may_fund: bool = False  # may be trimmed to fund buys
    sell: Decimal = ZERO  # exact sale the rules call for
    buy: Decimal = ZERO  # exact buy the rules call for (floor, strategy)
    rule_sale: bool = False  # sold by exit signals, caps or the floor
    exit_sale: bool = False  # a SELL rather than a TRIM
    full_exit: bool = False
    may_withdraw: bool = True  # may be trimmed to fund a withdrawal
    suppressed: BelowMinimum | None = None  # why its own trade is not placed
    buy_blocked: bool = False  # no buy of any kind (wash-sale window)
    harvest: HarvestSale | None = None  # a loss sale to offset the plan's gains (SPEC §6b)
    # Set by the allocation stages, each pass starting from zero (allocate._start_pass):
    # not set here, where judge would only store the zeros the first pass stores again
    # (nine stores a row, ~12% of building a Position).
    to_sell: Decimal = field(init=False)
    to_buy: Decimal = field(init=False)
    withdrawal: Decimal = field(init=False)  # part of to_sell that pays the withdrawal
    funding: Decimal = field(init=False)  # part of to_sell that funds the rules' buys
    top_up: Decimal = field(init=False)  # part of to_buy paid from proceeds (priorities 1, 2)
    second_priority: Decimal = field(init=False)  # part of top_up paid as a new pick or upgrade
    leftover: bool = field(init=False)  # the Leftover To fund, taking what is left
    # The shares to trade, after rounding, and their side: kept apart rather than as one
    # signed number, which round_shares would negate and explain negate back on every
    # sale (two Decimal operations a sell row, ~0.8k instructions).
    shares: Decimal = field(init=False)  # never negative; ZERO: no order
    selling: bool = field(init=False)  # the order is a sale
    amount: Decimal = field(init=False)  # the order's amount in cents (shares × price, rounded)
    # The value after the order, exactly (shares × price unrounded), set with `shares`
    # when there is an order: explain's Post-Trade % reuses the product.
    value_after: Decimal = field(init=False)

    @property
    def post(self) -> Decimal:
        """The position's value after the money allocated so far."""
        return self.holding.value - self.to_sell + self.to_buy


new_position = fast_constructor(Position)  # `Position(...)`, as its fields would take them

NO_FLAGS: frozenset[Flag] = frozenset()  # a row's flags until one is raised

_RULES_ONLY = SellMode.RULES_ONLY  # bound once: enum reads are slow in CPython 3.11


@dataclass(slots=True)
class PlanState:
    """Everything one `plan` call knows, from the inputs to the decisions."""

    settings: Settings
    as_of: date
    holdings: Sequence[Holding]
    history: Sequence[HistoryEntry]
    lots: Sequence[Lot]
    past_trades: Sequence[PastTrade]
    cash_row: Holding
    value: Decimal  # V: holdings + new capital − withdrawal
    cash: Decimal  # cash after new capital and withdrawal (may be negative)
    schedule: ScheduleCheck
    crash: CrashCheck
    restricted: RuleId | None  # the rule that lets only emergencies act, if one does
    positions: list[Position] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pass_notes: list[str] = field(default_factory=list)  # the last allocation pass's
    available: Decimal = ZERO  # money free for buys during an allocation pass
    # The pass scaled the rules' buys down: without it no row buys less than its rule's
    # buy, and explain asks no row whether it does (a comparison a buy row).
    buys_scaled: bool = False
    refusal: Problem | None = None  # set when the data asks for the impossible
    decisions: list[Decision] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    cash_left: Decimal = ZERO
    tax: TaxSummary = field(default_factory=lambda: TaxSummary(applies=False))

    @property
    def cash_target(self) -> Decimal:
        return self.cash_row.target

    @property
    def rules_only(self) -> bool:
        return self.settings.sell_mode is _RULES_ONLY

    @property
    def why_restricted(self) -> Schedule | Crash:
        return self.crash.why if self.crash.crashed else self.schedule.why

"""The engine's speed-ups read exactly as the plain code they replace.

`money`, `_qty` and the signed drift skip Decimal.__format__ where str() gives the same
text; the fast constructor builds frozen values without their slow __init__; enum hashes
are identities. Each is checked here against the plain form on many values.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rebalancer_xl.core import values
from rebalancer_xl.core.engine import plan
from rebalancer_xl.core.model import (
    TIER_FLOORS,
    TIER_LABELS,
    Action,
    Decision,
    Flag,
    Holding,
    RuleId,
    Tier,
    Trade,
    new_decision,
    new_holding,
    new_trade,
    pp,
    pp_limit,
    tier_rank,
)
from rebalancer_xl.core.reasons import Reason, money
from rebalancer_xl.core.reasons import order_words as _order
from rebalancer_xl.core.reasons import qty as _qty
from rebalancer_xl.core.settings import Settings
from rebalancer_xl.core.values import BadValue, parse_decimal

amounts = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False
)


@pytest.mark.slow
@given(amounts, st.sampled_from(["0.01", "0.1", "1", "0.001", "1E+2"]))
def test_money_reads_as_the_format_it_replaces(x: Decimal, step: str) -> None:
    x = x.quantize(Decimal(step))
    assert money(x) == f"${x:,.2f}"


@pytest.mark.slow
@given(st.decimals(min_value=0, max_value=Decimal("1e7"), places=6))
def test_share_counts_read_as_before(n: Decimal) -> None:
    whole = n.to_integral_value()
    for x in (n, whole, whole.quantize(Decimal(1))):
        expected = f"{x.normalize():,f}" if x != x.to_integral_value() else f"{int(x):,}"
        assert _qty(x) == expected


@pytest.mark.slow
@given(amounts)
def test_a_signed_decimal_reads_as_its_plus_format(x: Decimal) -> None:
    assert ("" if x.is_signed() else "+") + str(x) == f"{x:+}"
    assert f"{x!s}" == f"{x}"


def test_fast_constructors_make_ordinary_frozen_values() -> None:
    d = Decimal("1.5")
    args = ("A", Action.ADD, d, d, d, "Hybrid band", Reason(()), RuleId.HYBRID_BAND)
    fast, plain = (
        new_decision(*args, flags=frozenset({Flag.URGENT})),
        Decision(*args, flags=frozenset({Flag.URGENT})),
    )
    assert type(fast) is Decision
    assert fast == plain
    assert hash(fast) == hash(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.amount = Decimal(2)  # type: ignore[misc]
    assert dataclasses.replace(fast, amount=Decimal(2)).amount == 2
    trade = new_trade("A", Action.TRIM, d, d, d, "Rule 1 (40% cap)", RuleId.CAP)
    assert trade == Trade("A", Action.TRIM, d, d, d, "Rule 1 (40% cap)", RuleId.CAP)
    assert trade.lots == ()
    # A field set by __post_init__ (the holding's value) is set by the fast one too.
    holding = new_holding("A", Decimal(3), d, Decimal("0.1"), row=2)
    assert holding == Holding("A", Decimal(3), d, Decimal("0.1"), row=2)
    assert type(holding) is Holding
    assert holding.value == Decimal("4.5")


_EDGES = [0.0, -0.0, 1e-6, -1e-6, 5e-7, 1e12, -1e12, 0.3, 1e-300, 1e300]
_EDGES += [math.nextafter(x, t) for x in (1e-6, 1e12) for t in (0.0, math.inf)]


def _general_path(raw: object, percent: bool) -> object:
    """What parse_decimal's general path makes of a number: the Decimal, or the code."""
    try:
        value = values.to_decimal(raw)  # type: ignore[arg-type]
        if not percent:
            values._check_magnitude(value, raw, "Shares")
        return value
    except BadValue as err:
        return err.code


@given(
    st.one_of(
        st.sampled_from(_EDGES),
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(min_value=-1e-5, max_value=1e-5),
        st.integers(min_value=-(10**13), max_value=10**13),
    ),
    st.booleans(),
)
def test_a_number_cell_parses_as_the_general_path_would(raw: float, percent: bool) -> None:
    try:
        fast: object = parse_decimal(raw, "Shares", percent=percent)
    except BadValue as err:
        fast = err.code
    assert fast == _general_path(raw, percent)
    assert type(fast) is type(_general_path(raw, percent))


def test_enum_members_hash_by_identity_and_still_work_as_keys() -> None:
    assert hash(Action.ADD) == object.__hash__(Action.ADD)
    assert {Flag.URGENT: 1}[Flag.URGENT] == 1
    assert Action.TRIM.is_sale
    assert not Action.ADD.is_sale
    assert Action.BUY.is_buy
    assert len({*RuleId, *RuleId}) == len(RuleId)


def test_pp_limit_caches_the_rounded_setting() -> None:
    assert pp_limit(Decimal("0.40")) == Decimal("40.00")
    assert pp_limit(Decimal("0.055")) == Decimal("5.50")


@pytest.mark.slow
@given(
    st.decimals(min_value=0, max_value=Decimal("1e7"), places=6),
    st.decimals(min_value=0, max_value=Decimal("1e7"), places=2),
)
def test_the_order_text_reads_as_before(n: Decimal, amount: Decimal) -> None:
    for shares in (n, n.to_integral_value(), n.to_integral_value().quantize(Decimal(1))):
        if shares > 0:
            assert _order("sell ", shares, amount) == f"sell {_qty(shares)} sh ≈ {money(amount)}"


@pytest.mark.slow
@given(st.decimals(min_value=0, max_value=100, places=3))
def test_a_tier_rank_is_the_tier_it_replaces(score: Decimal) -> None:
    assert TIER_LABELS[tier_rank(score)] == Tier.of(score).label
    tier = next((t for floor, t in TIER_FLOORS if score >= floor), Tier.WEAK)
    assert tier_rank(score) == tier.value


@pytest.mark.slow
@given(
    st.decimals(min_value=0, max_value=1, places=28),
    st.decimals(min_value=0, max_value=1, places=2),
)
def test_the_judges_edges_pass_every_row_a_cap_or_the_floor_acts_on(
    weight: Decimal, limit: Decimal
) -> None:
    # judge rounds a weight only at or past limit / 100: every weight the cap (pp > L) or
    # the floor (pp < L, with a target whose pp > L) acts on is on the tested side.
    edge = pp_limit(limit) / 100
    if pp(weight) > pp_limit(limit):
        assert weight > edge  # strictly: the floor tests `floor_edge < target`
    if pp(weight) < pp_limit(limit):
        assert weight < edge


def test_a_callers_cyclic_garbage_is_still_collected_between_plans() -> None:
    """A process that plans again and again (the Excel button's server, a notebook) and
    drops a reference cycle between plans: the collector still frees it. The end of a
    plan moves what is young to the oldest generation; had the caller's garbage gone
    with it uncounted, it would wait for a full collection that never came."""
    import weakref

    holdings = [
        Holding("AAA", Decimal(10), Decimal(100), Decimal("0.5")),
        Holding("CASH", Decimal(1000), Decimal(1), Decimal("0.5")),
    ]

    class Node:
        other: object = None

    freed: list[int] = []
    gc.collect()
    for i in range(200):
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector can free it
        weakref.finalize(a, freed.append, i)
        del a, b
        plan(holdings, Settings(), as_of=date(2026, 12, 31))
    # The last cycle too: a plan collects the young generations as it starts.
    assert len(freed) == 200, f"{len(freed)} of 200 cycles freed"


def test_a_plan_leaves_the_collector_as_it_found_it() -> None:
    holdings = [
        Holding("AAA", Decimal(10), Decimal(100), Decimal("0.5")),
        Holding("CASH", Decimal(1000), Decimal(1), Decimal("0.5")),
    ]

    def run() -> None:
        plan(holdings, Settings(), as_of=date(2026, 12, 31))

    assert gc.isenabled()
    run()
    # On again, and nothing left frozen: the plan's objects were moved to the oldest
    # generation, not kept out of collection.
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        run()
        assert not gc.isenabled()  # a caller's pause is kept
    finally:
        gc.enable()
    gc.freeze()  # a process that froze its own objects (a pre-fork server, say)
    try:
        frozen = gc.get_freeze_count()
        run()
        assert gc.get_freeze_count() == frozen  # theirs stay frozen, none are added
        assert gc.isenabled()
    finally:
        gc.unfreeze()

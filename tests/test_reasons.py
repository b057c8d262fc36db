"""Reasons are clauses carrying their numbers, worded in one module when first read."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from rebalancer_xl.core import reasons
from rebalancer_xl.core.reasons import Cap, Clause, HalfBand, Order, Reason, word
from tests.golden import SCENARIOS

D = Decimal
_CLAUSE_TYPES = tuple(
    v
    for v in vars(reasons).values()
    if isinstance(v, type)
    and v.__module__ == reasons.__name__
    and hasattr(v, "words")
    and v is not Clause
)


@pytest.fixture(scope="module")
def plans():
    return [s.plan() for s in SCENARIOS]


def test_a_drift_trim_carries_its_numbers_not_its_words(plans):
    # The golden "every rule" plan: BBB drifts +7.71 pp past a 5 pp band and is trimmed.
    bbb = next(d for d in plans[0].decisions if d.ticker == "BBB")
    drift, order = bbb.why.clauses
    assert drift == HalfBand(D("7.71"), D("5.00"), True, drift.goal)
    assert order == Order(True, D(531), D("53100.00"))
    assert bbb.reason == (
        "drift +7.71 pp ≥ 5.00 pp band → to target + half band = 34.50%: sell 531 sh ≈ $53,100.00"
    )


def test_every_clause_of_every_golden_row_is_a_value_of_the_wording_module(plans):
    # A stage that slipped prose (a str) into a reason would show here.
    clauses = [c for p in plans for d in p.decisions for c in d.why.clauses]
    assert len(clauses) > 50
    assert all(isinstance(c, _CLAUSE_TYPES) and not isinstance(c, str) for c in clauses)
    assert all(type(c).__module__ == reasons.__name__ for c in clauses)


def test_money_after_the_judgement_follows_a_colon_and_each_other_a_semicolon():
    clauses: tuple[Clause, ...] = (
        Cap(D("45.00"), D("0.40"), D("0.35"), False),
        reasons.FundingTrim(D("12.345")),
        Order(True, D(3), D("30.00")),
        reasons.Gains(True, D(0), D(5), D(1)),
    )
    assert word(clauses) == (
        "45.00% > 40% → trim to 35%: $12.35 trimmed to fund the buys the rules call for; "
        "sell 3 sh ≈ $30.00; realises +5.00 long-term, est. tax $1.00"
    )


def test_a_reason_is_worded_once_however_often_it_is_read(monkeypatch):
    calls = []
    real = reasons.word
    monkeypatch.setattr(reasons, "word", lambda cs: calls.append(cs) or real(cs))
    r = Reason((Order(False, D(1), D("2.00")),))
    assert calls == []  # nothing worded until read
    assert r.text == r.text == "buy 1 sh ≈ $2.00"
    assert len(calls) == 1


def test_reasons_compare_by_their_text_and_survive_pickling():
    # 45.0 and 45.00 are equal numbers that read differently: the rows differ.
    a = Reason((Cap(D("45.00"), D("0.40"), D("0.35"), False),))
    b = Reason((Cap(D("45.0"), D("0.40"), D("0.35"), False),))
    assert a != b
    assert a == Reason((Cap(D("45.00"), D("0.40"), D("0.35"), False),))
    assert hash(a) == hash(Reason(a.clauses))
    back = pickle.loads(pickle.dumps(a))
    assert back == a
    assert back.clauses == a.clauses


def test_a_pickled_plan_reads_the_same(plans):
    # Batch workers hand plans between processes.
    plan = plans[1]
    again = pickle.loads(pickle.dumps(plan))
    assert [d.reason for d in again.decisions] == [d.reason for d in plan.decisions]

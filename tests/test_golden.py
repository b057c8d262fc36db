"""The golden plans: every rule acts at least once, and the wording is what plans.txt pins.

After a deliberate change of wording: `.venv/bin/python -m tests.golden --update`, then
read the diff of tests/golden/plans.txt before committing it.
"""

from __future__ import annotations

from rebalancer_xl.core.model import Flag, RuleId
from tests.golden import GOLDEN, SCENARIOS, render_all


def test_every_rule_acts_in_the_golden_plans():
    plans = [s.plan() for s in SCENARIOS]
    ids = {d.rule_id for p in plans for d in p.decisions}
    assert ids == set(RuleId)
    flags = {f for p in plans for d in p.decisions for f in d.flags}
    assert flags == set(Flag)
    reasons = " ".join(d.reason for p in plans for d in p.decisions)
    for words in ("locked", "company event", "wash sale", "turns long-term", "withdrawal"):
        assert words in reasons, words


def test_the_golden_plans_read_as_pinned():
    expected = GOLDEN.read_text(encoding="utf-8")
    assert render_all() == expected, (
        "the plans' wording changed; if on purpose, run "
        "`.venv/bin/python -m tests.golden --update` and read the diff"
    )

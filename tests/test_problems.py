"""Bad input becomes located problems with stable codes, all of them in one pass."""

from __future__ import annotations

import pytest

from rebalancer_xl import InputError, make_plan
from rebalancer_xl.model import Severity
from tests.tables import frame, run

GOOD = """
    Ticker | Shares | Current Price | Target % | Score | Previous Score | Exit Triggers Hit
    PLTR   | 100    | 100           | 0.30     | 70    | 70             | 0
    ALAB   | 100    | 100           | 0.30     | 70    | 70             | 0
    CRWV   | 100    | 100           | 0.40     | 70    | 70             | 0
"""


def problems(table: str, settings: dict | None = None) -> list[tuple[str, str | None, str | None]]:
    with pytest.raises(InputError) as err:
        run(table, settings)
    return [(p.code, p.where.ticker, p.where.column) for p in err.value.problems]


def test_good_input_has_no_problems():
    assert run(GOOD).decisions


@pytest.mark.parametrize(("cell", "value", "code"), [
    ("Shares", "-5", "negative-shares"),
    ("Shares", "ten", "not-a-number"),
    ("Current Price", "0", "bad-price"),
    ("Current Price", "abc", "not-a-number"),
    ("Current Price", "#N/A", "excel-error"),
    ("Score", "120", "score-out-of-range"),
    ("Previous Score", "-1", "score-out-of-range"),
    ("Exit Triggers Hit", "1.5", "bad-count"),
    ("Target %", "30", "out-of-range"),
])
def test_a_bad_cell_is_named_by_ticker_and_column(cell, value, code):
    df = frame(GOOD)
    df[cell] = df[cell].astype(object)
    df.loc[0, cell] = value
    with pytest.raises(InputError) as err:
        make_plan(df, {"As-of Date": "2026-12-31"})
    found = [(p.code, p.where.ticker, p.where.column) for p in err.value.problems]
    assert found == [(code, "PLTR", cell)]
    assert value.lstrip("-") in err.value.problems[0].message


def test_every_problem_is_reported_in_one_pass():
    found = problems("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | -1     | 100           | 0.30     | 70
        ALAB   | 100    | 0             | 0.30     | 170
        PLTR   | 100    | 100           | 0.40     | 70
               | 100    | 100           |          |
    """)
    assert found == [
        ("negative-shares", "PLTR", "Shares"),
        ("bad-price", "ALAB", "Current Price"),
        ("score-out-of-range", "ALAB", "Score"),
        ("duplicate-ticker", "PLTR", "Ticker"),
        ("missing-ticker", None, "Ticker"),
    ]


def test_targets_must_add_to_100_and_the_message_shows_the_sum():
    with pytest.raises(InputError) as err:
        run("""
            Ticker | Shares | Current Price | Target % | Score
            PLTR   | 100    | 100           | 0.30     | 70
            ALAB   | 100    | 100           | 0.65     | 70
        """)
    [p] = err.value.problems
    assert p.code == "targets-not-100"
    assert "95.00%" in p.message


def test_targets_within_a_hundredth_of_a_point_are_fine():
    assert run("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 100    | 100           | 0.50005  | 70
        ALAB   | 100    | 100           | 0.5      | 70
    """).decisions


def test_missing_column_is_one_problem_and_suggests_the_rename():
    found = problems("""
        Ticker | Shares | Price | Target %
        PLTR   | 100    | 100   | 1
    """)
    assert found == [("missing-column", None, "Current Price")]


def test_unknown_setting_and_strategy():
    found = problems(GOOD, {"Stratgy": "Hybrid", "Strategy": "Momentum", "Band": "five"})
    assert found == [
        ("unknown-setting", None, "Stratgy"),
        ("bad-choice", None, "Strategy"),
        ("not-a-number", None, "Band"),
    ]


def test_formula_like_ticker_is_refused():
    found = problems("""
        Ticker                      | Shares | Current Price | Target %
        =HYPERLINK("http://x","y")  | 100    | 100           | 1
    """)
    assert [f[0] for f in found] == ["bad-ticker"]


def test_target_above_cap_is_a_warning_not_an_error():
    p = run("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 100    | 100           | 0.45     | 70
        ALAB   | 100    | 100           | 0.55     | 70
    """, {"Cap": 0.6, "Cap Trim To": 0.55, "Urgent Cap": 0.7, "Urgent Trim To": 0.6})
    assert [(w.code, w.severity) for w in p.problems] == []
    warned = run("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 100    | 100           | 0.45     | 70
        ALAB   | 100    | 100           | 0.55     | 70
    """, {"Cap": 0.5, "Cap Trim To": 0.45, "Urgent Cap": 0.7, "Urgent Trim To": 0.6})
    assert [(w.code, w.severity, w.where.ticker) for w in warned.problems] == [
        ("target-above-cap", Severity.WARNING, "ALAB"),
    ]


def test_settings_accept_yes_no_spellings_and_percent_text():
    from rebalancer_xl.settings import parse_settings

    for yes in ("Yes", "y", "TRUE", 1, "1", True):
        settings, found = parse_settings({"Whole Shares": yes})
        assert settings.whole_shares is True
        assert not found
    settings, found = parse_settings({"Band": "5%", "Strategy": "threshold"})
    assert (str(settings.band), settings.strategy.value, found) == ("0.05", "Threshold", [])


def test_withdrawal_larger_than_the_portfolio():
    assert [f[0] for f in problems(GOOD, {"Withdrawal": 50000})] == ["withdrawal-too-large"]


def test_last_rebalance_after_as_of_is_a_problem():
    assert [f[0] for f in problems(GOOD, {"Last Rebalance Date": "2027-01-31"})] == [
        "date-in-future"
    ]


def test_text_date_that_is_not_iso_is_refused():
    assert [f[0] for f in problems(GOOD, {"As-of Date": "31/12/2026"})] == ["not-a-date"]

"""The quarter's numbers (SPEC §1): totals, largest and smallest, returns and classes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebalancer_xl.core.model import PerformanceClass
from rebalancer_xl.core.rules.metrics import performance_class
from tests.tables import D, run

# The guide's sample (workbook/sample.py): $120,000 now, $115,830 at last prices.
SAMPLE = """
    Ticker | Shares | Current Price | Target % | Score | Purchase Price
    PLTR   | 250    | 180           | 0.30     | 78    | 80
    ALAB   | 200    | 132           | 0.25     | 70.8  | 110
    CASH   | 2000   | 1             | 0.45     |       | 1
"""


def test_totals_of_the_holdings_as_they_stand():
    m = run(SAMPLE).metrics
    assert m.value == D(45000 + 26400 + 2000)
    assert m.cost == D(250 * 80 + 200 * 110 + 2000)
    assert m.gain == D(73400 - 44000)
    assert m.gain_pct == D(29400) / D(44000)


def test_a_blank_purchase_price_is_unknown_not_all_gain():
    m = run("""
        Ticker | Shares | Current Price | Target % | Score | Purchase Price
        PLTR   | 250    | 180           | 0.50     | 78    | 80
        ALAB   | 200    | 132           | 0.50     | 70.8  |
    """).metrics
    assert (m.cost, m.gain) == (D(20000), D(45000 - 20000))


def test_no_purchase_prices_means_no_gain_figure():
    m = run("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 250    | 180           | 1.0      | 78
    """).metrics
    assert (m.cost, m.gain, m.gain_pct) == (None, None, None)


def test_largest_and_smallest_leave_out_cash_and_unheld_picks():
    m = run("""
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 250    | 180           | 0.30     | 78
        ALAB   | 10     | 132           | 0.25     | 70.8
        NEW    | 0      | 50            | 0.05     | 70
        CASH   | 90000  | 1             | 0.40     |
    """).metrics
    total = D(45000 + 1320 + 90000)
    assert m.largest == ("PLTR", D(45000) / total)
    assert m.smallest == ("ALAB", D(1320) / total)


def test_returns_weights_and_contributions_since_the_last_rebalance():
    p = run("""
        Ticker | Shares | Current Price | Target % | Score | Last Rebalance Price
        PLTR   | 250    | 180           | 0.60     | 78    | 150
        TEM    | 125    | 56            | 0.40     | 55    | 70
    """)
    by = {r.ticker: r for r in p.metrics.returns}
    last_value = D(250 * 150 + 125 * 70)
    assert by["PLTR"].quarterly_return == D("0.2")
    assert by["PLTR"].last_weight == D(37500) / last_value
    assert by["PLTR"].performance_class is PerformanceClass.WINNER
    assert by["TEM"].quarterly_return == D("-0.2")
    assert by["TEM"].performance_class is PerformanceClass.LAGGARD
    # The sum of the contributions is the whole book's return (to Decimal's 28 digits).
    assert abs(p.metrics.quarter_return - (D(45000 + 7000) / last_value - 1)) < D("1e-25")


@pytest.mark.parametrize(
    ("r", "cls"),
    [
        ("0.2", PerformanceClass.WINNER),
        ("0.19999999", PerformanceClass.WINNER),  # 180/150 − 1 in floating point
        ("0.19994", PerformanceClass.IN_LINE),
        ("-0.1", PerformanceClass.IN_LINE),
        ("-0.10006", PerformanceClass.LAGGARD),
    ],
)
def test_class_edges(r: str, cls: PerformanceClass):
    assert performance_class(Decimal(r)) is cls

"""Bad input becomes located problems with stable codes, all of them in one pass."""

from __future__ import annotations

import warnings
from datetime import date

import pytest

from rebalancer_xl import InputError, Lot, RebalanceWarning, make_plan, rebalance
from rebalancer_xl.core.model import Severity
from tests.tables import BASE, D, frame, run

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


@pytest.mark.parametrize(
    ("cell", "value", "code"),
    [
        ("Shares", "-5", "negative-shares"),
        ("Shares", "ten", "not-a-number"),
        ("Current Price", "0", "bad-price"),
        ("Current Price", "abc", "not-a-number"),
        ("Current Price", "#N/A", "excel-error"),
        ("Score", "120", "score-out-of-range"),
        ("Previous Score", "-1", "score-out-of-range"),
        ("Exit Triggers Hit", "1.5", "bad-count"),
        ("Target %", "30", "out-of-range"),
    ],
)
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
    [p] = [p for p in err.value.problems if p.is_error]  # ALAB's 65% is also warned of
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
    # The row's 100% target is read all the same, and is above the cap.
    assert [f[0] for f in found] == ["bad-ticker", "target-above-cap"]


def test_target_above_cap_is_a_warning_not_an_error():
    p = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 100    | 100           | 0.45     | 70
        ALAB   | 100    | 100           | 0.55     | 70
    """,
        {"Cap": 0.6, "Cap Trim To": 0.55, "Urgent Cap": 0.7, "Urgent Trim To": 0.6},
    )
    assert [(w.code, w.severity) for w in p.problems] == []
    warned = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 100    | 100           | 0.45     | 70
        ALAB   | 100    | 100           | 0.55     | 70
    """,
        {"Cap": 0.5, "Cap Trim To": 0.45, "Urgent Cap": 0.7, "Urgent Trim To": 0.6},
    )
    assert [(w.code, w.severity, w.where.ticker) for w in warned.problems] == [
        ("target-above-cap", Severity.WARNING, "ALAB"),
    ]


def test_settings_accept_yes_no_spellings_and_percent_text():
    from rebalancer_xl.core.settings import parse_settings

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


# --- checks across rows run beside bad cells ---------------------------------------------

# Targets add up to 105%, and ALAB's 45% is above the default 40% cap.
OVER = """
    Ticker | Shares | Current Price | Target % | Score
    PLTR   | 100    | 100           | 0.30     | 70
    ALAB   | 100    | 100           | 0.45     | 70
    CRWV   | 100    | 100           | 0.30     | 70
"""


def located(
    table: str, settings: dict | None = None, **options: object
) -> list[tuple[str, str | None, str | None, Severity]]:
    """Every problem of a refused input as (code, ticker, column, severity)."""
    with pytest.raises(InputError) as err:
        run(table, settings, **options)
    return [(p.code, p.where.ticker, p.where.column, p.severity) for p in err.value.problems]


def with_cell(table: str, ticker: str, column: str, value: str) -> str:
    """`table` with one cell of `ticker`'s row replaced."""
    lines = table.strip().splitlines()
    header = [h.strip() for h in lines[0].split("|")]
    out = [lines[0]]
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")]
        if cells[0] == ticker:
            cells[header.index(column)] = value
        out.append(" | ".join(cells))
    return "\n".join(out)


@pytest.mark.parametrize(
    ("ticker", "column", "value", "code"),
    [
        ("PLTR", "Shares", "-5", "negative-shares"),
        ("CRWV", "Current Price", "abc", "not-a-number"),
    ],
)
def test_a_bad_cell_does_not_hide_the_checks_across_rows(ticker, column, value, code):
    with pytest.raises(InputError) as err:
        run(with_cell(OVER, ticker, column, value))
    found = [(p.code, p.where.ticker, p.where.column, p.severity) for p in err.value.problems]
    assert found == [
        (code, ticker, column, Severity.ERROR),
        ("targets-not-100", None, "Target %", Severity.ERROR),
        ("target-above-cap", "ALAB", "Target %", Severity.WARNING),
    ]
    assert "105.00%" in err.value.problems[1].message
    assert "target-above-cap (warning)" in str(err.value)


def test_a_bad_target_makes_the_sum_unknown_and_it_is_not_reported():
    """With PLTR's target unreadable the sum cannot be known; ALAB's warning still can."""
    assert located(with_cell(OVER, "PLTR", "Target %", "thirty")) == [
        ("not-a-number", "PLTR", "Target %", Severity.ERROR),
        ("target-above-cap", "ALAB", "Target %", Severity.WARNING),
    ]


def test_leftover_ticker_is_checked_beside_a_bad_cell():
    assert located(with_cell(GOOD, "ALAB", "Shares", "ten"), {"Leftover To": "QQQ"}) == [
        ("not-a-number", "ALAB", "Shares", Severity.ERROR),
        ("leftover-ticker-missing", None, "Leftover To", Severity.ERROR),
    ]


def test_leftover_ticker_is_not_called_missing_when_a_ticker_cell_is_blank():
    """The row without a ticker may be the very QQQ row: say only what is known."""
    assert located(GOOD + "\n       | 10 | 500 | 0", {"Leftover To": "QQQ"}) == [
        ("missing-ticker", None, "Ticker", Severity.ERROR),
    ]


def test_a_refused_setting_is_not_used_by_the_checks_across_rows():
    """A Cap the user typed badly is reported; the default does not stand in to warn."""
    assert located(OVER, {"Cap": "forty"}) == [
        ("not-a-number", None, "Cap", Severity.ERROR),
        ("targets-not-100", None, "Target %", Severity.ERROR),
    ]


def test_duplicate_ticker_says_where_the_first_one_is():
    with pytest.raises(InputError) as err:
        run("""
            Ticker | Shares | Current Price | Target % | Score
            PLTR   | 100    | 100           | 0.30     | 70
            ALAB   | 100    | 100           | 0.30     | 70
            pltr   | 100    | 100           | 0.40     | 70
        """)
    [p] = err.value.problems
    assert (p.code, p.where.ticker, p.where.row) == ("duplicate-ticker", "PLTR", 2)
    assert "first on row 0 of the input, counting from 0 as df.iloc does" in p.message


def test_a_row_without_a_ticker_is_located_as_the_messages_count():
    with pytest.raises(InputError) as err:
        run(GOOD + "\n       | 10 | 500 | 0")
    assert str(err.value.problems[0].where) == "Holdings / row 3 / Ticker"


# --- lots given to the API --------------------------------------------------------------


def lot(ticker: str, shares: int) -> Lot:
    return Lot(ticker, date(2025, 1, 2), D(shares), D(50))


def test_lots_must_add_up_to_the_shares_held():
    lots = [lot("PLTR", 60), lot("ALAB", 100), lot("PLTR", 30), lot("NVDA", 5)]
    with pytest.raises(InputError) as err:
        run(GOOD, lots=lots)
    found = [
        (p.code, p.where.sheet, p.where.row, p.where.column, p.where.ticker)
        for p in err.value.problems
    ]
    # A total that does not match is the Holdings row's Shares, as the workbook says it
    # (no one lot is wrong); a ticker with no row is its first lot's Ticker.
    assert found == [
        ("lots-mismatch", "Holdings", 0, "Shares", "PLTR"),
        ("lot-without-holding", "Lots", 3, "Ticker", "NVDA"),
    ]
    assert "90" in err.value.problems[0].message
    assert "100" in err.value.problems[0].message


def test_lots_that_add_up_are_used():
    plan = run(GOOD, lots=[lot("PLTR", 60), lot("PLTR", 40)])
    assert plan.tax.applies


def test_lots_of_a_refused_row_are_not_compared():
    """PLTR's shares are unknown, so its lots can be neither right nor wrong; ALAB's can."""
    lots = [lot("PLTR", 60), lot("ALAB", 90)]
    assert located(with_cell(GOOD, "PLTR", "Shares", "ten"), lots=lots) == [
        ("not-a-number", "PLTR", "Shares", Severity.ERROR),
        ("lots-mismatch", "ALAB", "Shares", Severity.ERROR),
    ]


# --- warnings reach the caller of rebalance ----------------------------------------------


CAPPED = """
    Ticker | Shares | Current Price | Target % | Score
    PLTR   | 100    | 100           | 0.55     | 70
    ALAB   | 100    | 100           | 0.45     | 70
"""
LOOSE_CAP = {**BASE, "Cap": 0.5, "Cap Trim To": 0.45, "Urgent Cap": 0.7, "Urgent Trim To": 0.6}


def test_rebalance_emits_each_warning():
    with pytest.warns(RebalanceWarning) as caught:
        out = rebalance(frame(CAPPED), LOOSE_CAP)
    assert list(out["Ticker"]) == ["PLTR", "ALAB", "CASH"]
    [w] = caught
    assert isinstance(w.message, RebalanceWarning)
    assert (w.message.problem.code, w.message.problem.where.ticker) == ("target-above-cap", "PLTR")
    assert str(w.message) == (
        "Holdings / PLTR / Target %: target-above-cap: PLTR Target % 55.00% is above the "
        "50% cap; the cap will trim it whenever it reaches its target"
    )
    assert w.filename == __file__  # it points at the caller's line


def test_rebalance_without_warnings_emits_none():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rebalance(frame(GOOD), BASE)


def test_rebalance_warning_is_a_user_warning_exported_by_the_package():
    import rebalancer_xl

    assert issubclass(rebalancer_xl.RebalanceWarning, UserWarning)
    assert "RebalanceWarning" in rebalancer_xl.__all__


def test_lots_given_to_the_api_are_checked_as_the_lots_sheet_is():
    """One check of a lot's numbers: negative shares or cost are refused through the API
    too (they were once accepted there and a tax estimated on them)."""
    lots = [
        Lot("PLTR", date(2025, 1, 2), D(-100), D(50)),
        Lot("ALAB", date(2025, 1, 2), D(100), D(-5)),
        Lot("CRWV", date(2025, 1, 2), D(100), D(50)),
    ]
    with pytest.raises(InputError) as err:
        make_plan(frame(GOOD), BASE, lots=lots)
    assert [(p.code, p.where.sheet, p.where.row, p.where.column) for p in err.value.problems] == [
        ("bad-shares", "Lots", 0, "Shares"),
        ("bad-price", "Lots", 1, "Cost per Share"),
    ]

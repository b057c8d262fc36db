"""Taxes inside a plan (SPEC §6): lots on sells, gains by term, wash sales, harvesting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from rebalancer_xl import Action, Flag, Lot, PastTrade
from tests.tables import D, run

# PLTR is 45% of $100,000 → the 40% cap trims $10,000 = 100 sh at $100.
CAPPED = """
    Ticker | Shares | Current Price | Target % | Score | Purchase Price
    PLTR   | 450    | 100           | 0.30     | 80    | 70
    ALAB   | 250    | 100           | 0.25     | 70    | 120
    CRWV   | 200    | 100           | 0.20     | 70    | 90
    CASH   | 10000  | 1             | 0.25     |       |
"""
AS_OF = date(2026, 12, 31)
LOTS = [
    Lot("PLTR", date(2024, 1, 10), D(300), D(50)),  # long-term, +$50/sh
    Lot("PLTR", date(2026, 6, 1), D(150), D(110)),  # short-term, −$10/sh (a loss)
    Lot("ALAB", date(2026, 3, 1), D(250), D(120)),  # unrealised loss of $5,000
    Lot("CRWV", date(2025, 1, 1), D(200), D(90)),
]


def test_a_taxable_sale_names_its_lots_gains_and_tax():
    p = run(CAPPED, lots=LOTS)
    [trade] = [t for t in p.trades if t.ticker == "PLTR"]
    # Min Tax: the loss lot first (100 of its 150 sh at −$10) → −$1,000 short-term.
    assert [(s.acquired, s.shares, s.gain) for s in trade.lots] == [
        (date(2026, 6, 1), D(100), D("-1000.00"))
    ]
    assert trade.short_term_gain == D("-1000.00")
    assert trade.estimated_tax == D("0.00")
    assert "realises -1,000.00 short-term" in p.decision("PLTR").reason
    assert p.tax.applies
    assert p.tax.estimated_tax == D("0.00")


def test_fifo_takes_the_old_lot_and_costs_long_term_tax():
    p = run(CAPPED, {"Lot Method": "FIFO"}, lots=LOTS)
    [trade] = [t for t in p.trades if t.ticker == "PLTR"]
    # FIFO: 100 sh of the 2024 lot: +$5,000 long-term × 20% = $1,000.
    assert trade.long_term_gain == D("5000.00")
    assert trade.estimated_tax == D("1000.00")
    assert p.tax.estimated_tax == D("1000.00")


def test_a_planted_wash_sale_is_caught_and_explained():
    # 150 PLTR bought 12 days ago; every share is held at a $10 loss. Min Tax sells the
    # 100-share trim from the new lot (the old one would wash outright), but 50 of the
    # new shares stay held: they replace half the shares sold, so half of the $1,000
    # loss, $500, is disallowed.
    bought = PastTrade(AS_OF - timedelta(days=12), "PLTR", Action.BUY, D(150), D(110))
    lots = [
        Lot("PLTR", date(2025, 1, 2), D(300), D(110)),
        Lot("PLTR", date(2026, 12, 19), D(150), D(110)),
    ]
    p = run(CAPPED, lots=lots, past_trades=[bought])
    d = p.decision("PLTR")
    assert Flag.WASH_SALE in d.flags
    assert p.tax.disallowed_loss == D("500.00")
    assert "$500.00 of the $1,000.00 loss is disallowed" in d.reason


def test_selling_the_shares_bought_in_the_window_avoids_the_wash():
    # Only 60 sh were bought in the window; the trim sells those 60 first (they cannot
    # replace themselves) and 40 old ones: nothing left to replace, no wash sale.
    bought = PastTrade(AS_OF - timedelta(days=12), "PLTR", Action.BUY, D(60), D(110))
    lots = [
        Lot("PLTR", date(2025, 1, 2), D(390), D(110)),
        Lot("PLTR", date(2026, 12, 19), D(60), D(110)),
    ]
    p = run(CAPPED, lots=lots, past_trades=[bought])
    [trade] = [t for t in p.trades if t.ticker == "PLTR"]
    assert [(s.acquired, s.shares) for s in trade.lots] == [
        (date(2026, 12, 19), D(60)),
        (date(2025, 1, 2), D(40)),
    ]
    assert Flag.WASH_SALE not in p.decision("PLTR").flags
    assert p.tax.disallowed_loss == 0


def test_a_gain_is_never_a_wash_sale():
    bought = PastTrade(AS_OF - timedelta(days=5), "PLTR", Action.BUY, D(50), D(95))
    p = run(CAPPED, lots=[Lot("PLTR", date(2024, 1, 10), D(450), D(50))], past_trades=[bought])
    assert Flag.WASH_SALE not in p.decision("PLTR").flags
    assert p.tax.disallowed_loss == 0


TOPUP = """
    Ticker | Shares | Current Price | Target % | Score | Purchase Price
    PLTR   | 375    | 100           | 0.30     | 80    | 60
    ALAB   | 220    | 100           | 0.25     | 70    | 120
    CRWV   | 200    | 100           | 0.20     | 70    | 90
    CASH   | 25500  | 1             | 0.25     |       |
"""


# All of TOPUP's PLTR in one old lot: the account is taxable, and the lots add up.
TOPUP_LOTS = [Lot("PLTR", date(2024, 1, 10), D(375), D(50))]


def _sold_alab(days_ago: int) -> list[PastTrade]:
    return [PastTrade(AS_OF - timedelta(days=days_ago), "ALAB", Action.TRIM, D(30), D(100))]


def test_top_up_waits_inside_the_wash_window():
    # ALAB is 3 pp under target and was sold at a loss ($100 < $120 cost) 30 days ago:
    # day 30 is inside the window, so the optional top-up waits.
    p = run(TOPUP, lots=TOPUP_LOTS, past_trades=_sold_alab(30))
    alab = p.decision("ALAB")
    assert alab.action is Action.HOLD
    assert "wash sale" in alab.reason
    assert "any buy waits until 2027-01-01" in alab.reason
    assert Flag.WASH_SALE in alab.flags


def test_top_up_goes_ahead_on_day_31():
    p = run(TOPUP, lots=TOPUP_LOTS, past_trades=_sold_alab(31))
    assert p.decision("ALAB").action is Action.ADD


def test_retirement_account_skips_tax_and_says_so_once():
    p = run(CAPPED, {"Account Type": "Retirement"}, lots=LOTS)
    assert not p.tax.applies
    assert len(p.tax.notes) == 1
    assert "Retirement" in p.tax.notes[0]
    assert all(not t.lots for t in p.trades)


def test_no_lots_means_no_estimate_and_a_note():
    p = run(CAPPED)
    assert not p.tax.applies
    assert "No tax lots" in p.tax.notes[0]


def test_december_gains_list_harvest_candidates():
    # FIFO realises a $5,000 long-term gain; ALAB sits on a $5,000 unrealised loss and
    # PLTR's 2026 lot on a $1,500 one (150 sh × $10): both are offered, largest first.
    p = run(CAPPED, {"Lot Method": "FIFO"}, lots=LOTS)
    assert [(h[0], h[1]) for h in p.tax.harvest] == [("ALAB", D("5000.00")), ("PLTR", D("1500.00"))]
    assert any("December" in n for n in p.tax.notes)


def test_leftover_index_fund_is_not_bought_back_inside_the_window():
    table = """
        Ticker | Shares | Current Price | Target % | Score | Purchase Price
        PLTR   | 450    | 100           | 0.35     | 80    | 60
        ALAB   | 550    | 100           | 0.65     | 70    | 90
        QQQ    | 0      | 500           | 0        |       | 520
        CASH   | 10000  | 1             | 0        |       |
    """
    sold = [PastTrade(AS_OF - timedelta(days=10), "QQQ", Action.SELL, D(20), D(480))]
    lots = [Lot("PLTR", date(2024, 1, 10), D(450), D(50))]  # taxable; adds up to 450
    held_back = run(table, {"Leftover To": "QQQ"}, lots=lots, past_trades=sold)
    qqq = held_back.decision("QQQ")
    assert qqq.action is Action.HOLD
    assert Flag.WASH_SALE in qqq.flags
    free = run(table, {"Leftover To": "QQQ"}, lots=lots)
    assert free.decision("QQQ").action is Action.BUY
    # What QQQ would have received stays in cash instead.
    assert held_back.cash_left == free.cash_left + free.decision("QQQ").amount


def test_a_lot_bought_inside_the_window_is_a_purchase_even_without_a_logged_fill():
    # No trade log at all: the 150 sh acquired 10 days ago are themselves the purchase.
    # Selling the old loss lot would wash $1,000; Min Tax sells from the new lot instead
    # (a small short-term gain at $100 − $95), so no loss is disallowed.
    lots = [
        Lot("PLTR", date(2025, 1, 2), D(300), D(110)),
        Lot("PLTR", AS_OF - timedelta(days=10), D(150), D(95)),
    ]
    p = run(CAPPED, lots=lots)
    [trade] = [t for t in p.trades if t.ticker == "PLTR"]
    assert [(s.acquired, s.shares) for s in trade.lots] == [(AS_OF - timedelta(days=10), D(100))]
    assert trade.short_term_gain == D("500.00")
    assert p.tax.disallowed_loss == D("0.00")
    assert any("avoid a wash sale" in n for n in p.tax.notes)


def test_a_lot_and_its_logged_fill_count_once():
    # The same 150-share purchase, logged as a fill and present as a lot: 150 sh, not 300.
    when = AS_OF - timedelta(days=10)
    lots = [Lot("PLTR", date(2025, 1, 2), D(300), D(110)), Lot("PLTR", when, D(150), D(110))]
    logged = PastTrade(when, "PLTR", Action.BUY, D(150), D(110))
    twice = run(CAPPED, lots=lots, past_trades=[logged])
    once = run(CAPPED, lots=lots)
    assert twice.tax.disallowed_loss == once.tax.disallowed_loss == D("500.00")


def test_a_buy_after_a_loss_sale_waits_when_the_cost_comes_from_lots():
    # No Purchase Price column: ALAB's cost ($120) is known from its lot, so the sale 10
    # days ago at $100 was at a loss and topping ALAB up now would wash it.
    table = """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 300    | 100           | 0.30     | 80
        ALAB   | 200    | 100           | 0.25     | 70
        CASH   | 50000  | 1             | 0.45     |
    """
    sold = PastTrade(AS_OF - timedelta(days=10), "ALAB", Action.SELL, D(30), D(100))
    lots = [
        Lot("PLTR", date(2024, 1, 10), D(300), D(50)),
        Lot("ALAB", date(2026, 3, 1), D(200), D(120)),
    ]
    without_log = run(table, lots=lots).decision("ALAB")
    assert without_log.action is Action.ADD  # 20% vs 25%: the band buys it back up
    p = run(table, lots=lots, past_trades=[sold])
    alab = p.decision("ALAB")
    assert alab.action is Action.HOLD
    assert Flag.WASH_SALE in alab.flags
    assert "wash sale" in alab.reason


# --- harvest sales (SPEC §6b) -------------------------------------------------------------

# V = $100,000. PLTR's cap trim (41% → 35%) realises +$3,000 long-term (60 sh, $50 a share
# over cost). PATH (thesis broken) stands $80 a share under cost ($8,000 in all), ZOOM (intact) $100 ($10,000).
HARVEST_BOOK = """
    Ticker | Shares | Current Price | Target % | Score | Lock
    PLTR   | 410    | 100           | 0.38     | 80    | No
    PATH   | 100    | 20            | 0.02     | 30    | {lock}
    ZOOM   | 100    | 50            | 0.05     | 70    | No
    ALAB   | 520    | 100           | 0.55     | 70    | No
"""
HARVEST_LOTS = [
    Lot("PLTR", date(2024, 6, 1), D(410), D(50)),
    Lot("PATH", date(2024, 6, 1), D(100), D(100)),
    Lot("ZOOM", date(2024, 6, 1), D(100), D(150)),
    Lot("ALAB", date(2024, 6, 1), D(520), D(100)),
]


def _harvest(settings: dict[str, object], lock: str = "No"):
    table = HARVEST_BOOK.format(lock=lock)
    return run(table, {"Whole Shares": "No", **settings}, lots=HARVEST_LOTS)


def _harvested(p) -> dict[str, Decimal]:
    return {t.ticker: t.shares for t in p.trades if t.rule_id.value == "harvest"}


def test_harvest_is_off_by_default_and_then_only_lists():
    p = _harvest({})
    assert _harvested(p) == {}
    assert any(n.startswith("Harvest: PATH has an unrealised loss") for n in p.tax.notes)


def test_broken_thesis_harvests_only_the_broken_position():
    p = _harvest({"Harvest Losses": "Broken Thesis"})
    assert _harvested(p) == {"PATH": D("37.5")}


def test_all_harvests_broken_theses_first_then_the_rest():
    # PATH's whole loss is $8,000, more than the $3,000 gain: ZOOM is not needed.
    assert _harvested(_harvest({"Harvest Losses": "All"})) == {"PATH": D("37.5")}
    # A minimum of $11,000 skips both lots ($8,000 and $10,000 of loss): nothing.
    assert _harvested(_harvest({"Harvest Losses": "All", "Harvest Minimum Loss": 11000})) == {}
    # A minimum of $9,000 skips PATH alone, so ZOOM (intact, All) offsets the gain:
    # 3,000 / 100 = 30 sh.
    p = _harvest({"Harvest Losses": "All", "Harvest Minimum Loss": 9000})
    assert _harvested(p) == {"ZOOM": D(30)}
    assert "at a loss: harvest $3,000.00" in p.decision("ZOOM").reason


def test_harvest_never_sells_a_locked_row():
    p = _harvest({"Harvest Losses": "Broken Thesis"}, lock="Yes")
    assert _harvested(p) == {}
    assert p.decision("PATH").action is Action.HOLD


def test_harvest_never_runs_in_an_emergency_only_run():
    p = _harvest({"Harvest Losses": "All", "Last Rebalance Date": "2026-12-01"})
    assert p.emergency_only
    assert _harvested(p) == {}


def test_harvest_skips_a_ticker_bought_within_the_wash_window():
    bought = PastTrade(AS_OF - timedelta(days=10), "PATH", Action.BUY, D(5), D(20))
    table = HARVEST_BOOK.format(lock="No")
    p = run(
        table,
        {"Whole Shares": "No", "Harvest Losses": "Broken Thesis"},
        lots=HARVEST_LOTS,
        past_trades=[bought],
    )
    assert _harvested(p) == {}


def test_whole_shares_stop_the_harvest_short_of_the_gain():
    # 3,000 / 80 = 37.5 → 37 whole shares: $2,960 of loss, never past the $3,000 gain.
    p = run(HARVEST_BOOK.format(lock="No"), {"Harvest Losses": "Broken Thesis"}, lots=HARVEST_LOTS)
    assert _harvested(p) == {"PATH": D(37)}
    assert p.tax.long_term_gain == D("40.00")


def test_a_harvest_that_spares_a_funding_trim_is_sized_again_on_the_smaller_gain():
    # DBX's floor buy ($20,000) is funded by trims, PLTR's among them (+$50 a share). Sized
    # on the gain without it (120 sh trimmed: +$6,000 → 75 sh of PATH), the harvest's own
    # $1,500 would spare part of PLTR's funding trim and its gain would fall below the loss;
    # sized again on the gain it leaves, it fits.
    lots = [
        Lot("PLTR", date(2024, 6, 1), D(420), D(50)),
        Lot("ALAB", date(2024, 6, 1), D(320), D(100)),
        Lot("ARM", date(2024, 6, 1), D(240), D(100)),
        Lot("PATH", date(2024, 6, 1), D(100), D(100)),
    ]
    table = """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 420    | 100           | 0.30     | 80
        ALAB   | 320    | 100           | 0.25     | 70
        DBX    | 0      | 100           | 0.20     | 72
        ARM    | 240    | 100           | 0.23     | 60
        PATH   | 100    | 20            | 0.02     | 30
    """
    settings = {"Whole Shares": "No", "Harvest Losses": "Broken Thesis"}
    without = run(table, {**settings, "Harvest Losses": "No"}, lots=lots)
    assert without.tax.long_term_gain == D("6000.00")
    p = run(table, settings, lots=lots)
    shares = _harvested(p)["PATH"]
    assert D(0) < shares < D(75)
    assert p.tax.long_term_gain >= 0
    assert p.decision("DBX").amount == D("20000.00")


def test_january_says_a_new_tax_year_has_begun_and_december_does_not():
    january = run(CAPPED, {"As-of Date": "2027-01-15"}, lots=LOTS)
    [note] = [n for n in january.tax.notes if n.startswith("January")]
    assert "new tax year" in note
    december = run(CAPPED, lots=LOTS)
    assert not any(n.startswith("January") for n in december.tax.notes)
    # No sale, nothing realised: nothing to say about the year.
    quiet = run(
        """
        Ticker | Shares | Current Price | Target % | Score
        PLTR   | 300    | 100           | 0.30     | 80
        CASH   | 70000  | 1             | 0.70     |
    """,
        {"As-of Date": "2027-01-15", "Cap": 0.8, "Cap Trim To": 0.75, "Urgent Cap": 0.9},
        lots=[Lot("PLTR", date(2024, 1, 10), D(300), D(50))],
    )
    assert quiet.trades == ()
    assert not any(n.startswith("January") for n in quiet.tax.notes)

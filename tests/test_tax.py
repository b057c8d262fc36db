"""Tax rules (SPEC §6): lot order, holding period, wash sales, netting, harvesting.

Every expected number is worked by hand in the test; none is copied from the code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rebalancer_xl.core.model import (
    CASH,
    AccountType,
    Action,
    Holding,
    Lot,
    LotMethod,
    LotSale,
    PastTrade,
    RuleId,
    TaxSummary,
    Trade,
)
from rebalancer_xl.core.rules.lots import (
    is_long_term,
    long_term_from,
    order_lots,
    sale_tax,
    take_lots,
)
from rebalancer_xl.core.rules.tax import (
    RETIREMENT_NOTE,
    harvest_candidates,
    sell_from_lots,
    short_term_turning_long,
    summarise,
    tax_on,
    taxable_gains,
)
from rebalancer_xl.core.rules.wash import planned_purchases, wash_sale_disallowed
from rebalancer_xl.core.settings import Settings

D = Decimal
day = date.fromisoformat
RATES = Settings(short_term_tax_rate=D("0.37"), long_term_tax_rate=D("0.20"))


def lot(
    acquired: str, shares: int | str, cost: int | str, row: int = 0, ticker: str = "ACME"
) -> Lot:
    return Lot(ticker, day(acquired), D(shares), D(cost), row)


def buy(on: str, shares: int, ticker: str = "ACME") -> PastTrade:
    return PastTrade(day(on), ticker, Action.ADD, D(shares))


def short(sales: tuple[LotSale, ...]) -> list[tuple[date, Decimal, Decimal, bool]]:
    return [(s.acquired, s.shares, s.gain, s.long_term) for s in sales]


# --- holding period ---------------------------------------------------------------------


def test_exactly_one_year_is_short_term() -> None:
    assert not is_long_term(day("2025-03-10"), day("2026-03-10"))


def test_one_year_and_one_day_is_long_term() -> None:
    assert is_long_term(day("2025-03-10"), day("2026-03-11"))
    assert long_term_from(day("2025-03-10")) == day("2026-03-11")


def test_lot_bought_on_leap_day_has_its_anniversary_on_feb_28() -> None:
    assert not is_long_term(day("2024-02-29"), day("2025-02-28"))
    assert is_long_term(day("2024-02-29"), day("2025-03-01"))


def test_lot_bought_on_last_day_of_february_before_a_leap_year() -> None:
    # Rev. Rul. 66-7: last day of the month to last day of the month, so Feb 29 is
    # exactly one year on, and long-term starts Mar 1.
    assert not is_long_term(day("2023-02-28"), day("2024-02-29"))
    assert is_long_term(day("2023-02-28"), day("2024-03-01"))


def test_lot_bought_feb_28_of_a_leap_year_is_long_term_from_mar_1() -> None:
    assert not is_long_term(day("2024-02-28"), day("2025-02-28"))
    assert long_term_from(day("2024-02-28")) == day("2025-03-01")


# --- lot methods --------------------------------------------------------------------------
# Four lots of ACME, sold at $100 on 2026-06-30:
#   A 2023-05-01 100 sh @ $60  long  +40/sh
#   B 2025-11-01 100 sh @ $85  short +15/sh
#   C 2024-02-01 100 sh @ $80  long  +20/sh
#   D 2026-01-15  50 sh @ $110 short −10/sh (a loss)

A = lot("2023-05-01", 100, 60, row=1)
B = lot("2025-11-01", 100, 85, row=2)
C = lot("2024-02-01", 100, 80, row=3)
LOSS = lot("2026-01-15", 50, 110, row=4)
FOUR = [A, B, C, LOSS]
PRICE = D(100)
SOLD = day("2026-06-30")


def test_min_tax_order_is_least_tax_per_share_first() -> None:
    # Tax a share: LOSS −10 × 37% = −3.70, C 20 × 20% = 4.00, B 15 × 37% = 5.55,
    # A 40 × 20% = 8.00. B, short-term, now goes before A, long-term: a fixed
    # "long-term first" order would take A.
    assert order_lots(FOUR, PRICE, SOLD, LotMethod.MIN_TAX) == [LOSS, C, B, A]


def test_lifo_takes_newest_first() -> None:
    assert order_lots(FOUR, PRICE, SOLD, LotMethod.LIFO) == [LOSS, B, C, A]
    sales = take_lots(FOUR, D(120), PRICE, SOLD, LotMethod.LIFO)
    assert short(sales) == [
        (day("2026-01-15"), D(50), D(-500), False),
        (day("2025-11-01"), D(70), D(1050), False),
    ]


def test_min_tax_uses_the_settings_rates() -> None:
    # With a 20% short-term rate and 37% long-term (made up), A's long-term gain costs
    # 40 × 0.37 = 14.80 a share and B's short-term 15 × 0.20 = 3.00: B first, A last.
    rates = (D("0.20"), D("0.37"))
    assert order_lots(FOUR, PRICE, SOLD, LotMethod.MIN_TAX, rates) == [LOSS, B, C, A]


def test_min_tax_sale_nets_the_loss_against_the_long_term_gain() -> None:
    sales = take_lots(FOUR, D(150), PRICE, SOLD, LotMethod.MIN_TAX)
    # D: 50 × (100 − 110) = −500 short; C: 100 × (100 − 80) = +2,000 long.
    assert short(sales) == [
        (day("2026-01-15"), D(50), D(-500), False),
        (day("2024-02-01"), D(100), D(2000), True),
    ]
    # Net: 2,000 − 500 = 1,500 long-term × 20% = 300.
    assert tax_on(D(-500), D(2000), RATES) == D("300.00")


def test_hifo_takes_highest_cost_whatever_the_term() -> None:
    assert order_lots(FOUR, PRICE, SOLD, LotMethod.HIFO) == [LOSS, B, C, A]
    sales = take_lots(FOUR, D(150), PRICE, SOLD, LotMethod.HIFO)
    # D: −500 short; B: 100 × 15 = +1,500 short. Short net 1,000 × 37% = 370.
    assert short(sales) == [
        (day("2026-01-15"), D(50), D(-500), False),
        (day("2025-11-01"), D(100), D(1500), False),
    ]
    assert tax_on(D(1000), D(0), RATES) == D("370.00")


def test_fifo_takes_oldest_first_and_splits_the_last_lot() -> None:
    assert order_lots(FOUR, PRICE, SOLD, LotMethod.FIFO) == [A, C, B, LOSS]
    sales = take_lots(FOUR, D(150), PRICE, SOLD, LotMethod.FIFO)
    # A: 100 × 40 = +4,000 long; C: 50 × 20 = +1,000 long. 5,000 × 20% = 1,000.
    assert short(sales) == [
        (day("2023-05-01"), D(100), D(4000), True),
        (day("2024-02-01"), D(50), D(1000), True),
    ]
    assert [s.proceeds for s in sales] == [D(10000), D(5000)]
    assert tax_on(D(0), D(5000), RATES) == D("1000.00")


def test_sell_from_lots_reports_gains_tax_and_what_remains() -> None:
    pick = sell_from_lots("ACME", FOUR, D(150), PRICE, SOLD, Settings(lot_method=LotMethod.FIFO))
    assert (pick.short_term_gain, pick.long_term_gain, pick.estimated_tax) == (
        D(0),
        D(5000),
        D("1000.00"),
    )
    # A is gone, C keeps 100 − 50 = 50; B and the loss lot are untouched.
    assert [(x.acquired, x.shares) for x in pick.remaining] == [
        (day("2025-11-01"), D(100)),
        (day("2024-02-01"), D(50)),
        (day("2026-01-15"), D(50)),
    ]


def test_min_tax_sells_a_no_gain_lot_with_the_losses() -> None:
    # Selling at cost costs no tax, so even a short-term lot at $100 goes before a
    # long-term gain.
    even = lot("2026-05-01", 10, 100, row=9)
    assert order_lots([A, even, LOSS], PRICE, SOLD, LotMethod.MIN_TAX) == [LOSS, even, A]


def test_ties_break_on_acquired_date_then_row() -> None:
    late = lot("2025-02-01", 10, 50, row=1)
    row5 = lot("2025-01-01", 10, 50, row=5)
    row2 = lot("2025-01-01", 10, 50, row=2)
    for method in (LotMethod.MIN_TAX, LotMethod.HIFO, LotMethod.FIFO):
        assert order_lots([late, row5, row2], PRICE, SOLD, method) == [row2, row5, late]
    # LIFO: the newest day first, and a day's lots in row order.
    assert order_lots([late, row5, row2], PRICE, SOLD, LotMethod.LIFO) == [late, row2, row5]


def test_lots_short_of_the_sale_give_what_they_hold() -> None:
    sales = take_lots([A, C], D(500), PRICE, SOLD, LotMethod.FIFO)
    assert sum(s.shares for s in sales) == D(200)
    pick = sell_from_lots("ACME", [A, C], D(500), PRICE, SOLD, RATES)
    assert pick.unmatched_shares == D(300)


def test_cents_round_half_up_on_fractional_shares() -> None:
    # 0.5 sh × $10.01 = 5.005 → 5.01; basis 0.5 × $3.03 = 1.515 → 1.52; gain 3.49.
    (sale,) = take_lots(
        [lot("2020-01-01", "0.5", "3.03")], D("0.5"), D("10.01"), SOLD, LotMethod.FIFO
    )
    assert (sale.proceeds, sale.gain) == (D("5.01"), D("3.49"))


# --- wash sales ---------------------------------------------------------------------------
# 100 sh sold on 2026-03-02 at a loss of $1,000. Day 30 before is 2026-01-31
# (Mar 2 → Feb 28 is 2 days, → Jan 31 is 28 more); day 30 after is 2026-04-01.

WASH_DAY = day("2026-03-02")


def test_purchase_30_days_before_the_loss_sale_is_a_wash() -> None:
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), [buy("2026-01-31", 100)]) == D(
        1000
    )


def test_purchase_31_days_before_the_loss_sale_is_not() -> None:
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), [buy("2026-01-30", 100)]) == D(
        0
    )


def test_purchase_30_days_after_the_loss_sale_is_a_wash() -> None:
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), [buy("2026-04-01", 100)]) == D(
        1000
    )


def test_purchase_31_days_after_the_loss_sale_is_not() -> None:
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), [buy("2026-04-02", 100)]) == D(
        0
    )


def test_partial_wash_disallows_the_replaced_share_of_the_loss() -> None:
    # 40 replacement shares for 100 sold: 40 / 100 × 1,000 = 400.
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), [buy("2026-03-12", 40)]) == D(
        400
    )


def test_other_tickers_and_sales_are_not_replacements() -> None:
    other = [
        buy("2026-03-02", 100, ticker="OTHER"),
        PastTrade(day("2026-03-01"), "ACME", Action.TRIM, D(100)),
    ]
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), other) == D(0)


def test_a_gain_is_never_a_wash_sale() -> None:
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(500), [buy("2026-03-02", 100)]) == D(0)
    gain_lot = [lot("2024-01-10", 100, 90)]
    pick = sell_from_lots(
        "ACME", gain_lot, D(100), PRICE, WASH_DAY, RATES, [buy("2026-03-02", 100)]
    )
    assert not pick.wash_sale
    assert pick.long_term_gain == D(1000)  # 100 × (100 − 90)


def test_the_plans_own_buys_count_as_purchases() -> None:
    trades = [
        Trade("ACME", Action.ADD, D(25), D(40), D(1000), "Rule 3", RuleId.TIER_DOWNGRADE),
        Trade("ACME", Action.TRIM, D(5), D(40), D(200), "Rule 2", RuleId.URGENT_CAP),
    ]
    purchases = planned_purchases(trades, WASH_DAY)
    assert purchases == (PastTrade(WASH_DAY, "ACME", Action.ADD, D(25)),)
    # 25 / 100 × 1,000 = 250.
    assert wash_sale_disallowed("ACME", WASH_DAY, D(100), D(-1000), purchases) == D(250)


# Loss lot L (short-term, $120) and gain lot G (long-term, $90), price $100, and 10 sh of
# ACME bought on 2026-02-20, within 30 days of the sale on 2026-03-02.
L = lot("2025-06-01", 100, 120, row=1)
G = lot("2024-01-10", 100, 90, row=2)


def test_avoid_wash_moves_the_washing_loss_lot_to_the_back() -> None:
    sales = take_lots([L, G], D(100), PRICE, WASH_DAY, LotMethod.MIN_TAX, avoid_wash=lambda x: True)
    assert short(sales) == [(day("2024-01-10"), D(100), D(1000), True)]


def test_min_tax_prefers_a_lot_that_does_not_wash() -> None:
    pick = sell_from_lots("ACME", [L, G], D(100), PRICE, WASH_DAY, RATES, [buy("2026-02-20", 10)])
    # G instead of L: +1,000 long-term, no wash sale; 1,000 × 20% = 200.
    assert [s.acquired for s in pick.sales] == [day("2024-01-10")]
    assert not pick.wash_sale
    assert pick.estimated_tax == D("200.00")
    assert any("avoid a wash sale" in n for n in pick.notes)


def test_a_wash_that_cannot_be_avoided_is_disallowed_and_added_back() -> None:
    pick = sell_from_lots("ACME", [L, G], D(150), PRICE, WASH_DAY, RATES, [buy("2026-02-20", 10)])
    # G 100 (+1,000 long) then L 50 at −20 = −1,000 short. 10 of 50 loss shares are
    # replaced: 10 / 50 × 1,000 = 200 disallowed. Short −1,000 + 200 = −800 against
    # long 1,000: 200 long-term × 20% = 40.
    assert pick.wash_sale
    assert pick.disallowed_loss == D(200)
    assert pick.sales[1].disallowed_loss == D(200)
    assert (pick.short_term_gain, pick.long_term_gain) == (D(-800), D(1000))
    assert pick.estimated_tax == D("40.00")


def test_disallowed_loss_is_shared_among_loss_lots_by_their_loss() -> None:
    deep = lot("2025-06-01", 50, 130, row=1)  # 50 × −30 = −1,500
    mild = lot("2025-07-01", 50, 110, row=2)  # 50 × −10 = −500
    pick = sell_from_lots(
        "ACME", [deep, mild], D(100), PRICE, WASH_DAY, RATES, [buy("2026-03-20", 50)]
    )
    # 50 replacements for 100 loss shares: half of 2,000 = 1,000, split 1,500 : 500.
    assert [s.disallowed_loss for s in pick.sales] == [D(750), D(250)]
    assert pick.short_term_gain == D(-1000)  # −2,000 + 1,000 added back


def test_a_lot_bought_inside_the_window_does_not_replace_itself() -> None:
    # The only purchase in the log is the lot being sold: no replacement, no wash sale.
    recent = lot("2026-02-20", 100, 120)
    pick = sell_from_lots(
        "ACME", [recent], D(100), PRICE, WASH_DAY, RATES, [buy("2026-02-20", 100)]
    )
    assert not pick.wash_sale
    assert pick.short_term_gain == D(-2000)  # 100 × (100 − 120)


# --- short-term lots about to turn long-term ----------------------------------------------


def test_warns_when_a_short_term_gain_turns_long_term_within_30_days() -> None:
    # Bought 2025-12-20 → long-term from 2026-12-21; sold 2026-12-09 is 12 days early.
    sales = take_lots([lot("2025-12-20", 10, 50)], D(10), PRICE, day("2026-12-09"), LotMethod.FIFO)
    assert short_term_turning_long(sales, day("2026-12-09"), RATES, ticker="ACME") == (
        "ACME: lot of 2025-12-20 turns long-term on 2026-12-21 (in 12 days): waiting would "
        "tax the $500.00 gain at 20% instead of 37%",
    )


def test_warns_at_exactly_30_days() -> None:
    sold = day("2026-11-21")  # Nov 21 → Dec 21 is 9 + 21 = 30 days
    sales = take_lots([lot("2025-12-20", 10, 50)], D(10), PRICE, sold, LotMethod.FIFO)
    (warning,) = short_term_turning_long(sales, sold, RATES)
    assert warning.startswith("lot of 2025-12-20 turns long-term on 2026-12-21 (in 30 days)")


def test_no_warning_for_31_days_away_a_loss_or_a_long_term_lot() -> None:
    sold = day("2026-11-20")  # 2025-12-20's lot turns long-term 31 days later
    sales = take_lots(
        [
            lot("2025-12-20", 10, 50),
            lot("2025-12-01", 10, 150, row=1),
            lot("2020-01-01", 10, 50, row=2),
        ],
        D(30),
        PRICE,
        sold,
        LotMethod.FIFO,
    )
    assert short_term_turning_long(sales, sold, RATES) == ()


# --- netting and tax ----------------------------------------------------------------------


def test_gains_in_both_terms_are_taxed_at_their_own_rates() -> None:
    # 1,000 × 37% + 2,000 × 20% = 370 + 400 = 770.
    assert tax_on(D(1000), D(2000), RATES) == D("770.00")


def test_long_term_loss_offsets_short_term_gain() -> None:
    # 1,000 − 400 = 600 short-term × 37% = 222.
    assert taxable_gains(D(1000), D(-400)) == (D(600), D(0))
    assert tax_on(D(1000), D(-400), RATES) == D("222.00")


def test_net_loss_gives_no_tax_and_says_so() -> None:
    assert tax_on(D(-1000), D(400), RATES) == D(0)
    pick = sell_from_lots(
        "ACME", [lot("2026-01-02", 10, 200)], D(10), PRICE, day("2026-06-30"), RATES
    )
    summary = summarise([pick], RATES, day("2026-06-30"))
    # 10 × (100 − 200) = −1,000 short-term, nothing else.
    assert (summary.short_term_gain, summary.estimated_tax) == (D(-1000), D(0))
    assert any("no tax on a net loss" in n for n in summary.notes)


def test_tax_rounds_half_up_to_cents() -> None:
    # 0.05 × 37% = 0.0185 → 0.02.
    assert tax_on(D("0.05"), D(0), RATES) == D("0.02")


# --- harvesting -----------------------------------------------------------------------------


def holding(ticker: str, shares: int, price: int | str, purchase: int | None = None) -> Holding:
    return Holding(
        ticker,
        D(shares),
        D(price),
        D("0.1"),
        purchase_price=None if purchase is None else D(purchase),
    )


HOLDINGS = [
    holding("PATH", 100, 10),
    holding("BETA", 100, 50, purchase=55),
    holding("GAMA", 10, 20),
    holding("WIN", 10, 100),
    Holding(CASH, D(500), D(1), D(0)),
]
HARVEST_LOTS = [
    lot("2025-01-05", 100, 50, ticker="PATH"),  # long-term loss 100 × 40 = 4,000
    lot("2026-03-01", 10, 30, ticker="GAMA"),  # short-term loss 10 × 10 = 100
    lot("2020-01-01", 10, 50, ticker="WIN"),  # a gain: not a candidate
]
AS_OF = day("2026-06-30")


def test_harvest_lists_losses_with_the_tax_each_would_save() -> None:
    # Realised: short +1,000, long +2,000 → tax 370 + 400 = 770.
    # PATH −4,000 long: long −2,000 wipes the short 1,000 too: saves all 770, no more
    #   (the loss exceeds the 3,000 gain).
    # BETA no lots: 100 × (55 − 50) = 500, taken as long: 370 + 1,500 × 20% = 670,
    #   saves 100 (as short it would be 185 + 400 = 585, saving 185).
    # GAMA −100 short: 900 × 37% + 400 = 333 + 400 = 733, saves 37.
    assert harvest_candidates(HOLDINGS, HARVEST_LOTS, AS_OF, D(1000), D(2000), RATES) == (
        ("PATH", D(4000), D(770)),
        ("BETA", D(500), D(100)),
        ("GAMA", D(100), D(37)),
    )


def test_no_harvest_without_a_net_gain() -> None:
    assert harvest_candidates(HOLDINGS, HARVEST_LOTS, AS_OF, D(500), D(-500), RATES) == ()


def test_summary_harvest_skips_sold_and_recently_bought_and_mentions_december() -> None:
    dec = day("2026-12-15")
    win = sell_from_lots("WIN", HARVEST_LOTS, D(10), D(100), dec, RATES)
    # WIN: 10 × (100 − 50) = +500 long → 100 tax.
    summary = summarise([win], RATES, dec, HOLDINGS, HARVEST_LOTS, [buy("2026-12-01", 5, "BETA")])
    assert (summary.long_term_gain, summary.estimated_tax) == (D(500), D("100.00"))
    # WIN is sold out; BETA was bought 14 days ago, so selling it at a loss would wash.
    # PATH −4,000 saves all 100; GAMA (short-term until 2027-03-02) −100 short leaves
    # 400 long × 20% = 80, saving 20.
    assert summary.harvest == (("PATH", D(4000), D(100)), ("GAMA", D(100), D(20)))
    assert any("BETA" in n and "wash sale" in n for n in summary.notes)
    assert any(n.startswith("December") for n in summary.notes)


def test_retirement_account_skips_taxes() -> None:
    ira = Settings(account_type=AccountType.RETIREMENT)
    pick = sell_from_lots("ACME", FOUR, D(150), PRICE, SOLD, ira)
    assert (pick.sales, pick.estimated_tax, pick.wash_sale) == ((), D(0), False)
    assert summarise([pick], ira, SOLD, HOLDINGS, HARVEST_LOTS) == TaxSummary(
        applies=False, notes=(RETIREMENT_NOTE,)
    )


# --- properties -------------------------------------------------------------------------------

shares_st = st.decimals(min_value=D("0.01"), max_value=D(500), places=2)
lots_st = st.lists(
    st.builds(
        lambda offset, shares, cost, row: Lot(
            "ACME", date.fromordinal(day("2024-01-01").toordinal() + offset), shares, cost, row
        ),
        st.integers(0, 900),
        shares_st,
        st.decimals(min_value=D(1), max_value=D(200), places=2),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.slow
@given(
    lots=lots_st,
    fraction=st.decimals(min_value=D("0.01"), max_value=D(1), places=2),
    price=st.decimals(min_value=D(1), max_value=D(200), places=2),
    method=st.sampled_from(LotMethod),
    washing=st.sets(st.integers(0, 5)),
)
def test_sales_take_exactly_the_shares_sold_and_never_overdraw_a_lot(
    lots: list[Lot], fraction: Decimal, price: Decimal, method: LotMethod, washing: set[int]
) -> None:
    held = sum((x.shares for x in lots), D(0))
    shares = max(D("0.01"), (held * fraction).quantize(D("0.01")))
    shares = min(shares, held)
    sales = take_lots(
        lots, shares, price, day("2026-06-30"), method, avoid_wash=lambda x: x.row in washing
    )
    assert sum(s.shares for s in sales) == shares
    assert all(s.shares > 0 for s in sales)
    # A LotSale does not name its lot, so compare per (acquired, cost).
    available: defaultdict[tuple[date, Decimal], Decimal] = defaultdict(Decimal)
    taken: defaultdict[tuple[date, Decimal], Decimal] = defaultdict(Decimal)
    for x in lots:
        available[(x.acquired, x.cost_per_share)] += x.shares
    for s in sales:
        taken[(s.acquired, s.cost_per_share)] += s.shares
    assert all(taken[k] <= available[k] for k in taken)


@pytest.mark.slow
@given(lots=lots_st, extra=shares_st, method=st.sampled_from(LotMethod))
def test_a_sale_larger_than_the_lots_takes_every_lot_once(
    lots: list[Lot], extra: Decimal, method: LotMethod
) -> None:
    held = sum((x.shares for x in lots), D(0))
    pick = sell_from_lots(
        "ACME", lots, held + extra, D(100), day("2026-06-30"), Settings(lot_method=method)
    )
    assert sum(s.shares for s in pick.sales) == held
    assert len(pick.sales) == len(lots)
    assert pick.remaining == ()
    assert pick.unmatched_shares == extra


whole_lots_st = st.lists(
    st.builds(
        lambda offset, shares, cost, row: Lot(
            "ACME", date.fromordinal(day("2024-01-01").toordinal() + offset), D(shares), cost, row
        ),
        st.integers(0, 900),
        st.integers(1, 300),
        st.decimals(min_value=D(1), max_value=D(200), places=2),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=6,
)
rate_st = st.decimals(min_value=D(0), max_value=D("0.6"), places=2)


@pytest.mark.slow
@given(
    lots=whole_lots_st,
    fraction=st.decimals(min_value=D("0.01"), max_value=D(1), places=2),
    price=st.decimals(min_value=D(1), max_value=D(200), places=2),
    short_rate=rate_st,
    long_rate=rate_st,
)
def test_min_tax_never_costs_more_than_hifo_fifo_or_lifo(
    lots: list[Lot], fraction: Decimal, price: Decimal, short_rate: Decimal, long_rate: Decimal
) -> None:
    # Whole shares at cent prices: every gain is exact, so the comparison is exact too.
    held = sum((x.shares for x in lots), D(0))
    shares = max(D(1), (held * fraction).to_integral_value())
    rates = (short_rate, long_rate)
    sold = day("2026-06-30")

    def tax(method: LotMethod) -> Decimal:
        return sale_tax(take_lots(lots, shares, price, sold, method, rates=rates), rates)

    least = tax(LotMethod.MIN_TAX)
    for other in (LotMethod.HIFO, LotMethod.FIFO, LotMethod.LIFO):
        assert least <= tax(other), other


def test_spec_min_tax_against_a_fixed_order() -> None:
    # SPEC §8: sell 10 of 20 XYZ at $100. Lot A: 10 sh at $98, 100 days old (short-term,
    # 37%): 2 × 0.37 = $0.74 a share. Lot B: 10 sh at $90, two years old (long-term,
    # 20%): 10 × 0.20 = $2.00 a share.
    sold = day("2026-12-31")
    a = Lot("XYZ", date.fromordinal(sold.toordinal() - 100), D(10), D(98), row=1)
    b = Lot("XYZ", day("2024-12-31"), D(10), D(90), row=2)
    rates = (D("0.37"), D("0.20"))

    def pick(method: LotMethod) -> tuple[LotSale, ...]:
        return take_lots([a, b], D(10), D(100), sold, method, rates=rates)

    for method in (LotMethod.MIN_TAX, LotMethod.HIFO, LotMethod.LIFO):
        (sale,) = pick(method)
        assert (sale.cost_per_share, sale.gain, sale.long_term) == (D(98), D(20), False)
        assert sale_tax((sale,), rates) == D("7.40")
    (fifo,) = pick(LotMethod.FIFO)
    assert (fifo.cost_per_share, fifo.gain, sale_tax((fifo,), rates)) == (D(90), D(100), D(20))

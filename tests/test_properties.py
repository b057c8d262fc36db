"""Properties that must hold for any portfolio and any settings (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebalancer_xl import Action, Holding, Lot, Settings, plan
from rebalancer_xl.core.model import CASH, HarvestLosses, LotMethod, RuleId, SellMode, Strategy

# Hundreds of hypothesis examples each: left out of the `-m "not slow"` inner loop.
pytestmark = pytest.mark.slow

AS_OF = date(2026, 12, 31)

money = st.decimals(min_value=Decimal("0.50"), max_value=Decimal("2000"), places=2)
scores = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=1))


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[Holding], Settings]:
    n = draw(st.integers(min_value=1, max_value=8))
    raw_targets = draw(
        st.lists(st.integers(min_value=0, max_value=100), min_size=n + 1, max_size=n + 1)
    )
    total = sum(raw_targets) or 1
    targets = [Decimal(t * 10000 // total) / 10000 for t in raw_targets]
    targets[-1] += 1 - sum(targets)  # exactly 100%
    fractional = draw(st.booleans())
    holdings = []
    for i in range(n):
        shares = draw(st.decimals(min_value=0, max_value=5000, places=3 if fractional else 0))
        holdings.append(
            Holding(
                ticker=f"T{i}",
                shares=shares,
                price=draw(money),
                target=targets[i],
                score=draw(scores),
                previous_score=draw(scores),
                exit_triggers=draw(st.integers(min_value=0, max_value=2)),
                company_event=draw(st.booleans()) and draw(st.booleans()),
                lock=draw(st.booleans()) and draw(st.booleans()),
                row=i,
            )
        )
    cash = draw(st.decimals(min_value=0, max_value=50000, places=2))
    holdings.append(Holding(CASH, cash, Decimal(1), targets[-1], row=n))
    value = sum((h.value for h in holdings), Decimal(0))
    leftover = draw(st.sampled_from([CASH, "T0"]))
    config = Settings(
        strategy=draw(st.sampled_from(list(Strategy))),
        whole_shares=not fractional,
        new_capital=draw(st.sampled_from([Decimal(0), Decimal(5000)])),
        # No withdrawal, a round tenth of the book, or any amount up to half of it.
        withdrawal=draw(
            st.sampled_from(
                [
                    Decimal(0),
                    (value / 10).quantize(Decimal("0.01")),
                    (value * draw(st.decimals(min_value=0, max_value=1, places=4)) / 2).quantize(
                        Decimal("0.01")
                    ),
                ]
            )
        ),
        sell_mode=draw(st.sampled_from(list(SellMode))),
        leftover_to=leftover,
        minimum_trade=draw(st.sampled_from([Decimal(0), Decimal(250)])),
        relative_band=draw(st.sampled_from([None, Decimal("0.25")])),
        last_rebalance_date=draw(st.sampled_from([None, date(2026, 9, 30), date(2026, 12, 1)])),
        lot_method=LotMethod.MIN_TAX,
    )
    return holdings, config


def make(case: tuple[list[Holding], Settings]):
    holdings, config = case
    if sum((h.value for h in holdings), Decimal(0)) + config.new_capital <= config.withdrawal:
        return None
    result = plan(holdings, config, as_of=AS_OF)
    if result.errors:  # a refusal is a value, not an exception
        # Only honest when the unlocked positions and cash really cannot pay it.
        assert [p.code for p in result.errors] == ["withdrawal-unfunded"]
        assert result.decisions == ()
        free = sum((h.value for h in holdings if not h.lock), Decimal(0)) + config.new_capital
        assert free < config.withdrawal + Decimal("0.01")
        return None
    return result


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(portfolios())
def test_cash_is_conserved_to_the_cent_and_never_overspent(case):
    p = make(case)
    if p is None:
        return
    holdings, config = case
    cash = next(h for h in holdings if h.is_cash).value + config.new_capital - config.withdrawal
    sells = sum((t.amount for t in p.trades if t.action.is_sale), Decimal(0))
    buys = sum((t.amount for t in p.trades if t.action.is_buy), Decimal(0))
    assert p.cash_left == cash + sells - buys
    assert p.cash_left >= 0
    for t in p.trades:
        # Amounts are rounded half-up to the cent (model.cents), as a statement shows them.
        assert t.amount == (t.shares * t.price).quantize(Decimal("0.01"), ROUND_HALF_UP)


@PROPERTY
@given(portfolios())
def test_nothing_sells_more_than_is_held_and_locked_rows_never_trade(case):
    p = make(case)
    if p is None:
        return
    held = {h.ticker: h for h in case[0]}
    for t in p.trades:
        assert t.shares > 0
        assert not held[t.ticker].lock
        if t.action.is_sale:
            assert t.shares <= held[t.ticker].shares


@PROPERTY
@given(portfolios())
def test_every_trade_has_a_rule_and_a_reason_and_weights_sum_to_100(case):
    p = make(case)
    if p is None:
        return
    for d in p.decisions:
        assert d.rule
        assert d.reason
        if d.action is not Action.HOLD:
            assert d.amount > 0
            assert str(d.amount) in d.reason.replace(",", "")
    total = sum((d.post_trade_weight for d in p.decisions), Decimal(0))
    assert abs(total - 1) < Decimal("1e-20")
    sells_first = [t.action.is_sale for t in p.trades]
    assert sells_first == sorted(sells_first, reverse=True)


@PROPERTY
@given(portfolios())
def test_the_same_input_gives_the_same_plan(case):
    assert make(case) == make(case)


@PROPERTY
@given(portfolios())
def test_no_position_is_both_bought_and_sold(case):
    p = make(case)
    if p is None:
        return
    tickers = [t.ticker for t in p.trades]
    assert len(tickers) == len(set(tickers))


# --- the guide's order of priority for proceeds, and harvest sales ------------------------


def _allocated(holdings: list[Holding], config: Settings):
    """The engine's positions after the allocation stages, before rounding is explained."""
    from rebalancer_xl.core.rules.schedule import crash_check, schedule_check
    from rebalancer_xl.core.stages.allocate import allocate
    from rebalancer_xl.core.stages.judge import judge
    from rebalancer_xl.core.stages.state import PlanState

    cash_row = next(h for h in holdings if h.is_cash)
    value = sum((h.value for h in holdings), Decimal(0)) + config.new_capital
    sched = schedule_check(AS_OF, config)
    state = PlanState(
        settings=config,
        as_of=AS_OF,
        holdings=holdings,
        history=(),
        lots=(),
        past_trades=(),
        cash_row=cash_row,
        value=value,
        cash=cash_row.value + config.new_capital,
        schedule=sched,
        crash=crash_check((), AS_OF, value),
        restricted=None,
    )
    judge(state)
    allocate(state)
    return state


@PROPERTY
@given(portfolios())
def test_proceeds_never_pay_a_priority_2_row_while_a_laggard_is_short(case):
    holdings, config = case
    config = Settings(
        strategy=config.strategy,
        whole_shares=config.whole_shares,
        new_capital=config.new_capital,
        sell_mode=config.sell_mode,
        relative_band=config.relative_band,
    )
    if sum((h.value for h in holdings), Decimal(0)) + config.new_capital <= 0:
        return  # the engine refuses an empty book before any stage runs
    state = _allocated(holdings, config)
    if state.refusal is not None:
        return
    second = [p for p in state.positions if p.second_priority > 0]
    laggards = [
        p for p in state.positions if p.may_top_up and p.to_sell == 0 and p.holding.shares > 0
    ]
    if second:
        # Exact money, before rounding to shares: each laggard reached its target.
        for p in laggards:
            assert p.post >= p.holding.target * state.value, p.holding.ticker
    for p in state.positions:
        assert p.second_priority <= p.top_up


@st.composite
def taxable_books(draw: st.DrawFn):
    holdings, config = draw(portfolios())
    lots = []
    for h in holdings:
        if h.is_cash or h.shares <= 0:
            continue
        split = draw(st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("0.3")]))
        first = (h.shares * split).quantize(Decimal("0.001") if not config.whole_shares else 1)
        parts = [first, h.shares - first] if 0 < first < h.shares else [h.shares]
        for i, shares in enumerate(parts):
            cost = (h.price * draw(st.decimals(min_value="0.2", max_value="3", places=2))).quantize(
                Decimal("0.01")
            )
            acquired = date.fromordinal(AS_OF.toordinal() - draw(st.integers(40, 900)))
            lots.append(Lot(h.ticker, acquired, shares, cost, row=len(lots) + i))
    config = Settings(
        strategy=config.strategy,
        whole_shares=config.whole_shares,
        new_capital=config.new_capital,
        sell_mode=config.sell_mode,
        leftover_to=config.leftover_to,
        minimum_trade=config.minimum_trade,
        harvest_losses=draw(st.sampled_from([HarvestLosses.BROKEN_THESIS, HarvestLosses.ALL])),
        harvest_minimum_loss=draw(st.sampled_from([Decimal(0), Decimal(100)])),
        lot_method=draw(st.sampled_from(list(LotMethod))),
    )
    return holdings, config, lots


@PROPERTY
@given(taxable_books())
def test_harvest_never_takes_the_realised_net_gain_below_zero(case):
    holdings, config, lots = case
    p = plan(holdings, config, as_of=AS_OF, lots=lots)
    if p.errors:
        return
    harvests = [t for t in p.trades if t.rule_id is RuleId.HARVEST]
    if not harvests:
        return
    assert p.tax.short_term_gain + p.tax.long_term_gain >= 0
    held = {h.ticker: h for h in holdings}
    for t in harvests:
        assert t.action is Action.SELL
        assert t.short_term_gain + t.long_term_gain < 0
        assert not held[t.ticker].lock
        if config.harvest_losses is HarvestLosses.BROKEN_THESIS:
            assert not held[t.ticker].thesis_intact
        # Not bought back: no buy of a harvested ticker in the same plan.
        assert not any(b.ticker == t.ticker and b.action.is_buy for b in p.trades)

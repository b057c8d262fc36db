"""The engine: `plan(holdings, settings, as_of=...) -> Plan`. No I/O, no clock.

The plan is made by the stages in `STAGES`, in order, each a small function over one
`PlanState` (see `rebalancer_xl/core/stages/`):

1. judge every position by the rulebook in order of precedence (exit signals, caps,
   reversion floor, drift strategy), with locks, company events, emergency-only runs
   and the crash check deciding what may actually trade;
2. avoid wash sales: no buy back within 30 days of a loss sale (taxable accounts);
3. allocate: fund a withdrawal (cash above target first, then the most overweight
   positions), fund the buys the rules call for (trimming over-target positions if
   money is short), top up under-target positions whose thesis is intact, send what is
   left to cash or to the Leftover To fund, and round to whole (or fractional) shares
   without spending money that isn't there — again while trades below the minimum are
   dropped;
4. explain: each row's decision, order, rule and reason;
5. taxes: each sale's lots, gains and estimated tax, and the plan's tax summary;
6. harvest: with Harvest Losses on, sell loss lots to offset the realised gains (never
   below zero), then allocate, explain and tax again.

Data that asks for the impossible (a withdrawal larger than the portfolio, or one that
only locked rows could pay) is refused with a problem in `Plan.problems`, not raised.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date

from rebalancer_xl.core.model import (
    CASH,
    ONE,
    ZERO,
    HistoryEntry,
    Holding,
    Lot,
    PastTrade,
    Plan,
    Problem,
    RuleId,
    Where,
    cents,
)
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.rules.metrics import portfolio_metrics, with_quarter_performance
from rebalancer_xl.core.rules.review import targets_review
from rebalancer_xl.core.rules.schedule import crash_check, next_rebalance_date, schedule_check
from rebalancer_xl.core.settings import Settings
from rebalancer_xl.core.stages.allocate import allocate
from rebalancer_xl.core.stages.explain import explain
from rebalancer_xl.core.stages.harvest import harvest
from rebalancer_xl.core.stages.judge import judge
from rebalancer_xl.core.stages.state import PlanState
from rebalancer_xl.core.stages.taxes import taxes
from rebalancer_xl.core.stages.wash import avoid_wash_sales

Stage = Callable[[PlanState], None]

STAGES: tuple[Stage, ...] = (judge, avoid_wash_sales, allocate, explain, taxes, harvest)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold CPython's cyclic garbage collector while many small values are made.

    A plan allocates a few objects per position and frees none of them until it returns;
    the collector would walk them all again and again as they pile up (the 100,000-row
    plan ran 1.6× slower with it). Nothing a plan makes forms a cycle, so nothing is
    lost by waiting; collection resumes as soon as the block ends.
    """
    was_enabled = gc.isenabled()
    moving = was_enabled and gc.get_freeze_count() == 0
    if moving:
        # The young generations first, which the move below would take along: CPython
        # counts what reaches the oldest generation by a collection, not by `unfreeze`,
        # and collects that generation only once enough has been counted. Garbage of the
        # caller's moved there uncounted waited for a full collection that a process
        # running plan after plan never made. This walks only the young objects (a few
        # thousand at most), and what survives it is counted as CPython counts it.
        gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if moving:
                # Left as it is, the first allocation after `enable` would start a young
                # collection walking everything the plan made (5 ms at 10,000 rows), all
                # of it alive. Freezing and unfreezing moves it, in O(1), to the oldest
                # generation with the rest; skipped if the process froze objects itself.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def plan(
    holdings: Sequence[Holding],
    settings: Settings,
    *,
    as_of: date,
    history: Sequence[HistoryEntry] = (),
    lots: Sequence[Lot] = (),
    past_trades: Sequence[PastTrade] = (),
    warnings: Sequence[Problem] = (),
) -> Plan:
    """Plan one rebalance of validated holdings. See the module docstring for the stages."""
    with paused_gc():
        return _plan(holdings, settings, as_of, history, lots, past_trades, warnings)


def _plan(
    holdings: Sequence[Holding],
    settings: Settings,
    as_of: date,
    history: Sequence[HistoryEntry],
    lots: Sequence[Lot],
    past_trades: Sequence[PastTrade],
    warnings: Sequence[Problem],
) -> Plan:
    review = targets_review(settings, as_of)
    if review is not None:
        warnings = [*warnings, review]
    # `is_cash`, inline: a property call on each row before the cash row was ~1 ms at 10,000.
    # The first CASH row, found in a list of the tickers by list.index, in C: a generator
    # over the rows cost ~0.1k instructions a row.
    tickers = [h.ticker for h in holdings]
    if CASH in tickers:
        cash_row = holdings[tickers.index(CASH)]
    else:
        cash_row = Holding(CASH, ZERO, ONE, ZERO, row=len(holdings))
    # The metrics' one pass over the holdings sums their values as sum() would.
    holdings_metrics = portfolio_metrics(holdings)
    market_value = holdings_metrics.value
    value = market_value + settings.new_capital - settings.withdrawal
    if value <= 0:
        too_large = problem("withdrawal-too-large", Where("Settings", column="Withdrawal"))
        return _refused(too_large, as_of, warnings)
    sched = schedule_check(as_of, settings)
    crash = crash_check(history, as_of, market_value)
    restricted = None
    if crash.crashed:
        restricted = RuleId.CRASH_CHECK
    elif sched.emergency_only:
        restricted = RuleId.EMERGENCY_ONLY
    state = PlanState(
        settings=settings,
        as_of=as_of,
        holdings=holdings,
        history=history,
        lots=lots,
        past_trades=past_trades,
        cash_row=cash_row,
        value=value,
        cash=cash_row.value + settings.new_capital - settings.withdrawal,
        schedule=sched,
        crash=crash,
        restricted=restricted,
        notes=[sched.why.words(), crash.why.words()],
    )
    for stage in STAGES:
        stage(state)
        if state.refusal is not None:
            return _refused(state.refusal, as_of, warnings)

    gross = sum([t.amount for t in state.trades], ZERO)  # a list sums ~40% faster
    return Plan(
        decisions=tuple(state.decisions),
        trades=tuple(state.trades),
        portfolio_value=cents(value),
        cash_left=state.cash_left,
        as_of=as_of,
        next_rebalance_date=next_rebalance_date(as_of, settings, not sched.emergency_only),
        emergency_only=restricted is not None,
        notes=tuple(n for n in state.notes if n),
        problems=tuple(warnings),
        tax=state.tax,
        turnover=(gross / 2 / value) if value else ZERO,
        crash=crash.crashed,
        metrics=with_quarter_performance(holdings_metrics, history, as_of, cents(value)),
    )


def _refused(error: Problem, as_of: date, warnings: Sequence[Problem]) -> Plan:
    """No plan: the user's data asks for the impossible; the error says what to fix."""
    return Plan(
        decisions=(),
        trades=(),
        portfolio_value=ZERO,
        cash_left=ZERO,
        as_of=as_of,
        next_rebalance_date=as_of,
        emergency_only=False,
        problems=(error, *warnings),
    )

"""`rebalancer-xl check`: the between-quarter watch, for a scheduler to run weekly.

Only the rules that must not wait for the quarter end are evaluated: the 50% cap, exit
signals, the crash check and company events (SPEC §5). The check plans with the same
engine as a run, told that the last rebalance was today, so the schedule makes the run
emergency-only whatever the dates say. It writes one value snapshot to History (Run
Type Check; the crash check compares with the snapshot nearest to 30 days before) and
nothing else: no Trades, no Log, no Holdings outputs.

Example: PLTR at 52% of the portfolio → "PLTR: TRIM 40 sh (Rule 2 (50% urgent cap)) …",
exit status 3. Nothing to do → exit status 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from rebalancer_xl.core.engine import plan as make_plan
from rebalancer_xl.core.model import Action, Flag, InputError, Plan
from rebalancer_xl.pipeline import Edit
from rebalancer_xl.quarter.tracking import snapshot_row_ops
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book
from rebalancer_xl.workbook.inputs import read_inputs

#: Flags that ask a person to act now (MONITOR only asks them to watch).
ACTION_FLAGS = frozenset({Flag.URGENT, Flag.REVIEW})


@dataclass(frozen=True, slots=True)
class CheckResult:
    on: date
    value: float
    crash: bool
    needs_action: tuple[str, ...]  # one line per finding, empty when all is well
    notes: tuple[str, ...]


def findings(plan: Plan) -> list[str]:
    """What needs a person's attention, one line each: emergency trades, reviews, a crash."""
    lines: list[str] = []
    if plan.crash:
        lines += [n for n in plan.notes if n.startswith("crash check:")]
    for d in plan.decisions:
        if d.action is not Action.HOLD:
            lines.append(
                f"{d.ticker}: {d.action.value} {d.shares.normalize():f} sh ({d.rule}): {d.reason}"
            )
        elif d.flags & ACTION_FLAGS and not plan.crash:
            lines.append(f"{d.ticker}: {d.flag_text}: {d.reason}")
    return lines


def plan_check(book: Book, on: date) -> Edit:
    """Evaluate the emergency rules on `on`; the writes are one History snapshot."""
    inputs = read_inputs(book)
    if inputs.errors:
        return Edit(False, problems=inputs.problems)
    # "The last rebalance was today": the schedule then lets only emergencies act.
    settings = replace(
        inputs.settings,
        last_rebalance_date=on,
        force_full_run=False,
        min_days_between_rebalances=max(1, inputs.settings.min_days_between_rebalances),
        # New capital and withdrawals belong to the quarter's run, not to a check.
        new_capital=Decimal(0),
        withdrawal=Decimal(0),
    )
    try:
        plan = make_plan(
            inputs.holdings,
            settings,
            as_of=on,
            history=inputs.history,
            lots=inputs.lots,
            past_trades=inputs.past_trades,
        )
    except InputError as err:
        return Edit(False, problems=inputs.problems + err.problems)
    value = plan.metrics.value
    runs = [e for e in inputs.history if not e.snapshot and e.date < on and e.portfolio_value > 0]
    since = None if not runs else float(value / max(runs, key=lambda e: e.date).portfolio_value - 1)
    ops = snapshot_row_ops(
        book,
        on,
        S.RUN_CHECK,
        {
            S.HistoryHeader.VALUE: float(value),
            S.HistoryHeader.RETURN: since,
            S.HistoryHeader.STRATEGY: inputs.settings.strategy.value,
            S.HistoryHeader.TRADES: sum(1 for d in plan.decisions if d.action is not Action.HOLD),
        },
    )
    notes = tuple(n for n in plan.notes if n.startswith("crash check"))
    result = CheckResult(on, float(value), plan.crash, tuple(findings(plan)), notes)
    return Edit(True, ops, [p for p in inputs.problems if not p.is_error], result)


__all__ = ["CheckResult", "findings", "plan_check"]

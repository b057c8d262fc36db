"""Results as programs read them: the --json document (the terminal's is in `terminal`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rebalancer_xl.core.model import Metrics, Plan, Problem
from rebalancer_xl.core.model import problem_line as model_problem_line

if TYPE_CHECKING:
    from rebalancer_xl.pipeline import FileResult


def problem_to_dict(p: Problem) -> dict[str, str]:
    cell = p.where.cell
    return {
        "sheet": cell.sheet if cell else p.where.sheet,
        "cell": cell.cell if cell else "",
        "code": p.code,
        "message": p.message,
        "severity": p.severity.value,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    tax = plan.tax
    return {
        "actions": [
            {
                "ticker": d.ticker,
                "action": d.action.value,
                "amount": float(d.amount),
                "shares": float(d.shares),
                "post_trade_pct": float(d.post_trade_weight),
                "rule": d.rule,
                "rule_id": d.rule_id.value,
                "reason": d.reason,
                "flags": d.flag_text,
            }
            | ({"account": d.account} if plan.is_household else {})
            for d in plan.decisions
        ],
        "trades": [
            {
                "side": t.side,
                "ticker": t.ticker,
                "shares": float(t.shares),
                "price": float(t.price),
                "amount": float(t.amount),
                "rule": t.rule,
                "rule_id": t.rule_id.value,
                "lots": [
                    {
                        "acquired": s.acquired.isoformat(),
                        "shares": float(s.shares),
                        "cost_per_share": float(s.cost_per_share),
                        "gain": float(s.gain),
                        "long_term": s.long_term,
                    }
                    for s in t.lots
                ],
                "short_term_gain": float(t.short_term_gain),
                "long_term_gain": float(t.long_term_gain),
                "estimated_tax": float(t.estimated_tax),
            }
            | ({"account": t.account} if plan.is_household else {})
            for t in plan.trades
        ],
        "portfolio_value": float(plan.portfolio_value),
        "cash_left": float(plan.cash_left),
        "as_of": plan.as_of.isoformat(),
        "next_rebalance_date": plan.next_rebalance_date.isoformat(),
        "emergency_only": plan.emergency_only,
        "notes": list(plan.notes),
        "metrics": _metrics_to_dict(plan.metrics),
        "tax": {
            "applies": tax.applies,
            "short_term_gain": float(tax.short_term_gain),
            "long_term_gain": float(tax.long_term_gain),
            "estimated_tax": float(tax.estimated_tax),
            "disallowed_loss": float(tax.disallowed_loss),
            "harvest": [
                {"ticker": t, "unrealised_loss": float(loss), "tax_saved": float(s)}
                for t, loss, s in tax.harvest
            ],
            "notes": list(tax.notes),
        },
        "accounts": _accounts_to_list(plan),
    }


def _accounts_to_list(plan: Plan) -> list[dict[str, Any]]:
    """A household's accounts (none for one account): each one's cash before, its
    sales, its buys and its cash after."""
    return [
        {
            "account": c.account.name,
            "type": c.account.type.value,
            "cash": float(c.cash),
            "sold": float(c.sold),
            "bought": float(c.bought),
            "cash_after": float(c.cash_after),
        }
        for c in plan.accounts
    ]


def _metrics_to_dict(m: Metrics) -> dict[str, Any]:
    def f(x: Decimal | None) -> float | None:
        return None if x is None else float(x)

    def position(p: tuple[str, Decimal] | None) -> dict[str, Any] | None:
        return None if p is None else {"ticker": p[0], "weight": float(p[1])}

    return {
        "value": float(m.value),
        "cost": f(m.cost),
        "gain": f(m.gain),
        "gain_pct": f(m.gain_pct),
        "largest": position(m.largest),
        "smallest": position(m.smallest),
        "quarter_return": f(m.quarter_return),
        "quarter_performance": f(m.quarter_performance),
        "performance_since": None
        if m.performance_since is None
        else m.performance_since.isoformat(),
        "returns": [
            {
                "ticker": r.ticker,
                "last_price": float(r.last_price),
                "price": float(r.price),
                "quarterly_return": float(r.quarterly_return),
                "last_weight": f(r.last_weight),
                "contribution": f(r.contribution),
                "class": r.performance_class.value,
            }
            for r in m.returns
        ],
    }


def no_plan() -> dict[str, Any]:
    """The plan's keys of a file entry when there is no plan: empty lists, else nulls.

    Every entry carries every key, so a program reading the document never has to ask
    whether one is there; `status` says whether the values mean anything.
    """
    return {
        "actions": [],
        "trades": [],
        "portfolio_value": None,
        "cash_left": None,
        "as_of": None,
        "next_rebalance_date": None,
        "emergency_only": None,
        "notes": [],
        "metrics": None,
        "tax": None,
        "accounts": [],
    }


def result_to_dict(result: FileResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": result.path,
        "status": result.status,
        "problems": [problem_to_dict(p) for p in result.problems],
        **no_plan(),
        "written": result.written,
        "content_lost": list(result.losses),
    }
    if result.plan is not None:
        out.update(plan_to_dict(result.plan))
    return out


def where_text(p: dict[str, str]) -> str:
    """`Holdings!D5` from a problem's JSON entry; the sheet alone when no cell is known."""
    return f"{p['sheet']}!{p['cell']}" if p["cell"] else p["sheet"]


def problem_line(path: str, p: dict[str, str]) -> str:
    # Severity shows as colour on the terminal, so the words need not say it.
    return model_problem_line(where_text(p), p["code"], p["message"], path=path)

"""Results as people and programs read them: the --json document and the terminal report."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rebalancer_xl.model import Metrics, Plan, Problem
from rebalancer_xl.model import problem_line as model_problem_line

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


def print_human(results: list[dict[str, Any]], *, quiet: bool, dry_run: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    err = Console(stderr=True)
    for r in results:
        for p in r["problems"]:
            style = "yellow" if p.get("severity") == "warning" else "red"
            err.print(
                problem_line(r["path"], p),
                style=style,
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if len(results) == 1 and results[0]["status"] == "ok" and not quiet:
        _print_plan(out, results[0], dry_run)
        return
    table = Table(title="rebalancer-xl run" + (" (dry run)" if dry_run else ""))
    for col in ("file", "status", "value", "trades", "cash left", "next rebalance", "problems"):
        table.add_column(
            col, justify="right" if col in ("value", "trades", "cash left") else "left"
        )
    for r in results:
        ok = r["status"] == "ok"
        table.add_row(
            r["path"],
            "[green]ok[/]" if ok else "[red]error[/]",
            f"{r['portfolio_value']:,.2f}" if ok else "",
            str(len(r.get("trades", []))) if ok else "",
            f"{r['cash_left']:,.2f}" if ok else "",
            r.get("next_rebalance_date", "") if ok else "",
            str(len(r["problems"])),
        )
    out.print(table)
    failed = sum(r["status"] != "ok" for r in results)
    out.print(f"{len(results) - failed} ok, {failed} failed")


def _metrics_line(m: dict[str, Any]) -> str:
    """'Gain since purchase +17,720.00 (+17.3%) · largest PLTR 37.5% · …', or ''."""
    parts = []
    if m["gain"] is not None:
        pct = f" ({m['gain_pct']:+.1%})" if m["gain_pct"] is not None else ""
        parts.append(f"Gain since purchase {m['gain']:+,.2f}{pct}")
    for key in ("largest", "smallest"):
        if m[key] is not None:
            parts.append(f"{key} {m[key]['ticker']} {m[key]['weight']:.1%}")
    if m["quarter_return"] is not None:
        classes = ", ".join(
            f"{x['ticker']} {x['class']}" for x in m["returns"] if x["class"] != "In-line"
        )
        parts.append(f"quarter {m['quarter_return']:+.1%}" + (f" ({classes})" if classes else ""))
    return " · ".join(parts)


def _print_plan(out: Any, r: dict[str, Any], dry_run: bool) -> None:
    from rich.table import Table

    title = f"{r['path']} — as of {r['as_of']}: portfolio {r['portfolio_value']:,.2f}" + (
        " — EMERGENCY-ONLY RUN" if r["emergency_only"] else ""
    )
    table = Table(title=title, show_lines=False)
    for col in ("Ticker", "Action", "Amount", "Shares", "Post-Trade %", "Rule", "Flags"):
        table.add_column(
            col, justify="right" if col in ("Amount", "Shares", "Post-Trade %") else "left"
        )
    for a in r["actions"]:
        colour = {"SELL": "red", "TRIM": "yellow", "ADD": "green", "BUY": "green"}.get(
            a["action"], "white"
        )
        table.add_row(
            f"{a['ticker']} ({a['account']})" if a.get("account") else a["ticker"],
            f"[{colour}]{a['action']}[/]",
            f"{a['amount']:,.2f}",
            f"{a['shares']:g}",
            f"{a['post_trade_pct']:.2%}",
            a["rule"],
            a["flags"],
        )
    out.print(table)
    summary = _metrics_line(r["metrics"])
    if summary:
        out.print(summary, markup=False, highlight=False, soft_wrap=True)
    for a in r["actions"]:
        if a["action"] != "HOLD" or a["flags"]:
            out.print(
                f"  {a['ticker']}{' in ' + a['account'] if a.get('account') else ''}: "
                f"{a['reason']}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    tax = r["tax"]
    if tax["applies"]:
        out.print(
            f"Tax: short-term gain {tax['short_term_gain']:,.2f}, long-term gain "
            f"{tax['long_term_gain']:,.2f}, estimated tax {tax['estimated_tax']:,.2f}"
        )
        for t in r["trades"]:
            if t["lots"]:
                lots = "; ".join(
                    f"{lot['shares']:g} sh bought {lot['acquired']} at "
                    f"{lot['cost_per_share']:,.2f} ({'long' if lot['long_term'] else 'short'}"
                    f"-term, {lot['gain']:+,.2f})"
                    for lot in t["lots"]
                )
                out.print(
                    f"  {t['ticker']} sells from lots: {lots}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    for note in tax["notes"]:
        out.print(f"  {note}", markup=False, highlight=False, soft_wrap=True)
    for acct in r.get("accounts", []):
        orders = [t for t in r["trades"] if t.get("account") == acct["account"]]
        listing = ", ".join(f"{t['side']} {t['shares']:g} {t['ticker']}" for t in orders)
        out.print(
            f"  {acct['account']} ({acct['type']}): {listing or 'no trades'}; cash "
            f"{acct['cash']:,.2f} → {acct['cash_after']:,.2f}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"Cash after trades: {r['cash_left']:,.2f}.  Next rebalance: {r['next_rebalance_date']}."
    )
    if dry_run:
        out.print("Dry run: nothing was written.")
    elif r.get("written"):
        out.print(
            f"Written to {r['written']} (Holdings outputs, Trades, History, "
            f"Log {r['as_of']}, Checklist)."
        )
    for lost in r.get("content_lost", []):
        out.print(f"[yellow]warning:[/] the written copy lost: {lost}")

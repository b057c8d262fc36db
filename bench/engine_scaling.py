"""How `engine.plan` scales with the number of positions.

Builds seeded random portfolios that look like real ones (prices from $2 to $900, targets
summing to exactly 100% with a CASH row, positions drifted off target, scores with a few
tier downgrades, some exit triggers, the odd company event and lock), times `plan` on
each size (median of several runs, fewer for the largest), measures peak memory with
tracemalloc in a separate run, and prints time per position so linear growth shows as a
flat column.

Caps are relaxed (cap 90%) so the plan is not just "trim everything", and a relative band
makes small targets drift-trade as a real many-position book would.

    python bench/engine_scaling.py                       # 10 … 100,000 positions
    python bench/engine_scaling.py --sizes 10 1000 --lots # with tax lots (taxable path)
    python bench/engine_scaling.py --lots --history      # and a trade log (wash sales)
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
import tracemalloc
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from _common import Phases, fmt_s, machine_line, median_time, print_table, verdict

from rebalancer_xl.core.engine import plan
from rebalancer_xl.core.model import CASH, Action, Holding, Lot, PastTrade
from rebalancer_xl.core.parse import validate
from rebalancer_xl.core.settings import Settings

AS_OF = date(2026, 12, 31)
TARGET_QUANTUM = Decimal("0.00000001")  # 1e-6 percentage points: exact sums at 100,000 rows
TARGET_MS_AT_10K = 100.0

SETTINGS = Settings(
    cap=Decimal("0.90"),
    cap_trim_to=Decimal("0.85"),
    urgent_cap=Decimal("0.95"),
    urgent_trim_to=Decimal("0.90"),
    relative_band=Decimal("0.25"),
    as_of_date=AS_OF,
    last_rebalance_date=date(2026, 9, 30),
)


def _repeats(n: int, scale: float) -> int:
    base = 30 if n <= 100 else 9 if n <= 1_000 else 5 if n <= 10_000 else 2
    return max(1, round(base * scale))


def portfolio(
    n: int, seed: int = 7, with_lots: bool = False
) -> tuple[tuple[Holding, ...], tuple[Lot, ...]]:
    """`n` positions plus a CASH row; targets add up to exactly 1 (100%)."""
    rng = random.Random(seed * 1_000_003 + n)
    cash_target = Decimal("0.02")
    # Targets: random weights cut to the quantum; what rounding leaves goes to the largest,
    # so the sum is exactly 1 − cash target.
    raw = [rng.lognormvariate(0, 0.6) for _ in range(n)]
    total_raw = sum(raw)
    budget = 1 - cash_target
    targets = [(Decimal(w / total_raw) * budget).quantize(TARGET_QUANTUM) for w in raw]
    biggest = max(range(n), key=targets.__getitem__)
    targets[biggest] += budget - sum(targets, Decimal(0))

    value = Decimal(100_000) * max(10, n)  # ~$100k of book per position in large books
    holdings: list[Holding] = []
    lots: list[Lot] = []
    for i, target in enumerate(targets):
        price = Decimal(str(round(rng.uniform(2, 900), 2)))
        drift = Decimal(str(round(rng.uniform(0.6, 1.45), 3)))  # some well off target
        shares = max(Decimal(1), (target * value * drift / price).quantize(Decimal(1)))
        score = Decimal(str(round(rng.uniform(35, 92), 1)))
        roll = rng.random()
        if roll < 0.04:  # a big downgrade: Very Strong → Moderate or Weak
            previous = score + Decimal(rng.choice((25, 35)))
        elif roll < 0.15:
            previous = score + Decimal(rng.choice((8, 12)))  # one tier down: MONITOR
        else:
            previous = score - Decimal(str(round(rng.uniform(0, 5), 1)))
        previous = min(Decimal(100), max(Decimal(0), previous))
        triggers = 2 if rng.random() < 0.01 else 1 if rng.random() < 0.03 else 0
        basis = (price * Decimal(str(round(rng.uniform(0.5, 1.4), 3)))).quantize(Decimal("0.01"))
        holdings.append(
            Holding(
                ticker=f"T{i:06d}",
                shares=shares,
                price=price,
                target=target,
                score=score,
                previous_score=previous,
                exit_triggers=triggers,
                company_event=rng.random() < 0.01,
                lock=rng.random() < 0.01,
                purchase_price=basis,
                row=i,
            )
        )
        if with_lots:
            first = (shares / 2).quantize(Decimal(1))
            acquired = AS_OF - timedelta(days=rng.randint(40, 900))
            for part, when in ((first, acquired), (shares - first, acquired + timedelta(200))):
                if part > 0:
                    lots.append(
                        Lot(
                            f"T{i:06d}",
                            min(when, AS_OF - timedelta(days=35)),
                            part,
                            basis,
                            row=len(lots) + 2,
                        )
                    )
    cash = (value * cash_target).quantize(Decimal(1))
    holdings.append(Holding(CASH, cash, Decimal(1), cash_target, row=n))
    assert sum((h.target for h in holdings), Decimal(0)) == 1, "targets must add to 100%"
    errors = [p for p in validate(holdings, SETTINGS) if p.is_error]
    assert not errors, errors
    return tuple(holdings), tuple(lots)


def history(holdings: Sequence[Holding]) -> tuple[PastTrade, ...]:
    """A trade log: every third position sold some shares 10 days ago, at a loss for half
    of them, and every fifth bought some 20 days ago (the wash-sale rules read these)."""
    past = []
    for i, h in enumerate(holdings):
        if h.is_cash or h.purchase_price is None:
            continue
        if i % 3 == 0:
            loss = Decimal("0.8") if i % 2 else Decimal("1.1")
            past.append(
                PastTrade(
                    AS_OF - timedelta(days=10),
                    h.ticker,
                    Action.TRIM,
                    Decimal(1),
                    (h.purchase_price * loss).quantize(Decimal("0.01")),
                )
            )
        if i % 5 == 0:
            past.append(
                PastTrade(AS_OF - timedelta(days=20), h.ticker, Action.ADD, Decimal(1), h.price)
            )
    return tuple(past)


def measure(n: int, repeats: int, with_lots: bool, with_history: bool = False) -> dict[str, object]:
    holdings, lots = portfolio(n, with_lots=with_lots)
    past = history(holdings) if with_history else ()

    def run() -> object:
        return plan(holdings, SETTINGS, as_of=AS_OF, lots=lots, past_trades=past)

    warm = 1 if n < 100_000 else 0
    seconds = median_time(run, repeats, warmup=warm)
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    trades = len(result.trades)  # type: ignore[attr-defined]
    return {"n": n, "repeats": repeats, "seconds": seconds, "peak": peak, "trades": trades}


def profile(n: int, with_lots: bool, with_history: bool) -> None:
    """Where one `plan` of `n` positions spends its time: by stage, then by function."""
    holdings, lots = portfolio(n, with_lots=with_lots)
    past = history(holdings) if with_history else ()

    def run() -> object:
        return plan(holdings, SETTINGS, as_of=AS_OF, lots=lots, past_trades=past)

    run()
    with Phases(Phases.ENGINE) as phases:
        start = time.perf_counter()
        run()
        total = time.perf_counter() - start
    print_table(
        f"where plan's time goes, {n:,} positions (wall, one run; the stage timers add "
        "~0.3 µs a call)",
        ("stage", "time", "share"),
        phases.rows(total, other="other (set-up, schedule, crash check, sums)"),
    )
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    whole = sum(tt for _, _, tt, _, _ in entries.values())
    top = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    print_table(
        "functions by own time (cProfile, which slows small calls the most)",
        ("function", "calls", "own time", "share"),
        [
            (
                f"{Path(file).name}:{line}({name})" if file != "~" else name,
                f"{nc:,}",
                fmt_s(tt),
                f"{tt / whole:.0%}",
            )
            for (file, line, name), (_, nc, tt, _, _) in top
        ],
    )


def predicted_seconds(n: int, done: list[dict[str, object]]) -> float | None:
    """A guess at one run's time for `n` positions: t = a·n + b·n² through the last two
    sizes measured (b = 0 when growth looks linear). Cautious for quadratic code."""
    if len(done) < 2:
        return None
    (n1, t1), (n2, t2) = ((int(r["n"]), float(r["seconds"])) for r in done[-2:])  # type: ignore[call-overload]
    if n2 <= n1:
        return None
    b = max(0.0, (t2 / n2 - t1 / n1) / (n2 - n1))
    a = max(0.0, t2 / n2 - b * n2)
    return a * n + b * n * n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time engine.plan on seeded random portfolios of growing size."
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10, 100, 1_000, 10_000, 100_000],
        metavar="N",
        help="numbers of positions (default: 10 100 1000 10000 100000)",
    )
    parser.add_argument(
        "--repeat-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply the number of timed runs per size (default 1)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        metavar="S",
        help="skip a size whose runs are predicted to take longer than S "
        "seconds in all (default 120)",
    )
    parser.add_argument(
        "--lots",
        action="store_true",
        help="give every position two tax lots (exercises lot picking)",
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="add a trade log of recent sales and buys (wash-sale rules)",
    )
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the profile of one run at 10,000 positions (or the largest size below)",
    )
    args = parser.parse_args(argv)

    print(machine_line())
    print(
        f"engine.plan, Hybrid, relative band 25%, caps relaxed to 90%; "
        f"{'two tax lots per position' if args.lots else 'no tax lots'}; "
        f"{'a trade log of recent sales and buys' if args.history else 'no trade log'}"
    )
    rows: list[tuple[object, ...]] = []
    results: list[dict[str, object]] = []
    skipped: list[str] = []
    start = time.perf_counter()
    for n in args.sizes:
        repeats = _repeats(n, args.repeat_scale)
        guess = predicted_seconds(n, results)
        runs = repeats + (1 if n < 100_000 else 0) + 1  # timed + warm-up + tracemalloc
        if guess is not None and guess * runs > args.budget:
            rows.append((f"{n:,}", "-", "-", "skipped", "", "", ""))
            skipped.append(
                f"{n:,} positions skipped: ≈ {guess:.0f} s a run predicted from "
                f"the growth so far, × {runs} runs > --budget {args.budget:.0f} s"
            )
            continue
        r = measure(n, repeats, args.lots, args.history)
        results.append(r)
        secs, peak = float(r["seconds"]), int(r["peak"])  # type: ignore[call-overload]
        rows.append(
            (
                f"{n:,}",
                r["repeats"],
                f"{r['trades']:,}",
                fmt_s(secs),
                f"{secs / n * 1e6:.1f}",
                f"{peak / 2**20:.1f}",
                f"{peak / n / 1024:.1f}",
            )
        )
    print_table(
        "plan() CPU time by portfolio size (median)",
        ("positions", "runs", "trades", "time", "µs/position", "peak MiB", "KiB/position"),
        rows,
    )

    # Targets: 10,000 under 100 ms; time per position flat (largest within 2× of 1,000's).
    checks = []
    at_10k = next((r for r in results if r["n"] == 10_000), None)
    if at_10k is not None:
        ms = float(at_10k["seconds"]) * 1e3  # type: ignore[arg-type]
        checks.append(
            (
                "plan, 10,000 positions",
                f"< {TARGET_MS_AT_10K:.0f} ms",
                f"{ms:.0f} ms",
                verdict(ms < TARGET_MS_AT_10K),
            )
        )
    per = {int(r["n"]): float(r["seconds"]) / int(r["n"]) for r in results}  # type: ignore[call-overload]
    base_n = 1_000 if 1_000 in per else min(per)
    big_n = max(per)
    if big_n > base_n:
        ratio = per[big_n] / per[base_n]
        checks.append(
            (
                f"linear: µs/position at {big_n:,} ÷ at {base_n:,}",
                "≤ 2.0×",
                f"{ratio:.2f}×",
                verdict(ratio <= 2.0),
            )
        )
    for note in skipped:
        print(f"  {note}")
    if skipped:  # only growth far from linear predicts past the budget
        checks.append(("linear up to the largest size", "all sizes run", "skipped", verdict(False)))
    profiled = [int(r["n"]) for r in results if int(r["n"]) <= 10_000]  # type: ignore[call-overload]
    if profiled and not args.no_profile:
        profile(max(profiled), args.lots, args.history)
    if checks:
        print_table("targets", ("what", "target", "measured", ""), checks)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

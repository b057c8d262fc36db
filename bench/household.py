"""What a household costs (SPEC §9): `plan_household` over `plan` of the same positions
held in one account.

The household is N tickers spread over three accounts (a Taxable one, an IRA and a Roth),
each ticker in one or two of them, every account with cash: the engine plans the N
folded positions, then the placement puts each order into accounts and the Taxable
sales get their lots. One account holding the same positions is the baseline; the
ratio is the price of the household's folding, placement and per-account rows.
Target: a household plan at most 2× the one-account plan (placement is one pass over
the orders and the rows; anything above 2× would mean it does more than that).
"""

from __future__ import annotations

import argparse
import random
from datetime import date
from decimal import Decimal

import _common as C

from rebalancer_xl.core.engine import plan
from rebalancer_xl.core.household import plan_household
from rebalancer_xl.core.model import CASH, Account, AccountType, Holding, Lot
from rebalancer_xl.core.settings import Settings

AS_OF = date(2026, 12, 31)
ACCOUNTS = (
    Account("Brokerage", AccountType.TAXABLE),
    Account("IRA", AccountType.RETIREMENT),
    Account("Roth", AccountType.ROTH),
)


def household(n: int, seed: int = 7) -> tuple[list[Holding], list[Lot], list[Holding]]:
    """N tickers over three accounts, their Taxable lots, and the same held in one."""
    rng = random.Random(seed)
    target = (Decimal(1) - Decimal("0.02")) / n
    rows: list[Holding] = []
    lots: list[Lot] = []
    single: list[Holding] = []
    for i in range(n):
        ticker, price = f"T{i:05d}", Decimal(rng.randint(10, 400))
        score = Decimal(rng.choice([30, 55, 70, 85]))
        homes = rng.sample(ACCOUNTS, rng.choice([1, 2]))
        total = Decimal(0)
        for k, a in enumerate(homes):
            shares = Decimal(rng.randint(1, 200))
            total += shares
            rows.append(
                Holding(
                    ticker,
                    shares,
                    price,
                    target if k == 0 else Decimal(0),
                    score=score,
                    row=len(rows),
                    account=a.name,
                )
            )
            if a.type.taxed:
                cost = price * Decimal(rng.choice(["0.7", "1.0", "1.3"]))
                lots.append(Lot(ticker, date(2025, 1, 2), shares, cost, account=a.name))
        single.append(Holding(ticker, total, price, target, score=score, row=i))
    cash_each = sum((h.value for h in rows), Decimal(0)) * Decimal("0.02") / len(ACCOUNTS)
    for a in ACCOUNTS:
        rows.append(
            Holding(
                CASH,
                cash_each.quantize(Decimal(1)),
                Decimal(1),
                Decimal("0.02"),
                row=len(rows),
                account=a.name,
            )
        )
    single.append(
        Holding(
            CASH, cash_each.quantize(Decimal(1)) * len(ACCOUNTS), Decimal(1), Decimal("0.02"), row=n
        )
    )
    return rows, lots, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(C.machine_line())
    s = Settings()
    rows_out, verdicts = [], []
    for n in args.sizes:
        rows, lots, single = household(n)
        one = C.median_time(lambda single=single: plan(single, s, as_of=AS_OF), args.repeats)
        many = C.median_time(
            lambda rows=rows, lots=lots: plan_household(rows, ACCOUNTS, s, as_of=AS_OF, lots=lots),
            args.repeats,
        )
        ratio = many / one if one else 0.0
        rows_out.append((n, len(rows), C.fmt_s(one), C.fmt_s(many), f"{ratio:.2f}×"))
        verdicts.append(
            (
                f"household ÷ one account, {n} tickers",
                "≤ 2.00×",
                f"{ratio:.2f}×",
                C.verdict(ratio <= 2.0),
            )
        )
    C.print_table(
        "plan_household vs plan of the same positions in one account (CPU time, median)",
        ("tickers", "household rows", "one account", "household", "ratio"),
        rows_out,
    )
    C.print_table("targets", ("measurement", "target", "today", ""), verdicts)


if __name__ == "__main__":
    main()

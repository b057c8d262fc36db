"""A fingerprint of the engine's output: run it before and after a change to `core/`.

Plans 208 portfolios (four sizes from `engine_scaling`'s generator, with and without tax
lots and a trade log, under 13 settings variants from two bases: strategies, relative
band, Rules Only, a withdrawal, new capital, fractional shares, a minimum trade, a
taxable account with and without loss harvesting, an emergency-only date) and hashes the
full repr of every plan with each decision's worded reason. A speed-up that changes no
result prints the same fingerprint; a change of any digit, word, order or flag prints
another. Flag sets are written sorted (a frozen set's order depends on memory addresses).

    python bench/plan_fingerprint.py            # prints: 208 plans <fingerprint>
    python bench/plan_fingerprint.py --dump F   # also writes the text, to diff two runs
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

from engine_scaling import AS_OF, SETTINGS, history, portfolio

from rebalancer_xl.core.engine import plan
from rebalancer_xl.core.model import AccountType, HarvestLosses, Plan, SellMode, Strategy
from rebalancer_xl.core.settings import Settings

BOOKS = ((12, 1), (60, 2), (400, 3), (2000, 4))  # (positions, seed)
_FLAG_SET = re.compile(r"frozenset\(\{([^}]*)\}\)")


def variants() -> list[Settings]:
    out: list[Settings] = []
    default = Settings(as_of_date=AS_OF, last_rebalance_date=date(2026, 9, 30))
    for base in (SETTINGS, default):
        taxable = dataclasses.replace(base, account_type=AccountType.TAXABLE)
        out += [
            base,
            dataclasses.replace(base, strategy=Strategy.THRESHOLD),
            dataclasses.replace(base, strategy=Strategy.CALENDAR),
            dataclasses.replace(base, relative_band=None),
            dataclasses.replace(base, sell_mode=SellMode.RULES_ONLY),
            dataclasses.replace(base, withdrawal=Decimal("250000")),
            dataclasses.replace(base, new_capital=Decimal("180000.55")),
            dataclasses.replace(base, whole_shares=False),
            dataclasses.replace(base, minimum_trade=Decimal("5000")),
            taxable,
            dataclasses.replace(taxable, harvest_losses=HarvestLosses.BROKEN_THESIS),
            dataclasses.replace(taxable, harvest_losses=HarvestLosses.ALL),
            dataclasses.replace(base, last_rebalance_date=date(2026, 12, 1)),  # too soon
        ]
    return out


def texts() -> Iterator[str]:
    """Each plan as text: its repr (flag sets sorted), then one worded reason a line."""
    settings = variants()
    for n, seed in BOOKS:
        for with_lots in (False, True):
            holdings, lots = portfolio(n, seed=seed, with_lots=with_lots)
            past = history(holdings) if with_lots else ()
            for s in settings:
                yield _text(plan(holdings, s, as_of=AS_OF, lots=lots, past_trades=past))


def _text(p: Plan) -> str:
    def sort_flags(m: re.Match[str]) -> str:
        return "frozenset({" + ", ".join(sorted(m.group(1).split(", "))) + "})"

    reasons = "\n".join(str(d.why) for d in p.decisions)
    return f"{_FLAG_SET.sub(sort_flags, repr(p))}\n{reasons}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", metavar="FILE", help="also write every plan's text here")
    args = parser.parse_args(argv)
    digest = hashlib.sha256()
    plans = list(texts())
    for text in plans:
        digest.update(text.encode())
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as out:
            out.writelines(plans)
    print(f"{len(plans)} plans {digest.hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

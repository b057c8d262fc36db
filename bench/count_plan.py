"""Run plan() K times on engine_scaling's portfolio of N positions (for callgrind counts).

    valgrind --tool=callgrind --dump-instr=no --collect-jumps=no \
        python bench/count_plan.py N K
The instructions a position are (count at K − count at 0) / K / N.
"""

from __future__ import annotations

import sys

from engine_scaling import AS_OF, SETTINGS, portfolio

from rebalancer_xl.core.engine import plan

n, k = int(sys.argv[1]), int(sys.argv[2])
holdings, _ = portfolio(n)
plan(holdings, SETTINGS, as_of=AS_OF)  # warm: imports, caches
for _ in range(k):
    plan(holdings, SETTINGS, as_of=AS_OF)

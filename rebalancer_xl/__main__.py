"""`python -m rebalancer_xl`: the `rebalancer-xl` command where its script is not on PATH.

The package, not `rebalancer_xl.cli`, is the module to run: the local cluster's workers
are forked from a server that has already imported `rebalancer_xl.cli`, and running that
module again as their main module makes Python warn (RuntimeWarning from runpy) on every
worker. A package's `__main__` is never run again in a worker.
"""

from rebalancer_xl.cli import main

raise SystemExit(main())

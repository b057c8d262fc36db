"""Households (SPEC §9): several accounts in one workbook. The household decides, the
accounts execute.

`accounts` reads the Accounts sheet's rows and checks the rows that name accounts;
`aggregate` folds the per-account rows into one position per ticker, which the engine
plans exactly as it plans one account; `placement` puts each household amount into
accounts (sells Retirement and Roth first, buys where the money is, no money moving
between accounts); `plan` ties the three together into a `Plan` whose decisions and
trades carry their account. A workbook without an Accounts sheet or an Account column
never comes here: it goes through the engine alone, as before.
"""

from rebalancer_xl.core.household.plan import plan_household

__all__ = ["plan_household"]

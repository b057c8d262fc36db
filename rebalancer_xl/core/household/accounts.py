"""The accounts of a household and the checks on the rows that name them (SPEC §9).

An Accounts sheet lists each account once: its name (as the Holdings, Lots and Trades
rows write it), its Type (Taxable, Retirement or Roth) and a free Note. Without the
sheet, an Account column alone makes every account it names one of Settings' Account
Type. A ticker's Target % is the household's: given on one of its rows, or the same on
each; a blank on the others means "not given here". Example: PLTR 35% in the IRA row and
blank in the Taxable row is a 35% household target; 35% and 30% is `targets-disagree`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol, TypeVar

from rebalancer_xl.core.model import (
    ZERO,
    Account,
    AccountType,
    CellRef,
    Holding,
    Lot,
    Problem,
    Where,
)
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.settings import is_blank

ACCOUNTS = "Accounts"  # the sheet
NAME = "Account"
TYPE = "Type"
NOTE = "Note"
COLUMNS = (NAME, TYPE, NOTE)

_TYPES = {t.value.casefold(): t for t in AccountType}
# The words people use for a tax-deferred account mean Retirement.
_TYPES.update(dict.fromkeys(("ira", "401(k)", "401k", "403(b)", "sep"), AccountType.RETIREMENT))
_TYPES["roth ira"] = AccountType.ROTH

LocateCell = Callable[[int, str], CellRef | None]


def retirement_first(account: Account) -> int:
    """The order sells and buys visit accounts: untaxed ones first (the guide's
    "execute all trades in the retirement account first"), Taxable last."""
    return 1 if account.type.taxed else 0


def parse_accounts(
    rows: Sequence[Mapping[str, object]], locate: LocateCell
) -> tuple[tuple[Account, ...], list[Problem]]:
    """The Accounts sheet's rows as accounts, in sheet order, and every problem found."""
    accounts: list[Account] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}

    def at(i: int, column: str) -> Where:
        return Where(ACCOUNTS, row=i, column=column, cell=locate(i, column))

    for i, row in enumerate(rows):
        name_raw, type_raw, note = (row.get(c) for c in COLUMNS)
        if is_blank(name_raw) and is_blank(type_raw):
            continue
        name = "" if is_blank(name_raw) else str(name_raw).strip()
        if not name:
            problems.append(problem("missing-value", at(i, NAME), "account-name"))
            continue
        if name.casefold() in seen:
            problems.append(problem("duplicate-account", at(i, NAME), name=name))
            continue
        kind = _TYPES.get(str(type_raw).strip().casefold()) if not is_blank(type_raw) else None
        if kind is None:
            typed = "blank" if is_blank(type_raw) else repr(str(type_raw)[:30])
            problems.append(
                problem("bad-choice", at(i, TYPE), "account-type", name=name, typed=typed)
            )
            continue
        seen[name.casefold()] = i
        accounts.append(Account(name, kind, "" if is_blank(note) else str(note)))
    return tuple(accounts), problems


@dataclass(frozen=True, slots=True)
class NamedRow:
    """A Holdings, Lots or Trades row that names an account: where it is and what it says."""

    account: str
    shares: Decimal | None  # None: not known (a bad cell), or not a holding row
    where: Where


def resolve_accounts(
    listed: Sequence[Account] | None,
    rows: Sequence[NamedRow],
    default: AccountType,
) -> tuple[tuple[Account, ...], list[Problem]]:
    """The household's accounts, and the rows naming none or an unknown one.

    `listed` is the Accounts sheet (None without one: every named account is then of
    Settings' Account Type, in order of first mention). A row with shares may not leave
    its account blank; a 0-share row may (a ticker held nowhere yet)."""
    problems: list[Problem] = []
    by_name = {a.name.casefold(): a for a in listed or ()}
    found: dict[str, Account] = dict(by_name)
    order = list(listed or ())
    for r in rows:
        if not r.account:
            if r.shares is not None and r.shares != 0:
                problems.append(problem("missing-account", r.where))
            continue
        key = r.account.casefold()
        if key in found:
            continue
        if listed is not None:
            names = ", ".join(a.name for a in listed) or "none"
            problems.append(problem("unknown-account", r.where, name=r.account, listed=names))
            continue
        found[key] = Account(r.account, default)
        order.append(found[key])
    return tuple(order), problems


def canonical(accounts: Sequence[Account]) -> Callable[[str], str]:
    """Rows may write an account's name in any case: each maps to the listed spelling."""
    names = {a.name.casefold(): a.name for a in accounts}
    return lambda name: names.get(name.casefold(), name)


class _HasTarget(Protocol):
    @property
    def ticker(self) -> str | None: ...
    @property
    def target(self) -> Decimal | None: ...
    @property
    def target_given(self) -> bool: ...


R = TypeVar("R", bound=_HasTarget)


def merge_targets(rows: Sequence[R], at: Callable[[R], Where]) -> tuple[list[R], list[Problem]]:
    """One row per ticker carrying the household's Target %, and the disagreements.

    Each ticker keeps its first row, with the target given on its rows (0 when none is);
    the target is unknown (None) when a row's Target % could not be read or the given
    ones differ, so sums over it are skipped rather than guessed. Rows with no ticker
    pass through as they are."""
    out: list[R] = []
    first: dict[str, int] = {}
    given: dict[str, tuple[Decimal, R]] = {}
    problems: list[Problem] = []
    for r in rows:
        if r.ticker is None:
            out.append(r)
            continue
        if r.ticker not in first:
            first[r.ticker] = len(out)
            out.append(replace(r, target=None if r.target is None else ZERO))  # type: ignore[type-var]
        i = first[r.ticker]
        if r.target is None:
            out[i] = replace(out[i], target=None)  # type: ignore[type-var]
            continue
        if not r.target_given:
            continue
        if r.ticker in given and given[r.ticker][0] != r.target:
            target, other = given[r.ticker]
            problems.append(
                problem(
                    "targets-disagree",
                    at(r),
                    ticker=r.ticker,
                    target=r.target,
                    other=target,
                    other_at=at(other),
                )
            )
            out[i] = replace(out[i], target=None)  # type: ignore[type-var]
            continue
        if r.ticker not in given:
            given[r.ticker] = (r.target, r)
            if out[i].target is not None:
                out[i] = replace(out[i], target=r.target)  # type: ignore[type-var]
    return out, problems


def check_account_lots(
    lots: Sequence[Lot],
    rows: Sequence[Holding],
    at_lot: Callable[[int], Where],
    at_row: Callable[[Holding], Where],
) -> list[Problem]:
    """In each account, a ticker's lots add up to the shares of its row there.

    Only tickers with rows in several accounts are checked here: a ticker with one row
    is `parse.check_lot_totals`'s, so no mismatch is said twice."""
    count: dict[str, int] = {}
    for h in rows:
        count[h.ticker] = count.get(h.ticker, 0) + 1
    held = {(h.account, h.ticker): h for h in rows}
    totals: dict[tuple[str, str], Decimal] = {}
    first: dict[tuple[str, str], int] = {}
    for i, lot in enumerate(lots):
        if count.get(lot.ticker, 0) > 1:
            key = (lot.account, lot.ticker)
            totals[key] = totals.get(key, ZERO) + lot.shares
            first.setdefault(key, i)
    problems = []
    for (account, ticker), total in totals.items():
        row = held.get((account, ticker))
        if row is None:
            problems.append(
                problem(
                    "lot-without-holding",
                    at_lot(first[(account, ticker)]),
                    "account",
                    ticker=ticker,
                    account=account or "no account",
                    total=total,
                )
            )
        elif total != row.shares:
            problems.append(
                problem(
                    "lots-mismatch",
                    at_row(row),
                    "account",
                    ticker=ticker,
                    account=account,
                    total=total,
                    shares=row.shares,
                )
            )
    return problems

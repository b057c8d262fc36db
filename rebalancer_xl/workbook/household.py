"""Reading a household workbook's accounts (SPEC §9): the Accounts sheet and the Account
cells of Holdings and Lots, every problem located by cell. Pure, like `inputs`."""

from __future__ import annotations

from dataclasses import replace

from rebalancer_xl.core.household.accounts import (
    NamedRow,
    canonical,
    check_account_lots,
    parse_accounts,
    resolve_accounts,
)
from rebalancer_xl.core.model import CellRef, Holding, Where
from rebalancer_xl.core.parse import Locate, ParsedHoldings
from rebalancer_xl.core.problems import said
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Formula
from rebalancer_xl.workbook.inputs import BookInputs, find_table


def read_household(book: Book, out: BookInputs, parsed: ParsedHoldings, locate: Locate) -> None:
    """Set `out.accounts` and give every row its account's listed spelling; add the
    problems: a bad Accounts row, a row naming no account or an unknown one."""
    table = out.holdings_table
    assert table is not None
    listed = None
    sheet = book.get(S.ACCOUNTS)
    if sheet is not None:
        found = find_table(sheet, S.AccountsHeader.ACCOUNT)
        if found is None:
            out.problems.append(
                said(
                    "missing-column",
                    f"the Accounts sheet has no {S.AccountsHeader.ACCOUNT!r} header cell",
                    Where(S.ACCOUNTS, cell=CellRef(S.ACCOUNTS, "A1")),
                )
            )
            return
        accounts_table = found
        rows = [
            {h: _value(accounts_table.get(r, h)) for h in S.headers(S.ACCOUNTS_COLUMNS)}
            for r in range(accounts_table.first_row, accounts_table.last_row() + 1)
        ]

        def at(i: int, header: str) -> CellRef | None:
            if header not in accounts_table.columns:
                return CellRef(
                    S.ACCOUNTS, f"{accounts_table.header_row}:{accounts_table.header_row}"
                )
            return CellRef(S.ACCOUNTS, accounts_table.cell(accounts_table.first_row + i, header))

        parsed_accounts, problems = parse_accounts(rows, at)
        listed = parsed_accounts
        out.problems.extend(problems)
    if S.HoldingsHeader.ACCOUNT not in table.columns:
        out.problems.append(
            said(
                "missing-column",
                "the workbook has an Accounts sheet, so the Holdings table needs an "
                "'Account' column saying which account holds each row",
                Where(
                    S.HOLDINGS,
                    column=S.HoldingsHeader.ACCOUNT,
                    cell=CellRef(S.HOLDINGS, f"{table.header_row}:{table.header_row}"),
                ),
            )
        )
        return

    named = [
        NamedRow(
            r.account,
            r.holding.shares if r.holding is not None else None,
            Where(
                S.HOLDINGS,
                row=r.row,
                column=S.HoldingsHeader.ACCOUNT,
                ticker=r.ticker,
                cell=locate(r.row, S.HoldingsHeader.ACCOUNT),
            ),
        )
        for r in parsed.rows
    ]
    lots_sheet = book.get(S.LOTS)
    lots_table = find_table(lots_sheet, S.LotsHeader.TICKER) if lots_sheet is not None else None
    for lot in out.lots:
        cell = (
            lots_table.cell(lot.row, S.LotsHeader.ACCOUNT)
            if lots_table is not None and S.LotsHeader.ACCOUNT in lots_table.columns
            else f"{lot.row}:{lot.row}"
        )
        named.append(
            NamedRow(
                lot.account,
                lot.shares,
                Where(S.LOTS, ticker=lot.ticker, cell=CellRef(S.LOTS, cell)),
            )
        )
    accounts, problems = resolve_accounts(listed, named, out.settings.account_type)
    out.problems.extend(problems)
    if out.settings.withdrawal:
        out.problems.append(
            said(
                "household-withdrawal",
                "a Withdrawal in a household workbook is not planned yet (which account pays "
                "it?); sell by hand, or plan each account in its own workbook",
                Where("Settings", column="Withdrawal"),
            )
        )
    name = canonical(accounts)
    out.holdings = tuple(replace(h, account=name(h.account)) for h in out.holdings)
    out.lots = tuple(replace(lot, account=name(lot.account)) for lot in out.lots)
    if not any(p.where.sheet == S.LOTS and p.is_error for p in out.problems):
        # (a refused lot's shares are unknown: a total over the others would mislead)

        def at_lot(i: int) -> Where:
            lot = out.lots[i]
            cell = lots_table.cell(lot.row, S.LotsHeader.TICKER) if lots_table else ""
            return Where(S.LOTS, ticker=lot.ticker, cell=CellRef(S.LOTS, cell))

        def at_row(h: Holding) -> Where:
            cell = table.cell(table.first_row + h.row, S.HoldingsHeader.SHARES)
            return Where(S.HOLDINGS, ticker=h.ticker, cell=CellRef(S.HOLDINGS, cell))

        out.problems.extend(check_account_lots(out.lots, out.holdings, at_lot, at_row))
    out.past_trades = tuple(replace(t, account=name(t.account)) for t in out.past_trades)
    out.accounts = accounts


def _value(v: object) -> object:
    return v.cached if isinstance(v, Formula) else v

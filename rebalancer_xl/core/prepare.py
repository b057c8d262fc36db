"""One preparation of a plan's inputs, whichever way they came in.

The workbook reader and the API both hand their tables here as `Rows`: {header: value}
mappings keyed by the workbook's own headers, and where each row came from (a sheet's
cells for the workbook; for a DataFrame, its row counted as `df.iloc` does and its
column). `prepare_inputs` reads every table with the same row readers (`parse`, `past`,
`household.accounts`), runs the same checks across rows and tables, and returns the
engine's inputs with every problem found, located, in one pass. So the same bad lot,
History row or fill gets the same code through either way in; only where it is said to
be differs, in the terms of whoever gave the rows. Pure: no file, no library.

What stays with each reader is what only it can see: a workbook's grid (repeated
headers, merged cells, formulas with no calculated value, where a table ends) and the
API's Python types. Those problems ride along in `Rows.problems`, said before the rows'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

from rebalancer_xl.core.household.accounts import (
    NamedRow,
    canonical,
    check_account_lots,
    parse_accounts,
    resolve_accounts,
)
from rebalancer_xl.core.model import (
    Account,
    HistoryEntry,
    Holding,
    Lot,
    PastTrade,
    Problem,
    Severity,
    Where,
)
from rebalancer_xl.core.parse import (
    ACCOUNT,
    HOLDINGS,
    LOT_COLUMNS,
    LOTS,
    SHARES,
    TICKER,
    Locate,
    ParsedHoldings,
    check_lot_totals,
    parse_holdings,
    parse_lot,
    ticker_text,
    validate_parsed,
)
from rebalancer_xl.core.past import Fault, parse_fill, parse_history_row
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.settings import Settings, is_blank, parse_settings

_Mappings = Sequence[Mapping[str, object]]


@dataclass(frozen=True, slots=True)
class Rows:
    """One table's rows, and where each came from.

    `rows` are mappings keyed by the table's headers; History and Trades rows may also
    be `HistoryEntry` / `PastTrade` values, taken as they are. `cell(i, header)` is the
    cell of row `i` (0-based, in the order given) under `header`, or None where there
    are no cells (a DataFrame: the row and header are the location). `first_row` is the
    number a lot carries for row 0 (its sheet row, which `record` edits; 0 for the API).
    `problems` are those the reader found in getting the rows (a repeated header, an
    uncalculated formula, whose cell it gives as `parse.UNREAD`)."""

    sheet: str
    rows: Sequence[object]
    columns: Collection[str] | None = None  # the headers present; None: the first row's
    cell: Locate | None = None
    first_row: int = 0
    problems: Sequence[Problem] = ()

    def at(self, i: int, header: str, ticker: str | None = None) -> Where:
        cell = self.cell(i, header) if self.cell is not None else None
        return Where(self.sheet, row=i, column=header, ticker=ticker or None, cell=cell)

    def headers(self) -> set[str]:
        if self.columns is not None:
            return set(self.columns)
        first = self.rows[0] if self.rows else None
        return {str(k) for k in first} if isinstance(first, Mapping) else set()


@dataclass(frozen=True, slots=True)
class Prepared:
    """The engine's inputs, and every problem found in preparing them."""

    holdings: tuple[Holding, ...] = ()
    settings: Settings = field(default_factory=Settings)
    problems: tuple[Problem, ...] = ()
    lots: tuple[Lot, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    past_trades: tuple[PastTrade, ...] = ()
    accounts: tuple[Account, ...] | None = None  # a household's (SPEC §9); None: one account
    parsed: ParsedHoldings | None = None  # what each Holdings row gave, refused ones too

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def prepare_inputs(
    holdings: Rows | None,
    settings: Mapping[str, object] | None,
    *,
    locate_setting: Callable[[str], Where] | None = None,
    settings_refused: Sequence[Problem] = (),
    lots: Rows | None = None,
    history: Rows | None = None,
    fills: Sequence[Rows] = (),
    accounts: Rows | None = None,
) -> Prepared:
    """Parse and check every table in one pass. Bad cells do not stop the checks across
    rows (targets' sum, cap, Leftover To) nor the lots' totals, which run on what could
    be read; only the engine waits for input without errors.

    `settings_refused` are settings the reader could not give (set twice, uncalculated):
    refused like bad values, so the checks that use them stand down. Without `holdings`
    (no Holdings table) only the settings are read. `accounts` (the Accounts table) or
    an Account column makes the rows a household's (SPEC §9)."""
    parsed_settings, setting_problems = parse_settings(settings, locate_setting)
    refused = [*settings_refused, *setting_problems]
    problems = list(refused)
    if holdings is None:
        return Prepared(settings=parsed_settings, problems=tuple(problems))
    present = holdings.headers()
    # Holdings rows are always mappings (only History and Trades take values ready made).
    parsed = parse_holdings(cast(_Mappings, holdings.rows), present, holdings.cell)
    problems += holdings.problems
    problems += parsed.problems
    problems += validate_parsed(parsed, parsed_settings, refused, holdings.cell, locate_setting)
    lot_values, lot_problems = _lots(lots, parsed, holdings)
    problems += lot_problems
    history_values = _past(history, HistoryEntry, parse_history_row, problems)
    trades: list[PastTrade] = []
    for table in fills:
        trades += _past(table, PastTrade, parse_fill, problems)
    prepared = Prepared(
        parsed.holdings,
        parsed_settings,
        (),
        tuple(lot_values),
        tuple(history_values),
        tuple(trades),
        parsed=parsed,
    )
    if accounts is not None or ACCOUNT in present:
        prepared = _household(prepared, holdings, lots, accounts, problems)
    return replace(prepared, problems=tuple(problems))


def _lots(
    table: Rows | None, parsed: ParsedHoldings, holdings: Rows
) -> tuple[list[Lot], list[Problem]]:
    """The lots that could be read, each fault at its cell, and the check that a ticker's
    lots add up to its Holdings row. A row with none of the four lot cells is no lot."""
    if table is None:
        return [], []
    problems = list(table.problems)
    out: list[Lot] = []
    refused: set[str | None] = set()  # tickers of lots not read (None: no ticker)
    for i, row in enumerate(table.rows):
        assert isinstance(row, Mapping)
        values = {str(k): v for k, v in row.items()}
        if all(is_blank(values.get(h)) for h in LOT_COLUMNS):
            continue  # an Account typed alone is no lot either
        lot, faults = parse_lot(values, row=table.first_row + i)
        problems += [Problem(code, message, table.at(i, h)) for h, code, message in faults]
        if lot is None:
            refused.add(ticker_text(values.get(TICKER)) or None)
            continue
        account = values.get(ACCOUNT)
        out.append(replace(lot, account="" if is_blank(account) else str(account).strip()))

    def locate(ticker: str, i: int, holding: Holding | None) -> Where:
        # A total that does not match is the Holdings row's Shares (no one lot is wrong);
        # a ticker with no row is pointed at its first lot.
        if holding is None:
            return table.at(out[i].row - table.first_row, TICKER, ticker)
        return holdings.at(holding.row, SHARES, ticker)

    problems += check_lot_totals(out, parsed, locate, refused)
    return out, problems


T = TypeVar("T", HistoryEntry, PastTrade)


def _past(
    table: Rows | None,
    kind: type[T],
    parse: Callable[[Mapping[str, object]], tuple[T | None, list[Fault]]],
    problems: list[Problem],
) -> list[T]:
    """History entries or fills: values as given, rows through the one row reader; a row
    left out is a warning at its cell (the plan goes on without it)."""
    if table is None:
        return []
    problems += table.problems
    out: list[T] = []
    for i, row in enumerate(table.rows):
        if isinstance(row, kind):
            out.append(row)
            continue
        assert isinstance(row, Mapping)
        value, faults = parse({str(k): v for k, v in row.items()})
        problems += [
            Problem(f.code, f.message, table.at(i, f.header), Severity.WARNING) for f in faults
        ]
        if value is not None:
            out.append(value)
    return out


def _household(
    prepared: Prepared,
    holdings: Rows,
    lots: Rows | None,
    accounts: Rows | None,
    problems: list[Problem],
) -> Prepared:
    """A household's accounts (SPEC §9): every row given its account's listed spelling,
    and the problems: a bad Accounts row, a row naming no account or an unknown one, an
    account's lots not adding up to its row."""
    listed = None
    if accounts is not None:
        problems += accounts.problems
        if any(p.is_error for p in accounts.problems):
            return prepared  # an Accounts table with no header: every row would be "unknown"
        listed, found = parse_accounts(
            cast(_Mappings, accounts.rows), accounts.cell or (lambda i, header: None)
        )
        problems += found
    if ACCOUNT not in holdings.headers():
        problems.append(problem("missing-column", Where(HOLDINGS, column=ACCOUNT), "account"))
        return prepared
    parsed = prepared.parsed
    assert parsed is not None
    named = [
        NamedRow(
            r.account,
            r.holding.shares if r.holding is not None else None,
            holdings.at(r.row, ACCOUNT, r.ticker),
        )
        for r in parsed.rows
    ]
    first = lots.first_row if lots is not None else 0
    at_lot = lots.at if lots is not None else (lambda i, h, t=None: Where(LOTS, row=i, column=h))
    named += [
        NamedRow(lot.account, lot.shares, at_lot(lot.row - first, ACCOUNT, lot.ticker))
        for lot in prepared.lots
    ]
    found_accounts, found = resolve_accounts(listed, named, prepared.settings.account_type)
    problems += found
    if prepared.settings.withdrawal:
        problems.append(problem("household-withdrawal", Where("Settings", column="Withdrawal")))
    name = canonical(found_accounts)
    holdings_out = tuple(replace(h, account=name(h.account)) for h in prepared.holdings)
    lots_out = tuple(replace(lot, account=name(lot.account)) for lot in prepared.lots)
    if not any(p.where.sheet == LOTS and p.is_error for p in problems):
        # (a refused lot's shares are unknown: a total over the others would mislead)
        problems += check_account_lots(
            lots_out,
            holdings_out,
            lambda i: at_lot(lots_out[i].row - first, TICKER, lots_out[i].ticker),
            lambda h: holdings.at(h.row, SHARES, h.ticker),
        )
    return replace(
        prepared,
        holdings=holdings_out,
        lots=lots_out,
        past_trades=tuple(replace(t, account=name(t.account)) for t in prepared.past_trades),
        accounts=found_accounts,
    )


__all__ = ["Prepared", "Rows", "prepare_inputs"]

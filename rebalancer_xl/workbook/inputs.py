"""From a workbook's grid to the engine's inputs, with every problem located by cell.

Pure: it sees only a `Book` of values, never openpyxl or xlwings, so the Excel button
and the batch run read a workbook the same way. Columns are found by their header text;
formula columns (Current Value, % of Portfolio …) are never read: the engine computes
what it needs from the inputs, so a workbook no spreadsheet ever recalculated works
exactly like one saved by Excel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rebalancer_xl.core.model import (
    Account,
    CellRef,
    HistoryEntry,
    Holding,
    Lot,
    PastTrade,
    Problem,
    Where,
)
from rebalancer_xl.core.parse import (
    INPUT_COLUMNS,
    LAST_PRICE,
    REQUIRED_COLUMNS,
    UNREAD,
    Locate,
    ticker_text,
)
from rebalancer_xl.core.past import FILL_COLUMNS, HISTORY_DATE, PORTFOLIO_VALUE, RUN_TYPE
from rebalancer_xl.core.prepare import Rows, prepare_inputs
from rebalancer_xl.core.problems import problem
from rebalancer_xl.core.settings import BY_NAME, Settings, is_blank
from rebalancer_xl.core.values import excel_error
from rebalancer_xl.workbook import schema as S
from rebalancer_xl.workbook.grid import Book, Formula, Sheet, a1, column_letter

HEADER_SCAN_ROWS = 20  # a title or notes above the header row are fine
KNOWN_SETTINGS = frozenset(name.casefold() for name in BY_NAME)
_HOLDINGS_HEADERS = frozenset(S.headers(S.HOLDINGS_COLUMNS))
_HISTORY_READ = (HISTORY_DATE, PORTFOLIO_VALUE, RUN_TYPE)


@dataclass(frozen=True, slots=True)
class Table:
    """A header row found on a sheet: where it is and which column holds each header."""

    sheet: Sheet
    header_row: int
    columns: dict[str, int]  # header text -> 1-based column (its first, if repeated)
    repeats: tuple[tuple[str, int], ...] = ()  # (header, column) of each repetition

    # Found once, when the table is: a run asks for each table's last row a dozen times
    # (reading, checking, locating, rendering), and each asked scanned up from the end.
    _last: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_last", self._find_last_row())

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    def last_row(self) -> int:
        """The last row with anything in one of the table's columns."""
        return self._last

    def _find_last_row(self) -> int:
        cols = list(self.columns.values())
        first = min(cols, default=1)
        rows = self.sheet.rows
        for r in range(self.sheet.max_row, self.header_row, -1):
            row = rows[r - 1]
            width = len(row)
            if width < first:  # a short or empty row: nothing in the table's columns
                continue
            # The row's cells read directly (a cell past the row's end is blank), and an
            # empty cell or an uncalculated formula told blank without a call: this runs
            # over every trailing row of each table (Performance's 43 formula rows).
            for c in cols:
                if c > width:
                    continue
                value = row[c - 1]
                if isinstance(value, Formula):
                    value = value.cached
                if value is not None and not is_blank(value):
                    return r
        return self.header_row

    def cell(self, row: int, header: str) -> str:
        return a1(row, self.columns[header])

    def get(self, row: int, header: str) -> object:
        col = self.columns.get(header)
        return None if col is None else self.sheet.value(row, col)

    def plain_rows(self, headers: Iterable[str]) -> list[dict[str, object]]:
        """Each row of the table as {header: `_plain` value}: None for a header the
        table lacks or a cell past its row's end. One look at each row, not a `get` and
        a `_plain` call per cell (the names book's Lots, History, Accounts)."""
        wanted = [(h, self.columns.get(h)) for h in headers]
        rows = self.sheet.rows
        out: list[dict[str, object]] = []
        for r in range(self.first_row, self.last_row() + 1):
            cells = rows[r - 1]  # the last row is within the sheet, so every row is
            width = len(cells)
            row: dict[str, object] = {}
            for header, col in wanted:
                value = cells[col - 1] if col is not None and col <= width else None
                row[header] = value.cached if isinstance(value, Formula) else value
            out.append(row)
        return out


def find_table(sheet: Sheet, key: str) -> Table | None:
    """The first row (of the top 20) holding `key` as a cell; its cells name the columns."""
    for r in range(1, min(sheet.max_row, HEADER_SCAN_ROWS) + 1):
        row = sheet.rows[r - 1]
        texts = [v.strip() if isinstance(v, str) else None for v in row]
        if key in texts:
            columns: dict[str, int] = {}
            repeats: list[tuple[str, int]] = []
            for c, text in enumerate(texts, start=1):
                if text and text not in columns:
                    columns[text] = c
                elif text:
                    repeats.append((text, c))
            return Table(sheet, r, columns, tuple(repeats))
    return None


def _check_repeated_headers(table: Table, known: frozenset[str], problems: list[Problem]) -> None:
    """A header the run reads or writes, twice: which column is meant is anyone's guess
    (the reader would take the first and silently ignore the other)."""
    for header, col in table.repeats:
        if header in known:
            first = a1(table.header_row, table.columns[header])
            problems.append(
                _problem(
                    "duplicate-column",
                    table.sheet.name,
                    a1(table.header_row, col),
                    "sheet",
                    column=header,
                    name=header,
                    first=f"{table.sheet.name}!{first}",
                )
            )


def _plain(v: object) -> object:
    """A formula's cached value (the value a person sees), else the value itself."""
    return v.cached if isinstance(v, Formula) else v


@dataclass(slots=True)
class BookInputs:
    """Everything a run reads from a workbook, or the problems that stop it."""

    holdings: tuple[Holding, ...] = ()
    settings: Settings = field(default_factory=Settings)
    lots: tuple[Lot, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    past_trades: tuple[PastTrade, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    holdings_table: Table | None = None
    holding_rows: dict[str, int] = field(default_factory=dict)  # ticker -> Excel row
    notes: list[str] = field(default_factory=list)
    # Where a setting's Value cell is, for the engine's own problems about settings.
    locate_setting: Callable[[str], Where] | None = None
    accounts: tuple[Account, ...] | None = None  # a household's accounts (SPEC §9); else None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def _problem(
    code: str,
    sheet: str,
    cell: str = "",
    form: str = "",
    /,
    *,
    column: str | None = None,
    **values: object,
) -> Problem:
    """A problem at `cell` of `sheet` (and its `column`), worded by the catalogue."""
    return problem(code, Where(sheet, column=column, cell=CellRef(sheet, cell)), form, **values)


def read_inputs(book: Book) -> BookInputs:
    """Read Holdings, Settings, Performance, Lots, History and trade fills from `book`:
    this module turns the grid into rows located by cell, `core.prepare` reads and checks
    them as it does the API's."""
    out = BookInputs()
    holdings_sheet = book.get(S.HOLDINGS)
    settings_sheet = book.get(S.SETTINGS_SHEET)
    for name, sheet in ((S.HOLDINGS, holdings_sheet), (S.SETTINGS_SHEET, settings_sheet)):
        if sheet is None:
            out.problems.append(
                _problem(
                    "missing-sheet",
                    name,
                    "",
                    "workbook",
                    name=name,
                    sheets=", ".join(book.sheet_order) or "none",
                )
            )
    settings_raw, locate_setting, unread_settings = (
        _read_settings(settings_sheet, out) if settings_sheet else ({}, None, [])
    )
    out.locate_setting = locate_setting
    table = find_table(holdings_sheet, S.HoldingsHeader.TICKER) if holdings_sheet else None
    holdings = _holdings_rows(book, table) if table is not None else None
    prepared = prepare_inputs(
        holdings,
        settings_raw,
        locate_setting=locate_setting,
        # Settings the sheet could not give (repeated, uncalculated) are refused like bad
        # values: the checks that use them stand down rather than judge by a default.
        settings_refused=unread_settings,
        lots=_lots_rows(book.get(S.LOTS)),
        history=_history_rows(book.get(S.HISTORY)),
        fills=_fill_rows(book),
        accounts=_accounts_rows(book.get(S.ACCOUNTS)),
    )
    out.settings = prepared.settings
    if table is None:
        out.problems.extend(prepared.problems)
        if holdings_sheet is not None:
            out.problems.append(
                _problem(
                    "missing-column",
                    S.HOLDINGS,
                    "A1",
                    "no-header",
                    name=str(S.HoldingsHeader.TICKER),
                    rows=HEADER_SCAN_ROWS,
                )
            )
        return out
    out.holdings_table = table
    out.problems.extend(_on_sheet(p, table) for p in prepared.problems)
    out.holdings = prepared.holdings
    parsed = prepared.parsed
    assert parsed is not None
    out.holding_rows = {h.ticker: table.first_row + h.row for h in parsed.holdings}
    out.lots = prepared.lots
    out.history = prepared.history
    out.past_trades = prepared.past_trades
    out.accounts = prepared.accounts
    return out


def _holdings_rows(book: Book, table: Table) -> Rows:
    """The Holdings table's input cells as rows (with each ticker's Last Rebalance Price
    from Performance), and what the grid itself shows wrong: a repeated header, a missing
    output column, merged cells, a formula where a value must be typed."""
    grid: list[Problem] = []
    _check_repeated_headers(table, _HOLDINGS_HEADERS, grid)
    last_prices, price_cells = _read_performance(book.get(S.PERFORMANCE))
    _check_output_columns(table, grid)
    _check_merged(table, grid)

    first, last = table.first_row, table.last_row()
    rows: list[dict[str, object]] = []
    # Each input cell read straight from its row (a cell past the row's end is blank);
    # only a formula needs `_input_value`'s look. This runs on every input cell.
    columns = [(h, table.columns[h]) for h in INPUT_COLUMNS if h in table.columns]
    sheet_rows = table.sheet.rows
    for r in range(first, last + 1):
        cells = sheet_rows[r - 1] if r <= len(sheet_rows) else ()
        width = len(cells)
        row: dict[str, object] = {}
        for header, col in columns:
            value = cells[col - 1] if col <= width else None
            if isinstance(value, Formula):
                value = _input_value(table, r, header, grid)
            row[header] = value
        key = ticker_text(row.get(S.HoldingsHeader.TICKER))
        if key in last_prices:
            row[LAST_PRICE] = last_prices[key]
        rows.append(row)

    def locate(index: int, header: str) -> CellRef | None:
        if header == LAST_PRICE:
            ticker = ticker_text(rows[index].get(S.HoldingsHeader.TICKER))
            return CellRef(S.PERFORMANCE, price_cells.get(ticker, ""))
        if header not in table.columns:
            return CellRef(S.HOLDINGS, f"{table.header_row}:{table.header_row}")
        return CellRef(S.HOLDINGS, table.cell(first + index, header))

    return Rows(S.HOLDINGS, rows, table.columns.keys(), locate, first, grid)


def _on_sheet(p: Problem, table: Table) -> Problem:
    """A Holdings problem of a whole column, given its cells."""
    if p.where.sheet != S.HOLDINGS or p.where.cell is not None:
        return p
    return _header_problem(_locate_validation(p, table), table)


def _cells(table: Table) -> Locate:
    """Where row i (0-based) of a table is under a header: its cell, or the whole row
    when the sheet has no such column."""

    def cell(i: int, header: str) -> CellRef:
        r = table.first_row + i
        at = table.cell(r, header) if header in table.columns else f"{r}:{r}"
        return CellRef(table.sheet.name, at)

    return cell


def _header_problem(p: Problem, table: Table) -> Problem:
    if p.code == "missing-column" and p.where.cell is None:
        return Problem(
            p.code,
            p.message,
            Where(
                S.HOLDINGS,
                column=p.where.column,
                cell=CellRef(S.HOLDINGS, f"{table.header_row}:{table.header_row}"),
            ),
        )
    return p


def _locate_validation(p: Problem, table: Table) -> Problem:
    """Give a whole-table problem (targets not adding up) its column's cells."""
    if p.where.cell is None and p.where.sheet == S.HOLDINGS and p.where.column:
        col = table.columns.get(p.where.column)
        if col is not None:
            letter = column_letter(col)
            rng = f"{letter}{table.first_row}:{letter}{table.last_row()}"
            return Problem(
                p.code,
                p.message,
                Where(S.HOLDINGS, column=p.where.column, cell=CellRef(S.HOLDINGS, rng)),
                p.severity,
            )
    return p


def _input_value(table: Table, row: int, header: str, problems: list[Problem]) -> object:
    """The cell's value for the parser; `UNREAD` for a cell reported here already, which
    the parser then takes as unknown (not blank) and does not report a second time."""
    value = table.get(row, header)
    if isinstance(value, Formula) and header == S.HoldingsHeader.TICKER:
        # A ticker names the position in every sheet and log: it must be typed, so that a
        # saved and an uncalculated copy of the same book plan the same positions.
        problems.append(
            _problem(
                "formula-in-ticker", S.HOLDINGS, table.cell(row, header), formula=value.text[:60]
            )
        )
        return UNREAD
    if isinstance(value, Formula):
        if is_blank(value.cached) or excel_error(value.cached):
            problems.append(
                _problem(
                    "formula-not-calculated",
                    S.HOLDINGS,
                    table.cell(row, header),
                    what=header,
                    formula=value.text[:60],
                )
            )
            return UNREAD
        return value.cached
    return value


def _check_output_columns(table: Table, problems: list[Problem]) -> None:
    for col in S.HOLDINGS_COLUMNS:
        if col.kind is S.Kind.OUTPUT and col.header not in table.columns:
            problems.append(
                _problem(
                    "missing-column",
                    S.HOLDINGS,
                    f"{table.header_row}:{table.header_row}",
                    "output",
                    column=col.header,
                    name=col.header,
                )
            )


def _check_merged(table: Table, problems: list[Problem]) -> None:
    last = table.last_row()
    cols = table.columns.values()
    lo, hi = min(cols), max(cols)
    for r1, c1, r2, c2 in table.sheet.merged:
        if r2 >= table.header_row and r1 <= last and c2 >= lo and c1 <= hi:
            problems.append(
                _problem(
                    "merged-cells",
                    S.HOLDINGS,
                    f"{a1(r1, c1)}:{a1(r2, c2)}",
                    cells=f"{a1(r1, c1)}:{a1(r2, c2)}",
                )
            )


def _read_settings(
    sheet: Sheet, out: BookInputs
) -> tuple[dict[str, object], Callable[[str], Where], list[Problem]]:
    """The settings by name, where each is, and the problems of reading them: a setting
    given twice, or as a formula with no calculated value (its default would stand in
    for what the user meant)."""
    table = find_table(sheet, S.SettingsHeader.SETTING)
    raw: dict[str, object] = {}
    # The row each setting is given on, by its name casefolded: its cells are spelled out
    # only when a problem or `locate` names one (most runs name none of them).
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    if table is None or S.SettingsHeader.VALUE not in table.columns:
        out.problems.append(_problem("missing-column", S.SETTINGS_SHEET, "A1", "settings-header"))
        return raw, lambda name: Where(S.SETTINGS_SHEET, column=name), problems
    _check_repeated_headers(
        table, frozenset((S.SettingsHeader.SETTING, S.SettingsHeader.VALUE)), out.problems
    )
    for r in range(table.first_row, table.last_row() + 1):
        name = _plain(table.get(r, S.SettingsHeader.SETTING))
        if is_blank(name):
            continue
        key = str(name).strip()
        folded = key.casefold()
        spec = BY_NAME.get(key) or next(
            (v for k, v in BY_NAME.items() if k.casefold() == folded), None
        )
        label = spec.name if spec else key
        if folded in rows:
            first = table.cell(rows[folded], S.SettingsHeader.VALUE)
            problems.append(
                _problem(
                    "duplicate-setting",
                    S.SETTINGS_SHEET,
                    table.cell(r, S.SettingsHeader.VALUE),
                    column=label,
                    name=label,
                    first=f"{S.SETTINGS_SHEET}!{first}",
                )
            )
            # Neither value stands: the first is no more the one meant than the second.
            for k in [k for k in raw if k.casefold() == folded]:
                del raw[k]
            continue
        rows[folded] = r
        value = table.get(r, S.SettingsHeader.VALUE)
        if isinstance(value, Formula):
            if (is_blank(value.cached) or excel_error(value.cached)) and spec is not None:
                problems.append(
                    _problem(
                        "formula-not-calculated",
                        S.SETTINGS_SHEET,
                        table.cell(r, S.SettingsHeader.VALUE),
                        column=label,
                        what=label,
                        formula=value.text[:60],
                    )
                )
                continue
            value = value.cached
        raw[key] = value

    def locate(name: str) -> Where:
        key = name.strip().casefold()
        row = rows.get(key)
        # An unknown setting's fault is its name (a typo), not its value.
        header = S.SettingsHeader.VALUE if key in KNOWN_SETTINGS else S.SettingsHeader.SETTING
        cell = "" if row is None else table.cell(row, header)
        return Where(S.SETTINGS_SHEET, column=name, cell=CellRef(S.SETTINGS_SHEET, cell))

    return raw, locate, problems


def _read_performance(sheet: Sheet | None) -> tuple[dict[str, object], dict[str, str]]:
    prices: dict[str, object] = {}
    cells: dict[str, str] = {}
    if sheet is None:
        return prices, cells
    table = find_table(sheet, S.PerformanceHeader.TICKER)
    if table is None or S.PerformanceHeader.LAST_PRICE not in table.columns:
        return prices, cells
    for r in range(table.first_row, table.last_row() + 1):
        ticker = _plain(table.get(r, S.PerformanceHeader.TICKER))
        price = _plain(table.get(r, S.PerformanceHeader.LAST_PRICE))
        if is_blank(ticker) or is_blank(price):
            continue
        key = ticker_text(ticker)
        prices[key] = price
        cells[key] = table.cell(r, S.PerformanceHeader.LAST_PRICE)
    return prices, cells


def _lots_rows(sheet: Sheet | None) -> Rows | None:
    if sheet is None:
        return None
    table = find_table(sheet, S.LotsHeader.TICKER)
    if table is None:
        return None
    headers = (*S.headers(S.LOTS_COLUMNS), S.LotsHeader.ACCOUNT)
    rows = table.plain_rows(headers)
    # A lot carries its sheet row: `record` edits the lots it sells from in place.
    return Rows(S.LOTS, rows, table.columns.keys(), _cells(table), table.first_row)


def _history_rows(sheet: Sheet | None) -> Rows | None:
    if sheet is None:
        return None
    table = find_table(sheet, S.HistoryHeader.DATE)
    if table is None or S.HistoryHeader.VALUE not in table.columns:
        return None
    rows = table.plain_rows(_HISTORY_READ)
    return Rows(S.HISTORY, rows, table.columns.keys(), _cells(table))


def _fill_rows(book: Book) -> list[Rows]:
    """Trades actually made: filled rows of the Trades sheet and of every Log's archive,
    one block of rows per header row, each ending at its first blank Side.

    A fill typed as a formula counts by its calculated value; one with none is a
    problem at its cell, as in Holdings: read as "not filled" it would hide a sale
    from the wash-sale check."""
    out: list[Rows] = []
    sheets = [book.get(S.TRADES)] + [
        book.get(n) for n in book.sheet_order if S.log_date(n) is not None
    ]
    for sheet in sheets:
        if sheet is None:
            continue
        for table in _fill_tables(sheet):
            rows: list[dict[str, object]] = []
            problems: list[Problem] = []
            for r in range(table.first_row, table.last_row() + 1):
                if is_blank(_plain(table.get(r, S.TradesHeader.SIDE))):
                    break  # the end of this block
                row: dict[str, object] = {h: _plain(table.get(r, h)) for h in FILL_COLUMNS}
                for h in (S.TradesHeader.FILLED_SHARES, S.TradesHeader.DATE):
                    formula = table.get(r, h)
                    if not _uncalculated(formula):
                        continue
                    assert isinstance(formula, Formula)
                    problems.append(
                        _problem(
                            "formula-not-calculated",
                            sheet.name,
                            table.cell(r, h),
                            what=h,
                            formula=formula.text[:60],
                        )
                    )
                    row[h] = UNREAD
                rows.append(row)
            out.append(Rows(sheet.name, rows, table.columns.keys(), _cells(table), 0, problems))
    return out


def _accounts_rows(sheet: Sheet | None) -> Rows | None:
    """A household's Accounts sheet as rows; a sheet with no header row is one problem."""
    if sheet is None:
        return None
    table = find_table(sheet, S.AccountsHeader.ACCOUNT)
    if table is None:
        no_header = _problem(
            "missing-column",
            S.ACCOUNTS,
            "A1",
            "accounts-header",
            name=str(S.AccountsHeader.ACCOUNT),
        )
        return Rows(S.ACCOUNTS, [], problems=[no_header])
    rows = table.plain_rows(S.headers(S.ACCOUNTS_COLUMNS))

    def at(i: int, header: str) -> CellRef:
        if header not in table.columns:
            return CellRef(S.ACCOUNTS, f"{table.header_row}:{table.header_row}")
        return CellRef(S.ACCOUNTS, table.cell(table.first_row + i, header))

    return Rows(S.ACCOUNTS, rows, table.columns.keys(), at)


def _uncalculated(value: object) -> bool:
    return isinstance(value, Formula) and (
        is_blank(value.cached) or bool(excel_error(value.cached))
    )


def _fill_tables(sheet: Sheet) -> list[Table]:
    """Every header row on the sheet that has Side, Ticker, Filled Shares and Date."""
    tables = []
    need = (
        S.TradesHeader.SIDE,
        S.TradesHeader.TICKER,
        S.TradesHeader.FILLED_SHARES,
        S.TradesHeader.DATE,
    )
    for r, row in enumerate(sheet.rows, start=1):
        texts = {v.strip(): c for c, v in enumerate(row, start=1) if isinstance(v, str)}
        if all(h in texts for h in need):
            tables.append(Table(sheet, r, texts))
    return tables


__all__ = ["REQUIRED_COLUMNS", "BookInputs", "Table", "find_table", "read_inputs"]

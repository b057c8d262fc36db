"""The workbook contract in code: sheet names, header texts, column kinds and looks.

Everything that reads or writes the workbook takes names from here, so a header is
spelled in one place. Code finds a column by its header text in row 1, never by its
letter: users may reorder columns, insert their own and add rows. The tuples below give
the order the template lays columns out in, nothing more.

This module imports no openpyxl: colours are hex strings, formats are Excel codes.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from rebalancer_xl.core import parse as _parse
from rebalancer_xl.core import past as _past
from rebalancer_xl.core import settings as _settings
from rebalancer_xl.core.household import accounts as _accounts

# --- Sheet names -------------------------------------------------------------------

DASHBOARD = "Dashboard"
HOLDINGS = _parse.HOLDINGS  # the sheet names the core's problems name are the core's
SETTINGS_SHEET = _settings.SHEET  # "Settings"; settings.py owns the name for its parser
PERFORMANCE = "Performance"
TRADES = _past.TRADES
LOTS = _parse.LOTS
HISTORY = _past.HISTORY
CHECKLIST = "Checklist"
ACCOUNTS = _accounts.ACCOUNTS  # optional: a household's accounts (SPEC §9)
LOG_PREFIX = "Log "

#: The order the template creates sheets in; run logs are appended after these.
SHEET_ORDER: tuple[str, ...] = (
    DASHBOARD,
    HOLDINGS,
    SETTINGS_SHEET,
    PERFORMANCE,
    TRADES,
    LOTS,
    HISTORY,
    CHECKLIST,
)

#: The Excel table that holds the Holdings rows. A table named like its sheet is legal
#: in Excel, but structured references such as `Holdings[Shares]` would then read like
#: a sheet reference to people, so the table gets its own name.
HOLDINGS_TABLE = "tblHoldings"

#: Sheets a run reads. Log sheets are read too (for past fills); others are left alone.
READ_SHEETS: tuple[str, ...] = (
    HOLDINGS,
    SETTINGS_SHEET,
    PERFORMANCE,
    LOTS,
    HISTORY,
    TRADES,
    CHECKLIST,
    ACCOUNTS,
)

_LOG_NAME = re.compile(r"^Log (\d{4}-\d{2}-\d{2})$")


def log_sheet_name(d: date) -> str:
    """The sheet that logs the run of date `d`: 'Log 2026-12-31'."""
    return f"{LOG_PREFIX}{d.isoformat()}"


def log_date(sheet_name: str) -> date | None:
    """The run date of a log sheet name, or None if the name is not a log sheet."""
    match = _LOG_NAME.match(sheet_name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


# --- Number formats ----------------------------------------------------------------

MONEY = "$#,##0.00"
PERCENT = "0.00%"
#: Drift and returns read better with an explicit sign: +7.50% over, -3.00% under.
SIGNED_PERCENT = "+0.00%;-0.00%;0.00%"
DATE = "yyyy-mm-dd"
SCORE = "0.0"
COUNT = "0"
#: Shares may be fractional; General shows 250 as 250 and 12.5 as 12.5 without padding.
GENERAL = "General"


# --- Columns -----------------------------------------------------------------------


class Kind(enum.Enum):
    """Who fills a column; the template colours each kind differently."""

    INPUT = "input"  # typed by the user
    FORMULA = "formula"  # a live Excel formula; do not overwrite
    OUTPUT = "output"  # written by each run
    LABEL = "label"  # fixed text the template writes (setting names, checklist steps)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a tabular sheet: header text, who fills it, and how it looks."""

    header: str
    kind: Kind
    number_format: str
    width: float
    note: str

    def __post_init__(self) -> None:
        # Headers are given as StrEnum members; keep the plain text so the value
        # writes, compares and prints as the header itself.
        object.__setattr__(self, "header", str(self.header))


#: Header fill (dark, white text) and body fill (light) per kind, as RGB hex.
HEADER_FILL: dict[Kind, str] = {
    Kind.INPUT: "BF8F00",
    Kind.FORMULA: "548235",
    Kind.OUTPUT: "2F5597",
    Kind.LABEL: "595959",
}
BODY_FILL: dict[Kind, str] = {
    Kind.INPUT: "FFF2CC",
    Kind.FORMULA: "E2EFDA",
    Kind.OUTPUT: "DDEBF7",
    Kind.LABEL: "F2F2F2",
}
#: What each kind means, for the colour legend.
KIND_LEGEND: dict[Kind, str] = {
    Kind.INPUT: "Input: you type these",
    Kind.FORMULA: "Formula: Excel keeps these up to date; do not type over them",
    Kind.OUTPUT: "Output: each rebalancing run writes these",
    Kind.LABEL: "Label: fixed text from the template",
}


class HoldingsHeader(enum.StrEnum):
    # The columns the core reads and the API returns are named in `parse` (the parser
    # and the API use them there); the sheet takes the same names. The rest are the
    # sheet's own formula columns.
    TICKER = _parse.TICKER
    PURCHASE_PRICE = _parse.PURCHASE_PRICE
    CURRENT_PRICE = _parse.CURRENT_PRICE
    SHARES = _parse.SHARES
    CURRENT_VALUE = "Current Value"
    WEIGHT = "% of Portfolio"
    TARGET = _parse.TARGET
    DRIFT = "Drift"
    SCORE = _parse.SCORE
    PREVIOUS_SCORE = _parse.PREVIOUS_SCORE
    TIER = "Tier"
    EXIT_TRIGGERS = _parse.EXIT_TRIGGERS
    COMPANY_EVENT = _parse.COMPANY_EVENT
    LOCK = _parse.LOCK
    ACTION = _parse.ACTION
    AMOUNT = _parse.AMOUNT
    SHARES_TO_TRADE = _parse.SHARES_TO_TRADE
    POST_TRADE = _parse.POST_TRADE
    RULE = _parse.RULE
    REASON = _parse.REASON
    FLAGS = _parse.FLAGS
    ACCOUNT = _parse.ACCOUNT  # only in a household workbook (SPEC §9)


_H = HoldingsHeader
HOLDINGS_COLUMNS: tuple[Column, ...] = (
    Column(_H.TICKER, Kind.INPUT, GENERAL, 10, "The symbol. Use CASH for the cash row."),
    Column(_H.PURCHASE_PRICE, Kind.INPUT, MONEY, 13, "Average cost per share you paid. CASH: 1."),
    Column(_H.CURRENT_PRICE, Kind.INPUT, MONEY, 13, "Today's price per share. CASH: 1."),
    Column(_H.SHARES, Kind.INPUT, GENERAL, 10, "Shares held. On the CASH row, the cash balance."),
    Column(_H.CURRENT_VALUE, Kind.FORMULA, MONEY, 14, "Shares × Current Price (formula)."),
    Column(
        _H.WEIGHT,
        Kind.FORMULA,
        PERCENT,
        11,
        "This row's share of the whole portfolio, cash included (formula).",
    ),
    Column(
        _H.TARGET,
        Kind.INPUT,
        PERCENT,
        10,
        "The weight you want, e.g. 30%. All targets, cash included, add up to 100%.",
    ),
    Column(
        _H.DRIFT,
        Kind.FORMULA,
        SIGNED_PERCENT,
        10,
        "% of Portfolio − Target %. Amber at the Band, red at the Outer Band (formula).",
    ),
    Column(
        _H.SCORE,
        Kind.INPUT,
        SCORE,
        9,
        "Conviction score 0–100 this quarter. Leave blank for index or bond funds.",
    ),
    Column(
        _H.PREVIOUS_SCORE,
        Kind.INPUT,
        SCORE,
        10,
        "The score at the last rebalance, to spot tier drops.",
    ),
    Column(
        _H.TIER,
        Kind.FORMULA,
        GENERAL,
        12,
        "Tier of the score: Exceptional ≥ 75, Very Strong ≥ 65, Strong ≥ 50, "
        "Moderate ≥ 35, else Weak (formula).",
    ),
    Column(
        _H.EXIT_TRIGGERS,
        Kind.INPUT,
        COUNT,
        12,
        "How many of this position's exit triggers fired this quarter (0 if none).",
    ),
    Column(
        _H.COMPANY_EVENT,
        Kind.INPUT,
        GENERAL,
        10,
        "Yes if the company had an acquisition, scandal, CEO exit or product failure.",
    ),
    Column(_H.LOCK, Kind.INPUT, GENERAL, 8, "Yes to stop the run from trading this row."),
    Column(
        _H.ACTION, Kind.OUTPUT, GENERAL, 9, "What the run proposes: HOLD, TRIM, SELL, ADD or BUY."
    ),
    Column(
        _H.AMOUNT, Kind.OUTPUT, MONEY, 13, "Money value of the proposed trade (always positive)."
    ),
    Column(
        _H.SHARES_TO_TRADE, Kind.OUTPUT, GENERAL, 10, "Shares to buy or sell (always positive)."
    ),
    Column(
        _H.POST_TRADE,
        Kind.OUTPUT,
        PERCENT,
        11,
        "This row's weight once every proposed trade is done.",
    ),
    Column(
        _H.RULE,
        Kind.OUTPUT,
        GENERAL,
        18,
        "The rule that decided, e.g. Rule 1 (40% cap) or Hybrid band.",
    ),
    Column(_H.REASON, Kind.OUTPUT, GENERAL, 48, "One line with the numbers behind the decision."),
    Column(
        _H.FLAGS,
        Kind.OUTPUT,
        GENERAL,
        14,
        "URGENT, MONITOR, REVIEW, WASH-SALE or UPGRADE when they apply.",
    ),
)


class SettingsHeader(enum.StrEnum):
    SETTING = "Setting"
    VALUE = "Value"
    HELP = "What it means"


SETTINGS_COLUMNS: tuple[Column, ...] = (
    Column(
        SettingsHeader.SETTING,
        Kind.LABEL,
        GENERAL,
        28,
        "The setting's name. Do not rename: the run finds settings by name.",
    ),
    Column(
        SettingsHeader.VALUE,
        Kind.INPUT,
        GENERAL,
        16,
        "Your value. Leave blank to use the default shown in the template.",
    ),
    Column(SettingsHeader.HELP, Kind.LABEL, GENERAL, 80, "What the setting does."),
)


class PerformanceHeader(enum.StrEnum):
    # The core reads Last Rebalance Price beside each Holdings row (parse.LAST_PRICE).
    TICKER = _parse.TICKER
    LAST_PRICE = _parse.LAST_PRICE
    CURRENT_PRICE = _parse.CURRENT_PRICE
    RETURN = "Quarterly Return"
    LAST_WEIGHT = "Weight at Last Rebalance"
    CONTRIBUTION = "Contribution"
    CLASS = "Class"


_P = PerformanceHeader
PERFORMANCE_COLUMNS: tuple[Column, ...] = (
    Column(_P.TICKER, Kind.INPUT, GENERAL, 10, "A ticker from Holdings."),
    Column(_P.LAST_PRICE, Kind.INPUT, MONEY, 14, "The price at the last rebalance."),
    Column(
        _P.CURRENT_PRICE, Kind.FORMULA, MONEY, 13, "Looked up from Holdings by ticker (formula)."
    ),
    Column(
        _P.RETURN,
        Kind.FORMULA,
        SIGNED_PERCENT,
        12,
        "Current Price ÷ Last Rebalance Price − 1 (formula).",
    ),
    Column(
        _P.LAST_WEIGHT,
        Kind.FORMULA,
        PERCENT,
        14,
        "Weight at last rebalance prices: Holdings shares × Last Rebalance Price, "
        "over the total (formula).",
    ),
    Column(
        _P.CONTRIBUTION,
        Kind.FORMULA,
        SIGNED_PERCENT,
        13,
        "Weight at Last Rebalance × Quarterly Return: this row's part of the "
        "portfolio's return (formula).",
    ),
    Column(
        _P.CLASS,
        Kind.FORMULA,
        GENERAL,
        10,
        "Winner at +20% or more, Laggard below −10%, In-line between (formula).",
    ),
)


class LotsHeader(enum.StrEnum):
    # The core reads a lot under these names (parse.LOT_COLUMNS): one definition.
    TICKER = _parse.TICKER
    ACQUIRED = _parse.ACQUIRED
    SHARES = _parse.SHARES
    COST = _parse.COST_PER_SHARE
    ACCOUNT = _parse.ACCOUNT  # only in a household workbook


LOTS_COLUMNS: tuple[Column, ...] = (
    Column(LotsHeader.TICKER, Kind.INPUT, GENERAL, 10, "The ticker this tax lot belongs to."),
    Column(
        LotsHeader.ACQUIRED,
        Kind.INPUT,
        DATE,
        12,
        "The day the lot was bought; held more than a year is long-term.",
    ),
    Column(LotsHeader.SHARES, Kind.INPUT, GENERAL, 10, "Shares still held from this lot."),
    Column(LotsHeader.COST, Kind.INPUT, MONEY, 14, "What each share of this lot cost."),
)


class TradesHeader(enum.StrEnum):
    # The core reads a fill under its own names (core/past.py): one definition.
    SIDE = _past.SIDE
    TICKER = _parse.TICKER
    SHARES = "Shares"
    LIMIT_PRICE = _past.LIMIT_PRICE
    EST_AMOUNT = "Est. Amount"
    RULE = "Rule"
    LOTS_USED = "Lots Used"
    FILLED_SHARES = _past.FILLED_SHARES
    FILL_PRICE = _past.FILL_PRICE
    DATE = _past.FILL_DATE
    COMMISSION = "Commission"
    PLANNED_DATE = "Planned Date"
    APPLIED = "Applied"
    ACCOUNT = _parse.ACCOUNT  # only in a household workbook: where the order is placed


_T = TradesHeader
TRADES_COLUMNS: tuple[Column, ...] = (
    Column(
        _T.SIDE,
        Kind.OUTPUT,
        GENERAL,
        7,
        "SELL or BUY. Sells are listed first: place them first to raise the cash.",
    ),
    Column(_T.TICKER, Kind.OUTPUT, GENERAL, 10, "The ticker to trade."),
    Column(_T.SHARES, Kind.OUTPUT, GENERAL, 10, "Shares to trade."),
    Column(
        _T.LIMIT_PRICE,
        Kind.OUTPUT,
        MONEY,
        12,
        "The order's limit: the price the plan assumed, moved by the Limit Offset setting "
        "(sells above it, buys below it).",
    ),
    Column(_T.EST_AMOUNT, Kind.OUTPUT, MONEY, 13, "Shares × the price the plan assumed."),
    Column(_T.RULE, Kind.OUTPUT, GENERAL, 18, "The rule behind the trade."),
    Column(
        _T.LOTS_USED,
        Kind.OUTPUT,
        GENERAL,
        30,
        "For sales in a taxable account: which tax lots the shares come from.",
    ),
    Column(
        _T.FILLED_SHARES, Kind.INPUT, GENERAL, 12, "Fill in after trading: shares actually traded."
    ),
    Column(
        _T.FILL_PRICE, Kind.INPUT, MONEY, 12, "Fill in after trading: the average price you got."
    ),
    Column(
        _T.DATE,
        Kind.INPUT,
        DATE,
        12,
        "Fill in after trading: the day of the fill (used for wash-sale checks).",
    ),
    Column(
        _T.COMMISSION,
        Kind.INPUT,
        MONEY,
        12,
        "Optional, after trading: the fee the broker charged; `record` takes it from cash.",
    ),
    Column(
        _T.PLANNED_DATE,
        Kind.OUTPUT,
        DATE,
        12,
        "When to place the order: the run date, or a later week for a staged buy.",
    ),
    Column(
        _T.APPLIED,
        Kind.OUTPUT,
        DATE,
        11,
        "The day `rebalancer-xl record` carried this fill into Holdings and Lots.",
    ),
)


class HistoryHeader(enum.StrEnum):
    # The core reads a History row under its own names (core/past.py): one definition.
    DATE = _past.HISTORY_DATE
    VALUE = _past.PORTFOLIO_VALUE
    RETURN = "Quarter Return"
    STRATEGY = "Strategy"
    TRADES = "Trades"
    TURNOVER = "Turnover"
    NEXT_DATE = "Next Rebalance Date"
    RUN_TYPE = _past.RUN_TYPE


#: Values of the History sheet's Run Type column (defined with the core's reading of them).
RUN_FULL = _past.RUN_FULL
RUN_EMERGENCY = _past.RUN_EMERGENCY
RUN_RECORD = _past.RUN_RECORD
RUN_CHECK = _past.RUN_CHECK
SNAPSHOT_RUN_TYPES = _past.SNAPSHOT_RUN_TYPES

_Y = HistoryHeader
HISTORY_COLUMNS: tuple[Column, ...] = (
    Column(
        _Y.DATE,
        Kind.OUTPUT,
        DATE,
        12,
        "The run date. A second run on the same date replaces its row.",
    ),
    Column(_Y.VALUE, Kind.OUTPUT, MONEY, 15, "Portfolio value on that date, cash included."),
    Column(_Y.RETURN, Kind.OUTPUT, SIGNED_PERCENT, 12, "Change in value since the previous row."),
    Column(_Y.STRATEGY, Kind.OUTPUT, GENERAL, 11, "The drift strategy the run used."),
    Column(_Y.TRADES, Kind.OUTPUT, COUNT, 8, "How many orders the run proposed."),
    Column(_Y.TURNOVER, Kind.OUTPUT, PERCENT, 10, "(Buys + sells) ÷ 2 ÷ portfolio value."),
    Column(_Y.NEXT_DATE, Kind.OUTPUT, DATE, 17, "When the next rebalance is due."),
    Column(
        _Y.RUN_TYPE,
        Kind.OUTPUT,
        GENERAL,
        11,
        "Full, or Emergency when the run came too soon after the last rebalance; "
        "Record and Check rows are snapshots from recording fills and between-quarter checks.",
    ),
)


class ChecklistHeader(enum.StrEnum):
    KEY = "Key"
    PHASE = "Phase"
    STEP = "Step"
    DONE = "Done"
    NOTE = "Note"


#: What the run (or the user) writes in the Done column.
DONE = "Yes"

CHECKLIST_COLUMNS: tuple[Column, ...] = (
    Column(
        ChecklistHeader.KEY,
        Kind.LABEL,
        GENERAL,
        24,
        "A fixed key the run uses to find a step; do not edit.",
    ),
    Column(
        ChecklistHeader.PHASE,
        Kind.LABEL,
        GENERAL,
        14,
        "Analysis, Decision, Execution or Documentation.",
    ),
    Column(ChecklistHeader.STEP, Kind.LABEL, GENERAL, 70, "What to do."),
    Column(
        ChecklistHeader.DONE,
        Kind.INPUT,
        GENERAL,
        8,
        "Yes when done. The run ticks the steps it did itself.",
    ),
    Column(ChecklistHeader.NOTE, Kind.OUTPUT, GENERAL, 40, "Who ticked the step and when."),
)


class LogHeader(enum.StrEnum):
    """Headers of the holdings analysis table on a 'Log YYYY-MM-DD' sheet."""

    # The columns a Log shares with Holdings carry Holdings' names.
    TICKER = _parse.TICKER
    CURRENT_VALUE = "Current Value"
    CURRENT_WEIGHT = "Current %"
    TARGET = _parse.TARGET
    DRIFT = "Drift"
    ACTION = _parse.ACTION
    AMOUNT = _parse.AMOUNT


_L = LogHeader
LOG_ANALYSIS_COLUMNS: tuple[Column, ...] = (
    Column(_L.TICKER, Kind.OUTPUT, GENERAL, 10, "The position."),
    Column(_L.CURRENT_VALUE, Kind.OUTPUT, MONEY, 14, "Value before trading."),
    Column(_L.CURRENT_WEIGHT, Kind.OUTPUT, PERCENT, 10, "Weight before trading."),
    Column(_L.TARGET, Kind.OUTPUT, PERCENT, 10, "Target weight."),
    Column(_L.DRIFT, Kind.OUTPUT, SIGNED_PERCENT, 10, "Current % − Target %."),
    Column(_L.ACTION, Kind.OUTPUT, GENERAL, 9, "What the run decided."),
    Column(_L.AMOUNT, Kind.OUTPUT, MONEY, 13, "Money value of the trade."),
)


class AccountsHeader(enum.StrEnum):
    # household.accounts owns the names for its parser, as settings.py does for Settings.
    ACCOUNT = _accounts.NAME
    TYPE = _accounts.TYPE
    NOTE = _accounts.NOTE


ACCOUNTS_COLUMNS: tuple[Column, ...] = (
    Column(
        AccountsHeader.ACCOUNT,
        Kind.INPUT,
        GENERAL,
        14,
        "The account's name, as the Account column of Holdings, Lots and Trades writes it.",
    ),
    Column(
        AccountsHeader.TYPE,
        Kind.INPUT,
        GENERAL,
        12,
        "Taxable, Retirement (IRA, 401(k)) or Roth. Sells go to Retirement and Roth first.",
    ),
    Column(AccountsHeader.NOTE, Kind.INPUT, GENERAL, 30, "Anything you want to remember."),
)

#: A household workbook's extra columns (SPEC §9), added after the others.
HOUSEHOLD_HOLDINGS_COLUMN = Column(
    HoldingsHeader.ACCOUNT,
    Kind.INPUT,
    GENERAL,
    12,
    "The account holding this row (see the Accounts sheet). A ticker may have a row in "
    "each account; give its Target % on one of them.",
)
HOUSEHOLD_LOTS_COLUMN = Column(
    LotsHeader.ACCOUNT, Kind.INPUT, GENERAL, 12, "The account holding this lot."
)
HOUSEHOLD_TRADES_COLUMN = Column(
    TradesHeader.ACCOUNT, Kind.OUTPUT, GENERAL, 12, "The account to place the order in."
)

#: The tabular sheets and their columns, in template order.
COLUMNS: dict[str, tuple[Column, ...]] = {
    HOLDINGS: HOLDINGS_COLUMNS,
    SETTINGS_SHEET: SETTINGS_COLUMNS,
    PERFORMANCE: PERFORMANCE_COLUMNS,
    TRADES: TRADES_COLUMNS,
    LOTS: LOTS_COLUMNS,
    HISTORY: HISTORY_COLUMNS,
    CHECKLIST: CHECKLIST_COLUMNS,
}


def headers(columns: tuple[Column, ...]) -> tuple[str, ...]:
    """The header texts of `columns`, in order."""
    return tuple(str(c.header) for c in columns)


def column(columns: tuple[Column, ...], header: str) -> Column:
    """The column of `columns` with this header text (exact match); KeyError if none."""
    for c in columns:
        if c.header == header:
            return c
    raise KeyError(header)


# --- Settings sheet ----------------------------------------------------------------

_SETTING_FORMATS: dict[_settings.Kind, str] = {
    _settings.Kind.PERCENT: PERCENT,
    _settings.Kind.MONEY: MONEY,
    _settings.Kind.DAYS: COUNT,
    _settings.Kind.WEEKS: COUNT,
    _settings.Kind.DATE: DATE,
}


def setting_number_format(spec: _settings.SettingSpec) -> str:
    """The number format of a setting's Value cell."""
    return _SETTING_FORMATS.get(spec.kind, GENERAL)


def setting_defined_name(name: str) -> str:
    """The workbook-level name of a setting's Value cell: 'Outer Band' -> 'OuterBand'.

    Formulas and conditional formats use these names so they keep working when a
    user moves Settings rows about.
    """
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


# --- Checklist -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One step of the quarterly checklist; `key` is stable, the wording may change."""

    key: str
    phase: str
    step: str


CHECKLIST_PHASES: tuple[str, ...] = ("Analysis", "Decision", "Execution", "Documentation")

CHECKLIST_ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "analysis.scores",
        "Analysis",
        "Refresh each holding's conviction score; keep last quarter's as Previous Score",
    ),
    ChecklistItem(
        "analysis.allocations", "Analysis", "Update prices and shares so every weight is current"
    ),
    ChecklistItem(
        "analysis.returns", "Analysis", "Work out each position's return since the last rebalance"
    ),
    ChecklistItem(
        "analysis.tiers", "Analysis", "Compare tiers with last quarter and note any change"
    ),
    ChecklistItem("analysis.triggers", "Analysis", "Count the exit triggers each position hit"),
    ChecklistItem(
        "analysis.targets",
        "Analysis",
        "Once a year, review the target allocations and put the date in Settings' Targets Reviewed",
    ),
    ChecklistItem(
        "decision.caps",
        "Decision",
        "Find positions above the concentration cap; they must be trimmed",
    ),
    ChecklistItem(
        "decision.drift", "Decision", "Find positions that drifted from target by the band or more"
    ),
    ChecklistItem(
        "decision.downgrades",
        "Decision",
        "Review score drops; a fall of two tiers or more is a sell signal",
    ),
    ChecklistItem(
        "decision.thesis", "Decision", "Check that the reason for owning each position still holds"
    ),
    ChecklistItem("decision.trades", "Decision", "Settle on the list of trades"),
    ChecklistItem(
        "execution.orders", "Execution", "Write down each order: side, ticker, shares, limit price"
    ),
    ChecklistItem(
        "execution.taxes", "Execution", "Estimate the tax the sales will cost (taxable accounts)"
    ),
    ChecklistItem("execution.sells", "Execution", "Place the sell orders first, to raise the cash"),
    ChecklistItem("execution.buys", "Execution", "Place the buy orders with the cash raised"),
    ChecklistItem(
        "execution.fills",
        "Execution",
        "Record the shares and prices you actually got on the Trades sheet",
    ),
    ChecklistItem(
        "documentation.holdings",
        "Documentation",
        "Bring Holdings up to date with the new share counts",
    ),
    ChecklistItem("documentation.rationale", "Documentation", "Write down why each trade was made"),
    ChecklistItem(
        "documentation.allocations", "Documentation", "Check the new weights against the targets"
    ),
    ChecklistItem(
        "documentation.reminder", "Documentation", "Put the next rebalance date in your calendar"
    ),
    ChecklistItem(
        "documentation.records", "Documentation", "File the trade confirmations and statements"
    ),
)

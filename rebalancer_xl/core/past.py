"""The past a plan looks back on: History rows and filled trades, read from rows.

Rows arrive as {header text: value} mappings, from the History and Trades sheets (and the
fills archived in each Log) or from DataFrames given to the API; both read them here, so
a bad row gets the same answer whichever way it came in. Nothing here stops a plan: a
History row that cannot be read only weakens the crash check and quarter returns, and an
unreadable fill only leaves the wash-sale check without it, so every fault is a warning
that says what the plan goes without.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rebalancer_xl.core.model import Action, HistoryEntry, PastTrade
from rebalancer_xl.core.parse import ACCOUNT, TICKER, Unread, ticker_text
from rebalancer_xl.core.problems import message, with_consequence
from rebalancer_xl.core.settings import is_blank
from rebalancer_xl.core.values import BadValue, parse_decimal, parse_run_date

HISTORY = "History"
TRADES = "Trades"

# The History sheet's headers the plan reads (the sheet's other columns are written by
# runs and read by no one).
HISTORY_DATE = "Date"
PORTFOLIO_VALUE = "Portfolio Value"
RUN_TYPE = "Run Type"

# Values of Run Type. Full and Emergency rows are rebalancing runs (each has its Log
# sheet); Record and Check rows are value snapshots written by `record` and `check`.
RUN_FULL = "Full"
RUN_EMERGENCY = "Emergency"
RUN_RECORD = "Record"
RUN_CHECK = "Check"
SNAPSHOT_RUN_TYPES = frozenset({RUN_RECORD, RUN_CHECK})

# The Trades sheet's headers a fill is read from (Ticker and Account are the Holdings
# ones). A fill typed without its Fill Price is taken at the order's Limit Price.
SIDE = "Side"
LIMIT_PRICE = "Limit Price"
FILLED_SHARES = "Filled Shares"
FILL_PRICE = "Fill Price"
FILL_DATE = "Date"
FILL_COLUMNS = (SIDE, TICKER, LIMIT_PRICE, FILLED_SHARES, FILL_PRICE, FILL_DATE, ACCOUNT)

# The actions a Side cell may name: every trading action, by its own word.
SIDES = {a.value: a for a in Action if a.is_sale or a.is_buy}


@dataclass(frozen=True, slots=True)
class Fault:
    """Why a row was left out: the header of the cell at fault, a catalogued code, and a
    message that ends with what the plan goes without. Always a warning."""

    header: str
    code: str
    message: str


def parse_history_row(values: Mapping[str, object]) -> tuple[HistoryEntry | None, list[Fault]]:
    """One History row; (None, []) for a blank row, (None, [fault]) for one not read."""
    raw_date, raw_value = values.get(HISTORY_DATE), values.get(PORTFOLIO_VALUE)
    if is_blank(raw_date) and is_blank(raw_value):
        return None, []
    header = HISTORY_DATE
    try:
        when = parse_run_date(raw_date, header)
        header = PORTFOLIO_VALUE
        value = parse_decimal(raw_value, header)
    except BadValue as err:
        why = with_consequence(err.message, "history-row")
        return None, [Fault(header, err.code, why)]
    run_type = values.get(RUN_TYPE)
    run_type = run_type.strip() if isinstance(run_type, str) else run_type
    return HistoryEntry(
        when, value, run_type != RUN_EMERGENCY, snapshot=run_type in SNAPSHOT_RUN_TYPES
    ), []


def side_of(raw: object) -> Action | None:
    """The action a Side cell names, or None."""
    return SIDES.get(raw.strip().upper()) if isinstance(raw, str) else None


def order_side(raw: object) -> str | None:
    """The Side an order for this action is placed on (SELL for a TRIM, BUY for an ADD),
    or None for a word that is no trade."""
    action = side_of(raw)
    if action is None:
        return None
    return Action.SELL.value if action.is_sale else Action.BUY.value


def parse_fill(values: Mapping[str, object]) -> tuple[PastTrade | None, list[Fault]]:
    """One trade actually made; (None, []) for an order not filled (yet), (None, [fault])
    for a fill that cannot be read: it still happened, so silence would hide a sale from
    the wash-sale check. A Fill Price that cannot be read is a fault too, beside the
    trade, which is then taken at its Limit Price. A row holding `parse.UNREAD` (a
    formula with no calculated value) is (None, []): its reader has said so already."""
    raw_shares = values.get(FILLED_SHARES)
    if is_blank(raw_shares) or any(isinstance(v, Unread) for v in values.values()):
        return None, []
    side = side_of(values.get(SIDE))
    if side is None:
        shown = str(values.get(SIDE) or "")[:40]
        why = message("bad-side", value=shown, sides=", ".join(SIDES))
        return None, [Fault(SIDE, "bad-side", with_consequence(why, "fill"))]
    header = FILLED_SHARES
    try:
        shares = parse_decimal(raw_shares, header)
        header = FILL_DATE
        when = parse_run_date(values.get(header), header)
    except BadValue as err:
        why = with_consequence(err.message, "fill")
        return None, [Fault(header, err.code, why)]
    faults = []
    typed = values.get(FILL_PRICE)
    if not is_blank(typed):
        try:
            parse_decimal(typed, FILL_PRICE)
        except BadValue as err:
            # Still a fill: the Limit Price stands in, as for one typed without its price.
            why = with_consequence(err.message, "fill-price")
            faults.append(Fault(FILL_PRICE, err.code, why))
    account = values.get(ACCOUNT)
    return PastTrade(
        when,
        ticker_text(values.get(TICKER)),
        side,
        shares,
        _first_price(values, (FILL_PRICE, LIMIT_PRICE)),
        "" if is_blank(account) else str(account).strip(),
    ), faults


def _first_price(values: Mapping[str, object], headers: tuple[str, ...]) -> Decimal | None:
    """The first of `headers` holding a price: a fill typed without its price is taken at
    the order's Limit Price, close enough to tell a sale at a loss (wash sales)."""
    for header in headers:
        try:
            return parse_decimal(values.get(header), header)
        except BadValue:
            continue
    return None

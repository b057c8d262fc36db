"""The problem catalogue: every code a run can report, its severity and what it means.

A code is a stable name a script may test for (`not-a-number`, `targets-not-100`); the
message beside it says what was found in the user's own words and values. This module is
the one list of codes: a test walks the package's source and fails on any code not
listed here, so a new problem is catalogued where a reader looks for it. Severity is
the code's usual one; History rows and fills demote theirs to warnings (a bad History
row only weakens the crash check, an unreadable fill the wash-sale check; neither stops
the plan).

A code's wording lives here too: `Entry.wording` holds its message template (or one per
form, when a code is found in several ways, such as a number too large or a percentage
above 100%), and `message` / `problem` fill it with the values a call site found; a
`PackageError` is worded the same way. Call sites pass a code, a form and values, never
words of their own. Two kinds of text are joined to a catalogued message rather than
being one: what a demoted problem costs the plan (`CONSEQUENCE`), and the file's name
before a package adapter's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rebalancer_xl.core.model import Problem, Severity, Where

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True, slots=True)
class Entry:
    severity: Severity
    meaning: str
    # str.format templates: one, or one per form ("" is the plain form)
    wording: str | Mapping[str, str]


CATALOGUE: dict[str, Entry] = {
    # -- a cell's value ------------------------------------------------------------------
    "not-a-number": Entry(
        E,
        "a number is expected and the cell holds something else",
        {
            "": "{what} is {value}, not a number",
            "order-shares": "Shares (the order) is not a number",
        },
    ),
    "not-a-date": Entry(
        E,
        "a date is expected: a real date, or text as YYYY-MM-DD",
        "{what} is {value}, not a date; enter a real date or YYYY-MM-DD",
    ),
    "not-yes-no": Entry(E, "Yes or No is expected", "{what} is {value}; expected Yes or No"),
    "excel-error": Entry(
        E,
        "the cell holds an Excel error such as #N/A or #REF!",
        "{what} holds the Excel error {error}",
    ),
    "out-of-range": Entry(
        E,
        "the number is outside the range the column or setting allows",
        {
            "too-large": "{what} is {value}, too large to be real (at most {limit:,f})",
            "too-small": "{what} is {value}, too small to be real (at least {limit:f})",
            "percent": "{what} is {value!r}; expected 0% to 100%",
            "amount": "{what} is {value!r}; expected an amount ≥ 0",
            "days": "{what} is {value!r}; expected whole days ≥ 0",
            "weeks": "{what} is {value!r}; expected whole weeks, 1 to 52",
            # a Holdings row's Target %; `hint` guesses the percentage meant, or is ""
            "target": "Target % is {value}; expected 0% to 100%{hint}",
        },
    ),
    "decimal-comma": Entry(
        E,
        "a number typed with a decimal comma, which is ambiguous",
        "{what} is {value}: a comma that does not group thousands may be a decimal comma; "
        "type the number with a decimal point{hint}",
    ),
    "unexpected-percent": Entry(
        E,
        "a percentage typed where a count or price is meant",
        "{what} is {value}, a percentage, but {what} takes a plain number",
    ),
    "date-out-of-range": Entry(
        E,
        "a date outside 1900-01-01 to 2199-12-31",
        "{what} is {day}; expected a date from {earliest} to {latest}",
    ),
    "score-out-of-range": Entry(
        E, "a score is outside 0 to 100", "{what} is {value}; scores run from 0 to 100"
    ),
    "bad-count": Entry(
        E,
        "a count (Exit Triggers Hit) is not a whole number ≥ 0",
        "Exit Triggers Hit is {value}; expected a whole number ≥ 0",
    ),
    "bad-choice": Entry(
        E,
        "a setting is not one of its choices",
        {
            "": "{what} is {value!r}; choose one of: {choices}",
            # an Accounts row's Type; `typed` is "blank" or the text's repr
            "account-type": "{name}'s Type is {typed}; expected Taxable, Retirement or Roth",
        },
    ),
    "formula-in-ticker": Entry(
        E,
        "a Ticker is typed as a formula",
        "Ticker holds the formula {formula!r}; type the symbol as text",
    ),
    "formula-not-calculated": Entry(
        E,
        "a formula cell has no calculated value saved",
        "{what} holds the formula {formula!r} and no calculated value; type the value, or "
        "open and save the file in Excel first",
    ),
    "missing-value": Entry(
        E,
        "a required cell is blank",
        {"": "{what} is blank", "account-name": "this account has no name"},
    ),
    # -- the Holdings table --------------------------------------------------------------
    "missing-sheet": Entry(
        E,
        "a sheet the run needs is missing",
        {
            "workbook": "the workbook has no {name!r} sheet (sheets: {sheets})",
            "trades": "there is no Trades sheet with a Side column: run a rebalance first",
        },
    ),
    "missing-column": Entry(
        E,
        "a column the run needs is missing",
        {
            # `hint` is a near miss among the headers found, or ""
            "table": "the {table} table has no {name!r} column{hint}",
            "no-header": "no header row with a {name!r} column in the first {rows} rows",
            "output": "the Holdings table has no {name!r} column for the run to write to",
            "settings-header": "the Settings sheet needs 'Setting' and 'Value' header cells",
            "accounts-header": "the Accounts sheet has no {name!r} header cell",
            "account": "accounts are listed, so the Holdings table needs an 'Account' column "
            "saying which account holds each row",
        },
    ),
    "table-total-row": Entry(
        E,
        "an Excel Table's Total Row is where the run must write",
        "row {row} is the Total Row of an Excel Table, where the run must add or change "
        "rows; turn the Total Row off (Table Design > Total Row), run again, and turn it "
        "back on",
    ),
    "merged-cells": Entry(
        E,
        "cells of a table the run reads are merged",
        "cells {cells} are merged inside the Holdings table; unmerge them so each row holds "
        "one position",
    ),
    "no-holdings": Entry(
        E,
        "the Holdings table has no positions",
        {
            "": "the Holdings table has no positions",
            "cash-only": "the Holdings table has no positions besides its CASH row",
        },
    ),
    "missing-ticker": Entry(
        E,
        "a row has data but no ticker",
        {"": "this row has data but no ticker", "lot": "this lot has no ticker"},
    ),
    "bad-ticker": Entry(
        E,
        "a ticker is not a ticker",
        {
            "row": "Ticker is {value!r}; use letters, digits, '.', '-' or '/'",
            "lot": "Ticker is {value!r}; not a symbol",
            "setting": "{what} is {value!r}; expected Cash or a ticker",
        },
    ),
    "duplicate-ticker": Entry(
        E,
        "a ticker appears twice",
        # `again` is the ticker (and its account), `first` where its first row is, and
        # `per` " and account" in a household
        "{again} appears again (first {first}); keep one row per position{per}",
    ),
    "duplicate-column": Entry(
        E,
        "a header appears twice in the header row",
        {
            # `first` is the first one's sheet!cell
            "sheet": "the {name!r} column appears twice (first at {first}); keep one, or "
            "rename the other",
            # a DataFrame's columns, by position
            "frame": "the {name!r} column appears twice (first at position {first}, again "
            "at {again}); keep one, or rename the other",
        },
    ),
    "portfolio-worth-nothing": Entry(
        E,
        "every position holds 0 shares and there is no cash",
        "the portfolio is worth nothing: every position holds 0 shares and there is no cash "
        "nor New Capital; enter the shares held (and the cash on the CASH row)",
    ),
    "negative-shares": Entry(
        E,
        "a position holds fewer than zero shares",
        "Shares is {shares}; a position cannot be negative",
    ),
    "missing-price": Entry(E, "Current Price is blank", "Current Price is blank"),
    "bad-price": Entry(
        E,
        "a price is zero or below",
        {
            "current": "Current Price is {price}; it must be above zero",
            "cost": "Cost per Share is {cost}; it cannot be < 0",
            "fill": "Fill Price is {price}; a price is > 0",
        },
    ),
    "cash-price": Entry(
        E,
        "the CASH row's price is not 1",
        "the CASH row's Current Price is {price}; it must be 1 (Shares holds the balance)",
    ),
    "targets-not-100": Entry(
        E,
        "the targets do not add up to 100%",
        "Target % adds up to {percent:.2f}%; it must be 100% (± 0.01%), cash included",
    ),
    "target-above-cap": Entry(
        W,
        "a target is above the cap, so the cap will trim it",
        # `named` is the ticker and a space, or "" for a row without one
        "{named}Target % {target:.2%} is above the {cap:.0%} cap; the cap will trim it "
        "whenever it reaches its target",
    ),
    # -- Settings -------------------------------------------------------------------------
    "unknown-setting": Entry(
        E,
        "a setting's name is not one the run knows",
        "{name!r} is not a setting; known settings: {known}",
    ),
    "duplicate-setting": Entry(
        E,
        "a setting is given twice",
        "{name} is set twice: here and at {first}; keep one (which one is meant is not clear)",
    ),
    "bad-band": Entry(
        E,
        "the outer band is narrower than the band",
        "Outer Band {outer:.2%} is below Band {band:.2%}",
    ),
    "bad-cap": Entry(
        E,
        "a cap and its trim-to level are inconsistent",
        {
            "trim-above-cap": "{trim_name} {trim:.2%} is above {cap_name} {cap:.2%}",
            "urgent-below-cap": "Urgent Cap {urgent:.2%} is below Cap {cap:.2%}",
        },
    ),
    "date-in-future": Entry(
        E,
        "the Last Rebalance Date is after the As-of Date",
        {
            "": "Last Rebalance Date {last} is after the As-of Date {as_of}",
            "fill": "the fill's Date {when} is after today, {on}",
        },
    ),
    "leftover-ticker-missing": Entry(
        E,
        "Leftover To names no holding",
        "Leftover To names {ticker}, which has no Holdings row; add a row for it (its "
        "price, target 0% is fine) or set Leftover To to Cash",
    ),
    "withdrawal-too-large": Entry(
        E,
        "the withdrawal leaves nothing to rebalance",
        {
            "": "the withdrawal leaves nothing to rebalance",
            "value": "Withdrawal {withdrawal:,.2f} is not less than the portfolio's value "
            "{value:,.2f}",
        },
    ),
    "withdrawal-unfunded": Entry(
        E,
        "locked rows leave the withdrawal short",
        "the withdrawal is short by {short}: locked rows cannot be sold",
    ),
    "targets-not-reviewed": Entry(
        W, "the targets have not been reviewed within a year", "{found}: {ask}"
    ),
    # -- Lots -----------------------------------------------------------------------------
    "bad-shares": Entry(
        E, "a lot holds zero shares or fewer", "Shares is {shares}; a lot holds > 0"
    ),
    "lot-without-holding": Entry(
        E,
        "a lot's ticker is not a holding",
        {
            "": "lots of {ticker} add up to {total} shares, but Holdings has no such ticker",
            # `account` is the account's name, or "no account"
            "account": "lots of {ticker} in {account} add up to {total:f} shares, but that "
            "account has no Holdings row for it",
        },
    ),
    "lots-mismatch": Entry(
        E,
        "a ticker's lots do not add up to its Shares",
        {
            "": "lots of {ticker} add up to {total:f} shares, but Holdings says {shares:f}",
            "account": "lots of {ticker} in {account} add up to {total:f} shares, but its "
            "Holdings row there says {shares:f}",
        },
    ),
    # -- fills typed into Trades (record) ------------------------------------------------
    "bad-fill": Entry(
        E, "Filled Shares is below zero", "Filled Shares is {shares}; type the shares traded, ≥ 0"
    ),
    "missing-fill-price": Entry(
        E,
        "Filled Shares is typed but Fill Price is blank",
        "Filled Shares is typed but Fill Price is blank",
    ),
    "missing-fill-date": Entry(
        E,
        "Filled Shares is typed but the fill's Date is blank",
        "Filled Shares is typed but Date is blank",
    ),
    "bad-commission": Entry(
        E, "a Commission is below zero", "Commission is {commission}; it is ≥ 0"
    ),
    "bad-side": Entry(
        W,
        "a filled row's Side is not BUY, ADD, SELL or TRIM",
        # followed by the "fill" CONSEQUENCE where it is found
        "Side is {value!r}, not one of {sides}",
    ),
    "formula-in-input": Entry(
        E,
        "a cell recording must change holds a formula",
        "{ticker}'s Shares is a formula, so recording cannot change it; type the number",
    ),
    "not-proposed": Entry(
        E,
        "a fill for a ticker or side the plan did not propose",
        {
            "not-held": "a fill for {ticker}, which the plan did not propose (Holdings has no "
            "such position)",
            "blank-ticker": "a fill for a blank ticker, which the plan did not propose "
            "(Holdings has no such position)",
            "other-side": "a {side} fill for {ticker}, but the plan proposed a {proposed} of "
            "{ticker}",
            "no-trade": "a {side} fill for {ticker}, but the plan proposed no trade of {ticker}",
        },
    ),
    "more-than-ordered": Entry(
        E,
        "more shares filled than the order asked for",
        "Filled Shares {shares:f} is more than the {ordered:f} shares ordered",
    ),
    "sells-more-than-held": Entry(
        E,
        "a sale fill for more shares than are held",
        "fills sell {sold:f} shares of {ticker}, but Holdings holds {held:f}",
    ),
    "cash-negative": Entry(
        E,
        "the fills would take the cash below zero",
        "the fills spend {short:,.2f} more than the cash held ({cash:,.2f} plus the sales' "
        "proceeds); check the fills",
    ),
    "missing-cash-row": Entry(
        E,
        "Holdings has no CASH row for the fills' money",
        "Holdings has no CASH row for the money the fills move",
    ),
    # -- a household (SPEC §9) -----------------------------------------------------------
    "duplicate-account": Entry(
        E,
        "the Accounts sheet lists an account twice",
        "account {name!r} is listed twice; list each account once",
    ),
    "unknown-account": Entry(
        E,
        "a row names an account the Accounts sheet does not list",
        "account {name!r} is not on the Accounts sheet (accounts: {listed})",
    ),
    "missing-account": Entry(
        E,
        "a row holding shares names no account",
        "this row holds shares but names no account; in a household every position belongs to one",
    ),
    "targets-disagree": Entry(
        E,
        "a ticker's rows give different Target % values",
        "{ticker}'s Target % is {target:.2%} here and {other:.2%} at {other_at}; give the "
        "household's target once, or the same on each row",
    ),
    "household-withdrawal": Entry(
        E,
        "a withdrawal is not planned in a household yet",
        "a Withdrawal across several accounts is not planned yet (which account pays it?); "
        "sell by hand, or plan the account that pays it on its own",
    ),
    # -- the file -------------------------------------------------------------------------
    # (`path` is the path as given, `name` the file's name)
    "file-not-found": Entry(E, "the path does not exist", "{path} does not exist"),
    "not-a-file": Entry(E, "the path is a folder", "{path} is a folder, not a workbook"),
    "empty-file": Entry(E, "the file is empty", "{name} is empty (0 bytes)"),
    "unsupported-format": Entry(
        E,
        "the file is not an .xlsx or .xlsm workbook",
        {
            "": "{name} is not an .xlsx or .xlsm workbook",
            "other-app": "{name} is a {suffix} file; save it as an Excel workbook (.xlsx) first",
            # raised by the package reader (the pipeline puts the file's name before it)
            "strict": "it is saved as Strict Open XML Spreadsheet; save it again as an "
            "Excel Workbook (.xlsx) in Excel's Save As",
        },
    ),
    "password-protected": Entry(
        E,
        "the workbook is encrypted",
        "{name} is encrypted (password-protected) or an old .xls saved with a new name; "
        "remove the password in Excel first",
    ),
    "corrupt-file": Entry(
        E,
        "the package cannot be read as a workbook",
        {
            "not-zip": "{name} is not a valid workbook (not a zip package); it may be "
            "truncated or damaged",
            "bad-zip": "{name}: {error}",
            "unreadable": "{name} could not be read as a workbook: {kind}: {error}",
            # the package writer's and reader's own findings (PackageError); `part` is a
            # member's name inside the package
            "shared-string": "cell {ref} names a missing shared string",
            "local-header": "{part}: bad local header",
            "not-xml": "{part} is not well-formed XML: {error}",
            "cell-name": "a cell is named {ref!r}",
            "no-style-section": "xl/styles.xml has no <{tag}>",
            "no-sheets": "the workbook lists no sheets",
            "no-workbook-part": "the package names no workbook part",
            "no-part": "the package has no {part}",
            "no-worksheet": "the workbook has no worksheet named {sheet!r}",
            "truncated": "{part} is truncated",
        },
    ),
    "unsafe-package": Entry(
        E,
        "the package is hostile: a zip bomb, entities, climbing names",
        {
            "climbs-out": "the package holds a member named {part!r}, which points outside "
            "the workbook",
            "twice": "the package holds {part!r} twice",
            "too-large": "{part} inflates past {limit:,} bytes: refused",
            "zip-bomb": "{part} inflates to {size:,} bytes from {compressed:,}: refused as a "
            "zip bomb",
            "entities": "{part} declares a DOCTYPE or entities, which no spreadsheet writes: "
            "refused",
        },
    ),
    "read-only": Entry(
        E,
        "the workbook cannot be written",
        "{name} is read-only, so the results cannot be written into it; make it writable, "
        "or use --output-dir to write a processed copy",
    ),
    "changed-while-running": Entry(
        E,
        "another program saved the file during the run",
        "{name} was changed by another program while it was being processed; nothing was "
        "written. Run again",
    ),
    "in-use": Entry(
        E,
        "another run is processing the same workbook right now",
        "{name} is being processed by another run right now; nothing was written. Run "
        "again when it has finished",
    ),
    "no-space": Entry(
        E,
        "the disk is full",
        "no space left to write {dest} ({reason}); nothing was changed. Free some space "
        "and run again",
    ),
    "would-lose-content": Entry(
        E,
        "writing would change more than the run's own cells",
        "writing {name} would change more than the run's own cells: {losses}. Nothing was "
        "written. Please report this workbook; --force writes it anyway",
    ),
    # -- a Dask cluster (run --scheduler) -------------------------------------------------
    # (`host` is the worker's host name; `path` a path as the worker sees it)
    "version-mismatch": Entry(
        E,
        "a Dask worker has another version of rebalancer-xl",
        "the Dask worker on {host} has rebalancer-xl {theirs}, this computer {ours}; "
        "install the same version on every worker",
    ),
    "not-on-worker": Entry(
        E,
        "a Dask worker cannot see the workbook or the output folder",
        {
            "file": "the Dask worker on {host} cannot see {path}; the workers read and write "
            "the files, so they must be on a filesystem every worker mounts at the same path",
            "output": "the Dask worker on {host} cannot see the output folder {path}; it must "
            "be on a filesystem every worker mounts at the same path",
        },
    ),
    "not-shared": Entry(
        E,
        "a Dask worker sees a different file than the computer that started the run",
        "the Dask worker on {host} sees a different file at {path} than this computer saw "
        "when the run started (size or time differ): the folder is not shared with the "
        "workers, or the file was changed since (by another program, or by this run on a "
        "worker that died before it reported back); check it and run it again",
    ),
    "worker-died": Entry(
        E,
        "the Dask worker processing the file died on every try",
        "the Dask worker processing {name} died (killed, or out of memory) on each of "
        "{tries} tries, the last on {last}; its log says why. The workbook is as it was or "
        "completely written",
    ),
    "worker-error": Entry(
        E,
        "a Dask worker could not run the file",
        {
            "cancelled": "the Dask scheduler cancelled {name}",
            "failed": "a Dask worker could not run {name}: {kind}: {error} (is the same "
            "rebalancer-xl installed on every worker?)",
        },
    ),
    "internal-error": Entry(E, "a bug: please report it with the workbook", "{kind}: {error}"),
}


# What a History row's or a fill's problem costs the plan, said after its message: those
# problems are warnings (the plan goes on), so the reader learns what was left out.
CONSEQUENCE: dict[str, str] = {
    "history-row": "this row is left out of the crash check and quarter returns",
    "fill": "this fill is left out of the wash-sale check",
    "fill-price": "the wash-sale check takes this fill at its Limit Price",
}


def with_consequence(text: str, consequence: str) -> str:
    """A problem's message followed by what it costs the plan (a CONSEQUENCE key)."""
    return f"{text}; {CONSEQUENCE[consequence]}"


def message(code: str, form: str = "", /, **values: object) -> str:
    """The catalogue's wording of `code` (in its `form`) with the values found."""
    wording = CATALOGUE[code].wording
    template = wording if isinstance(wording, str) else wording[form]
    assert template, f"{code} has no wording in the catalogue"
    # A header (a StrEnum member) is said as its text: `{name!r}` of the member itself
    # would print <HoldingsHeader.TICKER: 'Ticker'>, as a missing header row once did.
    plain = {k: str(v) if isinstance(v, StrEnum) else v for k, v in values.items()}
    return template.format(**plain)


def problem(code: str, where: Where, form: str = "", /, **values: object) -> Problem:
    """A problem worded by the catalogue, with its code's catalogued severity."""
    return Problem(code, message(code, form, **values), where, CATALOGUE[code].severity)

"""One catalogue of problem codes, one location for the whole file, one wording, and a
plan that returns what refuses it as values."""

from __future__ import annotations

import ast
import re
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import rebalancer_xl
from rebalancer_xl import Holding, InputError, Settings, make_plan, plan
from rebalancer_xl.core.model import CASH, WHOLE_FILE, Lot, Problem, Severity, Where
from rebalancer_xl.core.problems import CATALOGUE
from tests.tables import frame

PACKAGE = Path(rebalancer_xl.__file__).parent
CODE = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")
# The calls through which the package makes a problem, and where their code argument sits.
MAKERS = {
    "Problem",
    "problem",
    "catalogued",
    "BadValue",
    "PackageError",
    "_raise",
    "_refuse",
    "_problem",
    "located",
    "flag",
}
MAKERS_CODE_SECOND = {"_file_problem", "_failed", "bad", "fail", "_fault", "Fault"}


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # (column, code, message) triples written out as tuples
            if isinstance(node, ast.Tuple) and len(node.elts) == 3:
                code, message = node.elts[1], node.elts[2]
                if (
                    isinstance(code, ast.Constant)
                    and isinstance(code.value, str)
                    and CODE.match(code.value)
                    and isinstance(message, ast.Constant | ast.JoinedStr)
                ):
                    found.add(code.value)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            at = 0 if name in MAKERS else 1 if name in MAKERS_CODE_SECOND else None
            if at is None or len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                assert CODE.match(arg.value), f"{path.name}: {arg.value!r} is not a code"
                found.add(arg.value)
    return found


def test_every_code_the_package_reports_is_catalogued_and_every_entry_is_used():
    used = _codes_in_source()
    assert len(used) > 40  # the walk finds the codes (a broken walk would find none)
    assert used - set(CATALOGUE) == set(), "catalogue these codes in rebalancer_xl/core/problems.py"
    assert set(CATALOGUE) - used == set(), "these catalogued codes are reported nowhere"


def test_the_warning_codes_are_the_catalogues_warnings():
    with pytest.warns(rebalancer_xl.RebalanceWarning) as caught:
        rebalancer_xl.rebalance(
            frame(
                """
                Ticker | Shares | Current Price | Target %
                A      | 100    | 100           | 0.45
                B      | 100    | 100           | 0.55
                """
            ),
            # Targets Reviewed left blank: the yearly review is due.
            {"As-of Date": "2026-12-31", "Cap": 0.5, "Cap Trim To": 0.45},
            # A fill whose Side names no trade: left out of the wash-sale check, said so.
            past_trades=[{"Side": "HOLD", "Ticker": "A", "Filled Shares": 5, "Date": "2026-12-01"}],
        )
    codes = {w.message.problem.code for w in caught}  # type: ignore[union-attr]
    assert codes == {"target-above-cap", "targets-not-reviewed", "bad-side"}
    assert {c for c, e in CATALOGUE.items() if e.severity is Severity.WARNING} == codes


def test_one_wording_for_a_problem_everywhere():
    cell = Problem("not-a-number", "Shares is 'ten', not a number", Where("Holdings", cell=None))
    assert str(cell) == "Holdings: not-a-number: Shares is 'ten', not a number"
    warning = Problem("target-above-cap", "a note", Where("Holdings"), Severity.WARNING)
    assert warning.line() == "Holdings: target-above-cap (warning): a note"
    whole = Problem("empty-file", "book.xlsx is empty (0 bytes)", WHOLE_FILE)
    assert str(whole) == "empty-file: book.xlsx is empty (0 bytes)"
    err = InputError([warning, whole])
    assert str(err).splitlines()[1:] == [f"  {warning.line()}", f"  {whole.line()}"]


def test_a_withdrawal_locked_rows_cannot_pay_is_a_value_from_plan_and_an_error_from_the_api():
    holdings = [
        Holding("A", Decimal(100), Decimal(100), Decimal("0.5"), lock=True),
        Holding("B", Decimal(100), Decimal(100), Decimal("0.5"), lock=True),
        Holding(CASH, Decimal(1000), Decimal(1), Decimal(0), row=2),
    ]
    result = plan(holdings, Settings(withdrawal=Decimal(5000)), as_of=date(2026, 12, 31))
    assert [(p.code, p.where.sheet, p.where.column) for p in result.errors] == [
        ("withdrawal-unfunded", "Settings", "Withdrawal")
    ]
    assert result.decisions == ()
    assert result.trades == ()
    with pytest.raises(InputError) as err:
        make_plan(
            frame(
                """
                Ticker | Shares | Current Price | Target % | Lock
                A      | 100    | 100           | 0.5      | Yes
                B      | 100    | 100           | 0.5      | Yes
                CASH   | 1000   | 1             | 0        |
                """
            ),
            {"As-of Date": "2026-12-31", "Withdrawal": 5000},
        )
    assert [p.code for p in err.value.problems if p.is_error] == ["withdrawal-unfunded"]


def test_a_withdrawal_locked_rows_cannot_pay_stops_a_cli_run(cli, sample, tmp_path):
    import openpyxl

    from tests.conftest import copy_as, sha256

    book = copy_as(sample, tmp_path / "locked.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["Holdings"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value and row[0].value != CASH:
            row[header.index("Lock")].value = "Yes"
    settings = wb["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "Withdrawal":
            row[1].value = 50_000
    wb.save(book)
    before = sha256(book)
    run = cli("run", book, "--json")
    assert run.code == 1
    assert [(p["code"], p["sheet"]) for p in run.file["problems"]] == [
        ("withdrawal-unfunded", "Settings")
    ]
    assert sha256(book) == before


def test_a_code_s_wording_lives_in_the_catalogue_and_the_readers_fill_it():
    from rebalancer_xl.core.problems import message
    from rebalancer_xl.core.settings import parse_settings

    _, problems = parse_settings({"Band": "5%", "Outer Band": "2%", "Minimum Trade": "ten"})
    by_code = {p.code: p.message for p in problems}
    # The parser passed values; the words are the catalogue's templates.
    assert (
        by_code["bad-band"]
        == message("bad-band", outer=Decimal("0.02"), band=Decimal("0.05"))
        == "Outer Band 2.00% is below Band 5.00%"
    )
    assert by_code["not-a-number"] == "Minimum Trade is 'ten', not a number"


def test_every_catalogued_wording_names_fields_a_call_site_can_fill():
    import string

    for code, entry in CATALOGUE.items():
        forms = entry.wording if isinstance(entry.wording, dict) else {"": entry.wording}
        for form, template in forms.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert all(f.isidentifier() for f in fields), (code, form, fields)


def test_the_holdings_and_lot_readers_keep_their_words():
    """core/parse.py's messages come from the catalogue's templates; this pins each one
    word for word (values included) over the faults a Holdings table and its lots can
    have, so a template edited by mistake shows here."""
    from rebalancer_xl.core.parse import (
        check_lot_totals,
        parse_holdings,
        parse_lot,
        validate_parsed,
    )
    from rebalancer_xl.core.settings import parse_settings

    h = ["Ticker", "Shares", "Current Price", "Target %", "Score", "Previous Score"]
    h.append("Exit Triggers Hit")
    said: list[tuple[str, str]] = []

    def add(found: object) -> None:
        said.extend((p.code, p.message) for p in found)  # type: ignore[attr-defined]

    add(
        parse_holdings(
            [{"ticker": "A", "shares ": 1}], ["ticker", "Shares ", "Current Price"]
        ).problems
    )
    add(parse_holdings([{"Ticker": "A"}], ["Ticker"]).problems)
    rows = [
        {"Ticker": None, "Shares": 1, "Current Price": 1, "Target %": 0.1},
        {"Ticker": "a*b", "Shares": 1, "Current Price": 1, "Target %": 0.1},
        {"Ticker": "X", "Shares": -3, "Current Price": None, "Target %": 50},
        {
            "Ticker": "Y",
            "Shares": 1,
            "Current Price": -2,
            "Target %": 1.5,
            "Score": 120,
            "Previous Score": -1,
        },
        {
            "Ticker": "CASH",
            "Shares": 1,
            "Current Price": 2,
            "Target %": 0.1,
            "Exit Triggers Hit": 1.5,
        },
        {"Ticker": "X", "Shares": 1, "Current Price": 1, "Target %": 0.1, "Exit Triggers Hit": -1},
        {"Ticker": "Z", "Shares": "abc", "Current Price": 1, "Target %": 0.1},
    ]
    add(parse_holdings(rows, h).problems)
    settings, setting_problems = parse_settings(
        {"Leftover To": "QQQ", "Withdrawal": 1000, "Cap": "20%"}
    )
    for table in (
        [{"Ticker": "CASH", "Shares": 0, "Current Price": 1, "Target %": 1}],
        [],
        [
            {"Ticker": "A", "Shares": 0, "Current Price": 10, "Target %": 0.7},
            {"Ticker": "", "Shares": 0, "Current Price": 10, "Target %": 0.2},
            {"Ticker": "CASH", "Shares": 0, "Current Price": 1, "Target %": 0.05},
        ],
        [
            {"Ticker": "A", "Shares": 5, "Current Price": 10, "Target %": 0.7},
            {"Ticker": "CASH", "Shares": 100, "Current Price": 1, "Target %": 0.3},
        ],
    ):
        parsed = parse_holdings(table, h)
        add(parsed.problems)
        add(validate_parsed(parsed, settings, setting_problems))
    bad_lot = {"Ticker": "a*b", "Acquired": "x", "Shares": -1, "Cost per Share": -2}
    for values in ({}, bad_lot, {"Ticker": "A", "Acquired": "2024-01-01", "Shares": 0}):
        said.extend((code, words) for _, code, words in parse_lot(values)[1])
    parsed = parse_holdings([{"Ticker": "A", "Shares": 5, "Current Price": 10, "Target %": 1}], h)
    lots = [
        Lot("A", date(2024, 1, 1), Decimal("2.5"), Decimal(1)),
        Lot("B", date(2024, 1, 1), Decimal("2.50"), Decimal(1)),
    ]
    add(check_lot_totals(lots, parsed, lambda t, i, held: Where("Lots")))
    default, none_refused = parse_settings({})
    zero = [
        {"Ticker": "A", "Shares": 0, "Current Price": 10, "Target %": 0.7},
        {"Ticker": "CASH", "Shares": 0, "Current Price": 1, "Target %": 0.3},
    ]
    add(validate_parsed(parse_holdings(zero, h), default, none_refused))
    twice = [{"Account": "T", **zero[0]}, {"Account": "T", **zero[0]}]
    add(parse_holdings(twice, [*h, "Account"]).problems)
    assert said == [
        (
            "missing-column",
            "the Holdings table has no 'Ticker' column (found 'ticker': headers must match exactly)",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Shares' column (found 'Shares ': headers must match exactly)",
        ),
        ("missing-column", "the Holdings table has no 'Target %' column"),
        ("missing-column", "the Holdings table has no 'Current Price' column"),
        ("missing-column", "the Holdings table has no 'Shares' column"),
        ("missing-column", "the Holdings table has no 'Target %' column"),
        ("missing-ticker", "this row has data but no ticker"),
        ("bad-ticker", "Ticker is 'a*b'; use letters, digits, '.', '-' or '/'"),
        ("negative-shares", "Shares is -3; a position cannot be negative"),
        ("missing-price", "Current Price is blank"),
        (
            "out-of-range",
            "Target % is 50; expected 0% to 100% (did you mean 50%? type it as 50% or 0.5)",
        ),
        ("bad-price", "Current Price is -2; it must be above zero"),
        (
            "out-of-range",
            "Target % is 1.5; expected 0% to 100% (did you mean 1.5%? type it as 1.5% or 0.015)",
        ),
        ("score-out-of-range", "Score is 120; scores run from 0 to 100"),
        ("score-out-of-range", "Previous Score is -1; scores run from 0 to 100"),
        (
            "cash-price",
            "the CASH row's Current Price is 2; it must be 1 (Shares holds the balance)",
        ),
        ("bad-count", "Exit Triggers Hit is 1.5; expected a whole number ≥ 0"),
        ("bad-count", "Exit Triggers Hit is -1; expected a whole number ≥ 0"),
        (
            "duplicate-ticker",
            "X appears again (first on row 2 of the input, counting from 0 as df.iloc does); keep one row per position",
        ),
        ("not-a-number", "Shares is 'abc', not a number"),
        ("no-holdings", "the Holdings table has no positions besides its CASH row"),
        ("no-holdings", "the Holdings table has no positions"),
        ("missing-ticker", "this row has data but no ticker"),
        ("targets-not-100", "Target % adds up to 95.00%; it must be 100% (± 0.01%), cash included"),
        (
            "target-above-cap",
            "A Target % 70.00% is above the 20% cap; the cap will trim it whenever it reaches its target",
        ),
        (
            "target-above-cap",
            "A Target % 70.00% is above the 20% cap; the cap will trim it whenever it reaches its target",
        ),
        (
            "leftover-ticker-missing",
            "Leftover To names QQQ, which has no Holdings row; add a row for it (its price, target 0% is fine) or set Leftover To to Cash",
        ),
        (
            "withdrawal-too-large",
            "Withdrawal 1,000.00 is not less than the portfolio's value 150.00",
        ),
        ("missing-ticker", "this lot has no ticker"),
        ("missing-value", "Acquired is blank"),
        ("missing-value", "Shares is blank"),
        ("missing-value", "Cost per Share is blank"),
        ("bad-ticker", "Ticker is 'A*B'; not a symbol"),
        ("not-a-date", "Acquired is 'x', not a date; enter a real date or YYYY-MM-DD"),
        ("bad-shares", "Shares is -1; a lot holds > 0"),
        ("bad-price", "Cost per Share is -2; it cannot be < 0"),
        ("missing-value", "Cost per Share is blank"),
        ("bad-shares", "Shares is 0; a lot holds > 0"),
        ("lots-mismatch", "lots of A add up to 2.5 shares, but Holdings says 5"),
        ("lot-without-holding", "lots of B add up to 2.50 shares, but Holdings has no such ticker"),
        (
            "target-above-cap",
            "A Target % 70.00% is above the 40% cap; the cap will trim it whenever it reaches its target",
        ),
        (
            "portfolio-worth-nothing",
            "the portfolio is worth nothing: every position holds 0 shares and there is no cash nor New Capital; enter the shares held (and the cash on the CASH row)",
        ),
        (
            "duplicate-ticker",
            "A in T appears again (first on row 0 of the input, counting from 0 as df.iloc does); keep one row per position and account",
        ),
    ]


def test_the_workbook_reader_keeps_its_words():
    """workbook/inputs.py's messages come from the catalogue's templates; this pins each
    one word for word with its cell, over a workbook with every fault that reader finds
    itself (sheets and headers missing, repeats, merged cells, uncalculated formulas)."""
    from rebalancer_xl.workbook.grid import Book, Formula, Sheet
    from rebalancer_xl.workbook.inputs import read_inputs

    # (a header's name once read as "<HoldingsHeader.TICKER: 'Ticker'>": its enum's repr)
    good = Book(
        {
            "Holdings": Sheet(
                "Holdings",
                (
                    ("Ticker", "Shares", "Current Price", "Target %"),
                    ("A", 1, 10, 1),
                ),
            ),
            "Settings": Sheet("Settings", (("Setting", "Value"),)),
        }
    )
    holdings = Sheet(
        "Holdings",
        (
            ("Ticker", "Shares", "Current Price", "Target %", "Shares"),
            (Formula('=A1&"x"'), 1, 10, 0.5, None),
            ("B", Formula("=C9*2"), 10, 0.5, None),
            ("C", 1, 10, 0.0, None),
            ("D", 1, 10, 0.0, None),
        ),
        ((4, 1, 5, 2),),
    )
    settings = Sheet(
        "Settings",
        (("Setting", "Value"), ("Cap", "30%"), ("cap", "30%"), ("Band", Formula("=X1"))),
    )
    trades = Sheet(
        "Trades",
        (
            ("Date", "Ticker", "Side", "Shares", "Limit Price", "Filled Shares", "Fill Price"),
            (Formula("=Z1"), "A", "BUY", 1, 1, Formula("=Z2"), 1),
        ),
    )
    books = [
        Book({"Other": Sheet("Other", (("x",),))}, sheet_order=("Other",)),
        Book(
            {
                "Holdings": Sheet("Holdings", (("Nope",),)),
                "Settings": Sheet("Settings", (("Setting",),)),
            },
            sheet_order=("Holdings", "Settings"),
        ),
        Book({"Holdings": holdings, "Settings": settings, "Trades": trades}),
    ]
    said = [
        (p.code, p.message, str(p.where.cell)) for book in books for p in read_inputs(book).problems
    ]
    assert said == [
        ("missing-sheet", "the workbook has no 'Holdings' sheet (sheets: Other)", "Holdings"),
        ("missing-sheet", "the workbook has no 'Settings' sheet (sheets: Other)", "Settings"),
        (
            "missing-column",
            "the Settings sheet needs 'Setting' and 'Value' header cells",
            "Settings!A1",
        ),
        (
            "missing-column",
            "no header row with a 'Ticker' column in the first 20 rows",
            "Holdings!A1",
        ),
        (
            "duplicate-setting",
            "Cap is set twice: here and at Settings!B2; keep one (which one is meant is not clear)",
            "Settings!B3",
        ),
        (
            "formula-not-calculated",
            "Band holds the formula '=X1' and no calculated value; type the value, or open and save the file in Excel first",
            "Settings!B4",
        ),
        (
            "duplicate-column",
            "the 'Shares' column appears twice (first at Holdings!B1); keep one, or rename the other",
            "Holdings!E1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Action' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Amount' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Shares to Trade' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Post-Trade %' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Rule' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Reason' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "missing-column",
            "the Holdings table has no 'Flags' column for the run to write to",
            "Holdings!1:1",
        ),
        (
            "merged-cells",
            "cells A4:B5 are merged inside the Holdings table; unmerge them so each row holds one position",
            "Holdings!A4:B5",
        ),
        (
            "formula-in-ticker",
            "Ticker holds the formula '=A1&\"x\"'; type the symbol as text",
            "Holdings!A2",
        ),
        (
            "formula-not-calculated",
            "Shares holds the formula '=C9*2' and no calculated value; type the value, or open and save the file in Excel first",
            "Holdings!B3",
        ),
        (
            "formula-not-calculated",
            "Filled Shares holds the formula '=Z2' and no calculated value; type the value, or open and save the file in Excel first",
            "Trades!F2",
        ),
        (
            "formula-not-calculated",
            "Date holds the formula '=Z1' and no calculated value; type the value, or open and save the file in Excel first",
            "Trades!A2",
        ),
    ]
    household = Book({**good.sheets, "Accounts": Sheet("Accounts", (("zz",),))})
    assert [
        (p.code, p.message, str(p.where.cell))
        for p in read_inputs(household).problems
        if p.where.sheet == "Accounts"
    ] == [("missing-column", "the Accounts sheet has no 'Account' header cell", "Accounts!A1")]


def test_the_file_checks_keep_their_words(tmp_path: Path):
    """pipeline.py's file problems come from the catalogue's templates; this pins the
    words of each refusal check_file, an unreadable package and a lossy write give."""
    import zipfile

    from rebalancer_xl import pipeline
    from rebalancer_xl.adapters.package import PackageError

    (tmp_path / "a.xls").write_bytes(b"x")
    (tmp_path / "b.txt").write_bytes(b"x")
    (tmp_path / "e.xlsx").write_bytes(b"")
    (tmp_path / "o.xlsx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"zz")
    (tmp_path / "z.xlsx").write_bytes(b"PK not")
    # Not found either: a symbolic link to itself, and a path through a file.
    (tmp_path / "loop.xlsx").symlink_to(tmp_path / "loop.xlsx")
    names = ("none.xlsx", ".", "a.xls", "b.txt", "e.xlsx", "o.xlsx", "z.xlsx")
    names += ("loop.xlsx", "b.txt/inside.xlsx")
    found = [pipeline.check_file(tmp_path / n) for n in names]
    book = Path("/x/book.xlsx")
    errors = (
        PackageError("unsafe-package", "twice", part="xl/a.xml"),
        zipfile.BadZipFile("bad crc"),
    )
    found += [pipeline._unreadable(book, err) for err in (*errors, ValueError("boom"))]
    found.append(pipeline._lossy(book, ["a chart", "a pivot"]))
    assert all(p is not None and p.where == WHOLE_FILE for p in found)
    said = [(p.code, p.message.replace(str(tmp_path), "D")) for p in found if p is not None]
    assert said == [
        ("file-not-found", "D/none.xlsx does not exist"),
        ("not-a-file", "D is a folder, not a workbook"),
        ("unsupported-format", "a.xls is a .xls file; save it as an Excel workbook (.xlsx) first"),
        ("unsupported-format", "b.txt is not an .xlsx or .xlsm workbook"),
        ("empty-file", "e.xlsx is empty (0 bytes)"),
        (
            "password-protected",
            "o.xlsx is encrypted (password-protected) or an old .xls saved with a new name; "
            "remove the password in Excel first",
        ),
        (
            "corrupt-file",
            "z.xlsx is not a valid workbook (not a zip package); it may be truncated or damaged",
        ),
        ("file-not-found", "D/loop.xlsx does not exist"),
        ("file-not-found", "D/b.txt/inside.xlsx does not exist"),
        ("unsafe-package", "book.xlsx: the package holds 'xl/a.xml' twice"),
        ("corrupt-file", "book.xlsx: bad crc"),
        ("corrupt-file", "book.xlsx could not be read as a workbook: ValueError: boom"),
        (
            "would-lose-content",
            "writing book.xlsx would change more than the run's own cells: a chart; a pivot. "
            "Nothing was written. Please report this workbook; --force writes it anyway",
        ),
    ]


def test_the_package_adapters_keep_their_words(tmp_path: Path):
    """PackageError is worded by the catalogue from the values its raise site found; these
    are the words the package reader and writer used when they wrote their own."""
    import io

    from rebalancer_xl.adapters import package as P

    def said(action: Callable[[], object]) -> tuple[str, str]:
        with pytest.raises(P.PackageError) as caught:
            action()
        return caught.value.code, caught.value.message

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.xml", b"<a/>")
    with zipfile.ZipFile(buf) as zf:
        assert said(lambda: P.check_members(zf)) == (
            "unsafe-package",
            "the package holds a member named '../evil.xml', which points outside the workbook",
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/big.xml", b"<a>" + b" " * 100 + b"</a>")
    with zipfile.ZipFile(buf) as zf:
        assert said(lambda: P.read_part(zf, "xl/big.xml", 10)) == (
            "unsafe-package",
            "xl/big.xml inflates to 107 bytes from 107: refused as a zip bomb",
        )
    assert said(lambda: P.parse_xml(b"<!DOCTYPE a><a/>", "xl/a.xml")) == (
        "unsafe-package",
        "xl/a.xml declares a DOCTYPE or entities, which no spreadsheet writes: refused",
    )
    code, text = said(lambda: P.parse_xml(b"<a>", "xl/b.xml"))
    assert (code, text.split(":")[0]) == ("corrupt-file", "xl/b.xml is not well-formed XML")
    assert str(P.PackageError("corrupt-file", "no-worksheet", sheet="Holdings")) == (
        "the workbook has no worksheet named 'Holdings'"
    )


def test_past_rows_keep_their_words():
    """A History row's or a fill's problem is the value's message followed by what it
    costs the plan (the catalogue's CONSEQUENCE); pinned word for word."""
    from rebalancer_xl.core import past

    _, (row,) = past.parse_history_row({past.HISTORY_DATE: "soon", past.PORTFOLIO_VALUE: 5})
    assert (row.code, row.message) == (
        "not-a-date",
        "Date is 'soon', not a date; enter a real date or YYYY-MM-DD; this row is left out "
        "of the crash check and quarter returns",
    )
    _, (side,) = past.parse_fill({past.FILLED_SHARES: 3, past.SIDE: "HOLD"})
    assert side.message == (
        "Side is 'HOLD', not one of TRIM, SELL, ADD, BUY; this fill is left out of the "
        "wash-sale check"
    )
    fill = {past.FILLED_SHARES: 3, past.SIDE: "SELL", past.FILL_DATE: "2026-01-05"}
    _, (price,) = past.parse_fill({**fill, past.FILL_PRICE: "cheap"})
    assert price.message == (
        "Fill Price is 'cheap', not a number; the wash-sale check takes this fill at its "
        "Limit Price"
    )


def test_the_recorder_s_words_are_the_catalogue_s():
    """The words record used to write at its call sites, now the catalogue's templates;
    tests/test_quarter.py pins two of them through a real run."""
    from rebalancer_xl.core.problems import message

    d = Decimal
    assert message("cash-negative", short=d("1234.5"), cash=d("100")) == (
        "the fills spend 1,234.50 more than the cash held (100.00 plus the sales' proceeds); "
        "check the fills"
    )
    assert message("sells-more-than-held", sold=d("12"), ticker="PLTR", held=d("10")) == (
        "fills sell 12 shares of PLTR, but Holdings holds 10"
    )
    assert message("not-proposed", "no-trade", side="BUY", ticker="ALAB") == (
        "a BUY fill for ALAB, but the plan proposed no trade of ALAB"
    )
    assert message("date-in-future", "fill", when=date(2027, 1, 2), on=date(2026, 12, 2)) == (
        "the fill's Date 2027-01-02 is after today, 2026-12-02"
    )
    assert message("formula-in-input", ticker="CASH") == (
        "CASH's Shares is a formula, so recording cannot change it; type the number"
    )
    assert message("internal-error", kind="KeyError", error=KeyError("x")) == "KeyError: 'x'"


def test_a_dask_worker_s_refusals_keep_their_words(tmp_path: Path):
    """cluster.py's whole-file problems, worded by the catalogue now (they were missing
    from it: `_failed` was not among the makers the source walk knows)."""
    import socket

    from rebalancer_xl import __version__
    from rebalancer_xl.adapters.cluster import rebalance_on_worker

    host = socket.gethostname()

    def said(**kw: Any) -> tuple[str, str]:
        entry = rebalance_on_worker("book.xlsx", options={}, cwd=str(tmp_path), **kw)
        (p,) = entry["problems"]
        return p["code"], p["message"]

    assert said(seen=None, version="0.0.1") == (
        "version-mismatch",
        f"the Dask worker on {host} has rebalancer-xl {__version__}, this computer 0.0.1; "
        "install the same version on every worker",
    )
    assert said(seen=(1, 0.0), version=__version__) == (
        "not-on-worker",
        f"the Dask worker on {host} cannot see {tmp_path / 'book.xlsx'}; the workers read "
        "and write the files, so they must be on a filesystem every worker mounts at the "
        "same path",
    )


def test_a_header_given_as_its_enum_is_said_as_its_text():
    from rebalancer_xl.core.problems import message
    from rebalancer_xl.workbook import schema as S

    assert message("missing-column", "no-header", name=S.HoldingsHeader.TICKER, rows=3) == (
        "no header row with a 'Ticker' column in the first 3 rows"
    )

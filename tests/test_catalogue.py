"""One catalogue of problem codes, one location for the whole file, one wording, and a
plan that returns what refuses it as values."""

from __future__ import annotations

import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import rebalancer_xl
from rebalancer_xl import Holding, InputError, Settings, make_plan, plan
from rebalancer_xl.core.model import CASH, WHOLE_FILE, Problem, Severity, Where
from rebalancer_xl.core.problems import CATALOGUE
from tests.tables import frame

PACKAGE = Path(rebalancer_xl.__file__).parent
CODE = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")
# The calls through which the package makes a problem, and where their code argument sits.
MAKERS = {
    "Problem",
    "problem",
    "BadValue",
    "PackageError",
    "_raise",
    "_refuse",
    "_problem",
    "located",
    "flag",
}
MAKERS_CODE_SECOND = {"_file_problem", "bad", "fail", "_fault", "Fault"}


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

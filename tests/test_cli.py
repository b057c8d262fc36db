"""The `rebalancer-xl` command: help, usage errors, `new`, the JSON document, batch runs."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from rebalancer_xl.core.model import RuleId
from tests.conftest import (
    AS_OF,
    SAMPLE_TICKERS,
    Layout,
    copy_as,
    edit,
    located,
    run_subprocess,
    set_cell,
    sha256,
)

# --- help and usage ----------------------------------------------------------------------------


def test_top_level_help(cli):
    run = cli("--help")
    assert run.code == 0
    for word in ("new", "run", "--version"):
        assert word in run.out


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("new", ("--sample", "--macro", "--force", "PATH")),
        (
            "run",
            (
                "--dry-run",
                "--json",
                "--output-dir",
                "--jobs",
                "--as-of",
                "--force",
                "--quiet",
                "FILE",
            ),
        ),
    ],
)
def test_subcommand_help(cli, command, options):
    run = cli(command, "--help")
    assert run.code == 0
    for option in options:
        assert option in run.out, option


def test_help_in_a_separate_process():
    run = run_subprocess("run", "--help")
    assert run.code == 0
    assert "--output-dir" in run.out


def test_no_command_is_bad_usage(cli):
    run = cli()
    assert run.code == 2
    assert "run" in run.out  # the help says what to type instead


@pytest.mark.parametrize(
    "args",
    [
        ("run",),  # no files
        ("run", "x.xlsx", "--jobs", "0"),
        ("run", "x.xlsx", "--jobs", "two"),
        ("run", "x.xlsx", "--as-of", "2026-13-01"),
        ("run", "x.xlsx", "--as-of", "31/12/2026"),
        ("run", "x.xlsx", "--no-such-option"),
        ("frobnicate",),
    ],
)
def test_bad_usage_exits_2(cli, args, tmp_path):
    run = cli(*args)
    assert run.code == 2
    assert "usage:" in run.err
    assert not (tmp_path / "x.xlsx").exists()


def test_bad_usage_exits_2_in_a_separate_process():
    run = run_subprocess("run", "book.xlsx", "--as-of", "2026-13-01")
    assert run.code == 2
    assert "2026-13-01" in run.err


# --- new ---------------------------------------------------------------------------------------


def test_new_makes_a_workbook_and_refuses_to_overwrite(cli, tmp_path, at):
    path = tmp_path / "Mine.xlsx"
    assert cli("new", path).code == 0
    assert openpyxl.load_workbook(path).sheetnames[:3] == ["Dashboard", "Holdings", "Settings"]
    first = at.cell("Holdings", "Ticker", SAMPLE_TICKERS[0]).split("!")[1]
    edit(path, set_cell("Holdings", first, "KEEP"))  # the user's work
    before = sha256(path)
    run = cli("new", path, "--sample")
    assert run.code == 1
    assert "--force" in run.err
    assert sha256(path) == before
    assert cli("new", path, "--sample", "--force").code == 0
    assert sha256(path) != before
    assert openpyxl.load_workbook(path)["Holdings"][first].value == SAMPLE_TICKERS[0]


def test_new_sample_runs_cleanly(cli, tmp_path):
    path = tmp_path / "Try.xlsx"
    assert cli("new", path, "--sample").code == 0
    run = cli("run", path, "--dry-run", "--json")
    assert run.code == 0
    assert run.file["problems"] == []


def test_new_needs_an_xlsx_name(cli, tmp_path):
    assert cli("new", tmp_path / "book.xls").code == 2
    assert not (tmp_path / "book.xls").exists()


# --- the JSON document -------------------------------------------------------------------------


def test_json_document_shape(cli, sample, tmp_path, at):
    bad = copy_as(sample, tmp_path / "bad" / "bad.xlsx")
    strategy = at.setting("Strategy")
    edit(bad, set_cell("Settings", strategy.split("!")[1], "Momentum"))
    run = cli("run", sample, bad, "--json", "--dry-run")
    assert run.code == 1
    doc = json.loads(run.out)  # stdout holds the document and nothing else
    assert set(doc) == {"files"}
    good, failed = doc["files"]
    assert (good["path"], good["status"], failed["path"], failed["status"]) == (
        str(sample),
        "ok",
        str(bad),
        "error",
    )

    for key, kind in (
        ("portfolio_value", float),
        ("cash_left", float),
        ("next_rebalance_date", str),
        ("actions", list),
        ("trades", list),
        ("tax", dict),
        ("metrics", dict),
        ("problems", list),
    ):
        assert isinstance(good[key], kind), key
    metrics = good["metrics"]
    assert metrics["value"] == 120_000
    assert metrics["largest"] == {"ticker": "PLTR", "weight": 0.375}
    assert {r["ticker"]: r["class"] for r in metrics["returns"]}["PLTR"] == "Winner"
    assert good["problems"] == []
    assert [a["ticker"] for a in good["actions"]] == list(SAMPLE_TICKERS)
    for action in good["actions"]:
        assert set(action) == {
            "ticker",
            "action",
            "amount",
            "shares",
            "post_trade_pct",
            "rule",
            "rule_id",
            "reason",
            "flags",
        }
        assert action["action"] in {"HOLD", "TRIM", "SELL", "ADD", "BUY"}
        assert isinstance(action["amount"], float)
        assert action["amount"] >= 0
        assert isinstance(action["shares"], float)
        assert action["shares"] >= 0
        assert 0 <= action["post_trade_pct"] <= 1
        assert action["rule"]
        assert action["rule_id"] in {r.value for r in RuleId}
        assert action["reason"]
        assert isinstance(action["flags"], str)
    # The sample portfolio is $120,000 on its As-of Date (sample.py says so; check it).
    wb = openpyxl.load_workbook(sample)
    ws = wb["Holdings"]
    header = [c.value for c in ws[1]]
    total = sum(
        row[header.index("Shares")] * row[header.index("Current Price")]
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[0]
    )
    assert good["portfolio_value"] == pytest.approx(total, abs=0.005) == 120_000
    assert good["next_rebalance_date"] > AS_OF.isoformat()

    # A failed entry has every key a good one has: lists empty, everything else null.
    assert list(failed) == list(good)
    assert {k: failed[k] for k in ("actions", "trades", "notes", "content_lost")} == {
        "actions": [],
        "trades": [],
        "notes": [],
        "content_lost": [],
    }
    for key in (
        "portfolio_value",
        "cash_left",
        "as_of",
        "next_rebalance_date",
        "emergency_only",
        "tax",
        "written",
    ):
        assert failed[key] is None, key
    [problem] = failed["problems"]
    assert set(problem) == {"sheet", "cell", "code", "message", "severity"}
    assert (f"{problem['sheet']}!{problem['cell']}", problem["code"], problem["severity"]) == (
        strategy,
        "bad-choice",
        "error",
    )
    assert "Momentum" in problem["message"]


def test_json_cash_left_is_cash_after_the_trades(cli, sample):
    """Independent arithmetic on the document: cash + sells − buys = cash left."""
    f = cli("run", sample, "--dry-run", "--json").file
    cash = next(a for a in f["actions"] if a["ticker"] == "CASH")
    assert cash["action"] == "HOLD"
    wb = openpyxl.load_workbook(sample)
    rows = list(wb["Holdings"].iter_rows(values_only=True))
    header = rows[0]
    cash_before = next(r[header.index("Shares")] for r in rows[1:] if r[0] == "CASH")
    sells = sum(t["amount"] for t in f["trades"] if t["side"] == "SELL")
    buys = sum(t["amount"] for t in f["trades"] if t["side"] == "BUY")
    assert f["cash_left"] == pytest.approx(cash_before + sells - buys, abs=0.005)


# --- batch runs ----------------------------------------------------------------------------------


@pytest.fixture
def typo(at: Layout) -> str:
    """The cell the bad file of a batch has a typo in."""
    return at.cell("Holdings", "Shares", "ALAB")


@pytest.fixture
def batch(sample_master: Path, tmp_path: Path, typo: str) -> list[Path]:
    """Three good workbooks and, second in line, one with a typo."""
    files = [
        copy_as(sample_master, tmp_path / "in" / f"{name}.xlsx")
        for name in ("a", "broken", "c", "d")
    ]
    edit(files[1], set_cell("Holdings", typo.split("!")[1], "ten"))
    return files


def test_batch_with_one_bad_file(cli, batch, typo):
    before = {p: sha256(p) for p in batch}
    run = cli("run", *batch)
    assert run.code == 1
    bad = batch[1]
    assert sha256(bad) == before[bad]
    for good in (batch[0], batch[2], batch[3]):
        assert sha256(good) != before[good]  # written in place
        assert f"Log {AS_OF.isoformat()}" in openpyxl.load_workbook(good).sheetnames
    assert "3 ok, 1 failed" in run.out  # the summary closes the run
    assert f"{bad}: {typo}: not-a-number:" in run.err


def test_batch_json_lists_files_in_input_order(cli, batch, typo):
    run = cli("run", *batch, "--json", "--dry-run")
    assert run.code == 1
    files = run.doc["files"]
    assert [f["path"] for f in files] == [str(p) for p in batch]
    assert [f["status"] for f in files] == ["ok", "error", "ok", "ok"]
    assert located(files[1]) == [("not-a-number", typo)]


def test_jobs_2_gives_the_same_document_as_jobs_1(cli, batch):
    one = cli("run", *batch, "--json", "--dry-run", "--jobs", "1")
    two = cli("run", *batch, "--json", "--dry-run", "--jobs", "2")
    assert (one.code, two.code) == (1, 1)
    assert two.out == one.out


def test_the_same_file_twice_is_processed_once(cli, sample):
    other_spelling = f"{sample.parent}/./{sample.name}"
    run = cli("run", sample, other_spelling, sample, "--json")
    assert run.code == 0
    assert [f["path"] for f in run.doc["files"]] == [str(sample)]


def test_output_dir_refuses_two_files_of_one_name(cli, sample_master, tmp_path):
    """a/book.xlsx and b/book.xlsx would both become DIR/book.xlsx: one copy lost."""
    a = copy_as(sample_master, tmp_path / "a" / "book.xlsx")
    b = copy_as(sample_master, tmp_path / "b" / "book.xlsx")
    out = tmp_path / "out"
    run = cli("run", a, b, "--output-dir", out, "--jobs", "2")
    assert run.code == 2
    assert "book.xlsx" in run.err
    assert not out.exists()
    assert sha256(a) == sha256(b) == sha256(sample_master)


def test_output_dir_writes_copies_and_leaves_originals(cli, batch, tmp_path):
    before = {p: sha256(p) for p in batch}
    out = tmp_path / "done"
    run = cli("run", *batch, "--output-dir", out, "--json", "--jobs", "2")
    assert run.code == 1
    assert {p: sha256(p) for p in batch} == before
    written = {f["path"]: f.get("written") for f in run.doc["files"]}
    for p in (batch[0], batch[2], batch[3]):
        copy = out / p.name
        assert written[str(p)] == str(copy)
        assert sha256(copy) != before[p]
        assert f"Log {AS_OF.isoformat()}" in openpyxl.load_workbook(copy).sheetnames
    assert written[str(batch[1])] is None
    assert sorted(x.name for x in out.iterdir()) == ["a.xlsx", "c.xlsx", "d.xlsx"]


def test_as_of_option_overrides_the_setting(cli, sample):
    run = cli("run", sample, "--dry-run", "--json", "--as-of", "2027-01-15")
    assert run.code == 0
    assert run.file["as_of"] == "2027-01-15"
    assert run.file["next_rebalance_date"] > "2027-01-15"


def test_a_single_good_run_prints_the_plan(cli, sample):
    run = cli("run", sample, "--dry-run")
    assert run.code == 0
    for ticker in SAMPLE_TICKERS:
        assert ticker in run.out
    assert "Dry run: nothing was written." in run.out


def test_a_crash_on_one_file_does_not_stop_the_batch(cli, batch, monkeypatch):
    """A bug is reported as that file's `internal-error`, in the same shape as any problem."""
    import rebalancer_xl.pipeline as pipeline

    real = pipeline.process_file

    def flaky(path, **options):
        if Path(path).name == "c.xlsx":
            raise RuntimeError("boom")
        return real(path, **options)

    monkeypatch.setattr(pipeline, "process_file", flaky)
    run = cli("run", *batch, "--json", "--dry-run")
    assert run.code == 1
    assert [f["status"] for f in run.doc["files"]] == ["ok", "error", "error", "ok"]
    crashed = run.doc["files"][2]
    [problem] = crashed["problems"]
    assert set(problem) == {"sheet", "cell", "code", "message", "severity"}
    assert (problem["code"], problem["severity"]) == ("internal-error", "error")
    assert "boom" in problem["message"]
    assert list(crashed) == list(run.doc["files"][0])  # the same keys as a good entry
    assert (crashed["actions"], crashed["portfolio_value"], crashed["tax"]) == ([], None, None)


def test_as_of_reads_dates_as_the_as_of_date_setting_does(cli, sample):
    """One date parser: text the As-of Date cell accepts, `--as-of` accepts too."""
    from rebalancer_xl.core.values import parse_date

    assert parse_date("2027-1-5", "As-of Date").isoformat() == "2027-01-05"
    run = cli("run", sample, "--dry-run", "--json", "--as-of", "2027-1-5")
    assert run.code == 0
    assert run.file["as_of"] == "2027-01-05"

"""One pipeline for every way in: read a grid → build the model → plan → render writes.

`plan_book` is the shared middle. The batch path (`process_file`) wraps it with the
package reader and writer (adapters/package*.py): it refuses files it cannot read
safely, never writes a workbook with errors, edits only the cells the run writes, has
the verifier check the result, and replaces the file atomically. The Excel button
(`rebalancer_xl.xl`) wraps the same middle with xlwings.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rebalancer_xl import __version__
from rebalancer_xl.adapters.files import atomic_write, locked, remove_stale
from rebalancer_xl.core.engine import paused_gc
from rebalancer_xl.core.engine import plan as make_plan
from rebalancer_xl.core.household import plan_household
from rebalancer_xl.core.model import WHOLE_FILE, Plan, Problem
from rebalancer_xl.core.problems import problem
from rebalancer_xl.workbook.grid import Book, Op
from rebalancer_xl.workbook.schema import SETTINGS_SHEET
from rebalancer_xl.workbook.totals import writes_on_totals

if TYPE_CHECKING:
    from rebalancer_xl.adapters.package import Package, PackageError
from rebalancer_xl.workbook.inputs import BookInputs, read_inputs
from rebalancer_xl.workbook.render import RunInfo, render_plan

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls files and encrypted .xlsx files
RUN_LABEL = f"rebalancer-xl {__version__}"


@dataclass(slots=True)
class Outcome:
    """What planning a workbook produced: the plan and its writes, or the problems."""

    inputs: BookInputs
    plan: Plan | None = None
    ops: list[Op] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.plan is not None


def plan_book(book: Book, *, as_of: date | None = None, today: date | None = None) -> Outcome:
    """Read inputs from `book`, plan, and render the writes. Pure apart from the clock."""
    inputs = read_inputs(book)
    outcome = Outcome(inputs, problems=list(inputs.problems))
    if inputs.errors:
        return outcome
    run_date = as_of or inputs.settings.as_of_date or today or date.today()
    accounts = inputs.accounts
    planner = (
        make_plan
        if accounts is None
        # A household: the same plan, placed into its accounts (SPEC §9).
        else lambda holdings, settings, **rest: plan_household(holdings, accounts, settings, **rest)
    )
    plan = planner(
        inputs.holdings,
        inputs.settings,
        as_of=run_date,
        history=inputs.history,
        lots=inputs.lots,
        past_trades=inputs.past_trades,
        warnings=[p for p in inputs.problems if not p.is_error],
    )
    # The engine's own problems (a withdrawal locked rows cannot pay; targets not reviewed
    # within the year), placed on their Settings cell.
    found = [_on_cell(p, inputs) for p in plan.problems if p not in inputs.problems]
    if plan.errors:
        outcome.problems.extend(p for p in found if p.is_error)
        return outcome
    outcome.problems.extend(found)
    plan = replace(plan, problems=tuple(_on_cell(p, inputs) for p in plan.problems))
    ops = render_plan(plan, inputs, book, RunInfo(run_date, RUN_LABEL))
    blocked = writes_on_totals(book, ops)  # rows to add where a table keeps its sums
    if blocked:
        outcome.problems.extend(blocked)
        return outcome
    outcome.plan, outcome.ops = plan, ops
    return outcome


def _on_cell(p: Problem, inputs: BookInputs) -> Problem:
    """A Settings problem located by name only, moved onto the setting's Value cell."""
    w = p.where
    if w.cell is not None or w.sheet != SETTINGS_SHEET or not w.column:
        return p
    if inputs.locate_setting is None:
        return p
    return replace(p, where=inputs.locate_setting(w.column))


# --- the batch path: one file ------------------------------------------------------------


@dataclass(slots=True)
class FileResult:
    path: str
    status: str  # "ok" | "error"
    problems: list[Problem] = field(default_factory=list)
    plan: Plan | None = None
    written: str | None = None
    losses: list[str] = field(default_factory=list)
    detail: object = None  # the command's own answer (see `Edit`)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _file_problem(path: Path, code: str, form: str = "", /, **values: object) -> Problem:
    """A problem of the whole file at `path`, worded by the catalogue (which may name the
    path as given, `path`, or the file's name, `name`)."""
    return problem(code, WHOLE_FILE, form, path=path, name=path.name, **values)


def _passed_on(src: Path, err: PackageError) -> Problem:
    """A package adapter's problem, as it worded it, after the file's name."""
    return Problem(err.code, f"{src.name}: {err.message}", WHOLE_FILE)


def check_file(path: Path) -> Problem | None:
    """Refuse what is not a workbook the run can read, before trying: with a message a
    person can act on."""
    # One stat and one open for all of it: each system call costs microseconds, and a
    # batch checks thousands of files.
    try:
        info = path.stat()
    except OSError as err:
        # What `Path.exists()` answers False for: no such file, a folder on the way that
        # is a file, a symbolic link loop. Anything else is not for this check to hide.
        if err.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EBADF):
            return _file_problem(path, "file-not-found")
        raise
    if stat.S_ISDIR(info.st_mode):
        return _file_problem(path, "not-a-file")
    suffix = path.suffix.lower()
    if suffix in (".xls", ".csv", ".ods", ".numbers", ".xlsb"):
        return _file_problem(path, "unsupported-format", "other-app", suffix=suffix)
    if suffix not in (".xlsx", ".xlsm"):
        return _file_problem(path, "unsupported-format")
    if info.st_size == 0:
        return _file_problem(path, "empty-file")
    with path.open("rb", buffering=0) as f:
        head = f.read(8)
        if head == OLE_MAGIC:
            return _file_problem(path, "password-protected")
        if not zipfile.is_zipfile(f):
            return _file_problem(path, "corrupt-file", "not-zip")
    return None


@dataclass(slots=True)
class Edit:
    """What a command makes of a workbook: the writes, or the problems that stop it.

    `detail` is the command's own answer (a plan, the fills recorded, a check's
    findings). An edit with no ops writes nothing: the file is left as it was.
    """

    ok: bool
    ops: list[Op] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    detail: object = None


def process_file(
    path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    output_dir: str | os.PathLike[str] | None = None,
    as_of: date | None = None,
    force: bool = False,
    today: date | None = None,
    swept: bool = False,
) -> FileResult:
    """Plan one workbook and write the results (in place, or into `output_dir`).

    `swept` says the caller has just removed the stale temporary files beside the
    workbook and in `output_dir` (`files.remove_stale_beside`), as a batch does once a
    folder; else this run does, for its own file.
    """

    def plan(book: Book) -> Edit:
        outcome = plan_book(book, as_of=as_of, today=today)
        return Edit(outcome.ok, outcome.ops, outcome.problems, outcome.plan)

    result = edit_file(path, plan, dry_run=dry_run, output_dir=output_dir, force=force, swept=swept)
    if isinstance(result.detail, Plan):
        result.plan = result.detail
    return result


def edit_file(
    path: str | os.PathLike[str],
    editor: Callable[[Book], Edit],
    *,
    dry_run: bool = False,
    output_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    swept: bool = False,
) -> FileResult:
    """Read one workbook, let `editor` decide the writes, and write them atomically and
    losslessly (in place, or into `output_dir`). Every command that changes a workbook
    (run, record, check, calendar) comes through here, so each refuses the same files
    and writes the same way. `swept`: as for `process_file`."""
    # A run makes many short-lived objects and no cycles worth chasing mid-file; the
    # collector's passes over lxml's proxies cost about 5% of a small workbook's run.
    with paused_gc():
        return _edit_file(
            path, editor, dry_run=dry_run, output_dir=output_dir, force=force, swept=swept
        )


def _edit_file(
    path: str | os.PathLike[str],
    editor: Callable[[Book], Edit],
    *,
    dry_run: bool,
    output_dir: str | os.PathLike[str] | None,
    force: bool,
    swept: bool,
) -> FileResult:
    src = Path(path)
    result = FileResult(str(path), "error")
    bad = check_file(src)
    if bad is not None:
        result.problems.append(bad)
        return result
    # A run killed outright (kill -9, a power cut) leaves its temporary file behind; the
    # next run of the same workbook clears it, whatever that run's outcome.
    if not swept:
        remove_stale(Path(os.path.realpath(src)))
    in_place = output_dir is None or (Path(output_dir) / src.name).resolve() == src.resolve()
    if not dry_run and in_place and not os.access(src, os.W_OK):
        result.problems.append(_file_problem(src, "read-only"))
        return result
    with locked(src) as seen:
        if seen is None:
            result.problems.append(_file_problem(src, "in-use"))
            return result
        return _read_edit_write(src, seen, result, editor, dry_run, output_dir, force, swept)


def _read_edit_write(
    src: Path,
    seen: os.stat_result,
    result: FileResult,
    editor: Callable[[Book], Edit],
    dry_run: bool,
    output_dir: str | os.PathLike[str] | None,
    force: bool,
    swept: bool,
) -> FileResult:
    from rebalancer_xl.adapters.package import Package
    from rebalancer_xl.adapters.package_read import book_from_package

    try:
        package = Package(src)  # refuses a hostile package before anything is inflated
    except Exception as err:
        result.problems.append(_unreadable(src, err))
        return result
    try:
        book = book_from_package(package)
    except Exception as err:
        package.close()
        result.problems.append(_unreadable(src, err))
        return result

    try:
        edit = editor(book)
        result.problems = edit.problems
        result.detail = edit.detail
        if not edit.ok:
            return result
        # Every command's writes, as plan_book and plan_record check their own for the
        # button too: none may land on the Total Row of a table.
        blocked = writes_on_totals(book, edit.ops)
        if blocked:
            result.problems = [*edit.problems, *blocked]
            return result
        if dry_run or not edit.ops:
            result.status = "ok"
            return result
        dest = Path(output_dir) / src.name if output_dir is not None else src
        return _write(package, seen, dest, edit.ops, result, force=force, swept=swept)
    finally:
        package.close()


def _write(
    package: Package,
    seen: os.stat_result,
    dest: Path,
    ops: list[Op],
    result: FileResult,
    *,
    force: bool,
    swept: bool,
) -> FileResult:
    """Edit the package surgically into a temporary file, verify it, then replace `dest`."""
    from rebalancer_xl.adapters.package import PackageError, verify

    src = package.path
    in_place = dest is src or dest.resolve() == src.resolve()  # `is`: no lstat per folder
    try:
        package.apply(ops)
        # In place, `_edit_file` has just cleared the stale temporary files beside it; a
        # batch has cleared `dest`'s folder too.
        with atomic_write(dest, cleared=in_place or swept) as pending:
            with pending.path.open("wb") as out:
                plan = package.write(out)
            lost = verify(package.zf, pending.path, plan)
            if lost and not force:
                pending.cancel()
                result.problems.append(_lossy(src, lost))
                return result
            now = src.stat()
            if in_place and (now.st_mtime_ns, now.st_size, now.st_ino) != (
                seen.st_mtime_ns,
                seen.st_size,
                seen.st_ino,
            ):
                pending.cancel()
                result.problems.append(_file_problem(src, "changed-while-running"))
                return result
    except PackageError as err:
        result.problems.append(_passed_on(src, err))
        return result
    except OSError as err:
        # A full disk, a full quota, or a file-size limit (ulimit -f): the same answer.
        if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
            result.problems.append(_file_problem(src, "no-space", dest=dest, reason=err.strerror))
            return result
        raise
    result.losses = lost
    result.written = str(dest)
    result.status = "ok"
    return result


def _unreadable(src: Path, err: Exception) -> Problem:
    """The problem for a package that cannot be opened or read safely."""
    from rebalancer_xl.adapters.package import PackageError

    if isinstance(err, PackageError):
        return _passed_on(src, err)
    if isinstance(err, zipfile.BadZipFile):
        return _file_problem(src, "corrupt-file", "bad-zip", error=err)
    # A damaged package fails in many ways; none of them is the user's bug.
    return _file_problem(src, "corrupt-file", "unreadable", kind=type(err).__name__, error=err)


def _lossy(src: Path, losses: list[str]) -> Problem:
    listing = "; ".join(losses)
    return _file_problem(src, "would-lose-content", losses=listing)

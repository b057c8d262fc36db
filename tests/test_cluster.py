"""`rebalancer-xl run --scheduler`: the batch on a real Dask cluster.

A real scheduler and two real workers are started on 127.0.0.1 with Dask's own
`dask scheduler` and `dask worker` commands, as an adviser would start them, and the
command runs against them as a separate process. Every process is started in a session
of its own and that whole session is ended afterwards, pass or fail, so no worker (or
the worker process a nanny restarts) outlives the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import AS_OF, Layout, big_book, copy_as, edit, set_cell, sha256

distributed = pytest.importorskip("distributed")

DASK = Path(sys.executable).with_name("dask")
#: The retry the README asks a scheduler for: a file whose worker dies runs once more.
SCHEDULER_ENV = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
START_TIMEOUT = 60


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.out)


def command(*args: object, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`rebalancer-xl ARGS` as a separate process in `cwd`, as a shell runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "rebalancer_xl", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def start(argv: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SCHEDULER_ENV},
            start_new_session=True,  # so the nanny's worker process is ended with it
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End `proc` and everything it started (its session), politely, then for sure."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            # The session may outlive its leader (a nanny's child): end the rest too.
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Cluster:
    address: str
    client: Any  # a distributed.Client of our own, to watch and to kill workers
    worker_dir: Path  # the workers' working folder, which the client side never uses

    def pid(self, worker: str) -> int:
        return int(self.client.run(os.getpid, workers=[worker])[worker])

    def wait_for_workers(self, n: int = 2) -> None:
        self.client.wait_for_workers(n, timeout=START_TIMEOUT)


def start_scheduler(root: Path, procs: list[subprocess.Popen[bytes]]) -> str:
    """Start `dask scheduler` on a free port of 127.0.0.1 (added to `procs`); its address."""
    file = root / "scheduler.json"
    log = root / "scheduler.log"
    scheduler = ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    procs.append(start([str(DASK), *scheduler, "--scheduler-file", str(file)], root, log))
    deadline = time.monotonic() + START_TIMEOUT
    while not file.exists():
        assert time.monotonic() < deadline, log.read_text()
        assert procs[-1].poll() is None, log.read_text()
        time.sleep(0.1)
    time.sleep(0.2)  # the file is written whole, but give the writer its moment
    return str(json.loads(file.read_text())["address"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("dask")
    workers = root / "workers"
    workers.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        address = start_scheduler(root, procs)
        worker = ["--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        for i in range(2):
            procs.append(
                start(
                    [str(DASK), "worker", address, *worker, "--name", f"w{i}"],
                    workers,  # not where the tests keep their workbooks
                    root / f"worker{i}.log",
                )
            )
        client = distributed.Client(address, timeout=START_TIMEOUT)
        try:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            yield Cluster(address, client, workers)
        finally:
            client.close()
    finally:
        for proc in reversed(procs):
            stop(proc)


def books(folder: Path, master: Path, n: int) -> list[str]:
    """`n` copies of `master` in `folder` under names relative to it."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"book{i:02d}.xlsx" for i in range(n)]
    for name in names:
        copy_as(master, folder / name)
    return names


# --- the same answer as --jobs 1 -------------------------------------------------------------


def test_cluster_gives_the_same_document_and_files_as_jobs_1(
    cluster, sample_master, tmp_path, at: Layout
):
    """20 workbooks, one with a typo and one missing, written into --output-dir: the JSON,
    the exit code and every written file are those of `--jobs 1`."""
    typo = at.cell("Holdings", "Shares", "ALAB")
    results = {}
    for how in ("jobs", "dask"):
        here = tmp_path / how
        names = books(here / "clients", sample_master, 19)
        edit(here / "clients" / names[3], set_cell("Holdings", typo.split("!")[1], "ten"))
        files = [f"clients/{n}" for n in names] + ["clients/missing.xlsx"]
        extra = ["--jobs", "1"] if how == "jobs" else ["--scheduler", cluster.address]
        run = command("run", *files, "--output-dir", "done", "--json", *extra, cwd=here)
        results[how] = (run, {p.name: sha256(p) for p in sorted((here / "done").iterdir())})
    (one, one_files), (dask, dask_files) = results["jobs"], results["dask"]
    assert one.code == dask.code == 1
    assert dask.out == one.out
    assert len(one_files) == 18
    assert dask_files.keys() == one_files.keys()  # the same files written …
    assert dask_files == one_files  # … byte for byte
    doc = dask.doc["files"]
    assert [f["status"] for f in doc].count("ok") == 18
    assert [(p["code"], f"{p['sheet']}!{p['cell']}") for p in doc[3]["problems"]] == [
        ("not-a-number", typo)
    ]
    assert doc[-1]["problems"][0]["code"] == "file-not-found"
    assert doc[0]["written"] == "done/book00.xlsx"
    assert "Traceback" not in dask.err


def test_a_local_cluster_gives_the_same_document_as_jobs_1(sample_master, tmp_path):
    names = books(tmp_path, sample_master, 4)
    one = command("run", *names, "--json", "--dry-run", cwd=tmp_path)
    local = command(
        "run", *names, "--json", "--dry-run", "--scheduler", "local", "--jobs", "2", cwd=tmp_path
    )
    assert (one.code, local.code) == (0, 0), local.err
    assert local.out == one.out
    assert "Warning" not in local.err  # e.g. runpy's, when each worker re-ran the command
    assert {sha256(tmp_path / n) for n in names} == {sha256(sample_master)}  # a dry run


def test_in_place_run_on_the_cluster_writes_every_file(cluster, sample_master, tmp_path):
    names = books(tmp_path, sample_master, 3)
    run = command("run", *names, "--scheduler", cluster.address, cwd=tmp_path)
    assert run.code == 0, run.err
    assert "3 ok, 0 failed" in run.out  # the summary table, as with --jobs
    for name in names:
        assert f"Log {AS_OF.isoformat()}" in openpyxl.load_workbook(tmp_path / name).sheetnames
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


# --- what only the client can see ------------------------------------------------------------


def test_a_path_only_the_client_can_see_is_that_files_problem(cluster, sample_master, tmp_path):
    """/proc/self/cwd is the folder of whichever process looks: for the command it is the
    folder holding the workbooks, for a worker its own folder. So the same path names a
    file on this side and nothing (or another file) on the workers' side, as when a
    folder is not shared."""
    if not Path("/proc/self/cwd").exists():
        pytest.skip("needs Linux's /proc")
    names = books(tmp_path, sample_master, 2)
    unseen, other = (f"/proc/self/cwd/{n}" for n in names)
    different = cluster.worker_dir / names[1]  # a different file under the same path
    big_book(different, 3)
    try:
        run = command("run", unseen, other, "--json", "--scheduler", cluster.address, cwd=tmp_path)
    finally:
        different.unlink()
    assert run.code == 1, run.err
    codes = [(f["path"], f["problems"][0]["code"]) for f in run.doc["files"]]
    assert codes == [(unseen, "not-on-worker"), (other, "not-shared")]
    message = run.doc["files"][0]["problems"][0]["message"]
    assert "cannot see" in message
    assert "shared" in message or "mounts" in message
    assert {sha256(tmp_path / n) for n in names} == {sha256(sample_master)}


def test_an_output_folder_only_the_client_can_see_is_reported(cluster, sample_master, tmp_path):
    """The output folder is made on this side; a worker that cannot see it says so rather
    than making one of its own on its own disk."""
    names = books(tmp_path, sample_master, 1)
    out = "/proc/self/cwd/done"
    if not Path("/proc/self/cwd").exists():
        pytest.skip("needs Linux's /proc")
    run = command(
        "run", *names, "--output-dir", out, "--json", "--scheduler", cluster.address, cwd=tmp_path
    )
    assert run.code == 1, run.err
    (problem,) = run.doc["files"][0]["problems"]
    assert problem["code"] == "not-on-worker"
    assert "output folder" in problem["message"]
    assert list((tmp_path / "done").iterdir()) == []
    assert not (cluster.worker_dir / "done").exists()


def test_a_worker_of_another_version_refuses_the_file(sample_master, tmp_path):
    """What a worker does when its rebalancer-xl is not the client's (called directly)."""
    from rebalancer_xl.adapters.cluster import rebalance_on_worker

    (name,) = books(tmp_path, sample_master, 1)
    seen = ((tmp_path / name).stat().st_size, (tmp_path / name).stat().st_mtime)
    options = {"dry_run": False, "output_dir": None, "as_of": None, "force": False}
    entry = rebalance_on_worker(name, seen, options=options, cwd=str(tmp_path), version="0.0.1")
    assert (entry["path"], entry["status"]) == (name, "error")
    assert [p["code"] for p in entry["problems"]] == ["version-mismatch"]
    assert sha256(tmp_path / name) == sha256(sample_master)
    same = rebalance_on_worker(
        name, seen, options=options, cwd=str(tmp_path), version=rebalancer_version()
    )
    assert (same["path"], same["status"], same["written"]) == (name, "ok", name)


def test_a_task_sends_its_result_as_one_pickle_that_unpacks_to_the_same_entry(
    sample_master, tmp_path
):
    """The task the cluster runs (`rebalance_packed`) gives the worker's entry pickled,
    as one bytes object (which Dask sizes and sends without walking it); unpacked, it
    is the entry itself, nested values and types included."""
    from dask.sizeof import sizeof

    from rebalancer_xl.adapters.cluster import _unpack, rebalance_on_worker, rebalance_packed

    (name,) = books(tmp_path, sample_master, 1)
    seen = ((tmp_path / name).stat().st_size, (tmp_path / name).stat().st_mtime)
    options = {"dry_run": True, "output_dir": None, "as_of": None, "force": False}
    kw = {"options": options, "cwd": str(tmp_path), "version": rebalancer_version()}
    packed = rebalance_packed(name, seen, **kw)
    assert isinstance(packed, bytes)
    assert sizeof(packed) < len(packed) + 100
    entry = rebalance_on_worker(name, seen, **kw)
    assert (entry["status"], entry["path"]) == ("ok", name)
    assert _unpack(packed) == entry
    assert json.dumps(_unpack(packed), default=str) == json.dumps(entry, default=str)


def rebalancer_version() -> str:
    from rebalancer_xl import __version__

    return __version__


# --- a scheduler that is not there -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_is_one_line_and_exit_2(sample_master, tmp_path):
    names = books(tmp_path, sample_master, 1)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    run = command(
        "run",
        *names,
        "--scheduler",
        address,
        cwd=tmp_path,
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"rebalancer-xl: cannot reach the Dask scheduler at {address}")
    assert run.out == ""
    assert sha256(tmp_path / names[0]) == sha256(sample_master)


def test_a_scheduler_without_workers_is_one_line_and_exit_2(sample_master, tmp_path):
    names = books(tmp_path, sample_master, 1)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        address = start_scheduler(tmp_path, procs)
        run = command(
            "run",
            *names,
            "--scheduler",
            address,
            cwd=tmp_path,
            env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
        )
    finally:
        for proc in procs:
            stop(proc)
    assert run.code == 2
    assert run.err.strip().splitlines() == [
        f"rebalancer-xl: the Dask scheduler at {address} has no workers (waited 2s); "
        f"start some with: dask worker {address}"
    ]
    assert sha256(tmp_path / names[0]) == sha256(sample_master)


def test_without_dask_the_option_says_how_to_install_it(sample_master, tmp_path):
    names = books(tmp_path, sample_master, 1)
    # `distributed` set to None in sys.modules: any import of it fails, as when not installed.
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from rebalancer_xl.cli import main\n"
        f"sys.exit(main(['run', {names[0]!r}, '--scheduler', 'local']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "pip install 'rebalancer-xl[dask]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_says_the_workers_need_the_files_on_a_shared_filesystem():
    run = command("run", "--help", cwd=Path.cwd())
    assert run.code == 0
    text = " ".join(run.out.split())
    assert "--scheduler ADDRESS" in text
    assert "filesystem every worker mounts at the same path" in text
    assert "pip install 'rebalancer-xl[dask]'" in text


def test_the_command_and_the_button_never_import_dask():
    code = (
        "import sys\n"
        "import rebalancer_xl.xl, rebalancer_xl.cli, rebalancer_xl.adapters.cluster, rebalancer_xl.api\n"
        "from rebalancer_xl.cli import main\n"
        "main(['run', 'no-such-book.xlsx', '--json'])\n"
        "print('dask:', *sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "dask:"


# --- workers that die --------------------------------------------------------------------------


def kill_while_running(cluster: Cluster, index: int, proc: subprocess.Popen[str], times: int):
    """SIGKILL the worker process executing the batch's file number `index` (not merely
    assigned it: inside the call), on up to `times` of its tries; the workers killed."""

    def executing(dask_worker: Any) -> tuple[int, list[Any]]:
        # Defined in here so that it travels by value: workers cannot import the tests.
        return os.getpid(), [ts.key for ts in dask_worker.state.executing]

    killed: list[str] = []
    deadline = time.monotonic() + 60
    while proc.poll() is None and len(killed) < times and time.monotonic() < deadline:
        for worker, info in cluster.client.run(executing, on_error="return").items():
            if isinstance(info, BaseException) or worker in killed:
                continue  # a worker just killed, or restarting
            pid, keys = info
            if any(isinstance(k, tuple) and k[1] == index for k in keys):
                os.kill(pid, signal.SIGKILL)  # the file takes a second: well inside it
                killed.append(worker)
        time.sleep(0.02)
    return killed


def background(*args: object, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rebalancer_xl", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def big_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,500 holdings: about a second to process, so a kill lands inside the file."""
    return big_book(tmp_path_factory.mktemp("big") / "big.xlsx", 2500)


def test_a_worker_killed_mid_file_is_retried_and_the_batch_completes(
    cluster, sample_master, big_master, tmp_path
):
    cluster.wait_for_workers(2)
    names = books(tmp_path, sample_master, 4)
    copy_as(big_master, tmp_path / "big.xlsx")
    # The big file first: the worker killed inside it holds no finished file's result
    # yet (a result not yet collected is computed again when its worker dies).
    files = ["big.xlsx", *names]
    expected = tmp_path / "expected"
    expected.mkdir()
    for f in files:
        shutil.copyfile(tmp_path / f, expected / f)
    one = command("run", *files, "--json", cwd=expected)

    proc = background("run", *files, "--json", "--scheduler", cluster.address, cwd=tmp_path)
    try:
        killed = kill_while_running(cluster, 0, proc, times=1)
        out, err = proc.communicate(timeout=150)
    finally:
        proc.kill()
    assert len(killed) == 1, "the big file was never seen running"  # so it ran twice
    assert proc.returncode == 0, err
    assert out == one.out  # the retry's result is the result
    for f in files:
        assert sha256(tmp_path / f) == sha256(expected / f)  # complete, and the same
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_file_whose_workers_die_twice_is_reported_failed(cluster, big_master, tmp_path):
    cluster.wait_for_workers(2)
    path = copy_as(big_master, tmp_path / "big.xlsx")
    before = sha256(path)
    proc = background("run", "big.xlsx", "--json", "--scheduler", cluster.address, cwd=tmp_path)
    try:
        killed = kill_while_running(cluster, 0, proc, times=2)
        out, err = proc.communicate(timeout=150)
    finally:
        proc.kill()
    assert len(killed) == 2, err
    assert proc.returncode == 1, err
    (entry,) = json.loads(out)["files"]
    assert entry["status"] == "error"
    (problem,) = entry["problems"]
    assert problem["code"] == "worker-died"
    assert "2 tries" in problem["message"]
    assert "died" in problem["message"]
    # Killed mid-read both times, the workbook is exactly as it was.
    assert sha256(path) == before
    assert "Traceback" not in err


# --- the local cluster's own set-up --------------------------------------------------------

LOCAL_PROBE = r"""
import json, os, signal, sys
import dask
from rebalancer_xl.adapters import cluster

def state(dask_worker):
    return {
        "data": type(dask_worker.data).__name__,
        "memory_limit": dask_worker.memory_manager.memory_limit,
        "parent": os.getppid(),
        "pid": os.getpid(),
        "preloaded": all(
            m in sys.modules
            for m in ("rebalancer_xl.pipeline", "lxml.etree", "rebalancer_xl.adapters.forkserver_exit")
        ),
        "profiler": dask.config.get("distributed.worker.profile.enabled"),
        "numpy": "numpy" in sys.modules,
        "pandas": "pandas" in sys.modules,
    }

cluster._start_fork_server()  # as process_on_cluster does, before Dask is imported here
with cluster._connect("local", 2, 2) as client:
    client.wait_for_workers(2, timeout=60)
    before = client.run(state)
    victim = sorted(before)[0]
    os.kill(before[victim]["pid"], signal.SIGKILL)
    # The nanny notices and forks a new worker from the same fork server.
    client.wait_for_workers(2, timeout=60)
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = client.run(state, on_error="return")
        pids = {v["pid"] for v in after.values() if isinstance(v, dict)}
        if len(pids) == 2 and before[victim]["pid"] not in pids:
            break
        time.sleep(0.1)
    print(json.dumps({
        "client": os.getpid(),
        "pandas": "pandas" in sys.modules,
        "numpy": "numpy" in sys.modules,
        "fast_exit": "rebalancer_xl.adapters.forkserver_exit" in sys.modules,
        "scheduler_numpy": client.run_on_scheduler(lambda: "numpy" in sys.modules),
        "http_port": client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.http_server.port),
        "allowed_failures": client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.allowed_failures
        ),
        "before": list(before.values()),
        "after": [v for v in after.values() if isinstance(v, dict)],
    }))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows")
def test_the_local_cluster_forks_preloaded_workers_that_are_restarted_when_killed(tmp_path):
    """`--scheduler local` forks its workers from a fork server that imported Dask and
    rebalancer-xl once: the workers are not children of the command, already hold the
    modules a workbook needs before their first file, and run without Dask's profiler.
    A worker killed outright is forked again (the nanny), the retry stays at one, and
    neither the command (which holds the scheduler) nor a worker imports numpy or pandas
    (Dask's own fork server set-up would import both; `import distributed`, numpy).
    They are installed here, so this would fail if Dask imported them. The workers keep
    results in a plain dict (no spilling to disk) under a memory limit, and the
    scheduler's HTTP pages are not on Dask's dashboard port, where another cluster's
    dashboard may be."""
    pytest.importorskip("numpy")
    done = subprocess.run(
        [sys.executable, "-c", LOCAL_PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert (seen["pandas"], seen["numpy"], seen["scheduler_numpy"]) == (False, False, False)
    assert seen["allowed_failures"] == 1
    assert seen["fast_exit"] is False  # the fork server's alone, never the command's
    assert seen["http_port"] not in (8786, 8787)
    for workers in (seen["before"], seen["after"]):
        assert len(workers) == 2
        for w in workers:
            assert w["parent"] != seen["client"]  # forked by the fork server
            assert w["preloaded"] is True
            assert w["profiler"] is False
            assert (w["numpy"], w["pandas"]) == (False, False)
            assert w["data"] == "dict"
            assert w["memory_limit"] > 0
    assert {w["pid"] for w in seen["after"]} != {w["pid"] for w in seen["before"]}


DASK_IMPORT_PROBE = r"""
import sys
from rebalancer_xl.adapters import dask_import
hidden_while_importing = [m for m in ("numpy", "pandas") if m in sys.modules]
import numpy
from distributed.protocol import deserialize, serialize
header, frames = serialize(numpy.arange(5))
back = deserialize(header, frames)
print(hidden_while_importing, header["serializer"], type(back).__name__, back.tolist())
"""


def test_dask_imported_without_numpy_still_handles_numpy_once_it_is_imported():
    """`dask_import` hides numpy only while `distributed` is imported: numpy is not
    imported then, can be imported afterwards, and Dask then serializes its arrays with
    its own numpy serializer (registered lazily), as it would have anyway."""
    pytest.importorskip("numpy")
    done = subprocess.run(
        [sys.executable, "-c", DASK_IMPORT_PROBE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "dask", "ndarray", "[0,", "1,", "2,", "3,", "4]"]


FAST_EXIT_PROBE = r"""
import atexit, sys
atexit.register(print, "finalized")  # registered first, so it would run last
import rebalancer_xl.adapters.forkserver_exit
sys.stdout.write("buffered, no newline")
"""


def test_the_fork_server_ends_without_finalizing_but_flushes_what_it_wrote():
    """What the fork server's preload does at its exit: its output is flushed, then it
    ends at once, so handlers registered before (and Python's teardown) never run."""
    done = subprocess.run(
        [sys.executable, "-c", FAST_EXIT_PROBE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "buffered, no newline"

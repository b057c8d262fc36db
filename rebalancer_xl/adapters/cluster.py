"""The batch on a Dask cluster: `rebalancer-xl run FILE... --scheduler ADDRESS`.

One task per workbook goes to Dask's distributed scheduler; each task is the very
function `--jobs N` runs in its pool (`cli.process_to_dict`), so a file's result is the
same whichever way it ran (it travels pickled, as one bytes object: `rebalance_packed`).
The workers read and write the files, so the files (and `--output-dir`) must be on a
filesystem every worker mounts at the same path; a worker that cannot see a file, or
sees a different one, says so for that file.

A worker that dies mid-file (killed, out of memory) leaves the workbook as it was or
completely written, because the write is an atomic replace. The scheduler then runs the
file again on another worker; how often is the scheduler's `allowed-failures` setting.
`--scheduler local` sets it to 1 (one retry), and the README starts a scheduler with it.

Only this module (through `dask_import`) imports Dask, and only when `--scheduler` is
given: the core, the command without `--scheduler` and the Excel button never do.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rebalancer_xl import __version__

if TYPE_CHECKING:
    from distributed import Client

LOCAL = "local"  # --scheduler local: a LocalCluster on this machine for the run
INSTALL_HINT = "pip install 'rebalancer-xl[dask]'"
#: Retries after a worker dies mid-file, for the scheduler `--scheduler local` starts.
ALLOWED_FAILURES = 1
#: A file seen by the client and by a worker is taken as the same file when its size is
#: equal and its modification times are this close (network filesystems and FAT store
#: times coarsely, so nanoseconds cannot be compared).
SAME_MTIME_S = 2.0
#: Where `--scheduler local`'s scheduler and workers listen (LocalCluster's default).
LOCAL_HOST = "127.0.0.1"
#: How long `--scheduler local` waits for its first worker (a few seconds when loaded).
LOCAL_START_TIMEOUT_S = 60.0

Seen = tuple[int, float] | None  # (size, mtime) as the client sees the file, or None


class ClusterError(Exception):
    """The cluster cannot be used at all (Dask missing, scheduler unreachable): one line."""


def process_on_cluster(
    files: list[str],
    options: dict[str, Any],
    scheduler: str,
    jobs: int,
    advance: Callable[[], None],
) -> list[dict[str, Any]]:
    """Every file's JSON-ready result, in the order of `files`; `advance()` after each."""
    if scheduler == LOCAL and _installed("distributed"):
        # Before this process imports Dask (about a second of CPU): the fork server
        # imports it for the workers meanwhile, on the other core.
        _start_fork_server()
    try:
        from rebalancer_xl.adapters.dask_import import import_distributed

        # Dask without its numpy and pandas support, which the command never uses.
        import_distributed()
    except ImportError:
        raise ClusterError(
            f"--scheduler needs Dask's distributed scheduler; install it with {INSTALL_HINT}"
        ) from None
    from distributed import as_completed

    output_dir = options.get("output_dir")
    out_seen = False
    if output_dir and not options.get("dry_run"):
        # Made here, where the user can see it, so that a worker which cannot see it
        # reports that instead of making a folder of its own on its own disk. If it
        # cannot be made here, the workers meet the same error a --jobs run does.
        with contextlib.suppress(OSError):
            Path(output_dir).mkdir(parents=True, exist_ok=True)
        out_seen = os.path.isdir(output_dir)
    cwd = os.getcwd()
    token = uuid.uuid4().hex
    with _connect(scheduler, jobs, len(files)) as client:
        # One map, not a submit per file: the scheduler receives the batch in one message.
        futures = client.map(
            rebalance_packed,
            files,
            [_seen(f) for f in files],
            options=options,
            cwd=cwd,
            version=__version__,
            out_seen=out_seen,
            # A tuple key groups every file of the run as "rebalance" on the dashboard.
            key=[(f"rebalance-{token}", i) for i in range(len(files))],
            pure=False,
        )
        if scheduler == LOCAL:
            _first_worker(client)
        results: dict[int, dict[str, Any]] = {}
        # With its result: fetched on the client's event loop as soon as the task
        # finishes (fetches that overlap go as one request), instead of one blocking
        # round trip per file from this thread after it is seen finished.
        pending = as_completed(futures, with_results=True, raise_errors=False)
        del futures  # as_completed holds each future until it is done
        for future, value in pending:
            i = future.key[1]
            results[i] = _result_of(future, files[i], value)
            # Released at once: a result the scheduler still thinks someone wants is
            # computed again when its worker dies, and that would run the file twice.
            future.release()
            advance()
    return [results[i] for i in range(len(files))]


@contextlib.contextmanager
def _connect(scheduler: str, jobs: int, n_files: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster started for the run."""
    from rebalancer_xl.adapters.dask_import import import_distributed

    import_distributed()  # before any other import of Dask (see dask_import)
    import dask
    from distributed import Client, LocalCluster

    if scheduler == LOCAL:
        workers = max(1, min(jobs, n_files, os.cpu_count() or 1))
        _start_fork_server()  # (already running when called from process_on_cluster)
        # The LocalCluster's scheduler lives in this process and reads its settings here;
        # its nannies hand the same settings to the workers they start, which is after
        # LocalCluster() returns, so they stay set for the cluster's whole life.
        with dask.config.set(_local_config()):
            try:
                cluster = LocalCluster(
                    # No workers at first, then `scale`: LocalCluster(n_workers=2) would wait
                    # here for both workers, while the files can go to the scheduler at
                    # once and start on the first worker that joins.
                    n_workers=0,
                    threads_per_worker=1,  # one workbook at a time per process, like --jobs
                    processes=True,
                    dashboard_address=None,
                    # Without a dashboard the scheduler still serves its HTTP pages
                    # (health, metrics), by default on port 8787, where another
                    # cluster's dashboard may be: on a free port of its own instead, as
                    # the workers' are. The pages themselves are off (`_local_config`).
                    scheduler_kwargs={"dashboard_address": f"{LOCAL_HOST}:0"},
                    # Its scheduler logs here; the files' failures are reported per file.
                    silence_logs=logging.CRITICAL,
                    # Each worker's share of the memory, as n_workers=2 would have given.
                    memory_limit=_memory_limit(workers),
                )
                cluster.scale(workers)  # returns at once; the workers start behind it
            except Exception as err:
                raise ClusterError(
                    f"could not start a local Dask cluster: {_one_line(err)}"
                ) from None
            # By its address, as for any scheduler: `Client(cluster)` would also tie the
            # client to the cluster object (its logs, its scaling, its widgets), which
            # a run does not use and which made the first file start later.
            with cluster, Client(cluster.scheduler_address) as client:
                yield client
        return
    try:
        client = Client(scheduler)
    except Exception as err:  # unreachable, refused, timed out, a malformed address
        raise ClusterError(
            f"cannot reach the Dask scheduler at {scheduler}: {_one_line(err)}"
        ) from None
    with client:
        timeout = dask.config.get("distributed.comm.timeouts.connect")
        try:
            client.wait_for_workers(1, timeout=timeout)
        except Exception:
            raise ClusterError(
                f"the Dask scheduler at {scheduler} has no workers (waited {timeout}); "
                f"start some with: dask worker {scheduler}"
            ) from None
        yield client


def _first_worker(client: Client) -> None:
    """Wait for the local cluster's first worker, which starts after the files were
    sent: a worker that cannot start at all would otherwise leave them waiting forever."""
    try:
        client.wait_for_workers(1, timeout=LOCAL_START_TIMEOUT_S)
    except Exception as err:
        raise ClusterError(
            f"could not start a local Dask cluster: no worker started in "
            f"{LOCAL_START_TIMEOUT_S:.0f} s ({_one_line(err)})"
        ) from None


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


#: What the fork server imports once for every worker it forks: Dask's worker, and the
#: modules a workbook's run needs, so that neither the start nor the first file pays it.
WORKER_PRELOAD = [
    "rebalancer_xl.adapters.dask_import",  # `distributed`, without numpy and pandas
    "rebalancer_xl.cli",
    "rebalancer_xl.pipeline",
    "rebalancer_xl.report",
    "rebalancer_xl.adapters.cluster",
    "rebalancer_xl.adapters.package",
    "rebalancer_xl.adapters.package_read",
    "lxml.etree",
    "rebalancer_xl.adapters.forkserver_exit",  # last: it ends the fork server quickly
]


def _start_fork_server() -> None:
    """Start the fork server the local cluster's workers are forked from, preloaded.

    Dask starts worker processes by `spawn` by default: each a fresh interpreter that
    imports Dask and then rebalancer-xl, a second and a half of CPU per worker on this
    machine. `fork` of this process would be cheaper still but is unsafe, since the
    cluster runs threads here (its event loop). A fork server is a fresh, single-threaded
    process that imports once and forks a worker on request: safe, and the import is
    paid once. Dask's own fork server set-up would preload every optional package it
    knows (pandas, numpy) and import each of them in this process first, which the
    command never uses, so the preload is set here instead (and `dask_import` keeps
    numpy out of the fork server too). Where there is no fork server
    (Windows) or it cannot start, the workers are spawned as before.
    """
    global _fork_server_started
    import multiprocessing
    import multiprocessing.forkserver

    if _fork_server_started or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD)
    try:
        multiprocessing.forkserver.ensure_running()  # returns before its imports are done
    except OSError:
        return  # no fork server here (no Unix sockets, say): the workers are spawned
    _fork_server_started = True


_fork_server_started = False


def _local_config() -> dict[str, Any]:
    """Dask's settings for the cluster `--scheduler local` starts and stops for one run.

    The retry after a worker's death is kept (`allowed-failures`), as are the nannies
    that restart a dead worker and the memory monitor that ends one out of memory. What
    goes is what only a long-lived, watched cluster needs and what costs CPU per task or
    per second on every process: the statistical profiler (a sample every 10 ms), work
    stealing (the scheduler queues the files and hands them out as workers are free),
    the active memory manager (no data is kept on workers to rebalance), frequent
    event-loop and system monitoring (20 ms and 500 ms; 0.5 s and 2 s here; the memory
    monitor every 0.5 s instead of 0.1 s), the HTTP pages and spilling to disk.
    """
    config: dict[str, Any] = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.worker.profile.enabled": False,
        "distributed.scheduler.work-stealing": False,
        "distributed.scheduler.active-memory-manager.start": False,
        "distributed.admin.tick.interval": "500ms",
        "distributed.admin.system-monitor.interval": "2s",
        "distributed.worker.memory.monitor-interval": "500ms",
        # No HTTP pages on the scheduler and workers (prometheus metrics, health, static
        # files): nobody looks at them during a run, and their modules are not imported.
        "distributed.scheduler.http.routes": [],
        "distributed.worker.http.routes": [],
        # Results are not kept on the workers (each is fetched and released as soon as
        # it is done), so nothing is to be spilled to disk: without a target or spill
        # fraction a worker keeps its data in a plain dict, with no spill buffer and
        # its sizing of every result. The memory limit stays, and with it the nanny
        # ending a worker at 95% (`terminate`) and the pause at 80%.
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
    }
    if _fork_server_started:
        import distributed.utils

        config["distributed.worker.multiprocessing-method"] = "forkserver"
        # There is no public way to keep Dask from setting up the fork server itself
        # (importing pandas and numpy here, ~0.5 s, to preload them in the workers);
        # this flag is how it remembers that it already did. If a Dask release drops
        # it, setting it does nothing and only that half second comes back.
        # tests/test_cluster.py checks that pandas is not imported.
        distributed.utils._forkserver_preload_set = True
    return config


def _memory_limit(workers: int) -> int | None:
    from distributed.worker_memory import parse_memory_limit

    limit: int | None = parse_memory_limit("auto", 1, workers, logger=logging.getLogger(__name__))
    return limit


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _seen(path: str) -> Seen:
    try:
        st = os.stat(path)
    except OSError:
        return None  # the worker will report the missing file in the usual words
    return (st.st_size, st.st_mtime)


# --- on the worker -----------------------------------------------------------------------


def rebalance_on_worker(
    given: str,
    seen: Seen,
    *,
    options: dict[str, Any],
    cwd: str,
    version: str,
    out_seen: bool = False,
) -> dict[str, Any]:
    """Run on a Dask worker: check the worker sees the client's file, then process it.

    Paths are made absolute against the client's folder (a worker's own folder is
    anything), and the result is given back in the paths the user typed, so that it
    reads exactly as a `--jobs` run's does.
    """
    from rebalancer_xl.cli import process_to_dict

    path = str(Path(cwd, given))
    out_given = options.get("output_dir")
    out_abs = str(Path(cwd, out_given)) if out_given else None
    host = socket.gethostname()
    if version != __version__:
        return _failed(given, "version-mismatch", host=host, theirs=__version__, ours=version)
    if seen is not None:
        try:
            st = os.stat(path)
        except OSError:
            return _failed(given, "not-on-worker", "file", host=host, path=path)
        if st.st_size != seen[0] or abs(st.st_mtime - seen[1]) > SAME_MTIME_S:
            return _failed(given, "not-shared", host=host, path=path)
    if out_abs and out_seen and not os.path.isdir(out_abs):
        return _failed(given, "not-on-worker", "output", host=host, path=out_abs)
    result = process_to_dict(path, {**options, "output_dir": out_abs})
    return _as_given(result, given, path, out_given, out_abs)


def rebalance_packed(
    given: str,
    seen: Seen,
    *,
    options: dict[str, Any],
    cwd: str,
    version: str,
    out_seen: bool = False,
) -> bytes:
    """The task of one workbook: `rebalance_on_worker`'s result, pickled on the worker.

    A result is a nested dict of a few hundred small values. Left as one, Dask walks it
    value by value on the worker, to size it (`sizeof`, three times a task) and to
    serialize it (a pickle per value), which was half of a worker's event-loop CPU per
    file; as one bytes object it is sized in O(1) and sent as one frame. The client
    unpickles it (`_unpack`) into exactly the dict the worker made, so the output is
    unchanged. Dask pickles every result it sends anyway: no new trust between client
    and workers."""
    import pickle

    result = rebalance_on_worker(
        given, seen, options=options, cwd=cwd, version=version, out_seen=out_seen
    )
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(packed: bytes) -> dict[str, Any]:
    import pickle

    result: dict[str, Any] = pickle.loads(packed)
    return result


def _as_given(
    result: dict[str, Any], given: str, path: str, out_given: str | None, out_abs: str | None
) -> dict[str, Any]:
    """The worker's result with the absolute paths put back as the user typed them."""
    name = Path(given).name
    swaps = [(path, str(Path(given)))]
    if out_given and out_abs:
        swaps.insert(0, (str(Path(out_abs, name)), str(Path(out_given, name))))
    result["path"] = given
    if result.get("written") is not None:
        result["written"] = _swap(result["written"], swaps)
    for problem in result.get("problems", []):
        problem["message"] = _swap(problem["message"], swaps)
    return result


def _swap(text: str, swaps: list[tuple[str, str]]) -> str:
    for absolute, typed in swaps:
        text = text.replace(absolute, typed)
    return text


# --- results -----------------------------------------------------------------------------


def _failed(given: str, code: str, form: str = "", /, **values: object) -> dict[str, Any]:
    """A whole-file problem, worded by the catalogue, as a result entry with the same keys
    as every other."""
    from rebalancer_xl.core.model import WHOLE_FILE
    from rebalancer_xl.core.problems import problem as catalogued
    from rebalancer_xl.pipeline import FileResult
    from rebalancer_xl.report import result_to_dict

    problem = catalogued(code, WHOLE_FILE, form, **values)
    return result_to_dict(FileResult(given, "error", problems=[problem]))


def _result_of(future: Any, given: str, value: Any) -> dict[str, Any]:
    """A finished task's result (`value`, as `as_completed` gave it), or the file's
    failure in the words a person can act on."""
    from distributed.scheduler import KilledWorker

    if future.status == "finished":
        return _unpack(value)
    name = Path(given).name
    if future.status == "cancelled":
        return _failed(given, "worker-error", "cancelled", name=name)
    err = future.exception()
    if isinstance(err, KilledWorker):
        tries, last = err.allowed_failures + 1, err.last_worker.address
        return _failed(given, "worker-died", name=name, tries=tries, last=last)
    kind, error = type(err).__name__, _one_line(err)
    return _failed(given, "worker-error", "failed", name=name, kind=kind, error=error)

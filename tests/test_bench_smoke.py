"""Each bench script runs with tiny sizes and prints its tables. No timing is asserted:
numbers depend on the machine; this only keeps the scripts from rotting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each case runs a bench script in a subprocess: left out of the `-m "not slow"` inner loop.
pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench"

CASES = {
    "engine_scaling.py": ["--sizes", "10", "40", "--repeat-scale", "0.1"],
    "batch_throughput.py": ["--n", "2"],
    "big_workbook.py": ["--rows", "15", "--repeats", "1", "--skip-subprocess"],
    "button_latency.py": ["--repeats", "1"],
    "lossless_write.py": ["--quick"],
    "quarter.py": ["--repeats", "1"],
    "dask_batch.py": ["--quick"],
    "household.py": ["--sizes", "20", "--repeats", "1"],
}
#: Scripts that measure levers rather than targets print no PASS/MISS table.
NO_TARGETS: set[str] = set()


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XLWINGS_LICENSE_KEY="noncommercial")
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("script", sorted(CASES))
def test_bench_script_prints_a_table(script: str) -> None:
    done = _run(script, *CASES[script])
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "cores" in out  # the machine line
    assert "-----" in out  # a table's rule under its header
    if script not in NO_TARGETS:
        assert "targets" in out  # the table of targets with PASS/MISS
        assert "PASS" in out or "MISS" in out


@pytest.mark.parametrize("script", sorted(CASES))
def test_bench_script_has_help(script: str) -> None:
    done = _run(script, "--help")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage:" in done.stdout


def test_the_plan_fingerprint_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """`plan_fingerprint.py` tells a change of the engine's output from a speed-up only if
    the same engine always prints the same fingerprint: flag sets, whose order follows
    memory addresses and string hashes, must not leak into it."""
    prints = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run(
            [sys.executable, str(BENCH / "plan_fingerprint.py"), "--dump", str(tmp_path / seed)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=True,
        )
        prints.append(done.stdout.split())
    assert prints[0] == prints[1]
    assert prints[0][:2] == ["208", "plans"]
    text = (tmp_path / "1").read_text(encoding="utf-8")
    assert "Reason(" in text  # the worded reasons are part of what is compared
    assert "WASH_SALE" in text or "MONITOR" in text  # and the flags

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

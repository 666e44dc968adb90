"""scripts/bench_worker_rss.py as a real subprocess, shrunk to one short run: it trains with real
Ray workers, samples their memory, and the workers never load torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/<pid>/status")
def test_bench_worker_rss_samples_torch_free_workers() -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_worker_rss.py"), "--models", "lstm",
           "--iterations", "1", "--envs-per-worker", "2", "--horizon", "16", "--json"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    (run,) = result["results"]
    assert run["model"] == "lstm" and run["iterations"] == 1 and len(run["workers"]) == 2
    for worker in run["workers"]:
        rss = worker["rss_mib"]
        assert worker["samples"] >= 1 and 0 < rss["min"] <= rss["median"] <= rss["max"]
        assert worker["peak_mib"] >= rss["max"] and 0 < worker["end_private_mib"] < worker["peak_mib"]
        assert worker["torch_loaded"] is False
    assert "torch not loaded" in out.stdout

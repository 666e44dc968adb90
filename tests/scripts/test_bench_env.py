"""scripts/bench_env.py: the ratio to raw MuJoCo and the env's own work per env step, on a real
task (a short run: the figures' sizes are checked, not their speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_env_reports_the_ratio_and_the_env_work_per_step() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_env.py"), "--robot", "leap", "--steps", "64",
         "--batch", "8", "--repeats", "2", "--clock", "cpu", "--json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "MUJOCO_GL": "osmesa"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["robot"] == "leap" and result["repeats"] == 2
    for key in ("ratio_single", "ratio_batched", "env_work_us_per_env_step", "physics_share_batched"):
        assert set(result[key]) == {"min", "median", "max"}
    work = result["env_work_us_per_env_step"]
    assert 0.0 < work["min"] <= work["median"] <= work["max"] < 10_000.0
    assert 0.0 < result["physics_share_batched"]["median"] < 1.0
    assert 0.0 < result["ratio_batched"]["median"]
    assert "env work" in out.stdout

"""scripts/bench_train.py as a real subprocess, shrunk to one short round: the JSON it prints
holds the figures README quotes, each a finite positive number."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_train_prints_paired_ratios() -> None:
    # SB3 rollouts of 2 x 256 steps (its default 2 x 2048 made SB3 ~3/4 of this test's time).
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_train.py"), "--env", "reach",
           "--rounds", "1", "--iterations", "1", "--physics-s", "0.3", "--sb3-steps", "512",
           "--sb3-n-steps", "256", "--envs-per-worker", "4", "--horizon", "16", "--json"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["samples_per_iteration"] == 2 * 4 * 16
    assert len(result["rounds"]) == 1
    for key in ("fraction_of_physics_limit", "fraction_of_physics_limit_policy_lag",
                "sb3_fraction_of_physics_limit", "ratio_vs_sb3"):  # fmt: skip
        assert math.isfinite(result[key]) and result[key] > 0, (key, result[key])
    # The headline figures are the paired ratios of the round's own rates and physics windows.
    row = result["rounds"][0]
    assert result["fraction_of_physics_limit"] == pytest.approx(row["dexrl"] / row["limit_dexrl"])
    assert result["ratio_vs_sb3"] == pytest.approx(
        (row["dexrl"] / row["limit_dexrl"]) / (row["sb3"] / row["limit_sb3"])
    )
    assert row["limit_min"] <= row["limit_dexrl"] <= row["limit_max"]
    assert "fraction_of_physics_limit (min/median/max over 1 rounds)" in out.stdout

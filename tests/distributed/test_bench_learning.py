"""scripts/bench_learning.py as a real subprocess, shrunk to one tiny run of each trainer: the JSON
summary, learning.json (curves on both axes) and the PNG it writes are what README quotes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_learning_writes_curves_plot_and_summary(tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "bench_learning.py"), "--env", "reach",
           "--env-set", "max_episode_steps=20", "--env-set", "timeout_steps=20",  # short evaluations
           "--steps", "512", "--seeds", "3", "--sb3", "--eval-episodes", "4", "--out", str(tmp_path),
           "--set", "train.envs_per_worker=4", "--set", "train.horizon=16",
           "--set", "algo.minibatches=2", "--json"]  # fmt: skip
    # The refused --set runs beside the real one (it is an interpreter start and one line).
    bad = subprocess.Popen([*cmd[:2], "--set", "horizon=3"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=tmp_path)  # fmt: skip
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=420, cwd=tmp_path)
        _, bad_err = bad.communicate(timeout=60)
    finally:
        if bad.poll() is None:
            bad.kill()
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["env"] == "reach" and summary["steps"] == 512
    for algo in ("dexrl", "sb3"):
        assert len(summary[f"{algo}_success_rate"]) == 1
        assert 0.0 <= summary[f"{algo}_success_rate"][0] <= 1.0
    full = json.loads((tmp_path / "learning.json").read_text())
    dexrl_curve = full["dexrl"][0]["curve"]
    # 512 steps of 2 workers x 4 envs x 16 steps = 4 iterations, one curve point each.
    assert [p["env_steps"] for p in dexrl_curve] == [128, 256, 384, 512]
    assert all(p["wall_time_s"] > 0 and p["episodes"] >= 0 for p in dexrl_curve)
    assert (tmp_path / "learning.png").stat().st_size > 10_000
    assert bad.returncode != 0 and "expected algo.<key>=<value>" in bad_err

    # --merge: the same run split by trainer (as when SB3 is added to an earlier dexrl run) and
    # merged back gives the same summary; a run passed twice is refused and nothing is written.
    for algo, other in (("dexrl", "sb3"), ("sb3", "dexrl")):
        (tmp_path / algo).mkdir()
        (tmp_path / algo / "learning.json").write_text(json.dumps({**full, other: []}))
    script = [sys.executable, str(ROOT / "scripts" / "bench_learning.py"), "--json", "--merge"]
    merged = subprocess.run([*script, str(tmp_path / "sb3"), str(tmp_path / "dexrl"), "--out",
                             str(tmp_path / "merged")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert merged.returncode == 0, merged.stderr[-2000:]
    again = json.loads(merged.stdout.strip().splitlines()[-1])
    assert again == summary and again["paired_seeds"] == [3]
    assert (tmp_path / "merged" / "learning.png").stat().st_size > 10_000
    twice = subprocess.run([*script, str(tmp_path / "dexrl"), str(tmp_path), "--out",
                            str(tmp_path / "twice")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert twice.returncode != 0 and "dexrl seed 3 appears twice" in twice.stderr
    assert not (tmp_path / "twice").exists()


def test_time_to_weighs_points_by_their_episodes() -> None:
    """A point from one lucky episode does not make dexrl "reach" SB3's level."""
    script = ROOT / "scripts" / "bench_learning.py"
    spec = importlib.util.spec_from_file_location("bench_learning", script)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lucky = {"success_rate": 1.0, "episodes": 1}
    plain = {"success_rate": 0.1, "episodes": 100}
    good = {"success_rate": 0.3, "episodes": 100}
    curve = [{**p, "wall_time_s": float(t)} for t, p in
             enumerate([plain, lucky, plain, plain, plain, plain, good, good, good, good])]  # fmt: skip
    # Unweighted, points 0-4 average 0.28 >= 0.2 already at t=4; weighted they read ~0.10.
    assert bench.time_to(curve, "success_rate", 0.2) == 8.0  # 3 of 5 points at 0.3: 0.22
    assert bench.time_to(curve, "success_rate", 0.5) is None

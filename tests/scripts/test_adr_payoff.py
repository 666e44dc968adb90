"""scripts/adr_payoff.py on real checkpoints: evaluate.py sweep=all at the hard limits, then the
worst case per policy and the per-extreme table, recomputed here from the sweep.csv files."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dexrl.adr.params import get_spec
from dexrl.adr.payoff import Point, worst_case

ROOT = Path(__file__).resolve().parents[2]
REACH_PARAMS = {"robot_link_mass", "robot_joint_damping", "robot_armature", "robot_frictionloss",
                "actuator_gain", "actuator_force_range", "gravity", "timestep", "action_latency",
                "action_noise", "obs_noise_correlated", "obs_noise_uncorrelated"}  # fmt: skip


def _payoff(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "adr_payoff.py"), *args],
                          capture_output=True, text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def payoff(reach_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    base = tmp_path_factory.mktemp("payoff")
    runs = []
    for name in ("with_adr", "without"):  # two copies of one checkpoint: the pipeline, not ADR
        shutil.copytree(reach_run, base / name, ignore=shutil.ignore_patterns("eval", "videos"))
        runs.append(base / name)
    out = base / "out"
    r = _payoff(["--adr", str(runs[0]), "--none", str(runs[1]), "--out", str(out), "--episodes", "1"])
    assert r.returncode == 0, r.stderr[-3000:] + r.stdout[-2000:]
    return out, runs


def test_sweep_all_covers_every_parameter_reach_can_vary_at_both_hard_limits(payoff) -> None:  # type: ignore[no-untyped-def]
    _, runs = payoff
    with open(runs[0] / "eval" / "payoff" / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["param"] for r in rows} == REACH_PARAMS  # no cube_* on reach: it has no cube
    for name in REACH_PARAMS:
        lams = sorted(float(r["lambda"]) for r in rows if r["param"] == name)
        lo, hi = get_spec(name).hard_limits
        assert lams == sorted({lo, 0.0, hi}), name


def test_worst_case_and_table_match_the_sweeps(payoff) -> None:  # type: ignore[no-untyped-def]
    out, runs = payoff
    result = json.loads((out / "payoff.json").read_text())
    for run, group in zip(runs, ("adr", "none"), strict=True):
        with open(run / "eval" / "payoff" / "sweep.csv") as f:
            rows = [r for r in csv.DictReader(f) if float(r["lambda"]) != 0.0]
        pol = result["policies"][run.name]
        assert pol["group"] == group
        assert pol["worst"]["success_rate"] == min(float(r["success_rate"]) for r in rows)
        assert pol["worst"]["median"] == min(float(r["consecutive_successes_median"]) for r in rows)
        assert pol["worst"]["extremes"] == len(rows) == len(result["extremes"])
    # the same checkpoint and episode seeds in both groups: every extreme agrees
    for row in result["extremes"].values():
        a, b = (row["policies"][r.name] for r in runs)
        assert a["success_rate"] == b["success_rate"] and a["median"] == b["median"]
    md = (out / "payoff.md").read_text()
    assert "with_adr" in md and "without" in md and "action_latency high" in md
    png = (out / "payoff.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000


def test_worst_case_names_where_it_happens() -> None:
    pts = [Point("gravity", -3.81, 6.0, 1.0, 9.0, 0.0, False), Point("gravity", 0.0, 9.81, 1.0, 10.0, 0.0, False),
           Point("gravity", 4.19, 14.0, 0.9, 7.0, 0.0, False),
           Point("action_latency", 2.0, 2.0, 0.5, 8.0, 0.0, False)]  # fmt: skip
    w = worst_case(pts)
    assert (w["success_rate"], w["success_rate_at"]) == (0.5, "action_latency high")
    assert (w["median"], w["median_at"]) == (7.0, "gravity high")
    assert w["extremes"] == 3  # the calibrated point is not an extreme


def test_a_run_without_checkpoint_is_refused(tmp_path: Path) -> None:
    r = _payoff(["--adr", str(tmp_path), "--none", str(tmp_path), "--out", str(tmp_path / "o")])
    assert r.returncode == 2
    assert "has no checkpoints/latest" in r.stderr

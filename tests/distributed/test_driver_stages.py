"""The driver's time per stage, with the real Trainer, Ray and ADR actor against stand-in workers
(real Ray actors that sleep instead of stepping physics), and scripts/bench_driver.py's report."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from dexrl.distributed.stages import OVERHEAD_STAGES, STAGES, StageClock

ROOT = Path(__file__).resolve().parents[2]


def _bench_driver():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_driver", ROOT / "scripts" / "bench_driver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stage_clock_accumulates_per_stage_and_laps() -> None:
    clock = StageClock()
    for _ in range(3):
        with clock.stage("fetch"):
            pass
    with clock.stage("learner"):  # CPU work: its CPU seconds count, a sleep's hardly do
        sum(i * i for i in range(200_000))
    with clock.stage("wait"):
        time.sleep(0.05)
    lap = clock.lap()
    assert set(lap) == set(STAGES) and lap["fetch"] > 0 and lap["metrics"] == 0
    assert clock.current["fetch"] == 0.0  # a new lap starts from zero
    cpu = clock.last_cpu
    assert set(cpu) == set(STAGES) and clock.current_cpu["learner"] == 0.0
    assert cpu["learner"] > 0.5 * lap["learner"]  # the driver's own work
    assert lap["wait"] >= 0.05 and cpu["wait"] < 0.5 * lap["wait"]  # waiting is not
    with pytest.raises(KeyError, match="unknown stage 'gather'"):
        with clock.stage("gather"):
            pass
    assert "wait" not in OVERHEAD_STAGES and "learner" not in OVERHEAD_STAGES


def test_trainer_times_every_stage_against_stand_in_workers(ray_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dexrl.distributed.standin import StandInWorkers
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs

    c = typed_configs(compose(["env=reach", "adr=auto", "logger=none", "train.num_workers=3",
                               "train.envs_per_worker=4", "train.horizon=8", "train.total_env_steps=288",
                               "algo.epochs=1"], "train").plain())  # fmt: skip
    dims = {"obs_dim": 40, "critic_obs_dim": 50, "action_dim": 20}
    workers = StandInWorkers(dims, step_time_s=0.1, episode_steps=8)  # an episode ends every rollout
    trainer = Trainer(c.env, c.algo, c.model, c.adr, c.train, c.ray, c.logger, tmp_path, worker_cls=workers)
    try:
        assert trainer.learner.dims["obs_dim"] == 40  # the learner took the stand-ins' sizes
        trainer.run()
        adr_reports = trainer.adr_actor is not None
    finally:
        trainer.close()
    assert len(trainer.stage_history) == 3  # 288 steps / (3 workers x 4 envs x 8 steps)
    assert len(trainer.stage_cpu_history) == 3
    for lap, cpu in zip(trainer.stage_history, trainer.stage_cpu_history, strict=True):
        assert set(cpu) == set(STAGES) and cpu["wait"] < lap["wait"]  # a sleep costs no CPU
        assert set(lap) == set(STAGES)
        assert lap["wait"] >= 0.09  # the workers' 0.1 s stepping is waited for, not overhead
        assert lap["broadcast"] > 0 and lap["launch"] > 0 and lap["fetch"] > 0 and lap["learner"] > 0
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(f"time/{s}_s" in rows[-1] for s in STAGES)
    assert rows[-1]["time/wait_s"] >= 0.09
    assert rows[-1]["episodes"] == 12  # 3 workers x 4 envs, one episode each per rollout
    assert adr_reports


def test_bench_driver_fits_and_extrapolates(ray_session, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bench = _bench_driver()
    code = bench.main(["--workers", "2,3", "--env", "reach", "--envs", "2", "--horizon", "4",
                       "--step-time", "0.05", "--iterations", "1", "--adr", "none",
                       "--extrapolate", "16", "--out", str(tmp_path), "--json"])  # fmt: skip
    assert code == 0
    result = json.loads((tmp_path / "driver_scaling.json").read_text())
    assert [r["workers"] for r in result["measured"]] == [2, 3]
    for r in result["measured"]:
        assert r["overhead_s"] == pytest.approx(sum(r["stages_s"][s] for s in OVERHEAD_STAGES))
        assert 0 < r["overhead_fraction"] < 1
        assert r["overhead_cpu_s"] == pytest.approx(sum(r["stages_cpu_s"][s] for s in OVERHEAD_STAGES))
        assert 0 < r["overhead_cpu_fraction"] < 1
    (ext,) = result["extrapolated"]
    fits, fits_cpu = result["fits"], result["fits_cpu"]
    assert ext["overhead_s"] == pytest.approx(sum(fits[s]["a"] + fits[s]["b"] * 16 for s in OVERHEAD_STAGES))
    assert ext["overhead_cpu_s"] == pytest.approx(
        sum(fits_cpu[s]["a"] + fits_cpu[s]["b"] * 16 for s in OVERHEAD_STAGES))
    assert all(fits[s]["a"] >= 0 and fits[s]["b"] >= 0 for s in OVERHEAD_STAGES)
    d = result["dims"]  # one batch holds at least its float32 observations, actions, means and stds
    assert result["batch_bytes"] >= 4 * 2 * 4 * (d["obs_dim"] + d["critic_obs_dim"] + 3 * d["action_dim"])
    assert ext["batch_bytes_per_iteration"] == 16 * result["batch_bytes"]
    assert ext["network_s"] == pytest.approx(16 * result["batch_bytes"] * 8 / 25e9)
    png = (tmp_path / "driver_scaling.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "N=   16 (extrapolated)" in capsys.readouterr().out


def test_bench_driver_refuses_bad_worker_counts(capsys) -> None:  # type: ignore[no-untyped-def]
    bench = _bench_driver()
    assert bench.main(["--workers", "two"]) == 2
    assert "take integers" in capsys.readouterr().err
    assert bench.main(["--workers", "4"]) == 2

"""What a new user hits in the first hour, run as they would run it (real processes): rendering on a
machine without a display, `ray.address` with no cluster, `-m` sweeps, and metrics.json saying
what it evaluated."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str, args: list[str], env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)  # fmt: skip


def _headless() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL", "PYOPENGL_PLATFORM")}  # fmt: skip
    env["WANDB_MODE"] = "disabled"
    return env


def test_evaluate_without_display_or_mujoco_gl_writes_metrics_and_video(reach_run: Path, tmp_path: Path) -> None:
    r = _script("evaluate", [f"checkpoint={reach_run}", "episodes=2", "num_envs=2", "video_episodes=1",
                             f"out={tmp_path}"], env=_headless())  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "rendering offscreen with MUJOCO_GL=" in r.stdout, r.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (tmp_path / "video.mp4").stat().st_size > 0
    assert metrics["video"]["frames"] > 0
    # metrics.json says what it evaluated: the checkpoint, how long it had trained, which dexrl.
    saved = json.loads((reach_run / "checkpoints" / "latest" / "meta.json").read_text())
    assert Path(metrics["checkpoint"]) == (reach_run / "checkpoints" / "latest").resolve()
    assert metrics["trained_env_steps"] == saved["counters"]["env_steps"] > 0
    import dexrl

    assert metrics["dexrl_version"] == dexrl.__version__


def test_evaluate_whose_video_cannot_render_still_writes_metrics(reach_run: Path, tmp_path: Path) -> None:
    env = _headless()
    env["MUJOCO_GL"] = "glfw"  # the user's choice stands, and glfw needs a window system
    r = _script("evaluate", [f"checkpoint={reach_run}", "episodes=2", "num_envs=2", "video_episodes=1",
                             f"out={tmp_path}"], env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "video skipped: cannot render" in r.stderr, r.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["calibrated"]["episodes"] == 2
    assert metrics["video"]["skipped"].startswith("cannot render")
    assert not (tmp_path / "video.mp4").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ray_address_that_does_not_answer_stops_with_one_line_fast(tmp_path: Path) -> None:
    # Nothing listens on the port: the join fails at once with one line, long before Ray's own
    # retries would give up; nothing beyond 127.0.0.1 is contacted.
    address = f"127.0.0.1:{_free_port()}"
    start = time.monotonic()
    r = _script("train", ["env=reach", f"ray.address={address}", "ray.connect_timeout_s=5",
                          f"hydra.run.dir={tmp_path / 'run'}"], env=_headless(), timeout=120)  # fmt: skip
    elapsed = time.monotonic() - start
    assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and f"ray.address={address}" in lines[0] and "ray start --head" in lines[0], lines
    assert elapsed < 30, elapsed
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_ray_address_auto_without_any_cluster_names_the_fix(tmp_path: Path) -> None:
    from dexrl.distributed.ray_setup import join_ray_cluster
    from dexrl.frontdoor import ConfigError

    # RAY_ADDRESS is what "auto" reads first: pointing it at a closed port is "no cluster here"
    # without depending on which Ray instances other processes on this machine run.
    os.environ["RAY_ADDRESS"] = f"127.0.0.1:{_free_port()}"
    try:
        with pytest.raises(ConfigError, match=r"ray.address=auto: the Ray head at 127.0.0.1:\d+ does not answer"):
            join_ray_cluster("auto", 2.0)
    finally:
        del os.environ["RAY_ADDRESS"]


def test_multirun_runs_one_job_per_value_each_in_its_own_directory(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    r = _script("train", ["-m", "env=reach", "seed=0,1", "logger=none", "ray.num_cpus=2",
                          "train.num_workers=1", "train.envs_per_worker=4", "train.horizon=8",
                          "train.total_env_steps=64", f"hydra.sweep.dir={sweep}"], env=_headless())  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "multirun: 2 of 2 jobs finished" in r.stdout, r.stdout
    for i, seed in enumerate((0, 1)):
        resolved = (sweep / str(i) / "config.resolved.yaml").read_text()
        assert f"seed: {seed}" in resolved
        assert (sweep / str(i) / "checkpoints" / "latest" / "checkpoint.pt").is_file()
    assert "seed=1" in (sweep / "multirun.yaml").read_text()


def test_multirun_with_a_bad_key_stops_before_any_job(tmp_path: Path) -> None:
    r = _script("train", ["-m", "env=reach", "seed=0,1", "train.bogus=3", f"hydra.sweep.dir={tmp_path / 's'}"],
                env=_headless(), timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert "bogus" in r.stderr and "multirun job" not in r.stdout
    assert not (tmp_path / "s").exists()


def test_multirun_refuses_hydra_sweep_forms_it_does_not_run() -> None:
    from dexrl.frontdoor import ConfigError, multirun_jobs

    assert multirun_jobs(["env=reach"]) is None
    assert multirun_jobs(["-m", "seed=0,1", "env.x=[1,2]"]) == [["seed=0", "env.x=[1,2]"], ["seed=1", "env.x=[1,2]"]]
    with pytest.raises(ConfigError, match="only comma lists"):
        multirun_jobs(["-m", "seed=range(0,3)"])
    with pytest.raises(ConfigError, match="empty value"):
        multirun_jobs(["-m", "seed=0,,1"])


def test_an_sb3_run_passed_as_a_checkpoint_says_how_to_use_it(tmp_path: Path) -> None:
    from dexrl.frontdoor import ConfigError, load_run

    (tmp_path / "sb3_model.zip").write_bytes(b"PK")  # what algo=sb3 writes beside sb3_metrics.json
    with pytest.raises(ConfigError, match=r"stable-baselines3 reference run \(algo=sb3, key: checkpoint\)"):
        load_run(tmp_path)

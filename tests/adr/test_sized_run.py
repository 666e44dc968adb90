"""A real short training run with adr=auto sized to it: boundaries decide, metrics.jsonl shows
the moves per parameter and the ranges in physical units, adr.png is drawn (Ray, MuJoCo)."""

from __future__ import annotations

import json
import runpy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from dexrl.adr import PARAM_NAMES, ADRConfig, ParamConfig
from dexrl.config import LoggerConfig, RayConfig, TrainConfig, WandbConfig, load_env_config
from dexrl.rl.config import ModelConfig, PPOConfig

ACTIVE = ("gravity", "actuator_gain")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_short_reach_run_makes_adr_decisions_and_draws_them(
    ray_session: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dexrl.distributed.trainer import Trainer

    # 8-step reach episodes with a 0.5 m tolerance: every episode has successes, so with the
    # task's own t_L / t_H (1 / 2 successes per episode) boundaries widen once their buffer fills.
    env = load_env_config(
        "reach", {"max_episode_steps": 8, "timeout_steps": 8, "success_tolerance": 0.5}
    )
    adr = ADRConfig(mode="auto", buffer_size="auto", boundary_prob="auto", decide_within_iterations=2,
                    params={n: ParamConfig(enabled=n in ACTIVE) for n in PARAM_NAMES})  # fmt: skip
    # 2 workers x 8 envs x 16 steps = 256 steps, 32 episodes per iteration; d = 2.
    train = TrainConfig(total_env_steps=10 * 256, num_workers=2, envs_per_worker=8, horizon=16,
                        device="cpu", checkpoint_every=5)  # fmt: skip
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False)
    t0 = time.perf_counter()
    trainer = Trainer(env, PPOConfig(epochs=1, minibatches=1), ModelConfig(actor_hidden=(16,), critic_hidden=(16,)),
                      adr, train, RayConfig(), logger, tmp_path)  # fmt: skip
    # The rule: the floor m = 24 needs p_b = 24·2d/(32·2) = 1.5 to fill in 2 iterations; p_b
    # stops at 0.8, so 32·0.8/4 = 6.4 results per boundary per iteration fill 24 in 3.75.
    assert (trainer.adr_cfg.buffer_size, trainer.adr_cfg.boundary_prob) == (24, 0.8)
    assert trainer.adr_sizing.iterations_to_decide == pytest.approx(3.75)
    trainer.run()
    wall = time.perf_counter() - t0
    out = capsys.readouterr().out
    start_line = [x for x in out.splitlines() if "ADR: buffer size" in x]
    assert len(start_line) == 1 and "m=24" in start_line[0] and "~960 env steps" in start_line[0]

    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 10
    moves = {n: sum(r[f"adr/widen/{n}"] + r[f"adr/narrow/{n}"] for r in rows) for n in ACTIVE}
    assert sum(moves.values()) >= 1, (moves, rows[-1]["adr/decisions"], wall)
    last = rows[-1]
    assert sum(r[f"adr/widen/{n}"] for r in rows for n in ACTIVE) == last["adr/widen_events"]
    assert last["adr/decisions"] >= 1
    g_low, g_high = last["adr/range/gravity/low"], last["adr/range/gravity/high"]
    assert 5.9 < g_low <= 9.81 <= g_high < 14.1 and (g_high - g_low) == pytest.approx(
        last["adr/gravity/high"] - last["adr/gravity/low"]
    )  # m/s², additive in λ
    assert (
        last["adr/range/actuator_gain/low"] <= 1.0 <= last["adr/range/actuator_gain/high"]
    )  # × calibrated

    with Image.open(tmp_path / "adr.png") as image:
        image.verify()
    with Image.open(tmp_path / "adr.png") as image:
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # lines, fills, text: not blank
    meta = json.loads((tmp_path / "checkpoints" / "latest" / "meta.json").read_text())
    assert meta["config"]["adr"]["buffer_size"] == 24  # the checkpoint records the m that ran

    # scripts/evaluate.py records and prints the trained ranges in physical units.
    monkeypatch.setattr(sys, "argv", ["evaluate.py", f"checkpoint={tmp_path}", "episodes=4", "num_envs=2",
                                      "video_episodes=0", f"out={tmp_path / 'eval'}"])  # fmt: skip
    runpy.run_path(str(ROOT / "scripts" / "evaluate.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert "[dexrl] trained ADR ranges: " in printed
    assert last["adr/nonzero_ranges"] >= 1  # a widened range is what the evaluation shows
    physical = json.loads((tmp_path / "eval" / "metrics.json").read_text())["adr_ranges"][
        "ranges_physical"
    ]
    units = {"gravity": "m/s²", "actuator_gain": "× calibrated"}
    for name, r in physical.items():
        assert (
            r["unit"] == units[name]
            and r["low"] <= r["calibrated"] <= r["high"]
            and r["low"] < r["high"]
        )
        assert f"{name.replace('_', ' ')} {r['low']:.3g}–{r['high']:.3g} {r['unit']}" in printed
    if "gravity" in physical:
        assert physical["gravity"]["calibrated"] == pytest.approx(9.81)

"""The exported policy, run through dexrl.deploy on SimHand, reproduces the torch policy's episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export.exported import env_config, make_learner

from dexrl.deploy import ControlLoop, Policy
from dexrl.eval.sim_hand import SimHand
from dexrl.export.bundle import export_policy
from dexrl.tasks.registry import make_task

STEPS = 60


def _env(action_mode: str = "relative") -> Any:
    # Goals are drawn at least the tolerance away, so with a 3.1 rad tolerance a small turn the
    # right way is a success: a random-weight policy scores several (each draws a new goal)
    # within a short episode. A long timeout so the episode runs all STEPS.
    return env_config("cube_rotate_z", success_tolerance=3.1, timeout_steps=1000, action_mode=action_mode)


def _torch_episode(actor: Any, env: Any, seed: int) -> dict[str, Any]:
    """The reference: HandTask.step with the torch policy's deterministic action."""
    task = make_task(env, num_envs=1, seed=seed, autoreset=False)
    obs, _ = task.reset()
    hidden = None
    actions, observations, successes, dropped = [], [], 0, False
    for t in range(STEPS):
        observations.append(obs[0].copy())
        a, _, hidden = actor.act(obs, hidden, deterministic=True, episode_starts=np.array([t == 0]))
        a = np.clip(a, -1.0, 1.0)
        actions.append(a[0])
        r = task.step(a)
        successes += int(r.info["is_success"][0])
        dropped = dropped or bool(r.info["dropped"][0])
        obs = r.obs
        if r.terminated[0] or r.truncated[0]:  # e.g. a drop: compare the steps it ran
            break
    return {"actions": np.array(actions), "obs": np.array(observations), "successes": successes,
            "dropped": dropped}


# A random-weight policy flails the cube through contacts, and contact dynamics amplify the
# float-level (~1e-7) difference between onnxruntime's and torch's kernels; over 60 steps of
# 12 policies tried (3 kinds x 4 weight seeds) 11 stayed within 1e-5 (typically 1e-6) and one
# drifted to 1e-4. These weight seeds are three of the 11; a trained policy that holds the cube
# is far less chaotic than a flailing one.
@pytest.mark.parametrize(("kind", "mode", "weights"),
                         [("mlp", "relative", 1), ("lstm", "relative", 3), ("mlp", "absolute", 0)])
def test_deploy_on_simhand_reproduces_torch_episode(tmp_path: Path, kind: str, mode: str, weights: int) -> None:
    env, seed = _env(mode), 3
    actor = make_learner(env, kind, seed=weights).actor.eval()
    export_policy(actor, make_task(env, num_envs=1, seed=0, autoreset=False), tmp_path)
    ref = _torch_episode(actor, env, seed)

    hand = SimHand(env, seed=seed)
    hand.reset()
    loop = ControlLoop(Policy.load(tmp_path), hand, goal=hand.goal, realtime=False)
    loop.reset()
    records = []
    steps = len(ref["actions"])
    assert steps >= 30, "the reference episode is too short to compare"
    stats = loop.run(steps, on_step=records.append)

    assert stats.held == 0 and stats.sent == steps and stats.clamped_steps == 0
    obs = np.array([r.obs[0] for r in records])
    actions = np.array([r.action for r in records])
    np.testing.assert_allclose(obs, ref["obs"], atol=1e-5, rtol=0)  # the same observation layout
    np.testing.assert_allclose(actions, ref["actions"], atol=1e-5, rtol=0)
    assert np.abs(ref["actions"]).max() > 0.3, "the policy barely acts: the test would prove little"
    assert ref["successes"] >= 2, "no successes to compare: widen the tolerance"
    assert hand.successes == ref["successes"]
    assert hand.dropped == ref["dropped"]
    # The actuator targets the loop sent are the ones the task computed for the same actions.
    task = make_task(env, num_envs=1, seed=seed, autoreset=False)
    task.reset()
    for a in actions[:5]:
        task.step(a[None].astype(np.float64))
    np.testing.assert_allclose(records[4].targets, task.targets[0], atol=1e-5)

"""A face_turn policy exports and runs on the deploy runtime: its `face` part is built from a
cube-state tracker's face angle (SensorReading.face_angle) and the goal source's face subgoal.

A policy trained for one iteration is exported by scripts/export.py (in process), run through
ControlLoop on SimHand, and at every step the observation the runtime built must equal the
task's own observation of the same state (the Rubik's task computes the face part from its hinge,
its quarter-turn bookkeeping and its subgoal). The top layer is turned and goals are redrawn
along the way, so rotate and flip subgoals, turned faces and committed quarter turns all occur.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from export.exported import env_config, write_trained_checkpoint

from dexrl.deploy import ControlLoop, Policy, SensorReading
from dexrl.deploy.observation import ObservationBuilder, ObservationFault
from dexrl.eval.sim_hand import SimHand
from dexrl.rl.networks import load_actor_state, make_actor
from dexrl.tasks.rubiks import FLIP, ROTATE
from dexrl.tasks.rubiks_cube import QUARTER

ROOT = Path(__file__).resolve().parents[2]
STEPS = 36


def _export_script() -> ModuleType:
    """scripts/export.py as a module (its main(argv) is the command line's entry point)."""
    key = "_dexrl_script_export"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "scripts" / "export.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="module")
def face_turn_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run directory, export directory) of a face_turn policy trained one iteration."""
    tmp = tmp_path_factory.mktemp("face_turn")
    env = env_config("face_turn", timeout_steps=1000)
    write_trained_checkpoint(tmp / "run" / "checkpoints" / "latest", env, "mlp", iterations=1)
    out = tmp / "exported"
    _export_script().main([f"checkpoint={tmp / 'run'}", f"out={out}"])
    return tmp / "run", out


class Witness:
    """SimHand as the loop's hand. At each read it records the task's own observation of the
    state being read (with the loop's control state, which the task would hold itself), and at
    chosen reads it turns the top layer or redraws the goal first, as a hand and a planner do."""

    def __init__(self, sim: SimHand) -> None:
        self.sim = sim
        self.loop: Any = None  # the ControlLoop, once built
        self.reads = 0
        self.expected: list[np.ndarray] = []

    def _script(self, k: int) -> None:
        t = self.sim.task
        if k in (4, 20):  # redraw until a rotate (step 4) / a flip (step 20) subgoal is the goal
            want = ROTATE if k == 4 else FLIP
            for _ in range(50):
                if t.goal_type[0] == want:
                    break
                t.advance_goal(0)
            assert t.goal_type[0] == want
        if k in (8, 24):
            t.turn_face(0, 0.3)
        if k == 12:  # complete a quarter turn: the next physics step commits it (face_turns)
            t.turn_face(0, QUARTER - float(t.qpos[0, t.cube_ids.hinge_qpos]))

    def read(self) -> SensorReading:
        k, self.reads = self.reads, self.reads + 1
        self._script(k)
        reading = self.sim.read()
        control = self.loop.control if self.loop is not None else None
        if control is not None:  # reset()'s read has no control state yet
            t = self.sim.task
            np.testing.assert_allclose(t.targets[0], control.targets)  # no latency: the targets sent
            t.smoothed_action[0], t.last_action[0] = control.smoothed_action, control.last_action
            self.expected.append(t._policy_obs_clean()[0].copy())
        return reading

    def send_targets(self, targets: np.ndarray) -> None:
        self.sim.send_targets(targets)


def test_face_turn_exports_with_a_face_source(face_turn_export: tuple[Path, Path]) -> None:
    _, out = face_turn_export
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["env"]["task"] == "face_turn"
    face = next(p for p in manifest["observation"]["parts"] if p["name"] == "face")
    assert face["size"] == 4 and face["source"]["kind"] == "face_progress"
    assert face["source"]["reads"] == ["reading.face_angle", "goal.face_subgoal", "goal.face_angle_target",
                                       "goal.face_on_top"]  # fmt: skip
    assert "re-based" in face["source"]["description"]  # the tracker's convention is stated
    kinds = {p["name"]: p["source"]["kind"] for p in manifest["observation"]["parts"]}
    assert kinds["cube_quat"] == "object_orientation" and kinds["joint_pos"] == "joint_encoders"
    assert Policy.load(out).obs_dim == manifest["observation"]["dim"] == 118


def test_deployed_face_turn_observation_equals_the_tasks(face_turn_export: tuple[Path, Path]) -> None:
    run, out = face_turn_export
    env = env_config("face_turn", timeout_steps=1000)
    sim = SimHand(env, seed=3)
    sim.reset()
    hand = Witness(sim)
    policy = Policy.load(out)
    loop = ControlLoop(policy, hand, goal=sim.goal, realtime=False)
    hand.loop = loop
    loop.reset()
    records: list[Any] = []
    stats = loop.run(STEPS, on_step=records.append)

    assert stats.held == 0 and stats.sent == STEPS, stats.faults
    obs = np.array([r.obs[0] for r in records])
    expected = np.array(hand.expected)
    assert obs.shape == expected.shape == (STEPS, 118)
    np.testing.assert_allclose(obs, expected, atol=1e-5, rtol=0)

    # The face part went through the cases its formula distinguishes.
    parts = sim.task.policy_obs_parts()
    start = sum(p.size for p in parts[: [p.name for p in parts].index("face")])
    face = expected[:, start : start + 4]
    assert (face[:, 2] == 1).any() and (face[:, 3] == 1).any()  # rotate and flip subgoals
    assert np.abs(face[:, 0]).max() > 0.25  # the top layer turned
    assert sim.task.cubes[0].quarter_turns >= 1  # a quarter turn was committed while deployed

    # The runtime's actions are the trained torch policy's on the task's observations.
    from dexrl.frontdoor import load_run

    trained = load_run(run)
    actor = make_actor(118, sim.task.action_dim, trained.model, trained.ppo.obs_clip)
    load_actor_state(actor, trained.payload["learner"]["actor"])
    with torch.no_grad():
        want = actor(torch.as_tensor(expected, dtype=torch.float32))[0].clamp(-1, 1).numpy()
    np.testing.assert_allclose(np.array([r.action for r in records]), want, atol=1e-4, rtol=0)


def test_the_face_goal_flags_are_checked(face_turn_export: tuple[Path, Path]) -> None:
    _, out = face_turn_export
    builder = ObservationBuilder(json.loads((out / "manifest.json").read_text())["observation"])
    assert set(builder.goal_keys) == {"goal_quat", "face_subgoal", "face_angle_target", "face_on_top"}
    assert "face_angle" in builder.reading_fields
    good = {"goal_quat": np.array([1.0, 0, 0, 0]), "face_subgoal": np.array([1.0, 0.0]),
            "face_angle_target": np.array([0.5]), "face_on_top": np.array([1.0])}  # fmt: skip
    builder.check_goal(good)
    for key, bad in (("face_subgoal", [1.0, 1.0]), ("face_subgoal", [0.5, 0.5]), ("face_on_top", [0.3])):
        with pytest.raises(ObservationFault, match=f"goal '{key}'") as err:
            builder.check_goal({**good, key: np.array(bad)})
        assert err.value.kind == "goal_errors"

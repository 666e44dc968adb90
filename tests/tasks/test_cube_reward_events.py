"""Reward and episode-end arithmetic of the cube tasks, with the cube placed by hand.

The hand holds still (zero actions keep the joint targets) after the cube has settled on the palm;
the goal is then set to a rotation about the palm normal, and the cube is turned about that same
normal, so the cube stays flat on the palm and every rotation distance is the angle chosen here.
Angles are measured with rotation matrices (trace formula), independent of dexrl's quaternion code.
Expected rewards follow [D]: d_t − d_{t+1}, +5 per success, −20 on a drop.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import dexrl  # noqa: F401  (registers the gymnasium ids)
from dexrl.tasks.registry import make_task

SETTLE_STEPS = 25  # 2 s: the cube and the hand come to rest (see tests/sim)


# ----------------------------------------------------------------------------- helpers
def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    q = np.zeros(4)
    mujoco.mju_axisAngle2Quat(q, np.asarray(axis, dtype=np.float64), angle)
    return q


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    q = np.zeros(4)
    mujoco.mju_mulQuat(q, a, b)
    return q


def angle_between(qa: np.ndarray, qb: np.ndarray) -> float:
    """Rotation angle taking orientation a to b: acos((tr(Ra^T Rb) - 1) / 2)."""
    ra, rb = np.zeros(9), np.zeros(9)
    mujoco.mju_quat2Mat(ra, np.asarray(qa, dtype=np.float64) / np.linalg.norm(qa))
    mujoco.mju_quat2Mat(rb, np.asarray(qb, dtype=np.float64) / np.linalg.norm(qb))
    c = (np.trace(ra.reshape(3, 3).T @ rb.reshape(3, 3)) - 1.0) / 2.0
    return math.acos(min(1.0, max(-1.0, c)))


class Bench:
    """One cube env (K = 1, no auto-reset) settled on the palm, with placement helpers."""

    def __init__(self, env: str = "cube_rotate", seed: int = 3, settle: bool = True, **overrides: Any):
        self.task = make_task(env, num_envs=1, seed=seed, overrides=overrides, autoreset=False)
        self.task.reset()
        self.m, self.d = self.task.sim.models[0], self.task.sim.datas[0]
        self.qa, self.va = self.task.ids.cube_qpos_adr, self.task.ids.cube_dof_adr
        if settle:
            for _ in range(SETTLE_STEPS):
                r = self.step()
                assert not (r.terminated[0] or r.truncated[0]), "the settling cube must stay put"
        self.rest_quat = self.cube_quat()
        self.rest_pos = self.d.qpos[self.qa : self.qa + 3].copy()
        # The palm normal in the world (the palm geom's local +z).
        self.normal = self.d.geom_xmat[self.m.geom("palm_geom").id].reshape(3, 3)[:, 2].copy()

    def step(self):  # type: ignore[no-untyped-def]
        return self.task.step(np.zeros((1, self.task.action_dim)))

    def cube_quat(self) -> np.ndarray:
        return self.d.qpos[self.qa + 3 : self.qa + 7].copy()

    def turned(self, angle: float) -> np.ndarray:
        """The resting orientation turned by `angle` about the palm normal (stays flat)."""
        return compose(axis_angle(self.normal, angle), self.rest_quat)

    def place(self, quat: np.ndarray, pos: np.ndarray | None = None) -> None:
        self.d.qpos[self.qa : self.qa + 3] = self.rest_pos if pos is None else pos
        self.d.qpos[self.qa + 3 : self.qa + 7] = quat
        self.d.qvel[self.va : self.va + 6] = 0.0
        mujoco.mj_forward(self.m, self.d)

    def set_goal(self, quat: np.ndarray) -> None:
        """Make `quat` the goal; one still step stores the distance to it (the reward baseline)."""
        self.task.goal_quat[0] = quat
        self.step()

    def goal(self) -> np.ndarray:
        return self.task.goal_quat[0].copy()


# ----------------------------------------------------------------------------- dense reward
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_reward_is_the_scaled_decrease_of_rotation_distance(scale: float) -> None:
    b = Bench(distance_reward_scale=scale)
    b.set_goal(b.turned(1.5))  # the cube (at 0) is 1.5 rad from the goal
    b.place(b.turned(0.6))  # turned by hand: 0.9 rad from the goal
    r = b.step()
    assert r.reward[0] == pytest.approx(scale * (1.5 - 0.9), abs=0.01 * scale)
    assert not (r.info["is_success"][0] or r.terminated[0] or r.truncated[0])
    b.place(b.turned(-0.5))  # turned away: 2.0 rad from the goal
    r = b.step()
    assert r.reward[0] == pytest.approx(scale * (0.9 - 2.0), abs=0.01 * scale)
    r = b.step()  # nothing moves: nothing earned
    assert r.reward[0] == pytest.approx(0.0, abs=0.005 * scale)


def test_action_penalty_is_subtracted_per_squared_action() -> None:
    b = Bench(action_penalty=20.0)
    b.set_goal(b.turned(1.5))
    # a = 0.05 on all 20 actuators: 20 * 20 * 0.05^2 = 1.0. The joint targets move by
    # 0.3 * 0.05 * 0.1 of a half range (~1 mrad), too little to turn the resting cube.
    r = b.task.step(np.full((1, b.task.action_dim), 0.05))
    assert r.reward[0] == pytest.approx(-1.0, abs=0.01)


# ----------------------------------------------------------------------------- success
def test_success_pays_five_draws_a_new_goal_and_counts() -> None:
    b = Bench()
    b.set_goal(b.turned(1.5))
    old_goal = b.goal()
    b.place(b.turned(1.3))  # 0.2 rad from the goal: within the 0.4 rad tolerance
    r = b.step()
    assert bool(r.info["is_success"][0]) and r.info["consecutive_successes"][0] == 1
    assert r.reward[0] == pytest.approx(5.0 + (1.5 - 0.2), abs=0.01)
    assert not (r.terminated[0] or r.truncated[0] or r.info["dropped"][0])
    new_goal = b.goal()
    assert angle_between(new_goal, old_goal) > 1e-3, "a new goal is drawn after a success"
    # The goal marker shows the new goal.
    marker = b.d.mocap_quat[b.task.ids.goal_mocap]
    assert angle_between(marker, new_goal) < 1e-9
    # The next reward is measured against the new goal: a still cube earns ~0 (not 0.2 - d_new).
    r = b.step()
    assert r.reward[0] == pytest.approx(0.0, abs=0.005)
    assert r.info["consecutive_successes"][0] == 1


def test_success_seen_through_gymnasium() -> None:
    env = gym.make("dexrl/CubeRotate-v0")
    env.reset(seed=5)
    task = env.unwrapped.task  # type: ignore[attr-defined]
    a, zero = task.ids.cube_qpos_adr, np.zeros(task.action_dim, dtype=np.float32)
    for _ in range(SETTLE_STEPS):
        env.step(zero)
    cube = task.sim.datas[0].qpos[a + 3 : a + 7].copy()
    before = angle_between(cube, task.goal_quat[0])  # distance to the drawn goal: the baseline
    task.goal_quat[0] = compose(axis_angle(np.array([0, 0, 1.0]), 0.1), cube)  # 0.1 rad away
    _, reward, terminated, truncated, info = env.step(zero)
    assert info["is_success"] is True and info["consecutive_successes"] == 1
    assert isinstance(reward, float)
    assert reward == pytest.approx(5.0 + before - 0.1, abs=0.01)
    assert terminated is False and truncated is False


# ----------------------------------------------------------------------------- drop
def test_drop_costs_twenty_plus_the_distance_change_and_terminates() -> None:
    b = Bench()
    b.set_goal(b.turned(1.5))
    palm = b.d.site_xpos[b.task.ids.palm_site].copy()
    b.place(b.turned(0.4), pos=palm - np.array([0.0, 0.0, 0.10]))  # 10 cm under the palm, 1.1 rad off
    r = b.step()
    assert bool(r.info["dropped"][0]) and bool(r.terminated[0]) and not r.truncated[0]
    assert not r.info["is_success"][0]
    # It falls freely without turning: -20 + (1.5 - 1.1).
    assert r.reward[0] == pytest.approx(-20.0 + 0.4, abs=0.01)


def test_drop_threshold_is_the_configured_depth() -> None:
    b = Bench(drop_below_palm=0.2)  # 10 cm (+3 cm of fall in one step) is not a drop now
    b.set_goal(b.turned(1.5))
    palm = b.d.site_xpos[b.task.ids.palm_site].copy()
    b.place(b.turned(0.4), pos=palm - np.array([0.0, 0.0, 0.10]))
    r = b.step()
    assert not r.info["dropped"][0] and not r.terminated[0]
    assert r.reward[0] == pytest.approx(0.4, abs=0.01)


# ----------------------------------------------------------------------------- timeout
def test_timeout_truncates_and_a_success_restarts_the_count() -> None:
    b = Bench(timeout_steps=4, max_episode_steps=1000, settle=False)
    ends = []
    for t in range(1, 8):
        if t in (1, 4):  # keep the goal far (2.5 rad) so no success happens by chance
            b.task.goal_quat[0] = compose(axis_angle(b.normal, 2.5), b.cube_quat())
        if t == 3:
            b.place(b.goal(), pos=b.d.qpos[b.qa : b.qa + 3].copy())  # the cube on the goal
        r = b.step()
        assert bool(r.info["is_success"][0]) == (t == 3)
        assert not r.terminated[0]
        ends.append(bool(r.truncated[0]))
    # No success in steps 1-2, success at 3, then 4 success-free steps: 4, 5, 6, 7 -> timeout at 7.
    assert ends == [False] * 6 + [True]


def test_timeout_at_exactly_timeout_steps() -> None:
    b = Bench(timeout_steps=5, max_episode_steps=1000, settle=False)
    b.task.goal_quat[0] = compose(axis_angle(b.normal, 2.5), b.cube_quat())
    ends = [(bool(r.terminated[0]), bool(r.truncated[0])) for r in (b.step() for _ in range(5))]
    assert ends == [(False, False)] * 4 + [(False, True)]


# ----------------------------------------------------------------------------- success cap
def test_success_cap_truncates_after_the_last_allowed_success() -> None:
    # SO(3) goals: the cube is held at each goal in zero gravity, 3 cm above the palm, so it
    # keeps exactly the orientation it is given.
    b = Bench(max_successes=3, timeout_steps=1000, settle=False)
    b.m.opt.gravity[:] = 0.0
    lifted = b.d.qpos[b.qa : b.qa + 3] + np.array([0.0, 0.0, 0.03])
    for k in range(1, 4):
        before = angle_between(b.cube_quat(), b.goal())  # the stored distance d_t
        b.place(b.goal(), pos=lifted)
        r = b.step()
        assert bool(r.info["is_success"][0]) and r.info["consecutive_successes"][0] == k
        assert r.reward[0] == pytest.approx(5.0 + before, abs=1e-6)
        assert not r.terminated[0]
        assert bool(r.truncated[0]) == (k == 3), f"success {k} of 3"


# ----------------------------------------------------------------------------- episode cap
def test_max_episode_steps_truncates_and_auto_resets() -> None:
    task = make_task("cube_rotate", num_envs=2, seed=8, overrides={"max_episode_steps": 6,
                                                                    "timeout_steps": 1000})
    task.reset()
    zero = np.zeros((2, task.action_dim))
    for t in range(1, 13):
        r = task.step(zero)
        assert not r.terminated.any()
        assert r.truncated.tolist() == [t % 6 == 0] * 2, f"step {t}"
        if t % 6 == 0:
            assert r.info["episode_length"].tolist() == [6, 6]
            assert task.step_count.tolist() == [0, 0]  # auto-reset started new episodes
            # The returned observation is the new episode's; the last one is in final_obs.
            assert not np.array_equal(r.obs, r.info["final_obs"])

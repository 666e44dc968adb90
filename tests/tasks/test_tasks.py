"""Task behaviour a user relies on: reward arithmetic with the cube placed by hand, success /
drop / timeout / cap, determinism, batched == single envs, the gymnasium and SB3 checkers, and
clear errors for bad input."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import dexrl  # noqa: F401  (registers the gymnasium ids)
from dexrl.config import load_env_config
from dexrl.tasks.registry import make_task
from dexrl.tasks.rotations import quat_mul, yaw_quat

UP = np.array([1.0, 0, 0, 0])


def _task(env: str = "cube_rotate", **overrides):  # type: ignore[no-untyped-def]
    task = make_task(env, num_envs=1, seed=0, autoreset=False, overrides=overrides)
    task.reset_env(0)
    return task


def _place(task, quat: np.ndarray, dz: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """Put the cube at orientation `quat` (and dz below its start) by writing qpos."""
    m, d, a = task.sim.models[0], task.sim.datas[0], task.ids.cube_qpos_adr
    d.qpos[a + 3 : a + 7] = quat
    d.qpos[a + 2] += dz
    d.qvel[task.ids.cube_dof_adr : task.ids.cube_dof_adr + 6] = 0.0
    mujoco.mj_forward(m, d)
    task.refresh(0)


def _set_goal(task, goal: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    task.goal_quat[0] = goal
    task.distance[:] = task._task_distance()


ZERO = np.zeros((1, 20))


def test_reward_is_the_decrease_of_rotation_distance() -> None:
    task = _task()
    _place(task, UP)
    _set_goal(task, yaw_quat(1.0))  # distance 1.0 rad before the cube is moved
    assert task.distance[0] == pytest.approx(1.0, abs=1e-9)
    _place(task, yaw_quat(0.3))  # placed by hand 0.3 rad closer
    r = task.step(ZERO)
    assert r.reward[0] == pytest.approx(0.3, abs=0.02)  # 1.0 - 0.7, the cube settles a little
    assert not r.info["is_success"][0] and not r.terminated[0] and not r.truncated[0]


def test_success_gives_plus_5_and_a_new_goal() -> None:
    task = _task()
    _place(task, UP)
    _set_goal(task, yaw_quat(1.0))
    _place(task, yaw_quat(0.8))  # 0.2 rad from the goal: inside the 0.4 rad tolerance
    old_goal = task.goal_quat[0].copy()
    r = task.step(ZERO)
    assert r.reward[0] == pytest.approx(5.0 + 0.8, abs=0.02)
    assert r.info["is_success"][0] and r.info["consecutive_successes"][0] == 1
    assert not np.allclose(task.goal_quat[0], old_goal)  # resampled after the success


def test_drop_gives_minus_20_and_terminates() -> None:
    task = _task()
    _place(task, UP)
    _set_goal(task, yaw_quat(2.0))
    _place(task, UP, dz=-0.10)  # 10 cm below the palm: fallen
    r = task.step(ZERO)
    assert r.info["dropped"][0] and r.terminated[0] and not r.truncated[0]
    assert r.reward[0] == pytest.approx(-20.0, abs=0.05)


def test_timeout_without_success_truncates() -> None:
    task = _task(timeout_steps=3, max_episode_steps=100)
    _place(task, UP)
    _set_goal(task, yaw_quat(np.pi))
    flags = [(bool(r.terminated[0]), bool(r.truncated[0])) for r in (task.step(ZERO) for _ in range(3))]
    assert flags == [(False, False), (False, False), (False, True)]


def test_success_cap_ends_the_episode() -> None:
    # Yaw goals keep the up face up, so the cube placed on the goal rests there.
    task = _task("cube_rotate_z", max_successes=3, timeout_steps=100)
    ends = []
    for _ in range(3):
        _place(task, task.goal_quat[0].copy())  # put the cube on the goal: a success each step
        r = task.step(ZERO)
        assert r.info["is_success"][0]
        ends.append(bool(r.truncated[0]))
    assert ends == [False, False, True] and task.consecutive_successes[0] == 3


def test_episode_length_cap() -> None:
    task = _task(max_episode_steps=5, timeout_steps=100)
    _set_goal(task, quat_mul(yaw_quat(np.pi), UP))
    truncated = [bool(task.step(ZERO).truncated[0]) for _ in range(5)]
    assert truncated == [False] * 4 + [True]


def _rollout(env: gym.Env, seed: int, actions: np.ndarray) -> list:  # type: ignore[type-arg]
    obs, _ = env.reset(seed=seed)
    out = [obs["policy"].copy()]
    for a in actions:
        obs, reward, term, trunc, _ = env.step(a)
        out.append((obs["policy"].copy(), reward, term, trunc))
        if term or trunc:
            obs, _ = env.reset()
    return out


def test_same_seed_same_trajectory_different_seed_different() -> None:
    actions = np.random.default_rng(1).uniform(-1, 1, (40, 20)).astype(np.float32)
    a = _rollout(gym.make("dexrl/CubeRotate-v0", max_episode_steps=15), 7, actions)
    b = _rollout(gym.make("dexrl/CubeRotate-v0", max_episode_steps=15), 7, actions)
    c = _rollout(gym.make("dexrl/CubeRotate-v0", max_episode_steps=15), 8, actions)
    np.testing.assert_array_equal(a[0], b[0])
    for x, y in zip(a[1:], b[1:], strict=True):
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:] == y[1:]
    assert not np.array_equal(a[0], c[0])


def test_batched_task_equals_single_envs_step_for_step() -> None:
    K, seed, steps = 4, 11, 30
    overrides = {"timeout_steps": 12}  # crosses episode boundaries (auto-reset)
    batched = make_task("cube_rotate", num_envs=K, seed=seed, overrides=overrides)
    singles = [gym.make("dexrl/CubeRotate-v0", **overrides).unwrapped for _ in range(K)]
    obs_b, _ = batched.reset()
    obs_s = [env.reset(seed=seed + i)[0]["policy"] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(obs_b, np.stack(obs_s))
    actions = np.random.default_rng(2).uniform(-1, 1, (steps, K, 20))
    for t in range(steps):
        r = batched.step(actions[t])
        for i, env in enumerate(singles):
            obs, reward, term, trunc, _ = env.step(actions[t, i])
            assert reward == r.reward[i] and term == r.terminated[i] and trunc == r.truncated[i]
            if term or trunc:
                obs, _ = env.reset()  # the batched task auto-reset with the same generator
            np.testing.assert_array_equal(obs["policy"], r.obs[i])


@pytest.mark.parametrize("gym_id", ["dexrl/Reach-v0", "dexrl/CubeRotateZ-v0", "dexrl/CubeRotate-v0"])
def test_gymnasium_and_sb3_env_checkers_pass(gym_id: str) -> None:
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(gym.make(gym_id).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(gym_id, obs_mode="policy").unwrapped)
    sb3_check_env(gym.make(gym_id).unwrapped)


def test_bad_input_gets_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown env 'nope'.*cube_rotate.*reach"):
        load_env_config("nope")
    with pytest.raises(ValueError, match="unknown env 'nope'"):
        make_task("nope")
    env = gym.make("dexrl/Reach-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape \(20,\)"):
        env.step(np.zeros(19))
    task = make_task("reach", num_envs=2)
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 20\)"):
        task.step(np.zeros((2, 19)))
    bad = np.zeros((2, 20))
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf.*env 1, actuator 3"):
        task.step(bad)
    with pytest.raises(FileNotFoundError, match="objects/missing.xml"):
        make_task("reach", overrides={"object": "objects/missing.xml"})
    with pytest.raises(ValueError, match="env.substeps must be >= 1"):
        load_env_config("reach", {"substeps": 0})
    with pytest.raises(ValueError, match="substep"):
        load_env_config("reach", {"substep": 3})  # a typo names the key


def test_refresh_reads_a_replaced_mjdata_and_its_divergence_warnings() -> None:
    """The snapshot keeps views into each env's MjData; an env given a new model (ADR's cube
    size) gets a new MjData, and the snapshot must read that one, not the old arrays."""
    task = make_task("cube_rotate", num_envs=2, seed=0)
    task.reset()
    fresh = task.sim.models[1]
    old_data = task.sim.datas[1]
    task.sim.replace_model(1, fresh)
    assert task.sim.datas[1] is not old_data
    d = task.sim.datas[1]
    d.qpos[:] = task.qpos[1] + 0.01
    d.qvel[:] = 0.5
    mujoco.mj_forward(fresh, d)
    task.refresh()
    np.testing.assert_array_equal(task.qpos[1], d.qpos)
    np.testing.assert_array_equal(task.qvel[1], d.qvel)
    np.testing.assert_array_equal(task.site_pos[1, 0], d.site_xpos[task.ids.palm_site])
    assert not task.diverged.any()
    d.warning[int(mujoco.mjtWarning.mjWARN_BADQACC)].number = 1  # MuJoCo reset this env's state
    task.refresh(1)
    assert task.diverged.tolist() == [False, True]
    task.sim.clear_warnings(1)
    task.refresh()
    assert not task.diverged.any()

"""What users of the environments rely on: the gymnasium and stable-baselines3 checkers accept
them, long random play stays finite and bounded, and bad input fails early with a message that
names the problem."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import dexrl  # noqa: F401  (registers the gymnasium ids)
from dexrl.config import load_env_config
from dexrl.tasks.gym_env import DexHandEnv
from dexrl.tasks.registry import make_task

IDS = ["dexrl/Reach-v0", "dexrl/CubeRotateZ-v0", "dexrl/CubeRotate-v0"]
KNOWN = ("cube_rotate", "cube_rotate_z", "reach")


# ----------------------------------------------------------------------------- API checkers
@pytest.mark.parametrize("gym_id", IDS)
def test_gymnasium_env_checker(gym_id: str) -> None:
    from gymnasium.utils.env_checker import check_env

    env = gym.make(gym_id)
    assert isinstance(env.observation_space, gym.spaces.Dict)
    assert set(env.observation_space.spaces) == {"policy", "critic"}
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (20,), np.float32)
    with pytest.warns(UserWarning, match="infinity"):  # unbounded observations are intended
        check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("obs_mode", ["policy", "dict"])
def test_stable_baselines3_env_checker(obs_mode: str) -> None:
    from stable_baselines3.common.env_checker import check_env

    env = gym.make("dexrl/CubeRotate-v0", obs_mode=obs_mode)
    if obs_mode == "policy":
        dict_env = gym.make("dexrl/CubeRotate-v0")
        assert env.observation_space == dict_env.observation_space["policy"]  # type: ignore[index]
    check_env(env.unwrapped, warn=True)


# ----------------------------------------------------------------------------- long random play
def test_ten_thousand_random_steps_are_finite_and_bounded() -> None:
    K, T = 8, 1250  # 10,000 env steps with auto-reset
    task = make_task("cube_rotate", num_envs=K, seed=17)
    obs, critic = task.reset()
    rng = np.random.default_rng(17)
    a = task.ids.cube_qpos_adr
    # |d_t - d_t+1| <= pi, plus at most one bonus or one penalty.
    lo, hi = task.cfg.drop_penalty - math.pi, task.cfg.success_bonus + math.pi
    m = task.base_model
    limits = m.jnt_range[[m.joint(n).id for n in task.ids.hand_joint_names]]
    episodes = 0
    for _ in range(T):
        r = task.step(rng.uniform(-1.0, 1.0, (K, task.action_dim)))
        for name, x in (("obs", r.obs), ("critic_obs", r.critic_obs), ("reward", r.reward)):
            assert np.isfinite(x).all(), f"non-finite {name}"
        assert ((lo <= r.reward) & (r.reward <= hi)).all(), r.reward
        assert not r.info["unhealthy"].any(), "physics diverged under random actions"
        if "episode_done" in r.info:
            episodes += int(r.info["episode_done"].sum())
            assert np.isfinite(r.info["final_obs"]).all()
        # The cube's orientation stays a unit quaternion; targets stay in the control ranges and
        # joints in their limits (soft limit constraints: a small overshoot is allowed).
        np.testing.assert_allclose(np.linalg.norm(task.qpos[:, a + 3 : a + 7], axis=1), 1.0, atol=1e-6)
        assert ((task.ctrl_low <= task.targets) & (task.targets <= task.ctrl_high)).all()
        q = task.hand_qpos()
        assert ((limits[:, 0] - 0.05 <= q) & (q <= limits[:, 1] + 0.05)).all()
    assert episodes >= K, "random play should end (drop or timeout) at least once per env"


# ----------------------------------------------------------------------------- bad input
def test_unknown_env_names_list_the_known_ones() -> None:
    pattern = re.compile(r"unknown env 'nope'.*" + r".*".join(KNOWN))
    for build in (
        lambda: load_env_config("nope"),
        lambda: make_task("nope"),
        lambda: gym.make("dexrl/CubeRotate-v0", env="nope"),
        lambda: DexHandEnv(env="nope"),
    ):
        with pytest.raises(ValueError, match=pattern):
            build()
    with pytest.raises(gym.error.NameNotFound):
        gym.make("dexrl/Nope-v0")


@pytest.mark.parametrize("shape", [(19,), (21,), (1, 20), (20, 1), ()])
def test_gym_env_rejects_wrong_action_shapes(shape: tuple[int, ...]) -> None:
    env = gym.make("dexrl/Reach-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("action must have shape (20,)") + ".*" + re.escape(str(shape))):
        env.step(np.zeros(shape, dtype=np.float32))


def test_batched_task_rejects_wrong_action_shapes() -> None:
    task = make_task("reach", num_envs=3)
    task.reset()
    for shape in [(3, 19), (2, 20), (20,), (3, 20, 1)]:
        with pytest.raises(ValueError, match=re.escape("(3, 20)") + ".*" + re.escape(str(shape))):
            task.step(np.zeros(shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_are_refused_before_anything_moves(bad: float) -> None:
    task = make_task("cube_rotate", num_envs=2, seed=1)
    twin = make_task("cube_rotate", num_envs=2, seed=1)
    task.reset()
    twin.reset()
    actions = np.full((2, 20), 0.3)
    actions[1, 7] = bad
    with pytest.raises(ValueError, match=r"NaN or inf.*env 1, actuator 7"):
        task.step(actions)
    # Nothing was applied: the next valid step matches a twin that never saw the bad action.
    good = np.full((2, 20), 0.3)
    np.testing.assert_array_equal(task.step(good).obs, twin.step(good).obs)
    env = gym.make("dexrl/CubeRotate-v0").unwrapped
    env.reset(seed=0)
    single = np.zeros(20, dtype=np.float32)
    single[4] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        env.step(single)


def test_missing_model_file_is_named() -> None:
    for build in (
        lambda: make_task("cube_rotate", overrides={"object": "missing"}),
        lambda: gym.make("dexrl/CubeRotate-v0", object="missing"),
    ):
        with pytest.raises(FileNotFoundError, match=r"objects/missing\.xml.*block"):
            build()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"substeps": 0}, "env.substeps must be >= 1"),
        ({"timestep": 0.0}, "env.timestep must be > 0"),
        ({"action_ema": 1.5}, "env.action_ema"),
        ({"goal": "sphere"}, "env.goal"),
        ({"task": "juggle"}, "env.task='juggle'"),
        ({"substep": 3}, "key: substep\\)"),  # a typo is named, not ignored
        ({"substeps": "many"}, "key: substeps\\)"),  # a wrong type is named
        ({"robot": {"palm_sit": "palm_center"}}, "key: robot.palm_sit\\)"),
    ],
)
def test_invalid_config_values_name_the_key(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        load_env_config("cube_rotate", overrides)
    with pytest.raises(ValueError, match=named):
        make_task("cube_rotate", overrides=overrides)


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        make_task("reach", num_envs=0)
    with pytest.raises(ValueError, match="obs_mode"):
        gym.make("dexrl/Reach-v0", obs_mode="pixels")
    with pytest.raises(ValueError, match="ready_pose names unknown joints.*XXJ1"):
        make_task("reach", overrides={"robot": {"ready_pose": {"XXJ1": 0.1}}})


def test_partial_robot_override_keeps_the_rest_of_the_robot_config() -> None:
    import yaml

    from dexrl.paths import configs_dir

    robot_yaml = yaml.safe_load((configs_dir() / "robot" / "dexhand.yaml").read_text())
    cfg = load_env_config("cube_rotate", {"robot": {"init_qpos_noise": 0.0}})
    assert cfg.robot.init_qpos_noise == 0.0
    assert cfg.robot.ready_pose == robot_yaml["ready_pose"]


def test_sb3_envs_get_the_robot_overrides() -> None:
    from dexrl.baselines.sb3 import make_vec_env

    cfg = load_env_config("reach", {"robot": {"init_qpos_noise": 0.0, "ready_pose": {"FFJ3": 0.25}}})
    vec = make_vec_env(cfg, n_envs=1, seed=0, subprocess=False)
    try:
        task = vec.venv.envs[0].unwrapped.task
        assert task.cfg.robot == cfg.robot
        assert task.cfg.robot.ready_pose["FFJ3"] == 0.25
        assert len(task.cfg.robot.ready_pose) > 1  # the other joints of the robot yaml stay
    finally:
        vec.close()
    # An EnvConfig built in code is used as it is (not merged with the yaml again).
    import dataclasses

    one_joint = dataclasses.replace(cfg, robot=dataclasses.replace(cfg.robot, ready_pose={"FFJ3": 0.1}))
    vec = make_vec_env(one_joint, n_envs=1, seed=0, subprocess=False)
    try:
        assert vec.venv.envs[0].unwrapped.task.cfg == one_joint
    finally:
        vec.close()
    with pytest.raises(ValueError, match="got an EnvConfig and overrides"):
        DexHandEnv(env=one_joint, substeps=10)


def test_a_dropped_cube_at_the_goal_orientation_is_a_drop_not_a_success() -> None:
    import mujoco

    task = make_task("cube_rotate", num_envs=1, seed=0, autoreset=False)
    task.reset()
    m, d, a = task.sim.models[0], task.sim.datas[0], task.ids.cube_qpos_adr
    d.qpos[a : a + 3] = task.palm_pos()[0] + [0.0, 0.0, -0.3]  # far below the palm, falling
    mujoco.mj_forward(m, d)
    task.refresh()
    task.goal_quat[0] = task.cube_quat()[0]  # ...but exactly at the goal orientation
    r = task.step(np.zeros((1, task.action_dim)))
    assert r.info["dropped"][0] and r.terminated[0]
    assert not r.info["is_success"][0]
    assert r.reward[0] < 0  # the drop penalty, no success bonus


def test_the_sb3_reference_leaves_no_folder_in_the_temp_directory(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # SB3's default logger (verbose=0) still makes an empty SB3-<date> folder per learn() call.
    import tempfile

    import yaml

    from dexrl.baselines.sb3 import make_ppo, make_vec_env

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    algo = yaml.safe_load((Path(__file__).resolve().parents[2] / "configs" / "algo" / "sb3.yaml").read_text())
    algo.update(n_steps=16, batch_size=16, n_epochs=1)
    vec = make_vec_env(load_env_config("reach", {"max_episode_steps": 8}), n_envs=1, seed=0, subprocess=False)
    try:
        make_ppo(algo, vec, seed=0).learn(total_timesteps=16)
    finally:
        vec.close()
    assert not list(tmp_path.glob("SB3-*"))

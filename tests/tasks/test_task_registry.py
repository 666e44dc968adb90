"""A task is one module (issue 21): its `register_task` call puts (class, settings dataclass, gym
id) in the registry's table, its settings dataclass declares and checks its own `env.<key>` keys,
and what a viewer, ADR or an evaluation needs from a task is something the task declares."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dexrl.config import EnvConfig, env_config_from_dict, env_config_to_dict, load_env_config
from dexrl.env_config import TaskSettings, shared_keys
from dexrl.eval.goals import goal_markers, goal_text
from dexrl.frontdoor import ConfigError, compose, typed_configs
from dexrl.tasks import registry
from dexrl.tasks.cube_rotate import CubeRotateSettings, CubeRotateTask
from dexrl.tasks.reach import ReachSettings, ReachTask
from dexrl.tasks.registry import gym_ids, make_task, register_task, task_names, task_spec
from dexrl.tasks.rubiks_cube import FAIR_SCRAMBLE, RubiksSettings

ROOT = Path(__file__).resolve().parents[2]

# The gymnasium ids before the table existed (registry.GYM_IDS): they stay.
GYM_IDS = {
    "dexrl/Reach-v0": "reach",
    "dexrl/CubeRotateZ-v0": "cube_rotate_z",
    "dexrl/CubeRotate-v0": "cube_rotate",
    "dexrl/FaceTurn-v0": "face_turn",
    "dexrl/CubeSolve-v0": "cube_solve",
}


def test_the_table_holds_every_task_with_its_class_settings_and_gym_id() -> None:
    assert set(task_names()) == set(GYM_IDS.values())
    assert gym_ids() == GYM_IDS
    expected = {"reach": (ReachTask, ReachSettings), "cube_rotate": (CubeRotateTask, CubeRotateSettings),
                "cube_rotate_z": (CubeRotateTask, CubeRotateSettings)}  # fmt: skip
    for name in task_names():
        spec = task_spec(name)
        assert (spec.gym_id, spec.env) == next((g, e) for g, e in GYM_IDS.items() if e == name)
        assert issubclass(spec.settings, TaskSettings) and spec.task_class.settings_type is spec.settings
        if name in expected:
            assert (spec.task_class, spec.settings) == expected[name]
    assert task_spec("face_turn").settings is RubiksSettings is task_spec("cube_solve").settings
    with pytest.raises(ValueError, match="env.task='juggle' is not a task; choose one of cube_rotate, "):
        task_spec("juggle")


def test_import_dexrl_registers_the_gym_ids_without_importing_a_task() -> None:
    """The ids come from the task modules' register_task calls, read from their source: importing
    dexrl (as the deploy runtime does) imports no task module and no MuJoCo."""
    code = ("import sys, gymnasium, dexrl\n"
            "print(sorted(m for m in sys.modules if m.startswith('dexrl.tasks.') or m == 'mujoco'))\n"
            "print(sorted(i for i in gymnasium.registry if i.startswith('dexrl/')))\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ), cwd=ROOT, check=True)  # fmt: skip
    modules, ids = out.stdout.strip().splitlines()
    assert modules == "['dexrl.tasks.registry']"
    assert ids == str(sorted(GYM_IDS))


# A task from outside dexrl/tasks/: reach with one more setting.
@dataclass
class TwoTipSettings(ReachSettings):
    tip_count: int = 2

    def validate(self) -> None:
        super().validate()
        if self.tip_count < 1:
            raise ValueError(f"env.tip_count must be >= 1 (got {self.tip_count})")


class TwoTipTask(ReachTask):
    settings_type = TwoTipSettings


def test_a_new_task_registers_and_its_settings_are_env_keys() -> None:
    register_task("two_tip", TwoTipTask, gym_id="dexrl/TwoTip-v0", env="reach")
    try:
        assert "two_tip" in task_names() and gym_ids()["dexrl/TwoTip-v0"] == "reach"
        cfg = load_env_config("reach", {"task": "two_tip", "tip_count": 3})
        assert isinstance(cfg.settings, TwoTipSettings) and cfg.settings.tip_count == 3
        assert cfg.settings.reach_target_range == 0.5  # reach.yaml's, inherited keys
        assert isinstance(make_task(cfg), TwoTipTask)
        with pytest.raises(ValueError, match="env.tip_count must be >= 1"):
            load_env_config("reach", {"task": "two_tip", "tip_count": 0})
        with pytest.raises(ValueError, match="'tip_count' is a setting of task two_tip, not of task 'reach'"):
            load_env_config("reach", {"tip_count": 3})
    finally:
        registry._TABLE.pop("two_tip")


def test_register_task_refuses_a_settings_key_that_is_shared_or_a_taken_gym_id() -> None:
    @dataclass
    class Clashing(ReachSettings):
        timestep: float = 0.01

    class ClashTask(ReachTask):
        settings_type = Clashing

    with pytest.raises(TypeError, match="re-declares the shared env key.*timestep"):
        register_task("clash", ClashTask, gym_id="dexrl/Clash-v0")
    with pytest.raises(ValueError, match="dexrl/Reach-v0 is task 'reach'"):
        register_task("clash", TwoTipTask, gym_id="dexrl/Reach-v0")
    assert "clash" not in task_names()


# ----------------------------------------------------------------------------- settings


def test_each_env_holds_the_shared_keys_and_only_its_tasks_settings() -> None:
    for name in task_names():
        cfg = load_env_config(name)
        flat = env_config_to_dict(cfg)
        own = {f.name for f in dataclasses.fields(cfg.settings)}
        assert set(flat) == shared_keys() | own and not own & shared_keys()
        assert env_config_from_dict(flat) == cfg  # the flat form reads back
    assert isinstance(EnvConfig(task="reach").settings, ReachSettings)  # left out: the task's defaults
    assert isinstance(EnvConfig().settings, CubeRotateSettings)


@pytest.mark.parametrize(
    ("argv", "where", "value"),
    [
        (["env=reach", "env.reach_target_range=0.3"], "settings", ("reach_target_range", 0.3)),
        (["env=reach", "env.tip_reward_weight=0"], "settings", ("tip_reward_weight", 0.0)),
        (["env=cube_rotate", "env.start_pose=grasp"], "shared", ("start_pose", "grasp")),
        (["env=cube_rotate", "env.goal=z"], "settings", ("goal", "z")),
        (["env=cube_rotate_z", "env.rotation_speed_weight=1.0"], "settings", ("rotation_speed_weight", 1.0)),
        (["env=face_turn", "env.rotate_probability=0.25"], "settings", ("rotate_probability", 0.25)),
        (["env=cube_solve", "env.scramble='R U2 F'"], "settings", ("scramble", "R U2 F")),
        (["env=cube_solve", "env.plan_max_calls=2"], "settings", ("plan_max_calls", 2)),
        (["experiment=reach_fast"], "settings", ("reach_target_range", 0.3)),
    ],
)
def test_env_key_overrides_land_where_the_key_belongs(argv: list[str], where: str, value: tuple) -> None:
    env = typed_configs(compose(argv, "train").plain()).env
    key, expected = value
    assert getattr(env.settings if where == "settings" else env, key) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["env=reach", "env.scramble=R"], "(key: env.scramble): 'scramble' is a setting of task face_turn, cube_solve, not of task 'reach'"),
        (["env=cube_rotate", "env.reach_target_range=0.3"], "'reach_target_range' is a setting of task reach"),
        (["env=reach", "env.reach_target_range=2"], "env.reach_target_range must be in (0, 1]"),
        (["env=cube_solve", "env.scramble=Q"], "env.scramble: "),
        (["env=cube_solve", "env.plan_clock=sundial"], "env.plan_clock must be 'wall' or 'cpu'"),
        (["env=reach", "env.reach_target_rang=0.3"], "env.reach_target_rang"),
        (["env=reach", "env.settings=1"], "env.settings"),
        (["env=_base"], "unknown env '_base'"),
    ],
)
def test_a_bad_task_key_is_one_line_naming_it(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        typed_configs(compose(argv, "train").plain())
    assert message in str(err.value) and "\n" not in str(err.value)


def test_with_values_sends_each_key_where_it_belongs() -> None:
    cfg = load_env_config("cube_solve")
    changed = cfg.with_values(scramble=FAIR_SCRAMBLE, timeout_steps=12)
    assert changed.settings.scramble == FAIR_SCRAMBLE and changed.timeout_steps == 12  # type: ignore[attr-defined]
    assert cfg.settings.scramble == "" and cfg.timeout_steps == 100  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="'reach_target_range' is a setting of task reach"):
        cfg.with_values(reach_target_range=0.3)
    with pytest.raises(ValueError, match="face_tolerance must be in"):
        cfg.with_values(face_tolerance=2.0)


def test_a_task_refuses_another_tasks_settings() -> None:
    cfg = dataclasses.replace(load_env_config("cube_rotate"), settings=ReachSettings())
    with pytest.raises(ValueError, match="takes CubeRotateSettings settings, not ReachSettings"):
        make_task(cfg)


# ----------------------------------------------------------------------------- declared capabilities


def test_viewer_goal_markers_and_text_come_from_the_task() -> None:
    reach = make_task("reach", num_envs=1, seed=0, autoreset=False)
    reach.reset()
    assert reach.goal_orientation(0) is None and goal_markers(reach, 0) == []
    assert goal_text(reach, 0)[1].startswith("goal: fingertip error ")
    cube = make_task("cube_rotate", num_envs=1, seed=0, autoreset=False)
    cube.reset()
    np.testing.assert_array_equal(cube.goal_orientation(0), cube.goal_quat[0])
    assert goal_markers(cube, 0) == []  # the scene's own goal body shows it
    cube.ids = dataclasses.replace(cube.ids, goal_mocap=-1)  # a scene without one: a ghost cube
    (marker,) = goal_markers(cube, 0)
    np.testing.assert_array_equal(marker.quat, cube.goal_quat[0])
    assert goal_text(cube, 0)[1].startswith("goal: orientation error ")
    solve = make_task("cube_solve", num_envs=1, seed=0, autoreset=False)
    solve.reset()
    assert goal_text(solve, 0)[1].startswith("subgoal 1/") and "orientation error" in goal_text(solve, 0)[2]


def test_face_hinge_and_evaluation_values_are_declared_by_the_task() -> None:
    from dexrl.adr.apply import unsupported_reason

    declared = {name: task_spec(name).task_class for name in task_names()}
    assert {n for n, c in declared.items() if c.has_face_hinge} == {"face_turn", "cube_solve"}
    assert {n: c.evaluation_values for n, c in declared.items() if c.evaluation_values} == {
        "cube_solve": {"scramble": FAIR_SCRAMBLE},
        "face_turn": {"rotate_probability": 0.5, "rotate_direction": 0}}
    cube = make_task("cube_rotate", num_envs=1, seed=0, autoreset=False)
    assert "needs the Rubik's cube" in str(unsupported_reason("face_friction", cube))

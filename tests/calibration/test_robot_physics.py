"""RobotConfig's calibrated physics: the default leaves the model bit-identical, the scales and the
latency reach the model, the task, ADR and SimHand, and `robot=<name>` selects a robot yaml."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest

from dexrl.config import RobotConfig, load_env_config
from dexrl.sim.model import apply_robot_physics, compile_model, scene_spec
from dexrl.sim.scene import compose_scene
from dexrl.tasks.registry import make_task


def _bytes(model: mujoco.MjModel) -> bytes:
    buffer = np.zeros(mujoco.mj_sizeModel(model), dtype=np.uint8)
    mujoco.mj_saveModel(model, None, buffer)
    return buffer.tobytes()


@pytest.mark.parametrize("env", ["reach", "cube_rotate_z"])
def test_the_default_robot_compiles_to_the_mjcf_model_bit_for_bit(env: str) -> None:
    cfg = load_env_config(env)
    spec = compose_scene(cfg)  # what the tasks compiled before calibration
    spec.option.timestep = cfg.timestep
    for name, mu in {**dict.fromkeys(cfg.robot.palm_geoms, cfg.palm_friction), **cfg.geom_friction}.items():
        if mu:
            spec.geom(name).friction[0] = mu
    raw = compile_model(spec)
    assert _bytes(compile_model(scene_spec(cfg))) == _bytes(raw)
    task = make_task(cfg, num_envs=1, seed=0, autoreset=False)
    assert _bytes(task.base_model) == _bytes(raw)
    np.testing.assert_array_equal(task.action_delay, 0)
    # Every factor 1.0 changes nothing either (x * 1.0 is x in floating point).
    m = task.base_model
    ones = dataclasses.replace(
        cfg.robot,
        actuator_gain_scale={m.actuator(a).name: 1.0 for a in range(m.nu)},
        actuator_force_range_scale={m.actuator(a).name: 1.0 for a in range(m.nu)},
        joint_damping_scale={n: 1.0 for n in task.ids.hand_joint_names},
        joint_armature_scale={n: 1.0 for n in task.ids.hand_joint_names},
        joint_frictionloss_scale={n: 1.0 for n in task.ids.hand_joint_names},
    )
    assert _bytes(compile_model(scene_spec(dataclasses.replace(cfg, robot=ones)))) == _bytes(raw)


def test_scales_multiply_the_mjcf_values_by_name() -> None:
    cfg = load_env_config("reach")
    raw = compile_model(scene_spec(cfg))
    robot = dataclasses.replace(cfg.robot, actuator_gain_scale={"A_FFJ3": 0.7, "A_WRJ1": 1.2},
                                actuator_force_range_scale={"A_FFJ0": 2.0},
                                joint_damping_scale={"FFJ3": 1.5}, joint_armature_scale={"THJ1": 2.0},
                                joint_frictionloss_scale={"WRJ2": 0.5})  # fmt: skip
    m = compile_model(scene_spec(dataclasses.replace(cfg, robot=robot)))
    for name, f in (("A_FFJ3", 0.7), ("A_WRJ1", 1.2), ("A_MFJ3", 1.0)):
        a = m.actuator(name).id
        assert m.actuator_gainprm[a, 0] == pytest.approx(f * raw.actuator_gainprm[a, 0])
        assert m.actuator_biasprm[a, 1] == pytest.approx(-f * raw.actuator_gainprm[a, 0])  # still a position servo
    a = m.actuator("A_FFJ0").id
    np.testing.assert_allclose(m.actuator_forcerange[a], 2.0 * raw.actuator_forcerange[a])
    for joint, field, f in (("FFJ3", "dof_damping", 1.5), ("THJ1", "dof_armature", 2.0),
                            ("WRJ2", "dof_frictionloss", 0.5), ("MFJ3", "dof_damping", 1.0)):  # fmt: skip
        dof = m.jnt_dofadr[m.joint(joint).id]
        assert getattr(m, field)[dof] == pytest.approx(f * getattr(raw, field)[dof])


def test_a_scale_naming_no_element_or_not_positive_is_refused_by_name() -> None:
    spec = compose_scene(load_env_config("reach"))
    with pytest.raises(ValueError, match="robot.joint_damping_scale names joint 'FFJ9'"):
        apply_robot_physics(spec, RobotConfig(joint_damping_scale={"FFJ9": 1.0}))
    with pytest.raises(ValueError, match="robot.actuator_gain_scale names actuator 'A_NOPE'"):
        apply_robot_physics(spec, RobotConfig(actuator_gain_scale={"A_NOPE": 1.0}))
    with pytest.raises(ValueError, match="must be > 0"):
        load_env_config("reach", overrides={"robot": {"joint_armature_scale": {"FFJ3": -1.0}}})
    with pytest.raises(ValueError, match="action_latency_steps must be >= 0"):
        load_env_config("reach", overrides={"robot": {"action_latency_steps": -1}})


def test_the_robot_latency_delays_the_task_adr_adds_to_it_and_simhand_acts_late() -> None:
    from dexrl.adr.apply import APPLIERS, ApplyContext
    from dexrl.adr.params import get_spec
    from dexrl.eval.sim_hand import SimHand

    cfg = load_env_config("reach", overrides={"robot": {"action_latency_steps": 1, "init_qpos_noise": 0.0}})
    task = make_task(cfg, num_envs=1, seed=0, autoreset=False)
    assert task.action_delay.tolist() == [1]
    ctx = ApplyContext(task)
    APPLIERS["action_latency"].apply(ctx, 0, get_spec("action_latency"), 1.0)
    assert task.action_delay.tolist() == [2]  # calibrated 1 + λ 1
    assert APPLIERS["action_latency"].nominal(ctx) == 1.0  # type: ignore[misc]

    def run(latency: int, pulse_at: int) -> list[float]:
        hand = SimHand(load_env_config("reach", overrides={"robot": {"action_latency_steps": latency,
                                                                      "init_qpos_noise": 0.0}}))  # fmt: skip
        hand.reset()
        start = hand.task.targets[0].copy()
        pulse = start.copy()
        pulse[3] += 0.3  # one step of FFJ3
        q = []
        for k in range(4):
            hand.send_targets(pulse if k == pulse_at else start)
            q.append(float(hand.read().joint_pos[3]))
        return q

    # Sent at step 0 to a hand one step late = sent at step 1 to a prompt hand, exactly.
    late, prompt_later, prompt = run(1, pulse_at=0), run(0, pulse_at=1), run(0, pulse_at=0)
    assert late == prompt_later
    assert prompt[0] > late[0] + 0.01  # the prompt hand moved at once


def test_robot_equals_name_selects_the_robot_yaml_and_an_unknown_one_is_one_line() -> None:
    from dexrl.frontdoor import ConfigError, compose, typed_configs

    c = compose(["env=reach", "robot=dexhand", "env.robot.init_qpos_noise=0.0"], "train")
    env = typed_configs(c.plain()).env
    assert env.robot.name == "dexhand" and env.robot.init_qpos_noise == 0.0 and env.robot.ready_pose
    with pytest.raises(ConfigError, match=r"unknown robot 'nope' \(key: robot\); choose one of: dexhand"):
        compose(["env=reach", "robot=nope"], "train")

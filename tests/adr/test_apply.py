"""Every registered parameter changes the simulation the way it says, from calibrated values.

Fields are checked against the registry's mapping worked out here (nominal·e^{wλ} or
nominal + wλ); behaviour against physics worked out by hand where it can be (weight carried by
the hand = m·g, free-fall Δv = g·T, Coulomb sliding threshold, implicit damping decay), and in
direction otherwise. Each test builds its tasks with `pinned` (tests/adr/conftest.py): a task
whose envs run the given λ.
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np
import pytest

from dexrl.adr import PARAM_NAMES, get_spec, load_adr_config
from dexrl.adr.apply import APPLIERS, CUBE_EDGE_QUANTUM, OBS_NOISE_LEVELS
from dexrl.sim.model import set_cube_half_size

SUBSTEPS, DT, G = 20, 0.004, 9.81  # configs/env/cube_rotate.yaml, envs/common/scene.xml


def settle(task: Any, steps: int) -> None:
    """Hold the hand still (zero relative actions) for `steps` control steps."""
    for _ in range(steps):
        task.apply_actions(np.zeros((task.num_envs, task.action_dim)))


def free_cube(task: Any, velocity: Any = (0.0,) * 6) -> None:
    """Put env 0's cube 0.6 m above the hand, unrotated, with `velocity` (linear, angular)."""
    m, d, a, v = task.sim.models[0], task.sim.datas[0], task.ids.cube_qpos_adr, task.ids.cube_dof_adr
    d.qpos[a : a + 7] = [0.0, 0.055, 0.8, 1.0, 0.0, 0.0, 0.0]
    d.qvel[v : v + 6] = velocity
    mujoco.mj_forward(m, d)


def test_every_registered_parameter_has_an_apply_function() -> None:
    assert set(APPLIERS) == set(PARAM_NAMES)


def test_every_parameter_of_the_manual_config_has_an_apply_function() -> None:
    manual = load_adr_config("manual")
    assert manual.params and set(manual.params) <= set(APPLIERS)


# --- model fields: written value = nominal·e^{wλ} (multiplicative) ----------------------------


def _field(name: str, index: Any = slice(None)) -> Any:
    return lambda m, ids: getattr(m, name)[index(ids) if callable(index) else index]


FIELDS = [  # (parameter, λ, reads the field(s) it writes)
    ("cube_mass", 0.5, _field("body_mass", lambda ids: ids.cube_body)),
    ("cube_mass", -0.6, _field("body_inertia", lambda ids: ids.cube_body)),
    ("robot_link_mass", 0.7, _field("body_mass", slice(1, 26))),
    ("robot_link_mass", -0.7, _field("body_inertia", slice(1, 26))),
    ("robot_joint_damping", 1.2, _field("dof_damping", lambda ids: ids.hand_dof_adr)),
    ("robot_armature", -1.1, _field("dof_armature", lambda ids: ids.hand_dof_adr)),
    ("robot_frictionloss", 0.9, _field("dof_frictionloss", lambda ids: ids.hand_dof_adr)),
    ("actuator_gain", 0.6, _field("actuator_gainprm", (slice(None), 0))),
    ("actuator_gain", -0.6, _field("actuator_biasprm", (slice(None), 1))),
    ("actuator_force_range", -0.5, _field("actuator_forcerange")),
]


@pytest.mark.parametrize(("name", "lam", "read"), FIELDS)
def test_written_field_is_nominal_times_exp_w_lambda(pinned_task, name, lam, read) -> None:  # type: ignore[no-untyped-def]
    task, _, _ = pinned_task({name: lam})
    w = get_spec(name).w
    nominal = read(task.base_model, task.ids)
    np.testing.assert_allclose(read(task.sim.models[0], task.ids), nominal * math.exp(w * lam), rtol=1e-12)


def test_actuator_gain_keeps_position_servo_bias_equal_to_minus_gain(pinned_task) -> None:  # type: ignore[no-untyped-def]
    task, _, _ = pinned_task({"actuator_gain": 0.4})
    m = task.sim.models[0]
    np.testing.assert_allclose(m.actuator_biasprm[:, 1], -m.actuator_gainprm[:, 0])


def test_values_are_written_from_calibrated_values_and_never_compound(pinned_task) -> None:  # type: ignore[no-untyped-def]
    every = {"cube_size": 0.8, "cube_mass": 0.4, "robot_link_mass": 0.5, "actuator_gain": 0.5,
             "robot_joint_damping": 1.0, "gravity": 2.0, "timestep": 0.2, "cube_damping": 1.0,
             "cube_friction_slide": 0.5, "robot_friction_spin_roll": -0.5}  # fmt: skip
    task, _, _ = pinned_task([every, every, every, dict.fromkeys(every, 0.0)])
    first = {n: np.copy(getattr(task.sim.models[0], n)) for n in ("body_mass", "dof_damping")}
    for _ in range(2):  # the same λ again: the same values, not nominal·e^{2wλ}
        task.reset_env(0)
        for n, value in first.items():
            np.testing.assert_array_equal(getattr(task.sim.models[0], n), value)
    task.reset_env(0)  # λ = 0 everywhere: exactly the calibrated model again
    m, base = task.sim.models[0], task.base_model
    for n in dir(base):
        if not n.startswith("_") and isinstance(getattr(base, n), np.ndarray):
            np.testing.assert_array_equal(getattr(m, n), getattr(base, n), err_msg=n)
    assert m.opt.timestep == base.opt.timestep
    np.testing.assert_array_equal(m.opt.gravity, base.opt.gravity)


# --- the cube -----------------------------------------------------------------------------------


def test_cube_size_resizes_the_collision_box_and_the_cube_rests_higher(pinned_task) -> None:  # type: ignore[no-untyped-def]
    heights = {}
    for lam in (-1.0, 0.0, 1.0):
        task, randomizer, _ = pinned_task({"cube_size": lam})
        geom = randomizer.context.index.cube_geoms[0]
        edge = 0.057 * math.exp(0.15 * lam)  # [R]: x0·e^{0.15λ}, block.xml x0 = 57 mm
        half = task.sim.models[0].geom_size[geom]
        np.testing.assert_allclose(half, 0.5 * edge, atol=0.5 * CUBE_EDGE_QUANTUM / 2 + 1e-12)
        settle(task, 12)
        heights[lam] = task.cube_pos()[0, 2]  # cube centre above the palm centre, at rest
        np.testing.assert_allclose(heights[lam], 0.5 * edge, atol=1e-3)  # it sits on the palm
    assert heights[-1.0] < heights[0.0] < heights[1.0]


def test_cube_size_model_equals_a_fresh_compile_of_that_size(pinned_task) -> None:  # type: ignore[no-untyped-def]
    # Switching sizes copies only what differs between compiled sizes into the env's model; it
    # must equal a model compiled from scratch at that size, field by field.
    sizes = [{"cube_size": lam} for lam in (0.9, -0.7, 0.9, 0.0, -0.7)]
    task, randomizer, _ = pinned_task(sizes)
    for lam in (-0.7, 0.9, 0.0, -0.7):
        task.reset_env(0)
        spec = task.spec.copy()
        edge = round(0.057 * math.exp(0.15 * lam) / CUBE_EDGE_QUANTUM) * CUBE_EDGE_QUANTUM
        expected = set_cube_half_size(spec, edge / 2).compile()
        m = task.sim.models[0]
        for n in dir(expected):
            if not n.startswith("_") and isinstance(getattr(expected, n), np.ndarray):
                np.testing.assert_allclose(getattr(m, n), getattr(expected, n), rtol=1e-12, err_msg=n)
        assert m.stat.meaninertia == pytest.approx(expected.stat.meaninertia, rel=1e-12)
    assert randomizer.context.compiles == 2  # two new sizes, each compiled once


def _cube_support(task: Any, i: int = 0) -> np.ndarray:
    """[3] total contact force the hand exerts on env i's cube (world frame, N)."""
    m, d, cube = task.sim.models[i], task.sim.datas[i], task.ids.cube_body
    total, f6 = np.zeros(3), np.zeros(6)
    for k in range(d.ncon):
        c = d.contact[k]
        bodies = (m.geom_bodyid[c.geom1], m.geom_bodyid[c.geom2])
        if cube in bodies:
            mujoco.mj_contactForce(m, d, k, f6)  # in the contact frame; acts on geom2
            force = c.frame.reshape(3, 3).T @ f6[:3]
            total += force if bodies[1] == cube else -force
    return total


def test_cube_mass_is_the_weight_the_hand_carries(pinned_task) -> None:  # type: ignore[no-untyped-def]
    sag = {}
    for lam in (-0.9, 0.0, 0.55):
        task, _, _ = pinned_task({"cube_mass": lam})
        settle(task, 12)
        mass = 0.078 * math.exp(lam)  # block.xml: 78 g
        assert task.sim.models[0].body_mass[task.ids.cube_body] == pytest.approx(mass, rel=1e-12)
        np.testing.assert_allclose(_cube_support(task), [0.0, 0.0, mass * G], atol=0.01 * mass * G + 5e-3)
        d = task.sim.datas[0]
        sag[lam] = task.targets[0, 1] - d.actuator_length[1]  # wrist flexion WRJ1 below its target
    assert sag[-0.9] < sag[0.0] < sag[0.55]  # a heavier cube bends the wrist further


def _slide(pinned_task: Any, lambdas: dict[str, float], push: float) -> float:
    """Distance (m) the resting cube slides in 0.4 s under a horizontal push of `push`·m·g."""
    task, _, _ = pinned_task(lambdas)
    settle(task, 12)
    m, d, cube = task.sim.models[0], task.sim.datas[0], task.ids.cube_body
    start = d.xpos[cube].copy()
    d.xfrc_applied[cube, :3] = [0.0, -push * m.body_mass[cube] * G, 0.0]  # toward the wrist
    for _ in range(5):
        task.sim.step(task.targets)
    return float(np.linalg.norm(d.xpos[cube] - start))


def test_sliding_friction_of_the_contact_is_cube_times_robot_factor(pinned_task) -> None:  # type: ignore[no-untyped-def]
    # Coulomb: a push of 0.5 m·g slides the cube iff μ < 0.5, with μ = 1·e^{λ_cube + λ_robot}.
    assert _slide(pinned_task, {"cube_friction_slide": -0.9}, 0.5) > 0.02  # μ = 0.41
    assert _slide(pinned_task, {"cube_friction_slide": -0.5}, 0.5) < 0.005  # μ = 0.61
    assert _slide(pinned_task, {"robot_friction_slide": -0.9}, 0.5) > 0.02
    assert _slide(pinned_task, {"robot_friction_slide": -0.45}, 0.5) < 0.005  # μ = 0.64
    both = {"cube_friction_slide": -0.45, "robot_friction_slide": -0.45}  # μ = e^{-0.9} = 0.41
    assert _slide(pinned_task, both, 0.5) > 0.02
    # Higher friction: less sliding under the same (larger) push.
    assert _slide(pinned_task, {"cube_friction_slide": 0.3}, 1.2) < _slide(
        pinned_task, {"cube_friction_slide": 0.0}, 1.2
    )


def test_contact_friction_coefficients_are_the_product_of_both_factors(pinned_task) -> None:  # type: ignore[no-untyped-def]
    lam = {"cube_friction_slide": -0.3, "robot_friction_slide": 0.5,
           "cube_friction_spin_roll": 0.2, "robot_friction_spin_roll": -0.7}  # fmt: skip
    task, _, _ = pinned_task(lam)
    settle(task, 3)
    d = task.sim.datas[0]
    assert d.ncon > 0
    slide, spin = math.exp(-0.3 + 0.5), math.exp(0.2 - 0.7)
    for c in d.contact[: d.ncon]:  # calibrated: slide 1, spin 0.005, roll 0.0001 (both geoms)
        np.testing.assert_allclose(c.friction, [slide, slide, 0.005 * spin, 1e-4 * spin, 1e-4 * spin])


@pytest.mark.parametrize("name", ["cube_friction_spin_roll", "robot_friction_spin_roll"])
def test_torsional_friction_resists_twisting(pinned_task, name) -> None:  # type: ignore[no-untyped-def]
    # Low sliding friction, so the torsional term dominates the resistance to a twist.
    turned = {}
    for lam in (-1.0, 0.0, 1.0):
        task, _, _ = pinned_task({"cube_friction_slide": -1.0, "robot_friction_slide": -1.0, name: lam})
        settle(task, 12)
        d, cube = task.sim.datas[0], task.ids.cube_body
        q0 = d.xquat[cube].copy()
        d.xfrc_applied[cube, 3:] = [0.0, 0.0, 0.004]  # N·m about the vertical
        for _ in range(5):
            task.sim.step(task.targets)
        dq = np.zeros(3)
        mujoco.mju_subQuat(dq, d.xquat[cube], q0)
        turned[lam] = np.linalg.norm(dq)
    assert turned[1.0] < turned[0.0] < turned[-1.0]


def test_cube_damping_decays_free_cube_velocity_at_the_rate(pinned_task) -> None:  # type: ignore[no-untyped-def]
    rate = 0.5 * 1.6  # w = 0.5 /s per unit λ
    task, _, _ = pinned_task({"cube_damping": 1.6})
    d, v = task.sim.datas[0], task.ids.cube_dof_adr
    free_cube(task, velocity=[0.2, 0.1, 0.0, 3.0, -2.0, 1.0])
    v0 = d.qvel[v : v + 6].copy()
    task.apply_actions(np.zeros((1, task.action_dim)))
    # implicitfast integrates damping implicitly: v ← v / (1 + rate·dt) per physics step.
    expected = v0 / (1.0 + rate * DT) ** SUBSTEPS
    np.testing.assert_allclose(d.qvel[v : v + 2], expected[:2], rtol=1e-9)  # horizontal
    np.testing.assert_allclose(d.qvel[v + 3 : v + 6], expected[3:], rtol=1e-9)  # spin


def test_robot_link_mass_makes_the_hand_sag_more(pinned_task) -> None:  # type: ignore[no-untyped-def]
    sag = []
    for lam in (-0.9, 0.0, 0.9):
        task, _, _ = pinned_task({"robot_link_mass": lam})
        settle(task, 12)
        sag.append(np.abs(task.sim.datas[0].actuator_length - task.targets[0]).sum())
    assert sag[0] < sag[1] < sag[2]


# --- the hand's joints and actuators ----------------------------------------------------------


def _joint_step(pinned_task: Any, lambdas: dict, actuator: str, step: float, substeps: int) -> tuple[float, Any]:
    """Travel (rad) of `actuator`'s joint `substeps` physics steps after its target jumps by
    `step` (reach scene: no cube in the way); also returns (model, data)."""
    task, _, _ = pinned_task(lambdas, env="reach")
    m, d = task.sim.models[0], task.sim.datas[0]
    k = m.actuator(actuator).id
    qadr = m.jnt_qposadr[m.actuator_trnid[k, 0]]
    d.ctrl[:] = task.targets[0]
    mujoco.mj_step(m, d, 50)  # settle at the ready pose
    start = d.qpos[qadr]
    d.ctrl[k] += step
    mujoco.mj_step(m, d, substeps)
    return float(d.qpos[qadr] - start), (m, d)


@pytest.mark.parametrize("name", ["robot_joint_damping", "robot_armature"])
def test_joint_damping_and_armature_slow_the_joint_down(pinned_task, name) -> None:  # type: ignore[no-untyped-def]
    travel = [_joint_step(pinned_task, {name: lam}, "A_FFJ4", 0.2, 5)[0] for lam in (-0.7, 0.0, 0.7)]
    assert travel[0] > travel[1] > travel[2] > 0


def test_actuator_gain_speeds_up_tracking_in_proportion(pinned_task) -> None:  # type: ignore[no-untyped-def]
    travel = {lam: _joint_step(pinned_task, {"actuator_gain": lam}, "A_FFJ4", 0.2, 5)[0]
              for lam in (-0.69, 0.0, 0.69)}  # fmt: skip
    assert travel[-0.69] < travel[0.0] < travel[0.69]
    # Right after the jump the joint accelerates at kp·step / inertia: travel ∝ kp = e^{λ}.
    assert travel[0.69] / travel[0.0] == pytest.approx(math.exp(0.69), rel=0.1)
    assert travel[0.0] / travel[-0.69] == pytest.approx(math.exp(0.69), rel=0.1)


def test_joint_frictionloss_holds_back_small_moves(pinned_task) -> None:  # type: ignore[no-untyped-def]
    # A 3 mrad target step against dry friction of 0.001·e^{λ} N·m with kp = 1 N·m/rad.
    travel = [_joint_step(pinned_task, {"robot_frictionloss": lam}, "A_FFJ4", 0.003, 20)[0]
              for lam in (-1.5, 0.0, 1.5)]  # fmt: skip
    assert travel[0] > travel[1] > travel[2]


def test_actuator_force_range_caps_the_torque(pinned_task) -> None:  # type: ignore[no-untyped-def]
    travel = []
    for lam in (-0.69, 0.0):
        # kp·step = 1.2 N·m exceeds the force range (0.9·e^{λ} N·m): the actuator saturates.
        moved, (m, d) = _joint_step(pinned_task, {"actuator_force_range": lam}, "A_FFJ3", 1.2, 1)
        assert d.actuator_force[m.actuator("A_FFJ3").id] == pytest.approx(0.9 * math.exp(lam))
        travel.append(_joint_step(pinned_task, {"actuator_force_range": lam}, "A_FFJ3", 1.2, 10)[0])
    assert travel[0] < travel[1]


# --- world and control loop ---------------------------------------------------------------------


@pytest.mark.parametrize("lam", [-3.81, 0.0, 4.19])
def test_gravity_is_the_free_fall_acceleration(pinned_task, lam) -> None:  # type: ignore[no-untyped-def]
    task, _, _ = pinned_task({"gravity": lam})
    np.testing.assert_allclose(task.sim.models[0].opt.gravity, [0.0, 0.0, -(G + lam)])
    free_cube(task)
    v = task.ids.cube_dof_adr
    task.apply_actions(np.zeros((1, task.action_dim)))
    # Free fall for one control step of SUBSTEPS·DT: Δv_z = −g·T (semi-implicit Euler, exact).
    vz = task.sim.datas[0].qvel[v + 2]
    assert vz == pytest.approx(-(G + lam) * SUBSTEPS * DT, rel=1e-9)


def test_timestep_sets_the_physics_step_and_the_time_a_control_step_takes(pinned_task) -> None:  # type: ignore[no-untyped-def]
    lam = 0.2
    task, _, _ = pinned_task({"timestep": lam})
    dt = DT * math.exp(lam)
    assert task.sim.models[0].opt.timestep == pytest.approx(dt, rel=1e-12)
    t0 = task.sim.datas[0].time
    task.apply_actions(np.zeros((1, task.action_dim)))
    assert task.sim.datas[0].time - t0 == pytest.approx(SUBSTEPS * dt, rel=1e-9)


def test_action_latency_of_two_steps_acts_exactly_two_control_steps_later(pinned_task) -> None:  # type: ignore[no-untyped-def]
    runs = {}
    for latency, push in ((0.0, 1.0), (2.0, 1.0), (0.0, 0.0)):
        task, _, _ = pinned_task({"action_latency": latency}, env="reach")
        assert task.action_delay[0] == int(latency)
        actions = np.zeros((6, 1, task.action_dim))
        actions[0, 0, 3] = push  # one step of FFJ3 flexion, then nothing
        targets, joint = [task.targets[0, 3]], []
        for a in actions:
            task.apply_actions(a)
            targets.append(task.targets[0, 3])
            joint.append(task.hand_qpos()[0, 3])
            assert task.last_action[0, 3] == a[0, 3]  # the policy observes what it sent
        runs[latency, push] = np.diff(targets), np.array(joint)
    (prompt, joint0), (late, joint2), (_, still) = runs[0.0, 1.0], runs[2.0, 1.0], runs[0.0, 0.0]
    assert prompt[0] > 0
    np.testing.assert_array_equal(late[:2], 0.0)  # nothing for two control steps ...
    np.testing.assert_allclose(late[2:], prompt[:-2], rtol=1e-12)  # ... then the same response
    # The joint itself: as if no action had been sent for two steps, then it moves.
    np.testing.assert_array_equal(joint2[:2], still[:2])
    assert joint0[0] > still[0] + 1e-3 and joint2[2] > still[2] + 1e-3


def test_episode_latency_is_floor_or_ceil_of_lambda_with_mean_lambda(pinned_task) -> None:  # type: ignore[no-untyped-def]
    """Through the apply path: 2000 episode starts at each λ set env 0's latency to ⌊λ⌋ or ⌈λ⌉,
    averaging λ (the old rounding gave 0 at λ = 0.25 and 1 at λ = 0.5 and 0.75)."""
    task, randomizer, _ = pinned_task({"action_latency": 0.0}, env="reach")
    for lam in (0.25, 0.5, 0.75, 1.4):
        delays = []
        for _ in range(2000):
            randomizer.context.apply(0, {"action_latency": lam}, ["action_latency"])
            delays.append(int(task.action_delay[0]))
        assert set(delays) == {int(np.floor(lam)), int(np.ceil(lam))}, lam
        assert np.mean(delays) == pytest.approx(lam, abs=0.04)  # std of the mean ≤ 0.011


def test_action_noise_perturbs_the_executed_action_with_its_std(pinned_task) -> None:  # type: ignore[no-untyped-def]
    lam = 1.5  # std 0.15 of the [-1, 1] action range (w = 0.1)
    quiet, _, _ = pinned_task({"action_noise": 0.0}, num_envs=16)
    noisy, _, _ = pinned_task({"action_noise": lam}, num_envs=16)
    np.testing.assert_allclose(noisy.action_noise_std, 0.1 * lam)
    zeros = np.zeros((16, noisy.action_dim))
    for task in (quiet, noisy):
        task.apply_actions(zeros)
    # After one step from rest the smoothed action is ema·(0 + noise), ema = 0.3.
    np.testing.assert_array_equal(quiet.smoothed_action, 0.0)
    assert np.std(noisy.smoothed_action / 0.3) == pytest.approx(0.1 * lam, rel=0.15)
    for task in (quiet, noisy):
        for _ in range(4):
            task.apply_actions(zeros)
    assert not np.allclose(quiet.hand_qpos(), noisy.hand_qpos(), atol=1e-4)


def _obs_noise(task: Any) -> np.ndarray:
    """[K, Do] policy observation minus the clean one (the critic's first Do entries)."""
    obs, critic = task.observations()
    return obs.astype(np.float64) - critic[:, : task.obs_dim]


def _levels(kind: int) -> np.ndarray:
    """Per-element level of cube_rotate's observation at λ = 1, from its layout written out here:
    fingertips 15, cube position 3, cube quaternion 4, goal 4, relative goal 4, then the hand's
    proprioception (joint angles 24, targets 20, smoothed action 20, last action 20), exact."""
    lv = {q: v[kind] for q, v in OBS_NOISE_LEVELS.items()}
    parts = [(lv["fingertip_pos"], 15), (lv["object_pos"], 3), (lv["object_quat"], 4),
             (0.0, 4), (lv["object_quat"], 4), (0.0, 24 + 3 * 20)]  # fmt: skip
    return np.concatenate([np.full(n, level) for level, n in parts])


def test_correlated_obs_noise_is_constant_in_an_episode_at_the_levels_of_D(pinned_task) -> None:  # type: ignore[no-untyped-def]
    lam = 2.0
    task, _, _ = pinned_task({"obs_noise_correlated": lam}, num_envs=16)
    np.testing.assert_allclose(task.obs_noise_corr_std, np.tile(lam * _levels(0), (16, 1)))
    first = _obs_noise(task)
    task.apply_actions(np.zeros((16, task.action_dim)))
    np.testing.assert_allclose(_obs_noise(task), first, atol=1e-6)  # same draw all episode
    # fingertips 1 mm·λ, object position 5 mm·λ [D]; goal, joints and action are exact
    assert np.std(first[:, :15]) == pytest.approx(0.001 * lam, rel=0.15)
    assert np.std(first[:, 15:18]) == pytest.approx(0.005 * lam, rel=0.35)
    assert np.abs(first[:, 22:26]).max() < 1e-6 and np.abs(first[:, 30:]).max() < 1e-5
    task.reset_env(0)
    assert np.abs(_obs_noise(task)[0, :15] - first[0, :15]).min() > 0  # a new episode, a new draw


def test_uncorrelated_obs_noise_changes_every_step_at_the_levels_of_D(pinned_task) -> None:  # type: ignore[no-untyped-def]
    lam = 2.0
    task, _, _ = pinned_task({"obs_noise_uncorrelated": lam}, num_envs=16)
    np.testing.assert_allclose(task.obs_noise_uncorr_std, np.tile(lam * _levels(1), (16, 1)))
    a, b = _obs_noise(task), _obs_noise(task)
    assert np.abs(a[:, :15] - b[:, :15]).min() > 0
    assert np.std(np.concatenate([a[:, :15], b[:, :15]])) == pytest.approx(0.002 * lam, rel=0.15)
    assert np.abs(a[:, 30:]).max() < 1e-5


def test_env_config_obs_noise_is_the_floor(pinned_task) -> None:  # type: ignore[no-untyped-def]
    task, _, _ = pinned_task({"obs_noise_correlated": 1.0}, obs_noise_correlated=0.003)
    expected = np.maximum(0.003, _levels(0))
    np.testing.assert_allclose(task.obs_noise_corr_std[0], expected)


@pytest.mark.parametrize(("name", "row"), [("cube_force_perturbation", slice(0, 3)),
                                           ("cube_torque_perturbation", slice(3, 6))])  # fmt: skip
def test_perturbation_accelerates_a_free_cube_with_its_std(pinned_task, name, row) -> None:  # type: ignore[no-untyped-def]
    lam = 2.5  # 0.25 m·g (force) or m·g·edge (torque); w = 0.1
    task, randomizer, _ = pinned_task({name: lam})
    m, d, cube, v = task.sim.models[0], task.sim.datas[0], task.ids.cube_body, task.ids.cube_dof_adr
    mass, inertia = m.body_mass[cube], m.body_inertia[cube][0]
    std = 0.1 * lam * mass * G * (1.0 if row.start == 0 else 0.057)
    ctx = randomizer.context
    np.testing.assert_allclose(ctx.perturbation_std[0, row], std, rtol=1e-9)
    assert not ctx.perturbation_std[0, 3:].any() if row.start == 0 else not ctx.perturbation_std[0, :3].any()
    drawn = []
    for _ in range(30):
        free_cube(task)
        task.apply_actions(np.zeros((1, task.action_dim)))
        f = d.xfrc_applied[cube, row].copy()  # held over the control step, redrawn next step
        drawn.append(f)
        T = SUBSTEPS * DT
        if row.start == 0:  # Δv = (g + F/m)·T: no contact, nothing else acts
            np.testing.assert_allclose(d.qvel[v : v + 3], (m.opt.gravity + f / mass) * T, rtol=1e-9, atol=1e-12)
        else:  # isotropic inertia: Δω = τ/I·T (world frame; qvel holds it in the body frame)
            omega = d.xmat[cube].reshape(3, 3) @ d.qvel[v + 3 : v + 6]
            np.testing.assert_allclose(omega, f / inertia * T, rtol=1e-6)
    assert np.std(drawn) == pytest.approx(std, rel=0.25)
    assert len({tuple(f) for f in drawn}) == 30

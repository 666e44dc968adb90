"""The dexhand model against the published hand layout: joint names and ranges (Shadow Dexterous
Hand specification, in degrees), force-limited position actuators whose control ranges are the
joint ranges, the J1/J2 coupling measured in simulation, a palm that faces up, and a cube that
comes to rest on that palm.

Expected numbers are written out from the spec and from the XML's sizes, never read back from the
code under test.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.sim.model import compile_model, scene_spec
from dexrl.tasks.registry import make_task

# Joint ranges in degrees from the Shadow Dexterous Hand specification (the hand dexhand copies).
SPEC_RANGES_DEG: dict[str, tuple[float, float]] = {
    "WRJ2": (-30, 10),
    "WRJ1": (-40, 28),
    **{f"{f}J4": (-20, 20) for f in ("FF", "MF", "RF", "LF")},
    **{f"{f}J3": (-15, 90) for f in ("FF", "MF", "RF", "LF")},
    **{f"{f}J2": (0, 90) for f in ("FF", "MF", "RF", "LF")},
    **{f"{f}J1": (0, 90) for f in ("FF", "MF", "RF", "LF")},
    "LFJ5": (0, 45),
    "THJ5": (-60, 60),
    "THJ4": (0, 70),
    "THJ3": (-12, 12),
    "THJ2": (-40, 40),
    "THJ1": (0, 90),
}
FINGERS = ("FF", "MF", "RF", "LF")
CUBE_HALF = 0.0285  # envs/objects/block.xml: a 5.7 cm block
PALM_HALF = (0.0325, 0.048, 0.011)  # envs/hands/dexhand.xml: palm_geom box half sizes


def scene_model(env: str) -> mujoco.MjModel:
    """The compiled scene of an env with the default robot (the dexhand): what its tasks build."""
    return compile_model(scene_spec(load_env_config(env)))


@pytest.fixture(scope="module")
def block_model() -> mujoco.MjModel:
    return scene_model("cube_rotate")


@pytest.fixture(scope="module")
def reach_model() -> mujoco.MjModel:
    return scene_model("reach")  # the hand without a cube


def _hinges(m: mujoco.MjModel) -> dict[str, int]:
    return {m.joint(j).name: j for j in range(m.njnt) if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE}


# ----------------------------------------------------------------------------- joints and actuators
def test_24_hinge_joints_with_the_published_names_and_ranges(block_model: mujoco.MjModel) -> None:
    m = block_model
    hinges = _hinges(m)
    assert sorted(hinges) == sorted(SPEC_RANGES_DEG)  # wrist 2, FF/MF/RF 4 each, LF 5, TH 5 = 24
    assert sum(n.startswith("WR") for n in hinges) == 2
    assert [sum(n.startswith(f) for n in hinges) for f in (*FINGERS, "TH")] == [4, 4, 4, 5, 5]
    for name, (lo_deg, hi_deg) in SPEC_RANGES_DEG.items():
        j = hinges[name]
        assert m.jnt_limited[j], f"{name} must be limited"
        np.testing.assert_allclose(
            m.jnt_range[j], np.radians([lo_deg, hi_deg]), atol=2e-3, err_msg=f"range of {name}"
        )
    # The cube is the only other degree of freedom: one free joint (7 qpos, 6 dofs).
    assert m.nq == 24 + 7 and m.nv == 24 + 6


def test_20_force_limited_position_actuators(block_model: mujoco.MjModel) -> None:
    m = block_model
    assert m.nu == 20
    hinges = _hinges(m)
    tendons = {m.tendon(t).name: t for t in range(m.ntendon)}
    for a in range(m.nu):
        name = m.actuator(a).name
        lo_f, hi_f = m.actuator_forcerange[a]
        assert m.actuator_forcelimited[a], f"{name} is not force limited"
        assert lo_f < 0 < hi_f, f"{name} has a zero-width force range {lo_f, hi_f}"
        # A position servo: force = kp * (ctrl - length), i.e. gain kp and bias (0, -kp, 0).
        kp = m.actuator_gainprm[a, 0]
        assert kp > 0 and m.actuator_biasprm[a, 1] == -kp and m.actuator_biasprm[a, 0] == 0
        assert m.actuator_ctrllimited[a]
        target = name.removeprefix("A_")
        if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT:
            j = int(m.actuator_trnid[a, 0])
            assert m.joint(j).name == target
            # The servo can reach every angle of its joint and nothing outside it.
            np.testing.assert_allclose(m.actuator_ctrlrange[a], m.jnt_range[j], atol=1e-3)
        else:
            # Coupled distal joints: A_FFJ0 pulls the tendon FFT1 = FFJ1 + FFJ2.
            assert m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_TENDON
            finger = target[:2]
            assert target == f"{finger}J0" and finger in FINGERS
            t = int(m.actuator_trnid[a, 0])
            assert t == tendons[f"{finger}T1"]
            np.testing.assert_allclose(m.actuator_ctrlrange[a], [0.0, math.pi], atol=2e-3)
            adr, num = m.tendon_adr[t], m.tendon_num[t]
            joints = {m.joint(m.wrap_objid[k]).name: m.wrap_prm[k] for k in range(adr, adr + num)}
            assert joints == {f"{finger}J1": 1.0, f"{finger}J2": 1.0}
    joint_actuated = {m.joint(int(m.actuator_trnid[a, 0])).name for a in range(m.nu)
                      if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT}
    # 24 joints - 8 coupled distal joints = 16 joint servos, plus 4 tendon servos.
    assert joint_actuated == set(hinges) - {f"{f}J{k}" for f in FINGERS for k in (1, 2)}


# ----------------------------------------------------------------------------- coupling
def _settle(m: mujoco.MjModel, ctrl: np.ndarray, seconds: float = 2.0) -> mujoco.MjData:
    d = mujoco.MjData(m)
    d.ctrl[:] = ctrl
    mujoco.mj_step(m, d, int(round(seconds / m.opt.timestep)))
    return d


@pytest.mark.parametrize("finger", FINGERS)
@pytest.mark.parametrize("command", [1.2, 2.0])
def test_coupled_actuator_drives_both_distal_joints_equally(
    reach_model: mujoco.MjModel, finger: str, command: float
) -> None:
    m = reach_model
    hinges = _hinges(m)
    baseline = _settle(m, np.zeros(m.nu))  # every servo holds 0: the hand as gravity leaves it
    ctrl = np.zeros(m.nu)
    ctrl[m.actuator(f"A_{finger}J0").id] = command  # tendon length J1 + J2
    d = _settle(m, ctrl)
    j1 = d.qpos[m.jnt_qposadr[hinges[f"{finger}J1"]]]
    j2 = d.qpos[m.jnt_qposadr[hinges[f"{finger}J2"]]]
    half = command / 2
    # kp = 1 N·m/rad against the distal links' weight (~0.01 N·m): within 0.02 rad of half each.
    assert j1 == pytest.approx(half, abs=0.02) and j2 == pytest.approx(half, abs=0.02)
    assert abs(j1 - j2) < 2e-3, "the joint equality keeps J1 = J2"
    for name, j in hinges.items():
        if name in (f"{finger}J1", f"{finger}J2"):
            continue
        moved = abs(d.qpos[m.jnt_qposadr[j]] - baseline.qpos[m.jnt_qposadr[j]])
        assert moved < 5e-3, f"{name} moved {moved:.4f} rad although only {finger}J1/J2 were commanded"
    assert np.isfinite(d.qpos).all()


# ----------------------------------------------------------------------------- orientation
def test_palm_faces_up_fingers_point_forward_thumb_on_plus_x(block_model: mujoco.MjModel) -> None:
    m = block_model
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)  # qpos0: every joint at 0
    palm = m.geom("palm_geom").id
    centre = d.geom_xpos[palm]
    rot = d.geom_xmat[palm].reshape(3, 3)
    top_face = centre + rot @ np.array([0.0, 0.0, PALM_HALF[2]])
    bottom_face = centre - rot @ np.array([0.0, 0.0, PALM_HALF[2]])
    assert top_face[2] - centre[2] == pytest.approx(PALM_HALF[2], abs=1e-4)  # normal is +z
    assert bottom_face[2] < centre[2] < top_face[2]
    # palm_center sits on the palm surface, so observations measured from it start at the surface.
    assert d.site("palm_center").xpos[2] == pytest.approx(top_face[2], abs=1e-6)
    palm_y = d.site("palm_center").xpos[1]
    for tip in ("fftip", "mftip", "rftip", "lftip"):
        assert d.site(tip).xpos[1] > palm_y + 0.08  # straight fingers reach ~9 cm past the palm
    assert d.site("thtip").xpos[0] > d.site("palm_center").xpos[0] + 0.03  # right hand, palm up


def test_cube_comes_to_rest_on_the_palm_in_the_ready_pose() -> None:
    task = make_task("cube_rotate", num_envs=3, seed=12)
    task.reset()
    zero = np.zeros((3, task.action_dim))
    for _ in range(25):  # 2 s with the servos holding the ready pose
        r = task.step(zero)
        assert not (r.terminated | r.truncated).any()
    v = task.ids.cube_dof_adr
    for m, d in zip(task.sim.models, task.sim.datas, strict=True):
        palm, cube = m.geom("palm_geom").id, m.geom("cube_geom").id
        rot = d.geom_xmat[palm].reshape(3, 3)
        local = rot.T @ (d.geom_xpos[cube] - d.geom_xpos[palm])  # cube centre in the palm frame
        # Resting on the palm surface: half a cube above it (contact penetration < 1 mm) ...
        assert local[2] == pytest.approx(PALM_HALF[2] + CUBE_HALF, abs=1e-3)
        # ... over the palm, not beside it ...
        assert abs(local[0]) < PALM_HALF[0] and abs(local[1]) < PALM_HALF[1]
        # ... touching it, and still.
        pairs = {(d.contact[k].geom1, d.contact[k].geom2) for k in range(d.ncon)}
        assert (palm, cube) in pairs or (cube, palm) in pairs
        assert np.linalg.norm(d.qvel[v : v + 3]) < 0.01 and np.linalg.norm(d.qvel[v + 3 : v + 6]) < 0.1
        # It lies flat: one of its face normals is the palm normal.
        cube_rot = d.geom_xmat[cube].reshape(3, 3)
        assert np.max(np.abs(cube_rot.T @ rot[:, 2])) > math.cos(0.05)

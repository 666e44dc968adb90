"""A second hand from data alone: `robot=leap` (envs/hands/leap.xml, configs/robot/leap.yaml).

The model against the LEAP Hand's published kinematics (Shaw, Agarwal, Pathak, RSS 2023;
docs/references.md "LEAP hand"; the numbers are written out here, not read from the code), every
task env building and stepping on it unchanged, and its start poses holding the block the way
tests/tasks/test_grasp_start_and_reward_terms.py checks the dexhand's.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.sim.model import compile_model, scene_spec
from dexrl.tasks.registry import make_task

FINGERS = ("if", "mf", "rf")
# Published joint ranges (rad): each finger MCP flexion, MCP abduction, PIP, DIP; the thumb's four.
RANGES = {"mcp": (-0.314, 2.23), "abd": (-1.047, 1.047), "pip": (-0.506, 1.885), "dip": (-0.366, 2.042),
          "th_cmc": (-0.349, 2.094), "th_axl": (-0.349, 2.094), "th_mcp": (-0.47, 2.443), "th_ipl": (-1.34, 1.88)}  # fmt: skip
JOINTS = [f"{f}_{j}" for f in FINGERS for j in ("mcp", "abd", "pip", "dip")] + ["th_cmc", "th_axl", "th_mcp", "th_ipl"]
STALL_TORQUE = 0.93  # N.m, Dynamixel XC330-M288-T at 5 V
K = 16


@pytest.fixture(scope="module")
def leap() -> mujoco.MjModel:
    return compile_model(scene_spec(load_env_config("reach", robot="leap")))


def surface_distances(task) -> np.ndarray:  # type: ignore[no-untyped-def]
    """[K, tips] distance (m) of each fingertip site to the cube's box (0 inside or on it)."""
    out = np.zeros((task.num_envs, len(task.ids.fingertip_site)))
    gid = task.base_model.geom("cube_geom").id
    for i, (m, d) in enumerate(zip(task.sim.models, task.sim.datas, strict=True)):
        rot = d.geom_xmat[gid].reshape(3, 3)
        for k, sid in enumerate(task.ids.fingertip_site):
            local = rot.T @ (d.site_xpos[sid] - d.geom_xpos[gid])
            out[i, k] = np.linalg.norm(np.maximum(np.abs(local) - m.geom_size[gid], 0.0))
    return out


def test_16_joints_in_leap_order_with_the_published_ranges_and_16_servos(leap: mujoco.MjModel) -> None:
    m = leap
    hinges = [m.joint(j).name for j in range(m.njnt) if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]
    assert hinges == JOINTS and m.nu == 16
    for name in JOINTS:
        kind = name if name.startswith("th_") else name.split("_")[1]
        np.testing.assert_allclose(m.jnt_range[m.joint(name).id], RANGES[kind], atol=1e-9)
        a = m.actuator(f"A_{name}").id  # one position servo per joint, over the joint's range
        assert m.actuator_trnid[a, 0] == m.joint(name).id
        np.testing.assert_allclose(m.actuator_ctrlrange[a], RANGES[kind], atol=1e-9)
        np.testing.assert_allclose(m.actuator_forcerange[a], [-STALL_TORQUE, STALL_TORQUE])
        assert m.actuator_gainprm[a, 0] == -m.actuator_biasprm[a, 1] == 3.0  # a position servo, kp 3 N.m/rad


def test_link_lengths_and_spacing_are_leaps(leap: mujoco.MjModel) -> None:
    m, d = leap, mujoco.MjData(leap)
    mujoco.mj_kinematics(m, d)
    mujoco.mj_comPos(m, d)
    anchor = {n: d.xanchor[m.joint(n).id].copy() for n in JOINTS}
    for a, b in (("if", "mf"), ("mf", "rf")):  # 45.4 mm between neighbouring MCP axes
        assert np.linalg.norm(anchor[f"{a}_mcp"] - anchor[f"{b}_mcp"]) == pytest.approx(0.0454, abs=2e-4)
    for f in FINGERS:
        assert np.linalg.norm(anchor[f"{f}_pip"] - anchor[f"{f}_mcp"]) == pytest.approx(0.0531, abs=5e-4)
        assert np.linalg.norm(anchor[f"{f}_dip"] - anchor[f"{f}_pip"]) == pytest.approx(0.0361, abs=2e-4)
    assert np.linalg.norm(anchor["th_ipl"] - anchor["th_mcp"]) == pytest.approx(0.0466, abs=2e-4)
    # The thumb's base sits 62 mm toward the wrist (-y) from the fingers' MCP axes, on the +x side.
    assert anchor["mf_mcp"][1] - anchor["th_cmc"][1] == pytest.approx(0.0622, abs=5e-4)
    assert anchor["th_ipl"][0] > anchor["if_mcp"][0]


def test_flexion_curls_toward_the_palm_which_faces_up(leap: mujoco.MjModel) -> None:
    m, d = leap, mujoco.MjData(leap)
    mujoco.mj_kinematics(m, d)
    tip0 = d.site("mftip").xpos.copy()
    for joint in ("mf_mcp", "mf_pip", "mf_dip"):
        d.qpos[m.jnt_qposadr[m.joint(joint).id]] = 0.6
    mujoco.mj_kinematics(m, d)
    assert d.site("mftip").xpos[2] > tip0[2] + 0.05  # palm up: curling lifts the fingertip
    assert d.site("palm_center").xpos == pytest.approx([0.0, 0.055, 0.211], abs=1e-9)


@pytest.mark.parametrize("env", ["reach", "cube_rotate_z", "cube_rotate", "face_turn"])
def test_every_task_builds_and_steps_on_leap(env: str) -> None:
    task = make_task(load_env_config(env, robot="leap"), num_envs=2, seed=0)
    assert task.action_dim == 16 and len(task.ids.hand_joint_names) == 16
    sizes = {p.name: p.size for p in task.policy_obs_parts()}
    assert sizes["fingertip_pos"] == 12  # 3 x its four fingertip sites
    obs, critic = task.reset()
    rng = np.random.default_rng(0)
    for _ in range(50):
        r = task.step(rng.uniform(-1, 1, (2, task.action_dim)))
        for x in (r.obs, r.critic_obs, r.reward):
            assert np.isfinite(x).all()
    assert obs.shape == (2, task.obs_dim) and critic.shape == (2, task.critic_obs_dim)


def test_leap_grasp_start_holds_the_block() -> None:
    task = make_task(load_env_config("cube_rotate_z", robot="leap"), num_envs=K, seed=11, autoreset=False)
    assert task.cfg.start_pose == "grasp"
    task.reset()
    near = (surface_distances(task) < 0.02).sum(axis=1)
    assert (near >= 3).all(), f"fingertips within 2 cm per env: {near.tolist()}"
    v = task.ids.cube_dof_adr
    vel = np.array([d.qvel[v : v + 6] for d in task.sim.datas])
    assert np.linalg.norm(vel[:, :3], axis=1).max() < 0.05 and np.linalg.norm(vel[:, 3:], axis=1).max() < 0.5
    for _ in range(99):  # 8 s of holding still (the success timeout is 100): nothing dropped
        r = task.step(np.zeros((K, task.action_dim)))
        assert not (r.terminated | r.truncated).any()
    assert ((surface_distances(task) < 0.02).sum(axis=1) >= 3).all()
    up = np.array([task.sim.datas[i].xmat[task.ids.cube_body].reshape(3, 3)[2, 2] for i in range(K)])
    assert np.degrees(np.arccos(np.clip(up, -1, 1))).max() < 5.0  # level


def test_leap_ready_start_leaves_the_block_resting_on_the_palm() -> None:
    task = make_task(load_env_config("cube_rotate", robot="leap"), num_envs=4, seed=3, autoreset=False)
    task.reset()
    for _ in range(50):
        r = task.step(np.zeros((4, task.action_dim)))
        assert not r.terminated.any()
    # The block's centre half a block (28.5 mm) above the palm centre: on the palm, not in the air.
    np.testing.assert_allclose(task.cube_pos()[:, 2], 0.0285, atol=0.003)


def test_gymnasium_and_make_task_take_the_robot_by_name() -> None:
    import gymnasium as gym

    from dexrl.tasks.registry import register_gymnasium_envs

    register_gymnasium_envs()
    env = gym.make("dexrl/CubeRotateZ-v0", robot="leap", obs_mode="policy")
    assert env.action_space.shape == (16,)
    task = make_task("reach", overrides={"robot": "leap"})
    assert task.cfg.robot.name == "leap" and task.action_dim == 16

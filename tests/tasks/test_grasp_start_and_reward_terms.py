"""The in-hand start (env.start_pose: grasp) and the named reward terms of the cube tasks.

Distances to the cube are measured to its collision box in the cube's own frame (box geometry
written out here), not with dexrl's observation code; angular velocities are set on the free joint
directly (MuJoCo keeps a free joint's angular velocity in the body frame).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.tasks.registry import make_task

K = 16


def surface_distances(task, geoms: tuple[str, ...] = ("cube_geom",)) -> np.ndarray:  # type: ignore[no-untyped-def]
    """[K, 5] distance (m) of each fingertip site to the cube's boxes `geoms` (the nearest; 0
    inside or on one)."""
    out = np.full((task.num_envs, len(task.ids.fingertip_site)), np.inf)
    for gid in (task.base_model.geom(name).id for name in geoms):
        for i, (m, d) in enumerate(zip(task.sim.models, task.sim.datas, strict=True)):
            half = m.geom_size[gid]
            rot = d.geom_xmat[gid].reshape(3, 3)
            for k, sid in enumerate(task.ids.fingertip_site):
                local = rot.T @ (d.site_xpos[sid] - d.geom_xpos[gid])
                out[i, k] = min(out[i, k], np.linalg.norm(np.maximum(np.abs(local) - half, 0.0)))
    return out


def cube_speeds(task) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    v = task.ids.cube_dof_adr
    vel = np.array([d.qvel[v : v + 6] for d in task.sim.datas])
    return np.linalg.norm(vel[:, :3], axis=1), np.linalg.norm(vel[:, 3:], axis=1)


def test_grasp_start_puts_three_fingertips_at_the_cube_and_the_cube_at_rest() -> None:
    task = make_task("cube_rotate_z", num_envs=K, seed=11, autoreset=False)
    assert task.cfg.start_pose == "grasp"
    task.reset()
    near = (surface_distances(task) < 0.02).sum(axis=1)  # within 2 cm of the cube's surface
    assert (near >= 3).all(), f"fingertips within 2 cm per env: {near.tolist()}"
    lin, ang = cube_speeds(task)
    assert lin.max() < 0.05 and ang.max() < 0.5, (lin.max(), ang.max())  # settled: m/s, rad/s
    # Nothing is dropped or ends in the first steps of holding still.
    for _ in range(5):
        r = task.step(np.zeros((K, task.action_dim)))
        assert not (r.terminated | r.truncated).any()


def test_face_turn_takes_the_grasp_start_with_the_rubiks_cube() -> None:
    """experiment=face_turn_fast's start: the Rubik's cube (two collision boxes: the lower
    layers and the hinged top layer) settles in the grasp at 4 ms x 20 and is held."""
    task = make_task("face_turn", num_envs=K, seed=11, autoreset=False,
                     overrides={"start_pose": "grasp", "settle_steps": 150})  # fmt: skip
    task.reset()
    near = (surface_distances(task, ("cube_geom", "top_layer_geom")) < 0.02).sum(axis=1)
    assert (near >= 3).all(), f"fingertips within 2 cm per env: {near.tolist()}"
    lin, ang = cube_speeds(task)
    assert lin.max() < 0.05 and ang.max() < 0.5, (lin.max(), ang.max())
    for _ in range(5):
        r = task.step(np.zeros((K, task.action_dim)))
        assert not (r.terminated | r.truncated).any()


def test_the_open_hand_start_is_what_the_grasp_start_fixes() -> None:
    """The old start (ready pose, cube on the palm): no fingertip within 2 cm of the cube."""
    task = make_task("cube_rotate_z", num_envs=K, seed=11, autoreset=False,
                     overrides={"start_pose": "ready", "settle_steps": 0})  # fmt: skip
    task.reset()
    near = (surface_distances(task) < 0.02).sum(axis=1)
    assert near.max() < 3, near.tolist()


def test_grasp_start_without_a_grasp_pose_is_refused() -> None:
    cfg = load_env_config("cube_rotate_z")
    cfg = replace(cfg, robot=replace(cfg.robot, grasp_pose={}))
    with pytest.raises(ValueError, match="has no grasp_pose"):
        make_task(cfg)


def _upright_task(**overrides):  # type: ignore[no-untyped-def]
    """One env, the cube upright (body z = world z), goal 1 rad of yaw ahead of it."""
    task = make_task("cube_rotate_z", num_envs=1, seed=0, autoreset=False, overrides=overrides)
    task.reset()
    d, a = task.sim.datas[0], task.ids.cube_qpos_adr
    d.qpos[a + 3 : a + 7] = [1.0, 0.0, 0.0, 0.0]
    task.goal_quat[0] = [np.cos(0.5), 0.0, 0.0, np.sin(0.5)]  # +1 rad about z
    task.sim.forward(0)
    task.refresh()
    return task


@pytest.mark.parametrize("omega_z, expected", [(0.5, 0.5), (-0.25, -0.25), (3.0, 1.0), (-3.0, -1.0)])
def test_rotation_speed_pays_clipped_angular_velocity_toward_the_goal(omega_z: float, expected: float) -> None:
    task = _upright_task(rotation_speed_weight=2.0, rotation_speed_clip=1.0)
    task.sim.datas[0].qvel[task.ids.cube_dof_adr + 5] = omega_z  # body z = world z here
    task.refresh()
    a = np.zeros((1, task.action_dim))
    terms = task.reward_terms(a, task.distance, np.zeros(1, bool), np.zeros(1, bool))
    dt = 0.01 * 8  # cube_rotate_z: 10 ms x 8 substeps
    assert terms["rotation_speed"][0] == pytest.approx(2.0 * expected * dt, rel=1e-9)


def test_object_linvel_and_action_rate_are_penalties_of_their_squares() -> None:
    task = _upright_task(object_linvel_penalty=3.0, action_rate_penalty=0.5)
    task.sim.datas[0].qvel[task.ids.cube_dof_adr : task.ids.cube_dof_adr + 3] = [0.1, -0.2, 0.0]
    task.refresh()
    task.previous_action = np.zeros((1, task.action_dim))
    a = np.zeros((1, task.action_dim))
    a[0, :2] = [0.5, -1.0]
    terms = task.reward_terms(a, task.distance, np.zeros(1, bool), np.zeros(1, bool))
    assert terms["object_linvel"][0] == pytest.approx(-3.0 * 0.05 * 0.08)
    assert terms["action_rate"][0] == pytest.approx(-0.5 * 1.25)
    assert "rotation_speed" not in terms and "hand_pose" not in terms  # weight 0: not a term


def test_episode_reward_terms_add_up_to_the_episode_return() -> None:
    task = make_task("cube_rotate_z", num_envs=4, seed=5, overrides={
        "rotation_speed_weight": 1.0, "object_linvel_penalty": 1.0, "action_rate_penalty": 0.01,
        "hand_pose_penalty": 0.1, "timeout_steps": 15})  # fmt: skip
    task.reset()
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(40):
        r = task.step(rng.uniform(-1, 1, (4, task.action_dim)))
        if "episode_done" not in r.info:
            continue
        done = r.info["episode_done"]
        keys = [k for k in r.info if k.startswith("reward/")]
        assert {"reward/distance", "reward/success", "reward/drop", "reward/rotation_speed",
                "reward/object_linvel", "reward/action_rate", "reward/hand_pose"} <= set(keys)
        total = sum(r.info[k] for k in keys)
        np.testing.assert_allclose(total[done], r.info["episode_return"][done], rtol=1e-9, atol=1e-9)
        ended += int(done.sum())
    assert ended >= 4


def test_geom_friction_is_set_on_the_compiled_model_and_unknown_geoms_are_refused() -> None:
    task = make_task("cube_rotate_z", overrides={"geom_friction": {"palm_geom": 0.25}})
    assert task.base_model.geom_friction[task.base_model.geom("palm_geom").id, 0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="geom 'no_such_geom'"):
        make_task("cube_rotate_z", overrides={"geom_friction": {"no_such_geom": 0.5}})

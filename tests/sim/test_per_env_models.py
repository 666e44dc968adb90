"""Every env in a batch owns its MjModel (docs/architecture.md §2): a parameter written into one
env's model changes that env's physics, by the amount Newton says, and leaves the others bit for
bit as they would have been."""

from __future__ import annotations

import copy

import mujoco
import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.sim.batch import BatchedSim
from dexrl.sim.model import compile_model, scene_spec
from dexrl.tasks.registry import make_task

NOMINAL_CUBE_MASS = 0.078  # kg, envs/objects/block.xml
HEAVY_CUBE_MASS = 0.3
PUSH = np.array([0.2, 0.0, 0.0])  # N, applied at the cube's centre of mass
SUBSTEPS = 20


def scene_model(env: str) -> mujoco.MjModel:
    """The compiled scene of an env with the default robot (the dexhand): what its tasks build."""
    return compile_model(scene_spec(load_env_config(env)))


def _set_cube_mass(m: mujoco.MjModel, cube: int, mass: float) -> None:
    """Write a cube mass (inertia scaled with it) the way ADR does (dexrl.adr.apply).

    mj_setConst is required: MuJoCo 4.0 keeps the free cube's mass-matrix entries from compile
    time, so without it gravity would act on the new mass but the inertia stay at the old one.
    """
    m.body_inertia[cube] *= mass / m.body_mass[cube]
    m.body_mass[cube] = mass
    mujoco.mj_setConst(m, mujoco.MjData(m))


def _batch_with_floating_cube(masses: list[float]) -> BatchedSim:
    """One batch entry per mass; the cube lifted 30 cm above the hand so nothing touches it."""
    base = scene_model("cube_rotate")
    cube = base.body("cube").id
    models = [copy.deepcopy(base) for _ in masses]
    for m, mass in zip(models, masses, strict=True):
        if mass != NOMINAL_CUBE_MASS:
            _set_cube_mass(m, cube, mass)
    sim = BatchedSim(models, substeps=SUBSTEPS)
    a = base.jnt_qposadr[base.joint("cube_joint").id]
    for i, d in enumerate(sim.datas):
        d.qpos[a + 2] += 0.30
        d.xfrc_applied[cube, :3] = PUSH
        sim.forward(i)
    return sim


def test_a_heavier_cube_in_one_env_accelerates_less_and_only_there() -> None:
    masses = [NOMINAL_CUBE_MASS, HEAVY_CUBE_MASS, NOMINAL_CUBE_MASS]
    sim = _batch_with_floating_cube(masses)
    reference = _batch_with_floating_cube([NOMINAL_CUBE_MASS] * 3)  # nobody edited
    m0 = sim.models[0]
    assert m0.body_mass[m0.body("cube").id] == pytest.approx(NOMINAL_CUBE_MASS)
    ctrl = np.zeros((3, sim.nu))
    sim.step(ctrl)
    reference.step(ctrl)
    v = m0.jnt_dofadr[m0.joint("cube_joint").id]
    duration = SUBSTEPS * m0.opt.timestep  # 80 ms
    g = -9.81
    for i, mass in enumerate(masses):
        vel = sim.datas[i].qvel[v : v + 3]
        # A free body under a constant force: v = F t / m along x, g t along z (any mass).
        assert vel[0] == pytest.approx(PUSH[0] * duration / mass, rel=1e-6)
        assert vel[2] == pytest.approx(g * duration, rel=1e-6)
    assert sim.datas[1].qvel[v] < 0.3 * sim.datas[0].qvel[v]  # 0.078 / 0.3 = 0.26
    for i in (0, 2):
        np.testing.assert_array_equal(sim.datas[i].qpos, reference.datas[i].qpos)
        np.testing.assert_array_equal(sim.datas[i].qvel, reference.datas[i].qvel)


def test_task_envs_hold_separate_models() -> None:
    """Writing env 1's model of a batched task touches neither its neighbours nor the base model,
    and env 1 then evolves differently from an untouched twin while envs 0 and 2 match theirs."""
    task = make_task("cube_rotate_z", num_envs=3, seed=4)
    twin = make_task("cube_rotate_z", num_envs=3, seed=4)
    assert len({id(m) for m in task.sim.models} | {id(task.base_model)}) == 4
    cube = task.base_model.body("cube").id
    _set_cube_mass(task.sim.models[1], cube, 0.12)  # within [R]'s cube-mass range (0.036-0.158 kg)
    for m in (task.sim.models[0], task.sim.models[2], task.base_model):
        assert m.body_mass[cube] == pytest.approx(NOMINAL_CUBE_MASS)
    task.reset()
    twin.reset()
    zero = np.zeros((3, task.action_dim))
    for _ in range(30):  # 2.4 s: the hand and cube settle in ~2 s
        task.step(zero)
        twin.step(zero)
    for i in (0, 2):
        np.testing.assert_array_equal(task.sim.datas[i].qpos, twin.sim.datas[i].qpos)
    assert not np.array_equal(task.sim.datas[1].qpos, twin.sim.datas[1].qpos)
    # The heavier cube presses the palm harder: the wrist servo (kp 20) holds a larger torque.
    wrist = task.base_model.actuator("A_WRJ1").id
    heavier = abs(task.sim.datas[1].actuator_force[wrist])
    nominal = abs(twin.sim.datas[1].actuator_force[wrist])
    # Extra torque ~ dm * g * lever (cube ~5 cm in front of the wrist axis) = 0.042*9.81*0.05.
    assert heavier - nominal == pytest.approx(0.042 * 9.81 * 0.05, rel=0.3)


def test_replacing_a_model_keeps_the_batch_layout() -> None:
    block = scene_model("cube_rotate")
    no_cube = scene_model("reach")
    sim = BatchedSim([copy.deepcopy(block) for _ in range(2)], substeps=2)
    with pytest.raises(ValueError, match="nq"):
        sim.replace_model(1, no_cube)
    fresh = copy.deepcopy(block)
    sim.replace_model(1, fresh)
    assert sim.models[1] is fresh and sim.datas[1].qpos.shape == (block.nq,)
    with pytest.raises(ValueError, match="substeps"):
        BatchedSim([block], substeps=0)
    with pytest.raises(ValueError, match="same nq and nu"):
        BatchedSim([block, no_cube], substeps=1)

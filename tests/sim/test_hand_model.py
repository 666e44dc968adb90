"""The hand model: joints, actuators, coupling, orientation; scenes load as the viewer loads them;
every env owns its MjModel in the batched simulator."""

from __future__ import annotations

import copy
from pathlib import Path

import mujoco
import numpy as np
import pytest

from dexrl.config import known_env_names, load_env_config
from dexrl.paths import envs_dir
from dexrl.sim.batch import BatchedSim
from dexrl.sim.model import compile_model, scene_spec

HAND_JOINTS = (
    ["WRJ2", "WRJ1"]
    + [f"{f}J{k}" for f in ("FF", "MF", "RF") for k in (4, 3, 2, 1)]
    + [f"LFJ{k}" for k in (5, 4, 3, 2, 1)]
    + [f"THJ{k}" for k in (5, 4, 3, 2, 1)]
)


def scene_model(env: str) -> mujoco.MjModel:
    """The compiled scene of an env with the default robot (the dexhand): what its tasks build."""
    return compile_model(scene_spec(load_env_config(env)))


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return scene_model("cube_rotate")


def test_24_hinge_joints_and_20_force_limited_position_actuators(model: mujoco.MjModel) -> None:
    hinges = [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]
    assert sorted(hinges) == sorted(HAND_JOINTS) and len(hinges) == 24
    assert model.nu == 20
    for a in range(model.nu):
        assert model.actuator_forcelimited[a] and model.actuator_forcerange[a, 1] > 0
        assert model.actuator_gainprm[a, 0] > 0 and model.actuator_biasprm[a, 1] == -model.actuator_gainprm[a, 0]
    # 4 coupled pairs driven through tendons: 16 joint actuators + 4 tendon actuators.
    trn = model.actuator_trntype
    assert (trn == mujoco.mjtTrn.mjTRN_JOINT).sum() == 16 and (trn == mujoco.mjtTrn.mjTRN_TENDON).sum() == 4


def test_fingertip_sites_exist_and_palm_faces_up(model: mujoco.MjModel) -> None:
    d = mujoco.MjData(model)
    mujoco.mj_forward(model, d)
    for s in ("fftip", "mftip", "rftip", "lftip", "thtip", "palm_center"):
        assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, s) >= 0
    # The palm box's local +z (its thin axis, the palm side) points up in the world.
    palm = model.geom("palm_geom").id
    assert d.geom_xmat[palm].reshape(3, 3)[:, 2] @ np.array([0, 0, 1.0]) > 0.99
    # The cube settles on the palm: above the palm surface, below its start.
    for _ in range(250):
        mujoco.mj_step(model, d)
    cube_z = d.body("cube").xpos[2]
    palm_top = d.geom_xpos[palm][2] + model.geom_size[palm][2]
    assert palm_top < cube_z < palm_top + 0.0285 + 0.01


@pytest.mark.parametrize("finger", ["FF", "MF", "RF", "LF"])
def test_coupled_actuator_moves_both_distal_joints(model: mujoco.MjModel, finger: str) -> None:
    d = mujoco.MjData(model)
    d.ctrl[:] = 0.0
    d.ctrl[model.actuator(f"A_{finger}J0").id] = 1.2  # tendon length J1 + J2
    for _ in range(500):  # 2 s
        mujoco.mj_step(model, d)
    j1, j2 = d.joint(f"{finger}J1").qpos[0], d.joint(f"{finger}J2").qpos[0]
    assert j1 == pytest.approx(0.6, abs=0.08) and j2 == pytest.approx(0.6, abs=0.08)
    assert abs(j1 - j2) < 0.03  # the equality keeps them together
    assert abs(d.joint(f"{finger}J3").qpos[0]) < 0.05  # the others hold their target (0)


@pytest.mark.parametrize("mjcf", sorted(str(p.relative_to(envs_dir())) for p in envs_dir().glob("*/*.xml")
                                         if p.parent.name in ("hands", "scenes")))  # fmt: skip
def test_every_hand_and_scene_file_loads_as_the_viewer_loads_it(mjcf: str) -> None:
    m = mujoco.MjModel.from_xml_path(str(envs_dir() / mjcf))
    assert m.nbody > 1


@pytest.mark.parametrize("env", known_env_names())
def test_every_env_composes_its_scene(env: str) -> None:
    assert scene_model(env).nu > 0


def test_each_env_owns_its_model() -> None:
    base = scene_model("cube_rotate")
    models = [copy.deepcopy(base) for _ in range(3)]
    cube = base.body("cube").id
    models[1].opt.gravity[:] = [0, 0, -30.0]  # env 1 only
    sim = BatchedSim(models, substeps=20)
    for d in sim.datas:
        d.qpos[base.jnt_qposadr[base.joint("cube_joint").id] + 2] += 0.05  # lift so it falls
    sim.step(np.zeros((3, base.nu)))
    z = [d.xpos[cube][2] for d in sim.datas]
    assert z[0] == pytest.approx(z[2], abs=1e-12)  # untouched envs identical
    assert z[1] < z[0] - 0.005  # the heavier gravity of env 1 only
    assert base.opt.gravity[2] == pytest.approx(-9.81)


def test_model_files_ship_in_the_wheel(tmp_path: Path) -> None:
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(root)], check=True, timeout=300)
    wheel = next(tmp_path.glob("dexrl-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dexrl/_assets/envs/objects/block.xml" in names
    assert "dexrl/_assets/envs/hands/leap.xml" in names and "dexrl/_assets/configs/robot/leap.yaml" in names
    assert "dexrl/_assets/envs/hands/dexhand.xml" in names
    assert "dexrl/_assets/configs/env/cube_rotate.yaml" in names

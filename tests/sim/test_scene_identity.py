"""The default hand's simulation did not change when scenes became composed (robot + object).

`data/dexhand_scenes_reference.json` was recorded from the include-based scene files
(envs/scenes/hand_reach.xml, hand_block.xml, hand_rubiks.xml at commit a9c08d6, before dexrl
composed scenes with MjSpec) by the same `snapshot` as below. For reach, cube_rotate_z,
cube_rotate and face_turn, each scene as its task compiles it (env.timestep, env frictions):

- the sizes (nq, nv, nu, nbody, ngeom, ...) and the names of bodies, geoms, joints, sites,
  actuators, sensors, tendons, equalities, cameras, lights, materials and textures, in order;
- every numeric array of the compiled MjModel (body_pos, geom_size, geom_friction,
  actuator_gainprm, jnt_range, dof_damping, ... and opt.*, stat.*; 494 fields), by a hash of its
  bytes: bit for bit;
- qpos after 50, 100, 150 and 200 control periods of mj_step under a fixed random ctrl sequence,
  and of the task itself (reset, start pose, settling, 200 random actions on 2 envs).

The bit-level parts hold under the MuJoCo version that recorded them; a newer MuJoCo may compile
the same files to other bits, so they are skipped there (sizes and names are always checked).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.sim.model import compile_model, scene_spec
from dexrl.tasks.registry import make_task

REFERENCE = json.loads((Path(__file__).parent / "data" / "dexhand_scenes_reference.json").read_text())
SAME_MUJOCO = mujoco.__version__ == REFERENCE["mujoco_version"]
SKIP = {"names", "paths", "names_map", "text_data", "text_adr", "text_size"}  # name buffers: by name below
COUNTS = ("nq", "nv", "nu", "na", "nbody", "njnt", "ngeom", "nsite", "nsensor", "ntendon", "neq", "nmocap",
          "ncam", "nlight", "nmat", "ntex", "nsensordata")  # fmt: skip


def model_arrays(m: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Every numeric array field of an MjModel, and the scalars of m.opt and m.stat."""
    out = {}
    for k in sorted(dir(m)):
        if k.startswith("_") or k in SKIP or k.startswith("name_"):
            continue
        try:
            v = getattr(m, k)
        except Exception:  # noqa: BLE001 - properties that need a plugin or a renderer
            continue
        if isinstance(v, np.ndarray):
            out[k] = np.ascontiguousarray(v)
    for group in ("opt", "stat"):
        g = getattr(m, group)
        for k in dir(g):
            v = getattr(g, k) if not k.startswith("_") else None
            if isinstance(v, (int, float, np.ndarray)):
                dtype = np.float64 if isinstance(v, float) else None
                out[f"{group}.{k}"] = np.ascontiguousarray(np.asarray(v, dtype=dtype))
    return out


def names(m: mujoco.MjModel) -> dict[str, list[str]]:
    sizes = {"body": m.nbody, "geom": m.ngeom, "joint": m.njnt, "site": m.nsite, "actuator": m.nu,
             "sensor": m.nsensor, "tendon": m.ntendon, "equality": m.neq, "camera": m.ncam,
             "light": m.nlight, "material": m.nmat, "texture": m.ntex}  # fmt: skip
    return {kind: [getattr(m, kind)(i).name for i in range(n)] for kind, n in sizes.items()}


def snapshot(env: str) -> dict[str, Any]:
    """What the reference holds for one env (recorded with this function's twin at a9c08d6)."""
    cfg = load_env_config(env, robot="dexhand")
    m = compile_model(scene_spec(cfg))
    fields = {k: hashlib.sha256(v.tobytes() + str(v.shape).encode() + str(v.dtype).encode()).hexdigest()[:12]
              for k, v in model_arrays(m).items()}  # fmt: skip
    rng, d = np.random.default_rng(12345), mujoco.MjData(m)
    lo, hi = m.actuator_ctrlrange.T
    raw = {}
    for t in range(1, 201):
        d.ctrl[:] = rng.uniform(lo, hi)
        mujoco.mj_step(m, d, 5)
        if t % 50 == 0:
            raw[str(t)] = d.qpos.tolist()
    task = make_task(cfg, num_envs=2, seed=7)
    task.reset()
    rng = np.random.default_rng(54321)
    rollout = {"0": task.qpos.tolist()}
    for t in range(1, 201):
        task.step(rng.uniform(-1, 1, (2, task.action_dim)))
        if t % 50 == 0:
            rollout[str(t)] = task.qpos.tolist()
    return {"counts": {k: int(getattr(m, k)) for k in COUNTS}, "names": names(m), "fields": fields,
            "mj_step_qpos": raw, "task_qpos": rollout, "obs_dim": int(task.obs_dim),
            "critic_obs_dim": int(task.critic_obs_dim)}  # fmt: skip


@pytest.mark.parametrize("env", sorted(REFERENCE["envs"]))
def test_the_composed_dexhand_scene_is_the_recorded_simulation(env: str) -> None:
    ref, now = REFERENCE["envs"][env], snapshot(env)
    assert now["counts"] == ref["counts"]
    for kind, recorded in ref["names"].items():
        assert now["names"][kind] == recorded, f"{kind} names differ"
    assert (now["obs_dim"], now["critic_obs_dim"]) == (ref["obs_dim"], ref["critic_obs_dim"])
    if not SAME_MUJOCO:
        pytest.skip(f"bit-level reference recorded with MuJoCo {REFERENCE['mujoco_version']}, "
                    f"this is {mujoco.__version__}")  # fmt: skip
    differ = sorted(k for k in ref["fields"] if now["fields"].get(k) != ref["fields"][k])
    assert not differ, f"{len(differ)} model fields differ: {differ}"
    assert set(now["fields"]) == set(ref["fields"])
    for key in ("mj_step_qpos", "task_qpos"):
        for t, qpos in ref[key].items():
            np.testing.assert_array_equal(np.asarray(now[key][t]), np.asarray(qpos), err_msg=f"{key} at {t}")

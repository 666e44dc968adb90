"""The manifest that travels with policy.onnx: everything a hand controller must agree on.

Built from the task itself (joint and actuator order from the compiled model, the observation
layout and each part's real-hand source from `HandTask.policy_obs_parts()`), never copied by
hand. `dexrl.deploy` reads it with numpy only. The graph carries a copy of the manifest (minus the ONNX file's own hash) in its
metadata, so a manifest edited after export is refused with the field that differs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

import dexrl
from dexrl.export.graph import ACTION_OUTPUT, OBS_INPUT
from dexrl.sim.scene import describe_scene

FORMAT = "dexrl-policy-v1"
METADATA_KEY = "dexrl_manifest"

RESET_RULE = (
    "At the first step of every episode feed zeros for every state input; afterwards feed the "
    "previous step's matching output (h_out -> h_in, c_out -> c_in)."
)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _floats(x: Any) -> list[Any]:
    """numpy -> nested lists of Python floats (exact in JSON: repr round-trips a double)."""
    return np.asarray(x, dtype=np.float64).tolist()  # type: ignore[no-any-return]


def hand_section(task: Any) -> dict[str, Any]:
    """Hand name and a hash of the MJCF the policy was trained on (MuJoCo's own XML of it)."""
    xml = task.spec.to_xml()
    return {
        "name": task.cfg.robot.name,
        "model": describe_scene(task.cfg),
        "mjcf": task.cfg.robot.mjcf,
        "model_sha256": sha256_bytes(xml.encode()),
        "model_sha256_of": "the composed scene's MJCF as MuJoCo writes it (mujoco.MjSpec.to_xml)",
        "mujoco_version": mujoco.__version__,
    }


def joints_section(task: Any) -> dict[str, Any]:
    m = task.base_model
    names = list(task.ids.hand_joint_names)
    ids = [m.joint(n).id for n in names]
    coupled = [
        {"name": m.equality(e).name, "joint1": m.joint(int(m.eq_obj1id[e])).name,
         "joint2": m.joint(int(m.eq_obj2id[e])).name,
         "polycoef": _floats(m.eq_data[e, :5]),
         "meaning": "joint1 = polycoef[0] + polycoef[1] * joint2 + ... (MuJoCo joint equality)"}
        for e in range(m.neq) if m.eq_type[e] == mujoco.mjtEq.mjEQ_JOINT
    ]  # fmt: skip
    return {"names": names, "limits": _floats(m.jnt_range[ids]), "units": "rad", "coupled": coupled}


def actuators_section(task: Any) -> dict[str, Any]:
    """Actuator order, ctrl limits and what each drives: length = gear * sum(coef * joint)."""
    m = task.base_model
    transmission = []
    for a in range(m.nu):
        target = int(m.actuator_trnid[a, 0])
        if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT:
            joints, coefs = [m.joint(target).name], [1.0]
        elif m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_TENDON:
            wraps = range(m.tendon_adr[target], m.tendon_adr[target] + m.tendon_num[target])
            if any(m.wrap_type[w] != mujoco.mjtWrap.mjWRAP_JOINT for w in wraps):
                raise ValueError(f"actuator {m.actuator(a).name} drives a spatial tendon; only "
                                 "fixed (joint) tendons can be exported")  # fmt: skip
            joints = [m.joint(int(m.wrap_objid[w])).name for w in wraps]
            coefs = [float(m.wrap_prm[w]) for w in wraps]
        else:
            raise ValueError(f"actuator {m.actuator(a).name}: transmission type "
                             f"{int(m.actuator_trntype[a])} cannot be exported")  # fmt: skip
        transmission.append({"joints": joints, "coefs": coefs, "gear": float(m.actuator_gear[a, 0])})
    return {
        "names": [m.actuator(a).name for a in range(m.nu)],
        "ctrl_limits": _floats(m.actuator_ctrlrange),
        "units": "rad (a coupled finger's actuator: the sum of its two distal joints)",
        "kind": "position",
        "transmission": transmission,
    }


def action_section(task: Any) -> dict[str, Any]:
    cfg = task.cfg
    half = 0.5 * (task.ctrl_high - task.ctrl_low)
    relative = cfg.action_mode == "relative"
    # The most the targets can move in one step under this action mode; the deploy loop's
    # per-step change limit defaults to it, so it never binds on a policy that behaves.
    max_change = cfg.action_scale * half if relative else cfg.action_ema * 2.0 * half
    rule = (
        "s = ema*a + (1-ema)*s; targets = clip(targets + s*scale*half_range, ctrl_limits)"
        if relative
        else "command = mid_range + a*half_range; targets = ema*command + (1-ema)*targets"
    )
    return {
        "dim": int(task.action_dim),
        "mode": cfg.action_mode,
        "range": [-1.0, 1.0],
        "scale": float(cfg.action_scale),
        "ema": float(cfg.action_ema),
        "rule": rule + " (a: the policy's action, already clipped to [-1, 1])",
        "initial_targets": "at an episode start: the actuators' current positions (gear * sum(coef * joint_pos)), clipped to ctrl_limits",
        "max_target_change": _floats(max_change),
    }


class NotExportable(ValueError):
    """A policy observation part has no source on a real hand (the message names it and why)."""


def check_exportable(task: Any) -> None:
    """NotExportable naming the first policy observation part a real hand has no source for
    (a part declared `dexrl.obs_parts.not_exportable(reason)`), with its reason."""
    for part in task.policy_obs_parts():
        if not part.source.exportable:
            why = part.source.note if part.source.kind == "not_exportable" else part.source.describe()
            raise NotExportable(f"cannot export a policy of env {task.cfg.name}: its observation part "
                                f"'{part.name}' has no source on a real hand ({why})")  # fmt: skip


def observation_section(task: Any) -> dict[str, Any]:
    """The policy observation's parts, each with its real-hand source (`ObsPart.source`)."""
    check_exportable(task)
    parts, start = [], 0
    for part in task.policy_obs_parts():
        parts.append({"name": part.name, "start": start, "size": int(part.size), "units": part.units,
                      "frame": part.frame, "noise": part.noise, "description": part.description,
                      "source": part.source.manifest()})  # fmt: skip
        start += int(part.size)
    return {
        "dim": start,
        "dtype": "float32",
        "parts": parts,
        "normalization": "inside the graph (running mean/std, clipped); feed raw values",
        "sensors": "fingertip positions are not measured by joint encoders: a real hand's driver "
        "computes them by forward kinematics of its calibrated model, or motion capture measures "
        "them (as in [D]); the HandController provides them in world axes with the palm centre. "
        "Each part's source names the SensorReading fields (reading.*), goal keys (goal.*) and "
        "control-loop state (control.*) it is built from",
    }


def policy_section(actor: Any, state_names: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    batch_obs = ["batch", int(actor.obs_dim)]
    state = [{"input": i, "output": o, "shape": ["batch", int(actor.lstm_size)]} for i, o in state_names]
    return {
        "kind": "lstm" if actor.is_recurrent else "mlp",
        "obs_clip": float(actor.obs_normalizer.clip.item()),
        "inputs": [{"name": OBS_INPUT, "shape": batch_obs}] + [{"name": s["input"], "shape": s["shape"]} for s in state],
        "outputs": [{"name": ACTION_OUTPUT, "shape": ["batch", int(actor.action_dim)]}]
        + [{"name": s["output"], "shape": s["shape"]} for s in state],
        "state": state,
        "reset_rule": RESET_RULE if state else "no recurrent state",
        "action": "deterministic: the Gaussian's mean, clipped to [-1, 1]",
    }


def build_manifest(task: Any, actor: Any, state_names: tuple[tuple[str, str], ...],
                   checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The manifest without `onnx_sha256` (what the graph embeds); `checkpoint` gives its
    sha256 and counters."""
    cfg = task.cfg
    period = cfg.timestep * cfg.substeps
    return {
        "format": FORMAT,
        "dexrl_version": dexrl.__version__,
        "env": {"name": cfg.name, "task": cfg.task},
        "hand": hand_section(task),
        "joints": joints_section(task),
        "actuators": actuators_section(task),
        "control": {"rate_hz": 1.0 / period, "period_s": period,
                    "physics_timestep_s": cfg.timestep, "substeps": cfg.substeps},  # fmt: skip
        "action": action_section(task),
        "observation": observation_section(task),
        "policy": policy_section(actor, state_names),
        "checkpoint": checkpoint,
    }

"""Load and edit MJCF models with `mujoco.MjSpec`; resolve the ids a task needs once.

Small functions that take a spec and return it (the MjSpec editing style of MuJoCo's sysid
tools): edit, `compile()`, and assert in tests. Geometry edits (cube size) go through the spec;
everything else is written straight into an env's own MjModel (docs/architecture.md §2).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from dexrl.config import PHYSICS_SCALES
from dexrl.paths import model_path
from dexrl.sim.scene import EMPTY_PREFIX_WARNING, compose_scene, describe_scene


def load_spec(relative_path: str, timestep: float | None = None) -> mujoco.MjSpec:
    """Parse an MJCF file (relative to `envs/` or absolute) into an MjSpec."""
    path = model_path(relative_path)
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except ValueError as err:  # mujoco reports XML and include errors as ValueError
        raise ValueError(f"cannot parse MJCF model {path}: {err}") from err
    if timestep is not None:
        spec.option.timestep = timestep
    return spec


def scene_spec(cfg: Any) -> mujoco.MjSpec:
    """The spec of an env's scene as its tasks build it (an EnvConfig): the robot's hand with the
    env's object (dexrl.sim.scene.compose_scene) at env.timestep, env.palm_friction and
    env.geom_friction written, the robot's calibrated physics applied (apply_robot_physics)."""
    spec = compose_scene(cfg)
    spec.option.timestep = cfg.timestep
    if cfg.palm_friction:
        for name in cfg.robot.palm_geoms:
            spec.geom(name).friction[0] = cfg.palm_friction
    for name, mu in cfg.geom_friction.items():
        geom = spec.geom(name)
        if geom is None:
            raise ValueError(f"env.geom_friction names geom '{name}', which the scene ({describe_scene(cfg)}) "
                             "does not have")  # fmt: skip
        geom.friction[0] = mu
    return apply_robot_physics(spec, cfg.robot)  # calibrated physics; nothing when not calibrated


def compile_model(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """Compile a spec; compile errors name the model."""
    try:
        with warnings.catch_warnings():  # composed scenes: MuJoCo's empty-prefix note (dexrl.sim.scene)
            warnings.filterwarnings("ignore", message=EMPTY_PREFIX_WARNING)
            return spec.compile()
    except ValueError as err:
        raise ValueError(f"MuJoCo could not compile model '{spec.modelname}': {err}") from err


def set_cube_half_size(spec: mujoco.MjSpec, half_size: float, body: str = "cube") -> mujoco.MjSpec:
    """Scale every geom of `body` so the cube's half size becomes `half_size` (m).

    The collision box and the coloured face plates are scaled together, so the faces stay on the
    surface. Returns the same spec, edited in place.
    """
    cube = spec.body(body)
    if cube is None:
        raise ValueError(f"model has no body named '{body}' to resize")
    geoms = list(cube.geoms)
    collision = [g for g in geoms if g.contype != 0 or g.conaffinity != 0]
    if not collision:
        raise ValueError(f"body '{body}' has no collision geom to resize")
    scale = half_size / float(collision[0].size[0])
    for g in geoms:
        g.size = np.asarray(g.size) * scale
        g.pos = np.asarray(g.pos) * scale
    return spec


def apply_robot_physics(spec: mujoco.MjSpec, robot: Any) -> mujoco.MjSpec:
    """Write a robot config's calibrated physics (RobotConfig.*_scale) into `spec`, in place.

    Each factor multiplies the value the MJCF gives (defaults resolved): actuator kp (gainprm[0]
    and biasprm[1] = -kp, a position actuator stays one), actuator forcerange, joint damping,
    armature and frictionloss. Empty mappings change nothing, so the default RobotConfig compiles
    to exactly the MJCF's model. ValueError names a key that names no actuator or joint.
    """
    for key, kind in PHYSICS_SCALES.items():
        scales = getattr(robot, key, None) or {}
        for name, factor in scales.items():
            element = spec.actuator(name) if kind == "actuator" else spec.joint(name)
            if element is None:
                known = [e.name for e in (spec.actuators if kind == "actuator" else spec.joints)]
                raise ValueError(f"robot.{key} names {kind} '{name}', which the model does not have; "
                                 f"{kind}s: {', '.join(known)}")  # fmt: skip
            f = float(factor)
            if key == "actuator_gain_scale":
                element.gainprm[0] = element.gainprm[0] * f
                element.biasprm[1] = element.biasprm[1] * f
            elif key == "actuator_force_range_scale":
                element.forcerange = np.asarray(element.forcerange) * f
            elif key == "joint_damping_scale":
                element.damping[0] = element.damping[0] * f
            elif key == "joint_armature_scale":
                element.armature = element.armature * f
            else:
                element.frictionloss = element.frictionloss * f
    return spec


def _ids(model: mujoco.MjModel, kind: mujoco.mjtObj, names: list[str]) -> np.ndarray:
    out = []
    for name in names:
        idx = mujoco.mj_name2id(model, kind, name)
        if idx < 0:
            raise ValueError(f"model has no {kind.name[6:].lower()} named '{name}'")
        out.append(idx)
    return np.asarray(out, dtype=np.int64)


@dataclass(frozen=True)
class HandModelIds:
    """Indices a hand task reads every step, resolved once per model layout."""

    hand_qpos_adr: np.ndarray  # [n_hand_joints] qpos addresses of the hand's hinge joints
    hand_dof_adr: np.ndarray  # [n_hand_joints] dof addresses of the same joints
    hand_joint_names: tuple[str, ...]
    hand_bodies: np.ndarray  # the root body and its subtree
    fingertip_site: np.ndarray  # [n_tips] site ids (robot.fingertip_sites)
    palm_site: int
    touch_adr: np.ndarray  # [n_touch] sensordata addresses of the touch sensors
    cube_qpos_adr: int  # -1 when the model has no cube (7 qpos: pos, quat w x y z)
    cube_dof_adr: int  # -1 when the model has no cube (6 dofs: linear, angular)
    cube_body: int
    goal_mocap: int  # -1 when the model has no goal marker
    target_mocap: np.ndarray  # [n_tips] mocap ids of reach targets (empty when absent)

    @staticmethod
    def resolve(model: mujoco.MjModel, robot: Any) -> HandModelIds:
        """Ids of a compiled scene for a robot config (a RobotConfig)."""
        from dexrl.robots import reach_target_names

        bodies = subtree_bodies(model, robot.root_body)
        hinge = [j for j in range(model.njnt)
                 if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE and model.jnt_bodyid[j] in bodies]  # fmt: skip
        names = tuple(model.joint(j).name for j in hinge)
        cube_joint = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "cube_joint")
        sensors = _ids(model, mujoco.mjtObj.mjOBJ_SENSOR, list(robot.touch_sensors))
        goal_body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "goal")
        targets = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) for n in reach_target_names(robot)]
        return HandModelIds(
            hand_qpos_adr=model.jnt_qposadr[hinge].copy(),
            hand_dof_adr=model.jnt_dofadr[hinge].copy(),
            hand_joint_names=names,
            hand_bodies=bodies,
            fingertip_site=_ids(model, mujoco.mjtObj.mjOBJ_SITE, list(robot.fingertip_sites)),
            palm_site=int(_ids(model, mujoco.mjtObj.mjOBJ_SITE, [robot.palm_site])[0]),
            touch_adr=model.sensor_adr[sensors].copy(),
            cube_qpos_adr=int(model.jnt_qposadr[cube_joint]) if cube_joint >= 0 else -1,
            cube_dof_adr=int(model.jnt_dofadr[cube_joint]) if cube_joint >= 0 else -1,
            cube_body=int(model.jnt_bodyid[cube_joint]) if cube_joint >= 0 else -1,
            goal_mocap=int(model.body_mocapid[goal_body]) if goal_body >= 0 else -1,
            target_mocap=np.asarray(
                [model.body_mocapid[b] for b in targets if b >= 0], dtype=np.int64
            ),
        )


def subtree_bodies(model: mujoco.MjModel, root_name: str) -> np.ndarray:
    """Ids of body `root_name` (the robot's root_body) and every body below it, in id order."""
    root = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, root_name)
    if root < 0:
        raise ValueError(f"model has no body named '{root_name}' (robot.root_body, the hand's root)")
    inside = np.zeros(model.nbody, dtype=bool)
    inside[root] = True
    for b in range(root + 1, model.nbody):  # a parent's id is below its children's
        inside[b] = inside[model.body_parentid[b]]
    return np.flatnonzero(inside)


def check_scene(cfg: Any) -> None:
    """Compose and compile an env's scene (an EnvConfig) once, so that a robot or object MJCF
    that is missing, does not parse, lacks an element the robot config names, has no hinge joint
    under robot.root_body, or clashes with the object is one ValueError naming it before any
    worker starts (dexrl.frontdoor.typed_configs calls it)."""
    try:
        model = compile_model(scene_spec(cfg))
    except FileNotFoundError as err:
        raise ValueError(str(err)) from None
    robot = cfg.robot
    ids = HandModelIds.resolve(model, robot)
    if not ids.hand_joint_names:
        raise ValueError(f"robot '{robot.name}': no hinge joint under robot.root_body '{robot.root_body}' "
                         f"in {robot.mjcf}; name the body whose subtree holds the finger joints")  # fmt: skip
    for key in ("ready_pose", "grasp_pose"):
        unknown = sorted(set(getattr(robot, key)) - set(ids.hand_joint_names))
        if unknown:
            raise ValueError(f"robot.{key} names unknown joints {unknown}; the hand's joints: "
                             f"{list(ids.hand_joint_names)}")  # fmt: skip

"""Robots are data: a robot yaml names the hand's MJCF and what the tasks read from it.

`robot=<name>` reads `configs/robot/<name>.yaml`; `robot=<path>.yaml` reads any yaml file (a
user's own hand outside the checkout), whose relative `mjcf` may be given from the yaml's own
folder. The fields are those of `RobotConfig` (here; `dexrl.config` re-exports it); `check_robot` names a missing one and
how to fix it. Nothing here, nor anywhere in `dexrl/`, names a particular hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from dexrl.paths import configs_dir

# RobotConfig's calibrated physics: field -> (what it scales, by which names).
PHYSICS_SCALES = {
    "actuator_gain_scale": "actuator",
    "actuator_force_range_scale": "actuator",
    "joint_damping_scale": "joint",
    "joint_armature_scale": "joint",
    "joint_frictionloss_scale": "joint",
}


@dataclass
class RobotConfig:
    """The hand, as data: its MJCF, the sites and sensors the tasks read, where it starts and its
    calibrated physics. Each hand's values are in `configs/robot/<name>.yaml`; `robot=<name>` or
    `robot=/path/to/hand.yaml` picks one (README "Your own hand"). Library code names no hand:
    everything hand-specific is here or in the MJCF. `mjcf`, `root_body`, `fingertip_sites` and
    `palm_site` are required (dexrl.robots.check_robot names a missing one)."""

    # Name of the hand (run records, exported manifests).
    name: str = ""
    # MJCF of the hand alone (bodies, joints, actuators, sensors; no scene, no object): absolute,
    # relative to envs/, or (a yaml given by path) relative to that yaml's folder. Scenes attach it
    # to envs/common/scene.xml with the env's object (dexrl.sim.scene).
    mjcf: str = ""
    # The hand's root body: the hinge joints of its subtree are the hand's joints (MJCF order), its
    # bodies what ADR's robot parameters randomize.
    root_body: str = ""
    # Fingertip sites, in observation order: observation parts are 3 x len(fingertip_sites).
    fingertip_sites: list[str] = field(default_factory=list)
    # Touch sensors whose readings go into the privileged observation (may be empty).
    touch_sensors: list[str] = field(default_factory=list)
    # Site at the palm centre; positions in observations are relative to it, the cameras look at
    # its body, and an object counts as dropped below it (env.drop_below_palm).
    palm_site: str = ""
    # Collision geoms of the palm: env.palm_friction sets their sliding friction.
    palm_geoms: list[str] = field(default_factory=list)
    # Reach targets (env.fingertip_targets): one mocap marker per fingertip site, same order:
    # body names (default target_<site>) and start positions (world m, [x, y, z] each; default
    # the fingertips at qpos0). The reach task moves them at every goal.
    reach_targets: list[str] = field(default_factory=list)
    reach_target_pos: list[Any] = field(default_factory=list)
    # Offset (m, world axes) added to an object's position in envs/objects/*.xml, which place it
    # on a palm whose centre is near (0, 0.054, 0.211): hands whose palm is elsewhere move it.
    object_offset: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    # Calibration classes (dexrl.calibration.problem): {class: [fnmatch patterns of joint names]},
    # the first matching class wins, joints matching none are "other"; one factor per class
    # and kind is fitted. Empty: every joint is "other".
    joint_classes: dict[str, list[str]] = field(default_factory=dict)
    # Ready pose: joint name -> angle (rad); joints not named start at 0.
    ready_pose: dict[str, float] = field(default_factory=dict)
    # Uniform noise (rad) added to the start pose at reset.
    init_qpos_noise: float = 0.02
    # Grasp pose: joint name -> angle (rad), merged over the ready pose when a task starts with
    # the object in the hand (env.start_pose: grasp). In-hand rotation learns from a grasp, not
    # from an open hand: MuJoCo Playground's LEAP tasks start from a cradle, HORA (Qi et al.
    # 2022, §3.2) from a cache of stable grasps, mjlab from a grasp pose.
    grasp_pose: dict[str, float] = field(default_factory=dict)
    # Where the object starts in the grasp: offset (m, world axes) from the scene's object
    # position, so that the curled fingers and the thumb reach it.
    grasp_object_offset: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    # Calibrated physics (scripts/calibrate.py writes these, README "Calibrate to your hand"):
    # multipliers of the MJCF's own values, by actuator or joint name, applied to the model
    # before it compiles (dexrl.sim.model.apply_robot_physics). A name not listed keeps the MJCF's
    # value; all empty (the default) leaves the model exactly as the MJCF describes it. ADR's
    # robot parameters then randomize around these calibrated values.
    # Position gain kp of each actuator (gainprm[0], with biasprm[1] = -kp).
    actuator_gain_scale: dict[str, float] = field(default_factory=dict)
    # Force range of each actuator (both ends of forcerange).
    actuator_force_range_scale: dict[str, float] = field(default_factory=dict)
    # Joint damping, armature (reflected rotor inertia) and friction loss (dry friction), by joint.
    joint_damping_scale: dict[str, float] = field(default_factory=dict)
    joint_armature_scale: dict[str, float] = field(default_factory=dict)
    joint_frictionloss_scale: dict[str, float] = field(default_factory=dict)
    # Whole control steps between a command and the hand acting on it: the task executes each
    # action this many steps late (ADR's action_latency adds to it), SimHand its targets.
    action_latency_steps: int = 0


# Env configs recorded before scenes were composed named a scene file (`env.model`); each such
# scene was the default robot's hand with this object (migrate_legacy_env).
LEGACY_SCENES: dict[str, dict[str, Any]] = {
    "scenes/hand_block.xml": {"object": "block"},
    "scenes/hand_reach.xml": {"object": "none", "fingertip_targets": True},
    "scenes/hand_rubiks.xml": {"object": "rubiks_cube"},
}
FIX = 'README "Your own hand" lists every key'


def is_robot_path(choice: str) -> bool:
    """Whether a robot choice names a yaml file rather than a config in configs/robot/."""
    return choice.endswith((".yaml", ".yml")) or "/" in choice or os.sep in choice


def robot_names() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "robot").glob("*.yaml"))


def default_robot() -> str:
    """The robot configs/config.yaml selects (`robot@env.robot: <name>` in its defaults)."""
    values = OmegaConf.to_container(OmegaConf.load(configs_dir() / "config.yaml"))
    defaults = values.get("defaults", []) if isinstance(values, dict) else []
    for entry in defaults:
        for key, value in (entry.items() if isinstance(entry, dict) else ()):
            if str(key).split("@", 1)[0] == "robot":
                return str(value)
    raise ValueError(f"{configs_dir() / 'config.yaml'} selects no robot in its defaults (robot@env.robot: <name>)")


def robot_file(choice: str) -> Path:
    """The yaml file of a robot choice: a path, or configs/robot/<choice>.yaml."""
    if is_robot_path(choice):
        path = Path(choice).expanduser()
        if not path.is_file():
            raise ValueError(f"robot file {choice} not found (key: robot); give a robot yaml's path, "
                             f"or one of: {', '.join(robot_names())}")  # fmt: skip
        return path.resolve()
    path = configs_dir() / "robot" / f"{choice}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown robot '{choice}' (key: robot); choose one of: {', '.join(robot_names())}, "
                         "or give a robot yaml's path (robot=/path/to/hand.yaml)")  # fmt: skip
    return path


def robot_values(choice: str) -> dict[str, Any]:
    """The plain values of a robot choice. For a yaml given by path, a relative `mjcf` that
    exists beside the yaml becomes absolute, and `name` defaults to the file's stem."""
    path = robot_file(choice)
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    if not isinstance(values, dict):
        raise ValueError(f"robot file {path} must hold a mapping of RobotConfig keys ({FIX})")
    out: dict[str, Any] = {str(k): v for k, v in values.items()}
    if is_robot_path(choice):
        out.setdefault("name", path.stem)
        mjcf = out.get("mjcf")
        if isinstance(mjcf, str) and mjcf and not Path(mjcf).is_absolute() and (path.parent / mjcf).is_file():
            out["mjcf"] = str((path.parent / mjcf).resolve())
    return out


def migrate_legacy_env(values: dict[str, Any]) -> dict[str, Any]:
    """An env config recorded before scenes were composed (it has `model: scenes/hand_*.xml`) in
    today's keys: the scene's object, and the robot's missing keys from its robot yaml (or the
    default robot's: those scenes all included its hand). Anything else is returned as is."""
    if "model" not in values:
        return values
    out = dict(values)
    model = out.pop("model")
    if model not in LEGACY_SCENES:
        raise ValueError(f"env.model ('{model}') is no longer a key: a scene is the robot's hand (robot.mjcf) "
                         "with env.object (envs/objects/<object>.xml, a path, or none); set env.object")  # fmt: skip
    out = {**LEGACY_SCENES[model], **out}
    robot = dict(out.get("robot") or {})
    if not robot.get("mjcf"):
        name = str(robot.get("name") or "")
        base = {}
        if name and (configs_dir() / "robot" / f"{name}.yaml").is_file():
            base = robot_values(name)
        if not base.get("mjcf"):
            base = robot_values(default_robot())
        out["robot"] = {**base, **robot}
    return out


def _xyz(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == 3 and all(isinstance(x, (int, float)) for x in v)


def check_robot(robot: Any) -> None:
    """ValueError naming a missing or inconsistent robot key and how to fix it."""
    checks = [
        (robot.action_latency_steps >= 0, f"env.robot.action_latency_steps must be >= 0 (got {robot.action_latency_steps})"),
        (all(v > 0 for key in PHYSICS_SCALES for v in getattr(robot, key).values()),
         "env.robot scale factors (" + ", ".join(PHYSICS_SCALES) + ") must be > 0: "
         + "; ".join(f"{key} {dict(getattr(robot, key))}" for key in PHYSICS_SCALES
                     if any(v <= 0 for v in getattr(robot, key).values()))),
        (len(robot.grasp_object_offset) == 3, f"env.robot.grasp_object_offset must be 3 numbers (x, y, z in m; got {list(robot.grasp_object_offset)})"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
    where = f"robot '{robot.name}'" if robot.name else "the robot config"
    required = [
        ("mjcf", "the hand's MJCF file (relative to envs/ or to the robot yaml's folder, or absolute)"),
        ("root_body", "the body of the MJCF whose subtree is the hand (its hinge joints are the hand's joints)"),
        ("fingertip_sites", "the fingertip sites of the MJCF, in observation order"),
        ("palm_site", "a site at the palm centre (observations are relative to it)"),
    ]
    for key, what in required:
        if not getattr(robot, key):
            raise ValueError(f"{where} has no {key} (key: env.robot.{key}): set it to {what}; {FIX}")
    n = len(robot.fingertip_sites)
    if robot.reach_targets and len(robot.reach_targets) != n:
        raise ValueError(f"{where}: robot.reach_targets names {len(robot.reach_targets)} bodies for {n} "
                         "fingertip_sites; give one per fingertip (same order) or leave it out")  # fmt: skip
    if robot.reach_target_pos and (len(robot.reach_target_pos) != n or not all(_xyz(p) for p in robot.reach_target_pos)):
        raise ValueError(f"{where}: robot.reach_target_pos must be {n} positions [x, y, z] (one per fingertip) "
                         f"or left out (got {list(robot.reach_target_pos)})")  # fmt: skip
    if not _xyz(list(robot.object_offset)):
        raise ValueError(f"{where}: robot.object_offset must be 3 numbers (x, y, z in m; got {list(robot.object_offset)})")


def reach_target_names(robot: Any) -> list[str]:
    """Mocap body names of the reach targets: robot.reach_targets, or target_<site>."""
    return list(robot.reach_targets) or [f"target_{s}" for s in robot.fingertip_sites]

"""Scenes are composed in Python: scene settings + the robot's hand + the env's object.

    compose_scene(env) = envs/common/scene.xml   (options, lights, floor, cameras)
                       + robot.mjcf              (the hand, as its file places it)
                       + envs/objects/<object>.xml, moved by robot.object_offset (or nothing)
                       + one mocap target per fingertip when env.fingertip_targets (reach)

Each part is its own `mujoco.MjSpec`, attached with `MjSpec.attach` into a frame of the world
body (MuJoCo's model-composition API). Each part keeps its own compiler settings (angle units,
mesh folders) and every name as its file gives it (empty prefix), so robot yamls and env configs
name joints, sites and geoms exactly as the MJCF does; a name used by two parts is a compile error
that names it. The cameras of the scene settings look at the body of the robot's palm site.
`robot=` therefore picks the geometry, and `env.object` the object (README "Your own hand").
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from dexrl.paths import envs_dir, model_path
from dexrl.robots import reach_target_names

SCENE_SETTINGS = "common/scene.xml"
TARGET_RGB = ((0.9, 0.2, 0.2), (0.2, 0.9, 0.2), (0.2, 0.2, 0.9), (0.9, 0.9, 0.2), (0.9, 0.2, 0.9), (0.2, 0.9, 0.9))
TARGET_RADIUS = 0.008  # m: the reach targets' marker spheres (visual only)
# MuJoCo warns that a spec attached with an empty prefix may not save to XML exactly; composed
# scenes are compiled, never saved, so that one warning is dropped (quiet_empty_prefix).
EMPTY_PREFIX_WARNING = "Attaching a spec with an empty prefix"
warnings.filterwarnings("ignore", message=EMPTY_PREFIX_WARNING, category=UserWarning)  # at every compile


@contextlib.contextmanager
def quiet_empty_prefix() -> Iterator[None]:
    """Drop MuJoCo's empty-prefix warning (printed and appended to MUJOCO_LOG.TXT at attach, a
    UserWarning at compile); any other MuJoCo warning is passed on (as a UserWarning). It swaps
    MuJoCo's process-wide warning handler around compose_scene's attach calls; compiles are quieted
    by warning filters (this module's, and dexrl.sim.model.compile_model's)."""
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if message.startswith(EMPTY_PREFIX_WARNING):
            return
        if previous is not None:
            previous(message)
        else:
            warnings.warn(f"MuJoCo: {message}", stacklevel=2)

    mujoco.set_mju_user_warning(handler)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=EMPTY_PREFIX_WARNING)
            yield
    finally:
        mujoco.set_mju_user_warning(previous)


def parse_mjcf(path: Path, what: str) -> mujoco.MjSpec:
    try:
        return mujoco.MjSpec.from_file(str(path))
    except ValueError as err:  # mujoco reports XML and include errors as ValueError
        raise ValueError(f"cannot parse {what} {path}: {err}") from err


def object_path(name: str) -> Path | None:
    """The MJCF of env.object: envs/objects/<name>.xml, a path, or None for 'none'."""
    if name in ("", "none"):
        return None
    if name.endswith(".xml") or "/" in name:
        return model_path(name)
    path = envs_dir() / "objects" / f"{name}.xml"
    if not path.is_file():
        known = sorted(p.stem for p in (envs_dir() / "objects").glob("*.xml"))
        raise FileNotFoundError(f"env.object '{name}': no {path}; objects: {', '.join(known)}, none, "
                                "or the path of an object MJCF")  # fmt: skip
    return path


def describe_scene(cfg: Any) -> str:
    """One line naming a scene's parts, e.g. 'robot <name> (hands/<name>.xml) + object block'."""
    extra = " + fingertip targets" if cfg.fingertip_targets else ""
    return f"robot {cfg.robot.name} ({cfg.robot.mjcf}) + object {cfg.object or 'none'}{extra}"


def _names(elements: Any) -> str:
    return ", ".join(e.name for e in elements if e.name) or "(none named)"


def load_hand_spec(robot: Any) -> mujoco.MjSpec:
    """The robot's MJCF as a spec, checked for every element the robot config names (a missing
    one is a ValueError naming the key, the file and the names it does have)."""
    try:
        path = model_path(robot.mjcf)
    except FileNotFoundError:
        hands = ", ".join(sorted(p.name for p in (envs_dir() / "hands").glob("*.xml")))
        raise FileNotFoundError(f"robot '{robot.name}': its MJCF (robot.mjcf: {robot.mjcf}) is not a file; give it "
                                f"absolute, relative to {envs_dir()} (hands there: {hands}), or, for "
                                "robot=/path/to/hand.yaml, relative to that yaml's folder") from None  # fmt: skip
    hand = parse_mjcf(path, f"robot '{robot.name}' MJCF (robot.mjcf)")
    where = f"robot '{robot.name}': {path}"
    if hand.body(robot.root_body) is None:
        raise ValueError(f"{where} has no body '{robot.root_body}' (robot.root_body); bodies: "
                         f"{_names(hand.bodies)}. Name the body whose subtree is the hand")  # fmt: skip
    for key in ("fingertip_sites", "palm_site"):
        for site in [getattr(robot, key)] if key == "palm_site" else getattr(robot, key):
            if hand.site(site) is None:
                raise ValueError(f"{where} has no site '{site}' (robot.{key}); sites: {_names(hand.sites)}. "
                                 f"Add <site name=\"{site}\"/> to the MJCF or fix the name in the robot yaml")  # fmt: skip
    for sensor in robot.touch_sensors:
        if hand.sensor(sensor) is None:
            raise ValueError(f"{where} has no sensor '{sensor}' (robot.touch_sensors); sensors: "
                             f"{_names(hand.sensors)}. Add <touch name=\"{sensor}\" site=\"...\"/> or drop it")  # fmt: skip
    for geom in robot.palm_geoms:
        if hand.geom(geom) is None:
            raise ValueError(f"{where} has no geom '{geom}' (robot.palm_geoms); named geoms: {_names(hand.geoms)}")
    if not hand.actuators:
        raise ValueError(f"{where} has no actuators: add a position actuator per driven joint "
                         "(<actuator><position joint=... ctrlrange=.../></actuator>)")  # fmt: skip
    return hand


def compose_scene(cfg: Any) -> mujoco.MjSpec:
    """The spec of an env's scene (an EnvConfig): scene settings + hand + object (+ targets)."""
    robot = cfg.robot
    spec = parse_mjcf(envs_dir() / SCENE_SETTINGS, "the scene settings")
    hand = load_hand_spec(robot)
    palm_body = hand.site(robot.palm_site).parent.name
    for camera in spec.cameras:  # the settings' cameras look at the palm
        camera.targetbody = palm_body
    obj = object_path(cfg.object)
    spec.modelname = f"{robot.name or 'hand'}_{Path(obj).stem if obj else 'alone'}"
    with quiet_empty_prefix():
        spec.attach(hand, prefix="", frame=spec.worldbody.add_frame())
        if obj is not None:
            frame = spec.worldbody.add_frame()
            if any(robot.object_offset):
                frame.pos = np.asarray(robot.object_offset, dtype=np.float64)
            spec.attach(parse_mjcf(obj, "object MJCF (env.object)"), prefix="", frame=frame)
    if cfg.fingertip_targets:
        add_fingertip_targets(spec, robot)
    return spec


def add_fingertip_targets(spec: mujoco.MjSpec, robot: Any) -> None:
    """One mocap sphere (no collision) per fingertip site, named by robot.reach_targets (default
    target_<site>), starting at robot.reach_target_pos or, when not given, at the fingertips of
    the hand at qpos0."""
    names = reach_target_names(robot)
    if robot.reach_target_pos:
        starts = np.asarray(robot.reach_target_pos, dtype=np.float64)
    else:
        with quiet_empty_prefix():
            model = spec.compile()
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        starts = np.array([data.site(s).xpos for s in robot.fingertip_sites])
    for k, (name, pos) in enumerate(zip(names, starts, strict=True)):
        body = spec.worldbody.add_body(name=name, mocap=True, pos=pos)
        rgb = TARGET_RGB[k % len(TARGET_RGB)]
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[TARGET_RADIUS, 0, 0], contype=0, conaffinity=0,
                      rgba=[*rgb, 0.5])  # fmt: skip

"""The env config: one task on one scene, and the task's own settings inside it.

`EnvConfig` holds what every task shares: the simulation (timestep, substeps), the robot and the
object, the action processing, the observation noise, the episode limits and the reward terms of
the base task (`dexrl.tasks.base`). Its `settings` is the task's own typed dataclass, a
`TaskSettings` subclass that the task declares (`HandTask.settings_type`) and validates
(`TaskSettings.validate`), listed with the task in `dexrl.tasks.registry`.

Outside Python the keys are flat: in `configs/env/*.yaml`, on the command line
(`env.reach_target_range=0.3`, `env.scramble=...`) and in a checkpoint's record
(`env_config_to_dict`). `env_config_from_dict` sends each key to the shared fields or to the
task's settings, and names a key that is neither (or that belongs to another task).

`configs/env/<name>.yaml` starts with a defaults list naming `_base` (`configs/env/_base.yaml`:
the values the envs share), so an env's yaml holds only what differs; `load_env_config` reads
that list as Hydra does.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.paths import configs_dir
from dexrl.robots import RobotConfig
from dexrl.structured import check_all, format_error, integral_floats, structured


@dataclass
class TaskSettings:
    """Base of a task's own settings (flat `env.<key>` keys beside the shared ones). A task module
    subclasses it as a dataclass with defaults, one commented field per key, and checks in
    `validate` what a type alone cannot, naming the key (`env.<key> must be ...`)."""

    def validate(self) -> None:
        """Raise ValueError naming `env.<key>` for a value out of range."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickled as its class's module and name and its values: a Ray worker receiving the env
        config of a task defined outside dexrl imports the task's module (env.task_module) to
        unpickle it, and says what to do when it cannot. A class without an importable name (one
        defined in a function or in `__main__`) pickles the default way (cloudpickle sends it by
        value)."""
        cls = type(self)
        if "<locals>" in cls.__qualname__ or cls.__module__ == "__main__":
            return object.__reduce_ex__(self, protocol)
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} if dataclasses.is_dataclass(self) else {}
        values.update(getattr(self, "__dict__", {}))  # slots=True dataclasses have none
        return (_unpickle_settings, (cls.__module__, cls.__qualname__, values))


_NOT_IMPORTABLE = ("it defines the settings of a task (its env yaml's task_module): a task's module must be "
                   "importable by the trainer and by every rollout worker: put its folder on PYTHONPATH (on "
                   "every machine of a cluster) or install it as a package")  # fmt: skip


def _unpickle_settings(module: str, qualname: str, values: dict[str, Any]) -> TaskSettings:
    try:
        found: Any = importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"cannot import '{module}' in this process ({err}); {_NOT_IMPORTABLE}",
                                  name=err.name) from None  # fmt: skip
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
    except AttributeError:
        raise AttributeError(f"'{module}' has no '{qualname}' in this process; {_NOT_IMPORTABLE}") from None
    settings: TaskSettings = found.__new__(found)
    for key, value in values.items():
        object.__setattr__(settings, key, value)
    return settings

@dataclass
class EnvConfig:
    """One task on one scene: the fields every task shares, and the task's own `settings`.
    `configs/env/<name>.yaml` holds the values of each env (over `configs/env/_base.yaml`)."""

    # Registered name of the environment (the yaml file's stem).
    name: str = "cube_rotate"
    # Which task runs: a name in the task table (dexrl.tasks.registry.task_names()).
    task: str = "cube_rotate"
    # The module that registers env.task when the task is defined outside dexrl (e.g.
    # "mylab.spin_task", holding a `register_task("spin", ...)` call): imported before the task
    # is looked up, so it must be importable by the trainer and every rollout worker (PYTHONPATH
    # or an installed package). None: a task of dexrl/tasks/.
    task_module: str | None = None
    # The object in the hand: envs/objects/<object>.xml, a path to an MJCF file, or "none". The
    # scene is the robot's hand + this object, composed with MjSpec (dexrl.sim.scene).
    object: str = "block"
    # Add one mocap target marker per fingertip (the reach task's goals; robot.reach_targets).
    fingertip_targets: bool = False
    # Physics timestep (s). 4 ms with the implicitfast integrator is stable for this hand.
    timestep: float = 0.004
    # Physics steps per control step: 20 x 4 ms = 80 ms, the 12.5 Hz control of [D].
    substeps: int = 20
    # Hard cap on episode length in control steps (truncation).
    max_episode_steps: int = 400
    # Steps allowed without a success before the episode times out ([D]: 8 s = 100 steps).
    timeout_steps: int = 100
    # Success tolerance: rotation distance (rad) for cube tasks, per-fingertip distance (m) for reach.
    success_tolerance: float = 0.4
    # The episode ends after this many successes ([D]: 50).
    max_successes: int = 50
    # Reward on each success ([D]: +5).
    success_bonus: float = 5.0
    # Reward on a drop ([D]: -20).
    drop_penalty: float = -20.0
    # Weight of the dense term (decrease of distance to goal, [D]).
    distance_reward_scale: float = 1.0
    # Per-step penalty on the squared action (0 = off).
    action_penalty: float = 0.0
    # Named reward terms beyond [D]'s three that every task has (each logged per episode as
    # reward/<term>; 0 = off); a task's own terms are in its settings (e.g. cube_rotate's
    # rotation_speed_weight).
    # action_rate: penalty weight on the squared change of the action between steps (Playground).
    action_rate_penalty: float = 0.0
    # hand_pose: penalty weight on the squared distance (rad²) of the hand joints from the start
    #   pose · control dt (HORA, mjlab, Playground "pose"): keeps the gait near a grasp.
    hand_pose_penalty: float = 0.0
    # Sliding friction of named geoms, set on the scene before it compiles: {geom name: μ}. MuJoCo
    # takes the larger of two geoms' frictions for a contact, so a low-friction palm needs a
    # low-friction object too (the fingers keep theirs). MuJoCo Playground's LEAP cube tasks use
    # palm 0.2, cube 0.3, fingertips 0.7.
    geom_friction: dict[str, float] = field(default_factory=dict)
    # Sliding friction of the robot's palm geoms (robot.palm_geoms), written before
    # geom_friction; 0 keeps the MJCF's.
    palm_friction: float = 0.0
    # How episodes start: "ready" (the robot's ready pose; the object where the scene puts it) or
    # "grasp" (the robot's grasp pose over the ready pose, the object at grasp_object_offset).
    start_pose: str = "ready"
    # Physics steps run at reset with the targets holding the start pose, so the object settles
    # into the hand before the first observation (0 = none).
    settle_steps: int = 0
    # Relative joint-target step per control step, as a fraction of each actuator's half range.
    action_scale: float = 0.1
    # Exponential moving average of actions: a_s = ema * a + (1 - ema) * a_s ([D]: 0.3).
    action_ema: float = 0.3
    # "relative": actions are EMA-smoothed target steps ([D]); "absolute": actions map the
    # actuator range and the targets follow them through the EMA (as the GPU peers do).
    action_mode: str = "relative"
    # Discount of this task (its time scale: [D]'s 0.998 suits 1600-step cube episodes; 50-step
    # reach episodes want a shorter horizon). algo.gamma, when set, overrides it.
    gamma: float = 0.998
    # Observation noise (std) added to policy observations: per episode (correlated) and per step.
    obs_noise_correlated: float = 0.0
    obs_noise_uncorrelated: float = 0.0
    # ADR thresholds of this task, successes per episode (dexrl.adr.randomizer.config_for_task):
    # a boundary widens at a mean >= high and narrows at <= low; adr.threshold_* override them.
    adr_threshold_low: float = 10.0  # [R] Table 15
    adr_threshold_high: float = 20.0  # [R] Table 15
    # The hand.
    robot: RobotConfig = field(default_factory=RobotConfig)
    # The task's own settings (its TaskSettings subclass); left out, the task's defaults.
    settings: TaskSettings = field(default_factory=TaskSettings)

    def __post_init__(self) -> None:
        if type(self.settings) is TaskSettings and (self.task_module or self.task in _task_names()):
            self.settings = _settings_class(self.task, self.task_module)()

    def with_values(self, **changes: Any) -> EnvConfig:
        """A copy with flat keys changed, each where it belongs (a shared field or the task's
        settings): `cfg.with_values(scramble=FAIR_SCRAMBLE, timeout_steps=12)`."""
        own = {f.name for f in dataclasses.fields(self.settings)}
        unknown = sorted(set(changes) - own - shared_keys())
        if unknown:
            raise ValueError(_unknown_key_message(unknown[0], self.task))
        settings = dataclasses.replace(self.settings, **{k: v for k, v in changes.items() if k in own})
        settings.validate()
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if k not in own}, settings=settings)


def shared_keys() -> frozenset[str]:
    """The flat keys of the shared fields (every task's)."""
    return frozenset(f.name for f in dataclasses.fields(EnvConfig)) - {"settings"}


def _task_names() -> tuple[str, ...]:
    from dexrl.tasks.registry import task_names

    return task_names()


def _settings_class(task: str, module: str | None = None) -> type[TaskSettings]:
    from dexrl.tasks.registry import task_spec

    return task_spec(task, module).settings


def _unknown_key_message(key: str, task: str, source: str = "env") -> str:
    from dexrl.tasks.registry import tasks_with_setting

    owners = tasks_with_setting(key)
    if owners:
        return (f"invalid config in {source} (key: env.{key}): '{key}' is a setting of task "
                f"{', '.join(owners)}, not of task '{task}' (env.task)")  # fmt: skip
    return f"invalid config in {source} (key: env.{key}): no such key, shared or of task '{task}'"


# ---------------------------------------------------------------------------- plain values


def env_config_to_dict(cfg: EnvConfig) -> dict[str, Any]:
    """The flat plain values of `cfg` (shared fields and the task's settings side by side): what a
    yaml, a command line and a checkpoint's record hold; `env_config_from_dict` reads them back."""
    out = dataclasses.asdict(cfg)
    settings = out.pop("settings")
    return {**out, **settings}


def env_config_from_dict(values: Mapping[str, Any], source: str = "<dict>") -> EnvConfig:
    """Build and validate an EnvConfig from flat plain values (a Hydra node as a dict, a yaml, a
    record): each key goes to the shared fields or to the task's settings; another task's key
    is named as such. Older records are read too: one recorded before scenes were composed
    (`model: scenes/...`, dexrl.robots.migrate_legacy_env) and a whole version-1 record (it has
    every task's keys, upgrade_env_record); `dexrl.run_record.read_run_record` converts records
    by their version."""
    from dexrl.robots import migrate_legacy_env
    from dexrl.tasks.registry import task_spec

    values = migrate_legacy_env(dict(values))
    if _V1_TASK_FIELDS <= values.keys():  # a whole version-1 record (every task's keys): convert it
        values = upgrade_env_record(values, 1)
    if "settings" in values:
        raise ValueError(f"invalid config in {source} (key: env.settings): the task's settings are "
                         "flat keys of env (e.g. env.reach_target_range), not a node")  # fmt: skip
    task = values.get("task", EnvConfig.task)
    module = values.get("task_module")  # a task from outside dexrl: its module registers it
    spec = task_spec(str(task), str(module) if module else None)  # an unknown task: one line listing the tasks
    own = {f.name for f in dataclasses.fields(spec.settings)}
    foreign = sorted(k for k in values if k not in own and k not in shared_keys() and _owned_elsewhere(k))
    if foreign:
        raise ValueError(_unknown_key_message(foreign[0], spec.name, source))
    shared = {k: v for k, v in values.items() if k not in own}
    try:
        merged = OmegaConf.merge(OmegaConf.structured(EnvConfig), OmegaConf.create(integral_floats(EnvConfig, shared)))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(format_error(source, err)) from err
    assert isinstance(cfg, EnvConfig)
    cfg.settings = structured(spec.settings, {k: v for k, v in values.items() if k in own}, source)
    validate_env_config(cfg)
    return cfg


def _owned_elsewhere(key: str) -> bool:
    from dexrl.tasks.registry import tasks_with_setting

    return bool(tasks_with_setting(key))


def validate_env_config(cfg: EnvConfig) -> None:
    """Check values that a type alone cannot; raise ValueError naming the key. The task's own
    settings check themselves (TaskSettings.validate)."""
    from dexrl.robots import check_robot
    from dexrl.tasks.registry import task_spec

    spec = task_spec(cfg.task, cfg.task_module)
    check_all([
        (cfg.timestep > 0, f"env.timestep must be > 0 (got {cfg.timestep})"),
        (cfg.substeps >= 1, f"env.substeps must be >= 1 (got {cfg.substeps})"),
        (cfg.max_episode_steps >= 1, f"env.max_episode_steps must be >= 1 (got {cfg.max_episode_steps})"),
        (cfg.timeout_steps >= 1, f"env.timeout_steps must be >= 1 (got {cfg.timeout_steps})"),
        (cfg.success_tolerance > 0, f"env.success_tolerance must be > 0 (got {cfg.success_tolerance})"),
        (cfg.max_successes >= 1, f"env.max_successes must be >= 1 (got {cfg.max_successes})"),
        (0 < cfg.action_ema <= 1, f"env.action_ema must be in (0, 1] (got {cfg.action_ema})"),
        (cfg.action_scale > 0, f"env.action_scale must be > 0 (got {cfg.action_scale})"),
        (cfg.start_pose in ("ready", "grasp"), f"env.start_pose must be 'ready' or 'grasp' (got '{cfg.start_pose}')"),
        (cfg.settle_steps >= 0, f"env.settle_steps must be >= 0 (got {cfg.settle_steps})"),
        (min(cfg.action_rate_penalty, cfg.hand_pose_penalty) >= 0,
         "env.action_rate_penalty and env.hand_pose_penalty must be >= 0: a penalty's weight is subtracted"),
        (all(v > 0 for v in cfg.geom_friction.values()), f"env.geom_friction values must be > 0 (got {dict(cfg.geom_friction)})"),
        (cfg.palm_friction >= 0, f"env.palm_friction must be >= 0 (0 keeps the MJCF's; got {cfg.palm_friction})"),
        (cfg.action_mode in ("relative", "absolute"), f"env.action_mode must be 'relative' or 'absolute' (got '{cfg.action_mode}')"),
        (0 <= cfg.gamma < 1, f"env.gamma must be in [0, 1) (got {cfg.gamma})"),
        (cfg.obs_noise_correlated >= 0 and cfg.obs_noise_uncorrelated >= 0, "env.obs_noise_* must be >= 0"),
        (0 <= cfg.adr_threshold_low < cfg.adr_threshold_high, f"env.adr_threshold_low must be >= 0 and below env.adr_threshold_high (got {cfg.adr_threshold_low}, {cfg.adr_threshold_high})"),
        (isinstance(cfg.settings, spec.settings),
         f"env.settings of task '{cfg.task}' must be its {spec.settings.__name__} (got {type(cfg.settings).__name__})"),
    ])  # fmt: skip
    cfg.settings.validate()
    check_robot(cfg.robot)


# ---------------------------------------------------------------------------- env yamls


def known_env_names() -> list[str]:
    """Stems of `configs/env/*.yaml`, less the bases their defaults lists name (`_base`)."""
    return sorted(p.stem for p in (configs_dir() / "env").glob("*.yaml") if not p.stem.startswith("_"))


def env_yaml_values(name: str) -> dict[str, Any]:
    """The plain values of `configs/env/<name>.yaml` with its defaults list applied as Hydra
    applies it (each named env config of the group first, then the file's own keys, or where
    `_self_` stands)."""
    path = configs_dir() / "env" / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown env '{name}'. Known envs: {', '.join(known_env_names())} "
                         f"(files in {configs_dir() / 'env'})")  # fmt: skip
    node = OmegaConf.to_container(OmegaConf.load(path))
    if not isinstance(node, dict):
        raise ValueError(f"{path} must hold a mapping of env keys")
    own = {str(k): v for k, v in node.items() if k != "defaults"}
    defaults = list(node.get("defaults") or [])
    if "_self_" not in defaults:
        defaults.append("_self_")
    parts: list[Any] = []
    for entry in defaults:
        if entry == "_self_":
            parts.append(own)
        elif isinstance(entry, str) and "/" not in entry and "=" not in entry:
            parts.append(env_yaml_values(entry))
        else:
            raise ValueError(f"{path}: defaults entry {entry!r} is not supported; name env configs of "
                             "configs/env/ (e.g. - _base) and _self_")  # fmt: skip
    values = OmegaConf.to_container(OmegaConf.merge(*[OmegaConf.create(p) for p in parts]), resolve=True)
    assert isinstance(values, dict)
    return {str(k): v for k, v in values.items()}


def load_env_config(name: str, overrides: dict[str, Any] | None = None, robot: str | None = None) -> EnvConfig:
    """Load `configs/env/<name>.yaml` merged with a robot and overrides (flat keys, shared or the
    task's). `robot`: a name in configs/robot/ or a robot yaml's path (dexrl.robots); None: the
    one configs/config.yaml picks. `overrides["robot"]` may be such a choice too
    (`gym.make("dexrl/Reach-v0", robot="leap")`), or a mapping of robot keys to change."""
    from dexrl.robots import default_robot, robot_values

    path = configs_dir() / "env" / f"{name}.yaml"
    values = env_yaml_values(name)
    overrides = dict(overrides or {})
    if isinstance(overrides.get("robot"), str):
        robot = overrides.pop("robot")
    robot_node = robot_values(robot or default_robot())
    # The robot node is merged key by key (as Hydra merges): robot yaml < env yaml < overrides,
    # so `{"robot": {"init_qpos_noise": 0.0}}` keeps the ready pose and everything else.
    try:
        merged = OmegaConf.merge(
            OmegaConf.create(robot_node),
            OmegaConf.create(values.get("robot") or {}),
            OmegaConf.create(overrides.pop("robot", None) or {}),
        )
    except OmegaConfBaseException as err:
        raise ValueError(format_error(f"{path} (robot)", err)) from err
    plain = {**values, **overrides, "robot": OmegaConf.to_container(merged, resolve=True)}
    return env_config_from_dict(plain, source=str(path))


# ---------------------------------------------------------------------------- recorded configs

# The form of a recorded env config (a checkpoint's meta["config"]["env"], dexrl.run_record):
# 1 (no "env_version" in the record): one flat union of every task's fields, used or not, from
#   before tasks declared their own settings; possibly a scene file (`model`) instead of an object.
# 2: the shared fields and the task's own settings, flat (env_config_to_dict).
ENV_CONFIG_VERSION = 2
# Version 1's fields that belonged to one task or another: a record of version 1 holds them all.
_V1_TASK_FIELDS = frozenset({
    "rotation_speed_weight", "rotation_speed_clip", "object_linvel_penalty", "drop_below_palm",
    "tip_reward_weight", "tip_reward_scale", "goal", "reach_target_range", "face_tolerance",
    "rotate_probability", "rebind_up_cos", "scramble_moves", "scramble", "plan_budget_s",
    "plan_max_calls", "plan_clock", "plan_flip_cost", "plan_rotate_cost",
})  # fmt: skip


def upgrade_env_record(values: Mapping[str, Any], version: Any) -> dict[str, Any]:
    """A recorded env config of `version` in today's form (ENV_CONFIG_VERSION). Version 1: the
    fields of tasks other than the record's own are dropped (they did nothing) and a scene file
    becomes its object. ValueError, in one line, for a version this dexrl cannot read."""
    from dexrl.robots import migrate_legacy_env
    from dexrl.tasks.registry import task_spec

    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= ENV_CONFIG_VERSION:
        raise ValueError(f"the recorded env config has version {version!r}, which this dexrl cannot read "
                         f"(it reads versions 1 to {ENV_CONFIG_VERSION}): open it with the dexrl version "
                         "that wrote it, or a newer one")  # fmt: skip
    out = dict(values)
    if version == 1:
        out = migrate_legacy_env(out)
        spec = task_spec(str(out.get("task", EnvConfig.task)))
        own = {f.name for f in dataclasses.fields(spec.settings)}
        out = {k: v for k, v in out.items() if k not in _V1_TASK_FIELDS or k in own}
    return out

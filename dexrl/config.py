"""Structured configs (dataclasses) for dexrl.

Hydra composes `configs/*.yaml`; the scripts turn the result into these dataclasses with
`OmegaConf.structured` + `merge`, so an unknown or mistyped key fails with its name before any
simulation, Ray or torch work starts. Library code takes these typed objects, never a DictConfig.
Algorithm configs live beside their code (`dexrl.rl.config`, `dexrl.adr.config`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.paths import configs_dir

TASKS = ("reach", "cube_rotate_z", "cube_rotate", "face_turn", "cube_solve")


class ConfigError(ValueError):
    """A bad command line, config value or checkpoint: one line naming the key and what is allowed.

    Library code raises it too (e.g. a batch that does not fit the workers); `dexrl.frontdoor`'s
    `exit_on_error` turns it into one line on stderr and exit status 2."""


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
    # Calibration classes (dexrl.calibration.fit): {class: [fnmatch patterns of joint names]},
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


@dataclass
class EnvConfig:
    """One task on one scene. `configs/env/<name>.yaml` holds the values of each task."""

    # Registered name of the environment (the yaml file's stem).
    name: str = "cube_rotate"
    # Which task class runs: one of TASKS.
    task: str = "cube_rotate"
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
    # Named reward terms beyond [D]'s three (each logged per episode as reward/<term>; 0 = off).
    # rotation_speed: weight of clip(ω·n, ±rotation_speed_clip) · control dt, the object's angular
    #   velocity about the axis that turns it toward the goal (HORA §3.3 and mjlab's LEAP task
    #   reward a clipped rotation rate): pays for turning steadily, not for flinging.
    rotation_speed_weight: float = 0.0
    rotation_speed_clip: float = 1.0  # rad/s
    # object_linvel: penalty weight on the object's squared linear velocity (m²/s²) · control dt
    #   (HORA, mjlab: a cube that slides or bounces is about to be dropped).
    object_linvel_penalty: float = 0.0
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
    # The cube counts as dropped when its centre is this far below the palm centre (m).
    drop_below_palm: float = 0.04
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
    # Reach: weight of the per-fingertip kernel reward, mean over tips of exp(-error / scale),
    # paid every step so that each fingertip's last centimetre pays (0 = off).
    tip_reward_weight: float = 0.0
    tip_reward_scale: float = 0.01
    # Goal distribution for cube tasks: "so3" (uniform orientation) or "z" (yaw only).
    goal: str = "so3"
    # Reach: targets are fingertip positions of a random pose within this fraction of the ranges.
    reach_target_range: float = 0.5
    # Observation noise (std) added to policy observations: per episode (correlated) and per step.
    obs_noise_correlated: float = 0.0
    obs_noise_uncorrelated: float = 0.0
    # Rubik's cube tasks (face_turn, cube_solve): faces count as aligned within this (rad) [R].
    face_tolerance: float = 0.1
    # face_turn: when aligned, the goal is a top-face rotation with this probability, else a flip [R].
    rotate_probability: float = 0.5
    # Re-bind the hinge to the face pointing up when its axis is within acos(this) of vertical.
    rebind_up_cos: float = 0.8
    # cube_solve: random moves in a scramble, or a fixed scramble in standard notation.
    scramble_moves: int = 25
    scramble: str = ""
    # cube_solve: seconds to search for a cheaper subgoal plan at reset (0: Kociemba's first
    # solution); plan cost = flips * plan_flip_cost + quarter turns * plan_rotate_cost;
    # plan_max_calls > 0: that many Kociemba calls and no more (the same plan on every run);
    # plan_clock: what plan_budget_s counts, "wall" or "cpu" seconds (Linux).
    plan_budget_s: float = 0.0
    plan_max_calls: int = 0
    plan_clock: str = "wall"
    plan_flip_cost: float = 2.0
    plan_rotate_cost: float = 1.0
    # ADR thresholds of this task, successes per episode (dexrl.adr.randomizer.config_for_task):
    # a boundary widens at a mean >= high and narrows at <= low; adr.threshold_* override them.
    adr_threshold_low: float = 10.0  # [R] Table 15
    adr_threshold_high: float = 20.0  # [R] Table 15
    # The hand.
    robot: RobotConfig = field(default_factory=RobotConfig)


def _format_error(source: str, err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None) or getattr(err, "key", None)
    # A node merged on its own (`train`) reports keys relative to it: name them in full.
    if key and source.isidentifier() and not str(key).startswith(source + "."):
        key = f"{source}.{key}"
    where = f" (key: {key})" if key else ""
    msg = str(err.msg if hasattr(err, "msg") else err).strip().splitlines()
    return f"invalid config in {source}{where}: {msg[0] if msg else type(err).__name__}"


def integral_floats(cls: type, values: Any) -> Any:
    """`values` with a whole float given to an int field of dataclass `cls` made an int, so
    `train.total_env_steps=1e6` (YAML and Hydra read 1e6 as a float) means 1000000; 1.5e3 for
    an int field still fails with the key's name."""
    if not isinstance(values, dict):
        return values
    ints = {f.name for f in dataclasses.fields(cls) if f.type in (int, "int")}
    return {k: int(v) if k in ints and isinstance(v, float) and v.is_integer() else v
            for k, v in values.items()}


def env_config_from_dict(values: dict[str, Any], source: str = "<dict>") -> EnvConfig:
    """Build and validate an EnvConfig from plain values (e.g. a Hydra node as a dict). A config
    recorded before scenes were composed (`model: scenes/...`) is read in today's keys first
    (dexrl.robots.migrate_legacy_env)."""
    from dexrl.robots import migrate_legacy_env

    schema = OmegaConf.structured(EnvConfig)
    try:
        values = migrate_legacy_env(dict(values))
        merged = OmegaConf.merge(schema, OmegaConf.create(integral_floats(EnvConfig, values)))
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(_format_error(source, err)) from err
    assert isinstance(cfg, EnvConfig)
    validate_env_config(cfg)
    return cfg


def known_env_names() -> list[str]:
    """Stems of `configs/env/*.yaml`."""
    return sorted(p.stem for p in (configs_dir() / "env").glob("*.yaml"))


def load_env_config(name: str, overrides: dict[str, Any] | None = None, robot: str | None = None) -> EnvConfig:
    """Load `configs/env/<name>.yaml` merged with a robot and overrides. `robot`: a name in
    configs/robot/ or a robot yaml's path (dexrl.robots); None: the one configs/config.yaml picks.
    `overrides["robot"]` may be such a choice too (`gym.make("dexrl/Reach-v0", robot="leap")`),
    or a mapping of robot keys to change."""
    from dexrl.robots import default_robot, robot_values

    path = configs_dir() / "env" / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(
            f"unknown env '{name}'. Known envs: {', '.join(known_env_names())} "
            f"(files in {configs_dir() / 'env'})"
        )
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(values, dict)
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
        raise ValueError(_format_error(f"{path} (robot)", err)) from err
    plain: dict[str, Any] = {str(k): v for k, v in values.items()}
    plain = {**plain, **overrides, "robot": OmegaConf.to_container(merged, resolve=True)}
    return env_config_from_dict(plain, source=str(path))


def validate_env_config(cfg: EnvConfig) -> None:
    """Check values that a type alone cannot; raise ValueError naming the key."""
    checks: list[tuple[bool, str]] = [
        (cfg.task in TASKS, f"env.task='{cfg.task}' is not a task; choose one of {', '.join(TASKS)}"),
        (cfg.timestep > 0, f"env.timestep must be > 0 (got {cfg.timestep})"),
        (cfg.substeps >= 1, f"env.substeps must be >= 1 (got {cfg.substeps})"),
        (cfg.max_episode_steps >= 1, f"env.max_episode_steps must be >= 1 (got {cfg.max_episode_steps})"),
        (cfg.timeout_steps >= 1, f"env.timeout_steps must be >= 1 (got {cfg.timeout_steps})"),
        (cfg.success_tolerance > 0, f"env.success_tolerance must be > 0 (got {cfg.success_tolerance})"),
        (cfg.max_successes >= 1, f"env.max_successes must be >= 1 (got {cfg.max_successes})"),
        (0 < cfg.action_ema <= 1, f"env.action_ema must be in (0, 1] (got {cfg.action_ema})"),
        (cfg.action_scale > 0, f"env.action_scale must be > 0 (got {cfg.action_scale})"),
        (cfg.goal in ("so3", "z"), f"env.goal must be 'so3' or 'z' (got '{cfg.goal}')"),
        (cfg.start_pose in ("ready", "grasp"), f"env.start_pose must be 'ready' or 'grasp' (got '{cfg.start_pose}')"),
        (cfg.settle_steps >= 0, f"env.settle_steps must be >= 0 (got {cfg.settle_steps})"),
        (min(cfg.rotation_speed_weight, cfg.object_linvel_penalty, cfg.action_rate_penalty, cfg.hand_pose_penalty) >= 0,
         "env.rotation_speed_weight and the penalties (object_linvel, action_rate, hand_pose) must be >= 0: a penalty's weight is subtracted"),
        (all(v > 0 for v in cfg.geom_friction.values()), f"env.geom_friction values must be > 0 (got {dict(cfg.geom_friction)})"),
        (cfg.rotation_speed_clip > 0, f"env.rotation_speed_clip must be > 0 (got {cfg.rotation_speed_clip})"),
        (cfg.palm_friction >= 0, f"env.palm_friction must be >= 0 (0 keeps the MJCF's; got {cfg.palm_friction})"),
        (cfg.action_mode in ("relative", "absolute"), f"env.action_mode must be 'relative' or 'absolute' (got '{cfg.action_mode}')"),
        (0 <= cfg.gamma < 1, f"env.gamma must be in [0, 1) (got {cfg.gamma})"),
        (cfg.tip_reward_weight >= 0 and cfg.tip_reward_scale > 0, f"env.tip_reward_weight must be >= 0 and env.tip_reward_scale > 0 (got {cfg.tip_reward_weight}, {cfg.tip_reward_scale})"),
        (0 < cfg.reach_target_range <= 1, f"env.reach_target_range must be in (0, 1] (got {cfg.reach_target_range})"),
        (cfg.obs_noise_correlated >= 0 and cfg.obs_noise_uncorrelated >= 0, "env.obs_noise_* must be >= 0"),
        (cfg.face_tolerance > 0, f"env.face_tolerance must be > 0 (got {cfg.face_tolerance})"),
        (0 <= cfg.rotate_probability <= 1, f"env.rotate_probability must be in [0, 1] (got {cfg.rotate_probability})"),
        (cfg.scramble_moves >= 0, f"env.scramble_moves must be >= 0 (got {cfg.scramble_moves})"),
        (cfg.plan_budget_s >= 0, f"env.plan_budget_s must be >= 0 (got {cfg.plan_budget_s})"),
        (cfg.plan_max_calls >= 0, f"env.plan_max_calls must be >= 0 (got {cfg.plan_max_calls})"),
        (cfg.plan_clock in ("wall", "cpu"), f"env.plan_clock must be 'wall' or 'cpu' (got '{cfg.plan_clock}')"),
        (cfg.plan_flip_cost > 0 and cfg.plan_rotate_cost > 0, "env.plan_flip_cost and env.plan_rotate_cost must be > 0"),
        (0 <= cfg.adr_threshold_low < cfg.adr_threshold_high, f"env.adr_threshold_low must be >= 0 and below env.adr_threshold_high (got {cfg.adr_threshold_low}, {cfg.adr_threshold_high})"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
    from dexrl.robots import check_robot

    check_robot(cfg.robot)


def config_path(group: str, name: str) -> Path:
    """Path of `configs/<group>/<name>.yaml`, with a clear error listing the choices."""
    path = configs_dir() / group / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in (configs_dir() / group).glob("*.yaml"))
        raise ValueError(f"unknown {group} config '{name}'. Choices: {', '.join(choices)}")
    return path


@dataclass
class RayConfig:
    """Where the rollout workers run."""

    # None/"local": start a local Ray in this process; "auto": join the running cluster.
    address: str | None = None
    # CPUs for a local Ray (None = all of this machine's cores).
    num_cpus: int | None = None
    # Joining a cluster that does not answer within this many seconds stops with one line.
    connect_timeout_s: float = 30.0


@dataclass
class WandbConfig:
    # "offline" (default: no account needed; `wandb sync` later), "online", or "disabled".
    mode: str = "offline"
    project: str = "dexrl"
    entity: str | None = None


@dataclass
class LoggerConfig:
    wandb: WandbConfig = field(default_factory=WandbConfig)
    # Show a progress bar on the terminal.
    progress_bar: bool = True
    # Print one line of metrics every N iterations.
    print_every: int = 1


@dataclass
class TrainConfig:
    """The training run (configs/config.yaml `train:` node)."""

    # Stop after this many environment steps (samples).
    total_env_steps: int = 2_000_000
    # Rollout workers: "auto" = one per CPU Ray sees (at least 1), or a number.
    num_workers: Any = "auto"
    # Envs stepped together by each worker.
    envs_per_worker: int = 64
    # Steps per env per rollout (T). Samples per iteration = workers x envs x horizon.
    horizon: int = 64
    # Learner device: "auto" (cuda when available), "cpu", "cuda".
    device: str = "auto"
    # Collect the next rollout with the previous weights while the learner trains (1-step lag).
    policy_lag: bool = False
    # CPU threads of the learner: "auto" = every core while the workers wait (synchronous), the
    # cores the local workers leave free with policy_lag (at least 1), or a number.
    learner_threads: Any = "auto"
    # Save a checkpoint every N iterations (and at the end, and on Ctrl-C).
    checkpoint_every: int = 20
    # Stop early once the mean consecutive successes of finished episodes reaches this (None = off).
    stop_at_successes: float | None = None
    # Stop after this many seconds of wall time (None = off).
    max_wall_s: float | None = None
    # Render one short episode of the current policy every N iterations, in a Ray actor of its
    # own (videos/iter_<k>.mp4 in the run dir, and wandb); 0 = off (dexrl.distributed.video).
    video_every: int = 0


def validate_train_config(cfg: TrainConfig) -> None:
    nw = cfg.num_workers
    if not (nw == "auto" or (isinstance(nw, int) and nw >= 1)):
        raise ValueError(f"train.num_workers must be 'auto' or an integer >= 1 (got {nw!r})")
    lt = cfg.learner_threads
    if not (lt == "auto" or (isinstance(lt, int) and not isinstance(lt, bool) and lt >= 1)):
        raise ValueError(f"train.learner_threads must be 'auto' or an integer >= 1 (got {lt!r})")
    for key in ("total_env_steps", "envs_per_worker", "horizon", "checkpoint_every"):
        if getattr(cfg, key) < 1:
            raise ValueError(f"train.{key} must be >= 1 (got {getattr(cfg, key)})")
    if cfg.device not in ("auto", "cpu", "cuda") and not cfg.device.startswith("cuda:"):
        raise ValueError(f"train.device must be 'auto', 'cpu' or 'cuda[:K]' (got '{cfg.device}')")
    if cfg.video_every < 0:
        raise ValueError(f"train.video_every must be >= 0 (0 = no videos; got {cfg.video_every})")


def structured(cls: type, values: Any, source: str) -> Any:
    """Merge plain values into dataclass `cls`; unknown keys and bad types name the key."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(cls), OmegaConf.create(integral_floats(cls, values or {})))
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(_format_error(source, err)) from err


def load_group(group: str, name: str) -> dict[str, Any]:
    """The plain values of `configs/<group>/<name>.yaml` (for library users and benchmarks that
    want the same defaults as scripts/train.py)."""
    values = OmegaConf.to_container(OmegaConf.load(config_path(group, name)), resolve=True)
    assert isinstance(values, dict)
    return values  # type: ignore[return-value]


def default_train_config(**overrides: Any) -> TrainConfig:
    """The `train:` node of configs/config.yaml (what scripts/train.py uses), with overrides."""
    base = OmegaConf.load(config_path("", "config"))
    assert isinstance(base, DictConfig)
    values = OmegaConf.to_container(base["train"], resolve=True)
    assert isinstance(values, dict)
    cfg: TrainConfig = structured(TrainConfig, {**values, **overrides}, "train")
    validate_train_config(cfg)
    return cfg


def default_algo_configs(model: str = "mlp") -> tuple[Any, Any]:
    """(PPOConfig, ModelConfig) from configs/algo/ppo.yaml and configs/model/<model>.yaml."""
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict

    ppo = load_group("algo", "ppo")
    ppo.pop("name", None)
    return config_from_dict(PPOConfig, ppo), config_from_dict(ModelConfig, load_group("model", model))

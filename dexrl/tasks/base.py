"""The batched hand task: set-up, reset, stepping, rewards, terminations, auto-reset.

One `HandTask` steps K envs; each task module (reach, cube_rotate, ...) supplies the goal, the
distance to it, the observations and its reset. Section order follows MuJoCo Playground's task
modules: init → reset → step → reward terms; the observations (named parts, each with its
real-hand source) are in `dexrl.tasks.observations`, the action processing (latency, action
noise, the EMA onto joint targets) in `dexrl.tasks.actions`; `HandTask` mixes in both.

Conventions (docs/architecture.md; [D]'s values: docs/references.md "Block reorientation task"):
- actions in [-1, 1] are *relative* joint-target steps, smoothed by an exponential moving average
  (0.3 per step [D]) and scaled by `action_scale` × each actuator's half range (or, with
  `action_mode: absolute`, targets over the actuator range followed through the EMA); the
  targets and the EMA state are part of the policy observation (`policy_obs_parts`);
- a new goal is never already met where it is drawn (no free successes);
- reward = the sum of named, weighted terms (`reward_terms`): distance_reward_scale · (d_t − d_{t+1}),
  success_bonus per success, drop_penalty, the optional action / action-rate / hand-pose
  penalties and the task's own terms; each is summed per episode (reward/<term> in the metrics);
- `terminated` = a real end (drop, diverged physics); `truncated` = time limit, success-free
  timeout or the success cap — the learner bootstraps on truncation, not on termination.
- env i of a batch seeded with `seed` draws from `default_rng(seed + i)`, so it matches a single
  env seeded with `seed + i` step for step.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import mujoco
import numpy as np

from dexrl.config import EnvConfig
from dexrl.env_config import TaskSettings
from dexrl.obs_parts import ObsPart as ObsPart  # re-exported: tasks and dexrl.adr import it here
from dexrl.sim.batch import BatchedSim
from dexrl.sim.model import HandModelIds, compile_model, scene_spec
from dexrl.tasks.actions import ACTION_MODES as ACTION_MODES  # re-exported: its old home
from dexrl.tasks.actions import TaskActions
from dexrl.tasks.observations import TaskObservations

# MuJoCo silently resets MjData on a bad acceleration, position or velocity (mj_checkAcc/Pos/Vel).
_WARN = mujoco.mjtWarning
_DIVERGED = np.array([int(_WARN.mjWARN_BADQACC), int(_WARN.mjWARN_BADQPOS), int(_WARN.mjWARN_BADQVEL)])


@dataclass
class StepResult:
    """What `HandTask.step` returns; all arrays have leading dimension K."""

    obs: np.ndarray  # [K, Do] policy observation (after auto-reset where an episode ended)
    critic_obs: np.ndarray  # [K, Dc] privileged observation (after auto-reset)
    reward: np.ndarray  # [K]
    terminated: np.ndarray  # [K] bool: drop or diverged physics (no bootstrap)
    truncated: np.ndarray  # [K] bool: time limit, timeout or success cap (bootstrap)
    info: dict[str, np.ndarray] = field(default_factory=dict)


class HandTask(TaskActions, TaskObservations):
    """Base of all hand tasks. Subclasses implement the `_task_*` methods (observations:
    `dexrl.tasks.observations`; action processing: `dexrl.tasks.actions`), declare their
    settings dataclass (`settings_type`) and register with `dexrl.tasks.registry.register_task`.

    `settings`: the task's own settings; by default `cfg.settings` (the env config's), or given
    here (then `self.cfg` carries them)."""

    # The task's own settings (flat env.<key> keys beside EnvConfig's shared ones).
    settings_type: ClassVar[type[TaskSettings]] = TaskSettings
    settings: TaskSettings
    # What the task offers besides the HandTask interface (read by ADR, the viewer, evaluate):
    # the scene's Rubik's cube with a hinged face whose friction and detent ADR may randomize
    # (`set_face_friction`, `set_face_detent`, `cube_ids`).
    has_face_hinge: ClassVar[bool] = False
    # Env keys an evaluation (scripts/evaluate.py) sets unless its command line sets them: the
    # conditions the task's results are reported under (cube_solve: [R]'s fair scramble).
    evaluation_values: ClassVar[dict[str, Any]] = {}

    def __init__(self, cfg: EnvConfig, num_envs: int = 1, seed: int = 0, autoreset: bool = True,
                 settings: TaskSettings | None = None) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1 (got {num_envs})")
        if settings is not None:
            settings.validate()
            cfg = dataclasses.replace(cfg, settings=settings)
        if not isinstance(cfg.settings, self.settings_type):
            raise ValueError(f"task '{cfg.task}' ({type(self).__name__}) takes {self.settings_type.__name__} "
                             f"settings, not {type(cfg.settings).__name__}")  # fmt: skip
        self.cfg = cfg
        self.settings = cfg.settings
        self.num_envs = num_envs
        # Batched (worker) use resets finished envs inside step(); the gymnasium wrapper does not.
        self.autoreset = autoreset
        # The scene at env.timestep, env.geom_friction, the robot's calibrated physics.
        self.spec = scene_spec(cfg)
        self.base_model = compile_model(self.spec)
        self._control_dt = float(self.base_model.opt.timestep * cfg.substeps)  # see control_dt
        # Every env owns its MjModel: ADR writes fields per env (docs/architecture.md §2).
        self.sim = BatchedSim([copy.deepcopy(self.base_model) for _ in range(num_envs)], cfg.substeps)
        r = cfg.robot
        self.ids = HandModelIds.resolve(self.base_model, r)
        self.action_dim = self.base_model.nu
        self.ctrl_low = self.base_model.actuator_ctrlrange[:, 0].copy()
        self.ctrl_high = self.base_model.actuator_ctrlrange[:, 1].copy()
        self._ready_qpos = self._make_ready_qpos()
        self.rngs = [np.random.default_rng(seed + i) for i in range(num_envs)]
        K, A = num_envs, self.action_dim
        self.targets = np.zeros((K, A))
        self.smoothed_action = np.zeros((K, A))
        self.last_action = np.zeros((K, A))
        self.previous_action = np.zeros((K, A))  # the action before last_action (action rate)
        self.step_count = np.zeros(K, dtype=np.int64)
        self.steps_since_success = np.zeros(K, dtype=np.int64)
        self.consecutive_successes = np.zeros(K, dtype=np.int64)
        self.episode_return = np.zeros(K)
        # Per-episode sums of each named reward term (weighted): reward/<term> in the metrics.
        self.episode_reward_terms: dict[str, np.ndarray] = {}
        self.distance = np.zeros(K)
        # Snapshot of the simulator state read by observations and rewards, gathered once per
        # step in one pass over the envs (numpy then works on [K, ...] arrays).
        m0 = self.base_model
        self.qpos = np.zeros((K, m0.nq))
        self.qvel = np.zeros((K, m0.nv))
        self._site_ids = np.concatenate([[self.ids.palm_site], self.ids.fingertip_site])
        self.site_pos = np.zeros((K, len(self._site_ids), 3))
        self.touch = np.zeros((K, len(self.ids.touch_adr)))
        self.diverged = np.zeros(K, dtype=bool)  # MuJoCo auto-reset a blown-up state (BADQACC)
        self._warnings = np.zeros((K, len(self.sim.views[0].warnings)), dtype=np.int64)
        self.refresh()
        self._task_init()
        self._check_obs_parts()
        self.obs_dim = self._policy_obs_clean().shape[1]
        self.obs_noise_corr = np.zeros((K, self.obs_dim))
        # Per-env noise and delay that domain randomization sets at reset (dexrl.adr.apply); the
        # env config's noise is the floor, so without randomization nothing changes.
        self.obs_noise_corr_std = np.full((K, self.obs_dim), cfg.obs_noise_correlated)
        self.obs_noise_uncorr_std = np.full((K, self.obs_dim), cfg.obs_noise_uncorrelated)
        self.action_noise_std = np.zeros(K)  # std of noise on the executed action ([-1, 1] units)
        # Control steps until an action acts: the robot's calibrated latency (ADR adds to it).
        self.action_delay = np.full(K, cfg.robot.action_latency_steps, dtype=np.int64)
        self._action_queue = np.zeros((K, 1, A))  # [K, max delay + 1, A] recent actions, newest first
        # reset_hooks(i) run first in reset_env(i), while env i's ended episode (counters, state
        # snapshot) is still readable; pre_physics_hooks() run every control step before physics.
        self.reset_hooks: list[Callable[[int], None]] = []
        self.pre_physics_hooks: list[Callable[[], None]] = []
        self.critic_obs_dim = self.critic_obs().shape[1]

    def refresh(self, env_ids: Any = None) -> None:
        """Copy the simulator state of the given envs (default all) into the snapshot arrays."""
        ids = range(self.num_envs) if env_ids is None else np.atleast_1d(env_ids)
        views, sites, touch = self.sim.views, self._site_ids, self.ids.touch_adr
        for i in ids:
            v = views[i]
            self.qpos[i] = v.qpos
            self.qvel[i] = v.qvel
            self.site_pos[i] = v.site_xpos[sites]
            self.touch[i] = v.sensordata[touch]
            self._warnings[i] = v.warnings
        rows = slice(None) if env_ids is None else ids
        self.diverged[rows] = self._warnings[rows][:, _DIVERGED].any(axis=1)

    # ----------------------------------------------------------------- set-up helpers
    def _make_ready_qpos(self) -> np.ndarray:
        """The start pose: the ready pose, with the grasp pose over it when env.start_pose is
        'grasp'; clipped to the joint ranges."""
        names = self.ids.hand_joint_names
        r = self.cfg.robot
        for key, pose in (("ready_pose", r.ready_pose), ("grasp_pose", r.grasp_pose)):
            unknown = sorted(set(pose) - set(names))
            if unknown:
                raise ValueError(f"robot.{key} names unknown joints {unknown}; joints: {list(names)}")
        if self.cfg.start_pose == "grasp" and not r.grasp_pose:
            raise ValueError(f"env.start_pose=grasp but robot '{r.name}' has no grasp_pose; "
                             "add one to its robot yaml or use env.start_pose=ready")
        pose = {**r.ready_pose, **(r.grasp_pose if self.cfg.start_pose == "grasp" else {})}
        q = np.array([pose.get(n, 0.0) for n in names])
        lo = self.base_model.jnt_range[[self.base_model.joint(n).id for n in names], 0]
        hi = self.base_model.jnt_range[[self.base_model.joint(n).id for n in names], 1]
        return np.clip(q, lo, hi)

    def _ctrl_for_qpos(self, i: int) -> np.ndarray:
        """Actuator targets that hold env i's current hand pose (joint or tendon length)."""
        d = self.sim.datas[i]
        return np.clip(d.actuator_length.copy(), self.ctrl_low, self.ctrl_high)

    # ----------------------------------------------------------------- reset
    def reset(self) -> tuple[np.ndarray, np.ndarray]:
        """Reset every env; returns (obs [K, Do], critic_obs [K, Dc])."""
        for i in range(self.num_envs):
            self.reset_env(i)
        return self.observations()

    def reseed(self, i: int, seed: int) -> None:
        self.rngs[i] = np.random.default_rng(seed)

    def reset_env(self, i: int) -> None:
        """Put env i in its initial state: ready pose + noise, task objects, new goal."""
        for hook in self.reset_hooks:  # may give env i a new model (ADR): read models after it
            hook(i)
        m, d, rng = self.sim.models[i], self.sim.datas[i], self.rngs[i]
        mujoco.mj_resetData(m, d)
        noise = self.cfg.robot.init_qpos_noise
        d.qpos[self.ids.hand_qpos_adr] = self._ready_qpos + rng.uniform(-noise, noise, len(self._ready_qpos))
        mujoco.mj_forward(m, d)
        self.targets[i] = self._ctrl_for_qpos(i)  # actuator lengths depend on the hand pose only
        self._task_reset(i, rng)
        mujoco.mj_forward(m, d)
        if self.cfg.settle_steps:
            # The episode starts from where the hand settled: targets = the actuators' positions
            # now, as the deploy loop starts a real hand (dexrl.deploy.loop.ControlLoop.reset).
            self.targets[i] = self._ctrl_for_qpos(i)
        self.refresh(i)
        self.smoothed_action[i] = 0.0
        self.last_action[i] = 0.0
        self.previous_action[i] = 0.0
        self._action_queue[i] = 0.0
        self.step_count[i] = 0
        self.steps_since_success[i] = 0
        self.consecutive_successes[i] = 0
        self.episode_return[i] = 0.0
        for sums in self.episode_reward_terms.values():
            sums[i] = 0.0
        self.obs_noise_corr[i] = rng.normal(0.0, self.obs_noise_corr_std[i])
        self.distance[i] = self._task_distance()[i]

    def settle(self, i: int) -> None:
        """Run env.settle_steps physics steps of env i with the targets holding the start pose,
        so an object placed in the hand comes to rest before the episode starts (a task calls
        it from `_task_reset`, after placing the object and before drawing the goal). The
        episode's targets are then where the actuators settled (`reset_env`)."""
        if not self.cfg.settle_steps:
            return
        m, d = self.sim.models[i], self.sim.datas[i]
        d.ctrl[:] = self.targets[i]
        mujoco.mj_step(m, d, self.cfg.settle_steps)
        d.time = 0.0

    # ----------------------------------------------------------------- step
    def physics_step(self) -> None:
        """One control period of physics toward the current targets, the snapshot refreshed, then
        the task's own bookkeeping (`_task_after_physics`; SimHand runs this for a deployed policy)."""
        self.sim.step(self.targets)
        self.refresh()
        self._task_after_physics()

    def _env_normals(self, envs: np.ndarray, size: int) -> np.ndarray:
        """[len(envs), size] standard normals, row k from env envs[k]'s own generator."""
        z = np.empty((len(envs), size))
        for k, i in enumerate(envs):
            self.rngs[i].standard_normal(out=z[k])  # the stream of rng.normal(0, 1, size), cheaper
        return z

    def judge(self, distance: np.ndarray | None = None,
              healthy: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """[K] success and [K] dropped for the current state, by the task's rules (what `step`
        pays for; SimHand referees a deployed policy with it). distance/healthy: already computed."""
        healthy = self.healthy() if healthy is None else healthy
        distance = self._task_distance() if distance is None else distance
        # A dropped object ends the episode even where it happens to match the goal: no success.
        dropped = self._task_dropped() & healthy
        return self._task_success(distance) & healthy & ~dropped, dropped

    def advance_goal(self, i: int) -> None:
        """Env i's next goal, drawn as after a success (cube_solve: the plan's next subgoal), but
        not counted as one: the viewer's "next goal" key, SimHand after a refereed success."""
        self._task_on_success(i, self.rngs[i])
        self.distance = self._task_distance()
        self.steps_since_success[i] = 0

    def step(self, actions: Any) -> StepResult:
        """Advance all envs one control step; envs whose episode ended are reset (auto-reset)."""
        a = self.check_actions(actions)
        self.apply_actions(a)
        healthy = self.healthy()
        new_distance = self._task_distance()
        success, dropped = self.judge(new_distance, healthy)
        terms = self.reward_terms(a, new_distance, success, dropped)
        reward = np.where(healthy, sum(terms.values()), 0.0)
        for name, value in terms.items():
            sums = self.episode_reward_terms.setdefault(name, np.zeros(self.num_envs))
            sums += np.where(healthy, value, 0.0)
        self.consecutive_successes += success
        self.steps_since_success = np.where(success, 0, self.steps_since_success + 1)
        self.step_count += 1
        for i in np.flatnonzero(success).tolist():
            self._task_on_success(i, self.rngs[i])
        # A success draws a new goal; otherwise nothing moved since new_distance was measured.
        self.distance = self._task_distance() if success.any() else new_distance
        self.episode_return += reward
        terminated = dropped | ~healthy
        truncated = ~terminated & (
            (self.step_count >= self.cfg.max_episode_steps)
            | (self.steps_since_success >= self.cfg.timeout_steps)
            | (self.consecutive_successes >= self.cfg.max_successes)
        )
        info = {
            "is_success": success,
            "dropped": dropped,
            "unhealthy": ~healthy,
            "consecutive_successes": self.consecutive_successes.copy(),
        }
        obs, critic = self.observations()
        done = terminated | truncated
        if done.any() and self.autoreset:
            info.update(self._auto_reset(done, obs, critic))
            obs, critic = self.observations()
        return StepResult(obs, critic, reward, terminated, truncated, info)

    def reward_terms(self, a: np.ndarray, new_distance: np.ndarray, success: np.ndarray,
                     dropped: np.ndarray) -> dict[str, np.ndarray]:
        """This step's named, weighted reward terms ([K] each; the reward is their sum).

        [D]'s three always: distance (decrease of the distance to the goal), success (bonus per
        success), drop (penalty); the optional ones only where their weight is not 0: action
        (squared action), action_rate (squared change of the action), and the task's own
        (`_task_reward_terms`). Each is logged per episode as reward/<name>."""
        cfg = self.cfg
        terms = {
            "distance": cfg.distance_reward_scale * (self.distance - new_distance),
            "success": cfg.success_bonus * success,
            "drop": cfg.drop_penalty * dropped,
        }
        if cfg.action_penalty:
            terms["action"] = -cfg.action_penalty * np.sum(a**2, axis=1)
        if cfg.action_rate_penalty:
            terms["action_rate"] = -cfg.action_rate_penalty * np.sum((a - self.previous_action) ** 2, axis=1)
        if cfg.hand_pose_penalty:
            error = np.sum((self.hand_qpos() - self._ready_qpos) ** 2, axis=1)
            terms["hand_pose"] = -cfg.hand_pose_penalty * error * self.control_dt
        terms.update(self._task_reward_terms())
        return terms

    @property
    def control_dt(self) -> float:
        """Seconds per control step (timestep × substeps of the calibrated model)."""
        return self._control_dt  # ADR never writes the calibrated model, only each env's copy

    def _auto_reset(self, done: np.ndarray, obs: np.ndarray, critic: np.ndarray) -> dict[str, np.ndarray]:
        """Reset finished envs; keep their final observations and episode statistics."""
        info = {
            "final_obs": obs.copy(),
            "final_critic_obs": critic.copy(),
            "episode_done": done.copy(),
            "episode_return": np.where(done, self.episode_return, 0.0),
            "episode_length": np.where(done, self.step_count, 0),
            "episode_successes": np.where(done, self.consecutive_successes, 0),
            **{f"reward/{name}": np.where(done, sums, 0.0) for name, sums in self.episode_reward_terms.items()},
        }
        for i in np.flatnonzero(done).tolist():
            self.sim.clear_warnings(i)
            self.reset_env(i)
        return info

    def healthy(self) -> np.ndarray:
        """[K] bool from the snapshot: state finite and not silently reset by MuJoCo. An
        unhealthy episode is ended (terminated) and flagged so its data stays from the learner."""
        return ~self.diverged & np.isfinite(self.qpos).all(axis=1) & np.isfinite(self.qvel).all(axis=1)

    # ----------------------------------------------------------------- task interface
    def _task_init(self) -> None:
        """Allocate per-env goal state."""

    def _task_reset(self, i: int, rng: np.random.Generator) -> None:
        """Place task objects and draw a goal for env i (qpos may be written)."""
        raise NotImplementedError

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        """Draw the next goal after a success."""
        raise NotImplementedError

    def _task_distance(self) -> np.ndarray:
        """[K] distance to the goal (rad for cube tasks, m for reach)."""
        raise NotImplementedError

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        """[K] bool: goal reached (default: distance below the tolerance)."""
        return distance < self.cfg.success_tolerance

    def _task_reward_terms(self) -> dict[str, np.ndarray]:
        """{name: [K] weighted value} of the task's own reward terms, after the step (default none)."""
        return {}

    def _task_after_physics(self) -> None:
        """After each control period's physics (the Rubik's cube commits turns and re-binds)."""

    def _task_dropped(self) -> np.ndarray:
        """[K] bool: the object fell."""
        return np.zeros(self.num_envs, dtype=bool)

    # ----------------------------------------------------------------- what a viewer shows
    def goal_orientation(self, i: int) -> np.ndarray | None:
        """Env i's goal orientation (w, x, y, z) when the goal is one (a viewer draws a ghost
        object there), else None."""
        return None

    def goal_lines(self, i: int) -> list[str]:
        """A few words on env i's goal for an on-screen overlay (how far it is, which subgoal)."""
        return [f"goal: distance {float(self.distance[i]):.3g}"]

"""Identify the hand's physical parameters from recordings with `mujoco.sysid`.

The model: the env's scene (the hand alone, e.g. env=reach) compiled from MjSpec with the robot
config's physics; each candidate parameter vector edits that spec (sysid model modifiers) and is
compiled, then `mujoco.rollout` replays every recording from its first measured state with the
recorded targets as a zero-order hold at the physics timestep, delayed by the latency. The
residual is measured minus simulated joint positions at the recorded times (rad, every joint
alike, scaled by one number: the joints' typical spread), and MuJoCo's least-squares optimizer
(`mujoco.minimize` through `mujoco.sysid.optimize`, columns scaled by the Jacobian) fits:

- one factor per joint class and kind: kp and force range of the class's actuators, damping,
  armature and friction loss of its joints (the classes share a motor and transmission type, so
  one factor each keeps the fit well-posed; the classes are the robot's `joint_classes`);
- force range only where the recordings drive the class's actuators to their limit: a class is
  fitted when, replayed with the starting physics and half its force limit, its actuators are at
  the limit in at least `min_saturated` of the physics steps, and its fit is kept only when the
  fitted hand is at its limit that often too (otherwise the recordings bound it from below only)
  and it keeps its value;
- the latency, first by a scan over whole and half control steps at the starting physics, then
  as a continuous delay (fractional shift of the targets) fitted jointly with the physics, then
  by a small discrete search (training delays actions by whole control steps): the whole-step
  latencies either side of the continuous one are scored with the fitted physics, and the best
  (and the other too when it scores within `RIVAL_RATIO` of the best) gets the physics refitted
  (unless the continuous latency is within `SAME_LATENCY` of it: then its physics are the
  continuous fit's); the latency whose refitted error is least wins.

A factor whose 95% confidence interval (sysid's calculate_intervals) is wider than
`max_interval` is reported as not identifiable and kept at 1.
"""

from __future__ import annotations

import fnmatch
import importlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np

from dexrl.deploy.recording import Recording
from dexrl.sim.model import HandModelIds, compile_model, scene_spec
from dexrl.sim.scene import describe_scene

# sysid parameter kind -> (RobotConfig field, what it scales)
KINDS: dict[str, tuple[str, str]] = {
    "kp": ("actuator_gain_scale", "actuator"),
    "forcerange": ("actuator_force_range_scale", "actuator"),
    "damping": ("joint_damping_scale", "joint"),
    "armature": ("joint_armature_scale", "joint"),
    "frictionloss": ("joint_frictionloss_scale", "joint"),
}
OTHER = "other"  # the class of joints that match none of robot.joint_classes
FACTOR_BOUNDS = (0.2, 5.0)


class CalibrationError(ValueError):
    """Recordings that do not fit the model, or a calibration that cannot run (one line)."""


def load_sysid() -> Any:
    """`mujoco.sysid` with its extras (scipy, plotly, ...), or CalibrationError saying how to get
    them. (Imported by name: mypy then keeps treating the untyped `mujoco` package as Any.)"""
    sysid = importlib.import_module("mujoco.sysid")
    if not hasattr(sysid, "optimize"):  # mujoco.sysid hides itself when its extras are missing
        raise CalibrationError("calibration needs MuJoCo's system identification extras: "
                               "pip install 'dexrl[calibrate]' (or pip install 'mujoco[sysid]')")  # fmt: skip
    return sysid


def joint_class(name: str, classes: Mapping[str, Sequence[str]]) -> str:
    """The calibration class of joint `name` by the robot's `joint_classes` ({class: [fnmatch
    patterns]}, robot yaml): the first class with a matching pattern, else "other"."""
    for cls, patterns in classes.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return str(cls)
    return OTHER


@dataclass
class CalibrationResult:
    """What the calibration found; `factors[kind][class]` multiply the starting robot's values."""

    factors: dict[str, dict[str, float]]
    fitted: dict[str, dict[str, bool]]  # False: kept at 1 (see `notes`)
    intervals: dict[str, dict[str, float]]  # 95% half-width of each fitted factor
    latency_steps: int
    latency_continuous: float  # control steps, the continuous fit before the discrete search
    latency_costs: dict[int, float]  # the discrete search: whole steps -> cost
    start_latency_steps: int
    rms_before: float  # rad, all joints and rows, the starting robot
    rms_after: float  # rad, the calibrated robot
    rms_before_by_joint: dict[str, float]
    rms_after_by_joint: dict[str, float]
    classes: dict[str, list[str]]  # class -> its joints
    actuator_classes: dict[str, str]
    wall_s: float
    evaluations: int  # rollouts of one recording
    notes: list[str] = field(default_factory=list)
    # For the report and plot: the sysid objects of the final fit.
    sysid: dict[str, Any] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (calibration.json)."""
        return {
            "factors": self.factors, "fitted": self.fitted, "intervals_95": self.intervals,
            "latency_steps": self.latency_steps, "latency_continuous_steps": self.latency_continuous,
            "latency_costs": {str(k): v for k, v in self.latency_costs.items()},
            "start_latency_steps": self.start_latency_steps,
            "rms_before_rad": self.rms_before, "rms_after_rad": self.rms_after,
            "rms_ratio": self.rms_after / self.rms_before if self.rms_before > 0 else None,
            "rms_before_by_joint_rad": self.rms_before_by_joint,
            "rms_after_by_joint_rad": self.rms_after_by_joint,
            "classes": self.classes, "actuator_classes": self.actuator_classes,
            "wall_s": self.wall_s, "rollouts": self.evaluations, "notes": self.notes,
        }  # fmt: skip


# ------------------------------------------------------------------------------- checks


def hand_layout(env: Any) -> tuple[mujoco.MjSpec, mujoco.MjModel, list[str], list[str]]:
    """(spec, model, hand joint names, actuator names) of env's scene with its robot."""
    spec = scene_spec(env)
    model = compile_model(spec)
    r = env.robot
    ids = HandModelIds.resolve(model, r)
    return spec, model, list(ids.hand_joint_names), [model.actuator(a).name for a in range(model.nu)]


def _check_names(where: str, kind: str, recorded: Any, model: Any, model_note: str, need: str) -> None:
    """CalibrationError when a recording names a `kind` (joint / actuator) the model lacks, or
    lacks one the model has."""
    unknown = [n for n in recorded if n not in model]
    if unknown:
        raise CalibrationError(f"{where}: {kind}(s) {unknown} are not {kind}s of the model{' ' + model_note if model_note else ''}; "
                               f"its {kind}s: {', '.join(model)}")  # fmt: skip
    missing = [n for n in model if n not in recorded]
    if missing:
        raise CalibrationError(f"{where}: {kind}(s) {missing} of the model are missing from the recording "
                               f"(every hand {kind} {need})")  # fmt: skip


def check_against_model(recordings: Sequence[Recording], env: Any, model: mujoco.MjModel,
                        joints: list[str], actuators: list[str]) -> None:  # fmt: skip
    """CalibrationError naming the first recording that does not fit env's model and robot."""
    free = [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    if free:
        raise CalibrationError(f"env {env.name}'s scene ({describe_scene(env)}) has a free object ({', '.join(free)}); "
                               "calibrate with a scene of the hand alone (env=reach) and recordings without an object")  # fmt: skip
    period = env.timestep * env.substeps
    for rec in recordings:
        where = rec.path or "recording"
        if rec.hand != env.robot.name:
            raise CalibrationError(f"{where}: recorded on hand '{rec.hand}', but robot {env.robot.name!r} is "
                                   f"being calibrated (robot=<the hand's robot config>)")  # fmt: skip
        _check_names(where, "joint", rec.joint_names, joints, f"({env.robot.mjcf})", "must be measured")
        _check_names(where, "actuator", rec.actuator_names, actuators, "", "needs recorded targets")
        if abs(rec.control_period_s - period) > 1e-6 * period:
            raise CalibrationError(f"{where}: control_period_s {rec.control_period_s} differs from env "
                                   f"{env.name}'s {period} (env.timestep x env.substeps): the latency "
                                   "would be counted in other control steps")  # fmt: skip
        if rec.rows < 10:
            raise CalibrationError(f"{where}: {rec.rows} rows; a calibration needs at least 10 control steps")


# ------------------------------------------------------------------------------- the problem


def _transmission(model: mujoco.MjModel, joints: list[str]) -> np.ndarray:
    """[nu, J]: actuator length = gear * sum(coef * joint) over `joints` (hinges)."""
    index = {n: j for j, n in enumerate(joints)}
    t = np.zeros((model.nu, len(joints)))
    for a in range(model.nu):
        target = int(model.actuator_trnid[a, 0])
        gear = float(model.actuator_gear[a, 0])
        if model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT:
            t[a, index[model.joint(target).name]] += gear
        elif model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_TENDON:
            for w in range(model.tendon_adr[target], model.tendon_adr[target] + model.tendon_num[target]):
                t[a, index[model.joint(int(model.wrap_objid[w])).name]] += gear * float(model.wrap_prm[w])
    return t


class Problem:
    """The sysid problem of one calibration: spec, parameters, recordings, residual."""

    def __init__(self, env: Any, recordings: Sequence[Recording], threads: int | None = None) -> None:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)  # sysid's info tables and sensor warnings
        self.sysid = load_sysid()
        self.env = env
        self.spec, self.model, self.joints, self.actuators = hand_layout(env)
        check_against_model(recordings, env, self.model, self.joints, self.actuators)
        m = self.model
        self.recordings = list(recordings)
        self.period = env.timestep * env.substeps
        self.substeps = env.substeps
        self.dt = float(m.opt.timestep)
        self.threads = threads or max(1, len(os.sched_getaffinity(0)))
        self.qpos_cols = np.array([1 + m.jnt_qposadr[m.joint(n).id] for n in self.joints])
        self.transmission = _transmission(m, self.joints)
        # Classes: joints by name, actuators by the first joint they drive.
        classes = dict(env.robot.joint_classes)
        self.joint_class = {n: joint_class(n, classes) for n in self.joints}
        self.actuator_class = {self.actuators[a]: self.joint_class[self.joints[int(np.flatnonzero(self.transmission[a])[0])]]
                               for a in range(m.nu)}  # fmt: skip
        self.classes = [c for c in (*classes, OTHER) if c in self.joint_class.values()]
        # The starting values (the robot config's physics), written back scaled by each factor.
        s = self.spec
        self.base: dict[str, dict[str, Any]] = {
            "kp": {n: float(s.actuator(n).gainprm[0]) for n in self.actuators},
            "forcerange": {n: np.array(s.actuator(n).forcerange, dtype=np.float64) for n in self.actuators},
            "damping": {n: float(s.joint(n).damping[0]) for n in self.joints},
            "armature": {n: float(s.joint(n).armature) for n in self.joints},
            "frictionloss": {n: float(s.joint(n).frictionloss) for n in self.joints},
        }
        self.start_latency = int(env.robot.action_latency_steps)
        self.scale = self._joint_scale()
        self.params = self._parameters()
        self.models_sequences = [self._sequences()]
        self.evaluations = 0
        self.residual_fn = self.sysid.build_residual_fn(
            models_sequences=self.models_sequences, build_model=self.build_model,
            modify_residual=self.modify_residual, custom_rollout=self.rollout,
            resample_true=False, n_threads=self.threads,
        )  # fmt: skip

    # --- set-up ---------------------------------------------------------------------------

    def _ordered(self, rec: Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(targets [N, nu], joint_pos [N, J], joint_vel or None) in the model's order."""
        a = [rec.actuator_names.index(n) for n in self.actuators]
        j = [rec.joint_names.index(n) for n in self.joints]
        vel = rec.joint_vel[:, j] if rec.joint_vel is not None else None
        return rec.targets[:, a], rec.joint_pos[:, j], vel

    def _joint_scale(self) -> float:
        """The joints' typical spread over the recordings (rad): residuals stay O(1) while every
        joint's error counts in radians alike (encoder noise, the same on every joint, then
        weighs alike, as sysid's confidence intervals assume)."""
        q = np.concatenate([self._ordered(r)[1] for r in self.recordings])
        return max(float(np.sqrt(np.mean(q.var(axis=0)))), 0.01)

    def _members(self, kind: str, cls: str) -> list[str]:
        if KINDS[kind][1] == "actuator":
            return [n for n in self.actuators if self.actuator_class[n] == cls]
        return [n for n in self.joints if self.joint_class[n] == cls]

    def _parameters(self) -> Any:
        sysid = self.sysid
        params = sysid.ParameterDict()
        self.frozen_reason: dict[str, str] = {}
        for kind in KINDS:
            for cls in self.classes:
                members = self._members(kind, cls)
                if not members:
                    continue
                name = f"{kind}/{cls}"
                frozen = kind != "forcerange" and all(self.base[kind][n] == 0 for n in members)
                if frozen:
                    self.frozen_reason[name] = f"not identifiable: the model's {kind} of the {cls} joints is 0"
                params.add(sysid.Parameter(name, 1.0, FACTOR_BOUNDS[0], FACTOR_BOUNDS[1], frozen=frozen))
        params.add(sysid.Parameter("latency", float(self.start_latency), 0.0, 3.0 + self.start_latency))
        return params

    def saturation(self, params: Any, limit_scale: float = 1.0) -> dict[str, float]:
        """Per class: the fraction of physics steps x actuators in which an actuator's force is at
        its limit (the limit x `limit_scale`) when the recordings are replayed with `params`."""
        model = self.build_model(params.copy(), self.spec)
        model.actuator_forcerange[:] *= limit_scale
        limited = model.actuator_forcelimited.astype(bool)
        data = mujoco.MjData(model)
        hits, steps = np.zeros(model.nu), 0
        latency = float(params["latency"].value[0])
        seq = self.models_sequences[0]
        for control, state in zip(seq.control, seq.initial_state, strict=True):
            mujoco.mj_setState(model, data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
            for u in self.shifted(control, latency).data[:-1]:
                data.ctrl[:] = u
                mujoco.mj_step(model, data)
                hits += limited & (np.abs(data.actuator_force) >= (1.0 - 1e-9) * model.actuator_forcerange[:, 1])
                steps += 1
        out = {}
        for cls in self.classes:
            members = [a for a, n in enumerate(self.actuators) if self.actuator_class[n] == cls]
            out[cls] = float(hits[members].sum() / (steps * len(members))) if members else 0.0
        return out

    def _sequences(self) -> Any:
        sysid = self.sysid
        m = self.model
        names, initial, controls, measured = [], [], [], []
        for i, rec in enumerate(self.recordings):
            u, q, v = self._ordered(rec)
            t = rec.time - rec.time[0]
            steps = int(math.ceil(t[-1] / self.dt - 1e-6))
            grid = np.arange(steps + 1) * self.dt
            row = np.searchsorted(t, grid + 1e-6 * self.dt, side="right") - 1  # zero-order hold
            controls.append(sysid.TimeSeries(grid, u[np.clip(row, 0, None)],
                                             sysid.TimeSeries.compute_all_control_mapping(m)))  # fmt: skip
            qpos = m.qpos0.copy()
            qpos[self.qpos_cols - 1] = q[0]
            qvel = np.zeros(m.nv)
            if v is not None:
                qvel[[m.jnt_dofadr[m.joint(n).id] for n in self.joints]] = v[0]
            initial.append(sysid.create_initial_state(m, qpos, qvel))
            measured.append(sysid.TimeSeries.from_names(t[1:], q[1:], m, [f"{n}_qpos" for n in self.joints]))
            names.append(os.path.basename(rec.path) or f"recording {i}")
        return sysid.ModelSequences(self.env.robot.name, self.spec, names, initial, controls, measured,
                                    allow_missing_sensors=True)  # fmt: skip

    # --- what sysid calls -----------------------------------------------------------------

    def write(self, params: Any, spec: mujoco.MjSpec) -> mujoco.MjSpec:
        """Every factor of `params` (fitted or not) into `spec`: base value x factor."""
        for name in params.keys():
            if name == "latency":
                continue
            kind, cls = name.split("/")
            f = float(params[name].value[0])
            for member in self._members(kind, cls):
                base = self.base[kind][member]
                if kind == "kp":
                    spec.actuator(member).gainprm[0] = base * f
                    spec.actuator(member).biasprm[1] = -base * f
                elif kind == "forcerange":
                    spec.actuator(member).forcerange = base * f
                elif kind == "damping":
                    spec.joint(member).damping[0] = base * f
                elif kind == "armature":
                    spec.joint(member).armature = base * f
                else:
                    spec.joint(member).frictionloss = base * f
        return spec

    def build_model(self, params: Any, spec: mujoco.MjSpec) -> mujoco.MjModel:
        return self.write(params, spec).compile()

    def shifted(self, control: Any, latency_steps: float) -> Any:
        """The targets `latency_steps` control steps later (linear between physics steps)."""
        delay = max(0.0, float(latency_steps)) * self.period / self.dt
        whole = int(math.floor(delay))
        frac = delay - whole
        u = control.data
        idx = np.arange(len(u)) - whole
        a = u[np.clip(idx, 0, None)]
        b = u[np.clip(idx - 1, 0, None)]
        return self.sysid.TimeSeries(control.times, (1.0 - frac) * a + frac * b, control.signal_mapping)

    def rollout(self, models: Sequence[mujoco.MjModel], datas: Any, control_signal: Sequence[Any],
                initial_states: Sequence[np.ndarray], param_dicts: Sequence[Any], **mappings: Any) -> Any:  # fmt: skip
        per = len(models) // len(param_dicts)
        shifted = [self.shifted(c, float(param_dicts[i // per]["latency"].value[0]))
                   for i, c in enumerate(control_signal)]  # fmt: skip
        self.evaluations += len(models)
        return self.sysid.sysid_rollout(models=models, datas=datas, control_signal=shifted,
                                        initial_states=initial_states, **mappings)  # fmt: skip

    def modify_residual(self, params: Any, pred_sensordata: Any, measured_sensordata: Any,
                        model: mujoco.MjModel, return_pred_all: bool, state: np.ndarray) -> tuple[np.ndarray, Any, Any]:  # fmt: skip
        """Measured minus simulated joint positions at the recorded times, per joint / its spread."""
        times = measured_sensordata.times
        sim_t = state[:, 0]
        idx = np.clip(np.searchsorted(sim_t, times) , 1, len(sim_t) - 1)
        t0, t1 = sim_t[idx - 1], sim_t[idx]
        w = np.clip((times - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0, 1.0)[:, None]
        q = state[:, self.qpos_cols]
        predicted = (1.0 - w) * q[idx - 1] + w * q[idx]
        error = measured_sensordata.data - predicted
        res = error / (self.scale * math.sqrt(error.size))
        mapping = measured_sensordata.signal_mapping
        pred = self.sysid.TimeSeries(times, predicted, mapping)
        return res, pred, measured_sensordata

    # --- helpers ----------------------------------------------------------------------------

    def cost(self, params: Any, x: np.ndarray | None = None) -> float:
        res, _, _ = self.residual_fn(params.as_vector() if x is None else x, params)
        r = np.concatenate([np.ravel(v) for v in res])
        return float(r @ r)

    def errors(self, params: Any) -> tuple[float, dict[str, float], list[Any], list[Any]]:
        """(RMS error in rad over every joint and row, per joint, predicted, measured)."""
        _, preds, measured = self.residual_fn(params.as_vector(), params, return_pred_all=True)
        preds, measured = [p[0] for p in preds], [m[0] for m in measured]  # one model each
        err = np.concatenate([(m.data - p.data) for p, m in zip(preds, measured, strict=True)])
        by_joint = {n: float(np.sqrt(np.mean(err[:, j] ** 2))) for j, n in enumerate(self.joints)}
        return float(np.sqrt(np.mean(err**2))), by_joint, preds, measured


# ------------------------------------------------------------------------------- the fit


RIVAL_RATIO = 2.0
SAME_LATENCY = 0.01  # control steps: a continuous latency this close to a whole step needs no refit


def _optimize(problem: Problem, params: Any, max_iters: int, verbose: bool = False) -> tuple[Any, Any]:
    """sysid.optimize with MuJoCo's least squares: finite differences of 1e-6 (the factors are
    O(1)), stopping when a step changes the factors by less than 1e-5 relative."""
    import io
    import sys

    return problem.sysid.optimize(params, problem.residual_fn, optimizer="mujoco", verbose=False,
                                  max_iters=max_iters, eps=1e-6, xtol=1e-3, gtol=1e-9, x_scale="jac",
                                  output=sys.stdout if verbose else io.StringIO())  # fmt: skip


def _costs(problem: Problem, params: Any, latencies: Sequence[float] | np.ndarray) -> np.ndarray:
    """The cost of `params` at each latency (control steps), all rolled out in one batch."""
    free = params.as_vector()
    x = np.tile(free[:, None], (1, len(latencies)))
    x[-1] = latencies  # latency is the last parameter
    res, _, _ = problem.residual_fn(x, params)
    return np.sum(np.concatenate([np.asarray(r).reshape(-1, len(latencies)) for r in res]) ** 2, axis=0)  # type: ignore[no-any-return]


def calibrate(env: Any, recordings: Sequence[Recording], max_iters: int = 30, refit_iters: int = 10,
              min_saturated: float = 0.01, max_interval: float = 0.2,
              progress: Callable[[str], None] | None = None, verbose: bool = False) -> CalibrationResult:  # fmt: skip
    """Fit the robot's physics and latency to `recordings` (see the module docstring)."""
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    problem = Problem(env, recordings)
    initial = problem.params.copy()
    rms_before, before_by_joint, preds_before, _ = problem.errors(initial)
    say(f"{sum(r.rows for r in recordings)} rows in {len(recordings)} recording(s); "
        f"RMS joint error of robot {env.robot.name!r}: {rms_before:.4f} rad")  # fmt: skip

    # 1. Latency scan at the starting physics (one batched rollout of every candidate).
    params = problem.params.copy()
    candidates = np.arange(0.0, float(params["latency"].max_value[0]) + 1e-9, 0.5)
    costs = _costs(problem, params, candidates)
    params["latency"].value = np.array([float(candidates[int(np.argmin(costs))])])
    say("latency scan (control steps: cost): " + ", ".join(f"{c:g}: {v:.3g}" for c, v in zip(candidates, costs, strict=True)))
    # Force ranges: fitted only for classes that would reach their limit were it half as high.
    reach = problem.saturation(params, limit_scale=0.5)
    for cls, fraction in reach.items():
        name = f"forcerange/{cls}"
        if name in params.keys() and fraction < min_saturated:
            params[name].frozen = True
            problem.frozen_reason[name] = (f"not identifiable: even at half their force limit the {cls} actuators "
                                           f"would be at the limit in {100 * fraction:.2f}% of the physics steps "
                                           f"(needs {100 * min_saturated:g}%)")  # fmt: skip

    # 2. Continuous fit: every identifiable factor and the latency as a fractional delay.
    fitted, continuous = _optimize(problem, params, max_iters, verbose)
    tau = float(fitted["latency"].value[0])
    say(f"continuous fit: latency {tau:.3f} control steps, cost {problem.cost(fitted):.4g} "
        f"({time.perf_counter() - start:.0f} s)")  # fmt: skip

    # 3. Discrete search: the whole-step latencies either side, the physics refitted.
    around = sorted({int(math.floor(tau)), int(math.ceil(tau))})
    scores = dict(zip(around, _costs(problem, fitted, [float(n) for n in around]), strict=True))
    first = min(scores, key=lambda n: scores[n])
    tried = [n for n in sorted(around, key=lambda n: scores[n]) if n == first or scores[n] <= RIVAL_RATIO * scores[first]]
    say("whole-step latencies at the fitted physics (steps: cost): " + ", ".join(f"{n}: {c:.3g}" for n, c in scores.items())
        + f"; refitting {tried}")  # fmt: skip
    best_cost, best_params, best_result, latency_costs = math.inf, fitted, None, {}
    for steps in tried:
        trial = fitted.copy()
        trial["latency"].value = np.array([float(steps)])
        if abs(tau - steps) < SAME_LATENCY:  # the continuous fit already fitted the physics here
            result = continuous
        else:
            trial["latency"].frozen = True
            trial, result = _optimize(problem, trial, refit_iters, verbose)
        cost = problem.cost(trial)
        latency_costs[steps] = cost
        say(f"latency {steps} control step(s), physics refitted: cost {cost:.4g}")
        if cost < best_cost:
            best_cost, best_params, best_result = cost, trial, result
    assert best_result is not None
    latency = int(round(float(best_params["latency"].value[0])))

    # A force range the fitted hand never reaches is only bounded below by the recordings.
    reached = problem.saturation(best_params)
    unreached = {f"forcerange/{c}": f for c, f in reached.items()
                 if f"forcerange/{c}" in best_params.keys() and not best_params[f"forcerange/{c}"].frozen
                 and f < min_saturated}  # fmt: skip

    # Identifiability: sysid's confidence intervals at the optimum.
    residuals, _, _ = problem.residual_fn(best_params.as_vector(), best_params, return_pred_all=True)
    names = [n for n in best_params.keys() if not best_params[n].frozen]
    intervals_list: np.ndarray = np.full(len(names), np.inf)
    if best_result.jac is not None and np.asarray(best_result.jac).size:
        _, intervals_list = problem.sysid.calculate_intervals(residuals, np.asarray(best_result.jac))
    factors: dict[str, dict[str, float]] = {k: {} for k in KINDS}
    fitted_flags: dict[str, dict[str, bool]] = {k: {} for k in KINDS}
    intervals: dict[str, dict[str, float]] = {k: {} for k in KINDS}
    notes = [f"{name}: {why}; kept at 1" for name, why in problem.frozen_reason.items()]
    for name in best_params.keys():
        if name == "latency":
            continue
        kind, cls = name.split("/")
        value = float(best_params[name].value[0])
        width = float(intervals_list[names.index(name)]) if name in names else math.inf
        ok = name in names and math.isfinite(width) and width <= max_interval and name not in unreached
        if name in unreached:
            notes.append(f"{name}: fitted {value:.3f}, but with it the actuators are at their force limit in only "
                         f"{100 * unreached[name]:.2f}% of the physics steps (needs {100 * min_saturated:g}%): "
                         "the recordings bound it from below only; kept at 1")  # fmt: skip
            best_params[name].value = np.array([1.0])
        elif name in names and not ok:
            notes.append(f"{name}: fitted {value:.3f} but its 95% interval is ±{width:.3g} (more than "
                         f"±{max_interval}): not identifiable from these recordings; kept at 1")  # fmt: skip
            best_params[name].value = np.array([1.0])
        factors[kind][cls] = value if ok else 1.0
        fitted_flags[kind][cls] = ok
        intervals[kind][cls] = width
    rms_after, after_by_joint, preds, measured = problem.errors(best_params)
    wall = time.perf_counter() - start
    say(f"calibrated: latency {latency} step(s); RMS joint error {rms_before:.4f} -> {rms_after:.4f} rad "
        f"({wall:.0f} s, {problem.evaluations} rollouts)")  # fmt: skip
    return CalibrationResult(
        factors=factors, fitted=fitted_flags, intervals=intervals, latency_steps=latency,
        latency_continuous=tau, latency_costs=latency_costs, start_latency_steps=problem.start_latency,
        rms_before=rms_before, rms_after=rms_after, rms_before_by_joint=before_by_joint,
        rms_after_by_joint=after_by_joint,
        classes={c: [n for n in problem.joints if problem.joint_class[n] == c] for c in problem.classes},
        actuator_classes=dict(problem.actuator_class), wall_s=wall, evaluations=problem.evaluations,
        notes=notes,
        sysid={"problem": problem, "initial": initial, "final": best_params, "result": best_result,
               "preds_before": preds_before, "preds_after": preds, "measured": measured},
    )  # fmt: skip


def robot_values(robot: Any, result: CalibrationResult) -> dict[str, Any]:
    """The calibrated robot config as plain values: the starting robot's values with each
    *_scale entry multiplied by its class's factor and the latency found."""
    import dataclasses

    values = dataclasses.asdict(robot)
    problem: Problem = result.sysid["problem"]
    for kind, (key, what) in KINDS.items():
        scales = dict(values.get(key) or {})
        names = problem.actuators if what == "actuator" else problem.joints
        for name in names:
            cls = problem.actuator_class[name] if what == "actuator" else problem.joint_class[name]
            factor = result.factors[kind].get(cls, 1.0)
            new = float(scales.get(name, 1.0)) * factor
            if new != 1.0 or name in scales:
                scales[name] = round(new, 6)
        values[key] = scales
    values["action_latency_steps"] = int(result.latency_steps)
    return values

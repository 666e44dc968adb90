"""Identify the hand's physical parameters from recordings with `mujoco.sysid`: the fit.

Every recording is replayed in the env's model and compared with what was measured
(`dexrl.calibration.problem.Problem`: the model, the parameters, the residual; the checks that
recordings fit the model are `dexrl.calibration.checks`; their public names are re-exported
here). MuJoCo's least-squares optimizer (`mujoco.minimize` through `mujoco.sysid.optimize`,
columns scaled by the Jacobian) fits:

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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Re-exported: these lived here before the checks and the problem got their own modules.
from dexrl.calibration.checks import CalibrationError as CalibrationError
from dexrl.calibration.checks import check_against_model as check_against_model
from dexrl.calibration.checks import hand_layout as hand_layout
from dexrl.calibration.checks import load_sysid as load_sysid
from dexrl.calibration.problem import FACTOR_BOUNDS as FACTOR_BOUNDS
from dexrl.calibration.problem import KINDS as KINDS
from dexrl.calibration.problem import OTHER as OTHER
from dexrl.calibration.problem import Problem as Problem
from dexrl.calibration.problem import joint_class as joint_class
from dexrl.deploy.recording import Recording


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

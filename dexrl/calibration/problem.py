"""The sysid problem of one calibration: the parameters fitted, the model they edit, the residual.

The model: the env's scene (the hand alone, e.g. env=reach) compiled from MjSpec with the robot
config's physics; each candidate parameter vector edits that spec (sysid model modifiers) and is
compiled, then `mujoco.rollout` replays every recording from its first measured state with the
recorded targets as a zero-order hold at the physics timestep, delayed by the latency. The
residual is measured minus simulated joint positions at the recorded times (rad, every joint
alike, scaled by one number: the joints' typical spread). The parameters: one factor per joint
class (`joint_class`) and kind (`KINDS`), within `FACTOR_BOUNDS`, and the latency in control
steps. How they are fitted is `dexrl.calibration.fit`.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import mujoco
import numpy as np

from dexrl.calibration.checks import check_against_model, hand_layout, load_sysid
from dexrl.deploy.recording import Recording

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


def joint_class(name: str, classes: Mapping[str, Sequence[str]]) -> str:
    """The calibration class of joint `name` by the robot's `joint_classes` ({class: [fnmatch
    patterns]}, robot yaml): the first class with a matching pattern, else "other"."""
    for cls, patterns in classes.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return str(cls)
    return OTHER


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

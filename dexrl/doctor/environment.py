"""Group 4, "environment": the task itself, without any learning.

gymnasium's checker; determinism for a seed; a random policy's success (≈ 0: no free successes)
and drop rate; the reward's sign against progress; each action dimension moves its joint (coupled
joints together); the control state the dynamics depend on is observable; each randomized
parameter changes the simulation; 1,000 steps at the ADR hard limits stay finite.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import mujoco
import numpy as np

from dexrl.config import EnvConfig
from dexrl.doctor.common import DoctorSetup
from dexrl.doctor.report import Check, fmt, grade
from dexrl.tasks.registry import make_task

GROUP = "env"


def check_environment(setup: DoctorSetup) -> list[Check]:
    env = setup.env
    checks = [_gym_checker(env), _determinism(env, setup.seed)]
    checks.extend(_random_policy(env, setup.seed))
    checks.extend(_actions_move_joints(env, setup.seed))
    checks.append(_control_state_observable(env, setup.seed))
    names, adr = _randomized_params(setup)
    hypothetical = setup.adr is None or setup.adr.mode == "none"
    checks.append(_params_change_sim(env, adr, names, setup.seed, hypothetical))
    checks.append(_hard_limits_finite(env, adr, names, setup.seed))
    return checks


def _gym_checker(env: EnvConfig) -> Check:
    from gymnasium.utils.env_checker import check_env

    from dexrl.tasks.gym_env import DexHandEnv

    gym_env = DexHandEnv(env)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_env(gym_env, skip_render_check=True)
            error = ""
        except Exception as err:  # the checker's verdict, reported as the check's value
            error = f"{type(err).__name__}: {err}"
        finally:
            gym_env.close()
    notes = sorted({str(w.message).replace("\x1b[33m", "").replace("\x1b[0m", "").split(".")[0][:70] for w in caught})
    if error:
        return Check(GROUP, "gym_checker", "fail", error[:120], "no error",
                     "the gymnasium API contract is broken: see the message (spaces, reset/step signatures)")  # fmt: skip
    # Warnings are reported, not graded: the checker warns about unbounded Box observations,
    # which a normalized continuous observation is by design.
    return Check(GROUP, "gym_checker", "pass", f"no error, {len(notes)} warnings" + (f": {notes[0]}" if notes else ""),
                 "no error", "")  # fmt: skip


def _determinism(env: EnvConfig, seed: int, steps: int = 30) -> Check:
    runs = []
    for _ in range(2):
        task = make_task(env, num_envs=2, seed=seed)
        obs, _ = task.reset()
        rng = np.random.default_rng(seed)
        trace = [obs]
        for _ in range(steps):
            r = task.step(rng.uniform(-1, 1, (2, task.action_dim)))
            trace += [r.obs, r.reward[:, None]]
        runs.append(np.concatenate(trace, axis=1))
    diff = float(np.abs(runs[0] - runs[1]).max())
    return Check(GROUP, "determinism", grade(diff == 0.0), f"max diff {fmt(diff)} over {steps} steps",
                 "0 (bit-identical)", "a seeded env does not replay: an unseeded RNG (np.random / time) in the task or ADR")  # fmt: skip


RANDOM_SUCCESS_MAX = 0.05
"""Share of random-policy episodes with a success: goals are never met where drawn, so a random
policy should (almost) never succeed; measured 0.00 on reach, ~0.0-0.03 on the cube tasks."""
RANDOM_SUCCESS_BAD = 0.2
"""A share this high is a failure (free successes or a tolerance far too loose)."""
SIGNIFICANCE = 0.05


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how surprising k successes in n are at a true rate p."""
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def exceeds(k: int, n: int, p: float) -> bool:
    """k of n is significantly (one-sided, 5%) above the rate p; a 16-episode sample's 1 success
    (0.0625) is not evidence of a rate above 0.05, 4 of 16 is."""
    return n > 0 and binomial_tail(k, n, p) < SIGNIFICANCE


def _random_policy(env: EnvConfig, seed: int, num_envs: int = 16, steps: int = 150) -> list[Check]:
    """Episodes under uniform random actions; on the same steps, the reward against progress."""
    task = make_task(env, num_envs=num_envs, seed=seed)
    task.reset()
    rng = np.random.default_rng(seed)
    successes, drops, rewards, progress = [], [], [], []
    for _ in range(steps):
        before = task.distance.copy()
        r = task.step(rng.uniform(-1, 1, (num_envs, task.action_dim)))
        done = r.terminated | r.truncated
        plain = ~done & ~r.info["is_success"] & ~r.info["dropped"]  # no bonus, penalty or new goal
        rewards.append(r.reward[plain])
        progress.append((before - task.distance)[plain])
        if "episode_done" in r.info:
            ended = np.flatnonzero(r.info["episode_done"])
            successes += list(r.info["episode_successes"][ended] > 0)
            drops += list(r.info["dropped"][ended])
    wins, n = int(np.sum(successes)), len(successes)
    rate = wins / n if n else 0.0
    drop_rate = float(np.mean(drops)) if drops else 0.0
    reward, gain = np.concatenate(rewards), np.concatenate(progress)
    corr = float(np.corrcoef(reward, gain)[0, 1]) if reward.std() > 0 and gain.std() > 0 else float("nan")
    return [
        Check(GROUP, "random_policy_success",
              grade(not exceeds(wins, n, RANDOM_SUCCESS_MAX), warn=not exceeds(wins, n, RANDOM_SUCCESS_BAD)),
              f"{fmt(rate)} ({wins} of {n} episodes)",
              f"not significantly > {RANDOM_SUCCESS_MAX} (binomial, p < {SIGNIFICANCE})",
              "a random policy succeeds: free successes (goals met where drawn) or a tolerance too loose"),
        Check(GROUP, "random_policy_drop_rate", "pass", f"{fmt(drop_rate)} of {len(drops)} episodes",
              "reported (0 on reach)", ""),
        Check(GROUP, "reward_sign", grade(corr > 0.5), f"corr(reward, distance decrease) {fmt(corr)}",
              "> 0.5", "the reward does not pay for progress toward the goal: a flipped sign in a reward term"),
    ]  # fmt: skip


def _identical_start(env: EnvConfig, num_envs: int, seed: int) -> Any:
    """A task whose envs all start in the same state (same seed each, no auto-reset)."""
    task = make_task(env, num_envs=num_envs, seed=seed, autoreset=False)
    for i in range(num_envs):
        task.reseed(i, seed)
        task.reset_env(i)
    task.refresh()
    return task


def _actuator_joints(model: mujoco.MjModel, k: int) -> list[int]:
    """Joint ids actuator k drives: its joint, or the joints its fixed tendon couples."""
    if model.actuator_trntype[k] == mujoco.mjtTrn.mjTRN_JOINT:
        return [int(model.actuator_trnid[k, 0])]
    if model.actuator_trntype[k] == mujoco.mjtTrn.mjTRN_TENDON:
        t = int(model.actuator_trnid[k, 0])
        adr, num = model.tendon_adr[t], model.tendon_num[t]
        return [int(j) for j, kind in zip(model.wrap_objid[adr:adr + num], model.wrap_type[adr:adr + num], strict=True)
                if kind == mujoco.mjtWrap.mjWRAP_JOINT]  # fmt: skip
    return []


MOVE_MIN = 0.05
"""rad a driven joint moves in MOVE_STEPS steps of a full action on its dimension, beyond the
same steps at zero action. Measured: 0.2-1.0 rad on every actuator of the default robot (the
smallest are the wrist's)."""
MOVE_STEPS = 8
COUPLED_RATIO = (0.5, 2.0)


def _actions_move_joints(env: EnvConfig, seed: int) -> list[Check]:
    """Env 0 holds still; env 1+2k pushes dimension k up, env 2+2k down, from the same state.
    From the ready pose: the check is about wiring (actuator → joint), and in a grasp start a
    joint at its limit with the object against it (a metacarpal cupping into the block) moves neither
    way for a physical reason."""
    env = replace(env, start_pose="ready", settle_steps=0, robot=replace(env.robot, init_qpos_noise=0.0))
    probe = make_task(env, num_envs=1, seed=seed, autoreset=False)
    A = probe.action_dim
    task = _identical_start(env, 1 + 2 * A, seed)
    actions = np.zeros((1 + 2 * A, A))
    for k in range(A):
        actions[1 + 2 * k, k], actions[2 + 2 * k, k] = 1.0, -1.0
    for _ in range(MOVE_STEPS):
        task.apply_actions(actions)
    m = task.base_model
    dq = np.abs(task.qpos - task.qpos[0])
    frozen, uncoupled, smallest = [], [], np.inf
    for k in range(A):
        joints = _actuator_joints(m, k)
        moves = np.array([[dq[e, m.jnt_qposadr[j]] for j in joints] for e in (1 + 2 * k, 2 + 2 * k)])
        best = moves[int(moves.max(axis=1).argmax())]
        smallest = min(smallest, float(best.max()) if best.size else 0.0)
        name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_ACTUATOR, k) or str(k)
        if not best.size or best.max() < MOVE_MIN:
            frozen.append(name)
        elif len(best) > 1 and not COUPLED_RATIO[0] <= best.min() / best.max() <= COUPLED_RATIO[1]:
            uncoupled.append(name)
    ratio_ok = not uncoupled
    return [
        Check(GROUP, "actions_move_joints", grade(not frozen),
              f"smallest move {fmt(smallest)} rad" + (f"; frozen: {', '.join(frozen)}" if frozen else ""),
              f">= {MOVE_MIN} rad in {MOVE_STEPS} steps, every dimension",
              "an action dimension does not reach its joint: actuator order, a zeroed/overwritten action, or ctrlrange"),
        Check(GROUP, "coupled_joints_move_together", grade(ratio_ok),
              "all coupled pairs together" if ratio_ok else f"not together: {', '.join(uncoupled)}",
              f"ratio {COUPLED_RATIO[0]}-{COUPLED_RATIO[1]}",
              "a coupled pair (J1+J2 tendon) moves one joint only: check the joint equality and the tendon"),
    ]  # fmt: skip


def _control_state_observable(env: EnvConfig, seed: int) -> Check:
    """Two envs in the same physical state whose control state differs (the joint targets; under
    relative actions also the smoothed action; the next targets are built from both) must be told
    apart by the policy observation."""
    task = _identical_start(env, 2, seed)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        task.apply_actions(np.repeat(rng.uniform(-1, 1, (1, task.action_dim)), 2, axis=0))
    mid = 0.5 * (task.ctrl_low + task.ctrl_high)
    states = [("joint_targets", "targets", 0.05, mid)]
    if env.action_mode == "relative":
        states.append(("smoothed_action", "smoothed_action", 0.2, np.zeros(task.action_dim)))
    hidden, seen = [], []
    for name, attr, delta, centre in states:
        saved = getattr(task, attr).copy()
        value = getattr(task, attr)
        value[1] += np.where(value[1] > centre, -delta, delta)  # toward the middle: stays in range
        obs = task._policy_obs_clean()
        gap = float(np.abs(obs[1] - obs[0]).max())
        seen.append(f"{name} {fmt(gap)}")
        if gap < 1e-6:
            hidden.append(name)
        setattr(task, attr, saved)
    ok = not hidden
    return Check(GROUP, "control_state_observable", grade(ok), "obs gap " + ", ".join(seen),
                 "> 0 for each (" + ", ".join(st[0] for st in states) + ")",
                 f"the dynamics depend on {', '.join(hidden) or '-'} but the policy cannot see it: add it to the observation parts")  # fmt: skip


def _randomized_params(setup: DoctorSetup) -> tuple[list[str], Any]:
    """The ADR parameters the run randomizes on this task (adr=none: those adr=auto would)."""
    from dexrl.adr.config import ADRConfig
    from dexrl.adr.params import PARAM_NAMES
    from dexrl.adr.randomizer import config_for_task

    adr = setup.adr if setup.adr is not None and setup.adr.mode != "none" else ADRConfig(mode="auto")
    probe = make_task(setup.env, num_envs=1, seed=setup.seed, autoreset=False)
    fitted, _ = config_for_task(adr, probe)
    return [n for n in PARAM_NAMES if fitted.is_randomized(n)], fitted


def _limit(adr: Any, name: str, side: int) -> float:
    from dexrl.adr.params import get_spec

    lo, hi = adr.hard_limits(get_spec(name))
    return float(hi if side > 0 else lo)


def _randomized_task(env: EnvConfig, lambdas: list[dict[str, float]], names: list[str], seed: int) -> Any:
    """A task with one env per λ assignment, applied the way ADR applies them, same start seed."""
    from dexrl.adr.apply import ApplyContext

    task = make_task(env, num_envs=len(lambdas), seed=seed, autoreset=False)
    ctx = ApplyContext(task)
    if any(n.endswith("_perturbation") for n in names):
        task.pre_physics_hooks.append(ctx.perturb)
    for i, lam in enumerate(lambdas):
        ctx.apply(i, lam, names)
        task.reseed(i, seed)
        task.reset_env(i)
    return task


def _params_change_sim(
    env: EnvConfig, adr: Any, names: list[str], seed: int, hypothetical: bool, steps: int = 10
) -> Check:
    """For each parameter: env 0 calibrated, the others at the parameter's hard limits (each
    non-zero side); same seed and actions. The trajectories (joint state, observations) must
    differ, under the task's own control or else under a saturating command."""
    inert, saturated_only = [], []
    for name in names:
        sides = [_limit(adr, name, side) for side in (1, -1) if _limit(adr, name, side) != 0]
        lambdas = [{name: 0.0}] + [{name: lam} for lam in sides]
        if _trajectory_gap(env, lambdas, name, seed, steps, saturate=False) >= 1e-9:
            continue
        # Some parameters act only under load: actuator_force_range binds when a joint's
        # tracking error reaches forcerange / kp. Relative targets move <= action_scale of the
        # half range per step, so a free finger tracks them: forces peak at ~20% of the limit
        # (measured, reach and cube_rotate, any +-1 sequence held up to 30 steps) and the 0.5x
        # hard limit never binds. Absolute targets jumping between the ends of the control range
        # (errors of a whole range, kp * range / forcerange = 0.46-4.0 on the default robot) do.
        if _trajectory_gap(env, lambdas, name, seed, steps, saturate=True) >= 1e-9:
            saturated_only.append(name)
        else:
            inert.append(name)
    note = f"; only under a saturating command: {', '.join(saturated_only)}" if saturated_only else ""
    # With adr=none the parameters are those adr=auto would randomize: an inert one is a warning
    # (it would only inflate the ADR entropy); in a run that randomizes it, a failure.
    return Check(GROUP, "adr_params_change_sim", grade(not inert, warn=hypothetical),
                 f"{len(names) - len(inert)}/{len(names)} change it" + (f"; inert: {', '.join(inert)}" if inert else "") + note,
                 "every randomized parameter" + (" (adr=auto's, as adr=none)" if hypothetical else ""),
                 "a randomized parameter changes nothing here (a field the simulation does not read, or no contact/load on this task): disable it for this task")  # fmt: skip


def _trajectory_gap(
    env: EnvConfig, lambdas: list[dict[str, float]], name: str, seed: int, steps: int, saturate: bool
) -> float:
    """Largest difference of joint state or observation between env 0 and the others over
    `steps` full-scale actions: random signs each step under the task's control, or (saturate)
    absolute targets at one end of the control range, then the other, taken at once (EMA 1)."""
    if saturate:
        env = replace(env, action_mode="absolute", action_ema=1.0)
    task = _randomized_task(env, lambdas, [name], seed)
    rng = np.random.default_rng(seed)
    held = rng.choice([-1.0, 1.0], (1, task.action_dim))
    gap = 0.0
    for t in range(steps):
        signs = (held if t < steps // 2 else -held) if saturate else rng.choice([-1.0, 1.0], (1, task.action_dim))
        r = task.step(np.repeat(signs, task.num_envs, axis=0))
        gap = max(gap, float(np.abs(task.qpos[1:] - task.qpos[0]).max()), float(np.abs(r.obs[1:] - r.obs[0]).max()))
    return gap


def _hard_limits_finite(env: EnvConfig, adr: Any, names: list[str], seed: int, steps: int = 1000) -> Check:
    """1,000 random-action steps with every parameter at its lower (env 0) and upper (env 1) hard
    limit at once: the physics must stay finite (MuJoCo's own divergence resets count as not)."""
    corners = [{n: _limit(adr, n, -1) for n in names}, {n: _limit(adr, n, 1) for n in names}]
    task = _randomized_task(env, corners, names, seed)
    rng = np.random.default_rng(seed)
    unhealthy, finite = 0, True
    for _ in range(steps):
        r = task.step(rng.uniform(-1, 1, (2, task.action_dim)))
        unhealthy += int(r.info["unhealthy"].sum())
        finite &= bool(np.isfinite(r.obs).all() and np.isfinite(r.reward).all())
        ended = np.flatnonzero(r.terminated | r.truncated)
        for i in ended:  # no auto-reset here: reset by hand, the λ stay in the env's model
            task.sim.clear_warnings(i)
            task.reset_env(i)
    ok = finite and unhealthy == 0
    return Check(GROUP, "adr_hard_limits_finite", grade(ok),
                 f"{unhealthy} diverged steps, finite={finite}, {len(names)} params at both limits",
                 f"0 diverged in {steps} steps", "the physics blows up at the randomization limits: narrow the hard limits or lower the timestep")  # fmt: skip

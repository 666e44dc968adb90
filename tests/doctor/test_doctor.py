"""The doctor against known bugs: each bug is injected into the real library code with pytest's
monkeypatch (test-only: no flag or config a user could set), and the doctor, run on the bug's
group (`--only`, to keep CI short), must fail the check that names it and no other check; a
clean config must fail nothing on every task."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from dexrl.doctor import DoctorSetup, run_doctor
from dexrl.doctor.report import Check
from dexrl.frontdoor import compose, typed_configs

ROOT = Path(__file__).resolve().parents[2]
# Small sizes (2 x 32 envs x 16 steps = 1,024 samples): no check may FAIL at these either. Some
# WARN, rightly: advantage_signal on the cube tasks (cosine ~0.1: 1,024 is too small a batch for
# them; the 8,192 defaults read ~0.3, README "When it does not learn").
SMALL = ["train.num_workers=2", "train.envs_per_worker=32", "train.horizon=16"]


def setup_for(env: str, *extra: str) -> DoctorSetup:
    c = typed_configs(compose([f"env={env}", *SMALL, *extra], "doctor").plain())
    return DoctorSetup(c.env, c.model, c.algo, c.train, c.adr, c.ray, c.seed)


def failures(checks: list[Check]) -> set[tuple[str, str]]:
    return {(c.group, c.name) for c in checks if c.status == "fail"}


def test_clean_reach_fails_nothing() -> None:
    checks = run_doctor(setup_for("reach"), ("overfit", "signs", "env"))
    assert failures(checks) == set(), [c for c in checks if c.status == "fail"]
    names = {c.name for c in checks}
    assert {"value_fit", "kl_controller", "advantage_signal", "control_state_observable"} <= names


# cube_rotate_z at the 8,192-sample defaults: from the grasp start the untrained policy's first
# 16 steps carry almost no advantage signal (cosine 0.007 at 1,024 samples, a FAIL that is the
# batch size: 0.125 at 8,192, a WARN; it learns to a median of 13.5 successes at that size).
@pytest.mark.parametrize(("env", "sizes"), [
    ("cube_rotate_z", ("train.envs_per_worker=64", "train.horizon=64")),
    ("cube_rotate", ()), ("face_turn", ())])  # fmt: skip
def test_clean_cube_tasks_fail_nothing(env: str, sizes: tuple[str, ...]) -> None:
    checks = run_doctor(setup_for(env, *sizes), ("overfit", "signs", "env"))
    assert failures(checks) == set(), [c for c in checks if c.status == "fail"]


def test_runs_group_with_real_workers(ray_session) -> None:  # type: ignore[no-untyped-def]
    checks = run_doctor(setup_for("reach", "train.envs_per_worker=4", "train.horizon=8"), ("runs",))
    assert [c.status for c in checks] == ["pass"] * 5, checks
    assert {c.name for c in checks} >= {"ppo_iteration", "checkpoint_round_trip"}


# ---------------------------------------------------------------------------- injected bugs


def _flip_policy_loss(mp: pytest.MonkeyPatch) -> None:
    import dexrl.rl.learner as learner

    real = learner.policy_loss

    def flipped(*args, **kwargs):  # type: ignore[no-untyped-def]
        loss, clip_fraction, kl = real(*args, **kwargs)
        return -loss, clip_fraction, kl

    mp.setattr(learner, "policy_loss", flipped)


def _squash_twice(mp: pytest.MonkeyPatch) -> None:
    from dexrl.tasks.base import HandTask

    real = HandTask.apply_actions
    mp.setattr(HandTask, "apply_actions", lambda self, a: real(self, np.tanh(a)))  # tanh, then the clip


def _unnormalized_obs(mp: pytest.MonkeyPatch) -> None:
    from dexrl.rl.normalizer import ObservationNormalizer

    mp.setattr(ObservationNormalizer, "set_stats", lambda self, rms: None)


def _reward_wrong_sign(mp: pytest.MonkeyPatch) -> None:
    from dexrl.tasks.base import HandTask

    real = HandTask.step

    def step(self, actions):  # type: ignore[no-untyped-def]
        result = real(self, actions)
        result.reward = -result.reward
        return result

    mp.setattr(HandTask, "step", step)


def _frozen_action_dim(mp: pytest.MonkeyPatch) -> None:
    from dexrl.tasks.base import HandTask

    real = HandTask.apply_actions

    def apply(self, actions):  # type: ignore[no-untyped-def]
        actions = actions.copy()
        actions[:, 3] = 0.0
        real(self, actions)

    mp.setattr(HandTask, "apply_actions", apply)


def _detached_value_head(mp: pytest.MonkeyPatch) -> None:
    from dexrl.rl.networks import Critic

    real = Critic.forward
    mp.setattr(Critic, "forward", lambda self, obs: real(self, obs).detach())


def _kl_against_wrong_policy(mp: pytest.MonkeyPatch) -> None:
    """The controller's KL measured between consecutive epochs (the policy before this epoch)
    instead of against the behaviour policy that collected the batch."""
    from dexrl.rl.learner import PPOLearner
    from dexrl.rl.losses import gaussian_kl

    @torch.no_grad()
    def batch_kl(self, sequences, hidden0):  # type: ignore[no-untyped-def]
        mean, _ = self.actor(sequences["obs"], hidden0 or None, sequences["episode_starts"])
        std = self.actor.log_std.exp()
        previous = getattr(self, "_previous_mean", None)
        if previous is None or previous.shape != mean.shape:
            previous = sequences["mean_old"]
        self._previous_mean = mean
        return gaussian_kl(previous, std.expand_as(mean), mean, std).mean().item()

    mp.setattr(PPOLearner, "batch_kl", batch_kl)


def _advantages_of_another_env(mp: pytest.MonkeyPatch) -> None:
    """GAE's advantages handed back in another env order (env b gets env b-1's): the update then
    pairs each action with an advantage it did not earn."""
    import dexrl.rl.learner as learner

    real = learner.compute_gae

    def rolled(*args, **kwargs):  # type: ignore[no-untyped-def]
        advantages, returns = real(*args, **kwargs)
        return np.roll(advantages, 1, axis=1), returns

    mp.setattr(learner, "compute_gae", rolled)


def _targets_not_observed(mp: pytest.MonkeyPatch) -> None:
    from dexrl.tasks.base import HandTask

    real = HandTask._proprioception_terms

    def terms(self):  # type: ignore[no-untyped-def]
        return [(p, v) for p, v in real(self) if p.name not in ("joint_targets", "smoothed_action")]

    mp.setattr(HandTask, "_proprioception_terms", terms)


BUGS: list[tuple[str, Callable[[pytest.MonkeyPatch], None], tuple[str, ...], set[tuple[str, str]]]] = [
    ("flipped_loss_sign", _flip_policy_loss, ("signs",), {("signs", "surrogate_first_step")}),
    ("action_squashed_twice", _squash_twice, ("signs",), {("signs", "actions_at_clip")}),
    ("unnormalized_obs", _unnormalized_obs, ("signs",), {("signs", "obs_normalized")}),
    ("reward_wrong_sign", _reward_wrong_sign, ("env",), {("env", "reward_sign")}),
    ("frozen_action_dim", _frozen_action_dim, ("env",), {("env", "actions_move_joints")}),
    ("detached_value_head", _detached_value_head, ("overfit",), {("overfit", "value_fit")}),
    ("kl_wrong_policy", _kl_against_wrong_policy, ("signs",), {("signs", "kl_controller")}),
    ("targets_not_observed", _targets_not_observed, ("env",), {("env", "control_state_observable")}),
    ("advantages_of_another_env", _advantages_of_another_env, ("signs",), {("signs", "advantage_signal")}),
]


@pytest.mark.parametrize(("bug", "inject", "groups", "expected"), BUGS, ids=[b[0] for b in BUGS])
def test_injected_bug_fails_its_check_only(
    monkeypatch: pytest.MonkeyPatch,
    bug: str,
    inject: Callable[[pytest.MonkeyPatch], None],
    groups: tuple[str, ...],
    expected: set[tuple[str, str]],
) -> None:
    inject(monkeypatch)
    # The wrong-policy KL (consecutive epochs) is read only when the lr adapts after every epoch;
    # with the default per-update reading the controller never sees an earlier epoch's policy.
    extra = ("algo.lr_adapt_every=epoch",) if bug == "kl_wrong_policy" else ()
    checks = run_doctor(setup_for("reach", *extra), groups)
    assert failures(checks) == expected, [c for c in checks if c.status == "fail"]


def test_a_parameter_the_simulation_does_not_read_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """`adr_params_change_sim` in a run that randomizes the parameter (adr=auto): the real
    actuator_force_range changes the simulation (it binds only under a saturating command, the
    probe's second drive); written into a copy of the model's array instead, it changes nothing
    and the check fails, naming it."""
    import dataclasses

    from dexrl.adr import apply
    from dexrl.doctor.environment import _params_change_sim, _randomized_params

    setup = setup_for("cube_rotate_z", "adr=auto")
    names, adr = _randomized_params(setup)
    assert "actuator_force_range" in names
    clean = _params_change_sim(setup.env, adr, ["actuator_force_range"], setup.seed, hypothetical=False)
    assert clean.status == "pass" and "saturating" in clean.value, clean

    def into_a_copy(ctx, i, spec, lam):  # type: ignore[no-untyped-def]
        ctx.model(i).actuator_forcerange.copy()[:] = spec.to_value(ctx.calibrated[i].actuator_forcerange, lam)

    entry = apply.APPLIERS["actuator_force_range"]
    monkeypatch.setitem(apply.APPLIERS, "actuator_force_range", dataclasses.replace(entry, apply=into_a_copy))
    bug = _params_change_sim(setup.env, adr, ["actuator_force_range"], setup.seed, hypothetical=False)
    assert bug.status == "fail" and "inert: actuator_force_range" in bug.value, bug


# ---------------------------------------------------------------------------- the script


def test_script_only_json_and_exit_status(tmp_path: Path) -> None:
    """`--only overfit --json`, run as a user runs it (another working directory): a table, then
    one JSON object on the last line; exit 0. 64 samples (the overfit group fits them all)."""
    tiny = ["train.num_workers=2", "train.envs_per_worker=4", "train.horizon=8"]
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "doctor.py"), "env=reach", *tiny,
                          "--only", "overfit", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"] and {c["group"] for c in report["checks"]} == {"overfit"}
    assert "value_fit" in out.stdout and "PASS" in out.stdout


def test_script_rejects_a_bad_group_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """In-process (the script's `main`): the check happens before anything is composed."""
    spec = importlib.util.spec_from_file_location("doctor_script", ROOT / "scripts" / "doctor.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as exited:
        script.main(["env=reach", "--only", "bogus"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.strip().splitlines() == [err.strip()] and "bogus" in err


def test_random_success_is_graded_by_a_binomial_test() -> None:
    """A 16-episode sample's single success is noise at a 5% rate; a rate clearly above it is not."""
    from dexrl.doctor.environment import binomial_tail, exceeds

    # By hand: P(X >= 1) = 1 - 0.95**16; P(X >= 3) = 1 - sum_{i<3} C(16, i) 0.05^i 0.95^(16-i).
    assert binomial_tail(1, 16, 0.05) == pytest.approx(1 - 0.95**16)
    below3 = 0.95**16 + 16 * 0.05 * 0.95**15 + 120 * 0.05**2 * 0.95**14
    assert binomial_tail(3, 16, 0.05) == pytest.approx(1 - below3)
    assert not exceeds(1, 16, 0.05) and not exceeds(2, 16, 0.05)
    assert exceeds(3, 16, 0.05) and exceeds(16, 16, 0.2)
    assert not exceeds(0, 0, 0.05)  # no episode ended: no evidence either way

"""EpisodeRandomizer in-process: it reports every finished episode, draws and applies the next,
keeps diverged physics out of ADR's performance, and fails early on what it cannot apply."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dexrl.adr import (
    PARAM_NAMES,
    PARAM_SPECS,
    ADRConfig,
    EpisodeAssignment,
    ParamConfig,
    load_adr_config,
)
from dexrl.adr.apply import APPLIERS
from dexrl.adr.randomizer import EpisodeRandomizer
from dexrl.tasks.registry import make_task


def _zeros(task) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.zeros((task.num_envs, task.action_dim))


def test_mode_none_installs_no_hook_and_changes_nothing() -> None:
    plain = make_task("cube_rotate", num_envs=2, seed=3)
    task = make_task("cube_rotate", num_envs=2, seed=3)
    EpisodeRandomizer(load_adr_config("none")).attach(task)
    assert task.reset_hooks == [] and task.pre_physics_hooks == []
    np.testing.assert_array_equal(plain.reset()[0], task.reset()[0])
    actions = np.random.default_rng(0).uniform(-1, 1, (5, 2, task.action_dim))
    for a in actions:
        r1, r2 = plain.step(a), task.step(a)
        np.testing.assert_array_equal(r1.obs, r2.obs)
        np.testing.assert_array_equal(r1.reward, r2.reward)


def test_each_finished_episode_is_reported_with_its_consecutive_successes(pinned_task) -> None:  # type: ignore[no-untyped-def]
    # success_tolerance 4 rad > π: every step is a success, so a 3-step episode scores 3.
    task, randomizer, state = pinned_task([{"gravity": 0.5}, {"gravity": -0.5}], num_envs=2,
                                          max_episode_steps=3, success_tolerance=4.0)  # fmt: skip
    assert state.sampled == 2 and not state.reports  # the first resets report nothing
    ended = []
    for _ in range(7):
        info = task.step(_zeros(task)).info
        if "episode_done" in info:
            ended += list(info["episode_successes"][info["episode_done"]])
    assert ended == [3, 3, 3, 3] and [p for _, p in state.reports] == [3.0] * 4
    assert [a.lambdas["gravity"] for a, _ in state.reports] == [0.5, -0.5, 0.5, -0.5]
    assert state.sampled == 6 and randomizer.episodes_reported == 4


def test_a_real_adr_state_widens_a_boundary_from_the_episodes() -> None:
    only_gravity = {n: ParamConfig(enabled=n == "gravity") for n in PARAM_NAMES}
    cfg = ADRConfig(mode="auto", boundary_prob=1.0, buffer_size=2, threshold_low=1.0,
                    threshold_high=2.0, delta=0.5, params=only_gravity)  # fmt: skip
    task = make_task("cube_rotate", num_envs=2, seed=0,
                     overrides={"max_episode_steps": 3, "success_tolerance": 4.0})  # fmt: skip
    randomizer = EpisodeRandomizer(cfg)
    randomizer.attach(task)
    task.reset()
    for _ in range(30):
        task.step(_zeros(task))
    metrics = randomizer.metrics()
    low, high = metrics["adr/gravity/low"], metrics["adr/gravity/high"]
    assert metrics["adr/widen_events"] >= 2 and low < 0.0 < high  # both sides scored 3 ≥ t_H
    assert metrics["adr/gravity/high_value"] == pytest.approx(9.81 + high)  # nominal from model
    gravity = [np.linalg.norm(m.opt.gravity) for m in task.sim.models]
    lambdas = [a.lambdas["gravity"] for a in randomizer.assignments if a is not None]
    np.testing.assert_allclose(gravity, [9.81 + lam for lam in lambdas])


def test_diverged_physics_is_reported_invalid_and_never_as_performance(pinned_task) -> None:  # type: ignore[no-untyped-def]
    task, randomizer, state = pinned_task({"timestep": 0.0}, num_envs=2,
                                          max_episode_steps=50, timeout_steps=50)  # fmt: skip
    # Sabotage env 1's model the way a bad sample could (test_worker.py does the same).
    m = task.sim.models[1]
    m.opt.timestep = 5.0
    m.actuator_gainprm[:, 0] *= 1e6
    m.actuator_biasprm[:, 1] *= 1e6
    unhealthy = 0
    for _ in range(10):
        info = task.step(_zeros(task)).info
        unhealthy += int(info["unhealthy"][1])
        if unhealthy:
            break
    assert unhealthy == 1 and len(state.invalid) == 1 and state.reports == []
    assert randomizer.invalid_reported == 1
    # The next episode starts from calibrated values again: the timestep is rewritten.
    assert task.sim.models[1].opt.timestep == task.base_model.opt.timestep


@pytest.mark.parametrize("field", ["qpos", "qvel"])
def test_state_mujoco_resets_silently_is_flagged_and_reported_invalid(pinned_task, field) -> None:  # type: ignore[no-untyped-def]
    # MuJoCo replaces a position or velocity beyond 1e10 by the initial state (warnings
    # BADQPOS / BADQVEL) and carries on: the episode must still end as unhealthy.
    task, _, state = pinned_task({"gravity": 0.0}, num_envs=2)
    getattr(task.sim.datas[0], field)[task.ids.hand_qpos_adr[3]] = 1e11
    info = task.step(_zeros(task)).info
    assert info["unhealthy"].tolist() == [True, False]
    assert len(state.invalid) == 1 and state.reports == []


def test_invalid_episodes_are_counted_in_the_adr_metrics() -> None:
    cfg = ADRConfig(mode="manual", params={"timestep": ParamConfig(manual_range=[0.0, 0.0])})
    randomizer = EpisodeRandomizer(cfg)
    task = make_task("cube_rotate", num_envs=1, overrides={"max_episode_steps": 50})
    randomizer.attach(task)
    task.reset()
    task.sim.models[0].opt.timestep = 5.0
    task.sim.models[0].actuator_gainprm[:, 0] *= 1e6
    task.sim.models[0].actuator_biasprm[:, 1] *= 1e6
    while not task.step(_zeros(task)).info["unhealthy"][0]:
        pass
    metrics = randomizer.metrics()
    assert metrics["adr/invalid_episodes"] == 1 and metrics["adr/nonboundary_reports"] == 0


def test_attach_names_a_parameter_that_has_no_apply_function(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delitem(APPLIERS, "gravity")
    task = make_task("cube_rotate", num_envs=1)
    with pytest.raises(ValueError, match="'gravity' cannot be randomized here: it has no apply function"):
        EpisodeRandomizer(load_adr_config("manual")).attach(task)


def test_attach_rejects_cube_parameters_on_a_task_without_a_cube() -> None:
    task = make_task("reach", num_envs=1)
    with pytest.raises(ValueError, match="'cube_size' cannot be randomized here: it needs a cube.*enabled=false"):
        EpisodeRandomizer(load_adr_config("manual")).attach(task)
    cube_free = {n: ParamConfig(enabled=not n.startswith(("cube_", "face_", "robot_friction_")))
                 for n in PARAM_NAMES}  # fmt: skip
    EpisodeRandomizer(ADRConfig(mode="auto", params=cube_free)).attach(task)  # the rest applies


def test_attach_rejects_obs_noise_with_an_unknown_noise_class(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    task = make_task("cube_rotate", num_envs=1)
    parts = task.policy_obs_parts()
    bad = (dataclasses.replace(parts[0], noise="lidar"), *parts[1:])
    monkeypatch.setattr(task, "policy_obs_parts", lambda: bad)
    with pytest.raises(ValueError, match=r"unknown noise class\(es\) \['lidar'\]"):
        EpisodeRandomizer(load_adr_config("manual")).attach(task)


def test_rubiks_cube_takes_every_parameter_but_the_one_body_resize() -> None:
    task = make_task("face_turn", num_envs=1)
    with pytest.raises(ValueError, match="'cube_size' cannot be randomized here: it resizes a one-body cube"):
        EpisodeRandomizer(ADRConfig(mode="auto")).attach(task)
    params = {"cube_size": ParamConfig(enabled=False), "cube_mass": ParamConfig(manual_range=[0.4, 0.4])}
    randomizer = EpisodeRandomizer(ADRConfig(mode="manual", params=params))
    randomizer.attach(task)
    task.reset()
    bodies = randomizer.context.index.cube_bodies if randomizer.context else []
    assert len(bodies) == 2  # the cube and its hinged top layer: the whole cube is heavier
    np.testing.assert_allclose(task.sim.models[0].body_mass[bodies],
                               task.base_model.body_mass[bodies] * math.exp(0.4))  # fmt: skip


def test_manual_config_samples_inside_its_ranges_per_env_and_episode() -> None:
    task = make_task("cube_rotate", num_envs=4, overrides={"max_episode_steps": 2})
    randomizer = EpisodeRandomizer(load_adr_config("manual"))
    randomizer.attach(task)
    task.reset()
    masses, gravities = set(), set()
    for _ in range(6):
        task.step(_zeros(task))
        for i, m in enumerate(task.sim.models):
            assignment = randomizer.assignments[i]
            assert assignment is not None
            mass = m.body_mass[task.ids.cube_body]
            assert mass == pytest.approx(0.078 * math.exp(assignment.lambdas["cube_mass"]))
            assert 0.078 * 0.5 - 1e-9 <= mass <= 0.078 * 1.5 + 1e-9  # [D]: masses U[0.5, 1.5]
            masses.add(mass)
            gravities.add(float(np.linalg.norm(m.opt.gravity)))
    assert len(masses) >= 12 and len(gravities) >= 12  # a new draw per env and episode
    assert max(abs(g - 9.81) for g in gravities) <= 0.4 * math.sqrt(3) + 1e-9


class ExtremeState:
    """Every parameter pinned at its lower or upper hard limit, at random, per episode."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.reports: list[float] = []
        self.invalid = 0

    def sample_episode(self) -> EpisodeAssignment:
        pick = self.rng.integers(2, size=len(PARAM_SPECS))
        return EpisodeAssignment({s.name: float(s.hard_limits[k]) for s, k in zip(PARAM_SPECS, pick, strict=True)})

    def report(self, assignment: EpisodeAssignment, performance: float) -> None:
        assert math.isfinite(performance)
        self.reports.append(performance)

    def report_invalid(self, assignment: EpisodeAssignment) -> None:
        self.invalid += 1


def test_thousand_episodes_at_the_hard_limits_stay_finite_or_are_flagged() -> None:
    from dexrl.adr.randomizer import config_for_task

    state = ExtremeState(seed=0)
    task = make_task("cube_rotate", num_envs=16, seed=0, overrides={"max_episode_steps": 6})
    # Every parameter the block can take is randomized; ExtremeState picks the λs.
    every, _ = config_for_task(ADRConfig(mode="auto"), task)
    randomizer = EpisodeRandomizer(every, state=state)
    randomizer.attach(task)
    obs, critic = task.reset()
    rng = np.random.default_rng(1)
    ended = unhealthy = 0
    while ended < 1000:
        r = task.step(rng.uniform(-1, 1, (16, task.action_dim)))
        assert np.isfinite(r.obs).all() and np.isfinite(r.critic_obs).all()
        assert np.isfinite(r.reward).all()
        unhealthy += int(r.info["unhealthy"].sum())
        ended += int((r.terminated | r.truncated).sum())
    assert len(state.reports) + state.invalid == ended  # every episode reported once ...
    assert state.invalid == unhealthy  # ... and each flagged one as invalid, not performance
    assert randomizer.context is not None and randomizer.context.compiles == 2  # the two limits


def test_config_for_task_drops_only_what_the_task_cannot_randomize() -> None:
    from dexrl.adr.randomizer import config_for_task

    auto = ADRConfig(mode="auto")
    reach, dropped = config_for_task(auto, make_task("reach", num_envs=1))
    # reach has nothing for the hand to touch: the hand's contact friction is dropped too
    expected = {n for n in PARAM_NAMES if n.startswith(("cube_", "face_", "robot_friction_"))}
    assert {n for n in dropped} == expected
    assert reach.is_randomized("gravity") and not reach.is_randomized("cube_mass")
    assert reach.is_randomized("robot_frictionloss")  # joint friction acts without contact
    block, dropped = config_for_task(auto, make_task("cube_rotate", num_envs=1))
    assert set(dropped) == {"face_friction", "face_detent"}
    rubiks, dropped = config_for_task(auto, make_task("face_turn", num_envs=1))
    assert set(dropped) == {"cube_size"}  # the hinged cube keeps face friction and detent
    EpisodeRandomizer(rubiks).attach(make_task("face_turn", num_envs=1))  # and attaches


def test_thresholds_are_the_tasks_unless_the_adr_config_sets_them() -> None:
    """reach's 50-step episodes cannot reach [R]'s t_H = 20: its env config sets 1 / 2."""
    from dexrl.adr.randomizer import config_for_task

    reach_task, block_task = make_task("reach", num_envs=1), make_task("cube_rotate", num_envs=1)
    assert config_for_task(ADRConfig(mode="auto"), reach_task)[0].thresholds() == (1.0, 2.0)
    assert config_for_task(ADRConfig(mode="auto"), block_task)[0].thresholds() == (10.0, 20.0)
    explicit = ADRConfig(mode="auto", threshold_low=0.5, threshold_high=4.0)
    assert config_for_task(explicit, reach_task)[0].thresholds() == (0.5, 4.0)


def test_face_friction_and_detent_are_written_from_their_calibrated_values() -> None:
    from dexrl.tasks.rubiks_cube import face_detent, face_friction

    task = make_task("face_turn", num_envs=2, overrides={"max_episode_steps": 2})
    params = {n: ParamConfig(enabled=False) for n in PARAM_NAMES}
    params["face_friction"] = ParamConfig(manual_range=[0.7, 0.7])
    params["face_detent"] = ParamConfig(manual_range=[-0.5, -0.5])
    EpisodeRandomizer(ADRConfig(mode="manual", params=params)).attach(task)
    for _ in range(3):  # several episodes: the values never compound
        task.reset()
        ids = task.cube_ids
        assert face_friction(task.sim.models[1], ids) == pytest.approx(
            face_friction(task.base_model, ids) * math.exp(0.7))
        assert face_detent(task.sim.models[1], ids) == pytest.approx(
            face_detent(task.base_model, ids) * math.exp(-0.5))

"""Every observation part names its real-hand source, and the deploy runtime, given what those
sources read (SensorReading fields, goal keys, control state), builds each task's observation."""

from __future__ import annotations

import numpy as np
import pytest

from dexrl.deploy.controller import SensorReading
from dexrl.deploy.observation import BUILDERS, ControlState, ObservationBuilder
from dexrl.export.manifest import observation_section
from dexrl.obs_parts import KINDS, SIMULATOR
from dexrl.tasks.registry import make_task, task_names
from dexrl.tasks.rubiks import ROTATE
from dexrl.tasks.rubiks_cube import QUARTER


@pytest.mark.parametrize("env", task_names())
def test_each_part_names_its_source_and_the_critic_parts_are_named(env: str) -> None:
    task = make_task(env, num_envs=2, seed=0, autoreset=False)
    policy, critic = task.policy_obs_parts(), task.critic_obs_parts()
    assert sum(p.size for p in policy) == task.obs_dim
    assert sum(p.size for p in critic) == task.critic_obs_dim
    assert len({p.name for p in critic}) == len(critic)  # unique names
    for part in policy:  # every policy part is exportable here, and the runtime builds its kind
        assert part.source.exportable and part.source.kind in BUILDERS, part
    assert critic[: len(policy)] == policy  # the critic sees the clean policy parts first
    assert all(p.source == SIMULATOR for p in critic[len(policy) :])
    # The manifest writes each part's source as it is declared.
    section = observation_section(task)
    assert [p["source"] for p in section["parts"]] == [p.source.manifest() for p in policy]
    for entry in section["parts"]:
        assert entry["source"]["reads"] == list(KINDS[entry["source"]["kind"]].reads)


def _reading(task) -> SensorReading:  # type: ignore[no-untyped-def]
    """What a real hand (and SimHand) reads for env 0 of `task`."""
    return SensorReading(timestamp=0.0, joint_pos=task.hand_qpos()[0].copy(), palm_pos=task.site_pos[0, 0].copy(),
                         fingertip_pos=task.site_pos[0, 1:].copy(), **task.tracker_reading(0))  # fmt: skip


def _deployed(task, builder: ObservationBuilder) -> np.ndarray:  # type: ignore[no-untyped-def]
    control = ControlState(task.targets[0].copy(), task.smoothed_action[0].copy(), task.last_action[0].copy())
    return builder.build(_reading(task), task.deploy_goal(0), control)[0]


@pytest.mark.parametrize("env", ["reach", "cube_rotate", "face_turn"])
def test_the_deploy_runtime_builds_the_tasks_observation_from_the_sources(env: str) -> None:
    task = make_task(env, num_envs=1, seed=4)
    task.reset()
    builder = ObservationBuilder(observation_section(task))
    rng = np.random.default_rng(0)
    for k in range(12):
        if env == "face_turn" and k in (3, 6):
            task.turn_face(0, 0.4 if k == 3 else -0.7)
        np.testing.assert_allclose(_deployed(task, builder), task._policy_obs_clean()[0], atol=1e-6, rtol=0)
        task.step(rng.uniform(-1, 1, (1, task.action_dim)))


def test_the_face_part_in_each_subgoal_case_and_as_checkpoints_were_trained_with() -> None:
    """rotate with its face on top, rotate with another face on top (the cube knocked over), flip:
    the deploy runtime's face part equals the task's, and the task's equals the formula the
    existing face_turn checkpoints were trained with."""
    task = make_task("face_turn", num_envs=1, seed=1, autoreset=False)
    task.reset()
    builder = ObservationBuilder(observation_section(task))
    parts = task.policy_obs_parts()
    start = sum(p.size for p in parts[: [p.name for p in parts].index("face")])
    cases = 0
    for goal_type, bound, turns, angle in [(ROTATE, True, 0, 0.3), (ROTATE, True, 1, -0.2), (ROTATE, False, 1, 0.5),
                                           (1 - ROTATE, False, 0, 0.9), (1 - ROTATE, True, -1, -0.1)]:  # fmt: skip
        task.goal_type[0], task.goal_face_bound[0], task.face_turns[0] = goal_type, bound, turns
        task.face_target[0] = QUARTER if goal_type == ROTATE else 0.0
        task.turn_face(0, angle - float(task.qpos[0, task.cube_ids.hinge_qpos]))
        face = task._policy_obs_clean()[0, start : start + 4]
        q = float(task.qpos[0, task.cube_ids.hinge_qpos])
        to_target = task.face_target[0] - (turns * QUARTER + q) if bound else task.face_target[0]
        old = to_target if goal_type == ROTATE else np.round(q / QUARTER) * QUARTER - q
        np.testing.assert_allclose(face, [q, old, goal_type == ROTATE, goal_type != ROTATE], atol=1e-12)
        np.testing.assert_allclose(_deployed(task, builder)[start : start + 4], face, atol=1e-6)
        cases += 1
    assert cases == 5

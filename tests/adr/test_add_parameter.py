"""Adding a randomized parameter, the way the README's "Add a randomized parameter" recipe says:
a `ParamSpec` (what ADR needs: mapping, hard limits, unit) and an `Applier` (what it writes into
env i's model), registered with `dexrl.adr.apply.register_param` from outside the package. The
parameter is then configured, drawn and applied like a built-in one, and at its hard limits it
changes the MuJoCo model and what the simulation computes. Real MuJoCo models, no stand-ins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from dexrl.adr import PARAM_NAMES, ParamSpec, adr_config_from_dict, get_spec
from dexrl.adr.apply import (
    Applier,
    ApplyContext,
    register_param,
    unregister_param,
    unsupported_reason,
)
from dexrl.adr.randomizer import EpisodeRandomizer
from dexrl.tasks.registry import make_task

# --- the new parameter: the two things the recipe asks for ----------------------------------

SPEC = ParamSpec(
    name="robot_joint_stiffness",
    description="spring stiffness of every hand joint (jnt_stiffness), toward the joint's "
    "spring reference (qpos_spring)",
    mapping="additive",  # the calibrated hand has no joint springs: value = calibrated + w·λ
    w=0.05,
    hard_limits=(0.0, 2.0),  # up to 0.1 N·m/rad; a stiffness cannot go below the calibrated 0
    unit="N·m/rad",
)


def _hand_joints(ctx: ApplyContext, i: int) -> np.ndarray:
    return ctx.model(i).dof_jntid[ctx.index.hand_dofs]  # type: ignore[no-any-return]


def apply_joint_stiffness(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    """Env i's hand joints get calibrated stiffness + w·λ (from the calibrated model: no compounding)."""
    joints = _hand_joints(ctx, i)
    ctx.model(i).jnt_stiffness[joints] = spec.to_value(ctx.calibrated[i].jnt_stiffness[joints], lam)


APPLIER = Applier(apply_joint_stiffness)


@pytest.fixture
def registered() -> Iterator[None]:
    register_param(SPEC, APPLIER)
    try:
        yield
    finally:
        unregister_param(SPEC.name)


# --- helpers ------------------------------------------------------------------------------------


def _randomized_task(lam: float) -> tuple[Any, EpisodeRandomizer]:
    """A reach task (the hand alone) whose episodes run the new parameter at `lam`: mode manual
    with the zero-width range [λ, λ], from the config dict a configs/adr/*.yaml would hold, drawn
    by a real ADR state."""
    cfg = adr_config_from_dict(
        {"mode": "manual", "params": {SPEC.name: {"manual_range": [lam, lam]}}}
    )
    randomizer = EpisodeRandomizer(cfg)
    task = make_task("reach", num_envs=1, seed=0)
    randomizer.attach(task)
    task.reset()
    return task, randomizer


def _hold(task: Any, steps: int) -> np.ndarray:
    """Zero relative actions (the targets hold the start pose) for `steps` control steps; qpos after."""
    for _ in range(steps):
        task.step(np.zeros((task.num_envs, task.action_dim)))
    return task.qpos[0].copy()


# --- tests --------------------------------------------------------------------------------------


def test_a_registered_parameter_is_configured_like_a_built_in_one(registered: None) -> None:
    assert get_spec(SPEC.name) is SPEC and PARAM_NAMES[-1] == SPEC.name  # appended: drawn last
    auto = adr_config_from_dict({"mode": "auto", "params": {SPEC.name: {"delta": 0.1}}})
    assert auto.is_randomized(SPEC.name) and auto.delta_for(SPEC.name) == 0.1
    with pytest.raises(ValueError, match="leaves the hard limits"):
        adr_config_from_dict(
            {"mode": "manual", "params": {SPEC.name: {"manual_range": [0.0, 3.0]}}}
        )
    assert unsupported_reason(SPEC.name, make_task("reach", num_envs=1)) is None  # needs no cube


def test_at_its_limits_it_changes_the_model_and_the_simulation(registered: None) -> None:
    plain = make_task("reach", num_envs=1, seed=0)
    plain.reset()
    held = _hold(plain, 10)
    low, high = SPEC.hard_limits
    for lam in (low, high):
        task, randomizer = _randomized_task(lam)
        assignment = randomizer.assignments[0]
        assert assignment is not None and assignment.lambdas[SPEC.name] == lam
        m, d, base = task.sim.models[0], task.sim.datas[0], task.base_model
        joints = m.dof_jntid[task.ids.hand_dof_adr]
        # The model: calibrated stiffness (0) + w·λ on every hand joint, nothing else touched.
        np.testing.assert_allclose(
            m.jnt_stiffness[joints], base.jnt_stiffness[joints] + SPEC.w * lam
        )
        others = np.setdiff1d(np.arange(m.njnt), joints)
        np.testing.assert_array_equal(m.jnt_stiffness[others], base.jnt_stiffness[others])
        # The data (reset_env ran mj_forward): the spring force -k·(q - q_spring) on each joint.
        adr = m.jnt_qposadr[joints]
        expected = -m.jnt_stiffness[joints] * (d.qpos[adr] - m.qpos_spring[adr])
        np.testing.assert_allclose(d.qfrc_spring[task.ids.hand_dof_adr], expected, atol=1e-12)
        moved = _hold(task, 10)
        if lam == 0.0:  # the calibrated model: the same episode as without the parameter
            assert not d.qfrc_spring.any()
            np.testing.assert_array_equal(moved, held)
        else:  # the springs pull the joints away from where the servos alone hold them
            assert np.abs(expected).max() > 1e-3
            assert np.abs(moved - held).max() > 1e-4


def test_values_are_written_from_the_calibrated_model_every_episode(registered: None) -> None:
    task, _ = _randomized_task(SPEC.hard_limits[1])
    first = task.sim.models[0].jnt_stiffness.copy()
    for _ in range(3):
        task.reset_env(0)
        np.testing.assert_array_equal(task.sim.models[0].jnt_stiffness, first)


def test_unregistering_removes_it_and_a_name_is_registered_once(registered: None) -> None:
    with pytest.raises(ValueError, match="already"):
        register_param(SPEC, APPLIER)
    with pytest.raises(ValueError, match="built in"):
        unregister_param("gravity")
    unregister_param(SPEC.name)
    try:
        assert SPEC.name not in PARAM_NAMES
        with pytest.raises(ValueError, match="unknown parameter"):
            adr_config_from_dict({"mode": "auto", "params": {SPEC.name: {"delta": 0.1}}})
    finally:
        register_param(SPEC, APPLIER)  # what the fixture's teardown removes

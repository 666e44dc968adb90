"""The ladder moves on only past a met bar, says where it stopped and why, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dexrl.doctor.ladder import Rung, load_ladder, run_ladder
from dexrl.frontdoor import ConfigError, compose

# One worker (each rung starts its own Ray actors: the test's cost), one 64-sample iteration a rung.
TINY = ["train.num_workers=1", "train.envs_per_worker=8", "train.horizon=8", "logger=none",
        "model.actor_hidden=[32]", "model.critic_hidden=[32]"]  # fmt: skip


def test_shipped_ladder_climbs_the_four_tasks() -> None:
    rungs, window = load_ladder()
    assert [r.env for r in rungs] == ["reach", "cube_rotate_z", "cube_rotate", "face_turn"]
    assert window >= 1 and all(r.total_env_steps > 0 for r in rungs)


def test_the_face_turn_rung_trains_experiment_face_turn_fast_env() -> None:
    """The rung's overrides are face_turn_fast's env (README "The next rungs"), so the two do
    not drift apart."""
    from dexrl.frontdoor import typed_configs

    rung = next(r for r in load_ladder()[0] if r.env == "face_turn")
    ladder_env = typed_configs(compose([f"env={rung.env}", *rung.overrides], "train").plain()).env
    experiment_env = typed_configs(compose(["experiment=face_turn_fast"], "train").plain()).env
    assert ladder_env == experiment_env
    assert rung.total_env_steps == 2_000_000 and rung.metric == "success_rate"


def test_train_sends_the_ladder_to_the_doctor() -> None:
    """`scripts/train.py experiment=ladder` is not one run: the error names the doctor's command."""
    with pytest.raises(ConfigError, match=r"python scripts/doctor\.py experiment=ladder"):
        compose(["experiment=ladder"], "train")


def test_ladder_stops_at_a_missed_bar_and_resumes(ray_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rungs = [
        Rung("reach", (), 64, "iteration", 1.0),  # met: the mean iteration number is >= 1
        Rung("cube_rotate_z", (), 64, "success_rate", 2.0),  # a rate cannot reach 2
        Rung("cube_rotate", (), 64, "success_rate", 0.0),
    ]
    checks = run_ladder(tmp_path, TINY, (rungs, 10), say=lambda _m: None)
    assert [(c.name, c.status) for c in checks] == [
        ("reach", "pass"), ("cube_rotate_z", "fail"), ("cube_rotate", "warn")]  # fmt: skip
    assert "stopped here" in checks[1].hint and "success_rate" in checks[1].hint
    state = json.loads((tmp_path / "ladder.json").read_text())
    assert state["reach"]["passed"] and not state["cube_rotate_z"]["passed"]
    assert "cube_rotate" not in state  # never trained
    reach_rows = (tmp_path / "reach" / "metrics.jsonl").read_text().splitlines()
    # Resumed: the passed rung is not trained again, the failed one continues from its checkpoint
    # (its budget is spent, so it adds no iteration) and fails the same way.
    again = run_ladder(tmp_path, TINY, (rungs, 10), say=lambda _m: None)
    assert [(c.name, c.status) for c in again] == [
        ("reach", "pass"), ("cube_rotate_z", "fail"), ("cube_rotate", "warn")]  # fmt: skip
    assert (tmp_path / "reach" / "metrics.jsonl").read_text().splitlines() == reach_rows
    assert "earlier" in again[0].hint

"""ADR you can watch: per-parameter moves, ranges in physical units, adr.png (no Ray, no MuJoCo)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from dexrl.adr import PARAM_NAMES, ADRConfig, ADRState, ParamConfig, get_spec
from dexrl.adr.report import format_ranges, physical_ranges, plot_adr, write_adr_plot
from dexrl.distributed.adr_actor import ADRStateActor

ACTIVE = ("gravity", "robot_link_mass", "action_noise")


def _cfg(**kwargs: object) -> ADRConfig:
    params = {n: ParamConfig(enabled=n in ACTIVE) for n in PARAM_NAMES}
    merged: dict[str, object] = {"buffer_size": 2, "boundary_prob": 1.0, "delta": 0.1, **kwargs}
    return ADRConfig(mode="auto", params=params, **merged)  # type: ignore[arg-type]


def _iterate(actor: ADRStateActor, episodes: int, performance: float) -> dict[str, float]:
    """One 'iteration': episodes sampled, all reported with `performance`, then the metrics."""
    actor.report([(a, performance, True) for a in actor.sample_episodes(episodes)])
    return actor.iteration_metrics()


def test_moves_are_counted_per_parameter_and_per_iteration() -> None:
    actor = ADRStateActor(_cfg())
    actor.set_nominals({"gravity": 9.81})
    first = _iterate(actor, 60, 30.0)  # ≥ t_H = 20: every decision widens
    assert first["adr/decisions"] >= 1
    widen = {n: first[f"adr/widen/{n}"] for n in ACTIVE}
    assert sum(widen.values()) == first["adr/widen_events"] > 0
    assert all(first[f"adr/narrow/{n}"] == 0 for n in ACTIVE)
    assert not any(k.startswith("adr/widen/") and k.split("/")[2] not in ACTIVE for k in first)
    second = _iterate(actor, 0, 30.0)  # nothing happened since: per-iteration counts are 0
    assert all(second[f"adr/widen/{n}"] == 0 for n in ACTIVE)
    assert second["adr/widen_events"] == first["adr/widen_events"]  # totals stay cumulative
    third = _iterate(actor, 200, 0.0)  # ≤ t_L = 10: narrows back
    assert sum(third[f"adr/narrow/{n}"] for n in ACTIVE) == third["adr/narrow_events"] > 0
    # A restored state (resume) counts per-iteration moves from its checkpoint on, and keeps
    # the per-parameter totals.
    saved = json.dumps(actor.to_json())
    restored = ADRStateActor(_cfg(), saved)
    assert restored.state.param_events() == actor.state.param_events()
    assert all(
        v == 0 for k, v in restored.iteration_metrics().items() if k.startswith("adr/widen/")
    )


def test_checkpoints_without_per_parameter_moves_still_load() -> None:
    state = ADRState(_cfg())
    data = state.to_json()
    del data["param_events"]
    assert ADRState.from_json(data, _cfg()).param_events() == dict.fromkeys(
        [f"{k}/{n}" for n in PARAM_NAMES if n in ACTIVE for k in ("widen", "narrow")], 0
    )


def test_ranges_are_logged_in_physical_units() -> None:
    state = ADRState(_cfg(), nominals={"gravity": 9.81})
    state._low[:], state._high[:] = -0.5, 0.5  # as if widened (λ units)
    m = state.metrics()
    assert (m["adr/range/gravity/low"], m["adr/range/gravity/high"]) == pytest.approx((9.31, 10.31))
    # Every link's mass has no single calibrated value: the factor on the calibrated model.
    assert m["adr/range/robot_link_mass/high"] == pytest.approx(math.exp(0.5))
    assert m["adr/range/action_noise/high"] == pytest.approx(0.05)  # std, in action range
    assert "adr/range/cube_mass/low" not in m  # not randomized here
    # The unit: the parameter's own with a scalar calibrated value (noise: 0 by definition).
    units = {n: get_spec(n).physical_unit(f"adr/{n}/low_value" in m) for n in ACTIVE}
    assert units == {
        "gravity": "m/s²",
        "robot_link_mass": "× calibrated",
        "action_noise": "action range",
    }
    assert get_spec("robot_joint_damping").physical_unit(False) == "× calibrated"
    assert get_spec("cube_damping").physical_unit(False) == "1/s added"


def test_physical_ranges_for_the_evaluation_record() -> None:
    ranges = {"gravity": (-0.5, 1.0), "robot_link_mass": (-0.2, 0.2)}
    phys = physical_ranges(ranges, {"gravity": 9.81})
    assert phys["gravity"] == pytest.approx(
        {"low": 9.31, "high": 10.81, "calibrated": 9.81, "unit": "m/s²"}
    )
    assert phys["robot_link_mass"]["unit"] == "× calibrated"
    assert phys["robot_link_mass"]["low"] == pytest.approx(math.exp(-0.2))
    line = format_ranges(phys)
    assert "gravity 9.31–10.8 m/s²" in line and "robot link mass 0.819–1.22 × calibrated" in line
    assert format_ranges({}).startswith("none")


def test_adr_png_shows_ranges_and_entropy(tmp_path: Path) -> None:
    actor = ADRStateActor(_cfg())
    actor.set_nominals({"gravity": 9.81})
    with (tmp_path / "metrics.jsonl").open("w") as f:
        for it in range(1, 13):
            m = _iterate(actor, 30, 30.0 if it < 9 else 0.0)
            f.write(json.dumps({"iteration": it, "env_steps": 1000 * it, **m}) + "\n")
        f.write('{"iteration": 13, "env_st')  # the torn last line of a killed run
    assert write_adr_plot(tmp_path, 12_000) == tmp_path / "adr.png"
    with Image.open(tmp_path / "adr.png") as image:
        image.verify()
    with Image.open(tmp_path / "adr.png") as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # lines, fills, text: not blank
    assert (pixels[..., 1] > pixels[..., 0] + 30).sum() > 1000  # the green range bands


def test_no_plot_before_the_first_adr_row(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"iteration": 1, "env_steps": 10}) + "\n")
    assert plot_adr(tmp_path / "metrics.jsonl", tmp_path / "adr.png") is None
    assert write_adr_plot(tmp_path / "missing", 0) is None


def test_adr_png_goes_to_an_active_wandb_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[tuple[dict[str, object], int]] = []
    run = SimpleNamespace(log=lambda data, step: logged.append((data, step)))
    monkeypatch.setitem(
        sys.modules, "wandb", SimpleNamespace(run=run, Image=lambda p: ("image", p))
    )
    actor = ADRStateActor(_cfg())
    rows = [{"iteration": i, "env_steps": 100 * i, **_iterate(actor, 10, 30.0)} for i in (1, 2)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_adr_plot(tmp_path, 200)
    assert logged == [({"adr/plot": ("image", str(tmp_path / "adr.png"))}, 200)]

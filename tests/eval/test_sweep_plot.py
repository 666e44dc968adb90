"""sweep.png explains itself: physical units on x (never λ), counts from zero, the episode cap,
the trained ADR range, and the checkpoint's env steps and the episodes per point in the title."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest


def _rows(param: str, lams: list[float], values: list[float], median: list[float],
          trained: tuple[float, float] = (0.0, 0.0)) -> list[dict[str, Any]]:  # fmt: skip
    return [{"param": param, "lambda": lam, "value": v, "calibrated": lam == 0.0,
             "trained_low": trained[0], "trained_high": trained[1],
             "consecutive_successes_median": m, "consecutive_successes_p10": 0.0,
             "consecutive_successes_p90": m + 1.0} for lam, v, m in zip(lams, values, median, strict=True)]  # fmt: skip


def _figure(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]], tmp_path: Path, **kw: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dexrl.eval.evaluate import plot_sweep

    kept: list[Any] = []
    monkeypatch.setattr(plt, "close", kept.append)
    path = plot_sweep(rows, tmp_path / "sweep.png", **kw)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return kept[0]


def test_axes_are_physical_start_at_zero_and_show_cap_and_trained_range(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # fmt: skip
    from dexrl.eval.evaluate import sweep_title

    rows = (_rows("cube_mass", [-0.5, 0.0, 0.5], [0.047, 0.078, 0.129], [0.0, 0.0, 0.0], (-0.25, 0.25))
            + _rows("robot_link_mass", [-1.0, 0.0, 1.0], [math.nan] * 3, [3.0, 5.0, 2.0]))  # fmt: skip
    title = sweep_title("cube_rotate_z", 16, {"trained_env_steps": 5005312, "trained_iterations": 611})
    fig = _figure(monkeypatch, rows, tmp_path, title=title, cap=50.0)
    mass, links = fig.axes
    assert mass.get_xlabel() == "cube mass (kg)"
    assert links.get_xlabel() == "robot link mass (× calibrated)"
    assert links.lines[0].get_xdata() == pytest.approx([math.exp(-1.0), 1.0, math.exp(1.0)])
    for ax in fig.axes:
        assert ax.get_ylim()[0] == 0.0 and ax.get_ylim()[1] >= 50.0  # a flat line at 0 is on the floor
        assert ax.get_ylabel() == "consecutive successes per episode"
    labels = [t.get_text() for t in mass.get_legend().get_texts()]
    assert "episode ends at 50 successes" in labels and "trained ADR range" in labels
    shaded = [p for p in mass.patches if p.get_label() == "trained ADR range"]
    x0, x1 = shaded[0].get_x(), shaded[0].get_x() + shaded[0].get_width()
    assert 0.047 < x0 < 0.078 < x1 < 0.129  # λ ±0.25 drawn in kg between the grid points
    suptitle = fig._suptitle.get_text()
    assert "5,005,312 env steps" in suptitle and "16 episodes per point" in suptitle


def test_an_additive_parameter_without_one_calibrated_value_is_an_amount_added() -> None:
    from dexrl.adr.params import get_spec
    from dexrl.eval.evaluate import sweep_axis

    spec = get_spec("cube_damping")
    x, label = sweep_axis("cube_damping", [0.0, 1.0], [math.nan, math.nan])
    assert x.tolist() == pytest.approx([0.0, spec.w]) and label == "cube damping (1/s added)"
    x, label = sweep_axis("action_latency", [0.0, 2.0], [0.0, 2.0])
    assert x.tolist() == [0.0, 2.0] and label == "action latency (control steps)"

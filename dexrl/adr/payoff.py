"""The payoff of ADR, measured: policies trained with and without ADR at every hard limit.

Each policy is evaluated by `scripts/evaluate.py sweep=all sweep_points=2`: one ADR parameter at a
time at its low hard limit, at the calibrated value and at its high hard limit, the rest
calibrated, on the same evaluation episodes ([R] §5 reports robustness the same way: each
physical parameter perturbed alone). `compare` reads those sweep.csv files per group ("adr",
"none") and gives, for every parameter extreme, each policy's success rate and median
consecutive successes, and per policy the worst case over all extremes; `plot_payoff` draws it.
`scripts/adr_payoff.py` runs the evaluations and writes the table, JSON and PNG.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexrl.adr.params import get_spec

SWEEP_FILE = "sweep.csv"


@dataclass(frozen=True)
class Point:
    """One sweep point of one policy: parameter `param` at λ (`value` in physical units)."""

    param: str
    lam: float
    value: float
    success_rate: float
    median: float
    drop_rate: float
    trained: bool  # inside the policy's trained ADR range (False for a policy without ADR)


def read_sweep(path: Path) -> list[Point]:
    """The points of one sweep.csv (as `dexrl.eval.evaluate.run_sweep` writes it)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no sweep.csv; run scripts/evaluate.py checkpoint=<run> sweep=all "
                                f"sweep_points=2 out={path.parent} first")  # fmt: skip
    points = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            lam, lo, hi = float(row["lambda"]), float(row["trained_low"]), float(row["trained_high"])
            points.append(Point(row["param"], lam, float(row["value"]), float(row["success_rate"]),
                                float(row["consecutive_successes_median"]), float(row["drop_rate"]),
                                hi > lo and lo <= lam <= hi))  # fmt: skip
    if not points:
        raise ValueError(f"{path}: the sweep has no rows")
    return points


def extremes(points: Sequence[Point]) -> list[Point]:
    """The points at a hard limit (every point but the calibrated λ = 0)."""
    return [p for p in points if p.lam != 0.0]


def worst_case(points: Sequence[Point]) -> dict[str, Any]:
    """A policy's worst case over every parameter extreme: the lowest success rate and the
    lowest median consecutive successes, and where each happens."""
    ext = extremes(points)
    by_rate = min(ext, key=lambda p: (p.success_rate, p.median))
    by_median = min(ext, key=lambda p: (p.median, p.success_rate))
    return {"success_rate": by_rate.success_rate, "success_rate_at": _where(by_rate),
            "median": by_median.median, "median_at": _where(by_median),
            "extremes": len(ext),
            "mean_success_rate": statistics.fmean(p.success_rate for p in ext)}  # fmt: skip


def _where(p: Point) -> str:
    return f"{p.param} {_side(p)}"


def compare(groups: Mapping[str, Mapping[str, Sequence[Point]]]) -> dict[str, Any]:
    """{group: {policy: points}} → per policy its worst case and calibrated figures, and per
    parameter extreme each policy's (success rate, median) with the group means."""
    policies: dict[str, Any] = {}
    table: dict[str, dict[str, Any]] = {}
    for group, runs in groups.items():
        for name, points in runs.items():
            calib = [p for p in points if p.lam == 0.0]
            policies[name] = {"group": group, "worst": worst_case(points),
                              "calibrated_success_rate": calib[0].success_rate if calib else None,
                              "calibrated_median": calib[0].median if calib else None}  # fmt: skip
            for p in extremes(points):
                key = _where(p)
                row = table.setdefault(key, {"param": p.param, "side": _side(p), "lambda": p.lam,
                                             "value": p.value, "policies": {}})  # fmt: skip
                row["policies"][name] = {"group": group, "success_rate": p.success_rate,
                                         "median": p.median, "drop_rate": p.drop_rate,
                                         "trained": p.trained}  # fmt: skip
    for row in table.values():
        for group in groups:
            mine = [v for v in row["policies"].values() if v["group"] == group]
            if mine:
                row[f"{group}_success_rate"] = statistics.fmean(v["success_rate"] for v in mine)
                row[f"{group}_median"] = statistics.fmean(v["median"] for v in mine)
    return {"policies": policies, "extremes": table}


def _side(p: Point) -> str:
    lo, hi = get_spec(p.param).hard_limits
    return "low" if lo < 0 and p.lam < 0 else "high"


def markdown(result: Mapping[str, Any], groups: Sequence[str]) -> str:
    """Two tables: every policy's worst case, then each parameter extreme per group."""
    lines = ["| policy | group | calibrated success / median | worst success rate (where) | "
             "worst median consecutive (where) | mean success over extremes |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, pol in result["policies"].items():
        w = pol["worst"]
        lines.append(f"| {name} | {pol['group']} | {pol['calibrated_success_rate']:.2f} / "
                     f"{pol['calibrated_median']:g} | {w['success_rate']:.2f} ({w['success_rate_at']}) | "
                     f"{w['median']:g} ({w['median_at']}) | {w['mean_success_rate']:.2f} |")  # fmt: skip
    head = " | ".join(f"{g}: success rate per policy (mean) | {g}: median per policy" for g in groups)
    lines += ["", f"| parameter at its hard limit | value | {head} |",
              "|---|---|" + "---|---|" * len(groups)]  # fmt: skip
    for key, row in result["extremes"].items():
        cells = []
        for g in groups:
            mine = [v for v in row["policies"].values() if v["group"] == g]
            rates = " / ".join(f"{v['success_rate']:.2f}" for v in mine)
            meds = " / ".join(f"{v['median']:g}" for v in mine)
            cells.append(f"{rates} ({row.get(f'{g}_success_rate', float('nan')):.2f}) | {meds}")
        lines.append(f"| {key} | {_physical(row)} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def _physical(row: Mapping[str, Any]) -> str:
    """The extreme's value in its unit ("0.005 s", "2 × calibrated")."""
    spec, value = get_spec(row["param"]), row["value"]
    known = math.isfinite(value)
    shown = value if known else spec.physical(row["lambda"])
    return f"{shown:.3g} {spec.physical_unit(known)}"


def plot_payoff(groups: Mapping[str, Mapping[str, Sequence[Point]]], path: Path, title: str = "") -> Path:
    """One panel per parameter: median consecutive successes at low limit / calibrated / high
    limit, one line per policy, coloured by group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from dexrl.eval.evaluate import sweep_axis

    params = list(dict.fromkeys(p.param for runs in groups.values() for pts in runs.values() for p in pts))
    cols = min(4, len(params))
    rows = -(-len(params) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    colours = dict(zip(groups, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=False))
    top = max(p.median for runs in groups.values() for pts in runs.values() for p in pts)
    for ax, param in zip(axes.flat, params, strict=False):
        for group, runs in groups.items():
            for i, pts in enumerate(runs.values()):
                mine = sorted((p for p in pts if p.param == param), key=lambda p: p.lam)
                x, label = sweep_axis(param, [p.lam for p in mine], [p.value for p in mine])
                ax.plot(x, [p.median for p in mine], "o-", color=colours[group], alpha=0.75,
                        label=f"{group}" if i == 0 else None)  # fmt: skip
                ax.set_xlabel(label, fontsize=8)
        ax.set_ylim(0.0, max(top, 1.0) * 1.08)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
    for ax in axes.flat[len(params):]:
        ax.axis("off")
    axes[0][0].set_ylabel("median consecutive successes", fontsize=8)
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

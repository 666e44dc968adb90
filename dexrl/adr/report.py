"""ADR you can watch: ranges in physical units, and adr.png (ranges and entropy over env steps).

The training run writes `adr/range/<name>/low|high` (physical terms, `ParamSpec.physical`),
`adr/widen/<name>`, `adr/narrow/<name>` (boundary moves per iteration) and `adr_entropy_npd`
into metrics.jsonl every iteration; `plot_adr` draws them from that file, so a resumed run's
plot covers the whole run. The trainer calls `write_adr_plot` at every checkpoint and at the
end. matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dexrl.adr.params import PARAM_NAMES, get_spec

PLOT_NAME = "adr.png"


def physical_ranges(
    ranges: Mapping[str, tuple[float, float]], nominals: Mapping[str, float] | None = None
) -> dict[str, dict[str, Any]]:
    """{name: {low, high, calibrated, unit}} for ranges given in λ units (`nominals`: the scalar
    calibrated values known for this model, `dexrl.adr.apply.scalar_nominals`)."""
    nominals = nominals or {}
    out: dict[str, dict[str, Any]] = {}
    for name, (low, high) in ranges.items():
        spec, nominal = get_spec(name), nominals.get(name)
        out[name] = {"low": spec.physical(low, nominal), "high": spec.physical(high, nominal),
                     "calibrated": spec.physical(0.0, nominal),
                     "unit": spec.physical_unit(nominal is not None)}  # fmt: skip
    return out


def format_ranges(physical: Mapping[str, Mapping[str, Any]]) -> str:
    """One line, e.g. "gravity 9.61–10.0 m/s², robot link mass 0.98–1.02 × calibrated"
    (3 significant digits)."""
    parts = [
        f"{name.replace('_', ' ')} {r['low']:.3g}–{r['high']:.3g} {r['unit']}"
        for name, r in physical.items()
    ]
    return ", ".join(parts) if parts else "none (every range still at its calibrated value)"


def read_rows(metrics_path: Path) -> list[dict[str, Any]]:
    """The rows of a metrics.jsonl (a torn last line of a killed run is skipped)."""
    rows = []
    for line in metrics_path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _series(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) if r.get(key) is not None else math.nan for r in rows]


def _calibrated(name: str, row: Mapping[str, Any]) -> tuple[float, bool]:
    """The calibrated value in the plotted terms, and whether it is the parameter's own value
    (a scalar nominal, recovered from `adr/<name>/low_value` and λ) or a factor / amount added."""
    spec = get_spec(name)
    value, lam = row.get(f"adr/{name}/low_value"), row.get(f"adr/{name}/low")
    if value is None or lam is None:
        return spec.physical(0.0), False
    if spec.mapping == "multiplicative":
        return float(value) / math.exp(spec.w * float(lam)), True
    return float(value) - spec.w * float(lam), True


def plot_adr(metrics_path: Path, out_path: Path, title: str = "") -> Path | None:
    """adr.png: one panel per randomized parameter (its range over env steps, in physical units,
    calibrated value dashed), the ADR entropy, and the boundary moves so far. None when
    metrics.jsonl has no ADR rows yet."""
    rows = [r for r in read_rows(metrics_path) if "adr_entropy_npd" in r and "env_steps" in r]
    if not rows:
        return None
    names = [n for n in PARAM_NAMES if f"adr/range/{n}/low" in rows[-1]]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(names) + 2
    cols = min(4, panels)
    nrows = math.ceil(panels / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.0 * cols, 2.7 * nrows), squeeze=False)
    flat = list(axes.flat)
    x = [float(r["env_steps"]) for r in rows]
    for ax, name in zip(flat, names, strict=False):
        low, high = _series(rows, f"adr/range/{name}/low"), _series(rows, f"adr/range/{name}/high")
        calibrated, known = _calibrated(name, rows[-1])
        ax.fill_between(x, low, high, color="tab:green", alpha=0.3)
        ax.plot(x, low, color="tab:green", lw=1)
        ax.plot(x, high, color="tab:green", lw=1)
        ax.axhline(calibrated, color="k", ls="--", lw=0.8)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_ylabel(get_spec(name).physical_unit(known), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    ax = flat[len(names)]
    ax.plot(x, _series(rows, "adr_entropy_npd"), color="tab:purple")
    ax.set_title("ADR entropy", fontsize=9)
    ax.set_ylabel("nats per dimension", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax = flat[len(names) + 1]
    for key, color in (("adr/widen_events", "tab:green"), ("adr/narrow_events", "tab:red")):
        ax.plot(x, _series(rows, key), color=color, label=key.split("/")[1].replace("_", " "))
    ax.set_title("boundary moves (all parameters, so far)", fontsize=9)
    ax.set_ylabel("count", fontsize=8)
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    for ax in flat[panels:]:
        ax.set_visible(False)
    for ax in flat[:panels]:
        ax.set_xlabel("env steps", fontsize=8)
    fig.suptitle(
        title or "ADR ranges over training (green: range, dashed: calibrated)", fontsize=10
    )
    fig.tight_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=90)
    plt.close(fig)
    return out_path


def write_adr_plot(run_dir: Path, env_steps: int, title: str = "") -> Path | None:
    """Draw run_dir/adr.png from run_dir/metrics.jsonl and, when a wandb run is active, log it
    as `adr/plot` at `env_steps`. Returns the path (None before the first ADR row)."""
    metrics = run_dir / "metrics.jsonl"
    if not metrics.is_file():
        return None
    path = plot_adr(metrics, run_dir / PLOT_NAME, title)
    wandb = sys.modules.get("wandb")  # imported by the metrics log only when wandb is enabled
    if path is not None and wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.run.log({"adr/plot": wandb.Image(str(path))}, step=int(env_steps))
    return path


def trained_ranges_physical(env: Any, ranges: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`physical_ranges` of a checkpoint's λ ranges on `env` (an EnvConfig): the calibrated
    scalar values come from a one-env probe of that env (imports MuJoCo)."""
    from dexrl.adr.apply import ApplyContext, scalar_nominals
    from dexrl.tasks.registry import make_task

    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    nominals = scalar_nominals(ApplyContext(probe), list(ranges))
    return physical_ranges({n: (float(r[0]), float(r[1])) for n, r in ranges.items()}, nominals)

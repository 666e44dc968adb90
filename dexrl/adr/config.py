"""Typed configuration of domain randomization: no DR, hand-tuned (manual) DR, or ADR.

`configs/adr/{none,manual,auto}.yaml` are Hydra config-group files whose keys map 1:1 onto
`ADRConfig` (`adr=auto` on the command line selects `configs/adr/auto.yaml`). Library code takes an
`ADRConfig`; `adr_config_from_dict` turns a Hydra node or a plain dict into one, and
`load_adr_config` reads a group file by name or path. Both reject unknown keys by name.

All ranges are in λ units (see `dexrl.adr.params`): λ = 0 is the calibrated model and the value
is `spec.to_value(nominal, λ)`. λ units are used instead of value units because the nominal is
only known per model (and may be an array, e.g. every link's mass), while λ is model independent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.adr.params import PARAM_NAMES, ParamSpec, get_spec

ADR_MODES: tuple[str, ...] = ("none", "manual", "auto")
PAPER_THRESHOLDS = (10.0, 20.0)
"""(t_L, t_H) of [R] Table 15: successes per episode, of a 50-success cap (docs/references.md
"ADR")."""
PAPER_BUFFER_SIZE = 240
"""m of [R] Table 15: boundary results averaged per decision; the cap of the `auto` sizing."""
PAPER_BOUNDARY_PROB = 0.5
"""p_b of [R] Table 15; the `auto` boundary probability never goes below it."""
AUTO = "auto"


@dataclass
class ParamConfig:
    """Per-parameter overrides; every field defaults to the registry / global value."""

    enabled: bool = True
    """False: λ stays 0 (calibrated), no boundary episodes, not counted in the entropy."""
    delta: float | None = None
    """ADR step Δ for this parameter in λ units; None = `ADRConfig.delta` ([R] Alg. 1)."""
    manual_range: list[float] | None = None
    """[lo, hi] in λ units, sampled uniformly in mode "manual"; None = not randomized there.
    A normal distribution N(0, σ) of [D] is written as the uniform of equal std, ±σ·√3."""
    hard_limits: list[float] | None = None
    """[lo, hi] in λ units (lo ≤ 0 ≤ hi) replacing the registry's hard limits."""


@dataclass
class ADRConfig:
    """Domain-randomization settings; defaults: [R]'s policy values (docs/references.md "ADR")."""

    mode: str = "none"
    """"none": calibrated model; "manual": fixed `manual_range`s ([D]); "auto": ADR ([R] §5)."""
    boundary_prob: Any = PAPER_BOUNDARY_PROB
    """p_b: probability that an episode is a boundary episode ([R] Alg. 1; 0.5 per Table 15), or
    "auto": sized to the run with `buffer_size` (`dexrl.adr.sizing`; [R]'s 0.5 unless a small
    run needs more, at most `sizing.MAX_BOUNDARY_PROB`)."""
    delta: float = 0.02
    """Δ: how far one widen/narrow moves a boundary, in λ units ([R] Table 15: 0.02)."""
    threshold_high: float | None = None
    """t_H: buffer average ≥ t_H widens the boundary. None: the task's value
    (`env.adr_threshold_high`, set by `config_for_task`), else [R] Table 15's 20 successes."""
    threshold_low: float | None = None
    """t_L: buffer average ≤ t_L narrows the boundary. None: the task's value
    (`env.adr_threshold_low`), else [R] Table 15's 10 successes."""
    buffer_size: Any = PAPER_BUFFER_SIZE
    """m: boundary results averaged per decision ([R] Table 15: 240), or "auto": sized to the
    run's throughput by `dexrl.adr.sizing.size_for_run` so a boundary can decide within
    `decide_within_iterations` (between a statistical floor and 240). An integer always wins."""
    decide_within_iterations: int = 8
    """K of the `auto` sizing: the training iterations in which a boundary is expected to collect
    the m results of one decision (`dexrl.adr.sizing`)."""
    seed: int = 0
    """Seed of the ADR state's own RNG (boundary choice and λ draws)."""
    params: dict[str, ParamConfig] = field(default_factory=dict)
    """Overrides by parameter name (names from `dexrl.adr.params.PARAM_NAMES`)."""

    def __post_init__(self) -> None:
        if self.mode not in ADR_MODES:
            raise ValueError(f"adr.mode {self.mode!r} is not one of: {', '.join(ADR_MODES)}")
        p_b = self.boundary_prob
        if p_b != AUTO and not (_is_number(p_b) and 0.0 <= p_b <= 1.0):
            raise ValueError(f"adr.boundary_prob must be 'auto' or a number in [0, 1], got {p_b!r}")
        if not self.delta > 0.0:
            raise ValueError(f"adr.delta must be positive, got {self.delta}")
        low, high = self.thresholds()
        if not low < high:
            raise ValueError(
                f"adr.threshold_low ({low}) must be below adr.threshold_high ({high}); "
                "None takes the task's value (env.adr_threshold_low / _high)"
            )
        m = self.buffer_size
        if m != AUTO and not (_is_int(m) and m >= 1):
            raise ValueError(f"adr.buffer_size must be 'auto' or an integer >= 1, got {m!r}")
        k = self.decide_within_iterations
        if not (_is_int(k) and k >= 1):
            raise ValueError(f"adr.decide_within_iterations must be an integer >= 1, got {k!r}")
        unknown = sorted(set(self.params) - set(PARAM_NAMES))
        if unknown:
            raise ValueError(
                f"adr.params: unknown parameter(s) {', '.join(unknown)}; "
                f"known parameters: {', '.join(PARAM_NAMES)}"
            )
        for name, override in self.params.items():
            _validate_param(name, override, get_spec(name))

    def thresholds(self) -> tuple[float, float]:
        """(t_L, t_H) in successes per episode; unset ones are [R] Table 15's (10, 20)."""
        low = PAPER_THRESHOLDS[0] if self.threshold_low is None else self.threshold_low
        high = PAPER_THRESHOLDS[1] if self.threshold_high is None else self.threshold_high
        return float(low), float(high)

    def effective_buffer_size(self) -> int:
        """m the algorithm uses: the integer, or [R]'s 240 for an "auto" not yet sized to a run
        (the trainer sizes it; `ADRState` alone, e.g. in a benchmark, takes the paper's)."""
        return PAPER_BUFFER_SIZE if self.buffer_size == AUTO else int(self.buffer_size)

    def effective_boundary_prob(self) -> float:
        """p_b the algorithm uses: the number, or [R]'s 0.5 for an "auto" not yet sized."""
        return PAPER_BOUNDARY_PROB if self.boundary_prob == AUTO else float(self.boundary_prob)

    def param(self, name: str) -> ParamConfig:
        """The overrides for `name` (all defaults when the config does not mention it)."""
        return self.params.get(name, ParamConfig())

    def is_randomized(self, name: str) -> bool:
        """Whether `name` is a randomized dimension in this mode (λ can leave 0; counted in H)."""
        param = self.param(name)
        if self.mode == "manual":
            return param.enabled and param.manual_range is not None
        return self.mode == "auto" and param.enabled

    def hard_limits(self, spec: ParamSpec) -> tuple[float, float]:
        """Effective λ hard limits of `spec`: the config's override or the registry's."""
        override = self.param(spec.name).hard_limits
        return spec.hard_limits if override is None else (override[0], override[1])

    def delta_for(self, name: str) -> float:
        """Effective ADR step Δ of `name` in λ units."""
        override = self.param(name).delta
        return self.delta if override is None else override


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_pair(name: str, what: str, pair: list[float]) -> None:
    if len(pair) != 2:
        raise ValueError(f"adr.params.{name}.{what} must be [lo, hi], got {list(pair)}")
    if pair[0] > pair[1]:
        raise ValueError(
            f"adr.params.{name}.{what} is inverted: lo {pair[0]} > hi {pair[1]} (λ units)"
        )


def _validate_param(name: str, override: ParamConfig, spec: ParamSpec) -> None:
    if override.delta is not None and not override.delta > 0.0:
        raise ValueError(f"adr.params.{name}.delta must be positive, got {override.delta}")
    if override.hard_limits is not None:
        _check_pair(name, "hard_limits", override.hard_limits)
        lo, hi = override.hard_limits
        if not lo <= 0.0 <= hi:
            raise ValueError(
                f"adr.params.{name}.hard_limits [{lo}, {hi}] must contain the calibrated λ = 0"
            )
    if override.manual_range is not None:
        _check_pair(name, "manual_range", override.manual_range)
        lo, hi = override.manual_range
        limit_lo, limit_hi = override.hard_limits or spec.hard_limits
        if lo < limit_lo or hi > limit_hi:
            raise ValueError(
                f"adr.params.{name}.manual_range [{lo}, {hi}] leaves the hard limits "
                f"[{limit_lo}, {limit_hi}] (λ units)"
            )


def adr_config_from_dict(data: Mapping[str, Any]) -> ADRConfig:
    """An `ADRConfig` from a plain dict or an OmegaConf/Hydra node (e.g. `cfg.adr`).

    Merged onto the structured schema, so an unknown key raises ValueError naming the key;
    the values are then checked by `ADRConfig.__post_init__`.
    """
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ADRConfig), data)
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(f"invalid ADR config: {err}") from err
    assert isinstance(config, ADRConfig)
    return config


def load_adr_config(name_or_path: str | Path) -> ADRConfig:
    """Read an ADR config-group file: a name under `configs/adr/` ("auto") or a .yaml path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        from dexrl.paths import configs_dir  # only needed for names, not explicit paths

        group = configs_dir() / "adr"
        path = group / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in group.glob("*.yaml")))
            raise FileNotFoundError(f"no ADR config {name_or_path!r} in {group}; known: {known}")
    try:
        return adr_config_from_dict(OmegaConf.load(path))  # type: ignore[arg-type]
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err

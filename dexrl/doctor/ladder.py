"""Group 5, the ladder: reach -> cube_rotate_z -> cube_rotate -> face_turn, one step harder at a
time, moving on only when a rung meets its bar (configs/experiment/ladder.yaml).

Each rung is a normal training run in `<ladder_dir>/<env>` (its own checkpoints and
metrics.jsonl); `<ladder_dir>/ladder.json` records every finished rung. Running the same command
with `ladder_dir=<that dir>` skips the rungs that passed and resumes an interrupted one from its
checkpoint, so the ladder survives a stop anywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from dexrl.doctor.report import Check, fmt
from dexrl.frontdoor import ConfigError, compose, typed_configs
from dexrl.paths import configs_dir

GROUP = "ladder"


@dataclass(frozen=True)
class Rung:
    env: str
    overrides: tuple[str, ...]
    total_env_steps: int
    metric: str
    at_least: float


def load_ladder(path: Path | None = None) -> tuple[list[Rung], int]:
    """(rungs, window) from configs/experiment/ladder.yaml; ConfigError names a bad entry."""
    path = path or configs_dir() / "experiment" / "ladder.yaml"
    node: Any = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    try:
        spec: Any = node["ladder"]
        rungs = [Rung(str(r["env"]), tuple(r.get("overrides") or ()), int(r["total_env_steps"]),
                      str(r["metric"]), float(r["at_least"])) for r in spec["rungs"]]  # fmt: skip
        return rungs, int(spec.get("window", 10))
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{path}: each ladder rung needs env, total_env_steps, metric, at_least ({err})") from None


def rung_result(run_dir: Path, rung: Rung, window: int) -> tuple[float, int]:
    """(mean of the rung's metric over its last `window` iterations, env steps trained)."""
    log = run_dir / "metrics.jsonl"
    rows = [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.is_file() else []
    # An iteration where no episode ended logs its episode metrics as null: not a measurement.
    values = [float(r[rung.metric]) for r in rows[-window:] if r.get(rung.metric) is not None]
    values = [v for v in values if np.isfinite(v)]
    steps = int(rows[-1].get("env_steps", 0)) if rows else 0
    return (float(np.mean(values)) if values else float("nan")), steps


def _train_rung(rung: Rung, user: Sequence[str], run_dir: Path) -> None:
    from dexrl.distributed.trainer import Trainer

    composed = compose([f"env={rung.env}", *rung.overrides, *user,
                        f"train.total_env_steps={rung.total_env_steps}"], "doctor")  # fmt: skip
    c = typed_configs(composed.plain())
    resume = str(run_dir) if (run_dir / "checkpoints" / "latest").is_dir() else None
    adr = c.adr if c.adr.mode != "none" else None
    trainer = Trainer(c.env, c.algo, c.model, adr, c.train, c.ray, c.logger, run_dir,
                      seed=c.seed, resume=resume, resolved_config=c.plain)  # fmt: skip
    try:
        trainer.run()
    finally:
        trainer.close()


def run_ladder(
    ladder_dir: Path,
    user: Sequence[str],
    ladder: tuple[list[Rung], int] | None = None,
    say: Callable[[str], None] = print,
) -> list[Check]:
    """Climb from the first rung not yet passed; stop at the first rung that misses its bar.
    `ladder`: (rungs, window), default configs/experiment/ladder.yaml."""
    rungs, window = ladder or load_ladder()
    state_path = ladder_dir / "ladder.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.is_file() else {}
    checks: list[Check] = []
    for k, rung in enumerate(rungs):
        run_dir = ladder_dir / rung.env
        if state.get(rung.env, {}).get("passed"):
            value, steps = rung_result(run_dir, rung, window)
            checks.append(_check(rung, value, steps, "pass", "passed earlier (resumed ladder)"))
            continue
        say(f"[ladder] rung {k + 1}/{len(rungs)}: {rung.env} for {rung.total_env_steps} env steps -> {run_dir}")
        start = time.perf_counter()
        _train_rung(rung, user, run_dir)
        value, steps = rung_result(run_dir, rung, window)
        passed = bool(value >= rung.at_least)
        state[rung.env] = {"passed": passed, "value": value, "env_steps": steps,
                           "wall_s": time.perf_counter() - start}  # fmt: skip
        state_path.write_text(json.dumps(state, indent=2))
        why = "" if passed else (f"stopped here: {rung.metric} {fmt(value)} < {rung.at_least} after {steps} "
                                 f"env steps; fix this rung first (python scripts/doctor.py env={rung.env})")  # fmt: skip
        checks.append(_check(rung, value, steps, "pass" if passed else "fail", why))
        if not passed:
            checks += [_check(r, float("nan"), 0, "warn", "not reached") for r in rungs[k + 1 :]]
            break
    return checks


def _check(rung: Rung, value: float, steps: int, status: str, hint: str) -> Check:
    return Check(GROUP, rung.env, status, f"{rung.metric} {fmt(value)} at {steps} steps",
                 f">= {rung.at_least} within {rung.total_env_steps}", hint)  # fmt: skip


def ladder_main(overrides: list[str], as_json: bool, emit: Callable[..., int]) -> int:
    """scripts/doctor.py experiment=ladder [ladder_dir=<dir>] [train.* overrides]."""
    composed = compose(overrides, "doctor", script_keys={"ladder_dir": None})
    if composed.touched("env"):
        raise ConfigError("the ladder chooses the env of each rung; leave env= out (key: env)")
    ladder_dir = composed.args["ladder_dir"]
    path = Path(ladder_dir) if ladder_dir else Path("runs") / "ladder" / time.strftime("%Y-%m-%d_%H-%M-%S")
    path.mkdir(parents=True, exist_ok=True)
    print(f"[ladder] {path} (continue with: python scripts/doctor.py experiment=ladder ladder_dir={path})")
    checks = run_ladder(path, composed.overrides)
    return emit(checks, as_json, ladder_dir=str(path))

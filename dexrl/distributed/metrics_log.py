"""What the user sees: a progress bar, a line per iteration, a JSONL file and Weights & Biases."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from dexrl.config import LoggerConfig

# The columns of the per-iteration line (name in the line, metric key, format).
_LINE = (
    ("it", "iteration", "d"), ("steps/s", "env_steps_per_s", ".0f"),
    ("return", "episode_return_mean", ".2f"), ("succ", "consecutive_successes_mean", ".2f"),
    ("succ_med", "consecutive_successes_median", ".1f"), ("succ_rate", "success_rate", ".2f"),
    ("solved", "solve_rate", ".2f"), ("subgoals", "subgoals_completed", ".1f"),
    ("drop", "drop_rate", ".2f"), ("adr_H", "adr_entropy_npd", ".3f"),
    ("pi_loss", "policy_loss", ".4f"), ("v_loss", "value_loss", ".4f"), ("kl", "kl_end", ".4f"),
    ("clip", "clip_fraction", ".3f"), ("std", "action_std", ".3f"), ("lr", "lr", ".1e"), ("ev", "explained_variance", ".2f"),
    ("learn_s", "learner_time_s", ".2f"), ("roll_s", "rollout_time_s", ".2f"),
)  # fmt: skip


class MetricsLog:
    """Writes metrics.jsonl in the run directory and mirrors each iteration to wandb and stdout."""

    def __init__(self, run_dir: Path, cfg: LoggerConfig, config: dict[str, Any], resume: bool,
                 resume_iteration: int | None = None) -> None:
        self.cfg = cfg
        run_dir.mkdir(parents=True, exist_ok=True)
        self.moved_rows = cut_after_iteration(run_dir, resume_iteration) if resume_iteration is not None else 0
        self.jsonl = (run_dir / "metrics.jsonl").open("a" if resume else "w")
        self._bar: Any = None
        self._wandb: Any = None
        if cfg.wandb.mode != "disabled":
            import wandb

            # wandb's own banner and its ~40-line history/summary at finish would bury the run's
            # lines: offline it says nothing (close() prints one line: where the run is, how to
            # upload it); online it keeps its few lines with the run's URL.
            quiet = wandb.Settings(silent=True) if cfg.wandb.mode == "offline" else wandb.Settings(quiet=True)
            self._wandb = wandb.init(
                project=cfg.wandb.project, entity=cfg.wandb.entity, mode=cfg.wandb.mode,  # type: ignore[arg-type]
                dir=str(run_dir), config=config, resume="allow" if resume else None, settings=quiet,
            )  # fmt: skip

    def start_progress(self, total: int, done: int) -> None:
        if self.cfg.progress_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, unit="step", unit_scale=True,
                             desc="env steps", file=sys.stderr, dynamic_ncols=True)

    def write(self, metrics: dict[str, Any]) -> None:
        clean = {k: (v if not (isinstance(v, float) and math.isnan(v)) else None) for k, v in metrics.items()}
        self.jsonl.write(json.dumps(clean) + "\n")
        self.jsonl.flush()
        if self._wandb is not None:
            self._wandb.log(metrics, step=int(metrics["env_steps"]))
        if self._bar is not None:
            self._bar.update(int(metrics["env_steps"]) - self._bar.n)
        if metrics["iteration"] % self.cfg.print_every == 0:
            self._print(format_line(metrics))

    def warn(self, message: str) -> None:
        self._print(f"[dexrl] {message}")

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.jsonl.close()
        if self._wandb is not None:
            where = self.wandb_offline_dir()
            self._wandb.finish()
            if where is not None:
                self._print(f"[dexrl] wandb offline run: {where} (upload: wandb sync {where})")

    def wandb_offline_dir(self) -> str | None:
        """The directory of this run's offline wandb data, or None (online, disabled)."""
        if self._wandb is None or self.cfg.wandb.mode != "offline":
            return None
        return str(self._wandb.settings.sync_dir)


def cut_after_iteration(run_dir: Path, iteration: int) -> int:
    """Keep metrics.jsonl one curve when a run resumes in its own directory: the rows logged after
    the checkpoint's `iteration` (the run went on past its last checkpoint before it stopped) move
    to metrics.after_it<iteration>.jsonl, so the resumed rows follow on without a repeat and
    nothing is lost. Returns the number of rows moved."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return 0
    keep: list[str] = []
    moved: list[str] = []
    for line in path.read_text().splitlines():
        try:
            later = int(json.loads(line).get("iteration", 0)) > iteration
        except (ValueError, AttributeError):  # a torn last line of a killed run: not a row
            later = True
        (moved if later else keep).append(line)
    if moved:
        with (run_dir / f"metrics.after_it{iteration}.jsonl").open("a") as f:
            f.write("".join(x + "\n" for x in moved))
        path.write_text("".join(x + "\n" for x in keep))
    return len(moved)


def format_line(m: dict[str, Any]) -> str:
    parts = []
    for label, key, fmt in _LINE:
        v = m.get(key)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        parts.append(f"{label} {format(v, fmt)}")
    return " | ".join(parts)

"""Hydra-style multiruns for the scripts (`-m seed=0,1 env=reach,cube_rotate_z`): the jobs of a
command line, each run as its own process of the script (re-exported by `dexrl.frontdoor`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from dexrl.structured import ConfigError

MULTIRUN_FLAGS = ("-m", "--multirun")


def multirun_jobs(argv: list[str]) -> list[list[str]] | None:
    """The jobs of a Hydra-style multirun command line (`-m seed=0,1 env=reach,cube_rotate_z`:
    the cartesian product of every comma list, in order), or None without `-m`. Values in
    brackets (`env.x=[1,2]`) are one value; `hydra.*` overrides are never split. Hydra's other
    sweep forms (range(), choice(), ...) are refused with one line."""
    if not any(a in MULTIRUN_FLAGS for a in argv):
        return None
    rest = [a for a in argv if a not in MULTIRUN_FLAGS]
    axes: list[list[str]] = []
    for o in rest:
        if "=" not in o:
            raise ConfigError(f"argument '{o}' is not key=value (e.g. -m seed=0,1,2 env=reach)")
        key, value = o.split("=", 1)
        if value.startswith(("range(", "interval(", "choice(", "glob(", "tag(")):
            raise ConfigError(f"'{o}': only comma lists sweep here (e.g. {key}=0,1,2)")
        axes.append([f"{key}={v}" for v in _split_top_level_commas(value)] if not key.startswith("hydra.") else [o])
    jobs: list[list[str]] = [[]]
    for axis in axes:
        jobs = [job + [choice] for job in jobs for choice in axis]
    return jobs


def _split_top_level_commas(value: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in value:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    if any(p == "" for p in parts):
        raise ConfigError(f"empty value in the sweep '{value}' (e.g. seed=0,1,2)")
    return parts


def run_multirun(script: Path, jobs: list[list[str]], check: Callable[[list[str]], Any]) -> int:
    """Run each job as its own process of `script` (its own Ray, its own run directory under
    runs/multirun/<date>/<job number>, or `hydra.sweep.dir=`), one after another, and print a
    summary. `check(job)` (the script's own validation: compose + typed configs) runs on every
    job first, so a typo stops the sweep before any job runs. Returns the number that failed."""
    import subprocess
    import time

    sweep_dir = None
    for job in jobs:
        for o in list(job):
            if o.startswith("hydra.sweep.dir="):
                sweep_dir = o.split("=", 1)[1]
                job.remove(o)
    for job in jobs:
        check(job)  # a ConfigError here names the job's bad key; nothing has run
    root = Path(sweep_dir or f"runs/multirun/{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    root.mkdir(parents=True, exist_ok=True)
    (root / "multirun.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(
        {"script": script.name, "jobs": [{"num": i, "overrides": j, "dir": str(root / str(i))}
                                         for i, j in enumerate(jobs)]})))  # fmt: skip
    failed = []
    for i, job in enumerate(jobs):
        print(f"[dexrl] multirun job {i + 1}/{len(jobs)}: {' '.join(job)} -> {root / str(i)}", flush=True)
        done = subprocess.run([sys.executable, str(script), *job, f"hydra.run.dir={root / str(i)}"], check=False)
        if done.returncode != 0:
            failed.append(i)
            print(f"[dexrl] multirun job {i + 1} failed (exit {done.returncode}); going on", flush=True)
    print(f"[dexrl] multirun: {len(jobs) - len(failed)} of {len(jobs)} jobs finished in {root}"
          + (f"; failed: {', '.join(str(i) for i in failed)}" if failed else ""))  # fmt: skip
    return len(failed)

#!/usr/bin/env python
"""Memory (RSS) of the rollout workers during a real short training run.

For each model (default: mlp, then lstm) this starts a local Ray bound to 127.0.0.1 (or uses the
one this process already runs), builds the `Trainer` as scripts/train.py does (config defaults,
ADR off, a throwaway run directory), trains `--iterations` iterations and, from a thread of this
process, reads every worker's VmRSS (/proc/<pid>/status; the workers report their `pid()`)
every `--interval-s` seconds. Printed per worker: min/median/max RSS over the run, its peak
(VmHWM), and at the end of the run its PSS and private memory (/proc/<pid>/smaps_rollup: RSS
counts shared libraries and Ray object-store pages in full in every process, PSS splits shared
pages between the processes mapping them, private is what the worker alone holds), and whether
torch is mapped into it (a `libtorch` in /proc/<pid>/maps). `--json` adds one JSON object as the
last line.

    python scripts/bench_worker_rss.py                        # cube_rotate, 2 workers, mlp + lstm
    python scripts/bench_worker_rss.py --models lstm --iterations 5 --json
    python scripts/bench_worker_rss.py --envs-per-worker 8 --horizon 16   # a quick smoke run

Linux only (/proc). The learner runs in this process and is not measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from dexrl.benchmarking import proc_kib
from dexrl.config import (
    LoggerConfig,
    RayConfig,
    WandbConfig,
    default_algo_configs,
    default_train_config,
    load_env_config,
)  # fmt: skip

MIB = 1024.0 * 1024.0


def smaps_mib(pid: int) -> dict[str, float | None]:
    """PSS and private (clean + dirty) memory of a process in MiB, from /proc/<pid>/smaps_rollup
    (None where it cannot be read)."""
    fields: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[key] = float(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {"pss": None, "private": None}
    private = fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0)
    return {"pss": fields["Pss"] / 1024 if "Pss" in fields else None, "private": private / 1024}


def torch_mapped(pid: int) -> bool:
    """Whether a torch shared library is mapped into the process (torch was imported there)."""
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False


class RssSampler:
    """Reads the VmRSS of `pids` every `interval_s` seconds on a daemon thread until `stop`."""

    def __init__(self, pids: list[int], interval_s: float) -> None:
        self.pids, self.interval_s = pids, interval_s
        self.samples: dict[int, list[float]] = {pid: [] for pid in pids}
        self.peak: dict[int, float] = {}
        self.end: dict[int, dict[str, float | None]] = {}
        self.torch: dict[int, bool] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def _sample(self) -> None:
        for pid in self.pids:
            rss = proc_kib(pid, "VmRSS")
            if rss is not None:
                self.samples[pid].append(rss * 1024.0 / MIB)

    def stop(self) -> None:
        """Stop sampling; take a last sample, the peak (VmHWM), PSS / private memory and the torch
        check while the workers are still alive."""
        self._stop.set()
        self._thread.join()
        self._sample()
        for pid in self.pids:
            hwm = proc_kib(pid, "VmHWM")
            self.peak[pid] = float("nan") if hwm is None else hwm * 1024.0 / MIB
            self.end[pid] = smaps_mib(pid)
            self.torch[pid] = torch_mapped(pid)


def measure(model_kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train `args.iterations` iterations with `model_kind` and return the workers' RSS figures."""
    import ray

    from dexrl.distributed.trainer import Trainer

    env = load_env_config(args.env)
    overrides = {k: v for k, v in (("envs_per_worker", args.envs_per_worker),
                                   ("horizon", args.horizon)) if v is not None}  # fmt: skip
    train = default_train_config(num_workers=args.workers, device="cpu", checkpoint_every=10**9,
                                 total_env_steps=1, **overrides)  # fmt: skip
    train = replace(train, total_env_steps=args.iterations * args.workers * train.envs_per_worker
                    * train.horizon)  # exactly `iterations` iterations
    ppo, model = default_algo_configs(model_kind)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10**9)
    own_ray = not ray.is_initialized()  # the Trainer starts a local Ray (127.0.0.1) unless one runs
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(env, ppo, model, None, train, RayConfig(num_cpus=args.workers), logger,
                          Path(tmp) / "run")  # fmt: skip
        pids = ray.get([w.pid.remote() for w in trainer.workers])
        sampler = RssSampler(pids, args.interval_s)
        sampler.start()
        try:
            last = trainer.run()
        finally:
            sampler.stop()
            trainer.close()
    if own_ray:  # each model's workers start in a fresh Ray
        ray.shutdown()
    workers = []
    for i, pid in enumerate(pids):
        xs = sampler.samples[pid]
        workers.append({
            "worker": i, "pid": pid, "samples": len(xs),
            "rss_mib": {"min": min(xs), "median": statistics.median(xs), "max": max(xs)},
            "peak_mib": sampler.peak[pid], "end_pss_mib": sampler.end[pid]["pss"],
            "end_private_mib": sampler.end[pid]["private"], "torch_loaded": sampler.torch[pid],
        })  # fmt: skip
    return {
        "model": model_kind, "iterations": int(last.get("iteration", 0)),
        "envs_per_worker": train.envs_per_worker, "horizon": train.horizon,
        "workers": workers, "max_rss_mib": max(w["rss_mib"]["max"] for w in workers),
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--models", default="mlp,lstm", help="comma-separated model configs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--envs-per-worker", type=int, default=None, help="default: configs/config.yaml")
    p.add_argument("--horizon", type=int, default=None, help="default: configs/config.yaml")
    p.add_argument("--interval-s", type=float, default=0.2)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args()
    results = []
    for kind in args.models.split(","):
        result = measure(kind.strip(), args)
        results.append(result)
        for w in result["workers"]:
            rss = w["rss_mib"]
            print(f"{args.env} model={result['model']} worker {w['worker']} (pid {w['pid']}, "
                  f"{w['samples']} samples over {result['iterations']} iterations): RSS "
                  f"min/median/max {rss['min']:.0f}/{rss['median']:.0f}/{rss['max']:.0f} MiB, "
                  f"peak {w['peak_mib']:.0f} MiB; at the end PSS {w['end_pss_mib']:.0f} MiB, private "
                  f"{w['end_private_mib']:.0f} MiB; torch {'loaded' if w['torch_loaded'] else 'not loaded'}",
                  flush=True)  # fmt: skip
    if args.json:
        print(json.dumps({"env": args.env, "workers": args.workers, "results": results}))


if __name__ == "__main__":
    main()

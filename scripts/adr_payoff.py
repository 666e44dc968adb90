#!/usr/bin/env python
"""Does ADR pay? Evaluate policies trained with and without ADR at every parameter's hard limits.

    python scripts/train.py experiment=reach_adr seed=0                      # and seeds 1, 2
    python scripts/train.py experiment=reach_adr adr=none seed=0             # and seeds 1, 2
    python scripts/adr_payoff.py --adr runs/reach/<a0> runs/reach/<a1> runs/reach/<a2> \\
        --none runs/reach/<n0> runs/reach/<n1> runs/reach/<n2> --out docs/adr_payoff

For each run it calls `scripts/evaluate.py checkpoint=<run> sweep=all sweep_points=2` (every ADR
parameter the env can vary, alone, at its low and high hard limit, plus the calibrated model; the
same evaluation episodes for every policy) unless `<run>/eval/payoff/sweep.csv` exists
(`--reevaluate` redoes it; `--params a,b` sweeps only those), then writes `<out>/payoff.md` (the tables), `payoff.json` and
`payoff.png` (median consecutive successes per parameter extreme, one line per policy) and prints
the worst case of every policy. Exit 2 on a bad argument (a run without a checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dexrl.adr.payoff import compare, markdown, plot_payoff, read_sweep

SCRIPTS = Path(__file__).resolve().parent


def evaluate(run: Path, episodes: int, params: str, again: bool) -> Path:
    """<run>/eval/payoff/sweep.csv, running evaluate.py for it when missing (or `again`)."""
    out = run / "eval" / "payoff"
    csv_path = out / "sweep.csv"
    if csv_path.is_file() and not again:
        print(f"[dexrl] {run}: using {csv_path}")
        return csv_path
    cmd = [sys.executable, str(SCRIPTS / "evaluate.py"), f"checkpoint={run}", f"sweep={params}", "sweep_points=2",
           f"episodes={episodes}", "video_episodes=0", f"out={out}"]  # fmt: skip
    print(f"[dexrl] {run}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env={**os.environ}, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:  # evaluate.py's own one-line reason is the last line of its stderr
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise SystemExit(f"[dexrl] error: evaluating {run} failed: {reason}")
    print(f"[dexrl] {run}: swept in {time.perf_counter() - t0:.0f} s", flush=True)
    return csv_path


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adr", nargs="+", type=Path, required=True, help="run dirs trained with ADR")
    ap.add_argument("--none", nargs="+", type=Path, required=True, help="run dirs trained without ADR")
    ap.add_argument("--out", type=Path, required=True, help="where payoff.md/json/png go")
    ap.add_argument("--episodes", type=int, default=64, help="episodes per sweep point (64)")
    ap.add_argument("--params", default="all", help="ADR parameters to sweep, comma separated (all)")
    ap.add_argument("--reevaluate", action="store_true", help="evaluate again even if a sweep.csv exists")
    args = ap.parse_args(argv)
    runs = {"adr": args.adr, "none": args.none}
    for run in [*args.adr, *args.none]:
        if not (run / "checkpoints" / "latest").exists():
            print(f"[dexrl] error: {run} has no checkpoints/latest; pass training run directories "
                  f"(runs/<env>/<date>)", file=sys.stderr)  # fmt: skip
            return 2
    if args.episodes < 1:
        print(f"[dexrl] error: --episodes must be >= 1 (got {args.episodes})", file=sys.stderr)
        return 2
    groups = {g: {r.name: read_sweep(evaluate(r, args.episodes, args.params, args.reevaluate)) for r in rs}
              for g, rs in runs.items()}  # fmt: skip
    result = compare(groups)
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(result, list(groups))
    (args.out / "payoff.md").write_text(table)
    (args.out / "payoff.json").write_text(json.dumps(result, indent=1))
    plot_payoff(groups, args.out / "payoff.png",
                title=f"each ADR parameter alone at its hard limits and calibrated "
                      f"({args.episodes} episodes per point, mean action)")  # fmt: skip
    for name, pol in result["policies"].items():
        w = pol["worst"]
        print(f"[dexrl] {pol['group']:>4} {name}: worst success rate {w['success_rate']:.2f} "
              f"({w['success_rate_at']}), worst median {w['median']:g} ({w['median_at']})")  # fmt: skip
    print(f"[dexrl] wrote {args.out / 'payoff.md'}, payoff.json, payoff.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

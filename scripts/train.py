#!/usr/bin/env python
"""Train a policy: `python scripts/train.py env=cube_rotate` (local Ray, CPU learner by default).

    python scripts/train.py env=reach train.total_env_steps=300000
    python scripts/train.py env=cube_rotate adr=auto model=lstm
    python scripts/train.py env=cube_rotate cluster=auto          # or ray.address=auto
    python scripts/train.py resume=runs/cube_rotate/2026-11-28_12-00-00
    python scripts/train.py env=reach algo=sb3                     # stable-baselines3 reference
    python scripts/train.py env=reach --cfg job                    # print the composed config
    python scripts/train.py -m env=reach seed=0,1,2                # one run per seed (multirun)

Every config is validated before Ray starts (dexrl.frontdoor): a bad key or value prints one
line naming it and exits with status 2. `resume=<run>` takes env, robot, model, algo and ADR
from the checkpoint (`env.x=...` style overrides apply on top; `train.*` is the command line's)
and goes on in the run's own directory: metrics.jsonl continues where the checkpoint was taken
(`hydra.run.dir=...` resumes into another directory instead).
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import OmegaConf

from dexrl.frontdoor import (
    Composed,
    Configs,
    RunSpec,
    check_dims,
    compose,
    exit_on_error,
    load_run,
    multirun_jobs,
    next_steps,
    restore_configs,
    run_multirun,
    typed_configs,
)


def build_configs(composed: Composed) -> tuple[Configs, RunSpec | None]:
    """Typed configs of the command line (restored from the checkpoint with `resume=`), and the
    run to resume. Raises ConfigError / CheckpointError before any work."""
    resume = composed.cfg.get("resume")
    if not resume:
        return typed_configs(composed.plain()), None
    run = load_run(str(resume), key="resume")
    configs = restore_configs(composed, run)
    if configs.algo_name != "ppo":
        return configs, run
    from dexrl.tasks.registry import make_task

    task = make_task(configs.env, num_envs=1, seed=0, autoreset=False)  # sizes only, no Ray
    check_dims(run, task.obs_dim, task.action_dim, configs.env.name)
    return configs, run


def write_run_files(run_dir: Path, configs: Configs, overrides: list[str], name: str = "") -> None:
    """config.resolved.yaml and .hydra/overrides.yaml; a resume in the run's own directory
    keeps the first ones and writes config.<name>.yaml / .hydra/overrides.<name>.yaml beside."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / (f"config.{name}.yaml" if name else "config.resolved.yaml")).write_text(
        OmegaConf.to_yaml(OmegaConf.create(configs.plain)))
    (run_dir / ".hydra").mkdir(exist_ok=True)
    (run_dir / ".hydra" / (f"overrides.{name}.yaml" if name else "overrides.yaml")).write_text(
        OmegaConf.to_yaml(OmegaConf.create(overrides)))


@exit_on_error
def main(argv: list[str]) -> None:
    jobs = multirun_jobs(argv)
    if jobs is not None:  # -m seed=0,1: one process and run directory per job, one after another
        check = lambda job: build_configs(compose(job, "train"))  # noqa: E731
        sys.exit(1 if run_multirun(Path(__file__).resolve(), jobs, check) else 0)
    show_cfg = argv[-2:] == ["--cfg", "job"]
    argv = argv[:-2] if show_cfg else argv
    composed = compose(argv, "train")
    configs, resume = build_configs(composed)
    if show_cfg:  # what Hydra's `--cfg job` prints: the composed config, nothing started
        print(OmegaConf.to_yaml(OmegaConf.create(configs.plain)))
        return
    run_dir = composed.run_dir()
    own_dir = resume.run_dir if resume is not None else None
    if resume is not None and own_dir is not None and (
            not composed.touched("hydra.run.dir") or run_dir.resolve() == own_dir.resolve()):
        run_dir = own_dir  # one run, one directory: the curve goes on in its metrics.jsonl
        iteration = int((resume.payload.get("counters") or {}).get("iteration", 0))
        write_run_files(run_dir, configs, composed.overrides, name=f"resumed_it{iteration}")
    else:
        write_run_files(run_dir, configs, composed.overrides)
    print(f"[dexrl] run directory: {run_dir}")
    if configs.algo_name == "sb3":
        from dexrl.baselines.sb3 import train_sb3

        print(f"[dexrl] stable-baselines3 PPO on {configs.env.name} for {configs.train.total_env_steps} "
              "env steps (one line every 10 s)", flush=True)  # fmt: skip
        result = train_sb3(configs.env, configs.algo, configs.train, run_dir, seed=configs.seed)
        print(f"[dexrl] sb3 finished: {result}")
        return
    from dexrl.distributed.trainer import Trainer

    adr = configs.adr if configs.adr.mode != "none" else None
    trainer = Trainer(
        configs.env, configs.algo, configs.model, adr, configs.train, configs.ray, configs.logger,
        run_dir, seed=configs.seed, resume=str(resume.checkpoint_dir) if resume else None,
        resolved_config=configs.plain,
    )  # fmt: skip
    where = "CPU" if trainer.learner.device.type == "cpu" else str(trainer.learner.device)
    print(f"[dexrl] learner on {where}, {trainer.num_workers} rollout workers")
    try:
        last = trainer.run()  # saves a checkpoint at the end and on Ctrl-C
        print(f"[dexrl] done: {last.get('env_steps', trainer.counters['env_steps'])} env steps; "
              f"checkpoint in {run_dir / 'checkpoints' / 'latest'}")  # fmt: skip
    finally:
        print(next_steps(run_dir))


if __name__ == "__main__":
    main(sys.argv[1:])

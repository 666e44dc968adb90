"""The training loop: Ray rollout workers → one PPO learner → weights back, iteration by iteration.

Synchronous by default (collect → update → broadcast). With `policy_lag`, workers collect the
next rollout with the current weights while the learner trains on the previous one; the PPO ratio
uses the behaviour log-probs recorded by the workers, so the lag stays correct
(docs/architecture.md §4).
A worker whose process dies is restarted by Ray (max_restarts=-1); its rollout of that iteration
is lost, counted in `worker_restarts`, and training goes on.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch

from dexrl.checkpoint import load_checkpoint, save_checkpoint
from dexrl.config import EnvConfig, LoggerConfig, RayConfig, TrainConfig
from dexrl.distributed.adr_actor import make_adr_components
from dexrl.distributed.metrics_log import MetricsLog
from dexrl.distributed.ray_setup import WORKER_ERRORS as _WORKER_ERRORS
from dexrl.distributed.ray_setup import describe_placement, init_ray, is_local
from dexrl.distributed.run_setup import (
    adr_for_task,
    adr_sized,
    checkpoint_dir,
    choose_learner_threads,
    resolve_batch,
    resolve_num_workers,
)
from dexrl.distributed.stages import StageClock
from dexrl.distributed.video import VideoRecorder
from dexrl.distributed.worker import make_worker_actor
from dexrl.eval.episodes import solve_summary
from dexrl.rl.config import ModelConfig, PPOConfig, resolve_gamma
from dexrl.rl.learners import Learner, LearnerFactory
from dexrl.rl.learners import learner_factory as learner_factory_for
from dexrl.rl.storage import RolloutBatch
from dexrl.run_record import run_config_record


class Trainer:
    """Owns the learner, the workers and the ADR actor of one run."""

    def __init__(
        self,
        env: EnvConfig,
        ppo: PPOConfig,
        model: ModelConfig,
        adr: Any,
        train: TrainConfig,
        ray_cfg: RayConfig,
        logger: LoggerConfig,
        run_dir: str | Path,
        seed: int = 0,
        resume: str | None = None,
        resolved_config: dict[str, Any] | None = None,
        worker_cls: Any = None,
        learner_factory: LearnerFactory | None = None,
    ) -> None:
        """`worker_cls`: the Ray actor class of the rollout workers (default: `make_worker_actor()`;
        `scripts/bench_driver.py` passes stand-ins that return batches without physics).
        `learner_factory`: builds the learner (`dexrl.rl.learners`; default: PPO's)."""
        ppo = resolve_gamma(ppo, env.gamma)  # algo.gamma null (the default) = the task's own
        self.env, self.model, self.train = env, model, train
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.counters = {"iteration": 0, "env_steps": 0, "wall_time_s": 0.0, "worker_restarts": 0}
        checkpoint = load_checkpoint(checkpoint_dir(resume)) if resume else None
        adr, self.adr_dropped = adr_for_task(adr, env)
        init_ray(ray_cfg)
        self.num_workers = resolve_num_workers(train.num_workers)
        # The batch grows with the workers; algo.minibatch_size keeps the minibatch (README
        # "Running on a cluster"). Checkpoints record the request (minibatches null = the rule),
        # so a resume on other workers applies the rule again.
        self.ppo, self.batch_shape = resolve_batch(ppo, train, self.num_workers, model.kind)
        self._ppo_record = replace(self.ppo, minibatches=ppo.minibatches)
        ppo = self.ppo
        adr, self.adr_sizing = adr_sized(adr, env, train, self.num_workers)  # "auto" m, p_b → numbers
        self.adr_cfg = adr  # recorded in every checkpoint (dexrl.run_record.run_config_record)
        self.adr_actor, randomizer_factory = make_adr_components(adr, checkpoint)
        # On resume, new worker seeds: continuing must not replay the first run's episodes.
        offset = 0 if checkpoint is None else int(checkpoint["counters"]["iteration"]) * 7919
        worker_cls = worker_cls or make_worker_actor()
        self.workers = [
            worker_cls.remote(env, model, train.envs_per_worker, train.horizon,
                              seed + 1000 * (w + 1) + offset, ppo.obs_clip, randomizer_factory(w))
            for w in range(self.num_workers)
        ]  # fmt: skip
        # Applied by run() for its duration (torch's thread count is per process).
        self.learner_threads = choose_learner_threads(train, self.num_workers, is_local(ray_cfg))
        dims = ray.get(self.workers[0].dims.remote())
        make = learner_factory or learner_factory_for("ppo")
        self.learner: Learner = make(dims["obs_dim"], dims["critic_obs_dim"], dims["action_dim"], ppo, model,
                                     train.device, seed)  # fmt: skip
        if checkpoint is not None:
            self.learner.load_state_dict(checkpoint["learner"])
            self.counters.update(checkpoint["counters"])
            torch.set_rng_state(checkpoint["torch_rng"])
        self.log = MetricsLog(self.run_dir, logger, resolved_config or {}, resume=checkpoint is not None,
                              resume_iteration=int(self.counters["iteration"]) if checkpoint else None)  # fmt: skip
        if checkpoint is not None:
            moved = (f"; {self.log.moved_rows} rows logged after that checkpoint moved to "
                     f"metrics.after_it{self.counters['iteration']}.jsonl" if self.log.moved_rows else "")  # fmt: skip
            self.log.warn(f"resumed from {resume} at {int(self.counters['env_steps'])} env steps (iteration "
                          f"{int(self.counters['iteration'])}); metrics continue in "
                          f"{self.run_dir / 'metrics.jsonl'}{moved}")  # fmt: skip
        self.log.warn(self.batch_shape.line())
        for line in describe_placement(self.workers, str(self.learner.device)):
            self.log.warn(line)
        for name, reason in self.adr_dropped.items():
            self.log.warn(f"ADR: not randomizing {name} on env {env.name}: {reason}")
        if self.adr_sizing is not None:  # m, and when a boundary's first decision is due
            self.log.warn(self.adr_sizing.line(train.total_env_steps))
        # train.video_every: renders in an actor of its own, fed the broadcast weights (collect).
        self.video = (VideoRecorder(env, model, ppo.obs_clip, train.video_every, self.run_dir, self.log.warn)
                      if train.video_every else None)  # fmt: skip
        self._pending: dict[int, Any] | None = None
        self._restarting: set[int] = set()
        self.clock = StageClock()  # the driver's seconds per stage (dexrl.distributed.stages)
        self.stage_history: list[dict[str, float]] = []  # one lap per iteration of run()
        self.stage_cpu_history: list[dict[str, float]] = []  # the driver's CPU seconds of each lap

    # ------------------------------------------------------------------ rollouts
    def _launch(self, weights_ref: Any) -> dict[int, Any]:
        self._await_restarted()
        with self.clock.stage("launch"):
            return {i: w.rollout.remote(weights_ref) for i, w in enumerate(self.workers)
                    if i not in self._restarting}  # fmt: skip

    def _await_restarted(self, timeout_s: float = 120.0) -> None:
        """Wait until workers that died have been rebuilt by Ray (their constructor ran again),
        so one death is one restart, not a string of 'unavailable' errors while it restarts. A
        worker not back within `timeout_s` sits this iteration out and is asked again next time."""
        deadline = time.monotonic() + timeout_s
        for i in sorted(self._restarting):
            if self._answers_by(i, deadline):
                self._restarting.discard(i)
            else:
                self.log.warn(f"rollout worker {i} is still restarting")

    def _answers_by(self, i: int, deadline: float) -> bool:
        """True once worker i answers a call; False if it has not by `deadline`."""
        while True:
            try:
                ray.get(self.workers[i].pid.remote(), timeout=max(1.0, deadline - time.monotonic()))
                return True
            except ray.exceptions.ActorUnavailableError:  # still restarting: ask again
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.2)
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                return False

    def _wait_with_progress(self, futures: list[Any], every_s: float = 10.0) -> None:
        """Wait for `futures`, saying so every `every_s` seconds (a first rollout that builds the
        envs, or cube_solve planning its scrambles, can take a minute)."""
        waited = 0.0
        while True:
            ready, pending = ray.wait(futures, num_returns=len(futures), timeout=every_s)
            if not pending:
                return
            waited += every_s
            first = " (the first one builds each worker's envs; cube_solve also plans its scrambles)" \
                if int(self.counters["iteration"]) == 0 else ""
            self.log.warn(f"waiting for rollouts: {len(ready)} of {len(futures)} workers done after "
                          f"{waited:.0f} s{first}")  # fmt: skip

    def _gather(self, futures: dict[int, Any]) -> tuple[list[RolloutBatch], list[dict[str, Any]]]:
        batches, stats = [], []
        with self.clock.stage("wait"):
            self._wait_with_progress(list(futures.values()))
        with self.clock.stage("fetch"):
            try:  # one ray.get for every worker; one per worker only when one of them died
                fetched = ray.get(list(futures.values()))
            except _WORKER_ERRORS:
                fetched = [self._fetch_one(i, fut) for i, fut in futures.items()]
        for result in fetched:
            if result is None:
                continue
            batch, st = result
            if batch is not None:
                batches.append(batch)
            stats.append(st)
        return batches, stats

    def _fetch_one(self, i: int, future: Any) -> Any:
        """Worker i's rollout, or None when the worker died (Ray restarts the actor: its
        constructor runs again; this rollout is lost, training goes on)."""
        try:
            return ray.get(future)
        except _WORKER_ERRORS as err:
            self.counters["worker_restarts"] += 1
            self._restarting.add(i)
            self.log.warn(f"rollout worker {i} died ({type(err).__name__}); Ray restarts it, "
                          f"its rollout of this iteration is skipped")  # fmt: skip
            return None

    def collect(self) -> tuple[list[RolloutBatch], list[dict[str, Any]]]:
        """One iteration's rollouts (with the current weights, or one iteration behind)."""
        with self.clock.stage("broadcast"):
            weights_ref = ray.put(self.learner.actor_state())  # one put, every worker reads it
        if self.video is not None:  # never waits: a finished video is saved, a due one started
            self.video.maybe_start(int(self.counters["iteration"]), weights_ref)
        if not self.train.policy_lag:
            return self._gather(self._launch(weights_ref))
        if self._pending is None:
            self._pending = self._launch(weights_ref)
        result = self._gather(self._pending)
        self._pending = self._launch(weights_ref)  # runs while the learner trains
        return result

    def finish_pending(self) -> tuple[list[RolloutBatch], list[dict[str, Any]]]:
        """Wait for a rollout still in flight (policy_lag) and return it; nothing runs after."""
        if self._pending is None:
            return [], []
        pending, self._pending = self._pending, None
        return self._gather(pending)

    def close(self, timeout_s: float = 60.0) -> None:
        """Stop this run's actors (workers, ADR) so their CPUs return to Ray; the learner stays.
        A rollout still in flight gets `timeout_s` to finish; its data is discarded."""
        try:
            if self._pending is not None:
                ray.wait(list(self._pending.values()), num_returns=len(self._pending),
                         timeout=timeout_s)  # fmt: skip
                self._pending = None
        finally:
            for actor in [*self.workers, self.adr_actor]:
                if actor is not None:
                    ray.kill(actor)
            self.workers, self.adr_actor = [], None
            if self.video is not None:
                self.video.close()
                self.video = None

    # ------------------------------------------------------------------ main loop
    def run(self) -> dict[str, Any]:
        """Train until total_env_steps (or a stop condition); returns the last metrics."""
        t_start = time.perf_counter() - float(self.counters["wall_time_s"])
        last: dict[str, Any] = {}
        threads_before = torch.get_num_threads()
        if self.learner_threads is not None:
            torch.set_num_threads(self.learner_threads)
        self.log.start_progress(self.train.total_env_steps, int(self.counters["env_steps"]))
        try:
            while self.counters["env_steps"] < self.train.total_env_steps:
                t0 = time.perf_counter()
                batches, stats = self.collect()
                t_rollout = time.perf_counter() - t0
                if not batches:
                    continue
                self.learner.set_progress(self.counters["env_steps"] / self.train.total_env_steps)
                with self.clock.stage("learner"):  # the workers' batches as a list: no join here
                    learn = self.learner.update(batches)
                with self.clock.stage("metrics"):
                    last = self._iteration_metrics(stats, learn, t_rollout, time.perf_counter() - t0)
                self.counters["wall_time_s"] = time.perf_counter() - t_start
                last["wall_time_s"] = self.counters["wall_time_s"]
                last.update(self._stage_metrics())
                with self.clock.stage("log"):
                    self.log.write(last)
                with self.clock.stage("checkpoint"):
                    if self.counters["iteration"] % self.train.checkpoint_every == 0:
                        self.save()
                self.stage_history.append(self.clock.lap())
                self.stage_cpu_history.append(self.clock.last_cpu)
                if self._should_stop(last, t_start):
                    break
        except KeyboardInterrupt:
            self.log.warn("interrupted: saving a checkpoint before exiting")
        finally:
            self.counters["wall_time_s"] = time.perf_counter() - t_start
            self.save()
            if self.video is not None:  # the last video in flight, before the log closes
                self.video.finish()
            self.log.close()
            torch.set_num_threads(threads_before)
        return last

    def _stage_metrics(self) -> dict[str, float]:
        """`time/<stage>_s` for this iteration's stages so far; `log` and `checkpoint` are the
        previous iteration's (this row is not written yet)."""
        previous = self.stage_history[-1] if self.stage_history else {}
        return {f"time/{name}_s": (previous.get(name, 0.0) if name in ("log", "checkpoint") else secs)
                for name, secs in self.clock.current.items()}  # fmt: skip

    def _should_stop(self, metrics: dict[str, Any], t_start: float) -> bool:
        target = self.train.stop_at_successes
        if target is not None and metrics.get("consecutive_successes_mean", -1.0) >= target:
            self.log.warn(f"stop: consecutive_successes_mean reached {target}")
            return True
        if self.train.max_wall_s is not None and time.perf_counter() - t_start >= self.train.max_wall_s:
            self.log.warn(f"stop: max_wall_s={self.train.max_wall_s} reached")
            return True
        return False

    def _iteration_metrics(
        self, stats: list[dict[str, Any]], learn: dict[str, float], t_rollout: float, t_total: float
    ) -> dict[str, Any]:
        steps = sum(s["env_steps"] for s in stats)
        self.counters["env_steps"] += steps
        self.counters["iteration"] += 1
        returns = [r for s in stats for r in s["returns"]]
        succ = [r for s in stats for r in s["successes"]]
        drops = [r for s in stats for r in s["dropped"]]
        m: dict[str, Any] = {
            "iteration": self.counters["iteration"],
            "env_steps": self.counters["env_steps"],
            "env_steps_per_s": steps / max(t_total, 1e-9),
            "episodes": len(returns),
            "episode_return_mean": _mean(returns),
            "consecutive_successes_mean": _mean(succ),
            "consecutive_successes_median": float(statistics.median(succ)) if succ else float("nan"),
            "success_rate": _mean([float(x > 0) for x in succ]),
            "drop_rate": _mean([float(x) for x in drops]),
            "successes_per_step": sum(s["step_successes"] for s in stats) / max(steps, 1),
            "unhealthy_steps": sum(s["unhealthy"] for s in stats),
            "withheld_envs": sum(s.get("dropped_envs", 0) for s in stats),
            "worker_restarts": self.counters["worker_restarts"],
            # Which Ray nodes this iteration's rollouts came from (a cluster run spreads them).
            "rollout_nodes": len({s["node_id"] for s in stats if s.get("node_id")}),
            "rollout_node_ids": ",".join(sorted({s["node_id"] for s in stats if s.get("node_id")})),
            "rollout_time_s": t_rollout,
            "learner_time_s": learn.get("learner_time_s", 0.0),
            **{k: v for k, v in learn.items() if k != "learner_time_s"},
        }
        terms: dict[str, list[float]] = {}  # reward/<term>: mean per-episode sum of each term
        for s in stats:
            for key, values in s.get("reward_terms", {}).items():
                terms.setdefault(key, []).extend(values)
        m.update({k: _mean(v) for k, v in terms.items()})
        solved = [x for s in stats for x in s.get("solved", [])]
        if solved:  # cube_solve: whole solves and subgoals, beside the per-subgoal successes
            m.update(solve_summary(solved, succ))
        if self.adr_actor is not None:
            m.update(ray.get(self.adr_actor.iteration_metrics.remote()))  # + adr/widen|narrow/<name>
        return m

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> Path:
        self._write_adr_plot()
        state: dict[str, Any] = {
            "learner": self.learner.state_dict(),
            "counters": dict(self.counters),
            "torch_rng": torch.get_rng_state(),
            "adr": json.dumps(ray.get(self.adr_actor.to_json.remote())) if self.adr_actor else None,
        }
        meta = {
            "env": self.env.name,
            "task": self.env.task,
            "counters": dict(self.counters),
            "model": asdict(self.model),
            "dims": self.learner.dims,
            # env (robot included), model, algo, ADR: a checkpoint directory alone restores them.
            "config": run_config_record(self.env, self.model, self._ppo_record, self.adr_cfg, self.train,
                                        algorithm=self.learner.algorithm),
        }
        return save_checkpoint(self.run_dir / "checkpoints" / "latest", state, meta)

    def _write_adr_plot(self) -> None:
        """adr.png in the run directory (and wandb) at every checkpoint: ADR ranges in physical
        units and the entropy over env steps (dexrl.adr.report). A failed plot never ends a run."""
        if self.adr_actor is None:
            return
        from dexrl.adr.report import write_adr_plot

        title = (f"{self.env.name}: ADR ranges over env steps (m={self.adr_cfg.buffer_size}, "
                 f"p_b={self.adr_cfg.effective_boundary_prob():.2f}; green: range, dashed: calibrated)")  # fmt: skip
        try:
            write_adr_plot(self.run_dir, int(self.counters["env_steps"]), title)
        except Exception as err:  # noqa: BLE001 (matplotlib, disk, wandb: any of them)
            self.log.warn(f"adr.png not written: {type(err).__name__}: {err}")


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else float("nan")

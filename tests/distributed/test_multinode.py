"""A real multi-node Ray run on one machine: a head and a second node as separate processes,
scripts/train.py joins them with ray.address=<head>, rollout workers run on both nodes, and
killing the second node mid-run does not end the training.

Every Ray process binds to 127.0.0.1: the nodes are started with node_ip_address="127.0.0.1",
and RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 stops Ray (2.60) from rewriting a loopback address into
the machine's network address (`services.get_node_ip_address`), so the driver also connects to
127.0.0.1. RAY_TMPDIR keeps this cluster's sockets and its "current cluster" file away from
any other Ray on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in its own process: the head (2 CPUs: one worker, plus room for the one that Ray
# restarts after the second node dies) and the second node (1 CPU), each node its own set of
# Ray processes (GCS, raylet, workers). "kill" on stdin kills the second node's processes.
CLUSTER = """
import sys
from ray.cluster_utils import Cluster
cluster = Cluster(initialize_head=True, head_node_args={
    "num_cpus": 2, "node_ip_address": "127.0.0.1", "include_dashboard": False})
second = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
print("READY", cluster.address, second.node_id, flush=True)
for line in sys.stdin:
    if line.strip() == "kill":
        cluster.remove_node(second, allow_graceful=False)
        print("KILLED", flush=True)
cluster.shutdown()
"""


def _metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(predicate: Any, timeout_s: float, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"training exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.timeout(300)
def test_training_spans_two_nodes_and_survives_losing_one() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dxmn", dir="/tmp"))  # short: Ray's socket paths
    env = dict(os.environ, RAY_TMPDIR=str(tmp), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
               RAY_AUTH_MODE="disabled", WANDB_MODE="disabled", MUJOCO_GL="osmesa",
               RAY_health_check_period_ms="1000", RAY_health_check_failure_threshold="3",
               RAY_health_check_initial_delay_ms="1000")  # fmt: skip
    cluster = subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env, cwd=tmp)  # fmt: skip
    train = None
    try:
        assert cluster.stdout is not None and cluster.stdin is not None
        ready = cluster.stdout.readline().split()
        assert ready[:1] == ["READY"], f"the cluster did not start: {ready}"
        address, second_node = ready[1], ready[2]
        assert address.startswith("127.0.0.1:")
        run_dir = tmp / "run"
        # 2 workers x 4 envs x 8 steps = 64 env steps per iteration, 12 iterations: the test is
        # about where rollouts run and what survives, not about learning.
        train = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "train.py"), "env=reach", f"ray.address={address}",
             "train.num_workers=2", "train.envs_per_worker=4", "train.horizon=8",
             "train.total_env_steps=768", "train.checkpoint_every=1000", "algo.epochs=1",
             "algo.minibatches=1", "logger=none",
             f"hydra.run.dir={run_dir}"],
            env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        both = lambda: sum(m["rollout_nodes"] == 2 for m in _metrics(run_dir)) >= 2  # noqa: E731
        _wait_for(both, 180, "2 iterations with rollouts from both nodes", train)
        killed_at = len(_metrics(run_dir))
        cluster.stdin.write("kill\n")
        cluster.stdin.flush()
        assert cluster.stdout.readline().strip() == "KILLED"
        try:
            output, _ = train.communicate(timeout=180)
        except subprocess.TimeoutExpired as err:
            raise AssertionError(f"training did not finish: {str(err.output)[-3000:]}") from None
        assert train.returncode == 0, output[-3000:]
        metrics = _metrics(run_dir)
    finally:
        for proc in (train, cluster):
            if proc is not None and proc.poll() is None:
                proc.kill()
        if cluster.stdin is not None:
            cluster.stdin.close()
        cluster.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)

    nodes = [set(filter(None, m["rollout_node_ids"].split(","))) for m in metrics]
    assert any(second_node in n and len(n) == 2 for n in nodes[:killed_at])
    after = metrics[killed_at:]
    assert len(after) >= 4, "training did not go on after the second node died"
    assert metrics[-1]["env_steps"] >= 768  # the run finished its budget
    assert metrics[-1]["worker_restarts"] >= 1  # the lost worker was noticed and restarted ...
    assert all(second_node not in n for n in nodes[-3:])  # ... on the surviving node
    assert nodes[-1] and metrics[-1]["rollout_nodes"] == 1
    assert "rollout worker" in output and "died" in output

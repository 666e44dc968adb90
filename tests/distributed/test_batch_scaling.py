"""The same command on 2 and on 16 workers: the update's shape the trainer resolves (no workers
started), the front door's one-line errors, and the start line of nodes and workers."""

from __future__ import annotations

import pytest

from dexrl.distributed import run_setup as setup_mod
from dexrl.distributed.ray_setup import nodes_line
from dexrl.distributed.trainer import resolve_batch
from dexrl.frontdoor import ConfigError, compose, typed_configs


def configs(*overrides: str):  # noqa: ANN201
    return typed_configs(compose(["env=reach", *overrides], "train").plain())


@pytest.mark.parametrize(("workers", "samples", "minibatches"), [(2, 8_192, 4), (16, 65_536, 32)])
def test_same_command_keeps_the_minibatch(monkeypatch: pytest.MonkeyPatch, workers: int, samples: int,
                                          minibatches: int) -> None:
    cfg = configs()  # train.num_workers=auto: one per CPU Ray sees
    monkeypatch.setattr(setup_mod.ray, "cluster_resources", lambda: {"CPU": float(workers)})
    resolved_workers = setup_mod.resolve_num_workers(cfg.train.num_workers)
    assert resolved_workers == workers
    ppo, batch = resolve_batch(cfg.algo, cfg.train, resolved_workers)
    assert (batch.samples, ppo.minibatches, batch.minibatch_size, ppo.epochs) == (samples, minibatches, 2_048, 5)
    assert (ppo.lr, ppo.desired_kl) == (cfg.algo.lr, cfg.algo.desired_kl)


def test_overrides_on_the_command_line() -> None:
    cfg = configs("algo.minibatches=4", "train.num_workers=16")
    ppo, batch = resolve_batch(cfg.algo, cfg.train, cfg.train.num_workers)
    assert (ppo.minibatches, batch.minibatch_size) == (4, 16_384)
    cfg = configs("algo.minibatch_size=8192")
    ppo, batch = resolve_batch(cfg.algo, cfg.train, 16)
    assert (ppo.minibatches, batch.minibatch_size) == (8, 8_192)


@pytest.mark.parametrize(("override", "message"), [
    ("algo.minibatch_size=0", "algo: minibatch_size must be 'auto' or an integer >= 1, got 0"),
    ("algo.minibatch_size=lots", "algo: minibatch_size must be 'auto' or an integer >= 1, got 'lots'"),
    ("algo.minibatches=0", "algo: minibatches must be an integer >= 1, got 0"),
])
def test_bad_values_are_one_config_error_line(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        configs(override)
    assert str(info.value) == message


def test_minibatches_beyond_the_update_stop_at_start() -> None:
    cfg = configs("algo.minibatches=100", "train.envs_per_worker=4", "train.horizon=8")
    with pytest.raises(ConfigError, match=r"^algo.minibatches=100 exceeds the 64 samples of one update \(2 workers"):
        resolve_batch(cfg.algo, cfg.train, 2)


def test_nodes_line() -> None:
    local = [{"NodeID": "n0", "NodeManagerAddress": "127.0.0.1", "Alive": True}]
    assert nodes_line(["n0", "n0"], local, "n0") == \
        "Ray: 1 node, 2 rollout workers; workers per node: 127.0.0.1 (learner): 2"
    cluster = [{"NodeID": f"n{i}", "NodeManagerAddress": f"10.0.0.{i}", "Alive": True} for i in range(3)]
    cluster.append({"NodeID": "dead", "NodeManagerAddress": "10.0.0.9", "Alive": False})
    assert nodes_line(["n1", "n2", "n1"], cluster, "n0") == \
        "Ray: 3 nodes, 3 rollout workers; workers per node: 10.0.0.0 (learner): 0, 10.0.0.1: 2, 10.0.0.2: 1"


def _node(i: int, cpus: int, gpus: int = 0) -> dict[str, object]:
    res: dict[str, float] = {"CPU": float(cpus)} | ({"GPU": float(gpus)} if gpus else {})
    return {"NodeID": f"n{i}", "NodeManagerAddress": f"10.0.0.{i}", "Alive": True, "Resources": res}


def test_placement_warnings_name_a_learner_away_from_the_gpu_and_unspread_workers() -> None:
    from dexrl.distributed.ray_setup import placement_warnings

    head_gpu = [_node(0, 4, gpus=1), _node(1, 16), _node(2, 16)]
    assert placement_warnings(["n1", "n2"], head_gpu, "n0", "cuda:0") == []  # as intended
    (line,) = placement_warnings(["n1", "n2"], head_gpu, "n0", "cpu")
    assert "learner runs on CPU although this node (10.0.0.0) has 1 GPU" in line
    gpu_elsewhere = [_node(0, 4), _node(1, 16, gpus=2)]
    (line,) = placement_warnings(["n0", "n1"], gpu_elsewhere, "n0", "cpu")
    assert "which has no GPU, while 10.0.0.1 (2) has GPUs" in line
    (line,) = placement_warnings(["n1"] * 8, [_node(0, 4), _node(1, 16), _node(2, 16)], "n0", "cpu")
    assert "all 8 rollout workers run on one node (10.0.0.1) of the 3 with CPUs" in line
    assert placement_warnings(["n0"] * 2, [_node(0, 2)], "n0", "cpu") == []  # a laptop: nothing to say

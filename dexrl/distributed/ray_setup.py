"""Ray for a run: a local Ray bound to 127.0.0.1, or a running cluster joined with a clear error
when it does not answer; and the start line saying which nodes the rollout workers run on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import ray

from dexrl.config import RayConfig

WORKER_ERRORS = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)


def init_ray(cfg: RayConfig) -> None:
    """Start a local Ray (embedded default) or join a cluster (`ray.address=auto`)."""
    if ray.is_initialized():
        return
    if is_local(cfg):
        start_local_ray(cfg.num_cpus)
    else:
        join_ray_cluster(str(cfg.address), cfg.connect_timeout_s)


_NO_CLUSTER_HINT = ("start one with `ray start --head` (README \"Running on a cluster\"), or leave ray.address "
                    "out to train on this machine")  # fmt: skip


def join_ray_cluster(address: str, timeout_s: float) -> None:
    """Join a running Ray cluster, or stop with one line (ConfigError) naming the address.

    Ray's own join either raises a long ConnectionError (no cluster) or retries "Failed to connect
    to GCS" for minutes (an address that does not answer, e.g. another process's Ray advertised
    on an address it does not listen on). So the address is resolved as Ray would resolve it
    (`RAY_ADDRESS`, then the last `ray start` on this machine for "auto"), its head port must
    accept a TCP connection within `timeout_s`, and `ray.init` itself must return within
    `timeout_s` or the process exits with that line (status 2).
    """
    import os
    import socket
    import sys
    import threading

    import ray._private.services as services

    from dexrl.config import ConfigError

    target: str | None
    try:
        with _keep_loopback():  # 127.0.0.1 stays 127.0.0.1 (see start_local_ray)
            target = address[len("ray://"):] if address.startswith("ray://") else \
                services.canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError) as err:
        raise ConfigError(f"ray.address={address}: {' '.join(str(err).split())[:200]}; {_NO_CLUSTER_HINT}") from None
    if not target:
        raise ConfigError(f"ray.address={address}: no running Ray cluster found; {_NO_CLUSTER_HINT}")
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as err:
        raise ConfigError(f"ray.address={address}: the Ray head at {target} does not answer within "
                          f"{timeout_s:g} s ({err}); {_NO_CLUSTER_HINT}; ray.connect_timeout_s sets "
                          "the wait") from None  # fmt: skip

    def give_up() -> None:  # ray.init cannot be interrupted from here: end the process
        print(f"config error: ray.address={address}: {target} accepts connections but no Ray cluster answered within "
              f"{timeout_s:g} s; check that the cluster's Ray and Python versions match this "
              f"machine's (ray {ray.__version__}); ray.connect_timeout_s sets the wait", flush=True,
              file=sys.stderr)  # fmt: skip
        os._exit(2)

    timer = threading.Timer(timeout_s, give_up)
    timer.daemon = True
    timer.start()
    try:
        with _keep_loopback() if _is_loopback(host) else contextlib.nullcontext():
            ray.init(address=address, include_dashboard=False)
    finally:
        timer.cancel()


def _is_loopback(host: str) -> bool:
    return host.strip("[]") in ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def _keep_loopback() -> Iterator[None]:
    """Ray (2.60) turns a loopback address into the machine's network address
    (`services.resolve_ip_for_localhost`); inside this block it stays loopback, so a Ray bound to
    127.0.0.1 is reached there and nothing is sent to any other address."""
    import ray._private.services as services

    resolve = services.resolve_ip_for_localhost
    services.resolve_ip_for_localhost = lambda host: host
    try:
        yield
    finally:
        services.resolve_ip_for_localhost = resolve


def start_local_ray(num_cpus: int | None, log_to_driver: bool = True) -> None:
    """A new Ray of this process's own whose servers (GCS, raylet, object manager, driver)
    listen on 127.0.0.1 only, so a laptop run exposes no Ray port to its network.

    address="local": always a new Ray (address=None joins one another process on this machine
    started). Ray binds its servers to the node IP, but ray.init turns a loopback
    `_node_ip_address` into the machine's network address (`services.resolve_ip_for_localhost`,
    Ray 2.60), so that rewrite is switched off for the duration of the call.
    """
    import logging

    # Ray's default for a new local cluster is token authentication, announced by a warning on
    # every run: that one notice is dropped (the default itself, and the warning Ray gives when
    # authentication is off, stay). `logging_level`: Ray's INFO lines ("Started a local Ray
    # instance") off; its warnings and errors still print.
    logging.getLogger("ray._private.authentication.authentication_token_setup").addFilter(_quiet_auth_notice)
    with _keep_loopback():
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 log_to_driver=log_to_driver, _node_ip_address="127.0.0.1",
                 logging_level=logging.WARNING)  # fmt: skip


def _quiet_auth_notice(record: Any) -> bool:
    """logging filter: False for Ray's "token authentication is enabled" notice only."""
    return "Token authentication is enabled for this Ray cluster" not in record.getMessage()


def nodes_line(worker_nodes: list[str], nodes: list[dict[str, Any]], driver_node: str) -> str:
    """One line: the Ray nodes alive and how many rollout workers run on each (by address; the
    driver's node, where the learner runs, marked "learner")."""
    alive = [n for n in nodes if n.get("Alive", True)]
    address = {n["NodeID"]: str(n.get("NodeManagerAddress", n["NodeID"][:8])) for n in alive}
    counts = {node: worker_nodes.count(node) for node in [*address, *worker_nodes]}
    parts = [f"{address.get(node, node[:8] or '?')}{' (learner)' if node == driver_node else ''}: {count}"
             for node, count in sorted(counts.items(), key=lambda kv: (kv[0] != driver_node, address.get(kv[0], kv[0])))]  # fmt: skip
    return (f"Ray: {len(alive)} node{'s' if len(alive) != 1 else ''}, {len(worker_nodes)} rollout workers; "
            f"workers per node: {', '.join(parts)}")  # fmt: skip


def placement_warnings(worker_nodes: list[str], nodes: list[dict[str, Any]], driver_node: str,
                       learner_device: str) -> list[str]:  # fmt: skip
    """What is wrong with where a cluster run landed (README "Running on a cluster"): a learner on
    CPU while a GPU is in the cluster (not on the driver's node, or torch without CUDA there), and
    rollout workers all on one node while other nodes have CPUs. Empty on one machine."""
    alive = [n for n in nodes if n.get("Alive", True)]
    address = {n["NodeID"]: str(n.get("NodeManagerAddress", n["NodeID"][:8])) for n in alive}
    gpus = {n["NodeID"]: int(n.get("Resources", {}).get("GPU", 0)) for n in alive}
    out = []
    if not str(learner_device).startswith("cuda") and any(gpus.values()):
        if gpus.get(driver_node, 0):
            out.append(f"the learner runs on CPU although this node ({address.get(driver_node, '?')}) has "
                       f"{gpus[driver_node]} GPU(s): torch here sees no CUDA (install a CUDA build of torch, "
                       "docker/README.md) or train.device=cpu was set")  # fmt: skip
        else:
            where = ", ".join(f"{address[n]} ({g})" for n, g in gpus.items() if g)
            out.append(f"the learner runs on this node ({address.get(driver_node, '?')}), which has no GPU, while "
                       f"{where} has GPUs: run scripts/train.py on the GPU node (the head, docker/README.md)")  # fmt: skip
    with_cpus = [n["NodeID"] for n in alive if n.get("Resources", {}).get("CPU", 0) >= 1]
    used = set(worker_nodes)
    if len(worker_nodes) > 1 and len(used) == 1 and len(with_cpus) > 1:
        (only,) = used
        out.append(f"all {len(worker_nodes)} rollout workers run on one node ({address.get(only, only[:8])}) "
                   f"of the {len(with_cpus)} with CPUs: the others had no free CPU when the workers "
                   "started (another job?) — `ray status` shows what holds them")  # fmt: skip
    return out


def describe_placement(workers: list[Any], learner_device: str, timeout_s: float = 120.0) -> list[str]:
    """The start line of nodes and workers per node, then any `placement_warnings`."""
    try:
        worker_nodes = list(ray.get([w.node.remote() for w in workers], timeout=timeout_s))
    except (*WORKER_ERRORS, ray.exceptions.GetTimeoutError) as err:
        return [f"Ray: {len(ray.nodes())} nodes, {len(workers)} rollout workers (placement unknown: "
                f"{type(err).__name__})"]  # fmt: skip
    nodes, driver = ray.nodes(), ray.get_runtime_context().get_node_id()
    return [nodes_line(worker_nodes, nodes, driver),
            *placement_warnings(worker_nodes, nodes, driver, learner_device)]  # fmt: skip


def is_local(cfg: RayConfig) -> bool:
    return cfg.address in (None, "", "local")

"""The embedded default (a local Ray started by init_ray) listens on the loopback address only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh process: the test session may already hold a Ray of its own.
PROBE = r'''
import json, os, socket, struct
import ray
from dexrl.config import RayConfig
from dexrl.distributed.ray_setup import init_ray

def inodes(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out

def listening(table, family):
    rows = []
    for line in open(table).read().splitlines()[1:]:
        f = line.split()
        if f[3] != "0A":  # TCP_LISTEN
            continue
        hexip, hexport = f[1].split(":")
        raw = bytes.fromhex(hexip)
        if family == socket.AF_INET:
            ip = socket.inet_ntop(family, struct.pack("<I", int(hexip, 16)))
        else:
            ip = socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
        rows.append((f[9], ip, int(hexport, 16)))
    return rows

init_ray(RayConfig(num_cpus=1))
node = ray._private.worker.global_worker.node
pids = {os.getpid()} | {p.pid for _, p in node.live_processes()}
mine = set().union(*(inodes(p) for p in pids))
socks = listening("/proc/net/tcp", socket.AF_INET) + listening("/proc/net/tcp6", socket.AF_INET6)
print(json.dumps({"addresses": sorted({ip for inode, ip, _ in socks if inode in mine}),
                  "count": sum(inode in mine for inode, _, _ in socks),
                  "gcs": node.gcs_address}))
ray.shutdown()
'''


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc")
def test_local_ray_listens_on_loopback_only() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["count"] >= 2, found  # GCS and raylet at least: the probe did see Ray's servers
    assert found["gcs"].startswith("127.0.0.1:"), found
    assert set(found["addresses"]) <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, found  # v4-mapped loopback

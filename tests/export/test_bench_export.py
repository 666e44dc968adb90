"""scripts/bench_export.py runs and prints the keys the issue asks for (figures are not asserted:
speed targets are read from the benchmark's output, not from tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_export_json_keys() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_export.py"), "--steps", "50", "--repeats", "1", "--json"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, MUJOCO_GL="osmesa"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("mlp_p50_ms", "mlp_p99_ms", "lstm_p50_ms", "lstm_p99_ms"):
        assert 0.0 < result[key] < 1000.0, key
        assert result[key.replace("p50", "p99")] >= result[key.replace("p99", "p50")]

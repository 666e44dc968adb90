"""Runs the scripts for tests/calibration (a module of its own name: several test folders have a
conftest.py, so `from conftest import ...` could find another one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def run_script(script: str, *args: str, assets: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """`python scripts/<script> args...` from the checkout, with DEXRL_ASSETS=assets and the
    test hands (hidden_hand.py) importable."""
    env = dict(os.environ, DEXRL_ASSETS=str(assets), MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)  # fmt: skip

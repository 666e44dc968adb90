"""scripts/deploy_example.py and README's deploy example run as written (real subprocesses)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "deploy_example.py"
SUMMARY = re.compile(r"\[deploy\] steps (\d+): sent (\d+), held (\d+), late (\d+)\n"
                     r"\[deploy\] faults: (.+)\n"
                     r"\[deploy\] successes: (\d+), dropped: (yes|no)\n")  # fmt: skip


def _run(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=dict(os.environ))


def test_the_script_runs_the_shipped_policy_and_prints_a_summary(tmp_path: Path) -> None:
    out = _run([sys.executable, str(SCRIPT), "steps=6", "seed=3"], cwd=tmp_path)  # any working directory
    assert out.returncode == 0, out.stderr[-3000:]
    assert "env cube_rotate_z, mlp, 12.5 Hz, 20 actuators" in out.stdout
    assert re.search(r"\[deploy\] real-time scheduling( not permitted; running with normal scheduling)?: ?\(?"
                     r"scheduler (fifo|other)", out.stdout), out.stdout  # fmt: skip
    summary = SUMMARY.search(out.stdout)
    assert summary, out.stdout
    steps, sent, held, _, faults, _, dropped = summary.groups()
    assert (steps, sent, held, faults, dropped) == ("6", "6", "0", "none", "no")


@pytest.mark.skipif(not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("capsh")),
                    reason="drops root's scheduling privileges with capsh")  # fmt: skip
def test_without_the_privilege_the_script_says_so_and_runs_anyway(tmp_path: Path) -> None:
    command = shlex.join([sys.executable, str(SCRIPT), "steps=3"])
    out = _run(["capsh", "--drop=cap_sys_nice,cap_ipc_lock", "--", "-c", command], cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "[deploy] real-time scheduling not permitted; running with normal scheduling" in out.stdout
    assert "ulimit -r" in out.stdout  # ... and how to grant it
    summary = SUMMARY.search(out.stdout)
    assert summary and summary.group(1) == summary.group(2) == "3", out.stdout


@pytest.mark.parametrize(("arg", "says"), [
    ("steps=0", "steps='0' must be an integer >= 1"),
    ("steps=many", "steps='many' must be an integer >= 1"),
    ("speed=2", "unknown argument 'speed=2'"),
    ("policy=/nonexistent", "/nonexistent/policy.onnx is missing"),
    ("checkpoint=/nonexistent", "/nonexistent/meta.json is missing"),
])  # fmt: skip
def test_a_bad_argument_exits_2_naming_it(tmp_path: Path, arg: str, says: str) -> None:
    out = _run([sys.executable, str(SCRIPT), arg], cwd=tmp_path)
    assert out.returncode == 2 and says in out.stderr, out.stderr[-3000:]


def test_the_readme_example_runs_as_written() -> None:
    """The python block of README "Export for a real hand", unchanged, from the repository root."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Export for a real hand"):]
    section = section[: section.index("\n## ")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1 and "scripts/deploy_example.py" in section
    out = _run([sys.executable, "-c", blocks[0]], cwd=ROOT, timeout=300)  # 100 steps at 12.5 Hz: 8 s
    assert out.returncode == 0, out.stderr[-3000:]
    assert re.search(r"scheduler (fifo|other)", out.stdout), out.stdout
    assert re.search(r"held 0 of 100 steps \{\} successes [1-9]", out.stdout), out.stdout

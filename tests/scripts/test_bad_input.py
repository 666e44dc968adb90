"""Every bad input of train/evaluate: exit 2, exactly one line on stderr, no traceback, Ray not
started, nothing in the run directory changed (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(d: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in d.rglob("*") if p.is_file()}


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (print, ("this ran on load",))


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    torch.save({"x": _Evil()}, d / "evil.pt")
    (d / "text.pt").write_text("not a checkpoint\n")
    return d


CASES = [
    ("train", ["env=nonexistent"], "unknown env 'nonexistent'. Known envs: cube_rotate"),
    ("train", ["train.horizon=abc"], "train.horizon"),
    ("train", ["foo=1"], "unknown key 'foo'"),
    ("train", ["+foo=1"], "unknown key 'foo'"),
    ("train", ["resume={bad}/evil.pt"], "not a dexrl checkpoint: it holds pickled Python objects"),
    ("train", ["resume={run}", "env=cube_rotate"], "(trained on env reach); env cube_rotate has"),
    ("evaluate", [], "no checkpoint given"),
    ("evaluate", ["checkpoint={bad}/missing"], "no such file or directory"),
    ("evaluate", ["checkpoint={bad}/text.pt"], "not a dexrl checkpoint"),
    ("evaluate", ["checkpoint={run}", "env=cube_rotate"], "env cube_rotate has"),
    ("evaluate", ["checkpoint={run}", "episodes=0"], "episodes must be >= 1"),
    ("evaluate", ["checkpoint={run}", "sweep=gravityy"], "unknown ADR parameter 'gravityy'"),
    ("evaluate", ["checkpoint={run}", "bogus=1"], "unknown key 'bogus'"),
]


@pytest.mark.parametrize(("script", "args", "message"), CASES)
def test_bad_input_is_one_line_exit_2(script: str, args: list[str], message: str, reach_run: Path,
                                      bad_files: Path, tmp_path: Path) -> None:  # fmt: skip
    before = _snapshot(reach_run)
    argv = [a.format(run=reach_run, bad=bad_files) for a in args]
    if script == "train":
        argv.append(f"hydra.run.dir={tmp_path / 'new_run'}")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{script}.py"), *argv],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0]
    assert "Traceback" not in out.stdout + out.stderr and "this ran on load" not in out.stdout
    assert "Ray" not in out.stdout + out.stderr  # Ray never started
    assert not (tmp_path / "new_run").exists()
    assert _snapshot(reach_run) == before

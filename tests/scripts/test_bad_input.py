"""Every bad input of train/evaluate/view/export: exit 2, exactly one line on stderr, no
traceback, nothing in the run directory changed.

One real subprocess per script proves the whole path (and that Ray never started, and that a
code-executing pickle did not run), the four running side by side; every other case calls the
script's own `main(argv)` in this process (the same front door, without a ~15 s interpreter
start per case).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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
    from dexrl.checkpoint import save_checkpoint

    # A checkpoint whose env record is of a version this dexrl cannot read (dexrl.run_record).
    save_checkpoint(d / "future", {}, {"config": {"env": {"name": "reach", "task": "reach"}, "env_version": 99}})
    return d


def _argv(script: str, args: list[str], run: Path, bad: Path, tmp_path: Path) -> list[str]:
    argv = [a.format(run=run, bad=bad) for a in args]
    if script == "train":
        argv.append(f"hydra.run.dir={tmp_path / 'new_run'}")
    if script in ("evaluate", "export"):  # an output folder that must not appear
        argv.append(f"out={tmp_path / 'new_run'}")
    return argv


def _check(code: object, out: str, err: str, message: str, tmp_path: Path) -> None:
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]
    assert "Traceback" not in out + err and "this ran on load" not in out
    assert not (tmp_path / "new_run").exists()


SUBPROCESS_CASES = [
    ("train", ["env=nonexistent"], "unknown env 'nonexistent'. Known envs: cube_rotate"),
    ("evaluate", ["checkpoint={bad}/evil.pt"], "not a dexrl checkpoint"),
    ("view", ["checkpoint={run}"], "view: no display (DISPLAY is not set)"),
    ("export", ["checkpoint={bad}/missing"], "no such file or directory"),
]


@pytest.fixture(scope="module")
def real_processes(reach_run: Path, bad_files: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str, Path, bool]]:  # fmt: skip
    """The SUBPROCESS_CASES, all started at once (each is mostly an interpreter importing torch,
    so on a 2-core machine they take half the time side by side): script -> (exit code, stdout,
    stderr, its own tmp dir, whether the run directory was left unchanged)."""
    before = _snapshot(reach_run)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    started = {}
    for script, args, _ in SUBPROCESS_CASES:
        tmp = tmp_path_factory.mktemp(f"bad_{script}")
        argv = _argv(script, args, reach_run, bad_files, tmp)
        proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / f"{script}.py"), *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        started[script] = (proc, tmp)
    done = {}
    try:
        for script, (proc, tmp) in started.items():
            out, err = proc.communicate(timeout=300)
            done[script] = (proc.returncode, out, err, tmp)
    finally:
        for proc, _ in started.values():
            if proc.poll() is None:
                proc.kill()
    unchanged = _snapshot(reach_run) == before
    return {script: (*result, unchanged) for script, result in done.items()}


@pytest.mark.parametrize(("script", "args", "message"), SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(script: str, args: list[str], message: str,
                                     real_processes: dict[str, tuple[int, str, str, Path, bool]]) -> None:  # fmt: skip
    code, out, err, tmp, unchanged = real_processes[script]
    _check(code, out, err, message, tmp)
    assert "Ray" not in out + err  # Ray never started
    if script == "view":  # the line points to the headless alternative
        assert "scripts/evaluate.py checkpoint=" in err and "video" in err
    assert unchanged


IN_PROCESS_CASES = [
    ("train", ["train.horizon=abc"], "train.horizon"),
    ("train", ["foo=1"], "unknown key 'foo'"),
    ("train", ["+foo=1"], "unknown key 'foo'"),
    ("train", ["resume={bad}/evil.pt"], "not a dexrl checkpoint: it holds pickled Python objects"),
    ("train", ["resume={run}", "env=cube_rotate"], "(trained on env reach); env cube_rotate has"),
    ("train", ["env=reach", "env.scramble=R"], "'scramble' is a setting of task face_turn, cube_solve, not of task 'reach'"),
    ("train", ["env=_base"], "unknown env '_base'. Known envs: cube_rotate"),
    ("evaluate", ["checkpoint={bad}/future"], "the recorded env config has version 99, which this dexrl cannot read"),
    ("evaluate", [], "no checkpoint given"),
    ("evaluate", ["checkpoint={bad}/missing"], "no such file or directory"),
    ("evaluate", ["checkpoint={bad}/text.pt"], "not a dexrl checkpoint"),
    ("evaluate", ["checkpoint={run}", "env=cube_rotate"], "env cube_rotate has"),
    ("evaluate", ["checkpoint={run}", "episodes=0"], "episodes must be >= 1"),
    ("evaluate", ["checkpoint={run}", "sweep=gravityy"], "unknown ADR parameter 'gravityy'"),
    ("evaluate", ["checkpoint={run}", "bogus=1"], "unknown key 'bogus'"),
    ("view", ["checkpoint={bad}/missing"], "no such file or directory"),
    ("view", ["checkpoint={bad}/evil.pt"], "not a dexrl checkpoint"),
    ("view", ["checkpoint={run}", "env=cube_rotate"], "env cube_rotate has"),
    ("view", ["env=nonexistent"], "unknown env 'nonexistent'"),
    ("view", ["policy=fast"], "policy must be 'policy' or 'zero'"),
    ("view", ["seconds=soon"], "seconds must be float"),
    ("view", ["bogus=1"], "unknown key 'bogus'"),
    ("export", [], "no checkpoint given"),
    ("export", ["checkpoint={bad}/text.pt"], "not a dexrl checkpoint"),
    ("export", ["checkpoint={run}", "env=cube_rotate"], "env cube_rotate has"),
    ("export", ["checkpoint={run}", "bogus=1"], "unknown key 'bogus'"),
]


def _script(name: str) -> ModuleType:
    """scripts/<name>.py as a module (its main(argv) is the command line's entry point)."""
    key = f"_dexrl_script_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.mark.parametrize(("script", "args", "message"), IN_PROCESS_CASES)
def test_bad_input_in_process(script: str, args: list[str], message: str, reach_run: Path, bad_files: Path,
                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    before = _snapshot(reach_run)
    main = _script(script).main
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(_argv(script, args, reach_run, bad_files, tmp_path))
    captured = capsys.readouterr()
    _check(exit_info.value.code, captured.out, captured.err, message, tmp_path)
    assert _snapshot(reach_run) == before

"""Every shell command the README shows runs as written, with small budgets.

The commands are the lines of README.md's ```bash / ```sh / ```console blocks that start with
`python scripts/` or `scripts/dev.sh`. Each runs with the same arguments plus `SMOKE`'s
budget overrides (later Hydra overrides and argparse flags win over the README's own), in a
scratch working directory, so relative outputs (`runs/`, `eval/`, `exported/`) land there.
A placeholder (`runs/cube_rotate/<date>`, `<s0>`, ...) becomes one tiny cube_rotate run
trained first and shared by every command.

The scripts run in this test's interpreter (`runpy`, `__name__ == "__main__"`, `sys.argv` as
the shell would split it) and share one local Ray: started once per command, Python, torch and
Ray cost 20-45 s a command on the shared 2-core machine, several times the work the budgets
leave (the whole test: 2 min 39 s at load 4-7). A multirun (`-m`) keeps the first value of each
comma list: one job, which runs as its own process as every multirun job does. A command that
joins a cluster (`ray.address=auto`) runs as its own process against an address where nothing
listens, and must stop within seconds with the one-line message. `SKIPPED` lists the commands
that cannot run here and why. A README command for a script `SMOKE` does not know fails: give
it a budget here.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import re
import runpy
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SHELL_FENCES = ("bash", "sh", "console", "shell")
SHELL_BLOCK = re.compile(r"^```(?:" + "|".join(SHELL_FENCES) + r")[ \t]*\n(.*?)^```", re.S | re.M)

# Budget overrides per script, appended to the README's arguments (Hydra: the last value of a
# key wins; argparse: the last flag wins). Documented in the README's "Your first hour".
# train.learner_threads=1: a 2-thread learner on a 32-sample batch spends seconds per update
# spinning when the machine is shared (measured 4-8 s, against 0.1-0.25 s on one thread).
TINY_TRAIN = ["train.total_env_steps=64", "train.num_workers=1", "train.envs_per_worker=4",
              "train.horizon=8", "train.learner_threads=1", "logger=none"]  # fmt: skip
SMOKE: dict[str, list[str]] = {
    "train.py": TINY_TRAIN,
    "evaluate.py": ["episodes=2", "num_envs=2", "video_episodes=0", "sweep_points=2",
                    "env.max_episode_steps=20"],  # fmt: skip
    "export.py": [],
    "solve.py": ["--budget-s", "0.3"],
    "doctor.py": ["train.num_workers=1", "train.envs_per_worker=4", "train.horizon=8",
                  "train.learner_threads=1", "env.max_episode_steps=20"],  # fmt: skip
    "bench_learning.py": ["--steps", "64", "--seeds", "0", "--eval-episodes", "2", "--workers", "1",
                          "--env-set", "max_episode_steps=20", "--set", "train.envs_per_worker=4",
                          "--set", "train.horizon=8", "--set", "train.learner_threads=1"],  # fmt: skip
    "deploy_example.py": ["steps=10"],
    "excite.py": ["duration=2"],
    "calibrate.py": ["max_iters=2"],
    "adr_payoff.py": ["--episodes", "1", "--params", "action_latency"],
    "probe_face.py": ["steps=2", "envs=2"],
}
SB3_TINY = ["algo.n_steps=32", "algo.batch_size=32"]  # train.py algo=sb3: one 64-step update
RESUME_STEPS = "train.total_env_steps=96"  # the tiny run has 64: a resume trains one iteration

SKIPPED: dict[str, str] = {
    "scripts/dev.sh test": "runs the test suite this test belongs to",
    "scripts/view.py": "opens a window: needs a display (tests/scripts/test_view.py runs the viewer "
                       "under Xvfb, and its no-display message)",
    " hand=": "drives a hand through the user's own driver module (hand=<module:attr>)",
    "experiment=ladder": "the ladder's budgets are its rungs' (configs/experiment/ladder.yaml, ~33M "
                         "env steps), not the command line's; tests/doctor/test_ladder.py climbs tiny rungs",
}  # fmt: skip


def readme_commands(text: str) -> list[str]:
    """The script command lines of the README's shell blocks, in order, each once."""
    commands: list[str] = []
    for block in SHELL_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ").strip()
            if line.startswith(("python scripts/", "scripts/dev.sh")):
                command = shlex.join(shlex.split(line, comments=True))  # the same command once
                if command not in commands:
                    commands.append(command)
    return commands


COMMANDS = readme_commands(README.read_text())


def _skip_reason(command: str) -> str | None:
    return next((why for key, why in SKIPPED.items() if key in command), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_has_commands_for_every_kind_of_block() -> None:
    assert len(COMMANDS) >= 20, COMMANDS
    assert any(c.startswith("scripts/dev.sh train") for c in COMMANDS)
    assert readme_commands("```console\n$ python scripts/solve.py --scramble \"R U\"  # one\n```\n"
                           "```python\npython scripts/no.py\n```\n") == ["python scripts/solve.py --scramble 'R U'"]  # fmt: skip


def _tables(text: str) -> list[list[str]]:
    """The markdown tables outside code blocks, each as its rows."""
    tables: list[list[str]] = []
    fenced, previous = False, False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        row = not fenced and line.startswith("|")
        if row and not previous:
            tables.append([])
        if row:
            tables[-1].append(line)
        previous = row
    return tables


def test_every_table_row_has_its_header_cells() -> None:
    for table in _tables(README.read_text()):
        cells = [len(re.split(r"(?<!\\)\|", row.strip())) - 2 for row in table]
        assert all(n == cells[0] for n in cells), "\n".join(r[:90] for r, n in zip(table, cells, strict=True) if n != cells[0])


def test_the_scripts_table_lists_every_script_with_an_example() -> None:
    text = README.read_text()
    table = next(t for t in _tables(text) if t[0].startswith("| script |"))
    listed = {m.group(1): row for row in table[2:] if (m := re.match(r"\| `scripts/([\w.]+)` \|", row))}
    shipped = {p.name for p in (ROOT / "scripts").iterdir() if p.suffix in (".py", ".sh")}
    assert shipped <= set(listed), f"not in the README's Scripts table: {sorted(shipped - set(listed))}"
    for name, row in listed.items():
        assert f"scripts/{name}" in row.split("|")[2], f"{name}: no example command"


def test_dev_sh_train_is_train_py_on_cube_rotate() -> None:
    """`scripts/dev.sh train` first installs the environment (pip), then runs this line: the test
    runs that line instead of installing."""
    assert 'exec "$VENV/bin/python" scripts/train.py env=cube_rotate "$@"' in (ROOT / "scripts" / "dev.sh").read_text()


def _argv(command: str, tiny_run: Path, workdir: Path) -> tuple[str, list[str]]:
    """(script file name, arguments with the placeholders filled, the inputs under docs/ made
    absolute, absolute outputs moved into `workdir` and the smoke budgets appended)."""
    words = shlex.split(command, comments=True)
    if words[0] == "scripts/dev.sh":
        assert words[1] == "train", command
        words = ["python", "scripts/train.py", "env=cube_rotate", *words[2:]]
    assert words[0] == "python" and words[1].startswith("scripts/"), command
    script, args = Path(words[1]).name, words[2:]
    if "-m" in args:  # a multirun: one job, the first value of each comma list
        args = [a.split("=", 1)[0] + "=" + a.split("=", 1)[1].split(",")[0] if "=" in a and "," in a
                and "[" not in a else a for a in args]  # fmt: skip
    if script not in SMOKE:
        pytest.fail(f"README command for {script}, which has no smoke budget: add one to SMOKE in {__file__}")
    out = []
    for arg in args:
        key, eq, value = arg.partition("=")
        if "<" in arg and ">" in arg:  # runs/cube_rotate/<date>, <s0>, <run dir>, ...
            run = tiny_run
            if key == "resume":  # a resume trains on in the run's own directory: not the shared one
                run = workdir / f"resumed_{len(list(workdir.glob('resumed_*')))}"
                shutil.copytree(tiny_run, run)
            arg = f"{key}={run}" if eq and not key.startswith("<") else str(run)
        elif eq and key in ("checkpoint", "resume") and value.startswith("docs/"):
            arg = f"{key}={ROOT / value}"  # an input shipped in the repository
        elif eq and key == "out" and Path(value).is_absolute():
            arg = f"out={workdir / Path(value).name}"  # e.g. out=/tmp/cz_eval
        out.append(arg)
    smoke = list(SMOKE[script])
    if script == "train.py" and "algo=sb3" in out:
        smoke += SB3_TINY
    if script == "train.py" and any(a.startswith("resume=") for a in out):
        smoke.append(RESUME_STEPS)
    if script == "bench_learning.py" and any(a in ("--merge", "--from-runs") for a in out):
        smoke = []  # trains nothing
    if script == "bench_learning.py" and "--merge" in out:  # the runs earlier commands wrote
        start = out.index("--merge") + 1
        end = next((i for i in range(start, len(out)) if out[i].startswith("-")), len(out))
        written = [d for d in out[start:end] if (Path(d) / "learning.json").is_file()]
        if not written:
            pytest.skip("--merge combines the output of the bench_learning commands before it")
        out = [*out[:start], *written, *out[end:]]
    return script, out + smoke


def _run_here(script: str, args: list[str]) -> tuple[int, str, str]:
    """Run scripts/<script> in this interpreter as `python scripts/<script> args` would."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [str(ROOT / "scripts" / script), *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = argv
        gc.collect()  # a script's Trainer (and its Ray actors) goes with its main()
    return code, out.getvalue(), err.getvalue()


def _wait_for_free_cpus(ray_session, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """The previous command's rollout workers are gone, so the next one can start its own."""
    total = ray_session.cluster_resources().get("CPU", 0)
    deadline = time.monotonic() + timeout_s
    while ray_session.available_resources().get("CPU", 0) < total:
        assert time.monotonic() < deadline, f"Ray CPUs still taken: {ray_session.available_resources()}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme_cwd")


@pytest.fixture(scope="module")
def tiny_run(ray_session, workdir: Path) -> Path:  # type: ignore[no-untyped-def]
    """The run every placeholder stands for: cube_rotate, 2 iterations of 32 samples."""
    run_dir = workdir / "tiny_run"
    code, out, err = _run_here("train.py", ["env=cube_rotate", *TINY_TRAIN, f"hydra.run.dir={run_dir}"])
    assert code == 0 and (run_dir / "checkpoints" / "latest").is_dir(), (out + err)[-3000:]
    _wait_for_free_cpus(ray_session)
    return run_dir


def _check_cluster_join_fails_fast(command: str, workdir: Path) -> None:
    """`ray.address=auto` with no cluster: one line naming the address and `ray start --head`,
    exit status 2, long before Ray's own retries would give up. RAY_ADDRESS (what "auto" reads
    first) names a port where nothing listens, whatever Ray other processes here run."""
    words = shlex.split(command, comments=True)
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{_free_port()}"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / words[1]), *words[2:], f"hydra.run.dir={workdir / 'cluster'}"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    elapsed = time.monotonic() - start
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(lines) == 1 and "ray.address=auto" in lines[0] and "ray start --head" in lines[0], lines
    assert elapsed < 60, elapsed  # mostly the interpreter importing torch: no 30 s connect wait


EXPECT: dict[str, Callable[[int, str, str], None]] = {}


def _expect(script: str) -> Callable[[Callable[[int, str, str], None]], Callable[[int, str, str], None]]:
    def register(check: Callable[[int, str, str], None]) -> Callable[[int, str, str], None]:
        EXPECT[script] = check
        return check

    return register


@_expect("doctor.py")
def _doctor_ran(code: int, out: str, err: str) -> None:
    """The doctor exits 1 when a check fails, and a budget this small fails some (too few samples
    for a signal); it must still run every check and print its table."""
    assert code in (0, 1) and re.search(r"\[doctor\] \d+ checks: \d+ failed", out), (out + err)[-3000:]


def _command_id(command: str) -> str:
    words = [Path(w).name if w.startswith("scripts/") else w for w in shlex.split(command)]
    return re.sub(r"[^\w.=,<>/-]+", "_", " ".join(words[1:] if words[0] == "python" else words))[:80]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[_command_id(c) for c in COMMANDS])
def test_readme_command_runs(command: str, tiny_run: Path, workdir: Path, ray_session,  # type: ignore[no-untyped-def]
                             monkeypatch: pytest.MonkeyPatch, assets: Path) -> None:  # fmt: skip
    reason = _skip_reason(command)
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(workdir)
    # Configs a command writes (calibrate.py's robot yaml) go to a copy, and the commands after
    # it (robot=dexhand_calibrated) read them from there, as they would in a user's checkout.
    monkeypatch.setenv("DEXRL_ASSETS", str(assets))
    if "ray.address=auto" in command or "cluster=auto" in command:
        _check_cluster_join_fails_fast(command, workdir)
        return
    script, args = _argv(command, tiny_run, workdir)
    code, out, err = _run_here(script, args)
    check = EXPECT.get(script)
    if check is not None:
        check(code, out, err)
    else:
        assert code == 0, f"exit {code}: {script} {shlex.join(args)}\n" + (out + err)[-3000:]
    assert "Traceback" not in err, err[-3000:]
    _wait_for_free_cpus(ray_session)

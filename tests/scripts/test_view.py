"""scripts/view.py: a real window under Xvfb shows the scene (screenshot with xwd), and every key
acts as documented (callbacks called directly on a real task)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dexrl.eval import viewer as v
from dexrl.eval.policy import RandomPolicy
from dexrl.tasks.registry import load_env_config

ROOT = Path(__file__).resolve().parents[2]


def read_xwd(data: bytes) -> np.ndarray:
    """[H, W, 3] uint8 from an X window dump (ZPixmap, 24/32 bits per pixel, as xwd writes)."""
    h = struct.unpack(">25I", data[:100])
    header, width, height, byte_order, bpp, line = h[0], h[4], h[5], h[7], h[11], h[12]
    masks, ncolors = h[14:17], h[19]
    start = header + 12 * ncolors
    nb = 4 if line >= 4 * width else bpp // 8
    raw = np.frombuffer(data[start : start + line * height], np.uint8).reshape(height, line)
    cols = raw[:, : width * nb].reshape(height, width, nb).astype(np.uint32)
    order = range(nb) if byte_order == 0 else range(nb - 1, -1, -1)  # LSB first: byte k = bits 8k
    pixel = sum(cols[..., k] << (8 * j) for j, k in enumerate(order))
    return np.stack([((pixel & m) >> ((m & -m).bit_length() - 1)).astype(np.uint8) for m in masks], -1)


def _screenshot(display: str) -> np.ndarray:
    out = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return read_xwd(out.stdout)


@pytest.fixture
def xvfb():  # type: ignore[no-untyped-def]
    if not (shutil.which("Xvfb") and shutil.which("xwd")):
        pytest.skip("Xvfb/xwd not installed (scripts/dev.sh installs xvfb and x11-apps as root)")
    n = next(k for k in range(91, 200) if not Path(f"/tmp/.X11-unix/X{k}").exists()
             and not Path(f"/tmp/.X{k}-lock").exists())  # fmt: skip
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "800x600x24", "-nolisten", "tcp", "-br"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.1)
    yield f":{n}"
    proc.terminate()
    proc.wait(timeout=10)


def test_viewer_window_shows_the_scene(xvfb: str) -> None:
    background = _screenshot(xvfb)
    assert (background == background[0, 0]).all()  # an empty black root window
    env = {k: val for k, val in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    env["DISPLAY"] = xvfb
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "view.py"), "env=cube_rotate", "seconds=6"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        shot, deadline = background, time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(1.0)
            shot = _screenshot(xvfb)
            # The window (MuJoCo's default is 512 x 512 at the top left on a bare X server) has
            # drawn once its middle, where the front camera sees the hand and cube, is filled.
            if (shot[150:400, 150:400] != background[150:400, 150:400]).any(-1).mean() > 0.9:
                break
        middle = shot[150:400, 150:400].reshape(-1, 3)
        assert (middle != background[0, 0]).any(-1).mean() > 0.9, "the window's middle is not drawn"
        assert len(np.unique(middle, axis=0)) > 200  # a shaded scene, not a flat fill
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    steps = int(out.split("after ")[1].split(" control")[0])
    assert steps >= 1


@pytest.fixture(scope="module")
def session() -> v.ViewerSession:
    env = load_env_config("cube_rotate")
    return v.ViewerSession(env, RandomPolicy(20, seed=0), "random", {"cube_mass": (0.5, 1.0)}, seed=0)


def test_space_pauses_and_delete_switches_to_the_zero_action(session: v.ViewerSession) -> None:
    session.on_key(v.KEY_SPACE)
    assert session.paused and "PAUSED" in session.overlay()[1]
    session.on_key(v.KEY_SPACE)
    assert not session.paused
    targets = session.task.targets.copy()
    session.control_step()  # random actions move the joint targets
    assert not np.allclose(session.task.targets, targets)
    assert np.abs(session.task.last_action).max() > 0.1
    session.on_key(v.KEY_DELETE)
    assert not session.use_policy and "zero action" in session.overlay()[1]
    session.control_step()
    assert (session.task.last_action == 0.0).all()  # what the task executed this step
    session.on_key(v.KEY_DELETE)
    assert session.use_policy


def test_backspace_resets_and_enter_skips_to_a_new_goal(session: v.ViewerSession) -> None:
    for _ in range(3):
        session.control_step()
    episode = session.episode
    session.on_key(v.KEY_BACKSPACE)
    assert session.episode == episode  # queued until the main loop applies it
    session.apply_requests()
    assert session.episode == episode + 1 and int(session.task.step_count[0]) == 0
    goal = session.task.goal_quat[0].copy()
    session.on_key(v.KEY_ENTER)
    session.apply_requests()
    assert not np.allclose(session.task.goal_quat[0], goal)
    assert int(session.task.consecutive_successes[0]) == 0  # skipping is not a success


def test_insert_draws_an_adr_sample_within_the_range_and_applies_it(session: v.ViewerSession) -> None:
    task = session.task
    cube = task.ids.cube_body
    base_mass = float(task.base_model.body_mass[cube])
    session.on_key(v.KEY_INSERT)
    session.apply_requests()
    lam = session.lambdas["cube_mass"]
    assert 0.5 <= lam <= 1.0 and "cube_mass" in session.overlay()[1]
    assert float(task.sim.models[0].body_mass[cube]) > base_mass  # λ > 0: a heavier cube

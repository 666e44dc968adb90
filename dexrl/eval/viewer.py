"""The interactive viewer (scripts/view.py): one env of a task in MuJoCo's viewer, a policy
acting at the control rate while the physics runs in real time at its own timestep.

`ViewerSession` is everything but the window: the task, the policy, the keys and the overlay
text, so that keys and episodes can be driven (and tested) without a display. `run_viewer`
opens `mujoco.viewer.launch_passive` on the session's env and paces it in wall-clock time.

Keys (MuJoCo's viewer already binds every letter, digits and most symbols to its own toggles,
so the session uses keys it leaves free or binds to the same meaning):
  Space      pause / resume              Backspace  reset the episode
  Enter      skip to the next goal       Insert     draw a new ADR sample (and reset)
  Delete     toggle policy / zero action
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import mujoco
import numpy as np

from dexrl.config import EnvConfig
from dexrl.eval.goals import goal_markers, goal_text
from dexrl.eval.policy import Policy, ZeroPolicy
from dexrl.sim.render import add_markers
from dexrl.tasks.registry import make_task

# GLFW key codes (what the viewer's key callback receives).
KEY_SPACE, KEY_ENTER, KEY_BACKSPACE, KEY_INSERT, KEY_DELETE = 32, 257, 259, 260, 261
KEY_HELP = "Space pause | Backspace reset | Enter next goal | Insert new ADR sample | Delete policy/zero"


class ViewerSession:
    """One env, a policy and the state the keys change. Not thread-safe by itself: the viewer's
    key callback only records requests (`on_key`), the main loop applies them between control
    steps (`apply_requests`), so the task is only touched by one thread."""

    def __init__(self, env: EnvConfig, policy: Policy, policy_name: str,
                 ranges: Mapping[str, tuple[float, float]] | None = None, seed: int = 0) -> None:  # fmt: skip
        self.task = make_task(env, num_envs=1, seed=seed, autoreset=False)
        self.policy, self.policy_name = policy, policy_name
        self.zero = ZeroPolicy(self.task.action_dim)
        self.use_policy, self.paused = True, False
        self.ranges = {n: r for n, r in (ranges or {}).items() if r[1] > r[0]}
        self.context = self._adr_context()
        self.lambdas: dict[str, float] = {}
        self.rng = np.random.default_rng(seed)
        self.episode, self.total_successes, self.steps = 0, 0, 0
        self.last_end = ""
        self._requests: list[str] = []
        self._start_episode()

    # ------------------------------------------------------------------ keys
    def on_key(self, key: int) -> None:
        """The viewer's key callback (its render thread): pause at once, queue the rest."""
        if key == KEY_SPACE:
            self.paused = not self.paused
        elif key == KEY_DELETE:
            self.use_policy = not self.use_policy
        elif key in (KEY_BACKSPACE, KEY_ENTER, KEY_INSERT):
            self._requests.append({KEY_BACKSPACE: "reset", KEY_ENTER: "next goal", KEY_INSERT: "adr"}[key])

    def apply_requests(self) -> None:
        while self._requests:
            what = self._requests.pop(0)
            if what == "reset":
                self.last_end = "reset by key"
                self._start_episode()
            elif what == "next goal":
                self.next_goal()
            elif what == "adr":
                self.new_adr_sample()

    def next_goal(self) -> None:
        """Skip to the next goal (cube_solve: the plan's next subgoal); not counted as a success."""
        self.task.advance_goal(0)

    def new_adr_sample(self) -> None:
        """λ ~ U(range) for every randomizable parameter, then a new episode under it."""
        if self.context is None:
            self.lambdas = {}
        else:
            self.lambdas = {n: float(self.rng.uniform(*r)) for n, r in self.ranges.items()}
        self.last_end = "new ADR sample"
        self._start_episode()

    # ------------------------------------------------------------------ stepping
    def control_step(self) -> None:
        """One control step of the policy (or zero action); a finished episode starts the next."""
        obs, _ = self.task.observations()
        act = self.policy if self.use_policy else self.zero
        r = self.task.step(act(obs, self._starts))
        self._starts[:] = False
        self.steps += 1
        self.total_successes += int(r.info["is_success"][0])
        if r.terminated[0] or r.truncated[0]:
            from dexrl.eval.runner import end_reason

            self.last_end = end_reason(self.task, 0, r.info)
            self._start_episode()

    def _start_episode(self) -> None:
        self.episode += 1
        self.task.reseed(0, int(self.rng.integers(2**63)))
        if self.context is not None and self.lambdas:
            self.context.apply(0, self.lambdas, tuple(self.lambdas))
        self.task.sim.clear_warnings(0)
        self.task.reset_env(0)
        self.policy.reset(1)
        self._starts = np.ones(1, dtype=bool)

    def _adr_context(self) -> Any:
        if not self.ranges:
            return None
        from dexrl.adr.apply import ApplyContext, unsupported_reason

        self.ranges = {n: r for n, r in self.ranges.items() if unsupported_reason(n, self.task) is None}
        context = ApplyContext(self.task)
        if any(n.endswith("_perturbation") for n in self.ranges):
            self.task.pre_physics_hooks.append(context.perturb)
        return context

    # ------------------------------------------------------------------ what is shown
    @property
    def model(self) -> mujoco.MjModel:
        return self.task.sim.models[0]

    @property
    def data(self) -> mujoco.MjData:
        return self.task.sim.datas[0]

    def overlay(self) -> tuple[str, str]:
        """(labels, values) of the top-left overlay."""
        t = self.task
        rows = [
            ("policy", f"{self.policy_name}" if self.use_policy else "zero action (Delete: policy)"),
            ("episode", f"{self.episode}  step {int(t.step_count[0])}"),
            ("successes", f"{int(t.consecutive_successes[0])} this episode, {self.total_successes} in all"),
            *[(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in goal_text(t, 0)[1:]],
            ("last end", self.last_end or "-"),
            ("ADR sample", _lambda_text(self.lambdas) if self.lambdas else
             ("calibrated (Insert: sample)" if self.ranges else "calibrated (no ranges)")),
            ("", "PAUSED" if self.paused else ""),
        ]  # fmt: skip
        return "\n".join(r[0] for r in rows), "\n".join(r[1] for r in rows)

    def markers(self) -> list[Any]:
        return goal_markers(self.task, 0)


def _lambda_text(lambdas: Mapping[str, float]) -> str:
    return "\n".join(f"{n} {v:+.2f}" for n, v in lambdas.items())


# ---------------------------------------------------------------------------- the window


def run_viewer(session: ViewerSession, seconds: float = 0.0,
               launch: Callable[..., Any] | None = None) -> int:  # fmt: skip
    """Show `session` in MuJoCo's viewer until its window closes (or `seconds` pass, > 0).

    The policy acts every control period (substeps × timestep of wall time, 80 ms = 12.5 Hz);
    within it the physics runs step by step in real time, the window redrawn every few steps.
    Returns the number of control steps run.
    """
    import mujoco.viewer

    launch = launch or mujoco.viewer.launch_passive
    handle = _open(session, launch)
    cfg = session.task.cfg
    start = time.monotonic()
    try:
        while handle.is_running() and (seconds <= 0 or time.monotonic() - start < seconds):
            session.apply_requests()
            if session.model is not handle.m:  # an ADR cube size gave the env a new model
                _close(handle)
                handle = _open(session, launch)
            if session.paused:
                _sync(handle, session)
                time.sleep(0.03)
                continue
            with _PacedPhysics(session, handle, cfg.timestep):
                session.control_step()
    finally:
        _close(handle)
    return session.steps


def _open(session: ViewerSession, launch: Callable[..., Any]) -> Any:
    before = set(threading.enumerate())
    handle = launch(session.model, session.data, key_callback=session.on_key,
                    show_left_ui=False, show_right_ui=False)  # fmt: skip
    handle_threads[id(handle)] = set(threading.enumerate()) - before
    with handle.lock():
        handle.cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        handle.cam.fixedcamid = max(0, mujoco.mj_name2id(session.model, mujoco.mjtObj.mjOBJ_CAMERA, "front"))
    _sync(handle, session)
    return handle


# The threads each launch started (the viewer's render thread): joined on close, since a
# process that exits while that thread still tears down GLFW crashes (SIGSEGV at exit).
handle_threads: dict[int, set[threading.Thread]] = {}


def _close(handle: Any, timeout_s: float = 10.0) -> None:
    handle.close()
    for thread in handle_threads.pop(id(handle), set()):
        thread.join(timeout_s)


def _sync(handle: Any, session: ViewerSession) -> None:
    """Redraw: the env's state, the ghost goal (user scene) and the overlay."""
    with handle.lock():
        handle.user_scn.ngeom = 0
        add_markers(handle.user_scn, session.markers())
    left, right = session.overlay()
    handle.set_texts([(None, mujoco.mjtGridPos.mjGRID_TOPLEFT, left, right),
                      (mujoco.mjtFontScale.mjFONTSCALE_100, mujoco.mjtGridPos.mjGRID_BOTTOMLEFT,
                       KEY_HELP, None)])  # fmt: skip
    handle.sync()


class _PacedPhysics:
    """For one control step, the env's physics runs one timestep at a time at wall-clock pace
    (the same steps as `mj_step(m, d, substeps)`), the window redrawn about 60 times a second
    (by wall time, so a slow machine redraws less instead of falling further behind)."""

    _REDRAW_S = 1.0 / 60.0

    def __init__(self, session: ViewerSession, handle: Any, timestep: float) -> None:
        self.session, self.handle, self.dt = session, handle, timestep
        self.sim = session.task.sim

    def __enter__(self) -> _PacedPhysics:
        self._step = self.sim.step
        self.sim.step = self._paced
        return self

    def __exit__(self, *exc: object) -> None:
        self.sim.step = self._step
        _sync(self.handle, self.session)

    def _paced(self, ctrl: np.ndarray, env_ids: Any = None) -> None:
        m, d = self.sim.models[0], self.sim.datas[0]
        d.ctrl[:] = ctrl[0]
        t0 = last_draw = time.monotonic()
        for k in range(self.sim.substeps):
            with self.handle.lock():
                mujoco.mj_step(m, d)
            now = time.monotonic()
            if now - last_draw >= self._REDRAW_S:
                _sync(self.handle, self.session)
                last_draw = now
            lag = t0 + (k + 1) * self.dt - time.monotonic()
            if lag > 0:
                time.sleep(lag)

"""Pick MuJoCo's OpenGL backend on a machine without a display, before MuJoCo is imported.

MuJoCo reads `MUJOCO_GL` once, when `mujoco` is first imported (glfw by default, which needs a
window system). On a headless Linux machine (no `DISPLAY`, no `WAYLAND_DISPLAY`) a script that
renders calls `choose_gl_backend()` first: EGL where it can make a context (GPU drivers or Mesa),
else OSMesa (software, `apt install libosmesa6`). Each candidate is tried in a short subprocess,
so a backend that crashes or hangs costs nothing here. A `MUJOCO_GL` the user set is never
changed.
"""

from __future__ import annotations

import os
import subprocess
import sys

CANDIDATES = ("egl", "osmesa")
_XML = "<mujoco><worldbody><geom size='1'/></worldbody></mujoco>"
_PROBE = "import dexrl.headless as h, sys; sys.exit(h.render_unavailable_reason() is not None)"


def has_display() -> bool:
    return sys.platform != "linux" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def backend_works(backend: str, timeout_s: float = 30.0) -> bool:
    """Whether MuJoCo can render one frame with MUJOCO_GL=`backend` (in a fresh interpreter)."""
    env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], env=env, timeout=timeout_s,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def choose_gl_backend() -> str | None:
    """Set MUJOCO_GL (and PYOPENGL_PLATFORM) for a headless machine; return one line saying what
    was chosen, or why nothing can render. None when nothing needed choosing (a display, or
    MUJOCO_GL already set)."""
    if os.environ.get("MUJOCO_GL") or has_display():
        return None
    if "mujoco" in sys.modules:
        return ("no display and MuJoCo was imported before a backend was chosen: set MUJOCO_GL=egl "
                "(or osmesa) in the environment to render")  # fmt: skip
    for backend in CANDIDATES:
        if backend_works(backend):
            os.environ["MUJOCO_GL"] = backend
            os.environ["PYOPENGL_PLATFORM"] = backend
            return f"no display: rendering offscreen with MUJOCO_GL={backend}"
    return ("no display, and neither EGL nor OSMesa can render here: install one "
            "(apt install libegl1 or libosmesa6) or set MUJOCO_GL")  # fmt: skip


def render_unavailable_reason() -> str | None:
    """None when this process can render a frame now, else why not (one line)."""
    try:
        import mujoco

        model = mujoco.MjModel.from_xml_string(_XML)
        with mujoco.Renderer(model, 16, 16) as renderer:
            renderer.update_scene(mujoco.MjData(model))
            renderer.render()
    except Exception as err:  # MuJoCo raises FatalError, RuntimeError, ImportError ... by backend
        text = " ".join(str(err).split())
        return f"cannot render ({type(err).__name__}: {text[:160]})"
    return None

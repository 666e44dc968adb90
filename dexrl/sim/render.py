"""Offscreen rendering of one env (videos, evaluation). Headless: MUJOCO_GL=egl or osmesa."""

from __future__ import annotations

import mujoco
import numpy as np


class FrameRenderer:
    """RGB frames of an env from a named camera."""

    def __init__(self, model: mujoco.MjModel, width: int = 480, height: int = 360, camera: str = "front") -> None:
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            cams = [model.camera(i).name for i in range(model.ncam)]
            raise ValueError(f"model has no camera '{camera}'; cameras: {cams}")
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as err:  # GL context creation failures come in many types
            raise RuntimeError(
                f"cannot create an OpenGL context for rendering ({err}). Without a display set "
                "MUJOCO_GL=egl (GPU) or MUJOCO_GL=osmesa (CPU; apt-get install libosmesa6)."
            ) from err
        self.camera = camera

    def render(self, data: mujoco.MjData) -> np.ndarray:
        self._renderer.update_scene(data, camera=self.camera)
        return self._renderer.render().copy()

    def close(self) -> None:
        self._renderer.close()

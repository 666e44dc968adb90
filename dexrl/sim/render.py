"""Offscreen rendering of one env (videos, evaluation). Headless: MUJOCO_GL=egl or osmesa.

Goals are drawn as extra geoms added to the scene after `update_scene` (a translucent "ghost"
cube at the goal orientation, spheres at reach targets): they are never part of the physics.
On-screen text is drawn on the image with Pillow; `write_mp4` encodes frames with PyAV (FFmpeg
ships inside its wheels, so no system ffmpeg is needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

GHOST_RGBA = (0.2, 0.8, 0.3, 0.35)  # translucent green: seen through, never mistaken for the cube


@dataclass(frozen=True)
class Marker:
    """A visual-only geom: a box (`size` = half sizes) or a sphere (`size[0]` = radius)."""

    kind: str  # "box" or "sphere"
    pos: np.ndarray  # [3] world position
    size: tuple[float, float, float]
    quat: np.ndarray | None = None  # [4] (w, x, y, z) world orientation (boxes)
    rgba: tuple[float, float, float, float] = GHOST_RGBA


def add_markers(scene: mujoco.MjvScene, markers: Sequence[Marker]) -> None:
    """Append `markers` to a scene built by `update_scene` (as many as it has room for)."""
    kinds = {"box": mujoco.mjtGeom.mjGEOM_BOX, "sphere": mujoco.mjtGeom.mjGEOM_SPHERE}
    for m in markers:
        if scene.ngeom >= scene.maxgeom:
            return
        mat = np.eye(3)
        if m.quat is not None:
            flat = np.zeros(9)
            mujoco.mju_quat2Mat(flat, np.asarray(m.quat, dtype=np.float64))
            mat = flat.reshape(3, 3)
        mujoco.mjv_initGeom(
            scene.geoms[scene.ngeom], int(kinds[m.kind]), np.asarray(m.size, dtype=np.float64),
            np.asarray(m.pos, dtype=np.float64), mat.reshape(-1), np.asarray(m.rgba, dtype=np.float32),
        )  # fmt: skip
        scene.ngeom += 1


def draw_text(frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """`frame` with `lines` written in its top-left corner (white on a dark band)."""
    if not lines:
        return frame
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    height = 12 * len(lines) + 6
    draw.rectangle((0, 0, max(len(s) for s in lines) * 6 + 10, height), fill=(0, 0, 0))
    for k, line in enumerate(lines):
        draw.text((5, 3 + 12 * k), line, fill=(255, 255, 255))
    return np.asarray(image)


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

    def render(
        self, data: mujoco.MjData, markers: Sequence[Marker] = (), text: Sequence[str] = (),
        model: mujoco.MjModel | None = None,
    ) -> np.ndarray:
        """[H, W, 3] uint8. `model`: the env's own model when it differs from the one the
        renderer was made with (ADR-randomized envs share the renderer's layout)."""
        if model is not None:
            self._renderer._model = model  # same sizes; update_scene reads geometry from it
        self._renderer.update_scene(data, camera=self.camera)
        add_markers(self._renderer.scene, markers)
        return draw_text(self._renderer.render().copy(), text)

    def close(self) -> None:
        self._renderer.close()


def write_mp4(path: str | Path, frames: Sequence[np.ndarray], fps: float) -> Path:
    """Encode RGB frames ([H, W, 3] uint8, even H and W) as H.264 (yuv420p) at `fps`."""
    import av

    if not frames:
        raise ValueError("write_mp4: no frames to write")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(p), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream: Any = container.add_stream(codec, rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        for frame in frames:
            image = np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return p


def read_mp4(path: str | Path) -> list[np.ndarray]:
    """Decode every frame of a video as [H, W, 3] uint8 (tests, tools)."""
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]

"""Write `policy.onnx` + `manifest.json` for a trained actor and the task it was trained on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dexrl.export.graph import export_actor, state_names, with_metadata
from dexrl.export.manifest import METADATA_KEY, build_manifest, sha256_bytes, sha256_file

ONNX_FILE = "policy.onnx"
MANIFEST_FILE = "manifest.json"


def export_policy(
    actor: Any, task: Any, out_dir: str | Path, checkpoint_file: str | Path | None = None,
    counters: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Export `actor` (a GaussianActor) for `task` (a HandTask) into `out_dir`.

    The manifest (minus the ONNX hash) is embedded in the graph's metadata, so `dexrl.deploy`
    can tell a manifest edited after export from the one the graph was made with.
    """
    if actor.obs_dim != task.obs_dim or actor.action_dim != task.action_dim:
        raise ValueError(f"the policy takes {actor.obs_dim} observations and gives {actor.action_dim} "
                         f"actions; env {task.cfg.name} has {task.obs_dim} and {task.action_dim}")  # fmt: skip
    checkpoint: dict[str, Any] = {"sha256": None, "file": None, "counters": counters or {}}
    if checkpoint_file is not None:
        checkpoint.update(sha256=sha256_file(checkpoint_file), file=Path(checkpoint_file).name)
    manifest = build_manifest(task, actor, state_names(actor), checkpoint)
    onnx_bytes = with_metadata(export_actor(actor), {METADATA_KEY: json.dumps(manifest, sort_keys=True)})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path, manifest_path = out / ONNX_FILE, out / MANIFEST_FILE
    onnx_path.write_bytes(onnx_bytes)
    manifest["onnx_sha256"] = sha256_bytes(onnx_bytes)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return onnx_path, manifest_path

"""Load policy.onnx + manifest.json, check they belong together, and run the policy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

FORMAT = "dexrl-policy-v1"
METADATA_KEY = "dexrl_manifest"

State = tuple[np.ndarray, ...]


class ManifestError(ValueError):
    """manifest.json and policy.onnx do not belong together (the message names the field)."""


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Dotted path of the first place where two JSON values differ (None when equal)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return where
            diff = first_difference(a[key], b[key], where)
            if diff is not None:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = first_difference(x, y, f"{path}[{i}]")
            if diff is not None:
                return diff
        return None
    return None if a == b and type(a) is type(b) else path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Policy:
    """An exported policy: `run(obs, state) -> (action, state)` on onnxruntime (CPU)."""

    def __init__(self, session: ort.InferenceSession, manifest: dict[str, Any]) -> None:
        self.session = session
        self.manifest = manifest
        spec = manifest["policy"]
        self.state_inputs = [s["input"] for s in spec["state"]]
        self.state_outputs = [s["output"] for s in spec["state"]]
        self.state_sizes = [int(s["shape"][1]) for s in spec["state"]]
        self.obs_dim = int(manifest["observation"]["dim"])
        self.action_dim = int(manifest["action"]["dim"])
        self._outputs = ["action", *self.state_outputs]

    @classmethod
    def load(cls, directory: str | Path, threads: int = 1) -> Policy:
        """Open `directory` (policy.onnx + manifest.json); ManifestError names what does not match.

        threads=1: a control loop wants one predictable core, not a thread pool's spin-up.
        """
        d = Path(directory)
        onnx_path, manifest_path = d / "policy.onnx", d / "manifest.json"
        for p in (onnx_path, manifest_path):
            if not p.is_file():
                raise ManifestError(f"{p} is missing; export with: python scripts/export.py checkpoint=<run> out={d}")
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise ManifestError(f"{manifest_path} is not valid JSON: {err}") from None
        if manifest.get("format") != FORMAT:
            raise ManifestError(f"field 'format' of {manifest_path} is {manifest.get('format')!r}, expected {FORMAT!r}")
        if manifest.get("onnx_sha256") != _sha256(onnx_path):
            raise ManifestError(f"field 'onnx_sha256' of {manifest_path} does not match {onnx_path} "
                                "(the graph was replaced or the manifest belongs to another export)")  # fmt: skip
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        check_manifest(manifest, session)
        return cls(session, manifest)

    def initial_state(self, batch: int = 1) -> State:
        """Zeros: the state at the first step of every episode (the manifest's reset rule)."""
        return tuple(np.zeros((batch, n), dtype=np.float32) for n in self.state_sizes)

    def run(self, obs: np.ndarray, state: State = ()) -> tuple[np.ndarray, State]:
        """obs [B, Do] raw (float32) and state -> (action [B, A] in [-1, 1], next state)."""
        feeds = {"obs": np.asarray(obs, dtype=np.float32)}
        feeds.update(zip(self.state_inputs, state, strict=True))
        out = self.session.run(self._outputs, feeds)
        return out[0], tuple(out[1:])


def check_manifest(manifest: dict[str, Any], session: ort.InferenceSession) -> None:
    """The manifest must equal the copy embedded at export, and name the graph's inputs/outputs."""
    embedded = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if embedded is None:
        raise ManifestError("policy.onnx carries no embedded manifest: it was not written by dexrl's exporter")
    given = {k: v for k, v in manifest.items() if k != "onnx_sha256"}
    diff = first_difference(given, json.loads(embedded))
    if diff is not None:
        raise ManifestError(f"manifest field '{diff}' differs from the manifest policy.onnx was exported "
                            "with; re-export instead of editing manifest.json")  # fmt: skip
    graph = {"inputs": session.get_inputs(), "outputs": session.get_outputs()}
    for kind, nodes in graph.items():
        declared = manifest["policy"][kind]
        actual = [{"name": n.name, "shape": list(n.shape)} for n in nodes]
        diff = first_difference(declared, actual, f"policy.{kind}")
        if diff is not None:
            raise ManifestError(f"manifest field '{diff}' does not match the graph's {kind}: {actual}")

"""Checkpoints: tensors plus JSON-safe values, no pickled objects (docs/architecture.md §8).

A checkpoint directory holds `checkpoint.pt` (saved with torch.save, loaded with
`weights_only=True`) and `meta.json` (format, counters, env/task name) for a quick look without
torch. Writes go to a temporary file first and are renamed, so a crash mid-write never leaves a
half checkpoint under the real name.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch

FORMAT = "dexrl-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint is missing, truncated, or not a dexrl checkpoint."""


def save_checkpoint(directory: str | Path, state: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write `state` (tensors / JSON values) and `meta` (JSON) atomically into `directory`."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "meta": meta, **state}
    tmp = d / "checkpoint.pt.tmp"
    torch.save(payload, tmp)
    os.replace(tmp, d / "checkpoint.pt")
    (d / "meta.tmp").write_text(json.dumps({"format": FORMAT, **meta}, indent=2))
    os.replace(d / "meta.tmp", d / "meta.json")
    return d / "checkpoint.pt"


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint (a directory or its checkpoint.pt) with `weights_only=True`."""
    p = Path(path)
    if p.is_dir():
        p = p / "checkpoint.pt"
    if not p.is_file():
        raise CheckpointError(
            f"no checkpoint at {p}; pass a run directory or its checkpoints/latest (a folder holding "
            "checkpoint.pt)"
        )
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" not in str(err).lower():  # no pickled object refused: not a torch file at all
            raise CheckpointError(f"cannot read checkpoint {p}: it is truncated or not a dexrl "
                                  "checkpoint (not a torch file)") from None  # fmt: skip
        # weights_only refused a pickled object (it could run code on load). torch's own text
        # advises retrying with weights_only=False; for a dexrl checkpoint that is never right.
        raise CheckpointError(
            f"{p} is not a dexrl checkpoint: it holds pickled Python objects, which could run "
            "code when loaded, so it was NOT loaded"
        ) from None
    except Exception as err:  # truncated zip, a text file, ...
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckpointError(
            f"cannot read checkpoint {p}: it is truncated or not a dexrl checkpoint ({type(err).__name__}: {first})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{p} is not a dexrl checkpoint (format {found!r}, expected {FORMAT!r})")
    return payload

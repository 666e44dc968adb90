"""The package layers import downward only (docs/architecture.md "How the pieces fit").

Read from the source (every import statement, at module level or inside a function), so a lazy
import that climbs a layer is caught as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DEXRL = Path(__file__).resolve().parents[1] / "dexrl"

# package (or module) -> the dexrl modules it must not import, and known exceptions (file: why)
RULES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    # SimHand joins tasks and deploy, so it lives in dexrl.eval (dexrl/eval/sim_hand.py).
    "sim": (("dexrl.tasks", "dexrl.deploy", "dexrl.eval", "dexrl.frontdoor"), {}),
    "tasks": (("dexrl.deploy", "dexrl.eval", "dexrl.export", "dexrl.distributed", "dexrl.frontdoor"), {}),
    # numpy + onnxruntime on a hand computer: within itself and the shared part vocabulary only.
    "deploy": (("dexrl.sim", "dexrl.tasks", "dexrl.eval", "dexrl.export", "dexrl.rl", "dexrl.frontdoor",
                "dexrl.config", "dexrl.distributed"), {}),
    "distributed": (("dexrl.frontdoor",), {}),
    "run_record.py": (("dexrl.frontdoor",), {}),
    # The configs sit below everything they configure; the env config reads only the task table.
    "structured.py": (("dexrl.",), {}),
    "env_config.py": (("dexrl.frontdoor", "dexrl.run_configs", "dexrl.distributed", "dexrl.eval", "dexrl.export",
                       "dexrl.deploy", "dexrl.sim", "dexrl.tasks.base", "dexrl.adr", "dexrl.rl"), {}),
    "multirun.py": (("dexrl.frontdoor", "dexrl.tasks", "dexrl.distributed"), {}),
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_downward(layer: str) -> None:
    banned, exceptions = RULES[layer]
    root = DEXRL / layer
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
    bad = [f"{path.relative_to(DEXRL)} imports {name}" for path in files if path.name not in exceptions
           for name in sorted(_imports(path)) if name.startswith(banned)]  # fmt: skip
    assert not bad, bad

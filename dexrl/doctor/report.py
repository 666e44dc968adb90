"""The doctor's result rows and how they print: a table for people, one JSON object for machines."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

STATUSES = ("pass", "warn", "fail")


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    group: str
    """Which group of the checklist (runs, overfit, signs, env, ladder)."""
    name: str
    status: str
    """pass, warn or fail."""
    value: str
    """What was measured, as text (numbers rounded for reading)."""
    expected: str
    """The range a healthy setup gives."""
    hint: str = ""
    """One line: what a warn or fail usually means and where to look."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Check.status must be one of {STATUSES}, got {self.status!r}")


def fmt(x: float) -> str:
    """A number for the table: 3 significant digits, or nan/inf as such."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}"


def grade(ok: bool, warn: bool = False) -> str:
    """pass when ok, else warn when `warn`, else fail."""
    return "pass" if ok else ("warn" if warn else "fail")


def failed(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.status == "fail"]


def table(checks: Sequence[Check]) -> str:
    """Fixed-width table: group, check, status, measured, expected, hint (hint only when not pass)."""
    header = ("group", "check", "status", "measured", "expected", "hint")
    rows = [header] + [
        (c.group, c.name, c.status.upper(), c.value, c.expected, "" if c.status == "pass" else c.hint)
        for c in checks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(len(widths))]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    lines.insert(1, "-" * min(160, max(len(line) for line in lines)))
    return "\n".join(lines)


def summary(checks: Sequence[Check]) -> dict[str, Any]:
    """One JSON-safe object: every check, counts per status, and ok (no failure)."""
    counts = {s: sum(c.status == s for c in checks) for s in STATUSES}
    return {"ok": counts["fail"] == 0, "counts": counts, "checks": [asdict(c) for c in checks]}


def to_json(checks: Sequence[Check], **extra: Any) -> str:
    return json.dumps({**summary(checks), **extra}, sort_keys=False)

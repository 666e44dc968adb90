"""The RL troubleshooting checklist, automated (`scripts/doctor.py`).

Groups, in the order practitioners debug: `runs` (it runs at all), `overfit` (one batch can be
memorized), `signs` (signs and scales of the update), `env` (the task without learning), and the
`ladder` (tasks one step harder at a time; its own long command). `run_doctor` returns `Check`
rows; `dexrl.doctor.report` prints them. Bugs are injected only by tests (pytest monkeypatch of
library functions): nothing here can switch a check off or fake a bug.
"""

from dexrl.doctor.common import DoctorSetup
from dexrl.doctor.report import Check
from dexrl.doctor.run import GROUPS, resolve_groups, run_doctor

__all__ = ["GROUPS", "Check", "DoctorSetup", "resolve_groups", "run_doctor"]

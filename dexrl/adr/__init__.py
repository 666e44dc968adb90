"""Domain randomization: parameter registry, configs (none / manual / auto) and the ADR state.

Pure numpy here; applying λ to the simulation (MuJoCo) is `dexrl.adr.apply` (the shared context),
`dexrl.adr.appliers` (one apply function per parameter; `register_param` adds one from outside)
and `dexrl.adr.randomizer.EpisodeRandomizer` (per env, per episode), imported explicitly so the
algorithm stays importable without MuJoCo.
"""

from dexrl.adr.algorithm import ENTROPY_WIDTH_FLOOR, ADRState, EpisodeAssignment
from dexrl.adr.config import (
    ADR_MODES,
    ADRConfig,
    ParamConfig,
    adr_config_from_dict,
    load_adr_config,
)
from dexrl.adr.params import PARAM_NAMES, PARAM_SPECS, ParamSpec, get_spec

__all__ = [
    "ADR_MODES",
    "ENTROPY_WIDTH_FLOOR",
    "PARAM_NAMES",
    "PARAM_SPECS",
    "ADRConfig",
    "ADRState",
    "EpisodeAssignment",
    "ParamConfig",
    "ParamSpec",
    "adr_config_from_dict",
    "get_spec",
    "load_adr_config",
]

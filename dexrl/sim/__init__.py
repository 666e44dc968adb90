"""Model loading and editing (MjSpec), batched stepping, rendering."""

from dexrl.sim.batch import BatchedSim
from dexrl.sim.model import HandModelIds, compile_model, load_spec, set_cube_half_size

__all__ = ["BatchedSim", "HandModelIds", "compile_model", "load_spec", "set_cube_half_size"]

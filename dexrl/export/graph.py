"""The actor as an ONNX graph: raw observation in, deterministic action out.

Everything the policy does between sensors and command sits inside the graph, so a deployed
runtime needs nothing from training (docs/architecture.md §9): the observation normalizer
(running mean/std, clipped to +-obs_clip sigma), the network, and the action's mean clipped to
[-1, 1] (the box the environment clipped to in training). Peers shipped bugs exactly here (a
normalizer reset in the LSTM export, a missing normalizer), so the tests compare this graph with
the torch policy on raw observations.

Recurrent policies take and return their state as named tensors (`h_in`, `c_in` -> `h_out`,
`c_out`, each [B, H]). Reset rule: feed zeros as the state at the first step of every episode
(what training did: the LSTM state is zeroed before an episode's first observation); otherwise
feed the previous step's `*_out`.
"""

from __future__ import annotations

import copy
import io
import warnings

import torch
from torch import nn

from dexrl.rl.networks import GaussianActor, LSTMActor

OPSET = 17
OBS_INPUT = "obs"
ACTION_OUTPUT = "action"
# (input name, output name) of each recurrent state tensor, in the order of the actor's `hidden`.
LSTM_STATE_NAMES = (("h_in", "h_out"), ("c_in", "c_out"))


class _FeedForwardExport(nn.Module):
    """obs [B, Do] -> action [B, A] = clip(mean, -1, 1)."""

    def __init__(self, actor: GaussianActor) -> None:
        super().__init__()
        self.actor = actor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        mean, _ = self.actor(obs)
        return torch.clamp(mean, -1.0, 1.0)


class _LSTMExport(nn.Module):
    """(obs [B, Do], h [B, H], c [B, H]) -> (action [B, A], h', c'): one control step."""

    def __init__(self, actor: LSTMActor) -> None:
        super().__init__()
        self.actor = actor

    def forward(
        self, obs: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, (h_out, c_out) = self.actor(obs.unsqueeze(0), (h, c))
        return torch.clamp(mean[0], -1.0, 1.0), h_out, c_out


def state_names(actor: GaussianActor) -> tuple[tuple[str, str], ...]:
    """(input, output) names of the recurrent state tensors; () for a feed-forward policy."""
    return LSTM_STATE_NAMES if actor.is_recurrent else ()


def export_actor(actor: GaussianActor) -> bytes:
    """Serialize `actor` (on CPU, eval mode) as an ONNX model with a dynamic batch axis."""
    actor = copy.deepcopy(actor).cpu().eval()  # a copy: the caller's actor stays on its device
    obs = torch.zeros(1, actor.obs_dim)
    module: nn.Module
    if isinstance(actor, LSTMActor):
        module = _LSTMExport(actor)
        args: tuple[torch.Tensor, ...] = (obs, *actor.initial_state(1, "cpu"))
    else:
        module = _FeedForwardExport(actor)
        args = (obs,)
    names = state_names(actor)
    inputs = [OBS_INPUT, *(i for i, _ in names)]
    outputs = [ACTION_OUTPUT, *(o for _, o in names)]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the torch.export one, which needs
        # the onnxscript package; this one handles nn.LSTM with explicit state and needs nothing.
        warnings.simplefilter("ignore", DeprecationWarning)
        # It also warns that an LSTM without explicit state inputs may fix the batch size; the
        # state is an input here.
        warnings.filterwarnings("ignore", message=".*LSTM.*", category=UserWarning)
        torch.onnx.export(
            module, args, buffer, dynamo=False, opset_version=OPSET,  # type: ignore[arg-type]
            input_names=inputs, output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
        )  # fmt: skip
    return buffer.getvalue()


def with_metadata(onnx_bytes: bytes, metadata: dict[str, str]) -> bytes:
    """The same model with `metadata` added to its metadata_props (read back by onnxruntime)."""
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model.SerializeToString()  # type: ignore[no-any-return]


"""policy.onnx equals the torch policy (normalizer, network, clipped mean; LSTM state carried and
reset), and export.py writes a manifest that describes the task it was trained on."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import mujoco
import numpy as np
import onnxruntime as ort
import pytest
import torch

from dexrl.export.bundle import export_policy
from dexrl.export.graph import export_actor
from dexrl.tasks.registry import make_task

from .exported import env_config, make_learner, replace, write_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _torch_mean(actor, obs, hidden=None):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        o = torch.as_tensor(obs)
        if actor.is_recurrent:
            mean, (h, c) = actor(o[None], hidden)
            return mean[0].clamp(-1, 1).numpy(), (h.numpy(), c.numpy())
        return actor(o)[0].clamp(-1, 1).numpy(), ()


def _random_obs(actor, n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Around the normalizer's statistics, with 10% far outside them (the +-5 sigma clip acts)."""
    mean = actor.obs_normalizer.mean.numpy()
    std = actor.obs_normalizer.std.numpy()
    z = rng.normal(size=(n, actor.obs_dim))
    z[: n // 10] *= 20.0
    return (mean + z * std).astype(np.float32)


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_onnx_equals_torch_on_1000_random_observations(kind: str) -> None:
    actor = make_learner(env_config("cube_rotate_z"), kind).actor.eval()
    session = ort.InferenceSession(export_actor(actor))
    rng = np.random.default_rng(0)
    obs = _random_obs(actor, 1000, rng)
    # The clip is in the graph: far-out inputs must not change the output past +-5 sigma.
    assert (np.abs((obs - actor.obs_normalizer.mean.numpy()) / actor.obs_normalizer.std.numpy()) > 5).any()
    feeds = {"obs": obs}
    hidden = None
    if kind == "lstm":
        h = rng.normal(size=(1000, actor.lstm_size)).astype(np.float32)
        c = rng.normal(size=(1000, actor.lstm_size)).astype(np.float32)
        feeds.update(h_in=h, c_in=c)
        hidden = (torch.as_tensor(h), torch.as_tensor(c))
    out = session.run(None, feeds)
    expected, expected_state = _torch_mean(actor, obs, hidden)
    assert np.abs(expected).max() > 0.3  # a lively policy (an untrained head gives ~0)
    if kind == "mlp":
        assert np.abs(expected).max() == 1.0  # and the [-1, 1] clip in the graph acts
    np.testing.assert_allclose(out[0], expected, atol=1e-5, rtol=0)
    for got, want in zip(out[1:], expected_state, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_lstm_onnx_along_a_trajectory_with_resets() -> None:
    """State carried step to step and zeroed where an episode starts, as the workers do."""
    env = env_config("cube_rotate_z", timeout_steps=12)  # episodes of 12 steps: resets inside
    actor = make_learner(env, "lstm").actor.eval()
    session = ort.InferenceSession(export_actor(actor))
    task = make_task(env, num_envs=3, seed=5)
    obs, _ = task.reset()
    starts = np.ones(3, dtype=bool)
    hidden, h, c = None, np.zeros((3, actor.lstm_size), np.float32), np.zeros((3, actor.lstm_size), np.float32)
    resets = 0
    for _ in range(30):
        want, _, hidden = actor.act(obs, hidden, deterministic=True, episode_starts=starts)
        h[starts], c[starts] = 0.0, 0.0  # the manifest's reset rule
        got, h, c = session.run(None, {"obs": obs, "h_in": h, "c_in": c})
        np.testing.assert_allclose(got, np.clip(want, -1, 1), atol=1e-5, rtol=0)
        np.testing.assert_allclose(h, hidden[0], atol=1e-5, rtol=0)
        r = task.step(np.clip(want, -1, 1))
        obs, starts = r.obs, r.terminated | r.truncated
        resets += int(starts.sum())
    assert resets >= 3  # the trajectory crossed episode boundaries
    # Not resetting gives a different action: the rule matters (and is tested).
    stale, _, _ = session.run(None, {"obs": obs, "h_in": h + 1.0, "c_in": c + 1.0})
    fresh, _, _ = session.run(None, {"obs": obs, "h_in": 0 * h, "c_in": 0 * c})
    assert np.abs(stale - fresh).max() > 1e-3


def _export(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MUJOCO_GL="osmesa", WANDB_MODE="disabled")
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "export.py"), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip


def test_export_script_writes_graph_and_manifest(tmp_path: Path) -> None:
    env = env_config("cube_rotate")
    ckpt = write_checkpoint(tmp_path / "run" / "checkpoints" / "latest", env, "lstm")
    out = tmp_path / "exported"
    result = _export(tmp_path, f"checkpoint={tmp_path / 'run'}", f"out={out}")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    onnx_bytes = (out / "policy.onnx").read_bytes()
    assert manifest["onnx_sha256"] == hashlib.sha256(onnx_bytes).hexdigest()
    assert manifest["checkpoint"]["sha256"] == hashlib.sha256((ckpt / "checkpoint.pt").read_bytes()).hexdigest()
    task = make_task(env, num_envs=1, seed=0, autoreset=False)
    parts = manifest["observation"]["parts"]
    assert [(p["name"], p["size"], p["units"], p["frame"]) for p in parts] == [
        (p.name, p.size, p.units, p.frame) for p in task.policy_obs_parts()
    ]
    assert [p["start"] for p in parts] == list(np.cumsum([0] + [p["size"] for p in parts])[:-1])
    assert manifest["observation"]["dim"] == task.obs_dim == sum(p["size"] for p in parts)
    m = task.base_model
    assert len(manifest["joints"]["names"]) == 24 and len(manifest["actuators"]["names"]) == 20
    # The four coupled fingers: one actuator drives J1 + J2 through a tendon, and J1 = J2.
    coupled = [t for t in manifest["actuators"]["transmission"] if len(t["joints"]) == 2]
    assert sorted(t["joints"][0][:2] for t in coupled) == ["FF", "LF", "MF", "RF"]
    assert len(manifest["joints"]["coupled"]) == 4
    # The transmission reproduces MuJoCo's actuator lengths for a random pose.
    d = mujoco.MjData(m)
    rng = np.random.default_rng(0)
    d.qpos[task.ids.hand_qpos_adr] = rng.uniform(-0.3, 0.3, 24)
    mujoco.mj_forward(m, d)
    index = {n: i for i, n in enumerate(manifest["joints"]["names"])}
    q = d.qpos[task.ids.hand_qpos_adr]
    lengths = [t["gear"] * sum(c * q[index[j]] for j, c in zip(t["joints"], t["coefs"], strict=True))
               for t in manifest["actuators"]["transmission"]]  # fmt: skip
    np.testing.assert_allclose(lengths, d.actuator_length, atol=1e-12)
    assert manifest["control"]["rate_hz"] == pytest.approx(12.5)  # 20 x 4 ms
    assert manifest["action"]["mode"] == "relative" and manifest["action"]["ema"] == 0.3
    assert manifest["policy"]["state"] == [
        {"input": "h_in", "output": "h_out", "shape": ["batch", 32]},
        {"input": "c_in", "output": "c_out", "shape": ["batch", 32]},
    ]
    graph = ort.InferenceSession(onnx_bytes)
    assert [i.name for i in graph.get_inputs()] == ["obs", "h_in", "c_in"]


# A missing checkpoint (exit 2, one line, no out folder) is tests/scripts/test_bad_input.py's
# real-process export case.


def test_export_refuses_a_policy_of_another_env(tmp_path: Path) -> None:
    actor = make_learner(env_config("cube_rotate_z"), "mlp").actor
    reach = make_task(env_config("reach"), num_envs=1, seed=0, autoreset=False)
    with pytest.raises(ValueError, match="env reach has"):
        export_policy(actor, reach, tmp_path)


def test_a_part_declared_not_exportable_stops_export_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task whose observation has a part no real hand can provide declares it with a reason;
    scripts/export.py then exits 2 with that reason on one line, and writes nothing."""
    import importlib.util

    from dexrl.obs_parts import not_exportable
    from dexrl.tasks.cube_rotate import CubeRotateTask

    real = CubeRotateTask._task_obs_terms

    def terms(self):  # type: ignore[no-untyped-def]
        out = real(self)
        part, value = out[3]
        return [*out[:3], (replace(part, source=not_exportable("a test sensor nobody builds")), value), *out[4:]]

    write_checkpoint(tmp_path / "run" / "checkpoints" / "latest", env_config("cube_rotate"), "mlp")
    monkeypatch.setattr(CubeRotateTask, "_task_obs_terms", terms)
    spec = importlib.util.spec_from_file_location("_dexrl_export_not_exportable", ROOT / "scripts" / "export.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        script.main([f"checkpoint={tmp_path / 'run'}", f"out={tmp_path / 'exported'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1, err
    assert err[0] == ("config error: cannot export a policy of env cube_rotate: its observation part "
                      "'goal_quat' has no source on a real hand (a test sensor nobody builds)")  # fmt: skip
    assert not (tmp_path / "exported").exists()


def test_manifest_parts_carry_their_sources_for_every_task() -> None:
    """face_turn and cube_solve export too: their 'face' part is read from a cube-state tracker's
    face angle and the goal source's face subgoal."""
    from dexrl.export.manifest import observation_section

    for env in ("face_turn", "cube_solve"):
        section = observation_section(make_task(env_config(env), num_envs=1, seed=0, autoreset=False))
        face = next(p for p in section["parts"] if p["name"] == "face")
        assert face["source"]["kind"] == "face_progress" and "reading.face_angle" in face["source"]["reads"]

"""Running mean/std: exact merges across workers, clipping, torch buffers, state round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dexrl.rl.normalizer import ObservationNormalizer, RunningMeanStd, compute_moments


def test_three_workers_merge_to_the_pooled_statistics() -> None:
    rng = np.random.default_rng(1)
    # Different sizes and distributions per worker, as after uneven episode lengths.
    chunks = [
        rng.normal(3.0, 0.5, size=(7, 5)),
        rng.normal(-1.0, 2.0, size=(131, 5)),
        rng.uniform(0.0, 10.0, size=(1000, 5)),
    ]
    learner = RunningMeanStd(5)
    for chunk in chunks:
        worker = RunningMeanStd(5)
        worker.update(chunk[: len(chunk) // 2])  # a worker may itself accumulate in pieces
        worker.update(chunk[len(chunk) // 2 :])
        learner.merge(worker.moments())
    pooled = np.concatenate(chunks)
    assert learner.count == len(pooled)
    np.testing.assert_allclose(learner.mean, pooled.mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(learner.var, pooled.var(axis=0), rtol=1e-6, atol=1e-6)


def test_merge_is_order_independent_and_from_moments_round_trips() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(20, 3)), rng.normal(5, 3, size=(4, 3))
    ab, ba = RunningMeanStd(3), RunningMeanStd(3)
    for rms, order in ((ab, (a, b)), (ba, (b, a))):
        for chunk in order:
            rms.update(chunk)
    np.testing.assert_allclose(ab.mean, ba.mean, rtol=1e-12)
    np.testing.assert_allclose(ab.var, ba.var, rtol=1e-12)
    copy = RunningMeanStd.from_moments(*ab.moments())
    assert copy.count == 24
    np.testing.assert_array_equal(copy.var, ab.var)


def test_empty_merge_changes_nothing_and_fresh_normalizer_is_identity() -> None:
    rms = RunningMeanStd(2)
    x = np.array([[1.0, -2.0]])
    np.testing.assert_allclose(rms.normalize(x), x, atol=1e-6)
    rms.update(np.array([[1.0, 1.0], [3.0, 5.0]]))
    before = rms.moments()
    rms.merge(compute_moments(np.zeros((0, 2)), (2,)))
    assert rms.count == before[0]
    np.testing.assert_array_equal(rms.mean, before[1])


def test_normalize_clips_at_five_sigma() -> None:
    rms = RunningMeanStd.from_moments(100, mean=[1.0, -2.0], var=[4.0, 0.25])
    # mean + 10 sigma and mean - 10 sigma -> clipped to +5 / -5; mean + 1 sigma -> 1
    x = np.array([[21.0, -7.0], [3.0, -2.0]])
    np.testing.assert_allclose(rms.normalize(x, clip=5.0), [[5.0, -5.0], [1.0, 0.0]], atol=1e-6)


def test_torch_buffers_match_numpy_normalization() -> None:
    rng = np.random.default_rng(3)
    rms = RunningMeanStd(4)
    rms.update(rng.normal(2.0, 3.0, size=(500, 4)))
    module = ObservationNormalizer(4, clip=5.0)
    module.set_stats(rms)
    x = rng.normal(2.0, 30.0, size=(64, 4))
    out = module(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out, rms.normalize(x, clip=5.0), atol=1e-5)
    assert {"mean", "std", "clip"} <= set(module.state_dict())


def test_state_dict_survives_json_and_tensors() -> None:
    rms = RunningMeanStd(3)
    rms.update(np.arange(12.0).reshape(4, 3))
    state = rms.state_dict()
    as_json = json.loads(json.dumps({k: np.asarray(v).tolist() for k, v in state.items()}))
    for source in (as_json, {k: torch.as_tensor(v) for k, v in state.items()}):
        restored = RunningMeanStd(3)
        restored.load_state_dict(source)
        assert restored.count == rms.count
        np.testing.assert_array_equal(restored.mean, rms.mean)
        np.testing.assert_array_equal(restored.var, rms.var)


def test_shape_mismatch_is_reported() -> None:
    with pytest.raises(ValueError, match="shape"):
        RunningMeanStd(3).merge((10, np.zeros(4), np.ones(4)))
    with pytest.raises(ValueError, match="expected"):
        RunningMeanStd(3).load_state_dict({"count": 1, "mean": [0.0], "var": [1.0]})

"""Window planning and blending: fixed shapes for any clip length, exact reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.retarget._windows import blend_windows, next_pow2, plan_windows, window_bucket


@pytest.mark.parametrize("T", [1, 5, 64, 65, 300, 1800])
def test_windows_cover_every_frame_and_blend_back_exactly(T):
    plan = plan_windows(T, 64, 16)
    idx = plan.frame_index()
    assert idx.shape == (len(plan.starts), 64)
    assert set(idx[plan.mask() > 0].tolist()) == set(range(T))
    signal = np.sin(np.arange(T) * 0.1)[:, None] * np.arange(1, 4)[None]
    np.testing.assert_allclose(blend_windows(plan, signal[idx]), signal, atol=1e-12)


def test_blend_weights_sum_to_one_in_overlaps():
    plan = plan_windows(300, 64, 16)
    total = np.zeros(300)
    np.add.at(total, plan.frame_index(), plan.blend_weights())
    np.testing.assert_allclose(total, 1.0)


def test_quaternion_blend_aligns_signs():
    plan = plan_windows(100, 64, 16)
    q = np.tile(np.array([0.6, 0.8, 0.0, 0.0]), (100, 1))
    win = q[plan.frame_index()].copy()
    win[1] *= -1  # the second window returns the same rotations with the other sign
    out = blend_windows(plan, win, reference=q)
    np.testing.assert_allclose(out, q, atol=1e-12)


def test_next_pow2():
    assert [next_pow2(n) for n in (0, 1, 2, 3, 8, 9)] == [1, 1, 2, 4, 8, 16]


def test_window_bucket_wastes_less_than_a_third():
    buckets = [window_bucket(n) for n in range(1, 200)]
    assert sorted(set(buckets))[:9] == [1, 2, 3, 4, 6, 8, 12, 16, 24]
    for n, b in zip(range(1, 200), buckets):
        assert n <= b and ((b - n) < b / 3 + 1e-9 or b <= 2)


def test_pad_to_bucket_repeats_the_last_row_or_fills():
    from retargetjax._buckets import pad_to_bucket

    a = np.arange(10.0).reshape(5, 2)
    out = pad_to_bucket(a, minimum=4)
    assert out.shape == (8, 2) and np.all(out[5:] == a[-1]) and np.all(out[:5] == a)
    filled = pad_to_bucket(a, minimum=16, fill=np.array([7.0, 8.0]))
    assert filled.shape == (16, 2) and np.all(filled[5:] == [7.0, 8.0])
    assert pad_to_bucket(a[:4], minimum=4) is not None and pad_to_bucket(a[:4]).shape == (4, 2)

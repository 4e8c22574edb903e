"""Quaternion and segment helpers: identities, round trips, autodiff vs finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax import geometry as g


def _random_quats(n: int, seed: int = 0) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return (q / np.linalg.norm(q, axis=-1, keepdims=True)).astype(np.float32)


def test_rotate_matches_matrix():
    q = _random_quats(16)
    v = np.random.default_rng(1).normal(size=(16, 3)).astype(np.float32)
    np.testing.assert_allclose(
        g.quat_rotate(q, v), np.einsum("nij,nj->ni", g.quat_to_mat(q), v), atol=1e-5
    )


def test_mat_to_quat_round_trip_every_branch():
    # Include rotations by ~π about each axis (the branches of Shepperd's method).
    q = np.concatenate(
        [_random_quats(64), np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], np.float32)]
    )
    back = np.asarray(g.mat_to_quat(g.quat_to_mat(q)))
    assert np.all(np.abs(np.abs(np.sum(back * q, axis=-1)) - 1) < 1e-5)


def test_mul_is_composition():
    a, b = _random_quats(8, 2), _random_quats(8, 3)
    np.testing.assert_allclose(
        g.quat_to_mat(g.quat_mul(a, b)), g.quat_to_mat(a) @ g.quat_to_mat(b), atol=1e-5
    )


@pytest.mark.parametrize("seq", ["XYZ", "ZXY", "zyx", "xyz"])
def test_euler_convention(seq):
    ang = np.array([0.3, -0.7, 1.2], np.float32)
    mats = [
        g.rotvec_to_mat(np.eye(3, dtype=np.float32)["xyz".index(c.lower())] * a)
        for c, a in zip(seq, ang)
    ]
    expected = mats[0] @ mats[1] @ mats[2] if seq.isupper() else mats[2] @ mats[1] @ mats[0]
    np.testing.assert_allclose(g.quat_to_mat(g.euler_to_quat(ang, seq)), expected, atol=1e-5)


def test_log_exp_round_trip_and_zero_gradient_finite():
    v = np.random.default_rng(4).normal(size=(32, 3)).astype(np.float32) * 0.9
    np.testing.assert_allclose(g.quat_log(g.quat_exp(v)), v, atol=1e-5)
    grad = jax.grad(lambda x: jnp.sum(g.quat_log(g.quat_exp(x))))(jnp.zeros(3))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, np.ones(3), atol=1e-6)


def test_slerp_endpoints_and_midpoint():
    a, b = _random_quats(4, 5), _random_quats(4, 6)
    np.testing.assert_allclose(np.abs(np.sum(g.quat_slerp(a, b, 0.0) * a, -1)), 1, atol=1e-5)
    np.testing.assert_allclose(np.abs(np.sum(g.quat_slerp(a, b, 1.0) * b, -1)), 1, atol=1e-5)
    mid = g.quat_slerp(a, b, 0.5)
    np.testing.assert_allclose(
        g.quat_angle_between(a, mid), g.quat_angle_between(mid, b), atol=1e-4
    )


def test_two_vectors_including_opposite():
    a = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], np.float32)
    b = np.array([[0, 1, 0], [0, 0, -1], [0, 1, 0]], np.float32)
    np.testing.assert_allclose(g.quat_rotate(g.quat_from_two_vectors(a, b), a), b, atol=1e-5)


def test_normalize_zero_is_identity_not_nan():
    np.testing.assert_array_equal(g.quat_normalize(jnp.zeros(4)), [1, 0, 0, 0])


def _brute_segment_distance(p0, p1, q0, q1, n=401):
    s = np.linspace(0, 1, n)
    a = p0[None] + s[:, None] * (p1 - p0)[None]
    b = q0[None] + s[:, None] * (q1 - q0)[None]
    return np.min(np.linalg.norm(a[:, None] - b[None], axis=-1))


def test_segment_distance_matches_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(20):
        p0, p1, q0, q1 = rng.normal(size=(4, 3))
        d = float(g.segment_segment_distance(p0, p1, q0, q1))
        assert d == pytest.approx(_brute_segment_distance(p0, p1, q0, q1), abs=5e-3)
    # Parallel segments, points (spheres) and a crossing: exact answers.
    z = np.zeros(3)
    ex = np.array([1.0, 0, 0])
    ey = np.array([0, 1.0, 0])
    assert float(g.segment_segment_distance(z, ex, ey, ey + ex)) == pytest.approx(1.0, abs=1e-5)
    assert float(g.segment_segment_distance(z, z, ey, ey)) == pytest.approx(1.0, abs=1e-5)
    cross = float(
        g.segment_segment_distance(
            -ex, ex, -ey + 0.5 * np.array([0, 0, 1.0]), ey + 0.5 * np.array([0, 0, 1.0])
        )
    )
    assert cross == pytest.approx(0.5, abs=1e-5)


def test_segment_distance_with_coordinates_on_another_axis():
    """``axis=-2`` (pairs, 3, frames) gives the distances of the last-axis layout."""
    rng = np.random.default_rng(8)
    p0, p1, q0, q1 = rng.normal(size=(4, 5, 6, 3))
    p1[0] = p0[0]  # a sphere
    q1[1] = q0[1] + 2.0 * (p1[1] - p0[1])  # parallel
    want = g.segment_segment_distance(p0, p1, q0, q1)
    got = g.segment_segment_distance(*(np.swapaxes(a, -1, -2) for a in (p0, p1, q0, q1)), axis=-2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_segment_distance_gradient_finite_for_degenerate():
    z = jnp.zeros(3)
    grad = jax.grad(lambda p: g.segment_segment_distance(p, p, z + 1.0, z + 1.0))(z)
    assert np.all(np.isfinite(np.asarray(grad)))

"""numpy front-ends of the geometry package agree with the JAX functions."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from retargetjax import geometry as _geometry
from retargetjax.motion._np_geometry import (
    mat_to_quat_np,
    quat_rotate_np,
    quat_slerp_np,
    quat_to_mat_np,
    rotvec_to_mat_np,
)


class _Jitted:
    """The reference geometry functions, jitted (eager JAX compiles every primitive)."""

    def __getattr__(self, name):
        return jax.jit(getattr(_geometry, name))


geometry = _Jitted()


@pytest.fixture(scope="module")
def quats():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(300, 4)).astype(np.float32)
    # Include the branches of Shepperd's method: near-identity and 180° turns about each axis.
    q[:4] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def test_mat_to_quat_matches_geometry(quats):
    R = np.asarray(geometry.quat_to_mat(quats))
    np.testing.assert_allclose(mat_to_quat_np(R), np.asarray(geometry.mat_to_quat(R)), atol=2e-6)
    np.testing.assert_allclose(
        mat_to_quat_np(R.reshape(3, 100, 3, 3)).reshape(300, 4), mat_to_quat_np(R)
    )
    assert np.all(mat_to_quat_np(R)[:, 0] >= 0)


def test_wrappers_match_geometry_for_any_batch_shape(quats):
    q = quats.reshape(10, 30, 4)
    np.testing.assert_allclose(quat_to_mat_np(q), np.asarray(geometry.quat_to_mat(q)), atol=1e-6)
    v = np.ones((30, 3), np.float32)
    np.testing.assert_allclose(
        quat_rotate_np(q, v), np.asarray(geometry.quat_rotate(q, v)), atol=1e-6
    )
    t = np.linspace(0, 1, 30, dtype=np.float32)[None].repeat(10, 0)
    np.testing.assert_allclose(
        quat_slerp_np(q, q[::-1], t), np.asarray(geometry.quat_slerp(q, q[::-1], t)), atol=1e-5
    )
    r = q[..., 1:] * 2
    np.testing.assert_allclose(
        rotvec_to_mat_np(r), np.asarray(geometry.rotvec_to_mat(r)), atol=1e-6
    )
    assert rotvec_to_mat_np(np.zeros((0, 3))).shape == (0, 3, 3)

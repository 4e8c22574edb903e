"""Euler matrices for BVH channels, and their inverse used by the BVH writer."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion._euler import axis_rotation_matrices, euler_matrices, matrices_to_euler


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
def test_round_trip_including_gimbal_lock(order):
    rng = np.random.default_rng(0)
    angles = rng.uniform(-3, 3, size=(200, 3))
    angles[:, 1] = rng.uniform(-1.5, 1.5, size=200)
    angles[0, 1], angles[1, 1] = np.pi / 2, -np.pi / 2
    R = euler_matrices(angles, order)
    back = matrices_to_euler(R, order)
    np.testing.assert_allclose(euler_matrices(back, order), R, atol=1e-9)
    # Away from the lock the angles themselves come back.
    np.testing.assert_allclose(back[2:], angles[2:], atol=1e-9)


def test_axis_matrices_are_right_handed():
    Rz = axis_rotation_matrices(np.array(np.pi / 2), "Z")
    np.testing.assert_allclose(Rz @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    Rx = axis_rotation_matrices(np.array(np.pi / 2), "X")
    np.testing.assert_allclose(Rx @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    with pytest.raises(ValueError, match="three distinct axes"):
        matrices_to_euler(np.eye(3), "XXY")

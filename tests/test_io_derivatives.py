"""Finite-difference velocities and world-frame angular velocity from quaternions."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.io import angular_velocity_world, finite_difference


def _axis_angle(axis, angle):
    axis = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    angle = np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis], axis=-1)


def _mul(a, b):
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def test_finite_difference_central_inside_one_sided_at_the_ends():
    x = np.array([0.0, 1.0, 4.0, 9.0])[:, None]  # t² at fps = 1
    v = finite_difference(x, fps=1.0)
    np.testing.assert_allclose(v[:, 0], [1.0, 2.0, 4.0, 5.0])
    np.testing.assert_allclose(finite_difference(x, fps=10.0)[:, 0], [10.0, 20.0, 40.0, 50.0])
    assert finite_difference(np.ones((1, 3)), fps=30.0).tolist() == [[0.0, 0.0, 0.0]]
    assert v.dtype == np.float32


def test_constant_spin_about_z_gives_its_rate_in_the_world_frame():
    fps, rate = 50.0, 3.0
    t = np.arange(20) / fps
    # Spin about world z of a body tilted 90° about x: its body-frame rate is not along z,
    # so getting (0, 0, rate) checks that the result is expressed in the world frame.
    tilt = _axis_angle([1, 0, 0], np.pi / 2)
    quat = _mul(_axis_angle([0, 0, 1], rate * t), tilt)
    quat[5] *= -1.0  # the same rotation: a sign flip must not produce a spike
    omega = angular_velocity_world(quat, fps)
    np.testing.assert_allclose(omega, np.tile([0.0, 0.0, rate], (20, 1)), atol=1e-4)


def test_angular_velocity_shapes_and_single_frame():
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (5, 3, 1))
    assert angular_velocity_world(quat, 30.0).shape == (5, 3, 3)
    assert np.all(angular_velocity_world(quat, 30.0) == 0.0)
    assert angular_velocity_world(quat[:1], 30.0).shape == (1, 3, 3)


def test_central_value_is_the_mean_of_the_two_steps():
    fps = 10.0
    angles = np.array([0.0, 0.1, 0.3, 0.6])  # accelerating spin about y
    omega = angular_velocity_world(_axis_angle([0, 1, 0], angles), fps)
    steps = np.diff(angles) * fps  # 1, 2, 3 rad/s
    expected = [steps[0], (steps[0] + steps[1]) / 2, (steps[1] + steps[2]) / 2, steps[2]]
    np.testing.assert_allclose(omega[:, 1], expected, atol=1e-5)
    np.testing.assert_allclose(omega[:, [0, 2]], 0.0, atol=1e-6)
    assert np.all(np.isfinite(omega))
    assert omega[3, 1] == pytest.approx(3.0, abs=1e-5)

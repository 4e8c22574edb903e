"""Jitter metrics on trajectories with known derivatives."""

import numpy as np
import pytest

from retargetjax.evaluation import jitter_metrics, root_angular_acceleration
from retargetjax.geometry import axis_angle_to_quat


def test_constant_acceleration_has_known_acc_and_zero_jerk():
    fps, a = 30.0, 2.0
    t = np.arange(20) / fps
    q = np.stack([0.5 * a * t**2, -0.5 * a * t**2], axis=1)
    root_pos = np.stack([0.5 * 3.0 * t**2, 0 * t, 0 * t + 0.8], axis=1)
    root_quat = np.tile([1.0, 0, 0, 0], (20, 1))
    m = jitter_metrics(q, root_pos, root_quat, fps)
    assert m["joint_acc_mean_rad_s2"] == pytest.approx(a, rel=1e-6)
    assert m["joint_acc_p99_rad_s2"] == pytest.approx(a, rel=1e-6)
    assert m["joint_jerk_mean_rad_s3"] == pytest.approx(0.0, abs=1e-6)
    assert m["root_lin_acc_mean_m_s2"] == pytest.approx(3.0, rel=1e-6)
    assert m["root_ang_acc_mean_rad_s2"] == pytest.approx(0.0, abs=1e-6)


def test_cubic_has_known_jerk():
    fps = 50.0
    t = np.arange(12) / fps
    q = (t**3)[:, None]  # jerk 6
    m = jitter_metrics(q, np.zeros((12, 3)), np.tile([1.0, 0, 0, 0], (12, 1)), fps)
    assert m["joint_jerk_mean_rad_s3"] == pytest.approx(6.0, rel=1e-4)


def test_root_angular_acceleration_about_z():
    fps, alpha = 30.0, 4.0
    t = np.arange(15) / fps
    angle = 0.5 * alpha * t**2
    axis = np.tile([0.0, 0.0, 1.0], (15, 1))
    quat = np.array(axis_angle_to_quat(axis.astype(np.float32), angle.astype(np.float32)))
    quat[::2] *= -1  # sign flips must not matter
    acc = root_angular_acceleration(quat, fps)
    np.testing.assert_allclose(acc, alpha, rtol=2e-2)


def test_short_clips_are_zero():
    m = jitter_metrics(np.zeros((2, 3)), np.zeros((2, 3)), np.tile([1.0, 0, 0, 0], (2, 1)), 30)
    assert all(v == 0.0 for v in m.values())

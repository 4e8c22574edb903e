"""Joint limit metrics on hand-made joint trajectories with known answers."""

import numpy as np
import pytest

from retargetjax.evaluation import joint_limit_metrics, joint_speed


def test_position_violation_count_and_worst():
    q = np.zeros((10, 3))
    q[2:5, 1] = 1.25  # 0.25 past the upper limit of 1.0 in 3 frames
    q[7, 2] = -0.6  # 0.1 below the lower limit of -0.5
    q[8, 0] = 1.0 + 5e-7  # within the 1e-6 tolerance: not a violation
    m = joint_limit_metrics(q, [-1, -1, -0.5], [1, 1, 1], fps=30)
    assert m["joint_limit_violations"] == 4
    assert m["joint_limit_worst_rad"] == pytest.approx(0.25)


def test_velocity_violations_against_limits():
    fps = 30.0
    q = np.zeros((6, 2))
    q[:, 0] = np.arange(6) * 0.1  # 3 rad/s everywhere
    m = joint_limit_metrics(q, [-10, -10], [10, 10], fps, velocity_limit=[2.0, np.inf])
    assert m["joint_velocity_violations"] == 6
    assert m["joint_velocity_within_limit_frac"] == 0.0
    assert m["joint_velocity_worst_ratio"] == pytest.approx(1.5)
    assert m["joint_speed_max_rad_s"] == pytest.approx(3.0)
    m = joint_limit_metrics(q, [-10, -10], [10, 10], fps, velocity_limit=[4.0, 1.0])
    assert m["joint_velocity_violations"] == 0
    assert m["joint_velocity_within_limit_frac"] == 1.0
    assert m["joint_velocity_worst_ratio"] == pytest.approx(0.75)


def test_unknown_velocity_limits_report_no_ratio():
    q = np.cumsum(np.ones((5, 2)), axis=0)
    m = joint_limit_metrics(q, [-9, -9], [9, 9], 30.0, velocity_limit=None)
    assert m["joint_velocity_worst_ratio"] == 0.0
    assert m["joint_velocity_within_limit_frac"] == 1.0


def test_joint_speed_single_frame_is_zero():
    assert np.all(joint_speed(np.ones((1, 4)), 30.0) == 0)

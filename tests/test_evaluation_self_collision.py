"""Self-penetration reductions over frames."""

import numpy as np
import pytest

from retargetjax.evaluation import self_penetration_metrics


def test_max_p99_and_fraction():
    depth = np.zeros(100)
    depth[10] = 0.05
    depth[20:23] = 0.02
    m = self_penetration_metrics(depth)
    assert m["self_penetration_max_m"] == pytest.approx(0.05)
    assert m["self_penetration_frames_above_1cm_frac"] == pytest.approx(0.04)
    assert m["self_penetration_p99_m"] == pytest.approx(np.percentile(depth, 99))
    assert 0.02 <= m["self_penetration_p99_m"] <= 0.05


def test_empty_is_zero():
    assert self_penetration_metrics(np.zeros(0))["self_penetration_max_m"] == 0.0


def test_per_group_max_and_fraction():
    from retargetjax.evaluation import self_penetration_group_metrics

    depth = np.array([[0.0, 0.02, 0.0], [0.005, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.015, 0.0]])
    groups = ("arm_torso", "arm_leg", "arm_leg")
    m = self_penetration_group_metrics(depth, groups, ("arm_torso", "arm_leg", "leg_leg"))
    assert m["self_penetration_arm_torso_max_m"] == pytest.approx(0.005)
    assert m["self_penetration_arm_torso_frames_above_1cm_frac"] == 0.0
    assert m["self_penetration_arm_leg_max_m"] == pytest.approx(0.02)
    assert m["self_penetration_arm_leg_frames_above_1cm_frac"] == pytest.approx(0.5)
    assert m["self_penetration_leg_leg_max_m"] == 0.0

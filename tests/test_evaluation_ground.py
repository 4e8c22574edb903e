"""Ground penetration depth from capsule bottoms."""

import numpy as np
import pytest

from retargetjax.evaluation import ground_depth, ground_penetration_metrics


def test_depth_is_lowest_primitive_below_floor():
    bottom = np.array([[0.1, 0.0, 0.3], [0.1, -0.03, -0.005], [0.2, 0.05, 0.1], [-0.012, 0, 0]])
    np.testing.assert_allclose(ground_depth(bottom), [0.0, 0.03, 0.0, 0.012])
    m = ground_penetration_metrics(bottom)
    assert m["ground_penetration_max_m"] == pytest.approx(0.03)
    assert m["ground_frames_below_1cm_frac"] == pytest.approx(0.5)
    assert m["ground_penetration_mean_m"] == pytest.approx(0.042 / 4)


def test_no_capsules_is_no_penetration():
    m = ground_penetration_metrics(np.zeros((3, 0)))
    assert m["ground_penetration_max_m"] == 0.0


def test_lowest_point_5mm_fraction_and_limb_depths():
    # Frames × capsules (arm, leg, torso): a hand 7 mm under the floor in frame 1.
    bottom = np.array([[0.3, 0.0, 0.5], [-0.007, 0.001, 0.5], [0.2, -0.003, 0.4]])
    m = ground_penetration_metrics(bottom, ("left_arm", "right_leg", "torso"))
    assert m["ground_lowest_m"] == pytest.approx(-0.007)
    assert m["ground_frames_below_5mm_frac"] == pytest.approx(1 / 3)
    assert m["ground_frames_below_1cm_frac"] == 0.0
    assert m["ground_penetration_max_arm_m"] == pytest.approx(0.007)
    assert m["ground_penetration_max_leg_m"] == pytest.approx(0.003)
    assert m["ground_penetration_max_torso_m"] == 0.0
    assert "ground_penetration_max_arm_m" not in ground_penetration_metrics(bottom)

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

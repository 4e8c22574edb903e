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

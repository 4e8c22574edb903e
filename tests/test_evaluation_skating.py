"""Foot skating on soles sliding at known speeds."""

import numpy as np
import pytest

from retargetjax.evaluation import foot_skate_metrics, sole_slide_mm


def _soles(T, step_m):
    base = np.array([[0.1, 0.03, 0], [0.1, -0.03, 0], [-0.05, 0.03, 0], [-0.05, -0.03, 0]])
    soles = np.zeros((T, 2, 4, 3))
    for t in range(T):
        soles[t, 0] = base + np.array([t * step_m, 0, 0])  # left slides along x
        soles[t, 1] = base + np.array([0, 0.2, 0])  # right stands still
    return soles


def test_known_slide_speed_at_30fps():
    soles = _soles(11, 0.002)  # 2 mm per frame
    contact = np.ones((11, 2), bool)
    m = foot_skate_metrics(soles, contact, fps=30)
    # 10 steps per foot; left slides 2 mm, right 0 mm
    assert m["foot_contact_steps"] == 20
    assert m["foot_skate_mean_mm_per_frame"] == pytest.approx(1.0)
    assert m["foot_skate_max_mm_per_frame"] == pytest.approx(2.0)
    assert m["foot_skate_frac_above_1mm"] == pytest.approx(0.5)


def test_speed_is_normalised_to_30fps():
    soles = _soles(5, 0.001)  # 1 mm per frame at 60 fps = 60 mm/s = 2 mm per 30 fps frame
    np.testing.assert_allclose(sole_slide_mm(soles, 60.0)[:, 0], 2.0)


def test_only_steps_planted_at_both_ends_count():
    soles = _soles(6, 0.01)
    contact = np.zeros((6, 2), bool)
    contact[2:4, 0] = True  # one planted step: 2 -> 3
    m = foot_skate_metrics(soles, contact, fps=30)
    assert m["foot_contact_steps"] == 1
    assert m["foot_skate_mean_mm_per_frame"] == pytest.approx(10.0)


def test_no_contact_gives_zeros_not_nan():
    m = foot_skate_metrics(_soles(4, 0.01), np.zeros((4, 2), bool), fps=30)
    assert all(v == 0.0 for v in m.values())
    m = foot_skate_metrics(_soles(1, 0.01), np.ones((1, 2), bool), fps=30)
    assert all(np.isfinite(v) for v in m.values())


def test_foot_rolling_over_its_toes_is_not_a_slide():
    from retargetjax.evaluation import sole_slide_mm

    # Two toe points stay planted on the floor while the heel points rise and move.
    T = 5
    pts = np.zeros((T, 2, 4, 3))
    pts[:, :, 0, 0] = pts[:, :, 1, 0] = 0.2  # toe points, fixed
    pts[:, :, 1, 1] = pts[:, :, 3, 1] = 0.1
    heel_lift = np.linspace(0.0, 0.08, T)
    pts[:, :, 2, 2] = pts[:, :, 3, 2] = heel_lift[:, None]
    pts[:, :, 2, 0] = pts[:, :, 3, 0] = 0.02 * np.arange(T)[:, None]  # heels swing forward
    slide = sole_slide_mm(pts, 30.0)
    np.testing.assert_allclose(slide, 0.0, atol=1e-9)
    # The same foot sliding with its toes on the floor is a slide of the toes' speed.
    pts[:, :, 0:2, 0] += 0.003 * np.arange(T)[:, None, None]
    np.testing.assert_allclose(sole_slide_mm(pts, 30.0), 3.0, atol=1e-6)

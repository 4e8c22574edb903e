"""Material-point foot slide: rolling over the toes is not sliding; a skid is."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.evaluation import foot_slide_metrics, foot_slide_steps_mm, sole_material_points

R = 0.01  # radius of the sole spheres (m)


def _foot(T: int) -> np.ndarray:
    """(T, 4, 3) a flat foot's corner spheres: toe ±y at x = 0.1, heel ±y at x = −0.1."""
    corners = np.array([[0.1, 0.04, R], [0.1, -0.04, R], [-0.1, 0.04, R], [-0.1, -0.04, R]])
    return np.repeat(corners[None], T, 0)


def test_rolling_over_the_toes_is_not_sliding():
    T = 20
    pts = _foot(T)
    angle = np.linspace(0, 0.6, T)  # heel rises, pivoting about the toe line x = 0.1
    for k in (2, 3):
        pts[:, k, 0] = 0.1 - 0.2 * np.cos(angle)
        pts[:, k, 2] = R + 0.2 * np.sin(angle)
    d = foot_slide_steps_mm(pts, np.full(4, R), np.ones(T, bool), 30.0)
    # The toe points stay put; the heel points barely move before they leave the floor.
    assert d.size > 2 * (T - 1) and d.max() < 0.2
    m = foot_slide_metrics([(pts, np.full(4, R))] * 2, np.ones((T, 2), bool), 30.0)
    assert m["foot_slide_max_mm_per_frame"] < 0.2


def test_a_touchdown_skid_is_caught_and_scaled_to_30_fps():
    T, fps = 12, 60.0
    pts = _foot(T)
    pts[:, :, 0] += np.concatenate([np.arange(6) * 0.01, np.full(6, 0.05)])[:, None]
    contact = np.ones((T, 2), bool)
    m = foot_slide_metrics([(pts, np.full(4, R)), (_foot(T), np.full(4, R))], contact, fps)
    # 1 cm per 60 fps frame = 20 mm per 30 fps frame, for 5 of 11 steps of one foot.
    assert m["foot_slide_max_mm_per_frame"] == pytest.approx(20.0)
    assert m["foot_slide_points"] == 2 * 4 * (T - 1)
    assert m["foot_slide_mean_mm_per_frame"] == pytest.approx(20.0 * 5 * 4 / (2 * 4 * 11))
    assert m["foot_slide_frac_above_1cm"] == pytest.approx(20 / 88)
    assert m["foot_slide_p99_mm_per_frame"] == pytest.approx(20.0)


def test_points_off_the_floor_or_feet_off_duty_are_not_scored():
    T = 10
    pts = _foot(T)
    pts[:, :, 0] += np.arange(T)[:, None] * 0.02
    high = pts + np.array([0, 0, 0.011])  # lowest point 1.1 cm up
    assert foot_slide_steps_mm(high, np.full(4, R), np.ones(T, bool), 30.0).size == 0
    low = pts - np.array([0, 0, 0.05])  # below the floor counts as on it
    assert foot_slide_steps_mm(low, np.full(4, R), np.ones(T, bool), 30.0).size == 4 * (T - 1)
    contact = np.zeros(T, bool)
    contact[3:6] = True  # planted at both ends of steps 3→4 and 4→5 only
    assert foot_slide_steps_mm(pts, np.full(4, R), contact, 30.0).size == 4 * 2
    empty = foot_slide_metrics([(pts, np.full(4, R))] * 2, np.zeros((T, 2), bool), 30.0)
    assert all(v == 0.0 for v in empty.values())


def test_material_points_are_the_capsule_ends():
    T = 3
    p0 = np.zeros((T, 3, 3))
    p1 = np.ones((T, 3, 3))
    p0[:, 1] = 5.0
    pts, radius = sole_material_points(p0, p1, np.array([0.1, 0.2, 0.3]), [1, 2])
    assert pts.shape == (T, 4, 3)
    np.testing.assert_allclose(pts[0, :, 0], [5.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(radius, [0.2, 0.3, 0.2, 0.3])


def test_a_capsule_foot_rolling_on_its_toe_sphere_is_not_sliding_but_a_skid_is():
    """A capsule foot (heel and toe spheres of radius 3 cm, the H1's kind) pitching up about
    the lowest point of its toe sphere: the sphere's centre moves by ``r Δθ`` each step, yet
    the point touching the floor stays put, so nothing slides. The same foot dragged 1 cm
    per frame while it pitches is caught at 1 cm."""
    T, r = 16, 0.03
    angle = np.linspace(0.0, 0.5, T)
    pivot = np.array([0.1, 0.0, 0.0])  # the toe sphere's lowest point, on the floor
    toe = pivot + np.stack([r * np.sin(angle), 0 * angle, r * np.cos(angle)], -1)
    heel = toe + np.stack([-0.2 * np.cos(angle), 0 * angle, 0.2 * np.sin(angle)], -1)
    pts = np.stack([heel, toe], axis=1)  # (T, 2, 3): one capsule's ends, rigid about pivot
    radius, partner = np.full(2, r), np.array([1, 0])
    assert np.linalg.norm(np.diff(toe[:, :2], axis=0), axis=-1).max() * 1000 > 0.9  # centre moves
    d = foot_slide_steps_mm(pts, radius, np.ones(T, bool), 30.0, partner)
    assert d.size > T - 1 and d.max() < 0.2  # second order in the turn per step
    dragged = pts + (np.arange(T) * 0.01)[:, None, None] * np.array([1.0, 0.0, 0.0])
    d = foot_slide_steps_mm(dragged, radius, np.ones(T, bool), 30.0, partner)
    assert d.max() == pytest.approx(10.0, abs=0.2)
    # Without the partner (the axis unknown) the centre's own step is scored, as before.
    plain = foot_slide_steps_mm(pts, radius, np.ones(T, bool), 30.0)
    assert plain.max() > 0.9

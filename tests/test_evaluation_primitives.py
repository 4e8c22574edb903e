"""Boxes rebuilt from their capsule rails: corners, lowest points, feet's material points."""

from __future__ import annotations

import numpy as np

from retargetjax.evaluation import box_corners, box_rails
from retargetjax.robot import load_robot


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_corners_of_a_tilted_box_from_its_rails():
    rng = np.random.default_rng(0)
    a, b, c = 0.09, 0.03, 0.008
    T = 5
    rots = np.stack([_rotation(rng) for _ in range(T)])
    centre = rng.normal(size=(T, 3))
    u, v, w = rots[..., 0], rots[..., 1], rots[..., 2]
    offsets = np.linspace(-(b - c), b - c, 3)
    p0 = np.stack([centre + o * v - (a - c) * u for o in offsets], axis=1)  # (T, 3 rails, 3)
    p1 = np.stack([centre + o * v + (a - c) * u for o in offsets], axis=1)
    corners = box_corners(p0, p1, np.full(3, c), [0, 1, 2])
    expected = np.stack(
        [
            centre + su * a * u + sv * b * v + sw * c * w
            for su in (-1, 1)
            for sv in (-1, 1)
            for sw in (-1, 1)
        ],
        axis=1,
    )
    np.testing.assert_allclose(corners, expected, atol=1e-12)


def test_boxes_of_the_bundled_robots():
    """G1 and T1 stand on box feet; H1's feet are capsules and its torso is a box."""
    for name, feet_boxes, boxes in (
        ("unitree_g1", 2, 2),
        ("unitree_h1", 0, 1),
        ("booster_t1", 2, 3),
    ):
        robot = load_robot(name)
        rails = box_rails(robot)
        on_feet = [r for r in rails if robot.capsule_body[r[0]] in set(robot.foot_body)]
        assert (len(on_feet), len(rails)) == (feet_boxes, boxes), name


def test_the_solvers_box_bottom_is_the_lowest_corner():
    """The floor terms' lowest point of a box rail (``capsule_bottom_z``, from the outer
    rails' ends) is the box's lowest corner, as the evaluation scores it; a plain capsule
    keeps ``min(z_a, z_b) − ρ``."""
    from retargetjax.retarget._costs import capsule_bottom_z

    rng = np.random.default_rng(1)
    a, b, c = 0.11, 0.04, 0.012
    T = 7
    rots = np.stack([_rotation(rng) for _ in range(T)])
    centre = rng.normal(size=(T, 3))
    u, v = rots[..., 0], rots[..., 1]
    offsets = np.linspace(-(b - c), b - c, 3)
    p0 = np.stack([centre + o * v - (a - c) * u for o in offsets], axis=1)
    p1 = np.stack([centre + o * v + (a - c) * u for o in offsets], axis=1)
    # a fourth primitive: an ordinary capsule
    p0 = np.concatenate([p0, centre[:, None] + [[0.0, 0.0, 0.3]]], axis=1)
    p1 = np.concatenate([p1, centre[:, None] + [[0.1, 0.0, 0.2]]], axis=1)
    radius = np.array([c, c, c, 0.05])
    low = np.asarray(capsule_bottom_z(p0, p1, radius, ((0, 1, 2),)), np.float64)
    corners = box_corners(p0, p1, radius, [0, 1, 2])
    np.testing.assert_allclose(low[:, :3], corners[..., 2].min(-1)[:, None].repeat(3, 1), atol=2e-6)
    np.testing.assert_allclose(low[:, 3], centre[:, 2] + 0.2 - 0.05, atol=2e-6)

"""The robot's boxes back from their capsule rails: exact lowest points and corner points.

The robot model approximates a box (half sizes ``a ≥ b ≥ c``) by ``n`` capsule rails of
radius ``c`` along its long axis ``u``, their centres spread over ``±(b − c)`` along its
middle axis ``v`` (see ``retargetjax.robot``); the rails share the box's geom name. The
rails lie inside the box, so their lowest point can be up to ``c·(√3 − 1)`` higher than the
box's lowest corner when the box is tilted (5.9 mm on the G1's 8 mm-thick foot boxes). From
the rails of a box with ``n ≥ 2`` (world end points ``p0, p1`` per rail, outer rails first
and last) the box is, per frame,

    ``u = (p1 − p0)/|p1 − p0|``, ``a = |p1 − p0|/2 + c``,
    ``v = (m_n − m_1)/|m_n − m_1|``, ``b = |m_n − m_1|/2 + c``, ``w = u × v``,
    ``centre = (m_1 + m_n)/2``, corners ``centre ± a·u ± b·v ± c·w``,

with ``m_i`` the midpoint of rail ``i``. A single-rail box (``b ≈ c``) stays a capsule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..robot import box_rails
from ..types import NDArray

__all__ = ["box_corners", "box_rails", "foot_material_points", "primitive_bottom_z"]

_SIGNS = np.array([[su, sv, sw] for su in (-1, 1) for sv in (-1, 1) for sw in (-1, 1)], float)


def box_corners(p0: NDArray, p1: NDArray, radius: NDArray, rails: Sequence[int]) -> NDArray:
    """(T, 8, 3) world corners of the box behind ``rails`` (module docstring)."""
    first, last = rails[0], rails[-1]
    c = float(np.asarray(radius)[first])
    a0, a1 = np.asarray(p0, np.float64)[:, first], np.asarray(p1, np.float64)[:, first]
    b0, b1 = np.asarray(p0, np.float64)[:, last], np.asarray(p1, np.float64)[:, last]
    m1, mn = 0.5 * (a0 + a1), 0.5 * (b0 + b1)
    along = a1 - a0
    half_len = 0.5 * np.linalg.norm(along, axis=-1, keepdims=True)
    u = along / np.maximum(2 * half_len, 1e-12)
    across = mn - m1
    half_wid = 0.5 * np.linalg.norm(across, axis=-1, keepdims=True)
    v = across / np.maximum(2 * half_wid, 1e-12)
    w = np.cross(u, v)
    centre = 0.5 * (m1 + mn)
    axes = np.stack([(half_len + c) * u, (half_wid + c) * v, c * w], axis=-2)  # (T, 3, 3)
    return centre[:, None, :] + np.einsum("ks,tsd->tkd", _SIGNS, axes)


def primitive_bottom_z(geometry: Any, robot: Any) -> NDArray:
    """(T, C) lowest point of each capsule's primitive: ``geometry.capsule_bottom_z``, except
    that every rail of a box takes the box's lowest corner (exact for boxes)."""
    bottom = np.asarray(geometry.capsule_bottom_z, np.float64).copy()
    if geometry.capsule_p0 is None:
        return bottom
    radius = np.asarray(robot.capsule_radius, np.float64)
    for rails in box_rails(robot):
        corners = box_corners(geometry.capsule_p0, geometry.capsule_p1, radius, rails)
        bottom[:, list(rails)] = corners[..., 2].min(axis=-1, keepdims=True)
    return bottom


def foot_material_points(
    geometry: Any, robot: Any, feet: Sequence[Sequence[int]]
) -> list[tuple[NDArray, NDArray, NDArray]]:
    """Per foot, ``(points (T, M, 3), radius (M,), partner (M,))``: the 8 corners of each box
    (radius 0, partner −1) and both segment ends of every other capsule (their own radius,
    each the other's partner: the capsule's axis, which tells how the end sphere turns), all
    fixed in the foot."""
    radius = np.asarray(robot.capsule_radius, np.float64)
    p0 = np.asarray(geometry.capsule_p0, np.float64)
    p1 = np.asarray(geometry.capsule_p1, np.float64)
    boxes = box_rails(robot)
    out = []
    for caps in feet:
        points, radii, partners = [], [], []
        count = 0
        in_box: set[int] = set()
        for rails in boxes:
            if set(rails) <= set(caps):
                points.append(box_corners(p0, p1, radius, rails))
                radii.append(np.zeros(8))
                partners.append(np.full(8, -1))
                count += 8
                in_box.update(rails)
        for c in caps:
            if c not in in_box:
                points.append(np.stack([p0[:, c], p1[:, c]], axis=1))
                radii.append(np.full(2, radius[c]))
                partners.append(np.array([count + 1, count]))
                count += 2
        if points:
            out.append(
                (np.concatenate(points, axis=1), np.concatenate(radii), np.concatenate(partners))
            )
        else:
            out.append((np.zeros((p0.shape[0], 0, 3)), np.zeros(0), np.zeros(0, int)))
    return out

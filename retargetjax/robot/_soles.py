"""Feet at load time (numpy): the sole rectangle of each foot, from its collision capsules
or, for a mesh-only foot, from its inertia box; and the rails a mesh-only foot gets along
that sole when its automatic shapes end above it."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "SOLE_RAIL_GAP_M",
    "mesh_only_foot",
    "sole_from_capsules",
    "sole_from_inertia",
    "sole_pitch",
    "sole_rails",
    "welded_bodies",
]


def welded_bodies(foot: int, bodies) -> set[int]:
    """``foot`` and the bodies fixed to it (no joint between)."""
    welded = {foot}
    for bi, body in enumerate(bodies):
        if body.parent in welded and not body.joints:
            welded.add(bi)
    return welded


def mesh_only_foot(foot: int, bodies) -> bool:
    """A foot (with the bodies welded to it) whose collision shapes are all meshes."""
    geoms = [g for b in welded_bodies(foot, bodies) for g in bodies[b].geoms]
    return bool(geoms) and all(g.kind == "mesh" for g in geoms)


def sole_from_inertia(foot, bodies, poses) -> np.ndarray:
    """(4, 3) sole points of a mesh-only foot in the foot frame, from its inertia.

    Meshes are never opened, but a foot's ``<inertial>`` (mass and inertia) is the inertia of
    a solid box of about the foot's size: its bottom face, measured along the world axes at
    the zero pose, is the sole. Without an inertial the sole is a human-proportioned box
    below the ankle: 0.28 × 0.1 leg lengths, 0.07 leg lengths down (the leg length is the
    ankle's depth below the root in the zero pose).
    """
    Rf, tf = poses[foot]
    corners = []
    for b in welded_bodies(foot, bodies):
        box = bodies[b].inertia_box
        if box is None:
            continue
        centre, rot, half = box
        R, t = poses[b]
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)])
        local = centre + (signs * half) @ rot.T
        corners.append(local @ R.T + t - tf)
    if corners:
        pts = np.concatenate(corners)
        z = pts[:, 2].min()
        x_hi, x_lo = pts[:, 0].max(), pts[:, 0].min()
        y_hi, y_lo = pts[:, 1].max(), pts[:, 1].min()
    else:
        leg = max(float(poses[0][1][2] - tf[2]), 0.1)
        z, x_hi, x_lo = -0.07 * leg, 0.19 * leg, -0.09 * leg
        y_hi, y_lo = 0.05 * leg, -0.05 * leg
    world = np.array([[x_hi, y_hi, z], [x_hi, y_lo, z], [x_lo, y_hi, z], [x_lo, y_lo, z]])
    return world @ Rf


#: Reach (m) of a mesh-only foot's capsules above its sole past which the sole gets rails.
SOLE_RAIL_GAP_M = 0.01


def sole_rails(
    foot: int, bodies, poses, sole: np.ndarray, cap_body, cap_p0, cap_p1, cap_r
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Two capsules ``(p0, p1, r)`` in the foot frame along a mesh-only foot's sole, or none.

    A mesh-only foot's automatic bones (a ball at the ankle) may end well above its sole:
    the foot would then have no collision shape near the floor (nothing to judge its ground
    contact or slide by, nothing to keep the feet apart). When every capsule of ``foot`` (and
    the bodies welded to it) ends more than :data:`SOLE_RAIL_GAP_M` above the sole at the
    zero pose ``poses``, two rails run along the sole's long edges, inside the rectangle
    ``sole`` (toe-left, toe-right, heel-left, heel-right rows, foot frame) with their bottoms
    on it: ``r = clip(width/4, 1 cm, 2.5 cm)``, each inset by ``r`` from the toe, the heel
    and its side and lifted by ``r`` along the world's z.
    """
    if not mesh_only_foot(foot, bodies):
        return []
    Rf, tf = poses[foot]
    up = Rf[2]  # the world's z in the foot frame
    toe_l, toe_r, heel_l, heel_r = np.asarray(sole, np.float64)
    width = float(np.linalg.norm(toe_l - toe_r))
    radius = float(np.clip(0.25 * width, 0.01, 0.025))
    forward = toe_l + toe_r - heel_l - heel_r
    forward = forward / max(float(np.linalg.norm(forward)), 1e-9)
    left = (toe_l - toe_r) / max(width, 1e-9)
    rails = []
    for toe, heel, inward in ((toe_l, heel_l, -left), (toe_r, heel_r, left)):
        inset = radius * (inward + up)
        rails.append((heel + radius * forward + inset, toe - radius * forward + inset, radius))
    sole_z = min(float((Rf @ p)[2]) for p in (toe_l, toe_r, heel_l, heel_r))
    welded = welded_bodies(foot, bodies)
    lows = [
        min(float((poses[b][0] @ p + poses[b][1] - tf)[2]) for p in (p0, p1)) - r
        for b, p0, p1, r in zip(cap_body, cap_p0, cap_p1, cap_r)
        if b in welded
    ]
    return rails if not lows or min(lows) > sole_z + SOLE_RAIL_GAP_M else []


def sole_from_capsules(foot, bodies, poses, cap_body, cap_p0, cap_p1, cap_r) -> np.ndarray:
    """(4, 3) sole points in the foot frame: toe ±y, heel ±y at the lowest capsule surface.

    Uses the capsules on the foot body and on bodies welded to it, measured along the world
    axes at the zero pose (x forward, z up), so a foot frame with odd axes still works; a
    sole that the zero pose pitches (toe up or down, up to 25°) is measured along its own
    slope, so it keeps its toe. A foot without capsules gets a 20 × 8 cm sole 5 cm below
    its origin.
    """
    welded = welded_bodies(foot, bodies)
    Rf, tf = poses[foot]
    pts, radii = [], []
    for b, p0, p1, r in zip(cap_body, cap_p0, cap_p1, cap_r):
        if b in welded:
            R, t = poses[b]
            for p in (p0, p1):
                pts.append(R @ p + t - tf)  # world-aligned, relative to the foot origin
                radii.append(r)
    if not pts:
        world = np.array(
            [[0.12, 0.04, -0.05], [0.12, -0.04, -0.05], [-0.08, 0.04, -0.05], [-0.08, -0.04, -0.05]]
        )
        return world @ Rf  # rows: R_f^T w
    pts_a, r_a = np.array(pts), np.array(radii)
    # A sole pitched against the foot frame (a box turned toe-up in its body): measure along
    # the sole's own slope, the longest edge under the shapes seen from the side.
    pitch = sole_pitch(pts_a[:, 0], pts_a[:, 2] - r_a)
    c, s = np.cos(pitch), np.sin(pitch)
    Ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    pts_a = pts_a @ Ry  # rows: Ry^T p
    bottom = pts_a[:, 2] - r_a
    z = bottom.min()
    low = bottom <= z + 0.02
    x_hi = (pts_a[low, 0] + r_a[low]).max()
    x_lo = (pts_a[low, 0] - r_a[low]).min()
    y_hi = (pts_a[low, 1] + r_a[low]).max()
    y_lo = (pts_a[low, 1] - r_a[low]).min()
    measured = np.array([[x_hi, y_hi, z], [x_hi, y_lo, z], [x_lo, y_hi, z], [x_lo, y_lo, z]])
    return measured @ Ry.T @ Rf  # rows: R_f^T Ry p


def sole_pitch(x: np.ndarray, z: np.ndarray, limit: float = np.radians(25.0)) -> float:
    """Pitch (rad, about +y; positive turns +x down) of the longest lower-hull edge of the
    side view ``(x, z)`` of a foot's shapes, within ±``limit``; 0 when none is longer than
    half the foot."""
    order = np.lexsort((z, x))
    hull: list[tuple[float, float]] = []
    for k in order:
        p = (float(x[k]), float(z[k]))
        while len(hull) >= 2:
            (x1, z1), (x2, z2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - z1) - (z2 - z1) * (p[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    span = float(x.max() - x.min())
    best, best_len = 0.0, 0.5 * span
    for (x1, z1), (x2, z2) in itertools.pairwise(hull):
        angle = np.arctan2(z2 - z1, x2 - x1)
        if x2 - x1 > best_len and abs(angle) <= limit:
            best, best_len = float(angle), x2 - x1
    return -best if abs(best) > np.radians(1.0) else 0.0

"""Foot skating: horizontal sole motion while the foot should be planted.

Two families: ``foot_skate_*`` (:func:`foot_skate_metrics`, the mean of a foot's four
model sole points on the floor, per step) and ``foot_slide_*`` (:func:`foot_slide_metrics`,
every *material point* of the foot's collision geometry on its own: capsule ends, and so
the corners of a box foot, whose rails end at its corners).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import NDArray

__all__ = [
    "FOOT_SLIDE_LIMIT_MM",
    "ON_FLOOR_M",
    "SKATE_REFERENCE_FPS",
    "SKATE_THRESHOLD_MM",
    "foot_skate_metrics",
    "foot_slide_metrics",
    "foot_slide_steps_mm",
    "sole_material_points",
    "sole_slide_mm",
]

#: Speeds are reported in mm per frame of a 30 fps clip, whatever the clip's own rate.
SKATE_REFERENCE_FPS = 30.0
#: A contact step counts as skating above this (mm per 30 fps frame, i.e. 30 mm/s).
SKATE_THRESHOLD_MM = 1.0


#: A sole point lower than this (m) is on the floor.
ON_FLOOR_M = 0.01
#: A material point on the floor must not move more than this (mm per 30 fps frame).
FOOT_SLIDE_LIMIT_MM = 10.0


def sole_slide_mm(sole_points: NDArray, fps: float) -> NDArray:
    """(T − 1, 2) horizontal slide of each foot per step, in mm per 30 fps frame.

    A point of the sole that touches the floor must not move; a foot rolling over its toes
    or its heel is not sliding. So the slide of foot ``f`` over the step ``t → t+1`` is the
    mean horizontal displacement of its sole points that are on the floor
    (``z < ON_FLOOR_M``) at both ends of the step,

        ``s_tf = mean_{p ∈ G_tf} ‖x_{t+1,fp} − x_tfp‖_xy · fps · 1000 / 30``,

    and, where no sole point is on the floor at both ends, the displacement of the sole
    centre ``c_tf = mean_p x_tfp`` instead (a foot off the floor while the human's is down is
    also reported by the floating metric). Units: the displacement in mm that a 30 fps clip
    would show per frame (= mm/s ÷ 30), so clips at different rates are comparable.
    """
    pts = np.asarray(sole_points, np.float64)
    if pts.shape[0] < 2:
        return np.zeros((0, pts.shape[1]))
    scale = float(fps) * 1000.0 / SKATE_REFERENCE_FPS
    point_step = np.linalg.norm(np.diff(pts[..., :2], axis=0), axis=-1)  # (T-1, 2, P)
    on_floor = pts[..., 2] < ON_FLOOR_M
    grounded = on_floor[:-1] & on_floor[1:]
    n = grounded.sum(axis=-1)
    grounded_mean = np.where(grounded, point_step, 0.0).sum(axis=-1) / np.maximum(n, 1)
    centre = pts.mean(axis=-2)[..., :2]
    centre_step = np.linalg.norm(np.diff(centre, axis=0), axis=-1)
    return np.where(n > 0, grounded_mean, centre_step) * scale


def foot_skate_metrics(sole_points: NDArray, contact: NDArray, fps: float) -> dict[str, float]:
    """Foot skating of a clip, from sole points (T, 2, P, 3) and contacts (T, 2) bool.

    Over the contact steps ``S = {(t, f) : contact_tf and contact_{t+1,f}}`` (the foot is
    planted at both ends of the step) with slide ``s_tf`` from :func:`sole_slide_mm`:

    - ``foot_skate_mean_mm_per_frame``: ``mean_S s_tf``;
    - ``foot_skate_max_mm_per_frame``: ``max_S s_tf``;
    - ``foot_skate_frac_above_1mm``: ``#{S : s_tf > 1} / |S|``;
    - ``foot_contact_steps``: ``|S|``.

    All are 0 when ``S`` is empty (no planted step: nothing can skate).
    """
    slide = sole_slide_mm(sole_points, fps)
    c = np.asarray(contact, bool)
    planted = c[:-1] & c[1:]
    values = slide[planted]
    if values.size == 0:
        return {
            "foot_skate_mean_mm_per_frame": 0.0,
            "foot_skate_max_mm_per_frame": 0.0,
            "foot_skate_frac_above_1mm": 0.0,
            "foot_contact_steps": 0.0,
        }
    return {
        "foot_skate_mean_mm_per_frame": float(values.mean()),
        "foot_skate_max_mm_per_frame": float(values.max()),
        "foot_skate_frac_above_1mm": float(np.mean(values > SKATE_THRESHOLD_MM)),
        "foot_contact_steps": float(values.size),
    }


def sole_material_points(
    capsule_p0: NDArray, capsule_p1: NDArray, capsule_radius: NDArray, capsules: Sequence[int]
) -> tuple[NDArray, NDArray]:
    """Material points of one foot: ``(T, 2M, 3)`` capsule end centres and ``(2M,)`` radii.

    Each of the foot's ``M`` capsules (``capsules``, e.g. from
    :func:`retargetjax.evaluation.motion_geometry`'s ``capsule_p0``/``capsule_p1``) gives
    its two segment ends ``e``, fixed in the foot: the centre of the end's sphere of radius
    ``r``, whose lowest point is ``z_e − r``. A box foot's rails end at its corners, so its
    corners are among them; a sphere gives one point twice (harmless: same value).
    """
    idx = list(capsules)
    p0 = np.asarray(capsule_p0, np.float64)[:, idx]
    p1 = np.asarray(capsule_p1, np.float64)[:, idx]
    r = np.asarray(capsule_radius, np.float64)[idx]
    return np.concatenate([p0, p1], axis=1), np.concatenate([r, r])


def foot_slide_steps_mm(
    points: NDArray,
    radius: NDArray,
    contact: NDArray,
    fps: float,
    partner: NDArray | None = None,
) -> NDArray:
    """Displacements (mm per 30 fps frame) of the material points on the floor, one foot.

    ``points`` (T, M, 3), ``radius`` (M,) and ``partner`` (M,) from
    :func:`~retargetjax.evaluation.foot_material_points`, ``contact`` (T,) the human's foot
    labels. A point ``k`` is *on the floor* at frame ``t`` when its lowest point is within
    1 cm of it (or below), ``g_k(t) = z_k(t) − r_k < ON_FLOOR_M``. Over the steps where the
    human's foot is down at both ends and the point is on the floor at both ends,

        ``S = {(t, k) : c_t ∧ c_{t+1} ∧ g_k(t) ∧ g_k(t+1)}``,

    it returns the horizontal step of the material point that touches the floor,
    ``d_tk = ‖Δx_k + Δθ_k × (−r_k ẑ)‖_xy · fps · 1000 / 30`` (flattened): ``Δx_k`` the
    step of the sphere's centre and ``Δθ_k = â_t × â_{t+1}`` the turn of its capsule's axis
    ``â = (x_partner − x_k)/‖·‖`` (first order; 0 for a box corner, ``r = 0``, or a
    sphere without partner). A sphere that rolls, or pivots on its lowest point, moves its
    centre by ``r Δθ`` while that point stays put, so ``d = 0``: a foot rolling over its
    toes (box corners or capsule ends) is not sliding. Any part of the sole that stays on
    the floor and moves is. (A capsule spinning about its own axis in place is not seen.)
    """
    pts = np.asarray(points, np.float64)
    c = np.asarray(contact, bool).reshape(-1)
    if pts.shape[0] < 2 or pts.shape[1] == 0:
        return np.zeros(0)
    r = np.asarray(radius, np.float64)
    low = (pts[..., 2] - r[None]) < ON_FLOOR_M  # (T, M)
    keep = low[:-1] & low[1:] & (c[:-1] & c[1:])[:, None]
    move = np.diff(pts, axis=0)  # (T-1, M, 3)
    if partner is not None:
        partner = np.asarray(partner, int)
        has = (partner >= 0) & (r > 0)
        if has.any():
            axis = pts[:, np.where(has, partner, 0)] - pts
            length = np.linalg.norm(axis, axis=-1, keepdims=True)
            has = has[None] & (length[..., 0] > 1e-6).all(axis=0, keepdims=True)
            axis = axis / np.maximum(length, 1e-12)
            turn = np.cross(axis[:-1], axis[1:])  # (T-1, M, 3) ≈ Δθ
            down = np.array([0.0, 0.0, -1.0]) * r[:, None]  # (M, 3)
            move = move + np.where(has[..., None], np.cross(turn, down), 0.0)
    step = np.linalg.norm(move[..., :2], axis=-1)
    return step[keep] * float(fps) * 1000.0 / SKATE_REFERENCE_FPS


def foot_slide_metrics(
    feet: Sequence[tuple[NDArray, ...]], contact: NDArray, fps: float
) -> dict[str, float]:
    """Material-point foot slide of a clip: ``feet`` = ``[(points, radius[, partner])]`` for
    (left, right) (:func:`~retargetjax.evaluation.foot_material_points`), ``contact`` (T, 2)
    the human's foot labels.

    With ``D`` every displacement of :func:`foot_slide_steps_mm` over both feet:

    - ``foot_slide_mean_mm_per_frame``: ``mean D``;
    - ``foot_slide_p99_mm_per_frame``: 99th percentile of ``D`` (linear interpolation);
    - ``foot_slide_max_mm_per_frame``: ``max D`` (the issue's limit: 10 mm);
    - ``foot_slide_frac_above_1cm``: ``#{D > 10} / |D|``;
    - ``foot_slide_points``: ``|D|`` (point-steps scored).

    All 0 when ``D`` is empty.
    """
    c = np.asarray(contact, bool)
    values = [
        foot_slide_steps_mm(*foot[:2], c[:, f], fps, *foot[2:]) for f, foot in enumerate(feet)
    ]
    d = np.concatenate(values) if values else np.zeros(0)
    if d.size == 0:
        return {
            "foot_slide_mean_mm_per_frame": 0.0,
            "foot_slide_p99_mm_per_frame": 0.0,
            "foot_slide_max_mm_per_frame": 0.0,
            "foot_slide_frac_above_1cm": 0.0,
            "foot_slide_points": 0.0,
        }
    return {
        "foot_slide_mean_mm_per_frame": float(d.mean()),
        "foot_slide_p99_mm_per_frame": float(np.percentile(d, 99)),
        "foot_slide_max_mm_per_frame": float(d.max()),
        "foot_slide_frac_above_1cm": float(np.mean(d > FOOT_SLIDE_LIMIT_MM)),
        "foot_slide_points": float(d.size),
    }

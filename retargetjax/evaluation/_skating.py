"""Foot skating: horizontal sole motion while the foot should be planted."""

from __future__ import annotations

import numpy as np

from ..types import NDArray

__all__ = [
    "ON_FLOOR_M",
    "SKATE_REFERENCE_FPS",
    "SKATE_THRESHOLD_MM",
    "foot_skate_metrics",
    "sole_slide_mm",
]

#: Speeds are reported in mm per frame of a 30 fps clip, whatever the clip's own rate.
SKATE_REFERENCE_FPS = 30.0
#: A contact step counts as skating above this (mm per 30 fps frame, i.e. 30 mm/s).
SKATE_THRESHOLD_MM = 1.0


#: A sole point lower than this (m) is on the floor.
ON_FLOOR_M = 0.01


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

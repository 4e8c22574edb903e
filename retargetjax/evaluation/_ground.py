"""Ground penetration: how deep the lowest collision primitive goes below the floor z = 0."""

from __future__ import annotations

import numpy as np

from ..types import NDArray

__all__ = ["GROUND_DEPTH_THRESHOLD_M", "ground_depth", "ground_penetration_metrics"]

#: A frame counts as "below the floor" when its depth exceeds this (m).
GROUND_DEPTH_THRESHOLD_M = 0.01


def ground_depth(capsule_bottom_z: NDArray) -> NDArray:
    """(T,) depth below z = 0 of the lowest primitive: ``d_t = max(0, −min_c b_tc)``.

    ``b_tc = min(z0_tc, z1_tc) − r_c`` is the lowest point of capsule ``c`` (segment ends
    ``z0, z1``, radius ``r``) at frame ``t``, so ``d_t`` is how far the robot's collision
    geometry reaches into the floor.
    """
    bottom = np.asarray(capsule_bottom_z, np.float64)
    if bottom.shape[-1] == 0:
        return np.zeros(bottom.shape[:-1])
    return np.maximum(-bottom.min(axis=-1), 0.0)


def ground_penetration_metrics(capsule_bottom_z: NDArray) -> dict[str, float]:
    """Ground penetration metrics from the capsule bottoms (T, C) (m).

    - ``ground_penetration_max_m``: ``max_t d_t`` (:func:`ground_depth`);
    - ``ground_penetration_mean_m``: ``mean_t d_t``;
    - ``ground_frames_below_1cm_frac``: fraction of frames with ``d_t > 0.01``.
    """
    depth = ground_depth(capsule_bottom_z)
    return {
        "ground_penetration_max_m": float(depth.max(initial=0.0)),
        "ground_penetration_mean_m": float(depth.mean()) if depth.size else 0.0,
        "ground_frames_below_1cm_frac": float(np.mean(depth > GROUND_DEPTH_THRESHOLD_M))
        if depth.size
        else 0.0,
    }

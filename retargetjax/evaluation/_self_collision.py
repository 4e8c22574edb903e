"""Self-penetration: interpenetration of non-adjacent collision capsules."""

from __future__ import annotations

import numpy as np

from ..types import NDArray

__all__ = ["SELF_PENETRATION_THRESHOLD_M", "self_penetration_metrics"]

#: A frame counts as self-penetrating when its deepest overlap exceeds this (m).
SELF_PENETRATION_THRESHOLD_M = 0.01


def self_penetration_metrics(per_frame_depth: NDArray) -> dict[str, float]:
    """Self-penetration metrics from the per-frame deepest overlap ``s_t`` (T,) (m).

    ``s_t = max_{(i, j) ∈ pairs} max(0, r_i + r_j − d_ij(t))`` over ``robot.collision_pairs``
    (capsules on bodies at least three joints apart that do not touch at rest), where
    ``d_ij`` is the distance between the capsules' segments and ``r`` their radii (computed
    by :func:`retargetjax.evaluation.motion_geometry`).

    - ``self_penetration_max_m``: ``max_t s_t``;
    - ``self_penetration_p99_m``: 99th percentile of ``s_t`` over frames (linear interpolation);
    - ``self_penetration_frames_above_1cm_frac``: fraction of frames with ``s_t > 0.01``.
    """
    depth = np.asarray(per_frame_depth, np.float64).reshape(-1)
    if depth.size == 0:
        return {
            "self_penetration_max_m": 0.0,
            "self_penetration_p99_m": 0.0,
            "self_penetration_frames_above_1cm_frac": 0.0,
        }
    return {
        "self_penetration_max_m": float(depth.max()),
        "self_penetration_p99_m": float(np.percentile(depth, 99)),
        "self_penetration_frames_above_1cm_frac": float(
            np.mean(depth > SELF_PENETRATION_THRESHOLD_M)
        ),
    }

"""Ground penetration: how deep the lowest collision primitive goes below the floor z = 0.

Every collision primitive counts (hands, knees, back and head as well as the feet): a robot
hand under the floor is penetrating. The robot's floor is z = 0 (the solver stands the
human's floor there); a clip on raised supports (boxes) is only checked against z = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import NDArray

__all__ = [
    "GROUND_DEPTH_THRESHOLD_M",
    "GROUND_DEPTH_TOLERANCE_M",
    "ground_depth",
    "ground_penetration_metrics",
]

#: A frame counts as "below the floor" when its depth exceeds this (m).
GROUND_DEPTH_THRESHOLD_M = 0.01
#: The issue's tolerance: no primitive lower than −5 mm (m).
GROUND_DEPTH_TOLERANCE_M = 0.005


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


def ground_penetration_metrics(
    capsule_bottom_z: NDArray, capsule_limb: Sequence[str] | None = None
) -> dict[str, float]:
    """Ground penetration metrics from the capsule bottoms (T, C) (m).

    - ``ground_penetration_max_m``: ``max_t d_t`` (:func:`ground_depth`);
    - ``ground_penetration_mean_m``: ``mean_t d_t``;
    - ``ground_frames_below_1cm_frac``: fraction of frames with ``d_t > 0.01``;
    - ``ground_frames_below_5mm_frac``: fraction of frames with ``d_t > 0.005``;
    - ``ground_lowest_m``: ``min_{t,c} b_tc``, signed (the lowest point of any primitive;
      the issue's target is ``≥ −0.005``); 0 without capsules;
    - with ``capsule_limb`` (C,) (``left_arm``, ``right_leg``, ``torso``, ...; see
      :func:`retargetjax.evaluation.capsule_limbs`): ``ground_penetration_max_<kind>_m``
      for kind ``arm``, ``leg``, ``torso``, ``max(0, −min b_tc)`` over that kind's capsules,
      so a hand or a knee under the floor shows up by name.
    """
    bottom = np.asarray(capsule_bottom_z, np.float64)
    depth = ground_depth(bottom)
    out = {
        "ground_penetration_max_m": float(depth.max(initial=0.0)),
        "ground_penetration_mean_m": float(depth.mean()) if depth.size else 0.0,
        "ground_frames_below_1cm_frac": float(np.mean(depth > GROUND_DEPTH_THRESHOLD_M))
        if depth.size
        else 0.0,
        "ground_frames_below_5mm_frac": float(np.mean(depth > GROUND_DEPTH_TOLERANCE_M))
        if depth.size
        else 0.0,
        "ground_lowest_m": float(bottom.min()) if bottom.size else 0.0,
    }
    if capsule_limb is not None:
        kinds = np.asarray([str(limb).rsplit("_", 1)[-1] for limb in capsule_limb])
        for kind in ("arm", "leg", "torso"):
            cols = np.flatnonzero(kinds == kind)
            lowest = bottom[:, cols].min() if cols.size and bottom.shape[0] else 0.0
            out[f"ground_penetration_max_{kind}_m"] = float(max(0.0, -lowest))
    return out

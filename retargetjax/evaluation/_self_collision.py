"""Self-penetration: interpenetration of non-adjacent collision capsules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import NDArray

__all__ = [
    "SELF_PENETRATION_THRESHOLD_M",
    "self_penetration_group_metrics",
    "self_penetration_metrics",
]

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


def self_penetration_group_metrics(
    pair_penetration: NDArray, pair_group: Sequence[str], groups: Sequence[str]
) -> dict[str, float]:
    """Self-penetration per pair group, from the (T, P) overlap of every pair (m).

    ``pair_group`` (P,) names each pair's group (``arm_torso``, ``arm_leg``, ``leg_leg``,
    ...; :func:`retargetjax.evaluation.pair_groups`). For each group ``g`` of ``groups``,
    with ``s^g_t = max_{pairs in g} overlap_t``:

    - ``self_penetration_<g>_max_m``: ``max_t s^g_t``;
    - ``self_penetration_<g>_frames_above_1cm_frac``: fraction of frames with
      ``s^g_t > 0.01``.

    A group with no pair on this robot reports 0.
    """
    depth = np.asarray(pair_penetration, np.float64)
    names = np.asarray(list(pair_group), dtype=object)
    out: dict[str, float] = {}
    for g in groups:
        cols = np.flatnonzero(names == g) if names.size else np.zeros(0, int)
        if cols.size == 0 or depth.shape[0] == 0:
            s = np.zeros(max(depth.shape[0], 1))
        else:
            s = depth[:, cols].max(axis=1)
        out[f"self_penetration_{g}_max_m"] = float(s.max())
        out[f"self_penetration_{g}_frames_above_1cm_frac"] = float(
            np.mean(s > SELF_PENETRATION_THRESHOLD_M)
        )
    return out

"""Self-penetration: interpenetration of non-adjacent collision capsules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import NDArray

__all__ = [
    "HUMAN_LIMB_RADIUS_M",
    "HUMAN_TOUCH_M",
    "SELF_PENETRATION_THRESHOLD_M",
    "human_limb_clearance",
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
    pair_penetration: NDArray,
    pair_group: Sequence[str],
    groups: Sequence[str],
    human_clearance: dict[str, NDArray] | None = None,
) -> dict[str, float]:
    """Self-penetration per pair group, from the (T, P) overlap of every pair (m).

    ``pair_group`` (P,) names each pair's group (``arm_torso``, ``arm_leg``, ``leg_leg``,
    ...; :func:`retargetjax.evaluation.pair_groups`). For each group ``g`` of ``groups``,
    with ``s^g_t = max_{pairs in g} overlap_t``:

    - ``self_penetration_<g>_max_m``: ``max_t s^g_t``;
    - ``self_penetration_<g>_frames_above_1cm_frac``: fraction of frames with
      ``s^g_t > 0.01``.

    - with ``human_clearance`` (:func:`human_limb_clearance`, the human's own limbs at the
      same frames): ``self_penetration_<g>_unexplained_frames_frac``, the fraction of frames
      with ``s^g_t > 0.01`` while the human's limbs of that group are apart (clearance
      ``> HUMAN_TOUCH_M``): the robot's arm passes through its torso although the human's
      does not.

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
        if human_clearance is not None and g in human_clearance and depth.shape[0]:
            apart = np.asarray(human_clearance[g], np.float64) > HUMAN_TOUCH_M
            out[f"self_penetration_{g}_unexplained_frames_frac"] = float(
                np.mean((s > SELF_PENETRATION_THRESHOLD_M) & apart)
            )
    return out


#: Nominal radii (m) of the human's limbs around the keypoint segments, for
#: :func:`human_limb_clearance` (an adult's forearm/upper arm, thigh/shin, and trunk).
HUMAN_LIMB_RADIUS_M = {"arm": 0.045, "leg": 0.065, "torso": 0.13}
#: The human's limbs touch when their clearance is below this (m).
HUMAN_TOUCH_M = 0.02


def _segments(names: tuple[str, ...], kind: str, side: str) -> list[tuple[int, int, float]]:
    """``(start, end, skip)`` keypoint columns of a limb's segments; ``skip`` is the fraction
    of the segment, from its start, left out (where a limb joins the trunk)."""
    col = {n: i for i, n in enumerate(names)}
    chains = {
        "arm": [("shoulder", "elbow", 0.3), ("elbow", "wrist", 0.0), ("wrist", "hand", 0.0)],
        "leg": [("hip", "knee", 0.3), ("knee", "ankle", 0.0)],
    }
    out = []
    for a, b, skip in chains[kind]:
        a, b = f"{side}_{a}", f"{side}_{b}"
        if a in col and b in col:
            out.append((col[a], col[b], skip))
    return out


def human_limb_clearance(keypoints: NDArray, names: tuple[str, ...]) -> dict[str, NDArray]:
    """(T,) clearance (m) between the human's limbs per pair group, from keypoints alone.

    Limbs are capsules around keypoint segments with radii :data:`HUMAN_LIMB_RADIUS_M`:
    an arm is shoulder→elbow (its first 30 % left out, where it joins the trunk),
    elbow→wrist, wrist→hand; a leg is hip→knee (first 30 % out), knee→ankle; the trunk is
    pelvis→neck. The clearance of group ``g`` at frame ``t`` is
    ``min over segment pairs (d(seg_i, seg_j) − r_i − r_j)``:

    - ``arm_torso``: either arm against the trunk;
    - ``arm_leg``: either arm against either leg;
    - ``leg_leg``: the left leg against the right;
    - ``arm_arm``: the left arm against the right.

    A group whose keypoints are missing is left out. A clearance below
    :data:`HUMAN_TOUCH_M` means the human's own limbs touch there, so a robot overlap in that
    group is explained (see :func:`self_penetration_group_metrics`).
    """
    from ..geometry import segment_segment_distance

    pos = np.asarray(keypoints, np.float64)
    names = tuple(names)
    col = {n: i for i, n in enumerate(names)}

    def seg(a: int, b: int, skip: float) -> tuple[NDArray, NDArray]:
        start = pos[:, a] + skip * (pos[:, b] - pos[:, a])
        return start, pos[:, b]

    limbs: dict[str, list[tuple[NDArray, NDArray, float]]] = {}
    for side in ("left", "right"):
        for kind in ("arm", "leg"):
            limbs[f"{side}_{kind}"] = [
                (*seg(a, b, skip), HUMAN_LIMB_RADIUS_M[kind])
                for a, b, skip in _segments(names, kind, side)
            ]
    if "pelvis" in col and "neck" in col:
        limbs["torso"] = [
            (pos[:, col["pelvis"]], pos[:, col["neck"]], HUMAN_LIMB_RADIUS_M["torso"])
        ]

    def clearance(x: str, y: str) -> NDArray | None:
        if not limbs.get(x) or not limbs.get(y):
            return None
        best = np.full(pos.shape[0], np.inf)
        for p0, p1, r1 in limbs[x]:
            for q0, q1, r2 in limbs[y]:
                d = np.asarray(segment_segment_distance(p0, p1, q0, q1), np.float64)
                best = np.minimum(best, d - r1 - r2)
        return best

    pairs = {
        "arm_torso": [("left_arm", "torso"), ("right_arm", "torso")],
        "arm_leg": [(f"{a}_arm", f"{b}_leg") for a in ("left", "right") for b in ("left", "right")],
        "leg_leg": [("left_leg", "right_leg")],
        "arm_arm": [("left_arm", "right_arm")],
    }
    out: dict[str, NDArray] = {}
    for group, members in pairs.items():
        values = [c for c in (clearance(x, y) for x, y in members) if c is not None]
        if values:
            out[group] = np.min(values, axis=0)
    return out

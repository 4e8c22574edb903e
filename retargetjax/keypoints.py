"""Canonical keypoints: the one set of body landmarks shared by human rigs and robots.

Every human skeleton preset maps its joints to these names and every robot maps its links to
them, so N rigs and M robots need N + M maps, not N × M tables. Order matters: arrays of
keypoints (``(..., K, 3)``) follow :data:`CANONICAL_KEYPOINTS`.
"""

from __future__ import annotations

__all__ = [
    "CANONICAL_KEYPOINTS",
    "FEET",
    "HANDS",
    "REQUIRED_KEYPOINTS",
    "canonical_index",
]

#: All canonical keypoint names, in the order used by keypoint arrays.
CANONICAL_KEYPOINTS: tuple[str, ...] = (
    "pelvis",
    "torso",
    "neck",
    "head",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_toe",
    "right_toe",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

#: Keypoints every human rig must provide (a loader raises if one is missing).
REQUIRED_KEYPOINTS: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)

#: End effectors, tracked with the looser hands/feet tolerance.
FEET: tuple[str, ...] = ("left_ankle", "right_ankle", "left_toe", "right_toe")
HANDS: tuple[str, ...] = ("left_wrist", "right_wrist", "left_hand", "right_hand")


def canonical_index(name: str) -> int:
    """Index of ``name`` in :data:`CANONICAL_KEYPOINTS`; a clear ``KeyError`` otherwise."""
    try:
        return CANONICAL_KEYPOINTS.index(name)
    except ValueError:
        raise KeyError(
            f"unknown canonical keypoint {name!r}; expected one of {', '.join(CANONICAL_KEYPOINTS)}"
        ) from None

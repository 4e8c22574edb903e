"""Which limb each collision capsule belongs to, and which capsules make up each foot.

Found from the robot's topology and its canonical keypoints, never from link names: a body
belongs to a limb when every keypoint in its subtree (itself and its descendants) is a
keypoint of that limb —

- ``left_arm`` / ``right_arm``: shoulder, elbow, wrist, hand of one side;
- ``left_leg`` / ``right_leg``: hip, knee, ankle, toe of one side;
- ``torso``: any other body whose subtree holds keypoints (pelvis, waist, chest, head,
  whose subtrees hold both arms or both legs);

and a body with no keypoint in its subtree (a leaf past the hand, a brace) takes its
parent's limb. A capsule takes its body's limb.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "LIMB_KINDS",
    "PAIR_GROUPS",
    "body_limbs",
    "capsule_limbs",
    "foot_capsules",
    "pair_group",
    "pair_groups",
    "part_capsules",
]

_ARM = ("shoulder", "elbow", "wrist", "hand")
_LEG = ("hip", "knee", "ankle", "toe")

#: Limb kinds, without sides.
LIMB_KINDS: tuple[str, ...] = ("arm", "leg", "torso")
#: Pair groups of self-collision, ``kind_kind`` with kinds in :data:`LIMB_KINDS` order.
PAIR_GROUPS: tuple[str, ...] = (
    "arm_arm",
    "arm_leg",
    "arm_torso",
    "leg_leg",
    "leg_torso",
    "torso_torso",
)


def _limb_of_keypoint(name: str) -> str | None:
    side, _, part = name.partition("_")
    if side not in ("left", "right"):
        return None
    if part in _ARM:
        return f"{side}_arm"
    if part in _LEG:
        return f"{side}_leg"
    return None


def body_limbs(robot: Any) -> tuple[str, ...]:
    """Limb of every body (module docstring): ``left_arm``, ..., ``torso``."""
    parents = list(robot.body_parents)
    B = len(parents)
    subtree: list[set[str]] = [set() for _ in range(B)]
    for name, body in zip(robot.keypoint_names, robot.keypoint_body):
        b = int(body)
        while b >= 0:
            subtree[b].add(name)
            b = parents[b]
    limbs: list[str] = []
    for b in range(B):  # parents come before children (file order)
        kps = subtree[b]
        if not kps:
            limbs.append(limbs[parents[b]] if parents[b] >= 0 else "torso")
            continue
        kinds = {_limb_of_keypoint(k) for k in kps}
        limbs.append(kinds.pop() if len(kinds) == 1 and None not in kinds else "torso")
    return tuple(limbs)


def capsule_limbs(robot: Any) -> tuple[str, ...]:
    """Limb of every collision capsule (its body's, :func:`body_limbs`)."""
    limbs = body_limbs(robot)
    return tuple(limbs[int(b)] for b in robot.capsule_body)


def _kind(limb: str) -> str:
    return limb.rsplit("_", 1)[-1]


def pair_group(limb_a: str, limb_b: str) -> str:
    """``kind_kind`` group of a capsule pair, e.g. ``arm_torso`` (kinds in a fixed order)."""
    a, b = sorted((_kind(limb_a), _kind(limb_b)), key=LIMB_KINDS.index)
    return f"{a}_{b}"


def foot_capsules(robot: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Capsule indices of the (left, right) foot: capsules on ``robot.foot_body`` or below it."""
    parents = list(robot.body_parents)

    def below(body: int, foot: int) -> bool:
        while body >= 0:
            if body == foot:
                return True
            body = parents[body]
        return False

    out = []
    for foot in robot.foot_body:
        out.append(tuple(c for c, b in enumerate(robot.capsule_body) if below(int(b), int(foot))))
    return out[0], out[1]


def pair_groups(robot: Any) -> np.ndarray:
    """(P,) group name of each of ``robot.collision_pairs`` (:func:`pair_group`)."""
    limbs = capsule_limbs(robot)
    pairs = np.asarray(robot.collision_pairs).reshape(-1, 2)
    return np.asarray([pair_group(limbs[i], limbs[j]) for i, j in pairs], dtype=object)


def part_capsules(robot: Any, parts: Sequence[str] | None = None) -> dict[str, tuple[int, ...]]:
    """Robot capsules of each human body part (``retargetjax.motion.BODY_PARTS`` names).

    A foot is :func:`foot_capsules`; any other part is every capsule on the bodies that
    carry the part's canonical keypoints on this robot (``robot.keypoint_body``): the left
    hand → the capsules of the link holding ``left_wrist``/``left_hand``, the back → the
    torso link's, and so on. A part the robot has no keypoint for maps to ``()``.
    """
    from ..motion import BODY_PARTS

    left, right = foot_capsules(robot)
    body_of = dict(zip(robot.keypoint_names, (int(b) for b in robot.keypoint_body)))
    out: dict[str, tuple[int, ...]] = {}
    for part in parts or tuple(BODY_PARTS):
        if part in ("left_foot", "right_foot"):
            out[part] = left if part == "left_foot" else right
            continue
        bodies = {body_of[k] for k in BODY_PARTS[part] if k in body_of}
        out[part] = tuple(c for c, b in enumerate(robot.capsule_body) if int(b) in bodies)
    return out

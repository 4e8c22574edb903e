"""Joint names of the SMPL family (SMPL 24, SMPL-H 52, SMPL-X 55), in model joint order."""

from __future__ import annotations

__all__ = [
    "SMPLH_JOINT_NAMES",
    "SMPLH_PARENTS",
    "SMPLX_JOINT_NAMES",
    "SMPLX_PARENTS",
    "SMPL_BODY_JOINT_NAMES",
    "SMPL_BODY_PARENTS",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "smpl_family_joint_names",
]

#: The 22 body joints shared by SMPL, SMPL-H and SMPL-X. Note SMPL's own naming:
#: ``left_collar`` is the clavicle, ``left_shoulder`` the upper-arm joint and ``left_foot``
#: the ball of the foot (toe joint).
SMPL_BODY_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)

#: SMPL: the body plus one joint per hand.
SMPL_JOINT_NAMES: tuple[str, ...] = (*SMPL_BODY_JOINT_NAMES, "left_hand", "right_hand")

_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
_LEFT_HAND = tuple(f"left_{f}{k}" for f in _FINGERS for k in (1, 2, 3))
_RIGHT_HAND = tuple(f"right_{f}{k}" for f in _FINGERS for k in (1, 2, 3))

#: SMPL-H: the body plus 15 finger joints per hand.
SMPLH_JOINT_NAMES: tuple[str, ...] = (*SMPL_BODY_JOINT_NAMES, *_LEFT_HAND, *_RIGHT_HAND)

#: SMPL-X: the body, jaw and eyes, then 15 finger joints per hand.
SMPLX_JOINT_NAMES: tuple[str, ...] = (
    *SMPL_BODY_JOINT_NAMES,
    "jaw",
    "left_eye_smplhf",
    "right_eye_smplhf",
    *_LEFT_HAND,
    *_RIGHT_HAND,
)


def smpl_family_joint_names(num_joints: int) -> tuple[str, ...] | None:
    """Joint names for a clip of ``num_joints`` SMPL-family joints, or ``None``."""
    return {
        22: SMPL_BODY_JOINT_NAMES,
        24: SMPL_JOINT_NAMES,
        52: SMPLH_JOINT_NAMES,
        55: SMPLX_JOINT_NAMES,
    }.get(int(num_joints))


#: Parents of the 22 body joints.
SMPL_BODY_PARENTS: tuple[int, ...] = (
    -1,
    0,
    0,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    9,
    9,
    12,
    13,
    14,
    16,
    17,
    18,
    19,
)


def _hand_parents(first: int, wrist: int) -> tuple[int, ...]:
    """Parents of 15 finger joints (5 chains of 3) starting at index ``first``."""
    out = []
    for finger in range(5):
        base = first + 3 * finger
        out += [wrist, base, base + 1]
    return tuple(out)


#: Parents per model, in the joint order of the names above.
SMPL_PARENTS: tuple[int, ...] = (*SMPL_BODY_PARENTS, 20, 21)
SMPLH_PARENTS: tuple[int, ...] = (
    *SMPL_BODY_PARENTS,
    *_hand_parents(22, 20),
    *_hand_parents(37, 21),
)
SMPLX_PARENTS: tuple[int, ...] = (
    *SMPL_BODY_PARENTS,
    15,
    15,
    15,
    *_hand_parents(25, 20),
    *_hand_parents(40, 21),
)

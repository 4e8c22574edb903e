"""Joint layouts of common 3D pose estimators and datasets, for keypoint files.

Named layouts map by the name rules of :mod:`._keypoint_names`; this module adds what those
files lack and recognises unnamed arrays:

- :func:`layout_names` — names for an array without them, from its joint count and, for
  17 joints (COCO-17 or Human3.6M-17), its geometry;
- :func:`complete_joints` — joints derived from others when a layout has none for a canonical
  keypoint: the pelvis as the middle of the hips (COCO, MediaPipe BlazePose), the head as the
  middle of the ears (COCO, BlazePose), the hand as the middle of the index and pinky
  knuckles (BlazePose).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BLAZEPOSE33_JOINT_NAMES",
    "BODY25_JOINT_NAMES",
    "COCO17_JOINT_NAMES",
    "H36M17_JOINT_NAMES",
    "complete_joints",
    "layout_names",
]

#: COCO-17 (also ViTPose, RTMPose, YOLO-pose, MotionBERT's 2D input, ...).
COCO17_JOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: Human3.6M-17 in the order of VideoPose3D / MotionBERT / MHFormer outputs (``Hip`` is the
#: pelvis, ``RFoot`` the ankle, ``Head`` the top of the head), millimetres in the dataset.
H36M17_JOINT_NAMES: tuple[str, ...] = (
    "Hip",
    "RHip",
    "RKnee",
    "RFoot",
    "LHip",
    "LKnee",
    "LFoot",
    "Spine",
    "Thorax",
    "Neck/Nose",
    "Head",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
)

#: MediaPipe BlazePose, 33 landmarks (``pose_world_landmarks``: metres, y down).
BLAZEPOSE33_JOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

#: OpenPose BODY_25.
BODY25_JOINT_NAMES: tuple[str, ...] = (
    "Nose",
    "Neck",
    "RShoulder",
    "RElbow",
    "RWrist",
    "LShoulder",
    "LElbow",
    "LWrist",
    "MidHip",
    "RHip",
    "RKnee",
    "RAnkle",
    "LHip",
    "LKnee",
    "LAnkle",
    "REye",
    "LEye",
    "REar",
    "LEar",
    "LBigToe",
    "LSmallToe",
    "LHeel",
    "RBigToe",
    "RSmallToe",
    "RHeel",
)

#: (left, right) joint indices of thigh, shin, upper arm and forearm per layout, for the
#: plausibility check of an unnamed array.
_LIMBS = {
    "COCO-17": ((11, 13), (13, 15), (5, 7), (7, 9), (12, 14), (14, 16), (6, 8), (8, 10)),
    "Human3.6M-17": ((4, 5), (5, 6), (11, 12), (12, 13), (1, 2), (2, 3), (14, 15), (15, 16)),
    "BlazePose-33": (
        (23, 25),
        (25, 27),
        (11, 13),
        (13, 15),
        (24, 26),
        (26, 28),
        (12, 14),
        (14, 16),
    ),
    "BODY_25": ((12, 13), (13, 14), (5, 6), (6, 7), (9, 10), (10, 11), (2, 3), (3, 4)),
}
_NAMES = {
    "COCO-17": COCO17_JOINT_NAMES,
    "Human3.6M-17": H36M17_JOINT_NAMES,
    "BlazePose-33": BLAZEPOSE33_JOINT_NAMES,
    "BODY_25": BODY25_JOINT_NAMES,
}


def _median_dist(pos: np.ndarray, a: int, b: int) -> float:
    return float(np.median(np.linalg.norm(pos[:, a] - pos[:, b], axis=-1)))


def _extent(pos: np.ndarray) -> float:
    """Median over frames of the bounding-box diagonal (the body's size, any units)."""
    return float(np.median(np.linalg.norm(pos.max(1) - pos.min(1), axis=-1)))


def _limbs_plausible(pos: np.ndarray, layout: str) -> bool:
    """Left and right thigh, shin, upper arm and forearm of similar length (within 40 %),
    the leg (thigh + shin) a fifth of the body's size or more."""
    lengths = [_median_dist(pos, a, b) for a, b in _LIMBS[layout]]
    left, right = np.array(lengths[:4]), np.array(lengths[4:])
    if not (np.all(left > 0) and np.all(right > 0)):
        return False
    ratio = np.maximum(left / right, right / left)
    return bool(np.all(ratio < 1.4) and left[0] + left[1] > 0.2 * _extent(pos))


def _seventeen(pos: np.ndarray) -> str | None:
    """COCO-17 or Human3.6M-17 from the geometry: in COCO joints 1-4 (eyes, ears) lie within
    a head's size of joint 0 (the nose); in H36M joint 0 (the pelvis) lies between joints 1
    and 4 (the hips; within their distance, as SMPL-fitted pelvises sit above them) and
    joint 3 (an ankle) a leg's length away. Both need plausible limbs."""
    size = _extent(pos)
    head = max(_median_dist(pos, 0, k) for k in range(1, 5))
    mid = float(np.median(np.linalg.norm(pos[:, 0] - 0.5 * (pos[:, 1] + pos[:, 4]), axis=-1)))
    hips = _median_dist(pos, 1, 4)
    if head < 0.15 * size and _limbs_plausible(pos, "COCO-17"):
        return "COCO-17"
    if (
        mid < hips
        and _median_dist(pos, 0, 3) > 0.3 * size
        and _limbs_plausible(pos, "Human3.6M-17")
    ):
        return "Human3.6M-17"
    return None


def layout_names(positions: np.ndarray) -> tuple[str, tuple[str, ...]] | None:
    """``(layout, joint names)`` for an unnamed (T, J, 3) array, or ``None``.

    22, 24, 52 and 55 joints are the SMPL family (SMPL body, SMPL, SMPL-H, SMPL-X); 25 OpenPose
    BODY_25 and 33 MediaPipe BlazePose when their limbs look like a body's; 17 COCO-17 or
    Human3.6M-17 by geometry (see :func:`_seventeen`).
    """
    from ._smpl_names import smpl_family_joint_names

    pos = np.asarray(positions, np.float64)
    J = pos.shape[1]
    smpl = smpl_family_joint_names(J)
    if smpl is not None:
        return {22: "SMPL body", 24: "SMPL", 52: "SMPL-H", 55: "SMPL-X"}[J], smpl
    frames = np.unique(np.linspace(0, len(pos) - 1, min(len(pos), 64)).astype(int))
    pos = pos[frames]
    layout = None
    if J == 17:
        layout = _seventeen(pos)
    elif J == 25 and _limbs_plausible(pos, "BODY_25"):
        layout = "BODY_25"
    elif J == 33 and _limbs_plausible(pos, "BlazePose-33"):
        layout = "BlazePose-33"
    return None if layout is None else (layout, _NAMES[layout])


def complete_joints(
    joint_names: list[str], positions: np.ndarray
) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Append joints derived from others for canonical keypoints the names leave out.

    ``pelvis`` = middle of the hips when no joint is a pelvis (COCO, BlazePose); ``head`` =
    middle of the ears when no joint is a head (COCO, BlazePose); ``left_hand`` /
    ``right_hand`` = middle of that side's ``index`` and ``pinky`` knuckles when no joint is a
    hand (BlazePose). Returns the names, the (T, J', 3) positions and ``{new joint: how}``.
    """
    from ._keypoint_names import _match_preset, _match_rules, joint_side_and_base

    names = tuple(joint_names)
    preset = _match_preset(names)
    found = dict(preset[1]) if preset is not None else _match_rules(names)
    parsed = [joint_side_and_base(n) for n in names]

    def joint(side: str | None, *bases: str) -> int | None:
        for base in bases:
            for i, (s, b) in enumerate(parsed):
                if s == side and b == base:
                    return i
        return None

    recipes: list[tuple[str, list[int | None]]] = []
    if "pelvis" not in found:
        recipes.append(("pelvis", [found.get("left_hip"), found.get("right_hip")]))
    if "head" not in found:
        recipes.append(("head", [joint("left", "ear"), joint("right", "ear")]))
    for side in ("left", "right"):
        if f"{side}_hand" not in found and f"{side}_wrist" in found:
            recipes.append(
                (f"{side}_hand", [joint(side, "index", "index1"), joint(side, "pinky", "pinky1")])
            )
    new_names, new_cols, derived = list(names), [], {}
    for name, sources in recipes:
        if any(i is None for i in sources) or name in new_names:
            continue
        new_names.append(name)
        new_cols.append(positions[:, sources].mean(axis=1))
        derived[name] = "middle of " + ", ".join(names[i] for i in sources)
    if new_cols:
        positions = np.concatenate([positions, np.stack(new_cols, axis=1)], axis=1)
    return new_names, positions, derived

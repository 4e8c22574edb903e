"""Keypoint files in the layouts of common 3D pose estimators, synthesized from a real clip.

The source is a clip with SMPL-H (PHC-named) joint positions, metres, Z up (the OMOMO
sample); the face points, heels, toes and mid points a layout has and SMPL-H lacks are
derived from the head, neck, shoulders and feet. :func:`to_video_frame` then writes the
positions the way a video pipeline does: camera frame (x right, y down, z forward), mm or m,
on a slightly tilted floor at some height, with jitter.
"""

from __future__ import annotations

import numpy as np

COCO17 = (
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

H36M17 = (
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

BLAZEPOSE33 = (
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

BODY25 = (
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

#: SMPL (24) joint order as PHC-named SMPL-H joints.
_SMPL24_FROM_PHC = (
    "Pelvis",
    "L_Hip",
    "R_Hip",
    "Torso",
    "L_Knee",
    "R_Knee",
    "Spine",
    "L_Ankle",
    "R_Ankle",
    "Chest",
    "L_Toe",
    "R_Toe",
    "Neck",
    "L_Thorax",
    "R_Thorax",
    "Head",
    "L_Shoulder",
    "R_Shoulder",
    "L_Elbow",
    "R_Elbow",
    "L_Wrist",
    "R_Wrist",
    "L_Middle1",
    "R_Middle1",
)

LAYOUTS = {"coco17": COCO17, "h36m17": H36M17, "blazepose33": BLAZEPOSE33, "body25": BODY25}


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def body_points(positions: np.ndarray, names) -> dict[str, np.ndarray]:
    """Named (T, 3) points, metres, Z up, from a PHC-named SMPL-H clip (``L_Hip``, ...)."""
    names = [str(n) for n in names]
    p = np.asarray(positions, np.float64)

    def j(n):
        return p[:, names.index(n)]

    out = {"pelvis": j("Pelvis"), "neck": j("Neck"), "head": j("Head")}
    for side, s in (("left", "L"), ("right", "R")):
        for part, src in (
            ("hip", "Hip"),
            ("knee", "Knee"),
            ("ankle", "Ankle"),
            ("toe", "Toe"),
            ("shoulder", "Shoulder"),
            ("elbow", "Elbow"),
            ("wrist", "Wrist"),
            ("index", "Index1"),
            ("pinky", "Pinky1"),
            ("thumb", "Thumb2"),
        ):
            out[f"{side}_{part}"] = j(f"{s}_{src}")
    left = _unit(out["left_shoulder"] - out["right_shoulder"])
    up = _unit(out["head"] - out["neck"])
    fwd = _unit(np.cross(left, up))
    head = out["head"]
    out["nose"] = head + 0.10 * fwd - 0.02 * up
    for sign, side in ((1, "left"), (-1, "right")):
        eye = head + 0.08 * fwd + 0.02 * up
        out[f"{side}_eye"] = eye + sign * 0.032 * left
        out[f"{side}_eye_inner"] = eye + sign * 0.018 * left
        out[f"{side}_eye_outer"] = eye + sign * 0.048 * left
        out[f"{side}_ear"] = head + sign * 0.075 * left - 0.01 * fwd
        out[f"mouth_{side}"] = head + 0.09 * fwd - 0.06 * up + sign * 0.025 * left
        ankle, toe = out[f"{side}_ankle"], out[f"{side}_toe"]
        foot = _unit(toe - ankle)
        z = np.array([0.0, 0.0, 1.0])
        out[f"{side}_heel"] = ankle - 0.05 * foot - 0.05 * z
        out[f"{side}_big_toe"] = toe + 0.05 * foot - sign * 0.02 * left
        out[f"{side}_small_toe"] = toe + 0.03 * foot + sign * 0.03 * left
    out["mid_hip"] = 0.5 * (out["left_hip"] + out["right_hip"])
    out["thorax"] = 0.5 * (out["left_shoulder"] + out["right_shoulder"])
    out["spine"] = 0.5 * (out["pelvis"] + out["thorax"])
    out["head_top"] = head + 0.10 * up
    for n in _SMPL24_FROM_PHC:
        out[f"phc:{n}"] = j(n)
    return out


def _body25_key(name: str) -> str:
    special = {"Nose": "nose", "Neck": "thorax", "MidHip": "mid_hip"}
    if name in special:
        return special[name]
    side = {"L": "left", "R": "right"}[name[0]]
    part = {
        "BigToe": "big_toe",
        "SmallToe": "small_toe",
    }.get(name[1:], name[1:].lower())
    return f"{side}_{part}"


def layout_positions(points: dict[str, np.ndarray], layout: str) -> np.ndarray:
    """(T, J, 3) positions, metres, Z up, in the joint order of ``layout``."""
    if layout == "coco17":
        keys = COCO17
    elif layout == "blazepose33":
        keys = [
            {"left_foot_index": "left_big_toe", "right_foot_index": "right_big_toe"}.get(n, n)
            for n in BLAZEPOSE33
        ]
    elif layout == "body25":
        keys = [_body25_key(n) for n in BODY25]
    elif layout == "smpl24":
        keys = [f"phc:{n}" for n in _SMPL24_FROM_PHC]
    elif layout == "h36m17":
        keys = [
            "pelvis",
            "right_hip",
            "right_knee",
            "right_ankle",
            "left_hip",
            "left_knee",
            "left_ankle",
            "spine",
            "thorax",
            "nose",
            "head_top",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "right_shoulder",
            "right_elbow",
            "right_wrist",
        ]
    else:
        raise ValueError(layout)
    return np.stack([points[k] for k in keys], axis=1)


def to_video_frame(
    pos_zup: np.ndarray,
    *,
    scale: float = 1.0,
    tilt_deg: float = 0.0,
    floor_offset: float = 0.0,
    noise_m: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Z-up metres → camera frame (x right, y down, z forward), ``scale`` file units per
    metre, the floor tilted by ``tilt_deg`` about the camera's x axis and moved by
    ``floor_offset`` (m) along the vertical, plus ``noise_m`` Gaussian jitter."""
    a = np.deg2rad(tilt_deg)
    tilt = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    p = pos_zup @ tilt.T  # tilt about the Z-up x axis (the floor rises along +y)
    p = p + np.array([0.0, 3.0, floor_offset])  # 3 m in front of the camera
    if noise_m:
        p = p + np.random.default_rng(seed).normal(scale=noise_m, size=p.shape)
    # Z up (X, Y, Z) → camera (X, -Z, Y): up is -y, the depth Y becomes z.
    cam = np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)
    return (cam * scale).astype(np.float32)

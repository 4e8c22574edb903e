"""The bundled robots: their files, hand-checked keypoints, feet and standing poses.

Keypoint choices (read from each robot's XML; offsets in the named body's frame, m). They
aim at the human anatomical joint centres a motion capture skeleton reports:

* pelvis: the root body origin (between and ~10 cm above the hip joints, like SMPL's pelvis).
* hip: the hip-roll body origin, where the hip pitch and roll axes (nearly) cross.
* knee / elbow: the knee / elbow joint body origin (on the joint axis).
* ankle: the ankle-roll (foot) body origin, 1–2 cm below the ankle pitch axis.
* toe: the front of the sole, on the sole plane, centred.
* shoulder: the shoulder-roll body origin (pitch and roll axes meet there).
* wrist: the last wrist joint's body origin; hand: the palm / end of the hand beyond it.
* torso: a chest point ~12 cm below the shoulder line on the torso body; head: the head
  collision sphere's centre (or the head body's origin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..types import RobotKind

__all__ = ["ROBOT_REGISTRY", "RobotEntry", "robot_asset_path"]


@dataclass(frozen=True)
class RobotEntry:
    """A bundled robot: its file and its hand-checked keypoints, feet and standing pose."""

    kind: RobotKind
    #: File path relative to ``retargetjax/assets/robots``.
    file: str
    #: Canonical keypoint -> (body name, offset (3,) in the body frame, m).
    keypoints: dict[str, tuple[str, tuple[float, float, float]]]
    #: (left, right) foot bodies.
    feet: tuple[str, str]
    #: Standing pose by joint name (others 0).
    default_joint_pos: dict[str, float] = field(default_factory=dict)


def _mirror(
    left: dict[str, tuple[str, tuple[float, float, float]]], rename: tuple[str, str]
) -> dict[str, tuple[str, tuple[float, float, float]]]:
    """Right-side keypoints from left ones: rename the body, negate the offset's y."""
    out = {}
    for name, (body, (x, y, z)) in left.items():
        out[name.replace("left_", "right_")] = (body.replace(*rename), (x, -y, z))
    return out


_G1_LEFT = {
    "left_hip": ("left_hip_roll_link", (0.0, 0.0, 0.0)),
    "left_knee": ("left_knee_link", (0.0, 0.0, 0.0)),
    "left_ankle": ("left_ankle_roll_link", (0.0, 0.0, 0.0)),
    # Foot box: x in [-0.05, 0.13], sole at z = -0.037 (the 'left_foot' site's height).
    "left_toe": ("left_ankle_roll_link", (0.12, 0.0, -0.037)),
    "left_shoulder": ("left_shoulder_roll_link", (0.0, 0.0, 0.0)),
    "left_elbow": ("left_elbow_link", (0.0, 0.0, 0.0)),
    # wrist_roll is a forearm twist 10 cm from the elbow; the hand bends at pitch/yaw.
    "left_wrist": ("left_wrist_yaw_link", (0.0, 0.0, 0.0)),
    "left_hand": ("left_wrist_yaw_link", (0.08, 0.0, 0.0)),  # the 'left_palm' site
}
_H1_LEFT = {
    "left_hip": ("left_hip_roll_link", (0.0, 0.0, 0.0)),
    "left_knee": ("left_knee_link", (0.0, 0.0, 0.0)),
    "left_ankle": ("left_ankle_link", (0.0, 0.0, 0.0)),
    # Foot capsules reach x = 0.154 and their bottom is z = -0.07.
    "left_toe": ("left_ankle_link", (0.12, 0.0, -0.07)),
    "left_shoulder": ("left_shoulder_roll_link", (0.0, 0.0, 0.0)),
    "left_elbow": ("left_elbow_link", (0.0, 0.0, 0.0)),
    # No wrist joint: the forearm capsule runs x 0 -> 0.28 and ends in a hand sphere.
    "left_wrist": ("left_elbow_link", (0.24, 0.0, -0.013)),
    "left_hand": ("left_elbow_link", (0.28, 0.0, -0.015)),
}
# T1's arm: AL1 shoulder pitch, AL2 shoulder roll, AL3 'Elbow_Pitch' (an upper-arm twist,
# 6 cm from the shoulder), left_hand_link 'Elbow_Yaw' (the real elbow bend, 20 cm out along y).
_T1_LEFT = {
    "left_hip": ("Hip_Roll_Left", (0.0, 0.0, 0.0)),
    "left_knee": ("Shank_Left", (0.0, 0.0, 0.0)),
    "left_ankle": ("left_foot_link", (0.0, 0.0, 0.0)),
    # Foot box: x in [-0.1015, 0.1215], sole at z = -0.03.
    "left_toe": ("left_foot_link", (0.11, 0.0, -0.03)),
    "left_shoulder": ("AL2", (0.0, 0.0, 0.0)),
    "left_elbow": ("left_hand_link", (0.0, 0.0, 0.0)),
    "left_wrist": ("left_hand_link", (0.0, 0.17, 0.0)),
    "left_hand": ("left_hand_link", (0.0, 0.2175, 0.0)),
}


def _t1_right(left):
    names = {
        "Hip_Roll_Left": "Hip_Roll_Right",
        "Shank_Left": "Shank_Right",
        "left_foot_link": "right_foot_link",
        "AL2": "AR2",
        "left_hand_link": "right_hand_link",
    }
    out = {}
    for name, (body, (x, y, z)) in left.items():
        out[name.replace("left_", "right_")] = (names[body], (x, -y, z))
    return out


ROBOT_REGISTRY: dict[RobotKind, RobotEntry] = {
    RobotKind.UNITREE_G1: RobotEntry(
        kind=RobotKind.UNITREE_G1,
        file="unitree_g1/g1.xml",
        keypoints={
            "pelvis": ("pelvis", (0.0, 0.0, 0.0)),
            "torso": ("torso_link", (0.0, 0.0, 0.14)),
            "head": ("torso_link", (0.0, 0.0, 0.43)),  # the head collision sphere
            **_G1_LEFT,
            **_mirror(_G1_LEFT, ("left_", "right_")),
        },
        feet=("left_ankle_roll_link", "right_ankle_roll_link"),
        # Arms hanging beside the body (MuJoCo Menagerie's G1 'stand' arms), legs straight.
        default_joint_pos={
            "left_shoulder_pitch_joint": 0.2,
            "left_shoulder_roll_joint": 0.2,
            "left_elbow_joint": 1.28,
            "right_shoulder_pitch_joint": 0.2,
            "right_shoulder_roll_joint": -0.2,
            "right_elbow_joint": 1.28,
        },
    ),
    RobotKind.UNITREE_H1: RobotEntry(
        kind=RobotKind.UNITREE_H1,
        file="unitree_h1/h1.xml",
        keypoints={
            "pelvis": ("pelvis", (0.0, 0.0, 0.0)),
            "torso": ("torso_link", (0.0, 0.0, 0.30)),
            "head": ("torso_link", (0.045, 0.0, 0.68)),  # the helmet sphere
            **_H1_LEFT,
            **_mirror(_H1_LEFT, ("left_", "right_")),
        },
        feet=("left_ankle_link", "right_ankle_link"),
        default_joint_pos={
            "left_shoulder_roll": 0.2,
            "left_elbow": 1.2,
            "right_shoulder_roll": -0.2,
            "right_elbow": 1.2,
        },
    ),
    RobotKind.BOOSTER_T1: RobotEntry(
        kind=RobotKind.BOOSTER_T1,
        file="booster_t1/t1.xml",
        keypoints={
            # Trunk (the root) is the chest; the Waist body below it carries the hips.
            "pelvis": ("Waist", (0.0, 0.0, 0.0)),
            "torso": ("Trunk", (0.05, 0.0, 0.10)),
            "head": ("H2", (0.01, 0.0, 0.11)),  # the head collision sphere
            **_T1_LEFT,
            **_t1_right(_T1_LEFT),
        },
        feet=("left_foot_link", "right_foot_link"),
        # The file's 'home' keyframe: arms down, knees slightly bent.
        default_joint_pos={
            "Left_Shoulder_Roll": -1.4,
            "Left_Elbow_Yaw": -0.4,
            "Right_Shoulder_Roll": 1.4,
            "Right_Elbow_Yaw": 0.4,
            "Left_Hip_Pitch": -0.2,
            "Left_Knee_Pitch": 0.4,
            "Left_Ankle_Pitch": -0.2,
            "Right_Hip_Pitch": -0.2,
            "Right_Knee_Pitch": 0.4,
            "Right_Ankle_Pitch": -0.2,
        },
    ),
}


def robot_asset_path(kind: RobotKind | str) -> Path:
    """Path of a bundled robot's file."""
    entry = ROBOT_REGISTRY[RobotKind(kind)]
    return Path(str(resources.files("retargetjax") / "assets" / "robots" / entry.file))

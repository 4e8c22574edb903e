"""Skeleton presets and name rules: joints → canonical keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.keypoints import REQUIRED_KEYPOINTS
from retargetjax.motion import (
    SKELETON_PRESETS,
    SMPL_JOINT_NAMES,
    SMPLH_JOINT_NAMES,
    SMPLX_JOINT_NAMES,
    HumanMotion,
    KeypointMapError,
    joint_side_and_base,
    map_keypoints,
)
from retargetjax.motion._keypoint_map import _match_rules


def _motion(names):
    J = len(names)
    pos = np.random.default_rng(0).normal(size=(3, J, 3)).astype(np.float32)
    return HumanMotion(fps=30.0, joint_names=tuple(names), parents=-np.ones(J, int), positions=pos)


@pytest.mark.parametrize(
    ("name", "side", "base"),
    [
        ("mixamorig:LeftUpLeg", "left", "upleg"),
        ("L_Hip", "left", "hip"),
        ("thigh_r", "right", "thigh"),
        ("Bip01 R Thigh", "right", "thigh"),
        ("DEF-forearm.L", "left", "forearm"),
        ("LThumb", "left", "thumb"),
        ("right_elbow", "right", "elbow"),
        ("HandRight", "right", "hand"),
        ("Spine2", None, "spine2"),
        ("Hips", None, "hips"),
        ("LeftHand_End", "left", "handend"),
        ("Leg", None, "leg"),
    ],
)
def test_side_and_base(name, side, base):
    assert joint_side_and_base(name) == (side, base)


@pytest.mark.parametrize("preset", sorted(SKELETON_PRESETS))
def test_rules_agree_with_every_preset(preset):
    """Each preset is what the name rules find too (so unknown variants of it still map)."""
    mapping = SKELETON_PRESETS[preset]
    names = list(dict.fromkeys(mapping.values()))
    # Add the collar joints that make Shoulder/Arm ambiguous in these rigs.
    if "LeftArm" in names:
        names += ["LeftShoulder", "RightShoulder"]
    if "left_shoulder" in names:
        names += ["left_collar", "right_collar"]
    if "L_Shoulder" in names:
        names += ["L_Thorax", "R_Thorax"]
    if "LeftShoulder" in names and "LeftElbow" in names:
        names += ["LeftCollar", "RightCollar"]
    found = _match_rules(tuple(names))
    got = {k: names[i] for k, i in found.items()}
    assert got == mapping


@pytest.mark.parametrize(
    ("names", "preset"),
    [
        (SMPL_JOINT_NAMES, "smpl"),
        (SMPLH_JOINT_NAMES, "smplh_smplx"),
        (SMPLX_JOINT_NAMES, "smplh_smplx"),
    ],
)
def test_smpl_family_semantics(names, preset):
    """SMPL's left_shoulder is the upper arm (left_collar the clavicle); left_foot is the toe."""
    kp = map_keypoints(_motion(names), verbose=False)
    assert kp.rig == f"preset:{preset}"
    d = kp.as_dict()
    assert d["left_shoulder"] == "left_shoulder"
    assert d["left_ankle"] == "left_ankle"
    assert d["left_toe"] == "left_foot"
    assert d["torso"] == "spine3"


def test_unknown_rig_by_rules_and_order():
    names = [
        "root_pelvis", "thigh_l", "calf_l", "foot_l", "ball_l", "thigh_r", "calf_r", "foot_r",
        "ball_r", "spine_03", "neck_01", "head", "clavicle_l", "upperarm_l", "lowerarm_l",
        "hand_l", "clavicle_r", "upperarm_r", "lowerarm_r", "hand_r", "pelvis",
    ]  # fmt: skip
    motion = _motion(names)
    kp = map_keypoints(motion, verbose=False)
    assert kp.rig == "rules"
    d = kp.as_dict()
    assert d["pelvis"] == "pelvis"
    assert d["left_hip"] == "thigh_l" and d["right_knee"] == "calf_r"
    assert d["left_ankle"] == "foot_l" and d["left_toe"] == "ball_l"
    assert d["left_shoulder"] == "upperarm_l" and d["right_elbow"] == "lowerarm_r"
    assert d["left_wrist"] == "hand_l"
    # Arrays follow the canonical order, and positions() gathers the right joints.
    assert kp.names[0] == "pelvis"
    np.testing.assert_array_equal(
        kp.positions(motion)[:, 0], motion.positions[:, names.index("pelvis")]
    )


def test_missing_required_keypoint_is_a_clear_error():
    names = ["Hips", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot"]
    with pytest.raises(KeypointMapError) as err:
        map_keypoints(_motion(names), verbose=False)
    msg = str(err.value)
    assert "left_shoulder" in msg and "right_wrist" in msg
    assert "left_hip=LeftUpLeg" in msg  # what was found
    assert "override" in msg


def test_override_dict_and_yaml(tmp_path):
    names = list(SMPL_JOINT_NAMES)
    motion = _motion(names)
    kp = map_keypoints(motion, override={"torso": "spine2", "left_hand": None}, verbose=False)
    d = kp.as_dict()
    assert d["torso"] == "spine2" and "left_hand" not in d
    assert kp.rig.endswith("+override")
    yaml_path = tmp_path / "map.yaml"
    yaml_path.write_text("keypoints:\n  torso: spine1\n  neck: null\n")
    d = map_keypoints(motion, override=yaml_path, verbose=False).as_dict()
    assert d["torso"] == "spine1" and "neck" not in d
    with pytest.raises(KeypointMapError, match="unknown keypoint 'tail'"):
        map_keypoints(motion, override={"tail": "pelvis"}, verbose=False)
    with pytest.raises(KeypointMapError, match="does not have"):
        map_keypoints(motion, override={"torso": "Spine9"}, verbose=False)
    with pytest.raises(KeypointMapError, match="cannot map required keypoints left_knee"):
        map_keypoints(motion, override={"left_knee": None}, verbose=False)


def test_mapping_is_printed_once(capsys):
    motion = _motion(SMPLX_JOINT_NAMES[::-1])
    map_keypoints(motion)
    first = capsys.readouterr().out
    assert "left_wrist" in first and "<- left_wrist" in first
    map_keypoints(motion)
    assert capsys.readouterr().out == ""


def test_all_required_present_in_every_preset():
    for name, preset in SKELETON_PRESETS.items():
        assert set(REQUIRED_KEYPOINTS) <= set(preset), name


CMU = [
    "Hips",
    "LHipJoint",
    "LeftUpLeg",
    "LeftLeg",
    "LeftFoot",
    "LeftToeBase",
    "RHipJoint",
    "RightUpLeg",
    "RightLeg",
    "RightFoot",
    "RightToeBase",
    "LowerBack",
    "Spine",
    "Spine1",
    "Neck",
    "Neck1",
    "Head",
    "LeftShoulder",
    "LeftArm",
    "LeftForeArm",
    "LeftHand",
    "LeftFingerBase",
    "LeftHandIndex1",
    "LThumb",
    "RightShoulder",
    "RightArm",
    "RightForeArm",
    "RightHand",
    "RightFingerBase",
    "RightHandIndex1",
    "RThumb",
]
LAFAN1 = [
    "Hips",
    "LeftUpLeg",
    "LeftLeg",
    "LeftFoot",
    "LeftToe",
    "RightUpLeg",
    "RightLeg",
    "RightFoot",
    "RightToe",
    "Spine",
    "Spine1",
    "Spine2",
    "Neck",
    "Head",
    "LeftShoulder",
    "LeftArm",
    "LeftForeArm",
    "LeftHand",
    "RightShoulder",
    "RightArm",
    "RightForeArm",
    "RightHand",
]


@pytest.mark.parametrize(("names", "preset"), [(CMU, "cmu"), (LAFAN1, "lafan1")])
def test_full_rigs_pick_their_preset_and_rules_agree(names, preset):
    motion = _motion(names)
    kp = map_keypoints(motion, verbose=False)
    assert kp.rig == f"preset:{preset}"
    rules = {k: names[i] for k, i in _match_rules(tuple(names)).items()}
    assert rules == kp.as_dict()
    assert kp.as_dict()["left_shoulder"] == "LeftArm"  # LeftShoulder is the collar here

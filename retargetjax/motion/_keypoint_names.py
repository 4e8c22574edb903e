"""Keypoints by joint names: the rig presets of :data:`SKELETON_PRESETS`, the synonym table
:data:`KEYPOINT_SYNONYMS` and the side/base rules of :func:`joint_side_and_base`.

How they are applied (a preset first, else the rules) is described in
:mod:`retargetjax.motion._keypoint_map`, which calls :func:`_match_preset` and
:func:`_match_rules` from here.
"""

from __future__ import annotations

import re

__all__ = [
    "KEYPOINT_SYNONYMS",
    "SKELETON_PRESETS",
    "_match_preset",
    "_match_rules",
    "_strip_namespace",
    "joint_side_and_base",
]


#: Synonym bases per keypoint part, most specific first (see the module docstring).
KEYPOINT_SYNONYMS: dict[str, tuple[str, ...]] = {
    # sided parts
    "hip": ("upleg", "thigh", "upperleg", "femur", "hip"),
    "knee": ("knee", "leg", "lowerleg", "shin", "calf", "tibia"),
    "ankle": ("ankle", "foot"),
    "toe": (
        "toebase",
        "toe",
        "toes",
        "ball",
        "foot",
        "toe0",
        "bigtoe",
        "footindex",
        "toebaseend",
        "toeend",
        "footend",
        "ankleend",
    ),
    "shoulder": ("upperarm", "arm", "uparm", "humerus", "shoulder"),
    "elbow": ("forearm", "elbow", "lowerarm", "radius"),
    "wrist": ("wrist", "hand"),
    "hand": (
        "handmiddle1",
        "middle1",
        "handmiddle",
        "middle",
        "fingerbase",
        "hand",
        "handend",
        "wristend",
    ),
    # centre parts
    "pelvis": ("hips", "pelvis", "hip", "root", "midhip"),
    "torso": (
        "upperchest",
        "chest2",
        "chest",
        "thorax",
        "spine3",
        "spine2",
        "spine1",
        "spine",
        "torso",
        "upperback",
    ),
    "neck": ("neck", "neck1", "lowerneck", "upperneck", "necknose"),
    "head": ("head", "headtop", "headtopend", "headend", "skull"),
}

_SIDED = ("hip", "knee", "ankle", "toe", "shoulder", "elbow", "wrist", "hand")
_CENTRE = ("pelvis", "torso", "neck", "head")


def _sided(side: str, body_part_map: dict[str, str]) -> dict[str, str]:
    return {f"{side}_{k}": v for k, v in body_part_map.items()}


def _lr(left: dict[str, str], right_from_left) -> dict[str, str]:
    out = dict(_sided("left", left))
    out.update(_sided("right", {k: right_from_left(v) for k, v in left.items()}))
    return out


def _mixamo_like(
    torso: str, toe: str, hand: str | None, neck: str | None = "Neck"
) -> dict[str, str]:
    centre = {"pelvis": "Hips", "torso": torso, "head": "Head"}
    if neck:
        centre["neck"] = neck
    left = {
        "hip": "LeftUpLeg",
        "knee": "LeftLeg",
        "ankle": "LeftFoot",
        "toe": toe,
        "shoulder": "LeftArm",
        "elbow": "LeftForeArm",
        "wrist": "LeftHand",
    }
    if hand:
        left["hand"] = hand
    return {**centre, **_lr(left, lambda v: v.replace("Left", "Right", 1))}


def _smpl_preset(hand: str) -> dict[str, str]:
    left = {
        "hip": "left_hip",
        "knee": "left_knee",
        "ankle": "left_ankle",
        "toe": "left_foot",
        "shoulder": "left_shoulder",
        "elbow": "left_elbow",
        "wrist": "left_wrist",
        "hand": hand,
    }
    return {
        "pelvis": "pelvis",
        "torso": "spine3",
        "neck": "neck",
        "head": "head",
        **_lr(left, lambda v: v.replace("left", "right", 1)),
    }


#: Known rigs: canonical keypoint → joint name (namespace-free). ``torso`` is the upper chest.
SKELETON_PRESETS: dict[str, dict[str, str]] = {
    "smpl": _smpl_preset("left_hand"),
    "smplh_smplx": _smpl_preset("left_middle1"),
    # PHC / SMPLSim naming of SMPL-H joints (the OMOMO sample): L_Thorax is the collar.
    "smplh_phc": {
        "pelvis": "Pelvis",
        "torso": "Chest",
        "neck": "Neck",
        "head": "Head",
        **_lr(
            {
                "hip": "L_Hip",
                "knee": "L_Knee",
                "ankle": "L_Ankle",
                "toe": "L_Toe",
                "shoulder": "L_Shoulder",
                "elbow": "L_Elbow",
                "wrist": "L_Wrist",
                "hand": "L_Middle1",
            },
            lambda v: "R_" + v[2:],
        ),
    },
    "mixamo": _mixamo_like("Spine2", "LeftToeBase", "LeftHandMiddle1"),
    "lafan1": _mixamo_like("Spine2", "LeftToe", None),
    "cmu": _mixamo_like("Spine1", "LeftToeBase", "LeftFingerBase"),
    # holosoma optical mocap (climb sample): no Spine2; *FootMod are markers, not joints.
    "holosoma_mocap": _mixamo_like("Spine1", "LeftToeBase", "LeftHandMiddle1"),
    # PyMO demo (meredith): one spine joint, no neck, hands end in LeftHand_End joints.
    "pymo": _mixamo_like("Spine", "LeftToeBase", "LeftHand_End", neck=None),
    # bvh-python test rig (mocapbank): Collar/Shoulder/Elbow/Wrist, toes are End Sites.
    "mocapbank": {
        "pelvis": "Hips",
        "torso": "Chest2",
        "neck": "Neck",
        "head": "Head",
        **_lr(
            {
                "hip": "LeftHip",
                "knee": "LeftKnee",
                "ankle": "LeftAnkle",
                "toe": "LeftAnkle_End",
                "shoulder": "LeftShoulder",
                "elbow": "LeftElbow",
                "wrist": "LeftWrist",
                "hand": "LeftWrist_End",
            },
            lambda v: v.replace("Left", "Right", 1),
        ),
    },
}

_NAMESPACE = re.compile(r"^.*[:|]")
_RIG_PREFIX = re.compile(r"^(mixamorig\d*|bip0*1|def|character\d*)(?:[_\s.\-]+|(?=[A-Z]))", re.I)
_SIDE_PATTERNS: tuple[tuple[re.Pattern[str], bool], ...] = (
    # (pattern, is_prefix); group "s" is the side word
    (re.compile(r"^(?P<s>left|right)(?=[^a-z]|[a-z])", re.I), True),
    (re.compile(r"^(?P<s>[lr])[_\s.\-]", re.I), True),
    (re.compile(r"^(?P<s>[LR])(?=[A-Z])"), True),
    (re.compile(r"[_\s.\-](?P<s>left|right|[lr])$", re.I), False),
    (re.compile(r"(?<=[a-z0-9])(?P<s>Left|Right|[LR])$"), False),
)


def _strip_namespace(name: str) -> str:
    return _NAMESPACE.sub("", name)


def joint_side_and_base(name: str) -> tuple[str | None, str]:
    """``(side, base)`` of a joint name: side ``"left"``, ``"right"`` or ``None``; base
    lower-case alphanumerics (``"mixamorig:LeftUpLeg"`` → ``("left", "upleg")``,
    ``"thigh_r"`` → ``("right", "thigh")``, ``"Spine2"`` → ``(None, "spine2")``)."""
    s = _RIG_PREFIX.sub("", _strip_namespace(name).strip())
    side = None
    for pattern, is_prefix in _SIDE_PATTERNS:
        m = pattern.search(s)
        if m is None:
            continue
        rest = s[m.end() :] if is_prefix else s[: m.start()]
        if not re.sub(r"[^A-Za-z0-9]", "", rest):
            continue
        side = "left" if m.group("s").lower().startswith("l") else "right"
        s = rest
        break
    return side, re.sub(r"[^a-z0-9]", "", s.lower())


def _match_preset(joint_names: tuple[str, ...]) -> tuple[str, dict[str, int]] | None:
    stripped: dict[str, int] = {}
    for i, n in enumerate(joint_names):
        stripped.setdefault(_strip_namespace(n), i)
    best = None
    for name, preset in SKELETON_PRESETS.items():
        complete = all(j in stripped for j in preset.values())
        if complete and (best is None or len(preset) > len(SKELETON_PRESETS[best])):
            best = name
    if best is None:
        return None
    return best, {k: stripped[j] for k, j in SKELETON_PRESETS[best].items()}


def _match_rules(joint_names: tuple[str, ...]) -> dict[str, int]:
    parsed = [joint_side_and_base(n) for n in joint_names]
    taken: set[int] = set()
    found: dict[str, int] = {}

    def pick(side: str | None, part: str) -> int | None:
        for base in KEYPOINT_SYNONYMS[part]:
            for i, (s, b) in enumerate(parsed):
                if s == side and b == base and i not in taken:
                    return i
        return None

    for part in _CENTRE:
        i = pick(None, part)
        if i is not None:
            found[part] = i
            taken.add(i)
    for side in ("left", "right"):
        for part in _SIDED:
            i = pick(side, part)
            if i is not None:
                found[f"{side}_{part}"] = i
                taken.add(i)
    return found

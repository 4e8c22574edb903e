"""Bundled robots and :func:`load_robot`.

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

import dataclasses
import hashlib
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..types import RobotKind
from ._build import build_model
from ._description import RobotDescription, RobotFileError
from ._keypoints import apply_keypoint_yaml, guess_keypoints, mapping_table
from ._mjcf import parse_mjcf
from ._model import RobotModel
from ._topology import proportion_warnings
from ._topology_legs import check_legs
from ._urdf import parse_urdf

_log = logging.getLogger("retargetjax.robot")

__all__ = [
    "ROBOT_REGISTRY",
    "RobotEntry",
    "file_sha256",
    "load_robot",
    "parse_robot_file",
    "robot_asset_path",
    "robot_for_output",
    "robot_mapping",
]


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


def parse_robot_file(path: str | Path) -> RobotDescription:
    """Parse an MJCF (``.xml``/``.mjcf``) or URDF (``.urdf``) file by its root element."""
    path = Path(path)
    if not path.is_file():
        bundled = ", ".join(k.value for k in RobotKind)
        raise FileNotFoundError(
            f"{path}: robot file does not exist; expected an MJCF (.xml) or URDF (.urdf) "
            f"file, or a bundled robot ({bundled})"
        )
    text = re.sub(
        r"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>", "", path.read_text(errors="replace"), flags=re.S
    )
    first = re.search(r"<([A-Za-z_][\w.-]*)", text)
    root_tag = first.group(1) if first else ""
    if root_tag == "robot":
        return parse_urdf(path)
    if root_tag == "mujoco":
        return parse_mjcf(path)
    if not root_tag and path.suffix.lower() == ".urdf":
        return parse_urdf(path)  # its parser names the XML error
    if not root_tag and path.suffix.lower() in (".xml", ".mjcf"):
        return parse_mjcf(path)
    raise RobotFileError(
        f"{path}: not a robot file (root element <{root_tag or '?'}>); expected an MJCF "
        "(<mujoco>) or URDF (<robot>) file"
    )


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_printed: set[tuple[str, str, str]] = set()


def load_robot(
    robot: RobotKind | str | Path | RobotModel,
    keypoints_yaml: str | Path | None = None,
    dtype=jnp.float32,
    verbose: bool = True,
) -> RobotModel:
    """Load a bundled robot (``RobotKind`` or its value, e.g. ``"unitree_g1"``) or a file.

    For a user's MJCF/URDF file the canonical keypoints and feet are inferred from the
    kinematic tree and rest pose, with name rules for what the topology leaves out (see
    :mod:`retargetjax.robot._topology` and :mod:`retargetjax.robot._keypoints`); the mapping
    table (keypoint, body, why) and any doubtful keypoint are printed once per file when
    ``verbose`` and kept in :attr:`RobotModel.mapping_report`. ``keypoints_yaml`` overrides
    them (also for bundled robots). ``dtype`` is the float type of the model's arrays
    (float64 needs ``jax_enable_x64``). A :class:`RobotModel` is returned as it is.

    Raises:
        RobotFileError: not a robot file, or a tree with no two leg chains whose feet no name
            or YAML gives (one line: the file, what is wrong, what was expected).
    """
    if isinstance(robot, RobotModel):
        return robot
    kind = None
    if isinstance(robot, RobotKind):
        kind = robot
    elif isinstance(robot, str) and robot in {k.value for k in RobotKind}:
        kind = RobotKind(robot)
    sole_points = None
    notes: list[str] = []
    if kind is not None:
        entry = ROBOT_REGISTRY[kind]
        path = robot_asset_path(kind)
        desc = parse_robot_file(path)
        keypoints = {
            k: (b, np.asarray(o, dtype=np.float64)) for k, (b, o) in entry.keypoints.items()
        }
        reasons = {k: "registry" for k in keypoints}
        feet: tuple[str, str] | None = entry.feet
        pose = dict(entry.default_joint_pos)
        name = kind.value
    else:
        path = Path(robot)
        desc = parse_robot_file(path)
        guess = guess_keypoints(desc)
        keypoints, feet, reasons = guess.keypoints, guess.feet, dict(guess.reasons)
        sole_points = guess.sole_points
        notes += guess.notes
        pose = dict(desc.keyframes.get("home") or desc.keyframes.get("stand") or {})
        pose.pop("__root_z__", None)
        name = desc.name
    if keypoints_yaml is not None:
        before = dict(keypoints)
        keypoints, feet_yaml, pose = apply_keypoint_yaml(keypoints_yaml, keypoints, feet, pose)
        if feet_yaml != feet:
            sole_points = None
        feet = feet_yaml
        for key, (body, offset) in keypoints.items():
            old = before.get(key)
            if old is None or old[0] != body or not np.allclose(old[1], offset):
                reasons[key] = "yaml"
    if feet is None:
        detail = next((n[len("topology: ") :] for n in notes if n.startswith("topology: ")), None)
        raise RobotFileError(
            detail
            or f"{desc.path}: could not find the feet (no two leg chains, no left/right ankle "
            "or foot links); expected a humanoid, or name them in a keypoints YAML: "
            "feet: [left_body, right_body]"
        )
    keypoints = {k: v for k, v in keypoints.items() if k in reasons}
    if kind is None:
        pelvis_body = keypoints["pelvis"][0] if "pelvis" in keypoints else desc.bodies[0].name
        check_legs(desc, pelvis_body, feet)
        notes += proportion_warnings(desc, keypoints)
        arms = ("shoulder", "elbow", "wrist", "hand")
        if not any(f"{s}_{a}" in keypoints for s in ("left", "right") for a in arms):
            notes.append(
                "arms: none found; the human's shoulders, elbows, wrists and hands are not tracked"
            )
    model = build_model(
        desc, keypoints, feet, pose, sole_points=sole_points, name=name, dtype=dtype
    )
    if kind is None:
        lower, upper = np.asarray(model.joint_lower), np.asarray(model.joint_upper)
        free = [n for n, lo, hi in zip(model.joint_names, lower, upper) if not lo < hi < np.inf]
        if free:
            listed = ", ".join(free[:4]) + (f" and {len(free) - 4} more" if len(free) > 4 else "")
            notes.append(
                f"{len(free)} of {len(model.joint_names)} joints have no limits in the file "
                f"({listed}): the solver may turn them anywhere and the joint-limit metrics "
                "cannot flag them; add a range (MJCF) or <limit> (URDF) to each"
            )
    digest = file_sha256(path)
    reason = tuple(reasons.get(k, "topology") for k in model.keypoint_names)
    offsets = np.asarray(model.keypoint_offset, np.float64)
    placed = {
        k: (model.body_names[b], offsets[i])
        for i, (k, b) in enumerate(zip(model.keypoint_names, model.keypoint_body))
    }
    table = mapping_table(
        placed, dict(zip(model.keypoint_names, reason)), f"robot keypoint map for {path.name}:"
    )
    table += f"\n{'feet':>15s} -> {feet[0]}, {feet[1]}"
    name_notes = [n for n in notes if n.startswith(("names: ", "arms: "))]
    warnings_text = [n for n in notes if not n.startswith(("topology: ", "names: ", "arms: "))]
    table += "".join(f"\n  note: {n}" for n in name_notes)
    table += "".join(f"\n  warning: {n}" for n in warnings_text)
    model = dataclasses.replace(
        model,
        source=str(Path(path).resolve()),
        source_sha256=digest,
        keypoint_reason=reason,
        mapping_report=table,
    )
    key = (str(path), digest, str(keypoints_yaml))
    if verbose and kind is None and key not in _printed:
        _printed.add(key)
        print(f"[retargetjax.robot] {table}")
        for note in warnings_text:
            _log.warning("%s: %s", path, note)
    return model


def robot_mapping(model: RobotModel) -> dict[str, Any]:
    """JSON-safe ``{keypoints: {canonical: {body, offset, reason}}, feet, missing}``."""
    from ..keypoints import CANONICAL_KEYPOINTS

    reasons = model.keypoint_reason or ("?",) * len(model.keypoint_names)
    offsets = np.asarray(model.keypoint_offset, np.float64)
    return {
        "keypoints": {
            k: {
                "body": model.body_names[b],
                "offset": np.round(offsets[i], 4).tolist(),
                "reason": reasons[i],
            }
            for i, (k, b) in enumerate(zip(model.keypoint_names, model.keypoint_body))
        },
        "feet": [model.body_names[b] for b in model.foot_body],
        "missing": [k for k in CANONICAL_KEYPOINTS if k not in model.keypoint_names],
    }


def robot_for_output(
    metadata: dict[str, Any],
    robot: str | Path | RobotModel | None = None,
    *,
    where: str = "output",
) -> RobotModel | None:
    """The robot an output was made with, from its metadata and an optional ``robot=``.

    Outputs record ``robot`` (the model's name), and for a robot read from a file
    ``robot_file`` (its path) and ``robot_sha256`` (its content hash). ``robot`` may be
    ``None`` (use the recorded file, or the bundled robot of that name), a bundled robot's
    name, the same file's path, or a model. Returns ``None`` when neither names a robot.

    Raises:
        RobotFileError: the recorded file is gone or changed (one line saying which, and
            what to pass), or ``robot=`` names another robot than the output's.
    """
    recorded_name = metadata.get("robot")
    recorded_file = metadata.get("robot_file")
    recorded_hash = metadata.get("robot_sha256")
    if isinstance(robot, RobotModel):
        return robot
    if robot is None:
        if recorded_file and recorded_name not in {k.value for k in RobotKind}:
            path = Path(str(recorded_file))
            if not path.is_file():
                raise RobotFileError(
                    f"{where}: the robot file {path} it was made with has moved or is gone; "
                    "expected it there, or pass robot=<its new path>"
                )
            _check_hash(path, recorded_hash, where)
            return load_robot(path, verbose=False)
        if recorded_name and recorded_name != "unknown":
            return load_robot(recorded_name, verbose=False)
        return None
    text = str(robot)
    if text in {k.value for k in RobotKind}:
        if recorded_name and recorded_name not in (text, "unknown"):
            raise RobotFileError(
                f"{where}: made with robot {recorded_name!r}; expected robot={recorded_name} "
                f"(or its file), not {text!r}"
            )
        return load_robot(text, verbose=False)
    path = Path(text)
    if not path.is_file():
        raise RobotFileError(f"{where}: robot={text}: no such file; expected a robot file")
    same_path = bool(recorded_file) and path.resolve() == Path(str(recorded_file)).resolve()
    if not same_path and recorded_hash and file_sha256(path) != recorded_hash:
        made_with = (
            f"{recorded_file} (robot {recorded_name!r})" if recorded_file else "another file"
        )
        raise RobotFileError(
            f"{where}: made with robot file {made_with}, but robot={text} is a different file "
            "(content hash differs); expected that file, or an identical copy of it"
        )
    _check_hash(path, recorded_hash, where)
    model = load_robot(path, verbose=False)
    if recorded_name and recorded_name not in ("unknown", model.name):
        raise RobotFileError(
            f"{where}: made with robot {recorded_name!r}, but {path} is robot {model.name!r}; "
            "expected the file the output was made with"
        )
    return model


def _check_hash(path: Path, recorded: Any, where: str) -> None:
    if recorded and file_sha256(path) != recorded:
        raise RobotFileError(
            f"{where}: the robot file {path} has changed since the output was made (content "
            "hash differs); expected the same file; retarget again, or restore the file"
        )

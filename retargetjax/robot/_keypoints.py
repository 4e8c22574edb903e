"""Guess a robot's canonical keypoints and feet: topology first, names second; YAML overrides.

:func:`guess_keypoints` takes every keypoint it can from the kinematic tree and rest pose
(:mod:`retargetjax.robot._topology`, reason ``topology``); the name rules below only fill
keypoints the topology leaves out (reason ``name``, e.g. a neck) and are reported next to
the topology's choice where they name another body. A YAML override wins (reason ``yaml``).

Name rules: each body is described by the words of its own name and of the joints that move it
(``Hip_Pitch_Left`` → {hip, pitch, left}; ``AL2`` moved by ``Left_Shoulder_Roll`` → {al2,
left, shoulder, roll}). Side: a ``left``/``l`` word (or an ``l_``/``_l`` affix; see
:mod:`._names`). For each keypoint the first body (file order) on the right side whose words
contain a key word wins, with a preferred word breaking ties:

=========  ====================================  =================
keypoint   key words                             preferred
=========  ====================================  =================
pelvis     the root body                         —
torso      torso, chest, trunk, spine            (the deepest)
neck       neck                                  —
head       head                                  —
hip        hip, thigh                            roll
knee       knee, shank, shin, calf               —
ankle      ankle                                 roll
toe        toe (else the sole's front centre)    —
shoulder   shoulder                              roll
elbow      elbow                                 —
wrist      wrist                                 (the deepest)
hand       hand, palm                            —
=========  ====================================  =================

A name-rule body only fills a keypoint of a limb when it lies down that limb from the keypoint
above it (knee below the hip, ankle below the knee, toe below the ankle, elbow below the
shoulder, wrist below the elbow, hand below the wrist): in that keypoint's body or its
subtree, at least 1 cm from its point, and for a toe no more than 3 cm above the ankle in the
rest pose. Else it is left out with a note (AgiBot X1's ``leg_l_toe_a_link`` is a rod welded
to the shin, 20 cm above the ankle; PND Adam Lite's ankle-roll link is called ``toeLeft``); a
toe left out is then the sole's front centre.

The foot body is the deepest moving body below the ankle keypoint's body (the ankle-roll
link). Offsets are zero (the body origin, usually on the joint axes) except the head, which
takes the centre of its first collision geom when it has one.

The YAML override file may hold::

    keypoints:
      left_wrist: left_wrist_yaw_link            # body, offset 0
      head: {body: torso_link, offset: [0, 0, 0.4]}
      neck: null                                 # drop a guessed keypoint
    feet: [left_ankle_roll_link, right_ankle_roll_link]
    default_joint_pos: {left_elbow_joint: 1.2}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ._description import RobotDescription, RobotFileError
from ._names import body_words, name_words
from ._topology import infer_robot_keypoints
from ._topology_tree import rest_body_poses

__all__ = [
    "KeypointGuess",
    "apply_keypoint_yaml",
    "guess_keypoints",
    "guess_keypoints_by_name",
    "mapping_table",
    "name_words",
]

_RULES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "hip": (("hip", "thigh"), "roll"),
    "knee": (("knee", "shank", "shin", "calf"), None),
    "ankle": (("ankle",), "roll"),
    "toe": (("toe", "toes"), None),
    "shoulder": (("shoulder",), "roll"),
    "elbow": (("elbow",), None),
    "wrist": (("wrist",), "deepest"),
    "hand": (("hand", "palm"), None),
}


#: Limb keypoints and the keypoint above them, by part.
_CHAIN_PARENT = {
    "knee": "hip",
    "ankle": "knee",
    "toe": "ankle",
    "elbow": "shoulder",
    "wrist": "elbow",
    "hand": "wrist",
}
#: A name-rule keypoint closer than this (m) to the keypoint above it adds nothing.
_MIN_SEGMENT_M = 0.01
#: A toe may stand this much (m) above its ankle in the rest pose (a sole pitched up).
_TOE_ABOVE_ANKLE_M = 0.03


def _off_limb(desc: RobotDescription, found: dict, key: str, placement) -> str | None:
    """Why a name rule's ``placement`` for ``key`` is not down its limb, or ``None``."""
    side, _, part = key.partition("_")
    above = f"{side}_{_CHAIN_PARENT[part]}" if part in _CHAIN_PARENT else None
    if above is None or above not in found:
        return None
    names = [b.name for b in desc.bodies]
    (body, offset), (above_body, above_offset) = placement, found[above]
    if body not in names or above_body not in names:
        return None
    i, a = names.index(body), names.index(above_body)
    chain = [i]
    while desc.bodies[chain[-1]].parent >= 0:
        chain.append(desc.bodies[chain[-1]].parent)
    if a not in chain:
        return f"it does not hang from the {above} body {above_body!r}"
    rots, poss = rest_body_poses(desc)
    point = poss[i] + rots[i] @ np.asarray(offset, float)
    above_point = poss[a] + rots[a] @ np.asarray(above_offset, float)
    if np.linalg.norm(point - above_point) < _MIN_SEGMENT_M:
        return f"it is on the {above} point ({above_body!r})"
    rise = point[2] - above_point[2]
    if part == "toe" and rise > _TOE_ABOVE_ANKLE_M:
        return f"it is {100 * rise:.0f} cm above the {above} ({above_body!r}) in the rest pose"
    return None


def guess_keypoints_by_name(
    desc: RobotDescription,
) -> tuple[dict[str, tuple[str, np.ndarray]], tuple[str, str] | None, list[str]]:
    """Name rules only: ``{keypoint: (body, offset)}``, ``(left foot, right foot)``, report."""
    bodies = desc.bodies
    words, sides = body_words(desc)
    depth = []
    for body in bodies:
        depth.append(0 if body.parent < 0 else depth[body.parent] + 1)

    def find(keys: tuple[str, ...], prefer: str | None, side: str | None) -> int | None:
        hits = [i for i in range(1, len(bodies)) if words[i] & set(keys) and sides[i] == side]
        if not hits:
            return None
        if prefer == "deepest":
            return max(hits, key=lambda i: depth[i])
        if prefer is not None:
            preferred = [i for i in hits if prefer in words[i]]
            if preferred:
                return preferred[0]
        return hits[0]

    found: dict[str, tuple[str, np.ndarray]] = {"pelvis": (bodies[0].name, np.zeros(3))}
    torso = [i for i in range(1, len(bodies)) if words[i] & {"torso", "chest", "trunk", "spine"}]
    if torso:
        found["torso"] = (bodies[max(torso, key=lambda i: depth[i])].name, np.zeros(3))
    for single in ("neck", "head"):
        hit = find((single,), None, None)
        if hit is not None:
            offset = np.zeros(3)
            prims = [g for g in bodies[hit].geoms if g.kind != "mesh"]
            if single == "head" and prims:
                offset = prims[0].pos.copy()
            found[single] = (bodies[hit].name, offset)
    for side in ("left", "right"):
        for part, (keys, prefer) in _RULES.items():
            hit = find(keys, prefer, side)
            if hit is not None:
                found[f"{side}_{part}"] = (bodies[hit].name, np.zeros(3))
        wrist, hand = found.get(f"{side}_wrist"), found.get(f"{side}_hand")
        if wrist and hand and wrist[0] == hand[0]:
            del found[f"{side}_hand"]

    feet: tuple[str, str] | None = None
    foot_names = []
    for side in ("left", "right"):
        start = found.get(f"{side}_ankle")
        if start is None:
            hit = find(("foot",), None, side)
            start = (bodies[hit].name, np.zeros(3)) if hit is not None else None
        if start is None:
            break
        b = next(i for i, body in enumerate(bodies) if body.name == start[0])
        best = b
        stack = [b]
        while stack:
            i = stack.pop()
            for c, body in enumerate(bodies):
                if body.parent == i:
                    stack.append(c)
                    if body.joints and depth[c] > depth[best]:
                        best = c
        foot_names.append(bodies[best].name)
    if len(foot_names) == 2:
        feet = (foot_names[0], foot_names[1])

    report = [f"{k:>15s} -> {found[k][0]}" for k in found]
    report.append(f"{'feet':>15s} -> {feet}")
    return found, feet, report


def apply_keypoint_yaml(
    path: str | Path,
    keypoints: dict[str, tuple[str, np.ndarray]],
    feet: tuple[str, str] | None,
    default_pose: dict[str, float],
) -> tuple[dict[str, tuple[str, np.ndarray]], tuple[str, str] | None, dict[str, float]]:
    """Apply a YAML override (format in the module docstring); errors name the file and key."""
    from ..keypoints import CANONICAL_KEYPOINTS

    path = Path(path)
    try:
        data: Any = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RobotFileError(f"{path}: cannot read keypoint YAML ({exc})") from None
    if not isinstance(data, dict):
        raise RobotFileError(f"{path}: expected a mapping at the top level")
    unknown = set(data) - {"keypoints", "feet", "default_joint_pos"}
    if unknown:
        raise RobotFileError(
            f"{path}: unknown keys {sorted(unknown)}; expected keypoints, feet, default_joint_pos"
        )
    keypoints = dict(keypoints)
    for name, value in (data.get("keypoints") or {}).items():
        if name not in CANONICAL_KEYPOINTS:
            raise RobotFileError(
                f"{path}: keypoints.{name}: not a canonical keypoint "
                f"({', '.join(CANONICAL_KEYPOINTS)})"
            )
        if value is None:
            keypoints.pop(name, None)
        elif isinstance(value, str):
            keypoints[name] = (value, np.zeros(3))
        elif isinstance(value, dict) and "body" in value:
            offset = np.asarray(value.get("offset", [0.0, 0.0, 0.0]), dtype=np.float64)
            if offset.shape != (3,):
                raise RobotFileError(f"{path}: keypoints.{name}.offset: expected 3 numbers")
            keypoints[name] = (str(value["body"]), offset)
        else:
            raise RobotFileError(
                f"{path}: keypoints.{name}: expected a body name, {{body, offset}} or null"
            )
    if "feet" in data:
        f = data["feet"]
        if not (isinstance(f, list) and len(f) == 2):
            raise RobotFileError(f"{path}: feet: expected [left_body, right_body]")
        feet = (str(f[0]), str(f[1]))
    pose = dict(default_pose)
    pose.update({str(k): float(v) for k, v in (data.get("default_joint_pos") or {}).items()})
    return keypoints, feet, pose


@dataclass
class KeypointGuess:
    """A robot's guessed keypoints with the reason of each choice."""

    #: Canonical keypoint → (body name, offset in the body frame, m).
    keypoints: dict[str, tuple[str, np.ndarray]]
    #: (left, right) foot bodies, or ``None`` when neither topology nor names find them.
    feet: tuple[str, str] | None
    #: Canonical keypoint → ``"topology"``, ``"name"`` or ``"yaml"``.
    reasons: dict[str, str]
    #: Sole points for feet that are only a frame or site (see ``_topology``), else ``None``.
    sole_points: np.ndarray | None = None
    #: Lines worth a look: where the name rules disagree, why the topology failed.
    notes: list[str] = field(default_factory=list)
    #: Named chains of body indices (``left_leg``…), for plots.
    chains: dict[str, list[int]] = field(default_factory=dict)
    #: Yaw (rad) of the robot's forward in its root frame (see ``_topology_facing``).
    facing: float = 0.0


def guess_keypoints(desc: RobotDescription) -> KeypointGuess:
    """Keypoints of ``desc`` by topology, with the name rules filling the gaps.

    When the tree has no two leg chains the name rules alone are used (and the topology's
    complaint is kept in ``notes``); if they do not find the feet either, ``feet`` is ``None``.
    """
    by_name, feet_by_name, _ = guess_keypoints_by_name(desc)
    notes: list[str] = []
    try:
        topo = infer_robot_keypoints(desc)
    except (RobotFileError, ValueError, IndexError) as exc:
        notes.append(f"topology: {exc}")
        return KeypointGuess(
            keypoints=by_name,
            feet=feet_by_name,
            reasons={k: "name" for k in by_name},
            notes=notes,
        )
    found = dict(topo.keypoints)
    reasons = {k: "topology" for k in found}
    if topo.facing:
        notes.append(f"facing: {facing_text(topo.facing)}")
    for key, (body, offset) in by_name.items():
        if key not in found:
            why = _off_limb(desc, found, key, (body, offset))
            if why is not None:
                notes.append(f"names: {key}: {body} left out, {why}")
                continue
            found[key] = (body, offset)
            reasons[key] = "name"
        elif found[key][0] != body and key != "pelvis":
            notes.append(f"names: {key}: topology chose {found[key][0]}, the name rules {body}")
    return KeypointGuess(
        keypoints=found,
        feet=topo.feet,
        reasons=reasons,
        sole_points=topo.sole_points,
        notes=notes,
        chains=topo.chains,
        facing=topo.facing,
    )


def facing_text(facing: float) -> str:
    """The mapping report's line on a robot that does not face its root frame's +x."""

    def axis(v: np.ndarray) -> str:
        for name, a in (("+x", (1, 0)), ("-x", (-1, 0)), ("+y", (0, 1)), ("-y", (0, -1))):
            if v @ np.array(a) > 0.999:
                return name
        return f"[{v[0]:.2f}, {v[1]:.2f}, 0]"

    forward = np.array([np.cos(facing), np.sin(facing)])
    left = np.array([-forward[1], forward[0]])
    return (
        f"the feet point to {axis(forward)} in the root frame, so the robot faces "
        f"{axis(forward)} and its left is {axis(left)}; sides, soles and targets follow "
        "(outputs stay in the file's root frame)"
    )


def mapping_table(
    keypoints: dict[str, tuple[str, np.ndarray]], reasons: dict[str, str], title: str
) -> str:
    """The printable mapping: one row per canonical keypoint (body, offset, reason), then
    what is missing."""
    from ..keypoints import CANONICAL_KEYPOINTS

    rows = [title]
    for key in CANONICAL_KEYPOINTS:
        if key in keypoints:
            body, offset = keypoints[key]
            off = np.asarray(offset, float)
            where = f"{body} + {np.round(off, 3).tolist()}" if np.any(np.abs(off) > 1e-9) else body
            rows.append(f"{key:>15s} -> {where}  ({reasons.get(key, '?')})")
    missing = [k for k in CANONICAL_KEYPOINTS if k not in keypoints]
    if missing:
        rows.append(f"{'missing':>15s}: {', '.join(missing)} (not tracked)")
    return "\n".join(rows)

"""Which joint of a rig is which canonical keypoint: topology first, names second.

When the rig has a joint tree, :func:`~retargetjax.motion._topology.infer_rig_keypoints`
reads the keypoints off its rest pose (BVH: the OFFSETs; other files: their most upright
frame): legs down from the pelvis, arms sideways from the upper trunk, the head chain up,
left and right from the skeleton's own facing, End Sites as the tips of their chains. The
names then only confirm or break ties: a keypoint takes the joint the names give when that
joint is one of the topology's candidates for it (same chain, same segment), else the
topology's choice; a keypoint the topology cannot place takes the names' joint. Each
keypoint records why (``topology``, ``name``, ``yaml``). Without a joint tree (keypoint
files with no parents) or when the tree shows no two legs, the names alone decide.

Names: a rig is first matched against the presets of :data:`SKELETON_PRESETS` (a preset applies
when every joint it names exists, compared without namespaces such as ``mixamorig:``; the
preset naming the most joints wins, ties go to the earlier one). Otherwise each keypoint is
found by rules on the joint names:

1. Namespaces (``mixamorig:``) and rig prefixes (``Bip01``, ``DEF-``, ``Character1_``) are
   dropped.
2. A side is read from a prefix (``Left``, ``L_``, ``l.``, ``LThigh``) or a suffix
   (``_l``, ``.L``, ``_left``, ``ArmLeft``) and removed; the rest, lower-cased with
   non-alphanumerics dropped, is the joint's *base* (``LeftUpLeg`` → left, ``upleg``).
3. Each keypoint takes the first base of its synonym list (:data:`KEYPOINT_SYNONYMS`) that a
   joint of the right side has, skipping joints already taken, keypoints processed in the
   order of that table. So ``ankle`` beats ``foot`` for the ankle and the leftover ``foot``
   is then the toe (SMPL), and ``Arm`` beats ``Shoulder`` for the upper arm (Mixamo/CMU,
   where ``LeftShoulder`` is the collar), while a rig with ``Collar`` + ``Shoulder`` and no
   ``Arm`` takes ``Shoulder`` (SMPL, mocapbank).

End Sites are joints named ``<parent>_End`` (see the BVH loader), so a toe or hand that is
only an End Site maps to it (``LeftAnkle_End`` → toe, ``LeftWrist_End`` → hand).

An override (a dict or a YAML file of ``canonical: joint name``, ``null`` to drop an optional
keypoint) replaces entries after the preset or rules. A missing required keypoint is a
:class:`KeypointMapError` naming what was found.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..keypoints import CANONICAL_KEYPOINTS, REQUIRED_KEYPOINTS
from ._errors import KeypointMapError
from ._human_motion import HumanMotion
from ._topology import RigTopology, TopologyError, infer_rig_keypoints
from ._units import up_axis_to_z_matrix

__all__ = [
    "KEYPOINT_SYNONYMS",
    "SKELETON_PRESETS",
    "KeypointMap",
    "joint_side_and_base",
    "map_keypoints",
    "rest_pose",
]

_log = logging.getLogger("retargetjax.motion")

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


@dataclass(frozen=True)
class KeypointMap:
    """Which joint of a motion is which canonical keypoint."""

    #: Canonical keypoint names found, in :data:`~retargetjax.keypoints.CANONICAL_KEYPOINTS` order.
    names: tuple[str, ...]
    #: Joint index in the motion for each keypoint of ``names``.
    joint_index: tuple[int, ...]
    #: Joint name for each keypoint of ``names``.
    joint_names: tuple[str, ...]
    #: The names' source: ``"preset:<name>"`` or ``"rules"``, with ``"+override"`` when an
    #: override applied (which keypoints the topology placed: :attr:`reasons`).
    rig: str = "rules"
    #: Why each keypoint of ``names`` is that joint: ``topology``, ``name`` or ``yaml``.
    reasons: tuple[str, ...] = ()
    #: Remarks worth a look (names that the topology overruled, why it could not help).
    notes: tuple[str, ...] = ()

    def positions(self, motion: HumanMotion) -> np.ndarray:
        """(T, K, 3) float32 world positions of the keypoints, metres, Z up."""
        return motion.positions[:, list(self.joint_index)]

    def index(self, name: str) -> int:
        """Position of canonical keypoint ``name`` in :attr:`names`; ``KeyError`` if absent."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(
                f"keypoint {name!r} is not mapped; mapped: {', '.join(self.names)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def as_dict(self) -> dict[str, str]:
        """``{canonical: joint name}``."""
        return dict(zip(self.names, self.joint_names))

    def describe(self) -> str:
        """A printable table of the mapping: keypoint, joint, why; then what is missing."""
        width = max(len(n) for n in self.names)
        jwidth = max(len(j) for j in self.joint_names)
        reasons = self.reasons or ("name",) * len(self.names)
        counts = ", ".join(f"{reasons.count(r)} by {r}" for r in dict.fromkeys(reasons))
        rows = [f"keypoint map ({counts}; names: {self.rig}):"]
        rows += [
            f"  {k:<{width}} <- {j:<{jwidth}}  ({r})"
            for k, j, r in zip(self.names, self.joint_names, reasons)
        ]
        missing = [k for k in CANONICAL_KEYPOINTS if k not in self.names]
        if missing:
            rows.append(f"  (not mapped: {', '.join(missing)})")
        rows += [f"  note: {n}" for n in self.notes]
        return "\n".join(rows)

    def as_report(self) -> dict[str, object]:
        """JSON-safe ``{rig, keypoints: {canonical: {joint, reason}}, missing, notes}``."""
        reasons = self.reasons or ("name",) * len(self.names)
        return {
            "rig": self.rig,
            "keypoints": {
                k: {"joint": j, "reason": r}
                for k, j, r in zip(self.names, self.joint_names, reasons)
            },
            "missing": [k for k in CANONICAL_KEYPOINTS if k not in self.names],
            "notes": list(self.notes),
        }


def _load_override(override: str | os.PathLike | Mapping[str, str | None]) -> dict[str, str | None]:
    if isinstance(override, Mapping):
        data = dict(override)
        where = "override"
    else:
        import yaml

        path = Path(override)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise KeypointMapError(f"{path}: cannot read the keypoint override ({exc})") from None
        where = str(path)
        if (
            isinstance(data, Mapping)
            and "keypoints" in data
            and isinstance(data["keypoints"], Mapping)
        ):
            data = dict(data["keypoints"])
    if not isinstance(data, Mapping):
        raise KeypointMapError(f"{where}: expected a mapping 'canonical keypoint: joint name'")
    out: dict[str, str | None] = {}
    for key, value in data.items():
        if key not in CANONICAL_KEYPOINTS:
            raise KeypointMapError(
                f"{where}: unknown keypoint {key!r}; "
                f"expected one of {', '.join(CANONICAL_KEYPOINTS)}"
            )
        out[str(key)] = None if value is None else str(value)
    return out


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


def rest_pose(motion: HumanMotion) -> np.ndarray:
    """(J, 3) rest pose for reading the topology, metres, Z up.

    A BVH's rest skeleton (its OFFSETs, ``metadata["rest_offsets_m"]``, turned Z up); for
    other clips the frame standing tallest (largest vertical extent) among 64 spread ones.
    """
    offsets = motion.metadata.get("rest_offsets_m") if motion.metadata else None
    if offsets is not None and np.shape(offsets) == (motion.num_joints, 3):
        rest = np.zeros((motion.num_joints, 3))
        for j, p in enumerate(motion.parents):
            rest[j] = np.asarray(offsets[j], np.float64) + (rest[p] if p >= 0 else 0.0)
        try:
            C = up_axis_to_z_matrix(str(motion.metadata.get("up_axis", "y")))
        except ValueError:
            C = np.eye(3)
        return rest @ np.asarray(C, np.float64).T
    T = motion.num_frames
    frames = np.unique(np.linspace(0, T - 1, min(T, 64)).astype(int))
    z = motion.positions[frames, :, 2]
    return np.asarray(motion.positions[frames[int(np.argmax(z.max(1) - z.min(1)))]], np.float64)


def _topology_vote(motion: HumanMotion) -> tuple[RigTopology | None, str]:
    """The rig's topology from its rest pose; for clips without one (keypoint files) or whose
    rest pose shows no standing body, the choice most of the 9 tallest of 64 frames spread
    over the clip agree on, keypoint by keypoint (one odd frame, a raised leg or a turned
    foot, must not swap left and right; frames showing no two legs do not vote)."""
    why = ""
    if motion.metadata and motion.metadata.get("rest_offsets_m") is not None:
        try:
            return infer_rig_keypoints(motion.parents, rest_pose(motion)), ""
        except (TopologyError, ValueError, IndexError) as exc:
            # A rest pose that is no standing body (OFFSETs along each bone's own axis, as
            # MotionBuilder or Rokoko write them): the clip's frames vote instead.
            why = f"rest pose: {exc}"
    try:
        T = motion.num_frames
        frames = np.unique(np.linspace(0, T - 1, min(T, 64)).astype(int))
        z = motion.positions[frames, :, 2]
        tallest = frames[np.argsort(-(z.max(1) - z.min(1)))]
    except (TopologyError, ValueError, IndexError) as exc:
        return None, str(exc)
    voters: list[RigTopology] = []
    for t in tallest:
        try:
            topo = infer_rig_keypoints(motion.parents, motion.positions[t])
        except (TopologyError, ValueError, IndexError) as exc:
            why = why or str(exc)
            continue
        if not all(f"{s}_wrist" in topo.choice for s in ("left", "right")):
            # Two chains down and none sideways: a rig without legs whose arms hang to the
            # lowest point reads as legs in a posed frame. A frame must show the whole body.
            why = why or "no two arms beside two legs; expected a whole human body"
            continue
        voters.append(topo)
        if len(voters) == 9:  # the 9 tallest frames that show a humanoid
            break
    if not voters:
        return None, why
    return _majority(voters), ""


def _majority(voters: list[RigTopology]) -> RigTopology:
    """Each keypoint's joint by majority over the frames that placed it (ties: the earlier,
    taller frame). Whole-frame votes are fragile: in a walk one foot is nearly always lifting
    or pushing off, its toe pointing down, so that frame reads its toe as the ankle, and the
    frames split between "left foot wrong" and "right foot wrong". A joint two keypoints
    claim goes to the one more frames agree on."""
    from collections import Counter

    counts: dict[str, Counter] = {}
    for topo in voters:
        for key, joint in topo.choice.items():
            counts.setdefault(key, Counter())[joint] += 1
    choice: dict[str, int] = {}
    support: dict[str, int] = {}
    for key, counter in counts.items():
        # Counter.most_common keeps first-seen order among equal counts: the taller frame.
        joint, n = counter.most_common(1)[0]
        if 2 * n < len(voters) and sum(counter.values()) < len(voters):
            continue  # placed by a minority of the frames only
        choice[key], support[key] = joint, n
    for key in sorted(choice, key=lambda k: -support[k]):
        if key in choice and any(k != key and choice[k] == choice[key] for k in choice):
            for other in [k for k in choice if k != key and choice[k] == choice[key]]:
                del choice[other]
    best = max(voters, key=lambda t: sum(t.choice.get(k) == j for k, j in choice.items()))
    candidates = dict(best.candidates)
    for key, joint in choice.items():
        if joint not in candidates.get(key, ()):
            candidates[key] = (*candidates.get(key, ()), joint)
    return RigTopology(
        choice=choice,
        candidates=candidates,
        forward=best.forward,
        left=best.left,
        chains=best.chains,
    )


_printed: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()


def map_keypoints(
    motion: HumanMotion,
    override: str | os.PathLike | Mapping[str, str | None] | None = None,
    *,
    verbose: bool = True,
) -> KeypointMap:
    """Map the joints of ``motion`` to the canonical keypoints (preset, else name rules).

    Args:
        motion: the clip whose ``joint_names`` are mapped.
        override: ``{canonical: joint name or None}`` or a YAML file with that mapping
            (optionally under a top-level ``keypoints:`` key); applied last.
        verbose: print the mapping (once per distinct rig and mapping); it is always logged
            at INFO level on the ``retargetjax.motion`` logger.

    Raises:
        KeypointMapError: a required keypoint (:data:`~retargetjax.keypoints.REQUIRED_KEYPOINTS`)
            is missing, or the override names an unknown keypoint or joint.
    """
    names = motion.joint_names
    preset = _match_preset(names)
    if preset is not None:
        name_rig = f"preset:{preset[0]}"
        by_name = dict(preset[1])
    else:
        name_rig = "rules"
        by_name = _match_rules(names)
    found, reasons, notes = dict(by_name), {k: "name" for k in by_name}, []
    rig = name_rig
    topo, why = _topology_vote(motion)
    if topo is None and why and not np.all(motion.parents < 0):
        notes.append(f"topology: {why}; names only")
    if topo is not None:
        found, reasons = {}, {}
        for key in CANONICAL_KEYPOINTS:
            t, n = topo.choice.get(key), by_name.get(key)
            if t is not None and n is not None and n != t and n in topo.candidates.get(key, ()):
                found[key], reasons[key] = n, "name"
            elif t is not None:
                found[key], reasons[key] = t, "topology"
                if n is not None and n != t:
                    notes.append(f"{key}: names say {names[n]}, the skeleton {names[t]}")
        for key in CANONICAL_KEYPOINTS:  # names fill what the skeleton left out
            n = by_name.get(key)
            if key not in found and n is not None and n not in found.values():
                found[key], reasons[key] = n, "name"
        lost = [k for k in REQUIRED_KEYPOINTS if k not in found]
        if lost and all(k in by_name for k in REQUIRED_KEYPOINTS):
            # The rest pose does not read as a humanoid (a synthetic or odd bind pose), while
            # the names alone place every required keypoint: trust the names.
            notes.append(
                f"topology: the rest pose left {', '.join(lost)} unplaced; names used instead"
            )
            found, reasons = dict(by_name), {k: "name" for k in by_name}
    if override is not None:
        for key, joint in _load_override(override).items():
            if joint is None:
                found.pop(key, None)
                continue
            reasons[key] = "yaml"
            if joint in names:
                found[key] = names.index(joint)
                continue
            by_stripped = [i for i, n in enumerate(names) if _strip_namespace(n) == joint]
            if not by_stripped:
                raise KeypointMapError(
                    f"override maps {key!r} to joint {joint!r}, which "
                    f"{motion.source or 'the motion'} "
                    f"does not have; joints: {', '.join(names)}"
                )
            found[key] = by_stripped[0]
        rig += "+override"
    missing = [k for k in REQUIRED_KEYPOINTS if k not in found]
    if missing:
        found_txt = ", ".join(f"{k}={names[i]}" for k, i in found.items()) or "nothing"
        skeleton = f" (the skeleton: {why})" if topo is None and why else ""
        raise KeypointMapError(
            f"{motion.source or 'motion'}: cannot map required keypoints {', '.join(missing)}"
            f"{skeleton}; expected a human skeleton with two legs and two arms (found "
            f"{found_txt}; joints of the rig: {', '.join(names)}). Pass override="
            "{'<keypoint>': '<joint name>'} or a YAML file with that mapping"
        )
    ordered = [k for k in CANONICAL_KEYPOINTS if k in found]
    kp = KeypointMap(
        names=tuple(ordered),
        joint_index=tuple(int(found[k]) for k in ordered),
        joint_names=tuple(names[found[k]] for k in ordered),
        rig=rig,
        reasons=tuple(reasons.get(k, "name") for k in ordered),
        notes=tuple(notes),
    )
    text = kp.describe()
    _log.debug("%s: %s", motion.source or "motion", text)
    key = (names, kp.joint_names)
    if verbose and key not in _printed:
        _printed.add(key)
        print(f"{motion.source.name if motion.source else 'motion'}: {text}")
    return kp

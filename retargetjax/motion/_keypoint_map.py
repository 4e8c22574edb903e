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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..keypoints import CANONICAL_KEYPOINTS, REQUIRED_KEYPOINTS
from ._errors import KeypointMapError
from ._human_motion import HumanMotion
from ._keypoint_names import _match_preset, _match_rules, _strip_namespace
from ._topology_vote import _topology_vote

__all__ = ["KeypointMap", "map_keypoints"]

_log = logging.getLogger("retargetjax.motion")


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

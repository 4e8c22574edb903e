"""Contacts of any body part with the world: feet, hands, elbows, knees, seat, back and head.

Pure numpy, on canonical keypoints only (never on a rig's joint names), so any rig that maps
to :data:`~retargetjax.keypoints.CANONICAL_KEYPOINTS` works, and a mirrored or renamed clip
gets the mirrored labels.

**Floor.** ``floor_z`` is :func:`~retargetjax.motion.estimate_floor_height`'s level: the
lowest planted foot keypoint, ``min_k P5(z_k)`` over ankles and toes. It is the height of a
planted toe *joint*, so a centimetre or two above the true ground; every part's threshold
below is measured from it, so a clip whose floor is at any height works.

**A point in contact.** Each part has one or more keypoints (:data:`BODY_PARTS`). For a
point ``k`` of part ``p`` let ``h_k(t) = z_k(t) − level_k`` be its height above its level
(``level_k = floor_z`` for every part but the feet; a foot point's level is its own planted
level, :func:`~retargetjax.motion.foot_point_heights`, exactly as
:func:`~retargetjax.motion.foot_contacts` does) and ``v_k(t) = |p_k(t+1) − p_k(t−1)| · fps / 2``
its speed. With the part's thresholds (:data:`PART_THRESHOLDS`) a point

- *touches down* on the floor when ``h_k < on_m`` and ``v_k < on_mps``, with support height
  ``s = z_k(t)`` (its height at touchdown);
- for feet (``raised=True``) also *touches down on a raised support* (a box, a step) when it
  is anywhere, but still — ``v_k < on_mps`` on every frame of a run of at least
  ``still_s`` = 0.25 s — again with ``s = z_k(t)``;
- *lifts off* when ``v_k > off_mps``, or when it rises above the floor threshold
  (``h_k > off_m``, floor touchdowns) or more than ``off_m − on_m`` above its support height
  (``z_k − s > off_m − on_m``, raised touchdowns).

The enter/leave pairs are the hysteresis: a label does not flicker while a value wanders
between them. A part is in contact when any of its points is; its support height is the
lowest support height among its points in contact. Spans shorter than ``min_span_s`` are
dropped (a grazing frame is not a contact).

**Per-part thresholds** (m above ``floor_z``; m/s). A keypoint is a joint centre, inside the
body, so its height when the part rests on the floor is about the part's own radius:

| part | keypoints | on / off (m) | speed on / off (m/s) | why |
|---|---|---|---|---|
| foot | ankle, toe | 0.05 / 0.08 (own level) | 0.35 / 0.7 | as :func:`foot_contacts` |
| hand | wrist, hand | 0.06 / 0.09 | 0.35 / 0.7 | a palm on the floor: wrist 2–5 cm up |
| elbow | elbow | 0.08 / 0.11 | 0.35 / 0.7 | a forearm on the floor: elbow 4–7 cm up |
| knee | knee | 0.10 / 0.13 | 0.35 / 0.7 | kneeling: knee centre 5–10 cm up |
| pelvis (seat) | pelvis | 0.14 / 0.17 | 0.5 / 1.0 | sitting or lying: hip centre 8–12 cm up |
| back | torso | 0.18 / 0.22 | 0.5 / 1.0 | lying: chest joint 10–15 cm up |
| head | head | 0.14 / 0.17 | 0.5 / 1.0 | head joint ~10 cm up when the head rests |

Every threshold in metres and m/s is for an adult with 0.83 m legs and is multiplied by the
clip's :func:`~retargetjax.motion.body_scale` (its leg length over 0.83 m), so a uniformly
scaled clip (a unit read wrong, a child) gets the same labels.

The trunk parts get looser speeds because a rolling back or seat carries its centre at
``ω · r`` while the touching skin is still. Only feet take raised supports: a hand held
still in the air (arms hanging at rest) cannot be told from a hand on a table by its motion
alone, so hands, knees and the trunk are only labelled on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._contacts import body_scale
from ._human_motion import HumanMotion
from ._keypoint_map import KeypointMap, map_keypoints

__all__ = [
    "BODY_PARTS",
    "PART_THRESHOLDS",
    "BodyContacts",
    "PartThresholds",
    "body_contacts",
    "detect_body_contacts",
]


class PartThresholds(NamedTuple):
    """Contact thresholds of one body part (see the module docstring)."""

    #: Enter contact below this height above the part's level (m).
    on_m: float
    #: Leave contact above this height above the part's level (m).
    off_m: float
    #: Enter contact below this speed (m/s).
    on_mps: float
    #: Leave contact above this speed (m/s).
    off_mps: float
    #: Whether a still point anywhere (a box, a step) also counts as a support.
    raised: bool = False


#: Body parts in their fixed order, each with its canonical keypoints (any present are used).
BODY_PARTS: dict[str, tuple[str, ...]] = {
    "left_foot": ("left_ankle", "left_toe"),
    "right_foot": ("right_ankle", "right_toe"),
    "left_hand": ("left_wrist", "left_hand"),
    "right_hand": ("right_wrist", "right_hand"),
    "left_elbow": ("left_elbow",),
    "right_elbow": ("right_elbow",),
    "left_knee": ("left_knee",),
    "right_knee": ("right_knee",),
    "pelvis": ("pelvis",),
    "back": ("torso",),
    "head": ("head",),
}

_LIMB = dict(on_mps=0.35, off_mps=0.7)
_TRUNK = dict(on_mps=0.5, off_mps=1.0)

#: Thresholds per part kind (the part name without its side).
PART_THRESHOLDS: dict[str, PartThresholds] = {
    "foot": PartThresholds(on_m=0.05, off_m=0.08, raised=True, **_LIMB),
    "hand": PartThresholds(on_m=0.06, off_m=0.09, **_LIMB),
    "elbow": PartThresholds(on_m=0.08, off_m=0.11, **_LIMB),
    "knee": PartThresholds(on_m=0.10, off_m=0.13, **_LIMB),
    "pelvis": PartThresholds(on_m=0.14, off_m=0.17, **_TRUNK),
    "back": PartThresholds(on_m=0.18, off_m=0.22, **_TRUNK),
    "head": PartThresholds(on_m=0.14, off_m=0.17, **_TRUNK),
}

#: Percentile of a foot point's heights taken as its planted level (as ``foot_contacts``).
_FLOOR_PERCENTILE = 5.0
#: A still run this long (s) makes a raised support.
_STILL_S = 0.25
#: Contact spans shorter than this (s) are dropped.
_MIN_SPAN_S = 0.05


def _part_kind(part: str) -> str:
    return part.split("_", 1)[1] if part.startswith(("left_", "right_")) else part


@dataclass(frozen=True)
class BodyContacts:
    """Per-frame contact of each body part with the floor (or a raised support).

    Parts always come in :data:`BODY_PARTS` order; a part whose keypoints the rig lacks is
    kept, never in contact (``present`` is False), so arrays line up across clips.
    """

    #: Part names, in :data:`BODY_PARTS` order.
    parts: tuple[str, ...]
    #: Canonical keypoints of each part (the ones the rig has; may be empty).
    part_keypoints: tuple[tuple[str, ...], ...]
    #: (P,) bool: the rig has at least one keypoint of the part.
    present: np.ndarray
    #: (T, P) bool contact labels (near the floor or a support, and still, with hysteresis).
    labels: np.ndarray
    #: (T, P) float32 support height (m, world z): the part's keypoint height at touchdown,
    #: held over each contact span; ``floor_z`` outside contact.
    support_height: np.ndarray
    #: (T, P) bool: on a raised support (a foot still above the floor), not on the floor.
    raised: np.ndarray
    #: Floor level of the clip (m, world z): the planted toe-joint level (module docstring).
    floor_z: float
    #: Frames per second of the labels.
    fps: float
    #: Factor the thresholds were multiplied by (the body's leg length over 0.83 m).
    scale: float = 1.0

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.labels.shape[0])

    def part_index(self, part: str) -> int:
        """Column of ``part`` in the ``(T, P)`` arrays; ``KeyError`` naming the parts."""
        try:
            return self.parts.index(part)
        except ValueError:
            raise KeyError(f"unknown body part {part!r}; expected one of {self.parts}") from None

    def spans(self, part: str) -> list[tuple[int, int]]:
        """Contact spans of ``part`` as ``[(start, end), ...]`` frames, ``end`` exclusive."""
        return _runs(self.labels[:, self.part_index(part)])

    def spans_by_part(self) -> dict[str, list[tuple[int, int]]]:
        """``{part: spans}`` for every part with at least one span."""
        out = {}
        for part in self.parts:
            s = self.spans(part)
            if s:
                out[part] = s
        return out

    @property
    def foot_contact(self) -> np.ndarray:
        """(T, 2) bool ``[left, right]`` foot contacts (the shape ``foot_contacts`` returns)."""
        cols = [self.part_index("left_foot"), self.part_index("right_foot")]
        return self.labels[:, cols]

    def describe(self) -> str:
        """One line per part in contact: ``part: start-end, ...`` (frames, end exclusive)."""
        spans = self.spans_by_part()
        if not spans:
            return "no contacts"
        return "; ".join(
            f"{part}: " + ", ".join(f"{a}-{b}" for a, b in s) for part, s in spans.items()
        )

    def as_metadata(self) -> dict[str, object]:
        """JSON-ready summary for an output's metadata: the floor, the rate, and per part in
        contact its spans ``[start, end, support_height_m, raised]`` (``end`` exclusive)."""
        spans: dict[str, list[list[object]]] = {}
        for part, runs in self.spans_by_part().items():
            p = self.part_index(part)
            spans[part] = [
                [a, b, round(float(self.support_height[a, p]), 4), bool(self.raised[a, p])]
                for a, b in runs
            ]
        return {"floor_z": round(self.floor_z, 4), "fps": self.fps, "spans": spans}

    def take(self, index: np.ndarray, fps: float | None = None) -> BodyContacts:
        """The labels at frames ``index`` (e.g. nearest frames of a resampled clip)."""
        index = np.asarray(index, np.int64)
        return BodyContacts(
            parts=self.parts,
            part_keypoints=self.part_keypoints,
            present=self.present,
            labels=self.labels[index],
            support_height=self.support_height[index],
            raised=self.raised[index],
            floor_z=self.floor_z,
            fps=self.fps if fps is None else float(fps),
            scale=self.scale,
        )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the True runs of a 1-D bool array, ``end`` exclusive."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _speed(points: np.ndarray, fps: float) -> np.ndarray:
    """(T,) speed (m/s) by central differences (one-sided at the ends)."""
    if points.shape[0] < 2:
        return np.zeros(points.shape[0])
    return np.linalg.norm(np.gradient(points, axis=0), axis=-1) * float(fps)


def _still_runs(slow: np.ndarray, min_frames: int) -> np.ndarray:
    """(T,) bool: frame is inside a run of ``slow`` frames at least ``min_frames`` long."""
    out = np.zeros_like(slow)
    for a, b in _runs(slow):
        if b - a >= min_frames:
            out[a:b] = True
    return out


def _point_contact(
    z: np.ndarray, level: float, speed: np.ndarray, th: PartThresholds, still_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One point's hysteresis: (labels, support height, raised) per frame (module docstring)."""
    T = z.shape[0]
    height = z - level
    slow = speed < th.on_mps
    still = _still_runs(slow, still_frames) if th.raised else np.zeros(T, bool)
    labels = np.zeros(T, bool)
    support = np.full(T, np.nan)
    raised = np.zeros(T, bool)
    on, on_raised, s = False, False, 0.0
    rise = th.off_m - th.on_m
    for t in range(T):
        if on:
            lifted = (z[t] - s > rise) if on_raised else (height[t] > th.off_m)
            if speed[t] > th.off_mps or lifted:
                on = False
        if not on and slow[t]:
            if height[t] < th.on_m:
                on, on_raised, s = True, False, float(z[t])
            elif still[t]:
                on, on_raised, s = True, True, float(z[t])
        labels[t] = on
        if on:
            support[t] = s
            raised[t] = on_raised
    return labels, support, raised


def detect_body_contacts(
    keypoints: np.ndarray,
    names: tuple[str, ...] | list[str],
    fps: float,
    *,
    floor_z: float | None = None,
    thresholds: dict[str, PartThresholds] | None = None,
    still_s: float = _STILL_S,
    min_span_s: float = _MIN_SPAN_S,
    scale: float | None = None,
) -> BodyContacts:
    """Contacts of every body part from canonical keypoints ``(T, K, 3)`` named ``names``.

    Args:
        keypoints: world positions (m, Z up) of the canonical keypoints ``names``.
        names: canonical keypoint names (see :data:`~retargetjax.keypoints.CANONICAL_KEYPOINTS`)
            of the columns; the feet need at least one ankle or toe.
        fps: frame rate of the clip.
        floor_z: floor level (m); by default the lowest planted foot-keypoint level.
        thresholds: per part kind (``foot``, ``hand``, ...), replacing
            :data:`PART_THRESHOLDS` entries.
        still_s: length (s) of a still run that makes a raised support (feet only).
        min_span_s: contact spans shorter than this (s) are dropped.
        scale: factor on every threshold in metres and m/s; by default
            :func:`~retargetjax.motion.body_scale` (leg length over 0.83 m), 1 to take them
            as given.

    Returns a :class:`BodyContacts`; the rules are in the module docstring.
    """
    pos = np.asarray(keypoints, np.float64)
    names = tuple(names)
    if pos.ndim != 3 or pos.shape[1:] != (len(names), 3):
        raise ValueError(
            f"keypoints: expected shape (T, {len(names)}, 3) for {len(names)} names, "
            f"got {pos.shape}"
        )
    th_all = dict(PART_THRESHOLDS)
    th_all.update(thresholds or {})
    if scale is None:
        scale = body_scale(pos, names)
    scale = float(scale)
    th_all = {
        k: th._replace(
            on_m=th.on_m * scale,
            off_m=th.off_m * scale,
            on_mps=th.on_mps * scale,
            off_mps=th.off_mps * scale,
        )
        for k, th in th_all.items()
    }
    T = pos.shape[0]
    col = {n: i for i, n in enumerate(names)}

    # Planted level of each foot point, sides pooled per part (both feet share a floor).
    foot_levels: dict[str, float] = {}
    for part in ("ankle", "toe"):
        cols = [col[f"{s}_{part}"] for s in ("left", "right") if f"{s}_{part}" in col]
        if cols:
            level = float(np.percentile(pos[:, cols, 2], _FLOOR_PERCENTILE))
            for s in ("left", "right"):
                foot_levels[f"{s}_{part}"] = level
    if floor_z is None:
        if not foot_levels:
            raise ValueError(f"no ankle or toe keypoint among {names}: cannot find the floor")
        floor_z = min(foot_levels.values())
    floor_z = float(floor_z)

    still_frames = max(2, round(still_s * fps))
    min_frames = max(1, round(min_span_s * fps))
    parts = tuple(BODY_PARTS)
    P = len(parts)
    labels = np.zeros((T, P), bool)
    support = np.full((T, P), floor_z, np.float64)
    raised = np.zeros((T, P), bool)
    part_kps = []
    present = np.zeros(P, bool)
    for p, part in enumerate(parts):
        th = th_all[_part_kind(part)]
        kps = tuple(k for k in BODY_PARTS[part] if k in col)
        part_kps.append(kps)
        present[p] = bool(kps)
        best = np.full(T, np.inf)
        any_raised = np.zeros(T, bool)
        for k in kps:
            z = pos[:, col[k], 2]
            level = foot_levels.get(k, floor_z) if _part_kind(part) == "foot" else floor_z
            lab, sup, rai = _point_contact(z, level, _speed(pos[:, col[k]], fps), th, still_frames)
            labels[:, p] |= lab
            lower = lab & (sup < best)
            best = np.where(lower, sup, best)
            any_raised = np.where(lower, rai, any_raised)
        for a, b in _runs(labels[:, p]):
            if b - a < min_frames:
                labels[a:b, p] = False
        on = labels[:, p]
        support[on, p] = best[on]
        raised[:, p] = any_raised & on
    return BodyContacts(
        parts=parts,
        part_keypoints=tuple(part_kps),
        present=present,
        labels=labels,
        support_height=support.astype(np.float32),
        raised=raised,
        floor_z=floor_z,
        fps=float(fps),
        scale=scale,
    )


def body_contacts(
    motion: HumanMotion, kp: KeypointMap | None = None, **options: object
) -> BodyContacts:
    """:func:`detect_body_contacts` on ``motion``'s canonical keypoints (``kp`` or mapped).

    ``options`` are passed on (``floor_z``, ``thresholds``, ``still_s``, ``min_span_s``,
    ``scale``).
    """
    kp = map_keypoints(motion, verbose=False) if kp is None else kp
    return detect_body_contacts(kp.positions(motion), kp.names, motion.fps, **options)  # type: ignore[arg-type]

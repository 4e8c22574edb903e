"""Foot contact labels and floor height, from foot keypoint heights and speeds."""

from __future__ import annotations

import itertools

import numpy as np

from ._human_motion import HumanMotion
from ._keypoint_map import KeypointMap, map_keypoints

__all__ = [
    "REFERENCE_LEG_LENGTH_M",
    "body_scale",
    "estimate_floor_height",
    "foot_contacts",
    "foot_point_heights",
]

#: Percentile of the foot heights taken as each foot point's planted level.
_FLOOR_PERCENTILE = 5.0
#: Leg length (m, hip to knee to ankle joint centres) of the adult the contact thresholds are
#: set for; the sample clips' performers measure 0.82-0.88 m.
REFERENCE_LEG_LENGTH_M = 0.83
#: A leg bone whose length spreads more than this (P90 - P10 over its median) is no rigid
#: bone (keypoints placed by hand, a broken map), and measures nothing.
_RIGID_SPREAD = 0.2


def body_scale(keypoints: np.ndarray, names: tuple[str, ...] | list[str]) -> float:
    """The human's size relative to the reference adult: leg length / 0.83 m.

    Leg length is ``median_t |hip - knee| + median_t |knee - ankle|`` from canonical keypoints
    ``(T, K, 3)`` named ``names``, averaged over the sides whose two bones are rigid (their
    length spreads under 20 % over the clip). Contact thresholds in metres and m/s are
    multiplied by it, so the labels do not change when a clip is scaled uniformly (a unit read
    wrong, a child, a giant). 1.0 when no leg is measured.
    """
    pos = np.asarray(keypoints, np.float64)
    col = {n: i for i, n in enumerate(names)}
    legs = []
    for side in ("left", "right"):
        chain = [f"{side}_{j}" for j in ("hip", "knee", "ankle")]
        if not all(k in col for k in chain):
            continue
        total = 0.0
        for a, b in itertools.pairwise(chain):
            length = np.linalg.norm(pos[:, col[a]] - pos[:, col[b]], axis=-1)
            med = float(np.median(length))
            p10, p90 = np.percentile(length, [10, 90])
            if not (np.isfinite(med) and med > 0 and p90 - p10 <= _RIGID_SPREAD * med):
                break
            total += med
        else:
            legs.append(total)
    return float(np.mean(legs)) / REFERENCE_LEG_LENGTH_M if legs else 1.0


def _foot_points(kp: KeypointMap) -> list[tuple[int, str]]:
    """``[(side 0/1, keypoint)]`` for the ankle and toe keypoints present."""
    out = []
    for s, side in enumerate(("left", "right")):
        for part in ("ankle", "toe"):
            name = f"{side}_{part}"
            if name in kp.names:
                out.append((s, name))
    return out


def foot_point_heights(motion: HumanMotion, kp: KeypointMap) -> dict[str, float]:
    """Planted height (m, world Z) of each foot keypoint: the 5th percentile of its height.

    Left and right of the same part are pooled (both feet stand on the same floor), so a clip
    where one foot never touches the ground still gets the floor from the other foot.
    """
    levels: dict[str, float] = {}
    for part in ("ankle", "toe"):
        cols = [
            kp.index(f"{side}_{part}") for side in ("left", "right") if f"{side}_{part}" in kp.names
        ]
        if not cols:
            continue
        z = kp.positions(motion)[:, cols, 2].reshape(-1)
        level = float(np.percentile(z, _FLOOR_PERCENTILE))
        for side in ("left", "right"):
            if f"{side}_{part}" in kp.names:
                levels[f"{side}_{part}"] = level
    return levels


def estimate_floor_height(motion: HumanMotion, kp: KeypointMap | None = None) -> float:
    """Floor height (m, world Z) under the clip: the lowest planted foot-keypoint level.

    ``floor = min_k P5(z_k)`` over the foot keypoints ``k`` (ankles and toes, sides pooled per
    part): the 5th percentile ignores a few noisy frames below the floor, and the lowest
    joint is the one nearest the sole. It is the height of that joint when planted, so it sits
    a few centimetres above the true ground (the joint's height above the sole).
    """
    kp = map_keypoints(motion, verbose=False) if kp is None else kp
    levels = foot_point_heights(motion, kp)
    return float(min(levels.values()))


def foot_contacts(
    motion: HumanMotion,
    kp: KeypointMap | None = None,
    *,
    height_on_m: float = 0.05,
    height_off_m: float = 0.08,
    speed_on_mps: float = 0.35,
    speed_off_mps: float = 0.7,
    scale: float | None = None,
) -> np.ndarray:
    """Per-frame contact labels (T, 2) bool, ``[left, right]``, with hysteresis.

    For each foot point ``k`` (ankle and toe) let ``h_k(t) = z_k(t) - level_k`` be its height
    above its own planted level (:func:`foot_point_heights`, so a floor at any height works)
    and ``v_k(t) = |p_k(t+1) - p_k(t-1)| · fps / 2`` its speed (central differences). A point
    *enters* contact when ``h < height_on_m`` and ``v < speed_on_mps`` and *leaves* it when
    ``h > height_off_m`` or ``v > speed_off_mps``. A foot is in contact when its heel (ankle)
    or its toe is: the heel carries the foot at heel strike, the toe at push-off.

    The four thresholds are for an adult with 0.83 m legs (:data:`REFERENCE_LEG_LENGTH_M`);
    each is multiplied by ``scale``, by default :func:`body_scale` (the clip's leg length
    over 0.83 m), so a uniformly scaled clip gets the same labels. ``scale=1`` takes them
    as given.
    """
    kp = map_keypoints(motion, verbose=False) if kp is None else kp
    T = motion.num_frames
    levels = foot_point_heights(motion, kp)
    pos = kp.positions(motion).astype(np.float64)
    if scale is None:
        scale = body_scale(pos, kp.names)
    height_on_m, height_off_m = height_on_m * scale, height_off_m * scale
    speed_on_mps, speed_off_mps = speed_on_mps * scale, speed_off_mps * scale
    contacts = np.zeros((T, 2), dtype=bool)
    for side, name in _foot_points(kp):
        p = pos[:, kp.index(name)]
        if T > 1:
            vel = np.gradient(p, axis=0) * motion.fps
            speed = np.linalg.norm(vel, axis=-1)
        else:
            speed = np.zeros(T)
        height = p[:, 2] - levels[name]
        enter = (height < height_on_m) & (speed < speed_on_mps)
        leave = (height > height_off_m) | (speed > speed_off_mps)
        state = np.zeros(T, dtype=bool)
        on = bool(enter[0])
        for t in range(T):
            if on and leave[t]:
                on = False
            elif not on and enter[t]:
                on = True
            state[t] = on
        contacts[:, side] |= state
    return contacts

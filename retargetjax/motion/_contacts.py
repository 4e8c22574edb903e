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
    "fit_floor_plane",
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


def fit_floor_plane(
    ankles: np.ndarray,
    fps: float,
    *,
    speed_mps: float = 0.3,
    inlier_m: float = 0.025,
    max_tilt_deg: float = 20.0,
    seed: int = 0,
) -> np.ndarray | None:
    """Unit normal (3,) of the floor the planted ankles stand on, or ``None`` if unsure.

    ``ankles`` (T, A, 3) in metres, Z up (roughly). Samples are the ankle positions moving
    slower than ``speed_mps`` (speeds from a 5-frame moving average, so ~1 cm jitter does not
    hide a planted foot). A plane through three samples is scored by the samples within
    ``inlier_m`` of it (RANSAC over 256 triples, normals within ``max_tilt_deg`` of Z, and at
    most 5 % of the samples below it: the floor is the lowest plane most planted samples
    share, not a slope through the edges of steps or boxes); the best one is refitted by least
    squares on its inliers. It is returned only when it is clearly the one floor: it holds
    80 % of the samples (feet on steps, boxes or a lying body's ankles do not share one
    plane) and 1.5 times as many as the level plane at the lowest planted height. ``None``
    also when under 20 samples agree or they do not span
    5 cm (standard deviation) in a second direction (feet that never move fix no slope).
    """
    p = np.asarray(ankles, np.float64).reshape(len(ankles), -1, 3)
    T = p.shape[0]
    if T < 5:
        return None
    padded = np.pad(p, ((2, 2), (0, 0), (0, 0)), mode="edge")
    smooth = sum(padded[i : i + T] for i in range(5)) / 5.0
    speed = np.linalg.norm(np.gradient(smooth, axis=0), axis=-1) * fps
    pts = smooth[speed < speed_mps]
    if len(pts) < 20:
        return None
    rng = np.random.default_rng(seed)
    cos_max = np.cos(np.deg2rad(max_tilt_deg))
    best, best_count = None, 0
    for _ in range(256):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n)
        if norm < 1e-6:
            continue
        n = n / norm * np.sign(n[2] or 1.0)
        if n[2] < cos_max:
            continue
        h = (pts - a) @ n
        if np.mean(h < -inlier_m) > 0.05:  # a floor has (almost) nothing planted below it
            continue
        count = int(np.sum(np.abs(h) < inlier_m))
        if count > best_count:
            best, best_count = (n, a), count
    if best is None or best_count < 20:
        return None
    n, a = best
    inliers = pts[np.abs((pts - a) @ n) < inlier_m]
    centred = inliers - inliers.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    if s[1] / np.sqrt(len(inliers)) < 0.05:  # std across the second direction
        return None
    normal = vt[2] * np.sign(vt[2, 2] or 1.0)
    # The level floor's share: the samples within inlier_m of the lowest level (5 % below).
    z = np.sort(pts[:, 2])
    level_count = int(np.sum(np.abs(pts[:, 2] - z[int(0.05 * len(z))] - inlier_m) < inlier_m))
    if best_count < 0.8 * len(pts) or best_count < 1.5 * level_count:
        return None
    return normal if normal[2] >= cos_max else None

"""Contacts in the targets: which part of each foot is down, planted feet and body parts
held still (contact locking), each body part's contact weight and support height, and the
least height of each robot keypoint above a floor (:func:`keypoint_clearance`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..robot import RobotModel
from ._errors import RetargetError

__all__ = ["PART_LIFT_M", "PART_RAMP_FRAMES", "ROLLING_PARTS", "keypoint_clearance"]


_FOOT_KEYS = (("left_ankle", "left_toe"), ("right_ankle", "right_toe"))


def _contact_runs(contact: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the runs of True in a boolean vector."""
    padded = np.concatenate([[False], contact, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def keypoint_clearance(robot: RobotModel) -> np.ndarray:
    """(K,) m: the least height of each robot keypoint above a floor its body rests on.

    A keypoint ``p`` at distance ``δ`` from the axis of a capsule of radius ``ρ`` on its own
    body has the ball of radius ``ρ − δ`` around it inside the capsule, so with that capsule
    above ``z = 0``, ``p_z ≥ ρ − δ``; the clearance is the largest such bound over the
    body's capsules (0 for a keypoint outside them all). A target below it would pull the
    body into the floor: targets are lifted to it (a hand the human plants on the floor, whose
    scaled target lands under the robot's floor, touches the floor instead).
    """
    out = np.zeros(len(robot.keypoint_names), np.float64)
    bodies = np.asarray(robot.capsule_body)
    p0, p1 = np.asarray(robot.capsule_p0, np.float64), np.asarray(robot.capsule_p1, np.float64)
    radius = np.asarray(robot.capsule_radius, np.float64)
    offsets = np.asarray(robot.keypoint_offset, np.float64)
    for k, b in enumerate(np.asarray(robot.keypoint_body)):
        for c in np.flatnonzero(bodies == b):
            ab = p1[c] - p0[c]
            s = np.clip(np.dot(offsets[k] - p0[c], ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0)
            depth = radius[c] - np.linalg.norm(offsets[k] - (p0[c] + s * ab))
            out[k] = max(out[k], depth)
    return out


#: Parts that roll on the floor while in contact (their targets are not locked in place).
ROLLING_PARTS = ("pelvis", "back", "head")
#: Frames over which a body part's contact weight ramps in and out (each side of an edge).
PART_RAMP_FRAMES = 2


def _part_contacts(
    body_contacts: Any,
    T: int,
    s_root: float,
    X: np.ndarray,
    idx: dict[str, int],
    clearance: dict[str, float],
    lock: bool,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Contacts of the parts of :data:`~retargetjax.retarget._problem.CONTACT_PARTS`.

    Returns ``(c, h, down)``: ``c`` (T, B) the contact weight, the label smoothed by a box
    of ``2R + 1`` frames (``R =`` :data:`PART_RAMP_FRAMES`), so it ramps over the label's
    edges instead of jumping; ``h`` (T, B) the support height in the robot's frame,
    ``s_root · (s − floor_z)`` on a raised support, 0 on the floor (the solver's floor is
    the clip's floor mapped to z = 0); ``down`` the (T,) contact label of each keypoint of a
    planted part. With ``lock``, the keypoint targets of a planted limb (not of the
    :data:`ROLLING_PARTS`, which roll over the floor) are held at their
    mean position over the span, shifted up or down together so that the lowest of them
    stands its clearance (:func:`keypoint_clearance`) above the support: the part touches
    it, neither under nor above; blended in and out like a foot's.
    """
    from ._problem import CONTACT_PARTS

    B = len(CONTACT_PARTS)
    c = np.zeros((T, B), np.float32)
    h = np.zeros((T, B), np.float32)
    down: dict[str, np.ndarray] = {}
    if body_contacts is None:
        return c, h, down
    if body_contacts.num_frames != T:
        raise RetargetError(f"body contacts have {body_contacts.num_frames} frames, the clip {T}")
    box = np.ones(2 * PART_RAMP_FRAMES + 1) / (2 * PART_RAMP_FRAMES + 1)
    for b, part in enumerate(CONTACT_PARTS):
        if part not in body_contacts.parts:
            continue
        p = body_contacts.part_index(part)
        label = np.asarray(body_contacts.labels[:, p], bool)
        if not label.any():
            continue
        c[:, b] = np.convolve(label.astype(np.float64), box, mode="same")
        raised = np.asarray(body_contacts.raised[:, p], bool) & label
        lift = s_root * (np.asarray(body_contacts.support_height[:, p]) - body_contacts.floor_z)
        h[:, b] = np.where(raised, np.maximum(lift, 0.0), 0.0)
        keys = [k for k in body_contacts.part_keypoints[p] if k in idx]
        for key in keys:
            down[key] = label.astype(np.float32)
        if not (lock and keys) or part in ROLLING_PARTS:
            continue
        cols = [idx[k] for k in keys]
        for start, stop in _contact_runs(label):
            run = np.zeros(T, bool)
            run[start:stop] = True
            # Mean heights over the span, shifted together so that the lowest keypoint
            # (by its clearance) touches the support: a hand on the floor keeps its wrist
            # above it.
            z = X[start:stop][:, cols, 2].mean(axis=0)
            shift = float(h[start, b]) - min(z[i] - clearance[k] for i, k in enumerate(keys))
            _lock_feet(X, run, cols, [float(zi + shift) for zi in z])
    return c, h, down


#: How far (m) above its planted height a human heel or toe may be and still count as down.
PART_LIFT_M = 0.02


def _foot_parts_down(P: np.ndarray, idx: dict[str, int], contact: np.ndarray) -> np.ndarray:
    """(T, 2, 2) booleans: for each foot in contact, is its toe (0) / heel (1) down?

    A part is down while the foot is in contact and the part's keypoint (toe; ankle for the
    heel) is within :data:`PART_LIFT_M` of its planted height (the 20th percentile of its
    height over the contact frames). A contact frame where neither qualifies counts both.
    """
    T = P.shape[0]
    out = np.zeros((T, 2, 2), bool)
    for side, (ankle, toe) in enumerate(_FOOT_KEYS):
        c = contact[:, side]
        parts = []
        for key in (toe, ankle):
            flag = c.copy()
            if key in idx and c.any():
                z = P[:, idx[key], 2]
                flag &= z < np.percentile(z[c], 20) + PART_LIFT_M
            parts.append(flag)
        neither = c & ~parts[0] & ~parts[1]
        out[:, side, 0] = parts[0] | neither
        out[:, side, 1] = parts[1] | neither
    return out


def _sole_is_toe(robot: RobotModel) -> np.ndarray:
    """(2, P) True for the sole points in front of their foot's sole centre (toe side)."""
    sole = np.asarray(robot.sole_points)
    return sole[..., 0] > sole[..., 0].mean(axis=-1, keepdims=True)


def _lock_feet(
    X: np.ndarray, contact: np.ndarray, cols: list[int], heights: list[float], blend: int = 3
) -> None:
    """Hold the foot targets ``cols`` still (mean xy, rest height) in each contact run."""
    T = X.shape[0]
    for start, stop in _contact_runs(contact):
        for c, h in zip(cols, heights):
            anchor = np.empty(3)
            anchor[:2] = X[start:stop, c, :2].mean(axis=0)
            anchor[2] = h
            X[start:stop, c] = anchor
            # Blend the free targets towards the anchor just outside the run.
            for k in range(1, blend + 1):
                a = 1.0 - k / (blend + 1)
                for t in (start - k, stop - 1 + k):
                    if 0 <= t < T and not contact[t]:
                        X[t, c] = a * anchor + (1 - a) * X[t, c]

"""Joint position and velocity limit violations."""

from __future__ import annotations

import numpy as np

from ..types import NDArray

__all__ = ["LIMIT_TOLERANCE_RAD", "joint_limit_metrics", "joint_speed"]

#: A joint counts as outside its range only beyond this margin (rad or m): float32 round-off
#: of a solution clamped exactly onto a limit is not a violation.
LIMIT_TOLERANCE_RAD = 1e-6


def joint_speed(joint_pos: NDArray, fps: float) -> NDArray:
    """(T, N) joint speeds ``|q̇|`` (rad/s): central differences, one-sided at the ends.

    ``q̇_t = (q_{t+1} − q_{t−1}) · fps / 2`` inside, ``(q_1 − q_0)·fps`` and
    ``(q_{T−1} − q_{T−2})·fps`` at the ends (the same derivative as ``RobotMotion.joint_vel``);
    a single frame has zero speed.
    """
    q = np.asarray(joint_pos, np.float64)
    if q.shape[0] < 2:
        return np.zeros_like(q)
    return np.abs(np.gradient(q, axis=0)) * float(fps)


def joint_limit_metrics(
    joint_pos: NDArray,
    joint_lower: NDArray,
    joint_upper: NDArray,
    fps: float,
    velocity_limit: NDArray | None = None,
) -> dict[str, float]:
    """Position and velocity limit metrics of a clip.

    With ``q`` (T, N), limits ``l, u`` (N,) and the excess
    ``e_tj = max(l_j − q_tj, q_tj − u_j, 0)``:

    - ``joint_limit_violations``: ``#{(t, j) : e_tj > 1e-6}`` (count of frame-joint entries);
    - ``joint_limit_worst_rad``: ``max_tj e_tj`` (0 when none; rad, or m for slide joints).

    With speeds ``v_tj = |q̇_tj|`` (:func:`joint_speed`) and limits ``v̄_j`` (+inf = unknown):

    - ``joint_velocity_violations``: ``#{(t, j) : v_tj > v̄_j}``;
    - ``joint_velocity_within_limit_frac``: fraction of frames with ``v_tj ≤ v̄_j`` for all ``j``;
    - ``joint_velocity_worst_ratio``: ``max_tj v_tj / v̄_j`` over joints with a finite limit
      (0 when no joint has one; > 1 means a violation);
    - ``joint_speed_max_rad_s``: ``max_tj v_tj`` (reported whatever the limits).
    """
    q = np.asarray(joint_pos, np.float64)
    lower = np.asarray(joint_lower, np.float64)
    upper = np.asarray(joint_upper, np.float64)
    excess = np.maximum(np.maximum(lower - q, q - upper), 0.0)
    speed = joint_speed(q, fps)
    if velocity_limit is None:
        vmax = np.full(q.shape[1], np.inf)
    else:
        vmax = np.asarray(velocity_limit, np.float64)
    finite = np.isfinite(vmax) & (vmax > 0)
    over = speed > vmax
    ratio = speed[:, finite] / vmax[finite] if finite.any() else np.zeros((q.shape[0], 0))
    return {
        "joint_limit_violations": float(np.sum(excess > LIMIT_TOLERANCE_RAD)),
        "joint_limit_worst_rad": float(excess.max(initial=0.0)),
        "joint_velocity_violations": float(np.sum(over)),
        "joint_velocity_within_limit_frac": float(np.mean(~over.any(axis=1))),
        "joint_velocity_worst_ratio": float(ratio.max(initial=0.0)),
        "joint_speed_max_rad_s": float(speed.max(initial=0.0)),
    }

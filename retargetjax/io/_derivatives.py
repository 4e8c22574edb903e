"""Velocities of sampled trajectories: finite differences in time.

Both functions take a trajectory sampled at ``fps`` frames per second along axis 0 and return
an array of the same leading shape, in units per second. A single frame has zero velocity.
"""

from __future__ import annotations

import numpy as np

from ..types import NDArray
from ._rowwise import world_increment_rows

__all__ = ["angular_velocity_world", "finite_difference"]


def finite_difference(values: NDArray, fps: float) -> NDArray:
    """Time derivative of ``values`` (T, ...) sampled at ``fps``.

    Central differences inside, one-sided at the ends:

    ``v_t = (x_{t+1} - x_{t-1}) · fps / 2`` for ``0 < t < T-1``,
    ``v_0 = (x_1 - x_0) · fps``, ``v_{T-1} = (x_{T-1} - x_{T-2}) · fps``.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.shape[0] < 2:
        return np.zeros_like(values)
    return (np.gradient(values, axis=0) * np.float32(fps)).astype(np.float32)


def angular_velocity_world(quat_wxyz: NDArray, fps: float) -> NDArray:
    """World-frame angular velocity (rad/s, (T, ..., 3)) of orientations (T, ..., 4) ``wxyz``.

    The rotation from frame ``t`` to ``t+1`` expressed in the world frame is
    ``Δ_t = q_{t+1} ⊗ q_t^{-1}``; its rotation vector ``d_t = log(Δ_t) = 2·log_quat(Δ_t)``
    (angle θ times unit axis, shortest arc, so a sign flip of ``q`` between frames is harmless)
    divided by the frame period is the mean angular velocity over that step. (Equivalently
    ``R(q_t) · 2·log_quat(q_t^{-1} q_{t+1})``: the body-frame increment rotated into the
    world.) As for :func:`finite_difference`, interior frames use the central mean
    ``ω_t = (d_{t-1} + d_t) · fps / 2`` and the ends the one-sided step. Exact for a constant
    angular velocity below π·fps rad/s.
    """
    quat = np.asarray(quat_wxyz, dtype=np.float32)
    if quat.shape[0] < 2:
        return np.zeros((*quat.shape[:-1], 3), dtype=np.float32)
    quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True).clip(min=1e-12)
    delta = world_increment_rows(quat[:-1], quat[1:])
    omega = np.empty((*quat.shape[:-1], 3), dtype=np.float32)
    omega[0] = delta[0]
    omega[-1] = delta[-1]
    omega[1:-1] = 0.5 * (delta[:-1] + delta[1:])
    return omega * np.float32(fps)

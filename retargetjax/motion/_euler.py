"""Euler-angle rotation matrices in numpy, for BVH channels (float64, batched).

BVH rotation channels are intrinsic: channels ``Zrotation Xrotation Yrotation`` with angles
``(z, x, y)`` give ``R = Rz(z) · Rx(x) · Ry(y)``. These helpers stay in numpy (not the JAX
geometry package) because the BVH reader must turn millions of angles into matrices in a
fraction of a second without compiling anything.
"""

from __future__ import annotations

import numpy as np

__all__ = ["axis_rotation_matrices", "euler_matrices", "matrices_to_euler"]

_AXIS = {"X": 0, "Y": 1, "Z": 2}


def axis_rotation_matrices(angle_rad: np.ndarray, axis: str) -> np.ndarray:
    """Rotation matrices (..., 3, 3) by ``angle_rad`` (...) about the ``axis`` (X, Y or Z)."""
    c = np.cos(angle_rad)
    s = np.sin(angle_rad)
    R = np.zeros((*np.shape(angle_rad), 3, 3), dtype=np.result_type(angle_rad, np.float32))
    a = _AXIS[axis.upper()]
    b, d = (a + 1) % 3, (a + 2) % 3
    R[..., a, a] = 1.0
    R[..., b, b] = c
    R[..., d, d] = c
    R[..., b, d] = -s
    R[..., d, b] = s
    return R


def euler_matrices(angles_rad: np.ndarray, axes: str) -> np.ndarray:
    """``R = R_{axes[0]}(a_0) · R_{axes[1]}(a_1) · …`` for angles (..., len(axes)).

    Any number of axes (0 to 3, repeats allowed) is accepted, as BVH files may hold any subset
    of the rotation channels in any order.
    """
    shape = np.shape(angles_rad)[:-1]
    R = np.broadcast_to(np.eye(3), (*shape, 3, 3)).copy()
    for i, axis in enumerate(axes):
        R = R @ axis_rotation_matrices(angles_rad[..., i], axis)
    return R


def matrices_to_euler(R: np.ndarray, axes: str) -> np.ndarray:
    """Angles (..., 3) in rad with ``euler_matrices(angles, axes) == R``, for three distinct axes.

    For ``R = R_i(α) R_j(β) R_k(γ)`` with ``(i, j, k)`` a permutation of the axes and parity
    ``s = +1`` for an even permutation of (x, y, z), ``-1`` otherwise:
    ``β = asin(s R[i, k])``, ``α = atan2(-s R[j, k], R[k, k])``,
    ``γ = atan2(-s R[i, j], R[i, i])``. At gimbal lock (``cos β ≈ 0``) ``γ = 0`` and
    ``α = atan2(s R[k, j], R[j, j])``.
    """
    axes = axes.upper()
    if len(axes) != 3 or sorted(axes) != ["X", "Y", "Z"]:
        raise ValueError(f"rotation order must be three distinct axes, got {axes!r}")
    i, j, k = (_AXIS[a] for a in axes)
    s = 1.0 if (j - i) % 3 == 1 else -1.0
    sin_b = np.clip(s * R[..., i, k], -1.0, 1.0)
    beta = np.arcsin(sin_b)
    alpha = np.arctan2(-s * R[..., j, k], R[..., k, k])
    gamma = np.arctan2(-s * R[..., i, j], R[..., i, i])
    locked = np.abs(sin_b) > 1.0 - 1e-9
    if np.any(locked):
        alpha = np.where(locked, np.arctan2(s * R[..., k, j], R[..., j, j]), alpha)
        gamma = np.where(locked, 0.0, gamma)
    return np.stack([alpha, beta, gamma], axis=-1)

"""Evaluate the JAX geometry functions on numpy arrays with few compilations.

Files hold clips of any length; calling the (eager) JAX quaternion functions on each new shape
would compile every primitive again. Instead the arrays are flattened to rows, padded with a
harmless fill row (identity quaternion, zero vector) to a power-of-two bucket, and passed to
one jitted function: a handful of compilations serve every clip length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np

from .._buckets import pad_to_bucket
from ..geometry import mat_to_quat, quat_conj, quat_log, quat_mul, quat_rotate, quat_slerp
from ..types import NDArray

__all__ = ["rot_to_quat_rows", "rotate_rows", "slerp_rows", "world_increment_rows"]

_MIN_BUCKET = 64
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)


def _apply(
    fn: Callable, lead: tuple[int, ...], arrays: Sequence[NDArray], fills: Sequence[NDArray]
) -> NDArray:
    """``fn(*rows)`` over the leading dims ``lead`` of ``arrays``, padded with ``fills``."""
    num_rows = int(np.prod(lead, dtype=np.int64))
    rows = []
    for array, fill in zip(arrays, fills):
        flat = np.asarray(array, dtype=np.float32).reshape(num_rows, *array.shape[len(lead) :])
        rows.append(pad_to_bucket(flat, _MIN_BUCKET, fill))
    out = np.asarray(fn(*rows))[:num_rows]
    return out.reshape(*lead, *out.shape[1:]).astype(np.float32)


_world_increment = jax.jit(lambda q0, q1: quat_log(quat_mul(q1, quat_conj(q0))))
_slerp = jax.jit(lambda a, b, t: quat_slerp(a, b, t[:, 0]))
_rotate = jax.jit(quat_rotate)
_mat_to_quat = jax.jit(mat_to_quat)


def world_increment_rows(q_from: NDArray, q_to: NDArray) -> NDArray:
    """Rotation vectors ``log(q_to ⊗ q_from^{-1})`` (..., 3) of ``wxyz`` quaternions (..., 4)."""
    return _apply(_world_increment, q_from.shape[:-1], [q_from, q_to], [_IDENTITY, _IDENTITY])


def slerp_rows(a: NDArray, b: NDArray, t: NDArray) -> NDArray:
    """:func:`retargetjax.geometry.quat_slerp` of (..., 4) quaternions at ``t`` (...)."""
    t = np.broadcast_to(np.asarray(t, dtype=np.float32), a.shape[:-1])[..., None]
    return _apply(_slerp, a.shape[:-1], [a, b, t], [_IDENTITY, _IDENTITY, np.zeros(1)])


def rotate_rows(quat: NDArray, vec: NDArray) -> NDArray:
    """:func:`retargetjax.geometry.quat_rotate` of vectors (..., 3) by quaternions (..., 4)."""
    quat = np.broadcast_to(quat, (*vec.shape[:-1], 4))
    return _apply(_rotate, vec.shape[:-1], [quat, vec], [_IDENTITY, np.zeros(3)])


def rot_to_quat_rows(rot: NDArray) -> NDArray:
    """:func:`retargetjax.geometry.mat_to_quat` of rotation matrices (..., 3, 3)."""
    return _apply(_mat_to_quat, rot.shape[:-2], [rot], [np.eye(3)])

"""numpy front-ends to the quaternion functions of :mod:`retargetjax.geometry`.

Loaders handle clips of any length; calling the JAX functions eagerly would compile every
primitive again for each new shape. These wrappers flatten the batch, pad it to a power of two
(at least 256) and call one jitted function, so a whole session compiles a handful of times.

The one exception is :func:`mat_to_quat_np`, written in numpy: the BVH reader converts every
joint of every frame (millions of matrices for a 10-minute clip), where the jitted JAX version
costs seconds on a CPU. It follows the same method and sign convention as
:func:`retargetjax.geometry.mat_to_quat` and is tested against it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "mat_to_quat_np",
    "quat_rotate_np",
    "quat_slerp_np",
    "quat_to_mat_np",
    "rotvec_to_mat_np",
]


@cache
def _jitted(name: str):
    import jax

    from .. import geometry

    return jax.jit(getattr(geometry, name))


def _bucket(n: int) -> int:
    return max(256, 1 << max(0, int(n - 1).bit_length()))


def _call(
    name: str, args: list[np.ndarray], item_ndims: list[int], out_item_shape: tuple[int, ...]
):
    batch = np.broadcast_shapes(*(a.shape[: a.ndim - k] for a, k in zip(args, item_ndims)))
    n = int(np.prod(batch, dtype=np.int64))
    if n == 0:
        return np.zeros((*batch, *out_item_shape), np.float32)
    size = _bucket(n)
    flat = []
    for a, k in zip(args, item_ndims):
        item = a.shape[a.ndim - k :]
        f = np.broadcast_to(a, (*batch, *item)).reshape(n, *item).astype(np.float32)
        pad = np.zeros((size - n, *item), np.float32)
        if k >= 1 and item == (4,):
            pad[:, 0] = 1.0  # identity quaternions in the padding
        elif k == 2:
            pad[:] = np.eye(3, dtype=np.float32)
        flat.append(np.concatenate([f, pad]) if size > n else f)
    out = np.asarray(_jitted(name)(*flat))[:n]
    return out.reshape(*batch, *out_item_shape)


def mat_to_quat_np(R: np.ndarray) -> np.ndarray:
    """Unit quaternions ``wxyz`` (..., 4) float32, ``w >= 0``, of rotation matrices (..., 3, 3).

    Shepperd's method: with ``t = tr R``, the largest of ``(t, R00, R11, R22)`` picks which
    component ``c`` is recovered from a square root, ``|q_c| = ½ √(1 + 2 R_cc − t)`` (``c = w``:
    ``½ √(1 + t)``), and the others from the off-diagonal sums and differences divided by
    ``4 q_c``; that root is never below ½, so nothing divides by zero.
    """
    R = np.asarray(R, dtype=np.float32)
    shape = R.shape[:-2]
    R = R.reshape(-1, 3, 3)
    m00, m11, m22 = R[:, 0, 0], R[:, 1, 1], R[:, 2, 2]
    tr = m00 + m11 + m22
    d21, d02, d10 = R[:, 2, 1] - R[:, 1, 2], R[:, 0, 2] - R[:, 2, 0], R[:, 1, 0] - R[:, 0, 1]
    s01, s02, s12 = R[:, 0, 1] + R[:, 1, 0], R[:, 0, 2] + R[:, 2, 0], R[:, 1, 2] + R[:, 2, 1]
    choice = np.argmax(np.stack([tr, m00, m11, m22], axis=-1), axis=-1)
    q = np.empty((R.shape[0], 4), dtype=np.float32)
    for c in range(4):
        idx = np.flatnonzero(choice == c)
        if idx.size == 0:
            continue
        diag = (tr, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22)[c]
        base = 1.0 + diag[idx] if c == 0 else diag[idx]
        s = np.sqrt(np.maximum(base, 1e-12)) * 2.0  # s = 4 |q_c|
        rows = {
            0: (0.25 * s, d21[idx] / s, d02[idx] / s, d10[idx] / s),
            1: (d21[idx] / s, 0.25 * s, s01[idx] / s, s02[idx] / s),
            2: (d02[idx] / s, s01[idx] / s, 0.25 * s, s12[idx] / s),
            3: (d10[idx] / s, s02[idx] / s, s12[idx] / s, 0.25 * s),
        }[c]
        q[idx] = np.stack(rows, axis=-1)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0).astype(np.float32)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return q.reshape(*shape, 4)


def quat_to_mat_np(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) float32 of unit quaternions ``wxyz`` (..., 4)."""
    return _call("quat_to_mat", [np.asarray(q)], [1], (3, 3))


def quat_rotate_np(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectors ``v`` (..., 3) rotated by quaternions ``q`` (..., 4), float32."""
    return _call("quat_rotate", [np.asarray(q), np.asarray(v)], [1, 1], (3,))


def quat_slerp_np(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Slerp from ``a`` to ``b`` (..., 4) at fractions ``t`` (...), float32."""
    t = np.asarray(t, np.float32)[..., None]
    return _call("quat_slerp", [np.asarray(a), np.asarray(b), t], [1, 1, 1], (4,))


def rotvec_to_mat_np(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) float32 of rotation vectors (..., 3) (Rodrigues)."""
    return _call("rotvec_to_mat", [np.asarray(rotvec)], [1], (3, 3))

"""Host-side rotation helpers (numpy in, numpy out) on scipy's ``Rotation``.

Same convention as the JAX functions of this package (``wxyz``, active rotation, ``R`` maps
body-frame vectors to the world); scipy's quaternions are ``xyzw``, converted here only.
Loaders and parsers call these on clips of any length without compiling anything (the JAX
set is for code inside ``jit``). Results are float64 for float64 input, else float32; a
zero quaternion reads as the identity.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    "mat_to_quat_np",
    "quat_rotate_np",
    "quat_slerp_np",
    "quat_to_mat_np",
    "rotvec_to_mat_np",
]


def _dtype(*arrays: np.ndarray) -> np.dtype:
    return np.dtype(np.float64 if any(a.dtype == np.float64 for a in arrays) else np.float32)


def _rotations(quat_wxyz: np.ndarray) -> Rotation:
    """scipy rotations of ``wxyz`` quaternions (n, 4); zero rows become the identity."""
    q = np.array(quat_wxyz, np.float64).reshape(-1, 4)  # a writable copy (scipy needs one)
    zero = np.linalg.norm(q, axis=-1) < 1e-12
    q = np.where(zero[:, None], np.array([1.0, 0.0, 0.0, 0.0]), q)
    return Rotation.from_quat(q[:, [1, 2, 3, 0]])


def _wxyz(rotations: Rotation) -> np.ndarray:
    """``wxyz`` quaternions (n, 4) of scipy rotations, ``w ≥ 0``."""
    q = rotations.as_quat().reshape(-1, 4)[:, [3, 0, 1, 2]]
    return q * np.where(q[:, :1] < 0, -1.0, 1.0)


def quat_to_mat_np(quat_wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of (not necessarily unit) ``wxyz`` quaternions (..., 4)."""
    q = np.asarray(quat_wxyz)
    if q.size == 0:
        return np.zeros((*q.shape[:-1], 3, 3), _dtype(q))
    return _rotations(q).as_matrix().reshape(*q.shape[:-1], 3, 3).astype(_dtype(q))


def mat_to_quat_np(R: np.ndarray) -> np.ndarray:
    """Unit quaternions ``wxyz`` (..., 4) float32, ``w >= 0``, of rotation matrices (..., 3, 3).

    Written in numpy rather than on scipy: the BVH reader converts every joint of every frame
    (millions of matrices for a 10-minute clip), where this is ~1.4× faster than
    ``Rotation.from_matrix``. Same method and sign convention as
    :func:`retargetjax.geometry.mat_to_quat`.

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


def rotvec_to_mat_np(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of rotation vectors (..., 3) (axis × angle, rad)."""
    v = np.asarray(rotvec)
    if v.size == 0:
        return np.zeros((*v.shape[:-1], 3, 3), _dtype(v))
    R = Rotation.from_rotvec(np.array(v, np.float64).reshape(-1, 3)).as_matrix()
    return R.reshape(*v.shape[:-1], 3, 3).astype(_dtype(v))


def quat_rotate_np(quat_wxyz: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectors ``v`` (..., 3) rotated by ``wxyz`` quaternions (..., 4) (shapes broadcast)."""
    q, v = np.asarray(quat_wxyz), np.asarray(v)
    batch = np.broadcast_shapes(q.shape[:-1], v.shape[:-1])
    if int(np.prod(batch, dtype=np.int64)) == 0:
        return np.zeros((*batch, 3), _dtype(q, v))
    qb = np.broadcast_to(q, (*batch, 4))
    vb = np.array(np.broadcast_to(v, (*batch, 3)), np.float64).reshape(-1, 3)
    return _rotations(qb).apply(vb).reshape(*batch, 3).astype(_dtype(q, v))


def quat_slerp_np(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Slerp from ``a`` to ``b`` (``wxyz``, (..., 4)) at fractions ``t`` (...), along the
    shorter arc: ``a ⊗ exp(t · log(a⁻¹ ⊗ b))``, with the sign of ``a`` (so ``t = 0`` is
    ``a`` itself and a sequence of slerps stays sign-continuous)."""
    a, b, t = np.asarray(a), np.asarray(b), np.asarray(t)
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1], t.shape)
    if int(np.prod(batch, dtype=np.int64)) == 0:
        return np.zeros((*batch, 4), _dtype(a, b))
    ra = _rotations(np.broadcast_to(a, (*batch, 4)))
    rb = _rotations(np.broadcast_to(b, (*batch, 4)))
    tt = np.array(np.broadcast_to(t, batch), np.float64).reshape(-1, 1)
    q = (ra * Rotation.from_rotvec(tt * (ra.inv() * rb).as_rotvec())).as_quat()[:, [3, 0, 1, 2]]
    a_unit = np.broadcast_to(np.asarray(a, np.float64), (*batch, 4)).reshape(-1, 4)
    q = q * np.where(np.sum(q * a_unit, axis=-1, keepdims=True) < 0, -1.0, 1.0)
    return q.reshape(*batch, 4).astype(_dtype(a, b))

"""Unit quaternions (``wxyz``) and rotation matrices. See the package docstring."""

from __future__ import annotations

import jax.numpy as jnp

from ..types import Array

_EPS = 1e-12


def quat_identity(shape: tuple[int, ...] = (), dtype: jnp.dtype = jnp.float32) -> Array:
    """Identity quaternions ``(1, 0, 0, 0)`` of batch ``shape``."""
    return jnp.broadcast_to(jnp.array([1.0, 0.0, 0.0, 0.0], dtype=dtype), (*shape, 4))


def quat_normalize(q: Array) -> Array:
    """``q / |q|``; a zero quaternion becomes the identity instead of NaN."""
    n2 = jnp.sum(q * q, axis=-1, keepdims=True)
    safe = n2 > _EPS
    ident = jnp.zeros_like(q).at[..., 0].set(1.0)
    return jnp.where(
        safe, q * jnp.where(safe, 1.0 / jnp.sqrt(jnp.where(safe, n2, 1.0)), 0.0), ident
    )


def quat_conj(q: Array) -> Array:
    """Conjugate ``(w, -x, -y, -z)`` (the inverse of a unit quaternion)."""
    return q * jnp.array([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def quat_mul(a: Array, b: Array) -> Array:
    """Hamilton product ``a ⊗ b`` (apply ``b`` first, then ``a``)."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return jnp.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_rotate(q: Array, v: Array) -> Array:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4).

    ``v' = v + 2 w (u × v) + 2 u × (u × v)`` with ``q = (w, u)``.
    """
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * jnp.cross(u, v)
    return v + w * t + jnp.cross(u, t)


def quat_to_mat(q: Array) -> Array:
    """Rotation matrix (..., 3, 3) of a unit quaternion (..., 4)."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz = x * y, x * z, y * z
    wx, wy, wz = w * x, w * y, w * z
    rows = [
        jnp.stack([1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy)], axis=-1),
        jnp.stack([2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx)], axis=-1),
        jnp.stack([2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy)], axis=-1),
    ]
    return jnp.stack(rows, axis=-2)


def mat_to_quat(R: Array) -> Array:
    """Unit quaternion (``w >= 0``) of a rotation matrix, robust for every angle.

    Uses the largest of the four diagonal combinations (Shepperd's method) so that the
    square root is always taken of a number ≥ 1/4·trace-bound, never near zero.
    """
    m00, m11, m22 = R[..., 0, 0], R[..., 1, 1], R[..., 2, 2]
    tr = m00 + m11 + m22
    # Four candidate solutions; pick the numerically best one.
    s0 = jnp.sqrt(jnp.maximum(1.0 + tr, _EPS)) * 2.0
    q0 = jnp.stack(
        [
            0.25 * s0,
            (R[..., 2, 1] - R[..., 1, 2]) / s0,
            (R[..., 0, 2] - R[..., 2, 0]) / s0,
            (R[..., 1, 0] - R[..., 0, 1]) / s0,
        ],
        axis=-1,
    )
    s1 = jnp.sqrt(jnp.maximum(1.0 + m00 - m11 - m22, _EPS)) * 2.0
    q1 = jnp.stack(
        [
            (R[..., 2, 1] - R[..., 1, 2]) / s1,
            0.25 * s1,
            (R[..., 0, 1] + R[..., 1, 0]) / s1,
            (R[..., 0, 2] + R[..., 2, 0]) / s1,
        ],
        axis=-1,
    )
    s2 = jnp.sqrt(jnp.maximum(1.0 - m00 + m11 - m22, _EPS)) * 2.0
    q2 = jnp.stack(
        [
            (R[..., 0, 2] - R[..., 2, 0]) / s2,
            (R[..., 0, 1] + R[..., 1, 0]) / s2,
            0.25 * s2,
            (R[..., 1, 2] + R[..., 2, 1]) / s2,
        ],
        axis=-1,
    )
    s3 = jnp.sqrt(jnp.maximum(1.0 - m00 - m11 + m22, _EPS)) * 2.0
    q3 = jnp.stack(
        [
            (R[..., 1, 0] - R[..., 0, 1]) / s3,
            (R[..., 0, 2] + R[..., 2, 0]) / s3,
            (R[..., 1, 2] + R[..., 2, 1]) / s3,
            0.25 * s3,
        ],
        axis=-1,
    )
    choice = jnp.argmax(jnp.stack([tr, m00, m11, m22], axis=-1), axis=-1)
    q = jnp.where(
        (choice == 0)[..., None],
        q0,
        jnp.where((choice == 1)[..., None], q1, jnp.where((choice == 2)[..., None], q2, q3)),
    )
    q = jnp.where(q[..., :1] < 0, -q, q)
    return quat_normalize(q)


def axis_angle_to_quat(axis: Array, angle: Array) -> Array:
    """Quaternion of a rotation by ``angle`` (rad, (...)) about unit ``axis`` (..., 3)."""
    half = 0.5 * jnp.asarray(angle)[..., None]
    return jnp.concatenate([jnp.cos(half), jnp.sin(half) * axis], axis=-1)


def quat_exp(rotvec: Array) -> Array:
    """Quaternion of a rotation vector ``θ·n`` (..., 3): ``(cos θ/2, sin(θ/2) n)``.

    Safe at θ = 0 (uses the Taylor series of ``sin(θ/2)/θ``), so gradients are finite there.
    """
    th2 = jnp.sum(rotvec * rotvec, axis=-1, keepdims=True)
    small = th2 < 1e-8
    th = jnp.sqrt(jnp.where(small, 1.0, th2))
    half_sinc = jnp.where(small, 0.5 - th2 / 48.0, jnp.sin(0.5 * th) / th)
    w = jnp.where(small, 1.0 - th2 / 8.0, jnp.cos(0.5 * th))
    return jnp.concatenate([w, half_sinc * rotvec], axis=-1)


def quat_log(q: Array) -> Array:
    """Rotation vector ``θ·n`` (..., 3) of a unit quaternion, θ ∈ [0, π] (shortest arc)."""
    q = jnp.where(q[..., :1] < 0, -q, q)
    w = jnp.clip(q[..., :1], -1.0, 1.0)
    v = q[..., 1:]
    s2 = jnp.sum(v * v, axis=-1, keepdims=True)
    small = s2 < 1e-12
    s = jnp.sqrt(jnp.where(small, 1.0, s2))
    angle = 2.0 * jnp.arctan2(s, w)
    scale = jnp.where(small, 2.0 / jnp.where(jnp.abs(w) > 0, w, 1.0), angle / s)
    return scale * v


def rotvec_to_mat(rotvec: Array) -> Array:
    """Rotation matrix (..., 3, 3) of a rotation vector (..., 3) (Rodrigues)."""
    return quat_to_mat(quat_exp(rotvec))


def quat_angle_between(a: Array, b: Array) -> Array:
    """Geodesic angle (rad, in [0, π]) between rotations ``a`` and ``b``; NaN-free."""
    d = jnp.abs(jnp.sum(a * b, axis=-1))
    # 2·atan2(|v|, |w|) of the relative rotation, which is well conditioned near 0 and π.
    rel = quat_mul(quat_conj(a), b)
    v = jnp.sqrt(jnp.sum(rel[..., 1:] ** 2, axis=-1) + 1e-20)
    return 2.0 * jnp.arctan2(v, jnp.maximum(d, 0.0))


def quat_slerp(a: Array, b: Array, t: Array) -> Array:
    """Spherical linear interpolation from ``a`` (t = 0) to ``b`` (t = 1), shortest path."""
    t = jnp.asarray(t)[..., None] if jnp.ndim(t) == jnp.ndim(a) - 1 else jnp.asarray(t)
    dot = jnp.sum(a * b, axis=-1, keepdims=True)
    b = jnp.where(dot < 0, -b, b)
    rel = quat_mul(quat_conj(a), b)
    return quat_normalize(quat_mul(a, quat_exp(t * quat_log(rel))))


def quat_from_two_vectors(a: Array, b: Array) -> Array:
    """Shortest rotation taking direction ``a`` to direction ``b`` (both (..., 3)).

    For opposite vectors a rotation of π about an axis perpendicular to ``a`` is returned.
    """
    an = a / jnp.maximum(jnp.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    bn = b / jnp.maximum(jnp.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    w = 1.0 + jnp.sum(an * bn, axis=-1, keepdims=True)
    v = jnp.cross(an, bn)
    # Opposite vectors: choose any perpendicular axis.
    alt = jnp.cross(an, jnp.broadcast_to(jnp.array([1.0, 0.0, 0.0], a.dtype), an.shape))
    alt2 = jnp.cross(an, jnp.broadcast_to(jnp.array([0.0, 1.0, 0.0], a.dtype), an.shape))
    alt = jnp.where(jnp.linalg.norm(alt, axis=-1, keepdims=True) < 1e-3, alt2, alt)
    opposite = w < 1e-6
    q = jnp.where(
        opposite,
        jnp.concatenate([jnp.zeros_like(w), alt], axis=-1),
        jnp.concatenate([w, v], axis=-1),
    )
    return quat_normalize(q)


_AXES = {"x": 0, "y": 1, "z": 2}


def euler_to_quat(angles: Array, seq: str) -> Array:
    """Quaternion of Euler angles (rad, (..., 3)) applied in ``seq`` order.

    Lower-case ``seq`` (e.g. ``"xyz"``) means extrinsic rotations about the fixed axes, applied
    first-to-last; upper-case (``"XYZ"``) means intrinsic rotations about the moving axes —
    MuJoCo's and BVH's convention, ``R = R_1(a_1) R_2(a_2) R_3(a_3)``.
    """
    if len(seq) != 3 or seq.lower().strip("xyz") != "":
        raise ValueError(f"Euler sequence must be three of x/y/z, got {seq!r}")
    intrinsic = seq.isupper()
    quats = []
    for i, ch in enumerate(seq.lower()):
        axis = jnp.zeros(3, dtype=jnp.result_type(angles, jnp.float32)).at[_AXES[ch]].set(1.0)
        quats.append(axis_angle_to_quat(axis, angles[..., i]))
    if intrinsic:
        q = quat_mul(quat_mul(quats[0], quats[1]), quats[2])
    else:
        q = quat_mul(quat_mul(quats[2], quats[1]), quats[0])
    return q


def rpy_to_mat(rpy: Array) -> Array:
    """URDF roll-pitch-yaw (fixed-axis x, then y, then z): ``R = Rz(yaw) Ry(pitch) Rx(roll)``."""
    return quat_to_mat(euler_to_quat(rpy, "xyz"))


def quat_wxyz_to_xyzw(q: Array) -> Array:
    """Reorder ``wxyz`` → ``xyzw`` (the order of scipy, GMR pickles and BeyondMimic CSV)."""
    return jnp.concatenate([q[..., 1:], q[..., :1]], axis=-1)


def quat_xyzw_to_wxyz(q: Array) -> Array:
    """Reorder ``xyzw`` → ``wxyz``."""
    return jnp.concatenate([q[..., 3:], q[..., :3]], axis=-1)

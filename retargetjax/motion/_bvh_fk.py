"""Forward kinematics of a BVH skeleton from its channel values, vectorised over frames,
and the skeleton's rest positions (offsets only)."""

from __future__ import annotations

import numpy as np

from ._bvh_hierarchy import BvhSkeleton
from ._np_geometry import mat_to_quat_np

__all__ = ["bvh_forward_kinematics"]


def bvh_forward_kinematics(
    skeleton: BvhSkeleton,
    values: np.ndarray,
    *,
    scale: float = 1.0,
    world_rotation: np.ndarray | None = None,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World positions (T, J, 3), orientations (T, J, 4) ``wxyz`` and rotations (T, J, 3, 3).

    ``R_world_j = R_world_parent · R_local_j`` and ``p_world_j = p_world_parent +
    R_world_parent · t_local_j``, where ``R_local_j = R_a(α) R_b(β) …`` is the product of the
    joint's rotation channels in file order and ``t_local_j`` its OFFSET with position channels
    substituted, times ``scale``. Roots are placed in the world by ``world_rotation`` ``C``
    (default identity): ``p_root = C t_root``, ``R_world_root = C R_local_root``.

    Each factor ``R_a(θ)`` is applied in place instead of building matrices: right-multiplying
    by a rotation about axis ``a`` mixes only the two other columns ``b, d``
    (``col_b ← c·col_b + s·col_d``, ``col_d ← c·col_d − s·col_b``), and the quaternion is
    updated with ``q ⊗ (cos θ/2, sin θ/2 e_a)``. Loops over joints, batched over frames.
    """
    values = np.asarray(values)
    T = values.shape[0]
    J = len(skeleton.names)
    C = np.eye(3) if world_rotation is None else np.asarray(world_rotation, dtype=np.float64)
    q_C = mat_to_quat_np(C)
    # Frames last, so every column/component below is one contiguous run of T numbers.
    channel_rows = np.ascontiguousarray(values.T)
    pos = np.empty((J, 3, T), dtype=dtype)
    rot = np.empty((J, 3, 3, T), dtype=dtype)  # rot[j, row, col, t]
    quat = np.empty((J, 4, T), dtype=dtype)
    for j in range(J):
        chans = skeleton.channels[j]
        start = int(skeleton.channel_start[j])
        offset = skeleton.offsets[j] * scale
        moving = {
            "XYZ".index(n[0]): start + c for c, n in enumerate(chans) if n.endswith("position")
        }
        t_local = [channel_rows[moving[k]] * scale if k in moving else offset[k] for k in range(3)]
        p = int(skeleton.parents[j])
        R = rot[j]
        q = quat[j]
        if p < 0:
            R[:] = C[:, :, None]
            q[:] = q_C[:, None]
            for r in range(3):
                pos[j, r] = C[r, 0] * t_local[0] + C[r, 1] * t_local[1] + C[r, 2] * t_local[2]
        else:
            R[:] = rot[p]
            q[:] = quat[p]
            R_parent = rot[p]
            pos[j] = (
                pos[p]
                + R_parent[:, 0] * t_local[0]
                + R_parent[:, 1] * t_local[1]
                + R_parent[:, 2] * t_local[2]
            )
        for c, name in enumerate(chans):
            if not name.endswith("rotation"):
                continue
            a = "XYZ".index(name[0])
            b, d = (a + 1) % 3, (a + 2) % 3
            theta = np.deg2rad(channel_rows[start + c]).astype(dtype)
            cos, sin = np.cos(theta), np.sin(theta)
            col_b = R[:, b].copy()
            col_d = R[:, d].copy()
            R[:, b] = cos * col_b + sin * col_d
            R[:, d] = cos * col_d - sin * col_b
            half = 0.5 * theta
            ch, sh = np.cos(half), np.sin(half)
            w, qa, qb, qd = q[0].copy(), q[1 + a].copy(), q[1 + b].copy(), q[1 + d].copy()
            q[0] = w * ch - qa * sh
            q[1 + a] = qa * ch + w * sh
            q[1 + b] = qb * ch + qd * sh
            q[1 + d] = qd * ch - qb * sh
    quat *= np.where(quat[:, :1] < 0, -1, 1).astype(dtype)  # w >= 0, as geometry.mat_to_quat
    return pos.transpose(2, 0, 1), quat.transpose(2, 0, 1), rot.transpose(3, 0, 1, 2)


def _rest_positions(skeleton: BvhSkeleton) -> np.ndarray:
    """(J, 3) positions of the skeleton at rest (offsets only), file units."""
    rest = np.zeros((len(skeleton.names), 3))
    for j, p in enumerate(skeleton.parents):
        rest[j] = skeleton.offsets[j] + (rest[p] if p >= 0 else 0.0)
    return rest

"""Points on bodies and their geometric Jacobian, from one forward-kinematics sweep.

A Gauss-Newton solver needs ``∂p/∂x`` for every point ``p`` it tracks (keypoints, sole
points, capsule ends). Forward-mode autodiff gets it with one FK sweep per degree of freedom
(35 for the G1); the geometric Jacobian gets it from the *one* sweep that computes ``p``.

The tangent is ``δ = (δp, δθ, δq)``: root translation (world), root rotation vector in the
root frame (``quat ← quat ⊗ exp(δθ)``) and joint angles. For a point ``p`` on body ``b``:

- ``∂p/∂δp = I``;
- ``∂p/∂δθ = −[p − r]ₓ R₀`` (column ``k`` is ``(R₀ e_k) × (p − r)``, root at ``r``, ``R₀``);
- for a node ``n`` on the path from the root to ``b``, driven by joint ``j`` with
  ``q_n = s_n q_j + o_n`` and local transform ``(R_n(q_n), t_n(q_n))`` below its parent node
  ``(R_p, t_p)`` (see :class:`~retargetjax.robot.RobotModel`), the world frame of ``n`` is
  ``(R_p R_n, t_p + R_p t_n)`` and ``p = t_p + R_p (t_n + R_n p_n)`` with ``p_n`` fixed, so

  ``∂p/∂q_j += s_n R_p (R'_n p_n + t'_n) = s_n (G_n p + h_n)``,
  ``G_n = R_p R'_n R_nᵀ R_pᵀ``, ``h_n = R_p t'_n − G_n (t_p + R_p t_n)``,

  with ``R'_n = cos q S_n + sin q C_n`` and ``t'_n = cos q s_n + sin q c_n + l_n``. For a
  hinge ``G_n`` is the cross-product matrix of the world axis; for a slide ``G_n = 0`` and
  ``h_n`` the world axis. Mimic followers add their scaled column to the leader's.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ..types import Array
from ._fk import _matmul33, _matvec3, local_transforms, node_frames
from ._model import RobotModel

__all__ = ["node_parents", "point_jacobian", "point_tangents"]


def node_parents(robot: RobotModel) -> np.ndarray:
    """Global parent node index of every FK node (``-1`` for the root node 0)."""
    parents = [-1]
    prev_start = 0
    for (start, stop), level in zip(robot.level_ranges, robot.level_parents):
        if len(parents) != start or stop - start != len(level):
            raise ValueError(f"robot {robot.name!r}: FK levels are not contiguous")
        parents.extend(prev_start + int(p) for p in level)
        prev_start = start
    return np.asarray(parents, dtype=np.int64)


def _ancestry(robot: RobotModel, bodies: Sequence[int]) -> np.ndarray:
    """(M, nodes) 1 where the node lies on the path from the root to the point's body."""
    parents = node_parents(robot)
    out = np.zeros((len(bodies), len(parents)), np.float32)
    for m, b in enumerate(bodies):
        n = int(robot.body_node[b])
        while n >= 0:
            out[m, n] = 1.0
            n = int(parents[n])
    return out


def point_jacobian(
    robot: RobotModel,
    root_pos: Array,
    root_quat: Array,
    joint_pos: Array,
    bodies: Sequence[int],
    offsets: Array,
) -> tuple[Array, Array]:
    """World points ``p`` (..., M, 3) fixed at ``offsets`` (M, 3) on ``bodies`` and ``∂p/∂δ``
    (..., M, 3, 6 + N), for frames of any batch shape; see the module docstring for ``δ``."""
    pts, tangents = point_tangents(robot, root_pos, root_quat, joint_pos, bodies, offsets)
    return pts, jnp.moveaxis(tangents, -3, -1)


def point_tangents(
    robot: RobotModel,
    root_pos: Array,
    root_quat: Array,
    joint_pos: Array,
    bodies: Sequence[int],
    offsets: Array,
) -> tuple[Array, Array]:
    """:func:`point_jacobian` with the tangent axis first: ``∂p/∂δ_k`` as (..., 6 + N, M, 3),
    the layout a solver pushes through its residuals (one tangent per degree of freedom)."""
    q, rot_w, pos_w = node_frames(robot, root_pos, root_quat, joint_pos)
    dtype = rot_w.dtype
    root_pos, root_rot = pos_w[..., 0, :], rot_w[..., 0, :, :]
    nodes = robot.node_rot.shape[0]
    joints = robot.num_joints
    node_joint = np.asarray(robot.node_joint, dtype=np.int64)
    scale = robot.node_q_scale.astype(dtype)
    _, _, drot_local, dpos_local = local_transforms(robot, q, derivative=True)
    parents = node_parents(robot)
    rot_p = rot_w[..., np.where(parents < 0, 0, parents), :, :]

    # Points.
    body_node = np.asarray(robot.body_node, dtype=np.int64)[np.asarray(bodies, dtype=np.int64)]
    offsets = jnp.asarray(offsets, dtype)
    pts = pos_w[..., body_node, :] + _matvec3(rot_w[..., body_node, :, :], offsets)

    # Joint columns: s_n (G_n p + h_n) summed over the nodes on each point's path.
    G = _matmul33(_matmul33(rot_p, drot_local), jnp.swapaxes(rot_w, -1, -2))  # (..., nodes, 3, 3)
    h = _matvec3(rot_p, dpos_local) - _matvec3(G, pos_w)
    d = _matvec3(G[..., :, None, :, :], pts[..., None, :, :]) + h[..., :, None, :]  # (..., n, M, 3)
    has_joint = node_joint < joints
    node_to_joint = np.zeros((nodes, joints), np.float32)
    node_to_joint[np.arange(nodes)[has_joint], node_joint[has_joint]] = 1.0
    anc = jnp.asarray(_ancestry(robot, bodies).T, dtype)  # (nodes, M)
    d = d * (anc * scale[:, None])[..., None]
    if np.array_equal(node_to_joint.sum(axis=0), np.ones(joints)) and np.all(
        node_to_joint.sum(axis=1) <= 1
    ):
        # One node per joint (no mimic followers): a gather, not a product.
        tan_q = d[..., np.argmax(node_to_joint, axis=0), :, :]
    else:
        tan_q = jnp.einsum("...nmi,nj->...jmi", d, jnp.asarray(node_to_joint, dtype))

    # Root columns: e_k for translation, (R₀ e_k) × (p − r) for rotation.
    rel = pts - root_pos[..., None, :]
    axes = jnp.swapaxes(root_rot, -1, -2)[..., :, None, :]  # (..., k, 1, 3): R₀ e_k
    tan_rot = jnp.cross(axes, rel[..., None, :, :])  # (..., k, M, 3)
    tan_pos = jnp.broadcast_to(
        jnp.eye(3, dtype=dtype)[:, None, :], (*pts.shape[:-2], 3, pts.shape[-2], 3)
    )
    return pts, jnp.concatenate([tan_pos, tan_rot, tan_q], axis=-3)

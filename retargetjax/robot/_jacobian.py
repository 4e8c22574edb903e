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

from ..geometry import quat_normalize, quat_to_mat
from ..types import Array
from ._fk import NodeTables, node_angles, pose_inputs
from ._model import RobotModel
from ._sweep import level_parent_nodes, sweep_batch_last

__all__ = ["node_parents", "point_jacobian", "point_tangents"]


def node_parents(robot: RobotModel) -> np.ndarray:
    """Global parent node index of every FK node (``-1`` for the root node 0)."""
    try:
        return level_parent_nodes(robot.level_ranges, robot.level_parents)
    except ValueError as e:
        raise ValueError(f"robot {robot.name!r}: {e}") from None


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
    the layout a solver pushes through its residuals (one tangent per degree of freedom).

    Computed with the frames on the *last* axis (one flat batch axis ``B``): every 3×3
    product is then an elementwise loop over frames, and only the (node, point) pairs
    where the node lies on the point's chain are formed (about a quarter of all pairs on
    a humanoid); the rest of the joint columns are zeros gathered in."""
    root_pos, root_quat, joint_pos = pose_inputs(robot, root_pos, root_quat, joint_pos)
    dtype, joints = joint_pos.dtype, robot.num_joints
    batch = joint_pos.shape[:-1]
    flat = int(np.prod(batch, dtype=np.int64))
    root_pos = root_pos.reshape(flat, 3)
    root_quat = root_quat.reshape(flat, 4)
    joint_pos = joint_pos.reshape(flat, joints)

    q = node_angles(robot, joint_pos).T  # (nodes, B)
    tab = {k: jnp.asarray(getattr(robot, k), dtype) for k in NodeTables._fields}
    sin_q, cos_q = jnp.sin(q), jnp.cos(q)
    vers_q = 1.0 - cos_q

    def rot_term(name: str, w: Array) -> Array:
        return tab[name][..., None] * w[:, None, None, :]

    def pos_term(name: str, w: Array) -> Array:
        return tab[name][..., None] * w[:, None, :]

    rot_local = tab["node_rot"][..., None] + rot_term("node_rot_sin", sin_q)
    rot_local = rot_local + rot_term("node_rot_cos", vers_q)
    pos_local = tab["node_pos"][..., None] + pos_term("node_pos_sin", sin_q)
    pos_local = pos_local + pos_term("node_pos_cos", vers_q) + pos_term("node_pos_lin", q)
    drot = rot_term("node_rot_sin", cos_q) + rot_term("node_rot_cos", sin_q)
    dpos = pos_term("node_pos_sin", cos_q) + pos_term("node_pos_cos", sin_q)
    dpos = dpos + tab["node_pos_lin"][..., None]
    rot_w, pos_w = sweep_batch_last(
        robot.level_ranges,
        robot.level_parents,
        quat_to_mat(quat_normalize(root_quat)),
        root_pos,
        jnp.moveaxis(rot_local, -1, 0),
        jnp.moveaxis(pos_local, -1, 0),
        keep_last=True,
    )  # (nodes, 3, 3, B), (nodes, 3, B)
    parents = node_parents(robot)
    rot_p = rot_w[np.where(parents < 0, 0, parents)]

    # Points, (M, 3, B).
    body_node = np.asarray(robot.body_node, dtype=np.int64)[np.asarray(bodies, dtype=np.int64)]
    offsets = jnp.asarray(offsets, dtype)
    pts = pos_w[body_node] + jnp.einsum("mijb,mj->mib", rot_w[body_node], offsets)

    # Joint columns: s_n (G_n p + h_n) over the (node, point) pairs on each point's chain.
    G = jnp.einsum("nijb,njkb->nikb", rot_p, drot)
    G = jnp.einsum("nikb,nlkb->nilb", G, rot_w)  # R_p R'_n R_nᵀ R_pᵀ
    h = jnp.einsum("nijb,njb->nib", rot_p, dpos) - jnp.einsum("nijb,njb->nib", G, pos_w)
    node_joint = np.asarray(robot.node_joint, dtype=np.int64)
    scale = jnp.asarray(robot.node_q_scale, dtype)  # traced where the model is an argument
    anc = _ancestry(robot, bodies)  # (M, nodes)
    pair_m, pair_n = np.nonzero((anc > 0) & (node_joint < joints)[None, :])
    d = jnp.einsum("pijb,pjb->pib", G[pair_n], pts[pair_m]) + h[pair_n]  # (P, 3, B)
    d = d * scale[pair_n][:, None, None]
    num_pairs = len(pair_m)
    # Column of joint j at point m: the sum of its nodes' pairs (mimic followers add up).
    slots: dict[tuple[int, int], list[int]] = {}
    for k, (m, n) in enumerate(zip(pair_m, pair_n)):
        slots.setdefault((int(node_joint[n]), int(m)), []).append(k)
    depth = max((len(v) for v in slots.values()), default=1)
    index = np.full((depth, joints, len(body_node)), num_pairs, np.int64)
    for (j, m), ks in slots.items():
        index[: len(ks), j, m] = ks
    d = jnp.concatenate([d, jnp.zeros((1, *d.shape[1:]), dtype)], axis=0)
    tan_q = d[index[0]]
    for level in range(1, depth):
        tan_q = tan_q + d[index[level]]  # (N, M, 3, B)

    # Root columns: e_k for translation, (R₀ e_k) × (p − r) for rotation.
    rel = pts - pos_w[0][None]  # (M, 3, B)
    axes = rot_w[0]  # (3, 3, B): column k is R₀ e_k
    tan_rot = jnp.stack(
        [jnp.cross(axes[:, k][None], rel, axisa=1, axisb=1, axisc=1) for k in range(3)]
    )  # (3, M, 3, B)
    tan_pos = jnp.broadcast_to(
        jnp.eye(3, dtype=dtype)[:, None, :, None], (3, len(body_node), 3, flat)
    )
    tangents = jnp.concatenate([tan_pos, tan_rot, tan_q], axis=0)  # (D, M, 3, B)
    pts = jnp.moveaxis(pts, -1, 0).reshape(*batch, len(body_node), 3)
    tangents = jnp.moveaxis(tangents, -1, 0).reshape(*batch, *tangents.shape[:3])
    return pts, tangents

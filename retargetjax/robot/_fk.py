"""Forward kinematics and the points that ride on bodies (keypoints, sites, capsules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..geometry import mat_to_quat
from ..types import Array
from ._model import BodyTransforms, RobotModel
from ._sweep import node_frames_last, sweep_batch_last, sweep_levels

__all__ = [
    "NodeTables",
    "body_point_positions",
    "body_quat",
    "clip_forward_kinematics",
    "collision_capsules_world",
    "forward_kinematics",
    "keypoint_positions",
    "local_transforms",
    "node_angles",
    "node_frames",
    "points_on_bodies",
    "site_positions",
    "sweep_batch_last",
    "sweep_levels",
]


def _matvec3(a: Array, v: Array) -> Array:
    return (a * v[..., None, :]).sum(axis=-1)


def _xp(a: Array):
    """The array module of ``a``: numpy on the host (load-time geometry), else JAX."""
    return np if isinstance(a, np.ndarray) else jnp


class NodeTables(NamedTuple):
    """The FK node tables of :class:`RobotModel` (same field names), for any array module:
    local transform ``R = A + sin q S + (1 − cos q) C``, ``t = a + sin q s + (1 − cos q) c
    + q l`` of node ``n`` at its angle ``q_n = scale_n q_joint + offset_n``."""

    node_rot: Array
    node_rot_sin: Array
    node_rot_cos: Array
    node_pos: Array
    node_pos_sin: Array
    node_pos_cos: Array
    node_pos_lin: Array


def node_angles(robot: RobotModel, joint_pos: Array) -> Array:
    """(..., nodes) angle ``q_n = scale_n q_{joint(n)} + offset_n`` of every FK node (0 scale
    for nodes without a joint)."""
    xp = _xp(joint_pos)
    zero = xp.zeros((*joint_pos.shape[:-1], 1), joint_pos.dtype)
    q_ext = xp.concatenate([joint_pos, zero], axis=-1)
    node_joint = np.asarray(robot.node_joint, dtype=np.int32)
    dtype = joint_pos.dtype
    return q_ext[..., node_joint] * xp.asarray(robot.node_q_scale, dtype) + xp.asarray(
        robot.node_q_offset, dtype
    )


def local_transforms(
    tables: NodeTables | RobotModel, q_node: Array, *, derivative: bool = False
) -> tuple[Array, ...]:
    """Local rotations (..., nodes, 3, 3) and translations (..., nodes, 3) of every node at
    angles ``q_node``; with ``derivative`` also ``∂R/∂q = cos q S + sin q C`` and
    ``∂t/∂q = cos q s + sin q c + l``."""
    xp = _xp(q_node)
    dtype = q_node.dtype

    def table(name: str) -> Array:
        return xp.asarray(getattr(tables, name), dtype)

    S, C = table("node_rot_sin"), table("node_rot_cos")
    s_, c_, lin = table("node_pos_sin"), table("node_pos_cos"), table("node_pos_lin")
    sin_q = xp.sin(q_node)[..., None]
    cos_q = xp.cos(q_node)[..., None]
    vers_q = 1.0 - cos_q
    rot = table("node_rot") + sin_q[..., None] * S + vers_q[..., None] * C
    pos = table("node_pos") + sin_q * s_ + vers_q * c_ + q_node[..., None] * lin
    if not derivative:
        return rot, pos
    return rot, pos, cos_q[..., None] * S + sin_q[..., None] * C, cos_q * s_ + sin_q * c_ + lin


def pose_inputs(
    robot: RobotModel, root_pos: Array, root_quat: Array, joint_pos: Array
) -> tuple[Array, Array, Array]:
    """``root_pos`` (..., 3), ``root_quat`` (..., 4) and ``joint_pos`` (..., N) as arrays of
    one floating dtype broadcast to one batch shape; a wrong joint count is a ``ValueError``
    naming the robot."""
    root_pos = jnp.asarray(root_pos)
    root_quat = jnp.asarray(root_quat)
    joint_pos = jnp.asarray(joint_pos)
    dtype = jnp.result_type(root_pos, root_quat, joint_pos, robot.node_rot)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    if joint_pos.shape[-1] != robot.num_joints:
        raise ValueError(
            f"joint_pos has {joint_pos.shape[-1]} values per frame; robot {robot.name!r} "
            f"has {robot.num_joints} joints"
        )
    batch = jnp.broadcast_shapes(root_pos.shape[:-1], root_quat.shape[:-1], joint_pos.shape[:-1])
    return (
        jnp.broadcast_to(root_pos.astype(dtype), (*batch, 3)),
        jnp.broadcast_to(root_quat.astype(dtype), (*batch, 4)),
        jnp.broadcast_to(joint_pos.astype(dtype), (*batch, robot.num_joints)),
    )


def _root_rot_last(quat: Array) -> Array:
    """``(3, 3, B)`` rotation of ``(4, B)`` ``wxyz`` quaternions (normalised; zero is the
    identity), computed with the frames last so that it and its gradient vectorise over them
    (:func:`~retargetjax.geometry.quat_to_mat` of :func:`~retargetjax.geometry.quat_normalize`)."""
    n2 = jnp.sum(quat * quat, axis=0)
    safe = n2 > 1e-12  # as quat_normalize
    inv = jnp.where(safe, 1.0 / jnp.sqrt(jnp.where(safe, n2, 1.0)), 0.0)
    w = jnp.where(safe, quat[0] * inv, 1.0)
    x, y, z = (quat[i] * inv for i in (1, 2, 3))
    xx, yy, zz, xy, xz, yz = x * x, y * y, z * z, x * y, x * z, y * z
    wx, wy, wz = w * x, w * y, w * z
    rows = [
        [1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy)],
        [2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx)],
        [2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy)],
    ]
    return jnp.stack([jnp.stack(r) for r in rows])


def _frames_last(
    robot: RobotModel, root_pos: Array, root_quat: Array, joint_pos: Array
) -> tuple[Array, Array, tuple[int, ...]]:
    """``(R (nodes, 3, 3, B), t (nodes, 3, B), batch)``: :func:`node_frames` with the frames
    flattened and last, as swept."""
    root_pos, root_quat, joint_pos = pose_inputs(robot, root_pos, root_quat, joint_pos)
    batch = joint_pos.shape[:-1]
    flat = int(np.prod(batch, dtype=np.int64))
    dtype = joint_pos.dtype
    # Node angles with the frames last, q_n = s_n q_j(n) + o_n as one small matrix product
    # (its gradient is the transposed product, not a scatter).
    select = np.zeros((len(robot.node_joint), robot.num_joints), np.float32)
    for n, j in enumerate(np.asarray(robot.node_joint)):
        if j < robot.num_joints:
            select[n, j] = 1.0
    scale = jnp.asarray(robot.node_q_scale, dtype)[:, None] * jnp.asarray(select, dtype)
    q_last = (
        scale @ joint_pos.reshape(flat, -1).T + jnp.asarray(robot.node_q_offset, dtype)[:, None]
    )
    tables = tuple(jnp.asarray(getattr(robot, k), dtype) for k in NodeTables._fields)
    rot, pos = node_frames_last(
        (tuple(robot.level_ranges), tuple(robot.level_parents)),
        tables,
        _root_rot_last(root_quat.reshape(flat, 4).T),
        root_pos.reshape(flat, 3).T,
        q_last,
    )
    return rot, pos, batch


def _batch_first(rot: Array, pos: Array, batch: tuple[int, ...]) -> tuple[Array, Array]:
    nodes = rot.shape[0]
    rot = jnp.moveaxis(rot, -1, 0).reshape(*batch, nodes, 3, 3)
    return rot, jnp.moveaxis(pos, -1, 0).reshape(*batch, nodes, 3)


def node_frames(
    robot: RobotModel, root_pos: Array, root_quat: Array, joint_pos: Array
) -> tuple[Array, Array, Array]:
    """``(q_node, R_world (..., nodes, 3, 3), t_world (..., nodes, 3))`` of every FK node,
    inputs broadcast to one batch shape and cast to one floating dtype (the sweep of
    :func:`~retargetjax.robot._sweep.node_frames_last`, frames last, with its twist
    derivative)."""
    rot, pos, batch = _frames_last(robot, root_pos, root_quat, joint_pos)
    q_node = node_angles(robot, pose_inputs(robot, root_pos, root_quat, joint_pos)[2])
    return (q_node, *_batch_first(rot, pos, batch))


def forward_kinematics(
    robot: RobotModel, root_pos: Array, root_quat: Array, joint_pos: Array
) -> BodyTransforms:
    """World transforms of every body.

    ``root_pos`` (..., 3) m, ``root_quat`` (..., 4) ``wxyz``, ``joint_pos`` (..., N) rad/m,
    with any broadcastable batch shapes. The floating root body takes the root pose (its
    quaternion normalised, as MuJoCo does; a zero quaternion is the identity); every other
    body ``b`` with parent ``p`` is ``T_world_b = T_world_p · T_p_b(q)``.

    Local transforms of all nodes come from one vectorised evaluation of
    ``R = A + sin q S + (1 − cos q) C``, ``t = a + sin q s + (1 − cos q) c + q l`` (see
    :class:`RobotModel`, :func:`local_transforms`); the tree is then swept level by level
    (:func:`sweep_levels`). Pure, jittable, vmappable and differentiable, forward and reverse,
    through the joints' twists (:mod:`retargetjax.robot._sweep`); dtype follows the inputs
    and the model.
    """
    rot, pos, batch = _frames_last(robot, root_pos, root_quat, joint_pos)
    body_node = np.asarray(robot.body_node, dtype=np.int32)
    nodes = rot.shape[0]
    if not np.array_equal(body_node, np.arange(nodes)):
        # Bodies from nodes by a one-hot matrix product: its gradient is the transposed
        # product (a gather's would be a scatter, element by element on a CPU).
        pick = jnp.asarray(np.eye(nodes, dtype=np.float32)[body_node], rot.dtype)
        rot = (pick @ rot.reshape(nodes, -1)).reshape(len(body_node), *rot.shape[1:])
        pos = (pick @ pos.reshape(nodes, -1)).reshape(len(body_node), *pos.shape[1:])
    rot, pos = _batch_first(rot, pos, batch)
    return BodyTransforms(pos=pos, rot=rot)


CLIP_CHUNK = 256
"""Frames per compiled call of :func:`clip_forward_kinematics`."""


@jax.jit
def _fk_chunk(robot: RobotModel, root_pos: Array, root_quat: Array, joint_pos: Array):
    return forward_kinematics(robot, root_pos, root_quat, joint_pos)


def clip_forward_kinematics(
    robot: RobotModel,
    root_pos: np.ndarray,
    root_quat: np.ndarray,
    joint_pos: np.ndarray,
    *,
    chunk: int = CLIP_CHUNK,
) -> BodyTransforms:
    """:func:`forward_kinematics` of a whole clip on the host, as float32 numpy arrays.

    ``root_pos`` (T, 3), ``root_quat`` (T, 4) ``wxyz``, ``joint_pos`` (T, N). The frames go
    through one jitted program in chunks of ``chunk`` frames (the last one padded by
    repeating its final frame), so clips of every length share one compilation per robot;
    called eagerly instead, every new ``T`` would compile each of FK's operations anew.
    """
    root_pos = np.asarray(root_pos, np.float32).reshape(-1, 3)
    num_frames = root_pos.shape[0]
    root_quat = np.asarray(root_quat, np.float32).reshape(num_frames, 4)
    joint_pos = np.asarray(joint_pos, np.float32).reshape(num_frames, -1)
    if joint_pos.shape[-1] != robot.num_joints:
        raise ValueError(
            f"joint_pos has {joint_pos.shape[-1]} values per frame; robot {robot.name!r} "
            f"has {robot.num_joints} joints"
        )
    if num_frames == 0:
        nb = len(robot.body_names)
        return BodyTransforms(
            pos=np.zeros((0, nb, 3), np.float32), rot=np.zeros((0, nb, 3, 3), np.float32)
        )
    pos, rot = [], []
    for start in range(0, num_frames, chunk):
        idx = np.minimum(np.arange(start, start + chunk), num_frames - 1)
        out = _fk_chunk(robot, root_pos[idx], root_quat[idx], joint_pos[idx])
        keep = min(chunk, num_frames - start)
        pos.append(np.asarray(out.pos)[:keep])
        rot.append(np.asarray(out.rot)[:keep])
    return BodyTransforms(pos=np.concatenate(pos), rot=np.concatenate(rot))


def points_on_bodies(fk: BodyTransforms, bodies: Sequence[int], offsets: Array) -> Array:
    """World positions ``p_b + R_b o`` of body-frame points ``offsets`` (M, 3) on ``bodies``."""
    idx = np.asarray(bodies, dtype=np.int32)
    offsets = jnp.asarray(offsets, dtype=fk.pos.dtype)
    return fk.pos[..., idx, :] + _matvec3(fk.rot[..., idx, :, :], offsets)


def body_point_positions(
    robot: RobotModel,
    root_pos: Array,
    root_quat: Array,
    joint_pos: Array,
    bodies: Sequence[int],
    offsets: Array,
) -> Array:
    """(..., M, 3) world positions ``p_b + R_b o`` of points ``offsets`` (M, 3) on ``bodies``
    at the given poses: :func:`points_on_bodies` of :func:`forward_kinematics`, computed
    with the frames last (each point's node picked as a row, ``R o`` three multiply-adds
    over frames) and transposed once at the end; on the CPU ~2x faster than picking from
    the batch-first transforms."""
    rot, pos, batch = _frames_last(robot, root_pos, root_quat, joint_pos)
    node = np.asarray(robot.body_node, dtype=np.int32)[np.asarray(bodies, dtype=np.int32)]
    o = jnp.asarray(offsets, dtype=pos.dtype)[:, :, None, None]  # (M, 3, 1, 1)
    r = rot[node]  # (M, 3, 3, B)
    p = pos[node] + r[:, :, 0] * o[:, 0] + r[:, :, 1] * o[:, 1] + r[:, :, 2] * o[:, 2]
    return jnp.moveaxis(p, -1, 0).reshape(*batch, len(node), 3)


def keypoint_positions(robot: RobotModel, fk: BodyTransforms) -> Array:
    """(..., K, 3) world positions of the robot's canonical keypoints (``robot.keypoint_names``)."""
    return points_on_bodies(fk, robot.keypoint_body, robot.keypoint_offset)


def site_positions(robot: RobotModel, fk: BodyTransforms, names: Sequence[str]) -> Array:
    """(..., len(names), 3) world positions of named sites (MJCF sites, keypoints ``kp:NAME``)."""
    index = []
    for name in names:
        if name not in robot.site_names:
            raise KeyError(
                f"robot {robot.name!r} has no site {name!r}; sites: {', '.join(robot.site_names)}"
            )
        index.append(robot.site_names.index(name))
    bodies = [robot.site_body[i] for i in index]
    return points_on_bodies(fk, bodies, robot.site_offset[np.asarray(index, dtype=np.int32)])


def collision_capsules_world(robot: RobotModel, fk: BodyTransforms) -> tuple[Array, Array]:
    """World end points ``(p0, p1)``, each (..., C, 3), of the collision capsules.

    Radii are ``robot.capsule_radius``; spheres have ``p0 == p1``.
    """
    p0 = points_on_bodies(fk, robot.capsule_body, robot.capsule_p0)
    p1 = points_on_bodies(fk, robot.capsule_body, robot.capsule_p1)
    return p0, p1


def body_quat(fk: BodyTransforms) -> Array:
    """(..., B, 4) world orientation of every body as unit ``wxyz`` quaternions."""
    return mat_to_quat(fk.rot)

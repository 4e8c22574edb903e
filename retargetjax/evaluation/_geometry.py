"""Per-frame robot geometry for the metrics: keypoints, soles, capsule bottoms, self-contact.

One jitted function per robot topology runs forward kinematics on a whole clip and reads off
everything the metric families need, so a clip is put through FK once. Clip lengths are
padded (by repeating the last frame) to a power-of-two bucket of at least 32 frames, so
clips of many lengths share a handful of compilations.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._buckets import pad_to_bucket
from ..geometry import segment_segment_distance
from ..types import Array, NDArray

__all__ = ["MotionGeometry", "motion_geometry", "robot_joint_columns"]

#: Smallest padded clip length; lengths are rounded up to a power of two from here.
_MIN_BUCKET = 32


class MotionGeometry(NamedTuple):
    """World-frame geometry of a robot clip, one entry per frame (numpy, float32)."""

    #: (T, K, 3) robot keypoints in ``robot.keypoint_names`` order (m).
    keypoints: NDArray
    #: (T, 2, P, 3) sole contact points of the (left, right) foot (m).
    sole_points: NDArray
    #: (T, C) height of the lowest point of each collision capsule, ``min(z0, z1) − r`` (m).
    capsule_bottom_z: NDArray
    #: (T,) deepest interpenetration over ``robot.collision_pairs`` (m, ≥ 0).
    self_penetration: NDArray
    #: (T,) index into ``robot.collision_pairs`` of the deepest pair (−1 when no pairs).
    self_penetration_pair: NDArray
    #: (T, C, 3) world end points of each collision capsule's segment (m); radii are
    #: ``robot.capsule_radius``. ``None`` only for geometry built by hand without them.
    capsule_p0: NDArray | None = None
    capsule_p1: NDArray | None = None
    #: (T, P) overlap ``max(0, r_i + r_j − d_ij)`` of each of ``robot.collision_pairs`` (m).
    pair_penetration: NDArray | None = None


def robot_joint_columns(motion_joint_names: tuple[str, ...], robot: Any) -> NDArray:
    """Column of each of ``robot.joint_names`` in a motion's ``joint_pos``, matched by name.

    Raises ``ValueError`` naming the robot joints the motion lacks.
    """
    names = tuple(motion_joint_names)
    missing = [n for n in robot.joint_names if n not in names]
    if missing:
        raise ValueError(
            f"motion lacks joints {missing} of robot {robot.name!r} (motion joints: {list(names)})"
        )
    return np.asarray([names.index(n) for n in robot.joint_names], dtype=np.int64)


def _pair_penetration(robot: Any, p0: Array, p1: Array) -> tuple[Array, Array, Array]:
    """Per-frame ``max_pairs max(0, r_i + r_j − d(seg_i, seg_j))``, the argmax pair, and the
    (..., P) overlap of every pair."""
    pairs = robot.collision_pairs
    if pairs is None or pairs.shape[0] == 0:
        zeros = jnp.zeros(p0.shape[:-2], p0.dtype)
        return zeros, jnp.full(p0.shape[:-2], -1, jnp.int32), zeros[..., None][..., :0]
    i, j = pairs[:, 0], pairs[:, 1]
    dist = segment_segment_distance(p0[..., i, :], p1[..., i, :], p0[..., j, :], p1[..., j, :])
    radius = robot.capsule_radius.astype(p0.dtype)
    depth = jnp.maximum(radius[i] + radius[j] - dist, 0.0)
    return jnp.max(depth, axis=-1), jnp.argmax(depth, axis=-1).astype(jnp.int32), depth


@jax.jit
def _geometry_core(robot: Any, root_pos: Array, root_quat: Array, joint_pos: Array):
    from ..robot import collision_capsules_world, forward_kinematics, keypoint_positions

    fk = forward_kinematics(robot, root_pos, root_quat, joint_pos)
    keypoints = keypoint_positions(robot, fk)
    foot = np.asarray(robot.foot_body, dtype=np.int32)
    foot_pos = fk.pos[..., foot, :]  # (T, 2, 3)
    foot_rot = fk.rot[..., foot, :, :]  # (T, 2, 3, 3)
    sole = robot.sole_points.astype(foot_pos.dtype)  # (2, P, 3)
    soles = foot_pos[..., :, None, :] + jnp.einsum("...fij,fpj->...fpi", foot_rot, sole)
    p0, p1 = collision_capsules_world(robot, fk)
    radius = robot.capsule_radius.astype(p0.dtype)
    bottom = jnp.minimum(p0[..., 2], p1[..., 2]) - radius
    pen, pair, pair_depth = _pair_penetration(robot, p0, p1)
    return keypoints, soles, bottom, pen, pair, p0, p1, pair_depth


def motion_geometry(motion: Any, robot: Any) -> MotionGeometry:
    """Run forward kinematics over ``motion`` (a ``RobotMotion``) on ``robot`` (a ``RobotModel``).

    Joint columns are matched to ``robot.joint_names`` by name. Returns a
    :class:`MotionGeometry` of numpy arrays with the clip's T frames.
    """
    columns = robot_joint_columns(motion.joint_names, robot)
    num_frames = int(motion.joint_pos.shape[0])
    joint_pos = pad_to_bucket(np.asarray(motion.joint_pos, np.float32)[:, columns], _MIN_BUCKET)
    root_pos = pad_to_bucket(np.asarray(motion.root_pos, np.float32), _MIN_BUCKET)
    root_quat = pad_to_bucket(np.asarray(motion.root_quat, np.float32), _MIN_BUCKET)
    out = _geometry_core(robot, root_pos, root_quat, joint_pos)
    keypoints, soles, bottom, pen, pair, p0, p1, pair_depth = (
        np.asarray(x)[:num_frames] for x in out
    )
    return MotionGeometry(
        keypoints=keypoints.astype(np.float32),
        sole_points=soles.astype(np.float32),
        capsule_bottom_z=bottom.astype(np.float32),
        self_penetration=pen.astype(np.float32),
        self_penetration_pair=pair.astype(np.int64),
        capsule_p0=p0.astype(np.float32),
        capsule_p1=p1.astype(np.float32),
        pair_penetration=pair_depth.astype(np.float32),
    )

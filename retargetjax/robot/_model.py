"""``RobotModel``: the kinematic tree as a JAX pytree (static topology, array parameters)."""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..types import Array

__all__ = ["BodyTransforms", "RobotModel"]


class BodyTransforms(NamedTuple):
    """World poses of every body, as returned by :func:`forward_kinematics`."""

    #: (..., B, 3) world position of each body frame's origin (m).
    pos: Array
    #: (..., B, 3, 3) world rotation of each body frame: ``v_world = rot @ v_body``.
    rot: Array


# Fields whose values are arrays (pytree leaves); every other field is static aux data.
_ARRAY_FIELDS = (
    "joint_lower",
    "joint_upper",
    "velocity_limit",
    "default_joint_pos",
    "default_root_pos",
    "default_root_quat",
    "keypoint_offset",
    "sole_points",
    "capsule_p0",
    "capsule_p1",
    "capsule_radius",
    "collision_pairs",
    "site_offset",
    "node_rot",
    "node_rot_sin",
    "node_rot_cos",
    "node_pos",
    "node_pos_sin",
    "node_pos_cos",
    "node_pos_lin",
    "node_q_scale",
    "node_q_offset",
)


@dataclasses.dataclass(frozen=True, eq=False)
class RobotModel:
    """A robot's kinematic tree, limits, keypoints, feet and collision capsules.

    Static fields (names, parents, index tuples) are hashable and live in the pytree's aux
    data, so two models with the same topology share compiled code; array fields are leaves.
    Bodies are in file order and body 0 is the floating root. ``N`` actuated 1-DoF joints (no
    free joint, no mimic followers), ``B`` bodies, ``K`` keypoints, ``C`` capsules.

    Forward kinematics runs over *nodes*: one per body, plus one more per extra joint when a
    body carries several joints. Node ``i`` moves its parent node's frame by

    ``R_i = A_i + sin(q_i) S_i + (1 − cos(q_i)) C_i`` and
    ``t_i = a_i + sin(q_i) s_i + (1 − cos(q_i)) c_i + q_i l_i``,

    with ``q_i = scale_i · joint_pos[j_i] + offset_i`` (``0`` for fixed nodes). For a hinge
    about unit axis ``k`` through anchor ``p`` below a fixed offset ``(A, a)`` this is
    ``(A, a)·(I, p)·Rot(k, q)·(I, −p)`` with Rodrigues' ``Rot = I + sin q K + (1−cos q) K²``:
    ``S = A K``, ``C = A K²``, ``s = −S p``, ``c = −C p``; for a slide ``l = A k``.
    Nodes are numbered level by level (depth in the tree), so FK is one batched step per
    level rather than one per body.
    """

    # --- static ------------------------------------------------------------------------
    #: Robot name (from the file or the registry).
    name: str
    #: Body/link names in file order (world excluded); body 0 is the floating root.
    body_names: tuple[str, ...]
    #: Parent body index per body, ``-1`` for the root.
    body_parents: tuple[int, ...]
    #: Actuated 1-DoF joint names in file order.
    joint_names: tuple[str, ...]
    #: Body moved by each joint.
    joint_body: tuple[int, ...]
    #: ``"hinge"`` or ``"slide"`` per joint.
    joint_kind: tuple[str, ...]
    #: Canonical keypoint names present on this robot, in canonical order.
    keypoint_names: tuple[str, ...]
    #: Body index per keypoint.
    keypoint_body: tuple[int, ...]
    #: (left, right) foot body indices (the ankle-roll / foot link).
    foot_body: tuple[int, int]
    #: Body index per collision capsule.
    capsule_body: tuple[int, ...]
    #: Capsule names (``body/geom``, ``body/bone`` for automatic ones).
    capsule_names: tuple[str, ...]
    #: Named sites/points (MJCF sites, plus keypoints) and their body.
    site_names: tuple[str, ...]
    site_body: tuple[int, ...]
    #: FK topology: per level (depth ≥ 1), the node range ``(start, stop)`` and each node's
    #: parent as an index into the previous level's nodes.
    level_ranges: tuple[tuple[int, int], ...]
    level_parents: tuple[tuple[int, ...], ...]
    #: Node (in level order) that carries each body's final frame.
    body_node: tuple[int, ...]
    #: Joint index driving each node (``N`` = none, reads a zero).
    node_joint: tuple[int, ...]
    #: Path of the file the model was read from.
    source: str = ""
    #: SHA-256 of that file's bytes (outputs record it, so a moved or changed file is noticed).
    source_sha256: str = ""
    #: Why each keypoint sits where it does: ``topology``, ``name``, ``yaml`` or ``registry``
    #: (hand-checked, bundled robots), per entry of ``keypoint_names``.
    keypoint_reason: tuple[str, ...] = ()
    #: The mapping report (a printable table plus any warnings), as printed when loaded.
    mapping_report: str = ""

    # --- arrays ------------------------------------------------------------------------
    #: (N,) lower / upper position limits (rad or m); ±inf where unlimited.
    joint_lower: Array = None
    joint_upper: Array = None
    #: (N,) velocity limits (rad/s or m/s); +inf where the file gives none.
    velocity_limit: Array = None
    #: (N,) standing pose, inside the limits.
    default_joint_pos: Array = None
    #: (3,) standing root position, feet on z = 0 (m).
    default_root_pos: Array = None
    #: (4,) standing root orientation ``wxyz``: the root body's orientation in the file (the
    #: identity unless the file turns its root, e.g. a y-up tree stood up by the root's euler).
    default_root_quat: Array = None
    #: (K, 3) keypoint offsets in their body's frame (m).
    keypoint_offset: Array = None
    #: (2, P, 3) sole contact points of (left, right) foot in the foot body frame (m); their z
    #: is where the sole touches the ground. Order: toe +y, toe −y, heel +y, heel −y.
    sole_points: Array = None
    #: (C, 3) capsule segment end points in the capsule's body frame (m); equal for spheres.
    capsule_p0: Array = None
    capsule_p1: Array = None
    #: (C,) capsule radii (m).
    capsule_radius: Array = None
    #: (P, 2) int32 capsule index pairs that may collide (see ``retargetjax.robot`` docs).
    collision_pairs: Array = None
    #: (S, 3) site offsets in their body frame (m).
    site_offset: Array = None
    #: FK node parameters, level order (see the class docstring).
    node_rot: Array = None
    node_rot_sin: Array = None
    node_rot_cos: Array = None
    node_pos: Array = None
    node_pos_sin: Array = None
    node_pos_cos: Array = None
    node_pos_lin: Array = None
    node_q_scale: Array = None
    node_q_offset: Array = None

    # --- conveniences -------------------------------------------------------------------
    @property
    def num_joints(self) -> int:
        """``N``, the number of actuated joints."""
        return len(self.joint_names)

    @property
    def num_bodies(self) -> int:
        """``B``, the number of bodies."""
        return len(self.body_names)

    def body_index(self, name: str) -> int:
        """Index of body ``name``; ``KeyError`` listing the bodies otherwise."""
        try:
            return self.body_names.index(name)
        except ValueError:
            raise KeyError(
                f"robot {self.name!r} has no body {name!r}; bodies: {', '.join(self.body_names)}"
            ) from None

    def joint_index(self, name: str) -> int:
        """Index of joint ``name``; ``KeyError`` listing the joints otherwise."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(
                f"robot {self.name!r} has no joint {name!r}; joints: {', '.join(self.joint_names)}"
            ) from None

    def astype(self, dtype: Any) -> RobotModel:
        """The same model with its float arrays cast to ``dtype`` (e.g. float64 under x64)."""
        changes = {}
        for f in _ARRAY_FIELDS:
            value = getattr(self, f)
            if value is not None and jnp.issubdtype(jnp.asarray(value).dtype, jnp.floating):
                changes[f] = jnp.asarray(value, dtype=dtype)
        return dataclasses.replace(self, **changes)


_STATIC_FIELDS = tuple(
    f.name for f in dataclasses.fields(RobotModel) if f.name not in _ARRAY_FIELDS
)


def _flatten(model: RobotModel):
    children = tuple(getattr(model, f) for f in _ARRAY_FIELDS)
    aux = tuple(getattr(model, f) for f in _STATIC_FIELDS)
    return children, aux


def _flatten_with_keys(model: RobotModel):
    children = tuple((jax.tree_util.GetAttrKey(f), getattr(model, f)) for f in _ARRAY_FIELDS)
    aux = tuple(getattr(model, f) for f in _STATIC_FIELDS)
    return children, aux


def _unflatten(aux, children) -> RobotModel:
    kwargs = dict(zip(_STATIC_FIELDS, aux))
    kwargs.update(zip(_ARRAY_FIELDS, children))
    model = object.__new__(RobotModel)
    for key, value in kwargs.items():
        object.__setattr__(model, key, value)
    return model


jax.tree_util.register_pytree_with_keys(
    RobotModel, _flatten_with_keys, _unflatten, flatten_func=_flatten
)


def as_numpy(value: Array) -> np.ndarray:
    """Host copy of an array field (for parse-time and report code)."""
    return np.asarray(value)

"""The solver's data: named weights, per-frame targets, the iterate, and points on bodies.

Everything the jitted solve receives or carries is a ``NamedTuple`` of arrays (a pytree), so
a new cost term adds a field here and a residual in :mod:`._costs`, never a position in a
vector or a key in a dict. Shapes below are for one frame; the solver stacks frames
(``(W, ...)`` per window, ``(n, W, ...)`` per stack of windows) and vmaps over them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from ..geometry import quat_exp, quat_mul, quat_normalize
from ..robot import RobotModel, box_rails
from ..robot._jacobian import point_tangents
from ..types import Array
from ._config import CostWeights, SolverConfig
from ._costs import capsule_bottom_z

__all__ = [
    "CONTACT_PARTS",
    "OPTIMIZERS",
    "BodyPoints",
    "FrameData",
    "FrameState",
    "SolverStatic",
    "Weights",
    "Window",
    "WindowData",
    "body_points",
    "contact_part_capsules",
    "lowest_height",
    "points_and_tangents",
    "project_to_floor",
    "project_to_limits",
    "retract",
    "robot_boxes",
    "segment_ids",
]

OPTIMIZERS = ("gauss_newton", "adam", "lbfgs")
#: Body parts whose contacts the solver holds besides the feet (the feet have their soles),
#: in :data:`retargetjax.motion.BODY_PARTS` order.
CONTACT_PARTS = (
    "left_hand",
    "right_hand",
    "left_elbow",
    "right_elbow",
    "left_knee",
    "right_knee",
    "pelvis",
    "back",
    "head",
)


def contact_part_capsules(robot: RobotModel) -> tuple[tuple[int, ...], ...]:
    """The robot's collision capsules of each of :data:`CONTACT_PARTS`."""
    from ..robot._body_groups import part_capsules

    caps = part_capsules(robot, CONTACT_PARTS)
    return tuple(tuple(int(c) for c in caps[p]) for p in CONTACT_PARTS)


class Weights(NamedTuple):
    """Cost weights as traced scalars (sweeping one does not recompile); each residual
    enters the cost as ``w |r|²`` (see :mod:`._costs` for each term's math)."""

    keypoint: Array
    """Keypoint position tracking."""
    orientation: Array
    """Pelvis/torso built-frame tracking."""
    contact: Array
    """Planted sole points at floor height."""
    ground: Array
    """No collision primitive or sole point below the floor."""
    self_collision: Array
    """No interpenetration of non-adjacent capsules."""
    smooth: Array
    """Joint and root velocity and acceleration."""
    velocity_limit: Array
    """Joint speed above the robot's limit."""
    default_pose: Array
    """Pull towards the standing pose."""
    slip: Array
    """No horizontal motion of planted sole points."""
    part_contact: Array
    """Planted body parts (hands, elbows, knees, pelvis, back, head) at their support."""

    @classmethod
    def from_config(cls, costs: CostWeights) -> Weights:
        """The weights of a :class:`~retargetjax.retarget.CostWeights` (float32 scalars;
        ``end_effector`` is not here: it is baked into the targets' keypoint weights)."""
        return cls(*(jnp.asarray(getattr(costs, name), jnp.float32) for name in cls._fields))


class FrameData(NamedTuple):
    """Targets and labels of one frame (every field gains the leading ``(W,)`` or
    ``(n, W)`` of a window or a stack; clips packed side by side keep their own values)."""

    target_keypoints: Array
    """(K, 3) m, robot-sized keypoint targets."""
    keypoint_weight: Array
    """(K,) per-keypoint weight (0 where the clip lacks the keypoint)."""
    target_frames: Array
    """(F, 3, 3) target built frames (pelvis, torso)."""
    frame_weight: Array
    """(F,) 0 where the clip lacks a frame's keypoints."""
    sole_contact: Array
    """(2, P) 1 where the human has that sole point (toe/heel side) down."""
    contact: Array
    """(2,) human foot contact, left and right."""
    mask: Array
    """() 1 for a real frame, 0 for padding or a gap between packed clips."""
    part_contact: Array | None = None
    """(B,) weight in [0, 1] of each body part's contact (:data:`CONTACT_PARTS` order; ramped
    at the label's edges); ``None``: no part contacts."""
    part_support: Array | None = None
    """(B,) m, the height (robot frame) of the support a planted part rests on."""


class FrameState(NamedTuple):
    """The iterate of one frame: root pose and joint angles."""

    root_pos: Array
    """(3,) m, world."""
    root_quat: Array
    """(4,) unit ``wxyz``."""
    joint_pos: Array
    """(N,) rad (or m for slides)."""


class WindowData(NamedTuple):
    """The solver's input for a stack of windows: every leaf has leading ``(n, W)``."""

    frames: FrameData
    """Targets and labels of every frame."""
    start: FrameState
    """The initial guess."""


class BodyPoints(NamedTuple):
    """The points the costs look at, in world coordinates (one frame)."""

    keypoints: Array
    """(K, 3) the robot's canonical keypoints."""
    soles: Array
    """(2, P, 3) sole points of the left and right foot."""
    capsule_a: Array
    """(C, 3) first end of every collision capsule."""
    capsule_b: Array
    """(C, 3) second end (radii are ``robot.capsule_radius``)."""


@dataclass(frozen=True)
class SolverStatic:
    """What fixes the compiled program (hashable; part of the jit cache key)."""

    frame_keypoints: tuple[tuple[int, int, int, int], ...]
    init_iterations: int
    iterations: int
    optimizer: str
    learning_rate: float
    damping: float
    max_pairs: int = 32
    cg_iterations: int = 16
    init_stride: int = 1
    warm_start: bool = False
    init_tolerance: float = 0.0
    still_feet_effort: float = 1.0
    still_step_mm: float = 6.0
    part_capsules: tuple[tuple[int, ...], ...] = ()
    """Collision capsules of each of :data:`CONTACT_PARTS` (empty: the robot lacks it)."""

    @classmethod
    def from_config(
        cls,
        solver: SolverConfig,
        frame_keypoints: tuple[tuple[int, int, int, int], ...],
        part_capsules: tuple[tuple[int, ...], ...] = (),
    ) -> SolverStatic:
        """From a :class:`~retargetjax.retarget.SolverConfig` (its fields of the same names),
        the problem's frames and the robot's capsules of each contact part."""
        skip = ("frame_keypoints", "part_capsules")
        names = [f.name for f in fields(cls) if f.name not in skip]
        return cls(
            frame_keypoints,
            **{name: getattr(solver, name) for name in names},
            part_capsules=part_capsules,
        )


class Window(NamedTuple):
    """One window's least-squares problem, as every window-level function takes it."""

    frames: FrameData
    """Targets and labels, (W, ...) leaves."""
    weights: Weights
    """The cost weights."""
    fps: Array
    """() the solve rate (Hz)."""
    static: SolverStatic
    """The compiled settings."""
    pairs: Array | None
    """(P, 2) capsule pairs checked for self-collision (``None``: none)."""


# --- points on bodies ----------------------------------------------------------------------
# The stacked point layout ``[keypoints (K), soles (2P), capsule_a (C), capsule_b (C)]`` is
# written here once: ``_point_layout`` gives bodies and offsets, ``_split`` reads it back.


def _point_layout(robot: RobotModel) -> tuple[tuple[int, ...], Array]:
    """Body of every stacked point, and its offset (M, 3) in that body's frame."""
    P = robot.sole_points.shape[1]
    feet = tuple(int(f) for f in robot.foot_body for _ in range(P))
    caps = tuple(int(b) for b in robot.capsule_body)
    bodies = tuple(int(b) for b in robot.keypoint_body) + feet + caps + caps
    offsets = jnp.concatenate(
        [
            robot.keypoint_offset,
            robot.sole_points.reshape(-1, 3),
            robot.capsule_p0,
            robot.capsule_p1,
        ]
    )
    return bodies, offsets


def _split(robot: RobotModel, stacked: Array) -> BodyPoints:
    """:class:`BodyPoints` from stacked points (..., M, 3) (or tangents (..., D, M, 3))."""
    K = len(robot.keypoint_names)
    C = len(robot.capsule_body)
    S = int(np.prod(robot.sole_points.shape[:2]))
    soles = stacked[..., K : K + S, :]
    return BodyPoints(
        keypoints=stacked[..., :K, :],
        soles=soles.reshape(*soles.shape[:-2], *robot.sole_points.shape),
        capsule_a=stacked[..., K + S : K + S + C, :],
        capsule_b=stacked[..., K + S + C :, :],
    )


def points_and_tangents(robot: RobotModel, x: FrameState) -> tuple[BodyPoints, BodyPoints]:
    """The points and their tangents ``∂p/∂δ_k`` (each field with an extra ``(D,)`` before
    the point axis), for frames of any batch shape, from one FK sweep
    (:func:`~retargetjax.robot._jacobian.point_tangents`)."""
    bodies, offsets = _point_layout(robot)
    pts, tangents = point_tangents(robot, x.root_pos, x.root_quat, x.joint_pos, bodies, offsets)
    return _split(robot, pts), _split(robot, tangents)


def body_points(robot: RobotModel, x: FrameState) -> BodyPoints:
    """The points of frames of any batch shape (the FK sweep without the Jacobian)."""
    from ..robot._fk import body_point_positions

    bodies, offsets = _point_layout(robot)
    return _split(
        robot, body_point_positions(robot, x.root_pos, x.root_quat, x.joint_pos, bodies, offsets)
    )


def moved_points(points: BodyPoints, tangents: BodyPoints, delta: Array) -> BodyPoints:
    """First-order points after a step ``delta`` (D,) of one frame: ``p + Σ_k δ_k ∂p/∂δ_k``."""
    return BodyPoints(*(p + jnp.tensordot(delta, t, axes=(0, 0)) for p, t in zip(points, tangents)))


# --- the iterate ---------------------------------------------------------------------------


def retract(x: FrameState, delta: Array) -> FrameState:
    """``x ⊕ δ`` for ``δ = (δp, δθ, δq)`` (..., 6 + N): ``p + δp``, ``quat ⊗ exp(δθ)``
    (rotation vector in the root frame), ``q + δq``."""
    return FrameState(
        x.root_pos + delta[..., :3],
        quat_normalize(quat_mul(x.root_quat, quat_exp(delta[..., 3:6]))),
        x.joint_pos + delta[..., 6:],
    )


def project_to_limits(robot: RobotModel, x: FrameState) -> FrameState:
    """Joint angles clipped into the robot's limits (any NamedTuple with ``joint_pos``):
    the one projection every optimiser applies after every step."""
    return x._replace(joint_pos=jnp.clip(x.joint_pos, robot.joint_lower, robot.joint_upper))


def robot_boxes(robot: RobotModel) -> tuple[tuple[int, ...], ...]:
    """The rail indices of each of the robot's boxes (:func:`~retargetjax.robot.box_rails`),
    static (read off the model's topology at trace time)."""
    return tuple(box_rails(robot))


def lowest_height(robot: RobotModel, points: BodyPoints) -> Array:
    """``z_low = min(min_c z_low,c, min_p z_p)`` for points of any batch shape (...,): the
    lowest point of any collision primitive (:func:`~retargetjax.retarget._costs.
    capsule_bottom_z`, boxes by their corners) or sole point."""
    caps = capsule_bottom_z(
        points.capsule_a, points.capsule_b, robot.capsule_radius, robot_boxes(robot)
    )
    soles = points.soles[..., 2].reshape(*points.soles.shape[:-3], -1)
    return jnp.minimum(jnp.min(caps, axis=-1), jnp.min(soles, axis=-1))


def project_to_floor(
    robot: RobotModel, x: FrameState, points: BodyPoints | None = None
) -> tuple[FrameState, BodyPoints]:
    """Every frame lifted out of the floor, and its points: ``p_z ← p_z + max(0, −z_low)``
    with ``z_low`` (:func:`lowest_height`) the lowest point of the robot's collision geometry
    (``points`` are ``x``'s :func:`body_points` where the caller has them).

    Lifting the root by ``d`` lifts every point by ``d``, so afterwards no capsule or sole
    point is below ``z = 0``, and the lifted points need no second FK sweep. Applied after
    every step beside :func:`project_to_limits`, it makes "no ground penetration" hold
    exactly, as the joint limits do, while the ground cost
    (:func:`~retargetjax.retarget._costs.ground_residual`) keeps the pose out of the floor so
    that the lift is rarely needed (a frame it lifts pays in the contact terms: its feet
    leave the floor, so the optimiser bends the pose instead).
    """
    points = body_points(robot, x) if points is None else points
    lift = jnp.maximum(-lowest_height(robot, points), 0.0)
    up = jnp.stack([jnp.zeros_like(lift), jnp.zeros_like(lift), lift], axis=-1)  # (..., 3)
    lifted = BodyPoints(
        keypoints=points.keypoints + up[..., None, :],
        soles=points.soles + up[..., None, None, :],
        capsule_a=points.capsule_a + up[..., None, :],
        capsule_b=points.capsule_b + up[..., None, :],
    )
    return x._replace(root_pos=x.root_pos + up), lifted


def segment_ids(mask: Array) -> Array:
    """(W,) index of the segment (run of valid frames) each frame belongs to; a masked
    frame takes the segment before it (it carries no cost and never moves)."""
    valid = mask > 0
    start = valid & ~jnp.concatenate([jnp.zeros((1,), bool), valid[:-1]])
    return jnp.maximum(jnp.cumsum(start.astype(jnp.int32)) - 1, 0)

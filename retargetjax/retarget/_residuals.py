"""The weighted residuals of the whole problem, assembled from named terms.

Each term is a residual function of :mod:`._costs` and the name of its weight in
:class:`~retargetjax.retarget._problem.Weights`; the problem's residual stacks ``√w r`` over
:data:`FRAME_TERMS` (per frame) and :data:`TEMPORAL_TERMS` (over a window). Adding a cost
term is one residual function, one :class:`Weights` field and one line in a table here: the
Gauss-Newton stages linearise it, precondition it and line-search it without further code.

Self-collision is a per-frame term with its own entry point (:func:`self_collision`): its
pairs are chosen per window and its Jacobian is built in closed form
(:func:`~retargetjax.retarget._linearize.self_collision_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..robot import RobotModel
from ..types import Array
from ._costs import (
    contact_height_residual,
    cost_by_first_frame,
    default_pose_residual,
    ground_residual,
    keypoint_residual,
    orientation_residual,
    part_contact_residual,
    self_collision_residual,
    slip_residual,
    smoothness_residual,
    velocity_limit_residual,
)
from ._problem import (
    BodyPoints,
    FrameData,
    FrameState,
    SolverStatic,
    Weights,
    Window,
    body_points,
    robot_boxes,
)
from ._temporal_blocks import slip_blocks, smoothness_blocks, velocity_limit_blocks

__all__ = [
    "FRAME_TERMS",
    "TEMPORAL_TERMS",
    "FrameTerm",
    "TemporalTerm",
    "frame_costs",
    "frame_residual",
    "self_collision",
    "temporal_residual",
    "window_frame_cost",
]


class FrameTerm(NamedTuple):
    """A per-frame cost term: its weight's name and its residual (one frame)."""

    weight: str
    residual: Callable[[RobotModel, BodyPoints, Array, FrameData, SolverStatic], Array]
    """``(robot, points, joint_pos (N,), frame, static) -> r (R,)``."""
    joint_offset: bool = False
    """``True`` for a residual ``r = q − c`` (N,) with ``c`` independent of the pose: its
    Jacobian is the constant ``[0 | I_N]``, so the Gauss-Newton stages add its share
    ``w diag(0₆, I_N)`` to ``JᵀJ`` and ``w r`` to ``Jᵀr`` in closed form
    (:func:`~retargetjax.retarget._linearize.linearize_frames`) instead of
    differentiating it."""


class TemporalTerm(NamedTuple):
    """A term coupling neighbouring frames: its weight's name and its residual (a window),
    returning steps (leading axis: first frame coupled; see :mod:`._costs`), and optionally
    the closed form of its Gauss-Newton blocks (else the solver probes them)."""

    weight: str
    residual: Callable[[RobotModel, Array, FrameState, FrameData, Array], Array | tuple]
    """``(robot, soles (W, 2, P, 3), x (W, ...), frames (W, ...), fps) -> steps``."""
    blocks: Callable[..., Array] | None = None
    """``(robot, soles, sole_tangents (W, D, 2, P, 3), x, frames, fps) -> (W, D, D)`` the
    diagonal blocks ``(TᵀT)_tt`` of the residual at weight 1 (see :mod:`._temporal_blocks`);
    ``None``: read off the residual by probing."""


FRAME_TERMS: tuple[FrameTerm, ...] = (
    FrameTerm(
        "keypoint",
        lambda robot, pts, q, fr, st: keypoint_residual(
            pts.keypoints, fr.target_keypoints, fr.keypoint_weight
        ),
    ),
    FrameTerm(
        "orientation",
        lambda robot, pts, q, fr, st: orientation_residual(
            pts.keypoints, fr.target_frames, fr.frame_weight, st.frame_keypoints
        ),
    ),
    FrameTerm(
        "contact",
        lambda robot, pts, q, fr, st: contact_height_residual(pts.soles, fr.sole_contact),
    ),
    FrameTerm(
        "ground",
        lambda robot, pts, q, fr, st: ground_residual(
            pts.soles, pts.capsule_a, pts.capsule_b, robot.capsule_radius, robot_boxes(robot)
        ),
    ),
    FrameTerm(
        "part_contact",
        lambda robot, pts, q, fr, st: (
            jnp.zeros((0,), q.dtype)
            if fr.part_contact is None
            else part_contact_residual(
                pts.capsule_a,
                pts.capsule_b,
                robot.capsule_radius,
                st.part_capsules,
                fr.part_contact,
                fr.part_support,
                robot_boxes(robot),
            )
        ),
    ),
    FrameTerm(
        "default_pose",
        lambda robot, pts, q, fr, st: default_pose_residual(q, robot.default_joint_pos),
        joint_offset=True,
    ),
)

TEMPORAL_TERMS: tuple[TemporalTerm, ...] = (
    TemporalTerm(
        "smooth",
        lambda robot, soles, x, fr, fps: smoothness_residual(
            x.joint_pos, x.root_pos, x.root_quat, fr.mask, fps, fr.contact, fr.part_contact
        ),
        lambda robot, soles, tangents, x, fr, fps: smoothness_blocks(
            x, fr.mask, fps, fr.contact, fr.part_contact
        ),
    ),
    TemporalTerm(
        "slip",
        lambda robot, soles, x, fr, fps: slip_residual(
            soles, fr.sole_contact, fr.mask, fr.contact, fps
        ),
        lambda robot, soles, tangents, x, fr, fps: slip_blocks(soles, tangents, fr, fps),
    ),
    TemporalTerm(
        "velocity_limit",
        lambda robot, soles, x, fr, fps: velocity_limit_residual(
            x.joint_pos, robot.velocity_limit, fr.mask, fps
        ),
        lambda robot, soles, tangents, x, fr, fps: velocity_limit_blocks(
            x.joint_pos, robot.velocity_limit, fr.mask, fps
        ),
    ),
)


def frame_residual(
    robot: RobotModel,
    points: BodyPoints,
    joint_pos: Array,
    frame: FrameData,
    weights: Weights,
    static: SolverStatic,
    terms: tuple[FrameTerm, ...] = FRAME_TERMS,
) -> Array:
    """``[√w_term r_term]`` over ``terms`` (by default every :data:`FRAME_TERMS` entry) for
    one frame, (R,)."""
    return jnp.concatenate(
        [
            jnp.sqrt(getattr(weights, term.weight))
            * term.residual(robot, points, joint_pos, frame, static)
            for term in terms
        ]
    )


def self_collision(robot: RobotModel, points: BodyPoints, pairs: Array, weights: Weights) -> Array:
    """``√w_sc r_sc`` (P,) of one frame over the capsule ``pairs`` (P, 2)."""
    r = self_collision_residual(points.capsule_a, points.capsule_b, robot.capsule_radius, pairs)
    return jnp.sqrt(weights.self_collision) * r


def temporal_residual(
    robot: RobotModel,
    soles: Array,
    x: FrameState,
    frames: FrameData,
    weights: Weights,
    fps: Array,
    terms: tuple[TemporalTerm, ...] = TEMPORAL_TERMS,
) -> tuple[Array, ...]:
    """The weighted steps ``√w_term e_term`` of every entry of ``terms`` (by default every
    :data:`TEMPORAL_TERMS` entry) over one window (a flat tuple of arrays, each with the
    first frame coupled as leading axis)."""
    steps: list[Array] = []
    for term in terms:
        k = jnp.sqrt(getattr(weights, term.weight))
        steps += [
            k * e for e in jax.tree_util.tree_leaves(term.residual(robot, soles, x, frames, fps))
        ]
    return tuple(steps)


def frame_costs(
    robot: RobotModel,
    x: FrameState,
    frames: FrameData,
    weights: Weights,
    static: SolverStatic,
    pairs: Array | None = None,
    points: BodyPoints | None = None,
) -> Array:
    """(T,) ``|r_t|² + |r^sc_t|²`` of frames ``x`` (leading axis T), unmasked: the weighted
    per-frame residual and the self-collision residual over ``pairs`` (none if ``None``);
    ``points`` are ``x``'s :func:`body_points` where the caller has them."""
    points = body_points(robot, x) if points is None else points

    def one(p: BodyPoints, q: Array, fr: FrameData) -> Array:
        r = frame_residual(robot, p, q, fr, weights, static)
        if pairs is not None:
            r = jnp.concatenate([r, self_collision(robot, p, pairs, weights)])
        return jnp.sum(r * r)

    return jax.vmap(one)(points, x.joint_pos, frames)


def window_frame_cost(
    robot: RobotModel, x: FrameState, window: Window, points: BodyPoints | None = None
) -> Array:
    """(W,) one window's cost split by frame:

    ``c_t = m_t (|r_t|² + |r^sc_t|²) + |e|²_t`` (:func:`frame_costs`), with ``|e|²_t`` the
    temporal cost of the rows starting at frame ``t``; the window's cost is ``Σ_t c_t``, and
    a run of valid frames' cost is its own sum. ``points`` are ``x``'s :func:`body_points`
    where the caller has them.
    """
    frames, weights = window.frames, window.weights
    points = body_points(robot, x) if points is None else points
    per_frame = frames.mask * frame_costs(
        robot, x, frames, weights, window.static, window.pairs, points
    )
    steps = temporal_residual(robot, points.soles, x, frames, weights, window.fps)
    return per_frame + cost_by_first_frame(steps, frames.mask.shape[0])

"""Temporal cost terms: residuals over a window that couple neighbouring frames.

Notation as in :mod:`._costs`. Each function takes a window (leading axis ``T``) and
returns *steps*: arrays whose leading axis is the first frame of the frames they couple
(``T − 1`` rows for a first difference, ``T − 2`` for a second), or a tuple of such arrays;
:func:`~retargetjax.retarget._costs.flatten`, :func:`~retargetjax.retarget._costs.
sum_of_squares` and :func:`~retargetjax.retarget._costs.cost_by_first_frame` read them.
The closed forms of their Gauss-Newton blocks are in :mod:`._temporal_blocks`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..geometry import quat_conj, quat_log, quat_mul
from ..types import Array

__all__ = [
    "FLOOR_TOUCH_M",
    "REFERENCE_FPS",
    "SLIP_TOUCH_EDGE_S",
    "SLIP_TOUCH_WEIGHT",
    "STENCIL_FRAMES",
    "TOUCHDOWN_ACCEL_WEIGHT",
    "TOUCHDOWN_RELIEF_S",
    "planted_steps",
    "planted_touch",
    "slip_gate",
    "slip_residual",
    "smoothness_residual",
    "touchdown_relief",
    "velocity_limit_residual",
]

#: A sole point lower than this (m) touches the floor.
FLOOR_TOUCH_M = 0.015
#: Factor on the slip gate of a sole point that touches the floor while the human's foot is
#: down, away from the contact's ends (see :func:`slip_gate`).
SLIP_TOUCH_WEIGHT = 2.0
#: Time (s) from a contact's first and last frames within which the factor does not apply.
SLIP_TOUCH_EDGE_S = 5.0 / 30.0
#: Reference frame rate (Hz) at which temporal weights are defined.
REFERENCE_FPS = 30.0
#: Most consecutive frames one temporal residual row couples (second differences: 3).
STENCIL_FRAMES = 3


def _contact_interior(contact: Array, reach: Array) -> Array:
    """(T, 2) 1 where a contact (``contact`` (T, 2) > 0.5) has lasted more than ``reach``
    frames and lasts more than ``reach`` frames more (a contact running past the window's
    ends counts as going on)."""
    T = contact.shape[0]
    t = jnp.arange(T)[:, None]
    off = contact < 0.5
    last_off = jax.lax.cummax(jnp.where(off, t, -(T + 1)), axis=0)
    next_off = jax.lax.cummin(jnp.where(off, t, 2 * T + 1), axis=0, reverse=True)
    return ((t - last_off > reach) & (next_off - t > reach)).astype(contact.dtype)


def slip_gate(
    sole_points: Array,
    sole_contact: Array,
    mask: Array,
    foot_contact: Array | None = None,
    fps: Array | float = REFERENCE_FPS,
) -> Array:
    """(T−1, 2, P) gate ``g_tp ∈ [0, κ]`` of :func:`slip_residual`, held constant in gradients.

    A sole point may not move horizontally between two frames in which the human has that
    part of the foot down (label ``c_tp c_{t+1,p}``), nor while the human's foot is in
    contact (``foot_contact`` (T, 2)) and the point touches the floor (``z < FLOOR_TOUCH_M``
    at both frames, ``τ_tp = 1``) — a point that touches the floor and slides is skating
    whatever the labels say:

    ``g_tp = max(c_tp c_{t+1,p}, τ_tp) · (1 + (κ − 1) τ_tp ι_t)``, ``κ = SLIP_TOUCH_WEIGHT``,

    ``ι_t = 1`` at both frames farther than ``SLIP_TOUCH_EDGE_S`` from the foot contact's
    first and last frames. The touching points weigh ``κ`` times more there because a
    penalty on each step's motion lets a planted point creep: ``N`` steps of ``d`` cost
    ``w N d²``, so a drift ``D`` over ``N`` frames costs only ``w D² / N``, and in a long
    contact (lying, kneeling, a get-up) a steady pull of the tracking terms slides the foot
    a few millimetres every frame. The points on the floor are the ones a tracker (and the
    skating metric) sees slide; a labelled point held in the air (a heel above the toes of
    a foot the robot cannot lay flat) keeps weight 1, so the foot can still pivot about the
    points on the floor. A touchdown or a lift-off keeps weight 1: the heavier points there
    moved the foot's other points more (the H1 climb's step down: 7.1 → 10.6 mm at κ = 3).
    """
    gate = sole_contact[1:] * sole_contact[:-1]
    if foot_contact is not None:
        touch = planted_touch(sole_points, foot_contact)
        reach = jnp.asarray(fps, sole_points.dtype) * SLIP_TOUCH_EDGE_S
        inner = _contact_interior(foot_contact, reach)
        inner = (inner[1:] * inner[:-1])[..., None]
        gate = jnp.maximum(gate, touch) * (1.0 + (SLIP_TOUCH_WEIGHT - 1.0) * touch * inner)
    both = gate * (mask[1:] * mask[:-1])[:, None, None]
    return jax.lax.stop_gradient(both)


def planted_touch(sole_points: Array, foot_contact: Array) -> Array:
    """(T−1, 2, P) 1 where sole point ``p`` touches the floor (``z < FLOOR_TOUCH_M``) at
    frames ``t`` and ``t+1`` while the human's foot is down at both (``foot_contact`` (T, 2)):
    the points whose horizontal motion is skating (:func:`slip_gate`, :func:`planted_steps`)."""
    low = (sole_points[..., 2] < FLOOR_TOUCH_M).astype(sole_points.dtype)
    return low[1:] * low[:-1] * (foot_contact[1:] * foot_contact[:-1])[..., None]


def planted_steps(
    sole_points: Array, mask: Array, foot_contact: Array, fps: Array | float = REFERENCE_FPS
) -> Array:
    """(T−1, 2, P) horizontal step of each touching sole point under a planted foot, in m
    per 30 fps frame (0 elsewhere): ``|xy(s_{t+1,p} − s_tp)| · fps/30`` where
    :func:`planted_touch` and both frames are valid (the skating the quality metric counts).
    """
    touch = planted_touch(sole_points, foot_contact) * (mask[1:] * mask[:-1])[:, None, None]
    dxy = sole_points[1:, ..., :2] - sole_points[:-1, ..., :2]
    step = jnp.sqrt(jnp.sum(dxy * dxy, axis=-1) + 1e-18)
    return jax.lax.stop_gradient(touch * step * (jnp.asarray(fps) / REFERENCE_FPS))


def slip_residual(
    sole_points: Array,
    sole_contact: Array,
    mask: Array,
    foot_contact: Array | None = None,
    fps: Array | float = REFERENCE_FPS,
) -> Array:
    """Foot skating over a window, (T−1, 2, P, 2) steps:

    ``r_tp = √g_tp · xy(s_{t+1,p} − s_tp)``, cost ``Σ_t Σ_p g_tp |xy(s_{t+1,p} − s_tp)|²``,

    with ``sole_points`` (T, 2, P, 3), ``sole_contact`` (T, 2, P) and the gate ``g`` of
    :func:`slip_gate` (masks included; 0 to ``SLIP_TOUCH_WEIGHT``), held constant in the
    gradient, so lifting a foot is never a way to avoid the cost.
    """
    gate = slip_gate(sole_points, sole_contact, mask, foot_contact, fps)
    both = jnp.sqrt(jnp.clip(gate, 0.0))
    dxy = sole_points[1:, ..., :2] - sole_points[:-1, ..., :2]
    return both[..., None] * dxy


#: Weight of the joints' acceleration rows at a foot's touchdown (see :func:`touchdown_relief`).
TOUCHDOWN_ACCEL_WEIGHT = 0.3
#: Reach (s) of the relief either side of a touchdown frame (one frame at 30 fps).
TOUCHDOWN_RELIEF_S = 1.0 / 30.0
#: Most frames either side of a touchdown that the relief can reach (at 120 fps: 4).
_TOUCHDOWN_MAX_FRAMES = 4


def touchdown_relief(
    contact: Array | None, mask: Array, fps: Array, part_contact: Array | None = None
) -> Array:
    """(T−2,) weight of each joint-acceleration row ``Δ²q_t`` (centred on frame ``t+1``).

    A foot that lands stops within a frame or two: the human's joint velocities change
    abruptly at a touchdown (the first frame ``t₀`` of a contact, ``c_{t₀} = 1``,
    ``c_{t₀−1} = 0``, either foot). A uniform acceleration penalty smooths that stop over
    several frames, so the robot's foot lands late and skids on the floor. The rows centred
    within :data:`TOUCHDOWN_RELIEF_S` of a touchdown weigh :data:`TOUCHDOWN_ACCEL_WEIGHT`,
    the others 1: ``w_t = ρ`` if ``∃ t₀: |t + 1 − t₀|·(1/fps) ≤ Δ``, else 1. The root's rows
    keep their weight (a landing does not jerk the pelvis). A foot put down while a body
    part holds the body (``part_contact`` (T, B) > 0 at ``t₀``: hands and knees in a get-up)
    is placed, not landed, and gets no relief. ``contact`` is (T, 2) or ``None`` (all 1).
    """
    mask = jnp.asarray(mask)
    T = mask.shape[0]
    if contact is None or T < 3:
        return jnp.ones((max(T - 2, 0),), mask.dtype)
    down = (contact > 0.5) & (mask[:, None] > 0)
    # frame t+1 is a touchdown: down there, up at the real frame t (a clip's first frame,
    # or one after padding, is not a landing)
    onset = jnp.any(down[1:] & ~down[:-1], axis=-1) & (mask[:-1] > 0)  # (T−1,)
    if part_contact is not None and part_contact.shape[-1]:
        # a foot put down while hands, knees or the trunk hold the body is placed, not landed
        onset = onset & ~jnp.any(part_contact[1:] > 0, axis=-1)
    onset = jnp.concatenate([jnp.zeros((1,), bool), onset])  # (T,)
    near = onset
    for s in range(1, _TOUCHDOWN_MAX_FRAMES + 1):
        reach = s / fps <= TOUCHDOWN_RELIEF_S * (1 + 1e-3)
        pad = jnp.zeros((s,), bool)
        later = jnp.concatenate([onset[s:], pad])  # onset s frames after t
        earlier = jnp.concatenate([pad, onset[:-s]])  # onset s frames before t
        near = near | (reach & (later | earlier))
    return jnp.where(near[1:-1], TOUCHDOWN_ACCEL_WEIGHT, 1.0).astype(mask.dtype)


def smoothness_residual(
    joint_pos: Array,
    root_pos: Array,
    root_quat: Array,
    mask: Array,
    fps: Array,
    contact: Array | None = None,
    part_contact: Array | None = None,
) -> tuple[Array, ...]:
    """Velocity and acceleration of joints and root over a window (per frame at 30 fps),
    steps ``(√0.1 Δq, √0.1 Δp)`` (T−1, ·) and ``(√w Δ²q, Δ²p, Δω)`` (T−2, ·); the cost is

    ``Σ_t 0.1 |Δq_t|² + w_t |Δ²q_t|² + 0.1 |Δp_t|² + |Δ²p_t|² + |Δω_t|²`` with
    ``Δx_t = (x_{t+1} − x_t)·(30/fps)``, ``Δ²x_t = (x_{t+2} − 2x_{t+1} + x_t)·(30/fps)²``,
    ``ω_t = log(q_t⁻¹ q_{t+1})`` the root's rotation between frames,
    ``Δω_t = (ω_{t+1} − ω_t)·(30/fps)`` and ``w_t`` the :func:`touchdown_relief` of the
    human foot contacts ``contact`` (T, 2) (1 everywhere without them); rows with a masked
    frame are 0.
    """
    k = REFERENCE_FPS / fps
    m1 = (mask[1:] * mask[:-1])[:, None]
    m2 = (mask[2:] * mask[1:-1] * mask[:-2])[:, None]
    wq = jnp.sqrt(touchdown_relief(contact, mask, fps, part_contact))[:, None]
    dq = (joint_pos[1:] - joint_pos[:-1]) * k
    ddq = (joint_pos[2:] - 2 * joint_pos[1:-1] + joint_pos[:-2]) * k * k
    dp = (root_pos[1:] - root_pos[:-1]) * k
    ddp = (root_pos[2:] - 2 * root_pos[1:-1] + root_pos[:-2]) * k * k
    omega = quat_log(quat_mul(quat_conj(root_quat[:-1]), root_quat[1:])) * k
    domega = (omega[1:] - omega[:-1]) * k
    v = jnp.sqrt(0.1)
    return (v * m1 * dq, v * m1 * dp, m2 * wq * ddq, m2 * ddp, m2 * domega)


def velocity_limit_residual(
    joint_pos: Array, velocity_limit: Array, mask: Array, fps: Array
) -> Array:
    """Joint speed above the robot's limit, (T−1, N) steps:

    ``r_tj = max(0, |q̇_tj| − v̄_j) / fps``, cost ``Σ_t Σ_j max(0, |q̇_tj| − v̄_j)² / fps²``,

    with ``q̇_t = (q_{t+1} − q_t)·fps`` (rad/s); joints without a limit never pay.
    """
    qdot = (joint_pos[1:] - joint_pos[:-1]) * fps
    lim = jnp.where(jnp.isfinite(velocity_limit), velocity_limit, jnp.inf)
    over = jnp.maximum(jnp.abs(qdot) - lim, 0.0) / fps
    over = jnp.where(jnp.isfinite(over), over, 0.0)
    return (mask[1:] * mask[:-1])[:, None] * over

"""Cost terms of the retargeting problem, each a pure JAX function.

Notation: for frame ``t`` the robot's forward kinematics gives keypoints ``k_t`` (K, 3),
sole points ``s_t`` (2, P, 3), capsules ``(a_t, b_t, ρ)`` and joint angles ``q_t``; ``m_t`` is
the window's validity mask, ``c_t`` (2,) the human foot contacts. Per-frame terms return
*residual vectors* ``r`` (cost ``|r|²``), which the Gauss-Newton initialisation needs;
temporal terms return scalar costs summed over a window. Weights ``w`` come from
:class:`~retargetjax.retarget.CostWeights` and enter residuals as ``√w``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..geometry import quat_conj, quat_log, quat_mul, segment_segment_distance
from ..types import Array
from ._frames import built_frame

#: Gap (m) kept between non-adjacent collision primitives.
SELF_COLLISION_MARGIN = 0.005
#: A sole point lower than this (m) touches the floor.
FLOOR_TOUCH_M = 0.015
#: Reference frame rate (Hz) at which temporal weights are defined.
REFERENCE_FPS = 30.0


def keypoint_residual(keypoints: Array, target: Array, weight: Array) -> Array:
    """Keypoint tracking: ``r_k = √(w_k) (k − k*)`` for every keypoint, (K·3,)."""
    return (jnp.sqrt(weight)[:, None] * (keypoints - target)).reshape(-1)


def orientation_residual(
    keypoints: Array, target_frames: Array, frame_weight: Array, frame_keypoints
) -> Array:
    """Built-frame tracking: ``r_f = √(w_f) vec(F_f(k) − F*_f)``, (F·9,).

    ``F_f(k)`` is the frame :func:`~retargetjax.retarget._frames.built_frame` makes from the
    robot keypoints ``l, r, lo, hi`` of frame ``f``; ``‖F − F*‖²_F = 4 (1 − cos θ) + …`` grows
    with the rotation angle ``θ`` between them and is smooth at ``θ = 0``.
    """
    if not frame_keypoints:
        return jnp.zeros((0,), keypoints.dtype)
    idx = jnp.asarray(frame_keypoints)
    frames = built_frame(
        keypoints[idx[:, 0]], keypoints[idx[:, 1]], keypoints[idx[:, 2]], keypoints[idx[:, 3]]
    )
    return (jnp.sqrt(frame_weight)[:, None, None] * (frames - target_frames)).reshape(-1)


def contact_height_residual(sole_points: Array, sole_contact: Array) -> Array:
    """Sole on the floor where it is in contact: ``r_p = c_p · z_p`` per sole point, (2·P,).

    ``sole_contact`` (2, P) says which sole points (toe or heel side of each foot) the human
    has down: a flat human foot pins all four points at height 0 (flat *and* on the floor);
    a heel-off phase pins only the toe points, so the robot's heel may lift as the human's
    does. Out of contact the term vanishes.
    """
    return (sole_contact * sole_points[..., 2]).reshape(-1)


def ground_residual(sole_points: Array, capsule_a: Array, capsule_b: Array, radius: Array) -> Array:
    """No penetration of the floor ``z = 0``: ``r = min(0, z_low)`` per primitive and sole point.

    ``z_low = min(z_a, z_b) − ρ`` is the lowest point of a capsule.
    """
    low = jnp.minimum(capsule_a[..., 2], capsule_b[..., 2]) - radius
    return jnp.concatenate(
        [jnp.minimum(low, 0.0), jnp.minimum(sole_points[..., 2], 0.0).reshape(-1)]
    )


def self_collision_cost(capsule_a: Array, capsule_b: Array, radius: Array, pairs: Array) -> Array:
    """Interpenetration of non-adjacent primitives, summed over pairs ``(i, j)``:

    ``Σ max(0, ρ_i + ρ_j + margin − d(seg_i, seg_j))²`` with ``d`` the segment distance.

    The pair end points are picked with one-hot matrix products rather than gathers: the
    gradient of a gather is a scatter-add, which is slow on CPUs, while the product's
    gradient is another small dense product.
    """
    if pairs.shape[0] == 0:
        return jnp.zeros(capsule_a.shape[:-2], capsule_a.dtype)
    C = capsule_a.shape[-2]
    pick_i = jax.nn.one_hot(pairs[:, 0], C, dtype=capsule_a.dtype)  # (P, C)
    pick_j = jax.nn.one_hot(pairs[:, 1], C, dtype=capsule_a.dtype)
    ends = jnp.stack([capsule_a, capsule_b], axis=-3)  # (..., 2, C, 3)
    ends_i = jnp.einsum("pc,...ecx->...epx", pick_i, ends)
    ends_j = jnp.einsum("pc,...ecx->...epx", pick_j, ends)
    d = segment_segment_distance(
        ends_i[..., 0, :, :], ends_i[..., 1, :, :], ends_j[..., 0, :, :], ends_j[..., 1, :, :]
    )
    reach = pick_i @ radius + pick_j @ radius + SELF_COLLISION_MARGIN
    pen = jnp.maximum(reach - d, 0.0)
    return jnp.sum(pen * pen, axis=-1)


def self_collision_residual(
    capsule_a: Array, capsule_b: Array, radius: Array, pairs: Array
) -> Array:
    """Per-pair interpenetration ``r_ij = max(0, ρ_i + ρ_j + margin − d(seg_i, seg_j))``,
    (P,) for one frame: the residual form of :func:`self_collision_cost` (``Σ r²``)."""
    if pairs.shape[0] == 0:
        return jnp.zeros((0,), capsule_a.dtype)
    i, j = pairs[:, 0], pairs[:, 1]
    d = segment_segment_distance(capsule_a[i], capsule_b[i], capsule_a[j], capsule_b[j])
    return jnp.maximum(radius[i] + radius[j] + SELF_COLLISION_MARGIN - d, 0.0)


def default_pose_residual(joint_pos: Array, default_joint_pos: Array) -> Array:
    """Small pull towards the standing pose: ``r = q − q₀``, (N,)."""
    return joint_pos - default_joint_pos


def slip_gate(
    sole_points: Array, sole_contact: Array, mask: Array, foot_contact: Array | None = None
) -> Array:
    """(T−1, 2, P) gate ``g_tp ∈ [0, 1]`` of :func:`slip_residual`, held constant in gradients.

    A sole point may not move horizontally between two frames in which the human has that
    part of the foot down (``c_tp c_{t+1,p}``), nor while the human's foot is in contact
    (``foot_contact`` (T, 2)) and the point touches the floor (``z < FLOOR_TOUCH_M`` at both
    frames) — a point that touches the floor and slides is skating whatever the labels say.
    """
    gate = sole_contact[1:] * sole_contact[:-1]
    if foot_contact is not None:
        low = (sole_points[..., 2] < FLOOR_TOUCH_M).astype(sole_points.dtype)
        touch = low[1:] * low[:-1] * (foot_contact[1:] * foot_contact[:-1])[..., None]
        gate = jnp.maximum(gate, touch)
    both = gate * (mask[1:] * mask[:-1])[:, None, None]
    return jax.lax.stop_gradient(both)


def slip_residual(
    sole_points: Array, sole_contact: Array, mask: Array, foot_contact: Array | None = None
) -> Array:
    """Foot skating over a window, residual form: ``r_tp = √g_tp xy(s_{t+1,p} − s_tp)``
    flattened, with the gate ``g`` of :func:`slip_gate`; :func:`slip_cost` is ``Σ r²``.

    ``sole_points`` is (T, 2, P, 3) and ``sole_contact`` (T, 2, P). The gate is held constant
    in the gradient, so lifting a foot is never a way to avoid the cost.
    """
    return slip_steps(sole_points, sole_contact, mask, foot_contact).reshape(-1)


def slip_steps(
    sole_points: Array, sole_contact: Array, mask: Array, foot_contact: Array | None = None
) -> Array:
    """:func:`slip_residual` before flattening: (T−1, 2, P, 2), row ``t`` for frames t, t+1."""
    both = jnp.sqrt(jnp.clip(slip_gate(sole_points, sole_contact, mask, foot_contact), 0.0))
    dxy = sole_points[1:, ..., :2] - sole_points[:-1, ..., :2]  # (T-1, 2, P, 2)
    return both[..., None] * dxy


def slip_cost(
    sole_points: Array, sole_contact: Array, mask: Array, foot_contact: Array | None = None
) -> Array:
    """Foot skating over a window: ``Σ_t Σ_p g_tp m_t m_{t+1} |xy(s_{t+1,p} − s_tp)|²``
    (see :func:`slip_residual` for the gate ``g``)."""
    r = slip_residual(sole_points, sole_contact, mask, foot_contact)
    return jnp.sum(r * r)


def smoothness_residual(
    joint_pos: Array, root_pos: Array, root_quat: Array, mask: Array, fps: Array
) -> Array:
    """Residual form of :func:`smoothness_cost` (``Σ r²``), flattened."""
    parts = smoothness_steps(joint_pos, root_pos, root_quat, mask, fps)
    return jnp.concatenate([p.reshape(-1) for p in parts])


def smoothness_steps(
    joint_pos: Array, root_pos: Array, root_quat: Array, mask: Array, fps: Array
) -> list[Array]:
    """:func:`smoothness_residual` before flattening: velocity parts (T−1, ·) and
    acceleration parts (T−2, ·), row ``t`` starting at frame ``t``."""
    k = REFERENCE_FPS / fps
    m1 = (mask[1:] * mask[:-1])[:, None]
    m2 = (mask[2:] * mask[1:-1] * mask[:-2])[:, None]
    dq = (joint_pos[1:] - joint_pos[:-1]) * k
    ddq = (joint_pos[2:] - 2 * joint_pos[1:-1] + joint_pos[:-2]) * k * k
    dp = (root_pos[1:] - root_pos[:-1]) * k
    ddp = (root_pos[2:] - 2 * root_pos[1:-1] + root_pos[:-2]) * k * k
    omega = quat_log(quat_mul(quat_conj(root_quat[:-1]), root_quat[1:])) * k
    domega = (omega[1:] - omega[:-1]) * k
    v = jnp.sqrt(0.1)
    return [v * m1 * dq, v * m1 * dp, m2 * ddq, m2 * ddp, m2 * domega]


def smoothness_cost(
    joint_pos: Array, root_pos: Array, root_quat: Array, mask: Array, fps: Array
) -> Array:
    """Velocity and acceleration of joints and root over a window (per frame at 30 fps):

    ``Σ_t 0.1 |Δq_t|² + |Δ²q_t|² + 0.1 |Δp_t|² + |Δ²p_t|² + |Δω_t|²`` with
    ``Δx_t = (x_{t+1} − x_t)·(30/fps)``, ``Δ²x_t = (x_{t+1} − 2x_t + x_{t−1})·(30/fps)²`` and
    ``ω_t = log(q_t⁻¹ q_{t+1})`` the root's rotation between frames.
    """
    r = smoothness_residual(joint_pos, root_pos, root_quat, mask, fps)
    return jnp.sum(r * r)


def velocity_limit_residual(
    joint_pos: Array, velocity_limit: Array, mask: Array, fps: Array
) -> Array:
    """Residual form of :func:`velocity_limit_cost` (``Σ r²``), flattened."""
    return velocity_limit_steps(joint_pos, velocity_limit, mask, fps).reshape(-1)


def velocity_limit_steps(joint_pos: Array, velocity_limit: Array, mask: Array, fps: Array) -> Array:
    """:func:`velocity_limit_residual` before flattening: (T−1, N), row ``t`` for t, t+1."""
    qdot = (joint_pos[1:] - joint_pos[:-1]) * fps
    lim = jnp.where(jnp.isfinite(velocity_limit), velocity_limit, jnp.inf)
    over = jnp.maximum(jnp.abs(qdot) - lim, 0.0) / fps
    over = jnp.where(jnp.isfinite(over), over, 0.0)
    return (mask[1:] * mask[:-1])[:, None] * over


def velocity_limit_cost(joint_pos: Array, velocity_limit: Array, mask: Array, fps: Array) -> Array:
    """Joint speed above the robot's limit: ``Σ_t Σ_j max(0, |q̇_tj| − v̄_j)² / fps²``
    with ``q̇_t = (q_{t+1} − q_t)·fps`` (rad/s); joints without a limit never pay."""
    r = velocity_limit_residual(joint_pos, velocity_limit, mask, fps)
    return jnp.sum(r * r)


__all__ = [
    "REFERENCE_FPS",
    "SELF_COLLISION_MARGIN",
    "contact_height_residual",
    "default_pose_residual",
    "ground_residual",
    "keypoint_residual",
    "orientation_residual",
    "self_collision_cost",
    "self_collision_residual",
    "slip_cost",
    "slip_gate",
    "slip_residual",
    "slip_steps",
    "smoothness_cost",
    "smoothness_residual",
    "smoothness_steps",
    "velocity_limit_cost",
    "velocity_limit_residual",
    "velocity_limit_steps",
]

"""Cost terms of the retargeting problem: one residual function per term, pure JAX.

Notation: for frame ``t`` the robot's forward kinematics gives keypoints ``k_t`` (K, 3),
sole points ``s_t`` (2, P, 3), capsules ``(a_t, b_t, ρ)`` and joint angles ``q_t``; ``m_t`` is
the window's validity mask, ``c_t`` (2,) the human foot contacts. Every term is a residual
``r`` whose cost is ``w |r|²`` (:func:`sum_of_squares`), with its weight ``w`` a field of
:class:`~retargetjax.retarget._problem.Weights`; the solver multiplies residuals by ``√w``.

* **Per-frame** residuals take one frame and return a vector.
* **Temporal** residuals take a window (leading axis ``T``) and return *steps*: arrays whose
  leading axis is the first frame of the frames they couple (``T − 1`` rows for a first
  difference, ``T − 2`` for a second), or a tuple of such arrays. The flat residual is
  :func:`flatten`, the cost :func:`sum_of_squares`, the cost split by frame
  :func:`cost_by_first_frame`; the solver reads the Jacobian's stencil off the same function
  (see :func:`~retargetjax.retarget._linearize.block_diagonal`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..geometry import quat_conj, quat_log, quat_mul, segment_segment_closest
from ..types import Array
from ._frames import built_frame

__all__ = [
    "FLOOR_TOUCH_M",
    "GROUND_MARGIN_M",
    "REFERENCE_FPS",
    "SELF_COLLISION_MARGIN",
    "STENCIL_FRAMES",
    "capsule_bottom_z",
    "contact_height_residual",
    "cost_by_first_frame",
    "default_pose_residual",
    "flatten",
    "ground_residual",
    "keypoint_residual",
    "orientation_residual",
    "pair_closest_points",
    "part_contact_residual",
    "planted_steps",
    "planted_touch",
    "self_collision_residual",
    "slip_gate",
    "slip_residual",
    "smoothness_residual",
    "sum_of_squares",
    "touchdown_relief",
    "velocity_limit_residual",
]

#: Gap (m) kept between non-adjacent collision primitives.
SELF_COLLISION_MARGIN = 0.005
#: Height (m) above the floor below which the ground term already pushes a point up, and at
#: which a planted sole point or body part is held: the floor the solver sees is raised by
#: this margin, so that points about to touch it are in the Gauss-Newton model before they
#: cross it, and the penalty's small equilibrium penetration ends above ``z = 0``.
GROUND_MARGIN_M = 0.003
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


# --- deriving costs from residuals ---------------------------------------------------------


def flatten(residual: Array | tuple[Array, ...]) -> Array:
    """One flat vector from a residual (an array or a tuple of step arrays)."""
    return jnp.concatenate([jnp.reshape(r, -1) for r in jax.tree_util.tree_leaves(residual)])


def sum_of_squares(residual: Array | tuple[Array, ...]) -> Array:
    """The cost ``|r|²`` of a residual (an array or a tuple of arrays)."""
    return sum(jnp.sum(r * r) for r in jax.tree_util.tree_leaves(residual))


def cost_by_first_frame(steps: Array | tuple[Array, ...], num_frames: int) -> Array:
    """(T,) a temporal residual's cost ``|r|²`` split by frame: each step row counted at the
    first frame it spans (so a run of frames' sum is its own cost when the mask cuts every
    row that crosses its ends)."""
    total = jnp.zeros((num_frames,), jax.tree_util.tree_leaves(steps)[0].dtype)
    for r in jax.tree_util.tree_leaves(steps):
        rows = jnp.sum(r.reshape(r.shape[0], -1) ** 2, axis=-1)
        total = total.at[: rows.shape[0]].add(rows)
    return total


# --- per-frame terms -----------------------------------------------------------------------


def keypoint_residual(keypoints: Array, target: Array, weight: Array) -> Array:
    """Keypoint tracking: ``r_k = √(w_k) (k − k*)`` for every keypoint, (K·3,)."""
    return (jnp.sqrt(weight)[:, None] * (keypoints - target)).reshape(-1)


def orientation_residual(
    keypoints: Array,
    target_frames: Array,
    frame_weight: Array,
    frame_keypoints: tuple[tuple[int, int, int, int], ...],
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
    """Sole on the floor where it is in contact: ``r_p = c_p (z_p − m)`` per sole point,
    (2·P,), with ``m`` = :data:`GROUND_MARGIN_M` (the floor as the ground term sees it).

    ``sole_contact`` (2, P) says which sole points (toe or heel side of each foot) the human
    has down: a flat human foot pins all four points at height 0 (flat *and* on the floor);
    a heel-off phase pins only the toe points, so the robot's heel may lift as the human's
    does. Out of contact the term vanishes.
    """
    return (sole_contact * (sole_points[..., 2] - GROUND_MARGIN_M)).reshape(-1)


def capsule_bottom_z(
    capsule_a: Array, capsule_b: Array, radius: Array, boxes: tuple[tuple[int, ...], ...] = ()
) -> Array:
    """(..., C) lowest point of every collision primitive: ``z_low = min(z_a, z_b) − ρ`` for a
    capsule, and for each rail of a box (``boxes``: the rail indices of each box, outer rails
    first and last, :func:`~retargetjax.robot.box_rails`) the box's own lowest corner,

        ``z_low = z_centre − |A_z| − |B_z| − |C_z|``,

    with the box rebuilt from its outer rails ``(a₁, b₁)``, ``(a_n, b_n)`` (radius ``c``):
    ``A = (b₁ − a₁)/2 + c û`` (half length along the rails ``û``), ``B = (m_n − m₁)/2 + c v̂``
    (half width across them, ``m_i`` the rails' midpoints), ``C = c (û × v̂)`` (half
    thickness), ``z_centre`` the mean of the four ends. The rails lie inside the box, so a
    tilted box reaches up to ``c (√3 − 1)`` lower than its rails; the evaluation's MuJoCo
    check scores the box, so the floor terms do too.
    """
    low = jnp.minimum(capsule_a[..., 2], capsule_b[..., 2]) - radius
    for rails in boxes:
        f, n = rails[0], rails[-1]
        a1, b1 = capsule_a[..., f, :], capsule_b[..., f, :]
        an, bn = capsule_a[..., n, :], capsule_b[..., n, :]
        c = radius[f]
        along = b1 - a1
        across = 0.5 * (an + bn - a1 - b1)
        u = along / jnp.sqrt(jnp.sum(along * along, -1, keepdims=True) + 1e-12)
        v = across / jnp.sqrt(jnp.sum(across * across, -1, keepdims=True) + 1e-12)
        w = jnp.cross(u, v)
        half_z = (
            jnp.abs(0.5 * along[..., 2] + c * u[..., 2])
            + jnp.abs(0.5 * across[..., 2] + c * v[..., 2])
            + jnp.abs(c * w[..., 2])
        )
        box_low = 0.25 * (a1 + b1 + an + bn)[..., 2] - half_z
        on_box = np.isin(np.arange(low.shape[-1]), rails)  # static: no scatter
        low = jnp.where(on_box, box_low[..., None], low)
    return low


def ground_residual(
    sole_points: Array,
    capsule_a: Array,
    capsule_b: Array,
    radius: Array,
    boxes: tuple[tuple[int, ...], ...] = (),
) -> Array:
    """No penetration of the floor ``z = 0``: ``r = min(0, z_low − m)`` per primitive and sole
    point, (C + 2·P,), with ``z_low`` the lowest point of a primitive
    (:func:`capsule_bottom_z`: a capsule's, or its box's lowest corner) and
    ``m`` = :data:`GROUND_MARGIN_M`.

    The hinge is zero above ``m``, so its Gauss-Newton model only holds points already below
    ``m``: the margin brings a point that is about to touch the floor into the model before
    a step can push it through, and the penalty's equilibrium (a few tenths of a millimetre
    below ``m`` at the continuation's last weight) stays above ``z = 0``.
    """
    m = GROUND_MARGIN_M
    low = capsule_bottom_z(capsule_a, capsule_b, radius, boxes)
    return jnp.concatenate(
        [jnp.minimum(low - m, 0.0), jnp.minimum(sole_points[..., 2] - m, 0.0).reshape(-1)]
    )


def part_contact_residual(
    capsule_a: Array,
    capsule_b: Array,
    radius: Array,
    part_capsules: tuple[tuple[int, ...], ...],
    part_contact: Array,
    part_support: Array,
    boxes: tuple[tuple[int, ...], ...] = (),
) -> Array:
    """A planted body part rests on its support, (B,):

    ``r_b = c_b (min_{i ∈ b} z_low,i − h_b − m)`` with ``z_low,i`` (:func:`capsule_bottom_z`)
    the lowest point of primitive ``i`` of part ``b`` (a hand, a knee, the pelvis, ...), ``h_b``
    the support height (0 for the floor), ``m`` = :data:`GROUND_MARGIN_M` (the floor as
    :func:`ground_residual` sees it) and ``c_b ∈ [0, 1]`` the human's contact weight (ramped
    in and out at the label's edges, so a part is set down smoothly). Together with
    :func:`ground_residual` (which keeps every capsule above ``z = m``) a planted part
    touches its support, neither hovering nor sinking; its horizontal hold comes from its
    locked keypoint target (:func:`~retargetjax.retarget._targets.build_problem`). A part
    the robot has no capsule for contributes 0.
    """
    low = capsule_bottom_z(capsule_a, capsule_b, radius, boxes)
    rows = []
    for b, caps in enumerate(part_capsules):
        if caps:
            lowest = jnp.min(low[jnp.asarray(caps)])
            rows.append(part_contact[b] * (lowest - part_support[b] - GROUND_MARGIN_M))
        else:
            rows.append(jnp.zeros((), low.dtype))
    return jnp.stack(rows) if rows else jnp.zeros((0,), low.dtype)


def default_pose_residual(joint_pos: Array, default_joint_pos: Array) -> Array:
    """Small pull towards the standing pose: ``r = q − q₀``, (N,)."""
    return joint_pos - default_joint_pos


def pair_closest_points(
    capsule_a: Array, capsule_b: Array, pairs: Array
) -> tuple[Array, Array, Array, Array]:
    """Closest points of the capsule pairs ``(i, j)`` (P, 2) of one frame: the parameters
    ``s, t`` (P,) of ``c_i = a_i + s (b_i − a_i)`` and ``c_j = a_j + t (b_j − a_j)``, the
    vector ``c_i − c_j`` (P, 3) and its length (P,) (``√(|·|² + 10⁻¹²)``, finite gradient)."""
    i, j = pairs[:, 0], pairs[:, 1]
    a_i, b_i, a_j, b_j = capsule_a[i], capsule_b[i], capsule_a[j], capsule_b[j]
    s, t = segment_segment_closest(a_i, b_i, a_j, b_j)
    diff = (a_i + s[:, None] * (b_i - a_i)) - (a_j + t[:, None] * (b_j - a_j))
    return s, t, diff, jnp.sqrt(jnp.sum(diff * diff, axis=-1) + 1e-12)


def self_collision_residual(
    capsule_a: Array, capsule_b: Array, radius: Array, pairs: Array
) -> Array:
    """Interpenetration of non-adjacent primitives, per pair ``(i, j)`` (P,):

    ``r_ij = max(0, ρ_i + ρ_j + margin − d(seg_i, seg_j))`` with ``d`` the segment distance
    (:func:`pair_closest_points`); the cost is ``Σ r²``.
    """
    if pairs.shape[0] == 0:
        return jnp.zeros((0,), capsule_a.dtype)
    _, _, _, dist = pair_closest_points(capsule_a, capsule_b, pairs)
    reach = radius[pairs[:, 0]] + radius[pairs[:, 1]] + SELF_COLLISION_MARGIN
    return jnp.maximum(reach - dist, 0.0)


# --- temporal terms (steps: leading axis = first frame coupled) ----------------------------


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

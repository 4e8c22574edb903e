"""The optimisation: per-frame Levenberg-Marquardt, then whole-window Gauss-Newton.

Both stages run inside one ``jax.jit`` on fixed shapes ``(num_windows, window)``, with the
tangent ``δ = (δp, δθ, δq)`` per frame (root translation, root rotation vector in the root
frame, joint angles; ``D = 6 + N``). Every cost is a sum of squared residuals, and every
residual is a function of points on bodies (keypoints, sole points, capsule ends) and of the
joint angles and root pose, so its Jacobian is ``∂r/∂points · ∂points/∂δ`` with the points'
geometric Jacobian from one FK sweep (:func:`~retargetjax.robot.point_jacobian`), not one
FK sweep per degree of freedom.

1. **Initialisation** (vmapped over every frame of every window): Levenberg-Marquardt on the
   per-frame residuals ``r_t`` (keypoints, built frames, sole height in contact, floor,
   standing-pose pull): ``(JᵀJ + λ diag(JᵀJ) + μI) δ = −Jᵀr``, kept if ``|r|²`` decreases
   (``λ ← λ/3``), rejected otherwise (``λ ← 10λ``).
2. **Refinement** (vmapped over windows), ``optimizer: gauss_newton`` (default):
   Levenberg-Marquardt on the whole window ``Σ_t m_t |r_t|² + |e|²``, where ``r_t`` adds the
   self-collision residuals of the window's closest capsule pairs and ``e`` stacks the
   temporal residuals (smoothness, slip, velocity limits) that couple neighbouring frames.
   The normal equations ``(H + TᵀT + λ diag H + μI) δ = −(Σ J_tᵀr_t + Tᵀe)`` have the
   per-frame blocks ``H_t = J_tᵀJ_t`` and the banded ``TᵀT`` (``T = ∂e/∂δ``, applied
   matrix-free with ``jax.linearize``); they are solved by conjugate gradients
   preconditioned with the block diagonal ``H_t + (TᵀT)_tt`` (:func:`temporal_blocks`,
   built in closed form from the temporal terms' stencils). ``optimizer: adam`` or
   ``lbfgs`` runs optax on the same window cost instead.

   A window may hold several clips side by side, each a **segment** of valid frames
   between masked gaps (see :func:`~retargetjax.retarget._windows.pack_clips`). No term
   couples two segments, so the normal equations are block diagonal by segment, and every
   scalar of the Gauss-Newton stage (conjugate-gradient ``α``, ``β``, the step size, the
   accept test and ``λ``) is kept per segment: each clip is solved exactly as if alone.

In both stages the step is tried at the sizes :data:`STEP_SIZES` (all at once; the best is
kept if it lowers the cost), joints that sit at a limit with the gradient pushing them out
are held out of the linear solve (projected Newton: the clip would undo their move and spoil
the others'), and joint angles are clipped into their limits after every step, so limits are
never violated; the step is clipped to ±0.5 per coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..geometry import (
    quat_exp,
    quat_mul,
    quat_normalize,
    segment_segment_closest,
    segment_segment_distance,
)
from ..robot import collision_capsules_world, forward_kinematics, keypoint_positions
from ..robot._jacobian import point_tangents
from ..types import Array
from ._costs import (
    REFERENCE_FPS,
    SELF_COLLISION_MARGIN,
    contact_height_residual,
    default_pose_residual,
    ground_residual,
    keypoint_residual,
    orientation_residual,
    self_collision_cost,
    self_collision_residual,
    slip_cost,
    slip_gate,
    slip_residual,
    slip_steps,
    smoothness_cost,
    smoothness_residual,
    smoothness_steps,
    velocity_limit_cost,
    velocity_limit_residual,
    velocity_limit_steps,
)

_PER_FRAME_KEYS = (
    "target_keypoints",
    "keypoint_weight",
    "target_frames",
    "frame_weight",
    "sole_contact",
)
OPTIMIZERS = ("gauss_newton", "adam", "lbfgs")

WEIGHT_NAMES = (
    "keypoint",
    "orientation",
    "contact",
    "ground",
    "self_collision",
    "smooth",
    "velocity_limit",
    "default_pose",
    "slip",
)


class WindowData(NamedTuple):
    """Targets of a stack of windows, every array with leading shape ``(num_windows, W)``
    (per frame, so clips packed side by side in one window keep their own weights)."""

    target_keypoints: Array  # (n, W, K, 3)
    keypoint_weight: Array  # (n, W, K) per frame
    target_frames: Array  # (n, W, F, 3, 3)
    frame_weight: Array  # (n, W, F) 0 where the clip lacks a frame's keypoints
    sole_contact: Array  # (n, W, 2, P)
    contact: Array  # (n, W, 2) human foot contact
    mask: Array  # (n, W)
    root_pos: Array  # (n, W, 3) initial guess
    root_quat: Array  # (n, W, 4)
    joint_pos: Array  # (n, W, N)


class FrameState(NamedTuple):
    root_pos: Array
    root_quat: Array
    joint_pos: Array


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

    @classmethod
    def from_config(cls, solver: Any, frame_keypoints: tuple) -> SolverStatic:
        """From a :class:`~retargetjax.retarget.SolverConfig` and the problem's frames."""
        return cls(
            frame_keypoints=frame_keypoints,
            init_iterations=solver.init_iterations,
            iterations=solver.iterations,
            optimizer=solver.optimizer,
            learning_rate=solver.learning_rate,
            damping=solver.damping,
            max_pairs=solver.max_pairs,
            cg_iterations=solver.cg_iterations,
        )


def sole_points_world(robot: Any, fk: Any) -> Array:
    """World positions (..., 2, P, 3) of the sole points of the left and right foot."""
    feet = jnp.asarray(robot.foot_body)
    pos = fk.pos[..., feet, :]  # (..., 2, 3)
    rot = fk.rot[..., feet, :, :]  # (..., 2, 3, 3)
    return pos[..., None, :] + jnp.einsum("...fij,fpj->...fpi", rot, robot.sole_points)


# --- points on bodies ----------------------------------------------------------------------


def _point_bodies(robot: Any) -> tuple[int, ...]:
    """Bodies of the solver's points: keypoints, sole points (left, right), capsule ends."""
    P = robot.sole_points.shape[1]
    feet = tuple(int(f) for f in robot.foot_body for _ in range(P))
    caps = tuple(int(b) for b in robot.capsule_body)
    return tuple(int(b) for b in robot.keypoint_body) + feet + caps + caps


def _point_offsets(robot: Any) -> Array:
    return jnp.concatenate(
        [
            robot.keypoint_offset,
            robot.sole_points.reshape(-1, 3),
            robot.capsule_p0,
            robot.capsule_p1,
        ]
    )


def _sole_slice(robot: Any) -> slice:
    K = len(robot.keypoint_names)
    return slice(K, K + robot.sole_points.shape[0] * robot.sole_points.shape[1])


def _split_points(robot: Any, pts: Array) -> tuple[Array, Array, Array, Array]:
    """``(keypoints, soles (2, P, 3), capsule_a, capsule_b)`` from the stacked points."""
    K = len(robot.keypoint_names)
    C = len(robot.capsule_body)
    sole = _sole_slice(robot)
    soles = pts[..., sole, :].reshape(*pts.shape[:-2], *robot.sole_points.shape)
    caps = pts[..., sole.stop :, :]
    return pts[..., :K, :], soles, caps[..., :C, :], caps[..., C:, :]


def _points_and_jacobian(robot: Any, x: FrameState) -> tuple[Array, Array]:
    """Points (..., M, 3) and their tangents ``∂p/∂δ_k`` (..., D, M, 3), any batch shape."""
    return point_tangents(
        robot, x.root_pos, x.root_quat, x.joint_pos, _point_bodies(robot), _point_offsets(robot)
    )


def _kinematics(robot: Any, x: FrameState):
    fk = forward_kinematics(robot, x.root_pos, x.root_quat, x.joint_pos)
    kp = keypoint_positions(robot, fk)
    soles = sole_points_world(robot, fk)
    cap_a, cap_b = collision_capsules_world(robot, fk)
    return kp, soles, cap_a, cap_b


# --- residuals -----------------------------------------------------------------------------


def _residuals(
    robot: Any, kin: tuple, joint_pos: Array, frame: dict, w: Array, static: SolverStatic
) -> Array:
    """Per-frame residuals from one frame's kinematics ``(kp, soles, cap_a, cap_b)``."""
    kp, soles, cap_a, cap_b = kin
    return jnp.concatenate(
        [
            jnp.sqrt(w[0])
            * keypoint_residual(kp, frame["target_keypoints"], frame["keypoint_weight"]),
            jnp.sqrt(w[1])
            * orientation_residual(
                kp, frame["target_frames"], frame["frame_weight"], static.frame_keypoints
            ),
            jnp.sqrt(w[2]) * contact_height_residual(soles, frame["sole_contact"]),
            jnp.sqrt(w[3]) * ground_residual(soles, cap_a, cap_b, robot.capsule_radius),
            jnp.sqrt(w[7]) * default_pose_residual(joint_pos, robot.default_joint_pos),
        ]
    )


def frame_residuals(
    robot: Any, x: FrameState, frame: dict, w: Array, static: SolverStatic
) -> Array:
    """All per-frame residuals of one frame, stacked and weighted (see ``_costs``)."""
    return _residuals(robot, _kinematics(robot, x), x.joint_pos, frame, w, static)


def _frame_residual_from_points(
    robot: Any, pts: Array, q: Array, frame: dict, w: Array, static: SolverStatic, pairs
) -> Array:
    kin = _split_points(robot, pts)
    r = _residuals(robot, kin, q, frame, w, static)
    if pairs is None:
        return r
    _, _, cap_a, cap_b = kin
    sc = self_collision_residual(cap_a, cap_b, robot.capsule_radius, pairs)
    return jnp.concatenate([r, jnp.sqrt(w[4]) * sc])


def _temporal_residual(
    robot: Any, soles: Array, x: FrameState, win: dict, w: Array, fps: Array
) -> Array:
    """Residuals that couple frames of a window (smoothness, slip, velocity limits)."""
    mask = win["mask"]
    return jnp.concatenate(
        [
            jnp.sqrt(w[5]) * smoothness_residual(x.joint_pos, x.root_pos, x.root_quat, mask, fps),
            jnp.sqrt(w[8]) * slip_residual(soles, win["sole_contact"], mask, win["contact"]),
            jnp.sqrt(w[6]) * velocity_limit_residual(x.joint_pos, robot.velocity_limit, mask, fps),
        ]
    )


def _self_collision_rows(robot: Any, pts: Array, tangents: Array, pairs: Array, w: Array):
    """Self-collision residuals of one frame and their Jacobian, (P,) and (D, P).

    ``r = √w (ρ_i + ρ_j + margin − |c_i − c_j|)⁺`` with ``c_i = a_i + s (b_i − a_i)`` and
    ``c_j = a_j + t (b_j − a_j)`` the closest points; at the optimal ``(s, t)`` the distance's
    derivative is ``nᵀ (∂c_i − ∂c_j)`` with ``n`` the unit vector ``c_j → c_i`` (the terms
    through ``s`` and ``t`` vanish there), so the rows are built from the end points'
    Jacobians — no forward-mode pass through the closest-point search.
    """
    C = len(robot.capsule_body)
    base = _sole_slice(robot).stop
    ia, ib = base + pairs[:, 0], base + C + pairs[:, 0]
    ja, jb = base + pairs[:, 1], base + C + pairs[:, 1]
    a_i, b_i, a_j, b_j = pts[ia], pts[ib], pts[ja], pts[jb]
    s, t = segment_segment_closest(a_i, b_i, a_j, b_j)
    diff = (a_i + s[:, None] * (b_i - a_i)) - (a_j + t[:, None] * (b_j - a_j))
    dist = jnp.sqrt(jnp.sum(diff * diff, axis=-1) + 1e-12)
    normal = diff / dist[:, None]
    radius = robot.capsule_radius
    pen = radius[pairs[:, 0]] + radius[pairs[:, 1]] + SELF_COLLISION_MARGIN - dist
    active = (pen > 0).astype(pts.dtype)
    tan_i = (1.0 - s)[:, None] * tangents[:, ia] + s[:, None] * tangents[:, ib]  # (D, P, 3)
    tan_j = (1.0 - t)[:, None] * tangents[:, ja] + t[:, None] * tangents[:, jb]
    rows = -jnp.sum(normal * (tan_i - tan_j), axis=-1)  # (D, P)
    k = jnp.sqrt(w[4])
    return k * jnp.maximum(pen, 0.0), k * active * rows


def _linearize_frames(robot, pts, tangents, q, frames, mask, w, static, pairs):
    """Per-frame residuals ``r_t``, ``H_t = J_tᵀJ_t`` and ``g_t = J_tᵀr_t`` (masked).

    ``J_t`` is built one tangent ``∂p/∂δ_k`` at a time (a forward-mode pass through the cheap
    point → residual map per degree of freedom), never through forward kinematics."""
    D = tangents.shape[-3]
    joint_tangents = jnp.eye(D, dtype=pts.dtype)[:, 6:]  # ∂q/∂δ_k

    def one(p, tan, qt, fr, m):
        def f(p, qt):
            return _frame_residual_from_points(robot, p, qt, fr, w, static, None)

        r = f(p, qt)
        Jr = jax.vmap(lambda tp, tq: jax.jvp(f, (p, qt), (tp, tq))[1])(tan, joint_tangents)
        if pairs is not None:
            r_sc, J_sc = _self_collision_rows(robot, p, tan, pairs, w)
            r, Jr = jnp.concatenate([r, r_sc]), jnp.concatenate([Jr, J_sc], axis=-1)
        k = jnp.sqrt(m)
        return k * r, k * Jr  # (R,), (D, R)

    r, Jr = jax.vmap(one)(pts, tangents, q, frames, mask)
    H = jnp.einsum("tdr,ter->tde", Jr, Jr)
    g = jnp.einsum("tdr,tr->td", Jr, r)
    return jnp.sum(r * r, axis=-1), H, g


# --- steps ---------------------------------------------------------------------------------


def _retract(x: FrameState, delta: Array) -> FrameState:
    return FrameState(
        x.root_pos + delta[..., :3],
        quat_normalize(quat_mul(x.root_quat, quat_exp(delta[..., 3:6]))),
        x.joint_pos + delta[..., 6:],
    )


def _clip_joints(robot: Any, q: Array) -> Array:
    return jnp.clip(q, robot.joint_lower, robot.joint_upper)


def _step(robot: Any, x: FrameState, delta: Array) -> FrameState:
    x = _retract(x, jnp.clip(delta, -0.5, 0.5))
    return x._replace(joint_pos=_clip_joints(robot, x.joint_pos))


def _select(accept: Array, a: Any, b: Any) -> Any:
    def pick(u, v):
        c = accept.reshape(accept.shape + (1,) * (u.ndim - accept.ndim))
        return jnp.where(c, u, v)

    return jax.tree_util.tree_map(pick, a, b)


def _free_mask(robot: Any, q: Array, grad: Array) -> Array:
    """(..., D) 1 for coordinates a step may move, 0 for joints held at a limit.

    A joint at its lower (upper) limit whose gradient points further down (up) is held
    (projected Newton): solving for it would spend the step on a move the clip undoes.
    """
    g = grad[..., 6:]
    at_lower = (q <= robot.joint_lower + 1e-4) & (g > 0)
    at_upper = (q >= robot.joint_upper - 1e-4) & (g < 0)
    held = (at_lower | at_upper).astype(q.dtype)
    root = jnp.ones((*q.shape[:-1], 6), q.dtype)
    return jnp.concatenate([root, 1.0 - held], axis=-1)


def _restrict(A: Array, free: Array, eye: Array) -> Array:
    """``A`` on the free coordinates, identity on the held ones."""
    return A * free[..., :, None] * free[..., None, :] + (1.0 - free)[..., None] * eye


#: Step sizes tried along each Gauss-Newton direction (all evaluated at once).
STEP_SIZES = (1.0, 0.5, 0.2)


def _line_search(candidate, costs, frame_axis: bool):
    """The best of the steps ``α ∈ STEP_SIZES`` along a direction, per frame
    (``frame_axis``) or per window; returns the candidate state and its cost."""
    alphas = jnp.asarray(STEP_SIZES)
    xs = jax.vmap(candidate)(alphas)  # leading axis: step size
    c = costs(xs)  # (A,) or (A, T)
    best = jnp.argmin(c, axis=0)
    if frame_axis:
        pick = jax.tree_util.tree_map(
            lambda a: jnp.take_along_axis(a, best.reshape((1, -1) + (1,) * (a.ndim - 2)), axis=0)[
                0
            ],
            xs,
        )
        return pick, jnp.take_along_axis(c, best[None], axis=0)[0]
    return jax.tree_util.tree_map(lambda a: a[best], xs), c[best]


def _init_frames(
    robot: Any, x: FrameState, frames: dict, w: Array, static: SolverStatic
) -> FrameState:
    """Levenberg-Marquardt on each frame's residuals (module docstring, stage 1).

    ``x`` and ``frames`` carry a leading frame axis (T, ...)."""
    return _in_chunks(partial(_init_chunk, robot, w=w, static=static), x, frames)


def _init_chunk(robot: Any, x: FrameState, frames: dict, w: Array, static: SolverStatic):
    T = x.root_pos.shape[0]
    ones = jnp.ones((T,), x.root_pos.dtype)
    D = 6 + x.joint_pos.shape[-1]
    eye = jnp.eye(D, dtype=x.root_pos.dtype)

    def cost_of(x):
        kin = jax.vmap(partial(_kinematics, robot))(x)
        r = jax.vmap(lambda k, q, fr: _residuals(robot, k, q, fr, w, static))(
            kin, x.joint_pos, frames
        )
        return jnp.sum(r * r, axis=-1)

    def step(carry, _):
        x, lam = carry
        pts, jac = _points_and_jacobian(robot, x)
        cost, H, g = _linearize_frames(robot, pts, jac, x.joint_pos, frames, ones, w, static, None)
        free = _free_mask(robot, x.joint_pos, g)
        diag = jnp.diagonal(H, axis1=-2, axis2=-1)
        A = H + (lam[:, None] * diag)[..., None] * eye + 1e-6 * eye
        A = _restrict(A, free, eye)
        delta = -jnp.linalg.solve(A, (free * g)[..., None])[..., 0]
        x_new, cost_new = _line_search(
            lambda a: _step(robot, x, a * delta), jax.vmap(cost_of), frame_axis=True
        )
        accept = cost_new < cost
        x = _select(accept, x_new, x)
        lam = jnp.where(accept, lam / 3.0, lam * 10.0)
        return (x, lam), None

    lam0 = jnp.full((T,), static.damping, x.root_pos.dtype)
    (x, _), _ = jax.lax.scan(step, (x, lam0), None, length=static.init_iterations)
    return x


#: Frames linearised together: small enough that the point Jacobians stay in cache.
CHUNK_FRAMES = 8


def _in_chunks(fn, *args):
    """``fn`` over the leading (frame) axis of ``args`` in chunks of :data:`CHUNK_FRAMES`
    (``lax.map``): the same result as one call, with its intermediates cache-sized."""
    T = jax.tree_util.tree_leaves(args)[0].shape[0]
    chunk = next(c for c in (CHUNK_FRAMES, 4, 2, 1) if T % c == 0)
    if chunk == T:
        return fn(*args)

    def split(a):
        return a.reshape(T // chunk, chunk, *a.shape[1:])

    def join(a):
        return a.reshape(T, *a.shape[2:])

    out = jax.lax.map(lambda a: fn(*a), jax.tree_util.tree_map(split, args))
    return jax.tree_util.tree_map(join, out)


def temporal_blocks(
    robot: Any, x: FrameState, soles: Array, sole_tangents: Array, win: dict, w: Array, fps
) -> Array:
    """(W, D, D) per-frame diagonal blocks of ``TᵀT``, ``T`` the Jacobian of
    :func:`_temporal_residual` — the preconditioner of the window solve.

    With masks ``m¹_t = m_t m_{t+1}``, ``m²_t = m_t m_{t+1} m_{t+2}`` and ``k = 30/fps``:
    joints and root position get ``w_s (0.1 k² (m¹_{t−1} + m¹_t) + k⁴ (m²_{t−2} + 4 m²_{t−1}
    + m²_t))`` on the diagonal (the first and second differences' stencils squared), root
    rotation the second-difference part (exact where the root turns slowly), joints above
    their speed limit ``w_v (a_{t−1} + a_t)``; sole point ``p`` adds
    ``w_slip (g_{t−1,p} + g_{t,p}) J_pᵀ J_p`` over its horizontal rows ``J_p``.
    """
    W, D = sole_tangents.shape[0], sole_tangents.shape[1]
    mask = win["mask"]
    k = REFERENCE_FPS / fps

    def around(a):  # a_{t−1} + a_t for per-step values a (W−1, ...)
        zero = jnp.zeros_like(a[:1])
        return jnp.concatenate([zero, a]) + jnp.concatenate([a, zero])

    m1 = mask[1:] * mask[:-1]
    m2 = mask[2:] * mask[1:-1] * mask[:-2]
    z1 = jnp.zeros((1,), mask.dtype)
    acc = (
        jnp.concatenate([z1, z1, m2])
        + 4.0 * jnp.concatenate([z1, m2, z1])
        + jnp.concatenate([m2, z1, z1])
    )
    lin = w[5] * (0.1 * k * k * around(m1) + k**4 * acc)
    rot = w[5] * k**4 * acc
    qdot = (x.joint_pos[1:] - x.joint_pos[:-1]) * fps
    over = (jnp.abs(qdot) > robot.velocity_limit).astype(mask.dtype) * m1[:, None]
    joints = lin[:, None] + w[6] * around(over)
    diag = jnp.concatenate(
        [jnp.broadcast_to(lin[:, None], (W, 3)), jnp.broadcast_to(rot[:, None], (W, 3)), joints],
        axis=-1,
    )
    gate = slip_gate(soles, win["sole_contact"], mask, win["contact"])  # (W−1, 2, P)
    weight = w[8] * around(gate).reshape(W, -1)  # (W, 2P)
    txy = sole_tangents[..., :2]  # (W, D, 2P, 2)
    blocks = jnp.einsum("tdpi,tp,tepi->tde", txy, weight, txy)
    return blocks + diag[..., None] * jnp.eye(D, dtype=diag.dtype)


def _segments(mask: Array) -> Array:
    """(W,) index of the segment (run of valid frames) each frame belongs to; a masked
    frame takes the segment before it (it carries no cost and never moves)."""
    valid = mask > 0
    start = valid & ~jnp.concatenate([jnp.zeros((1,), bool), valid[:-1]])
    return jnp.maximum(jnp.cumsum(start.astype(jnp.int32)) - 1, 0)


def _temporal_frame_cost(
    robot: Any, soles: Array, x: FrameState, win: dict, w: Array, fps: Array
) -> Array:
    """(W,) the temporal cost ``|e|²`` split by frame: each difference term counted at the
    first frame it spans (so a segment's sum is its own temporal cost)."""
    mask = win["mask"]
    W = mask.shape[0]
    parts = [
        (w[5], smoothness_steps(x.joint_pos, x.root_pos, x.root_quat, mask, fps)),
        (w[8], [slip_steps(soles, win["sole_contact"], mask, win["contact"])]),
        (w[6], [velocity_limit_steps(x.joint_pos, robot.velocity_limit, mask, fps)]),
    ]
    total = jnp.zeros((W,), mask.dtype)
    for weight, steps in parts:
        for r in steps:
            rows = weight * jnp.sum(r.reshape(r.shape[0], -1) ** 2, axis=-1)
            total = total.at[: rows.shape[0]].add(rows)
    return total


def _window_gauss_newton(
    robot: Any, x: FrameState, win: dict, w: Array, fps: Array, static: SolverStatic, pairs
) -> tuple[FrameState, Array]:
    """Levenberg-Marquardt on one window's full cost (module docstring, stage 2)."""
    W = x.root_pos.shape[0]
    D = 6 + x.joint_pos.shape[-1]
    dtype = x.root_pos.dtype
    mask = win["mask"]
    frames = {**{k: win[k] for k in _PER_FRAME_KEYS}}
    sole = _sole_slice(robot)
    eye = jnp.eye(D, dtype=dtype)

    seg = _segments(mask)

    def seg_sum(v: Array) -> Array:
        """Per-segment totals (W,) of per-frame values (W, ...)."""
        return jax.ops.segment_sum(jnp.sum(v.reshape(W, -1), axis=-1), seg, num_segments=W)

    def frame_cost(x):
        kin = jax.vmap(partial(_kinematics, robot))(x)
        pts = jnp.concatenate([kin[0], kin[1].reshape(W, -1, 3), kin[2], kin[3]], axis=-2)
        r = jax.vmap(
            lambda p, q, fr: _frame_residual_from_points(robot, p, q, fr, w, static, pairs)
        )(pts, x.joint_pos, frames)
        temporal = _temporal_frame_cost(robot, kin[1], x, win, w, fps)
        return mask * jnp.sum(r * r, axis=-1) + temporal

    def step(carry, _):
        x, lam, cost = carry  # lam, cost: per segment (W,)

        def linearize(x, frames, m):
            pts, jac = _points_and_jacobian(robot, x)
            _, H, g = _linearize_frames(robot, pts, jac, x.joint_pos, frames, m, w, static, pairs)
            return H, g, pts[:, sole], jac[:, :, sole]

        H, g, sole_pts, sole_jac = _in_chunks(linearize, x, frames, mask)

        def temporal(d):
            soles = sole_pts + jnp.einsum("tdmi,td->tmi", sole_jac, d)
            soles = soles.reshape(W, *robot.sole_points.shape)
            return _temporal_residual(robot, soles, _retract(x, d), win, w, fps)

        zero = jnp.zeros((W, D), dtype)
        e0, t_jvp = jax.linearize(temporal, zero)
        t_vjp = jax.linear_transpose(t_jvp, zero)

        def tt(v):
            return t_vjp(t_jvp(v))[0]

        g = g + t_vjp(e0)[0]  # Σ J_tᵀr_t + Tᵀe
        soles = sole_pts.reshape(W, *robot.sole_points.shape)
        blocks = temporal_blocks(robot, x, soles, sole_jac, win, w, fps)
        diag = jnp.diagonal(H, axis1=-2, axis2=-1)
        damp = lam[seg][:, None] * diag + 1e-6
        free = _free_mask(robot, x.joint_pos, g)
        g = free * g

        def apply(v):
            v = free * v
            Av = jnp.einsum("tde,te->td", H, v) + tt(v) + damp * v
            return free * Av + (1.0 - free) * v

        P = _restrict(H + blocks + damp[..., None] * eye, free, eye)
        chol = jnp.linalg.cholesky(P)

        def precond(r):
            y = jax.lax.linalg.triangular_solve(chol, r[..., None], left_side=True, lower=True)
            z = jax.lax.linalg.triangular_solve(
                chol, y, left_side=True, lower=True, transpose_a=True
            )
            return z[..., 0]

        def ratio(num, den):
            return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)

        def cg(carry, _):  # conjugate gradients, one independent run per segment
            d, r, p, z, rz = carry
            Ap = apply(p)
            alpha = ratio(rz, seg_sum(p * Ap))[seg][:, None]
            d = d + alpha * p
            r = r - alpha * Ap
            z = precond(r)
            rz_new = seg_sum(r * z)
            beta = ratio(rz_new, rz)[seg][:, None]
            return (d, r, z + beta * p, z, rz_new), None

        r0 = -g
        z0 = precond(r0)
        init = (zero, r0, z0, z0, seg_sum(r0 * z0))
        (delta, *_), _ = jax.lax.scan(cg, init, None, length=static.cg_iterations)
        delta = jnp.where(jnp.isfinite(delta), delta, 0.0) * mask[:, None]
        # Step sizes tried at once; each segment keeps its best, if it lowers its cost.
        xs = jax.vmap(lambda a: _step(robot, x, a * delta))(jnp.asarray(STEP_SIZES))
        costs = jax.vmap(lambda xa: seg_sum(frame_cost(xa)))(xs)  # (A, W segments)
        best = jnp.argmin(costs, axis=0)
        cost_new = jnp.take_along_axis(costs, best[None], axis=0)[0]
        x_new = jax.tree_util.tree_map(
            lambda a: jnp.take_along_axis(
                a, best[seg].reshape((1, W) + (1,) * (a.ndim - 2)), axis=0
            )[0],
            xs,
        )
        accept = cost_new < cost
        x = _select(accept[seg], x_new, x)
        lam = jnp.where(accept, lam / 3.0, lam * 10.0)
        cost = jnp.where(accept, cost_new, cost)
        return (x, lam, cost), None

    lam0 = jnp.full((W,), static.damping, dtype)
    init = (x, lam0, seg_sum(frame_cost(x)))
    (x, _, cost), _ = jax.lax.scan(step, init, None, length=static.iterations)
    return x, jnp.sum(cost) / jnp.maximum(jnp.sum(mask), 1.0)


def window_cost(
    robot: Any,
    z: dict,
    base_quat: Array,
    win: dict,
    w: Array,
    fps: Array,
    static: SolverStatic,
    pairs: Array,
) -> Array:
    """Full cost of one window (module docstring, stage 2), divided by its valid frames."""
    quat = quat_normalize(quat_mul(base_quat, quat_exp(z["root_rot"])))
    x = FrameState(z["root_pos"], quat, z["joint_pos"])
    kp, soles, cap_a, cap_b = jax.vmap(partial(_kinematics, robot))(x)
    mask = win["mask"]
    per_frame_data = {k: win[k] for k in _PER_FRAME_KEYS}

    def per_frame(kin, q, frame):
        r = _residuals(robot, kin, q, frame, w, static)
        return jnp.sum(r * r)

    kin = (kp, soles, cap_a, cap_b)
    per = jax.vmap(per_frame)(kin, x.joint_pos, per_frame_data)
    total = jnp.sum(mask * per)
    total += w[4] * jnp.sum(mask * self_collision_cost(cap_a, cap_b, robot.capsule_radius, pairs))
    total += w[8] * slip_cost(soles, win["sole_contact"], mask, win["contact"])
    total += w[5] * smoothness_cost(x.joint_pos, x.root_pos, x.root_quat, mask, fps)
    total += w[6] * velocity_limit_cost(x.joint_pos, robot.velocity_limit, mask, fps)
    return total / jnp.maximum(jnp.sum(mask), 1.0)


def active_pairs(robot: Any, x: FrameState, mask: Array, max_pairs: int) -> Array:
    """The ``max_pairs`` collision pairs that come closest within a window, at its start.

    ``clearance_ij = min_t d_t(seg_i, seg_j) − ρ_i − ρ_j`` over the window's valid frames;
    the pairs with the smallest clearance are kept for the refinement. The refinement moves
    the robot by centimetres, so a pair that starts metres apart cannot start colliding,
    while pruning cuts the self-collision work by ``P / max_pairs`` (390 → 32 on the G1).
    """
    pairs = jnp.asarray(robot.collision_pairs)
    if pairs.shape[0] <= max_pairs:
        return pairs
    _, _, cap_a, cap_b = jax.vmap(partial(_kinematics, robot))(x)
    i, j = pairs[:, 0], pairs[:, 1]
    d = segment_segment_distance(cap_a[:, i], cap_b[:, i], cap_a[:, j], cap_b[:, j])
    clearance = d - robot.capsule_radius[i] - robot.capsule_radius[j]
    clearance = jnp.min(jnp.where(mask[:, None] > 0, clearance, jnp.inf), axis=0)
    _, top = jax.lax.top_k(-jax.lax.stop_gradient(clearance), max_pairs)
    return pairs[top]


def _refine_window(
    robot: Any, x0: FrameState, win: dict, w: Array, fps: Array, static: SolverStatic
):
    z0 = {
        "root_pos": x0.root_pos,
        "root_rot": jnp.zeros_like(x0.root_pos),
        "joint_pos": x0.joint_pos,
    }
    pairs = active_pairs(robot, x0, win["mask"], static.max_pairs)
    if static.optimizer == "gauss_newton":
        return _window_gauss_newton(robot, x0, win, w, fps, static, pairs)

    def f(z):
        return window_cost(robot, z, x0.root_quat, win, w, fps, static, pairs)

    def project(z):
        return {**z, "joint_pos": _clip_joints(robot, z["joint_pos"])}

    if static.iterations == 0:
        return x0, f(z0)
    if static.optimizer == "lbfgs":
        opt = optax.lbfgs()
        vg = optax.value_and_grad_from_state(f)

        def step(carry, _):
            z, state = carry
            value, grad = vg(z, state=state)
            updates, state = opt.update(grad, state, z, value=value, grad=grad, value_fn=f)
            z = project(optax.apply_updates(z, updates))
            return (z, state), value
    else:
        schedule = optax.cosine_decay_schedule(static.learning_rate, static.iterations, alpha=0.05)
        opt = optax.adam(schedule)
        vg = jax.value_and_grad(f)

        def step(carry, _):
            z, state = carry
            value, grad = vg(z)
            updates, state = opt.update(grad, state, z)
            z = project(optax.apply_updates(z, updates))
            return (z, state), value

    (z, _), _ = jax.lax.scan(step, (z0, opt.init(z0)), None, length=static.iterations)
    quat = quat_normalize(quat_mul(x0.root_quat, quat_exp(z["root_rot"])))
    return FrameState(z["root_pos"], quat, z["joint_pos"]), f(z)


@partial(jax.jit, static_argnames=("static",))
def solve_windows(robot: Any, data: WindowData, weights: Array, fps: Array, static: SolverStatic):
    """Solve a stack of windows; returns ``(FrameState with (n, W, ...) arrays, loss (n,))``.

    ``weights`` is the vector of :data:`WEIGHT_NAMES`; ``fps`` the solve rate (both traced,
    so sweeping them does not recompile).
    """
    n, W = data.mask.shape
    x0 = FrameState(data.root_pos, data.root_quat, data.joint_pos)
    x0 = x0._replace(joint_pos=_clip_joints(robot, x0.joint_pos))
    frame = {
        "target_keypoints": data.target_keypoints,
        "keypoint_weight": data.keypoint_weight,
        "target_frames": data.target_frames,
        "frame_weight": data.frame_weight,
        "sole_contact": data.sole_contact,
    }
    flat = jax.tree_util.tree_map(lambda a: a.reshape((n * W, *a.shape[2:])), (x0, frame))
    if static.init_iterations > 0:
        x_init = _init_frames(robot, *flat, weights, static)
    else:
        x_init = flat[0]
    x_init = jax.tree_util.tree_map(lambda a: a.reshape((n, W, *a.shape[1:])), x_init)
    win = {
        "target_keypoints": data.target_keypoints,
        "keypoint_weight": data.keypoint_weight,
        "target_frames": data.target_frames,
        "frame_weight": data.frame_weight,
        "sole_contact": data.sole_contact,
        "contact": data.contact,
        "mask": data.mask,
    }
    return jax.vmap(lambda x, wn: _refine_window(robot, x, wn, weights, fps, static))(x_init, win)

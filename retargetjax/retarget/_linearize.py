"""Linearisation of the least-squares problem around the iterate: ``Jᵀr``, ``JᵀJ``.

The tangent per frame is ``δ = (δp, δθ, δq)`` (root translation, root rotation vector in the
root frame, joint angles; ``D = 6 + N``). Every residual is a function of points on bodies
and of the joint angles, so its Jacobian is ``∂r/∂points · ∂points/∂δ`` with the points'
geometric Jacobian from one FK sweep (:func:`~retargetjax.retarget._problem.points_and_tangents`):
a forward-mode pass through the cheap point → residual map per degree of freedom, never
through forward kinematics.

For a window the normal matrix is ``Σ_t H_t + TᵀT`` with per-frame blocks ``H_t = J_tᵀJ_t``
and ``T = ∂e/∂δ`` the Jacobian of the temporal residual ``e``, which couples neighbouring
frames: it is applied matrix-free (``jax.linearize``), and its diagonal blocks ``(TᵀT)_tt``
(the preconditioner's share) come in closed form where a term has one
(:mod:`._temporal_blocks`) and are otherwise read off the same linear map by probing
(:func:`block_diagonal`), so a new temporal term needs no hand-written stencil.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..robot import RobotModel
from ..types import Array
from ._costs import STENCIL_FRAMES, pair_closest_points
from ._problem import (
    BodyPoints,
    FrameData,
    FrameState,
    SolverStatic,
    Weights,
    Window,
    points_and_tangents,
    retract,
)
from ._residuals import (
    FRAME_TERMS,
    TEMPORAL_TERMS,
    frame_residual,
    self_collision,
    temporal_residual,
)

__all__ = [
    "CHUNK_FRAMES",
    "Linearization",
    "block_diagonal",
    "flat_loops",
    "in_chunks",
    "linearize_frames",
    "linearize_temporal",
    "linearize_window",
    "loops_flat",
    "self_collision_rows",
    "temporal_blocks",
]


class Linearization(NamedTuple):
    """The Gauss-Newton model of a window's cost around the iterate (``T`` frames)."""

    gradient: Array
    """(T, D) ``Σ J_tᵀr_t + Tᵀe`` (half the cost's gradient)."""
    hessian: Array
    """(T, D, D) per-frame blocks ``H_t = J_tᵀJ_t``."""
    coupling_blocks: Array
    """(T, D, D) diagonal blocks ``(TᵀT)_tt`` of the temporal part (0 without one)."""
    coupling: Callable[[Array], Array] | None
    """``v (T, D) ↦ TᵀT v``, or ``None`` where frames are not coupled (block diagonal)."""


#: Frames linearised together: small enough that the point Jacobians stay in cache.
CHUNK_FRAMES = 8


_FLAT = [False]


@contextlib.contextmanager
def flat_loops() -> Iterator[None]:
    """While active, programs *traced* (not merely run) are built without loops:
    :func:`in_chunks` makes one call over all frames and the solver's ``lax.scan`` s
    (iterations, conjugate-gradient steps) are unrolled. Same results; for XLA's cost
    analysis, which counts a loop's body once whatever its trip count."""
    _FLAT[0] = True
    try:
        yield
    finally:
        _FLAT[0] = False


def loops_flat() -> bool:
    """Whether :func:`flat_loops` is active (``unroll=`` of the solver's scans)."""
    return _FLAT[0]


def in_chunks(fn: Callable, *args):
    """``fn`` over the leading (frame) axis of ``args`` in chunks of :data:`CHUNK_FRAMES`
    (``lax.map``): the same result as one call, with its intermediates cache-sized."""
    T = jax.tree_util.tree_leaves(args)[0].shape[0]
    chunk = next(c for c in (CHUNK_FRAMES, 4, 2, 1) if T % c == 0)
    if chunk == T or loops_flat():
        return fn(*args)

    def split(a):
        return a.reshape(T // chunk, chunk, *a.shape[1:])

    def join(a):
        return a.reshape(T, *a.shape[2:])

    out = jax.lax.map(lambda a: fn(*a), jax.tree_util.tree_map(split, args))
    return jax.tree_util.tree_map(join, out)


def self_collision_rows(
    robot: RobotModel, points: BodyPoints, tangents: BodyPoints, pairs: Array, weights: Weights
) -> tuple[Array, Array]:
    """Self-collision residuals of one frame and their Jacobian, (P,) and (D, P).

    With ``c_i = a_i + s (b_i − a_i)`` and ``c_j = a_j + t (b_j − a_j)`` the closest points,
    at the optimal ``(s, t)`` the distance's derivative is ``nᵀ (∂c_i − ∂c_j)`` with ``n`` the
    unit vector ``c_j → c_i`` (the terms through ``s`` and ``t`` vanish there), so the rows
    ``−√w 1[r > 0] nᵀ (∂c_i − ∂c_j)`` are built from the end points' tangents — no
    forward-mode pass through the closest-point search.
    """
    r = self_collision(robot, points, pairs, weights)
    s, t, diff, dist = pair_closest_points(points.capsule_a, points.capsule_b, pairs)
    normal = diff / dist[:, None]
    # ∂c_i − ∂c_j as weights on the capsules' end tangents (P, C): one matrix product over
    # (capsule, axis) instead of four gathers of (D, P, 3) tangents, which XLA's CPU
    # backend runs as slow element loops (3× the time of this product on the G1).
    one_i = jax.nn.one_hot(pairs[:, 0], tangents.capsule_a.shape[-2], dtype=normal.dtype)
    one_j = jax.nn.one_hot(pairs[:, 1], tangents.capsule_a.shape[-2], dtype=normal.dtype)
    on_a = (1.0 - s)[:, None] * one_i - (1.0 - t)[:, None] * one_j  # (P, C)
    on_b = s[:, None] * one_i - t[:, None] * one_j
    rows = -(
        jnp.einsum("pcx,dcx->dp", on_a[:, :, None] * normal[:, None, :], tangents.capsule_a)
        + jnp.einsum("pcx,dcx->dp", on_b[:, :, None] * normal[:, None, :], tangents.capsule_b)
    )  # (D, P)
    active = (r > 0).astype(rows.dtype)
    return r, jnp.sqrt(weights.self_collision) * active * rows


def linearize_frames(
    robot: RobotModel,
    x: FrameState,
    frames: FrameData,
    frame_weight: Array,
    weights: Weights,
    static: SolverStatic,
    pairs: Array | None,
) -> tuple[Array, Array, BodyPoints, BodyPoints]:
    """``H_t = J_tᵀJ_t`` (T, D, D) and ``g_t = J_tᵀr_t`` (T, D) of the per-frame residuals
    (scaled by ``frame_weight`` (T,)), and the points and tangents they came from.

    ``J_t`` is built one tangent ``∂p/∂δ_k`` at a time (a forward-mode pass through the
    point → residual map per degree of freedom); self-collision rows over ``pairs`` (none if
    ``None``) come from :func:`self_collision_rows`. Terms of the form ``r = q − c``
    (``FrameTerm.joint_offset``) add ``m_t w diag(0₆, I_N)`` to ``H_t`` and ``m_t w (0, r)`` to
    ``g_t`` in closed form: no rows of ``J_t`` for them.
    """
    points, tangents = points_and_tangents(robot, x)
    N = x.joint_pos.shape[-1]
    D = 6 + N
    joint_tangents = jnp.eye(D, dtype=x.joint_pos.dtype)[:, 6:]  # ∂q/∂δ_k
    differentiated = tuple(term for term in FRAME_TERMS if not term.joint_offset)
    closed_form = tuple(term for term in FRAME_TERMS if term.joint_offset)

    def one(p, tan, q, fr, m):
        def f(p, q):
            return frame_residual(robot, p, q, fr, weights, static, differentiated)

        r = f(p, q)
        Jr = jax.vmap(lambda tp, tq: jax.jvp(f, (p, q), (tp, tq))[1])(tan, joint_tangents)
        if pairs is not None:
            r_sc, J_sc = self_collision_rows(robot, p, tan, pairs, weights)
            r, Jr = jnp.concatenate([r, r_sc]), jnp.concatenate([Jr, J_sc], axis=-1)
        k = jnp.sqrt(m)
        # Σ over the closed-form terms of w (q − c): their share of g_t on the joints.
        offset = sum(
            (getattr(weights, t.weight) * t.residual(robot, p, q, fr, static) for t in closed_form),
            jnp.zeros((N,), q.dtype),
        )
        return k * r, k * Jr, m * offset  # (R,), (D, R), (N,)

    r, Jr, offset = jax.vmap(one)(points, tangents, x.joint_pos, frames, frame_weight)
    H = jnp.einsum("tdr,ter->tde", Jr, Jr)
    g = jnp.einsum("tdr,tr->td", Jr, r)
    if closed_form:
        w = sum(getattr(weights, t.weight) for t in closed_form)
        joints = jnp.diag(jnp.concatenate([jnp.zeros((6,), H.dtype), jnp.ones((N,), H.dtype)]))
        H = H + (frame_weight * w)[:, None, None] * joints
        g = g.at[:, 6:].add(offset)
    return H, g, points, tangents


def block_diagonal(
    normal: Callable[[Array], Array],
    num_frames: int,
    dim: int,
    stencil: int,
    dtype: jnp.dtype = jnp.float32,
) -> Array:
    """(T, D, D) diagonal blocks ``(JᵀJ)_tt`` of ``v ↦ JᵀJ v`` (``normal``, on per-frame
    tangents (T, D)), for a ``J`` whose rows couple at most ``stencil`` consecutive frames,
    by probing with ``stencil · D`` products.

    Two frames ``stencil`` or more apart share no row, so ``(JᵀJ)_{tt'} = 0`` for them: the
    frames ``t ≡ c (mod stencil)`` can be perturbed together along ``e_k``, and the response
    at each of them is its own column ``(JᵀJ)_tt e_k``.
    """
    T = num_frames
    colour = (jnp.arange(T)[None, :] % stencil == jnp.arange(stencil)[:, None]).astype(dtype)
    eye = jnp.eye(dim, dtype=dtype)
    probes = colour[:, None, :, None] * eye[None, :, None, :]  # (C, k, T, D)
    response = jax.vmap(jax.vmap(normal))(probes)  # (C, k, T, D)
    return jnp.einsum("ct,ckte->tek", colour, response)


def temporal_blocks(
    robot: RobotModel,
    x: FrameState,
    soles: Array,
    sole_tangents: Array,
    frames: FrameData,
    weights: Weights,
    fps: Array,
) -> Array:
    """(W, D, D) diagonal blocks ``(TᵀT)_tt`` of the temporal residual: ``Σ w_term B_term``
    over the terms with a closed form (:mod:`._temporal_blocks`), plus the blocks of the
    others read off their own ``TᵀT`` by probing (:func:`block_diagonal`)."""
    W, D = x.joint_pos.shape[0], 6 + x.joint_pos.shape[-1]
    blocks = jnp.zeros((W, D, D), x.joint_pos.dtype)
    probed = tuple(term for term in TEMPORAL_TERMS if term.blocks is None)
    for term in TEMPORAL_TERMS:
        if term.blocks is not None:
            b = term.blocks(robot, soles, sole_tangents, x, frames, fps)
            blocks = blocks + getattr(weights, term.weight) * b
    if probed:
        _, normal = _temporal_model(robot, x, soles, sole_tangents, frames, weights, fps, probed)
        blocks = blocks + block_diagonal(normal, W, D, STENCIL_FRAMES, blocks.dtype)
    return blocks


def _temporal_model(
    robot: RobotModel,
    x: FrameState,
    soles: Array,
    sole_tangents: Array,
    frames: FrameData,
    weights: Weights,
    fps: Array,
    terms: tuple,
) -> tuple[Array, Callable[[Array], Array]]:
    """``Tᵀe`` (W, D) and ``v ↦ TᵀT v`` of the temporal residual of ``terms`` around ``x``,
    the sole points moved to first order by their tangents.

    The residual is linearised (``jax.linearize``) in the sole points' displacement ``u``
    and the step ``δ`` separately, ``T v = L(S v, v)`` with ``S = ∂soles/∂δ``, and ``S`` is
    applied by hand: ``S v`` from a (W, K, D) copy and ``Sᵀ`` from the (W, D, K) tangents,
    each a product over its last axis. (Pushing ``δ`` through ``S`` inside the linearised
    function contracts the middle axis of the tangents in its transpose, which XLA's CPU
    backend runs ~5x slower; the conjugate-gradient loop applies this map at every step.)
    """
    W, D = x.joint_pos.shape[0], 6 + x.joint_pos.shape[-1]
    S = sole_tangents.reshape(W, D, -1)  # (W, D, K)
    S_rows = jnp.swapaxes(S, 1, 2)  # (W, K, D)

    def temporal(u, d):
        moved = soles + u.reshape(soles.shape)
        return temporal_residual(robot, moved, retract(x, d), frames, weights, fps, terms)

    zero_u = jnp.zeros(S_rows.shape[:2], x.joint_pos.dtype)
    zero = jnp.zeros((W, D), x.joint_pos.dtype)
    e0, lin = jax.linearize(temporal, zero_u, zero)
    lin_t = jax.linear_transpose(lin, zero_u, zero)

    def t_jvp(v: Array) -> tuple[Array, ...]:
        return lin(jnp.einsum("tkd,td->tk", S_rows, v), v)

    def t_vjp(e: tuple[Array, ...]) -> Array:
        gu, gd = lin_t(e)
        return jnp.einsum("tdk,tk->td", S, gu) + gd

    return t_vjp(e0), lambda v: t_vjp(t_jvp(v))


def linearize_temporal(
    robot: RobotModel,
    x: FrameState,
    soles: Array,
    sole_tangents: Array,
    frames: FrameData,
    weights: Weights,
    fps: Array,
    *,
    blocks: Array | None = None,
) -> tuple[Array, Array, Callable[[Array], Array]]:
    """``Tᵀe`` (W, D), the blocks ``(TᵀT)_tt`` (W, D, D) and ``v ↦ TᵀT v`` of the temporal
    residual ``e`` around ``x``, with sole points ``soles`` (W, 2, P, 3) moved to first
    order by their tangents (W, D, 2, P, 3). ``blocks`` given are passed through instead of
    computed (:func:`temporal_blocks`)."""
    gradient, coupling = _temporal_model(
        robot, x, soles, sole_tangents, frames, weights, fps, TEMPORAL_TERMS
    )
    if blocks is None:
        blocks = temporal_blocks(robot, x, soles, sole_tangents, frames, weights, fps)
    return gradient, blocks, coupling


def linearize_window(
    robot: RobotModel, x: FrameState, window: Window, *, blocks: Array | None = None
) -> Linearization:
    """The full window model: per-frame terms (masked, in chunks) plus the temporal ones;
    ``blocks``, when given, are used as the temporal diagonal
    blocks instead of probing them at ``x``."""
    weights = window.weights

    def per_frames(x, frames):
        H, g, points, tangents = linearize_frames(
            robot, x, frames, frames.mask, weights, window.static, window.pairs
        )
        return H, g, points.soles, tangents.soles

    H, g, soles, sole_tangents = in_chunks(per_frames, x, window.frames)
    g_t, blocks, coupling = linearize_temporal(
        robot, x, soles, sole_tangents, window.frames, weights, window.fps, blocks=blocks
    )
    return Linearization(g + g_t, H, blocks, coupling)

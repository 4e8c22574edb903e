"""The damped normal equations of a Levenberg-Marquardt step, and their solvers.

``(H + TᵀT + diag(λ_t diag H_t + μ)) δ = −g`` on the *free* coordinates (:func:`free_mask`),
with ``H`` block diagonal by frame (:class:`~retargetjax.retarget._linearize.Linearization`).
Without temporal coupling the system is block diagonal and solved exactly, one Cholesky
factor per frame (:func:`block_cholesky_solve`); with it, by conjugate gradients
preconditioned with the block diagonal ``H_t + (TᵀT)_tt + damping``
(:func:`segmented_cg`), one independent run per segment.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ..robot import RobotModel
from ..types import Array
from ._linearize import Linearization, loops_flat

__all__ = [
    "DAMPING_FLOOR",
    "block_cholesky",
    "block_cholesky_inverse",
    "block_cholesky_solve",
    "free_mask",
    "restrict",
    "segment_sum",
    "segmented_cg",
    "solve_step",
    "substituted_cholesky_inverse",
]

#: ``μ``: added to every diagonal entry, so a coordinate no residual sees stays put.
DAMPING_FLOOR = 1e-6


def free_mask(robot: RobotModel, joint_pos: Array, grad: Array) -> Array:
    """(..., D) 1 for coordinates a step may move, 0 for joints held at a limit.

    A joint at its lower (upper) limit whose gradient points further down (up) is held
    (projected Newton): solving for it would spend the step on a move the clip undoes.
    """
    g = grad[..., 6:]
    at_lower = (joint_pos <= robot.joint_lower + 1e-4) & (g > 0)
    at_upper = (joint_pos >= robot.joint_upper - 1e-4) & (g < 0)
    held = (at_lower | at_upper).astype(joint_pos.dtype)
    root = jnp.ones((*joint_pos.shape[:-1], 6), joint_pos.dtype)
    return jnp.concatenate([root, 1.0 - held], axis=-1)


def restrict(A: Array, free: Array) -> Array:
    """Blocks ``A`` (..., D, D) on the free coordinates, identity on the held ones."""
    eye = jnp.eye(A.shape[-1], dtype=A.dtype)
    return A * free[..., :, None] * free[..., None, :] + (1.0 - free)[..., None] * eye


def segment_sum(values: Array, segments: Array) -> Array:
    """(T,) per-segment totals of per-frame values (T, ...) (segment ids (T,) < T)."""
    T = segments.shape[0]
    return jax.ops.segment_sum(jnp.sum(values.reshape(T, -1), axis=-1), segments, num_segments=T)


def block_cholesky(blocks: Array) -> Array:
    """Lower Cholesky factors (T, D, D) of symmetric positive-definite blocks."""
    return jnp.linalg.cholesky(blocks)


def block_cholesky_inverse(chol: Array) -> Array:
    """``(L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹`` (T, D, D) per frame from the lower factors ``L`` (T, D, D)."""
    eye = jnp.broadcast_to(jnp.eye(chol.shape[-1], dtype=chol.dtype), chol.shape)
    inv_l = jax.lax.linalg.triangular_solve(chol, eye, left_side=True, lower=True)
    return jnp.einsum("tki,tkj->tij", inv_l, inv_l)


def substituted_cholesky_inverse(blocks: Array) -> Array:
    """``A⁻¹`` (T, D, D) of symmetric positive-definite blocks ``A`` (T, D, D), the same as
    ``block_cholesky_inverse(block_cholesky(A))``, written as ``D`` steps of element-wise
    arithmetic over all frames at once instead of calls to the batched small-matrix
    routines (``potrf``, ``trsm``) of the device's linear-algebra library:

    ``L_jj = √(A_jj − Σ_{k<j} L_jk²)``, ``L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj`` (i > j),
    then ``X = L⁻¹`` row by row, ``X_i = (e_i − Σ_{k<i} L_ik X_k) / L_ii``, and
    ``A⁻¹ = XᵀX``.

    Not used by the solver: an alternative for accelerators whose batched routines run
    35×35 blocks poorly, timed by ``benchmarks/_iteration.py`` (``factor_substituted``).
    On a CPU it is slower than XLA's routines."""
    D = blocks.shape[-1]
    cols: list[Array] = []  # column j of L: (T, D), zero above the diagonal
    for j in range(D):
        Lj = jnp.stack(cols, axis=-1) if cols else jnp.zeros((*blocks.shape[:-1], 0), blocks.dtype)
        row_j = Lj[..., j, :]  # (T, j): L_jk, k < j
        a = blocks[..., :, j] - jnp.einsum("tik,tk->ti", Lj, row_j)
        d = jnp.sqrt(jnp.maximum(a[..., j], 1e-30))
        below = (jnp.arange(D) >= j).astype(blocks.dtype)
        cols.append(a * below / d[..., None])
    L = jnp.stack(cols, axis=-1)  # (T, D, D)
    eye = jnp.eye(D, dtype=blocks.dtype)
    rows: list[Array] = []  # row i of X = L⁻¹: (T, D)
    for i in range(D):
        acc = eye[i] - (
            jnp.einsum("tk,tkd->td", L[..., i, :i], jnp.stack(rows, axis=-2)) if rows else 0.0
        )
        rows.append(acc / L[..., i, i][..., None])
    X = jnp.stack(rows, axis=-2)
    return jnp.einsum("tki,tkj->tij", X, X)


def block_cholesky_solve(chol: Array, rhs: Array) -> Array:
    """``L⁻ᵀ L⁻¹ rhs`` per frame: the solve of ``L Lᵀ z = rhs`` (T, D)."""
    y = jax.lax.linalg.triangular_solve(chol, rhs[..., None], left_side=True, lower=True)
    z = jax.lax.linalg.triangular_solve(chol, y, left_side=True, lower=True, transpose_a=True)
    return z[..., 0]


def segmented_cg(
    apply: Callable[[Array], Array],
    precondition: Callable[[Array], Array],
    rhs: Array,
    segments: Array,
    iterations: int,
) -> Array:
    """Preconditioned conjugate gradients for ``A δ = rhs`` (T, D), ``A`` symmetric positive
    definite and block diagonal by segment (``segments`` (T,) ids): every scalar (``α``,
    ``β``) is kept per segment, so each segment's result is the one it would get alone.

    ``δ₀ = 0``, ``r₀ = rhs``, ``z = M⁻¹r``, ``p₀ = z₀``; ``α = rᵀz / pᵀAp``, ``δ += α p``,
    ``r −= α Ap``, ``β = r'ᵀz' / rᵀz``, ``p = z' + β p`` for ``iterations`` steps.
    """

    def ratio(num, den):
        return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)

    def step(carry, _):
        d, r, p, rz = carry
        Ap = apply(p)
        alpha = ratio(rz, segment_sum(p * Ap, segments))[segments][:, None]
        d = d + alpha * p
        r = r - alpha * Ap
        z = precondition(r)
        rz_new = segment_sum(r * z, segments)
        beta = ratio(rz_new, rz)[segments][:, None]
        return (d, r, z + beta * p, rz_new), None

    z0 = precondition(rhs)
    init = (jnp.zeros_like(rhs), rhs, z0, segment_sum(rhs * z0, segments))
    (delta, *_), _ = jax.lax.scan(step, init, None, length=iterations, unroll=loops_flat())
    return delta


def solve_step(
    lin: Linearization,
    free: Array,
    damping: Array,
    segments: Array,
    cg_iterations: int,
) -> Array:
    """The Levenberg-Marquardt step ``δ`` (T, D) for per-frame ``damping`` ``λ_t`` (T,):
    ``(H + TᵀT + λ diag H + μ I) δ = −g`` on the free coordinates (``free`` (T, D)), held
    coordinates ``δ = 0``; exact when frames are not coupled, else :func:`segmented_cg`."""
    diag = jnp.diagonal(lin.hessian, axis1=-2, axis2=-1)
    damp = damping[:, None] * diag + DAMPING_FLOOR
    eye = jnp.eye(diag.shape[-1], dtype=diag.dtype)
    chol = block_cholesky(restrict(lin.hessian + lin.coupling_blocks + damp[..., None] * eye, free))
    rhs = -free * lin.gradient
    if lin.coupling is None:
        return block_cholesky_solve(chol, rhs)
    coupling = lin.coupling

    def apply(v: Array) -> Array:
        v = free * v
        Av = jnp.einsum("tde,te->td", lin.hessian, v) + coupling(v) + damp * v
        return free * Av + (1.0 - free) * v

    # The preconditioner's blocks inverted once, so that each conjugate-gradient step
    # applies it as one batched matrix-vector product.
    inverse = block_cholesky_inverse(chol)
    return segmented_cg(
        apply, lambda r: jnp.einsum("tde,te->td", inverse, r), rhs, segments, cg_iterations
    )

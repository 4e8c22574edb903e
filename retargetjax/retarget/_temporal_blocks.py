"""Closed-form diagonal blocks ``(TᵀT)_tt`` of the temporal terms (the preconditioner's share).

The temporal residual ``e`` (:data:`~retargetjax.retarget._residuals.TEMPORAL_TERMS`) couples
neighbouring frames; its Gauss-Newton matrix ``TᵀT`` is applied matrix-free, but the
block-diagonal preconditioner needs its diagonal blocks. Every temporal term is a short
finite-difference stencil of per-frame quantities (joint angles, root position, root
rotation, sole points), so a row ``e_r = Σ_s c_s A_{t+s} δ_{t+s}`` contributes
``c_s² A_{t+s}ᵀ A_{t+s}`` to the block of frame ``t + s``. Written out per term here, these
cost a few multiply-adds per frame, where reading them off ``TᵀT`` by probing
(:func:`~retargetjax.retarget._linearize.block_diagonal`) costs ``3·D`` products with it.
They are exact (the tests hold them to the probed blocks): the root rotation's rows use the
exact ``3×3`` Jacobians of ``ω_t = log(q_t⁻¹ q_{t+1})``.

A term without a closed form here is probed, so adding a temporal term needs no code in this
module; giving it one only makes it cheaper.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..geometry import quat_conj, quat_exp, quat_log, quat_mul
from ..types import Array
from ._problem import FrameData, FrameState
from ._temporal_costs import REFERENCE_FPS, slip_gate, touchdown_relief

__all__ = ["slip_blocks", "smoothness_blocks", "velocity_limit_blocks"]


def _spread(rows: Array, offsets: tuple[float, ...], num_frames: int) -> Array:
    """(T, ...) ``Σ_s c_s² rows_{t−s}``: the weight each frame receives from step rows
    ``rows`` (R, ...) whose stencil coefficients (at frames ``t … t + len−1``) are
    ``offsets``."""
    out = jnp.zeros((num_frames, *rows.shape[1:]), rows.dtype)
    for s, c in enumerate(offsets):
        out = out.at[s : s + rows.shape[0]].add(c * c * rows)
    return out


def _diagonal_blocks(diag: Array) -> Array:
    """(T, D, D) diagonal matrices from their diagonals (T, D)."""
    return diag[..., :, None] * jnp.eye(diag.shape[-1], dtype=diag.dtype)


def _rotation_step_jacobians(root_quat: Array) -> tuple[Array, Array]:
    """``A_t = ∂ω_t/∂δθ_t`` and ``B_t = ∂ω_t/∂δθ_{t+1}`` (T−1, 3, 3) of the root's rotation
    between frames ``ω_t = log(q_t⁻¹ q_{t+1})``, with ``q ← q ⊗ exp(δθ)`` (as
    :func:`~retargetjax.retarget._problem.retract`)."""

    def omega(a: Array, b: Array, qa: Array, qb: Array) -> Array:
        qa = quat_mul(qa, quat_exp(a))
        qb = quat_mul(qb, quat_exp(b))
        return quat_log(quat_mul(quat_conj(qa), qb))

    zero = jnp.zeros((3,), root_quat.dtype)
    jac = jax.vmap(jax.jacfwd(omega, argnums=(0, 1)), in_axes=(None, None, 0, 0))
    return jac(zero, zero, root_quat[:-1], root_quat[1:])


def smoothness_blocks(
    x: FrameState,
    mask: Array,
    fps: Array,
    contact: Array | None = None,
    part_contact: Array | None = None,
) -> Array:
    """(T, D, D) blocks of :func:`~._temporal_costs.smoothness_residual` (weight 1).

    With ``k = 30/fps``: the velocity rows ``√0.1 k (x_{t+1} − x_t)`` give ``0.1 k²`` to both
    frames, the acceleration rows ``k² (x_{t+2} − 2x_{t+1} + x_t)`` give ``k⁴ (1, 4, 1)``, on
    the joint and root-position coordinates (diagonal; the joints' acceleration rows times
    their :func:`~retargetjax.retarget._temporal_costs.touchdown_relief`). The root rotation's rows
    ``Δω_t = k² (ω_{t+1} − ω_t)`` have Jacobians ``−k² A_t``, ``k² (A_{t+1} − B_t)`` and
    ``k² B_{t+1}`` at frames ``t, t+1, t+2`` (:func:`_rotation_step_jacobians`).
    """
    T, N = x.joint_pos.shape
    k = REFERENCE_FPS / fps
    m1 = mask[1:] * mask[:-1]
    m2 = mask[2:] * mask[1:-1] * mask[:-2]
    vel = _spread(0.1 * k**2 * m1, (1.0, 1.0), T)
    lin = vel + _spread(k**4 * m2, (1.0, 2.0, 1.0), T)
    relief = touchdown_relief(contact, mask, fps, part_contact)
    joints = vel + _spread(k**4 * m2 * relief, (1.0, 2.0, 1.0), T)
    ones = jnp.ones((1, 3), x.joint_pos.dtype)
    diag = jnp.concatenate(
        [lin[:, None] * ones, jnp.zeros((T, 3), lin.dtype), joints[:, None] * jnp.ones((1, N))],
        axis=-1,
    )
    blocks = _diagonal_blocks(diag)
    A, B = _rotation_step_jacobians(x.root_quat)  # (T−1, 3, 3)
    c = (k**4 * m2)[:, None, None]

    def gram(M: Array) -> Array:
        return jnp.einsum("tij,tik->tjk", M, M)

    rot = jnp.zeros((T, 3, 3), blocks.dtype)
    rot = rot.at[:-2].add(c * gram(A[:-1]))
    rot = rot.at[1:-1].add(c * gram(A[1:] - B[:-1]))
    rot = rot.at[2:].add(c * gram(B[1:]))
    return blocks.at[:, 3:6, 3:6].add(rot)


def velocity_limit_blocks(
    joint_pos: Array, velocity_limit: Array, mask: Array, fps: Array
) -> Array:
    """(T, D, D) blocks of :func:`~retargetjax.retarget._temporal_costs.velocity_limit_residual`
    (weight 1): a row ``max(0, |q̇_tj| − v̄_j)/fps`` over its limit has Jacobian ``±1`` at
    frames ``t`` and ``t+1`` on joint ``j``, so it adds 1 to both frames' diagonal there."""
    T = joint_pos.shape[0]
    qdot = (joint_pos[1:] - joint_pos[:-1]) * fps
    lim = jnp.where(jnp.isfinite(velocity_limit), velocity_limit, jnp.inf)
    active = (jnp.abs(qdot) > lim).astype(joint_pos.dtype) * (mask[1:] * mask[:-1])[:, None]
    diag = _spread(active, (1.0, 1.0), T)
    return _diagonal_blocks(jnp.concatenate([jnp.zeros((T, 6), diag.dtype), diag], axis=-1))


def slip_blocks(
    soles: Array, sole_tangents: Array, frames: FrameData, fps: Array | float = REFERENCE_FPS
) -> Array:
    """(T, D, D) blocks of :func:`~retargetjax.retarget._temporal_costs.slip_residual` (weight 1):
    a row ``√g_tp xy(s_{t+1,p} − s_tp)`` has Jacobian ``∓√g_tp S_{·,p}`` (``S`` the sole
    point's horizontal tangents), so frame ``t`` gets ``Σ_p (g_tp + g_{t−1,p}) S_tpᵀ S_tp``."""
    gate = slip_gate(soles, frames.sole_contact, frames.mask, frames.contact, fps)  # (T−1, 2, P)
    weight = _spread(gate, (1.0, 1.0), soles.shape[0])  # (T, 2, P)
    S = sole_tangents[..., :2]  # (T, D, 2, P, 2)
    return jnp.einsum("tfp,tdfpa,tefpa->tde", weight, S, S)

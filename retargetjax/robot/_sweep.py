"""The forward-kinematics level sweep, and its derivative from joint twists.

Every FK node ``n`` has a local transform ``(L_n, t_n)`` below its parent ``p(n)``; its world
frame is ``R_n = R_p L_n``, ``P_n = P_p + R_p t_n`` (node 0 is the root). The tree is swept
level by level (depth), each level composing all of its nodes with their parents at once.

Layout: the frames (batch) axis is *last*, ``(nodes, 3, 3, B)``, and every 3×3 product is
written out as three broadcast multiply-adds, so that each level is a few elementwise loops
over frames (on a CPU about twice as fast as ``einsum``'s batched dot products, and the
numpy path shares the code).

Reverse-mode autodiff through those products is slow on XLA's CPU backend (its transposes
become reductions over strided axes: the sweep's gradient took 2-3× as long as the
``einsum`` sweep's), so the JAX sweep carries its own derivative (:func:`node_frames_last`):
the joint angle ``q_n`` of a node turns its whole subtree about the node's world axis, a
*twist* ``(ω_n, v_n)`` per unit angle,

``ω_n = R_p w_n``, ``v_n = R_p t'_n − ω_n × P_n``,

with ``w_n`` the node's rotation axis in its parent's frame (the axial vector of the constant
skew matrix ``L'_n L_nᵀ``; zero for slides and fixed nodes) and ``t'_n = ∂t_n/∂q_n``. Summed
over the ancestors of a node ``d`` (one small matrix product with the ancestry matrix),
``Ω_d = Σ ω_n δq_n``, ``V_d = Σ v_n δq_n``, and with the root's perturbation
``E₀ = δR₀ R₀ᵀ`` (``R₀`` a rotation):

``δR_d = ([Ω_d]ₓ + E₀) R_d``,   ``δP_d = ([Ω_d]ₓ + E₀) P_d + V_d + δp₀ − E₀ p₀``.

Those are elementwise in the frames, forward and transposed, so ``jax.grad`` and
``jax.jacfwd`` both get them cheaply. A derivative with respect to the robot's own tables
(link lengths, axes) falls back to differentiating the sweep itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..types import Array

__all__ = ["level_parent_nodes", "node_frames_last", "sweep_batch_last", "sweep_levels"]

Levels = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, ...], ...]]


def _xp(a: Array):
    return np if isinstance(a, np.ndarray) else jnp


def _mm(a: Array, b: Array) -> Array:
    """``a @ b`` for stacks of 3×3 matrices ``(n, 3, 3, ...)`` with the batch last."""
    return (
        a[:, :, 0, None] * b[:, None, 0]
        + a[:, :, 1, None] * b[:, None, 1]
        + (a[:, :, 2, None] * b[:, None, 2])
    )


def _mv(a: Array, v: Array) -> Array:
    """``a @ v`` for ``(n, 3, 3, ...)`` matrices and ``(n, 3, ...)`` vectors, batch last."""
    return a[:, :, 0] * v[:, None, 0] + a[:, :, 1] * v[:, None, 1] + a[:, :, 2] * v[:, None, 2]


def _sweep(
    level_ranges: Sequence[tuple[int, int]],
    level_parents: Sequence[Sequence[int]],
    root_rot: Array,
    root_pos: Array,
    rot_l: Array,
    pos_l: Array,
) -> tuple[Array, Array, Array]:
    """World rotations ``(nodes, 3, 3, ...)`` and positions ``(nodes, 3, ...)`` of every node
    from batch-last local transforms, and each non-root node's parent rotation
    ``(nodes − 1, 3, 3, ...)``."""
    xp = _xp(rot_l)
    rot_prev, pos_prev = root_rot[None], root_pos[None]
    rots, poss, parents_rot = [rot_prev], [pos_prev], []
    for (start, stop), parents in zip(level_ranges, level_parents):
        idx = np.asarray(parents, dtype=np.int32)
        if np.all(idx == 0) and rot_prev.shape[0] == 1:
            rot_p = xp.broadcast_to(rot_prev, (stop - start, *rot_prev.shape[1:]))
            pos_p = pos_prev  # broadcast, no gather
        else:
            rot_p, pos_p = rot_prev[idx], pos_prev[idx]
        rot_prev = _mm(rot_p, rot_l[start:stop])
        pos_prev = pos_p + _mv(rot_p, pos_l[start:stop])
        rots.append(rot_prev)
        poss.append(pos_prev)
        parents_rot.append(rot_p)
    cat = xp.concatenate
    return cat(rots, axis=0), cat(poss, axis=0), cat(parents_rot, axis=0)


def sweep_batch_last(
    level_ranges: Sequence[tuple[int, int]],
    level_parents: Sequence[Sequence[int]],
    root_rot: Array,
    root_pos: Array,
    rot_local: Array,
    pos_local: Array,
    *,
    keep_last: bool = False,
) -> tuple[Array, Array]:
    """:func:`sweep_levels` (numpy or JAX arrays; batch-first in, frames moved last for the
    sweep); returned batch-first, or with ``keep_last`` batch-last as swept
    (``(nodes, 3, 3, ...)``, ``(nodes, 3, ...)``). Not for differentiation: JAX callers
    that differentiate go through :func:`node_frames_last`."""
    xp = _xp(rot_local)
    batch = np.broadcast_shapes(
        root_rot.shape[:-2], root_pos.shape[:-1], rot_local.shape[:-3], pos_local.shape[:-2]
    )
    nb = len(batch)
    nodes = rot_local.shape[-3]

    def last(a: Array, core: tuple[int, ...]) -> Array:
        a = xp.broadcast_to(a, (*batch, *core))
        return xp.moveaxis(a, tuple(range(nb)), tuple(range(a.ndim - nb, a.ndim)))

    rot, pos, _ = _sweep(
        level_ranges,
        level_parents,
        last(root_rot, (3, 3)),
        last(root_pos, (3,)),
        last(rot_local, (nodes, 3, 3)),
        last(pos_local, (nodes, 3)),
    )
    if keep_last:
        return rot, pos
    return (
        xp.moveaxis(rot, tuple(range(3, 3 + nb)), tuple(range(nb))),
        xp.moveaxis(pos, tuple(range(2, 2 + nb)), tuple(range(nb))),
    )


def sweep_levels(
    level_ranges: Sequence[tuple[int, int]],
    level_parents: Sequence[Sequence[int]],
    root_rot: Array,
    root_pos: Array,
    rot_local: Array,
    pos_local: Array,
) -> tuple[Array, Array]:
    """World rotations (..., nodes, 3, 3) and positions (..., nodes, 3) of every node, in
    level order (node 0 the root, with pose ``root_rot`` (..., 3, 3), ``root_pos`` (..., 3)).

    ``R_i = R_parent R_local``, ``t_i = t_parent + R_parent t_local``, one batched step per
    tree level (a 30-joint humanoid takes ~10). The one FK sweep of the package: forward
    kinematics, the point Jacobian and the host-side rest-pose geometry all call it (numpy
    or JAX arrays alike).
    """
    return sweep_batch_last(level_ranges, level_parents, root_rot, root_pos, rot_local, pos_local)


# --- the JAX sweep with its twist derivative ------------------------------------------------


def _local_last(tables: tuple[Array, ...], q: Array) -> tuple[Array, Array, Array]:
    """Local rotations ``(n, 3, 3, B)``, translations ``(n, 3, B)`` and ``∂t/∂q`` ``(n, 3, B)``
    of every node at angles ``q`` ``(n, B)`` (the tables of :class:`~._fk.NodeTables`)."""
    rot0, rot_s, rot_c, pos0, pos_s, pos_c, pos_l = tables
    sin_q, cos_q = jnp.sin(q), jnp.cos(q)
    vers_q = 1.0 - cos_q
    rot = rot0[..., None] + rot_s[..., None] * sin_q[:, None, None]
    rot = rot + rot_c[..., None] * vers_q[:, None, None]
    pos = pos0[..., None] + pos_s[..., None] * sin_q[:, None] + pos_c[..., None] * vers_q[:, None]
    pos = pos + pos_l[..., None] * q[:, None]
    dpos = pos_s[..., None] * cos_q[:, None] + pos_c[..., None] * sin_q[:, None] + pos_l[..., None]
    return rot, pos, dpos


def _frames(levels: Levels, tables, root_rot, root_pos, q):
    rot_l, pos_l, _ = _local_last(tables, q)
    rot, pos, _ = _sweep(*levels, root_rot, root_pos, rot_l, pos_l)
    return rot, pos


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def node_frames_last(
    levels: Levels, tables: tuple[Array, ...], root_rot: Array, root_pos: Array, q: Array
) -> tuple[Array, Array]:
    """World rotations ``(n, 3, 3, B)`` and positions ``(n, 3, B)`` of every FK node, batch
    last: ``levels = (level_ranges, level_parents)``, ``tables`` the seven
    :class:`~._fk.NodeTables` arrays, root pose ``root_rot`` ``(3, 3, B)`` (a rotation: the
    derivative uses ``R₀⁻¹ = R₀ᵀ``), ``root_pos``
    ``(3, B)``, node angles ``q`` ``(n, B)``. Differentiable (forward and reverse) through
    the twist derivative of the module docstring."""
    return _frames(levels, tables, root_rot, root_pos, q)


def level_parent_nodes(
    level_ranges: Sequence[tuple[int, int]], level_parents: Sequence[Sequence[int]]
) -> np.ndarray:
    """Global parent node index of every node of a level sweep (``-1`` for the root node
    0): level ``ℓ``'s ``level_parents`` index the nodes of level ``ℓ − 1``."""
    parents = [-1]
    prev_start = 0
    for (start, stop), level in zip(level_ranges, level_parents):
        if len(parents) != start or stop - start != len(level):
            raise ValueError("FK levels are not contiguous")
        parents.extend(prev_start + int(p) for p in level)
        prev_start = start
    return np.asarray(parents, dtype=np.int64)


def _ancestry(levels: Levels) -> np.ndarray:
    """(n, n − 1): 1 where non-root node ``k + 1`` is node ``d``'s ancestor or ``d`` itself."""
    parents = level_parent_nodes(*levels)
    n = len(parents)
    out = np.zeros((n, n - 1), np.float32)
    for d in range(n):
        k = d
        while k >= 1:
            out[d, k - 1] = 1.0
            k = int(parents[k])
    return out


def _is_zero(t) -> bool:
    return isinstance(t, jax.custom_derivatives.SymbolicZero)


def _instantiate(t, primal):
    return jnp.zeros_like(primal) if _is_zero(t) else t


def _node_frames_jvp(levels: Levels, primals, tangents):
    tables, root_rot, root_pos, q = primals
    d_tables, d_root_rot, d_root_pos, d_q = tangents
    if not all(_is_zero(t) for t in d_tables):
        # Differentiating the robot's own tables: the sweep itself, differentiated.
        dense = jax.tree_util.tree_map(_instantiate, tuple(tangents), tuple(primals))
        return jax.jvp(functools.partial(_frames, levels), tuple(primals), dense)

    rot_l, pos_l, dpos_l = _local_last(tables, q)
    rot, pos, rot_par = _sweep(*levels, root_rot, root_pos, rot_l, pos_l)
    n, batch = q.shape
    dtype = q.dtype
    # M = [Ω]ₓ + E₀ (entries (n, B) or None for zero) and the offset V + δp₀ − E₀ p₀.
    M: list[list[Array | None]] = [[None] * 3 for _ in range(3)]
    off: list[Array | None] = [None] * 3

    def add(a: Array | None, b: Array) -> Array:
        return b if a is None else a + b

    if not _is_zero(d_q):
        # Rotation axis in the parent's frame: the axial vector of L'Lᵀ = S Aᵀ at q = 0.
        W = jnp.einsum("nij,nkj->nik", tables[1], tables[0])
        w = 0.5 * jnp.stack(
            [W[:, 2, 1] - W[:, 1, 2], W[:, 0, 2] - W[:, 2, 0], W[:, 1, 0] - W[:, 0, 1]], -1
        )
        omega = (rot_par * w[1:, None, :, None]).sum(axis=2)  # (n − 1, 3, B)
        p = pos[1:]
        v = _mv(rot_par, dpos_l[1:]) - jnp.stack(
            [
                omega[:, 1] * p[:, 2] - omega[:, 2] * p[:, 1],
                omega[:, 2] * p[:, 0] - omega[:, 0] * p[:, 2],
                omega[:, 0] * p[:, 1] - omega[:, 1] * p[:, 0],
            ],
            axis=1,
        )
        twist = jnp.concatenate([omega, v], axis=1) * d_q[1:, None]  # (n − 1, 6, B)
        anc = jnp.asarray(_ancestry(levels), dtype)
        acc = (anc @ twist.reshape(n - 1, 6 * batch)).reshape(n, 6, batch)
        o = [acc[:, i] for i in range(3)]
        M = [[None, -o[2], o[1]], [o[2], None, -o[0]], [-o[1], o[0], None]]
        off = [acc[:, 3 + i] for i in range(3)]
    if not _is_zero(d_root_rot):
        # E₀ = δR₀ R₀ᵀ (the root is a rotation: FK normalises its quaternion).
        for i in range(3):
            e = [sum(d_root_rot[i, k] * root_rot[j, k] for k in range(3)) for j in range(3)]
            for j in range(3):
                M[i][j] = add(M[i][j], e[j][None])
            off[i] = add(
                off[i], -(e[0] * root_pos[0] + e[1] * root_pos[1] + e[2] * root_pos[2])[None]
            )
    if not _is_zero(d_root_pos):
        for i in range(3):
            off[i] = add(off[i], d_root_pos[i][None])

    zero = jnp.zeros((n, batch), dtype)

    def row_times(i: int, cols: Sequence[Array]) -> Array:
        out: Array | None = None
        for j in range(3):
            if M[i][j] is not None:
                out = add(out, M[i][j] * cols[j])
        return zero if out is None else jnp.broadcast_to(out, (n, batch))

    d_rot = jnp.stack(
        [
            jnp.stack(
                [row_times(i, [rot[:, 0, k], rot[:, 1, k], rot[:, 2, k]]) for k in range(3)], 1
            )
            for i in range(3)
        ],
        axis=1,
    )
    d_pos = jnp.stack(
        [
            row_times(i, [pos[:, 0], pos[:, 1], pos[:, 2]])
            + (zero if off[i] is None else jnp.broadcast_to(off[i], (n, batch)))
            for i in range(3)
        ],
        axis=1,
    )
    return (rot, pos), (d_rot, d_pos)


node_frames_last.defjvp(_node_frames_jvp, symbolic_zeros=True)

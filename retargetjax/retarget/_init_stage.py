"""Stage 1 of the solve: per-frame Levenberg-Marquardt from a start pose (module docstring of
:mod:`._solver`), with warm starts from a neighbouring solved frame, and the interpolation
of the frames between every ``init_stride``-th one (:func:`fill_between`).

Every frame is its own group here: the normal equations are block diagonal and solved
exactly, one Cholesky factor per frame, in cache-sized chunks of frames.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..geometry import quat_conj, quat_mul, quat_normalize, quat_slerp
from ..robot import RobotModel
from ..types import Array
from ._continuation import run_continued
from ._linearize import CHUNK_FRAMES, Linearization, in_chunks, linearize_frames, loops_flat
from ._optimizers import LeastSquares, Optimizer, levenberg_marquardt
from ._problem import FrameData, FrameState, SolverStatic, Weights, segment_ids
from ._residuals import frame_costs

__all__ = [
    "COLD_START_ITERATIONS",
    "fill_between",
    "init_chunk_frames",
    "init_frames",
    "init_links",
    "warm_starts",
]


#: Per-frame Levenberg-Marquardt steps of a frame solved from its own start (the standing
#: pose) rather than from a neighbour: the H1's kneel tracks 21.5 cm from the standing pose
#: after 6 steps, 15.0 after 12, 13.9 after 30, 13.6 after 60.
COLD_START_ITERATIONS = 30


def warm_starts(cold: FrameState, prev_cold: FrameState, prev: FrameState) -> FrameState:
    """Frames (T, ...) started from an earlier solved frame instead of their own start.

    ``prev`` is the solution of a frame whose own start was ``prev_cold`` (leaves without the
    frame axis); frame ``t`` of ``cold`` starts at ``prev``'s joints, and at ``prev``'s root
    moved as the starts moved: ``p = p^c_t + (p − p^c)``, ``q = q^c_t ⊗ (q^c)⁻¹ ⊗ q``.
    """
    correction = quat_mul(quat_conj(prev_cold.root_quat), prev.root_quat)
    return FrameState(
        cold.root_pos + (prev.root_pos - prev_cold.root_pos),
        quat_normalize(quat_mul(cold.root_quat, correction)),
        jnp.broadcast_to(prev.joint_pos, cold.joint_pos.shape),
    )


def init_links(mask: Array, chunk: int) -> Array:
    """(n, W) bool: frames whose chunk (of ``chunk`` frames, counted from the window's
    start) may start from the last frame of the chunk before it in the same window, both
    valid and in the same segment (one clip's run of frames)."""
    W = mask.shape[-1]
    t = jnp.arange(W)
    prev = (t // chunk) * chunk - 1
    prev_c = jnp.maximum(prev, 0)

    def one(m: Array) -> Array:
        seg = segment_ids(m)
        return (prev >= 0) & (m > 0) & (m[prev_c] > 0) & (seg[prev_c] == seg)

    return jax.vmap(one)(mask)


def init_chunk_frames(frames: int) -> int:
    """Frames of a window the per-frame stage solves in one step: :data:`CHUNK_FRAMES`, or
    the largest of 4, 2, 1 that divides the window's ``frames``."""
    return next(c for c in (CHUNK_FRAMES, 4, 2, 1) if frames % c == 0)


def _pick(use: Array, a: FrameState, b: FrameState) -> FrameState:
    """Per frame (leading axis), ``a`` where ``use`` else ``b``."""
    return jax.tree_util.tree_map(
        lambda u, v: jnp.where(use.reshape(use.shape + (1,) * (u.ndim - 1)), u, v), a, b
    )


def init_frames(
    robot: RobotModel, x: FrameState, frames: FrameData, weights: Weights, static: SolverStatic
) -> FrameState:
    """Stage 1 (module docstring) on a stack of windows, leaves (n, W, ...).

    Without ``static.warm_start`` every frame starts at its own ``x_t`` (the standing start)
    and frames are solved in cache-sized chunks (:func:`~retargetjax.retarget._linearize.
    in_chunks`). With it, the windows' frames are solved in steps of ``c`` frames
    (:func:`init_chunk_frames`), one step after the other (``lax.scan``), every window's
    ``k``-th chunk in step ``k``.
    Where :func:`init_links` allows it, a frame starts at the better, by its stage-1 cost,
    of its own start ``x_t`` and a **warm start** from its window's last solved frame
    (:func:`warm_starts`): a kneel or a get-up reached from the standing pose needs five
    times the Levenberg-Marquardt steps that a pose a few frames away needs, and
    neighbouring frames so start on the same branch of the robot's redundant solutions.
    A step holding a frame with no link (a window's or a clip's first chunk) runs
    ``max(init_iterations,`` :data:`COLD_START_ITERATIONS` ``)`` steps, the others
    ``init_iterations``: neighbouring windows, blended where they overlap, then start from
    converged poses, not from a half-way pose each of its own.

    Without the warm start, ``static.init_tolerance`` ``ε > 0`` lets a chunk that is still
    converging go on: it runs ``init_iterations`` steps, then more while a step lowers the
    summed cost of the chunk's valid frames by more than the fraction ``ε``, up to
    ``max(init_iterations,`` :data:`COLD_START_ITERATIONS` ``)``
    (:func:`~._continuation.run_continued`;
    each chunk of ``lax.map`` stops on its own). Clips then start on multiples of
    :data:`~retargetjax.retarget._linearize.CHUNK_FRAMES` (:func:`~retargetjax.retarget.
    _clip_rows.row_alignment`), so a chunk holds one clip's frames, the same as when the
    clip is solved alone (rows of a multiple of 8 frames; others run ``init_iterations``).
    Six steps from standing left a legs-only robot with a 45° hip (the Berkeley Humanoid)
    walking on its toes, the foot pointing down, which the refinement could not undo.
    (Programs traced for XLA's cost analysis, :func:`~retargetjax.retarget._linearize.
    flat_loops`, run ``init_iterations``.)
    """
    n, W = frames.mask.shape
    c = init_chunk_frames(W)
    cold_iterations = max(static.init_iterations, COLD_START_ITERATIONS)
    # Steps of a chunk solved from its own start, as a multiple of init_iterations.
    ratio = jnp.asarray(cold_iterations / max(static.init_iterations, 1), jnp.float32)

    def solve(
        x: FrameState, frames: FrameData, repeat: Array, tolerance: float | None = None
    ) -> FrameState:
        ones = jnp.ones((x.root_pos.shape[0],), x.root_pos.dtype)

        def make(w: Weights, _: FrameState) -> Optimizer:
            def linearize(x: FrameState) -> Linearization:
                H, g, _, _ = linearize_frames(robot, x, frames, ones, w, static, None)
                return Linearization(g, H, jnp.zeros_like(H), None)

            problem = LeastSquares(
                cost=lambda x, points: frame_costs(robot, x, frames, w, static, points=points),
                linearize=linearize,
                groups=jnp.arange(x.root_pos.shape[0]),
                movable=ones,
            )
            return levenberg_marquardt(problem, robot, static.damping, cg_iterations=0)

        settle = None if tolerance is None else frames.mask
        return run_continued(
            make,
            x,
            weights,
            static.init_iterations,
            repeat=repeat,
            tolerance=tolerance,
            settle=settle,
        )

    def flat(a: Array) -> Array:  # (n, c, ...) -> (n c, ...)
        return a.reshape((n * c, *a.shape[2:]))

    if not static.warm_start or c == W or loops_flat():
        xs, frs = jax.tree_util.tree_map(lambda a: a.reshape((n * W, *a.shape[2:])), (x, frames))
        if static.init_tolerance > 0 and W % CHUNK_FRAMES == 0 and not loops_flat():
            out = in_chunks(lambda x, f: solve(x, f, ratio, static.init_tolerance), xs, frs)
        else:
            out = in_chunks(lambda x, f: solve(x, f, None), xs, frs)
        return jax.tree_util.tree_map(lambda a: a.reshape((n, W, *a.shape[1:])), out)

    links = init_links(frames.mask, c)

    def step(prev: tuple[FrameState, FrameState], args) -> tuple[tuple, FrameState]:
        cold, frs, link = jax.tree_util.tree_map(flat, args)  # n c frames
        prev = jax.tree_util.tree_map(lambda a: jnp.repeat(a, c, axis=0), prev)
        warm = jax.vmap(warm_starts)(cold, *prev)
        both = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), warm, cold)
        twice = jax.tree_util.tree_map(lambda a: jnp.concatenate([a, a]), frs)
        cost_warm, cost_cold = jnp.split(frame_costs(robot, both, twice, weights, static), 2)
        better = cost_warm < cost_cold
        start = _pick(link & better, warm, cold)
        unlinked = jnp.any((frs.mask > 0) & ~link)
        repeat = jnp.where(unlinked, ratio, 1.0)
        solved = in_chunks(lambda x, f: solve(x, f, repeat), start, frs)
        solved = jax.tree_util.tree_map(lambda a: a.reshape((n, c, *a.shape[1:])), solved)
        cold = jax.tree_util.tree_map(lambda a: a.reshape((n, c, *a.shape[1:])), cold)
        last = jax.tree_util.tree_map(lambda a: a[:, -1], (cold, solved))
        return last, solved

    def steps(a: Array) -> Array:  # (n, W, ...) -> (W / c, n, c, ...)
        return jnp.moveaxis(a.reshape((n, W // c, c, *a.shape[2:])), 1, 0)

    first = jax.tree_util.tree_map(lambda a: a[:, 0], x)
    _, out = jax.lax.scan(step, (first, first), jax.tree_util.tree_map(steps, (x, frames, links)))
    return jax.tree_util.tree_map(
        lambda a: jnp.moveaxis(a, 0, 1).reshape((n, W, *a.shape[3:])), out
    )


def fill_between(solved: FrameState, start: FrameState, mask: Array, stride: int) -> FrameState:
    """One window (W, ...) from the per-frame solution of its every ``stride``-th frame
    (``solved``, frames ``0, k, 2k, …``): frame ``t`` between solved frames ``s`` and
    ``s + k`` of its own segment is ``x_s ⊕ a (x_{s+k} ⊖ x_s)``, ``a = (t − s)/k`` (joints and
    root position linear, root rotation slerp); with only one of them in its segment it
    takes that one, with neither it keeps ``start``."""
    W = mask.shape[0]
    k = stride
    seg = segment_ids(mask)
    t = jnp.arange(W)
    lo = (t // k) * k
    hi = lo + k
    lo_ok = (mask[lo] > 0) & (seg[lo] == seg)
    hi_c = jnp.minimum(hi, W - 1)
    hi_ok = (hi < W) & (mask[hi_c] > 0) & (seg[hi_c] == seg)
    i_lo = jnp.minimum(lo // k, solved.root_pos.shape[0] - 1)
    i_hi = jnp.minimum(hi // k, solved.root_pos.shape[0] - 1)
    a = jnp.where(lo_ok & hi_ok, (t - lo) / k, jnp.where(lo_ok, 0.0, 1.0)).astype(mask.dtype)
    x_lo = jax.tree_util.tree_map(lambda v: v[i_lo], solved)
    x_hi = jax.tree_util.tree_map(lambda v: v[i_hi], solved)
    col = a[:, None]
    blended = FrameState(
        (1 - col) * x_lo.root_pos + col * x_hi.root_pos,
        quat_slerp(x_lo.root_quat, x_hi.root_quat, a),
        (1 - col) * x_lo.joint_pos + col * x_hi.joint_pos,
    )
    keep = ~(lo_ok | hi_ok)
    return jax.tree_util.tree_map(
        lambda b, s0: jnp.where(keep.reshape((W,) + (1,) * (b.ndim - 1)), s0, b), blended, start
    )

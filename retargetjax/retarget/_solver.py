"""The solve: per-frame Levenberg-Marquardt, then whole-window refinement, in one jit.

Both stages run inside one ``jax.jit`` on fixed shapes ``(num_windows, window)``, on the
problem of :mod:`._residuals` (every cost a sum of squared residuals of points on bodies and
joint angles), with the optimisers of :mod:`._optimizers` driven by one ``lax.scan``.

1. **Initialisation** (every ``init_stride``-th frame of every window, in chunks of
   :data:`~retargetjax.retarget._linearize.CHUNK_FRAMES`; the frames between are
   interpolated, :func:`fill_between`, and left to the refinement): Levenberg-Marquardt on the
   per-frame residuals ``r_t`` (keypoints, built frames, sole height in contact, floor,
   standing-pose pull), every frame its own group; its normal equations are block
   diagonal and solved exactly.
2. **Refinement** (vmapped over windows), ``optimizer: gauss_newton`` (default):
   Levenberg-Marquardt on the whole window ``Σ_t m_t |r_t|² + |e|²``, where ``r_t`` adds the
   self-collision residuals of the window's closest capsule pairs (:func:`active_pairs`)
   and ``e`` stacks the temporal residuals (smoothness, slip, velocity limits) that couple
   neighbouring frames; the normal equations are solved by preconditioned conjugate
   gradients (:mod:`._linsolve`). ``optimizer: adam`` or ``lbfgs`` runs optax on the same
   window cost instead, through the same driver and projection.

   A window may hold several clips side by side, each a **segment** of valid frames
   between masked gaps (see :func:`~retargetjax.retarget._windows.pack_clips`). No term
   couples two segments, so every scalar of the Gauss-Newton stage (conjugate-gradient
   ``α``, ``β``, the step size, the accept test and ``λ``) is kept per segment: each clip
   is solved exactly as if alone.

With ``still_feet_effort`` ``e > 1`` the refinement's last continuation phase goes on, each
clip (segment) on its own, until its feet are still (:func:`feet_still`), to at most ``e``
times its iterations in all. A solve whose clips put hands, elbows, knees, pelvis, back or
head on the floor runs twice the iterations, up to ``floor_contact_effort`` times the
configured ones (``e`` half the effort), and starts stage 1's frames from
their neighbours' solutions (``warm_start``, :func:`init_frames`; the caller sets both,
:meth:`~retargetjax.retarget.SolverConfig.for_clips`): from the standing pose such poses
take five times the per-frame steps, and their feet more refinement steps to stop sliding.

Both stages weigh the floor by penalty continuation (:func:`run_continued`): their
iterations run in phases with the ground weight multiplied by :data:`GROUND_CONTINUATION`,
so poses bend out of the floor rather than being lifted out of it by the projection below.

Joint angles are projected into their limits and frames lifted out of the floor after every
step (:func:`~retargetjax.retarget._problem.project_to_floor`), so neither limits nor the
floor are ever violated.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..geometry import (
    quat_conj,
    quat_exp,
    quat_mul,
    quat_normalize,
    quat_slerp,
    segment_segment_distance,
)
from ..robot import RobotModel
from ..types import Array
from ._continuation import GROUND_CONTINUATION, continued, run_continued
from ._costs import planted_steps
from ._linearize import (
    CHUNK_FRAMES,
    Linearization,
    in_chunks,
    linearize_frames,
    linearize_window,
    loops_flat,
)
from ._optimizers import LeastSquares, Optimizer, levenberg_marquardt, optax_minimizer, run
from ._problem import (
    FrameData,
    FrameState,
    SolverStatic,
    Weights,
    Window,
    WindowData,
    body_points,
    project_to_floor,
    project_to_limits,
    segment_ids,
)
from ._residuals import frame_costs, window_frame_cost

__all__ = [
    "COLD_START_ITERATIONS",
    "GROUND_CONTINUATION",
    "WindowParams",
    "active_pairs",
    "continued",
    "feet_still",
    "fill_between",
    "init_chunk_frames",
    "init_frames",
    "init_links",
    "refine_window",
    "run_continued",
    "solve_windows",
    "warm_starts",
    "window_cost",
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
    ``max(init_iterations,`` :data:`COLD_START_ITERATIONS` ``)`` (:func:`run_continued`;
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


def active_pairs(robot: RobotModel, x: FrameState, mask: Array, max_pairs: int) -> Array:
    """The ``max_pairs`` collision pairs that come closest within a window at ``x`` (the
    refinement calls it at the start of every continuation phase).

    ``clearance_ij = min_t d_t(seg_i, seg_j) − ρ_i − ρ_j`` over the window's valid frames;
    the pairs with the smallest clearance are kept for the refinement. The refinement moves
    the robot by centimetres, so a pair that starts metres apart cannot start colliding,
    while pruning cuts the self-collision work by ``P / max_pairs`` (390 → 32 on the G1).
    """
    pairs = jnp.asarray(robot.collision_pairs)
    if pairs.shape[0] <= max_pairs:
        return pairs
    points = body_points(robot, x)
    # Frames last, (capsules, 3, W): a pair's gather copies rows and the distance runs as
    # long vector loops over frames (frames first: ~4x slower on the CPU).
    cap_a = jnp.moveaxis(points.capsule_a, 0, -1)
    cap_b = jnp.moveaxis(points.capsule_b, 0, -1)
    i, j = pairs[:, 0], pairs[:, 1]
    d = segment_segment_distance(cap_a[i], cap_b[i], cap_a[j], cap_b[j], axis=-2)  # (P, W)
    clearance = d - (robot.capsule_radius[i] + robot.capsule_radius[j])[:, None]
    clearance = jnp.min(jnp.where(mask[None, :] > 0, clearance, jnp.inf), axis=1)
    _, top = jax.lax.top_k(-jax.lax.stop_gradient(clearance), max_pairs)
    return pairs[top]


class WindowParams(NamedTuple):
    """Parameters of the optax refinement: the root rotation as a rotation vector in the
    frame of the initial orientation (a vector space, as Adam and L-BFGS expect)."""

    root_pos: Array
    """(W, 3) m."""
    root_rot: Array
    """(W, 3) rad: ``quat = quat₀ ⊗ exp(root_rot)``."""
    joint_pos: Array
    """(W, N) rad."""

    def state(self, base_quat: Array) -> FrameState:
        """The iterate these parameters stand for, given the initial orientations."""
        quat = quat_normalize(quat_mul(base_quat, quat_exp(self.root_rot)))
        return FrameState(self.root_pos, quat, self.joint_pos)


def window_cost(robot: RobotModel, x: FrameState, window: Window) -> Array:
    """Full cost of one window (module docstring, stage 2) divided by its valid frames."""
    total = jnp.sum(window_frame_cost(robot, x, window))
    return total / jnp.maximum(jnp.sum(window.frames.mask), 1.0)


def _window_lm(robot: RobotModel, window: Window) -> Optimizer:
    """Levenberg-Marquardt on one window's cost (stage 2, ``gauss_newton``)."""
    problem = LeastSquares(
        cost=lambda x, points: window_frame_cost(robot, x, window, points),
        linearize=lambda x: linearize_window(robot, x, window),
        groups=segment_ids(window.frames.mask),
        movable=window.frames.mask,
    )
    return levenberg_marquardt(problem, robot, window.static.damping, window.static.cg_iterations)


def _refinement(
    robot: RobotModel, x0: FrameState, window: Window
) -> tuple[Optimizer, object, Callable[[object], FrameState]]:
    """The stage-2 optimiser for ``static.optimizer``, its initial parameters, and the map
    from its final state to the iterate."""
    static = window.static
    if static.optimizer == "gauss_newton":
        return _window_lm(robot, window), x0, lambda state: state.x

    def cost(z: WindowParams) -> Array:
        return window_cost(robot, z.state(x0.root_quat), window)

    if static.optimizer == "lbfgs":
        opt = optax_minimizer(
            optax.lbfgs(), cost, robot, value_and_grad=optax.value_and_grad_from_state(cost)
        )
    else:
        schedule = optax.cosine_decay_schedule(
            static.learning_rate, max(static.iterations, 1), alpha=0.05
        )
        opt = optax_minimizer(optax.with_extra_args_support(optax.adam(schedule)), cost, robot)
    z0 = WindowParams(x0.root_pos, jnp.zeros_like(x0.root_pos), x0.joint_pos)
    return opt, z0, lambda state: state.params.state(x0.root_quat)


def feet_still(
    robot: RobotModel, frames: FrameData, fps: Array, x: FrameState, limit: float = 0.005
) -> Array:
    """(W,) per segment id: whether no sole point that touches the floor under the human's
    planted foot moves more than ``limit`` (m per 30 fps frame; ``still_step_mm``) in that
    segment (:func:`~retargetjax.retarget._costs.planted_steps`; ids of no segment: true)."""
    W = frames.mask.shape[0]
    if frames.contact is None:
        return jnp.ones((W,), bool)
    soles = body_points(robot, x).soles
    steps = jnp.max(planted_steps(soles, frames.mask, frames.contact, fps), axis=(1, 2))
    worst = jax.ops.segment_max(steps, segment_ids(frames.mask)[:-1], num_segments=W)
    return worst <= limit


def refine_window(
    robot: RobotModel,
    x0: FrameState,
    frames: FrameData,
    weights: Weights,
    fps: Array,
    static: SolverStatic,
) -> tuple[FrameState, Array]:
    """Stage 2 (module docstring) on one window (W, ...): the iterate and its cost per valid
    frame (:func:`window_cost`)."""
    pairs = active_pairs(robot, x0, frames.mask, static.max_pairs)
    window = Window(frames, weights, fps, static, pairs)
    if static.optimizer == "gauss_newton":
        # Each continuation phase re-selects the closest pairs from where it starts: the pose
        # moves most in the first phase, and a pair it brings together must be watched after.
        def make(w: Weights, x: FrameState) -> Optimizer:
            phase_pairs = active_pairs(robot, x, frames.mask, static.max_pairs)
            return _window_lm(robot, window._replace(weights=w, pairs=phase_pairs))

        if static.still_feet_effort > 1:
            groups = segment_ids(frames.mask)
            x = run_continued(
                make,
                x0,
                weights,
                static.iterations,
                repeat=jnp.asarray(static.still_feet_effort, jnp.float32),
                done=lambda x: feet_still(robot, frames, fps, x, static.still_step_mm / 1000),
                groups=groups,
            )
        else:
            x = run_continued(make, x0, weights, static.iterations)
    else:
        optimizer, params, solution = _refinement(robot, x0, window)
        x, _ = project_to_floor(robot, solution(run(optimizer, params, static.iterations)))
    return x, window_cost(robot, x, window)


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


@partial(jax.jit, static_argnames=("static",))
def solve_windows(
    robot: RobotModel, data: WindowData, weights: Weights, fps: Array, static: SolverStatic
) -> tuple[FrameState, Array]:
    """Solve a stack of windows; returns ``(FrameState with (n, W, ...) leaves, loss (n,))``,
    the loss being each window's cost per valid frame.

    ``weights`` and ``fps`` are traced, so sweeping them does not recompile.
    """
    x0 = project_to_limits(robot, data.start)
    if static.init_iterations > 0:
        k = static.init_stride
        picked = jax.tree_util.tree_map(lambda a: a[:, ::k], (x0, data.frames))
        x_init = init_frames(robot, *picked, weights, static)
        x0 = (
            x_init
            if k == 1
            else jax.vmap(partial(fill_between, stride=k))(x_init, x0, data.frames.mask)
        )
    return jax.vmap(lambda x, fr: refine_window(robot, x, fr, weights, fps, static))(
        x0, data.frames
    )

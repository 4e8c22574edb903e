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

A solve whose clips put hands, elbows, knees, pelvis, back or head on the floor runs
``floor_contact_effort`` times the iterations of both stages (the caller sets the counts,
:meth:`~retargetjax.retarget.SolverConfig.for_clips`): such poses converge more slowly.

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
    quat_exp,
    quat_mul,
    quat_normalize,
    quat_slerp,
    segment_segment_distance,
)
from ..robot import RobotModel
from ..types import Array
from ._linearize import Linearization, in_chunks, linearize_frames, linearize_window
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
    "GROUND_CONTINUATION",
    "WindowParams",
    "active_pairs",
    "continued",
    "fill_between",
    "init_frames",
    "refine_window",
    "run_continued",
    "solve_windows",
    "window_cost",
]


#: Factors on the ``ground`` weight over the phases of each Gauss-Newton stage (penalty
#: continuation): the floor is a soft penalty while the pose settles, then near-hard.
GROUND_CONTINUATION = (1.0, 10.0, 100.0)


def continued(weights: Weights, factor: Array) -> Weights:
    """``weights`` with the ground weight multiplied by ``factor`` (one continuation phase)."""
    return weights._replace(ground=weights.ground * factor)


def run_continued(
    make: Callable[[Weights, FrameState], Optimizer],
    params: FrameState,
    weights: Weights,
    iterations: int,
    state_x: Callable[[object], FrameState] = lambda state: state.x,
) -> FrameState:
    """Levenberg-Marquardt under penalty continuation on the floor.

    The ``iterations`` are split over the phases of :data:`GROUND_CONTINUATION`; phase ``k``
    minimises the cost with ``w_ground · γ_k`` (``γ = 1, 10, 100``), starting from the last
    phase's iterate with a fresh damping and a cost (so the accept test) at the current
    weight. The floor residual ``min(0, z_low − m)`` thus ends up weighted 100× its
    configured weight: a centimetre below the margin costs as much as a metre of keypoint
    error at ``w_ground = 100``, so the pose bends out of the floor (the projection after
    every step, :func:`~retargetjax.retarget._problem.project_to_floor`, makes the floor
    itself exact), while the first steps, soft, let the pose find its way around it. One
    ``lax.scan`` runs the phases (one compiled body).
    """
    phases = min(len(GROUND_CONTINUATION), iterations)
    if phases <= 0:
        return params
    per, extra = divmod(iterations, phases)
    factors = jnp.asarray(GROUND_CONTINUATION[-phases:], jnp.float32)

    def phase(x: FrameState, factor: Array) -> tuple[FrameState, None]:
        return state_x(run(make(continued(weights, factor), x), x, per)), None

    x, _ = jax.lax.scan(phase, params, factors)
    if extra:
        x = state_x(run(make(continued(weights, factors[-1]), x), x, extra))
    return x


def init_frames(
    robot: RobotModel, x: FrameState, frames: FrameData, weights: Weights, static: SolverStatic
) -> FrameState:
    """Stage 1 (module docstring) on frames with a leading axis (T, ...)."""

    def chunk(x: FrameState, frames: FrameData) -> FrameState:
        T = x.root_pos.shape[0]
        ones = jnp.ones((T,), x.root_pos.dtype)

        def make(w: Weights, _: FrameState) -> Optimizer:
            def linearize(x: FrameState) -> Linearization:
                H, g, _, _ = linearize_frames(robot, x, frames, ones, w, static, None)
                return Linearization(g, H, jnp.zeros_like(H), None)

            problem = LeastSquares(
                cost=lambda x, points: frame_costs(robot, x, frames, w, static, points=points),
                linearize=linearize,
                groups=jnp.arange(T),
                movable=ones,
            )
            return levenberg_marquardt(problem, robot, static.damping, cg_iterations=0)

        return run_continued(make, x, weights, static.init_iterations)

    return in_chunks(chunk, x, frames)


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
    n = data.frames.mask.shape[0]
    x0 = project_to_limits(robot, data.start)
    if static.init_iterations > 0:
        k = static.init_stride
        picked = jax.tree_util.tree_map(lambda a: a[:, ::k], (x0, data.frames))
        Wk = picked[1].mask.shape[1]
        flat = jax.tree_util.tree_map(lambda a: a.reshape((n * Wk, *a.shape[2:])), picked)
        x_init = init_frames(robot, *flat, weights, static)
        x_init = jax.tree_util.tree_map(lambda a: a.reshape((n, Wk, *a.shape[1:])), x_init)
        x0 = (
            x_init
            if k == 1
            else jax.vmap(partial(fill_between, stride=k))(x_init, x0, data.frames.mask)
        )
    return jax.vmap(lambda x, fr: refine_window(robot, x, fr, weights, fps, static))(
        x0, data.frames
    )

"""The solve: per-frame Levenberg-Marquardt, then whole-window refinement, in one jit.

Both stages run inside one ``jax.jit`` on fixed shapes ``(num_windows, window)``, on the
problem of :mod:`._residuals` (every cost a sum of squared residuals of points on bodies and
joint angles), with the optimisers of :mod:`._optimizers` driven by one ``lax.scan``.

1. **Initialisation** (every ``init_stride``-th frame of every window, in chunks of
   :data:`~retargetjax.retarget._linearize.CHUNK_FRAMES`; the frames between are
   interpolated, :func:`~._init_stage.fill_between`, and left to the refinement):
   Levenberg-Marquardt on the
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
their neighbours' solutions (``warm_start``, :func:`~._init_stage.init_frames`; the caller
sets both,
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
    quat_exp,
    quat_mul,
    quat_normalize,
    segment_segment_distance,
)
from ..robot import RobotModel
from ..types import Array
from ._continuation import GROUND_CONTINUATION, continued, run_continued
from ._costs import planted_steps
from ._init_stage import fill_between, init_frames
from ._linearize import (
    linearize_window,
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
from ._residuals import window_frame_cost

__all__ = [
    "GROUND_CONTINUATION",
    "WindowParams",
    "active_pairs",
    "continued",
    "feet_still",
    "refine_window",
    "run_continued",
    "solve_windows",
    "window_cost",
]


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
    robot: RobotModel, frames: FrameData, fps: Array, x: FrameState, limit: float = 0.006
) -> Array:
    """(W,) per segment id: whether no sole point that touches the floor under the human's
    planted foot moves more than ``limit`` (m per 30 fps frame; ``still_step_mm``) in that
    segment (:func:`~retargetjax.retarget._temporal_costs.planted_steps`; ids of no segment:
    true)."""
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

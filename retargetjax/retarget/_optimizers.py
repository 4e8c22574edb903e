"""Optimisers as ``(init, update)`` pairs over small NamedTuple states, and one driver.

Every optimiser of the solver — our Levenberg-Marquardt (:func:`levenberg_marquardt`) and
optax's Adam and L-BFGS (:func:`optax_minimizer`) — is an :class:`Optimizer`: ``init(params)``
makes its state, ``update(state)`` does one iteration (including the one projection onto the
joint limits, :func:`~retargetjax.retarget._problem.project_to_limits`), and :func:`run`
drives any of them with one ``lax.scan``. The problem (cost, linearisation) is closed over
when the optimiser is built, as an optax transformation closes over its hyper-parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..robot import RobotModel
from ..types import Array
from ._linearize import Linearization, loops_flat
from ._linsolve import free_mask, segment_sum, solve_step
from ._problem import BodyPoints, FrameState, project_to_floor, project_to_limits, retract

__all__ = [
    "MAX_STEP",
    "STEP_SIZES",
    "LMState",
    "LeastSquares",
    "OptaxState",
    "Optimizer",
    "levenberg_marquardt",
    "optax_minimizer",
    "run",
]

#: Step sizes tried along each Levenberg-Marquardt direction (all evaluated at once).
STEP_SIZES = (1.0, 0.5, 0.2)
#: Largest move of one tangent coordinate in one step (m or rad).
MAX_STEP = 0.5


class Optimizer(NamedTuple):
    """An iterative optimiser: ``state = init(params)``, then ``state = update(state)``."""

    init: Callable[[Any], Any]
    """``params -> state``."""
    update: Callable[[Any], Any]
    """``state -> state``: one iteration."""


def run(optimizer: Optimizer, params: Any, iterations: int) -> Any:
    """The optimiser's state after ``iterations`` updates from ``params`` (one ``lax.scan``)."""
    state = optimizer.init(params)
    if iterations <= 0:
        return state
    state, _ = jax.lax.scan(
        lambda s, _: (optimizer.update(s), None), state, None, iterations, unroll=loops_flat()
    )
    return state


# --- Levenberg-Marquardt -------------------------------------------------------------------


class LeastSquares(NamedTuple):
    """A sum of squares over ``T`` frames, as Levenberg-Marquardt sees it."""

    cost: Callable[[FrameState, BodyPoints | None], Array]
    """``x (T, ...), points -> (T,)`` the cost split by frame (a group's cost is its frames'
    sum); ``points`` are ``x``'s :func:`~retargetjax.retarget._problem.body_points` where the
    caller has them (``None``: computed)."""
    linearize: Callable[[FrameState], Linearization]
    """The Gauss-Newton model around ``x``."""
    groups: Array
    """(T,) int: frames of one group share damping, step size and accept test (segments of
    a window; every frame its own group where frames are independent)."""
    movable: Array
    """(T,) 1 where a frame may move (0 for padding)."""


class LMState(NamedTuple):
    """Levenberg-Marquardt's state; ``damping`` and ``cost`` are per group (T,)."""

    x: FrameState
    """The iterate, (T, ...) leaves."""
    damping: Array
    """(T,) ``λ`` of each group (indexed by group id)."""
    cost: Array
    """(T,) cost of each group at ``x``."""


def levenberg_marquardt(
    problem: LeastSquares, robot: RobotModel, damping: float, cg_iterations: int
) -> Optimizer:
    """Levenberg-Marquardt with a projected line search, per group of frames.

    One update: linearise, solve ``(JᵀJ + λ diag(JᵀJ) + μI) δ = −Jᵀr`` on the free
    coordinates (:func:`~retargetjax.retarget._linsolve.solve_step`), try ``x ⊕ αδ`` for
    ``α ∈`` :data:`STEP_SIZES` (``δ`` clipped to ±:data:`MAX_STEP`, joints projected onto
    their limits, frames lifted out of the floor: :func:`~retargetjax.retarget._problem.
    project_to_floor`), keep each group's best if it lowers the group's cost (``λ ← λ/3``), else
    keep ``x`` (``λ ← 10λ``).
    """
    groups = problem.groups

    def init(x: FrameState) -> LMState:
        x, points = project_to_floor(robot, x)
        lam = jnp.full(groups.shape, damping, x.root_pos.dtype)
        return LMState(x, lam, segment_sum(problem.cost(x, points), groups))

    def update(state: LMState) -> LMState:
        x = state.x
        lin = problem.linearize(x)
        free = free_mask(robot, x.joint_pos, lin.gradient)
        delta = solve_step(lin, free, state.damping[groups], groups, cg_iterations)
        delta = jnp.where(jnp.isfinite(delta), delta, 0.0) * problem.movable[:, None]

        def candidate(alpha: Array) -> tuple[FrameState, Array]:
            step = jnp.clip(alpha * delta, -MAX_STEP, MAX_STEP)
            xa, points = project_to_floor(robot, project_to_limits(robot, retract(x, step)))
            return xa, segment_sum(problem.cost(xa, points), groups)

        xs, costs = jax.vmap(candidate)(jnp.asarray(STEP_SIZES, delta.dtype))  # costs (A, G)
        best = jnp.argmin(costs, axis=0)
        cost_new = jnp.take_along_axis(costs, best[None], axis=0)[0]
        pick = best[groups]
        x_new = jax.tree_util.tree_map(
            lambda a: jnp.take_along_axis(a, pick.reshape((1, -1) + (1,) * (a.ndim - 2)), 0)[0],
            xs,
        )
        accept = cost_new < state.cost
        keep = accept[groups]
        x = jax.tree_util.tree_map(
            lambda u, v: jnp.where(keep.reshape(keep.shape + (1,) * (u.ndim - 1)), u, v), x_new, x
        )
        return LMState(
            x,
            jnp.where(accept, state.damping / 3.0, state.damping * 10.0),
            jnp.where(accept, cost_new, state.cost),
        )

    return Optimizer(init, update)


# --- optax ---------------------------------------------------------------------------------


class OptaxState(NamedTuple):
    """An optax optimiser's state beside its parameters."""

    params: Any
    """The parameters (a pytree with a ``joint_pos`` field)."""
    inner: optax.OptState
    """optax's own state."""
    cost: Array
    """Cost at the parameters before the last update."""


def optax_minimizer(
    transformation: optax.GradientTransformationExtraArgs,
    cost: Callable[[Any], Array],
    robot: RobotModel,
    *,
    value_and_grad: Callable[..., tuple[Array, Any]] | None = None,
) -> Optimizer:
    """An optax transformation minimising the scalar ``cost``, joints projected onto their
    limits after every step. ``value_and_grad(params, state=inner_state)`` defaults to
    ``jax.value_and_grad(cost)``; L-BFGS passes ``optax.value_and_grad_from_state(cost)``
    (it reuses the values of its line search)."""
    vg = value_and_grad or (lambda params, state: jax.value_and_grad(cost)(params))

    def init(params: Any) -> OptaxState:
        dtype = jax.tree_util.tree_leaves(params)[0].dtype
        return OptaxState(params, transformation.init(params), jnp.zeros((), dtype))

    def update(state: OptaxState) -> OptaxState:
        value, grad = vg(state.params, state=state.inner)
        updates, inner = transformation.update(
            grad, state.inner, state.params, value=value, grad=grad, value_fn=cost
        )
        params = project_to_limits(robot, optax.apply_updates(state.params, updates))
        return OptaxState(params, inner, value)

    return Optimizer(init, update)

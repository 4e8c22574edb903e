"""Penalty continuation on the floor: a Levenberg-Marquardt stage run in phases of rising
ground weight (:func:`run_continued`), as both stages of :mod:`._solver` use it."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ..types import Array
from ._optimizers import Optimizer, run
from ._problem import FrameState, Weights

__all__ = ["GROUND_CONTINUATION", "continued", "run_continued"]


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
    repeat: Array | None = None,
    tolerance: float | None = None,
    settle: Array | None = None,
    done: Callable[[FrameState], Array] | None = None,
    groups: Array | None = None,
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
    ``lax.scan`` runs the phases (one compiled body). ``repeat`` (traced, ≥ 1) multiplies
    every phase's steps at run time (one compiled loop body, a dynamic trip count). With a
    ``tolerance`` ``ε`` as well, ``repeat`` only bounds them: a phase runs its own steps,
    then goes on while its last step lowered the cost ``Σ_g s_g c_g`` by more than
    ``ε Σ_g s_g |c_g|`` (``s`` = ``settle``, e.g. the valid frames; 1 by default), in a
    ``lax.while_loop``.

    With ``done`` instead (``x ↦`` (T,) bool per group id, the groups ``groups`` (T,) of
    the optimiser's frames), every phase runs its own steps and the last one (the floor
    near-hard) goes on, each group on its own, until ``done`` holds for the group, to at
    most ``round(repeat · iterations)`` steps in all phases: a group that is done is
    frozen (its frames, damping and cost kept) while the others step, so a group's
    iterates depend on its own frames only, as when it is solved alone.
    """
    phases = min(len(GROUND_CONTINUATION), iterations)
    if phases <= 0:
        return params
    per, extra = divmod(iterations, phases)
    factors = jnp.asarray(GROUND_CONTINUATION[-phases:], jnp.float32)

    def steps(optimizer: Optimizer, x: FrameState, count: int) -> FrameState:
        if repeat is None:
            return state_x(run(optimizer, x, count))
        trips = jnp.round(count * repeat).astype(jnp.int32)
        if tolerance is None:
            state = jax.lax.fori_loop(0, trips, lambda _, s: optimizer.update(s), optimizer.init(x))
            return state_x(state)

        weight = 1.0 if settle is None else settle

        def going(carry: tuple) -> Array:
            i, state, before = carry
            drop = jnp.sum(weight * (before - state.cost))
            settled = drop <= tolerance * jnp.sum(weight * jnp.abs(before))
            return (i < trips) & ((i < count) | ~settled)

        def step(carry: tuple) -> tuple:
            i, state, _ = carry
            return i + 1, optimizer.update(state), state.cost

        first = optimizer.init(x)
        _, state, _ = jax.lax.while_loop(going, step, (0, first, first.cost))
        return state_x(state)

    if done is not None:
        # Every phase takes its own steps; the last (the floor near-hard) goes on to the
        # bound, per group, until the group is done.
        counts = jnp.asarray([per] * (phases - 1) + [per + extra], jnp.int32)
        total = jnp.round(iterations * jnp.maximum(repeat, 1.0)).astype(jnp.int32)
        bounds = counts.at[-1].set(jnp.maximum(total - (phases - 1) * per, per + extra))

        def last_phase(x: FrameState, xs: tuple) -> tuple[FrameState, None]:
            factor, count, bound = xs
            optimizer = make(continued(weights, factor), x)
            return state_x(_until_done(optimizer, x, count, bound, done, groups)), None

        x, _ = jax.lax.scan(last_phase, params, (factors, counts, bounds))
        return x

    def phase(x: FrameState, factor: Array) -> tuple[FrameState, None]:
        return steps(make(continued(weights, factor), x), x, per), None

    x, _ = jax.lax.scan(phase, params, factors)
    if extra:
        x = steps(make(continued(weights, factors[-1]), x), x, extra)
    return x


def _until_done(
    optimizer: Optimizer,
    x: FrameState,
    count: int,
    trips: Array,
    done: Callable[[FrameState], Array],
    groups: Array,
):
    """Levenberg-Marquardt state after ``count`` steps of every group, then more steps (to
    ``trips`` in all) of the groups not yet ``done`` (:func:`run_continued`)."""

    def going(carry: tuple) -> Array:
        i, _, finished = carry
        return (i < trips) & ((i < count) | ~jnp.all(finished))

    def step(carry: tuple) -> tuple:
        i, state, finished = carry
        new = optimizer.update(state)
        moving = (i < count) | ~finished  # per group id
        per_frame = moving[groups]

        def keep(a: Array, b: Array, where: Array) -> Array:
            return jnp.where(where.reshape(where.shape + (1,) * (a.ndim - 1)), a, b)

        state = new._replace(
            x=jax.tree_util.tree_map(lambda a, b: keep(a, b, per_frame), new.x, state.x),
            damping=keep(new.damping, state.damping, moving),
            cost=keep(new.cost, state.cost, moving),
        )
        return i + 1, state, done(state.x)

    first = optimizer.init(x)
    _, state, _ = jax.lax.while_loop(going, step, (0, first, done(first.x)))
    return state

"""Penalty continuation's per-group stop (``run_continued(..., done=, groups=)``) on a toy
optimiser: every phase takes its own steps, then the last one steps each group on alone
until it is done."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from retargetjax.retarget._continuation import GROUND_CONTINUATION, run_continued
from retargetjax.retarget._optimizers import LMState, Optimizer
from retargetjax.retarget._problem import FrameState

# Frames 0-2 are group 0, 3-4 group 1, 5 group 2 (ids as ``segment_ids`` gives them).
GROUPS = jnp.asarray([0, 0, 0, 1, 1, 2])


class _Weights(NamedTuple):
    ground: float = 1.0


def _counter(groups):
    """Each update moves every frame's root up by 1 and counts the steps in ``cost``."""
    T = groups.shape[0]

    def make(_weights, _x):
        def init(x):
            return LMState(x, jnp.zeros((T,)), jnp.zeros((T,)))

        def update(state):
            x = state.x._replace(root_pos=state.x.root_pos + 1.0)
            return LMState(x, state.damping + 1.0, state.cost + 1.0)

        return Optimizer(init, update)

    return make


def test_each_group_steps_until_it_is_done_then_stays():
    T = GROUPS.shape[0]
    x0 = FrameState(
        jnp.zeros((T, 3)), jnp.tile(jnp.asarray([1.0, 0, 0, 0]), (T, 1)), jnp.zeros((T, 2))
    )
    phases = len(GROUND_CONTINUATION)
    # Done once a group's height reaches its goal: group 0 at 3 (before the last phase),
    # group 1 at 9 (three steps past the last phase's own two), group 2 never (the bound).
    goal = jnp.asarray([3.0, 9.0, 1e9, 0, 0, 0])

    def done(x):
        height = jnp.zeros((T,)).at[GROUPS].max(x.root_pos[:, 2])
        return height >= goal

    weights = _Weights()
    x = run_continued(
        _counter(GROUPS), x0, weights, 2 * phases, repeat=jnp.asarray(3.0), done=done, groups=GROUPS
    )
    height = np.asarray(x.root_pos[:, 2])
    # Phases 1 and 2: 2 steps each for every group (4); the last phase its own 2 (6), then
    # on until done: group 0 stays at 6, group 1 stops at 9, group 2 at the bound of
    # 3 x 6 = 18 steps in all.
    np.testing.assert_array_equal(height, [6, 6, 6, 9, 9, 18])
    # Without done: the fixed count, 2 per phase.
    fixed = run_continued(_counter(GROUPS), x0, weights, 2 * phases)
    np.testing.assert_array_equal(np.asarray(fixed.root_pos[:, 2]), [6] * T)

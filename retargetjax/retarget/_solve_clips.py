"""Solving clip problems together: one jitted call over the rows of many clips
(:func:`solve_problems`, :func:`solve_rows`), that program lowered for cost analysis
(:func:`lower_solve`), and the solver's compile count."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..robot import RobotModel
from ._clip_rows import _layout, clip_solution, stack_windows
from ._config import RetargetConfig
from ._errors import RetargetError
from ._problem import (
    FrameState,
    SolverStatic,
    Weights,
    WindowData,
    contact_part_capsules,
)
from ._solver import solve_windows
from ._start_pose import standing_start
from ._targets import RetargetProblem
from ._windows import ClipSlot

__all__ = [
    "has_floor_contact",
    "lower_solve",
    "solve_problems",
    "solve_rows",
    "solver_compile_count",
]


def _resolve_robot(robot: RobotModel | str) -> RobotModel:
    from ..robot import load_robot

    return robot if isinstance(robot, RobotModel) else load_robot(robot)


def solve_problems(
    problems: Sequence[RetargetProblem],
    robot: RobotModel,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
) -> list[dict[str, Any]]:
    """Solve several clips for one robot together (one jitted call).

    Clips are packed on rows of one window length (:func:`pack_clips`, longest first; short
    clips share rows), and the row count is padded to a :func:`window_bucket`, so a set of
    clips compiles once per (window length, bucket).

    Returns, per clip, ``root_pos (T,3)``, ``root_quat (T,4)``, ``joint_pos (T,N)``,
    ``final_loss`` (mean cost per valid frame of the rows holding the clip, shared with the
    clips packed beside it), ``solve_s``, ``windows``, ``window`` and ``batch_windows``.
    ``device`` places the arrays (``jax.device_put``).
    """
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    if not problems:
        return []
    window, slots, n_pad = _layout(problems, config)
    t0 = time.perf_counter()
    x, loss = solve_rows(problems, slots, 0, n_pad, robot, config, window=window, device=device)
    x = jax.tree_util.tree_map(np.asarray, jax.block_until_ready(x))
    loss = np.asarray(loss)
    elapsed = time.perf_counter() - t0
    return [
        {
            **clip_solution(p, s, x, loss, robot),
            "solve_s": elapsed,
            "window": window,
            "batch_windows": n_pad,
        }
        for p, s in zip(problems, slots)
    ]


def solve_rows(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    first_row: int,
    num_rows: int,
    robot: RobotModel,
    config: RetargetConfig,
    *,
    window: int | None = None,
    device: Any = None,
) -> tuple[FrameState, jax.Array]:
    """Dispatch the solve of rows ``[first_row, first_row + num_rows)`` of a layout
    (``slots[i]`` places ``problems[i]``; see :func:`plan_clip_rows`) and return at once:
    the rows' ``FrameState`` with ``(num_rows, W, …)`` leaves and their losses
    ``(num_rows,)``, as JAX arrays still being computed (``jax.block_until_ready`` waits).

    ``window`` defaults to ``config.solver.window``; ``device`` places the inputs
    (``jax.device_put``). Raises :class:`RetargetError` if the problems come from different
    robots.
    """
    return solve_windows(
        *_solve_args(problems, slots, first_row, num_rows, robot, config, window, device)
    )


def has_floor_contact(problem: RetargetProblem) -> bool:
    """Whether the human puts a body part other than the feet (hands, elbows, knees,
    pelvis, back, head) on the floor in ``problem``'s clip: such a solve runs
    ``floor_contact_effort`` times the iterations (:meth:`SolverConfig.for_clips`)."""
    pc = problem.part_contact
    return pc is not None and bool(np.any(np.asarray(pc) > 0))


def _with_standing_start(robot: RobotModel) -> RobotModel:
    """``robot`` whose ``default_joint_pos`` (the pose the ``default_pose`` cost pulls
    towards) is :func:`standing_start`: off its joint limits, T-pose arms hanging. Pulled
    towards a T-pose, redundant arm joints keep the elbow straight (AzureLoong: right elbow
    10 cm off all walk long). The same leaves, so no new compilation."""
    start = standing_start(robot)
    if np.array_equal(start, np.asarray(robot.default_joint_pos, np.float64)):
        return robot
    dtype = np.asarray(robot.default_joint_pos).dtype
    return dataclasses.replace(robot, default_joint_pos=start.astype(dtype))


def _solve_args(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    first_row: int,
    num_rows: int,
    robot: RobotModel,
    config: RetargetConfig,
    window: int | None,
    device: Any,
) -> tuple[RobotModel, WindowData, Weights, jax.Array, SolverStatic]:
    """The arguments of :func:`solve_windows` for :func:`solve_rows` (same parameters)."""
    if not problems:
        raise ValueError("solve_rows needs at least one problem")
    frame_kp = problems[0].frame_keypoints
    if any(p.frame_keypoints != frame_kp for p in problems):
        raise RetargetError("problems for one solve must come from the same robot")
    sc = config.solver.for_clips(any(has_floor_contact(p) for p in problems))
    robot = _with_standing_start(robot)
    data = stack_windows(problems, slots, num_rows, window or sc.window, robot, first_row=first_row)
    static = SolverStatic.from_config(sc, frame_kp, contact_part_capsules(robot))
    weights = Weights.from_config(config.costs)
    fps = jnp.asarray(problems[0].fps, jnp.float32)
    if device is not None:
        data, weights, fps, robot = jax.device_put((data, weights, fps, robot), device)
    return robot, data, weights, fps, static


def lower_solve(
    problems: Sequence[RetargetProblem],
    robot: RobotModel | str,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
) -> tuple[jax.stages.Lowered, int]:
    """The jitted program :func:`solve_problems` runs for ``problems``, lowered (not run),
    and the number of frames it solves (rows × window, padding included): for XLA's cost
    analysis (``lower_solve(...)[0].compile().cost_analysis()``)."""
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    if not problems:
        raise ValueError("lower_solve needs at least one problem")
    window, slots, n_pad = _layout(problems, config)
    args = _solve_args(problems, slots, 0, n_pad, robot, config, window, device)

    # A fresh jit of the same function: its own trace cache, so a program traced under
    # :func:`~retargetjax.retarget._linearize.flat_loops` is traced anew (and the solver's
    # compile count is not touched).
    def program(robot, data, weights, fps, static):
        return solve_windows.__wrapped__(robot, data, weights, fps, static)

    fresh = jax.jit(program, static_argnames=("static",))
    return fresh.lower(*args), n_pad * window


def solver_compile_count() -> int:
    """Compiled programs of the solver in this process (one per shape, settings, device)."""
    return solve_windows._cache_size()

"""Where one refinement iteration's time goes, piece by piece, on whatever device JAX finds.

One Gauss-Newton (Levenberg-Marquardt) update of the refinement
(:func:`retargetjax.retarget._optimizers.levenberg_marquardt`) on ``n`` windows is

    linearize   FK, point Jacobians, per-frame normal blocks H_t = J_tᵀJ_t, g_t = J_tᵀr_t
                and the temporal coupling (``linearize_window``), in chunks of 8 frames
                (``lax.map``) as the solver runs it;
    solve       the damped step (H + λD) δ = −g: block-Jacobi preconditioned CG over the
                window (``solve_step``), timed with the linearisation it needs, which
                is then subtracted;
    candidates  the cost at the three step sizes α ∈ STEP_SIZES (retract, joint limits,
                floor projection, every cost term);

plus ``factor``, the part of ``solve`` that factors the preconditioner's blocks
(``H_t + (TᵀT)_tt`` damped: Cholesky, then its inverse through a triangular solve, each a
batched small-matrix routine of the device's linear-algebra library) and
``factor_substituted``, the same inverse as ``D`` steps of element-wise arithmetic over
all frames (:func:`~retargetjax.retarget._linsolve.substituted_cholesky_inverse`, not used
by the solver: the alternative if a GPU runs the batched routines poorly); ``pairs``, the
closest self-collision pairs picked at the start of each continuation phase
(``active_pairs``); and ``linearize_unchunked``, the same linearisation in one call over
all frames (no ``lax.map``), to tell whether the chunking that keeps a CPU's caches warm
costs a GPU its parallelism.

Each piece is jitted alone, vmapped over the windows, run once to compile and then timed
(best of ``repeats``). ``update`` is one whole iteration; the pieces add up to about it (the
rest is bookkeeping). The times are for the default solver settings of the problems given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp


def _best_ms(fn: Callable[[], Any], repeats: int) -> float:
    jax.block_until_ready(fn())  # compile (and warm up)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return 1000.0 * best


def iteration_split(
    problems: Sequence[Any], robot: Any, config: Any, device: Any = None, repeats: int = 3
) -> dict[str, Any]:
    """Milliseconds per piece of one refinement iteration (module docstring) over the
    windows of ``problems`` laid out as :func:`~retargetjax.retarget.solve_problems` lays
    them, and the frames those windows hold (padding included)."""
    from retargetjax.retarget._linearize import flat_loops, linearize_window
    from retargetjax.retarget._linsolve import (
        DAMPING_FLOOR,
        block_cholesky,
        block_cholesky_inverse,
        free_mask,
        restrict,
        segment_sum,
        solve_step,
        substituted_cholesky_inverse,
    )
    from retargetjax.retarget._optimizers import MAX_STEP, STEP_SIZES
    from retargetjax.retarget._problem import (
        Window,
        project_to_floor,
        project_to_limits,
        retract,
    )
    from retargetjax.retarget._residuals import window_frame_cost
    from retargetjax.retarget._solve_clips import _layout, _solve_args
    from retargetjax.retarget._solver import _window_lm, active_pairs

    window_len, slots, n = _layout(problems, config)
    robot, data, weights, fps, static = _solve_args(
        problems, slots, 0, n, robot, config, window_len, device
    )
    x0 = jax.jit(project_to_limits)(robot, data.start)
    frames = data.frames

    def per_window(fn: Callable) -> Callable:
        return jax.jit(jax.vmap(fn))

    pairs_fn = per_window(lambda x, fr: active_pairs(robot, x, fr.mask, static.max_pairs))
    pairs = pairs_fn(x0, frames)

    def with_pairs(x, fr, p):
        return Window(fr, weights, fps, static, p)

    def lin_arrays(x, fr, p):
        ln = linearize_window(robot, x, with_pairs(x, fr, p))
        return ln.gradient, ln.hessian, ln.coupling_blocks  # ``coupling`` is a function

    lin_fn = per_window(lin_arrays)
    with flat_loops():
        lin_flat_fn = jax.jit(jax.vmap(lin_arrays))
        jax.block_until_ready(lin_flat_fn(x0, frames, pairs))  # traced while flat

    def step(x, fr, p):
        ln = linearize_window(robot, x, with_pairs(x, fr, p))
        groups = jnp.zeros(fr.mask.shape, jnp.int32)
        lam = jnp.full(fr.mask.shape, static.damping, x.root_pos.dtype)
        free = free_mask(robot, x.joint_pos, ln.gradient)
        return solve_step(ln, free, lam, groups, static.cg_iterations)

    step_fn = per_window(step)
    _, hessian, coupling_blocks = lin_fn(x0, frames, pairs)

    def damped(H, Cb):
        """The preconditioner's blocks as ``solve_step`` forms them (every coordinate free)."""
        eye = jnp.eye(H.shape[-1], dtype=H.dtype)
        diag = jnp.diagonal(H, axis1=-2, axis2=-1)
        blocks = H + Cb + (static.damping * diag + DAMPING_FLOOR)[..., None] * eye
        return restrict(blocks, jnp.ones(H.shape[:-1], H.dtype))

    factor_fn = per_window(lambda H, Cb: block_cholesky_inverse(block_cholesky(damped(H, Cb))))
    factor_sub_fn = per_window(lambda H, Cb: substituted_cholesky_inverse(damped(H, Cb)))
    delta = step_fn(x0, frames, pairs)

    def candidates(x, fr, p, d):
        w = with_pairs(x, fr, p)
        groups = jnp.zeros(fr.mask.shape, jnp.int32)

        def one(alpha):
            step = jnp.clip(alpha * d, -MAX_STEP, MAX_STEP)
            xa, pts = project_to_floor(robot, project_to_limits(robot, retract(x, step)))
            return segment_sum(window_frame_cost(robot, xa, w, pts), groups)

        return jax.vmap(one)(jnp.asarray(STEP_SIZES, d.dtype))

    cand_fn = per_window(candidates)

    def update(x, fr, p):
        opt = _window_lm(robot, with_pairs(x, fr, p))
        return opt.update(opt.init(x))

    update_fn = per_window(update)

    ms = {
        "pairs": _best_ms(lambda: pairs_fn(x0, frames), repeats),
        "linearize": _best_ms(lambda: lin_fn(x0, frames, pairs), repeats),
        "linearize_unchunked": _best_ms(lambda: lin_flat_fn(x0, frames, pairs), repeats),
        "linearize_and_solve": _best_ms(lambda: step_fn(x0, frames, pairs), repeats),
        "factor": _best_ms(lambda: factor_fn(hessian, coupling_blocks), repeats),
        "factor_substituted": _best_ms(lambda: factor_sub_fn(hessian, coupling_blocks), repeats),
        "candidates": _best_ms(lambda: cand_fn(x0, frames, pairs, delta), repeats),
        "update": _best_ms(lambda: update_fn(x0, frames, pairs), repeats),
    }
    ms["solve"] = ms["linearize_and_solve"] - ms["linearize"]
    frames_total = n * window_len
    # The two linearisations must agree (they differ only in how XLA is asked to loop).
    chunked, flat = lin_fn(x0, frames, pairs), lin_flat_fn(x0, frames, pairs)
    scale = max(float(jnp.max(jnp.abs(a))) for a in chunked)
    gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(chunked, flat))
    return {
        "windows": n,
        "frames": frames_total,
        "unchunked_relative_gap": gap / max(scale, 1e-30),
        "ms": {k: round(v, 3) for k, v in ms.items()},
        "us_per_frame": {k: round(1000.0 * v / frames_total, 4) for k, v in ms.items()},
    }


def report(split: dict[str, Any]) -> str:
    """A Markdown table of :func:`iteration_split`'s result."""
    lines = [
        f"one refinement iteration over {split['windows']} windows ({split['frames']} frames):",
        "| piece | ms | µs per frame |",
        "|---|---|---|",
    ]
    for k, v in split["ms"].items():
        lines.append(f"| {k} | {v} | {split['us_per_frame'][k]} |")
    return "\n".join(lines)

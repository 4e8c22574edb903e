"""What the solver costs on paper: XLA's cost analysis of one iteration of each stage, the
machine's measured peaks, and the ceiling those put on frames/s (shared by the speed and
device benchmarks).

XLA's cost analysis counts the body of a loop once, whatever its trip count, so the solve is
lowered under :func:`~retargetjax.retarget._linearize.flat_loops` (no ``lax.map`` over
frame chunks, every ``lax.scan`` unrolled: the same program, straight-line) with **one**
iteration of each loop (Levenberg-Marquardt steps, Gauss-Newton steps, conjugate-gradient
steps); the differences to a lowering without iterations are the counts of one step of each
stage, and one conjugate-gradient step is the difference between two and one. The full
solve is estimated as ``init_iterations · init + iterations · (gn + (cg_iterations − 1) ·
cg)``; see :func:`solver_cost`.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

#: One NVIDIA H200 on paper: dense float32 (non-tensor-core) FLOP/s and HBM3e bandwidth.
H200_PEAK = {"name": "NVIDIA H200 (on paper)", "flops_per_s": 60e12, "bytes_per_s": 4.8e12}


def _analysis(compiled: Any) -> dict[str, float]:
    cost = compiled.cost_analysis()
    if isinstance(cost, list | tuple):  # older JAX: one dict per computation
        cost = cost[0] if cost else {}
    cost = cost or {}
    return {
        "flops": float(cost.get("flops", 0.0)),
        "bytes": float(cost.get("bytes accessed", 0.0)),
    }


def solver_cost(
    problems: list[Any], robot: Any, config: Any, *, compiled: bool = True
) -> dict[str, Any]:
    """FLOPs and bytes per frame for one step of each solver stage, and their total for the
    configured iteration counts (see the module docstring), from XLA's cost analysis of the
    compiled programs; ``compiled=False``: of the lowered ones, before XLA's optimisation
    passes (no compilation: seconds instead of a minute; FLOPs within ~25 %, bytes about
    twice as many, as nothing is fused yet)."""
    from retargetjax.retarget import lower_solve
    from retargetjax.retarget._linearize import flat_loops

    sc = config.solver

    def lowered(init_it: int, it: int, cg: int) -> tuple[dict[str, float], int]:
        cfg = config.model_copy(deep=True)
        cfg.solver.init_iterations, cfg.solver.iterations = init_it, it
        cfg.solver.cg_iterations = cg
        with flat_loops():
            low, frames = lower_solve(problems, robot, cfg)
        return _analysis(low.compile() if compiled else low), frames

    base, frames = lowered(0, 0, 1)
    init, _ = lowered(1, 0, 1)
    gn1, _ = lowered(0, 1, 1)
    gn2, _ = lowered(0, 1, 2)

    def per_frame(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        return {k: max(a[k] - b[k], 0.0) / frames for k in a}

    out = {
        "analysed": "compiled" if compiled else "lowered (before optimisation)",
        "frames_in_call": frames,
        "init_step": per_frame(init, base),
        "gn_step_with_one_cg": per_frame(gn1, base),
        "cg_step": per_frame(gn2, gn1),
    }
    total = {}
    for k in ("flops", "bytes"):
        total[k] = sc.init_iterations * out["init_step"][k] + sc.iterations * (
            out["gn_step_with_one_cg"][k] + (sc.cg_iterations - 1) * out["cg_step"][k]
        )
    out["per_frame_total"] = total
    return out


def measured_peaks(seconds: float = 1.0) -> dict[str, float]:
    """This machine's float32 matmul FLOP/s and memory-copy bytes/s on JAX's default device
    (what the solver could reach at best, measured rather than looked up)."""
    n = 2048
    a = jnp.ones((n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    jax.block_until_ready(mm(a))
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        jax.block_until_ready(mm(a))
        reps += 1
    flops = 2.0 * n**3 * reps / (time.perf_counter() - t0)
    big = jnp.ones((64 * 1024 * 1024 // 4,), jnp.float32)  # 64 MiB
    copy = jax.jit(lambda x: x * 1.0001)
    jax.block_until_ready(copy(big))
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        jax.block_until_ready(copy(big))
        reps += 1
    bw = 2.0 * big.nbytes * reps / (time.perf_counter() - t0)  # read + write
    return {"flops_per_s": flops, "bytes_per_s": bw}


def ceiling_frames_per_s(per_frame: dict[str, float], peak: dict[str, float]) -> float:
    """Roofline ceiling: frames/s if every FLOP ran at peak and every byte at full bandwidth
    (``1 / max(flops / F, bytes / B)``)."""
    t = max(per_frame["flops"] / peak["flops_per_s"], per_frame["bytes"] / peak["bytes_per_s"])
    return float(np.inf) if t <= 0 else 1.0 / t

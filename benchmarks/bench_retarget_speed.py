"""Speed of the solver on this machine: frames/s against iterations and clip length,
compile time, and compile count for a batch of 16 mixed-length clips.

    python benchmarks/bench_retarget_speed.py [--quick]

Target (issue): ≥ 1,000 frames/s after compilation for one 1-minute 30 fps clip onto G1
with every term on; ≤ 3 compilations for 16 clips of mixed lengths.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from retargetjax.motion import load_motion
from retargetjax.retarget import RetargetConfig, prepare_problem, solve_problems
from retargetjax.retarget._solver import solve_windows
from retargetjax.robot import load_robot

from _common import SHARED_DATA, table, write_result


def tiled_walk(seconds: float, fps: float = 30.0):
    """The sample walk repeated (each repeat shifted to continue where the last ended)."""
    base = load_motion(SHARED_DATA / "motions" / "bvh" / "mocapbank_walk.bvh")
    if abs(base.fps - fps) > 1e-6:
        base = base.resample(fps)
    need = round(seconds * fps)
    reps = []
    offset = np.zeros(3, np.float32)
    step = base.positions[-1, 0] - base.positions[0, 0]
    step[2] = 0.0
    while sum(r.shape[0] for r in reps) < need:
        reps.append(base.positions + offset)
        offset = offset + step
    pos = np.concatenate(reps)[:need]
    return dataclasses.replace(base, positions=pos, orientations=None)


def time_solve(problems, robot, config, repeats: int = 2) -> tuple[float, float]:
    """(first call seconds incl. compile, best steady-state seconds)."""
    t0 = time.perf_counter()
    solve_problems(problems, robot, config)
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        solve_problems(problems, robot, config)
        best = min(best, time.perf_counter() - t0)
    return first, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer settings")
    args = ap.parse_args()
    robot = load_robot("unitree_g1")
    rows = []
    iteration_grid = [(6, 6)] if args.quick else [(3, 3), (4, 4), (6, 6), (10, 10)]
    for init_it, it in iteration_grid:
        config = RetargetConfig()
        config.solver.init_iterations = init_it
        config.solver.iterations = it
        problem = prepare_problem(tiled_walk(60.0), robot, config)
        first, best = time_solve([problem], robot, config)
        rows.append(
            {
                "case": "1 clip, 60 s",
                "init_iterations": init_it,
                "iterations": it,
                "frames": problem.num_frames,
                "compile_s": first - best,
                "solve_s": best,
                "frames_per_s": problem.num_frames / best,
            }
        )
        print(table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)
    if not args.quick:
        config = RetargetConfig()
        for seconds in (10.0, 120.0):
            problem = prepare_problem(tiled_walk(seconds), robot, config)
            first, best = time_solve([problem], robot, config)
            rows.append(
                {
                    "case": f"1 clip, {seconds:.0f} s",
                    "init_iterations": config.solver.init_iterations,
                    "iterations": config.solver.iterations,
                    "frames": problem.num_frames,
                    "compile_s": first - best,
                    "solve_s": best,
                    "frames_per_s": problem.num_frames / best,
                }
            )
            print(table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)

    # 16 clips of mixed lengths (2 s .. 2 min), solved together; count compilations.
    config = RetargetConfig()
    lengths = np.geomspace(2.0, 120.0, 16)
    problems = [prepare_problem(tiled_walk(s), robot, config) for s in lengths]
    before = solve_windows._cache_size()
    first, best = time_solve(problems, robot, config, repeats=1)
    compiles = solve_windows._cache_size() - before
    frames = sum(p.num_frames for p in problems)
    rows.append(
        {
            "case": "16 mixed clips",
            "init_iterations": config.solver.init_iterations,
            "iterations": config.solver.iterations,
            "frames": frames,
            "compile_s": first - best,
            "solve_s": best,
            "frames_per_s": frames / best,
            "compilations": compiles,
        }
    )
    cols = [
        "case",
        "init_iterations",
        "iterations",
        "frames",
        "compile_s",
        "solve_s",
        "frames_per_s",
        "compilations",
    ]
    print()
    print(table(rows, cols))
    print(f"\nwritten to {write_result('speed.json', {'rows': rows})}")


if __name__ == "__main__":
    main()

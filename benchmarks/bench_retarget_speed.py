"""Speed of the solver on this machine: the time split by stage (targets, initial
Levenberg-Marquardt, refinement, body poses, writing) of the one-minute walk onto G1, XLA's
cost analysis of the compiled solve (FLOPs and bytes per frame, per step and in all) and the
fraction of this machine's measured peak it reaches, frames/s against iterations and clip
length, compile time, and compile count for a batch of 16 mixed-length clips. The walk is
the bundled Meredith walk tiled to a minute; the same minute of the shared mocapbank squat,
whose knee is on the floor 44 % of the time, is timed beside it at the default
``floor_contact_effort`` and at 1 (until December 2026 that squat was the "walk" here).

    python benchmarks/bench_retarget_speed.py [--quick] [--no-cost]

Target (issue): ≥ 1,000 frames/s after compilation for one 1-minute 30 fps clip onto G1
with every term on; ≤ 3 compilations for 16 clips of mixed lengths.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from retargetjax.motion import load_motion, sample_motion_path
from retargetjax.retarget import (
    RetargetConfig,
    prepare_problem,
    robot_motion_from_solution,
    solve_problems,
)
from retargetjax.retarget._solver import solve_windows
from retargetjax.robot import load_robot

from _common import SHARED_DATA, table, write_result


def tiled_walk(seconds: float, fps: float = 30.0, clip: str = "walk"):
    """A sample clip repeated (each repeat shifted to continue where the last ended):
    ``"walk"`` the bundled Meredith walk (feet only), ``"squat"`` the shared mocapbank clip
    (a squat with the right knee on the floor 44 % of the time, so its refinement runs up
    to ``floor_contact_effort`` times the iterations, until its feet are still)."""
    if clip == "walk":
        base = load_motion(sample_motion_path("walk"))
    else:
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


def _best_time(fn, repeats: int) -> float:
    """Best wall time of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def stage_split(robot, seconds: float = 60.0, repeats: int = 2) -> dict[str, float]:
    """Seconds (best of ``repeats``, compile excluded) of each stage of retargeting the
    tiled walk: targets (resample, keypoint map, contacts, scaling), the initial per-frame
    Levenberg-Marquardt (a solve with no refinement), the refinement (the full solve less
    that), body poses (FK of the result) and writing the ``.npz``."""
    config = RetargetConfig()
    motion = tiled_walk(seconds)
    t_targets = _best_time(lambda: prepare_problem(motion, robot, config), repeats)
    problem = prepare_problem(motion, robot, config)
    init_only = config.model_copy(deep=True)
    init_only.solver.iterations = 0
    t_init = _best_time(lambda: solve_problems([problem], robot, init_only), repeats)
    t_solve = _best_time(lambda: solve_problems([problem], robot, config), repeats)
    solution = solve_problems([problem], robot, config)[0]
    t_poses = _best_time(
        lambda: robot_motion_from_solution(motion, problem, solution, robot, config), repeats
    )
    rm = robot_motion_from_solution(motion, problem, solution, robot, config)
    with tempfile.TemporaryDirectory() as tmp:
        t_write = _best_time(lambda: rm.save(Path(tmp) / "out.npz"), repeats)
    stages = {
        "targets_s": t_targets,
        "init_lm_s": t_init,
        "refinement_s": max(t_solve - t_init, 0.0),
        "body_poses_s": t_poses,
        "writing_s": t_write,
    }
    total = sum(stages.values())
    return {
        "frames": problem.num_frames,
        **stages,
        "total_s": total,
        "frames_per_s": problem.num_frames / total,
    }


def cost_report(robot, seconds: float = 10.0) -> dict:
    """XLA's cost analysis of the default solve (per frame: one step of each stage, and the
    configured total), this machine's measured peaks, and the roofline ceiling."""
    from _cost import ceiling_frames_per_s, measured_peaks, solver_cost

    config = RetargetConfig()
    problem = prepare_problem(tiled_walk(seconds), robot, config)
    cost = solver_cost([problem], robot, config)
    peaks = measured_peaks(0.5)
    return {
        **cost,
        "peaks": peaks,
        "ceiling_frames_per_s": ceiling_frames_per_s(cost["per_frame_total"], peaks),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer settings")
    ap.add_argument("--no-cost", action="store_true", help="skip XLA's cost analysis")
    args = ap.parse_args()
    robot = load_robot("unitree_g1")
    result: dict = {}

    split = stage_split(robot, repeats=1 if args.quick else 2)
    result["stages"] = split
    print("stage split, 60 s walk onto G1 (s):")
    print(table([split], list(split)))
    if not args.no_cost:
        cost = cost_report(robot)
        result["cost"] = cost
        pf, peaks = cost["per_frame_total"], cost["peaks"]
        solve_s = split["init_lm_s"] + split["refinement_s"]
        achieved = split["frames"] / solve_s
        flops_rate, bytes_rate = pf["flops"] * achieved, pf["bytes"] * achieved
        result["fraction_of_peak"] = {
            "flops": flops_rate / peaks["flops_per_s"],
            "bytes": bytes_rate / peaks["bytes_per_s"],
        }
        print(
            f"\nXLA cost analysis, per frame: {pf['flops'] / 1e6:.2f} MFLOP, "
            f"{pf['bytes'] / 1e6:.2f} MB accessed (init step "
            f"{cost['init_step']['flops'] / 1e6:.3f} MFLOP, GN step with one CG "
            f"{cost['gn_step_with_one_cg']['flops'] / 1e6:.3f} MFLOP, CG step "
            f"{cost['cg_step']['flops'] / 1e6:.4f} MFLOP)"
        )
        print(
            f"solve at {achieved:.0f} frames/s runs {flops_rate / 1e9:.2f} GFLOP/s "
            f"({100 * result['fraction_of_peak']['flops']:.1f} % of the measured "
            f"{peaks['flops_per_s'] / 1e9:.0f} GFLOP/s matmul peak) and "
            f"{bytes_rate / 1e9:.2f} GB/s ({100 * result['fraction_of_peak']['bytes']:.1f} % "
            f"of the measured {peaks['bytes_per_s'] / 1e9:.1f} GB/s copy bandwidth); "
            f"roofline ceiling {cost['ceiling_frames_per_s']:.0f} frames/s"
        )
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
    # The squat with a knee on the floor: floor_contact_effort (default 5) against 1.
    for effort in (RetargetConfig().solver.floor_contact_effort, 1):
        config = RetargetConfig()
        config.solver.floor_contact_effort = effort
        problem = prepare_problem(tiled_walk(60.0, clip="squat"), robot, config)
        first, best = time_solve([problem], robot, config)
        ran = config.solver.for_clips(True)
        rows.append(
            {
                "case": f"1 clip, 60 s squat, knee down (effort {effort})",
                "init_iterations": ran.init_iterations,
                # the refinement: at least `iterations`, at most effort times as many
                "iterations": f"{ran.iterations}-{round(ran.iterations * ran.still_feet_effort)}",
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
    print(f"\nwritten to {write_result('speed.json', {**result, 'rows': rows})}")


if __name__ == "__main__":
    main()

"""Quality of retargeting every real sample clip onto G1, H1 and T1 (issue targets).

    python benchmarks/bench_retarget_quality.py [--robots unitree_g1,...] [--iterations N]

Prints a table per clip and robot and writes it to benchmarks/results/quality.{md,json}.
Targets: zero joint-limit violations; no primitive below −1 cm; skating ≤ 1 mm/frame mean and
≤ 1 cm max; self-penetration > 1 cm in ≤ 1 % of frames; keypoint error ≤ 4 cm mean and ≤ 6 cm
for hands and feet; joint velocities within limits in ≥ 99.9 % of frames.
"""

from __future__ import annotations

import argparse
import time

from retargetjax.evaluation import compute_metrics
from retargetjax.motion import load_motion
from retargetjax.retarget import RetargetConfig, prepare_problem, retarget
from retargetjax.robot import load_robot

from _common import RESULTS, sample_clips, table, write_result

COLUMNS = [
    "clip",
    "robot",
    "frames",
    "joint_limit_violations",
    "ground_penetration_max_m",
    "foot_skate_mean_mm_per_frame",
    "foot_skate_max_mm_per_frame",
    "self_penetration_frames_above_1cm_frac",
    "keypoint_error_mean_m",
    "keypoint_error_hands_feet_mean_m",
    "joint_velocity_within_limit_frac",
    "solve_s",
    "pass",
]


def passes(m: dict) -> bool:
    return (
        m["joint_limit_violations"] == 0
        and m["ground_penetration_max_m"] <= 0.01
        and m["foot_skate_mean_mm_per_frame"] <= 1.0
        and m["foot_skate_max_mm_per_frame"] <= 10.0
        and m["self_penetration_frames_above_1cm_frac"] <= 0.01
        and m["keypoint_error_mean_m"] <= 0.04
        and m["keypoint_error_hands_feet_mean_m"] <= 0.06
        and m["joint_velocity_within_limit_frac"] >= 0.999
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--robots", default="unitree_g1,unitree_h1,booster_t1")
    ap.add_argument("--iterations", type=int, default=None)
    args = ap.parse_args()
    config = RetargetConfig()
    if args.iterations is not None:
        config.solver.iterations = args.iterations
    rows = []
    for robot_name in args.robots.split(","):
        robot = load_robot(robot_name)
        for clip in sample_clips():
            motion = load_motion(clip)
            t0 = time.perf_counter()
            result = retarget(motion, robot, config)
            elapsed = time.perf_counter() - t0
            problem = prepare_problem(motion, robot, config)
            m = compute_metrics(
                result,
                robot,
                targets=problem.target_keypoints,
                target_weight=problem.keypoint_weight,
                contact=problem.contact,
            )
            row = {
                "clip": clip.name,
                "robot": robot_name,
                "frames": result.num_frames,
                "solve_s": elapsed,
                **m,
            }
            row["pass"] = "yes" if passes(m) else "NO"
            rows.append(row)
            print(table([row], COLUMNS).splitlines()[-1], flush=True)
    md = table(rows, COLUMNS)
    print()
    print(md)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.md").write_text(md + "\n")
    write_result("quality.json", {"rows": rows, "config": config.model_dump()})
    print(f"\nwritten to {RESULTS / 'quality.md'}")


if __name__ == "__main__":
    main()

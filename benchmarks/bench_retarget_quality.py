"""Quality of retargeting every real sample clip onto G1, H1 and T1, against issue 16's targets.

    python benchmarks/bench_retarget_quality.py [--robots unitree_g1,...] [--clips roll,walk]
        [--quick] [--iterations N] [--baseline benchmarks/results/quality.json]
        [--solver KEY=VALUE ...] [--tag NAME]

Every clip under ``../shared/data/motions`` (BVH walks, the squat/kneel, OMOMO box carrying,
the climb, the five DeepMimic clips) is retargeted with the default configuration and graded
by :func:`retargetjax.evaluation.compute_metrics` against the human's own targets, foot
contacts and body-part contacts. Targets (✔/✘ per column, ``pass`` when all hold):

- ``lowest``: lowest point of any collision primitive ≥ −5 mm (``ground_lowest_m``);
- ``limits``: 0 joint-limit violations;
- ``slide``: foot material-point slide mean ≤ 1 mm and max ≤ 10 mm per 30 fps frame
  (``foot_slide_*``);
- ``self``: self-penetration > 1 cm on ≤ 1 % of frames (the per-group columns show where,
  and how often a robot arm overlaps the torso or a leg while the human's are apart);
- ``kp``: keypoint error mean no worse than ``--baseline``'s by more than 0.5 cm (shown, not
  judged, without a baseline).

Prints a Markdown table and writes ``benchmarks/results/quality[_<tag>].{md,json}``
(``_quick`` for ``--quick``, ``_subset`` when filtered).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from retargetjax.compile_cache import release_compiled_programs
from retargetjax.evaluation import compute_metrics, human_reference
from retargetjax.motion import load_motion
from retargetjax.retarget import retarget
from retargetjax.robot import load_robot

from _common import RESULTS, sample_clips, solver_config, write_result

ROBOTS = ("unitree_g1", "unitree_h1", "booster_t1")
#: Clips of ``--quick``: a walk and a get-up from the floor (hands, knees, trunk down).
QUICK_CLIPS = ("mixamo_rig", "deepmimic_getup_facedown")

LOWEST_M = -0.005
SLIDE_MEAN_MM = 1.0
SLIDE_MAX_MM = 10.0
SELF_FRAC = 0.01
KP_SLACK_M = 0.005


def checks(m: dict, baseline_kp: float | None) -> dict[str, bool | None]:
    """Issue 16's targets for one clip (``None``: not judged)."""
    return {
        "lowest": m["ground_lowest_m"] >= LOWEST_M,
        "limits": m["joint_limit_violations"] == 0,
        "slide": m["foot_slide_mean_mm_per_frame"] <= SLIDE_MEAN_MM
        and m["foot_slide_max_mm_per_frame"] <= SLIDE_MAX_MM,
        "self": m["self_penetration_frames_above_1cm_frac"] <= SELF_FRAC,
        "kp": None
        if baseline_kp is None
        else m["keypoint_error_mean_m"] <= baseline_kp + KP_SLACK_M,
    }


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("✔" if ok else "✘")


HEADER = [
    "clip",
    "robot",
    "frames",
    "lowest mm",
    ">5 mm",
    "limit viol.",
    "slide mean / p99 / max mm",
    "self >1 cm (max cm)",
    "arm–torso / arm–leg / leg–leg cm",
    "unexplained arm–torso / arm–leg %",
    "kp err cm (hands+feet)",
    "human contacts",
    "solve s",
    "pass",
]


def table_row(r: dict) -> list[str]:
    c = r["checks"]
    return [
        r["clip"],
        r["robot"],
        str(r["frames"]),
        f"{1000 * r['ground_lowest_m']:.1f} {_mark(c['lowest'])}",
        f"{100 * r['ground_frames_below_5mm_frac']:.1f} %",
        f"{int(r['joint_limit_violations'])} {_mark(c['limits'])}",
        f"{r['foot_slide_mean_mm_per_frame']:.2f} / {r['foot_slide_p99_mm_per_frame']:.1f} / "
        f"{r['foot_slide_max_mm_per_frame']:.1f} {_mark(c['slide'])}",
        f"{100 * r['self_penetration_frames_above_1cm_frac']:.1f} % "
        f"({100 * r['self_penetration_max_m']:.1f}) {_mark(c['self'])}",
        " / ".join(
            f"{100 * r.get(f'self_penetration_{g}_max_m', 0.0):.1f}"
            for g in ("arm_torso", "arm_leg", "leg_leg")
        ),
        " / ".join(
            f"{100 * r.get(f'self_penetration_{g}_unexplained_frames_frac', 0.0):.1f}"
            for g in ("arm_torso", "arm_leg")
        ),
        f"{100 * r['keypoint_error_mean_m']:.1f} "
        f"({100 * r['keypoint_error_hands_feet_mean_m']:.1f}) {_mark(c['kp'])}",
        r["contact_parts"],
        f"{r['solve_s']:.0f}",
        "✔" if r["pass"] else "✘",
    ]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(table_row(r)) + " |" for r in rows]
    return "\n".join(lines)


def _baseline(path: str | None) -> dict[tuple[str, str], float]:
    if not path:
        return {}
    payload = json.loads(Path(path).read_text())
    return {
        (Path(r["clip"]).stem, r["robot"]): float(r["keypoint_error_mean_m"])
        for r in payload.get("rows", [])
        if "keypoint_error_mean_m" in r
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--robots", default=",".join(ROBOTS), help="comma-separated robot names or files"
    )
    ap.add_argument("--clips", default="", help="comma-separated substrings of clip file names")
    ap.add_argument("--quick", action="store_true", help=f"G1 only, clips {QUICK_CLIPS}")
    ap.add_argument("--iterations", type=int, default=None)
    ap.add_argument("--baseline", default=None, help="an earlier quality JSON (keypoint error)")
    ap.add_argument(
        "--solver",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a solver setting (repeatable), e.g. still_step_mm=8",
    )
    ap.add_argument("--tag", default="", help="suffix of the result files (quality[_subset]_<tag>)")
    args = ap.parse_args()
    config = solver_config(args.solver)
    if args.iterations is not None:
        config.solver.iterations = args.iterations
    robots = ["unitree_g1"] if args.quick else [r for r in args.robots.split(",") if r]
    wanted = QUICK_CLIPS if args.quick else tuple(c for c in args.clips.split(",") if c)
    clips = [c for c in sample_clips() if not wanted or any(w in c.name for w in wanted)]
    if not clips:
        raise SystemExit(f"no sample clip matches {wanted}")
    baseline = _baseline(args.baseline)
    tag = "_quick" if args.quick else ("_subset" if wanted or len(robots) < len(ROBOTS) else "")
    tag += f"_{args.tag}" if args.tag else ""

    rows = []
    print("| " + " | ".join(HEADER) + " |", flush=True)
    for robot_name in robots:
        robot = load_robot(robot_name)
        for clip in clips:
            release_compiled_programs()  # many robots x clips x shapes: stay under the map cap
            motion = load_motion(clip)
            t0 = time.perf_counter()
            result = retarget(motion, robot, config)
            elapsed = time.perf_counter() - t0
            ref = human_reference(motion, robot, result.num_frames, result.fps, config=config)
            m = compute_metrics(
                result,
                robot,
                targets=ref.targets,
                target_weight=ref.target_weight,
                contact=ref.contact,
                body_contacts=ref.body_contacts,
                human_keypoints=ref.human_keypoints,
                human_keypoint_names=ref.human_keypoint_names,
            )
            spans = ref.body_contacts.spans_by_part()
            row = {
                "clip": clip.stem,
                "robot": robot_name,
                "frames": result.num_frames,
                "fps": result.fps,
                "solve_s": elapsed,
                "contact_parts": ", ".join(p for p in spans if not p.endswith("foot")) or "feet",
                "contact_spans": {p: s for p, s in spans.items()},
                **m,
            }
            row["checks"] = checks(m, baseline.get((clip.stem, robot_name)))
            row["pass"] = all(v for v in row["checks"].values() if v is not None)
            rows.append(row)
            print("| " + " | ".join(table_row(row)) + " |", flush=True)
    md = markdown(rows)
    passed = sum(r["pass"] for r in rows)
    summary = f"{passed} of {len(rows)} clip × robot cases meet every target."
    print()
    print(md)
    print()
    print(summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"quality{tag}.md").write_text(md + "\n\n" + summary + "\n")
    write_result(
        f"quality{tag}.json",
        {
            "rows": rows,
            "summary": summary,
            "targets": {
                "ground_lowest_m": f">= {LOWEST_M}",
                "joint_limit_violations": "== 0",
                "foot_slide_mean_mm_per_frame": f"<= {SLIDE_MEAN_MM}",
                "foot_slide_max_mm_per_frame": f"<= {SLIDE_MAX_MM}",
                "self_penetration_frames_above_1cm_frac": f"<= {SELF_FRAC}",
                "keypoint_error_mean_m": f"<= baseline + {KP_SLACK_M}",
            },
            "config": config.model_dump(),
        },
    )
    print(f"\nwritten to {RESULTS / f'quality{tag}.md'} and .json")


if __name__ == "__main__":
    main()

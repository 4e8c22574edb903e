"""``make demo``: retarget the bundled sample walk onto the bundled Unitree G1.

    python -m retargetjax.demo [output_dir]

Writes ``<output_dir>/meredith_walk_120fps_unitree_g1.npz`` (default ``outputs/demo``) and
its metrics beside it, then prints a verdict against the quality targets and the next
commands to try. The sample is real motion capture of a walk (MIT, from PyMO; licence in
``retargetjax/assets/motions/LICENSE``), recorded in inches at 120 fps: the loader detects
the units and the solver works at 30 fps.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from hydra import compose, initialize_config_dir

from .apps import configs_dir
from .apps._cli import quiet_logs, user_errors
from .apps.retarget import print_summary, run_retarget

__all__ = ["QUALITY_TARGETS", "SAMPLE_CLIP", "SQUAT_CLIP", "QualityTarget", "main", "verdict"]

_MOTIONS = Path(__file__).resolve().parent / "assets" / "motions"
#: The bundled sample walk (MIT licensed, see the LICENSE beside it).
SAMPLE_CLIP = _MOTIONS / "meredith_walk_120fps.bvh"
#: A second bundled sample: a squat (kept under its upstream file name, ``mocapbank_walk``).
SQUAT_CLIP = _MOTIONS / "mocapbank_walk.bvh"


class QualityTarget(NamedTuple):
    """One quality target: ``metric`` must be ``<=`` (or ``>=``) ``bound``."""

    metric: str
    """Key in the metrics JSON."""
    label: str
    """What it measures, in words, with units."""
    op: str
    """``"<="`` or ``">="``."""
    bound: float
    """The target."""

    def passes(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value <= self.bound if self.op == "<=" else value >= self.bound


#: The project's quality targets (the same as ``benchmarks/bench_retarget_quality.py``).
QUALITY_TARGETS = (
    QualityTarget("joint_limit_violations", "joint limit violations", "<=", 0),
    QualityTarget("ground_penetration_max_m", "ground penetration, max (m)", "<=", 0.01),
    QualityTarget("foot_skate_mean_mm_per_frame", "foot skating, mean (mm/frame)", "<=", 1.0),
    QualityTarget("foot_skate_max_mm_per_frame", "foot skating, max (mm/frame)", "<=", 10.0),
    QualityTarget(
        "self_penetration_frames_above_1cm_frac", "frames self-penetrating > 1 cm", "<=", 0.01
    ),
    QualityTarget("keypoint_error_mean_m", "keypoint error, mean (m)", "<=", 0.04),
    QualityTarget("keypoint_error_hands_feet_mean_m", "hands/feet error, mean (m)", "<=", 0.06),
    QualityTarget(
        "joint_velocity_within_limit_frac", "frames within joint speed limits", ">=", 0.999
    ),
)


def verdict(metrics: dict[str, float]) -> tuple[str, bool]:
    """A table of each target (metric, value, target, ✔/✘) and whether all pass."""
    rows = [t for t in QUALITY_TARGETS if t.metric in metrics]
    width = max(len(t.label) for t in rows)
    lines = [f"{'metric':<{width}}  {'value':>9}  {'target':>9}"]
    ok = True
    for target in rows:
        value = float(metrics[target.metric])
        passed = target.passes(value)
        ok &= passed
        mark = "✔" if passed else "✘"
        bound = f"{target.op} {target.bound:g}"
        lines.append(f"{target.label:<{width}}  {value:>9.4g}  {bound:>9}  {mark}")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the demo; returns the retarget summary."""
    argv = sys.argv[1:] if argv is None else argv
    quiet_logs()
    out_dir = Path(argv[0]) if argv else Path("outputs") / "demo"
    output = out_dir / f"{SAMPLE_CLIP.stem}_unitree_g1.npz"
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        cfg = compose(
            config_name="retarget",
            overrides=[f"motion.path={SAMPLE_CLIP}", "robot=unitree_g1", f"output={output}"],
        )
    print(
        f"retargeting {SAMPLE_CLIP.name} (a real mocap walk, 1064 frames at 120 fps, in inches: "
        "the units are detected) onto the Unitree G1 (29 joints)\n"
    )
    with user_errors():
        summary = run_retarget(cfg)
    print()
    print_summary(summary)
    if "metrics" in summary:
        metrics = json.loads(Path(summary["metrics"]).read_text())
        table, ok = verdict(metrics)
        print("\nquality targets:")
        print(table)
        n = sum(t.metric in metrics for t in QUALITY_TARGETS)
        print("all targets met" if ok else f"not every target met ({n} checked)")
    out = summary["output"]
    print(
        "\nnext:\n"
        f"  retargetjax-render input={out} output={out_dir}/walk.mp4     # a video, robot beside"
        " the human\n"
        f"  retargetjax-plot input={out} output={out_dir}/walk.png       # joints, feet, errors\n"
        f"  retargetjax-evaluate input={out} output_dir={out_dir}/eval   # metrics.csv + summary\n"
        f"  retargetjax-retarget motion.path={SQUAT_CLIP} robot=unitree_h1   # a squat, on the H1"
    )
    return summary


if __name__ == "__main__":
    main()

"""Evaluate a set of robot clips: per-clip table (CSV, JSON) and a dataset summary (Markdown).

Inputs are a single output file, a folder of outputs (searched recursively for ``.npz``,
``.csv``, ``.pkl``), or a batch manifest (``manifest.json`` with ``records[].output`` and
``records[].motion``; a folder holding a ``manifest.json`` is read through it). Peers' files
— GMR pickles, BeyondMimic CSVs, mjlab npz — load through :class:`retargetjax.io.RobotMotion`
with ``robot=`` naming the robot, and are graded against the same human targets as
retargetjax's own outputs when the human source is known (``motion=``, the manifest, or the
output's ``metadata["source"]``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._clips import ClipSpec, collect_clips
from ._descriptions import HEADLINE_METRICS, METRIC_DESCRIPTIONS, describe_metric
from ._metrics import MotionEvaluation, evaluate_motion, metric_direction
from ._reference import HumanReference, human_reference, solved_keypoint_override

__all__ = [
    "ClipResult",
    "EvaluationReport",
    "evaluate_clip",
    "evaluate_outputs",
    "summarize",
]

#: Columns that describe a row rather than hold a metric.
ID_COLUMNS = (
    "clip",
    "status",
    "output",
    "format",
    "robot",
    "source",
    "frames",
    "fps",
    "duration_s",
    "contact_source",
    "contact_spans",
    "error",
)


@dataclasses.dataclass
class ClipResult:
    """A row of the report, plus the evaluation behind it (``None`` when the clip failed)."""

    row: dict[str, Any]
    evaluation: MotionEvaluation | None = None
    reference: HumanReference | None = None
    motion: Any = None
    robot: Any = None


@dataclasses.dataclass
class EvaluationReport:
    """All rows of an evaluation and the dataset summary."""

    rows: list[dict[str, Any]]
    summary: dict[str, dict[str, Any]]
    files: dict[str, str] = dataclasses.field(default_factory=dict)


class _Cache:
    """Robots and human references shared by the clips of one run."""

    def __init__(self) -> None:
        self.robots: dict[str, Any] = {}
        self.references: dict[tuple, HumanReference] = {}

    def robot(self, name: str) -> Any:
        if name not in self.robots:
            from ..robot import load_robot

            self.robots[name] = load_robot(name)
        return self.robots[name]

    def reference(
        self, source: Path, robot: Any, frames: int, fps: float, override: Any = None
    ) -> HumanReference:
        key = (str(source), robot.name, frames, round(fps, 6), repr(override))
        if key not in self.references:
            self.references[key] = human_reference(
                source, robot, frames, fps, keypoint_override=override
            )
        return self.references[key]


def _source_of(spec: ClipSpec, motion: Any) -> Path | None:
    if spec.motion is not None:
        return spec.motion
    source = motion.metadata.get("source") if isinstance(motion.metadata, dict) else None
    if source and Path(str(source)).is_file():
        return Path(str(source))
    return None


def evaluate_clip(
    spec: ClipSpec,
    *,
    robot: str | None = None,
    fps: float | None = None,
    cache: _Cache | None = None,
) -> ClipResult:
    """Load and grade one clip; a failure becomes a row with ``status = "failed"``."""
    from ..io import RobotMotion

    cache = cache or _Cache()
    row: dict[str, Any] = {
        "clip": spec.clip or spec.output.stem,
        "status": "failed",
        "output": str(spec.output),
        "format": spec.output.suffix.lower().lstrip("."),
    }
    try:
        motion = RobotMotion.load(spec.output, robot=robot, fps=fps)
        robot_name = robot or motion.robot
        if not robot_name or robot_name == "unknown":
            raise ValueError(
                f"{spec.output}: the file does not name its robot; pass robot=NAME or a path"
            )
        model = cache.robot(robot_name)
        source = _source_of(spec, motion)
        reference = None
        if source is not None:
            reference = cache.reference(
                source,
                model,
                motion.num_frames,
                motion.fps,
                solved_keypoint_override(motion.metadata),
            )
        evaluation = evaluate_motion(
            motion,
            model,
            targets=None if reference is None else reference.targets,
            target_weight=None if reference is None else reference.target_weight,
            contact=None if reference is None else reference.contact,
            body_contacts=None if reference is None else reference.body_contacts,
            human_keypoints=None if reference is None else reference.human_keypoints,
            human_keypoint_names=None if reference is None else reference.human_keypoint_names,
        )
        row.update(
            status="ok",
            robot=model.name,
            source="" if source is None else str(source),
            frames=motion.num_frames,
            fps=motion.fps,
            duration_s=motion.duration_s,
            contact_source="human" if reference is not None else evaluation.contact_source,
            contact_spans=""
            if reference is None or reference.body_contacts is None
            else reference.body_contacts.describe(),
            error="",
        )
        row.update(evaluation.metrics)
        return ClipResult(row, evaluation, reference, motion, model)
    except Exception as err:  # one bad clip must not stop a dataset report
        row["error"] = f"{type(err).__name__}: {err}"
        row["traceback"] = traceback.format_exc(limit=3)
        return ClipResult(row)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per metric over the clips that succeeded: mean, median, p95, max, and the worst clip.

    "Worst" follows :func:`metric_direction` (largest value for lower-is-better metrics,
    smallest for higher-is-better ones; none for informational metrics).
    """
    ok = [r for r in rows if r.get("status") == "ok"]
    names: list[str] = []
    for r in ok:
        names.extend(k for k in r if k not in ID_COLUMNS and k not in names and k != "traceback")
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        pairs = [(r[name], r["clip"]) for r in ok if isinstance(r.get(name), (int, float))]
        if not pairs:
            continue
        values = np.asarray([v for v, _ in pairs], np.float64)
        direction = metric_direction(name)
        worst = ""
        if direction != 0:
            i = int(np.argmax(values) if direction < 0 else np.argmin(values))
            worst = pairs[i][1]
        out[name] = {
            "clips": len(values),
            "mean": float(values.mean()),
            "median": float(np.median(values)),
            "p95": float(np.percentile(values, 95)),
            "max": float(values.max()),
            "min": float(values.min()),
            "worst_clip": worst,
            "direction": direction,
        }
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or (math.isfinite(value) and 1e-3 <= abs(value) < 1e5):
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _summary_markdown(rows: Sequence[dict[str, Any]], summary: dict, title: str) -> str:
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    parts = [
        f"# {title}",
        "",
        f"{len(rows)} clips: {len(ok)} evaluated, {len(failed)} failed. "
        f"Robots: {', '.join(sorted({str(r.get('robot')) for r in ok})) or '-'}. "
        f"Frames: {sum(int(r.get('frames', 0)) for r in ok)}.",
        "",
    ]
    no_targets = [r["clip"] for r in ok if "keypoint_error_mean_m" not in r]
    if no_targets:
        parts += [
            f"No human source for {len(no_targets)} clip(s) (no keypoint error; contacts from "
            f"the robot's feet): {', '.join(no_targets[:10])}"
            + (" …" if len(no_targets) > 10 else ""),
            "",
        ]
    headline = [m for m in HEADLINE_METRICS if m in summary]
    if headline:
        parts += ["## Dataset summary", ""]
        table = [
            [
                m,
                "lower" if summary[m]["direction"] < 0 else "higher",
                summary[m]["mean"],
                summary[m]["median"],
                summary[m]["p95"],
                summary[m]["max"],
                summary[m]["worst_clip"],
            ]
            for m in headline
        ]
        parts += [
            _markdown_table(
                ["metric", "better", "mean", "median", "p95", "max", "worst clip"], table
            ),
            "",
        ]
    if ok and headline:
        parts += ["## Per clip", ""]
        short = headline[:7]
        parts += [
            _markdown_table(
                ["clip", "frames", *short],
                [[r["clip"], r["frames"]] + [r.get(m, "") for m in short] for r in ok],
            ),
            "",
        ]
    if failed:
        parts += ["## Failed", ""]
        parts += [f"- `{r['clip']}` ({r['output']}): {r.get('error', '')}" for r in failed]
        parts += [""]
    defined = [m for m in summary if m in METRIC_DESCRIPTIONS]
    if defined:
        parts += ["## Definitions", ""]
        parts += [f"- `{m}`: {describe_metric(m)}" for m in defined]
        parts += [
            "",
            "Exact formulas: the docstrings of `retargetjax.evaluation` (one module per metric "
            "family).",
            "",
        ]
    return "\n".join(parts)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = [c for c in ID_COLUMNS]
    for r in rows:
        for k in r:
            if k not in columns and k != "traceback":
                columns.append(k)
    return columns


def _write_text(path: Path, text: str) -> None:
    from ..io import atomic_write

    with atomic_write(path, "w") as handle:
        handle.write(text)


def write_report(
    rows: Sequence[dict[str, Any]], output_dir: str | os.PathLike[str], *, title: str
) -> EvaluationReport:
    """Write ``metrics.csv``, ``metrics.json`` and ``summary.md`` into ``output_dir`` (atomic)."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows)
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k, "") for k in columns})
    _write_text(out / "metrics.csv", buffer.getvalue())
    payload = {"title": title, "columns": columns, "clips": list(rows), "summary": summary}
    _write_text(out / "metrics.json", json.dumps(payload, indent=2, default=str))
    _write_text(out / "summary.md", _summary_markdown(rows, summary, title))
    files = {k: str(out / k) for k in ("metrics.csv", "metrics.json", "summary.md")}
    return EvaluationReport(rows=list(rows), summary=summary, files=files)


def evaluate_outputs(
    input: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    robot: str | None = None,
    motion: str | None = None,
    fps: float | None = None,
    plots: bool = False,
    title: str | None = None,
) -> EvaluationReport:
    """Grade every clip under ``input`` and write the report into ``output_dir``.

    Args:
        input: a clip file, a folder of clips, or a batch manifest.
        output_dir: where ``metrics.csv``, ``metrics.json``, ``summary.md`` (and ``plots/``)
            go.
        robot: robot name or file for clips that do not name theirs (CSV, GMR pickle,
            mjlab npz); overrides the clip's own name when given.
        motion: the human source for clips that have none in the manifest or metadata.
        fps: frame rate of CSV clips (they store none; default 30).
        plots: also write ``plots/<clip>.png`` per clip (:func:`plot_clip`).
        title: heading of ``summary.md``.
    """
    specs = collect_clips(input, motion)
    cache = _Cache()
    rows = []
    out = Path(output_dir)
    for spec in specs:
        result = evaluate_clip(spec, robot=robot, fps=fps, cache=cache)
        if plots and result.evaluation is not None:
            from ._plots import plot_clip

            name = str(result.row["clip"]).replace(os.sep, "__")
            try:
                plot_clip(
                    result.evaluation,
                    result.robot,
                    out / "plots" / f"{name}.png",
                    fps=result.motion.fps,
                    title=str(result.row["clip"]),
                )
                result.row["plot"] = str(out / "plots" / f"{name}.png")
            except Exception as err:  # a plot failure must not lose the metrics
                result.row["plot"] = f"failed: {type(err).__name__}: {err}"
        rows.append(result.row)
    return write_report(rows, output_dir, title=title or f"Evaluation of {input}")

"""Evaluation: is this retargeting good? Metrics, reports, comparisons, plots and renders.

:func:`compute_metrics` grades one ``RobotMotion`` on its robot: keypoint error against the
scaled human targets (raw and Procrustes-aligned), foot skating (sole centre and every
material point of the feet), ground penetration of every collision primitive,
self-penetration (overall and per pair group: arm–torso, arm–leg, leg–leg, ...), how still
planted hands/elbows/knees are held, joint position/velocity limit violations, jitter and
floating. Each metric family is a pure function of arrays in its own module, with its exact
definition in its docstring; forward kinematics runs once per clip in JAX.

:func:`evaluate_outputs` grades a file, a folder or a batch manifest into ``metrics.csv``,
``metrics.json`` and ``summary.md`` (peers' GMR pickles, BeyondMimic CSVs and mjlab npz
included, against the same human targets); :func:`compare_reports` compares two such
folders; :func:`plot_clip` draws a clip's diagnostic PNG and :func:`render_motion` a GIF/MP4
of the robot beside the human.
"""

from ._body_groups import PAIR_GROUPS as PAIR_GROUPS
from ._body_groups import capsule_limbs as capsule_limbs
from ._body_groups import foot_capsules as foot_capsules
from ._body_groups import pair_groups as pair_groups
from ._body_groups import part_capsules as part_capsules
from ._clips import ClipSpec as ClipSpec
from ._clips import collect_clips as collect_clips
from ._compare import Comparison as Comparison
from ._compare import compare_reports as compare_reports
from ._compare import load_report as load_report
from ._compare import which_is_better as which_is_better
from ._contacts import align_contact as align_contact
from ._contacts import body_contact_metrics as body_contact_metrics
from ._contacts import resolve_contact as resolve_contact
from ._contacts import robot_foot_contact as robot_foot_contact
from ._descriptions import HEADLINE_METRICS as HEADLINE_METRICS
from ._descriptions import METRIC_DESCRIPTIONS as METRIC_DESCRIPTIONS
from ._descriptions import describe_metric as describe_metric
from ._floating import floating_frames as floating_frames
from ._floating import floating_metrics as floating_metrics
from ._geometry import MotionGeometry as MotionGeometry
from ._geometry import motion_geometry as motion_geometry
from ._ground import ground_depth as ground_depth
from ._ground import ground_penetration_metrics as ground_penetration_metrics
from ._jitter import jitter_metrics as jitter_metrics
from ._jitter import root_angular_acceleration as root_angular_acceleration
from ._keypoint_error import keypoint_error_metrics as keypoint_error_metrics
from ._keypoint_error import keypoint_errors as keypoint_errors
from ._keypoint_error import procrustes_align as procrustes_align
from ._limits import joint_limit_metrics as joint_limit_metrics
from ._limits import joint_speed as joint_speed
from ._metrics import INFORMATIONAL_METRICS as INFORMATIONAL_METRICS
from ._metrics import MotionEvaluation as MotionEvaluation
from ._metrics import compute_metrics as compute_metrics
from ._metrics import evaluate_motion as evaluate_motion
from ._metrics import metric_direction as metric_direction
from ._plots import plot_clip as plot_clip
from ._primitives import box_corners as box_corners
from ._primitives import box_rails as box_rails
from ._primitives import foot_material_points as foot_material_points
from ._primitives import primitive_bottom_z as primitive_bottom_z
from ._reference import HumanReference as HumanReference
from ._reference import human_reference as human_reference
from ._reference import solved_keypoint_override as solved_keypoint_override
from ._render import HUMAN_BONES as HUMAN_BONES
from ._render import RenderResult as RenderResult
from ._render import ffmpeg_path as ffmpeg_path
from ._render import render_motion as render_motion
from ._report import ClipResult as ClipResult
from ._report import EvaluationReport as EvaluationReport
from ._report import evaluate_clip as evaluate_clip
from ._report import evaluate_outputs as evaluate_outputs
from ._report import summarize as summarize
from ._report import write_report as write_report
from ._self_collision import human_limb_clearance as human_limb_clearance
from ._self_collision import self_penetration_group_metrics as self_penetration_group_metrics
from ._self_collision import self_penetration_metrics as self_penetration_metrics
from ._skating import foot_skate_metrics as foot_skate_metrics
from ._skating import foot_slide_metrics as foot_slide_metrics
from ._skating import foot_slide_steps_mm as foot_slide_steps_mm
from ._skating import sole_material_points as sole_material_points
from ._skating import sole_slide_mm as sole_slide_mm

__all__ = [
    "HEADLINE_METRICS",
    "HUMAN_BONES",
    "INFORMATIONAL_METRICS",
    "METRIC_DESCRIPTIONS",
    "PAIR_GROUPS",
    "ClipResult",
    "ClipSpec",
    "Comparison",
    "EvaluationReport",
    "HumanReference",
    "MotionEvaluation",
    "MotionGeometry",
    "RenderResult",
    "align_contact",
    "body_contact_metrics",
    "box_corners",
    "box_rails",
    "capsule_limbs",
    "collect_clips",
    "compare_reports",
    "compute_metrics",
    "describe_metric",
    "evaluate_clip",
    "evaluate_motion",
    "evaluate_outputs",
    "ffmpeg_path",
    "floating_frames",
    "floating_metrics",
    "foot_capsules",
    "foot_material_points",
    "foot_skate_metrics",
    "foot_slide_metrics",
    "foot_slide_steps_mm",
    "ground_depth",
    "ground_penetration_metrics",
    "human_limb_clearance",
    "human_reference",
    "jitter_metrics",
    "joint_limit_metrics",
    "joint_speed",
    "keypoint_error_metrics",
    "keypoint_errors",
    "load_report",
    "metric_direction",
    "motion_geometry",
    "pair_groups",
    "part_capsules",
    "plot_clip",
    "primitive_bottom_z",
    "procrustes_align",
    "render_motion",
    "resolve_contact",
    "robot_foot_contact",
    "root_angular_acceleration",
    "self_penetration_group_metrics",
    "self_penetration_metrics",
    "sole_material_points",
    "sole_slide_mm",
    "solved_keypoint_override",
    "summarize",
    "which_is_better",
    "write_report",
]

"""Evaluation: is this retargeting good? Metrics, reports, comparisons, plots and renders.

:func:`compute_metrics` grades one ``RobotMotion`` on its robot: keypoint error against the
scaled human targets (raw and Procrustes-aligned), foot skating, ground penetration,
self-penetration, joint position/velocity limit violations, jitter and floating. Each metric
family is a pure function of arrays in its own module, with its exact definition in its
docstring; forward kinematics runs once per clip in JAX.
"""

from ._contacts import align_contact as align_contact
from ._contacts import resolve_contact as resolve_contact
from ._contacts import robot_foot_contact as robot_foot_contact
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
from ._self_collision import self_penetration_metrics as self_penetration_metrics
from ._skating import foot_skate_metrics as foot_skate_metrics
from ._skating import sole_slide_mm as sole_slide_mm

__all__ = [
    "INFORMATIONAL_METRICS",
    "MotionEvaluation",
    "MotionGeometry",
    "align_contact",
    "compute_metrics",
    "evaluate_motion",
    "floating_frames",
    "floating_metrics",
    "foot_skate_metrics",
    "ground_depth",
    "ground_penetration_metrics",
    "jitter_metrics",
    "joint_limit_metrics",
    "joint_speed",
    "keypoint_error_metrics",
    "keypoint_errors",
    "metric_direction",
    "motion_geometry",
    "procrustes_align",
    "resolve_contact",
    "robot_foot_contact",
    "root_angular_acceleration",
    "self_penetration_metrics",
    "sole_slide_mm",
]

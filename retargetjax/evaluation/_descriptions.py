"""One-line definitions of the metrics, for reports (the exact math is in each function)."""

from __future__ import annotations

__all__ = ["HEADLINE_METRICS", "METRIC_DESCRIPTIONS", "describe_metric"]

METRIC_DESCRIPTIONS: dict[str, str] = {
    "keypoint_error_mean_m": (
        "mean distance robot keypoint ↔ scaled human target (tracked keypoints)"
    ),
    "keypoint_error_p95_m": "95th percentile of those distances over all frames and keypoints",
    "keypoint_error_max_m": "largest keypoint distance",
    "keypoint_error_hands_feet_mean_m": "mean keypoint distance over ankles, toes, wrists, hands",
    "keypoint_error_procrustes_mean_m": (
        "mean keypoint distance after per-frame rigid (Kabsch) alignment"
    ),
    "foot_skate_mean_mm_per_frame": (
        "mean horizontal sole-centre speed while the human foot is planted (mm per 30 fps frame)"
    ),
    "foot_skate_max_mm_per_frame": "largest such speed",
    "foot_skate_frac_above_1mm": (
        "fraction of planted steps sliding more than 1 mm per 30 fps frame"
    ),
    "foot_contact_steps": "number of (step, foot) pairs planted at both ends",
    "foot_slide_mean_mm_per_frame": (
        "mean horizontal step of foot material points (capsule ends, box corners) within 1 cm "
        "of the floor at both ends of a step while the human foot is down (mm per 30 fps frame)"
    ),
    "foot_slide_p99_mm_per_frame": "99th percentile of those steps",
    "foot_slide_max_mm_per_frame": "largest such step (target ≤ 10)",
    "foot_slide_frac_above_1cm": "fraction of those steps longer than 1 cm",
    "foot_slide_points": "number of (step, material point) pairs scored",
    "ground_penetration_max_m": "deepest point of any collision primitive below z = 0",
    "ground_penetration_mean_m": "mean over frames of that depth",
    "ground_frames_below_1cm_frac": "fraction of frames deeper than 1 cm",
    "ground_frames_below_5mm_frac": "fraction of frames deeper than 5 mm",
    "ground_lowest_m": "lowest point of any collision primitive over the clip (signed, m)",
    "ground_penetration_max_arm_m": "deepest point of an arm/hand primitive below z = 0",
    "ground_penetration_max_leg_m": "deepest point of a leg/foot primitive below z = 0",
    "ground_penetration_max_torso_m": "deepest point of a pelvis/torso/head primitive below z = 0",
    "body_contact_slide_mean_mm_per_frame": (
        "mean horizontal step of a robot hand/elbow/knee while the human's is planted "
        "(mm per 30 fps frame)"
    ),
    "body_contact_slide_max_mm_per_frame": "largest such step",
    "body_contact_steps": "number of (step, part) pairs with a planted hand, elbow or knee",
    "body_contact_parts": "number of body parts the human puts down at least once",
    "self_penetration_max_m": "deepest overlap of two non-adjacent collision capsules",
    "self_penetration_p99_m": "99th percentile over frames of the per-frame deepest overlap",
    "self_penetration_frames_above_1cm_frac": "fraction of frames overlapping more than 1 cm",
    "joint_limit_violations": "count of (frame, joint) outside the position limits by > 1e-6 rad",
    "joint_limit_worst_rad": "largest excursion beyond a position limit",
    "joint_velocity_violations": "count of (frame, joint) faster than the velocity limit",
    "joint_velocity_within_limit_frac": (
        "fraction of frames with every joint within its velocity limit"
    ),
    "joint_velocity_worst_ratio": "largest joint speed ÷ its limit (0 when no limits are known)",
    "joint_speed_max_rad_s": "largest joint speed",
    "joint_acc_mean_rad_s2": "mean |joint acceleration| (second difference × fps²)",
    "joint_acc_p99_rad_s2": "99th percentile of |joint acceleration|",
    "joint_jerk_mean_rad_s3": "mean |joint jerk| (third difference × fps³)",
    "joint_jerk_p99_rad_s3": "99th percentile of |joint jerk|",
    "root_lin_acc_mean_m_s2": "mean root linear acceleration magnitude",
    "root_ang_acc_mean_rad_s2": "mean root angular acceleration magnitude",
    "floating_frames_frac": (
        "fraction of human-contact frames with no robot sole point within 2 cm of the floor"
    ),
    "floating_frames": "number of such frames",
    "contact_from_human": "1 if contacts are the human's, 0 if estimated from the robot's feet",
}

#: The metrics a summary leads with.
HEADLINE_METRICS: tuple[str, ...] = (
    "keypoint_error_mean_m",
    "keypoint_error_hands_feet_mean_m",
    "keypoint_error_procrustes_mean_m",
    "foot_skate_mean_mm_per_frame",
    "foot_skate_frac_above_1mm",
    "ground_penetration_max_m",
    "self_penetration_max_m",
    "joint_limit_violations",
    "joint_velocity_within_limit_frac",
    "joint_acc_p99_rad_s2",
    "floating_frames_frac",
    "foot_slide_max_mm_per_frame",
    "ground_frames_below_5mm_frac",
)


def describe_metric(name: str) -> str:
    """One-line definition of metric ``name`` (per-keypoint errors included)."""
    if name in METRIC_DESCRIPTIONS:
        return METRIC_DESCRIPTIONS[name]
    if name.startswith("self_penetration_") and name.endswith("_max_m"):
        group = name[len("self_penetration_") : -len("_max_m")]
        return f"deepest overlap between capsules of the {group.replace('_', '–')} pair group"
    if name.startswith("self_penetration_") and name.endswith("_unexplained_frames_frac"):
        group = name[len("self_penetration_") : -len("_unexplained_frames_frac")]
        return (
            f"fraction of frames where the robot's {group.replace('_', '–')} group overlaps "
            "> 1 cm while the human's limbs there are apart"
        )
    if name.startswith("self_penetration_") and name.endswith("_frames_above_1cm_frac"):
        group = name[len("self_penetration_") : -len("_frames_above_1cm_frac")]
        return f"fraction of frames where the {group.replace('_', '–')} group overlaps > 1 cm"
    if name.startswith("keypoint_error_") and name.endswith("_m"):
        return f"mean distance of keypoint {name[len('keypoint_error_') : -2]!r} to its target"
    return ""

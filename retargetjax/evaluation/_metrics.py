"""``compute_metrics``: every metric family on one robot clip, as one flat dict."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ..types import NDArray
from ._body_groups import PAIR_GROUPS, capsule_limbs, foot_capsules, pair_groups
from ._contacts import body_contact_metrics, resolve_contact
from ._floating import floating_metrics
from ._geometry import MotionGeometry, motion_geometry, robot_joint_columns
from ._ground import ground_penetration_metrics
from ._jitter import jitter_metrics
from ._keypoint_error import keypoint_error_metrics, keypoint_errors
from ._limits import joint_limit_metrics
from ._primitives import foot_material_points, primitive_bottom_z
from ._self_collision import (
    human_limb_clearance,
    self_penetration_group_metrics,
    self_penetration_metrics,
)
from ._skating import foot_skate_metrics, foot_slide_metrics

__all__ = [
    "INFORMATIONAL_METRICS",
    "MotionEvaluation",
    "compute_metrics",
    "evaluate_motion",
    "metric_direction",
]

#: Metrics that describe the clip rather than grade it (no "better" direction).
INFORMATIONAL_METRICS = frozenset(
    {
        "foot_contact_steps",
        "foot_slide_points",
        "body_contact_steps",
        "body_contact_parts",
        "contact_from_human",
        "joint_speed_max_rad_s",
        "floating_frames",
    }
)


def metric_direction(name: str) -> int:
    """``+1`` if a larger value of metric ``name`` is better, ``−1`` if smaller, ``0`` if neither.

    Every error, violation, penetration, skating, jitter and floating metric is better lower;
    ``*_within_limit_frac`` and ``ground_lowest_m`` (a signed height) are better higher;
    :data:`INFORMATIONAL_METRICS` have no direction.
    """
    if name in INFORMATIONAL_METRICS:
        return 0
    if name.endswith("_within_limit_frac") or name == "ground_lowest_m":
        return 1
    return -1


def _geometry_metrics(
    geometry: MotionGeometry,
    robot: Any,
    contact: NDArray,
    fps: float,
    human_clearance: dict[str, NDArray] | None = None,
) -> dict[str, float]:
    """Ground, foot-slide and per-group self-penetration metrics from the capsules."""
    out: dict[str, float] = {}
    limbs = capsule_limbs(robot) if robot.capsule_body else None
    # Boxes are judged by their corners, not by the capsule rails inside them.
    out.update(ground_penetration_metrics(primitive_bottom_z(geometry, robot), limbs))
    if geometry.capsule_p0 is None or geometry.capsule_p1 is None:
        return out
    feet = foot_material_points(geometry, robot, foot_capsules(robot))
    out.update(foot_slide_metrics(feet, contact, fps))
    if geometry.pair_penetration is not None:
        out.update(
            self_penetration_group_metrics(
                geometry.pair_penetration, pair_groups(robot), PAIR_GROUPS, human_clearance
            )
        )
    return out


@dataclasses.dataclass(frozen=True)
class MotionEvaluation:
    """Metrics of one clip with the per-frame series behind them (for plots and reports)."""

    #: Flat ``{name: value}`` (see :func:`compute_metrics`).
    metrics: dict[str, float]
    #: Robot geometry per frame (keypoints, soles, capsule bottoms, self-penetration).
    geometry: MotionGeometry
    #: (T, N) joint angles in ``robot.joint_names`` order.
    joint_pos: NDArray
    #: (T, 2) bool contacts used, and where they came from: given, metadata or robot.
    contact: NDArray
    contact_source: str
    #: (T, K) keypoint errors (m) against the targets, or ``None`` without targets.
    keypoint_error: NDArray | None
    #: (K,) bool: keypoints with a positive target weight, or ``None`` without targets.
    keypoint_tracked: NDArray | None


def _resolve_robot(robot: Any) -> Any:
    if isinstance(robot, (str, os.PathLike)):
        from ..robot import load_robot

        return load_robot(robot)
    return robot


def evaluate_motion(
    motion: Any,
    robot: Any,
    *,
    targets: NDArray | None = None,
    target_weight: NDArray | None = None,
    contact: NDArray | None = None,
    velocity_limit: NDArray | None = None,
    body_contacts: Any = None,
    human_keypoints: NDArray | None = None,
    human_keypoint_names: tuple[str, ...] | None = None,
) -> MotionEvaluation:
    """All metrics of ``motion`` on ``robot`` plus the per-frame series; see
    :func:`compute_metrics` for the arguments and the metrics."""
    robot = _resolve_robot(robot)
    geometry = motion_geometry(motion, robot)
    columns = robot_joint_columns(motion.joint_names, robot)
    joint_pos = np.asarray(motion.joint_pos, np.float32)[:, columns]
    fps = float(motion.fps)
    contact_used, source = resolve_contact(motion, geometry.sole_points, contact)

    vmax = robot.velocity_limit if velocity_limit is None else velocity_limit
    metrics: dict[str, float] = {}
    metrics.update(
        joint_limit_metrics(
            joint_pos, np.asarray(robot.joint_lower), np.asarray(robot.joint_upper), fps, vmax
        )
    )
    metrics.update(foot_skate_metrics(geometry.sole_points, contact_used, fps))
    clearance = None
    if human_keypoints is not None and human_keypoint_names is not None:
        human = np.asarray(human_keypoints, np.float64)
        if human.shape[0] != geometry.keypoints.shape[0]:
            raise ValueError(
                f"human_keypoints: expected {geometry.keypoints.shape[0]} frames (the clip's), "
                f"got {human.shape[0]}"
            )
        clearance = human_limb_clearance(human, tuple(human_keypoint_names))
    metrics.update(_geometry_metrics(geometry, robot, contact_used, fps, clearance))
    metrics.update(self_penetration_metrics(geometry.self_penetration))
    metrics.update(jitter_metrics(joint_pos, motion.root_pos, motion.root_quat, fps))
    if source == "robot":
        # With the robot's own contacts, "no foot near the floor while in contact" is empty by
        # construction; report 0 and flag the source instead.
        metrics.update({"floating_frames_frac": 0.0, "floating_frames": 0.0})
    else:
        metrics.update(floating_metrics(geometry.sole_points, contact_used))
    metrics["contact_from_human"] = 0.0 if source == "robot" else 1.0
    if body_contacts is not None:
        if body_contacts.num_frames != geometry.keypoints.shape[0]:
            raise ValueError(
                f"body_contacts: expected {geometry.keypoints.shape[0]} frames (the clip's), "
                f"got {body_contacts.num_frames}"
            )
        metrics.update(
            body_contact_metrics(geometry.keypoints, robot.keypoint_names, body_contacts, fps)
        )

    kp_error = tracked = None
    if targets is not None:
        targets = np.asarray(targets, np.float64)
        expected = geometry.keypoints.shape
        if targets.shape != expected:
            raise ValueError(
                f"targets: expected shape {expected} (frames, robot.keypoint_names, 3), "
                f"got {targets.shape}"
            )
        metrics.update(
            keypoint_error_metrics(geometry.keypoints, targets, robot.keypoint_names, target_weight)
        )
        kp_error = keypoint_errors(geometry.keypoints, targets)
        w = np.ones(len(robot.keypoint_names)) if target_weight is None else target_weight
        tracked = np.asarray(w) > 0
    return MotionEvaluation(
        metrics=metrics,
        geometry=geometry,
        joint_pos=joint_pos,
        contact=contact_used,
        contact_source=source,
        keypoint_error=kp_error,
        keypoint_tracked=tracked,
    )


def compute_metrics(
    motion: Any,
    robot: Any,
    *,
    targets: NDArray | None = None,
    target_weight: NDArray | None = None,
    contact: NDArray | None = None,
    velocity_limit: NDArray | None = None,
    body_contacts: Any = None,
    human_keypoints: NDArray | None = None,
    human_keypoint_names: tuple[str, ...] | None = None,
) -> dict[str, float]:
    """Every quality metric of a robot clip, as a flat ``{name: float}`` (units in the names).

    Args:
        motion: a ``RobotMotion``; its joint columns are matched to the robot's by name.
        robot: a ``RobotModel`` or a name/path for :func:`retargetjax.robot.load_robot`.
        targets: (T, K, 3) scaled human keypoint targets in ``robot.keypoint_names`` order
            (e.g. ``prepare_problem(...).target_keypoints``); adds the ``keypoint_error_*``
            metrics.
        target_weight: (K,) keypoint weights; keypoints with weight 0 are not scored.
        contact: (T, 2) human foot contacts ``[left, right]``; defaults to
            ``motion.metadata["contact"]``, else the robot's own feet (see
            :func:`retargetjax.evaluation.robot_foot_contact`).
        velocity_limit: (N,) joint speed limits (rad/s) to use instead of the robot's.
        body_contacts: the human's :class:`retargetjax.motion.BodyContacts` at the clip's
            frames; adds the ``body_contact_*`` metrics.
        human_keypoints: (T, J, 3) the human's canonical keypoints at the clip's frames (its
            own size), named ``human_keypoint_names``; adds
            ``self_penetration_<group>_unexplained_frames_frac`` (robot limbs overlapping
            where the human's are apart, :func:`human_limb_clearance`).

    Families (each defined exactly in its function's docstring):

    - joint limits — :func:`joint_limit_metrics`: ``joint_limit_violations``,
      ``joint_limit_worst_rad``, ``joint_velocity_violations``,
      ``joint_velocity_within_limit_frac``, ``joint_velocity_worst_ratio``,
      ``joint_speed_max_rad_s``;
    - ground — :func:`ground_penetration_metrics` over every collision primitive (boxes by
      their corners, :func:`retargetjax.evaluation.primitive_bottom_z`):
      ``ground_penetration_max_m``, ``ground_penetration_mean_m``,
      ``ground_frames_below_1cm_frac``, ``ground_frames_below_5mm_frac``,
      ``ground_lowest_m``, ``ground_penetration_max_{arm,leg,torso}_m``;
    - skating — :func:`foot_skate_metrics`: ``foot_skate_mean_mm_per_frame``,
      ``foot_skate_max_mm_per_frame``, ``foot_skate_frac_above_1mm``, ``foot_contact_steps``;
      and per material point of the feet (box corners, capsule ends;
      :func:`retargetjax.evaluation.foot_material_points`), :func:`foot_slide_metrics`:
      ``foot_slide_mean_mm_per_frame``, ``foot_slide_p99_mm_per_frame``,
      ``foot_slide_max_mm_per_frame``, ``foot_slide_frac_above_1cm``, ``foot_slide_points``;
    - self-penetration — :func:`self_penetration_metrics`: ``self_penetration_max_m``,
      ``self_penetration_p99_m``, ``self_penetration_frames_above_1cm_frac``; per pair group
      (:func:`self_penetration_group_metrics`, groups ``arm_arm``, ``arm_leg``,
      ``arm_torso``, ``leg_leg``, ``leg_torso``, ``torso_torso``):
      ``self_penetration_<group>_max_m``, ``self_penetration_<group>_frames_above_1cm_frac``
      (and ``self_penetration_<group>_unexplained_frames_frac`` with ``human_keypoints``);
    - planted body parts (with ``body_contacts``) — :func:`body_contact_metrics`:
      ``body_contact_slide_mean_mm_per_frame``, ``body_contact_slide_max_mm_per_frame``,
      ``body_contact_steps``, ``body_contact_parts``;
    - jitter — :func:`jitter_metrics`: ``joint_acc_mean_rad_s2``, ``joint_acc_p99_rad_s2``,
      ``joint_jerk_mean_rad_s3``, ``joint_jerk_p99_rad_s3``, ``root_lin_acc_mean_m_s2``,
      ``root_ang_acc_mean_rad_s2``;
    - floating — :func:`floating_metrics`: ``floating_frames_frac``, ``floating_frames``
      (0 when the contacts are the robot's own);
    - ``contact_from_human``: 1 when the contacts came from the human (argument or
      metadata), 0 when from the robot's feet;
    - keypoints (with ``targets``) — :func:`keypoint_error_metrics`:
      ``keypoint_error_mean_m``, ``keypoint_error_p95_m``, ``keypoint_error_max_m``,
      ``keypoint_error_hands_feet_mean_m``, ``keypoint_error_procrustes_mean_m``,
      ``keypoint_error_<name>_m``.

    Forward kinematics runs once per clip in JAX (jitted per robot topology and padded length
    bucket); the reductions are numpy float64. All values are finite.
    """
    return evaluate_motion(
        motion,
        robot,
        targets=targets,
        target_weight=target_weight,
        contact=contact,
        velocity_limit=velocity_limit,
        body_contacts=body_contacts,
        human_keypoints=human_keypoints,
        human_keypoint_names=human_keypoint_names,
    ).metrics

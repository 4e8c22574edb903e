"""Self-penetration reductions over frames."""

import numpy as np
import pytest

from retargetjax.evaluation import self_penetration_metrics


def test_max_p99_and_fraction():
    depth = np.zeros(100)
    depth[10] = 0.05
    depth[20:23] = 0.02
    m = self_penetration_metrics(depth)
    assert m["self_penetration_max_m"] == pytest.approx(0.05)
    assert m["self_penetration_frames_above_1cm_frac"] == pytest.approx(0.04)
    assert m["self_penetration_p99_m"] == pytest.approx(np.percentile(depth, 99))
    assert 0.02 <= m["self_penetration_p99_m"] <= 0.05


def test_empty_is_zero():
    assert self_penetration_metrics(np.zeros(0))["self_penetration_max_m"] == 0.0


def test_per_group_max_and_fraction():
    from retargetjax.evaluation import self_penetration_group_metrics

    depth = np.array([[0.0, 0.02, 0.0], [0.005, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.015, 0.0]])
    groups = ("arm_torso", "arm_leg", "arm_leg")
    m = self_penetration_group_metrics(depth, groups, ("arm_torso", "arm_leg", "leg_leg"))
    assert m["self_penetration_arm_torso_max_m"] == pytest.approx(0.005)
    assert m["self_penetration_arm_torso_frames_above_1cm_frac"] == 0.0
    assert m["self_penetration_arm_leg_max_m"] == pytest.approx(0.02)
    assert m["self_penetration_arm_leg_frames_above_1cm_frac"] == pytest.approx(0.5)
    assert m["self_penetration_leg_leg_max_m"] == 0.0


def _human(wrist_y: float, wrist_x: float = 0.25, T: int = 4):
    """Canonical keypoints of a standing human whose left forearm reaches to ``wrist_y``."""
    names = (
        "pelvis", "neck", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist",
    )  # fmt: skip
    pose = {
        "pelvis": (0, 0, 0.9), "neck": (0, 0, 1.45), "left_hip": (0, 0.1, 0.88),
        "right_hip": (0, -0.1, 0.88), "left_knee": (0, 0.12, 0.48),
        "right_knee": (0, -0.12, 0.48), "left_ankle": (0, 0.12, 0.08),
        "right_ankle": (0, -0.12, 0.08), "left_shoulder": (0, 0.2, 1.4),
        "right_shoulder": (0, -0.2, 1.4), "left_elbow": (0.1, 0.45, 1.4),
        "right_elbow": (0, -0.6, 1.4), "left_wrist": (wrist_x, wrist_y, 1.3),
        "right_wrist": (0, -0.9, 1.4),
    }  # fmt: skip
    kp = np.asarray([pose[n] for n in names], np.float64)
    return np.repeat(kp[None], T, 0), names


def test_human_clearance_tells_an_arm_on_the_chest_from_arms_out():
    from retargetjax.evaluation import human_limb_clearance

    out = human_limb_clearance(*_human(wrist_y=0.7))
    assert set(out) == {"arm_torso", "arm_leg", "leg_leg", "arm_arm"}
    assert out["arm_torso"].min() > 0.1 and out["leg_leg"].min() > 0.0
    across = human_limb_clearance(*_human(wrist_y=0.0, wrist_x=0.15))  # hand on the chest
    assert across["arm_torso"].max() < 0.0


def test_robot_overlap_is_unexplained_only_where_the_human_is_apart():
    from retargetjax.evaluation import self_penetration_group_metrics

    depth = np.array([[0.02], [0.02], [0.0], [0.03]])  # arm–torso overlap at frames 0, 1, 3
    clearance = {"arm_torso": np.array([0.2, -0.01, 0.2, 0.01])}  # human touches at 1 and 3
    m = self_penetration_group_metrics(depth, ("arm_torso",), ("arm_torso",), clearance)
    assert m["self_penetration_arm_torso_unexplained_frames_frac"] == pytest.approx(0.25)
    assert m["self_penetration_arm_torso_frames_above_1cm_frac"] == pytest.approx(0.75)

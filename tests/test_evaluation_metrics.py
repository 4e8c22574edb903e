"""``compute_metrics`` on the G1 with hand-made motions whose answers are known."""

import numpy as np
import pytest

from retargetjax.evaluation import (
    compute_metrics,
    evaluate_motion,
    metric_direction,
    motion_geometry,
)
from retargetjax.io import RobotMotion
from retargetjax.robot import load_robot
from retargetjax.robot._collision import segment_distance

T = 24  # one padded FK bucket (32) for the whole module: one compilation


@pytest.fixture(scope="module")
def g1():
    return load_robot("unitree_g1")


def _standing(robot, T=T, fps=30.0, **changes):
    joint_pos = np.tile(np.asarray(robot.default_joint_pos, np.float32), (T, 1))
    root_pos = np.tile(np.asarray(robot.default_root_pos, np.float32), (T, 1))
    root_quat = np.tile(np.array([1, 0, 0, 0], np.float32), (T, 1))
    fields = dict(joint_pos=joint_pos, root_pos=root_pos, root_quat=root_quat)
    fields.update(changes)
    return RobotMotion(fps=fps, robot=robot.name, joint_names=robot.joint_names, **fields)


def test_standing_pose_is_clean(g1):
    m = compute_metrics(_standing(g1), g1, contact=np.ones((T, 2)))
    for key in (
        "joint_limit_violations",
        "ground_penetration_max_m",
        "foot_skate_max_mm_per_frame",
        "self_penetration_max_m",
        "joint_acc_mean_rad_s2",
        "floating_frames_frac",
    ):
        assert m[key] == pytest.approx(0.0, abs=1e-6), key
    assert m["joint_velocity_within_limit_frac"] == 1.0
    assert m["contact_from_human"] == 1.0
    assert all(np.isfinite(v) for v in m.values())


def test_feet_sliding_at_known_speed(g1):
    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[:, 0] += np.arange(T) * 0.003  # whole robot slides 3 mm per frame
    m = compute_metrics(base.replace(root_pos=root_pos), g1, contact=np.ones((T, 2)))
    assert m["foot_skate_mean_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)
    assert m["foot_skate_max_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)
    assert m["foot_skate_frac_above_1mm"] == 1.0
    assert m["foot_contact_steps"] == 2 * (T - 1)


def test_body_pushed_into_floor_by_known_depth(g1):
    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[: T // 2, 2] -= 0.04  # first half 4 cm too low
    m = compute_metrics(base.replace(root_pos=root_pos), g1, contact=np.ones((T, 2)))
    assert m["ground_penetration_max_m"] == pytest.approx(0.04, abs=1e-4)
    assert m["ground_frames_below_1cm_frac"] == pytest.approx(0.5)


def test_raised_robot_floats(g1):
    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[:, 2] += 0.05
    contact = np.zeros((T, 2))
    contact[:6, 0] = 1  # the human stands on the left foot for 6 frames
    m = compute_metrics(base.replace(root_pos=root_pos), g1, contact=contact)
    assert m["floating_frames"] == 6
    assert m["floating_frames_frac"] == 1.0
    root_pos[:, 2] -= 0.035  # 1.5 cm up: within 2 cm, not floating
    m = compute_metrics(base.replace(root_pos=root_pos), g1, contact=contact)
    assert m["floating_frames"] == 0


def test_joint_past_limit_by_known_angle(g1):
    base = _standing(g1)
    joint_pos = np.array(base.joint_pos)
    j = g1.joint_index("left_knee_joint")
    joint_pos[5:9, j] = float(g1.joint_upper[j]) + 0.2
    m = compute_metrics(base.replace(joint_pos=joint_pos), g1)
    assert m["joint_limit_violations"] == 4
    assert m["joint_limit_worst_rad"] == pytest.approx(0.2, abs=1e-5)


def test_joint_columns_matched_by_name(g1):
    base = _standing(g1)
    joint_pos = np.array(base.joint_pos)
    joint_pos[:, 3] += np.linspace(0, 0.3, T)
    ordered = base.replace(joint_pos=joint_pos)
    perm = np.random.default_rng(0).permutation(g1.num_joints)
    shuffled = ordered.replace(
        joint_names=tuple(np.asarray(g1.joint_names)[perm]), joint_pos=joint_pos[:, perm]
    )
    a = compute_metrics(ordered, g1, contact=np.ones((T, 2)))
    b = compute_metrics(shuffled, g1, contact=np.ones((T, 2)))
    assert a == pytest.approx(b)


def test_self_penetration_matches_brute_force(g1):
    base = _standing(g1)
    joint_pos = np.array(base.joint_pos)
    # Cross the legs and swing the arms into the body over the clip.
    ramp = np.linspace(0.0, 1.0, T)
    for name, angle in [
        ("left_hip_roll_joint", -0.5),
        ("right_hip_roll_joint", 0.5),
        ("left_shoulder_roll_joint", -1.5),
        ("left_elbow_joint", 1.5),
    ]:
        j = g1.joint_index(name)
        joint_pos[:, j] = np.clip(ramp * angle, float(g1.joint_lower[j]), float(g1.joint_upper[j]))
    motion = base.replace(joint_pos=joint_pos)
    geo = motion_geometry(motion, g1)
    from retargetjax.robot import collision_capsules_world, forward_kinematics

    fk = forward_kinematics(g1, motion.root_pos, motion.root_quat, motion.joint_pos)
    p0, p1 = (np.asarray(x, np.float64) for x in collision_capsules_world(g1, fk))
    r = np.asarray(g1.capsule_radius, np.float64)
    expected = np.zeros(T)
    for t in range(T):
        for i, j in np.asarray(g1.collision_pairs):
            d = segment_distance(p0[t, i], p1[t, i], p0[t, j], p1[t, j])
            expected[t] = max(expected[t], r[i] + r[j] - d)
    np.testing.assert_allclose(geo.self_penetration, expected, atol=2e-5)
    assert expected.max() > 0.01  # the pose does interpenetrate
    m = compute_metrics(motion, g1)
    assert m["self_penetration_max_m"] == pytest.approx(expected.max(), abs=2e-5)


def test_keypoint_error_against_offset_targets(g1):
    motion = _standing(g1)
    geo = motion_geometry(motion, g1)
    targets = geo.keypoints + np.array([0.0, 0.0, 0.02])
    weight = np.ones(len(g1.keypoint_names))
    weight[g1.keypoint_names.index("head")] = 0.0
    m = compute_metrics(motion, g1, targets=targets, target_weight=weight)
    assert m["keypoint_error_mean_m"] == pytest.approx(0.02, abs=1e-5)
    assert m["keypoint_error_left_ankle_m"] == pytest.approx(0.02, abs=1e-5)
    assert "keypoint_error_head_m" not in m
    assert m["keypoint_error_procrustes_mean_m"] == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="targets"):
        compute_metrics(motion, g1, targets=targets[:-1])


def test_contacts_from_metadata_and_fallback(g1):
    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[:, 2] += 0.05
    raised = base.replace(root_pos=root_pos, metadata={"contact": [[1, 0]] * T})
    ev = evaluate_motion(raised, g1)
    assert ev.contact_source == "metadata"
    assert ev.metrics["floating_frames_frac"] == 1.0
    ev = evaluate_motion(base, g1)
    assert ev.contact_source == "robot"
    assert ev.contact.all()  # standing still on the floor
    assert ev.metrics["contact_from_human"] == 0.0


@pytest.mark.parametrize("suffix", [".csv", ".pkl", ".npz"])
def test_file_round_trip_gives_identical_metrics(g1, tmp_path, suffix):
    base = _standing(g1)
    rng = np.random.default_rng(3)
    joint_pos = np.array(base.joint_pos) + 0.05 * rng.standard_normal(base.joint_pos.shape)
    root_pos = np.array(base.root_pos)
    root_pos[:, 0] += np.arange(T) * 0.002
    motion = base.replace(joint_pos=joint_pos.astype(np.float32), root_pos=root_pos)
    contact = np.ones((T, 2))
    path = tmp_path / f"clip{suffix}"
    motion.save(path)
    loaded = RobotMotion.load(path, robot="unitree_g1", fps=30.0)
    a = compute_metrics(motion, g1, contact=contact)
    b = compute_metrics(loaded, g1, contact=contact)
    assert a.keys() == b.keys()
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6), key


def test_metric_directions():
    assert metric_direction("keypoint_error_mean_m") == -1
    assert metric_direction("joint_velocity_within_limit_frac") == 1
    assert metric_direction("foot_contact_steps") == 0
    assert metric_direction("ground_lowest_m") == 1  # signed: higher is cleaner
    assert metric_direction("foot_slide_max_mm_per_frame") == -1
    assert metric_direction("foot_slide_points") == 0


def test_clips_in_one_length_bucket_share_a_compilation(g1):
    from retargetjax.evaluation._geometry import _geometry_core

    motion_geometry(_standing(g1, T=T), g1)
    before = _geometry_core._cache_size()
    for length in (1, 7, 31, 32):
        geo = motion_geometry(_standing(g1, T=length), g1)
        assert geo.keypoints.shape[0] == length
    assert _geometry_core._cache_size() == before


def _planted(part: str, T=T):
    from retargetjax.motion import BODY_PARTS, BodyContacts

    parts = tuple(BODY_PARTS)
    labels = np.zeros((T, len(parts)), bool)
    labels[:, parts.index(part)] = True
    return BodyContacts(
        parts=parts,
        part_keypoints=tuple(BODY_PARTS.values()),
        present=np.ones(len(parts), bool),
        labels=labels,
        support_height=np.zeros((T, len(parts)), np.float32),
        raised=np.zeros((T, len(parts)), bool),
        floor_z=0.0,
        fps=30.0,
    )


def test_material_point_slide_group_penetration_and_planted_parts(g1):
    still = compute_metrics(
        _standing(g1), g1, contact=np.ones((T, 2)), body_contacts=_planted("left_hand")
    )
    assert still["foot_slide_max_mm_per_frame"] == pytest.approx(0.0, abs=1e-6)
    assert still["foot_slide_points"] > 2 * (T - 1)  # several points per foot on the floor
    assert still["self_penetration_arm_torso_max_m"] == 0.0
    assert still["body_contact_slide_max_mm_per_frame"] == pytest.approx(0.0, abs=1e-6)
    assert still["body_contact_steps"] == T - 1 and still["body_contact_parts"] == 1
    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[:, 0] += np.arange(T) * 0.003  # the whole robot slides 3 mm per frame
    m = compute_metrics(
        base.replace(root_pos=root_pos),
        g1,
        contact=np.ones((T, 2)),
        body_contacts=_planted("left_hand"),
    )
    assert m["foot_slide_mean_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)
    assert m["foot_slide_max_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)
    assert m["foot_slide_p99_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)
    assert m["body_contact_slide_max_mm_per_frame"] == pytest.approx(3.0, rel=1e-3)


def test_a_hand_under_the_floor_is_penetrating(g1):
    from retargetjax.evaluation import capsule_limbs

    base = _standing(g1)
    root_pos = np.array(base.root_pos)
    root_pos[:, 2] = 0.5
    pitched = np.tile(np.array([np.cos(np.pi / 4), 0, np.sin(np.pi / 4), 0], np.float32), (T, 1))
    lying = base.replace(root_pos=root_pos, root_quat=pitched)  # lying face down, in the air
    arm = np.asarray([limb.endswith("arm") for limb in capsule_limbs(g1)])
    arm_low = motion_geometry(lying, g1).capsule_bottom_z[0, arm].min()
    root_pos[:, 2] -= arm_low + 0.03  # the lowest hand/arm point 3 cm under the floor
    m = compute_metrics(lying.replace(root_pos=root_pos), g1, contact=np.zeros((T, 2)))
    assert m["ground_penetration_max_arm_m"] == pytest.approx(0.03, abs=1e-4)
    assert m["ground_penetration_max_m"] >= m["ground_penetration_max_arm_m"]
    assert m["ground_lowest_m"] == pytest.approx(-m["ground_penetration_max_m"])
    assert m["ground_frames_below_5mm_frac"] == 1.0

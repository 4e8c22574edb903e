"""RobotMotion: validation, derived velocities, resampling, link poses from FK."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from retargetjax.io import MotionFileError, RobotMotion


def _yaw_quat(yaw: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)


def toy_motion(num_frames: int = 31, fps: float = 30.0, yaw_rate: float = 0.7) -> RobotMotion:
    """A root walking along x while turning about z; three joints; two links."""
    t = np.arange(num_frames) / fps
    root_quat = _yaw_quat(yaw_rate * t)
    root_pos = np.stack([0.3 * t, 0.1 * np.cos(t), 0.8 + 0 * t], axis=-1)
    hand = root_pos + np.stack([0.2 * np.cos(t), 0.3 + 0 * t, 0.1 * t], axis=-1)
    return RobotMotion(
        fps=fps,
        robot="toy",
        joint_names=("hip", "knee", "ankle"),
        joint_pos=np.stack([t, np.sin(t), -0.5 * t**2], axis=-1),
        root_pos=root_pos,
        root_quat=root_quat,
        body_names=("pelvis", "hand"),
        body_pos_w=np.stack([root_pos, hand], axis=1),
        body_quat_w=np.stack([root_quat, _yaw_quat(-0.2 * t)], axis=1),
        metadata={"source": "toy"},
    )


def test_fields_are_float32_read_only_copies():
    joint_pos = np.zeros((4, 2))
    motion = RobotMotion(
        fps=np.float64(50),
        robot="r",
        joint_names=["a", "b"],
        joint_pos=joint_pos,
        root_pos=np.zeros((4, 3)),
        root_quat=np.tile([1.0, 0, 0, 0], (4, 1)),
    )
    assert motion.joint_pos.dtype == np.float32 and motion.root_quat.dtype == np.float32
    assert motion.joint_names == ("a", "b") and isinstance(motion.fps, float)
    assert motion.num_frames == 4 and motion.num_joints == 2
    assert motion.duration_s == pytest.approx(3 / 50)
    joint_pos[0, 0] = 5.0  # the caller's array is copied
    assert motion.joint_pos[0, 0] == 0.0
    with pytest.raises(ValueError):
        motion.joint_pos[0, 0] = 1.0
    with pytest.raises(AttributeError):
        motion.fps = 10.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"joint_pos": np.zeros((31, 2))}, r"RobotMotion.joint_pos: expected shape \(T, 3\)"),
        ({"root_pos": np.zeros((30, 3))}, r"RobotMotion.root_pos: expected shape \(31, 3\)"),
        ({"root_quat": np.zeros((31, 3))}, r"RobotMotion.root_quat: expected shape \(31, 4\)"),
        ({"root_quat": np.zeros((31, 4))}, r"root_quat: quaternion at index \(0,\) has norm 0"),
        ({"body_pos_w": np.zeros((31, 3, 3))}, r"body_pos_w: expected shape \(31, 2, 3\)"),
        ({"body_quat_w": np.ones((31, 2))}, r"body_quat_w: expected shape \(31, 2, 4\)"),
        ({"fps": 0.0}, r"RobotMotion.fps: expected a finite number > 0"),
        ({"fps": float("nan")}, r"RobotMotion.fps"),
        ({"joint_names": ("a", "a", "b")}, r"joint_names: duplicate names \['a'\]"),
        ({"joint_pos": np.zeros((0, 3))}, r"at least one frame"),
        ({"body_names": None}, r"body_names: required"),
        ({"body_pos_w": None, "body_quat_w": None}, r"body_names: given without"),
        ({"metadata": [1]}, r"RobotMotion.metadata: expected a dict"),
    ],
)
def test_invalid_fields_are_rejected_naming_the_field(changes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        toy_motion().replace(**changes)


def test_non_finite_values_are_rejected_with_their_index():
    motion = toy_motion()
    joint_pos = motion.joint_pos.copy()
    joint_pos[7, 2] = np.inf
    with pytest.raises(ValueError, match=r"joint_pos: non-finite value inf at index \(7, 2\)"):
        motion.replace(joint_pos=joint_pos)
    body_pos = motion.body_pos_w.copy()
    body_pos[3, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"body_pos_w: non-finite"):
        motion.replace(body_pos_w=body_pos)


def test_joint_velocity_of_a_joint_moving_at_one_rad_per_second():
    motion = toy_motion()
    np.testing.assert_allclose(motion.joint_vel[:, 0], 1.0, rtol=1e-5)
    # -0.5 t² → -t: central differences are exact for a parabola inside the clip.
    t = np.arange(31) / 30
    np.testing.assert_allclose(motion.joint_vel[1:-1, 2], -t[1:-1], atol=1e-4)
    # One-sided ends: (x_1 - x_0) · fps.
    assert motion.joint_vel[0, 2] == pytest.approx(-0.5 * (1 / 30) ** 2 * 30, rel=1e-4)


def test_root_and_body_velocities():
    motion = toy_motion(yaw_rate=2.0)
    np.testing.assert_allclose(motion.root_ang_vel_w, np.tile([0, 0, 2.0], (31, 1)), atol=1e-4)
    np.testing.assert_allclose(motion.body_ang_vel_w[:, 0], motion.root_ang_vel_w, atol=1e-6)
    np.testing.assert_allclose(motion.body_ang_vel_w[:, 1, 2], -0.2, atol=1e-4)
    np.testing.assert_allclose(motion.root_lin_vel_w[:, 0], 0.3, rtol=1e-4)
    np.testing.assert_allclose(
        motion.body_lin_vel_w[:, 1, 1], motion.body_lin_vel_w[:, 0, 1], atol=1e-5
    )
    np.testing.assert_allclose(motion.body_lin_vel_w[:, 1, 2], 0.1, rtol=1e-4)
    no_bodies = motion.replace(body_names=None, body_pos_w=None, body_quat_w=None)
    assert no_bodies.body_lin_vel_w is None and no_bodies.body_ang_vel_w is None


def test_resample_30_to_50_keeps_endpoints_and_duration():
    motion = toy_motion(num_frames=31, fps=30.0)
    fast = motion.resample(50.0)
    assert fast.fps == 50.0 and fast.num_frames == 51
    assert fast.duration_s == pytest.approx(motion.duration_s)
    for name in ("joint_pos", "root_pos", "root_quat", "body_pos_w", "body_quat_w"):
        np.testing.assert_array_equal(getattr(fast, name)[0], getattr(motion, name)[0])
        np.testing.assert_array_equal(getattr(fast, name)[-1], getattr(motion, name)[-1])
    t = np.arange(51) / 50
    np.testing.assert_allclose(fast.joint_pos[:, 0], t, atol=1e-6)  # linear joint: exact
    np.testing.assert_allclose(fast.root_quat, _yaw_quat(0.7 * t), atol=1e-6)  # slerp: exact
    assert fast.metadata["resampled_from_fps"] == 30.0 and fast.joint_names == motion.joint_names
    # Back down to 30 Hz lands on the original samples.
    slow = fast.resample(30.0)
    np.testing.assert_allclose(slow.joint_pos[:, 0], motion.joint_pos[:, 0], atol=1e-6)


def test_resample_never_extrapolates():
    motion = toy_motion(num_frames=11, fps=30.0)  # 1/3 s: not a multiple of 1/50 s
    fast = motion.resample(50.0)
    assert fast.num_frames == 17  # t = 0 … 0.32 s
    assert fast.duration_s <= motion.duration_s
    assert (
        motion.replace(
            joint_pos=motion.joint_pos[:1],
            root_pos=motion.root_pos[:1],
            root_quat=motion.root_quat[:1],
            body_pos_w=motion.body_pos_w[:1],
            body_quat_w=motion.body_quat_w[:1],
        )
        .resample(50.0)
        .num_frames
        == 1
    )
    with pytest.raises(ValueError, match="fps must be"):
        motion.resample(-1)


def _fake_robot_module():
    """A stand-in for ``retargetjax.robot`` (load_robot, clip_forward_kinematics)."""
    robot = types.SimpleNamespace(
        name="toy",
        joint_names=("ankle", "hip", "knee"),  # another order than the motion's columns
        body_names=("pelvis", "foot"),
    )

    def forward_kinematics(model, root_pos, root_quat, joint_pos):
        # foot = root + (q_ankle, q_hip, q_knee); every link keeps the root orientation.
        pos = np.stack([root_pos, root_pos + joint_pos], axis=-2)
        rot = np.broadcast_to(np.eye(3), (*pos.shape[:-1], 3, 3))
        return types.SimpleNamespace(pos=pos, rot=rot)

    module = types.ModuleType("retargetjax.robot")
    module.load_robot = lambda name: robot
    module.forward_kinematics = forward_kinematics
    module.clip_forward_kinematics = forward_kinematics
    return module, robot


def test_with_body_poses_uses_the_robot_module_lazily(monkeypatch):
    module, robot = _fake_robot_module()
    monkeypatch.setitem(sys.modules, "retargetjax.robot", module)
    motion = toy_motion().replace(body_names=None, body_pos_w=None, body_quat_w=None)
    posed = motion.with_body_poses("toy")
    assert posed.body_names == ("pelvis", "foot")
    np.testing.assert_array_equal(posed.body_pos_w[:, 0], motion.root_pos)
    expected_foot = motion.root_pos + motion.joint_pos[:, [2, 0, 1]]
    np.testing.assert_allclose(posed.body_pos_w[:, 1], expected_foot, atol=1e-6)
    np.testing.assert_allclose(posed.body_quat_w, np.tile([1.0, 0, 0, 0], (31, 2, 1)))
    # A model object works too, and so does an explicit FK function.
    again = motion.with_body_poses(robot, forward_kinematics=module.forward_kinematics)
    np.testing.assert_array_equal(again.body_pos_w, posed.body_pos_w)
    short = types.SimpleNamespace(name="toy", joint_names=("hip", "wrist"), body_names=("a",))
    with pytest.raises(ValueError, match=r"robot 'toy' has joints \['wrist'\]"):
        motion.with_body_poses(short, forward_kinematics=module.forward_kinematics)


def test_with_body_poses_on_a_real_robot(tmp_path):
    try:
        from retargetjax.robot import load_robot
    except ImportError as err:
        pytest.skip(f"retargetjax.robot is not importable yet: {err}")
    robot = load_robot("unitree_g1")
    num_frames, num_joints = 3, len(robot.joint_names)
    rng = np.random.default_rng(0)
    root_quat = _yaw_quat(np.array([0.0, 0.5, 1.0]))
    motion = RobotMotion(
        fps=30.0,
        robot=robot.name,
        joint_names=tuple(robot.joint_names),
        joint_pos=rng.uniform(-0.3, 0.3, (num_frames, num_joints)),
        root_pos=np.array([[0.0, 0.0, 0.8], [0.1, 0.0, 0.8], [0.2, 0.1, 0.79]]),
        root_quat=root_quat,
    )
    posed = motion.with_body_poses(robot)
    assert posed.body_names == tuple(robot.body_names)
    assert posed.body_pos_w.shape == (num_frames, len(robot.body_names), 3)
    # The floating base is the first body: its pose is the root pose.
    np.testing.assert_allclose(posed.body_pos_w[:, 0], motion.root_pos, atol=1e-5)
    dots = np.abs(np.sum(posed.body_quat_w[:, 0] * root_quat, axis=-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-5)
    # A tracker npz (no names, no root keys) and a CSV load back by robot name.
    tracker = tmp_path / "tracker.npz"
    np.savez(
        tracker,
        fps=np.array([30.0]),
        joint_pos=posed.joint_pos,
        joint_vel=posed.joint_vel,
        body_pos_w=posed.body_pos_w,
        body_quat_w=posed.body_quat_w,
    )
    from_tracker = RobotMotion.load(tracker, robot="unitree_g1")
    assert from_tracker.joint_names == posed.joint_names
    assert from_tracker.body_names == posed.body_names
    np.testing.assert_allclose(from_tracker.root_pos, motion.root_pos, atol=1e-5)
    posed.save(tmp_path / "walk.csv")
    from_csv = RobotMotion.load(tmp_path / "walk.csv", robot="unitree_g1")
    np.testing.assert_array_equal(from_csv.joint_pos, posed.joint_pos)
    extra = (*robot.joint_names, "gripper")
    with pytest.raises(MotionFileError, match=r"line 1: expected 37 columns .*30 joints.*got 36"):
        RobotMotion.load(tmp_path / "walk.csv", joint_names=extra)

"""Native npz: exact round trip, tracker (mjlab-style) npz, xyzw files, errors, atomicity."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from retargetjax.io import MotionFileError, RobotMotion, read_npz, write_npz


def _yaw_quat(yaw):
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)


@pytest.fixture(scope="module")
def motion() -> RobotMotion:
    rng = np.random.default_rng(1)
    t = np.arange(12) / 30.0
    root_quat = _yaw_quat(1.3 * t)
    root_pos = rng.normal(size=(12, 3))
    return RobotMotion(
        fps=30.0,
        robot="toy",
        joint_names=("hip", "knee", "ankle"),
        joint_pos=rng.normal(size=(12, 3)),
        root_pos=root_pos,
        root_quat=root_quat,
        body_names=("pelvis", "hand"),
        body_pos_w=np.stack([root_pos, root_pos + 0.3], axis=1),
        body_quat_w=np.stack([root_quat, _yaw_quat(-t)], axis=1),
        metadata={"source_file": "walk.bvh", "final_loss": np.float32(0.5), "iterations": 200},
    )


def test_round_trip_is_exact(tmp_path, motion):
    path = tmp_path / "walk_toy.npz"
    motion.save(path)
    loaded = RobotMotion.load(path)
    assert loaded.fps == motion.fps and loaded.robot == "toy"
    assert loaded.joint_names == motion.joint_names and loaded.body_names == motion.body_names
    for name in ("joint_pos", "root_pos", "root_quat", "body_pos_w", "body_quat_w"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(motion, name))
    assert loaded.metadata == {**motion.metadata, "final_loss": 0.5, "robot": "toy"}


def test_file_has_the_tracker_keys_and_no_pickles(tmp_path, motion):
    path = tmp_path / "m.npz"
    write_npz(motion, path)
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {
            "fps",
            "quat_order",
            "joint_names",
            "joint_pos",
            "joint_vel",
            "root_pos",
            "root_quat",
            "body_names",
            "body_pos_w",
            "body_quat_w",
            "body_lin_vel_w",
            "body_ang_vel_w",
            "metadata",
        }
        assert data["fps"].tolist() == [30.0] and str(data["quat_order"]) == "wxyz"
        assert data["joint_pos"].dtype == np.float32 and data["body_quat_w"].shape == (12, 2, 4)
        np.testing.assert_array_equal(data["joint_vel"], motion.joint_vel)
        np.testing.assert_array_equal(data["body_ang_vel_w"], motion.body_ang_vel_w)
        assert json.loads(str(data["metadata"]))["iterations"] == 200
        assert data["joint_names"].tolist() == ["hip", "knee", "ankle"]


def test_xyzw_file_is_converted_to_wxyz(tmp_path, motion):
    path = tmp_path / "xyzw.npz"
    np.savez(
        path,
        fps=np.array(30.0),
        quat_order=np.array("xyzw"),
        joint_names=np.array(motion.joint_names),
        joint_pos=motion.joint_pos,
        root_pos=motion.root_pos,
        root_quat=motion.root_quat[:, [1, 2, 3, 0]],
        body_names=np.array(motion.body_names),
        body_pos_w=motion.body_pos_w,
        body_quat_w=motion.body_quat_w[..., [1, 2, 3, 0]],
    )
    loaded = read_npz(path)
    np.testing.assert_array_equal(loaded.root_quat, motion.root_quat)
    np.testing.assert_array_equal(loaded.body_quat_w, motion.body_quat_w)
    assert loaded.robot == "unknown"


def _write_mjlab_npz(path, motion):
    """The keys an mjlab/BeyondMimic tracker writes: no names, no root, no quat_order."""
    np.savez(
        path,
        fps=np.array([motion.fps]),
        joint_pos=motion.joint_pos,
        joint_vel=motion.joint_vel,
        body_pos_w=motion.body_pos_w,
        body_quat_w=motion.body_quat_w,
        body_lin_vel_w=motion.body_lin_vel_w,
        body_ang_vel_w=motion.body_ang_vel_w,
    )


def test_mjlab_style_npz_loads_with_the_robots_names(tmp_path, motion):
    path = tmp_path / "mjlab.npz"
    _write_mjlab_npz(path, motion)
    robot = types.SimpleNamespace(
        name="toy", joint_names=motion.joint_names, body_names=motion.body_names
    )
    loaded = RobotMotion.load(path, robot=robot)
    assert loaded.robot == "toy" and loaded.body_names == motion.body_names
    np.testing.assert_array_equal(loaded.joint_pos, motion.joint_pos)
    np.testing.assert_array_equal(loaded.root_pos, motion.root_pos)  # body 0 is the root
    np.testing.assert_array_equal(loaded.root_quat, motion.root_quat)
    explicit = read_npz(path, joint_names=motion.joint_names, body_names=motion.body_names)
    np.testing.assert_array_equal(explicit.body_quat_w, motion.body_quat_w)
    with pytest.raises(MotionFileError, match=r"mjlab\.npz: the file does not name its 3 joint"):
        read_npz(path)
    with pytest.raises(MotionFileError, match=r"joint_names has 2 names but the file has 3"):
        read_npz(path, joint_names=("a", "b"), body_names=motion.body_names)


def test_mjlab_style_npz_with_a_robot_name(tmp_path, motion, monkeypatch):
    """``robot="name"`` goes through retargetjax.robot.load_robot (faked here)."""
    import sys

    robot = types.SimpleNamespace(
        name="toy", joint_names=motion.joint_names, body_names=motion.body_names
    )
    fake = types.ModuleType("retargetjax.robot")
    fake.load_robot = lambda name, **_: robot if name == "toy" else None
    monkeypatch.setitem(sys.modules, "retargetjax.robot", fake)
    path = tmp_path / "mjlab.npz"
    _write_mjlab_npz(path, motion)
    loaded = RobotMotion.load(path, robot="toy")
    assert loaded.joint_names == motion.joint_names and loaded.robot == "toy"


def test_missing_key_names_the_file_and_the_key(tmp_path, motion):
    path = tmp_path / "broken.npz"
    np.savez(path, fps=np.array(30.0), joint_names=np.array(motion.joint_names))
    with pytest.raises(MotionFileError, match=r"broken\.npz: missing key 'joint_pos'"):
        read_npz(path)
    np.savez(path, fps=np.array(30.0), joint_names=np.array(["a"]), joint_pos=np.zeros((2, 1)))
    with pytest.raises(MotionFileError, match=r"broken\.npz: missing key 'root_pos'"):
        read_npz(path)
    np.savez(path, fps=30.0, quat_order="zyxw", joint_pos=np.zeros((2, 1)))
    with pytest.raises(MotionFileError, match=r"'quat_order' must be 'wxyz' or 'xyzw'"):
        read_npz(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(MotionFileError, match=r"broken\.npz: not a readable \.npz"):
        read_npz(path)


def test_bad_shapes_in_a_file_name_the_file_and_field(tmp_path, motion):
    path = tmp_path / "shapes.npz"
    np.savez(
        path,
        fps=30.0,
        joint_names=np.array(motion.joint_names),
        joint_pos=motion.joint_pos,
        root_pos=motion.root_pos[:5],
        root_quat=motion.root_quat,
    )
    with pytest.raises(MotionFileError, match=r"shapes\.npz: RobotMotion\.root_pos: expected"):
        read_npz(path)


def test_conflicting_robot_name_is_an_error(tmp_path, motion):
    path = tmp_path / "m.npz"
    motion.save(path)
    with pytest.raises(MotionFileError, match=r"names robot 'toy', but robot='unitree_h1'"):
        RobotMotion.load(path, robot="unitree_h1")
    assert RobotMotion.load(path, robot="toy").robot == "toy"


def test_failed_write_leaves_the_old_file_intact(tmp_path, motion):
    path = tmp_path / "out.npz"
    motion.save(path)
    before = path.read_bytes()
    bad = motion.replace(metadata={"callback": object()})
    with pytest.raises(TypeError, match=r"metadata\.callback"):
        bad.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]


def test_motion_without_link_poses(tmp_path, motion):
    bare = motion.replace(body_names=None, body_pos_w=None, body_quat_w=None)
    path = tmp_path / "bare.npz"
    bare.save(path)
    with np.load(path) as data:
        assert "body_pos_w" not in data.files
    loaded = RobotMotion.load(path)
    assert loaded.body_names is None and loaded.body_pos_w is None
    np.testing.assert_array_equal(loaded.root_quat, motion.root_quat)

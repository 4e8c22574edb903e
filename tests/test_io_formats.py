"""Format choice by suffix, and the same motion through npz, CSV and pickle."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.io import (
    MotionFileError,
    RobotMotion,
    RobotMotionFormat,
    load_robot_motion,
    motion_format_of,
    save_robot_motion,
)

JOINTS = ("hip", "knee", "ankle", "elbow")


@pytest.fixture(scope="module")
def motion() -> RobotMotion:
    rng = np.random.default_rng(3)
    quat = rng.normal(size=(15, 4))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    return RobotMotion(
        fps=25.0,
        robot="toy",
        joint_names=JOINTS,
        joint_pos=rng.uniform(-2, 2, size=(15, 4)),
        root_pos=rng.normal(size=(15, 3)),
        root_quat=quat,
    )


def test_suffix_picks_the_format():
    assert motion_format_of("a/b.NPZ") is RobotMotionFormat.NPZ
    assert motion_format_of("x.csv") is RobotMotionFormat.CSV
    assert motion_format_of("x.pkl") is RobotMotionFormat.PKL
    assert motion_format_of("x.pickle") is RobotMotionFormat.PKL
    assert motion_format_of("x.txt", format="csv") is RobotMotionFormat.CSV
    assert motion_format_of("x", format=RobotMotionFormat.NPZ) is RobotMotionFormat.NPZ
    with pytest.raises(ValueError, match=r"x\.bvh: unknown motion file suffix '\.bvh'"):
        motion_format_of("x.bvh")
    with pytest.raises(ValueError, match=r"unknown motion format 'h5'"):
        motion_format_of("x.npz", format="h5")


def test_the_same_motion_through_every_format(tmp_path, motion):
    loaded = {}
    for suffix in ("npz", "csv", "pkl"):
        path = tmp_path / f"walk.{suffix}"
        motion.save(path)
        loaded[suffix] = RobotMotion.load(path, joint_names=JOINTS, fps=25.0)
    for other in loaded.values():
        assert other.joint_names == JOINTS and other.fps == 25.0
        # Quaternion signs are kept as written (no canonicalisation), so compare directly.
        np.testing.assert_allclose(other.root_quat, motion.root_quat, atol=1e-7)
        np.testing.assert_allclose(other.root_pos, motion.root_pos, atol=1e-7)
        np.testing.assert_allclose(other.joint_pos, motion.joint_pos, atol=1e-7)
    assert {p.name for p in tmp_path.iterdir()} == {"walk.npz", "walk.csv", "walk.pkl"}


def test_explicit_format_overrides_the_suffix(tmp_path, motion):
    path = tmp_path / "walk.txt"
    save_robot_motion(motion, path, format="csv")
    assert len(path.read_text().splitlines()) == 15
    loaded = load_robot_motion(path, format="csv", joint_names=JOINTS)
    np.testing.assert_array_equal(loaded.joint_pos, motion.joint_pos)
    with pytest.raises(ValueError, match="unknown motion file suffix"):
        motion.save(tmp_path / "walk.txt")


def test_fps_must_agree_with_a_file_that_stores_it(tmp_path, motion):
    path = tmp_path / "walk.npz"
    motion.save(path)
    with pytest.raises(MotionFileError, match=r"stores fps = 25\.0, but fps=50 was passed"):
        RobotMotion.load(path, fps=50)
    with pytest.raises(FileNotFoundError, match=r"nope\.npz: no such motion file"):
        RobotMotion.load(tmp_path / "nope.npz")

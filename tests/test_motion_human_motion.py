"""HumanMotion: validation, trim, resample (linear positions, slerp orientations)."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import HumanMotion, MotionFormatError


def _rot_z(angle):
    return np.stack(
        [np.cos(angle / 2), np.zeros_like(angle), np.zeros_like(angle), np.sin(angle / 2)], -1
    )


@pytest.fixture
def motion():
    T = 11
    t = np.arange(T) / 10.0
    pos = np.zeros((T, 2, 3), np.float32)
    pos[:, 0, 0] = t  # 1 m/s along x
    pos[:, 1] = [0, 0, 1]
    ori = np.zeros((T, 2, 4), np.float32)
    ori[:, 0] = _rot_z(t * np.pi / 2)  # 90°/s about z
    ori[:, 1] = [1, 0, 0, 0]
    return HumanMotion(
        fps=10.0, joint_names=("a", "b"), parents=np.array([-1, 0]), positions=pos, orientations=ori
    )


def test_basic_properties(motion):
    assert motion.num_frames == 11 and motion.num_joints == 2
    assert motion.duration_s == pytest.approx(1.1)
    assert motion.joint_index("b") == 1
    with pytest.raises(KeyError, match="no joint 'c'"):
        motion.joint_index("c")
    assert "frames=11" in repr(motion)


def test_trim(motion):
    part = motion.trim(2, 5)
    assert part.num_frames == 3
    np.testing.assert_array_equal(part.positions, motion.positions[2:5])
    np.testing.assert_array_equal(part.orientations, motion.orientations[2:5])
    assert part.metadata["trimmed_from_frame"] == 2
    assert motion.trim(-3).num_frames == 3
    with pytest.raises(ValueError, match="holds no frame"):
        motion.trim(5, 5)


def test_resample_up_and_down(motion):
    up = motion.resample(40.0)
    assert up.fps == 40.0 and up.num_frames == 41
    t = np.arange(41) / 40.0
    np.testing.assert_allclose(up.positions[:, 0, 0], t, atol=1e-6)
    np.testing.assert_allclose(
        np.abs(np.sum(up.orientations[:, 0] * _rot_z(t * np.pi / 2), -1)), 1, atol=1e-5
    )
    down = motion.resample(4.0)
    assert down.num_frames == 5
    np.testing.assert_allclose(down.positions[:, 0, 0], np.arange(5) / 4.0, atol=1e-6)
    assert down.metadata["resampled_from_fps"] == 10.0
    with pytest.raises(ValueError, match="positive"):
        motion.resample(0)


def test_validation():
    pos = np.zeros((2, 2, 3), np.float32)
    with pytest.raises(MotionFormatError, match="expected one name per joint"):
        HumanMotion(fps=30, joint_names=("a",), parents=[-1, -1], positions=pos)
    with pytest.raises(MotionFormatError, match="zero frames"):
        HumanMotion(fps=30, joint_names=("a", "b"), parents=[-1, -1], positions=pos[:0])
    bad = pos.copy()
    bad[1, 0, 2] = np.inf
    with pytest.raises(MotionFormatError, match="joint 0 at frame 1 is not finite"):
        HumanMotion(fps=30, joint_names=("a", "b"), parents=[-1, -1], positions=bad)
    with pytest.raises(MotionFormatError, match="parents"):
        HumanMotion(fps=30, joint_names=("a", "b"), parents=[-1, 5], positions=pos)
    with pytest.raises(MotionFormatError, match="fps"):
        HumanMotion(fps=0, joint_names=("a", "b"), parents=[-1, -1], positions=pos)
    with pytest.raises(MotionFormatError, match="orientations have shape"):
        HumanMotion(
            fps=30,
            joint_names=("a", "b"),
            parents=[-1, -1],
            positions=pos,
            orientations=np.zeros((2, 2, 3)),
        )

"""Keypoint clips (.npz / .npy)."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import SMPLH_JOINT_NAMES, MotionFormatError, load_keypoints, load_motion


def _clip(T=5, J=4):
    return np.random.default_rng(1).normal(size=(T, J, 3)).astype(np.float32)


def test_npz_with_aliases_and_options(tmp_path):
    pos = _clip()
    path = tmp_path / "clip.npz"
    np.savez(
        path, joint_positions=pos, names=np.array(["a", "b", "c", "d"]), framerate=np.float32(60)
    )
    motion = load_motion(path)
    assert motion.joint_names == ("a", "b", "c", "d")
    assert motion.fps == 60.0
    np.testing.assert_array_equal(motion.positions, pos)
    np.testing.assert_array_equal(motion.parents, [-1, -1, -1, -1])
    assert motion.orientations is None
    # Options override the file; units and up axis convert.
    motion = load_keypoints(path, fps=30, units="cm", up_axis="y")
    assert motion.fps == 30.0
    np.testing.assert_allclose(motion.positions[..., 2], pos[..., 1] / 100, atol=1e-7)
    np.testing.assert_allclose(motion.positions[..., 1], -pos[..., 2] / 100, atol=1e-7)


def test_bare_npy(tmp_path):
    path = tmp_path / "clip.npy"
    np.save(path, _clip(J=3))
    motion = load_motion(path, fps=25, joint_names=["x", "y", "z"], parents=[-1, 0, 1])
    assert motion.fps == 25.0 and motion.joint_names == ("x", "y", "z")
    np.testing.assert_array_equal(motion.parents, [-1, 0, 1])
    with pytest.raises(MotionFormatError, match="no frame rate"):
        load_motion(path, joint_names=["x", "y", "z"])
    with pytest.raises(MotionFormatError, match="no joint names for 3 joints"):
        load_motion(path, fps=25)
    # 52 joints without names: SMPL-H order is assumed.
    np.save(path, _clip(J=52))
    assert load_motion(path, fps=30).joint_names == SMPLH_JOINT_NAMES


def test_bad_keypoint_files(tmp_path):
    path = tmp_path / "bad.npz"
    pos = _clip()
    pos[2, 1, 0] = np.nan
    np.savez(path, positions=pos, joint_names=np.array(list("abcd")), fps=30.0)
    with pytest.raises(MotionFormatError, match=r"bad\.npz: 'positions'\[2, 1\] .* not finite"):
        load_motion(path)
    np.savez(path, positions=np.zeros((0, 4, 3)), joint_names=np.array(list("abcd")), fps=30.0)
    with pytest.raises(MotionFormatError, match="zero frames"):
        load_motion(path)
    np.savez(path, positions=np.zeros((3, 4, 2)), joint_names=np.array(list("abcd")), fps=30.0)
    with pytest.raises(
        MotionFormatError, match=r"shape \(3, 4, 2\); expected \(frames, joints, 3\)"
    ):
        load_motion(path)
    np.savez(path, positions=_clip(), joint_names=np.array(list("abc")), fps=30.0)
    with pytest.raises(MotionFormatError, match="3 joint names for 4 joints"):
        load_motion(path)
    np.savez(path, positions=_clip(), joint_names=np.array(list("abcd")), fps=-1.0)
    with pytest.raises(MotionFormatError, match="fps is -1"):
        load_motion(path)
    np.savez(path, positions=_clip(), joint_names=np.array(list("abca")), fps=30.0)
    with pytest.raises(MotionFormatError, match="duplicate joint names"):
        load_motion(path)


def test_pickled_extra_keys_are_never_read(tmp_path):
    """Keys the loader does not use are not read, so a pickled extra does not refuse the clip."""
    path = tmp_path / "clip.npz"
    pos = _clip()
    extra = np.array({"camera": 1}, dtype=object)
    np.savez(path, positions=pos, joint_names=np.array(list("abcd")), fps=30.0, camera=extra)
    np.testing.assert_array_equal(load_motion(path).positions, pos)
    np.savez(path, positions=pos, joint_names=np.array([{}], dtype=object), fps=30.0)
    with pytest.raises(MotionFormatError, match=r"clip\.npz: 'joint_names' cannot be read"):
        load_motion(path)

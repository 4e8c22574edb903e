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


def _walk_keypoints():
    """The bundled clip's joints (Z up, metres) with names, its frames with the trunk
    upright (within 25° of vertical; it squats in the others)."""
    from retargetjax.motion import load_bvh, map_keypoints, sample_motion_path

    m = load_bvh(sample_motion_path())
    kp = map_keypoints(m, verbose=False)
    pos = np.asarray(m.positions, np.float64)
    joint = {k: j for k, j in zip(kp.names, kp.joint_index)}
    trunk = 0.5 * (pos[:, joint["left_shoulder"]] + pos[:, joint["right_shoulder"]])
    trunk -= pos[:, joint["pelvis"]]
    upright = trunk[:, 2] / np.linalg.norm(trunk, axis=-1) > np.cos(np.deg2rad(25.0))
    assert upright.sum() >= 100
    return pos[upright][:200], m.joint_names, m.parents


def _lie_down(pos: np.ndarray, frames: slice, axis: np.ndarray) -> np.ndarray:
    """Frames ``frames`` turned 90° about horizontal ``axis`` through the pelvis and put down
    on the floor (lowest point at z = 0): the body lies, as in a fall, roll or cartwheel."""
    out = pos.copy()
    a = axis / np.linalg.norm(axis)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    R = np.eye(3) + K + K @ K  # 90°
    body = out[frames] - out[frames, :1]
    out[frames] = body @ R.T + out[frames, :1]
    out[frames, :, 2] -= out[frames, :, 2].min(axis=1, keepdims=True)
    return out


def _save(path, pos, names, parents):
    np.savez(
        path,
        positions=pos.astype(np.float32),
        joint_names=np.array(names),
        parents=np.asarray(parents),
        fps=30.0,
    )


def test_camera_frame_clip_upright_only_part_of_the_time_is_caught(tmp_path):
    """A camera-frame clip (y down, z depth) whose body is upright in only ~half its frames
    (a cartwheel, a fall, a get-up) still says it needs ``up_axis='-y'``, instead of loading
    lying on its side."""
    pos, names, parents = _walk_keypoints()
    lying = _lie_down(pos, slice(0, len(pos) * 9 // 20), np.array([0.0, 1.0, 0.0]))  # 45 %
    lying[..., 1] += 3.0  # 3 m in front of the camera
    cam = np.stack([lying[..., 0], -lying[..., 2], lying[..., 1]], axis=-1)
    path = tmp_path / "cam.npz"
    _save(path, cam, names, parents)
    with pytest.raises(MotionFormatError, match=r"cam\.npz: .*points along -y.*up_axis='-y'"):
        load_motion(path)
    motion = load_motion(path, up_axis="-y")
    assert motion.positions[..., 2].min() > -0.05


def test_z_up_clip_lying_along_y_most_of_the_time_loads(tmp_path):
    """A Z-up clip lying on the floor along ±y in 80 % of its frames (a get-up) keeps z up:
    its floor, steady along z, says so; read as Y up it would have none."""
    pos, names, parents = _walk_keypoints()
    forward = np.array([1.0, 0.0, 0.0])  # turned about x: the trunk lies along ±y
    lying = _lie_down(pos, slice(0, len(pos) * 4 // 5), forward)
    path = tmp_path / "getup.npz"
    _save(path, lying, names, parents)
    motion = load_motion(path)
    assert motion.metadata["up_axis"] == "z"
    assert np.median(motion.positions[: len(pos) * 4 // 5, :, 2].max(axis=1)) < 0.6  # lying
    # Written Y up, upright most of the time, it is still caught.
    mostly_up = _lie_down(pos, slice(0, len(pos) // 5), forward)
    _save(
        path,
        np.stack([mostly_up[..., 0], mostly_up[..., 2], -mostly_up[..., 1]], -1),
        names,
        parents,
    )
    with pytest.raises(MotionFormatError, match=r"points along y.*up_axis='y'"):
        load_motion(path)


def test_a_pickled_npy_says_what_it_is(tmp_path):
    """ASE/poselib motions are pickled objects in an ``.npy``: one line saying so, not
    numpy's ``allow_pickle`` message."""
    path = tmp_path / "amp_humanoid_walk.npy"
    np.save(path, np.array({"rotation": np.zeros((2, 15, 4))}, dtype=object), allow_pickle=True)
    with pytest.raises(
        MotionFormatError,
        match=r"amp_humanoid_walk\.npy: a pickled Python object, not a plain array .*expected "
        r"a \(frames, joints, 3\) float array",
    ):
        load_motion(path, fps=30)

"""GMR-style pickle: a plain dict, xyzw root, root-frame link positions, safe loading."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from retargetjax.io import MotionFileError, RobotMotion, read_gmr_pickle, write_gmr_pickle

JOINTS = ("hip", "knee")


@pytest.fixture(scope="module")
def motion() -> RobotMotion:
    yaw = np.array([0.0, np.pi / 2, np.pi])
    root_quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)
    root_pos = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    # The hand sits 0.5 m ahead of the root (root x axis), 0.2 m up, in every frame.
    ahead = np.stack([np.cos(yaw), np.sin(yaw), 0 * yaw], axis=-1)
    hand = root_pos + 0.5 * ahead + [0.0, 0.0, 0.2]
    return RobotMotion(
        fps=30.0,
        robot="toy",
        joint_names=JOINTS,
        joint_pos=np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
        root_pos=root_pos,
        root_quat=root_quat,
        body_names=("pelvis", "hand"),
        body_pos_w=np.stack([root_pos, hand], axis=1),
        body_quat_w=np.stack([root_quat, root_quat], axis=1),
    )


def test_payload_is_a_gmr_dict(tmp_path, motion):
    path = tmp_path / "m.pkl"
    write_gmr_pickle(motion, path)
    with open(path, "rb") as handle:
        payload = pickle.load(handle)
    assert isinstance(payload, dict) and payload["fps"] == 30.0
    np.testing.assert_allclose(payload["root_rot"][1], [0, 0, np.sin(np.pi / 4), np.cos(np.pi / 4)])
    assert payload["dof_pos"].shape == (3, 2) and payload["root_pos"].dtype == np.float32
    assert payload["link_body_list"] == ["pelvis", "hand"]
    np.testing.assert_allclose(payload["local_body_pos"][:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(payload["local_body_pos"][:, 1], [[0.5, 0, 0.2]] * 3, atol=1e-6)


def test_unpickles_without_retargetjax(tmp_path, motion):
    path = tmp_path / "m.pkl"
    motion.save(path)
    script = (
        "import sys, pickle; sys.modules['retargetjax'] = None\n"
        f"d = pickle.load(open({str(path)!r}, 'rb'))\n"
        "print(sorted(d), type(d['dof_pos']).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert "'dof_pos'" in out.stdout and "ndarray" in out.stdout


def test_round_trip_within_float32(tmp_path, motion):
    path = tmp_path / "m.pickle"
    motion.save(path)
    loaded = RobotMotion.load(path)
    assert loaded.robot == "toy" and loaded.joint_names == JOINTS and loaded.fps == 30.0
    np.testing.assert_array_equal(loaded.joint_pos, motion.joint_pos)
    np.testing.assert_array_equal(loaded.root_quat, motion.root_quat)
    assert loaded.body_names == motion.body_names and loaded.body_quat_w is None
    np.testing.assert_allclose(loaded.body_pos_w, motion.body_pos_w, atol=1e-6)


def test_peer_pickle_without_names(tmp_path, motion):
    path = tmp_path / "peer.pkl"
    payload = {
        "fps": 30,
        "root_pos": motion.root_pos.astype(np.float64),
        "root_rot": motion.root_quat[:, [1, 2, 3, 0]],
        "dof_pos": motion.joint_pos,
        "local_body_pos": None,
        "link_body_list": None,
    }
    with open(path, "wb") as handle:
        pickle.dump(payload, handle)
    with pytest.raises(MotionFileError, match=r"peer\.pkl: the file does not name its 2 joint"):
        read_gmr_pickle(path)
    loaded = read_gmr_pickle(path, joint_names=JOINTS)
    np.testing.assert_allclose(loaded.root_quat, motion.root_quat, atol=1e-7)
    assert loaded.body_pos_w is None and loaded.robot == "unknown"
    del payload["root_rot"]
    with open(path, "wb") as handle:
        pickle.dump(payload, handle)
    with pytest.raises(MotionFileError, match=r"peer\.pkl: missing key 'root_rot'"):
        read_gmr_pickle(path, joint_names=JOINTS)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickles_with_code_are_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"fps": 30, "x": _Exploit()}, handle)
    with pytest.raises(MotionFileError, match=r"evil\.pkl: .*refusing to load"):
        read_gmr_pickle(path)

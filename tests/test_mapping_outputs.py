"""Outputs made from any robot file stay usable: robot found from the recorded file and hash,
``robot=`` with the same path accepted, moved or changed files named in one line; a robot
that lacks keypoints the retarget needs is refused naming all it lacks."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.apps.evaluate import plot_main
from retargetjax.io import RobotMotion
from retargetjax.robot import RobotFileError, file_sha256, load_robot, robot_for_output


@pytest.fixture(scope="module")
def robot_file(tmp_path_factory):
    from test_mapping_topology import _synthetic_robot

    path = tmp_path_factory.mktemp("robots") / "my_robot.xml"
    path.write_text(_synthetic_robot(arms=True, extras=False))
    return path


def _output(robot_file, tmp_path):
    robot = load_robot(robot_file, verbose=False)
    T = 4
    motion = RobotMotion(
        fps=30.0,
        robot=robot.name,
        joint_names=tuple(robot.joint_names),
        joint_pos=np.zeros((T, robot.num_joints), np.float32),
        root_pos=np.tile(np.asarray(robot.default_root_pos, np.float32), (T, 1)),
        root_quat=np.tile(np.array([1, 0, 0, 0], np.float32), (T, 1)),
        metadata={
            "robot": robot.name,
            "robot_file": robot.source,
            "robot_sha256": robot.source_sha256,
        },
    )
    out = tmp_path / "clip.npz"
    motion.with_body_poses(robot).save(out)
    return out, robot


def test_robot_found_from_the_metadata_and_same_path_accepted(robot_file, tmp_path):
    out, robot = _output(robot_file, tmp_path)
    meta = RobotMotion.load(out).metadata
    assert robot_for_output(meta).name == robot.name
    assert robot_for_output(meta, str(robot_file)).source == robot.source
    with pytest.raises(RobotFileError, match="made with robot"):
        robot_for_output(meta, "unitree_g1")
    assert plot_main([f"input={out}", f"output={tmp_path / 'a.png'}"]) == 0
    assert plot_main([f"input={out}", f"output={tmp_path / 'b.png'}", f"robot={robot_file}"]) == 0


def test_moved_or_changed_robot_file_is_one_clear_line(robot_file, tmp_path):
    meta = {
        "robot": "synthetic",
        "robot_file": str(tmp_path / "gone.xml"),
        "robot_sha256": "0" * 64,
    }
    with pytest.raises(RobotFileError, match="moved or is gone") as err:
        robot_for_output(meta, where="clip.npz")
    assert "\n" not in str(err.value)
    meta = {"robot": "synthetic", "robot_file": str(robot_file), "robot_sha256": "0" * 64}
    with pytest.raises(RobotFileError, match="has changed"):
        robot_for_output(meta)
    with pytest.raises(SystemExit, match=r"error: .*has changed"):
        _fake = tmp_path / "x.npz"
        out, _ = _output(robot_file, tmp_path)
        data = dict(np.load(out))
        import json

        m = json.loads(str(data["metadata"]))
        m["robot_sha256"] = "1" * 64
        data["metadata"] = np.array(json.dumps(m))
        np.savez(_fake, **data)
        plot_main([f"input={_fake}", f"output={tmp_path / 'c.png'}"])
    assert len(file_sha256(robot_file)) == 64


def test_another_robot_file_is_not_called_changed(robot_file, tmp_path):
    """robot=OTHER.xml (another robot's file) used to say the output's file 'has changed'."""
    out, _ = _output(robot_file, tmp_path)
    meta = RobotMotion.load(out).metadata
    other = tmp_path / "other_robot.xml"
    other.write_text(robot_file.read_text().replace("<mujoco", "<!-- another -->\n<mujoco", 1))
    with pytest.raises(RobotFileError) as err:
        robot_for_output(meta, str(other), where="clip.npz")
    text = str(err.value)
    assert "\n" not in text and "has changed" not in text
    assert f"robot={other} is a different file" in text and str(robot_file) in text
    copy = tmp_path / "copy.xml"
    copy.write_text(robot_file.read_text())  # an identical copy is accepted
    assert robot_for_output(meta, str(copy)).name


def test_a_robot_without_required_keypoints_is_refused_naming_all_it_lacks(tmp_path):
    from retargetjax.motion import load_motion, sample_motion_path
    from retargetjax.retarget import RetargetConfig, RetargetError, prepare_problem
    from retargetjax.robot import robot_asset_path

    yaml_path = tmp_path / "map.yaml"
    yaml_path.write_text(
        "keypoints: {left_hip: null, right_hip: null, left_knee: null, head: null}\n"
    )
    robot = load_robot(robot_asset_path("unitree_g1"), keypoints_yaml=yaml_path, verbose=False)
    motion = load_motion(sample_motion_path()).trim(0, 20)
    with pytest.raises(RetargetError) as err:
        prepare_problem(motion, robot, RetargetConfig())
    message = str(err.value)
    assert "\n" not in message and message.startswith(robot.source)
    assert "no keypoint left_hip, right_hip " in message and "expected pelvis" in message
    assert "not tracked: neck, head, left_knee)" in message

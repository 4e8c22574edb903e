"""Headerless BeyondMimic-style CSV: layout, round trip, named errors."""

from __future__ import annotations

import types

import numpy as np
import pytest

from retargetjax.io import MotionFileError, RobotMotion, read_beyondmimic_csv

JOINTS = ("hip", "knee", "ankle")


@pytest.fixture(scope="module")
def motion() -> RobotMotion:
    rng = np.random.default_rng(2)
    yaw = np.linspace(0.0, 2.5, 9)
    return RobotMotion(
        fps=50.0,
        robot="toy",
        joint_names=JOINTS,
        joint_pos=rng.normal(size=(9, 3)),
        root_pos=rng.normal(size=(9, 3)),
        root_quat=np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1),
    )


def test_layout_is_headerless_xyz_xyzw_then_joints(tmp_path, motion):
    path = tmp_path / "m.csv"
    motion.save(path)
    lines = path.read_text().splitlines()
    assert len(lines) == 9
    first = [float(v) for v in lines[0].split(",")]
    assert len(first) == 7 + 3
    np.testing.assert_allclose(first[:3], motion.root_pos[0], rtol=1e-7)
    np.testing.assert_allclose(first[3:7], [0.0, 0.0, 0.0, 1.0])  # identity quaternion, xyzw
    np.testing.assert_allclose(first[7:], motion.joint_pos[0], rtol=1e-7)
    last = [float(v) for v in lines[-1].split(",")]
    np.testing.assert_allclose(last[3:7], motion.root_quat[-1, [1, 2, 3, 0]], rtol=1e-7)


def test_round_trip_within_float32(tmp_path, motion):
    path = tmp_path / "m.csv"
    motion.save(path)
    loaded = RobotMotion.load(path, joint_names=JOINTS, fps=50.0)
    assert loaded.fps == 50.0 and loaded.joint_names == JOINTS
    np.testing.assert_array_equal(loaded.joint_pos, motion.joint_pos)  # 9 digits: exact
    np.testing.assert_array_equal(loaded.root_pos, motion.root_pos)
    np.testing.assert_array_equal(loaded.root_quat, motion.root_quat)
    assert RobotMotion.load(path, joint_names=JOINTS).fps == 30.0  # the default


def test_robot_model_names_the_columns(tmp_path, motion):
    path = tmp_path / "m.csv"
    motion.save(path)
    robot = types.SimpleNamespace(name="toy", joint_names=JOINTS, body_names=("pelvis",))
    loaded = read_beyondmimic_csv(path, robot=robot)
    assert loaded.robot == "toy" and loaded.joint_names == JOINTS


def test_whitespace_and_blank_lines_are_accepted(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text("\n0 0 0.8 0 0 0 1 0.5\n\n1 0 0.8 0 0 0 1 0.25\n\n")
    loaded = read_beyondmimic_csv(path, joint_names=["elbow"])
    np.testing.assert_allclose(loaded.joint_pos[:, 0], [0.5, 0.25])
    np.testing.assert_allclose(loaded.root_quat[0], [1.0, 0.0, 0.0, 0.0])


def test_wrong_column_count_names_file_line_and_expected_count(tmp_path, motion):
    path = tmp_path / "bad.csv"
    motion.save(path)
    lines = path.read_text().splitlines()
    lines[4] = lines[4] + ",0.1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MotionFileError, match=r"bad\.csv, line 5: expected 10 columns .* got 11"):
        read_beyondmimic_csv(path, joint_names=JOINTS)
    with pytest.raises(MotionFileError, match=r"line 1: expected 9 columns"):
        read_beyondmimic_csv(path, joint_names=JOINTS[:2])


def test_non_numeric_value_names_line_and_column(tmp_path, motion):
    path = tmp_path / "text.csv"
    motion.save(path)
    lines = path.read_text().splitlines()
    cells = lines[2].split(",")
    cells[8] = "abc"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines))
    with pytest.raises(MotionFileError, match=r"text\.csv, line 3, column 9: 'abc' is not"):
        read_beyondmimic_csv(path, joint_names=JOINTS)
    cells[8] = "nan"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines))
    with pytest.raises(MotionFileError, match=r"line 3, column 9: non-finite value 'nan'"):
        read_beyondmimic_csv(path, joint_names=JOINTS)


def test_unnamed_columns_and_empty_files_are_errors(tmp_path, motion):
    path = tmp_path / "m.csv"
    motion.save(path)
    with pytest.raises(MotionFileError, match=r"m\.csv: the file does not name its 3 joint"):
        read_beyondmimic_csv(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(MotionFileError, match=r"empty\.csv: no data rows"):
        read_beyondmimic_csv(empty, joint_names=JOINTS)
    bad_quat = tmp_path / "quat.csv"
    bad_quat.write_text("0,0,0,0,0,0,0,1\n")
    with pytest.raises(MotionFileError, match=r"quat\.csv: RobotMotion\.root_quat"):
        read_beyondmimic_csv(bad_quat, joint_names=["elbow"])

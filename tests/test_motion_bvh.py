"""BVH reader: forward kinematics against bvhio and hand-computed poses, formats, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import (
    MotionFormatError,
    bvh_forward_kinematics,
    load_bvh,
    load_motion,
    read_bvh,
)
from retargetjax.motion._np_geometry import quat_to_mat_np
from retargetjax.types import MotionFormatKind

SAMPLES = ("mocapbank_walk.bvh", "mixamo_rig.bvh", "meredith_walk_120fps.bvh")

TWO_JOINT = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition {order}
\tJOINT Chest
\t{{
\t\tOFFSET 0 10 0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tEnd Site
\t\t{{
\t\t\tOFFSET 0 5 0
\t\t}}
\t}}
}}
MOTION
Frames: 2
Frame Time: 0.01
1 2 3 {a} 0 0 0
0 100 0 0 0 0 0 0 90
"""


def _two_joint(tmp_path, order="Zrotation Xrotation Yrotation", a="90 0 0", name="t.bvh"):
    text = TWO_JOINT.replace("{order}", order).replace("{a}", a)
    text = text.replace("{{", "{").replace("}}", "}")
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", SAMPLES)
def test_forward_kinematics_matches_bvhio(shared_data, name):
    """World joint positions agree with the independent bvhio package within 1e-4 m."""
    bvhio = pytest.importorskip("bvhio")
    path = shared_data / "motions" / "bvh" / name
    motion = load_bvh(path)
    scale = motion.metadata["meters_per_unit"]
    root = bvhio.readAsHierarchy(str(path))
    C = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    n_frames = motion.num_frames
    frames = sorted({0, n_frames - 1, *range(0, n_frames, max(1, n_frames // 12))})
    worst = 0.0
    checked = 0
    for frame in frames:
        root.loadPose(frame)
        for joint, _, _ in root.layout():
            ref = C @ (np.array(joint.PositionWorld, dtype=np.float64) * scale)
            got = motion.positions[frame, motion.joint_index(joint.Name)]
            worst = max(worst, float(np.abs(got - ref).max()))
            checked += 1
    assert checked > 100
    assert worst < 1e-4, f"{name}: max deviation {worst} m from bvhio"


def test_hand_computed_two_joint_pose(tmp_path):
    """Root rotated 90° about Z (Y-up file): the chest offset (0, 10, 0) points along -X."""
    motion = load_bvh(_two_joint(tmp_path), units="cm", up_axis="y")
    assert motion.joint_names == ("Hips", "Chest", "Chest_End")
    np.testing.assert_array_equal(motion.parents, [-1, 0, 1])
    # Frame 0: root at (1, 2, 3) cm, Rz(90) maps (0, 10, 0) to (-10, 0, 0); end site likewise.
    yup = np.array([[1, 2, 3], [1 - 10, 2, 3], [1 - 15, 2, 3]], dtype=np.float64) / 100
    zup = yup[:, [0, 2, 1]] * np.array([1, -1, 1])
    np.testing.assert_allclose(motion.positions[0], zup, atol=1e-6)
    # Frame 1: chest Yrotation 90 does not move its own position; the end site is on its Y axis.
    np.testing.assert_allclose(
        motion.positions[1, 2] - motion.positions[1, 1], [0, 0, 0.05], atol=1e-6
    )
    # Orientation of the root at frame 0: C · Rz(90) as a quaternion.
    from retargetjax.geometry import quat_to_mat

    C = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    Rz90 = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(quat_to_mat(motion.orientations[0, 0]), C @ Rz90, atol=1e-6)


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
def test_every_rotation_order(tmp_path, order):
    """Intrinsic product in channel order: R = R_a(α) R_b(β) R_c(γ) for every permutation."""
    channels = " ".join(f"{c}rotation" for c in order)
    angles = np.array([30.0, -50.0, 70.0])
    path = _two_joint(tmp_path, order=channels, a=" ".join(str(v) for v in angles))
    sk, _, values = read_bvh(path)
    _, quat, rot = bvh_forward_kinematics(sk, values, dtype=np.float64)

    def R(axis, deg):
        c, s = np.cos(np.deg2rad(deg)), np.sin(np.deg2rad(deg))
        return {
            "X": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "Y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "Z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
        }[axis]

    expected = R(order[0], angles[0]) @ R(order[1], angles[1]) @ R(order[2], angles[2])
    np.testing.assert_allclose(rot[0, 0], expected, atol=1e-12)
    # The quaternions are updated alongside: they describe the same rotations.
    np.testing.assert_allclose(quat_to_mat_np(quat), rot, atol=1e-6)


def test_position_channels_on_any_joint_and_crlf_tabs(tmp_path):
    text = (
        "HIERARCHY\r\nROOT  Root\r\n{\r\n  OFFSET 0 0 0\r\n"
        "  CHANNELS 3 Zrotation Yrotation Xrotation\r\n"
        "\tJOINT Child\r\n\t{\r\n\t\tOFFSET 1 2 3\r\n\t\tCHANNELS 4 Yposition Xrotation Zposition "
        "Yrotation\r\n\t}\r\n}\r\nMOTION\r\nFrames:\t1\r\nFrame Time:\t0.5\r\n0 0 0 7 0 9 0\r\n\r\n"
    )
    path = tmp_path / "crlf.bvh"
    path.write_bytes(text.encode())
    motion = load_bvh(path, units="m", up_axis="z")
    # Position channels replace the OFFSET components they name; X keeps the offset.
    np.testing.assert_allclose(motion.positions[0, 1], [1, 7, 9])
    assert motion.fps == 2.0
    assert motion.metadata["end_sites"] == ()


def test_units_and_up_axis_overrides(tmp_path):
    path = _two_joint(tmp_path)
    cm = load_bvh(path, units="cm")
    inch = load_bvh(path, units="in")
    np.testing.assert_allclose(inch.positions, cm.positions * 2.54, rtol=1e-6, atol=1e-7)
    zup = load_bvh(path, units=0.01, up_axis="z")
    np.testing.assert_allclose(zup.positions[..., 2], cm.positions[..., 1] * -1, atol=1e-7)
    no_end = load_bvh(path, end_sites=False)
    assert no_end.joint_names == ("Hips", "Chest")
    with pytest.raises(MotionFormatError, match="unknown units"):
        load_bvh(path, units="furlong")


@pytest.mark.parametrize(
    ("name", "units", "fps"),
    [
        ("mocapbank_walk.bvh", "cm", 30.0),
        ("mixamo_rig.bvh", "cm", 30.0),
        ("meredith_walk_120fps.bvh", "in", 120.0),
    ],
)
def test_samples_units_fps_and_consistent_orientations(shared_data, name, units, fps):
    motion = load_motion(shared_data / "motions" / "bvh" / name)
    assert motion.format is MotionFormatKind.BVH
    assert motion.metadata["units"] == units
    assert motion.fps == fps
    assert motion.positions.dtype == np.float32
    assert motion.orientations is not None
    np.testing.assert_allclose(np.linalg.norm(motion.orientations, axis=-1), 1.0, atol=1e-5)
    # p_child - p_parent = R_parent · offset, the relation the BVH writer relies on.
    from retargetjax.geometry import quat_rotate

    offsets = motion.metadata["rest_offsets_m"]
    child = np.flatnonzero(motion.parents >= 0)
    par = motion.parents[child]
    bone = motion.positions[:, child] - motion.positions[:, par]
    pred = np.asarray(
        quat_rotate(motion.orientations[:, par], np.broadcast_to(offsets[child], bone.shape))
    )
    # Joints with position channels translate by their channels, not their offsets.
    static = [
        k
        for k, j in enumerate(child)
        if not any(
            c.endswith("position") for c in motion.metadata["bvh_channels"][motion.joint_names[j]]
        )
    ]
    np.testing.assert_allclose(pred[:, static], bone[:, static], atol=2e-5)


# -- bad input -------------------------------------------------------------------------------

GOOD = TWO_JOINT.replace("{order}", "Zrotation Xrotation Yrotation").replace("{a}", "90 0 0")
GOOD = GOOD.replace("{{", "{").replace("}}", "}")


def _write(tmp_path, text):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    return path


def _motion_line(text, k):
    """1-based file line of MOTION data line k (0-based)."""
    lines = text.splitlines()
    return lines.index("Frame Time: 0.01") + 2 + k


def test_truncated_motion_block(tmp_path):
    text = GOOD.rsplit("\n", 2)[0] + "\n"
    with pytest.raises(MotionFormatError, match=r"bad\.bvh:\d+: .*truncated.*expected 2"):
        load_bvh(_write(tmp_path, text))


def test_wrong_number_of_values(tmp_path):
    text = GOOD.replace("0 100 0 0 0 0 0 0 90", "0 100 0 0 0 0 0 0")
    line = _motion_line(text, 1)
    with pytest.raises(MotionFormatError, match=rf"bad\.bvh:{line}: 8 values .*expected 9"):
        load_bvh(_write(tmp_path, text))


def test_non_numeric_value(tmp_path):
    text = GOOD.replace("0 100 0 0 0 0 0 0 90", "0 100 0 0 0 0 0 abc 90")
    line = _motion_line(text, 1)
    with pytest.raises(
        MotionFormatError, match=rf"bad\.bvh:{line}: value 'abc' for Chest Xrotation"
    ):
        load_bvh(_write(tmp_path, text))


def test_nan_value(tmp_path):
    text = GOOD.replace("1 2 3 90", "nan 2 3 90")
    line = _motion_line(text, 0)
    with pytest.raises(
        MotionFormatError, match=rf"bad\.bvh:{line}: .*Hips Xposition is not finite"
    ):
        load_bvh(_write(tmp_path, text))


def test_zero_frames(tmp_path):
    text = GOOD.split("Frames:")[0] + "Frames: 0\nFrame Time: 0.01\n"
    with pytest.raises(MotionFormatError, match="0 frames; expected at least one"):
        load_bvh(_write(tmp_path, text))


def test_bad_hierarchy_names_line(tmp_path):
    text = GOOD.replace("OFFSET 0 10 0", "OFFSET 0 ten 0")
    line = text.splitlines().index("\t\tOFFSET 0 ten 0") + 1
    with pytest.raises(
        MotionFormatError, match=rf"bad\.bvh:{line}: found 'ten'; expected a number"
    ):
        load_bvh(_write(tmp_path, text))
    text = GOOD.replace(
        "CHANNELS 3 Zrotation Xrotation Yrotation", "CHANNELS 3 Zrotation Wrotation Y"
    )
    with pytest.raises(MotionFormatError, match="unknown channel 'Wrotation'"):
        load_bvh(_write(tmp_path, text))
    with pytest.raises(MotionFormatError, match="no MOTION block"):
        load_bvh(_write(tmp_path, GOOD.split("MOTION")[0]))
    with pytest.raises(MotionFormatError, match="does not start with 'HIERARCHY'"):
        load_bvh(_write(tmp_path, "hello\n"))
    text = GOOD.replace("Frame Time: 0.01", "Frame Time: fast")
    with pytest.raises(MotionFormatError, match="frame time 'fast'"):
        load_bvh(_write(tmp_path, text))


def test_many_frames_parse_in_chunks(tmp_path):
    """Large files are parsed in threads; an error deep in a later chunk keeps its line."""
    header, _ = GOOD.split("MOTION")
    n = 9000
    rows = ["1 2 3 4 5 6 7 8 9"] * n
    rows[7777] = "1 2 3 4 5 6 7 8"
    text = header + f"MOTION\nFrames: {n}\nFrame Time: 0.01\n" + "\n".join(rows) + "\n"
    line = text.splitlines().index("1 2 3 4 5 6 7 8") + 1
    with pytest.raises(MotionFormatError, match=rf"bad\.bvh:{line}: 8 values"):
        load_bvh(_write(tmp_path, text))
    rows[7777] = "1 2 3 4 5 6 7 8 9"
    text = header + f"MOTION\nFrames: {n}\nFrame Time: 0.01\n" + "\n".join(rows) + "\n"
    motion = load_bvh(_write(tmp_path, text))
    assert motion.num_frames == n
    assert np.allclose(motion.positions[0], motion.positions[-1])


def test_two_roots_duplicate_names_and_zero_channel_joints(tmp_path):
    text = (
        "HIERARCHY\nROOT A\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
        " JOINT Fixed\n {\n  OFFSET 0 1 0\n  CHANNELS 0\n"
        "  End Site\n  {\n   OFFSET 0 1 0\n  }\n }\n}\n"
        "ROOT A\n{\n OFFSET 5 0 0\n CHANNELS 1 Yrotation\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.1\n1 0 0 0\n2 0 0 90\n"
    )
    path = tmp_path / "roots.bvh"
    path.write_text(text)
    motion = load_bvh(path, units="m", up_axis="z")
    assert motion.joint_names == ("A", "Fixed", "Fixed_End", "A2")
    np.testing.assert_array_equal(motion.parents, [-1, 0, 1, -1])
    np.testing.assert_allclose(
        motion.positions[1, :3], [[2, 0, 0], [2, 1, 0], [2, 2, 0]], atol=1e-6
    )
    # The second root has no position channels: it sits at its OFFSET.
    np.testing.assert_allclose(motion.positions[:, 3], [[5, 0, 0], [5, 0, 0]], atol=1e-6)

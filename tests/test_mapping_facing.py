"""Robots whose root frame does not have x forward (iCub's faces −x): the topology reads the
facing off the feet, so sides, soles and the retarget come out as for the same robot drawn
with x forward. The turned robots are the bundled ones with their root's children turned
180° about z (solves are small: a short clip, a few iterations)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retargetjax.robot import guess_keypoints, load_robot, parse_robot_file, robot_asset_path
from retargetjax.types import RobotKind

BUNDLED = [RobotKind.UNITREE_G1, RobotKind.UNITREE_H1, RobotKind.BOOSTER_T1]
_HALF_TURN_WXYZ = np.array([0.0, 0.0, 0.0, 1.0])


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def _turn_root_half(src: Path, dst: Path) -> None:
    """Copy an MJCF robot with everything on its root body turned 180° about z: the robot is
    the same, but faces −x (and its left is −y) in its root frame."""
    tree = ET.parse(src)
    root_body = tree.getroot().find("worldbody").find("body")
    for el in root_body:
        if el.tag not in ("body", "geom", "site", "inertial"):
            continue
        for key in ("pos", "fromto"):
            if key in el.attrib:
                v = np.array(el.attrib[key].split(), float).reshape(-1, 3)
                v[:, :2] *= -1.0
                el.attrib[key] = " ".join(f"{x:.9g}" for x in v.ravel())
        if el.tag in ("body", "geom", "site", "inertial"):
            q = np.array(el.attrib.get("quat", "1 0 0 0").split(), float)
            el.attrib["quat"] = " ".join(f"{x:.9g}" for x in _quat_mul(_HALF_TURN_WXYZ, q))
    tree.write(dst)


@pytest.mark.parametrize("kind", BUNDLED, ids=lambda k: k.value)
def test_a_robot_facing_minus_x_keeps_its_sides(tmp_path, kind):
    src = robot_asset_path(kind)
    dst = tmp_path / f"turned_{src.name}"
    _turn_root_half(src, dst)
    a = guess_keypoints(parse_robot_file(src))
    b = guess_keypoints(parse_robot_file(dst))
    assert a.facing == 0.0 and abs(abs(b.facing) - np.pi) < 1e-9
    assert b.feet == a.feet
    root = parse_robot_file(src).bodies[0].name
    for key, (body, offset) in a.keypoints.items():
        assert b.keypoints[key][0] == body, key
        # Offsets on the root body turn with its frame; all other frames are the same.
        turn = np.array([-1.0, -1.0, 1.0]) if body == root else np.ones(3)
        np.testing.assert_allclose(b.keypoints[key][1], turn * offset, atol=1e-6, err_msg=key)
    assert not any(n.startswith("names: ") and "_hip" in n for n in b.notes)
    assert any(n.startswith("facing: ") and "faces -x" in n for n in b.notes)
    # The soles keep their toe in front: the same points in the (unturned) foot frames.
    ra, rb = load_robot(src, verbose=False), load_robot(dst, verbose=False)
    np.testing.assert_allclose(rb.sole_points, ra.sole_points, atol=1e-6)
    assert "faces -x" in rb.mapping_report


@pytest.mark.slow
def test_a_robot_facing_minus_x_retargets_the_same_motion(tmp_path):
    from retargetjax.geometry._host import quat_to_mat_np
    from retargetjax.motion import load_motion, sample_motion_path
    from retargetjax.retarget import RetargetConfig, SolverConfig, retarget

    tiny = RetargetConfig(
        solver=SolverConfig(window=32, overlap=8, init_iterations=3, iterations=3, cg_iterations=8)
    )
    clip = load_motion(sample_motion_path()).trim(0, 40)
    src = robot_asset_path(RobotKind.UNITREE_G1)
    dst = tmp_path / "g1_facing_minus_x.xml"
    _turn_root_half(src, dst)
    a = retarget(clip, load_robot(src, verbose=False), tiny)
    b = retarget(clip, load_robot(dst, verbose=False), tiny)
    np.testing.assert_allclose(b.joint_pos, a.joint_pos, atol=1e-3)
    np.testing.assert_allclose(b.root_pos, a.root_pos, atol=1e-3)
    # The same body in the world: the turned root frame is the original one turned by 180°.
    half_turn = np.diag([-1.0, -1.0, 1.0])
    rot_a = quat_to_mat_np(np.asarray(a.root_quat, np.float64))
    rot_b = quat_to_mat_np(np.asarray(b.root_quat, np.float64))
    np.testing.assert_allclose(rot_b, rot_a @ half_turn, atol=2e-3)


def _strip_feet(src: Path, dst: Path, feet: tuple[str, ...]) -> None:
    """Copy an MJCF robot with every shape and site of its feet removed (as a foot whose
    collision is only a mesh: no sole to read the facing from)."""
    tree = ET.parse(src)
    for body in tree.getroot().iter("body"):
        if body.get("name") in feet:
            for part in list(body.iter()):
                for el in [c for c in part if c.tag in ("geom", "site")]:
                    part.remove(el)
    tree.write(dst)


@pytest.mark.parametrize("kind", BUNDLED, ids=lambda k: k.value)
def test_without_soles_the_knees_tell_the_facing(tmp_path, kind):
    """Feet without shapes say nothing; the knees, which bend the shin backwards, then do."""
    src = robot_asset_path(kind)
    feet = guess_keypoints(parse_robot_file(src)).feet
    turned, bare, bare_turned = (tmp_path / f"{n}_{src.name}" for n in ("t", "b", "bt"))
    _turn_root_half(src, turned)
    _strip_feet(src, bare, feet)
    _strip_feet(turned, bare_turned, feet)
    a = guess_keypoints(parse_robot_file(bare))
    b = guess_keypoints(parse_robot_file(bare_turned))
    assert a.facing == 0.0 and abs(abs(b.facing) - np.pi) < 1e-9
    for key in ("left_hip", "left_knee", "left_ankle", "right_shoulder", "right_wrist"):
        assert b.keypoints[key][0] == a.keypoints[key][0], key


def _turn_root(src: Path, dst: Path, yaw: float) -> None:
    """Copy an MJCF robot with everything on its root body turned by ``yaw`` about z."""
    c, s = np.cos(yaw), np.sin(yaw)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    q_turn = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    tree = ET.parse(src)
    root_body = tree.getroot().find("worldbody").find("body")
    for el in root_body:
        if el.tag not in ("body", "geom", "site", "inertial"):
            continue
        for key in ("pos", "fromto"):
            if key in el.attrib:
                v = np.array(el.attrib[key].split(), float).reshape(-1, 3) @ turn.T
                el.attrib[key] = " ".join(f"{x:.9g}" for x in v.ravel())
        q = np.array(el.attrib.get("quat", "1 0 0 0").split(), float)
        el.attrib["quat"] = " ".join(f"{x:.9g}" for x in _quat_mul(q_turn, q))
    tree.write(dst)


def test_when_feet_and_knees_say_nothing_the_names_tell_the_facing(tmp_path):
    """Poppy Humanoid's case: mesh-only feet, knees whose limits are mirrored about one world
    axis (their votes cancel), the right leg first in the file and the robot facing 10° past
    −y, away from +x (so "the candidate nearer +x" is the wrong one): the left/right names
    break the tie, so its left stays its left (and the facing is snapped to −y)."""
    src = robot_asset_path(RobotKind.UNITREE_H1)
    feet = guess_keypoints(parse_robot_file(src)).feet
    text = src.read_text()
    # Mirror the left knee's limits (same axis): it now bends the other way in the world.
    assert text.count('name="left_knee" axis="0 1 0" range="-0.26 2.05"') == 1
    text = text.replace(
        'name="left_knee" axis="0 1 0" range="-0.26 2.05"',
        'name="left_knee" axis="0 1 0" range="-2.05 0.26"',
    )
    tree = ET.ElementTree(ET.fromstring(text))
    root_body = tree.getroot().find("worldbody").find("body")
    legs = [b for b in root_body.findall("body") if "hip" in b.get("name")]
    assert [b.get("name").split("_")[0] for b in legs] == ["left", "right"]
    root_body.remove(legs[1])
    root_body.insert(list(root_body).index(legs[0]), legs[1])  # the right leg first
    mirrored, bare, turned = (tmp_path / f"{n}_{src.name}" for n in ("m", "b", "t"))
    tree.write(mirrored)
    _strip_feet(mirrored, bare, feet)
    _turn_root(bare, turned, np.radians(-100.0))
    a = guess_keypoints(parse_robot_file(bare))
    b = guess_keypoints(parse_robot_file(turned))
    assert a.facing == 0.0 and b.facing == pytest.approx(-0.5 * np.pi)
    assert b.feet == a.feet == feet
    for key in ("left_hip", "left_knee", "left_ankle", "right_shoulder", "right_wrist"):
        assert b.keypoints[key][0] == a.keypoints[key][0], key
    assert not any(n.startswith("names: ") for n in b.notes), b.notes
    assert any(n.startswith("facing: ") and "faces -y and its left is +x" in n for n in b.notes)

"""MJCF floating root spelled out as three slide joints (+ a ball joint), as humanoid-gym's
files (XBot-L) write it: read as the free joint it is, anything else on the root refused.
A root body turned in the file (dm_control's CMU humanoid: a y-up tree stood up by the
root's ``euler="90 0 0"``) stands as the file stands it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retargetjax.robot import (
    RobotFileError,
    forward_kinematics,
    guess_keypoints,
    load_robot,
    parse_robot_file,
    robot_asset_path,
)
from retargetjax.robot._mjcf import parse_mjcf
from retargetjax.types import RobotKind

FREE = '<freejoint name="floating_base_joint" />'
SLIDES = (
    "<joint name='root_x' type='slide' axis='1 0 0' limited='false'/>"
    "<joint name='root_y' type='slide' axis='0 1 0' limited='false'/>"
    "<joint name='root_z' type='slide' axis='0 0 1' limited='false'/>"
)
BALL = "<joint name='root_ball' type='ball' limited='false'/>"


def _g1_with_root(tmp_path, root: str, keyframe: str = ""):
    text = robot_asset_path("unitree_g1").read_text()
    assert text.count(FREE) == 1
    text = text.replace(FREE, root).replace("</mujoco>", keyframe + "</mujoco>")
    path = tmp_path / "g1_root.xml"
    path.write_text(text)
    return path


def _joints(desc):
    return [
        (b.name, j.name, j.kind, tuple(j.axis), tuple(j.anchor))
        for b in desc.bodies
        for j in b.joints
    ]


@pytest.mark.parametrize("root", [SLIDES + BALL, SLIDES], ids=["slides_and_ball", "slides"])
def test_spelled_out_free_joint_is_the_floating_base(tmp_path, root):
    free = parse_mjcf(robot_asset_path("unitree_g1"))
    names = [j.name for b in free.bodies for j in b.joints]
    q = np.zeros(len(names))
    q[names.index("left_knee_joint")] = 0.5
    root_q = [0.1, 0.0, 0.0] + ([1, 0, 0, 0] if BALL in root else [])
    key = f'<keyframe><key name="crouch" qpos="{" ".join(map(str, [*root_q, *q]))}"/></keyframe>'
    path = _g1_with_root(tmp_path, root, key)
    with pytest.warns(UserWarning, match=r"note: the root body 'pelvis' floats on three slide"):
        desc = parse_mjcf(path)
    assert _joints(desc) == _joints(free)
    assert [b.name for b in desc.bodies] == [b.name for b in free.bodies]
    for a, b in zip(desc.bodies, free.bodies):
        np.testing.assert_allclose(a.pos, b.pos)
        np.testing.assert_allclose(a.rot, b.rot)
    assert desc.keyframes["crouch"]["left_knee_joint"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("root", "what"),
    [
        ("<joint name='root_hinge' axis='0 0 1'/>", "a hinge joint"),
        (SLIDES.replace("axis='0 1 0'", "axis='1 1 0'") + BALL, "a slide joint"),
        (BALL + SLIDES, "a ball joint"),
        (SLIDES + BALL + "<joint name='extra' axis='1 0 0'/>", "a slide joint"),
    ],
    ids=["hinge", "slides_not_orthogonal", "ball_first", "extra_hinge"],
)
def test_other_joints_on_the_root_are_one_clear_error(tmp_path, root, what):
    path = _g1_with_root(tmp_path, root)
    with pytest.raises(RobotFileError) as info:
        parse_mjcf(path)
    message = str(info.value)
    assert str(path) in message and f"{what} on the floating root body" in message
    assert "expected a <freejoint/> there (or three slide joints along orthogonal axes" in message


#: ``wxyz`` of +90° about x: MJCF ``euler="90 0 0"`` (degrees), which stands a y-up tree up.
_UP_X = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0])


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


def _rot_x(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _draw_y_up(src: Path, dst: Path, stand_up: bool) -> None:
    """Copy an MJCF robot with everything on its root body turned −90° about x (the tree
    drawn y-up in the root frame), and, when ``stand_up``, the root itself turned +90° about
    x: the same robot in the world, as dm_control's CMU humanoid is written."""
    tree = ET.parse(src)
    root_body = tree.getroot().find("worldbody").find("body")
    turn, q_turn = _rot_x(-90.0), np.array([np.cos(np.pi / 4), -np.sin(np.pi / 4), 0.0, 0.0])
    for el in list(root_body):
        if el.tag == "camera":
            root_body.remove(el)
            continue
        if el.tag not in ("body", "geom", "site", "inertial"):
            continue
        for key in ("pos", "fromto"):
            if key in el.attrib:
                v = np.array(el.attrib[key].split(), float).reshape(-1, 3) @ turn.T
                el.attrib[key] = " ".join(f"{x:.9g}" for x in v.ravel())
        q = np.array(el.attrib.get("quat", "1 0 0 0").split(), float)
        el.attrib["quat"] = " ".join(f"{x:.9g}" for x in _quat_mul(q_turn, q))
    if stand_up:
        root_body.attrib["euler"] = "1.5707963267948966 0 0"  # the files' angle is radian
    tree.write(dst)


@pytest.mark.parametrize(
    "kind", [RobotKind.UNITREE_G1, RobotKind.BOOSTER_T1], ids=lambda k: k.value
)
def test_a_root_turned_in_the_file_stands_the_robot_up(tmp_path, kind):
    """A y-up tree under a root whose own orientation stands it up maps as the z-up robot,
    and its standing pose and first root targets are the same body in the world."""
    from retargetjax.geometry._host import quat_to_mat_np
    from retargetjax.motion import load_motion, sample_motion_path
    from retargetjax.retarget import prepare_problem

    src = robot_asset_path(kind)
    dst = tmp_path / f"y_up_{src.name}"
    _draw_y_up(src, dst, stand_up=True)
    a = guess_keypoints(parse_robot_file(src))
    b = guess_keypoints(parse_robot_file(dst))
    assert b.facing == 0.0 and b.feet == a.feet
    assert {k: v[0] for k, v in b.keypoints.items()} == {k: v[0] for k, v in a.keypoints.items()}
    ra, rb = load_robot(src, verbose=False), load_robot(dst, verbose=False)
    np.testing.assert_allclose(np.asarray(ra.default_root_quat), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(rb.default_root_quat), _UP_X, atol=1e-6)
    np.testing.assert_allclose(rb.default_root_pos, ra.default_root_pos, atol=1e-5)
    np.testing.assert_allclose(rb.sole_points, ra.sole_points, atol=1e-5)
    fa = forward_kinematics(ra, ra.default_root_pos, ra.default_root_quat, ra.default_joint_pos)
    fb = forward_kinematics(rb, rb.default_root_pos, rb.default_root_quat, rb.default_joint_pos)
    np.testing.assert_allclose(fb.pos, fa.pos, atol=1e-5)
    # The solve starts from the same body in the world: the root frame turned by the file's.
    clip = load_motion(sample_motion_path()).trim(0, 20)
    pa, pb = prepare_problem(clip, ra), prepare_problem(clip, rb)
    np.testing.assert_allclose(pb.root_pos_init, pa.root_pos_init, atol=1e-4)
    rot_a = quat_to_mat_np(np.asarray(pa.root_quat_init, np.float64))
    rot_b = quat_to_mat_np(np.asarray(pb.root_quat_init, np.float64))
    np.testing.assert_allclose(rot_b, rot_a @ _rot_x(90.0), atol=1e-4)


def test_a_y_up_tree_is_refused_with_a_hint(tmp_path):
    """Without the root's orientation the same tree lies along y: the topology says so."""
    dst = tmp_path / "y_up_g1.xml"
    _draw_y_up(robot_asset_path("unitree_g1"), dst, stand_up=False)
    notes = guess_keypoints(parse_robot_file(dst)).notes
    assert any(
        n.startswith("topology: ")
        and "the tree lies along y in the file pose" in n
        and "expected a z-up robot" in n
        for n in notes
    ), notes

"""MJCF floating root spelled out as three slide joints (+ a ball joint), as humanoid-gym's
files (XBot-L) write it: read as the free joint it is, anything else on the root refused."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.robot import RobotFileError, robot_asset_path
from retargetjax.robot._mjcf import parse_mjcf

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

# ruff: noqa: E501  (inline XML fixtures read best one element per line)
"""Robot files of kinds the sample robots do not show (found on held-out humanoids): an
ankle-roll link a few cm from the ankle pitch (it is the foot, not a toe), four or three
chains on the floor (a quadruped, a wheeled base), mesh-only feet sized by their inertia,
a foot box pitched in its body, a flat disc under the toe. Names are opaque on purpose."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.robot import RobotFileError, load_robot
from retargetjax.robot._description import inertia_box


def _leg(n: int, y: float, foot: str, roll_pos: str = "0 0 0") -> str:
    return f"""
      <body name="q{n}a" pos="0 {y} -0.08">
        <joint name="j{n}a" axis="0 1 0"/>
        <body name="q{n}b"><joint name="j{n}b" axis="1 0 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.35" size="0.04"/>
          <body name="q{n}c" pos="0 0 -0.35"><joint name="j{n}c" axis="0 1 0" range="0 2.5"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.35" size="0.035"/>
            <body name="q{n}d" pos="0 0 -0.35"><joint name="j{n}d" axis="0 1 0"/>
              <body name="q{n}e" pos="{roll_pos}"><joint name="j{n}e" axis="1 0 0"/>
                {foot.replace("@", str(n))}
              </body>
            </body>
          </body>
        </body>
      </body>"""


def _robot(foot: str, roll_pos: str = "0 0 0", extra_legs: int = 0) -> str:
    legs = _leg(1, 0.1, foot, roll_pos) + _leg(2, -0.1, foot, roll_pos)
    for k in range(extra_legs):  # more chains to the floor, behind the first two
        legs += _leg(3 + k, 0.1 - 0.2 * k, foot).replace('pos="0 ', 'pos="-0.6 ', 1)
    return f"""<mujoco model="x">
  <compiler angle="radian"/>
  <worldbody>
    <body name="r0" pos="0 0 0.9">
      <freejoint/>
      <geom type="box" size="0.08 0.12 0.05"/>
      {legs}
      <body name="t0" pos="0 0 0.08"><joint name="t0j" axis="0 0 1"/>
        <geom type="box" size="0.08 0.14 0.18" pos="0 0 0.2"/>
      </body>
    </body>
  </worldbody>
</mujoco>"""


_BOX_FOOT = '<geom type="box" size="0.1 0.04 0.01" pos="0.04 0 -0.05"/>'


def _load(tmp_path, text: str, name: str = "robot.xml"):
    path = tmp_path / name
    path.write_text(text)
    return load_robot(path, verbose=False)


def _foot(robot, side: int = 0) -> str:
    return robot.body_names[robot.foot_body[side]]


@pytest.mark.parametrize("roll_pos", ["0.02 0 0", "0 0.02 0", "-0.024 -0.019 0"])
def test_an_ankle_roll_link_beside_the_ankle_pitch_is_the_foot_not_a_toe(tmp_path, roll_pos):
    robot = _load(tmp_path, _robot(_BOX_FOOT, roll_pos))
    assert _foot(robot) == "q1e" and _foot(robot, 1) == "q2e"
    kp = dict(zip(robot.keypoint_names, robot.keypoint_body))
    assert robot.body_names[kp["left_ankle"]] == "q1e"
    # The sole is the foot box's bottom, not a guess around the ankle-pitch link.
    np.testing.assert_allclose(np.asarray(robot.sole_points)[0, :, 2], -0.06, atol=1e-6)


def test_a_toe_well_ahead_of_the_ankle_is_still_a_toe(tmp_path):
    toe = (
        _BOX_FOOT
        + '<body name="toe@" pos="0.14 0 -0.03"><joint name="tj@" axis="0 1 0"/><geom type="box" size="0.03 0.04 0.01"/></body>'
    )
    robot = _load(tmp_path, _robot(toe))
    assert _foot(robot) == "q1e"


@pytest.mark.parametrize(("extra", "count"), [(2, 4), (1, 3)])
def test_a_quadruped_or_a_wheeled_base_is_refused_in_one_line(tmp_path, extra, count):
    path = tmp_path / "four.xml"
    path.write_text(_robot(_BOX_FOOT, extra_legs=extra))
    with pytest.raises(RobotFileError) as err:
        load_robot(path, verbose=False)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "expected a biped" in text
    assert f"{count} chains reach the floor" in text


def test_inertia_box_round_trips_a_box():
    m, (a, b, c) = 2.0, (0.3, 0.1, 0.05)
    diag = m / 12 * np.array([b * b + c * c, a * a + c * c, a * a + b * b])
    _pos, _rot, half = inertia_box(m, np.zeros(3), np.eye(3), diag)
    np.testing.assert_allclose(half, [a / 2, b / 2, c / 2], rtol=1e-9)
    assert inertia_box(0.0, np.zeros(3), np.eye(3), diag) is None
    assert inertia_box(1.0, np.zeros(3), np.eye(3), np.array([1.0, 0.0, 1.0])) is None


def _box_inertia(m, a, b, c):
    return m / 12 * np.array([b * b + c * c, a * a + c * c, a * a + b * b])


def test_a_mesh_only_foot_is_sized_by_its_mjcf_inertial(tmp_path):
    # A 26 × 6 × 4 cm foot, centred 5 cm ahead of and 4 cm below the ankle, its inertia given
    # in a frame turned 90° about z (so the long side is the frame's y axis).
    ixx, iyy, izz = _box_inertia(0.6, 0.06, 0.26, 0.04)
    foot = (
        f'<inertial pos="0.05 0 -0.04" quat="0.7071068 0 0 0.7071068" mass="0.6" diaginertia="{ixx} {iyy} {izz}"/>'
        '<geom type="mesh" mesh="foot"/>'
    )
    text = _robot(foot).replace(
        "<worldbody>", '<asset><mesh name="foot" file="foot.stl"/></asset><worldbody>'
    )
    robot = _load(tmp_path, text)
    sole = np.asarray(robot.sole_points)[0]
    np.testing.assert_allclose(sole[:, 2], -0.06, atol=1e-5)  # 4 cm + 2 cm half height
    np.testing.assert_allclose(sole[0, :2], [0.18, 0.03], atol=1e-5)  # toe +y
    np.testing.assert_allclose(sole[3, :2], [-0.08, -0.03], atol=1e-5)  # heel −y
    # Its only automatic shape, a 3 cm ball at the ankle, ends 3 cm above that sole: two
    # rails along the sole join it, inside the sole rectangle, their bottoms on it.
    for side in (0, 1):
        fb = robot.foot_body[side]
        names = [n for b, n in zip(robot.capsule_body, robot.capsule_names) if b == fb]
        assert names.count(f"{_foot(robot, side)}/sole_rail") == 2, names
    rails = [i for i, n in enumerate(robot.capsule_names) if n == f"{_foot(robot)}/sole_rail"]
    p0, p1 = np.asarray(robot.capsule_p0)[rails], np.asarray(robot.capsule_p1)[rails]
    r = np.asarray(robot.capsule_radius)[rails]
    np.testing.assert_allclose(np.minimum(p0[:, 2], p1[:, 2]) - r, -0.06, atol=1e-5)
    ends = np.concatenate([p0, p1])
    assert np.all(ends[:, 0] - r.max() >= -0.08 - 1e-6) and np.all(
        ends[:, 0] + r.max() <= 0.18 + 1e-6
    )
    assert np.all(np.abs(ends[:, 1]) + r.max() <= 0.03 + 1e-6)
    assert sorted(np.sign(p0[:, 1])) == [-1.0, 1.0]  # one rail per long edge
    # Rails are added only where needed: a foot whose own shapes reach its sole gets none.
    assert not any(
        n.endswith("sole_rail") for n in _load(tmp_path, _robot(_BOX_FOOT)).capsule_names
    )


def _urdf_legs_robot(shape: str = "collision") -> str:
    """A URDF biped whose feet are mesh-only links with a 22 × 8 × 3 cm inertia box; the
    trunk, head and shins carry primitive ``shape`` elements (``visual``: drawn only)."""
    ixx, iyy, izz = _box_inertia(0.5, 0.22, 0.08, 0.03)

    def leg(s, y):
        return f"""
  <link name="{s}1"/><link name="{s}2"/>
  <link name="{s}3"><{shape}><geometry><cylinder radius="0.03" length="0.4"/></geometry><origin xyz="0 0 -0.2"/></{shape}></link>
  <link name="{s}4"><inertial><origin xyz="0.06 0 -0.035"/><mass value="0.5"/><inertia ixx="{ixx}" iyy="{iyy}" izz="{izz}" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><geometry><mesh filename="foot.stl"/></geometry></collision></link>
  <joint name="{s}a" type="revolute"><origin xyz="0 {y} -0.1"/><parent link="b"/><child link="{s}1"/><axis xyz="0 1 0"/><limit lower="-2" upper="2" effort="1" velocity="1"/></joint>
  <joint name="{s}b" type="revolute"><parent link="{s}1"/><child link="{s}2"/><axis xyz="1 0 0"/><limit lower="-2" upper="2" effort="1" velocity="1"/></joint>
  <joint name="{s}c" type="revolute"><origin xyz="0 0 -0.4"/><parent link="{s}2"/><child link="{s}3"/><axis xyz="0 1 0"/><limit lower="0" upper="2" effort="1" velocity="1"/></joint>
  <joint name="{s}d" type="revolute"><origin xyz="0 0 -0.4"/><parent link="{s}3"/><child link="{s}4"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>"""

    return f"""<robot name="u"><link name="b"><{shape}><geometry><box size="0.2 0.3 0.1"/></geometry></{shape}></link>
  {leg("p", 0.1)}{leg("q", -0.1)}
  <link name="t"><{shape}><origin xyz="0 0 0.2"/><geometry><box size="0.2 0.3 0.3"/></geometry></{shape}></link>
  <joint name="tj" type="revolute"><origin xyz="0 0 0.1"/><parent link="b"/><child link="t"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
</robot>"""


def test_a_mesh_only_foot_is_sized_by_its_urdf_inertial(tmp_path):
    text = _urdf_legs_robot()
    robot = _load(tmp_path, text, "u.urdf")
    assert _foot(robot) == "p4"
    sole = np.asarray(robot.sole_points)[0]
    np.testing.assert_allclose(sole[:, 2], -0.05, atol=1e-5)
    np.testing.assert_allclose(sole[0, :2], [0.17, 0.04], atol=1e-5)


def test_a_robot_with_collision_shapes_only_on_its_feet_gets_bones_elsewhere(tmp_path):
    """Contact points under the soles and every other body drawn with visual-only geoms
    (Atlas in MuJoCo Menagerie): the drawn bodies get bones, so knees, hands and trunk
    have shapes to keep out of the floor and out of each other."""
    visual = 'contype="0" conaffinity="0" group="2" '
    text = _robot(_BOX_FOOT).replace('<geom type="capsule"', f'<geom {visual}type="capsule"')
    text = text.replace('<geom type="box" size="0.08', f'<geom {visual}type="box" size="0.08')
    drawn = _load(tmp_path, text)
    names = set(drawn.capsule_names)
    assert {"r0/bone", "q1b/bone", "q1c/bone", "q2c/bone", "t0/bone"} <= names, names
    assert {"q1e/geom0", "q2e/geom0"} <= names  # the feet keep their own shapes
    # A file with collision shapes beyond the feet keeps exactly those.
    assert not any(n.endswith("/bone") for n in _load(tmp_path, _robot(_BOX_FOOT)).capsule_names)
    # The same in URDF: links with a <visual> and no <collision>.
    names = set(_load(tmp_path, _urdf_legs_robot("visual"), "u.urdf").capsule_names)
    assert {"b/bone", "t/bone", "p3/bone", "q3/bone"} <= names, names


def test_a_foot_box_pitched_in_its_body_keeps_its_toe(tmp_path):
    # The box is turned 10° toe-up in the foot's frame (the standing pose levels it).
    foot = '<geom type="box" size="0.08 0.03 0.006" pos="0.04 0 -0.05" euler="0 -0.1745 0"/>'
    robot = _load(tmp_path, _robot(foot))
    sole = np.asarray(robot.sole_points)[0]
    toe = 0.5 * (sole[0] + sole[1])
    heel = 0.5 * (sole[2] + sole[3])
    assert toe[0] > 0.1 and heel[0] < -0.02, (toe, heel)  # was a 1 cm patch at the heel
    # Toe and heel lie on the box's bottom face, 10° up toward the toe.
    np.testing.assert_allclose(
        np.degrees(np.arctan2(toe[2] - heel[2], toe[0] - heel[0])), 10.0, atol=1.0
    )


def test_a_flat_disc_under_the_foot_is_not_a_ball(tmp_path):
    # A toe pad: a cylinder 5 cm in radius and 1 cm thick whose bottom is 6 cm below the ankle.
    foot = _BOX_FOOT + '<geom type="cylinder" size="0.05 0.005" pos="0.12 0 -0.055"/>'
    robot = _load(tmp_path, _robot(foot))
    sole = np.asarray(robot.sole_points)[0]
    np.testing.assert_allclose(sole[:, 2], -0.06, atol=1e-6)  # a ball would put it at -0.105
    assert sole[0, 0] == pytest.approx(0.17, abs=1e-6)


def _placeholder_urdf(names: list[tuple[str, str]]) -> str:
    """An assembly URDF: a torso, a waist and one-link placeholders (name, origin xyz)."""
    links = "".join(
        f'<link name="{n}"><collision><geometry><box size="0.02 0.02 0.02"/></geometry></collision></link>'
        f'<joint name="{n}_j" type="revolute"><origin xyz="{xyz}"/><parent link="waist"/><child link="{n}"/>'
        '<axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
        for n, xyz in names
    )
    return f"""<robot name="assembly">
  <link name="torso"><collision><geometry><box size="0.1 0.12 0.2"/></geometry></collision></link>
  <link name="waist"/>
  <joint name="waist_j" type="revolute"><origin xyz="0 0 -0.12"/><parent link="torso"/><child link="waist"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
  {links}
</robot>"""


@pytest.mark.parametrize(
    "names",
    [
        # toddlerbot-like: gears and "leg" placeholders under the waist, no knees, no arms
        [
            ("g1", "0.01 0 -0.03"),
            ("g2", "-0.01 0 -0.03"),
            ("a", "0 0.05 -0.05"),
            ("b", "0 -0.05 -0.05"),
        ],
        # one-link legs and one-link arms
        [("a", "0 0.05 -0.05"), ("b", "0 -0.05 -0.05"), ("c", "0 0.07 0.1"), ("d", "0 -0.07 0.1")],
    ],
)
def test_an_assembly_whose_legs_are_placeholder_links_is_refused_in_one_line(tmp_path, names):
    path = tmp_path / "assembly.urdf"
    path.write_text(_placeholder_urdf(names))
    with pytest.raises(RobotFileError) as err:
        load_robot(path, verbose=False)
    text = str(err.value)
    assert "\n" not in text and str(path) in text
    assert "at least 3 moving links (hip, knee, ankle)" in text, text


def test_placeholder_legs_found_by_their_names_are_refused_too(tmp_path):
    """The name rules find a 'left_ankle' link hanging straight from the pelvis: no leg."""
    path = tmp_path / "named.urdf"
    path.write_text(
        _placeholder_urdf(
            [("left_ankle_link", "0 0.05 -0.05"), ("right_ankle_link", "0 -0.05 -0.05")]
        )
    )
    with pytest.raises(RobotFileError) as err:
        load_robot(path, verbose=False)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "(hip, knee, ankle)" in text, text


def test_a_short_stand_beside_two_legs_is_not_a_third_leg(tmp_path):
    """A one-link strut (or gear) reaching the floor next to two real legs is ignored."""
    strut = '<body name="s0" pos="-0.2 0 -0.1"><joint name="sj" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 0 0 -0.72" size="0.01"/></body>'
    text = _robot(_BOX_FOOT).replace('<body name="t0"', strut + '\n      <body name="t0"', 1)
    robot = _load(tmp_path, text)
    assert {_foot(robot), _foot(robot, 1)} == {"q1e", "q2e"}


def test_a_robot_without_arms_loads_with_a_note(tmp_path):
    robot = _load(tmp_path, _robot(_BOX_FOOT))
    assert "left_elbow" not in robot.keypoint_names
    assert "note: arms: none found" in robot.mapping_report


def test_joints_without_limits_are_named_in_a_warning(tmp_path):
    """OP3 (MuJoCo Playground) has no joint ranges at all: say so, since the solver and the
    joint-limit metrics then cannot keep a knee from bending backwards."""
    robot = _load(tmp_path, _robot(_BOX_FOOT))
    line = next(x for x in robot.mapping_report.splitlines() if "no limits" in x)
    assert line.startswith("  warning: 9 of 11 joints have no limits in the file (j1a, j1b, j1d")
    limited = _robot(_BOX_FOOT).replace('axis="0 1 0"/>', 'axis="0 1 0" range="-1 1"/>')
    limited = limited.replace('axis="1 0 0"/>', 'axis="1 0 0" range="-1 1"/>')
    limited = limited.replace('axis="0 0 1"/>', 'axis="0 0 1" range="-1 1"/>')
    assert "no limits" not in _load(tmp_path, limited, "limited.xml").mapping_report


def _urdf_chain(names: list[str], parent: str, xyz: str, step: str, axes: str) -> str:
    """Links ``names`` hanging from ``parent``, the first at ``xyz``, then ``step`` apart,
    each on a revolute joint about the next axis of ``axes`` (x, y or z)."""
    unit = {"x": "1 0 0", "y": "0 1 0", "z": "0 0 1"}
    out, prev, at = "", parent, xyz
    for name, axis in zip(names, axes):
        out += f"""
  <link name="{name}"><collision><geometry><cylinder radius="0.03" length="0.2"/></geometry></collision></link>
  <joint name="{name}_j" type="revolute"><parent link="{prev}"/><child link="{name}"/>
    <origin xyz="{at}"/><axis xyz="{unit[axis]}"/><limit lower="-2" upper="2" effort="1" velocity="1"/></joint>"""
        prev, at = name, step
    return out


def _upper_body_urdf(legs: bool) -> str:
    """A waist, a spine up to a chest, two arms hanging below the waist, a head; with
    ``legs``, two legs from the waist too (then it is a humanoid)."""
    text = '<robot name="r"><link name="w0"><collision><geometry><box size="0.2 0.3 0.1"/></geometry></collision></link>'
    text += _urdf_chain(["s1", "s2"], "w0", "0 0 0.1", "0 0 0.2", "zy")
    text += _urdf_chain(["h1"], "s2", "0 0 0.4", "0 0 0", "z")
    for side, y in (("a", 0.2), ("b", -0.2)):
        text += _urdf_chain(
            [f"{side}{k}" for k in range(5)], "s2", f"0 {y} 0.25", "0 0 -0.2", "yxzyz"
        )
        if legs:
            text += _urdf_chain(
                [f"{side}l{k}" for k in range(5)], "w0", f"0 {y / 2} -0.1", "0 0 -0.3", "zxyyx"
            )
    return text + "</robot>"


def test_an_upper_body_without_legs_is_refused_in_one_line(tmp_path):
    path = tmp_path / "upper_body.urdf"
    path.write_text(_upper_body_urdf(legs=False))
    with pytest.raises(RobotFileError) as err:
        load_robot(path, verbose=False)
    message = str(err.value)
    assert "\n" not in message and "arms, not legs" in message and "expected" in message
    # The same upper body on two legs is a humanoid: legs from the waist, arms from the chest.
    path = tmp_path / "humanoid.urdf"
    path.write_text(_upper_body_urdf(legs=True))
    robot = load_robot(path, verbose=False)
    kp = {k: robot.body_names[b] for k, b in zip(robot.keypoint_names, robot.keypoint_body)}
    assert robot.body_names[robot.foot_body[0]] == "al4" and kp["left_hip"].startswith("al")
    assert kp["left_shoulder"].startswith("a") and not kp["left_shoulder"].startswith("al")


def test_bare_sensor_frames_on_a_mesh_only_link_are_no_bones(tmp_path):
    from retargetjax.robot import parse_robot_file
    from retargetjax.robot._collision import bone_capsules

    mesh = '<collision><geometry><mesh filename="m.stl"/></geometry></collision>'
    fixed = '<joint name="{c}j" type="fixed"><parent link="{p}"/><child link="{c}"/><origin xyz="{x}"/></joint>'
    text = f'<robot name="s"><link name="shin">{mesh}</link><link name="foot">{mesh}</link>'
    text += '<joint name="ankle" type="revolute"><parent link="shin"/><child link="foot"/>'
    text += '<origin xyz="0 0 -0.4"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
    for k in range(30):  # skin taxels around the shin, like iCub's
        text += f'<link name="skin{k}"/>' + fixed.format(
            c=f"skin{k}", p="shin", x=f"0.05 0 {-0.01 * k}"
        )
    for k, x in enumerate(("0.1 0 -0.05", "0.2 0 -0.06")):  # only frames under the foot
        text += f'<link name="sole{k}"/>' + fixed.format(c=f"sole{k}", p="foot", x=x)
    path = tmp_path / "skin.urdf"
    path.write_text(text + "</robot>")
    bodies = parse_robot_file(path).bodies
    names = [b.name for b in bodies]
    shin = bone_capsules(names.index("shin"), bodies)
    assert len(shin) == 1 and shin[0][1][2] < -0.3  # one bone, to the ankle
    foot = bone_capsules(names.index("foot"), bodies)
    assert len(foot) == 1 and foot[0][1][0] > 0.15  # one bone, to the farthest frame


def _h1_variant(tmp_path, *edits: tuple[str, str]):
    """The bundled H1 MJCF with text edits (each ``(old, new)`` must occur), loaded by file."""
    from retargetjax.robot import robot_asset_path

    text = robot_asset_path("unitree_h1").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "h1_variant.xml"
    path.write_text(text)
    return path


def test_a_toe_named_rod_welded_to_the_shin_is_no_toe(tmp_path):
    """AgiBot X1's URDF: a linkage rod called ``leg_l_toe_a_link`` welded to the shin, 20 cm
    above the ankle. The name rule must not put the toe there: the toe is on the foot."""
    from retargetjax.robot import guess_keypoints, parse_robot_file

    rods = [
        (
            f'<body name="{side}_ankle_link" pos="0 0 -0.4">',
            f'<body name="leg_{side[0]}_toe_a_link" pos="0.03 0 -0.2" />'
            f'<body name="{side}_ankle_link" pos="0 0 -0.4">',
        )
        for side in ("left", "right")
    ]
    path = _h1_variant(tmp_path, *rods)
    guess = guess_keypoints(parse_robot_file(path))
    assert "left_toe" not in guess.keypoints and "right_toe" not in guess.keypoints
    assert any(
        n.startswith("names: left_toe: leg_l_toe_a_link left out")
        and "does not hang from the left_ankle body 'left_ankle_link'" in n
        for n in guess.notes
    ), guess.notes
    robot = load_robot(path, verbose=False)
    kp = dict(zip(robot.keypoint_names, robot.keypoint_body))
    assert robot.body_names[kp["left_toe"]] == "left_ankle_link"  # the sole's front centre
    assert robot.body_names[kp["right_toe"]] == "right_ankle_link"


def test_a_toe_on_the_ankle_point_is_left_out(tmp_path):
    """PND Adam Lite calls its ankle-roll link ``toeLeft``: the topology's ankle, which the
    toe name rule also picks. Two keypoints on one point carry no foot pitch: the toe is
    left out of the names and put at the sole's front centre, ahead of the ankle."""
    from retargetjax.robot import guess_keypoints, parse_robot_file

    path = _h1_variant(tmp_path, ("left_ankle_link", "toeLeft"), ("right_ankle_link", "toeRight"))
    guess = guess_keypoints(parse_robot_file(path))
    assert guess.keypoints["left_ankle"][0] == "toeLeft"
    assert "left_toe" not in guess.keypoints
    assert any(
        n.startswith("names: left_toe: toeLeft left out, it is on the left_ankle point")
        for n in guess.notes
    ), guess.notes
    robot = load_robot(path, verbose=False)
    names = list(robot.keypoint_names)
    offsets = np.asarray(robot.keypoint_offset)
    ankle, toe = names.index("left_ankle"), names.index("left_toe")
    assert robot.keypoint_body[toe] == robot.keypoint_body[ankle]
    assert np.linalg.norm(offsets[toe] - offsets[ankle]) > 0.05

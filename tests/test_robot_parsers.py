# ruff: noqa: E501  (inline XML fixtures read best one element per line)
"""MJCF and URDF parser features (checked against MuJoCo) and error messages."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from retargetjax.robot import (
    RobotFileError,
    collision_capsules_world,
    forward_kinematics,
    load_robot,
    parse_mjcf,
    parse_robot_file,
)

mujoco = pytest.importorskip("mujoco")

_FEATURES_MAIN = """<mujoco model="features">
  <compiler angle="degree" eulerseq="zyx"/>
  <default>
    <joint axis="0 1 0" range="-45 45"/>
    <default class="leg">
      <joint axis="1 0 0" range="-30 60"/>
      <geom type="capsule" size="0.03" fromto="0 0 0 0 0 -0.3"/>
    </default>
    <default class="arm">
      <joint axis="0 0 1"/>
    </default>
  </default>
  <worldbody>
    <body name="base" pos="0 0 1">
      <freejoint/>
      <geom type="box" size="0.1 0.15 0.05"/>
      <body name="left_hip_link" pos="0 0.1 -0.1" euler="10 20 30" childclass="leg">
        <joint name="left_hip_joint"/>
        <geom/>
        <body name="left_knee_link" pos="0 0 -0.3" axisangle="1 1 0 30">
          <joint name="left_knee_joint" pos="0 0 0.05" range="0 120"/>
          <geom class="main" type="sphere" size="0.04"/>
          <body name="left_ankle_link" pos="0 0 -0.3" xyaxes="0 1 0 -1 0 0">
            <joint name="left_ankle_joint" class="arm" ref="10"/>
            <geom class="main" type="box" size="0.1 0.05 0.02" pos="0.05 0 -0.04"/>
          </body>
        </body>
      </body>
      <include file="right_leg.xml"/>
      <frame pos="0 0 0.3" euler="0 0 90">
        <body name="torso_link" zaxis="0 1 1">
          <joint name="torso_joint" type="slide" axis="0 0 1" range="-0.1 0.1"/>
          <joint name="torso_twist" limited="false"/>
          <geom type="cylinder" size="0.08 0.1"/>
          <site name="chest" pos="0.1 0 0.1"/>
        </body>
      </frame>
    </body>
  </worldbody>
  <contact><exclude body1="base" body2="torso_link"/></contact>
</mujoco>
"""

_FEATURES_INCLUDED = """<mujoco>
  <body name="right_hip_link" pos="0 -0.1 -0.1" quat="0.9 0.1 0.2 0.1" childclass="leg">
    <joint name="right_hip_joint"/>
    <geom/>
    <body name="right_knee_link" pos="0 0 -0.3">
      <joint name="right_knee_joint" range="0 120"/>
      <inertial pos="0 0 0" mass="1" diaginertia="0.01 0.01 0.01"/>
      <body name="right_ankle_link" pos="0 0 -0.3" euler="0 0 0">
        <joint name="right_ankle_joint" type="ball" range="0 40"/>
        <geom class="main" type="box" size="0.1 0.05 0.02" pos="0.05 0 -0.04"/>
      </body>
    </body>
  </body>
</mujoco>
"""


@pytest.fixture(scope="module")
def features_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mjcf")
    (folder / "right_leg.xml").write_text(_FEATURES_INCLUDED)
    path = folder / "robot.xml"
    path.write_text(_FEATURES_MAIN)
    return path


def test_mjcf_features_match_mujoco(features_file):
    robot = load_robot(features_file, verbose=False)
    model = mujoco.MjModel.from_xml_path(str(features_file))
    assert robot.body_names == tuple(model.body(i).name for i in range(1, model.nbody))
    # Limits: degrees converted, class defaults and childclass inherited, limited="false".
    for i, name in enumerate(robot.joint_names):
        if name.startswith("right_ankle_joint_"):
            continue  # the ball joint, split into three hinges
        jid = model.joint(name).id
        if model.jnt_limited[jid]:
            np.testing.assert_allclose(
                [robot.joint_lower[i], robot.joint_upper[i]], model.jnt_range[jid], atol=1e-6
            )
        else:
            assert np.isinf(robot.joint_lower[i]) and np.isinf(robot.joint_upper[i])
    ball = robot.joint_names.index("right_ankle_joint_x")
    assert robot.joint_names[ball : ball + 3] == tuple(f"right_ankle_joint_{a}" for a in "xyz")

    rng = np.random.default_rng(0)
    fk = jax.jit(forward_kinematics)
    for _ in range(3):
        q = rng.uniform(-0.5, 0.5, robot.num_joints)
        root_pos = rng.normal(size=3)
        root_quat = rng.normal(size=4)
        root_quat /= np.linalg.norm(root_quat)
        data = mujoco.MjData(model)
        data.qpos[:3], data.qpos[3:7] = root_pos, root_quat
        for i, name in enumerate(robot.joint_names):
            if not name.startswith("right_ankle_joint_"):
                data.qpos[model.jnt_qposadr[model.joint(name).id]] = q[i]
        # Ball joint: three hinges x, y, z in sequence = quaternion product.
        ball = model.jnt_qposadr[model.joint("right_ankle_joint").id]
        quat = np.array([1.0, 0, 0, 0])
        for k in range(3):
            axis = np.eye(3)[k]
            part = np.zeros(4)
            mujoco.mju_axisAngle2Quat(
                part, axis, q[robot.joint_index(f"right_ankle_joint_{'xyz'[k]}")]
            )
            mujoco.mju_mulQuat(quat, quat.copy(), part)
        data.qpos[ball : ball + 4] = quat
        mujoco.mj_kinematics(model, data)
        result = fk(
            robot, root_pos.astype(np.float32), root_quat.astype(np.float32), q.astype(np.float32)
        )
        np.testing.assert_allclose(result.pos, data.xpos[1:], atol=1e-5)
        np.testing.assert_allclose(result.rot, data.xmat[1:].reshape(-1, 3, 3), atol=1e-5)

    # Geoms: capsule ends, box rails and cylinder capsule centres sit where MuJoCo puts geoms.
    p0, p1 = jax.jit(collision_capsules_world)(robot, result)
    centres = 0.5 * (np.asarray(p0) + np.asarray(p1))
    for name, expected in (("left_hip_link/geom0", 0), ("torso_link/geom0", None)):
        i = robot.capsule_names.index(name)
        body = model.body(name.split("/")[0]).id
        gid = next(g for g in range(model.ngeom) if model.geom_bodyid[g] == body)
        np.testing.assert_allclose(centres[i], data.geom_xpos[gid], atol=1e-5)
        del expected
    # The site inside a <frame> lands where MuJoCo puts it.
    from retargetjax.robot import site_positions

    chest = jax.jit(site_positions, static_argnums=2)(robot, result, ("chest",))
    np.testing.assert_allclose(chest[0], data.site_xpos[model.site("chest").id], atol=1e-5)


def test_mjcf_excluded_pairs_and_guessed_keypoints(features_file, capsys):
    robot = load_robot(features_file)
    printed = capsys.readouterr().out
    assert "left_knee -> left_knee_link" in printed
    base, torso = robot.body_index("base"), robot.body_index("torso_link")
    pairs = {
        tuple(sorted((robot.capsule_body[a], robot.capsule_body[b])))
        for a, b in np.asarray(robot.collision_pairs)
    }
    assert tuple(sorted((base, torso))) not in pairs  # excluded by <contact><exclude>
    assert robot.foot_body == (
        robot.body_index("left_ankle_link"),
        robot.body_index("right_ankle_link"),
    )
    assert "left_toe" in robot.keypoint_names  # from the foot box's front


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "<mujoco><worldbody><body name='a'><joint name='j' range='1 x'/></body></worldbody></mujoco>",
            "<joint name='j'>",
        ),
        (
            "<mujoco><worldbody><body name='a' quat='1 0 0'/></worldbody></mujoco>",
            "<body name='a'>",
        ),
        (
            "<mujoco><worldbody><body name='a'><geom class='nope'/></body></worldbody></mujoco>",
            "unknown default class",
        ),
        ("<mujoco><worldbody></worldbody></mujoco>", "<worldbody>"),
        (
            "<mujoco><worldbody><body name='a'>\n<joint name='j' type='weird'/></body></worldbody></mujoco>",
            ":2: <joint name='j'>",
        ),
        ("<mujoco><worldbody><body name='a'></worldbody></mujoco>", "malformed XML"),
        (
            "<robot name='r'><link name='a'/><link name='b'/><joint name='j' type='revolute'><parent link='a'/><child link='c'/></joint></robot>",
            "<joint name='j'>",
        ),
        (
            "<robot name='r'><link name='a'><collision><geometry><box size='1 2'/></geometry></collision></link></robot>",
            "<box>",
        ),
        ("<robot name='r'><link name='a'/><link name='b'/></robot>", "one root link"),
    ],
)
def test_parse_errors_name_file_and_element(tmp_path, text, needle):
    path = _write(tmp_path, "bad.urdf" if text.startswith("<robot") else "bad.xml", text)
    with pytest.raises(RobotFileError) as info:
        parse_robot_file(path)
    message = str(info.value)
    assert str(path) in message and needle in message


def test_error_inside_included_file_names_that_file(tmp_path):
    _write(
        tmp_path,
        "part.xml",
        "<mujoco>\n<body name='b'><joint name='j' axis='0 0'/></body></mujoco>",
    )
    main = _write(
        tmp_path,
        "main.xml",
        "<mujoco><worldbody><body name='a'><include file='part.xml'/></body></worldbody></mujoco>",
    )
    with pytest.raises(RobotFileError, match=r"part\.xml:2: <joint name='j'>"):
        parse_mjcf(main)


_URDF = """<robot name="tiny">
  <link name="world"/>
  <joint name="float" type="floating"><parent link="world"/><child link="base_link"/></joint>
  <link name="base_link">
    <collision><origin xyz="0 0 0.1" rpy="0.1 0.2 0.3"/><geometry><box size="0.2 0.3 0.1"/></geometry></collision>
  </link>
  <link name="left_thigh"><collision><geometry><mesh filename="thigh.stl"/></geometry></collision></link>
  <link name="left_shin"><collision><geometry><cylinder radius="0.03" length="0.3"/></geometry></collision></link>
  <link name="left_foot"><collision><origin xyz="0.05 0 -0.02"/><geometry><box size="0.2 0.08 0.02"/></geometry></collision></link>
  <link name="finger_a"/><link name="finger_b"/><link name="tip"/>
  <joint name="left_hip" type="revolute">
    <origin xyz="0 0.1 -0.1" rpy="0.3 -0.2 0.1"/><parent link="base_link"/><child link="left_thigh"/>
    <axis xyz="0 1 0"/><limit lower="-1" upper="1.5" velocity="10" effort="5"/>
  </joint>
  <joint name="left_knee" type="continuous">
    <origin xyz="0 0 -0.3"/><parent link="left_thigh"/><child link="left_shin"/><axis xyz="0 1 0"/>
  </joint>
  <joint name="left_ankle" type="prismatic">
    <origin xyz="0 0 -0.3" rpy="0 0.5 0"/><parent link="left_shin"/><child link="left_foot"/>
    <axis xyz="0 0 1"/><limit lower="-0.05" upper="0.05"/>
  </joint>
  <joint name="grip" type="revolute">
    <origin xyz="0.2 0 0"/><parent link="base_link"/><child link="finger_a"/><axis xyz="0 0 1"/>
    <limit lower="0" upper="1" velocity="2"/>
  </joint>
  <joint name="grip_follow" type="revolute">
    <origin xyz="0.2 0.05 0"/><parent link="base_link"/><child link="finger_b"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="0"/><mimic joint="grip" multiplier="-1" offset="0.1"/>
  </joint>
  <joint name="tip_fixed" type="fixed"><origin xyz="0.05 0 0"/><parent link="finger_a"/><child link="tip"/></joint>
</robot>
"""


def test_urdf_features_match_mujoco(tmp_path):
    path = _write(tmp_path, "tiny.urdf", _URDF)
    yaml_path = _write(
        tmp_path,
        "kp.yaml",
        "keypoints:\n  left_hip: left_thigh\n  right_hip: {body: left_thigh, offset: [0, -0.2, 0]}\n"
        "feet: [left_foot, left_foot]\n",
    )
    robot = load_robot(path, keypoints_yaml=yaml_path, verbose=False)
    assert robot.joint_names == ("left_hip", "left_knee", "left_ankle", "grip")  # no mimic follower
    assert robot.body_names[0] == "base_link" and "tip" in robot.body_names
    np.testing.assert_allclose(robot.velocity_limit, [10, np.inf, np.inf, 2])
    assert np.isinf(robot.joint_lower[1]) and robot.joint_upper[2] == pytest.approx(0.05)
    # An automatic bone capsule on the mesh-only thigh, a cylinder capsule on the shin.
    assert (
        "left_thigh/bone" in robot.capsule_names and "left_shin/collision0" in robot.capsule_names
    )
    assert robot.keypoint_body[robot.keypoint_names.index("right_hip")] == robot.body_index(
        "left_thigh"
    )

    spec = mujoco.MjSpec.from_file(str(path))
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH:
            spec.delete(geom)
    for mesh in list(spec.meshes):
        spec.delete(mesh)
    spec.compiler.fusestatic = False
    spec.compiler.boundmass = 1e-3  # the links have no inertial: MuJoCo needs some mass
    spec.compiler.boundinertia = 1e-6
    model = spec.compile()
    data = mujoco.MjData(model)
    q = np.array([0.4, -1.3, 0.03, 0.7])
    for i, name in enumerate(robot.joint_names):
        data.qpos[model.jnt_qposadr[model.joint(name).id]] = q[i]
    data.qpos[model.jnt_qposadr[model.joint("grip_follow").id]] = -q[3] + 0.1
    mujoco.mj_kinematics(model, data)
    free = model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE
    root_pos = data.xpos[model.body("base_link").id]
    root_quat = data.xquat[model.body("base_link").id]
    result = jax.jit(forward_kinematics)(robot, root_pos, root_quat, q.astype(np.float32))
    for i, name in enumerate(robot.body_names):
        bid = model.body(name).id
        np.testing.assert_allclose(result.pos[i], data.xpos[bid], atol=1e-5, err_msg=name)
        np.testing.assert_allclose(
            result.rot[i], data.xmat[bid].reshape(3, 3), atol=1e-5, err_msg=name
        )
    del free


def test_bundled_g1_equals_menagerie_g1_kinematics(shared_data):
    """The bundled g1.xml (from g1_mjx.xml) has the kinematics of the menagerie's g1.xml."""
    bundled = parse_robot_file(load_robot("unitree_g1").source)
    full = parse_robot_file(shared_data / "robots" / "unitree_g1" / "g1.xml")
    assert [b.name for b in bundled.bodies] == [b.name for b in full.bodies]
    for a, b in zip(bundled.bodies, full.bodies):
        np.testing.assert_allclose(a.pos, b.pos, atol=1e-9)
        np.testing.assert_allclose(a.rot, b.rot, atol=1e-9)
        assert [j.name for j in a.joints] == [j.name for j in b.joints]
        for ja, jb in zip(a.joints, b.joints):
            np.testing.assert_allclose(ja.axis, jb.axis)
            assert (ja.lower, ja.upper) == (jb.lower, jb.upper)


@pytest.mark.parametrize("variant", ["free_prop_first", "floor_first_no_free_joint"])
def test_mjcf_robot_is_the_largest_top_level_tree(tmp_path, variant):
    """Other bodies under <worldbody> (a free-floating prop or a static floor before the robot,
    placeholder bodies that only park a bigger variant's joints, as unitree_mujoco's
    g1_23dof.xml does) are left out with a note; the robot's tree and keyframes are kept."""
    from retargetjax.robot import robot_asset_path

    bundled = robot_asset_path("unitree_g1")
    original = parse_mjcf(bundled)
    names = [j.name for b in original.bodies for j in b.joints]
    text = bundled.read_text()
    pelvis = text.index('<body name="pelvis"')
    extra = '<body name="ball" pos="1 0 0.1"><freejoint/><geom type="sphere" size="0.1"/></body>'
    if variant == "floor_first_no_free_joint":
        extra = '<body name="floor"><geom type="box" size="5 5 0.01" pos="0 0 -0.01"/></body>'
        text = text.replace('<freejoint name="floating_base_joint" />', "")
    parked = "".join(
        f'<body name="parked_{n}" pos="0 0 20"><joint name="parked_{n}_joint"/></body>'
        for n in ("waist_roll", "left_wrist_yaw", "right_wrist_yaw")
    )
    end = text.index("</worldbody>")
    text = text[:pelvis] + extra + text[pelvis:end] + parked + text[end:]
    if variant == "free_prop_first":  # MuJoCo's qpos: the ball, the robot, the parked joints
        robot_q = [0.0] * len(names)
        robot_q[names.index("left_knee_joint")] = 0.5
        qpos = [1, 0, 0.1, 1, 0, 0, 0] + [0, 0, 0.75, 1, 0, 0, 0] + robot_q + [0.0] * 3
        key = f'<keyframe><key name="crouch" qpos="{" ".join(map(str, qpos))}"/></keyframe>'
        text = text.replace("</mujoco>", key + "</mujoco>")
    path = _write(tmp_path, "g1_with_extras.xml", text)
    with pytest.warns(UserWarning, match=r"the robot is 'pelvis'.*not attached to it") as caught:
        desc = parse_mjcf(path)
    note = str(caught[0].message)
    assert "parked_waist_roll (joint parked_waist_roll_joint)" in note
    assert desc.bodies[0].name == "pelvis"
    assert [j.name for b in desc.bodies for j in b.joints] == names
    if variant == "free_prop_first":
        assert desc.keyframes["crouch"]["left_knee_joint"] == pytest.approx(0.5)
        assert desc.keyframes["crouch"]["__root_z__"] == pytest.approx(0.75)
    with pytest.warns(UserWarning):
        robot = load_robot(path, verbose=False)
    for keypoint, body in [("left_wrist", "left_wrist_yaw_link"), ("torso", "torso_link")]:
        assert robot.body_names[robot.keypoint_body[robot.keypoint_names.index(keypoint)]] == body

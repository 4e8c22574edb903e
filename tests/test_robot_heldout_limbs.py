"""Limbs of kinds the sample robots do not show (found on held-out humanoids), built from the
bundled robots: Atlas's long, near-vertical clavicle offset above the shoulder (its shoulder
roll link must not be taken for the elbow), and the classic MuJoCo humanoid's two-link legs
whose foot is welded to the shin (the welded foot is the ankle)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retargetjax.robot import guess_keypoints, load_robot, parse_robot_file, robot_asset_path
from retargetjax.robot._topology import infer_robot_keypoints
from retargetjax.robot._topology_legs import check_legs
from retargetjax.types import RobotKind

BUNDLED = [RobotKind.UNITREE_G1, RobotKind.UNITREE_H1, RobotKind.BOOSTER_T1]
_SIDES = (("left", 1.0), ("right", -1.0))


def _bodies(tree: ET.ElementTree) -> dict[str, ET.Element]:
    return {b.get("name"): b for b in tree.getroot().iter("body")}


def _parents(tree: ET.ElementTree) -> dict[ET.Element, ET.Element]:
    return {c: p for p in tree.getroot().iter() for c in p}


def _drop_joint_users(tree: ET.ElementTree, joints: set[str]) -> None:
    """Remove actuators naming removed joints, and keyframes (their qpos no longer fit)."""
    root = tree.getroot()
    for section in root.findall("actuator"):
        for act in list(section):
            if act.get("joint") in joints:
                section.remove(act)
    for key in root.findall("keyframe"):
        root.remove(key)


def _with_clavicles(src: Path, dst: Path, arm_roots: dict[str, str]) -> None:
    """Copy an MJCF robot with a clavicle yaw link inserted above each arm: its joint is
    25 cm above the arm's first joint and 11 cm inboard (Atlas's ``l_clav``: the segment to
    the shoulder is long and mostly vertical, along the clavicle's yaw axis)."""
    tree = ET.parse(src)
    bodies, parents = _bodies(tree), _parents(tree)
    for (_side, sign), name in zip(_SIDES, arm_roots.values()):
        arm = bodies[name]
        parent = parents[arm]
        pos = np.array(arm.get("pos", "0 0 0").split(), float)
        step = np.array([0.0, 0.11 * sign, -0.245])
        clav = ET.Element("body", name=f"clavicle_{name}", pos=" ".join(map(str, pos - step)))
        ET.SubElement(clav, "joint", name=f"clavicle_yaw_{name}", axis="0 0 1", range="-1 1")
        ET.SubElement(
            clav,
            "geom",
            type="capsule",
            size="0.03",
            fromto="0 0 0 " + " ".join(map(str, step)),
        )
        parent.insert(list(parent).index(arm), clav)
        parent.remove(arm)
        arm.set("pos", " ".join(map(str, step)))
        clav.append(arm)
    tree.write(dst)


def _arm_root(desc, shoulder: str, trunk: str) -> str:
    """The child of the trunk body on the way to the shoulder body."""
    names = [b.name for b in desc.bodies]
    i = names.index(shoulder)
    while desc.bodies[i].parent >= 0 and names[desc.bodies[i].parent] != trunk:
        i = desc.bodies[i].parent
    return names[i]


@pytest.mark.parametrize("kind", BUNDLED, ids=lambda k: k.value)
def test_a_long_vertical_clavicle_does_not_move_the_arm_keypoints_up(tmp_path, kind):
    """Atlas: a clavicle yaw link whose joint stands 25 cm above the shoulder. The shoulder
    roll link below it is a joint across that segment a fair share down the arm, but nothing
    swings it (the clavicle's axis runs along the segment): the elbow is still the elbow, the
    shoulder the shoulder, the wrist the wrist, as without the clavicle."""
    src = robot_asset_path(kind)
    desc = parse_robot_file(src)
    a = guess_keypoints(desc)
    trunk = a.keypoints["torso"][0]
    roots = {side: _arm_root(desc, a.keypoints[f"{side}_shoulder"][0], trunk) for side, _ in _SIDES}
    dst = tmp_path / f"clavicle_{src.name}"
    _with_clavicles(src, dst, roots)
    b = guess_keypoints(parse_robot_file(dst))
    for side, _ in _SIDES:
        assert b.keypoints[f"{side}_shoulder"][0] == a.keypoints[f"{side}_shoulder"][0], side
        for key in ("elbow", "wrist", "hand"):
            k = f"{side}_{key}"
            assert b.keypoints[k][0] == a.keypoints[k][0], k
            np.testing.assert_allclose(b.keypoints[k][1], a.keypoints[k][1], atol=1e-9)
    assert b.feet == a.feet


def _weld_ankles(src: Path, dst: Path, foot_names: tuple[str, str], knees: tuple[str, str]):
    """Copy an MJCF robot with every joint between each knee and its foot removed: the foot
    is welded to the shin, as on the classic MuJoCo humanoid."""
    tree = ET.parse(src)
    bodies, parents = _bodies(tree), _parents(tree)
    removed: set[str] = set()
    for foot, knee in zip(foot_names, knees):
        body = bodies[foot]
        while body is not bodies[knee]:
            for joint in body.findall("joint"):
                removed.add(joint.get("name"))
                body.remove(joint)
            body = parents[body]
    _drop_joint_users(tree, removed)
    tree.write(dst)
    return removed


@pytest.mark.parametrize("kind", BUNDLED, ids=lambda k: k.value)
def test_a_foot_welded_to_the_shin_is_the_ankle(tmp_path, kind):
    """Without ankle joints the leg is hip and knee only; the foot body welded a shin's length
    below the knee is the ankle (not the knee), and the robot loads with the same soles."""
    src = robot_asset_path(kind)
    a = guess_keypoints(parse_robot_file(src))
    feet = a.feet
    knees = (a.keypoints["left_knee"][0], a.keypoints["right_knee"][0])
    dst = tmp_path / f"welded_{src.name}"
    removed = _weld_ankles(src, dst, feet, knees)
    assert removed
    desc = parse_robot_file(dst)
    b = guess_keypoints(desc)
    assert b.feet == feet
    for key in ("hip", "knee", "ankle"):
        for side, _ in _SIDES:
            k = f"{side}_{key}"
            assert b.keypoints[k][0] == a.keypoints[k][0], k
            assert b.reasons[k] == "topology", k
    assert b.facing == a.facing
    check_legs(desc, b.keypoints["pelvis"][0], feet)
    ra, rb = load_robot(src, verbose=False), load_robot(dst, verbose=False)
    assert [rb.body_names[i] for i in rb.foot_body] == list(feet)
    np.testing.assert_allclose(rb.sole_points, ra.sole_points, atol=1e-9)


_HUMANOID = """<mujoco model="classic">
  <worldbody>
    <body name="b0" pos="0 0 1.4">
      <freejoint/>
      <geom type="capsule" fromto="0 -.07 0 0 .07 0" size="0.07"/>
      <geom type="sphere" pos="0 0 .19" size=".09"/>
      <body name="b1" pos="-.01 0 -.26">
        <joint name="w1" axis="0 0 1"/><joint name="w2" axis="0 1 0"/>
        <geom type="capsule" fromto="0 -.06 0 0 .06 0" size="0.06"/>
        <body name="b2" pos="0 0 -.165">
          <joint name="w3" axis="1 0 0"/>
          <geom type="capsule" fromto="-.02 -.07 0 -.02 .07 0" size="0.09"/>
          {legs}
        </body>
      </body>
      {arms}
    </body>
  </worldbody>
</mujoco>"""

_LEG = """
          <body name="t{n}" pos="0 {y} -.04">
            <joint name="h{n}x" axis="1 0 0"/><joint name="h{n}z" axis="0 0 1"/>
            <joint name="h{n}y" axis="0 1 0"/>
            <geom type="capsule" fromto="0 0 0 0 0 -.34" size="0.06"/>
            <body name="s{n}" pos="0 0 -.403">
              <joint name="k{n}" axis="0 -1 0" range="-2.8 0"/>
              <geom type="capsule" fromto="0 0 0 0 0 -.3" size="0.049"/>
              {foot}
            </body>
          </body>"""

_FOOT = """<body name="f{n}" pos="0 0 -.45"><geom type="sphere" pos="0 0 .1" size=".075"/></body>"""

_ARM = """
      <body name="u{n}" pos="0 {y} .06">
        <joint name="a{n}1" axis="2 1 1"/><joint name="a{n}2" axis="0 -1 1"/>
        <geom type="capsule" fromto="0 0 0 .16 {d} -.16" size="0.04"/>
        <body name="l{n}" pos=".18 {d2} -.18">
          <joint name="e{n}" axis="0 -1 1" range="-1.6 0.9"/>
          <geom type="capsule" fromto="0 0 0 .16 {d3} .16" size="0.031"/>
        </body>
      </body>"""


def _classic(foot: bool = True) -> str:
    legs = "".join(
        _LEG.format(n=n, y=y, foot=_FOOT.format(n=n) if foot else "")
        for n, y in ((1, 0.1), (2, -0.1))
    )
    arms = "".join(
        _ARM.format(n=n, y=0.17 * s, d=0.16 * s, d2=0.18 * s, d3=-0.16 * s)
        for n, s in ((1, 1.0), (2, -1.0))
    )
    return _HUMANOID.format(legs=legs, arms=arms)


def test_the_classic_mujoco_humanoid_loads_with_its_welded_feet(tmp_path):
    """Gymnasium's / pybullet's humanoid.xml: each leg is a thigh (three hip hinges) and a
    shin, with the foot sphere welded 45 cm below the knee. It loads: the ankles are the
    foot bodies, the knees the shins, and the soles come from the foot spheres."""
    path = tmp_path / "classic.xml"
    path.write_text(_classic())
    topo = infer_robot_keypoints(parse_robot_file(path))
    assert topo.feet == ("f1", "f2")
    kp = {k: v[0] for k, v in topo.keypoints.items()}
    assert (kp["pelvis"], kp["left_hip"], kp["left_knee"], kp["left_ankle"]) == (
        "b2",
        "t1",
        "s1",
        "f1",
    )
    assert (kp["right_hip"], kp["right_knee"], kp["right_ankle"]) == ("t2", "s2", "f2")
    robot = load_robot(path, verbose=False)
    assert robot.sole_points.shape == (2, 4, 3)
    # The sole is under the sphere (its centre 10 cm above the foot's origin), toe ahead.
    toe, heel = robot.sole_points[0, :2].mean(0), robot.sole_points[0, 2:].mean(0)
    assert toe[0] > heel[0] + 0.05
    assert abs(toe[2] - heel[2]) < 1e-6 and 0.0 < toe[2] < 0.1


def test_two_link_legs_without_a_foot_body_are_still_refused(tmp_path):
    """Nothing welded below the knee: two moving links are no leg, and the refusal says so."""
    from retargetjax.robot import RobotFileError

    path = tmp_path / "footless.xml"
    path.write_text(_classic(foot=False))
    with pytest.raises(RobotFileError, match="2 moving links"):
        infer_robot_keypoints(parse_robot_file(path))

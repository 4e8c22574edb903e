# ruff: noqa: E501  (inline XML fixtures read best one element per line)
"""Mapping by topology: opaque names, mirrored names, End-Site tips, robots of the failure
classes of issue 13 (abbreviated or numbered names, sole-only feet, no arms, extra chains)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retargetjax.keypoints import CANONICAL_KEYPOINTS
from retargetjax.motion import load_bvh, load_motion, map_keypoints, sample_motion_path
from retargetjax.robot import (
    RobotFileError,
    guess_keypoints,
    load_robot,
    parse_robot_file,
    robot_asset_path,
)
from retargetjax.types import RobotKind

BUNDLED = [RobotKind.UNITREE_G1, RobotKind.UNITREE_H1, RobotKind.BOOSTER_T1]


# --- renaming robot files -------------------------------------------------------------------
def _rename_robot(src: Path, dst: Path, rename) -> dict[str, str]:
    """Copy a robot file renaming every body/link, joint, site and geom by ``rename(old, kind,
    k)``; references (parent/child links, contact excludes, mimic) follow. Returns the map."""
    tree = ET.parse(src)
    root = tree.getroot()
    mapping: dict[str, str] = {}
    kinds = {"body": "b", "link": "b", "joint": "j", "site": "s", "geom": "g"}
    counters = dict.fromkeys(kinds.values(), 0)
    for el in root.iter():
        kind = kinds.get(el.tag)
        if kind is None or "name" not in el.attrib:
            continue
        if root.tag == "robot" and el.tag == "joint" and el.find("parent") is None:
            continue  # a transmission's joint reference
        old = el.get("name")
        new = rename(old, kind, counters[kind])
        counters[kind] += 1
        mapping[(kind, old)] = new
        el.set("name", new)
    by_old = {old: new for (kind, old), new in mapping.items() if kind in ("b", "j")}
    for el in root.iter():
        for attr in ("link", "joint", "body1", "body2", "body", "joint1", "joint2"):
            if attr in el.attrib and el.get(attr) in by_old and el.tag != "joint":
                el.set(attr, by_old[el.get(attr)])
        if el.tag in ("mimic",) and el.get("joint") in by_old:
            el.set("joint", by_old[el.get("joint")])
    for el in list(root):
        if el.tag in ("actuator", "sensor", "equality", "transmission", "tendon", "keyframe"):
            root.remove(el)
    tree.write(dst)
    return by_old


def _opaque(old: str, kind: str, k: int) -> str:
    return f"{kind}{k}"


def _mirror_name(old: str, kind: str, k: int) -> str:
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "L": "R", "R": "L"}
    return re.sub(
        r"left|right|Left|Right|(?<![A-Za-z])[LR](?=\d|_|$)", lambda m: swap[m.group(0)], old
    )


def _robot_files(shared: Path | None) -> list[Path]:
    files = [robot_asset_path(k) for k in BUNDLED]
    if shared is not None:
        files += [
            shared / "robots" / "unitree_g1_urdf" / "g1_29dof.urdf",
            shared / "robots" / "unitree_g1" / "g1_mjx.xml",
        ]
    return files


def _placements(path: Path):
    desc = parse_robot_file(path)
    guess = guess_keypoints(desc)
    index = {b.name: i for i, b in enumerate(desc.bodies)}
    bodies = {k: index[b] for k, (b, _o) in guess.keypoints.items()}
    offsets = {k: np.asarray(o) for k, (_b, o) in guess.keypoints.items()}
    feet = tuple(index[f] for f in guess.feet)
    return bodies, offsets, feet, guess


@pytest.fixture(scope="module")
def shared_or_none():
    from conftest import SHARED_DATA

    return SHARED_DATA if SHARED_DATA.is_dir() else None


def test_bundled_robots_map_their_hand_checked_bodies_by_topology():
    from retargetjax.robot import ROBOT_REGISTRY

    for kind in BUNDLED:
        bodies, _off, feet, guess = _placements(robot_asset_path(kind))
        entry = ROBOT_REGISTRY[kind]
        desc = parse_robot_file(robot_asset_path(kind))
        names = [b.name for b in desc.bodies]
        assert set(guess.reasons.values()) == {"topology"}, kind
        for key, (body, _o) in entry.keypoints.items():
            if key.endswith(("toe", "wrist", "hand")) or key in ("torso", "head"):
                continue  # placed by offsets; compared in position below
            assert names[bodies[key]] == body, (kind, key)
        assert tuple(names[f] for f in feet) == entry.feet


def test_opaque_names_choose_the_same_bodies(tmp_path, shared_or_none):
    for src in _robot_files(shared_or_none):
        dst = tmp_path / f"opaque_{src.name}"
        _rename_robot(src, dst, _opaque)
        a_bodies, a_off, a_feet, _ = _placements(src)
        b_bodies, b_off, b_feet, guess = _placements(dst)
        assert a_bodies == b_bodies, src.name
        assert a_feet == b_feet
        for key in a_off:
            np.testing.assert_allclose(a_off[key], b_off[key], atol=1e-9, err_msg=key)
        assert set(guess.reasons.values()) == {"topology"}
        load_robot(dst, verbose=False)  # builds


def test_mirrored_names_keep_left_and_right_from_the_geometry(tmp_path, shared_or_none):
    for src in _robot_files(shared_or_none)[:2]:
        dst = tmp_path / f"mirror_{src.name}"
        _rename_robot(src, dst, _mirror_name)
        a_bodies, _, a_feet, _ = _placements(src)
        b_bodies, _, b_feet, guess = _placements(dst)
        assert a_bodies == b_bodies and a_feet == b_feet
        desc = parse_robot_file(dst)
        # The left leg is now *named* right, and is still the left one.
        assert "right" in desc.bodies[b_feet[0]].name.lower()
        assert any("left_hip" in n for n in guess.notes)  # the names disagree, and it is said


# --- a synthetic robot with every failure class of the issue -----------------------------------
def _leg(side: str, y: float, toe: bool = False) -> str:
    s = side[0]
    n = 1 if side == "left" else 2
    toe_link = (
        f'<body name="leg{n}_toe" pos="0.12 0 -0.04"><joint name="{s}_toe" axis="0 1 0"/>'
        '<geom type="box" size="0.03 0.04 0.01"/></body>'
        if toe
        else ""
    )
    return f"""
      <body name="leg{n}_link1" pos="0 {y} -0.08">
        <joint name="{s}_hip_y" axis="0 1 0"/>
        <body name="leg{n}_link2">
          <joint name="{s}_hip_r" axis="1 0 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.35" size="0.04"/>
          <body name="leg{n}_link3" pos="0 0 -0.35">
            <joint name="{s}_kn" axis="0 1 0" range="0 2.5"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.35" size="0.035"/>
            <body name="leg{n}_link4" pos="0 0 -0.35">
              <joint name="{s}_an_p" axis="0 1 0"/>
              <body name="leg{n}_link5">
                <joint name="{s}_an_r" axis="1 0 0"/>
                <site name="leg{n}_sole" pos="0.03 0 -0.06"/>
                {toe_link}
              </body>
            </body>
          </body>
        </body>
      </body>"""


def _gripper(n: int) -> str:
    return "".join(
        f'<body name="arm{n}_grip_{c}" pos="0.25 {y} 0"><joint name="a{n}_g{c}" type="slide" '
        'axis="0 1 0"/><geom type="box" size="0.02 0.005 0.02"/></body>'
        for c, y in (("a", 0.02), ("b", -0.02))
    )


def _synthetic_robot(arms: bool, extras: bool) -> str:
    arm = ""
    if arms:
        for n, y in ((1, 0.17), (2, -0.17)):
            arm += f"""
        <body name="arm{n}_link1" pos="0 {y} 0.3">
          <joint name="a{n}_sh_p" axis="0 1 0"/>
          <body name="arm{n}_link2"><joint name="a{n}_sh_r" axis="1 0 0"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.25" size="0.03"/>
            <body name="arm{n}_link3" pos="0 0 -0.25"><joint name="a{n}_el" axis="0 1 0"/>
              <geom type="capsule" fromto="0 0 0 0.22 0 0" size="0.03"/>
              {_gripper(n) if extras else ""}
            </body>
          </body>
        </body>"""
    extra = ""
    if extras:
        extra = """
        <body name="imu_frame" pos="-0.05 0.02 0.1"/>
        <body name="mast" pos="-0.08 0 0.35"><joint name="cam_pan" axis="0 0 1"/>
          <body name="camera" pos="0 0 0.12"><site name="lens" pos="0.02 0 0"/></body>
        </body>"""
    return f"""<mujoco model="synthetic">
  <compiler angle="radian"/>
  <worldbody>
    <body name="base" pos="0 0 0.9">
      <freejoint/>
      <geom type="box" size="0.08 0.12 0.05"/>
      {_leg("left", 0.1, extras)}
      {_leg("right", -0.1, extras)}
      <body name="seg1" pos="0 0 0.08">
        <joint name="w_y" axis="0 0 1"/>
        <geom type="box" size="0.08 0.14 0.18" pos="0 0 0.2"/>
        {arm}
        {extra}
      </body>
    </body>
  </worldbody>
</mujoco>"""


@pytest.mark.parametrize(("arms", "extras"), [(False, False), (True, True)])
def test_synthetic_robot_of_the_failure_classes_maps(tmp_path, arms, extras, capsys):
    path = tmp_path / "odd.xml"
    path.write_text(_synthetic_robot(arms, extras))
    robot = load_robot(path)
    printed = capsys.readouterr().out
    assert "(topology)" in printed and "missing" in printed
    assert robot.body_names[robot.foot_body[0]] == "leg1_link5"  # +y is left
    kp = dict(zip(robot.keypoint_names, robot.keypoint_body))
    assert robot.body_names[kp["left_knee"]] == "leg1_link3"
    assert robot.body_names[kp["right_hip"]] == "leg2_link2"  # the roll joint
    # The sole is the site's height (6 cm below the ankle), not a guessed box.
    np.testing.assert_allclose(np.asarray(robot.sole_points)[0, :, 2], -0.06, atol=1e-6)
    if arms:
        assert robot.body_names[kp["left_elbow"]] == "arm1_link3"
        assert robot.body_names[kp["left_wrist"]] == "arm1_link3"  # before the gripper
        assert "head" in robot.keypoint_names  # the camera on its mast
        assert "mast" not in (robot.body_names[b] for b in robot.foot_body)
    else:
        assert not any("shoulder" in k or "wrist" in k for k in robot.keypoint_names)
        assert "torso" in robot.keypoint_names


def test_armless_robot_builds_a_problem_without_arm_targets(tmp_path):
    from retargetjax.retarget import RetargetConfig, prepare_problem

    path = tmp_path / "armless.xml"
    path.write_text(_synthetic_robot(False, False))
    robot = load_robot(path, verbose=False)
    motion = load_motion(sample_motion_path()).trim(0, 20)
    problem = prepare_problem(motion, robot, RetargetConfig())
    assert "left_wrist" not in problem.keypoint_names and "left_ankle" in problem.keypoint_names
    assert problem.mapping["keypoints"]["left_wrist"]["reason"] in ("topology", "name")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<html><body>hello</body></html>", "not a robot file"),
        (
            "<mujoco><worldbody><body name='a' pos='0 0 1'><freejoint/><geom size='0.1'/>"
            "<body name='b' pos='0 0 -0.4'><joint name='j1'/><body name='c' pos='0 0 -0.4'><joint name='j2'/>"
            "<body name='d' pos='0 0 -0.1'><joint name='j3'/><body name='e' pos='0 0 -0.05'><joint name='j4'/>"
            "</body></body></body></body></body></worldbody></mujoco>",
            "two leg chains",
        ),
    ],
)
def test_bad_robot_files_fail_with_one_clear_line(tmp_path, text, needle):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(RobotFileError) as err:
        load_robot(path, verbose=False)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert str(path) in str(err.value) and "expected" in str(err.value)


# --- human rigs --------------------------------------------------------------------------------
def _rename_bvh(text: str, rename) -> str:
    k = iter(range(10_000))
    return re.sub(
        r"^(\s*(?:ROOT|JOINT)\s+)(\S.*?)\s*$",
        lambda m: m.group(1) + rename(m.group(2), next(k)),
        text,
        flags=re.M,
    )


def _bvh_files(shared: Path | None) -> list[Path]:
    files = [sample_motion_path()]
    if shared is not None:
        files += sorted((shared / "motions" / "bvh").glob("*.bvh"))
    return files


def test_renamed_bvh_rigs_map_the_same_joints(tmp_path, shared_or_none):
    for src in _bvh_files(shared_or_none):
        dst = tmp_path / f"opaque_{src.name}"
        dst.write_text(_rename_bvh(src.read_text(), lambda old, k: f"j{k}"))
        a = map_keypoints(load_bvh(src), verbose=False)
        b = map_keypoints(load_bvh(dst), verbose=False)
        assert a.names == b.names, src.name
        assert a.joint_index == b.joint_index, src.name
        assert set(b.reasons) == {"topology"}


def test_mirrored_bvh_names_keep_sides_from_the_skeleton(tmp_path):
    src = sample_motion_path()
    dst = tmp_path / "mirrored.bvh"
    swap = {"Left": "Right", "Right": "Left"}
    dst.write_text(re.sub(r"Left|Right", lambda m: swap[m.group(0)], src.read_text()))
    a = map_keypoints(load_bvh(src), verbose=False)
    b = map_keypoints(load_bvh(dst), verbose=False)
    assert a.joint_index == b.joint_index
    assert b.as_dict()["left_hip"] == "RightHip"  # named right, standing on the left
    assert any("left_hip" in n for n in b.notes)


def _synthetic_bvh(facing: str, up: str, game: bool = False) -> str:
    """A T-pose rig with opaque names whose wrists, toes and head are End Sites only; with
    ``game``, a game-engine layout around it: a root on the floor, IK bones parked at the
    feet, and twist bones beside the upper arm and forearm."""
    axes = {"x": np.eye(3)[0], "y": np.eye(3)[1], "z": np.eye(3)[2]}
    U = axes[up]
    F = -axes[facing[1]] if facing[0] == "-" else axes[facing[1]]
    L = np.cross(U, F)

    def off(f: float, left: float, u: float) -> str:
        v = f * F + left * L + u * U
        return " ".join(f"{c:.4f}" for c in v)

    def leg(name: str, s: float) -> str:
        return f"""JOINT {name}a
  {{ OFFSET {off(0, 9 * s, -5)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  JOINT {name}b
  {{ OFFSET {off(0, 0, -42)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  JOINT {name}c
  {{ OFFSET {off(0, 0, -40)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  End Site
  {{ OFFSET {off(14, 0, -8)} }}
  }} }} }}
"""

    def arm(name: str, s: float) -> str:
        return f"""JOINT {name}a
  {{ OFFSET {off(0, 3 * s, 15)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  JOINT {name}b
  {{ OFFSET {off(0, 14 * s, 0)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  {twist(name + "u", s)}
  JOINT {name}c
  {{ OFFSET {off(0, 28 * s, 0)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  {twist(name + "f", s)}
  End Site
  {{ OFFSET {off(0, 25 * s, 0)} }}
  }} }} }}
"""

    def twist(name: str, s: float) -> str:
        if not game:
            return ""
        return f"""JOINT {name}t
  {{ OFFSET {off(0, 12 * s, 0)}
  CHANNELS 3 Zrotation Xrotation Yrotation
  End Site
  {{ OFFSET 0 0 0 }}
  }}"""

    head = f"""ROOT q0
{{ OFFSET {off(0, 0, 95)}
CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
"""
    if game:
        ik = "".join(
            f"JOINT ik{k} {{ OFFSET {off(0, 9 * s, 0)} CHANNELS 3 Zrotation Xrotation Yrotation "
            "End Site { OFFSET 0 0 0 } }\n"
            for k, s in ((1, 1), (2, -1))
        )
        head = f"""ROOT r0
{{ OFFSET 0 0 0
CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
JOINT ikroot {{ OFFSET 0 0 0 CHANNELS 3 Zrotation Xrotation Yrotation
{ik}}}
JOINT q0
{{ OFFSET {off(0, 0, 95)}
CHANNELS 3 Zrotation Xrotation Yrotation
"""
    text = f"""HIERARCHY
{head}{leg("p", 1)}{leg("q", -1)}
JOINT s1
{{ OFFSET {off(0, 0, 10)}
CHANNELS 3 Zrotation Xrotation Yrotation
JOINT s2
{{ OFFSET {off(0, 0, 15)}
CHANNELS 3 Zrotation Xrotation Yrotation
JOINT s3
{{ OFFSET {off(0, 0, 20)}
CHANNELS 3 Zrotation Xrotation Yrotation
End Site
{{ OFFSET {off(0, 0, 18)} }}
}}
{arm("m", 1)}{arm("n", -1)}
}} }} }}{"}" if game else ""}
MOTION
Frames: 3
Frame Time: 0.0333333
"""
    root = ["0", "0", "0"] if game else off(0, 0, 95).split()
    channels = 6 + 3 * text.count("JOINT ")
    row = " ".join(root + ["0"] * (channels - 3))
    return text + "\n".join([row] * 3) + "\n"


@pytest.mark.parametrize(
    ("facing", "up", "game"),
    [
        ("+z", "y", False),
        ("+x", "y", False),
        ("-y", "z", False),
        ("+x", "z", False),
        ("-x", "y", True),
    ],
)
def test_end_site_tips_are_wrists_toes_and_head_whatever_the_facing(tmp_path, facing, up, game):
    path = tmp_path / "endsites.bvh"
    path.write_text(_synthetic_bvh(facing, up, game))
    motion = load_bvh(path)  # the up axis is detected: a Z-up export stands up too
    assert motion.metadata["up_axis"] == up
    d = map_keypoints(motion, verbose=False).as_dict()
    assert d["left_hip"] == "pa" and d["right_knee"] == "qb" and d["left_ankle"] == "pc"
    assert d["left_toe"] == "pc_End" and d["right_toe"] == "qc_End"
    assert d["left_shoulder"] == "mb" and d["left_elbow"] == "mc"
    assert d["left_wrist"] == "mc_End" and d["right_wrist"] == "nc_End"
    assert d["torso"] == "s2" and d["neck"] == "s3" and d["head"] == "s3_End"
    assert "left_hand" not in d


def test_end_site_rig_retargets_targets_for_every_keypoint(tmp_path):
    from retargetjax.retarget import RetargetConfig, prepare_problem

    path = tmp_path / "endsites.bvh"
    path.write_text(_synthetic_bvh("+z", "y"))
    problem = prepare_problem(load_bvh(path), "unitree_g1", RetargetConfig())
    assert {"left_wrist", "right_wrist", "left_toe", "head"} <= set(problem.keypoint_names)
    assert np.all(np.isfinite(problem.target_keypoints))
    assert set(CANONICAL_KEYPOINTS) >= set(problem.mapping["keypoints"])


def test_yaml_override_is_reported_and_a_far_torso_is_warned(tmp_path, capsys):
    src = robot_asset_path("unitree_g1")
    yaml_path = tmp_path / "map.yaml"
    yaml_path.write_text("keypoints:\n  torso: pelvis\n")
    robot = load_robot(src, keypoints_yaml=yaml_path)
    printed = capsys.readouterr().out
    reason = dict(zip(robot.keypoint_names, robot.keypoint_reason))
    assert reason["torso"] == "yaml" and reason["left_hip"] == "topology"
    assert "torso -> pelvis  (yaml)" in printed
    warning = next(line for line in printed.splitlines() if "warning: torso" in line)
    assert "'pelvis'" in warning and " cm " in warning

"""Limbs of kinds the sample robots do not show (found on held-out humanoids), built from the
bundled robots: Atlas's long, near-vertical clavicle offset above the shoulder (its shoulder
roll link must not be taken for the elbow)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retargetjax.robot import guess_keypoints, parse_robot_file, robot_asset_path
from retargetjax.types import RobotKind

BUNDLED = [RobotKind.UNITREE_G1, RobotKind.UNITREE_H1, RobotKind.BOOSTER_T1]
_SIDES = (("left", 1.0), ("right", -1.0))


def _bodies(tree: ET.ElementTree) -> dict[str, ET.Element]:
    return {b.get("name"): b for b in tree.getroot().iter("body")}


def _parents(tree: ET.ElementTree) -> dict[ET.Element, ET.Element]:
    return {c: p for p in tree.getroot().iter() for c in p}


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

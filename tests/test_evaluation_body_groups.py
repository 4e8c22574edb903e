"""Limbs of the collision capsules and the feet's capsules, found from topology + keypoints."""

from __future__ import annotations

import pytest

from retargetjax.evaluation import PAIR_GROUPS, capsule_limbs, foot_capsules, pair_groups
from retargetjax.evaluation._body_groups import pair_group
from retargetjax.robot import load_robot


@pytest.mark.parametrize("name", ["unitree_g1", "unitree_h1", "booster_t1"])
def test_limbs_and_feet_of_the_bundled_robots(name):
    robot = load_robot(name)
    limbs = capsule_limbs(robot)
    assert len(limbs) == len(robot.capsule_names)
    assert set(limbs) == {"left_arm", "right_arm", "left_leg", "right_leg", "torso"}
    # Each side has as many arm (and leg) capsules as the other.
    for kind in ("arm", "leg"):
        assert limbs.count(f"left_{kind}") == limbs.count(f"right_{kind}") > 0
    left, right = foot_capsules(robot)
    assert len(left) == len(right) > 0
    for side, caps in (("left", left), ("right", right)):
        assert all(limbs[c] == f"{side}_leg" for c in caps)
        assert all(robot.capsule_body[c] == robot.foot_body[side == "right"] for c in caps)
    groups = set(pair_groups(robot))
    assert {"arm_torso", "arm_leg", "leg_leg"} <= groups <= set(PAIR_GROUPS)


def test_pair_group_names_are_ordered():
    assert pair_group("torso", "left_arm") == "arm_torso"
    assert pair_group("right_leg", "left_arm") == "arm_leg"
    assert pair_group("right_leg", "left_leg") == "leg_leg"


@pytest.mark.parametrize("name", ["unitree_g1", "unitree_h1", "booster_t1"])
def test_every_body_part_maps_to_robot_capsules(name):
    from retargetjax.evaluation import part_capsules
    from retargetjax.motion import BODY_PARTS

    robot = load_robot(name)
    limbs = capsule_limbs(robot)
    caps = part_capsules(robot)
    assert tuple(caps) == tuple(BODY_PARTS)
    assert caps["left_foot"] == foot_capsules(robot)[0]
    for part in ("left_hand", "right_hand"):
        assert caps[part] and all(limbs[c] == part.replace("hand", "arm") for c in caps[part])
    for part in ("left_knee", "right_knee"):
        assert caps[part] and all(limbs[c] == part.replace("knee", "leg") for c in caps[part])
    assert caps["back"] and all(limbs[c] == "torso" for c in caps["back"])

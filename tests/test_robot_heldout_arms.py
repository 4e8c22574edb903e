# ruff: noqa: E501  (inline XML fixtures read best one element per line)
"""Arms and trunks of kinds the sample robots do not show (found on held-out humanoids): a
clavicle link inboard of the shoulder and a twist link in the upper arm (TALOS, Fourier
GR1), arms pointing forward in the file pose (NAO, Romeo). Names are opaque on purpose."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.robot import guess_keypoints, parse_robot_file
from retargetjax.robot._topology_tree import rest_body_poses


def _leg(n: int, y: float) -> str:
    return f"""
      <body name="q{n}a" pos="0 {y} -0.08"><joint name="j{n}a" axis="0 1 0"/>
        <body name="q{n}b"><joint name="j{n}b" axis="1 0 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.04"/>
          <body name="q{n}c" pos="0 0 -0.4"><joint name="j{n}c" axis="0 1 0" range="0 2.5"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.035"/>
            <body name="q{n}d" pos="0 0 -0.4"><joint name="j{n}d" axis="0 1 0"/>
              <body name="q{n}e"><joint name="j{n}e" axis="1 0 0"/>
                <geom type="box" size="0.1 0.04 0.01" pos="0.04 0 -0.05"/>
              </body>
            </body>
          </body>
        </body>
      </body>"""


#: Rest poses of the arm: its direction, the axis of its shoulder's second joint and of its
#: elbow's bend (across the arm), both as the robots of each kind have them.
_POSES = {
    "hanging": ((0, 0, -1), (1, 0, 0), (0, 1, 0)),  # G1, TALOS, GR1
    "sideways": ((0, 1, 0), (1, 0, 0), (0, 0, 1)),  # T1's T-pose
    "forward": ((1, 0, 0), (0, 0, 1), (0, 0, 1)),  # NAO, Romeo
}


def _arm(n: int, side: float, pose: str, clavicle: bool, twist: bool) -> str:
    """One arm: [clavicle yaw 12 cm inboard] → shoulder pitch + second joint at one point →
    [upper-arm twist 7 cm down] → elbow twist + bend 28 cm down → wrist 25 cm further."""
    d, second, bend = (np.array(v, float) for v in _POSES[pose])
    d[1] *= side

    def v(x) -> str:
        return " ".join(f"{c:g}" for c in np.asarray(x, float))

    twist_link = (
        f'<body name="a{n}t" pos="{v(0.07 * d)}"><joint name="k{n}t" axis="{v(d)}"/>'
        if twist
        else ""
    )
    elbow_pos = 0.21 * d if twist else 0.28 * d
    arm = f"""
        <body name="a{n}s" pos="0 {0.2 * side:g} 0.3"><joint name="k{n}s" axis="0 1 0"/>
          <body name="a{n}r"><joint name="k{n}r" axis="{v(second)}"/>
            <geom type="capsule" fromto="0 0 0 {v(0.25 * d)}" size="0.03"/>
            {twist_link}
            <body name="a{n}u" pos="{v(elbow_pos)}"><joint name="k{n}u" axis="{v(d)}"/>
              <body name="a{n}e"><joint name="k{n}e" axis="{v(bend)}"/>
                <geom type="capsule" fromto="0 0 0 {v(0.22 * d)}" size="0.03"/>
                <body name="a{n}w" pos="{v(0.25 * d)}"><joint name="k{n}w" axis="{v(d)}"/>
                  <geom type="box" size="0.04 0.04 0.04" pos="{v(0.06 * d)}"/>
                </body>
              </body>
            </body>
            {"</body>" if twist else ""}
          </body>
        </body>"""
    if clavicle:  # a yaw link on the chest, 12 cm inboard of the shoulder and 4 cm below
        arm = arm.replace(f'pos="0 {0.2 * side:g} 0.3"', f'pos="0 {0.12 * side:g} 0.04"', 1)
        arm = f"""
        <body name="a{n}c" pos="0 {0.08 * side:g} 0.26"><joint name="k{n}c" axis="0 0 1"/>
          <geom type="box" size="0.03 0.05 0.03" pos="0 {0.05 * side:g} 0"/>
          {arm}
        </body>"""
    return arm


def _robot(pose: str, clavicle: bool = False, twist: bool = False) -> str:
    arms = _arm(1, 1.0, pose, clavicle, twist) + _arm(2, -1.0, pose, clavicle, twist)
    return f"""<mujoco model="x">
  <compiler angle="radian"/>
  <worldbody>
    <body name="r0" pos="0 0 1.0">
      <freejoint/>
      <geom type="box" size="0.08 0.12 0.05"/>
      {_leg(1, 0.1)}{_leg(2, -0.1)}
      <body name="t0" pos="0 0 0.08"><joint name="t0j" axis="0 0 1"/>
        <geom type="box" size="0.08 0.14 0.18" pos="0 0 0.2"/>
        {arms}
      </body>
    </body>
  </worldbody>
</mujoco>"""


def _keypoints(tmp_path, text: str) -> dict[str, np.ndarray]:
    """World points (file pose) of the keypoints the topology places."""
    path = tmp_path / "robot.xml"
    path.write_text(text)
    desc = parse_robot_file(path)
    guess = guess_keypoints(desc)
    rots, poss = rest_body_poses(desc)
    names = [b.name for b in desc.bodies]
    out = {}
    for key, (body, offset) in guess.keypoints.items():
        i = names.index(body)
        out[key] = poss[i] + rots[i] @ np.asarray(offset, float)
        out[key + ":body"] = body
    return out


@pytest.mark.parametrize("pose", list(_POSES))
@pytest.mark.parametrize(
    ("clavicle", "twist"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_shoulder_and_elbow_whatever_the_rest_pose(tmp_path, pose, clavicle, twist):
    """The shoulder is at the shoulder joint, not on a clavicle link inboard of it nor on the
    elbow (NAO's forward arms); the elbow is the bend 28 cm down the arm, not an upper-arm
    twist link a few cm below the shoulder (GR1) nor the shoulder itself (TALOS)."""
    kp = _keypoints(tmp_path, _robot(pose, clavicle, twist))
    d = np.array(_POSES[pose][0], float)
    shoulder = np.array([0.0, 0.2, 0.38])  # the root at the origin; clavicle or not
    for side, sign in (("left", 1.0), ("right", -1.0)):
        mirror = np.array([1.0, sign, 1.0])
        s = shoulder * mirror
        e = s + 0.28 * d * mirror
        np.testing.assert_allclose(kp[f"{side}_shoulder"], s, atol=1e-6, err_msg=side)
        np.testing.assert_allclose(kp[f"{side}_elbow"], e, atol=1e-6, err_msg=side)
        assert kp[f"{side}_elbow:body"] == f"a{1 if sign > 0 else 2}e"
        assert kp[f"{side}_wrist:body"] == f"a{1 if sign > 0 else 2}w"
    # The chest is between the shoulders, not in front of them.
    assert abs(kp["torso"][0]) < 1e-6 and abs(kp["torso"][1]) < 1e-6


def test_legs_from_a_waist_below_the_chest_and_arms_welded_to_it(tmp_path):
    """XBot-L's URDF: the legs hang from a waist body welded under the chest, and the arms and
    the head are welded to the chest (only the legs move). The chest point is on the chest
    between the shoulders, not on the waist, and the head is the top of the neck chain."""
    arm = """
        <body name="a{n}0" pos="0 {y} 0.29"><geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.03"/>
          <body name="a{n}1" pos="0 0 -0.2"/>
        </body>"""
    text = f"""<mujoco model="x">
  <compiler angle="radian"/>
  <worldbody>
    <body name="c0" pos="0 0 1.1">
      <freejoint/>
      <geom type="box" size="0.08 0.14 0.15" pos="0 0 0.15"/>
      <body name="w0" pos="0 0 -0.1"><geom type="box" size="0.08 0.12 0.05"/>
        {_leg(1, 0.1)}{_leg(2, -0.1)}
      </body>
      {arm.format(n=1, y=0.26)}{arm.format(n=2, y=-0.26)}
      <body name="n0" pos="0 0 0.4"><body name="n1" pos="0.03 0 0.05"><site name="cam" pos="0.05 0 0.1"/></body></body>
    </body>
  </worldbody>
</mujoco>"""
    kp = _keypoints(tmp_path, text)
    assert kp["pelvis:body"] == "w0"
    assert kp["torso:body"] == "c0"
    pelvis_z, shoulder_z = -0.1, 0.29
    np.testing.assert_allclose(
        kp["torso"], [0.0, 0.0, pelvis_z + 2 / 3 * (shoulder_z - pelvis_z)], atol=1e-6
    )
    np.testing.assert_allclose(kp["left_shoulder"], [0.0, 0.26, 0.29], atol=1e-6)
    np.testing.assert_allclose(kp["head"], [0.08, 0.0, 0.55], atol=1e-6)


@pytest.mark.parametrize("pose", ["hanging", "sideways"])
@pytest.mark.parametrize("near", [0.07, 0.12])
def test_a_forearm_twist_near_the_elbow_is_no_wrist(tmp_path, pose, near):
    """PND Adam Lite: the arm's last joint turns the forearm about itself 7-12 cm below the
    elbow, and its shape runs 28 cm further with the hand. The wrist is near the forearm's
    end (0.85 of the way from the elbow to its tip), the hand at the tip, both on the twist
    link, not on the twist joint (``elbow->wrist`` scale 0.38 before)."""
    d = np.array(_POSES[pose][0], float)
    text = _robot(pose)
    for n, side in ((1, 1.0), (2, -1.0)):
        dv = d * np.array([1.0, side, 1.0])

        def v(x) -> str:
            return " ".join(f"{c:g}" for c in np.asarray(x, float))

        text = text.replace(
            f'<body name="a{n}w" pos="{v(0.25 * dv)}">', f'<body name="a{n}w" pos="{v(near * dv)}">'
        )
        text = text.replace(
            f'<geom type="box" size="0.04 0.04 0.04" pos="{v(0.06 * dv)}"/>',
            f'<geom type="capsule" fromto="0 0 0 {v(0.28 * dv)}" size="0.03"/>',
        )
    kp = _keypoints(tmp_path, text)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        dv = d * np.array([1.0, sign, 1.0])
        elbow = kp[f"{side}_elbow"]
        assert kp[f"{side}_wrist:body"] == kp[f"{side}_hand:body"] == f"a{1 if sign > 0 else 2}w"
        np.testing.assert_allclose(
            kp[f"{side}_wrist"], elbow + 0.85 * (near + 0.28) * dv, atol=1e-6
        )
        np.testing.assert_allclose(kp[f"{side}_hand"], elbow + (near + 0.28) * dv, atol=1e-6)


def test_the_head_is_not_a_face_part(tmp_path):
    """HRP-4C: eyebrow, eyelid, eye and mouth links, each with its own joint, hang from the
    neck's last link, the eyebrow highest. The head keypoint goes there, on the head link,
    not on the eyebrow (which could track the head target alone); with a single moving leaf
    on top (a head on its neck joint) that leaf is the head."""
    face = """
        <body name="h0" pos="0 0 0.42"><joint name="h0j" axis="0 1 0" range="-1 1"/>
          <body name="f1" pos="0.05 0 0.14"><joint name="f1j" axis="0 1 0" range="-0.3 0.3"/></body>
          <body name="f2" pos="0.06 0.03 0.09"><joint name="f2j" axis="1 0 0" range="-0.3 0.3"/></body>
          <body name="f3" pos="0.06 0 0.02"><joint name="f3j" axis="0 1 0" range="-0.3 0.3"/></body>
        </body>"""
    marker = '<geom type="box" size="0.08 0.14 0.18" pos="0 0 0.2"/>'
    text = _robot("hanging").replace(marker, marker + face)
    kp = _keypoints(tmp_path, text)
    assert kp["head:body"] == "h0"
    np.testing.assert_allclose(kp["head"], [0.05, 0.0, 0.08 + 0.42 + 0.14], atol=1e-6)  # root at 0
    # One moving leaf on the neck: the head itself.
    lone = face.split('<body name="f2"')[0] + "</body>"
    kp = _keypoints(tmp_path, _robot("hanging").replace(marker, marker + lone))
    assert kp["head:body"] == "f1"

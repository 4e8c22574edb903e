# ruff: noqa: E501  (inline XML fixtures read best one element per line)
"""Where the solver starts a robot that stands in a T-pose (AzureLoong, Atlas, Poppy): arms
hanging with the elbows bent forward, and the ``default_pose`` cost pulls there, not to the
T-pose. Built on a robot written here (opaque names, elbows bending about the forward axis in
the T-pose, their range starting at the straight arm), their elbow axes of either sign."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from retargetjax.retarget._solve_clips import _with_standing_start
from retargetjax.retarget._start_pose import (
    _directions,
    _host_keypoints,
    _torso_frame,
    standing_start,
)
from retargetjax.robot import load_robot


def _leg(n: int, y: float) -> str:
    return f"""
      <body name="q{n}a" pos="0 {y} -0.08"><joint name="j{n}a" axis="0 1 0" range="-2 2"/>
        <body name="q{n}b"><joint name="j{n}b" axis="1 0 0" range="-1 1"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.04"/>
          <body name="q{n}c" pos="0 0 -0.4"><joint name="j{n}c" axis="0 1 0" range="-0.1 2.5"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.035"/>
            <body name="q{n}d" pos="0 0 -0.4"><joint name="j{n}d" axis="0 1 0" range="-1 1"/>
              <body name="q{n}e"><joint name="j{n}e" axis="1 0 0" range="-0.5 0.5"/>
                <geom type="box" size="0.1 0.04 0.01" pos="0.04 0 -0.05"/>
              </body>
            </body>
          </body>
        </body>
      </body>"""


def _arm(n: int, side: float, pose: str, bend_sign: float) -> str:
    """Shoulder pitch (y), roll (x), upper-arm twist (along the arm), elbow 28 cm down, hand
    25 cm further. ``tpose``: the arm sideways, its elbow bending about ``bend_sign``·x (in
    the frontal plane; range from the straight arm); ``hanging``: down, bending about y."""
    if pose == "tpose":
        d, bend, elbow_range = f"0 {side:g} 0", f"{bend_sign:g} 0 0", "0 2.9"
        dv = np.array([0.0, side, 0.0])
    else:
        d, bend, elbow_range = "0 0 -1", "0 1 0", "-2.5 0.2"
        dv = np.array([0.0, 0.0, -1.0])

    def v(x: np.ndarray) -> str:
        return " ".join(f"{c:g}" for c in x)

    return f"""
        <body name="a{n}s" pos="0 {0.2 * side:g} 0.3"><joint name="k{n}s" axis="0 1 0" range="-3 3"/>
          <body name="a{n}r"><joint name="k{n}r" axis="1 0 0" range="-1.8 1.8"/>
            <geom type="capsule" fromto="0 0 0 {v(0.25 * dv)}" size="0.03"/>
            <body name="a{n}u"><joint name="k{n}u" axis="{d}" range="-3 3"/>
              <body name="a{n}e" pos="{v(0.28 * dv)}"><joint name="k{n}e" axis="{bend}" range="{elbow_range}"/>
                <geom type="capsule" fromto="0 0 0 {v(0.22 * dv)}" size="0.03"/>
                <body name="a{n}w" pos="{v(0.25 * dv)}">
                  <geom type="box" size="0.04 0.04 0.04" pos="{v(0.06 * dv)}"/>
                </body>
              </body>
            </body>
          </body>
        </body>"""


def _robot(pose: str, bend_sign: float = 1.0) -> str:
    return f"""<mujoco model="x">
  <compiler angle="radian"/>
  <worldbody>
    <body name="r0" pos="0 0 1.0">
      <freejoint/>
      <geom type="box" size="0.08 0.12 0.05"/>
      {_leg(1, 0.1)}{_leg(2, -0.1)}
      <body name="t0" pos="0 0 0.08"><joint name="t0j" axis="0 0 1" range="-1 1"/>
        <geom type="box" size="0.08 0.14 0.18" pos="0 0 0.2"/>
        {_arm(1, 1.0, pose, bend_sign)}{_arm(2, -1.0, pose, -bend_sign)}
      </body>
    </body>
  </worldbody>
</mujoco>"""


def _load(tmp_path, text: str):
    path = tmp_path / "robot.xml"
    path.write_text(text)
    return load_robot(str(path), verbose=False)


def _arm_directions(robot, q: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per side the unit upper arm and forearm in the torso frame (forward, left, up)."""
    names = tuple(robot.keypoint_names)
    kp = _host_keypoints(robot, np.asarray(q, np.float64)[None])
    frame = _torso_frame(kp, names)
    out = {}
    for side in ("left", "right"):
        u, f = _directions(kp, names, side, frame)
        out[side] = (u[0], f[0])
    return out


@pytest.mark.parametrize("bend_sign", [1.0, -1.0])
def test_a_t_pose_robot_starts_with_its_arms_down_and_elbows_bent_forward(tmp_path, bend_sign):
    """Lowered by the shoulder alone, such an elbow would bend sideways and the solver keeps
    it straight (AzureLoong's right elbow: 10 cm off all walk long); the start turns the
    upper arm so that it bends forward. Legs and trunk start as they stand."""
    robot = _load(tmp_path, _robot("tpose", bend_sign))
    q0 = np.asarray(robot.default_joint_pos, np.float64)
    before = _arm_directions(robot, q0)
    for side in ("left", "right"):
        assert before[side][0] @ np.array([0.0, 0.0, -1.0]) < 0.2  # the file's T-pose
    start = standing_start(robot)
    after = _arm_directions(robot, start)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        u, f = after[side]
        assert u[2] < -0.9, (side, u)  # hanging
        assert u[1] * sign > -0.1, (side, u)  # not across the body
        assert f[0] > 0.5, (side, f)  # forearm forward: the elbow bent 30-60° forward
        assert f @ u < 0.9, (side, f, u)
    moved = np.nonzero(np.abs(start - q0) > 1e-9)[0]
    assert {robot.joint_names[j][:1] for j in moved} == {"k"}, "only arm joints move"
    # The solve's pull towards the standing pose pulls to that start, not to the T-pose.
    prior = _with_standing_start(robot)
    np.testing.assert_allclose(prior.default_joint_pos, start, atol=1e-6)
    assert prior.num_joints == robot.num_joints


def test_a_robot_standing_with_its_arms_down_starts_as_it_stands(tmp_path):
    robot = _load(tmp_path, _robot("hanging"))
    np.testing.assert_array_equal(standing_start(robot), np.asarray(robot.default_joint_pos))
    assert _with_standing_start(robot) is robot
    # A robot's file pose turned into a T-pose by its keypoints YAML (default_joint_pos)
    # starts lowered again, whatever the file.
    q = np.asarray(robot.default_joint_pos).copy()
    roll = [robot.joint_names.index(n) for n in ("k1r", "k2r")]
    q[roll] = [1.5, -1.5]
    raised = dataclasses.replace(robot, default_joint_pos=q.astype(np.float32))
    assert _arm_directions(raised, q)["left"][0][1] > 0.9  # raised sideways
    for side in ("left", "right"):
        assert _arm_directions(raised, standing_start(raised))[side][0][2] < -0.9


def test_a_t_pose_robot_bends_its_elbows_as_the_target_does(tmp_path):
    """A clip made by the T-pose robot itself, arms hanging and elbows bent 0.6-1.0 rad
    forward, airborne (no floor terms): recovered to < 1.5 cm at the elbows by the default
    solver (started at the T-pose and pulled towards it, the elbows stay straight: 9-10 cm)."""
    import jax

    from retargetjax.retarget import RetargetConfig, build_problem, solve_problems
    from retargetjax.retarget._frames import built_frame
    from retargetjax.robot import forward_kinematics, keypoint_positions

    robot = _load(tmp_path, _robot("tpose"))
    frames = 16
    t = np.arange(frames) / 30.0
    q = np.tile(standing_start(robot), (frames, 1))
    for k, name in enumerate(("k1e", "k2e", "k1s", "k2s")):
        q[:, robot.joint_names.index(name)] += 0.2 * np.sin(2 * np.pi * 0.5 * t + k)
    root_pos = np.stack([0.6 * t, 0 * t, np.full(frames, 1.1)], -1).astype(np.float32)
    root_quat = np.tile(np.float32([1, 0, 0, 0]), (frames, 1))

    @jax.jit
    def keypoints(root_pos, root_quat, joint_pos):
        return keypoint_positions(robot, forward_kinematics(robot, root_pos, root_quat, joint_pos))

    kp = np.asarray(keypoints(root_pos, root_quat, q.astype(np.float32)), np.float64)
    names = tuple(robot.keypoint_names)
    base = build_problem(kp, names, np.zeros((frames, 2), bool), 30.0, robot, source="synthetic")
    idx = np.asarray(base.frame_keypoints)
    axes = built_frame(*(kp[:, idx[:, c]] for c in range(4)), np)
    problem = dataclasses.replace(
        base,
        target_keypoints=kp.astype(np.float32),
        target_frames=axes.astype(np.float32),
        sole_contact=np.zeros_like(base.sole_contact),
        contact=np.zeros_like(base.contact),
    )
    solution = solve_problems([problem], robot, RetargetConfig())[0]
    solved = np.asarray(
        keypoints(solution["root_pos"], solution["root_quat"], solution["joint_pos"])
    )
    error = np.linalg.norm(solved - kp, axis=-1).mean(axis=0)
    for side in ("left", "right"):
        assert error[names.index(f"{side}_elbow")] < 0.015, (side, error)
    elbows = [robot.joint_names.index(n) for n in ("k1e", "k2e")]
    assert np.all(solution["joint_pos"][:, elbows].mean(axis=0) > 0.4)

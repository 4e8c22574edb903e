"""The geometric point Jacobian against forward-mode autodiff through forward kinematics."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax.geometry import quat_exp, quat_mul, quat_normalize
from retargetjax.robot import forward_kinematics, load_robot, point_jacobian, point_tangents

# Hinge, continuous, prismatic and a mimic follower (which moves with its leader's column).
_URDF = """<?xml version="1.0"?>
<robot name="jac">
  <link name="base_link"/><link name="left_thigh"/><link name="left_shin"/>
  <link name="left_foot"><collision><geometry><box size="0.2 0.08 0.02"/></geometry></collision>
  </link>
  <link name="finger_a"/><link name="finger_b"/>
  <joint name="left_hip" type="revolute">
    <origin xyz="0 0.1 -0.1" rpy="0.3 -0.2 0.1"/><parent link="base_link"/>
    <child link="left_thigh"/><axis xyz="0 1 0"/><limit lower="-1" upper="1.5" velocity="10"/>
  </joint>
  <joint name="left_knee" type="continuous">
    <origin xyz="0 0 -0.3"/><parent link="left_thigh"/><child link="left_shin"/>
    <axis xyz="0.6 0.8 0"/>
  </joint>
  <joint name="left_ankle" type="prismatic">
    <origin xyz="0 0 -0.3" rpy="0 0.5 0"/><parent link="left_shin"/><child link="left_foot"/>
    <axis xyz="0 0 1"/><limit lower="-0.05" upper="0.05"/>
  </joint>
  <joint name="grip" type="revolute">
    <origin xyz="0.2 0 0"/><parent link="base_link"/><child link="finger_a"/>
    <axis xyz="0 0 1"/><limit lower="0" upper="1"/>
  </joint>
  <joint name="grip_follow" type="revolute">
    <origin xyz="0.2 0.05 0"/><parent link="finger_a"/><child link="finger_b"/>
    <axis xyz="1 0 0"/><limit lower="-1" upper="0"/>
    <mimic joint="grip" multiplier="-1.5" offset="0.1"/>
  </joint>
</robot>
"""


def _tiny_robot(tmp_path):
    path = tmp_path / "jac.urdf"
    path.write_text(_URDF)
    kp = tmp_path / "kp.yaml"
    kp.write_text(
        "keypoints:\n  left_hip: left_thigh\n"
        "  right_hip: {body: left_thigh, offset: [0, -0.2, 0]}\n"
        "feet: [left_foot, left_foot]\n"
    )
    return load_robot(path, keypoints_yaml=kp, verbose=False)


def _autodiff_jacobian(robot, root_pos, root_quat, q, bodies, offsets):
    idx = np.asarray(bodies)

    def points(d):
        quat = quat_mul(root_quat, quat_exp(d[3:6]))
        fk = forward_kinematics(robot, root_pos + d[:3], quat, q + d[6:])
        return fk.pos[idx] + jnp.einsum("mij,mj->mi", fk.rot[idx], offsets)

    zero = jnp.zeros(6 + robot.num_joints)
    return points(zero), jax.jacfwd(points)(zero)


@pytest.mark.parametrize("name", ["unitree_g1", "tiny_urdf"])
def test_point_jacobian_matches_autodiff(name, tmp_path, x64):
    robot = _tiny_robot(tmp_path) if name == "tiny_urdf" else load_robot(name, verbose=False)
    robot = robot.astype(jnp.float64)
    rng = np.random.default_rng(3)
    lower = np.nan_to_num(np.asarray(robot.joint_lower), neginf=-3.0)
    upper = np.nan_to_num(np.asarray(robot.joint_upper), posinf=3.0)
    q = jnp.asarray(rng.uniform(lower, upper))
    root_pos = jnp.asarray([0.1, -0.2, 0.7])
    root_quat = quat_normalize(jnp.asarray(rng.normal(size=4)))
    bodies = list(range(robot.num_bodies))
    offsets = jnp.asarray(rng.normal(size=(len(bodies), 3)) * 0.1)
    pts, jac = point_jacobian(robot, root_pos, root_quat, q, bodies, offsets)
    want_pts, want_jac = _autodiff_jacobian(robot, root_pos, root_quat, q, bodies, offsets)
    np.testing.assert_allclose(pts, want_pts, atol=1e-9)
    # Model constants are float32, so rotations are orthonormal to ~1e-7 only.
    np.testing.assert_allclose(jac, want_jac, atol=1e-6)
    assert np.abs(want_jac).max() > 0.1  # the check is not vacuous


def test_point_tangents_batch_shapes_and_layout():
    robot = load_robot("unitree_g1", verbose=False)
    T = 5
    q = jnp.broadcast_to(robot.default_joint_pos, (T, robot.num_joints))
    root_pos = jnp.broadcast_to(robot.default_root_pos, (T, 3))
    root_quat = jnp.broadcast_to(jnp.asarray([1.0, 0, 0, 0]), (T, 4))
    bodies = list(robot.keypoint_body)
    pts, tan = point_tangents(robot, root_pos, root_quat, q, bodies, robot.keypoint_offset)
    _, jac = point_jacobian(robot, root_pos, root_quat, q, bodies, robot.keypoint_offset)
    D, M = 6 + robot.num_joints, len(bodies)
    assert pts.shape == (T, M, 3) and tan.shape == (T, D, M, 3) and jac.shape == (T, M, 3, D)
    np.testing.assert_allclose(jnp.moveaxis(tan, 1, -1), jac)
    # Root translation moves every point one for one.
    np.testing.assert_allclose(tan[:, :3], jnp.broadcast_to(jnp.eye(3)[:, None], (T, 3, M, 3)))


def test_point_tangents_with_the_model_traced_and_broadcast_batches():
    """Under ``jit`` with the model as an argument (its arrays traced, as in the solver) and
    with inputs of different batch shapes, the tangents equal the eager ones."""
    robot = load_robot("unitree_g1", verbose=False)
    key = jax.random.PRNGKey(3)
    q = robot.default_joint_pos + 0.2 * jax.random.normal(key, (2, 3, robot.num_joints))
    root_pos = jnp.asarray([0.1, -0.2, 0.8])  # broadcast over (2, 3)
    root_quat = quat_normalize(jnp.asarray([[0.9, 0.1, -0.2, 0.3]]))  # (1, 4)
    bodies = list(robot.capsule_body)

    def run(model, rp, rq, qq):
        return point_tangents(model, rp, rq, qq, bodies, robot.capsule_p0)

    want = run(robot, root_pos, root_quat, q)
    got = jax.jit(run)(robot, root_pos, root_quat, q)
    assert got[1].shape == (2, 3, 6 + robot.num_joints, len(bodies), 3)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-5)
    fk = forward_kinematics(robot, root_pos, root_quat, q)
    idx = np.asarray(robot.capsule_body)
    want_pts = fk.pos[..., idx, :] + jnp.einsum(
        "...mij,mj->...mi", fk.rot[..., idx, :, :], robot.capsule_p0
    )
    np.testing.assert_allclose(got[0], want_pts, atol=1e-5)

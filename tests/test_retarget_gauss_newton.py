"""Pieces of the Gauss-Newton solver: analytic Jacobian rows, held joints, the CG step."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax.retarget import _solver as solver
from retargetjax.retarget._costs import self_collision_residual
from retargetjax.robot import load_robot


@pytest.fixture
def x64():
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


def test_self_collision_rows_match_autodiff(x64):
    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    rng = np.random.default_rng(0)
    q = jnp.asarray(robot.default_joint_pos) + rng.normal(size=robot.num_joints) * 0.3
    q = jnp.clip(q, robot.joint_lower, robot.joint_upper)
    x = solver.FrameState(jnp.asarray([0.0, 0.0, 0.75]), jnp.asarray([1.0, 0, 0, 0]), q)
    pts, tan = solver._points_and_jacobian(robot, x)
    pairs = jnp.asarray(robot.collision_pairs)
    # Inflated radii, so that a good share of the pairs is in contact.
    robot = dataclasses.replace(robot, capsule_radius=robot.capsule_radius * 2.5)
    w = jnp.zeros(len(solver.WEIGHT_NAMES)).at[solver.WEIGHT_NAMES.index("self_collision")].set(4.0)
    r, rows = solver._self_collision_rows(robot, pts, tan, pairs, w)

    def residual(d):
        moved = pts + jnp.einsum("dmi,d->mi", tan, d)
        _, _, a, b = solver._split_points(robot, moved)
        return 2.0 * self_collision_residual(a, b, robot.capsule_radius, pairs)

    want = jax.jacfwd(residual)(jnp.zeros(tan.shape[0]))
    np.testing.assert_allclose(r, residual(jnp.zeros(tan.shape[0])), atol=1e-12)
    np.testing.assert_allclose(rows.T, want, atol=1e-9)
    assert np.count_nonzero(np.asarray(r)) > 0  # some pairs are in contact


def test_free_mask_holds_joints_pushed_into_their_limits():
    robot = load_robot("unitree_g1", verbose=False)
    N = robot.num_joints
    q = np.asarray(robot.default_joint_pos).copy()
    q[0] = float(robot.joint_lower[0])
    q[1] = float(robot.joint_upper[1])
    q[2] = float(robot.joint_lower[2])
    grad = np.zeros(6 + N, np.float32)
    grad[6 + 0] = 1.0  # descent moves joint 0 down, past its lower limit: held
    grad[6 + 1] = -1.0  # descent moves joint 1 up, past its upper limit: held
    grad[6 + 2] = -1.0  # descent moves joint 2 up, away from its lower limit: free
    grad[:6] = 5.0  # the root is never held
    free = np.asarray(solver._free_mask(robot, jnp.asarray(q), jnp.asarray(grad)))
    assert free[:6].tolist() == [1.0] * 6
    assert free[6:9].tolist() == [0.0, 0.0, 1.0]
    assert free[9:].min() == 1.0


def test_temporal_blocks_match_the_probed_block_diagonal():
    """The closed-form blocks equal ``TᵀT``'s diagonal blocks read off by probing."""
    robot = load_robot("unitree_g1", verbose=False)
    robot = dataclasses.replace(robot, velocity_limit=jnp.full((robot.num_joints,), 5.0))
    W, N = 12, robot.num_joints
    D = 6 + N
    rng = np.random.default_rng(1)
    q = jnp.asarray(robot.default_joint_pos) + jnp.asarray(rng.normal(size=(W, N)) * 0.3)
    q = jnp.clip(q, robot.joint_lower, robot.joint_upper)
    root = jnp.asarray([0.0, 0.0, 0.75]) + jnp.asarray(rng.normal(size=(W, 3)) * 0.01)
    # One root orientation for all frames: the rotation stencil is then exact.
    x = solver.FrameState(root, jnp.broadcast_to(jnp.asarray([0.0, 0.0, 0.0, 1.0]), (W, 4)), q)
    mask = jnp.asarray(np.r_[np.ones(9), np.zeros(3)], jnp.float32)
    sole_contact = jnp.asarray(rng.uniform(size=(W, 2, 4)) > 0.4, jnp.float32)
    win = {"mask": mask, "sole_contact": sole_contact, "contact": jnp.ones((W, 2))}
    w = jnp.asarray([1.0, 0.1, 4.0, 100.0, 200.0, 2.0, 3.0, 0.02, 1000.0])
    fps = jnp.asarray(30.0)
    pts, tan = solver._points_and_jacobian(robot, x)
    sole = solver._sole_slice(robot)
    sole_pts, sole_tan = pts[:, sole], tan[:, :, sole]

    def temporal(d):
        soles = sole_pts + jnp.einsum("tdmi,td->tmi", sole_tan, d)
        soles = soles.reshape(W, *robot.sole_points.shape)
        return solver._temporal_residual(robot, soles, solver._retract(x, d), win, w, fps)

    jac = jax.jacfwd(temporal)(jnp.zeros((W, D)))  # (R, W, D)
    want = jnp.einsum("rtd,rte->tde", jac, jac)
    got = solver.temporal_blocks(
        robot, x, sole_pts.reshape(W, *robot.sole_points.shape), sole_tan, win, w, fps
    )
    # Joints moving 0.3 rad per frame at 30 fps exceed their speed limits: that term is on.
    assert float(jnp.max(jnp.abs(q[1:] - q[:-1]) * 30.0 - robot.velocity_limit)) > 0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)

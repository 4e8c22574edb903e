"""Pieces of the Gauss-Newton solver: analytic Jacobian rows, held joints, the probed
temporal blocks, the linear solves against dense ones, and the (init, update) driver."""

from __future__ import annotations

import contextlib
import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from retargetjax.retarget import _linearize as lin
from retargetjax.retarget import _linsolve as linsolve
from retargetjax.retarget import _optimizers as optimizers
from retargetjax.retarget import _residuals as residuals
from retargetjax.retarget._costs import STENCIL_FRAMES, self_collision_residual
from retargetjax.retarget._problem import (
    FrameData,
    FrameState,
    Weights,
    WindowData,
    points_and_tangents,
    retract,
)
from retargetjax.retarget._residuals import temporal_residual
from retargetjax.robot import load_robot


def _weights(**values: float) -> Weights:
    return Weights(**{name: jnp.asarray(values.get(name, 0.0)) for name in Weights._fields})


def test_weights_are_named_fields_of_the_config():
    from retargetjax.retarget import CostWeights

    costs = CostWeights(slip=123.0, smooth=4.0)
    w = Weights.from_config(costs)
    assert float(w.slip) == 123.0 and float(w.smooth) == 4.0
    assert set(Weights._fields) <= set(CostWeights.model_fields)
    assert WindowData._fields == ("frames", "start")


def test_self_collision_rows_match_autodiff(x64):
    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    rng = np.random.default_rng(0)
    q = jnp.asarray(robot.default_joint_pos) + rng.normal(size=robot.num_joints) * 0.3
    q = jnp.clip(q, robot.joint_lower, robot.joint_upper)
    x = FrameState(jnp.asarray([0.0, 0.0, 0.75]), jnp.asarray([1.0, 0, 0, 0]), q)
    pts, tan = points_and_tangents(robot, x)
    pairs = jnp.asarray(robot.collision_pairs)
    # Inflated radii, so that a good share of the pairs is in contact.
    robot = dataclasses.replace(robot, capsule_radius=robot.capsule_radius * 2.5)
    r, rows = lin.self_collision_rows(robot, pts, tan, pairs, _weights(self_collision=4.0))

    def residual(d):
        a = pts.capsule_a + jnp.einsum("dmi,d->mi", tan.capsule_a, d)
        b = pts.capsule_b + jnp.einsum("dmi,d->mi", tan.capsule_b, d)
        return 2.0 * self_collision_residual(a, b, robot.capsule_radius, pairs)

    D = tan.capsule_a.shape[0]
    want = jax.jacfwd(residual)(jnp.zeros(D))
    np.testing.assert_allclose(r, residual(jnp.zeros(D)), atol=1e-12)
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
    free = np.asarray(linsolve.free_mask(robot, jnp.asarray(q), jnp.asarray(grad)))
    assert free[:6].tolist() == [1.0] * 6
    assert free[6:9].tolist() == [0.0, 0.0, 1.0]
    assert free[9:].min() == 1.0


def _random_states(
    robot,
    n: int,
    rng: np.random.Generator,
    height: float,
    joint_sd: float,
    root_sd: float,
    tilt_sd: float,
) -> FrameState:
    """``n`` frames scattered about the standing pose at ``height``: joints off the standing
    angles (clipped into their limits), the root moved and tilted at random."""
    q = jnp.asarray(robot.default_joint_pos) + jnp.asarray(
        rng.normal(size=(n, robot.num_joints)) * joint_sd
    )
    q = jnp.clip(q, robot.joint_lower, robot.joint_upper)
    root = jnp.asarray([0.0, 0.0, height]) + jnp.asarray(rng.normal(size=(n, 3)) * root_sd)
    quat = rng.normal(size=(n, 4)) * tilt_sd + np.array([1.0, 0, 0, 0])
    quat = jnp.asarray(quat / np.linalg.norm(quat, axis=-1, keepdims=True))
    return FrameState(root, quat, q)


def _temporal_case():
    """A 10-frame G1 window with the root turning, joints over their speed limits, random
    sole contacts and a masked gap: every temporal term on."""
    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    robot = dataclasses.replace(robot, velocity_limit=jnp.full((robot.num_joints,), 5.0))
    W = 10
    rng = np.random.default_rng(1)
    x = _random_states(robot, W, rng, height=0.75, joint_sd=0.3, root_sd=0.01, tilt_sd=0.1)
    mask = jnp.asarray(np.r_[np.ones(4), 0.0, np.ones(3), np.zeros(2)])
    frames = FrameData(
        target_keypoints=None,
        keypoint_weight=None,
        target_frames=None,
        frame_weight=None,
        sole_contact=jnp.asarray(rng.uniform(size=(W, 2, 4)) > 0.4, jnp.float64),
        # the left foot lands at frame 2 (the slip gate follows the foot contact)
        contact=jnp.asarray(np.c_[(np.arange(W) >= 2), np.ones(W)], jnp.float64),
        mask=mask,
    )
    w = _weights(smooth=2.0, velocity_limit=3.0, slip=1000.0)
    fps = jnp.asarray(30.0)
    return robot, x, frames, w, fps


def test_temporal_blocks_match_the_dense_block_diagonal(x64):
    """The temporal blocks (closed form per term, and by probing for a term without one)
    equal ``TᵀT``'s diagonal blocks from the full Jacobian; the gradient and the matrix-free
    product are ``Tᵀe`` and ``TᵀT v``."""
    robot, x, frames, w, fps = _temporal_case()
    W, D = x.joint_pos.shape[0], 6 + robot.num_joints
    q = x.joint_pos
    rng = np.random.default_rng(2)
    pts, tan = points_and_tangents(robot, x)

    def temporal(d):
        soles = pts.soles + jnp.einsum("td...,td->t...", tan.soles, d)
        return jnp.concatenate(
            [e.reshape(-1) for e in temporal_residual(robot, soles, retract(x, d), frames, w, fps)]
        )

    jac = jax.jacfwd(temporal)(jnp.zeros((W, D)))  # (R, W, D)
    want = jnp.einsum("rtd,rte->tde", jac, jac)
    grad, got, coupling = lin.linearize_temporal(robot, x, pts.soles, tan.soles, frames, w, fps)
    # Joints moving 0.3 rad per frame at 30 fps exceed their speed limits: that term is on.
    assert float(jnp.max(jnp.abs(q[1:] - q[:-1]) * 30.0 - robot.velocity_limit)) > 0
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # Each closed form alone (the other weights 0) is its term's own block diagonal, and
    # probing (a term stripped of its closed form) gives the same.
    for name in ("smooth", "slip", "velocity_limit"):
        only = _weights(**{name: float(getattr(w, name))})
        jac_1 = jax.jacfwd(partial(_flat_temporal, robot, x, frames, only, fps, pts, tan))(
            jnp.zeros((W, D))
        )
        dense = jnp.einsum("rtd,rte->tde", jac_1, jac_1)
        closed = lin.temporal_blocks(robot, x, pts.soles, tan.soles, frames, only, fps)
        np.testing.assert_allclose(closed, dense, rtol=1e-9, atol=1e-9, err_msg=name)
        assert float(jnp.max(jnp.abs(dense))) > 1e-3, name  # the term is on
    stripped = tuple(t._replace(blocks=None) for t in residuals.TEMPORAL_TERMS)
    with _patched(lin, "TEMPORAL_TERMS", stripped):
        probed = lin.temporal_blocks(robot, x, pts.soles, tan.soles, frames, w, fps)
    np.testing.assert_allclose(probed, want, rtol=1e-9, atol=1e-9)
    v = jnp.asarray(rng.normal(size=(W, D)))
    np.testing.assert_allclose(
        coupling(v), jnp.einsum("rtd,rse,se->td", jac, jac, v), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        grad, jnp.einsum("rtd,r->td", jac, temporal(jnp.zeros((W, D)))), atol=1e-9
    )
    assert STENCIL_FRAMES == 3


def _flat_temporal(robot, x, frames, w, fps, pts, tan, d):
    soles = pts.soles + jnp.einsum("td...,td->t...", tan.soles, d)
    steps = temporal_residual(robot, soles, retract(x, d), frames, w, fps)
    return jnp.concatenate([e.reshape(-1) for e in steps])


@contextlib.contextmanager
def _patched(module, name, value):
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def _spd_system(rng, T, D, segments):
    """A banded SPD matrix (T·D)² coupling neighbours within each segment only."""
    A = np.zeros((T * D, T * D))
    for t in range(T):
        B = rng.normal(size=(D, D))
        A[t * D : (t + 1) * D, t * D : (t + 1) * D] = B @ B.T + D * np.eye(D)
        if t + 1 < T and segments[t + 1] == segments[t]:
            C = rng.normal(size=(D, D)) * 0.3
            A[t * D : (t + 1) * D, (t + 1) * D : (t + 2) * D] = C
            A[(t + 1) * D : (t + 2) * D, t * D : (t + 1) * D] = C.T
    return A


def test_segmented_cg_matches_a_dense_solve_per_segment(x64):
    rng = np.random.default_rng(2)
    T, D = 7, 4
    segments = np.array([0, 0, 0, 3, 3, 5, 5])
    A = _spd_system(rng, T, D, segments)
    rhs = rng.normal(size=(T, D))
    blocks = np.stack([A[t * D : (t + 1) * D, t * D : (t + 1) * D] for t in range(T)])
    chol = linsolve.block_cholesky(jnp.asarray(blocks))

    def apply(v):
        return jnp.asarray(A) @ v.reshape(-1)

    got = linsolve.segmented_cg(
        lambda v: apply(v).reshape(T, D),
        lambda r: linsolve.block_cholesky_solve(chol, r),
        jnp.asarray(rhs),
        jnp.asarray(segments),
        iterations=T * D,
    )
    want = np.linalg.solve(A, rhs.reshape(-1)).reshape(T, D)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
    # Each segment's answer is its own: changing one segment's rhs leaves the others alone.
    rhs2 = rhs.copy()
    rhs2[5:] *= -3.0
    got2 = linsolve.segmented_cg(
        lambda v: apply(v).reshape(T, D),
        lambda r: linsolve.block_cholesky_solve(chol, r),
        jnp.asarray(rhs2),
        jnp.asarray(segments),
        iterations=T * D,
    )
    np.testing.assert_allclose(got2[:5], got[:5], rtol=1e-10, atol=1e-12)


def test_substituted_cholesky_inverse_equals_the_library_routines(x64):
    """The element-wise Cholesky and substitution (the accelerator alternative) give the
    inverse the batched library routines give, on badly and well conditioned blocks."""
    rng = np.random.default_rng(3)
    M = rng.normal(size=(6, 35, 35))
    A = M @ np.swapaxes(M, 1, 2) + np.logspace(-3, 2, 6)[:, None, None] * np.eye(35)
    want = linsolve.block_cholesky_inverse(linsolve.block_cholesky(jnp.asarray(A)))
    got = linsolve.substituted_cholesky_inverse(jnp.asarray(A))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8 * float(jnp.max(jnp.abs(want))))
    np.testing.assert_allclose(
        np.einsum("tij,tjk->tik", got, A), np.broadcast_to(np.eye(35), A.shape), atol=1e-7
    )


def test_solve_step_is_exact_without_coupling_and_holds_fixed_coordinates(x64):
    rng = np.random.default_rng(4)
    T, D = 3, 9
    J = rng.normal(size=(T, 12, D))
    H = np.einsum("trd,tre->tde", J, J)
    g = rng.normal(size=(T, D))
    free = np.ones((T, D))
    free[1, 7] = 0.0
    lam = np.array([0.1, 1.0, 0.0])
    model = lin.Linearization(jnp.asarray(g), jnp.asarray(H), jnp.zeros_like(H), None)
    got = np.asarray(linsolve.solve_step(model, jnp.asarray(free), jnp.asarray(lam), None, 0))
    for t in range(T):
        A = H[t] + np.diag(lam[t] * np.diag(H[t]) + linsolve.DAMPING_FLOOR)
        keep = free[t] > 0
        want = np.zeros(D)
        want[keep] = np.linalg.solve(A[np.ix_(keep, keep)], -g[t, keep])
        np.testing.assert_allclose(got[t], want, rtol=1e-9, atol=1e-12)


def test_levenberg_marquardt_converges_on_a_small_least_squares_problem(x64):
    """The (init, update) pair driven by ``run``: a curve fit whose groups are independent,
    solved to its known minimum, every group's cost decreasing."""
    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    T, N = 4, robot.num_joints
    rng = np.random.default_rng(5)
    goal = jnp.clip(
        jnp.asarray(robot.default_joint_pos) + jnp.asarray(rng.normal(size=(T, N)) * 0.2),
        robot.joint_lower,
        robot.joint_upper,
    )
    # Roots 2-3 m up: every goal pose is clear of the floor the solver projects out of.
    goal_root = jnp.asarray(rng.normal(size=(T, 3)) * [1.0, 1.0, 0.3] + [0.0, 0.0, 2.5])

    def residual(x: FrameState) -> jnp.ndarray:  # (T, R)
        return jnp.concatenate([x.joint_pos - goal, x.root_pos - goal_root], axis=-1)

    x0 = FrameState(
        jnp.zeros((T, 3)),
        jnp.tile(jnp.asarray([1.0, 0, 0, 0]), (T, 1)),
        jnp.broadcast_to(robot.default_joint_pos, (T, N)),
    )

    def per_frame(x, points=None):
        r = residual(x)
        return jnp.sum(r * r, axis=-1)

    def linearize_frames(x):
        def one(xt, gt, grt):
            def f(d):
                y = retract(xt, d)
                return jnp.concatenate([y.joint_pos - gt, y.root_pos - grt])

            J = jax.jacfwd(f)(jnp.zeros(6 + N))
            return J.T @ J, J.T @ f(jnp.zeros(6 + N))

        H, g = jax.vmap(one)(x, goal, goal_root)
        return lin.Linearization(g, H, jnp.zeros_like(H), None)

    problem = optimizers.LeastSquares(per_frame, linearize_frames, jnp.arange(T), jnp.ones(T))
    lm = optimizers.levenberg_marquardt(problem, robot, damping=1e-3, cg_iterations=0)
    state = optimizers.run(lm, x0, 8)
    assert isinstance(state, optimizers.LMState)
    np.testing.assert_allclose(state.x.joint_pos, goal, atol=1e-6)
    np.testing.assert_allclose(state.x.root_pos, goal_root, atol=1e-6)
    assert np.all(np.asarray(state.cost) < 1e-10)


def test_frame_linearization_matches_the_dense_jacobian(x64):
    """``H_t``, ``g_t`` of :func:`linearize_frames` (forward-mode rows, closed-form
    self-collision and standing-pose shares) equal ``JᵀJ``, ``Jᵀr`` of the whole per-frame
    residual differentiated densely through ``retract`` and forward kinematics, with every
    term on: keypoints, built frames, planted soles, a robot partly under the floor, body
    parts planted, capsules in contact and joints away from the standing pose."""
    from retargetjax.retarget._problem import (
        CONTACT_PARTS,
        SolverStatic,
        body_points,
        contact_part_capsules,
    )

    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    robot = dataclasses.replace(robot, capsule_radius=robot.capsule_radius * 2.0)
    T, N, K, B = 3, robot.num_joints, len(robot.keypoint_names), len(CONTACT_PARTS)
    rng = np.random.default_rng(7)
    x = _random_states(robot, T, rng, height=0.45, joint_sd=0.4, root_sd=0.05, tilt_sd=0.3)
    frame_keypoints = ((3, 4, 0, 1), (11, 12, 0, 2))
    frames = FrameData(
        target_keypoints=jnp.asarray(rng.normal(size=(T, K, 3)) * 0.3),
        keypoint_weight=jnp.asarray(rng.uniform(0.5, 2.0, size=(T, K))),
        target_frames=jnp.asarray(rng.normal(size=(T, 2, 3, 3))),
        frame_weight=jnp.asarray(rng.uniform(0.5, 2.0, size=(T, 2))),
        sole_contact=jnp.asarray(rng.uniform(size=(T, 2, 4)) > 0.4, jnp.float64),
        contact=jnp.ones((T, 2)),
        mask=jnp.ones(T),
        part_contact=jnp.asarray(rng.uniform(size=(T, B))),
        part_support=jnp.zeros((T, B)),
    )
    static = SolverStatic(
        frame_keypoints, 1, 1, "gauss_newton", 0.1, 1e-3,
        part_capsules=contact_part_capsules(robot),
    )  # fmt: skip
    w = _weights(
        keypoint=3.0, orientation=0.5, contact=20.0, ground=40.0, self_collision=5.0,
        default_pose=0.7, part_contact=9.0,
    )  # fmt: skip
    pairs = jnp.asarray(robot.collision_pairs)
    frame_weight = jnp.asarray([1.0, 0.5, 2.0])

    H, g, _, _ = lin.linearize_frames(robot, x, frames, frame_weight, w, static, pairs)

    def residual(t, d):
        xt = jax.tree_util.tree_map(lambda a: a[t], x)
        ft = jax.tree_util.tree_map(lambda a: a[t], frames)
        xd = retract(xt, d)
        p = body_points(robot, xd)
        r = jnp.concatenate(
            [
                residuals.frame_residual(robot, p, xd.joint_pos, ft, w, static),
                residuals.self_collision(robot, p, pairs, w),
            ]
        )
        return jnp.sqrt(frame_weight[t]) * r

    D = 6 + N
    for t in range(T):
        r0 = residual(t, jnp.zeros(D))
        J = jax.jacfwd(partial(residual, t))(jnp.zeros(D))
        assert np.count_nonzero(np.asarray(r0)) > 0
        np.testing.assert_allclose(H[t], J.T @ J, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(g[t], J.T @ r0, rtol=1e-6, atol=1e-6)

"""Forward kinematics against MuJoCo, autodiff against finite differences, vmap, compiles."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax.robot import (
    body_quat,
    clip_forward_kinematics,
    collision_capsules_world,
    forward_kinematics,
    keypoint_positions,
    load_robot,
    robot_asset_path,
    site_positions,
)
from retargetjax.robot._fk import body_point_positions, points_on_bodies

mujoco = pytest.importorskip("mujoco")

BUNDLED = ("unitree_g1", "unitree_h1", "booster_t1")


def _mujoco_model(path, urdf: bool):
    """Compile ``path`` with MuJoCo, meshes stripped (MjSpec), with a free root body."""
    spec = mujoco.MjSpec.from_file(str(path))
    for mesh in list(spec.meshes):
        spec.delete(mesh)
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH:
            spec.delete(geom)
    if urdf:
        spec.compiler.fusestatic = False
        root = spec.worldbody.first_body()
        root.add_freejoint()
    return spec.compile()


def _random_config(robot, rng, batch=()):
    lo = np.asarray(robot.joint_lower, dtype=np.float64)
    hi = np.asarray(robot.joint_upper, dtype=np.float64)
    lo, hi = np.where(np.isfinite(lo), lo, -np.pi), np.where(np.isfinite(hi), hi, np.pi)
    q = rng.uniform(lo, hi, size=(*batch, robot.num_joints))
    root_pos = rng.normal(size=(*batch, 3))
    root_quat = rng.normal(size=(*batch, 4))
    root_quat /= np.linalg.norm(root_quat, axis=-1, keepdims=True)
    return root_pos, root_quat, q


def _mujoco_fk(model, robot, root_pos, root_quat, q):
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7] = root_pos, root_quat
    for i, name in enumerate(robot.joint_names):
        data.qpos[model.jnt_qposadr[model.joint(name).id]] = q[i]
    mujoco.mj_kinematics(model, data)
    names = [n for n in robot.body_names if mujoco.mj_name2id(model, 1, n) >= 0]
    ids = [model.body(n).id for n in names]
    ours = [robot.body_names.index(n) for n in names]
    return ours, data.xpos[ids].copy(), data.xquat[ids].copy()


@jax.jit
def _fk_pos_quat(robot, root_pos, root_quat, q):
    fk = forward_kinematics(robot, root_pos, root_quat, q)
    return fk.pos, body_quat(fk), fk.rot


def _quat_angle(a, b):
    dot = np.abs(np.sum(a * b, axis=-1)).clip(max=1.0)
    return 2 * np.arccos(dot)


@pytest.mark.parametrize("case", [*BUNDLED, "g1_urdf"])
def test_fk_matches_mujoco_float64(case, x64, shared_data):
    if case == "g1_urdf":
        path = shared_data / "robots" / "unitree_g1_urdf" / "g1_29dof.urdf"
        robot = load_robot(path, dtype=jnp.float64, verbose=False)
        model = _mujoco_model(path, urdf=True)
    else:
        robot = load_robot(case, dtype=jnp.float64)
        model = _mujoco_model(robot_asset_path(case), urdf=False)
    rng = np.random.default_rng(0)
    for _ in range(3):
        root_pos, root_quat, q = _random_config(robot, rng)
        pos, quat, _ = _fk_pos_quat(robot, root_pos, root_quat, q)
        assert pos.dtype == jnp.float64
        ours, xpos, xquat = _mujoco_fk(model, robot, root_pos, root_quat, q)
        assert len(ours) >= robot.num_joints  # every moving body was compared
        np.testing.assert_allclose(np.asarray(pos)[ours], xpos, atol=1e-5)
        angle = _quat_angle(np.asarray(quat)[ours], xquat)
        assert angle.max() < 1e-5


@pytest.mark.parametrize("kind", BUNDLED)
def test_fk_matches_mujoco_float32(kind):
    robot = load_robot(kind)
    model = _mujoco_model(robot_asset_path(kind), urdf=False)
    rng = np.random.default_rng(1)
    root_pos, root_quat, q = _random_config(robot, rng)
    pos, quat, rot = _fk_pos_quat(
        robot, root_pos.astype(np.float32), root_quat.astype(np.float32), q.astype(np.float32)
    )
    assert pos.dtype == jnp.float32 and rot.dtype == jnp.float32
    ours, xpos, xquat = _mujoco_fk(model, robot, root_pos, root_quat, q)
    np.testing.assert_allclose(np.asarray(pos)[ours], xpos, atol=1e-4)
    angle = _quat_angle(np.asarray(quat, dtype=np.float64)[ours], xquat)
    assert angle.max() < 1e-3  # arccos near 1 amplifies float32 rounding: compare matrices
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7], data.qpos[7:] = root_pos, root_quat, q
    mujoco.mj_kinematics(model, data)
    ids = [model.body(robot.body_names[i]).id for i in ours]
    xmat = data.xmat[ids].reshape(-1, 3, 3)
    np.testing.assert_allclose(np.asarray(rot)[ours], xmat, atol=1e-4)


def test_sites_and_keypoints_match_mujoco(x64):
    robot = load_robot("unitree_g1", dtype=jnp.float64)
    model = _mujoco_model(robot_asset_path("unitree_g1"), urdf=False)
    root_pos, root_quat, q = _random_config(robot, np.random.default_rng(2))
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7], data.qpos[7:] = root_pos, root_quat, q
    mujoco.mj_kinematics(model, data)
    names = ("left_foot", "right_palm", "imu_in_torso")

    @jax.jit
    def points(root_pos, root_quat, q):
        fk = forward_kinematics(robot, root_pos, root_quat, q)
        caps = collision_capsules_world(robot, fk)
        return site_positions(robot, fk, names), keypoint_positions(robot, fk), caps

    ours, kp, (p0, p1) = points(root_pos, root_quat, q)
    ours, kp = np.asarray(ours), np.asarray(kp)
    theirs = np.stack([data.site_xpos[model.site(n).id] for n in names])
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    # The hand keypoint is the palm site, the ankle keypoint the ankle-roll body origin.
    np.testing.assert_allclose(kp[robot.keypoint_names.index("right_hand")], ours[1], atol=1e-9)
    ankle = data.xpos[model.body("left_ankle_roll_link").id]
    np.testing.assert_allclose(kp[robot.keypoint_names.index("left_ankle")], ankle, atol=1e-9)
    # Capsule end points: MuJoCo's geom centre is their midpoint.
    i = robot.capsule_names.index("torso_link/torso_collision")
    centre = data.geom_xpos[model.geom("torso_collision").id]
    np.testing.assert_allclose(0.5 * (np.asarray(p0)[i] + np.asarray(p1)[i]), centre, atol=1e-9)


def test_jacobian_matches_finite_differences(x64):
    robot = load_robot("unitree_h1", dtype=jnp.float64)
    root_pos, root_quat, q = _random_config(robot, np.random.default_rng(3))

    @jax.jit
    def positions(root_pos, root_quat, q):
        fk = forward_kinematics(robot, root_pos, root_quat, q)
        return jnp.concatenate([fk.pos.ravel(), fk.rot.ravel()])

    jac_root, jac_q = jax.jit(jax.jacfwd(positions, argnums=(0, 2)))(root_pos, root_quat, q)
    eps = 1e-6
    batched = jax.vmap(positions)
    for jac, x, which in ((jac_root, root_pos, 0), (jac_q, q, 2)):
        steps = eps * np.eye(x.shape[0])
        args_p = [np.broadcast_to(a, (x.shape[0], *a.shape)) for a in (root_pos, root_quat, q)]
        args_m = list(args_p)
        args_p[which] = x + steps
        args_m[which] = x - steps
        fd = (batched(*args_p) - batched(*args_m)) / (2 * eps)  # (n, out)
        np.testing.assert_allclose(jac, np.asarray(fd).T, atol=1e-7)

    # Reverse mode through a scalar loss agrees with forward mode.
    def loss(q):
        return jnp.sum(forward_kinematics(robot, root_pos, root_quat, q).pos ** 2)

    grad = jax.jit(jax.grad(loss))(q)
    fwd = jax.jit(jax.jacfwd(loss))(q)
    np.testing.assert_allclose(grad, fwd, rtol=1e-10, atol=1e-12)


def test_fk_derivatives_match_finite_differences_in_every_argument(x64):
    """The sweep's own derivative (joint twists; the robot's tables fall back to the sweep
    differentiated) in reverse and forward mode, against central differences along random
    directions: root position, a non-unit root quaternion (FK normalises it), joint angles,
    and the robot's link offsets and rest rotations."""
    import dataclasses

    robot = load_robot("unitree_g1", dtype=jnp.float64)
    rng = np.random.default_rng(11)
    root_pos, root_quat, q = _random_config(robot, rng, batch=(3,))
    root_quat = root_quat * 1.7
    w_pos = rng.normal(size=(3, robot.num_bodies, 3))
    w_rot = rng.normal(size=(3, robot.num_bodies, 3, 3))
    names = ("node_pos", "node_rot")

    def loss(root_pos, root_quat, q, tables):
        model = dataclasses.replace(robot, **dict(zip(names, tables)))
        fk = forward_kinematics(model, root_pos, root_quat, q)
        return jnp.sum(fk.pos * w_pos) + jnp.sum(fk.rot * w_rot)

    args = (root_pos, root_quat, q, tuple(jnp.asarray(getattr(robot, n)) for n in names))
    eps = 1e-6
    for which in range(4):
        # One argument at a time, the others constant (as a solver differentiates).
        def one(x, which=which):
            return loss(*args[:which], x, *args[which + 1 :])

        leaves, tree = jax.tree_util.tree_flatten(args[which])
        direction = [rng.normal(size=np.shape(x)) for x in leaves]
        step = jax.tree_util.tree_unflatten(tree, direction)

        def moved(sign, which=which, step=step):
            return one(jax.tree_util.tree_map(lambda a, b: a + sign * eps * b, args[which], step))

        fd = float((moved(1.0) - moved(-1.0)) / (2 * eps))
        g = jax.tree_util.tree_leaves(jax.jit(jax.grad(one))(args[which]))
        reverse = sum(float(np.sum(np.asarray(gi) * di)) for gi, di in zip(g, direction))
        forward = float(jax.jvp(one, (args[which],), (step,))[1])
        scale = max(1.0, abs(fd))
        assert abs(reverse - fd) < 1e-6 * scale, (which, reverse, fd)
        assert abs(forward - fd) < 1e-6 * scale, (which, forward, fd)
    # A zero quaternion is the identity rotation, with finite gradients.
    zero = jnp.zeros(4)
    fk = forward_kinematics(robot, jnp.zeros(3), zero, jnp.zeros(robot.num_joints))
    ident = jnp.array([1.0, 0, 0, 0])
    ident = forward_kinematics(robot, jnp.zeros(3), ident, jnp.zeros(robot.num_joints))
    np.testing.assert_allclose(fk.pos, ident.pos, atol=1e-12)
    g = jax.grad(lambda quat: jnp.sum(forward_kinematics(robot, jnp.zeros(3), quat, q[0]).pos))(
        zero
    )
    assert np.all(np.isfinite(g))


def test_vmap_equals_loop_and_batch_shapes():
    robot = load_robot("unitree_h1")
    root_pos, root_quat, q = _random_config(robot, np.random.default_rng(4), batch=(2, 3))
    root_pos, root_quat, q = (np.asarray(a, np.float32) for a in (root_pos, root_quat, q))
    batched = jax.jit(forward_kinematics)(robot, root_pos, root_quat, q)
    assert batched.pos.shape == (2, 3, robot.num_bodies, 3)
    assert batched.rot.shape == (2, 3, robot.num_bodies, 3, 3)
    vmapped = jax.vmap(jax.vmap(forward_kinematics, (None, 0, 0, 0)), (None, 0, 0, 0))(
        robot, root_pos, root_quat, q
    )
    fk_single = jax.jit(forward_kinematics)
    for i in range(2):
        for j in range(3):
            single = fk_single(robot, root_pos[i, j], root_quat[i, j], q[i, j])
            np.testing.assert_allclose(vmapped.pos[i, j], single.pos, atol=1e-6)
            np.testing.assert_allclose(vmapped.rot[i, j], single.rot, atol=1e-6)
            np.testing.assert_allclose(batched.pos[i, j], single.pos, atol=1e-6)
    # Broadcasting: one root pose for a batch of joint configurations.
    shared_root = jax.jit(forward_kinematics)(robot, root_pos[0, 0], root_quat[0, 0], q[0])
    np.testing.assert_allclose(shared_root.pos[0], batched.pos[0, 0], atol=1e-6)


def test_frames_last_points_match_points_on_bodies_with_gradients(x64):
    """``body_point_positions`` (frames last) is ``points_on_bodies`` of the FK, values and
    reverse-mode gradients, for a robot whose bodies are not its FK nodes one to one."""
    robot = load_robot("unitree_h1")
    root_pos, root_quat, q = _random_config(robot, np.random.default_rng(9), batch=(2, 3))
    root_quat = root_quat * 1.3  # not unit: both normalise
    rng = np.random.default_rng(10)
    bodies = [int(b) for b in rng.integers(0, robot.num_bodies, size=7)]
    offsets = rng.normal(size=(7, 3))
    weights = rng.normal(size=(2, 3, 7, 3))

    def reference(rp, rq, jq):
        return points_on_bodies(forward_kinematics(robot, rp, rq, jq), bodies, offsets)

    def ours(rp, rq, jq):
        return body_point_positions(robot, rp, rq, jq, bodies, offsets)

    np.testing.assert_allclose(
        ours(root_pos, root_quat, q), reference(root_pos, root_quat, q), atol=1e-12
    )

    def grads(fn):
        loss = lambda *a: jnp.sum(weights * fn(*a))  # noqa: E731
        return jax.grad(loss, argnums=(0, 1, 2))(root_pos, root_quat, q)

    for a, b in zip(grads(ours), grads(reference)):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_second_call_does_not_recompile():
    robot = load_robot("unitree_g1")
    traces = []

    @jax.jit
    def loss(robot, root_pos, root_quat, q):
        traces.append(1)
        fk = forward_kinematics(robot, root_pos, root_quat, q)
        return jnp.sum(keypoint_positions(robot, fk) ** 2)

    rng = np.random.default_rng(5)
    for _ in range(3):
        root_pos, root_quat, q = (
            np.asarray(a, np.float32) for a in _random_config(robot, rng, batch=(4,))
        )
        loss(robot, root_pos, root_quat, q)
    assert len(traces) == 1
    # A freshly loaded model of the same robot reuses the compiled function too.
    loss(load_robot("unitree_g1"), root_pos, root_quat, q)
    assert len(traces) == 1


def test_clip_fk_matches_jit_and_compiles_once_for_every_length():
    from retargetjax.robot._fk import _fk_chunk

    robot = load_robot("unitree_g1")
    rng = np.random.default_rng(6)
    before = None
    for frames in (1, 7, 20, 41):
        root_pos, root_quat, q = (
            np.asarray(a, np.float32) for a in _random_config(robot, rng, batch=(frames,))
        )
        clip = clip_forward_kinematics(robot, root_pos, root_quat, q, chunk=16)
        ref = jax.jit(forward_kinematics)(robot, root_pos, root_quat, q)
        assert clip.pos.shape == (frames, robot.num_bodies, 3)
        assert isinstance(clip.pos, np.ndarray) and clip.pos.dtype == np.float32
        np.testing.assert_allclose(clip.pos, ref.pos, atol=1e-5)
        np.testing.assert_allclose(clip.rot, ref.rot, atol=1e-5)
        if before is None:
            before = _fk_chunk._cache_size()
    assert _fk_chunk._cache_size() == before  # one program for every clip length
    with pytest.raises(ValueError, match="joints"):
        clip_forward_kinematics(robot, root_pos, root_quat, q[:, :-1])


def test_no_nan_at_extremes():
    robot = load_robot("booster_t1")
    q = jnp.stack([robot.joint_upper, robot.joint_lower, jnp.zeros(robot.num_joints)])
    identity = jnp.array([1.0, 0.0, 0.0, 0.0])

    def loss(q):
        return jnp.sum(forward_kinematics(robot, jnp.zeros(3), identity, q).pos)

    fk = jax.jit(forward_kinematics)(robot, jnp.zeros(3), identity, q)
    grad = jax.jit(jax.grad(loss))(q)
    assert np.all(np.isfinite(fk.pos)) and np.all(np.isfinite(grad))


def test_the_one_level_sweep_runs_on_numpy_as_on_jax(x64):
    """The host-side rest-pose build and forward kinematics share :func:`sweep_levels`."""
    from retargetjax.robot._fk import local_transforms, node_angles, node_frames, sweep_levels

    robot = load_robot("unitree_g1", verbose=False).astype(jnp.float64)
    rng = np.random.default_rng(7)
    q = np.clip(
        np.asarray(robot.default_joint_pos) + rng.normal(size=robot.num_joints) * 0.4,
        np.asarray(robot.joint_lower),
        np.asarray(robot.joint_upper),
    )
    rot_np, pos_np = sweep_levels(
        robot.level_ranges,
        robot.level_parents,
        np.eye(3),
        np.zeros(3),
        *local_transforms(robot, node_angles(robot, q)),
    )
    assert isinstance(rot_np, np.ndarray)
    _, rot, pos = node_frames(robot, jnp.zeros(3), jnp.asarray([1.0, 0, 0, 0]), jnp.asarray(q))
    np.testing.assert_allclose(rot_np, rot, atol=1e-12)
    np.testing.assert_allclose(pos_np, pos, atol=1e-12)

"""Each stage of the solver does its job, on clips where a broken stage shows.

* A **synthetic clip made by the robot itself** (FK of a known joint trajectory, airborne so
  that no floor or contact term is in play) is recovered by the default solver; Adam and
  L-BFGS, run without the initialisation stage, reach a stated keypoint error on it.
* On the sample walk, where temporal terms matter (slip, smoothness), the **refinement**
  lowers every window's cost well below the initialisation's — a refinement that rejects
  every step leaves it equal and fails.

Small shapes (windows of 16 and 32 frames) keep the compilations few and short.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from retargetjax.motion import load_motion, sample_motion_path
from retargetjax.retarget import (
    RetargetConfig,
    build_problem,
    plan_clip_rows,
    prepare_problem,
    solve_problems,
    solve_rows,
)
from retargetjax.retarget._frames import built_frame
from retargetjax.robot import forward_kinematics, keypoint_positions, load_robot

FRAMES = 16
#: Joints the synthetic clip moves: ``(centre, amplitude)`` in rad, inside the limits, at
#: human-like speeds (< 1 rad/s).
MOVED = {
    "left_hip_pitch_joint": (-0.15, 0.15),
    "right_hip_pitch_joint": (-0.1, -0.15),
    "left_hip_roll_joint": (0.05, 0.05),
    "left_knee_joint": (0.2, 0.12),
    "right_knee_joint": (0.15, 0.1),
    "left_ankle_pitch_joint": (-0.1, 0.1),
    "left_shoulder_pitch_joint": (0.2, 0.25),
    "right_shoulder_pitch_joint": (0.2, -0.2),
    "left_shoulder_roll_joint": (0.3, 0.1),
    "left_elbow_joint": (1.28, -0.25),
    "right_elbow_joint": (1.28, 0.2),
}

#: The moved joints the keypoints pin down. The G1's arm keypoints (shoulder, elbow, wrist,
#: hand) leave elbow / shoulder-yaw / wrist-pitch combinations nearly unobservable (0.2-0.3
#: rad apart at < 1 cm keypoint error), so the arms are checked through their keypoints.
CHECKED = [name for name in MOVED if "shoulder" not in name and "elbow" not in name]

_fk = jax.jit(forward_kinematics)
_kp = jax.jit(keypoint_positions)


@pytest.fixture(scope="module")
def robot():
    return load_robot("unitree_g1", verbose=False)


@pytest.fixture(scope="module")
def synthetic(robot):
    """``(problem, truth)``: targets are the robot's own keypoints along a known motion."""
    t = np.arange(FRAMES) / 30.0
    q = np.tile(np.asarray(robot.default_joint_pos, np.float64), (FRAMES, 1))
    for k, (name, (centre, amp)) in enumerate(MOVED.items()):
        q[:, robot.joint_names.index(name)] = centre + amp * np.sin(2 * np.pi * 0.5 * t + 0.7 * k)
    assert np.all(q >= np.asarray(robot.joint_lower)) and np.all(q <= np.asarray(robot.joint_upper))
    root_pos = np.stack(
        [0.6 * t, 0.1 * np.sin(2 * np.pi * t), np.full(FRAMES, 0.95)], axis=-1
    )  # 15 cm above the standing height: no floor contact
    yaw = 0.3 * t
    root_quat = np.stack([np.cos(yaw / 2), 0 * t, 0 * t, np.sin(yaw / 2)], axis=-1)
    truth = {
        "root_pos": root_pos.astype(np.float32),
        "root_quat": root_quat.astype(np.float32),
        "joint_pos": q.astype(np.float32),
    }
    kp = np.asarray(_kp(robot, _fk(robot, *truth.values())), np.float64)
    names = tuple(robot.keypoint_names)
    no_contact = np.zeros((FRAMES, 2), bool)
    base = build_problem(kp, names, no_contact, 30.0, robot, source="synthetic")
    idx = np.asarray(base.frame_keypoints)
    frames = built_frame(kp[:, idx[:, 0]], kp[:, idx[:, 1]], kp[:, idx[:, 2]], kp[:, idx[:, 3]], np)
    problem = dataclasses.replace(
        base,
        target_keypoints=kp.astype(np.float32),  # exactly the robot's, no rescaling
        target_frames=frames.astype(np.float32),
        sole_contact=np.zeros_like(base.sole_contact),
        contact=np.zeros_like(base.contact),
    )
    return problem, truth


def _keypoint_error(robot, problem, solution) -> float:
    kp = np.asarray(
        _kp(robot, _fk(robot, solution["root_pos"], solution["root_quat"], solution["joint_pos"]))
    )
    w = problem.keypoint_weight > 0
    return float(np.linalg.norm(kp - problem.target_keypoints, axis=-1)[:, w].mean())


def _with_joints(robot, base, truth, joints: dict) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (T, K, 3) and built frames of the synthetic clip with ``joints`` moved as
    ``centre + amp sin(π t + k)`` (the k-th joint), the rest of ``truth`` kept."""
    t = np.arange(FRAMES) / 30.0
    q = truth["joint_pos"].astype(np.float64).copy()
    for k, (name, (centre, amp)) in enumerate(joints.items()):
        q[:, robot.joint_names.index(name)] = centre + amp * np.sin(2 * np.pi * 0.5 * t + k)
    kp = np.asarray(_kp(robot, _fk(robot, truth["root_pos"], truth["root_quat"], q)), np.float64)
    idx = np.asarray(base.frame_keypoints)
    frames = built_frame(kp[:, idx[:, 0]], kp[:, idx[:, 1]], kp[:, idx[:, 2]], kp[:, idx[:, 3]], np)
    return kp, frames


#: The default cost weights but for the pull towards the standing pose: that prior is a bias
#: by design (0.02 rad⁻² against 1 m⁻²: 0.16 rad off on this clip's knees), not a solver error.
UNBIASED = {"costs": {"default_pose": 0.0}}


def test_default_solver_recovers_a_motion_made_by_the_robot(synthetic, robot):
    """Keypoints to < 1 cm, the root to < 1 cm and the moved leg joints to < 0.05 rad."""
    problem, truth = synthetic
    solution = solve_problems([problem], robot, RetargetConfig.model_validate(UNBIASED))[0]
    assert _keypoint_error(robot, problem, solution) < 0.01
    checked = [robot.joint_names.index(name) for name in CHECKED]
    joint_err = np.abs(solution["joint_pos"] - truth["joint_pos"])[:, checked].max(axis=0)
    assert joint_err.max() < 0.05, dict(zip(CHECKED, joint_err.round(3)))
    np.testing.assert_allclose(solution["root_pos"], truth["root_pos"], atol=0.01)


@pytest.mark.parametrize(
    ("optimizer", "iterations", "learning_rate", "max_error_m"),
    [("adam", 150, 0.02, 0.01), ("lbfgs", 60, 3e-3, 0.01)],  # measured: 5.6 and 3.2 mm
)
def test_optax_optimizers_reach_a_stated_keypoint_error(
    synthetic, robot, optimizer, iterations, learning_rate, max_error_m
):
    """Without the initialisation stage, the optax refinement alone fits the clip from the
    standing pose (18 cm keypoint error) to under 1 cm."""
    problem, _ = synthetic
    config = RetargetConfig.model_validate(
        {
            **UNBIASED,
            "solver": {
                "optimizer": optimizer,
                "init_iterations": 0,
                "iterations": iterations,
                "learning_rate": learning_rate,
            },
        }
    )
    start = {
        "root_pos": problem.root_pos_init,
        "root_quat": problem.root_quat_init,
        "joint_pos": np.tile(np.asarray(robot.default_joint_pos), (FRAMES, 1)),
    }
    solution = solve_problems([problem], robot, config)[0]
    error = _keypoint_error(robot, problem, solution)
    assert error < max_error_m
    assert error < 0.5 * _keypoint_error(robot, problem, start)


@pytest.fixture(scope="module")
def walk(robot):
    """The bundled walk, 50 frames, as 2 windows of 32 (the shapes of test_retarget_solver)."""
    config = RetargetConfig.model_validate(
        {"solver": {"window": 32, "overlap": 8, "init_iterations": 3, "cg_iterations": 8}}
    )
    problem = prepare_problem(load_motion(sample_motion_path()).trim(0, 50), robot, config)
    assert problem.sole_contact.any()  # planted feet: slip matters
    return problem, config


def _window_losses(problem, robot, config) -> np.ndarray:
    slots, rows = plan_clip_rows([problem.num_frames], 32, config.solver.overlap)
    _, loss = solve_rows([problem], slots, 0, rows, robot, config, window=32)
    return np.asarray(loss)


def test_refinement_lowers_every_windows_cost_below_the_initialisation(walk, robot):
    problem, config = walk
    first_stage = config.model_copy(
        update={"solver": config.solver.model_copy(update={"iterations": 0})}
    )
    refined = config.model_copy(
        update={"solver": config.solver.model_copy(update={"iterations": 3})}
    )
    before = _window_losses(problem, robot, first_stage)
    after = _window_losses(problem, robot, refined)
    assert np.all(np.isfinite(before)) and np.all(before > 0)
    # Measured: 0.174 → 0.076 and 0.197 → 0.078. A refinement rejecting every step would
    # leave the cost where it was.
    assert np.all(after < 0.6 * before), (before, after)


def test_strided_initialisation_fills_frames_within_their_own_clip():
    """Frames the per-frame stage skipped are interpolated between solved frames of their own
    segment (two clips packed in one window, a masked gap between): never across clips."""
    import jax.numpy as jnp

    from retargetjax.geometry import quat_exp
    from retargetjax.retarget._init_stage import fill_between
    from retargetjax.retarget._problem import FrameState

    W, N, k = 12, 3, 2
    mask = jnp.asarray([1.0] * 6 + [0.0] + [1.0] * 5)  # clip A: 0-5, gap 6, clip B: 7-11
    solved_t = np.arange(0, W, k)  # 0, 2, 4, 6, 8, 10
    angle = jnp.asarray(solved_t * 0.1, jnp.float32)
    solved = FrameState(
        jnp.asarray(np.stack([solved_t, 0 * solved_t, 0 * solved_t], -1), jnp.float32),
        quat_exp(angle[:, None] * jnp.asarray([[0.0, 0.0, 1.0]])),
        jnp.asarray(np.repeat(solved_t[:, None], N, 1), jnp.float32),
    )
    start = FrameState(jnp.full((W, 3), -9.0), jnp.tile(jnp.eye(4)[:1], (W, 1)), jnp.zeros((W, N)))
    out = fill_between(solved, start, mask, stride=k)
    x = np.asarray(out.root_pos[:, 0])
    # Solved frames are kept; frames between two of one clip are halfway.
    np.testing.assert_allclose(x[[0, 2, 4, 8, 10]], [0, 2, 4, 8, 10])
    np.testing.assert_allclose(x[[1, 3, 9]], [1, 3, 9], atol=1e-6)
    # Clip A's last frame (5) does not reach into the gap; clip B's first (7) takes frame 8,
    # its last (11) frame 10 (no solved frame after it).
    assert x[5] == 4.0 and x[7] == 8.0 and x[11] == 10.0
    np.testing.assert_allclose(out.joint_pos[3], [3.0] * N, atol=1e-6)
    # The root rotation is slerped: frame 3 turns 0.3 rad about z.
    yaw = 2 * np.arctan2(float(out.root_quat[3, 3]), float(out.root_quat[3, 0]))
    assert abs(yaw - 0.3) < 1e-5


#: Arms far from the standing pose: the right one overhead and in front (as in a
#: cartwheel or a handstand), the left one raised sideways above the shoulder.
RAISED = {
    "right_shoulder_pitch_joint": (-2.5, 0.1),
    "right_shoulder_roll_joint": (-0.2, 0.05),
    "right_elbow_joint": (0.4, 0.1),
    "left_shoulder_pitch_joint": (-1.0, 0.1),
    "left_shoulder_roll_joint": (1.9, 0.1),
    "left_elbow_joint": (0.3, 0.1),
}


def test_arms_far_from_the_standing_pose_start_near_their_targets(synthetic, robot):
    """A clip made by the robot with its arms overhead is recovered, the arms started from
    the table of arm poses (:mod:`retargetjax.retarget._start_pose`) rather than hanging:
    from there an arm can swing the wrong way round, through the torso."""
    from retargetjax.retarget._start_pose import seed_arm_joints

    base, truth = synthetic
    kp, frames = _with_joints(robot, base, truth, RAISED)
    start = seed_arm_joints(robot, kp, base.keypoint_weight)
    assert start is not None
    # The overhead arm starts near already: its elbow within 10 cm (the table is coarse;
    # shoulder pitch, roll and yaw trade for one another, so the angles may differ). The
    # left one, under ~107° from hanging, starts hanging: the stage swings it up itself.
    near = np.asarray(_kp(robot, _fk(robot, truth["root_pos"], truth["root_quat"], start)))
    elbow = robot.keypoint_names.index("right_elbow")
    assert np.linalg.norm(near[:, elbow] - kp[:, elbow], axis=-1).max() < 0.10
    left = [robot.joint_names.index(n) for n in RAISED if n.startswith("left")]
    assert np.all(start[:, left] == np.asarray(robot.default_joint_pos)[left])
    problem = dataclasses.replace(
        base,
        target_keypoints=kp.astype(np.float32),
        target_frames=frames.astype(np.float32),
        joint_pos_init=start,
    )
    solution = solve_problems([problem], robot, RetargetConfig.model_validate(UNBIASED))[0]
    assert _keypoint_error(robot, problem, solution) < 0.015
    # The standing pose keeps its own start: nothing to seed.
    rest_kp = np.asarray(
        _kp(robot, _fk(robot, truth["root_pos"], truth["root_quat"], truth["joint_pos"]))
    )
    assert seed_arm_joints(robot, rest_kp, base.keypoint_weight) is None


def test_a_standing_pose_on_its_joint_limits_starts_inside_them(robot):
    """Straight elbows and knees exactly on a limit (many files' zero pose) are singular
    starts; the per-frame stage starts them min(0.25 rad, range/4) inside, nothing else
    moves, and a standing pose off its limits starts as it is."""
    from retargetjax.retarget._start_pose import standing_start, start_joint_pos

    assert np.array_equal(standing_start(robot), np.asarray(robot.default_joint_pos))
    lower, upper = np.asarray(robot.joint_lower), np.asarray(robot.joint_upper)
    q = np.asarray(robot.default_joint_pos).copy()
    elbow = robot.joint_names.index("left_elbow_joint")
    knee = robot.joint_names.index("right_knee_joint")
    q[elbow], q[knee] = upper[elbow], lower[knee]
    straight = dataclasses.replace(robot, default_joint_pos=q.astype(np.float32))
    start = standing_start(straight)
    assert start[elbow] == pytest.approx(upper[elbow] - min(0.25, (upper - lower)[elbow] / 4))
    assert start[knee] == pytest.approx(lower[knee] + min(0.25, (upper - lower)[knee] / 4))
    others = np.ones(len(q), bool)
    others[[elbow, knee]] = False
    np.testing.assert_array_equal(start[others], q[others])
    kp = np.zeros((3, len(robot.keypoint_names), 3), np.float32)
    rows = start_joint_pos(straight, kp, np.zeros(len(robot.keypoint_names), np.float32))
    np.testing.assert_allclose(rows, np.broadcast_to(start, rows.shape), atol=1e-6)


#: A deep crouch, far from the standing pose (as in a kneel or a get-up).
CROUCH = {
    "left_hip_pitch_joint": (-1.3, 0.1),
    "right_hip_pitch_joint": (-1.2, 0.1),
    "left_knee_joint": (1.9, 0.1),
    "right_knee_joint": (1.8, 0.1),
    "left_ankle_pitch_joint": (-0.5, 0.05),
    "right_ankle_pitch_joint": (-0.5, 0.05),
}


def test_a_warm_started_or_converging_stage_reaches_a_crouch_two_steps_do_not(synthetic, robot):
    """From the standing pose, two per-frame steps leave a crouch far off its targets. With
    ``warm_start`` only the first chunk of 8 frames starts there (with
    ``COLD_START_ITERATIONS`` steps) and the next starts from its solution, so the same two
    steps reach it; with ``init_tolerance`` every chunk keeps stepping while its cost still
    falls, and reaches it from the standing pose."""
    base, truth = synthetic
    kp, frames = _with_joints(robot, base, truth, CROUCH)
    problem = dataclasses.replace(
        base, target_keypoints=kp.astype(np.float32), target_frames=frames.astype(np.float32)
    )
    errors = {}
    for name, warm, tolerance in (("two", False, 0.0), ("warm", True, 0.0), ("on", False, 0.05)):
        solver = {"init_iterations": 2, "iterations": 0, "warm_start": warm}
        solver["init_tolerance"] = tolerance
        config = RetargetConfig.model_validate({**UNBIASED, "solver": solver})
        solution = solve_problems([problem], robot, config)[0]
        second_chunk = dataclasses.replace(problem, target_keypoints=problem.target_keypoints[8:])
        later = {k: v[8:] for k, v in solution.items() if k in truth}
        errors[name] = _keypoint_error(robot, second_chunk, later)
    assert errors["warm"] < 0.01, errors
    assert errors["on"] < 0.01, errors
    assert errors["two"] > 3 * max(errors["warm"], errors["on"]), errors


def test_warm_starts_move_the_root_as_the_starts_move_and_link_within_a_segment():
    """A warm start is the earlier solution shifted by how the frame's own start differs
    from the earlier frame's; only frames after the first chunk of their segment link."""
    import jax.numpy as jnp

    from retargetjax.geometry import quat_exp, quat_mul
    from retargetjax.retarget._init_stage import init_links, warm_starts
    from retargetjax.retarget._problem import FrameState

    turn = quat_exp(jnp.asarray([0.0, 0.0, 0.4]))
    prev_cold = FrameState(jnp.zeros(3), jnp.asarray([1.0, 0, 0, 0]), jnp.zeros(2))
    prev = FrameState(jnp.asarray([0.1, 0.0, -0.2]), turn, jnp.asarray([0.5, -0.3]))
    cold = FrameState(
        jnp.asarray([[1.0, 2.0, 0.0]]), quat_exp(jnp.asarray([[0.3, 0.0, 0.0]])), jnp.zeros((1, 2))
    )
    warm = warm_starts(cold, prev_cold, prev)
    np.testing.assert_allclose(warm.root_pos[0], [1.1, 2.0, -0.2], atol=1e-6)
    np.testing.assert_allclose(warm.joint_pos[0], [0.5, -0.3])
    np.testing.assert_allclose(warm.root_quat[0], quat_mul(cold.root_quat[0], turn), atol=1e-6)

    mask = jnp.asarray([[1.0] * 6 + [0.0] + [1.0] * 9, [1.0] * 16])  # two windows of 16
    links = np.asarray(init_links(mask, 4))
    # Window 0: clip A 0-5, gap 6, clip B 7-15. Chunk 1 (4-7): 4, 5 link to frame 3 (clip A),
    # 7 is clip B's first frame (frame 3 is A's). Chunk 2 (8-11) links to 7, chunk 3 to 11.
    assert links[0].tolist() == [False] * 4 + [True, True, False, False] + [True] * 8
    assert links[1].tolist() == [False] * 4 + [True] * 12

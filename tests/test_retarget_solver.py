"""The solver end to end on the bundled sample clip (small shapes, few iterations).

All tests share one tiny solver setting so that the jitted solve compiles only for the few
shapes used here (2 and 3 windows of 32 frames, 1 window of 16).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from retargetjax.motion import load_motion, sample_motion_path
from retargetjax.retarget import (
    RetargetConfig,
    RetargetError,
    build_problem,
    plan_clip_rows,
    prepare_problem,
    retarget,
    row_alignment,
    solve_problems,
)
from retargetjax.retarget._solver import solve_windows
from retargetjax.robot import forward_kinematics, keypoint_positions, load_robot

TINY = {
    "solver": {
        "window": 32,
        "overlap": 8,
        "init_iterations": 3,
        # every other frame in stage 1: packed clips must still be solved exactly as alone
        "init_stride": 2,
        "iterations": 3,
        "cg_iterations": 8,
    }
}


@pytest.fixture(scope="module")
def robot():
    return load_robot("unitree_g1", verbose=False)


@pytest.fixture(scope="module")
def config():
    return RetargetConfig.model_validate(TINY)


@pytest.fixture(scope="module")
def clip():
    """The bundled walk, first 50 frames (2 windows of 32)."""
    return load_motion(sample_motion_path()).trim(0, 50)


@pytest.fixture(scope="module")
def problem(clip, robot, config):
    return prepare_problem(clip, robot, config)


@pytest.fixture(scope="module")
def solution(problem, robot, config):
    return solve_problems([problem], robot, config)[0]


_fk = jax.jit(forward_kinematics)
_kp = jax.jit(keypoint_positions)


def _keypoint_error(robot, problem, root_pos, root_quat, joint_pos):
    kp = np.asarray(_kp(robot, _fk(robot, root_pos, root_quat, joint_pos)))
    w = problem.keypoint_weight > 0
    return float(np.linalg.norm(kp - problem.target_keypoints, axis=-1)[:, w].mean())


def test_solution_is_finite_and_inside_joint_limits(solution, robot, problem):
    assert solution["joint_pos"].shape == (problem.num_frames, len(robot.joint_names))
    for key in ("root_pos", "root_quat", "joint_pos"):
        assert np.all(np.isfinite(solution[key])), key
    assert np.all(solution["joint_pos"] >= np.asarray(robot.joint_lower))
    assert np.all(solution["joint_pos"] <= np.asarray(robot.joint_upper))
    np.testing.assert_allclose(np.linalg.norm(solution["root_quat"], axis=-1), 1.0, atol=1e-5)
    # Quaternion signs are continuous (trackers dislike flips).
    assert np.all(np.sum(solution["root_quat"][1:] * solution["root_quat"][:-1], -1) > 0)


def test_solver_tracks_targets_much_better_than_its_start(solution, robot, problem):
    q0 = np.broadcast_to(np.asarray(robot.default_joint_pos), solution["joint_pos"].shape)
    start = _keypoint_error(robot, problem, problem.root_pos_init, problem.root_quat_init, q0)
    end = _keypoint_error(
        robot, problem, solution["root_pos"], solution["root_quat"], solution["joint_pos"]
    )
    assert end < 0.5 * start
    assert end < 0.12  # a crouching clip, 3+3 iterations: coarse but on the body


def test_targets_are_robot_sized_and_feet_on_the_floor(problem, robot):
    names = robot.keypoint_names
    t = problem.target_keypoints
    hip_w = np.linalg.norm(t[:, names.index("left_hip")] - t[:, names.index("right_hip")], axis=-1)
    np.testing.assert_allclose(hip_w, hip_w[0], atol=1e-4)  # rigid: the robot's hip width
    planted = problem.sole_contact.any(axis=-1)  # (T, 2)
    assert planted.any()
    for side, key in enumerate(("left_toe", "right_toe")):
        z = t[planted[:, side], names.index(key), 2]
        assert np.all(np.abs(z) < 0.03)


def test_same_shapes_do_not_recompile_and_weights_are_traced(
    problem, solution, robot, config, clip
):
    del solution  # compiled the 2-window shape already
    before = solve_windows._cache_size()
    other = prepare_problem(clip.trim(3, 48), robot, config)  # still 2 windows of 32
    solve_problems([other], robot, config)
    heavier = config.model_copy(
        update={"costs": config.costs.model_copy(update={"smooth": 10.0, "slip": 1.0})}
    )
    solve_problems([problem], robot, heavier)
    assert solve_windows._cache_size() == before


def test_mixed_lengths_batch_matches_clips_solved_alone(problem, solution, robot, config, clip):
    short = prepare_problem(clip.trim(0, 12), robot, config)
    before = solve_windows._cache_size()
    together = solve_problems([short, problem], robot, config)  # 2 + 1 windows → bucket 3
    assert solve_windows._cache_size() - before <= 1
    # Windows are independent: a neighbour changes only float rounding (which the
    # accept/reject steps of the initialisation may amplify a little), not the answer.
    np.testing.assert_allclose(together[1]["root_pos"], solution["root_pos"], atol=0.01)
    err_alone = _keypoint_error(
        robot, problem, solution["root_pos"], solution["root_quat"], solution["joint_pos"]
    )
    err_together = _keypoint_error(
        robot, problem, together[1]["root_pos"], together[1]["root_quat"], together[1]["joint_pos"]
    )
    assert err_together == pytest.approx(err_alone, abs=0.003)


def test_short_clips_share_a_window_and_are_solved_exactly_as_alone(clip, robot, config):
    a = prepare_problem(clip.trim(0, 8), robot, config)
    b = prepare_problem(clip.trim(20, 26), robot, config)
    alone = [solve_problems([p], robot, config)[0] for p in (a, b)]
    before = solve_windows._cache_size()
    packed = solve_problems([a, b], robot, config)
    # 8 + gap to the init stride (2) + 6 frames: the same (1, 16) row
    assert solve_windows._cache_size() == before
    assert [s["batch_windows"] for s in packed] == [1, 1]
    # Every scalar of the refinement is per segment, so the neighbour changes nothing but
    # float rounding.
    for one, two in zip(alone, packed):
        for key in ("root_pos", "root_quat", "joint_pos"):
            np.testing.assert_allclose(two[key], one[key], atol=1e-4, err_msg=key)


def test_a_converging_per_frame_stage_keeps_packed_clips_exact(clip, robot):
    """With ``init_tolerance`` each chunk of 8 frames of the per-frame stage stops on its own
    convergence, so pieces sharing a row start on multiples of 8 (``row_alignment``): a
    chunk then holds one clip's frames, and each clip is solved as when alone."""
    solver = {**TINY["solver"], "init_stride": 1, "init_tolerance": 0.05}
    config = RetargetConfig.model_validate({"solver": solver})
    assert row_alignment(config.solver) == 8
    a = prepare_problem(clip.trim(0, 6), robot, config)
    b = prepare_problem(clip.trim(20, 26), robot, config)
    slots, _ = plan_clip_rows([6, 6], 16, config.solver.overlap, row_alignment(config.solver))
    assert sorted(offset for slot in slots for _row, offset in slot.places) == [0, 8]
    alone = [solve_problems([p], robot, config)[0] for p in (a, b)]
    packed = solve_problems([a, b], robot, config)
    assert [s["batch_windows"] for s in packed] == [1, 1]  # one shared row of 16 frames
    for one, two in zip(alone, packed):
        for key in ("root_pos", "root_quat", "joint_pos"):
            np.testing.assert_allclose(two[key], one[key], atol=1e-4, err_msg=key)


def test_clips_refined_until_their_feet_are_still_stay_exact_when_packed(clip, robot):
    """With ``still_feet_effort`` each clip (segment) of a row steps on until no touching
    sole point under a planted foot moves more than ``still_step_mm``, then is frozen: two
    clips sharing a row are solved as when alone, and their feet end stiller than after
    the fixed count. The human's left leg glides 3 cm per frame while its foot is down, so
    the tracking pulls the planted foot along (one refinement step leaves 1-2 mm)."""
    from retargetjax.retarget._costs import planted_steps
    from retargetjax.retarget._problem import FrameState, body_points

    def gliding(lo, hi, config):
        p = prepare_problem(clip.trim(lo, hi), robot, config)
        names = p.keypoint_names
        leg = [i for i, n in enumerate(names) if n.startswith("left_") and "shoulder" not in n]
        leg = [i for i in leg if any(k in names[i] for k in ("knee", "ankle", "toe"))]
        targets = np.array(p.target_keypoints)
        targets[:, leg, 0] += 0.03 * np.arange(hi - lo)[:, None]
        return dataclasses.replace(p, target_keypoints=targets)

    def worst_step(problem, s):
        x = FrameState(*(np.asarray(s[k]) for k in ("root_pos", "root_quat", "joint_pos")))
        soles = body_points(robot, x).soles
        contact = np.asarray(problem.contact, np.float32)
        return float(planted_steps(soles, np.ones(len(contact)), contact, 30.0).max())

    solver = {**TINY["solver"], "iterations": 1}
    fixed = RetargetConfig.model_validate({"solver": solver})
    still = RetargetConfig.model_validate(
        {"solver": {**solver, "still_feet_effort": 6, "still_step_mm": 0.2}}
    )
    a, b = gliding(0, 8, still), gliding(20, 26, still)
    alone = [solve_problems([p], robot, still)[0] for p in (a, b)]
    packed = solve_problems([a, b], robot, still)
    assert [s["batch_windows"] for s in packed] == [1, 1]  # one shared row of 16 frames
    for one, two in zip(alone, packed):
        for key in ("root_pos", "root_quat", "joint_pos"):
            np.testing.assert_allclose(two[key], one[key], atol=1e-4, err_msg=key)
    once = solve_problems([a, b], robot, fixed)
    for p, s, f in zip((a, b), packed, once):
        before, after = worst_step(p, f), worst_step(p, s)
        assert before > 1e-3 and after < 0.7 * before, (before, after)


def test_shared_rows_start_pieces_on_the_init_stride():
    """Pieces sharing a row start at multiples of ``align`` (the per-frame stage's stride)
    behind a gap of at least one frame, so each has the same frames solved as alone."""
    from retargetjax.retarget._windows import pack_clips

    lengths = [9, 7, 5, 3]
    for align in (1, 2, 3, 4):
        slots, rows = pack_clips(lengths, 32, 8, align)
        ends: dict[int, int] = {}
        for slot, n in zip(slots, lengths):
            ((row, offset),) = slot.places
            assert offset % align == 0, (align, offset)
            assert offset == 0 or offset > ends[row], (align, offset, ends[row])
            assert offset + n <= 32
            ends[row] = offset + n - 1
        assert rows == 1  # 9 + 7 + 5 + 3 and their gaps fit in 32 frames at every stride
    with pytest.raises(ValueError, match="align"):
        pack_clips([3], 32, 8, 0)


def test_a_short_clip_in_a_long_clips_tail_is_solved_exactly_as_alone(clip, robot, config):
    long = prepare_problem(clip.trim(0, 40), robot, config)  # windows [0, 32) and tail [24, 40)
    short = prepare_problem(clip.trim(30, 40), robot, config)
    alone = [solve_problems([p], robot, config)[0] for p in (long, short)]
    before = solve_windows._cache_size()
    packed = solve_problems([long, short], robot, config)
    assert solve_windows._cache_size() == before  # 2 rows of 32, as the long clip alone
    assert [s["batch_windows"] for s in packed] == [2, 2]  # the short one rides in the tail
    for one, two in zip(alone, packed):
        for key in ("root_pos", "root_quat", "joint_pos"):
            np.testing.assert_allclose(two[key], one[key], atol=1e-4, err_msg=key)


def test_missing_keypoints_fail_clearly(problem, robot):
    names = tuple(n for n in robot.keypoint_names if n != "left_ankle")
    cols = [robot.keypoint_names.index(n) for n in names]
    with pytest.raises(RetargetError, match="left_ankle"):
        build_problem(
            problem.target_keypoints[:, cols],
            names,
            problem.contact > 0,
            30.0,
            robot,
            source="clip.bvh",
        )
    nan = problem.target_keypoints.copy()
    nan[:, robot.keypoint_names.index("left_knee")] = np.nan
    with pytest.raises(RetargetError, match=r"left_knee.*every frame"):
        build_problem(nan, robot.keypoint_names, problem.contact > 0, 30.0, robot)


def test_retarget_returns_robot_motion_with_metadata(clip, robot, config):
    motion = retarget(clip, robot, config)
    assert motion.num_frames == clip.trim(0, 50).resample(30.0).num_frames
    assert motion.robot == "unitree_g1"
    assert motion.body_pos_w is not None and np.all(np.isfinite(motion.body_pos_w))
    meta = motion.metadata
    assert meta["solver"]["iterations"] == TINY["solver"]["iterations"]
    assert np.isfinite(meta["solver"]["final_loss"])
    assert meta["scale"]["root"] > 0
    assert len(meta["contact"]) == motion.num_frames


def test_a_clip_at_another_rate_is_solved_at_the_solver_rate(clip, robot, config):
    fast = dataclasses.replace(clip, fps=60.0)  # the same samples read as 60 fps
    p = prepare_problem(fast, robot, config)
    assert p.fps == 30.0
    assert p.num_frames == pytest.approx(clip.num_frames / 2, abs=1)

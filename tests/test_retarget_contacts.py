"""The floor and body-part contacts (issue 16, solver side).

* Targets never ask a body into the floor (:func:`keypoint_clearance`), and a planted hand's
  targets are held still on the floor over its span, ramped in and out.
* The part-contact residual is the lowest point of the part's capsules above its support.
* The solve holds the floor exactly (every step is projected out of it): targets pulled
  4 cm under the floor, weighted hard, leave every capsule above ``z = 0``.

Synthetic clips of 16 frames (one window) keep the compilation short.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax.motion import detect_body_contacts
from retargetjax.retarget import RetargetConfig, build_problem, solve_problems
from retargetjax.retarget._costs import GROUND_MARGIN_M, part_contact_residual
from retargetjax.retarget._problem import (
    CONTACT_PARTS,
    FrameState,
    body_points,
    lowest_height,
    project_to_floor,
)
from retargetjax.retarget._targets import keypoint_clearance
from retargetjax.robot import forward_kinematics, keypoint_positions, load_robot

FRAMES = 16


@pytest.fixture(scope="module")
def robot():
    return load_robot("unitree_g1", verbose=False)


def _rest_keypoints(robot, frames: int = FRAMES) -> np.ndarray:
    """(T, K, 3) the robot's own keypoints at its standing pose, feet on z = 0."""
    fk = jax.jit(forward_kinematics)(
        robot,
        jnp.asarray(robot.default_root_pos, jnp.float32),
        jnp.array([1.0, 0.0, 0.0, 0.0], jnp.float32),
        jnp.asarray(robot.default_joint_pos, jnp.float32),
    )
    kp = np.asarray(keypoint_positions(robot, fk), np.float64)
    x = FrameState(
        jnp.asarray(robot.default_root_pos, jnp.float32)[None],
        jnp.array([[1.0, 0.0, 0.0, 0.0]], jnp.float32),
        jnp.asarray(robot.default_joint_pos, jnp.float32)[None],
    )
    soles = np.asarray(body_points(robot, x).soles)
    kp[:, 2] -= soles[..., 2].min()
    return np.tile(kp, (frames, 1, 1))


def test_keypoint_clearance_is_the_depth_inside_the_body(robot):
    """A hand keypoint inside its capsule stands at least that deep above the floor."""
    clearance = keypoint_clearance(robot)
    names = list(robot.keypoint_names)
    assert clearance.shape == (len(names),)
    assert np.all(clearance >= 0.0)
    assert clearance[names.index("left_hand")] > 0.01  # G1: 3.3 cm


def test_targets_below_the_floor_are_lifted_and_a_planted_hand_is_held(robot):
    """A human hand planted 5 cm *under* the robot's floor (after scaling) and drifting 6 cm
    over its span: its robot target rests at its clearance, still, over the span."""
    names = tuple(robot.keypoint_names)
    kp = _rest_keypoints(robot, 30)
    hand, wrist = names.index("left_hand"), names.index("left_wrist")
    span = slice(8, 22)
    kp[span, hand] = [0.3, 0.3, -0.05]
    kp[span, wrist] = [0.3, 0.3, 0.02]
    kp[span, hand, 0] += np.linspace(0.0, 0.06, 14)  # drifts while "planted"
    labels = np.zeros((30, 11), bool)
    contacts = detect_body_contacts(kp, names, 30.0)
    labels[span, contacts.part_index("left_hand")] = True
    contacts = dataclasses.replace(contacts, labels=labels)
    contact = np.ones((30, 2), bool)
    problem = build_problem(kp, names, contact, 30.0, robot, body_contacts=contacts)
    target = problem.target_keypoints
    clearance = keypoint_clearance(robot)
    assert np.all(target[..., 2] >= clearance[None] - 1e-6)
    held = target[span, hand]
    np.testing.assert_allclose(held, np.broadcast_to(held[0], held.shape), atol=1e-6)
    # on the floor the ground term sees (GROUND_MARGIN_M up), neither under it nor above
    assert held[0, 2] == pytest.approx(clearance[hand] + GROUND_MARGIN_M, abs=1e-5)
    assert target[10, wrist, 2] > held[0, 2]  # the wrist stays above the hand
    b = CONTACT_PARTS.index("left_hand")
    c = problem.part_contact[:, b]
    assert c[12] == pytest.approx(1.0) and c[0] == 0.0 and c[29] == 0.0
    assert 0.0 < c[7] < 1.0 and 0.0 < c[8] < 1.0  # ramps over the label's edge
    assert problem.keypoint_frame_weight[12, hand] > problem.keypoint_frame_weight[0, hand]


def test_part_contact_residual_is_the_lowest_capsule_point_above_the_support():
    a = jnp.array([[0.0, 0.0, 0.10], [0.0, 0.0, 0.30], [0.0, 0.0, 1.0]])
    b = jnp.array([[0.0, 0.0, 0.20], [0.0, 0.0, 0.05], [0.0, 0.0, 1.2]])
    radius = jnp.array([0.02, 0.03, 0.05])
    r = part_contact_residual(
        a, b, radius, ((0, 1), (), (2,)), jnp.array([1.0, 1.0, 0.5]), jnp.array([0.0, 0.0, 0.2])
    )
    m = GROUND_MARGIN_M
    np.testing.assert_allclose(r, [0.02 - m, 0.0, 0.5 * (0.95 - 0.2 - m)], atol=1e-6)


@pytest.mark.parametrize("ground_weight", [100.0, 0.0])
def test_the_floor_holds_exactly_against_targets_under_it(robot, ground_weight):
    """Every keypoint target 4 cm under the floor and tracked 30× harder than by default:
    with the floor projection after every step no capsule or sole point ends below
    ``z = 0``, even with the ground cost switched off (the penalty only keeps the lift
    rare), and the planted feet still touch the floor (within 1 cm)."""
    names = tuple(robot.keypoint_names)
    kp = _rest_keypoints(robot)
    problem = build_problem(kp, names, np.ones((FRAMES, 2), bool), 30.0, robot)
    problem = dataclasses.replace(
        problem,
        target_keypoints=problem.target_keypoints - np.array([0, 0, 0.04], np.float32),
        keypoint_frame_weight=30.0 * problem.keypoint_frame_weight,
        root_pos_init=problem.root_pos_init - np.array([0, 0, 0.04], np.float32),
    )
    config = RetargetConfig()
    config.costs.ground = ground_weight
    solution = solve_problems([problem], robot, config)[0]
    x = FrameState(
        jnp.asarray(solution["root_pos"]),
        jnp.asarray(solution["root_quat"]),
        jnp.asarray(solution["joint_pos"]),
    )
    pts = body_points(robot, x)
    low = jnp.minimum(pts.capsule_a[..., 2], pts.capsule_b[..., 2]) - robot.capsule_radius
    assert float(jnp.min(low)) > -1e-5
    assert float(jnp.min(pts.soles[..., 2])) > -1e-5
    assert float(jnp.max(jnp.min(pts.soles[..., 2], axis=(-1, -2)))) < 0.01


@pytest.mark.parametrize("name", ["unitree_g1", "unitree_h1", "booster_t1"])
def test_project_to_floor_lifts_only_the_frames_in_the_floor(name):
    """Random poses at random heights, on robots with box feet (G1, T1) and a box torso
    (H1): afterwards every frame's lowest primitive — each box by its own corners, rebuilt
    independently by the evaluation — or sole point is at ``z ≥ 0``; a frame that was clear
    keeps its root; the returned points are the lifted frames' own (no second FK needed)."""
    from retargetjax.evaluation import box_corners, box_rails

    robot = load_robot(name, verbose=False)
    rng = np.random.default_rng(3)
    T, N = 12, robot.num_joints
    q = rng.uniform(robot.joint_lower, robot.joint_upper, size=(T, N)).astype(np.float32)
    quat = rng.normal(size=(T, 4)).astype(np.float32)
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    root = np.concatenate([rng.normal(size=(T, 2)), rng.uniform(-0.5, 1.5, (T, 1))], -1)
    x = FrameState(jnp.asarray(root, jnp.float32), jnp.asarray(quat), jnp.asarray(q))
    before = np.asarray(lowest_height(robot, body_points(robot, x)))
    lifted, points = project_to_floor(robot, x)
    after = np.asarray(lowest_height(robot, body_points(robot, lifted)))
    assert np.all(after > -1e-5)
    clear = before >= 0
    assert clear.any() and (~clear).any()
    kept = np.asarray(lifted.root_pos)[clear]
    np.testing.assert_array_equal(kept, root[clear].astype(np.float32))
    np.testing.assert_allclose(after[~clear], 0.0, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(points.capsule_a), np.asarray(body_points(robot, lifted).capsule_a), atol=1e-5
    )
    p0, p1 = np.asarray(points.capsule_a, np.float64), np.asarray(points.capsule_b, np.float64)
    radius = np.asarray(robot.capsule_radius, np.float64)
    low = np.minimum(p0[..., 2], p1[..., 2]) - radius
    rails = box_rails(robot)
    assert rails  # every bundled robot has a box
    for box in rails:
        low[:, list(box)] = box_corners(p0, p1, radius, box)[..., 2].min(-1, keepdims=True)
    assert low.min() > -1e-5


def test_a_clip_with_a_part_on_the_floor_runs_more_iterations(robot):
    """A planted hand makes a clip a floor-contact clip (its refinement may run up to
    ``floor_contact_effort`` times its iterations until its feet are still); the same clip
    on its feet keeps the configured counts."""
    from retargetjax.retarget import SolverConfig
    from retargetjax.retarget._retarget import has_floor_contact

    names = tuple(robot.keypoint_names)
    kp = _rest_keypoints(robot, 30)
    contact = np.ones((30, 2), bool)
    contacts = detect_body_contacts(kp, names, 30.0)
    standing = build_problem(kp, names, contact, 30.0, robot, body_contacts=contacts)
    labels = np.zeros_like(np.asarray(contacts.labels, bool))
    labels[8:22, contacts.part_index("left_hand")] = True
    hand_down = build_problem(
        kp, names, contact, 30.0, robot, body_contacts=dataclasses.replace(contacts, labels=labels)
    )
    assert not has_floor_contact(standing) and has_floor_contact(hand_down)
    solver = SolverConfig(init_iterations=4, init_stride=2, iterations=5, floor_contact_effort=3)
    assert solver.for_clips(False) == solver
    hard = solver.for_clips(True)
    # Twice the refinement's steps, then on until the feet are still, to 3 x 5 in all.
    assert (hard.init_iterations, hard.iterations, hard.still_feet_effort) == (4, 10, 1.5)
    assert solver.still_feet_effort == 1
    # optax's optimisers have no per-clip stop: they run the multiplied count.
    adam = SolverConfig(optimizer="adam", iterations=5, floor_contact_effort=3)
    assert (adam.for_clips(True).iterations, adam.for_clips(True).still_feet_effort) == (15, 1)
    # Floor-contact clips solve every frame in the per-frame stage (no interpolated poses).
    assert solver.init_stride == 2 and hard.init_stride == 1
    # ... each from its neighbour's solution (warm-started stage 1).
    assert not solver.warm_start and hard.warm_start
    # ... whose cold-started chunks run their 30 steps: no early stop by tolerance.
    assert SolverConfig(init_tolerance=0.05).for_clips(True).init_tolerance == 0
    assert SolverConfig(iterations=5, floor_contact_effort=1).for_clips(True).iterations == 5
    # A walk's own still_feet_effort above the clip's is kept.
    assert (
        SolverConfig(still_feet_effort=4, floor_contact_effort=2).for_clips(True).still_feet_effort
        == 4
    )
    # Nothing to change (effort 1, no per-frame stage): the same settings, the same program.
    flat = SolverConfig(init_iterations=0, floor_contact_effort=1)
    assert flat.for_clips(True) is flat


def test_feet_still_is_judged_per_clip_on_the_soles_touching_the_floor(robot):
    """``feet_still`` (the refinement's stop with ``still_feet_effort``): per segment, no
    sole point touching the floor under a planted foot moves more than 6 mm per 30 fps
    frame. The robot stands on the floor and glides: 8 mm per frame in the first clip, 3 mm
    in the second, 8 mm again in a third lifted 5 cm (no point touches) and in a fourth whose
    human feet are up; at 120 fps the same 3 mm per frame is 12 mm per 30 fps frame."""
    from retargetjax.retarget import SolverConfig
    from retargetjax.retarget._problem import FrameData
    from retargetjax.retarget._solver import feet_still

    assert SolverConfig().still_step_mm == 6.0
    n = 6
    speeds = [0.008, 0.003, 0.008, 0.008]
    lifts = [0.0, 0.0, 0.05, 0.0]
    down = [1.0, 1.0, 1.0, 0.0]
    root, contact, mask = [], [], []
    for v, lift, c in zip(speeds, lifts, down):
        p = np.tile(np.asarray(robot.default_root_pos, np.float32), (n, 1))
        p[:, 0] += v * np.arange(n)
        p[:, 2] += lift
        root += [p, p[-1:]]
        contact += [np.full((n, 2), c), np.zeros((1, 2))]
        mask += [np.ones(n), np.zeros(1)]  # a masked frame between clips
    root = np.concatenate(root)
    W = root.shape[0]
    x = FrameState(
        jnp.asarray(root),
        jnp.tile(jnp.asarray([1.0, 0.0, 0.0, 0.0]), (W, 1)),
        jnp.tile(jnp.asarray(robot.default_joint_pos, jnp.float32), (W, 1)),
    )
    soles = np.asarray(body_points(robot, x).soles)
    x = x._replace(root_pos=x.root_pos.at[:, 2].add(-float(soles[:n, ..., 2].min())))
    frames = FrameData(
        None,
        None,
        None,
        None,
        None,
        jnp.asarray(np.concatenate(contact)),
        jnp.asarray(np.concatenate(mask)),
    )
    still = np.asarray(feet_still(robot, frames, jnp.asarray(30.0), x))
    np.testing.assert_array_equal(still[:4], [False, True, True, True])
    assert still[4:].all()  # ids of no segment
    fast = np.asarray(feet_still(robot, frames, jnp.asarray(120.0), x))
    np.testing.assert_array_equal(fast[:4], [False, False, True, True])
    no_labels = frames._replace(contact=None)
    assert np.asarray(feet_still(robot, no_labels, jnp.asarray(30.0), x)).all()

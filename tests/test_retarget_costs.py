"""Cost terms: known answers on hand-made inputs, and gradients against finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from retargetjax.retarget import _costs as costs

_cost = costs.sum_of_squares


def test_slip_cost_known_speed():
    T, P = 10, 4
    soles = np.zeros((T, 2, P, 3))
    soles[:, 0, :, 0] = 0.01 * np.arange(T)[:, None]  # left sole slides 1 cm per frame
    contact = np.zeros((T, 2))
    contact[:, 0] = 1.0
    contact[5:, 0] = 0.0  # only frames 0..4 in contact → 4 sliding steps
    contact = np.repeat(contact[:, :, None], P, axis=2)
    cost = float(_cost(costs.slip_residual(soles, contact, np.ones(T))))
    assert cost == pytest.approx(4 * P * 0.01**2)
    # Masked frames do not count.
    mask = np.ones(T)
    mask[:3] = 0
    assert float(_cost(costs.slip_residual(soles, contact, mask))) == pytest.approx(1 * P * 0.01**2)


def test_slip_weighs_sole_points_on_the_floor_more_than_labelled_points_in_the_air():
    """A point touching the floor while the human's foot is down weighs SLIP_TOUCH_WEIGHT; a
    point the labels hold but that is above the floor (a heel over planted toes) weighs 1;
    a point off the floor without a label is free."""
    T, P = 6, 3
    soles = np.zeros((T, 2, P, 3))
    soles[:, 0, :, 0] = 0.01 * np.arange(T)[:, None]  # left sole slides 1 cm per frame
    soles[:, 0, 1, 2] = 0.10  # point 1 is 10 cm up (labelled down)
    soles[:, 0, 2, 2] = 0.10  # point 2 is 10 cm up and not labelled
    label = np.zeros((T, 2, P))
    label[:, 0, :2] = 1.0
    foot = np.zeros((T, 2))
    foot[:, 0] = 1.0
    gate = np.asarray(costs.slip_gate(soles, label, np.ones(T), foot))
    np.testing.assert_allclose(gate[:, 0, 0], costs.SLIP_TOUCH_WEIGHT)
    np.testing.assert_allclose(gate[:, 0, 1], 1.0)
    np.testing.assert_allclose(gate[:, 0, 2], 0.0)
    assert np.all(gate[:, 1] == 0.0)
    cost = float(_cost(costs.slip_residual(soles, label, np.ones(T), foot)))
    assert cost == pytest.approx((T - 1) * (costs.SLIP_TOUCH_WEIGHT + 1.0) * 0.01**2)


def test_slip_weight_on_the_floor_spares_a_contacts_first_and_last_frames():
    """Within SLIP_TOUCH_EDGE_S of a touchdown or a lift-off a touching point weighs 1; in
    the contact's interior (and where the contact runs past the window) it weighs more."""
    T, P, fps = 30, 1, 30.0
    soles = np.zeros((T, 2, P, 3))
    foot = np.zeros((T, 2))
    foot[:, 0] = 1.0  # left foot down all window long
    foot[8:24, 1] = 1.0  # right foot down over frames 8..23
    gate = np.asarray(costs.slip_gate(soles, np.zeros((T, 2, P)), np.ones(T), foot, fps))
    np.testing.assert_allclose(gate[:, 0, 0], costs.SLIP_TOUCH_WEIGHT)
    edge = costs.SLIP_TOUCH_EDGE_S * fps  # frames
    right = gate[:, 1, 0]
    for t in range(T - 1):  # step t couples frames t, t + 1
        if not (foot[t, 1] and foot[t + 1, 1]):
            assert right[t] == 0.0
        elif t - 7 > edge and 24 - (t + 1) > edge:
            assert right[t] == pytest.approx(costs.SLIP_TOUCH_WEIGHT), t
        else:
            assert right[t] == 1.0, t
    assert np.sum(right == costs.SLIP_TOUCH_WEIGHT) > 0


def test_smoothness_constant_velocity_has_no_acceleration():
    T = 12
    q = np.linspace(0, 1.1, T)[:, None] * np.ones((1, 3))
    root = np.zeros((T, 3))
    quat = np.tile([1.0, 0, 0, 0], (T, 1))
    cost = float(_cost(costs.smoothness_residual(q, root, quat, np.ones(T), 30.0)))
    dq = 0.1
    assert cost == pytest.approx(0.1 * (T - 1) * 3 * dq**2, rel=1e-4)
    # At 60 fps the same per-frame motion is half as fast per 1/30 s: velocity cost / 4.
    cost60 = float(_cost(costs.smoothness_residual(q, root, quat, np.ones(T), 60.0)))
    assert cost60 == pytest.approx(cost / 4, rel=1e-4)


def test_velocity_limit_cost_known_excess():
    fps = 30.0
    q = (np.arange(5) * (2.0 / fps))[:, None]  # 2 rad/s
    limit = np.array([1.5])
    cost = float(_cost(costs.velocity_limit_residual(q, limit, np.ones(5), fps)))
    assert cost == pytest.approx(4 * (0.5 / fps) ** 2, rel=1e-5)
    assert (
        float(_cost(costs.velocity_limit_residual(q, np.array([np.inf]), np.ones(5), fps))) == 0.0
    )


def test_ground_residual_depth():
    a = np.array([[0.0, 0.0, 0.05], [0.0, 0.0, 0.5]])
    b = np.array([[0.1, 0.0, 0.02], [0.0, 0.0, 0.6]])
    r = np.array([0.05, 0.05])
    soles = np.full((2, 4, 3), 0.01)
    m = costs.GROUND_MARGIN_M
    res = np.asarray(costs.ground_residual(soles, a, b, r))
    np.testing.assert_allclose(res[:2], [-0.03 - m, 0.0], atol=1e-7)
    np.testing.assert_allclose(res[2:], 0.0)


def test_ground_margin_pushes_points_about_to_touch_and_holds_contacts_on_it():
    """A point between the floor and the margin is already pushed up (it is in the
    Gauss-Newton model before it crosses z = 0); a planted sole point resting on the margin
    has no contact residual, and one on z = 0 is pulled up to it, not down."""
    m = costs.GROUND_MARGIN_M
    assert 0.0 < m < 0.005  # the floor tolerance is 5 mm
    soles = np.zeros((2, 4, 3))
    soles[0, :, 2] = 0.5 * m
    soles[1, :, 2] = m
    a = b = np.array([[0.0, 0.0, 0.05]])
    res = np.asarray(costs.ground_residual(soles, a, b, np.array([0.05 - 0.5 * m])))
    np.testing.assert_allclose(res[0], -0.5 * m, atol=1e-7)  # capsule bottom at m/2
    np.testing.assert_allclose(res[1:5], -0.5 * m, atol=1e-7)
    np.testing.assert_allclose(res[5:], 0.0, atol=1e-7)
    contact = np.ones((2, 4))
    height = np.asarray(costs.contact_height_residual(soles, contact)).reshape(2, 4)
    np.testing.assert_allclose(height[1], 0.0, atol=1e-7)
    assert np.all(height[0] < 0.0)


def test_self_collision_cost_known_overlap():
    a = np.array([[0.0, 0, 0], [0.0, 0.15, 0]])
    b = np.array([[1.0, 0, 0], [1.0, 0.15, 0]])
    r = np.array([0.1, 0.1])
    pairs = np.array([[0, 1]])
    pen = 0.2 + costs.SELF_COLLISION_MARGIN - 0.15
    assert float(_cost(costs.self_collision_residual(a, b, r, pairs))) == pytest.approx(
        pen**2, rel=1e-4
    )


def _fd_check(f, x, eps=1e-6, rtol=1e-4, atol=1e-7):
    g = np.asarray(jax.grad(f)(x))
    flat = np.asarray(x).ravel()
    num = np.zeros_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = eps
        num[i] = (
            f(jnp.asarray((flat + e).reshape(x.shape)))
            - f(jnp.asarray((flat - e).reshape(x.shape)))
        ) / (2 * eps)
    np.testing.assert_allclose(g.ravel(), num, rtol=rtol, atol=atol)


def test_gradients_match_finite_differences(x64):
    rng = np.random.default_rng(0)
    T = 6
    contact = (rng.random((T, 2, 3)) > 0.3).astype(np.float64)
    _fd_check(
        lambda s: _cost(costs.slip_residual(s, contact, jnp.ones(T))), rng.normal(size=(T, 2, 3, 3))
    )
    quat = rng.normal(size=(T, 4))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    _fd_check(
        lambda q: _cost(
            costs.smoothness_residual(q, jnp.zeros((T, 3)), jnp.asarray(quat), jnp.ones(T), 30.0)
        ),
        rng.normal(size=(T, 4)),
    )
    a0 = rng.normal(size=(4, 3)) * 0.1
    r = np.full(4, 0.08)
    pairs = np.array([[0, 1], [0, 2], [1, 3], [2, 3]])
    _fd_check(lambda a: _cost(costs.self_collision_residual(a, a + 0.05, r, pairs)), a0)


def test_cost_by_first_frame_splits_a_temporal_cost_by_frame():
    """Steps are counted at the first frame they span; the split sums to the cost."""
    T = 7
    rng = np.random.default_rng(3)
    q = rng.normal(size=(T, 2))
    quat = np.tile([1.0, 0, 0, 0], (T, 1))
    mask = np.ones(T)
    mask[4] = 0.0  # a gap: rows crossing frame 4 vanish
    steps = costs.smoothness_residual(q, np.zeros((T, 3)), quat, mask, 30.0)
    split = np.asarray(costs.cost_by_first_frame(steps, T))
    assert split.shape == (T,)
    assert float(np.sum(split)) == pytest.approx(float(_cost(steps)), rel=1e-6)
    assert split[4] == 0.0 and split[3] == 0.0 and split[2] > 0  # rows 2..4, 3..5 hit the gap
    assert costs.flatten(steps).shape == (sum(np.size(r) for r in steps),)


def _landings(T: int, left_from: int, right_gap: tuple[int, int]) -> np.ndarray:
    """(T, 2) foot contacts: the left foot lands at ``left_from``; the right foot is down
    from the first frame, lifts over ``[gap[0], gap[1])`` and lands again at ``gap[1]``."""
    contact = np.zeros((T, 2))
    contact[left_from:, 0] = 1.0
    contact[:, 1] = 1.0
    contact[right_gap[0] : right_gap[1], 1] = 0.0
    return contact


@pytest.mark.parametrize("fps, reach", [(30.0, 1), (120.0, 4), (60.0, 2)])
def test_touchdown_relief_marks_the_rows_around_each_landing(fps, reach):
    T = 40
    contact = _landings(T, left_from=10, right_gap=(18, 25))
    w = np.asarray(costs.touchdown_relief(jnp.asarray(contact), jnp.ones(T), jnp.asarray(fps)))
    assert w.shape == (T - 2,)
    centres = np.arange(1, T - 1)  # row t is centred on frame t + 1
    near = (np.abs(centres - 10) <= reach) | (np.abs(centres - 25) <= reach)
    np.testing.assert_allclose(w, np.where(near, costs.TOUCHDOWN_ACCEL_WEIGHT, 1.0))
    # A clip that starts in contact, a foot lifting, no contacts: no landing, no relief.
    assert np.all(np.asarray(costs.touchdown_relief(jnp.ones((T, 2)), jnp.ones(T), fps)) == 1)
    np.testing.assert_array_equal(costs.touchdown_relief(None, jnp.ones(T), fps), np.ones(T - 2))
    # A contact that begins right after padding (a packed clip's first frame) is no landing.
    mask = np.ones(T)
    mask[:10] = 0.0
    w = np.asarray(costs.touchdown_relief(jnp.asarray(contact), jnp.asarray(mask), fps))
    np.testing.assert_allclose(
        w, np.where(np.abs(centres - 25) <= reach, costs.TOUCHDOWN_ACCEL_WEIGHT, 1.0)
    )
    # A foot put down while a hand or a knee holds the body (a get-up) is placed, not
    # landed: no relief there; body parts in contact elsewhere change nothing.
    parts = np.zeros((T, 3))
    parts[5:12, 1] = 1.0  # a knee down around the left foot's landing at frame 10
    parts[30:, 2] = 0.4  # a hand ramping in after both landings
    w = np.asarray(
        costs.touchdown_relief(jnp.asarray(contact), jnp.ones(T), fps, jnp.asarray(parts))
    )
    np.testing.assert_allclose(
        w, np.where(np.abs(centres - 25) <= reach, costs.TOUCHDOWN_ACCEL_WEIGHT, 1.0)
    )


def test_smoothness_lets_a_landing_foot_stop_abruptly():
    """A joint that stops dead at a touchdown pays the acceleration weight ``ρ`` there; the
    same stop away from any landing, and the root's stop, pay in full."""
    T, N = 20, 3
    q = np.zeros((T, N))
    q[:10] = (0.1 * np.arange(10) - 0.9)[:, None]  # moving 0.1 rad per frame, stops at frame 9
    root = np.zeros((T, 3))
    quat = np.tile([1.0, 0, 0, 0], (T, 1))
    landing = _landings(T, left_from=9, right_gap=(0, 0))  # the left foot lands at frame 9
    elsewhere = _landings(T, left_from=16, right_gap=(0, 0))

    def acceleration(contact, joint_pos, root_pos):
        steps = costs.smoothness_residual(joint_pos, root_pos, quat, np.ones(T), 30.0, contact)
        return float(_cost(steps[2])), float(_cost(steps[3]))

    full, _ = acceleration(elsewhere, q, root)
    assert full == pytest.approx(N * 0.1**2, rel=1e-5)  # one row: Δ²q = 0.1 at frame 9
    relieved, _ = acceleration(landing, q, root)
    assert relieved == pytest.approx(costs.TOUCHDOWN_ACCEL_WEIGHT * full, rel=1e-5)
    _, root_full = acceleration(elsewhere, q, q)
    _, root_landing = acceleration(landing, q, q)
    assert root_landing == pytest.approx(root_full, rel=1e-6) and root_full > 0

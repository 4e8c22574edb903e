"""Floating frames: human in contact, robot feet all above 2 cm."""

import numpy as np
import pytest

from retargetjax.evaluation import floating_frames, floating_metrics


def test_known_floating_frames():
    T = 6
    soles = np.zeros((T, 2, 4, 3))
    soles[..., 2] = 0.05
    soles[1, 0, 2, 2] = 0.019  # one heel point within 2 cm: not floating
    soles[2, 1, :, 2] = -0.01  # below the floor counts as touching
    contact = np.ones((T, 2), bool)
    contact[5] = False  # human in the air: never floating
    np.testing.assert_array_equal(floating_frames(soles, contact), [1, 0, 0, 1, 1, 0])
    m = floating_metrics(soles, contact)
    assert m["floating_frames"] == 3
    assert m["floating_frames_frac"] == pytest.approx(3 / 5)


def test_no_human_contact_is_zero():
    m = floating_metrics(np.ones((3, 2, 4, 3)), np.zeros((3, 2), bool))
    assert m["floating_frames_frac"] == 0.0

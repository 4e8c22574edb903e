"""Contact source resolution, time alignment and the robot-foot fallback."""

import numpy as np
import pytest

from retargetjax.evaluation import align_contact, robot_foot_contact


def test_align_same_length_and_resampled():
    c = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    np.testing.assert_array_equal(align_contact(c, 4, 30.0), c.astype(bool))
    # 30 fps labels onto a 60 fps clip of the same span (7 frames)
    out = align_contact(c, 7, 60.0, contact_fps=30.0)
    np.testing.assert_array_equal(out[:, 0], [1, 1, 1, 0, 0, 0, 0])  # ties round up
    # unknown rate: spread over the same span
    out = align_contact(c, 7, 60.0)
    assert out.shape == (7, 2)
    assert out[0, 0] and out[-1, 1]


def test_align_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        align_contact(np.zeros((4, 3)), 4, 30.0)


def test_robot_contact_height_and_speed():
    T = 8
    soles = np.zeros((T, 2, 4, 3))
    soles[:, 0, :, 2] = 0.01  # left low and still: contact
    soles[:, 1, :, 2] = 0.01
    soles[:, 1, :, 0] = np.arange(T)[:, None] * 0.05  # right low but 1.5 m/s at 30 fps
    soles[4:, 0, :, 2] = 0.03  # left lifted from frame 4
    c = robot_foot_contact(soles, 30.0)
    np.testing.assert_array_equal(c[:, 0], [1, 1, 1, 1, 0, 0, 0, 0])
    assert not c[:, 1].any()

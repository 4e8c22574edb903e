"""Keypoint error and Procrustes alignment on known offsets and rotations."""

import numpy as np
import pytest

from retargetjax.evaluation import keypoint_error_metrics, procrustes_align

NAMES = ("pelvis", "left_knee", "left_ankle", "right_wrist", "head")


def _points(T=4):
    rng = np.random.default_rng(0)
    return rng.normal(size=(T, len(NAMES), 3))


def test_constant_offset():
    x = _points()
    y = x + np.array([0.03, 0.04, 0.0])  # 5 cm everywhere
    m = keypoint_error_metrics(x, y, NAMES)
    assert m["keypoint_error_mean_m"] == pytest.approx(0.05)
    assert m["keypoint_error_p95_m"] == pytest.approx(0.05)
    assert m["keypoint_error_left_ankle_m"] == pytest.approx(0.05)
    assert m["keypoint_error_procrustes_mean_m"] == pytest.approx(0.0, abs=1e-9)


def test_rotation_is_removed_by_procrustes_but_not_reflection():
    x = _points()
    c, s = np.cos(0.5), np.sin(0.5)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    y = x @ R.T + 1.0
    m = keypoint_error_metrics(x, y, NAMES)
    assert m["keypoint_error_mean_m"] > 0.1
    assert m["keypoint_error_procrustes_mean_m"] == pytest.approx(0.0, abs=1e-9)
    mirrored = x * np.array([1, -1, 1])
    aligned = procrustes_align(x, mirrored)
    assert np.abs(aligned - mirrored).max() > 1e-3  # a reflection is not a rotation


def test_weights_select_keypoints_and_hands_feet():
    x = _points()
    y = x.copy()
    y[:, 2] += [0.1, 0, 0]  # left_ankle off by 10 cm
    y[:, 4] += [0, 0, 1.0]  # head off by 1 m but untracked
    m = keypoint_error_metrics(x, y, NAMES, target_weight=[1, 1, 1, 1, 0])
    assert "keypoint_error_head_m" not in m
    assert m["keypoint_error_mean_m"] == pytest.approx(0.1 / 4)
    assert m["keypoint_error_hands_feet_mean_m"] == pytest.approx(0.05)  # ankle and wrist
    assert m["keypoint_error_left_ankle_m"] == pytest.approx(0.1)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        keypoint_error_metrics(_points(), _points(3), NAMES)

"""Foot contacts and floor height on a synthetic gait over a raised floor."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import HumanMotion, estimate_floor_height, foot_contacts, map_keypoints

NAMES = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_foot", "right_foot", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)  # fmt: skip


def _gait(floor_z: float, fps: float = 60.0, seconds: float = 4.0):
    """Feet alternate: 0.5 s planted, 0.5 s swinging 12 cm up and forward at 1.2 m/s."""
    T = int(seconds * fps)
    t = np.arange(T) / fps
    pos = np.zeros((T, len(NAMES), 3), np.float32)
    truth = np.zeros((T, 2), bool)
    for s, phase in enumerate((0.0, 0.5)):
        cycle = ((t + phase) % 1.0) / 1.0
        stance = cycle < 0.5
        swing = np.clip((cycle - 0.5) / 0.5, 0, 1)
        lift = np.where(stance, 0.0, 0.12 * np.sin(np.pi * swing))
        side = "left" if s == 0 else "right"
        for name, h in ((f"{side}_ankle", 0.08), (f"{side}_foot", 0.03)):
            j = NAMES.index(name)
            pos[:, j, 0] = 0.6 * np.floor(t + phase) + 0.6 * swing
            pos[:, j, 1] = 0.1 if s == 0 else -0.1
            pos[:, j, 2] = floor_z + h + lift
        truth[:, s] = stance
    for j, name in enumerate(NAMES):
        if "ankle" not in name and "foot" not in name:
            pos[:, j, 2] = floor_z + 1.0
    motion = HumanMotion(
        fps=fps, joint_names=NAMES, parents=-np.ones(len(NAMES), int), positions=pos
    )
    return motion, truth


@pytest.mark.parametrize("floor_z", [0.0, 0.35, -1.2])
def test_contacts_follow_stance_on_any_floor(floor_z):
    motion, truth = _gait(floor_z)
    kp = map_keypoints(motion, verbose=False)
    assert kp.as_dict()["left_toe"] == "left_foot"
    contacts = foot_contacts(motion, kp)
    agreement = np.mean(contacts == truth)
    assert agreement > 0.9, agreement
    # Estimated floor: the planted toe joint level, 3 cm above the true floor.
    assert estimate_floor_height(motion, kp) == pytest.approx(floor_z + 0.03, abs=1e-3)


def test_hysteresis_holds_through_jitter():
    """Speed jitter between the enter and leave thresholds does not flicker the label."""
    motion, _ = _gait(0.0)
    pos = motion.positions.copy()
    # Left foot planted throughout, with a 6-frame wobble whose apparent speed alternates
    # between 0 and 0.5 m/s: above the enter speed (0.35), below the leave speed (0.7).
    d = 0.5 * 2 / motion.fps
    wobble = np.array([0.0, 0.0, 0.0, d, d, 0.0])[np.arange(len(pos)) % 6]
    for name, h in (("left_ankle", 0.08), ("left_foot", 0.03)):
        j = NAMES.index(name)
        pos[:, j] = [0.0, 0.1, h]
        pos[:, j, 0] += wobble
    jittery = motion.replace(positions=pos)
    speed = (
        np.linalg.norm(np.gradient(pos[:, NAMES.index("left_foot")], axis=0), axis=-1) * motion.fps
    )
    naive = speed < 0.35
    assert naive.mean() < 0.6  # a plain threshold would flicker
    contacts = foot_contacts(jittery)
    assert contacts[:, 0].mean() > 0.98

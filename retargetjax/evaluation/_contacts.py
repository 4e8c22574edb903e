"""Which foot contact labels the metrics use: the human's, or a fallback from the robot."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..types import NDArray

__all__ = [
    "ROBOT_CONTACT_HEIGHT_M",
    "ROBOT_CONTACT_SPEED_MPS",
    "align_contact",
    "resolve_contact",
    "robot_foot_contact",
]

#: Fallback contact: a sole point below this height (m)...
ROBOT_CONTACT_HEIGHT_M = 0.02
#: ...and the sole centre moving horizontally slower than this (m/s).
ROBOT_CONTACT_SPEED_MPS = 0.5


def robot_foot_contact(sole_points: NDArray, fps: float) -> NDArray:
    """(T, 2) bool fallback contacts from the robot's own feet, for clips without human labels.

    Foot ``f`` is in contact at frame ``t`` when its lowest sole point is below
    ``ROBOT_CONTACT_HEIGHT_M`` = 2 cm, ``min_p z_tfp < 0.02``, and its sole centre
    ``c_tf = mean_p x_tfp`` moves horizontally slower than ``ROBOT_CONTACT_SPEED_MPS`` =
    0.5 m/s (central differences): a foot sweeping fast just above the floor is swinging,
    not standing. The speed gate is loose on purpose, so that the skating it is meant to
    catch (a few mm per frame) still counts as contact.
    """
    soles = np.asarray(sole_points, np.float64)
    low = soles[..., 2].min(axis=-1) < ROBOT_CONTACT_HEIGHT_M
    centre = soles.mean(axis=-2)[..., :2]  # (T, 2, 2)
    if centre.shape[0] < 2:
        return low
    speed = np.linalg.norm(np.gradient(centre, axis=0), axis=-1) * float(fps)
    return low & (speed < ROBOT_CONTACT_SPEED_MPS)


def align_contact(
    contact: Any, num_frames: int, fps: float, contact_fps: float | None = None
) -> NDArray:
    """Contact labels (Tc, 2) brought to a clip of ``num_frames`` frames at ``fps``.

    Same length: unchanged. Otherwise each frame ``t`` takes the label nearest in time,
    ``c[⌊t · contact_fps / fps + ½⌋]`` when ``contact_fps`` is known, else
    ``c[⌊t · (Tc − 1) / (T − 1) + ½⌋]`` (both clips span the same time), clipped to the range.
    """
    c = np.asarray(contact, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"contact: expected shape (T, 2) [left, right], got {c.shape}")
    c = c > 0.5
    if c.shape[0] == num_frames:
        return c
    if c.shape[0] == 0:
        raise ValueError("contact: expected at least one frame of labels, got none")
    t = np.arange(num_frames, dtype=np.float64)
    if contact_fps:
        index = np.floor(t * float(contact_fps) / float(fps) + 0.5)
    elif num_frames > 1:
        index = np.floor(t * (c.shape[0] - 1) / (num_frames - 1) + 0.5)
    else:
        index = np.zeros(1)
    return c[np.clip(index.astype(np.int64), 0, c.shape[0] - 1)]


def resolve_contact(motion: Any, sole_points: NDArray, contact: Any = None) -> tuple[NDArray, str]:
    """The (T, 2) bool contacts to use and where they came from.

    In order: ``contact`` when given (``"given"``), ``motion.metadata["contact"]`` — the human
    contacts retargetjax's solver used (``"metadata"``; time-aligned with
    :func:`align_contact` when the output was resampled, using
    ``metadata["resampled_from_fps"]``) — else :func:`robot_foot_contact` (``"robot"``).
    """
    num_frames = int(motion.joint_pos.shape[0])
    if contact is not None:
        return align_contact(contact, num_frames, motion.fps), "given"
    meta = motion.metadata.get("contact") if isinstance(motion.metadata, dict) else None
    if meta is not None and len(meta) > 0:
        src_fps = motion.metadata.get("resampled_from_fps")
        return align_contact(meta, num_frames, motion.fps, src_fps), "metadata"
    return robot_foot_contact(sole_points, motion.fps), "robot"

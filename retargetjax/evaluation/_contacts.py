"""Which foot contact labels the metrics use (the human's, or a fallback from the robot), and
how still the robot holds the other body parts the human has on the floor."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..types import NDArray

__all__ = [
    "PLANTED_LIMB_PARTS",
    "ROBOT_CONTACT_HEIGHT_M",
    "ROBOT_CONTACT_SPEED_MPS",
    "align_contact",
    "body_contact_metrics",
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


#: Parts that should stay still while planted (hands, elbows, knees; the trunk may roll).
PLANTED_LIMB_PARTS: tuple[str, ...] = (
    "left_hand",
    "right_hand",
    "left_elbow",
    "right_elbow",
    "left_knee",
    "right_knee",
)


def body_contact_metrics(
    robot_keypoints: NDArray,
    robot_keypoint_names: tuple[str, ...],
    contacts: Any,
    fps: float,
) -> dict[str, float]:
    """How still the robot holds the body parts that the human has planted.

    ``contacts`` is a :class:`retargetjax.motion.BodyContacts` at the robot clip's frames.
    For each part ``p`` of :data:`PLANTED_LIMB_PARTS` let ``y_p(t)`` be the mean of the
    robot keypoints of the part's canonical keypoints (``left_wrist``/``left_hand`` for the
    left hand; parts the robot lacks are skipped). Over the steps where the human's part is
    down at both ends, ``S = {(t, p) : c_tp ∧ c_{t+1,p}}``, the horizontal displacement
    ``u_tp = ‖y_p(t+1) − y_p(t)‖_xy · fps · 1000 / 30`` (mm per 30 fps frame) gives

    - ``body_contact_slide_mean_mm_per_frame``: ``mean_S u``;
    - ``body_contact_slide_max_mm_per_frame``: ``max_S u``;
    - ``body_contact_steps``: ``|S|`` (informational);
    - ``body_contact_parts``: number of parts (any, feet and trunk included) with a contact
      span (informational).

    0 where ``S`` is empty.
    """
    from ..motion import BODY_PARTS

    kps = np.asarray(robot_keypoints, np.float64)
    names = tuple(robot_keypoint_names)
    labels = np.asarray(contacts.labels, bool)
    values = []
    for part in PLANTED_LIMB_PARTS:
        if part not in contacts.parts:
            continue
        cols = [names.index(k) for k in BODY_PARTS[part] if k in names]
        if not cols or kps.shape[0] < 2:
            continue
        y = kps[:, cols].mean(axis=1)
        c = labels[:, contacts.part_index(part)]
        step = np.linalg.norm(np.diff(y[:, :2], axis=0), axis=-1)
        values.append(step[c[:-1] & c[1:]])
    u = np.concatenate(values) * float(fps) * 1000.0 / 30.0 if values else np.zeros(0)
    return {
        "body_contact_slide_mean_mm_per_frame": float(u.mean()) if u.size else 0.0,
        "body_contact_slide_max_mm_per_frame": float(u.max()) if u.size else 0.0,
        "body_contact_steps": float(u.size),
        "body_contact_parts": float(labels.any(axis=0).sum()),
    }

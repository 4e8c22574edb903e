"""The human side of an evaluation: scaled keypoint targets, foot contacts and the contacts
of every body part of a clip."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ..types import NDArray
from ._contacts import align_contact

__all__ = ["HumanReference", "human_reference", "solved_keypoint_override"]


@dataclasses.dataclass(frozen=True)
class HumanReference:
    """What a robot clip is graded against, at the robot clip's frame rate and length."""

    #: Path of the human source motion.
    source: str
    #: (T, K, 3) scaled human keypoint targets in ``robot.keypoint_names`` order (m).
    targets: NDArray
    #: (K,) target weights; 0 where the human lacks the keypoint (not scored).
    target_weight: NDArray
    #: (T, 2) bool human foot contacts ``[left, right]``.
    contact: NDArray
    #: (T, J, 3) the human's canonical keypoints in their own size (m), for drawing.
    human_keypoints: NDArray
    #: Canonical names of ``human_keypoints``.
    human_keypoint_names: tuple[str, ...]
    #: Contacts of every body part of the human (a ``retargetjax.motion.BodyContacts``) at
    #: the robot clip's frames, or ``None``.
    body_contacts: Any = None


def solved_keypoint_override(metadata: Any) -> dict[str, str] | None:
    """The human keypoint mapping a retargetjax output was solved with, where a keypoint
    override shaped it (``metadata["mapping"]["human"]``, rig ``…+override``), as an
    override for :func:`human_reference`; ``None`` otherwise (the default mapping)."""
    try:
        human = metadata["mapping"]["human"]
        if "+override" not in str(human.get("rig", "")):
            return None
        return {k: str(v["joint"]) for k, v in human["keypoints"].items()}
    except (KeyError, TypeError, AttributeError):
        return None


def _time_index(num_frames: int, fps: float, num_source: int, source_fps: float) -> NDArray:
    t = np.arange(num_frames, dtype=np.float64)
    index = np.floor(t * source_fps / fps + 0.5).astype(np.int64)
    return np.clip(index, 0, num_source - 1)


def human_reference(
    source: str | os.PathLike[str] | Any,
    robot: Any,
    num_frames: int,
    fps: float,
    *,
    config: Any = None,
    keypoint_override: Any = None,
) -> HumanReference:
    """Targets and contacts of human clip ``source`` for a robot clip of ``num_frames`` at ``fps``.

    ``source`` is a motion file (any format :func:`retargetjax.motion.load_motion` reads) or a
    ``HumanMotion``. The targets are exactly what retargetjax's solver tracks:
    :func:`retargetjax.retarget.prepare_problem` with the default
    :class:`~retargetjax.retarget.RetargetConfig` (or ``config``) solved at ``fps`` — so every
    tool's output of the same clip is scored against the same targets. When the problem's
    length differs from ``num_frames`` (another tool's resampling), each robot frame takes the
    nearest target frame in time, ``⌊t · fps_problem / fps + ½⌋``. ``keypoint_override`` (a
    ``canonical: joint`` YAML file or mapping) is the one the solve used, if any.
    """
    from ..motion import body_contacts, load_motion, map_keypoints
    from ..retarget import RetargetConfig, prepare_problem

    motion = source if hasattr(source, "positions") else load_motion(source)
    base = config or RetargetConfig()
    config = base.model_copy(update={"solver": base.solver.model_copy(update={"fps": float(fps)})})
    problem = prepare_problem(motion, robot, config, keypoint_override=keypoint_override)
    index = _time_index(num_frames, fps, problem.num_frames, problem.fps)
    if abs(motion.fps - problem.fps) > 1e-6 and motion.num_frames > 1:
        motion = motion.resample(problem.fps)
    kp = map_keypoints(motion, override=keypoint_override, verbose=False)
    human = np.asarray(kp.positions(motion), np.float32)
    human_index = np.clip(index, 0, human.shape[0] - 1)
    contacts = body_contacts(motion, kp).take(human_index, fps=fps)
    return HumanReference(
        source=str(getattr(motion, "source", None) or source),
        targets=np.asarray(problem.target_keypoints, np.float32)[index],
        target_weight=np.asarray(problem.keypoint_weight, np.float32),
        contact=align_contact(np.asarray(problem.contact)[index], num_frames, fps),
        human_keypoints=human[human_index],
        human_keypoint_names=tuple(kp.names),
        body_contacts=contacts,
    )

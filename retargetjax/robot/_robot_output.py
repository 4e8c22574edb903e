"""A robot as outputs record it: the JSON-safe keypoint mapping written to an output's
metadata (:func:`robot_mapping`), and the robot an output was made with, checked against its
recorded file and content hash (:func:`robot_for_output`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..types import RobotKind
from ._description import RobotFileError
from ._model import RobotModel
from ._registry import file_sha256, load_robot

__all__ = ["robot_for_output", "robot_mapping"]


def robot_mapping(model: RobotModel) -> dict[str, Any]:
    """JSON-safe ``{keypoints: {canonical: {body, offset, reason}}, feet, missing}``."""
    from ..keypoints import CANONICAL_KEYPOINTS

    reasons = model.keypoint_reason or ("?",) * len(model.keypoint_names)
    offsets = np.asarray(model.keypoint_offset, np.float64)
    return {
        "keypoints": {
            k: {
                "body": model.body_names[b],
                "offset": np.round(offsets[i], 4).tolist(),
                "reason": reasons[i],
            }
            for i, (k, b) in enumerate(zip(model.keypoint_names, model.keypoint_body))
        },
        "feet": [model.body_names[b] for b in model.foot_body],
        "missing": [k for k in CANONICAL_KEYPOINTS if k not in model.keypoint_names],
    }


def robot_for_output(
    metadata: dict[str, Any],
    robot: str | Path | RobotModel | None = None,
    *,
    where: str = "output",
) -> RobotModel | None:
    """The robot an output was made with, from its metadata and an optional ``robot=``.

    Outputs record ``robot`` (the model's name), and for a robot read from a file
    ``robot_file`` (its path) and ``robot_sha256`` (its content hash). ``robot`` may be
    ``None`` (use the recorded file, or the bundled robot of that name), a bundled robot's
    name, the same file's path, or a model. Returns ``None`` when neither names a robot.

    Raises:
        RobotFileError: the recorded file is gone or changed (one line saying which, and
            what to pass), or ``robot=`` names another robot than the output's.
    """
    recorded_name = metadata.get("robot")
    recorded_file = metadata.get("robot_file")
    recorded_hash = metadata.get("robot_sha256")
    if isinstance(robot, RobotModel):
        return robot
    if robot is None:
        if recorded_file and recorded_name not in {k.value for k in RobotKind}:
            path = Path(str(recorded_file))
            if not path.is_file():
                raise RobotFileError(
                    f"{where}: the robot file {path} it was made with has moved or is gone; "
                    "expected it there, or pass robot=<its new path>"
                )
            _check_hash(path, recorded_hash, where)
            return load_robot(path, verbose=False)
        if recorded_name and recorded_name != "unknown":
            return load_robot(recorded_name, verbose=False)
        return None
    text = str(robot)
    if text in {k.value for k in RobotKind}:
        if recorded_name and recorded_name not in (text, "unknown"):
            raise RobotFileError(
                f"{where}: made with robot {recorded_name!r}; expected robot={recorded_name} "
                f"(or its file), not {text!r}"
            )
        return load_robot(text, verbose=False)
    path = Path(text)
    if not path.is_file():
        raise RobotFileError(f"{where}: robot={text}: no such file; expected a robot file")
    same_path = bool(recorded_file) and path.resolve() == Path(str(recorded_file)).resolve()
    if not same_path and recorded_hash and file_sha256(path) != recorded_hash:
        made_with = (
            f"{recorded_file} (robot {recorded_name!r})" if recorded_file else "another file"
        )
        raise RobotFileError(
            f"{where}: made with robot file {made_with}, but robot={text} is a different file "
            "(content hash differs); expected that file, or an identical copy of it"
        )
    _check_hash(path, recorded_hash, where)
    model = load_robot(path, verbose=False)
    if recorded_name and recorded_name not in ("unknown", model.name):
        raise RobotFileError(
            f"{where}: made with robot {recorded_name!r}, but {path} is robot {model.name!r}; "
            "expected the file the output was made with"
        )
    return model


def _check_hash(path: Path, recorded: Any, where: str) -> None:
    if recorded and file_sha256(path) != recorded:
        raise RobotFileError(
            f"{where}: the robot file {path} has changed since the output was made (content "
            "hash differs); expected the same file; retarget again, or restore the file"
        )

"""Naming the joint columns and bodies of files that do not store their own names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._errors import MotionFileError

__all__ = ["resolve_body_names", "resolve_joint_names", "robot_label", "robot_model"]


def robot_label(robot: Any) -> str | None:
    """The robot's name: the string itself, a model's ``name``, or ``None``."""
    if robot is None:
        return None
    if isinstance(robot, str):
        return robot
    if isinstance(robot, os.PathLike):
        return os.fspath(robot)
    name = getattr(robot, "name", None)
    return None if name is None else str(name)


def robot_model(robot: Any, source: str, what: str) -> Any:
    """``robot`` as a model with ``joint_names``/``body_names`` (loading it by name)."""
    if not isinstance(robot, (str, os.PathLike)):
        return robot
    try:
        from ..robot import load_robot
    except ImportError as err:
        raise MotionFileError(
            f"{source}: the file does not store {what}; pass them explicitly "
            f"(retargetjax.robot, needed to look up robot {robot!r}, cannot be imported: {err})"
        ) from err
    return load_robot(robot, verbose=False)  # only its names are needed


def resolve_joint_names(
    source: str,
    num_joints: int,
    file_names: Sequence[str] | None,
    joint_names: Sequence[str] | None,
    robot: Any,
) -> tuple[str, ...]:
    """Joint column names: from the file, else ``joint_names``, else ``robot.joint_names``.

    Raises:
        MotionFileError: when none is available, when explicit names contradict the file's,
            or when their count is not ``num_joints``.
    """
    if file_names is not None:
        names = tuple(str(n) for n in file_names)
        if joint_names is not None and tuple(joint_names) != names:
            raise MotionFileError(
                f"{source}: the file's joint_names {list(names)} differ from the "
                f"joint_names passed {list(joint_names)}"
            )
        origin = "the file's joint_names"
    elif joint_names is not None:
        names, origin = tuple(str(n) for n in joint_names), "joint_names"
    elif robot is not None:
        model = robot_model(robot, source, "joint names")
        names, origin = tuple(model.joint_names), f"robot {robot_label(robot)!r}"
    else:
        raise MotionFileError(
            f"{source}: the file does not name its {num_joints} joint columns; pass "
            "joint_names=[...] or robot='<robot name or file>'"
        )
    if len(names) != num_joints:
        raise MotionFileError(
            f"{source}: {origin} has {len(names)} names but the file has {num_joints} joints"
        )
    return names


def resolve_body_names(
    source: str,
    num_bodies: int,
    file_names: Sequence[str] | None,
    body_names: Sequence[str] | None,
    robot: Any,
) -> tuple[str, ...]:
    """Body names: from the file, else ``body_names``, else ``robot.body_names``."""
    if file_names is not None:
        names, origin = tuple(str(n) for n in file_names), "the file's body names"
    elif body_names is not None:
        names, origin = tuple(str(n) for n in body_names), "body_names"
    elif robot is not None:
        model = robot_model(robot, source, "body names")
        names, origin = tuple(model.body_names), f"robot {robot_label(robot)!r}"
    else:
        raise MotionFileError(
            f"{source}: the file does not name its {num_bodies} bodies; pass "
            "body_names=[...] or robot='<robot name or file>'"
        )
    if len(names) != num_bodies:
        raise MotionFileError(
            f"{source}: {origin} has {len(names)} names but the file has {num_bodies} bodies"
        )
    return names

"""Choosing a motion file format by suffix, and the generic save/load entry points."""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._csv import DEFAULT_CSV_FPS, read_beyondmimic_csv, write_beyondmimic_csv
from ._errors import MotionFileError
from ._npz import read_npz, write_npz
from ._pkl import read_gmr_pickle, write_gmr_pickle
from ._robot_motion import RobotMotion

__all__ = ["RobotMotionFormat", "load_robot_motion", "motion_format_of", "save_robot_motion"]


class RobotMotionFormat(str, enum.Enum):
    """Robot motion file formats retargetjax reads and writes."""

    NPZ = "npz"
    """Native npz (lossless; the trackers' npz keys plus names, root, metadata)."""
    CSV = "csv"
    """Headerless BeyondMimic-style CSV: ``x y z qx qy qz qw`` then joint angles."""
    PKL = "pkl"
    """GMR-style pickle: ``fps, root_pos, root_rot (xyzw), dof_pos, local_body_pos, …``."""


_SUFFIXES = {
    ".npz": RobotMotionFormat.NPZ,
    ".csv": RobotMotionFormat.CSV,
    ".pkl": RobotMotionFormat.PKL,
    ".pickle": RobotMotionFormat.PKL,
}


def motion_format_of(
    path: str | os.PathLike[str], format: str | RobotMotionFormat | None = None
) -> RobotMotionFormat:
    """The format named by ``format``, else by the suffix of ``path`` (case-insensitive)."""
    if format is not None:
        try:
            return RobotMotionFormat(str(getattr(format, "value", format)).lower().lstrip("."))
        except ValueError:
            known = [f.value for f in RobotMotionFormat]
            raise ValueError(f"unknown motion format {format!r}; expected one of {known}") from None
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(
            f"{path}: unknown motion file suffix {suffix!r}; expected one of "
            f"{sorted(_SUFFIXES)} or pass format='npz' | 'csv' | 'pkl'"
        )
    return _SUFFIXES[suffix]


def save_robot_motion(
    motion: RobotMotion,
    path: str | os.PathLike[str],
    *,
    format: str | RobotMotionFormat | None = None,
) -> None:
    """Write ``motion`` to ``path`` atomically in the format of its suffix (or ``format``)."""
    kind = motion_format_of(path, format)
    if kind is RobotMotionFormat.NPZ:
        write_npz(motion, path)
    elif kind is RobotMotionFormat.CSV:
        write_beyondmimic_csv(motion, path)
    else:
        write_gmr_pickle(motion, path)


def load_robot_motion(
    path: str | os.PathLike[str],
    *,
    format: str | RobotMotionFormat | None = None,
    robot: Any = None,
    joint_names: Sequence[str] | None = None,
    body_names: Sequence[str] | None = None,
    fps: float | None = None,
) -> RobotMotion:
    """Read a robot motion file; see :meth:`RobotMotion.load` for the arguments."""
    kind = motion_format_of(path, format)
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such motion file")
    if kind is RobotMotionFormat.CSV:
        return read_beyondmimic_csv(
            path, fps=DEFAULT_CSV_FPS if fps is None else fps, robot=robot, joint_names=joint_names
        )
    if kind is RobotMotionFormat.NPZ:
        motion = read_npz(path, robot=robot, joint_names=joint_names, body_names=body_names)
    else:
        if body_names is not None:
            raise ValueError(f"{path}: body_names= applies to npz files only")
        motion = read_gmr_pickle(path, robot=robot, joint_names=joint_names)
    if fps is not None and not math.isclose(float(fps), motion.fps, rel_tol=1e-9):
        raise MotionFileError(
            f"{path}: the file stores fps = {motion.fps}, but fps={fps} was passed "
            "(use motion.resample(fps) to change the frame rate)"
        )
    return motion

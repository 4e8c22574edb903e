"""Headerless CSV of BeyondMimic-style trackers.

One row per frame, comma-separated, no header and no frame rate::

    x, y, z, qx, qy, qz, qw, q_1, …, q_N

root position (m, world), root orientation **xyzw** (base → world), then the N joint angles
(rad) in the robot file's joint order. The frame rate is given when reading (default 30 Hz).
Values are written with 9 significant digits, which round-trips float32 exactly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..geometry import quat_wxyz_to_xyzw, quat_xyzw_to_wxyz
from ._atomic import atomic_write
from ._errors import MotionFileError
from ._names import resolve_joint_names, robot_label, robot_model
from ._robot_motion import RobotMotion

__all__ = ["DEFAULT_CSV_FPS", "read_beyondmimic_csv", "write_beyondmimic_csv"]

#: Frame rate assumed for a CSV when none is given (the trackers' LAFAN1 clips are 30 Hz).
DEFAULT_CSV_FPS = 30.0
#: Root columns before the joints: x y z qx qy qz qw.
_ROOT_COLUMNS = 7


def write_beyondmimic_csv(motion: RobotMotion, path: str | os.PathLike[str]) -> None:
    """Write ``motion`` as a headerless tracker CSV (see the module docstring), atomically.

    The fps, robot name, joint names, link poses and metadata are not stored.
    """
    root_xyzw = np.asarray(quat_wxyz_to_xyzw(motion.root_quat), dtype=np.float32)
    table = np.concatenate([motion.root_pos, root_xyzw, motion.joint_pos], axis=1)
    with atomic_write(path, "w", newline="") as handle:
        np.savetxt(handle, table.astype(np.float64), fmt="%.9g", delimiter=",")


def _parse_rows(path: str | os.PathLike[str], expected: int | None) -> list[list[float]]:
    source = str(path)
    rows: list[list[float]] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise MotionFileError(f"{source}: cannot read as UTF-8 text ({err})") from err
    for line_number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        cells = text.split(",") if "," in text else text.split()
        if expected is not None and len(cells) != expected:
            raise MotionFileError(
                f"{source}, line {line_number}: expected {expected} columns "
                f"({_ROOT_COLUMNS} root + {expected - _ROOT_COLUMNS} joints), "
                f"got {len(cells)}"
            )
        if expected is None:
            expected = len(cells)
        try:
            row = [float(cell) for cell in cells]
        except ValueError:
            column = next(i for i, c in enumerate(cells, 1) if not _is_number(c))
            raise MotionFileError(
                f"{source}, line {line_number}, column {column}: "
                f"{cells[column - 1].strip()!r} is not a number"
            ) from None
        bad = [i for i, v in enumerate(row, 1) if not math.isfinite(v)]
        if bad:
            raise MotionFileError(
                f"{source}, line {line_number}, column {bad[0]}: non-finite value "
                f"{cells[bad[0] - 1].strip()!r}"
            )
        rows.append(row)
    if not rows:
        raise MotionFileError(f"{source}: no data rows")
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_beyondmimic_csv(
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    robot: Any = None,
    joint_names: Sequence[str] | None = None,
) -> RobotMotion:
    """Read a headerless tracker CSV.

    Args:
        path: the CSV file.
        fps: its frame rate (Hz); the file does not store one. Default 30.
        robot: robot name (for :func:`retargetjax.robot.load_robot`) or model, giving the
            joint names and so the expected column count ``7 + N``.
        joint_names: explicit joint column names (instead of ``robot``).

    Raises:
        MotionFileError: naming the file and line for a row with the wrong number of columns
            or a value that is not a finite number; or when the joints cannot be named.
    """
    source = str(path)
    names: tuple[str, ...] | None = None
    # Known names fix the column count, so the first bad row is reported.
    if joint_names is not None:
        names = tuple(str(n) for n in joint_names)
    elif robot is not None:
        names = tuple(robot_model(robot, source, "joint names").joint_names)
    rows = _parse_rows(path, None if names is None else _ROOT_COLUMNS + len(names))
    table = np.asarray(rows, dtype=np.float64)
    if table.shape[1] < _ROOT_COLUMNS:
        raise MotionFileError(
            f"{source}, line 1: expected at least {_ROOT_COLUMNS} columns "
            f"(x y z qx qy qz qw), got {table.shape[1]}"
        )
    if names is None:
        names = resolve_joint_names(
            source, table.shape[1] - _ROOT_COLUMNS, None, joint_names, robot
        )
    root_quat = np.asarray(quat_xyzw_to_wxyz(table[:, 3:7].astype(np.float32)))
    try:
        return RobotMotion(
            fps=DEFAULT_CSV_FPS if fps is None else fps,
            robot=robot_label(robot) or "unknown",
            joint_names=names,
            joint_pos=table[:, _ROOT_COLUMNS:],
            root_pos=table[:, :3],
            root_quat=root_quat,
            metadata={"source_file": source},
        )
    except (TypeError, ValueError) as err:
        raise MotionFileError(f"{source}: {err}") from err

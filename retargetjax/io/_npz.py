"""Native ``.npz`` motion files (also read: mjlab/BeyondMimic-style tracker npz).

Layout written (``np.load(path)`` works without ``allow_pickle``):

=================  ==================  ==================================================
key                shape, dtype        meaning
=================  ==================  ==================================================
``fps``            (1,) float64        frame rate (Hz), as the trackers store it
``quat_order``     () str              ``"wxyz"``: order of every quaternion in the file
``joint_names``    (N,) str            joint column names
``joint_pos``      (T, N) float32      joint angles (rad)
``joint_vel``      (T, N) float32      joint velocities (rad/s), central differences
``root_pos``       (T, 3) float32      root position in the world (m)
``root_quat``      (T, 4) float32      root orientation, base → world
``body_names``     (B,) str            link names (only with link poses)
``body_pos_w``     (T, B, 3) float32   link positions in the world (m)
``body_quat_w``    (T, B, 4) float32   link orientations, link → world
``body_lin_vel_w`` (T, B, 3) float32   link linear velocities in the world (m/s)
``body_ang_vel_w`` (T, B, 3) float32   link angular velocities in the world (rad/s)
``metadata``       () str              JSON object: robot, source file, config, versions…
=================  ==================  ==================================================

Velocities are derived data: they are written for the trackers and ignored when reading.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..geometry import quat_xyzw_to_wxyz
from ._atomic import atomic_write
from ._errors import MotionFileError
from ._metadata import metadata_from_json, metadata_to_json
from ._names import resolve_body_names, resolve_joint_names, robot_label
from ._robot_motion import RobotMotion

__all__ = ["read_npz", "write_npz"]


def write_npz(motion: RobotMotion, path: str | os.PathLike[str]) -> None:
    """Write ``motion`` to the native ``.npz`` layout (see the module docstring), atomically."""
    with atomic_write(path) as handle:
        # Metadata is serialised inside the atomic block: if it fails, nothing is replaced.
        metadata = metadata_to_json({**motion.metadata, "robot": motion.robot})
        arrays: dict[str, Any] = {
            "fps": np.array([motion.fps], dtype=np.float64),
            "quat_order": np.array("wxyz"),
            "joint_names": np.array(motion.joint_names, dtype=str).reshape(-1),
            "joint_pos": motion.joint_pos,
            "joint_vel": motion.joint_vel,
            "root_pos": motion.root_pos,
            "root_quat": motion.root_quat,
        }
        if motion.body_names is not None:
            arrays["body_names"] = np.array(motion.body_names, dtype=str).reshape(-1)
        if motion.body_pos_w is not None:
            arrays["body_pos_w"] = motion.body_pos_w
            arrays["body_lin_vel_w"] = motion.body_lin_vel_w
        if motion.body_quat_w is not None:
            arrays["body_quat_w"] = motion.body_quat_w
            arrays["body_ang_vel_w"] = motion.body_ang_vel_w
        arrays["metadata"] = np.array(metadata)
        np.savez(handle, **arrays)


def _scalar_str(data: Any, key: str, source: str) -> str:
    value = data[key]
    if value.dtype.kind != "U" or value.size != 1:
        raise MotionFileError(f"{source}: {key!r} must be a single string, got {value!r}")
    return str(value.reshape(-1)[0])


def read_npz(
    path: str | os.PathLike[str],
    *,
    robot: Any = None,
    joint_names: Sequence[str] | None = None,
    body_names: Sequence[str] | None = None,
) -> RobotMotion:
    """Read a native ``.npz`` or an mjlab/BeyondMimic-style tracker npz.

    A tracker npz has ``fps``, ``joint_pos``, ``body_pos_w``, ``body_quat_w`` (``wxyz``) but no
    ``quat_order``, ``metadata``, names or root keys: the joint and body names then come from
    ``joint_names``/``body_names`` or from ``robot`` (a name for
    :func:`retargetjax.robot.load_robot`, a model, or the ``robot`` in the file's metadata),
    and the root pose is body 0's. With ``quat_order = "xyzw"`` quaternions are reordered to
    ``wxyz``.

    Raises:
        MotionFileError: for a missing key, an unknown ``quat_order`` or inconsistent shapes,
            naming the file.
    """
    source = str(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise MotionFileError(f"{source}: not a readable .npz file ({err})") from err
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise MotionFileError(f"{source}: expected an .npz archive, found a single array")
    with archive as data:
        keys = set(data.files)

        def need(key: str) -> np.ndarray:
            if key not in keys:
                raise MotionFileError(
                    f"{source}: missing key {key!r} (the file has {sorted(keys)})"
                )
            return data[key]

        fps_value = need("fps")
        if fps_value.size != 1:
            raise MotionFileError(f"{source}: 'fps' must hold one number, got {fps_value!r}")
        fps = float(fps_value.reshape(-1)[0])
        quat_order = _scalar_str(data, "quat_order", source) if "quat_order" in keys else "wxyz"
        if quat_order not in ("wxyz", "xyzw"):
            raise MotionFileError(
                f"{source}: 'quat_order' must be 'wxyz' or 'xyzw', got {quat_order!r}"
            )
        metadata = (
            metadata_from_json(_scalar_str(data, "metadata", source), source)
            if "metadata" in keys
            else {}
        )
        file_robot = metadata.get("robot")
        if robot is not None and file_robot is not None and robot_label(robot) != file_robot:
            raise MotionFileError(
                f"{source}: the file's metadata names robot {file_robot!r}, "
                f"but robot={robot_label(robot)!r} was passed"
            )
        robot = robot if robot is not None else file_robot

        joint_pos = need("joint_pos")
        if joint_pos.ndim != 2:
            raise MotionFileError(
                f"{source}: 'joint_pos' must have shape (T, N), got {joint_pos.shape}"
            )
        names = resolve_joint_names(
            source,
            joint_pos.shape[1],
            data["joint_names"].tolist() if "joint_names" in keys else None,
            joint_names,
            robot,
        )

        def quats(key: str) -> np.ndarray:
            q = data[key]
            return np.asarray(quat_xyzw_to_wxyz(q)) if quat_order == "xyzw" else q

        body_pos_w = data["body_pos_w"] if "body_pos_w" in keys else None
        body_quat_w = quats("body_quat_w") if "body_quat_w" in keys else None
        bodies = None
        if body_pos_w is not None or body_quat_w is not None:
            ref = body_pos_w if body_pos_w is not None else body_quat_w
            if ref.ndim != 3:
                raise MotionFileError(
                    f"{source}: body arrays must have shape (T, B, ·), got {ref.shape}"
                )
            bodies = resolve_body_names(
                source,
                ref.shape[1],
                data["body_names"].tolist() if "body_names" in keys else None,
                body_names,
                robot,
            )
        if "root_pos" in keys or body_pos_w is None:
            root_pos = need("root_pos")
        else:
            root_pos = body_pos_w[:, 0]  # tracker npz: body 0 is the floating base
        if "root_quat" in keys or body_quat_w is None:
            need("root_quat")
            root_quat = quats("root_quat")
        else:
            root_quat = body_quat_w[:, 0]
    try:
        return RobotMotion(
            fps=fps,
            robot=robot_label(robot) or "unknown",
            joint_names=names,
            joint_pos=joint_pos,
            root_pos=root_pos,
            root_quat=root_quat,
            body_names=bodies,
            body_pos_w=body_pos_w,
            body_quat_w=body_quat_w,
            metadata=metadata if metadata else {"source_file": str(Path(source))},
        )
    except (TypeError, ValueError) as err:
        raise MotionFileError(f"{source}: {err}") from err

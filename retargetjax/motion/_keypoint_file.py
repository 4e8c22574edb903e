"""Keypoint clips: world joint positions (T, J, 3) in ``.npz`` or ``.npy`` files.

Accepted ``.npz`` keys (first match wins):

- positions: ``positions``, ``joint_positions``, ``joint_pos``, ``keypoints``, ``joints``,
  ``global_joint_positions`` — (T, J, 3) (a single frame (J, 3) is accepted too);
- joint names: ``joint_names``, ``names``, ``joint_name``, ``keypoint_names`` — (J,) strings;
- parents: ``parents``, ``parent``, ``parent_indices`` — (J,) ints, -1 for roots/unknown;
- frame rate: ``fps``, ``framerate``, ``frame_rate``, ``mocap_framerate``,
  ``mocap_frame_rate``;
- optionally ``orientations`` / ``joint_quats`` (T, J, 4) ``wxyz``.

A ``.npy`` holds only the positions; pass ``fps=`` and ``joint_names=`` (and optionally
``parents=``). Options given explicitly override the file's values. Without joint names, a
clip of 22, 24, 52 or 55 joints is taken to be in SMPL-family joint order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError
from ._human_motion import HumanMotion
from ._units import resolve_units, up_axis_to_z_matrix

__all__ = ["KEYPOINT_FILE_KEYS", "load_keypoints"]

#: Accepted key aliases per field of a keypoint ``.npz``.
KEYPOINT_FILE_KEYS: dict[str, tuple[str, ...]] = {
    "positions": (
        "positions",
        "joint_positions",
        "joint_pos",
        "keypoints",
        "joints",
        "global_joint_positions",
    ),
    "joint_names": ("joint_names", "names", "joint_name", "keypoint_names"),
    "parents": ("parents", "parent", "parent_indices"),
    "fps": ("fps", "framerate", "frame_rate", "mocap_framerate", "mocap_frame_rate"),
    "orientations": ("orientations", "joint_quats", "joint_orientations"),
}


def _first(data, field: str):
    for key in KEYPOINT_FILE_KEYS[field]:
        if key in data:
            return key, data[key]
    return None, None


def load_keypoints(
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    joint_names: Sequence[str] | None = None,
    parents: Sequence[int] | None = None,
    units: str | float = "m",
    up_axis: str = "z",
) -> HumanMotion:
    """Read a keypoint clip (``.npz`` or ``.npy``) into a :class:`HumanMotion`.

    ``units`` (default metres) and ``up_axis`` (default Z) describe the file; positions are
    converted to metres, Z up, as ``p = s · C p_file``.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".npy":
            data = {"positions": np.load(path, allow_pickle=False)}
        else:
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise MotionFormatError(
            f"cannot read the array file ({exc}); expected .npz or .npy", path=path
        ) from None

    key, pos = _first(data, "positions")
    if pos is None:
        raise MotionFormatError(
            f"no positions array; found keys {sorted(data)}; expected one of "
            + ", ".join(KEYPOINT_FILE_KEYS["positions"]),
            path=path,
        )
    pos = np.asarray(pos)
    if pos.ndim == 2 and pos.shape[-1] == 3:
        pos = pos[None]
    if pos.ndim != 3 or pos.shape[-1] != 3:
        raise MotionFormatError(
            f"'{key}' has shape {pos.shape}; expected (frames, joints, 3)", path=path
        )
    if not np.issubdtype(pos.dtype, np.number):
        raise MotionFormatError(f"'{key}' has dtype {pos.dtype}; expected numbers", path=path)
    T, J, _ = pos.shape
    if T == 0:
        raise MotionFormatError(f"'{key}' has zero frames; expected at least one", path=path)
    bad = ~np.isfinite(pos)
    if bad.any():
        t, j, _ = np.argwhere(bad)[0]
        raise MotionFormatError(
            f"'{key}'[{t}, {j}] (frame {t}, joint {j}) is not finite; expected finite positions",
            path=path,
        )

    if joint_names is None:
        _, names = _first(data, "joint_names")
        if names is not None:
            joint_names = [str(n) for n in np.asarray(names).reshape(-1)]
        else:
            from ._smpl_names import smpl_family_joint_names

            joint_names = smpl_family_joint_names(J)
            if joint_names is None:
                raise MotionFormatError(
                    f"no joint names for {J} joints; expected a 'joint_names' array in the file "
                    "or the joint_names= option",
                    path=path,
                )
    joint_names = [str(n) for n in joint_names]
    if len(joint_names) != J:
        raise MotionFormatError(
            f"{len(joint_names)} joint names for {J} joints; expected {J}", path=path
        )

    if fps is None:
        fps_key, fps_value = _first(data, "fps")
        if fps_value is None:
            raise MotionFormatError(
                "no frame rate; expected an 'fps' value in the file or the fps= option", path=path
            )
        try:
            fps = float(np.asarray(fps_value).reshape(-1)[0])
        except (ValueError, IndexError):
            raise MotionFormatError(
                f"'{fps_key}' is {fps_value!r}; expected a number", path=path
            ) from None
    if not (np.isfinite(fps) and fps > 0):
        raise MotionFormatError(f"fps is {fps}; expected a positive number", path=path)

    if parents is None:
        _, parents = _first(data, "parents")
    parents = (
        -np.ones(J, dtype=np.int64)
        if parents is None
        else np.asarray(parents, dtype=np.int64).reshape(-1)
    )
    if parents.shape != (J,):
        raise MotionFormatError(
            f"{parents.shape[0]} parents for {J} joints; expected {J}", path=path
        )

    try:
        unit_name, scale = resolve_units(units, 0.0)
        C = up_axis_to_z_matrix(up_axis)
    except ValueError as exc:
        raise MotionFormatError(str(exc), path=path) from None
    positions = (pos.astype(np.float64) @ C.T) * scale

    _, ori = _first(data, "orientations")
    if ori is not None:
        ori = np.asarray(ori, dtype=np.float64)
        if ori.shape != (T, J, 4) or not np.all(np.isfinite(ori)):
            raise MotionFormatError(
                f"orientations have shape {ori.shape}; expected finite {(T, J, 4)} wxyz", path=path
            )
        if not np.allclose(C, np.eye(3)):
            from ._np_geometry import mat_to_quat_np, quat_to_mat_np

            ori = mat_to_quat_np(np.einsum("ij,tkjl->tkil", C, quat_to_mat_np(ori)))
    meta = {
        "units": unit_name,
        "meters_per_unit": scale,
        "up_axis": str(up_axis).lower(),
        "positions_key": key,
    }
    for extra in ("source", "license"):
        if extra in data and np.asarray(data[extra]).ndim == 0:
            meta[extra] = str(data[extra])
    return HumanMotion(
        fps=float(fps),
        joint_names=tuple(joint_names),
        parents=parents,
        positions=positions.astype(np.float32),
        orientations=None if ori is None else ori.astype(np.float32),
        source=path,
        format=MotionFormatKind.KEYPOINTS,
        metadata=meta,
    )

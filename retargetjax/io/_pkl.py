"""GMR-style motion pickles.

The file is a plain ``dict`` (protocol 4) that unpickles with numpy alone::

    fps             float                frame rate (Hz)
    root_pos        (T, 3) float32       root position in the world (m)
    root_rot        (T, 4) float32       root orientation, **xyzw**, base → world
    dof_pos         (T, N) float32       joint angles (rad), robot file order
    local_body_pos  (T, B, 3) float32    link positions in the root frame (m), or None
    link_body_list  list[str]            the B link names, or None

plus two keys GMR does not write and ignores: ``joint_names`` (list[str]) and ``robot`` (str).
``local_body_pos = R_root^T (p_body_w - p_root_w)``; link orientations are not stored.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..geometry import quat_conj, quat_wxyz_to_xyzw, quat_xyzw_to_wxyz
from ._atomic import atomic_write
from ._errors import MotionFileError
from ._names import resolve_body_names, resolve_joint_names, robot_label
from ._robot_motion import RobotMotion
from ._rowwise import rotate_rows

__all__ = ["read_gmr_pickle", "write_gmr_pickle"]

_PICKLE_PROTOCOL = 4


def write_gmr_pickle(motion: RobotMotion, path: str | os.PathLike[str]) -> None:
    """Write ``motion`` as a GMR-style pickle (see the module docstring), atomically."""
    local_body_pos = None
    if motion.body_pos_w is not None:
        offset = motion.body_pos_w - motion.root_pos[:, None, :]
        inverse = np.asarray(quat_conj(motion.root_quat))[:, None, :]
        local_body_pos = rotate_rows(inverse, offset)
    payload = {
        "fps": float(motion.fps),
        "root_pos": np.array(motion.root_pos, dtype=np.float32),
        "root_rot": np.asarray(quat_wxyz_to_xyzw(motion.root_quat), dtype=np.float32),
        "dof_pos": np.array(motion.joint_pos, dtype=np.float32),
        "local_body_pos": local_body_pos,
        "link_body_list": None if motion.body_names is None else list(motion.body_names),
        "joint_names": list(motion.joint_names),
        "robot": motion.robot,
    }
    with atomic_write(path) as handle:
        pickle.dump(payload, handle, protocol=_PICKLE_PROTOCOL)


# numpy moved its internals from numpy.core (1.x) to numpy._core (2.x); accept both names.
_NUMPY_INTERNALS = {
    ("multiarray", "_reconstruct"),
    ("multiarray", "scalar"),
    ("numeric", "_frombuffer"),
}
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("collections", "OrderedDict"),
}


def _numpy_internal(submodule: str) -> Any:
    try:
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:  # numpy 1.x
        return importlib.import_module(f"numpy.core.{submodule}")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays/scalars only (no arbitrary code)."""

    def find_class(self, module: str, name: str) -> Any:
        package, _, submodule = module.rpartition(".")
        if package in ("numpy.core", "numpy._core") and (submodule, name) in _NUMPY_INTERNALS:
            return getattr(_numpy_internal(submodule), name)
        if module == "numpy.dtypes" and name.endswith("DType"):
            return getattr(importlib.import_module(module), name)
        if (module, name) in _ALLOWED:
            return getattr(importlib.import_module(module), name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only dicts, lists and numpy arrays are allowed"
        )


def read_gmr_pickle(
    path: str | os.PathLike[str],
    *,
    robot: Any = None,
    joint_names: Sequence[str] | None = None,
) -> RobotMotion:
    """Read a GMR-style pickle (ours or a peer's).

    Only plain containers and numpy arrays are unpickled (anything else is refused, so a
    pickle cannot run code). Joint names come from the file's ``joint_names`` when present,
    else ``joint_names``, else ``robot``. ``local_body_pos`` is brought back to the world
    frame, ``p_body_w = p_root_w + R_root p_body_local``; link orientations stay ``None``.

    Raises:
        MotionFileError: for an unreadable pickle, a missing key or inconsistent shapes.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            payload = _NumpyOnlyUnpickler(handle).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise MotionFileError(f"{source}: not a readable motion pickle ({err})") from err
    if not isinstance(payload, dict):
        raise MotionFileError(f"{source}: expected a dict, got {type(payload).__name__}")

    def need(key: str) -> Any:
        if key not in payload:
            raise MotionFileError(f"{source}: missing key {key!r} (the file has {sorted(payload)})")
        return payload[key]

    fps = need("fps")
    root_pos = np.asarray(need("root_pos"), dtype=np.float32)
    root_rot = np.asarray(need("root_rot"), dtype=np.float32)
    dof_pos = np.asarray(need("dof_pos"), dtype=np.float32)
    if root_rot.ndim != 2 or root_rot.shape[-1] != 4:
        raise MotionFileError(f"{source}: 'root_rot' must have shape (T, 4), got {root_rot.shape}")
    if dof_pos.ndim != 2:
        raise MotionFileError(f"{source}: 'dof_pos' must have shape (T, N), got {dof_pos.shape}")
    if robot is None and isinstance(payload.get("robot"), str):
        robot = payload["robot"]
    names = resolve_joint_names(
        source, dof_pos.shape[1], payload.get("joint_names"), joint_names, robot
    )
    root_quat = np.asarray(quat_xyzw_to_wxyz(root_rot), dtype=np.float32)
    body_names = body_pos_w = None
    local_body_pos = payload.get("local_body_pos")
    if local_body_pos is not None:
        local_body_pos = np.asarray(local_body_pos, dtype=np.float32)
        if local_body_pos.ndim != 3 or local_body_pos.shape[:1] != root_pos.shape[:1]:
            raise MotionFileError(
                f"{source}: 'local_body_pos' must have shape (T, B, 3) with T = "
                f"{root_pos.shape[0]}, got {local_body_pos.shape}"
            )
        body_names = resolve_body_names(
            source, local_body_pos.shape[1], payload.get("link_body_list"), None, robot
        )
        body_pos_w = root_pos[:, None, :] + rotate_rows(root_quat[:, None, :], local_body_pos)
    try:
        return RobotMotion(
            fps=fps,
            robot=robot_label(robot) or "unknown",
            joint_names=names,
            joint_pos=dof_pos,
            root_pos=root_pos,
            root_quat=root_quat,
            body_names=body_names,
            body_pos_w=body_pos_w,
            metadata={"source_file": source},
        )
    except (TypeError, ValueError) as err:
        raise MotionFileError(f"{source}: {err}") from err

"""Parse-time rotation helpers in float64 numpy (no JAX).

Robot files are read once, on the host, in float64 so that a model built for an x64 check
keeps every digit of the file. The traced, batched rotation code lives in
:mod:`retargetjax.geometry`; this module only turns a file's orientation attributes into
3×3 matrices. Quaternions are ``wxyz`` (the package convention).
"""

from __future__ import annotations

import numpy as np

from ..geometry._host import quat_to_mat_np as _host_quat_to_mat

__all__ = [
    "axis_angle_to_mat",
    "euler_seq_to_mat",
    "quat_to_mat_np",
    "rpy_to_mat_np",
    "xyaxes_to_mat",
    "zaxis_to_mat",
]

_AXES = {
    "x": np.array([1.0, 0.0, 0.0]),
    "y": np.array([0.0, 1.0, 0.0]),
    "z": np.array([0.0, 0.0, 1.0]),
}


def quat_to_mat_np(quat_wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrix (float64) of a (not necessarily unit) ``wxyz`` quaternion from a
    robot file; MuJoCo normalises too. A zero quaternion is an error in a file."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    if np.linalg.norm(q) < 1e-12:
        raise ValueError("zero quaternion")
    return _host_quat_to_mat(q)


def axis_angle_to_mat(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues: ``R = I + sin θ K + (1 − cos θ) K²`` with ``K = [â]×``."""
    a = np.asarray(axis, dtype=np.float64)
    n = np.linalg.norm(a)
    if n < 1e-12:
        raise ValueError("zero rotation axis")
    a = a / n
    K = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle_rad) * K + (1.0 - np.cos(angle_rad)) * (K @ K)


def euler_seq_to_mat(angles_rad: np.ndarray, seq: str) -> np.ndarray:
    """MuJoCo ``euler`` with ``eulerseq``: lower case = axes that move with the frame.

    Rotation ``i`` about axis ``seq[i]`` is post-multiplied (intrinsic, lower case) or
    pre-multiplied (extrinsic, upper case): ``R ← R·R_i`` or ``R ← R_i·R``.
    """
    R = np.eye(3)
    for angle, ch in zip(angles_rad, seq):
        Ri = axis_angle_to_mat(_AXES[ch.lower()], float(angle))
        R = R @ Ri if ch.islower() else Ri @ R
    return R


def rpy_to_mat_np(rpy_rad: np.ndarray) -> np.ndarray:
    """URDF ``rpy``: fixed-axis roll (x), then pitch (y), then yaw (z): ``R = Rz·Ry·Rx``."""
    r, p, y = (float(v) for v in rpy_rad)
    return (
        axis_angle_to_mat(_AXES["z"], y)
        @ axis_angle_to_mat(_AXES["y"], p)
        @ axis_angle_to_mat(_AXES["x"], r)
    )


def xyaxes_to_mat(xyaxes: np.ndarray) -> np.ndarray:
    """Frame from its x axis and a y direction (Gram–Schmidt), ``z = x × y``."""
    x = np.asarray(xyaxes[:3], dtype=np.float64)
    y = np.asarray(xyaxes[3:], dtype=np.float64)
    x = x / np.linalg.norm(x)
    y = y - x * (x @ y)
    ny = np.linalg.norm(y)
    if ny < 1e-12:
        raise ValueError("xyaxes: the two axes are parallel")
    y = y / ny
    return np.stack([x, y, np.cross(x, y)], axis=1)


def zaxis_to_mat(zaxis: np.ndarray) -> np.ndarray:
    """The smallest rotation taking ``(0, 0, 1)`` to ``zaxis`` (half-turn about x if opposite)."""
    z = np.asarray(zaxis, dtype=np.float64)
    z = z / np.linalg.norm(z)
    ez = _AXES["z"]
    c = float(ez @ z)
    axis = np.cross(ez, z)
    s = float(np.linalg.norm(axis))
    if s < 1e-14:
        return np.eye(3) if c > 0 else axis_angle_to_mat(_AXES["x"], np.pi)
    return axis_angle_to_mat(axis / s, float(np.arctan2(s, c)))

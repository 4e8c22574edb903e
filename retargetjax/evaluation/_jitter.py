"""Jitter: joint and root accelerations and jerk from finite differences."""

from __future__ import annotations

import numpy as np

from ..geometry import quat_conj, quat_log, quat_mul
from ..types import NDArray

__all__ = ["jitter_metrics", "root_angular_acceleration"]


def root_angular_acceleration(root_quat: NDArray, fps: float) -> NDArray:
    """(T − 2,) root angular acceleration magnitudes (rad/s²).

    Per step the world-frame rotation vector ``d_t = log(q_{t+1} ⊗ q_t⁻¹)`` (angle × axis,
    shortest arc, so a sign flip of ``q`` is harmless) gives the angular velocity
    ``ω_{t+½} = d_t · fps``; the acceleration is ``‖d_{t+1} − d_t‖ · fps²``.
    """
    q = np.asarray(root_quat, np.float64)
    if q.shape[0] < 3:
        return np.zeros(0)
    q = (q / np.linalg.norm(q, axis=-1, keepdims=True)).astype(np.float32)
    d = np.asarray(quat_log(quat_mul(q[1:], quat_conj(q[:-1]))), np.float64)
    return np.linalg.norm(np.diff(d, axis=0), axis=-1) * float(fps) ** 2


def jitter_metrics(
    joint_pos: NDArray, root_pos: NDArray, root_quat: NDArray, fps: float
) -> dict[str, float]:
    """Smoothness of a clip from finite differences at ``fps`` (frame period ``h = 1/fps``).

    - joint acceleration ``a_tj = (q_{t+1} − 2 q_t + q_{t−1}) / h²`` (rad/s²):
      ``joint_acc_mean_rad_s2 = mean |a_tj|``, ``joint_acc_p99_rad_s2`` = 99th percentile of
      ``|a_tj|`` over all frames and joints;
    - joint jerk ``j_tj = (q_{t+2} − 3 q_{t+1} + 3 q_t − q_{t−1}) / h³`` (rad/s³):
      ``joint_jerk_mean_rad_s3``, ``joint_jerk_p99_rad_s3`` likewise;
    - ``root_lin_acc_mean_m_s2 = mean_t ‖p_{t+1} − 2 p_t + p_{t−1}‖ / h²`` (m/s²);
    - ``root_ang_acc_mean_rad_s2``: mean of :func:`root_angular_acceleration` (rad/s²).

    Differences need 3 (acceleration) or 4 (jerk) frames; shorter clips give 0.
    Computed in float64 (the per-step root rotation in float32, the package default).
    """
    q = np.asarray(joint_pos, np.float64)
    p = np.asarray(root_pos, np.float64)
    f = float(fps)

    def mean_p99(values: NDArray) -> tuple[float, float]:
        if values.size == 0:
            return 0.0, 0.0
        a = np.abs(values)
        return float(a.mean()), float(np.percentile(a, 99))

    acc_mean, acc_p99 = mean_p99(np.diff(q, n=2, axis=0) * f**2)
    jerk_mean, jerk_p99 = mean_p99(np.diff(q, n=3, axis=0) * f**3)
    lin = np.linalg.norm(np.diff(p, n=2, axis=0), axis=-1) * f**2
    ang = root_angular_acceleration(root_quat, f)
    return {
        "joint_acc_mean_rad_s2": acc_mean,
        "joint_acc_p99_rad_s2": acc_p99,
        "joint_jerk_mean_rad_s3": jerk_mean,
        "joint_jerk_p99_rad_s3": jerk_p99,
        "root_lin_acc_mean_m_s2": float(lin.mean()) if lin.size else 0.0,
        "root_ang_acc_mean_rad_s2": float(ang.mean()) if ang.size else 0.0,
    }

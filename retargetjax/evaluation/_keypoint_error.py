"""Keypoint error against the scaled human targets, raw and after Procrustes alignment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import NDArray

__all__ = [
    "END_EFFECTOR_PARTS",
    "keypoint_error_metrics",
    "keypoint_errors",
    "procrustes_align",
]

#: Keypoints whose name contains one of these count as hands and feet.
END_EFFECTOR_PARTS = ("ankle", "toe", "foot", "wrist", "hand")


def keypoint_errors(robot_keypoints: NDArray, target_keypoints: NDArray) -> NDArray:
    """(T, K) Euclidean distances ``e_tk = ‖x_tk − y_tk‖`` (m) between robot and target."""
    x = np.asarray(robot_keypoints, np.float64)
    y = np.asarray(target_keypoints, np.float64)
    if x.shape != y.shape:
        raise ValueError(
            f"keypoint error: robot keypoints {x.shape} and targets {y.shape} differ in shape"
        )
    return np.linalg.norm(x - y, axis=-1)


def procrustes_align(source: NDArray, target: NDArray) -> NDArray:
    """``source`` (T, K, 3) moved per frame by the rigid motion that best fits ``target``.

    Kabsch: for each frame, with centroids ``x̄, ȳ`` and ``H = Σ_k (x_k − x̄)(y_k − ȳ)ᵀ =
    U Σ Vᵀ``, the rotation ``R = V diag(1, 1, sign det(V Uᵀ)) Uᵀ`` (a proper rotation, no
    reflection) and translation ``t = ȳ − R x̄`` minimise ``Σ_k ‖R x_k + t − y_k‖²``. Rigid,
    not similarity: the targets are already scaled to the robot, so a scale factor would only
    hide a size mismatch. Frames with fewer than 3 points are only translated.
    """
    x = np.asarray(source, np.float64)
    y = np.asarray(target, np.float64)
    xm = x.mean(axis=-2, keepdims=True)
    ym = y.mean(axis=-2, keepdims=True)
    if x.shape[-2] < 3:
        return x - xm + ym
    H = np.einsum("tki,tkj->tij", x - xm, y - ym)
    U, _, Vt = np.linalg.svd(H)
    V = np.swapaxes(Vt, -1, -2)
    d = np.sign(np.linalg.det(V @ np.swapaxes(U, -1, -2)))
    d = np.where(d == 0, 1.0, d)
    D = np.zeros_like(H)
    D[:, 0, 0] = 1.0
    D[:, 1, 1] = 1.0
    D[:, 2, 2] = d
    R = V @ D @ np.swapaxes(U, -1, -2)
    return np.einsum("tij,tkj->tki", R, x - xm) + ym


def keypoint_error_metrics(
    robot_keypoints: NDArray,
    target_keypoints: NDArray,
    keypoint_names: Sequence[str],
    target_weight: NDArray | None = None,
) -> dict[str, float]:
    """Keypoint tracking error (m) over the tracked keypoints ``K* = {k : w_k > 0}``.

    With ``e_tk`` from :func:`keypoint_errors` (robot keypoint vs scaled human target, both
    in ``robot.keypoint_names`` order):

    - ``keypoint_error_mean_m``: ``mean_{t, k ∈ K*} e_tk``;
    - ``keypoint_error_p95_m``: 95th percentile of ``{e_tk : k ∈ K*}`` over all frames;
    - ``keypoint_error_max_m``: ``max_{t, k ∈ K*} e_tk``;
    - ``keypoint_error_hands_feet_mean_m``: the mean over tracked keypoints whose name
      contains ankle, toe, foot, wrist or hand (0 when there are none);
    - ``keypoint_error_<name>_m``: ``mean_t e_tk`` per tracked keypoint;
    - ``keypoint_error_procrustes_mean_m``: the mean after :func:`procrustes_align` of the
      tracked robot keypoints onto the targets per frame (pose error without the global
      placement and heading).
    """
    names = tuple(keypoint_names)
    x = np.asarray(robot_keypoints, np.float64)
    y = np.asarray(target_keypoints, np.float64)
    if x.shape[-2] != len(names):
        raise ValueError(f"keypoint error: {x.shape[-2]} keypoints but {len(names)} names")
    w = np.ones(len(names)) if target_weight is None else np.asarray(target_weight, np.float64)
    if w.shape != (len(names),):
        raise ValueError(
            f"keypoint error: target_weight has shape {w.shape}, expected ({len(names)},)"
        )
    tracked = np.flatnonzero(w > 0)
    if tracked.size == 0:
        raise ValueError("keypoint error: no keypoint has a positive target weight")
    err = keypoint_errors(x, y)[:, tracked]
    out = {
        "keypoint_error_mean_m": float(err.mean()),
        "keypoint_error_p95_m": float(np.percentile(err, 95)),
        "keypoint_error_max_m": float(err.max()),
    }
    ends = [i for i, k in enumerate(tracked) if any(p in names[k] for p in END_EFFECTOR_PARTS)]
    out["keypoint_error_hands_feet_mean_m"] = float(err[:, ends].mean()) if ends else 0.0
    aligned = procrustes_align(x[:, tracked], y[:, tracked])
    out["keypoint_error_procrustes_mean_m"] = float(keypoint_errors(aligned, y[:, tracked]).mean())
    for i, k in enumerate(tracked):
        out[f"keypoint_error_{names[k]}_m"] = float(err[:, i].mean())
    return out

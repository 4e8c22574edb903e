"""Per-clip diagnostic figure (matplotlib, headless Agg): what went wrong, and when.

Panels, all against time (s):

1. keypoint error per frame — mean over tracked keypoints and over hands and feet (only
   with human targets);
2. foot heights — lowest sole point of each robot foot, with the human's contact intervals
   shaded per foot, the 2 cm floating threshold and z = 0;
3. ground depth and self-penetration per frame (m);
4. joint angles against their limits — each joint's position normalised to its range,
   ``(q − lower) / (upper − lower)`` (0 = lower limit, 1 = upper), as a heat map with
   violations marked; a joint without limits is grey (never "outside").
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from ._descriptions import HEADLINE_METRICS
from ._floating import FLOAT_HEIGHT_M
from ._ground import ground_depth
from ._keypoint_error import END_EFFECTOR_PARTS
from ._metrics import MotionEvaluation

__all__ = ["plot_clip"]


def joint_limit_fraction(
    joint_pos: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions as a fraction of their range (0 = lower, 1 = upper limit), and where
    they are outside it, both (T, J). A joint without finite limits (an unlimited hinge, as
    in many MJCF files) is NaN and never outside."""
    q = np.asarray(joint_pos, np.float64)
    lower = np.asarray(lower, np.float64)
    upper = np.asarray(upper, np.float64)
    limited = np.isfinite(lower) & np.isfinite(upper) & (upper > lower)
    span = np.where(limited, upper - lower, 1.0)
    base = np.where(limited, lower, 0.0)
    normalised = np.where(limited, (q - base) / span, np.nan)
    outside = limited & ((normalised < -1e-6) | (normalised > 1 + 1e-6))
    return normalised, outside


def _contact_bands(ax: Any, time_s: np.ndarray, contact: np.ndarray, color: str, y: tuple) -> None:
    """Shade the intervals where ``contact`` is true, in axes-fraction band ``y = (lo, hi)``."""
    padded = np.concatenate([[False], contact, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    dt = time_s[1] - time_s[0] if len(time_s) > 1 else 1.0
    for start, stop in zip(edges[::2], edges[1::2]):
        ax.axvspan(
            time_s[start] - dt / 2,
            time_s[stop - 1] + dt / 2,
            ymin=y[0],
            ymax=y[1],
            color=color,
            alpha=0.18,
            lw=0,
        )


def plot_clip(
    evaluation: MotionEvaluation,
    robot: Any,
    path: str | os.PathLike[str],
    *,
    fps: float,
    title: str = "",
    dpi: int = 100,
) -> Path:
    """Write the diagnostic PNG of one evaluated clip to ``path`` (atomic); returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    geo = evaluation.geometry
    T = geo.sole_points.shape[0]
    time_s = np.arange(T) / float(fps)
    has_kp = evaluation.keypoint_error is not None
    rows = 4 if has_kp else 3
    fig, axes = plt.subplots(
        rows,
        1,
        figsize=(11, 2.4 * rows + 1.2),
        sharex=True,
        gridspec_kw={"height_ratios": [1] * (rows - 1) + [1.6]},
    )
    axes = list(np.atleast_1d(axes))
    i = 0
    if has_kp:
        ax = axes[i]
        i += 1
        err = evaluation.keypoint_error[:, evaluation.keypoint_tracked]
        names = [n for n, t in zip(robot.keypoint_names, evaluation.keypoint_tracked) if t]
        ends = [k for k, n in enumerate(names) if any(p in n for p in END_EFFECTOR_PARTS)]
        ax.plot(time_s, err.mean(axis=1) * 100, label="all keypoints", color="k")
        if ends:
            ax.plot(time_s, err[:, ends].mean(axis=1) * 100, label="hands & feet", color="C3")
        ax.plot(time_s, err.max(axis=1) * 100, label="worst keypoint", color="C0", lw=0.8)
        ax.set_ylabel("keypoint error (cm)")
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)

    ax = axes[i]
    i += 1
    lowest = geo.sole_points[..., 2].min(axis=-1) * 100  # (T, 2)
    for f, (side, color) in enumerate((("left", "C0"), ("right", "C1"))):
        ax.plot(time_s, lowest[:, f], color=color, label=f"{side} foot (lowest sole point)")
        band = (0.5, 1.0) if f == 0 else (0.0, 0.5)
        _contact_bands(ax, time_s, evaluation.contact[:, f], color, band)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axhline(FLOAT_HEIGHT_M * 100, color="gray", lw=0.8, ls="--", label="2 cm")
    src = {"given": "human", "metadata": "human (output metadata)", "robot": "robot-estimated"}
    src = src.get(evaluation.contact_source, evaluation.contact_source)
    ax.set_ylabel("foot height (cm)")
    ax.set_title(f"shaded: {src} contacts (left top half, right bottom half)", fontsize=8)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[i]
    i += 1
    ax.plot(time_s, ground_depth(geo.capsule_bottom_z) * 100, label="ground depth", color="C2")
    ax.plot(time_s, geo.self_penetration * 100, label="self-penetration", color="C4")
    ax.axhline(1.0, color="gray", lw=0.8, ls="--", label="1 cm")
    ax.set_ylabel("penetration (cm)")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[i]
    lower = np.asarray(robot.joint_lower, np.float64)
    normalised, outside = joint_limit_fraction(evaluation.joint_pos, lower, robot.joint_upper)
    dt = 1.0 / float(fps)
    cmap = plt.get_cmap("coolwarm").copy()
    cmap.set_bad("lightgrey")  # a joint without limits
    image = ax.imshow(
        normalised.T,
        aspect="auto",
        cmap=cmap,
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
        extent=(time_s[0] - dt / 2, time_s[-1] + dt / 2, len(lower) - 0.5, -0.5),
    )
    tt, jj = np.nonzero(outside)
    if tt.size:
        ax.scatter(time_s[tt], jj, marker="x", color="k", s=8, label="outside limits")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_yticks(range(len(lower)))
    ax.set_yticklabels([n.removesuffix("_joint") for n in robot.joint_names], fontsize=6)
    unlimited = int(np.isnan(normalised).all(axis=0).sum())
    ax.set_ylabel(
        "joint (0 = lower, 1 = upper limit)"
        + (f"\ngrey: {unlimited} without limits" if unlimited else "")
    )
    ax.set_xlabel("time (s)")
    fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01)

    m = evaluation.metrics
    facts = ", ".join(f"{k.replace('_', ' ')}={m[k]:.3g}" for k in HEADLINE_METRICS[:6] if k in m)
    facts = "\n".join(textwrap.wrap(facts, 110))
    fig.suptitle(f"{title}\n{facts}", fontsize=9)
    # Leave the top for the (wrapped) title so neither edge is cut off.
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.png")
    try:
        fig.savefig(tmp, dpi=dpi)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return path

"""Fixed solve shapes for clips of any length: overlapping windows, padded, blended back.

A clip of ``T`` frames is cut into windows of ``W`` frames starting every ``S = W − O``
frames (the last one ends at the clip's end); a clip shorter than ``W`` is one window padded
by repeating its last frame, with mask 0 on the padding. The number of windows in a solve is
rounded up to a power of two (dummy windows are fully masked), so a whole dataset compiles
once per (window length, power of two). Overlapping results are blended with weights that
ramp linearly across each overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WindowPlan", "blend_windows", "next_pow2", "plan_windows"]


def next_pow2(n: int) -> int:
    """Smallest power of two ≥ ``n`` (and ≥ 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of one clip start, and how its frames map into them."""

    num_frames: int
    window: int
    starts: tuple[int, ...]

    def frame_index(self) -> np.ndarray:
        """(n, W) clip frame of each window slot (padding repeats the last frame)."""
        idx = np.asarray(self.starts)[:, None] + np.arange(self.window)[None, :]
        return np.minimum(idx, self.num_frames - 1)

    def mask(self) -> np.ndarray:
        """(n, W) 1 where a window slot holds a real frame."""
        idx = np.asarray(self.starts)[:, None] + np.arange(self.window)[None, :]
        return (idx < self.num_frames).astype(np.float32)

    def blend_weights(self) -> np.ndarray:
        """(n, W) weights of each slot in the blend (ramps across overlaps, 0 on padding)."""
        n = len(self.starts)
        w = self.mask().copy()
        ramp_pos = np.arange(self.window, dtype=np.float64)
        for i in range(n):
            if i > 0:  # overlap with the previous window at our start
                ov = self.starts[i - 1] + self.window - self.starts[i]
                if ov > 0:
                    w[i] *= np.clip((ramp_pos + 0.5) / ov, 0.0, 1.0)
            if i < n - 1:  # overlap with the next window at our end
                ov = self.starts[i] + self.window - self.starts[i + 1]
                if ov > 0:
                    w[i] *= np.clip((self.window - ramp_pos - 0.5) / ov, 0.0, 1.0)
        return w


def plan_windows(num_frames: int, window: int, overlap: int) -> WindowPlan:
    """Cut ``num_frames`` into windows of ``window`` frames overlapping by ``overlap``."""
    if num_frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {num_frames}")
    overlap = min(overlap, window // 2)
    if num_frames <= window:
        return WindowPlan(num_frames, window, (0,))
    stride = window - overlap
    starts = list(range(0, num_frames - window, stride))
    starts.append(num_frames - window)
    return WindowPlan(num_frames, window, tuple(starts))


def blend_windows(
    plan: WindowPlan, values: np.ndarray, *, reference: np.ndarray | None = None
) -> np.ndarray:
    """Blend per-window results ``(n, W, ...)`` back into a clip ``(T, ...)``.

    For quaternions pass ``reference`` (T, 4): every window's quaternion is sign-aligned with
    the reference of its frame before averaging, and the blend is renormalised.
    """
    idx = plan.frame_index()
    wts = plan.blend_weights()
    vals = values.astype(np.float64)
    if reference is not None:
        dots = np.sum(vals * np.asarray(reference, np.float64)[idx], axis=-1, keepdims=True)
        vals = np.where(dots < 0, -vals, vals)
    out = np.zeros((plan.num_frames, *values.shape[2:]), np.float64)
    total = np.zeros(plan.num_frames, np.float64)
    for i in range(len(plan.starts)):
        np.add.at(out, idx[i], wts[i].reshape((-1,) + (1,) * (vals.ndim - 2)) * vals[i])
        np.add.at(total, idx[i], wts[i])
    out /= np.maximum(total, 1e-12).reshape((-1,) + (1,) * (vals.ndim - 2))
    if reference is not None:
        out /= np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)
    return out

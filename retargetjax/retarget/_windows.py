"""Fixed solve shapes for clips of any length: overlapping windows, padded, blended back.

A clip of ``T`` frames is cut into windows of ``W`` frames starting every ``S = W − O``
frames (the last one ends at the clip's end); a clip shorter than ``W`` is one window padded
by repeating its last frame, with mask 0 on the padding. The number of windows in a solve is
rounded up to a bucket ``2^k`` or ``3·2^k`` (:func:`window_bucket`; dummy windows are fully
masked), so clips compile once per (window length, bucket) and waste at most a third.

Clips shorter than a window need not waste the rest of it: :func:`pack_clips` lays several
of them side by side on one row of ``W`` frames, each after a one-frame gap with mask 0.
Every temporal term multiplies the masks of the neighbouring frames it couples
(``m_t m_{t+1}``, ``m_t m_{t+1} m_{t+2}``), so the gap decouples the clips exactly; every
other term is per frame. Overlapping results are blended with weights that
ramp linearly across each overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ClipSlot",
    "WindowPlan",
    "blend_windows",
    "next_pow2",
    "pack_clips",
    "plan_windows",
    "window_bucket",
]


def next_pow2(n: int) -> int:
    """Smallest power of two ≥ ``n`` (and ≥ 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def window_bucket(n: int) -> int:
    """Smallest ``2^k`` or ``3·2^k`` ≥ ``n`` (1, 2, 3, 4, 6, 8, 12, 16, 24, …): padding to it
    wastes less than a third of a solve, with about two buckets per doubling of length."""
    p = next_pow2(n)
    three_quarters = 3 * p // 4
    return three_quarters if p >= 4 and three_quarters >= n else p


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


@dataclass(frozen=True)
class ClipSlot:
    """Where one clip lies in a stack of rows of ``W`` frames (see :func:`pack_clips`)."""

    plan: WindowPlan
    """The clip's own windows; a clip of at most ``W`` frames is one window of its length."""
    row: int
    """Row of its first window."""
    offset: int
    """Frame of that row where it starts (non-zero only beside another clip)."""

    @property
    def rows(self) -> slice:
        """Its rows in the stack."""
        return slice(self.row, self.row + len(self.plan.starts))

    @property
    def frames(self) -> slice:
        """Its frames within each of its rows."""
        return slice(self.offset, self.offset + self.plan.window)


def pack_clips(num_frames: Sequence[int], window: int, overlap: int) -> tuple[list[ClipSlot], int]:
    """Lay clips on rows of ``window`` frames, in the order given; returns their slots (same
    order) and the number of rows.

    A clip longer than ``window`` gets its overlapping windows (:func:`plan_windows`) on
    rows of its own. A shorter one goes on the first row of short clips with room for it
    behind a one-frame gap (first fit), else on a new row. Given the clips of some rows row
    by row, first fit never needs more rows than those: every new row it opens holds only
    clips that shared a row before.
    """
    slots: list[ClipSlot] = []
    used: dict[int, int] = {}  # row of short clips -> frames taken (gaps included)
    rows = 0
    for n in num_frames:
        n = int(n)
        if n < 1:
            raise ValueError(f"a clip needs at least one frame, got {n}")
        if n > window:
            plan = plan_windows(n, window, overlap)
            slots.append(ClipSlot(plan, rows, 0))
            rows += len(plan.starts)
            continue
        plan = WindowPlan(n, n, (0,))
        for row, taken in used.items():
            if taken + 1 + n <= window:
                slots.append(ClipSlot(plan, row, taken + 1))
                used[row] = taken + 1 + n
                break
        else:
            slots.append(ClipSlot(plan, rows, 0))
            used[rows] = n
            rows += 1
    return slots, rows


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

"""Fixed solve shapes for clips of any length: overlapping windows, padded, blended back.

A clip of ``T`` frames is cut into windows of ``W`` frames starting every ``S = W − O``
frames (``O`` the overlap): full windows ``[kS, kS + W)`` while they end before the clip
does, then one last **piece** ``[kS, T)`` of ``L ∈ (O, W]`` frames; a clip of at most ``W``
frames is a single piece. The number of windows in a solve is rounded up to a bucket
``2^k`` or ``3·2^k`` (:func:`window_bucket`; dummy windows are fully masked), so clips
compile once per (window length, bucket) and waste at most a third.

Pieces need not waste the rest of their row: :func:`pack_clips` lays full windows on rows of
their own and pieces (short clips, and the tails of long ones) side by side on shared rows
of ``W`` frames, each after a one-frame gap with mask 0. Every temporal term multiplies the
masks of the neighbouring frames it couples (``m_t m_{t+1}``, ``m_t m_{t+1} m_{t+2}``), so
the gap decouples the pieces exactly, and the solver keeps every scalar per run of valid
frames; every other term is per frame. Overlapping results are blended with weights that
ramp linearly across each overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._buckets import next_pow2

__all__ = [
    "ClipSlot",
    "WindowPlan",
    "blend_windows",
    "next_pow2",
    "pack_clips",
    "plan_windows",
    "window_bucket",
]


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

    def lengths(self) -> np.ndarray:
        """(n,) real frames of each window (``W`` but for the last piece)."""
        return np.minimum(self.window, self.num_frames - np.asarray(self.starts))

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
    """Cut ``num_frames`` into windows of ``window`` frames overlapping by ``overlap``: full
    windows every ``window − overlap`` frames, the last one a piece that ends with the clip
    and still overlaps the one before it by ``overlap`` frames."""
    if num_frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {num_frames}")
    overlap = min(overlap, window // 2)
    if num_frames <= window:
        return WindowPlan(num_frames, window, (0,))
    stride = window - overlap
    before_last = -(-(num_frames - window) // stride)  # ceil: the last start k·S has k·S+W ≥ T
    return WindowPlan(num_frames, window, tuple(range(0, before_last * stride + 1, stride)))


@dataclass(frozen=True)
class ClipSlot:
    """Where one clip's windows lie in a stack of rows of ``W`` frames (see
    :func:`pack_clips`)."""

    plan: WindowPlan
    """The clip's own windows (of the stack's ``W`` frames)."""
    places: tuple[tuple[int, int], ...]
    """``(row, offset)`` of each window: its first frame is frame ``offset`` of ``row``
    (offset non-zero only for a piece beside another)."""

    @property
    def row(self) -> int:
        """Row of its first window."""
        return self.places[0][0]

    @property
    def rows(self) -> np.ndarray:
        """Row of each window."""
        return np.array([r for r, _ in self.places], np.int64)

    @property
    def last_row(self) -> int:
        """Its highest row: once that is solved, so is the clip."""
        return max(r for r, _ in self.places)

    def windows_on(self, first_row: int, num_rows: int) -> list[int]:
        """Its windows that lie on rows ``[first_row, first_row + num_rows)``."""
        return [i for i, (r, _) in enumerate(self.places) if first_row <= r < first_row + num_rows]

    def gather(self, stack: np.ndarray) -> np.ndarray:
        """Its windows ``(n, W, …)`` from a stack ``(rows, W, …)``; slots past a piece's
        end repeat its last frame (they weigh nothing in :func:`blend_windows`)."""
        W = self.plan.window
        out = np.empty((len(self.places), W, *stack.shape[2:]), stack.dtype)
        for i, ((r, o), n) in enumerate(zip(self.places, self.plan.lengths())):
            out[i, :n] = stack[r, o : o + n]
            out[i, n:] = stack[r, o + n - 1]
        return out


def pack_clips(
    num_frames: Sequence[int], window: int, overlap: int, align: int = 1
) -> tuple[list[ClipSlot], int]:
    """Lay clips on rows of ``window`` frames, in the order given; returns their slots (same
    order) and the number of rows.

    Each clip is cut by :func:`plan_windows`. Its full windows take new rows of their own;
    its last piece (the whole clip if it is no longer than ``window``) goes on the first
    shared row with room for it behind a gap of at least one frame (first fit), starting at
    a multiple of ``align`` (the solver's ``init_stride``: the per-frame stage solves every
    ``align``-th frame of a row, so an aligned piece has the same frames solved as alone),
    else on a new row. A clip's rows are thus all opened while it is laid, so clips given
    longest first finish, row by row, in roughly that order.
    """
    if align < 1:
        raise ValueError(f"align must be at least 1, got {align}")
    slots: list[ClipSlot] = []
    taken: dict[int, int] = {}  # shared row -> frames used (gaps included)
    rows = 0
    for n in num_frames:
        n = int(n)
        if n < 1:
            raise ValueError(f"a clip needs at least one frame, got {n}")
        plan = plan_windows(n, window, overlap)
        places: list[tuple[int, int]] = []
        for length in plan.lengths().tolist():
            if length == window:
                places.append((rows, 0))
                rows += 1
                continue
            for row, used in taken.items():
                start = -(-(used + 1) // align) * align
                if start + length <= window:
                    places.append((row, start))
                    taken[row] = start + length
                    break
            else:
                places.append((rows, 0))
                taken[rows] = length
                rows += 1
        slots.append(ClipSlot(plan, tuple(places)))
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

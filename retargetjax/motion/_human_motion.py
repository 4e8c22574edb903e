"""``HumanMotion``: one clip of human motion in metres, Z up, world frame."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError

__all__ = ["HumanMotion"]


@dataclass(frozen=True, eq=False)
class HumanMotion:
    """A human motion clip: world joint positions (and orientations where known).

    Arrays are numpy (this is an edge type); positions and orientations are float32.
    """

    #: Frames per second (> 0).
    fps: float
    #: Joint names, one per joint (unique).
    joint_names: tuple[str, ...]
    #: (J,) int parent index per joint, ``-1`` for roots or where the source has no hierarchy.
    parents: np.ndarray
    #: (T, J, 3) float32 world joint positions, metres, Z up.
    positions: np.ndarray
    #: (T, J, 4) float32 world joint orientations, unit quaternions ``wxyz``, or ``None`` where
    #: the source has no orientations (keypoint files).
    orientations: np.ndarray | None = None
    #: The file the clip was read from, if any.
    source: Path | None = None
    #: The format it was read from, if any.
    format: MotionFormatKind | None = None
    #: Free-form facts about the source (units, up axis, rest offsets, ...); see each loader.
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = str(self.source) if self.source is not None else "HumanMotion"
        pos = np.ascontiguousarray(self.positions, dtype=np.float32)
        if pos.ndim != 3 or pos.shape[-1] != 3:
            raise MotionFormatError(
                f"positions have shape {pos.shape}; expected (frames, joints, 3)", path=where
            )
        T, J, _ = pos.shape
        if T == 0:
            raise MotionFormatError("the clip has zero frames; expected at least one", path=where)
        if J == 0:
            raise MotionFormatError("the clip has zero joints; expected at least one", path=where)
        if not np.all(np.isfinite(pos)):
            t, j = np.argwhere(~np.isfinite(pos))[0][:2]
            raise MotionFormatError(
                f"position of joint {j} at frame {t} is not finite; expected finite numbers",
                path=where,
            )
        names = tuple(str(n) for n in self.joint_names)
        if len(names) != J:
            raise MotionFormatError(
                f"{len(names)} joint names for {J} joints; expected one name per joint", path=where
            )
        if len(set(names)) != J:
            dup = sorted({n for n in names if names.count(n) > 1})
            raise MotionFormatError(f"duplicate joint names {dup}; expected unique", path=where)
        parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        if parents.shape != (J,) or np.any(parents < -1) or np.any(parents >= J):
            raise MotionFormatError(
                f"parents {parents.tolist()} are not (J,) indices in [-1, {J}); expected one "
                "parent index per joint",
                path=where,
            )
        if not float(self.fps) > 0 or not np.isfinite(self.fps):
            raise MotionFormatError(f"fps is {self.fps}; expected a positive number", path=where)
        ori = self.orientations
        if ori is not None:
            ori = np.ascontiguousarray(ori, dtype=np.float32)
            if ori.shape != (T, J, 4):
                raise MotionFormatError(
                    f"orientations have shape {ori.shape}; expected {(T, J, 4)} (wxyz)",
                    path=where,
                )
            if not np.all(np.isfinite(ori)):
                raise MotionFormatError("orientations are not finite", path=where)
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "orientations", ori)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "joint_names", names)
        object.__setattr__(self, "fps", float(self.fps))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))
        if self.format is not None:
            object.__setattr__(self, "format", MotionFormatKind(self.format))

    @property
    def num_frames(self) -> int:
        """Number of frames ``T``."""
        return int(self.positions.shape[0])

    @property
    def num_joints(self) -> int:
        """Number of joints ``J``."""
        return int(self.positions.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds, ``T / fps`` (each frame lasts one frame time)."""
        return self.num_frames / self.fps

    def joint_index(self, name: str) -> int:
        """Index of joint ``name``; a ``KeyError`` listing the joints otherwise."""
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise KeyError(
                f"no joint {name!r} in {self.source or 'motion'}; "
                f"joints: {', '.join(self.joint_names)}"
            ) from None

    def replace(self, **changes: Any) -> HumanMotion:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def trim(self, start: int = 0, stop: int | None = None) -> HumanMotion:
        """Frames ``[start, stop)`` (Python slice semantics, negative indices allowed).

        Raises ``ValueError`` when the range holds no frame.
        """
        sl = slice(start, stop)
        idx = range(self.num_frames)[sl]
        if len(idx) == 0:
            raise ValueError(
                f"trim({start}, {stop}) of a {self.num_frames}-frame clip holds no frame"
            )
        ori = None if self.orientations is None else self.orientations[sl]
        meta = dict(self.metadata)
        meta["trimmed_from_frame"] = int(idx[0]) + int(meta.get("trimmed_from_frame", 0))
        return dataclasses.replace(
            self, positions=self.positions[sl], orientations=ori, metadata=meta
        )

    def resample(self, fps: float) -> HumanMotion:
        """The clip at another frame rate, over the same time span.

        New frame ``k`` is at time ``t_k = k / fps_new`` for ``t_k <= (T - 1) / fps_old``.
        With ``s = t_k · fps_old``, ``i = ⌊s⌋`` and ``a = s - i``, positions are interpolated
        linearly, ``p = (1 - a) p_i + a p_{i+1}``, and orientations by slerp,
        ``q = q_i ⊗ exp(a · log(q_i* ⊗ q_{i+1}))`` (shortest path).
        """
        fps = float(fps)
        if not fps > 0 or not np.isfinite(fps):
            raise ValueError(f"resample fps must be a positive number, got {fps}")
        T = self.num_frames
        span_s = (T - 1) / self.fps
        n_new = int(np.floor(span_s * fps + 1e-6)) + 1
        s = np.arange(n_new, dtype=np.float64) * (self.fps / fps)
        s = np.clip(s, 0.0, T - 1)
        i0 = np.minimum(np.floor(s).astype(np.int64), T - 1)
        i1 = np.minimum(i0 + 1, T - 1)
        a = (s - i0).astype(np.float32)
        pos = (1.0 - a)[:, None, None] * self.positions[i0] + a[:, None, None] * self.positions[i1]
        ori = None
        if self.orientations is not None:
            from ._np_geometry import quat_slerp_np

            q0 = self.orientations[i0]
            q1 = self.orientations[i1]
            ori = quat_slerp_np(q0, q1, np.broadcast_to(a[:, None], q0.shape[:2]))
        meta = dict(self.metadata)
        meta["resampled_from_fps"] = self.fps
        return dataclasses.replace(self, fps=fps, positions=pos, orientations=ori, metadata=meta)

    def __repr__(self) -> str:
        src = f", source={self.source.name!r}" if self.source is not None else ""
        fmt = f", format={self.format.value}" if self.format is not None else ""
        ori = "yes" if self.orientations is not None else "no"
        return (
            f"HumanMotion(frames={self.num_frames}, joints={self.num_joints}, fps={self.fps:g}, "
            f"orientations={ori}{fmt}{src})"
        )

"""Clips on the solver's rows: laying clips out on rows of one window length, stacking their
frames into the solver's input (:func:`stack_windows`), and reading one clip's solution back
from the solved rows (:func:`clip_solution`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..robot import RobotModel
from ._config import RetargetConfig, SolverConfig
from ._errors import RetargetError
from ._linearize import CHUNK_FRAMES
from ._problem import FrameData, FrameState, WindowData
from ._targets import RetargetProblem
from ._windows import ClipSlot, blend_windows, next_pow2, pack_clips, window_bucket

__all__ = ["clip_solution", "plan_clip_rows", "row_alignment", "stack_windows"]


def _part_field(name: str) -> Any:
    """``stack`` getter of a per-part field (zeros for a problem built without them)."""
    from ._problem import CONTACT_PARTS

    def get(p: RetargetProblem, idx: np.ndarray) -> np.ndarray:
        value = getattr(p, name)
        if value is None:
            return np.zeros((*idx.shape, len(CONTACT_PARTS)), np.float32)
        return value[idx]

    return get


def stack_windows(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    num_rows: int,
    window: int,
    robot: RobotModel,
    *,
    first_row: int = 0,
) -> WindowData:
    """The solver's input for clips laid out by :func:`~retargetjax.retarget._windows.pack_clips`
    (``slots[i]`` places ``problems[i]``): rows ``first_row … first_row + num_rows − 1`` of
    the layout, ``window`` frames each (a clip's rows outside them are left out).

    Frames no clip owns (gaps, tails, padding rows) repeat the first clip's first frame with
    mask 0, so they are finite and never reach a cost. ``problems`` must not be empty
    (``slots`` may be: an all-padding stack).
    """

    on_rows = [(p, s, s.windows_on(first_row, num_rows)) for p, s in zip(problems, slots)]
    on_rows = [(p, s, wins) for p, s, wins in on_rows if wins]

    def stack(get: Any, fill: float | None = None) -> np.ndarray:
        """Scatter ``get(problem, frame_index)`` of each clip's windows onto the rows; frames
        no clip owns hold ``fill`` (default: the first clip's first frame)."""
        first = get(problems[0], np.zeros((1, 1), np.int64))
        out = np.empty((num_rows, window, *first.shape[2:]), np.float32)
        out[...] = first[0, 0] if fill is None else fill
        for p, s, wins in on_rows:
            values = get(p, s.plan.frame_index()[wins])
            lengths = s.plan.lengths()
            for k, i in enumerate(wins):
                row, offset = s.places[i]
                out[row - first_row, offset : offset + lengths[i]] = values[k, : lengths[i]]
        return out

    def per_frame(name: str) -> Any:
        return lambda p, idx: getattr(p, name)[idx]

    mask = stack(lambda p, idx: np.ones(idx.shape, np.float32), fill=0.0)
    default_q = np.asarray(robot.default_joint_pos, np.float32)
    frames = FrameData(
        target_keypoints=stack(per_frame("target_keypoints")),
        keypoint_weight=stack(per_frame("keypoint_frame_weight")),
        target_frames=stack(per_frame("target_frames")),
        frame_weight=stack(
            lambda p, idx: np.broadcast_to(p.frame_weight, (*idx.shape, *p.frame_weight.shape))
        ),
        sole_contact=stack(per_frame("sole_contact")),
        contact=stack(per_frame("contact")),
        mask=mask,
        part_contact=stack(_part_field("part_contact"), fill=0.0),
        part_support=stack(_part_field("part_support"), fill=0.0),
    )

    def joint_start(p, idx):
        if p.joint_pos_init is None:
            return np.broadcast_to(default_q, (*idx.shape, default_q.shape[0]))
        return p.joint_pos_init[idx]

    start = FrameState(
        root_pos=stack(per_frame("root_pos_init")),
        root_quat=stack(per_frame("root_quat_init")),
        joint_pos=stack(joint_start, fill=default_q),
    )
    return WindowData(frames=frames, start=start)


def clip_solution(
    problem: RetargetProblem, slot: ClipSlot, x: FrameState, loss: np.ndarray, robot: RobotModel
) -> dict[str, Any]:
    """One clip's ``root_pos``, ``root_quat``, ``joint_pos`` (float32, joints clipped to the
    limits) and ``final_loss`` from a solved stack (numpy ``FrameState`` and loss per row).

    Raises:
        RetargetError: the clip's solution is not finite (nothing is written for it).
    """
    root_pos = blend_windows(slot.plan, slot.gather(x.root_pos))
    root_quat = blend_windows(slot.plan, slot.gather(x.root_quat), reference=problem.root_quat_init)
    joint_pos = np.clip(
        blend_windows(slot.plan, slot.gather(x.joint_pos)),
        np.asarray(robot.joint_lower),
        np.asarray(robot.joint_upper),
    )
    # A continuous quaternion sign (q and −q are one rotation) suits trackers.
    flips = np.cumsum(np.sum(root_quat[1:] * root_quat[:-1], axis=-1) < 0) % 2
    root_quat[1:] *= np.where(flips[:, None] == 1, -1.0, 1.0)
    out = {"root_pos": root_pos, "root_quat": root_quat, "joint_pos": joint_pos}
    bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
    if bad:
        raise RetargetError(
            f"the solver produced non-finite {', '.join(bad)}; refusing to write it"
        )
    return {
        **{k: v.astype(np.float32) for k, v in out.items()},
        "final_loss": float(np.mean(loss[np.unique(slot.rows)])),
        "windows": len(slot.plan.starts),
    }


def row_alignment(solver: SolverConfig) -> int:
    """Where a clip may start in a shared row: on multiples of ``init_stride`` (the per-frame
    stage solves every ``init_stride``-th frame of a row), times
    :data:`~retargetjax.retarget._linearize.CHUNK_FRAMES` with ``init_tolerance`` (that stage
    then stops each chunk of frames on the chunk's own convergence), so a packed clip's
    frames are solved as when it is alone."""
    return solver.init_stride * (CHUNK_FRAMES if solver.init_tolerance > 0 else 1)


def plan_clip_rows(
    num_frames: Sequence[int], window: int, overlap: int, align: int = 1
) -> tuple[list[ClipSlot], int]:
    """Lay clips (by frame count) on rows of ``window`` frames, longest first
    (:func:`~retargetjax.retarget._windows.pack_clips`: first-fit decreasing for the shared
    rows of short pieces, each starting at a multiple of ``align``, the solver's
    ``init_stride``); returns each clip's slot (input order) and the number of rows."""
    order = sorted(range(len(num_frames)), key=lambda i: (-int(num_frames[i]), i))
    packed, rows = pack_clips([int(num_frames[i]) for i in order], window, overlap, align)
    slots: list[ClipSlot] = [None] * len(num_frames)  # type: ignore[list-item]
    for i, slot in zip(order, packed):
        slots[i] = slot
    return slots, rows


def _layout(
    problems: Sequence[RetargetProblem], config: RetargetConfig
) -> tuple[int, list[ClipSlot], int]:
    """Window length, clip slots and padded row count of :func:`solve_problems`."""
    sc = config.solver
    longest = max(p.num_frames for p in problems)
    # Clips all shorter than the window get a smaller power-of-two window (fewer wasted frames).
    window = min(sc.window, max(16, next_pow2(longest)))
    slots, rows = plan_clip_rows(
        [p.num_frames for p in problems], window, sc.overlap, row_alignment(sc)
    )
    return window, slots, window_bucket(rows)

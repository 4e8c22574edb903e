"""The one call: ``retarget(motion, robot, config) -> RobotMotion`` (and many clips at once)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..robot import RobotModel
from ._config import RetargetConfig
from ._problem import (
    FrameData,
    FrameState,
    SolverStatic,
    Weights,
    WindowData,
    contact_part_capsules,
)
from ._solver import solve_windows
from ._targets import RetargetError, RetargetProblem, build_problem
from ._windows import ClipSlot, blend_windows, next_pow2, pack_clips, window_bucket

__all__ = [
    "clip_solution",
    "lower_solve",
    "plan_clip_rows",
    "prepare_problem",
    "retarget",
    "retarget_many",
    "robot_motion_from_solution",
    "software_versions",
    "solve_problems",
    "solve_rows",
    "solver_compile_count",
    "stack_windows",
]


def _resolve_robot(robot: RobotModel | str) -> RobotModel:
    from ..robot import load_robot

    return robot if isinstance(robot, RobotModel) else load_robot(robot)


def prepare_problem(
    motion: Any,
    robot: RobotModel | str,
    config: RetargetConfig | None = None,
    *,
    keypoint_override: Any = None,
) -> RetargetProblem:
    """Resample ``motion`` to the solve rate, map its keypoints, label contacts, scale."""
    from ..motion import body_contacts, foot_contacts, map_keypoints

    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    source = str(motion.source) if motion.source is not None else "<motion>"
    if abs(motion.fps - config.solver.fps) > 1e-6 and motion.num_frames > 1:
        motion = motion.resample(config.solver.fps)
    kp = map_keypoints(motion, override=keypoint_override)
    contacts = foot_contacts(motion, kp)
    parts = body_contacts(motion, kp)
    problem = build_problem(
        kp.positions(motion),
        tuple(kp.names),
        contacts,
        motion.fps,
        robot,
        contact_lock=config.solver.contact_lock,
        end_effector_weight=config.costs.end_effector,
        contact_weight=config.costs.contact,
        source=source,
        body_contacts=parts,
    )
    return dataclasses.replace(problem, mapping=kp.as_report())


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
    start = FrameState(
        root_pos=stack(per_frame("root_pos_init")),
        root_quat=stack(per_frame("root_quat_init")),
        joint_pos=np.broadcast_to(default_q, (num_rows, window, default_q.shape[0])).astype(
            np.float32
        ),
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


def solve_problems(
    problems: Sequence[RetargetProblem],
    robot: RobotModel,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
) -> list[dict[str, Any]]:
    """Solve several clips for one robot together (one jitted call).

    Clips are packed on rows of one window length (:func:`pack_clips`, longest first; short
    clips share rows), and the row count is padded to a :func:`window_bucket`, so a set of
    clips compiles once per (window length, bucket).

    Returns, per clip, ``root_pos (T,3)``, ``root_quat (T,4)``, ``joint_pos (T,N)``,
    ``final_loss`` (mean cost per valid frame of the rows holding the clip, shared with the
    clips packed beside it), ``solve_s``, ``windows``, ``window`` and ``batch_windows``.
    ``device`` places the arrays (``jax.device_put``).
    """
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    if not problems:
        return []
    window, slots, n_pad = _layout(problems, config)
    t0 = time.perf_counter()
    x, loss = solve_rows(problems, slots, 0, n_pad, robot, config, window=window, device=device)
    x = jax.tree_util.tree_map(np.asarray, jax.block_until_ready(x))
    loss = np.asarray(loss)
    elapsed = time.perf_counter() - t0
    return [
        {
            **clip_solution(p, s, x, loss, robot),
            "solve_s": elapsed,
            "window": window,
            "batch_windows": n_pad,
        }
        for p, s in zip(problems, slots)
    ]


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


def solve_rows(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    first_row: int,
    num_rows: int,
    robot: RobotModel,
    config: RetargetConfig,
    *,
    window: int | None = None,
    device: Any = None,
) -> tuple[FrameState, jax.Array]:
    """Dispatch the solve of rows ``[first_row, first_row + num_rows)`` of a layout
    (``slots[i]`` places ``problems[i]``; see :func:`plan_clip_rows`) and return at once:
    the rows' ``FrameState`` with ``(num_rows, W, …)`` leaves and their losses
    ``(num_rows,)``, as JAX arrays still being computed (``jax.block_until_ready`` waits).

    ``window`` defaults to ``config.solver.window``; ``device`` places the inputs
    (``jax.device_put``). Raises :class:`RetargetError` if the problems come from different
    robots.
    """
    return solve_windows(
        *_solve_args(problems, slots, first_row, num_rows, robot, config, window, device)
    )


def has_floor_contact(problem: RetargetProblem) -> bool:
    """Whether the human puts a body part other than the feet (hands, elbows, knees,
    pelvis, back, head) on the floor in ``problem``'s clip: such a solve runs
    ``floor_contact_effort`` times the iterations (:meth:`SolverConfig.for_clips`)."""
    pc = problem.part_contact
    return pc is not None and bool(np.any(np.asarray(pc) > 0))


def _solve_args(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    first_row: int,
    num_rows: int,
    robot: RobotModel,
    config: RetargetConfig,
    window: int | None,
    device: Any,
) -> tuple[RobotModel, WindowData, Weights, jax.Array, SolverStatic]:
    """The arguments of :func:`solve_windows` for :func:`solve_rows` (same parameters)."""
    if not problems:
        raise ValueError("solve_rows needs at least one problem")
    frame_kp = problems[0].frame_keypoints
    if any(p.frame_keypoints != frame_kp for p in problems):
        raise RetargetError("problems for one solve must come from the same robot")
    sc = config.solver.for_clips(any(has_floor_contact(p) for p in problems))
    data = stack_windows(problems, slots, num_rows, window or sc.window, robot, first_row=first_row)
    static = SolverStatic.from_config(sc, frame_kp, contact_part_capsules(robot))
    weights = Weights.from_config(config.costs)
    fps = jnp.asarray(problems[0].fps, jnp.float32)
    if device is not None:
        data, weights, fps, robot = jax.device_put((data, weights, fps, robot), device)
    return robot, data, weights, fps, static


def lower_solve(
    problems: Sequence[RetargetProblem],
    robot: RobotModel | str,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
) -> tuple[jax.stages.Lowered, int]:
    """The jitted program :func:`solve_problems` runs for ``problems``, lowered (not run),
    and the number of frames it solves (rows × window, padding included): for XLA's cost
    analysis (``lower_solve(...)[0].compile().cost_analysis()``)."""
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    if not problems:
        raise ValueError("lower_solve needs at least one problem")
    window, slots, n_pad = _layout(problems, config)
    args = _solve_args(problems, slots, 0, n_pad, robot, config, window, device)

    # A fresh jit of the same function: its own trace cache, so a program traced under
    # :func:`~retargetjax.retarget._linearize.flat_loops` is traced anew (and the solver's
    # compile count is not touched).
    def program(robot, data, weights, fps, static):
        return solve_windows.__wrapped__(robot, data, weights, fps, static)

    fresh = jax.jit(program, static_argnames=("static",))
    return fresh.lower(*args), n_pad * window


def _layout(
    problems: Sequence[RetargetProblem], config: RetargetConfig
) -> tuple[int, list[ClipSlot], int]:
    """Window length, clip slots and padded row count of :func:`solve_problems`."""
    sc = config.solver
    longest = max(p.num_frames for p in problems)
    # Clips all shorter than the window get a smaller power-of-two window (fewer wasted frames).
    window = min(sc.window, max(16, next_pow2(longest)))
    slots, rows = plan_clip_rows(
        [p.num_frames for p in problems], window, sc.overlap, sc.init_stride
    )
    return window, slots, window_bucket(rows)


def solver_compile_count() -> int:
    """Compiled programs of the solver in this process (one per shape, settings, device)."""
    return solve_windows._cache_size()


def software_versions() -> dict[str, str]:
    """Versions of retargetjax and of the libraries that shape its results, for metadata
    (``"unknown"`` for a library not installed as a distribution)."""
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    out = {"retargetjax": __version__}
    for name in ("jax", "jaxlib", "optax", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def robot_motion_from_solution(
    motion: Any,
    problem: RetargetProblem,
    solution: dict[str, Any],
    robot: RobotModel,
    config: RetargetConfig,
    *,
    prepare_s: float = 0.0,
) -> Any:
    """A ``RobotMotion`` (with body poses and full metadata) from one entry of
    :func:`solve_problems`'s result, for the clip ``motion`` that ``problem`` came from."""
    from ..io import RobotMotion
    from ..robot import robot_mapping

    ran = config.solver.for_clips(has_floor_contact(problem))
    metadata = {
        "robot": robot.name,
        "source": str(motion.source) if motion.source is not None else None,
        "source_format": getattr(motion.format, "value", motion.format),
        "source_fps": float(motion.fps),
        "config": config.model_dump(),
        "versions": software_versions(),
        "solver": {
            "init_iterations": ran.init_iterations,
            "init_stride": ran.init_stride,
            "iterations": ran.iterations,
            "optimizer": config.solver.optimizer,
            "final_loss": solution["final_loss"],
            "windows": solution["windows"],
            "window": solution["window"],
            "batch_windows": solution["batch_windows"],
        },
        "timings": {"prepare_s": prepare_s, "solve_s": solution["solve_s"]},
        "scale": problem.scale,
        "keypoints": list(problem.keypoint_names),
        "robot_file": getattr(robot, "source", "") or None,
        "robot_sha256": getattr(robot, "source_sha256", "") or None,
        "mapping": {"human": problem.mapping, "robot": robot_mapping(robot)},
        "contact": problem.contact.astype(np.uint8).tolist(),
        "body_contacts": (
            problem.body_contacts.as_metadata() if problem.body_contacts is not None else None
        ),
    }
    rm = RobotMotion(
        fps=problem.fps,
        robot=robot.name,
        joint_names=tuple(robot.joint_names),
        joint_pos=solution["joint_pos"],
        root_pos=solution["root_pos"],
        root_quat=solution["root_quat"],
        metadata=metadata,
    )
    return rm.with_body_poses(robot)


def retarget_many(
    motions: Sequence[Any],
    robot: RobotModel,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
    keypoint_override: Any = None,
) -> list[Any]:
    """Retarget several clips onto one robot, vmapped together; returns ``RobotMotion`` s.

    Clips with body parts on the floor (:func:`has_floor_contact`) are solved in a call of
    their own, as they run more iterations: walks among them keep their speed."""
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    t0 = time.perf_counter()
    problems = [
        prepare_problem(m, robot, config, keypoint_override=keypoint_override) for m in motions
    ]
    t_prep = time.perf_counter() - t0
    solved: list[Any] = [None] * len(problems)
    floor = [has_floor_contact(p) for p in problems]
    for group in (False, True):
        idx = [i for i, f in enumerate(floor) if f == group]
        if idx:
            out = solve_problems([problems[i] for i in idx], robot, config, device=device)
            for i, s in zip(idx, out):
                solved[i] = s
    return [
        robot_motion_from_solution(m, p, s, robot, config, prepare_s=t_prep / len(motions))
        for m, p, s in zip(motions, problems, solved)
    ]


def retarget(
    motion: Any,
    robot: RobotModel | str,
    config: RetargetConfig | None = None,
    *,
    keypoint_override: Any = None,
) -> Any:
    """Retarget one ``HumanMotion`` onto ``robot`` (a ``RobotModel``, a bundled robot's name
    or a robot file); returns a ``RobotMotion`` at the solve rate (``config.solver.fps``)."""
    return retarget_many([motion], robot, config, keypoint_override=keypoint_override)[0]

"""The one call: ``retarget(motion, robot, config) -> RobotMotion`` (and many clips at once)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._config import RetargetConfig
from ._solver import WEIGHT_NAMES, SolverStatic, WindowData, solve_windows
from ._targets import RetargetError, RetargetProblem, build_problem
from ._windows import ClipSlot, blend_windows, next_pow2, pack_clips, window_bucket

__all__ = [
    "prepare_problem",
    "retarget",
    "retarget_many",
    "robot_motion_from_solution",
    "solve_problems",
]


def _resolve_robot(robot: Any) -> Any:
    from ..robot import RobotModel, load_robot

    return robot if isinstance(robot, RobotModel) else load_robot(robot)


def prepare_problem(
    motion: Any, robot: Any, config: RetargetConfig | None = None, *, keypoint_override: Any = None
) -> RetargetProblem:
    """Resample ``motion`` to the solve rate, map its keypoints, label contacts, scale."""
    from ..motion import foot_contacts, map_keypoints

    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    source = str(motion.source) if motion.source is not None else "<motion>"
    if abs(motion.fps - config.solver.fps) > 1e-6 and motion.num_frames > 1:
        motion = motion.resample(config.solver.fps)
    kp = map_keypoints(motion, override=keypoint_override)
    contacts = foot_contacts(motion, kp)
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
    )
    return dataclasses.replace(problem, mapping=kp.as_report())


def _weights(config: RetargetConfig) -> np.ndarray:
    return np.array([getattr(config.costs, n) for n in WEIGHT_NAMES], np.float32)


def stack_windows(
    problems: Sequence[RetargetProblem],
    slots: Sequence[ClipSlot],
    num_rows: int,
    window: int,
    robot: Any,
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
    return WindowData(
        target_keypoints=stack(per_frame("target_keypoints")),
        keypoint_weight=stack(per_frame("keypoint_frame_weight")),
        target_frames=stack(per_frame("target_frames")),
        frame_weight=stack(
            lambda p, idx: np.broadcast_to(p.frame_weight, (*idx.shape, *p.frame_weight.shape))
        ),
        sole_contact=stack(per_frame("sole_contact")),
        contact=stack(per_frame("contact")),
        mask=mask,
        root_pos=stack(per_frame("root_pos_init")),
        root_quat=stack(per_frame("root_quat_init")),
        joint_pos=np.broadcast_to(default_q, (num_rows, window, default_q.shape[0])).astype(
            np.float32
        ),
    )


def unstack_clip(
    problem: RetargetProblem, slot: ClipSlot, x: Any, loss: np.ndarray, robot: Any
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
    robot: Any,
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
    sc = config.solver
    if not problems:
        return []
    frame_kp = problems[0].frame_keypoints
    if any(p.frame_keypoints != frame_kp for p in problems):
        raise RetargetError("problems for one solve must come from the same robot")
    longest = max(p.num_frames for p in problems)
    # Clips all shorter than the window get a smaller power-of-two window (fewer wasted frames).
    window = min(sc.window, max(16, next_pow2(longest)))
    order = sorted(range(len(problems)), key=lambda i: (-problems[i].num_frames, i))
    packed, rows = pack_clips([problems[i].num_frames for i in order], window, sc.overlap)
    slots: list[ClipSlot] = [None] * len(problems)  # type: ignore[list-item]
    for i, slot in zip(order, packed):
        slots[i] = slot
    n_pad = window_bucket(rows)
    data = stack_windows(problems, slots, n_pad, window, robot)
    static = SolverStatic.from_config(sc, frame_kp)
    weights = jnp.asarray(_weights(config))
    fps = jnp.asarray(problems[0].fps, jnp.float32)
    if device is not None:
        data, weights, fps, robot = jax.device_put((data, weights, fps, robot), device)
    t0 = time.perf_counter()
    x, loss = solve_windows(robot, data, weights, fps, static)
    x = jax.tree_util.tree_map(np.asarray, jax.block_until_ready(x))
    loss = np.asarray(loss)
    elapsed = time.perf_counter() - t0
    return [
        {
            **unstack_clip(p, s, x, loss, robot),
            "solve_s": elapsed,
            "window": window,
            "batch_windows": n_pad,
        }
        for p, s in zip(problems, slots)
    ]


def _versions() -> dict[str, str]:
    import optax

    from .. import __version__

    return {
        "retargetjax": __version__,
        "jax": jax.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
    }


def robot_motion_from_solution(
    motion: Any,
    problem: RetargetProblem,
    solution: dict[str, Any],
    robot: Any,
    config: RetargetConfig,
    *,
    prepare_s: float = 0.0,
) -> Any:
    """A ``RobotMotion`` (with body poses and full metadata) from one entry of
    :func:`solve_problems`'s result, for the clip ``motion`` that ``problem`` came from."""
    from ..io import RobotMotion
    from ..robot import robot_mapping

    metadata = {
        "robot": robot.name,
        "source": str(motion.source) if motion.source is not None else None,
        "source_format": getattr(motion.format, "value", motion.format),
        "source_fps": float(motion.fps),
        "config": config.model_dump(),
        "versions": _versions(),
        "solver": {
            "init_iterations": config.solver.init_iterations,
            "iterations": config.solver.iterations,
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
    robot: Any,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
    keypoint_override: Any = None,
) -> list[Any]:
    """Retarget several clips onto one robot, vmapped together; returns ``RobotMotion`` s."""
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    t0 = time.perf_counter()
    problems = [
        prepare_problem(m, robot, config, keypoint_override=keypoint_override) for m in motions
    ]
    t_prep = time.perf_counter() - t0
    solved = solve_problems(problems, robot, config, device=device)
    return [
        robot_motion_from_solution(m, p, s, robot, config, prepare_s=t_prep / len(motions))
        for m, p, s in zip(motions, problems, solved)
    ]


def retarget(
    motion: Any, robot: Any, config: RetargetConfig | None = None, *, keypoint_override: Any = None
) -> Any:
    """Retarget one ``HumanMotion`` onto ``robot`` (a ``RobotModel``, a bundled robot's name
    or a robot file); returns a ``RobotMotion`` at the solve rate (``config.solver.fps``)."""
    return retarget_many([motion], robot, config, keypoint_override=keypoint_override)[0]

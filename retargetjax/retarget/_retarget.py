"""The one call: ``retarget(motion, robot, config) -> RobotMotion`` (and many clips at once)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._config import RetargetConfig
from ._solver import WEIGHT_NAMES, SolverStatic, WindowData, solve_windows
from ._targets import RetargetError, RetargetProblem, build_problem
from ._windows import WindowPlan, blend_windows, next_pow2, plan_windows

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
    return build_problem(
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


@dataclass(frozen=True)
class _Slot:
    problem: RetargetProblem
    plan: WindowPlan
    first: int  # index of its first window in the stacked batch


def _weights(config: RetargetConfig) -> np.ndarray:
    return np.array([getattr(config.costs, n) for n in WEIGHT_NAMES], np.float32)


def solve_problems(
    problems: Sequence[RetargetProblem],
    robot: Any,
    config: RetargetConfig | None = None,
    *,
    device: Any = None,
) -> list[dict[str, Any]]:
    """Solve several clips for one robot together (one jitted call per window length).

    Returns, per clip, ``root_pos (T,3)``, ``root_quat (T,4)``, ``joint_pos (T,N)``,
    ``final_loss`` and ``solve_s``. ``device`` places the arrays (``jax.device_put``).
    """
    config = config or RetargetConfig()
    robot = _resolve_robot(robot)
    sc = config.solver
    if not problems:
        return []
    longest = max(p.num_frames for p in problems)
    # Clips all shorter than the window get a smaller power-of-two window (fewer wasted frames).
    window = min(sc.window, max(16, next_pow2(longest)))
    slots, first = [], 0
    for p in problems:
        plan = plan_windows(p.num_frames, window, sc.overlap)
        slots.append(_Slot(p, plan, first))
        first += len(plan.starts)
    n_pad = next_pow2(first)
    N = len(robot.joint_names)

    def stack(get, dtype=np.float32):
        parts = [get(s) for s in slots]
        arr = np.concatenate(parts, axis=0)
        pad = n_pad - arr.shape[0]
        if pad:
            arr = np.concatenate([arr, np.repeat(arr[:1], pad, axis=0)], axis=0)
        return arr.astype(dtype)

    default_q = np.asarray(robot.default_joint_pos, np.float32)
    data = WindowData(
        target_keypoints=stack(lambda s: s.problem.target_keypoints[s.plan.frame_index()]),
        keypoint_weight=stack(lambda s: s.problem.keypoint_frame_weight[s.plan.frame_index()]),
        target_frames=stack(lambda s: s.problem.target_frames[s.plan.frame_index()]),
        frame_weight=stack(
            lambda s: np.broadcast_to(
                s.problem.frame_weight, (len(s.plan.starts), *s.problem.frame_weight.shape)
            )
        ),
        sole_contact=stack(lambda s: s.problem.sole_contact[s.plan.frame_index()]),
        contact=stack(lambda s: s.problem.contact[s.plan.frame_index()]),
        mask=np.concatenate(
            [
                np.concatenate([s.plan.mask() for s in slots], axis=0),
                np.zeros((n_pad - first, window), np.float32),
            ],
            axis=0,
        ),
        root_pos=stack(lambda s: s.problem.root_pos_init[s.plan.frame_index()]),
        root_quat=stack(lambda s: s.problem.root_quat_init[s.plan.frame_index()]),
        joint_pos=np.broadcast_to(default_q, (n_pad, window, N)).astype(np.float32),
    )
    frame_kp = problems[0].frame_keypoints
    if any(p.frame_keypoints != frame_kp for p in problems):
        raise RetargetError("problems for one solve must come from the same robot")
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

    results = []
    lower = np.asarray(robot.joint_lower)
    upper = np.asarray(robot.joint_upper)
    for s in slots:
        sl = slice(s.first, s.first + len(s.plan.starts))
        root_pos = blend_windows(s.plan, x.root_pos[sl])
        root_quat = blend_windows(s.plan, x.root_quat[sl], reference=s.problem.root_quat_init)
        joint_pos = np.clip(blend_windows(s.plan, x.joint_pos[sl]), lower, upper)
        # A continuous quaternion sign makes the output friendlier to trackers.
        flips = np.cumsum(np.sum(root_quat[1:] * root_quat[:-1], axis=-1) < 0) % 2
        root_quat[1:] *= np.where(flips[:, None] == 1, -1.0, 1.0)
        out = {"root_pos": root_pos, "root_quat": root_quat, "joint_pos": joint_pos}
        for k, v in out.items():
            if not np.all(np.isfinite(v)):
                raise RetargetError(f"the solver produced non-finite {k}; refusing to write it")
        results.append(
            {
                **{k: v.astype(np.float32) for k, v in out.items()},
                "final_loss": float(np.mean(loss[sl])),
                "solve_s": elapsed,
                "windows": len(s.plan.starts),
                "window": window,
                "batch_windows": n_pad,
            }
        )
    return results


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

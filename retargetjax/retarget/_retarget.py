"""The one call: ``retarget(motion, robot, config) -> RobotMotion`` (and many clips at once).

Laying clips on the solver's rows is in ``_clip_rows``, solving them together in
``_solve_clips``; this module prepares each clip's problem and turns solutions into
``RobotMotion`` s.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..robot import RobotModel
from ._config import RetargetConfig
from ._solve_clips import _resolve_robot, has_floor_contact, solve_problems
from ._targets import RetargetProblem, build_problem

__all__ = [
    "prepare_problem",
    "retarget",
    "retarget_many",
    "robot_motion_from_solution",
    "software_versions",
]


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
            "warm_start": ran.warm_start,
            "init_tolerance": ran.init_tolerance,
            "still_feet_effort": ran.still_feet_effort,
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

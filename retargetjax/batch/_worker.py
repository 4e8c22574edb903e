"""The retarget worker: what one batch job does, split into prepare → solve → finish.

:class:`RetargetWorker` is a :class:`~retargetjax.batch.BatchWorker` (pickleable: a frozen
dataclass of plain settings) for :class:`~retargetjax.batch.BatchRunner`, one clip per call.
The grouped path (:func:`~retargetjax.batch.run_grouped`) uses the same object's
:meth:`RetargetWorker.prepare` and :meth:`RetargetWorker.finish` around one shared, vmapped
solve, so both paths load, scale, write and record a job the same way.

Per-job settings: a job's ``config_path`` names an experiment file (``# @package _global_``
Hydra overrides of ``configs/``, normally under ``experiments/``); the job's settings are then
composed with Hydra's compose API from the worker's primary config (``batch``), the worker's
own overrides, and the experiment. :meth:`JobSettings.key` hashes everything that changes a
solve, so jobs with different settings are never solved together.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._models import BatchJob

__all__ = [
    "JobSettings",
    "PreparedJob",
    "RetargetWorker",
    "compose_config",
    "experiments_dir",
    "resolve_experiment",
]


def experiments_dir() -> Path:
    """The project's ``experiments/`` folder (beside ``configs/``)."""
    from ..apps import configs_dir

    return configs_dir().parent / "experiments"


def resolve_experiment(config_path: str | os.PathLike[str]) -> Path:
    """An experiment file from a path, or a bare name looked up in :func:`experiments_dir`.

    Raises:
        FileNotFoundError: neither exists (the message names both places looked at).
    """
    path = Path(config_path).expanduser()
    if path.is_file():
        return path.resolve()
    candidates = [experiments_dir() / path, experiments_dir() / f"{path}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        f"experiment config {config_path!s} not found; expected a YAML file at that path or "
        f"at {candidates[1]}"
    )


_COMPOSE_LOCK = threading.Lock()


def compose_config(
    overrides: Sequence[str] = (),
    *,
    config_path: str | os.PathLike[str] | None = None,
    config_name: str = "batch",
) -> Any:
    """Compose ``configs/<config_name>.yaml`` with ``overrides`` and an experiment file.

    The experiment (``# @package _global_``, may hold ``defaults: [override /solver: fast]``)
    is added as the config group named after its folder (``+experiments=NAME`` for
    ``experiments/NAME.yaml``) with its folder's parent on Hydra's search path, after the
    primary config, so it overrides the defaults; ``overrides`` (command-line style) are
    applied last and win over both. Works inside a running Hydra app too (the app's global
    Hydra state is restored afterwards).

    Returns:
        The composed ``DictConfig``.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from ..apps import configs_dir

    extra: list[str] = []
    if config_path is not None:
        experiment = resolve_experiment(config_path)
        extra = [
            f"hydra.searchpath=[file://{experiment.parent.parent}]",
            f"+{experiment.parent.name}={experiment.stem}",
        ]
    with _COMPOSE_LOCK:
        global_hydra = GlobalHydra.instance()
        saved = global_hydra.hydra if global_hydra.is_initialized() else None
        global_hydra.clear()
        try:
            with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
                return compose(config_name=config_name, overrides=[*extra, *overrides])
        finally:
            global_hydra.clear()
            if saved is not None:
                global_hydra.initialize(saved)


@dataclass(frozen=True)
class JobSettings:
    """Everything that decides how a job is solved and written (plain data, pickleable).

    Jobs with equal :meth:`key` may share one solve.
    """

    robot: str
    """A bundled robot's name (``unitree_g1``) or a robot file (MJCF/URDF)."""
    config: Any
    """The solver's :class:`~retargetjax.retarget.RetargetConfig`."""
    robot_keypoints: str | None = None
    """YAML mapping canonical keypoints to the robot's links (odd robot files)."""
    motion_options: tuple[tuple[str, Any], ...] = ()
    """Loader options (``units``, ``up_axis``, ``fps``, ``body_model`` …), sorted items."""
    keypoint_override: str | None = None
    """YAML override of the human joint → canonical keypoint mapping."""
    output_fps: float | None = None
    """Resample outputs to this rate (Hz); ``None`` keeps the solve rate."""
    experiment: str | None = None
    """The experiment file the settings were composed with, if any (for provenance)."""

    @classmethod
    def from_hydra(cls, cfg: Any, *, experiment: str | None = None) -> JobSettings:
        """Settings of a composed Hydra config (``robot``, ``motion``, ``solver``, ``costs``,
        ``fps``)."""
        from omegaconf import OmegaConf

        from ..apps.retarget import config_from_hydra

        options = cfg.motion.get("options") if "motion" in cfg else None
        options = OmegaConf.to_container(options, resolve=True) if options else {}
        robot = cfg.robot.get("path") or cfg.robot.name
        fps = cfg.get("fps")
        return cls(
            robot=str(robot),
            config=config_from_hydra(cfg),
            robot_keypoints=_opt_str(cfg.robot.get("keypoints")),
            motion_options=tuple(sorted(options.items())),
            keypoint_override=_opt_str(cfg.motion.get("keypoints")) if "motion" in cfg else None,
            output_fps=float(fps) if fps else None,
            experiment=experiment,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (provenance, hashing)."""
        return {
            "robot": self.robot,
            "robot_keypoints": self.robot_keypoints,
            "config": self.config.model_dump(mode="json"),
            "motion_options": {k: _jsonable(v) for k, v in self.motion_options},
            "keypoint_override": self.keypoint_override,
            "output_fps": self.output_fps,
        }

    def key(self) -> str:
        """Short SHA-256 of :meth:`as_dict` (the experiment's name is not part of it)."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


@dataclass
class PreparedJob:
    """A job after loading and target building, ready to be solved."""

    job: BatchJob
    settings: JobSettings
    motion: Any
    problem: Any
    robot: Any
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        """Frames at the solve rate."""
        return self.problem.num_frames


_ROBOTS: dict[tuple[str, str | None], Any] = {}
_ROBOTS_LOCK = threading.Lock()
_SETTINGS: dict[tuple[str, str], JobSettings] = {}


def _robot(target: str, keypoints: str | None) -> Any:
    """Robot models are loaded once per process (they are pytrees with static topology)."""
    from ..robot import load_robot

    with _ROBOTS_LOCK:
        key = (target, keypoints)
        if key not in _ROBOTS:
            _ROBOTS[key] = load_robot(target, keypoints_yaml=keypoints, verbose=False)
        return _ROBOTS[key]


def _load(job: BatchJob, settings: JobSettings) -> Any:
    """The job's motion; a file that cannot be read at all (truncated or empty archive)
    raises a :class:`~retargetjax.motion.MotionFormatError` naming it."""
    import zipfile

    from ..motion import MotionFormatError, load_motion

    try:
        return load_motion(job.motion, format=job.motion_format, **dict(settings.motion_options))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise MotionFormatError(
            f"{job.motion}: cannot read the file ({type(exc).__name__}: {exc}); expected a "
            "complete motion file (truncated or still being copied?)"
        ) from exc


@dataclass(frozen=True)
class RetargetWorker:
    """Retargets one :class:`BatchJob`: load, scale, solve, write ``job.output`` atomically.

    Pickleable (plain settings), so ``BatchRunner.run(jobs, worker, max_workers=4)`` works;
    the grouped path calls :meth:`prepare` and :meth:`finish` around a shared solve.

    Attributes:
        settings: defaults of every job (robot, solver and cost settings, loader options).
        overrides: the Hydra overrides ``settings`` came from; a job naming an experiment
            file is composed from ``config_name`` + the experiment + these overrides.
        config_name: primary Hydra config for composing per-job settings.
        metrics: also write ``<output stem>.metrics.json`` (quality metrics) per job.
    """

    settings: JobSettings
    overrides: tuple[str, ...] = ()
    config_name: str = "batch"
    metrics: bool = False

    @classmethod
    def from_hydra(cls, cfg: Any, overrides: Sequence[str] = (), **kwargs: Any) -> RetargetWorker:
        """A worker whose defaults are a composed config (see :meth:`JobSettings.from_hydra`)."""
        return cls(settings=JobSettings.from_hydra(cfg), overrides=tuple(overrides), **kwargs)

    # ----------------------------------------------------------------- settings
    def settings_for(self, job: BatchJob) -> JobSettings:
        """The job's settings: the worker's, recomposed with ``job.config_path`` when set,
        with ``job.robot`` (when set) as the robot."""
        settings = self.settings
        if job.config_path is not None:
            cache_key = (str(job.config_path), json.dumps(self.overrides))
            if cache_key not in _SETTINGS:
                experiment = resolve_experiment(job.config_path)
                cfg = compose_config(
                    self.overrides, config_path=experiment, config_name=self.config_name
                )
                _SETTINGS[cache_key] = JobSettings.from_hydra(cfg, experiment=str(experiment))
            settings = _SETTINGS[cache_key]
        if job.robot is not None and settings.robot != job.robot.value:
            settings = JobSettings(
                robot=job.robot.value,
                config=settings.config,
                robot_keypoints=None,
                motion_options=settings.motion_options,
                keypoint_override=settings.keypoint_override,
                output_fps=settings.output_fps,
                experiment=settings.experiment,
            )
        return settings

    # ------------------------------------------------------------------ stages
    def prepare(self, job: BatchJob) -> PreparedJob:
        """Load the job's motion and robot and build its targets (numpy, no solve).

        Raises:
            MotionFormatError: unreadable, truncated or unknown motion file (names the file).
            RetargetError: a motion that cannot be retargeted (e.g. a keypoint NaN throughout).
        """
        from ..retarget import prepare_problem

        settings = self.settings_for(job)
        t0 = time.perf_counter()
        robot = _robot(settings.robot, settings.robot_keypoints)
        motion = _load(job, settings)
        t1 = time.perf_counter()
        problem = prepare_problem(
            motion, robot, settings.config, keypoint_override=settings.keypoint_override
        )
        t2 = time.perf_counter()
        return PreparedJob(
            job=job,
            settings=settings,
            motion=motion,
            problem=problem,
            robot=robot,
            timings={"load_s": t1 - t0, "prepare_s": t2 - t1},
        )

    def finish(
        self, prepared: PreparedJob, solution: dict[str, Any], **provenance: Any
    ) -> dict[str, Any]:
        """Build the job's ``RobotMotion`` from its solution, write it atomically, and return
        its provenance (``provenance`` given here is merged in, e.g. device and group)."""
        from ..retarget import robot_motion_from_solution, software_versions

        t0 = time.perf_counter()
        settings, job = prepared.settings, prepared.job
        result = robot_motion_from_solution(
            prepared.motion,
            prepared.problem,
            solution,
            prepared.robot,
            settings.config,
            prepare_s=prepared.timings.get("prepare_s", 0.0),
        )
        result.metadata["batch"] = {"job_id": job.id, "config_hash": settings.key()}
        if settings.output_fps:
            result = result.resample(settings.output_fps)
        job.output.parent.mkdir(parents=True, exist_ok=True)
        result.save(job.output)
        write_s = time.perf_counter() - t0
        from ..retarget import has_floor_contact

        ran = settings.config.solver.for_clips(has_floor_contact(prepared.problem))
        record: dict[str, Any] = {
            "robot": prepared.robot.name,
            "motion_format": getattr(prepared.motion.format, "value", prepared.motion.format),
            "frames": prepared.num_frames,
            "output_frames": int(result.num_frames),
            "fps": float(result.fps),
            "window": solution["window"],
            "windows": solution["windows"],
            "batch_windows": solution["batch_windows"],
            "init_iterations": ran.init_iterations,
            "init_stride": ran.init_stride,
            "warm_start": ran.warm_start,
            "init_tolerance": ran.init_tolerance,
            "still_feet_effort": ran.still_feet_effort,
            "iterations": ran.iterations,
            "final_loss": float(solution["final_loss"]),
            "timings": {**prepared.timings, "solve_s": solution["solve_s"], "write_s": write_s},
            "config_hash": settings.key(),
            "versions": software_versions(),
            **provenance,
        }
        if settings.experiment is not None:
            record["experiment"] = settings.experiment
        if self.metrics:
            record["metrics"] = str(self._write_metrics(prepared, result))
        return record

    def _write_metrics(self, prepared: PreparedJob, result: Any) -> Path:
        from ..evaluation import compute_metrics, human_reference
        from ._manifest_io import write_json_atomic

        ref = human_reference(
            prepared.motion,
            prepared.robot,
            result.num_frames,
            result.fps,
            config=prepared.settings.config,
            keypoint_override=prepared.settings.keypoint_override,
        )
        metrics = compute_metrics(
            result,
            prepared.robot,
            targets=ref.targets,
            target_weight=ref.target_weight,
            contact=ref.contact,
        )
        path = prepared.job.output.with_suffix(".metrics.json")
        return write_json_atomic(path, {k: float(v) for k, v in metrics.items()})

    def __call__(self, job: BatchJob) -> dict[str, Any]:
        """Retarget ``job`` alone on the default device; return its provenance."""
        import jax

        from ..retarget import solve_problems

        prepared = self.prepare(job)
        device = jax.devices()[0]
        solution = solve_problems([prepared.problem], prepared.robot, prepared.settings.config)[0]
        return self.finish(prepared, solution, devices=[str(device)], group=None)

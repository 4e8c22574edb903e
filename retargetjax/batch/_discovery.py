"""Job discovery: a folder and a glob pattern become :class:`BatchJob` s with stable ids.

A file ``input_dir/a/b/clip.bvh`` becomes the job ``id="a/b/clip"`` (its path relative to
``input_dir``, POSIX separators, without the extension) whose output mirrors the input tree:
``output_dir/a/b/clip.npz``. Ids therefore survive reruns, new files and other machines, which
is what resuming from a manifest relies on. Two inputs that differ only by their extension
(``clip.bvh`` and ``clip.npz``) keep the extension in their ids (``a/b/clip.bvh``) and outputs
(``a/b/clip.bvh.npz``) so that neither overwrites the other.
"""

from __future__ import annotations

import os
import zipfile
from collections import Counter
from pathlib import Path

from ..types import MotionFormatKind, RobotKind
from ._models import BatchJob

__all__ = ["discover_jobs", "job_id_for"]

#: Output suffixes the writer understands (``RobotMotion.save`` picks the format from it).
_OUTPUT_SUFFIXES = (".npz", ".csv", ".pkl")


def job_id_for(path: Path, input_dir: Path, *, keep_suffix: bool = False) -> str:
    """The stable id of ``path``: relative to ``input_dir``, POSIX, extension dropped."""
    relative = path.relative_to(input_dir)
    if not keep_suffix:
        relative = relative.with_suffix("")
    return relative.as_posix()


def _is_hidden(relative: Path) -> bool:
    # Temp files of atomic writes (".name.xxxx.tmp") and dot-folders are never inputs.
    return any(part.startswith(".") for part in relative.parts)


def discover_jobs(
    input_dir: str | os.PathLike[str],
    pattern: str = "**/*.bvh",
    output_dir: str | os.PathLike[str] | None = None,
    *,
    output_suffix: str = ".npz",
    motion_format: MotionFormatKind | str | None = None,
    robot: RobotKind | str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    detect_format: bool = True,
) -> list[BatchJob]:
    """Collect the motion files under ``input_dir`` matching ``pattern`` as jobs.

    Args:
        input_dir: root folder of the dataset.
        pattern: glob relative to ``input_dir``; ``**`` matches any depth
            (``"**/*.bvh"``, ``"CMU/**/*_poses.npz"``). Hidden files and folders (a leading
            dot, e.g. stray temp files of atomic writes) are ignored, and so is anything under
            ``output_dir`` when it lies inside ``input_dir``.
        output_dir: root of the outputs (mirrors the input tree); defaults to
            ``input_dir/retargeted``.
        output_suffix: ``.npz`` (native), ``.csv`` or ``.pkl``.
        motion_format: force a format for every file; ``None`` detects each file's format
            (a file whose format cannot be detected — unknown, empty, truncated — gets
            ``None`` and becomes a job that fails in the worker with the loader's message;
            discovery never opens a file in a way that can stop it).
        robot: the robot of every job (a bundled robot's name); ``None`` leaves it to the
            worker (e.g. a robot file from the config).
        config_path: experiment file for every job (see :class:`BatchJob`).
        detect_format: read each file's head to fill ``motion_format`` (off: leave ``None``).

    Returns:
        Jobs sorted by id; ``provenance`` holds ``relative_path``.

    Raises:
        FileNotFoundError: ``input_dir`` is not a folder.
        ValueError: an empty or absolute ``pattern``, or an unknown ``output_suffix``.
    """
    from ..motion import MotionFormatError, detect_motion_format

    input_dir = Path(input_dir).expanduser().resolve()
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input_dir {input_dir} is not a folder; expected the dataset root")
    if not pattern or Path(pattern).is_absolute():
        raise ValueError(
            f"pattern {pattern!r}: expected a glob relative to input_dir, e.g. '**/*.bvh'"
        )
    if output_suffix not in _OUTPUT_SUFFIXES:
        raise ValueError(f"output_suffix {output_suffix!r}: expected one of {_OUTPUT_SUFFIXES}")
    out_root = (
        Path(output_dir).expanduser().resolve()
        if output_dir is not None
        else input_dir / "retargeted"
    )
    forced = MotionFormatKind(motion_format) if isinstance(motion_format, str) else motion_format
    robot_kind = RobotKind(robot) if isinstance(robot, str) else robot

    files: list[Path] = []
    for path in input_dir.glob(pattern):
        if not path.is_file():
            continue
        if out_root != input_dir and out_root in path.parents:
            continue
        if _is_hidden(path.relative_to(input_dir)):
            continue
        files.append(path)
    stems = Counter(job_id_for(p, input_dir) for p in files)

    jobs = []
    for path in files:
        keep_suffix = stems[job_id_for(path, input_dir)] > 1
        job_id = job_id_for(path, input_dir, keep_suffix=keep_suffix)
        kind = forced
        if kind is None and detect_format:
            try:
                kind = detect_motion_format(path)
            except (MotionFormatError, OSError, ValueError, EOFError, zipfile.BadZipFile):
                # Unreadable (truncated, empty, unknown): never stop discovery for one
                # file; its job fails in the worker with the loader's message.
                kind = None
        jobs.append(
            BatchJob(
                id=job_id,
                motion=path,
                output=out_root / (job_id + output_suffix),
                motion_format=kind,
                robot=robot_kind,
                config_path=Path(config_path) if config_path is not None else None,
                provenance={"relative_path": path.relative_to(input_dir).as_posix()},
            )
        )
    jobs.sort(key=lambda job: job.id)
    return jobs

"""The grouped batch over several CPU processes, each held to its own cores.

On a CPU one solve runs on about one core: XLA's CPU backend splits few of the solver's
small batched operations over threads (``benchmarks/bench_cores.py``: held to one core, the
one-minute walk solves as fast as with both cores of a 2-core machine), and two solves in
one process share its runtime and gain only ≈ 1.3×, while two processes, each on its own
core, solve twice as many frames per second. :func:`run_grouped_processes` therefore splits
the jobs still to run over ``P`` processes (``spawn``), process ``i`` held to cores
``i, i + P, …`` of this process's, each running :func:`~retargetjax.batch.run_grouped` on
its share with a **part manifest** of its own beside the run's
(``manifest.process-I-of-P.json``; one writer per file, every write atomic).

The run's manifest is the one a user reads and resumes from: it is planned with the usual
resume rules before any process starts, and when the processes end (or stop: Ctrl-C, a
crash) their records are merged into it and the part manifests deleted. Part manifests left
by a run that was killed outright are merged at the start of the next run, so no finished
job is lost or redone. Jobs of a process that died without a record are recorded
``failed`` (the next run retries them).

Each process compiles the solver for itself (at the same time as the others, so the wall
time is one compile; ``compile_cache=DIR`` lets later runs load it) and holds its own
arrays: memory grows with ``P`` (≈ 2.3 GB peak per process for the default 16 rows of
256 frames).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from ._models import BatchJob, BatchManifest
from ._run_common import check_jobs, failure, make_record, progress_bar, start_run
from ._worker import RetargetWorker

__all__ = ["cpu_process_count", "part_manifest_path", "run_grouped_processes"]


def cpu_process_count(processes: int | str | None) -> int:
    """Processes for ``processes``: an int ≥ 1, or ``"auto"`` for one per core this
    process may use.

    Raises:
        ValueError: anything else, naming what was expected.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if processes is None:
        return 1
    if isinstance(processes, str) and processes.strip().lower() == "auto":
        return max(1, cores or 1)
    try:
        count = int(processes)
    except (TypeError, ValueError):
        count = 0
    if count < 1 or str(processes).strip() != str(count):
        raise ValueError(f"processes={processes}: expected a whole number >= 1 or 'auto'")
    return count


def part_manifest_path(manifest_path: Path, index: int, count: int) -> Path:
    """``manifest.process-I-of-P.json`` beside ``manifest_path`` (``manifest.json``)."""
    return manifest_path.with_name(f"{manifest_path.stem}.process-{index}-of-{count}.json")


def _part_manifests(manifest_path: Path) -> list[Path]:
    return sorted(manifest_path.parent.glob(f"{manifest_path.stem}.process-*-of-*.json"))


def _merge_parts(manifest_path: Path, parts: Sequence[Path], state: Any = None) -> None:
    """Records of the part manifests into the run's manifest (into ``state`` when given,
    else into the file directly), then the parts deleted. An unreadable part is kept."""
    records = []
    readable = []
    for part in parts:
        try:
            records += BatchManifest.load(part).records
            readable.append(part)
        except Exception:  # a torn or foreign file: leave it for the user
            continue
    if not readable:
        return
    if state is not None:
        for record in records:
            state.set(record)
        state.write()
    else:
        from ._shards import merge_manifests

        sources = ([manifest_path] if manifest_path.exists() else []) + readable
        merge_manifests(sources, output=manifest_path)
    for part in readable:
        part.unlink(missing_ok=True)


def _run_part(
    cpus: list[int],
    jobs: list[BatchJob],
    worker: RetargetWorker,
    part: str,
    options: dict[str, Any],
) -> int:
    """One process's share (in the spawned process): held to ``cpus``, then
    :func:`~retargetjax.batch.run_grouped` on ``jobs`` (all of them run: the parent already
    applied the resume rules) with the part manifest ``part``."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))
    import jax

    from ._grouped import run_grouped

    run_grouped(
        jobs,
        worker,
        manifest_path=part,
        force=True,
        devices=jax.devices("cpu")[:1],
        progress=False,
        **options,
    )
    return len(jobs)


def run_grouped_processes(
    jobs: Iterable[BatchJob],
    worker: RetargetWorker,
    *,
    processes: int,
    manifest_path: str | Path,
    force: bool = False,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    pattern: str = "",
    progress: bool | None = None,
    max_windows: int | None = None,
    chunk_jobs: int = 1024,
) -> BatchManifest:
    """:func:`~retargetjax.batch.run_grouped` over ``processes`` CPU processes (module
    docstring): same jobs, resume rules, outputs and manifest.

    Args:
        processes: worker processes (≥ 1; 1 runs :func:`run_grouped` in this process).
        jobs, manifest_path, force, input_dir, output_dir, pattern, progress, max_windows,
            chunk_jobs: as for :func:`~retargetjax.batch.run_grouped`.

    Returns:
        The run's manifest as last written.

    Raises:
        ValueError, ManifestError: as :func:`run_grouped`, before anything is written.
        KeyboardInterrupt: after the manifest holds every job the processes finished.
    """
    jobs = list(jobs)
    manifest_path = Path(manifest_path)
    if processes < 1:
        raise ValueError(f"processes={processes}: expected >= 1")
    options = {"max_windows": max_windows, "chunk_jobs": chunk_jobs}
    common = {"input_dir": input_dir, "output_dir": output_dir, "pattern": pattern}
    if processes == 1:
        from ._grouped import run_grouped

        return run_grouped(
            jobs,
            worker,
            manifest_path=manifest_path,
            force=force,
            progress=progress,
            **options,
            **common,
        )
    check_jobs(jobs, manifest_path)
    _merge_parts(manifest_path, _part_manifests(manifest_path))  # a killed run's records
    state, to_run = start_run(jobs, manifest_path, force=force, **common)
    if not to_run:
        return state.write()
    count = min(processes, len(to_run))
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    shares = [to_run[i::count] for i in range(count)]
    parts = [part_manifest_path(manifest_path, i, count) for i in range(count)]
    for part in parts:
        part.unlink(missing_ok=True)
    executor = ProcessPoolExecutor(
        max_workers=count, mp_context=multiprocessing.get_context("spawn")
    )
    futures: list[Future] = []
    try:
        with progress_bar(len(jobs), len(jobs) - len(to_run), progress) as bar:
            for i, share in enumerate(shares):
                futures.append(
                    executor.submit(
                        _run_part, cores[i::count], share, worker, str(parts[i]), options
                    )
                )
            shown = 0
            while True:
                _, pending = wait(futures, timeout=1.0)
                done = sum(_records(p) for p in parts)
                if done > shown:
                    bar.update(done - shown)
                    shown = done
                if not pending:
                    break
        for future, share, part in zip(futures, shares, parts):
            exc = future.exception()
            if exc is not None and not isinstance(exc, KeyboardInterrupt):
                _record_lost(state, share, part, exc)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _merge_parts(manifest_path, parts, state)
    return state.write()


def _records(part: Path) -> int:
    """Records in a part manifest so far (0 while it does not exist or is being replaced)."""
    try:
        return len(BatchManifest.load(part).records)
    except Exception:  # not there yet
        return 0


def _record_lost(state: Any, share: list[BatchJob], part: Path, exc: BaseException) -> None:
    """Record ``failed`` every job of a process that ended without a record for it."""
    try:
        done = {r.job_id for r in BatchManifest.load(part).records}
    except Exception:  # the process died before its first write
        done = set()
    for job in share:
        if job.id not in done:
            outcome = failure(job, exc)._replace(
                message=f"its batch process ended before this job was done ({exc!r})"
            )
            state.set(make_record(job, outcome))

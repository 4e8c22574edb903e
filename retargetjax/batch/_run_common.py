"""What both batch runners share: the resume rules, the run preamble, records, progress.

:class:`~retargetjax.batch.BatchRunner` (one job per worker call) and
:func:`~retargetjax.batch.run_grouped` (many clips per solve) keep the same manifest with the
same rules; this module holds them once:

* :func:`check_jobs` and :func:`start_run` — validate the jobs, load the previous manifest,
  plan (:func:`plan_jobs`: resumed, skipped, to run) and write the first manifest;
* :func:`make_record` — the one builder of :class:`BatchRunRecord` s (success, failure,
  skip, a dead worker process), and :func:`execute` that turns a worker call into an
  :class:`Outcome`;
* :func:`progress_bar` and :func:`advance` — the jobs bar (with a status text while a run is
  busy on something long, e.g. compiling).
"""

from __future__ import annotations

import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_core import to_jsonable_python

from ..types import RunStatus
from ._models import BatchJob, BatchManifest, BatchRunRecord, utc_now

__all__ = [
    "ManifestState",
    "Outcome",
    "advance",
    "check_jobs",
    "execute",
    "make_record",
    "plan_jobs",
    "progress_bar",
    "start_run",
]

#: Longest traceback text (characters, from the end) kept in a failed record's provenance.
MAX_TRACEBACK_CHARS = 4000


class Outcome(NamedTuple):
    """What one execution of a worker produced (plain data, so it crosses processes)."""

    started_at: datetime
    finished_at: datetime
    status: RunStatus
    message: str
    error_type: str | None
    provenance: dict[str, Any]


def jsonable_or_repr(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` made JSON-ready; what cannot be is stored as its ``repr``."""
    return to_jsonable_python(dict(value), fallback=repr)


def failure(job: BatchJob, exc: BaseException, started_at: datetime | None = None) -> Outcome:
    """The :class:`Outcome` of ``job`` failing with ``exc`` (traceback kept when present)."""
    provenance = jsonable_or_repr(job.provenance)
    if exc.__traceback__ is not None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        provenance["traceback"] = text[-MAX_TRACEBACK_CHARS:]
    now = utc_now()
    return Outcome(
        started_at=started_at or now,
        finished_at=now,
        status=RunStatus.FAILED,
        message=str(exc) or repr(exc),
        error_type=type(exc).__name__,
        provenance=provenance,
    )


def execute(worker: Callable[[BatchJob], Any], job: BatchJob) -> Outcome:
    """Run ``worker(job)`` and turn its result or exception into an :class:`Outcome`.

    Used in-process and inside pool processes alike. Only :class:`Exception` is caught:
    ``KeyboardInterrupt`` and ``SystemExit`` stop the batch.
    """
    started_at = utc_now()
    try:
        returned = worker(job)
        if returned is not None and not isinstance(returned, Mapping):
            raise TypeError(
                f"worker returned {type(returned).__name__}; expected a provenance dict or None"
            )
        merged = {**job.provenance, **(returned or {})}
        try:
            provenance = to_jsonable_python(merged)
        except Exception as exc:  # pydantic's serialisation error names the bad value
            raise TypeError(f"worker provenance is not JSON-serialisable: {exc}") from exc
    except Exception as exc:
        return failure(job, exc, started_at)
    return Outcome(started_at, utc_now(), RunStatus.SUCCESS, "", None, provenance)


def make_record(
    job: BatchJob,
    outcome: Outcome | None = None,
    *,
    status: RunStatus | None = None,
    message: str = "",
    provenance: Mapping[str, Any] | None = None,
) -> BatchRunRecord:
    """The record of ``job``: from an ``outcome``, or (no outcome) a record made now with
    ``status``, ``message`` and ``provenance`` (default: the job's own)."""
    if outcome is None:
        if status is None:
            raise ValueError("make_record needs an outcome or a status")
        now = utc_now()
        outcome = Outcome(
            now,
            now,
            status,
            message,
            None,
            jsonable_or_repr(job.provenance if provenance is None else provenance),
        )
    return BatchRunRecord(
        job_id=job.id,
        motion=job.motion,
        output=job.output,
        status=outcome.status,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        message=outcome.message,
        error_type=outcome.error_type,
        provenance=outcome.provenance,
    )


def _earlier(old: BatchRunRecord) -> dict[str, Any]:
    """What an earlier record knew, kept in a skipped record's ``provenance["previous"]``."""
    return {
        "status": old.status.value,
        "started_at": old.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": old.finished_at.isoformat().replace("+00:00", "Z"),
        "message": old.message,
    }


class ManifestState:
    """The records known so far, written as a manifest after every change.

    A job's record from the previous manifest stays until this run replaces it, so the file
    always shows the best-known state of every job; records of jobs that this run was not
    given follow the current ones, in their old order.
    """

    def __init__(
        self,
        *,
        path: Path,
        jobs: list[BatchJob],
        previous: BatchManifest | None,
        input_dir: Path | None,
        output_dir: Path | None,
        pattern: str,
    ) -> None:
        self.path = path
        self.order = [job.id for job in jobs]
        ids = set(self.order)
        old = previous.records if previous is not None else ()
        self.current = {r.job_id: r for r in old if r.job_id in ids}
        self.extras = tuple(r for r in old if r.job_id not in ids)
        self.created_at = previous.created_at if previous is not None else utc_now()
        # This run's arguments win; None / "" keep what the previous manifest said.
        keep = previous is not None
        self.input_dir = input_dir if input_dir is not None or not keep else previous.input_dir
        self.output_dir = output_dir if output_dir is not None or not keep else previous.output_dir
        self.pattern = pattern if pattern or not keep else previous.pattern
        self.manifest: BatchManifest | None = None

    def set(self, record: BatchRunRecord) -> None:
        """Replace the record of ``record.job_id``."""
        self.current[record.job_id] = record

    def write(self) -> BatchManifest:
        """Write the manifest atomically and return it."""
        records = [self.current[i] for i in self.order if i in self.current]
        manifest = BatchManifest.from_records(
            records=(*records, *self.extras),
            total=len(self.order),
            created_at=self.created_at,
            input_dir=self.input_dir,
            output_dir=self.output_dir,
            pattern=self.pattern,
        )
        manifest.save_json(self.path)
        self.manifest = manifest
        return manifest


def plan_jobs(
    jobs: list[BatchJob], previous: BatchManifest | None, state: ManifestState, force: bool
) -> list[BatchJob]:
    """The resume rules: record skipped jobs in ``state``; return the jobs to run.

    * ``force``: every job runs.
    * A job whose output exists and whose previous record is not ``failed`` is recorded
      ``skipped``. When that record was for the same output (a job done by an earlier run),
      its provenance is kept (solver provenance, loss, timings), with
      ``provenance["resumed"] = True`` and ``provenance["previous"]`` = the earlier
      record's status, times and message (kept as is through later reruns).
    * A previously ``failed`` job is retried even when its output exists (it may be stale);
      so is any job whose output is missing.
    """
    previous_by_id = previous.records_by_id() if previous is not None else {}
    to_run: list[BatchJob] = []
    for job in jobs:
        old = previous_by_id.get(job.id)
        if force or not job.output.exists() or (old is not None and old.status is RunStatus.FAILED):
            to_run.append(job)
        elif old is not None and old.output == job.output and old.status is RunStatus.SUCCESS:
            state.set(
                make_record(
                    job,
                    status=RunStatus.SKIPPED,
                    message=f"output {job.output} already exists (done by an earlier run)",
                    provenance={**old.provenance, "resumed": True, "previous": _earlier(old)},
                )
            )
        elif old is not None and old.output == job.output and old.provenance.get("resumed"):
            kept = make_record(
                job, status=RunStatus.SKIPPED, message=old.message, provenance=old.provenance
            )
            state.set(kept)
        else:
            state.set(
                make_record(
                    job, status=RunStatus.SKIPPED, message=f"output {job.output} already exists"
                )
            )
    return to_run


def check_jobs(jobs: list[BatchJob], manifest_path: Path) -> None:
    """Every job a :class:`BatchJob`, ids and outputs unique (else raise, nothing written)."""
    for index, job in enumerate(jobs):
        if not isinstance(job, BatchJob):
            raise TypeError(
                f"jobs[{index}] is {type(job).__name__}; expected BatchJob "
                f"(batch manifest {manifest_path} not touched)"
            )
    for field in ("id", "output"):
        counts = Counter(getattr(job, field) for job in jobs)
        repeated = sorted(str(value) for value, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(
                f"duplicate job {field}s {repeated}: each job needs a unique {field} "
                f"(batch manifest {manifest_path} not touched)"
            )


class RunStart(NamedTuple):
    """The state of a run after its preamble."""

    state: ManifestState
    to_run: list[BatchJob]


def start_run(
    jobs: list[BatchJob],
    manifest_path: Path,
    *,
    force: bool,
    input_dir: Path | None,
    output_dir: Path | None,
    pattern: str,
    before_write: Callable[[list[BatchJob]], Any] | None = None,
) -> RunStart:
    """The preamble of a run: load the previous manifest (raises
    :class:`~retargetjax.batch.ManifestError` with nothing written when it is unusable), plan,
    call ``before_write(to_run)`` (e.g. start a process pool), and write the manifest."""
    previous = BatchManifest.load(manifest_path) if manifest_path.exists() else None
    state = ManifestState(
        path=manifest_path,
        jobs=jobs,
        previous=previous,
        input_dir=input_dir,
        output_dir=output_dir,
        pattern=pattern,
    )
    to_run = plan_jobs(jobs, previous, state, force)
    if before_write is not None:
        before_write(to_run)
    state.write()
    return RunStart(state, to_run)


@contextmanager
def progress_bar(total: int, done: int, progress: bool | None) -> Iterator[Any]:
    """The jobs bar of a run (``done`` of ``total`` already); ``progress=None`` shows it
    only when stderr is a terminal."""
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(
        total=total,
        initial=done,
        disable=not show,
        unit="job",
        desc="batch",
        dynamic_ncols=True,
    ) as bar:
        if not show:
            yield bar
            return
        # What the jobs print (e.g. a new rig's keypoint map) goes above the bar, not into it.
        with redirect_stdout(_AboveBar(bar, sys.stdout)):
            yield bar


class _AboveBar:
    """A stdout that writes whole lines above a tqdm bar (``tqdm.write``)."""

    def __init__(self, bar: Any, stream: Any) -> None:
        self.bar = bar
        self.stream = stream
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.bar.write(line, file=self.stream)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.bar.write(self.pending, file=self.stream)
            self.pending = ""
        self.stream.flush()


def advance(bar: Any, manifest: BatchManifest, n: int, **extra: Any) -> None:
    """Move the bar by ``n`` finished jobs and show the manifest's counts."""
    bar.set_postfix(
        ok=manifest.success_count,
        skipped=manifest.skipped_count,
        failed=manifest.failed_count,
        **extra,
        refresh=False,
    )
    bar.update(n)

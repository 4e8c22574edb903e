"""BatchRunner: run many jobs, skip finished ones, keep a resumable manifest on disk."""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
import types
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..types import RunStatus
from ._models import BatchJob, BatchManifest, BatchRunRecord
from ._run_common import (
    ManifestState,
    Outcome,
    advance,
    check_jobs,
    execute,
    failure,
    jsonable_or_repr,
    make_record,
    progress_bar,
    start_run,
)

__all__ = ["BatchRunner", "BatchWorker"]

#: Seconds between checks of the pool while waiting, so Ctrl-C is handled promptly.
_POLL_S = 0.2
#: Pool breaks in a row with no job in flight (so no job to blame) before giving up.
_MAX_BLAMELESS_BREAKS = 3


@runtime_checkable
class BatchWorker(Protocol):
    """A callable that performs one :class:`BatchJob`.

    It writes ``job.output`` (atomically: a temp file in the same folder, then
    :func:`os.replace`, so that a killed run never leaves a file a rerun would take as done)
    and returns optional provenance (a JSON-serialisable ``dict``, or ``None``) on success;
    it raises on failure. With ``max_workers > 1`` it must be pickleable: a module-level
    function, or an instance of a module-level class, importable by a freshly spawned
    interpreter.
    """

    def __call__(self, job: BatchJob) -> dict[str, Any] | None: ...


def _died(job: BatchJob, exc: BaseException) -> BatchRunRecord:
    outcome = failure(job, exc)._replace(
        message=f"the worker process died abruptly while running this job ({exc})",
        provenance=jsonable_or_repr(job.provenance),
    )
    return make_record(job, outcome)


def _probe(worker: Callable[[BatchJob], Any]) -> None:
    """Pool health check: succeeds once a pool process has unpickled ``worker``."""


def _ignore_sigint() -> None:
    """Pool initializer: Ctrl-C is handled by the parent, which then stops the children."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _InstanceOrClassMethod:
    """Binds to the instance, or to a default instance when looked up on the class.

    So ``BatchRunner.run(jobs, worker, manifest_path=...)``, as documented, and
    ``BatchRunner(start_method="forkserver").run(...)`` both work.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__func__ = func
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def __get__(self, obj: Any, objtype: type | None = None) -> Callable[..., Any]:
        if obj is None:
            assert objtype is not None
            obj = objtype()
        return types.MethodType(self.__func__, obj)


class BatchRunner:
    """Runs :class:`BatchJob` s with a :class:`BatchWorker` and keeps a resumable manifest.

    Behaviour, as a user of a resumable batch tool expects it:

    * **Validation first.** Duplicate job ids or duplicate output paths
      (:class:`ValueError`), ``max_workers < 1`` (:class:`ValueError`), a worker or job that
      cannot be pickled while ``max_workers > 1`` (:class:`TypeError`), and an existing
      manifest that is not valid JSON, has an unknown ``schema_version`` or invalid fields
      (:class:`~retargetjax.batch.ManifestError`) are all raised before anything is written;
      the message names the problem and the manifest file. With ``max_workers > 1`` the
      pool is started and made to load the worker first, so a worker that pickles but
      cannot be loaded by a fresh interpreter is a :class:`RuntimeError`, also before any
      write (rather than every job failing with a broken pool).
    * **Resume** (as documented: jobs whose output exists are skipped unless ``force``). A
      job whose output exists is recorded ``skipped``; when an earlier run did it (its
      record was ``success`` for the same output), the skipped record keeps that record's
      provenance (solver provenance, loss, timings) with ``provenance["resumed"] = True``
      and ``provenance["previous"]`` (the earlier status, UTC times and message). A
      previously ``failed`` job is retried even when its output exists (the file may be
      stale), and so is any job whose output is missing. ``force=True`` reruns every job.
      ``created_at`` of an existing manifest is kept; ``input_dir``/``output_dir``/
      ``pattern`` keep their old values when this run passes ``None``/``""``.
    * **Manifest.** Written once after this planning (all skipped and resumed jobs at once)
      and again after every finished job, atomically, so a killed run leaves a valid file
      holding every job finished so far. Records are in submission order; records of jobs
      an earlier run had but this one was not given are kept after them (so ``total``, the
      number of jobs given, can be less than the number of records). A job's old record
      stays until its new outcome replaces it.
    * **Failures.** A worker exception records the job ``failed`` with ``error_type`` (the
      class name), ``message`` (its text) and ``provenance["traceback"]``; other jobs go on.
    * **Hard deaths** (``max_workers > 1``: a pool process killed, ``os._exit``, segfault).
      The pool breaks and every in-flight job's result is lost. When a single job was in
      flight it is recorded ``failed`` (``error_type="BrokenProcessPool"``); when several
      were, the culprit cannot be told, so they are rerun one at a time in a fresh pool, and
      the one that breaks it alone is recorded ``failed``. A rerun job whose output exists by
      then is recorded ``skipped`` instead (unless ``force``). Remaining jobs then continue
      at full width. At most ``max_workers`` jobs are ever submitted at once.
    * **Ctrl-C.** Pool processes ignore SIGINT; the parent stops them, the manifest already
      holds every job finished so far, and the ``KeyboardInterrupt`` propagates. Interrupted
      jobs get no new record (an old one, e.g. ``failed``, stays), so the rerun runs them.
      A worker raising ``KeyboardInterrupt`` (or ``SystemExit``) stops the batch the same
      way.
    * **Processes.** ``max_workers == 1`` runs in-process, in order. Otherwise a
      :class:`~concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method (JAX is
      not fork-safe); the calling script needs an ``if __name__ == "__main__":`` guard.
    * **Calling.** ``BatchRunner.run(...)`` works as documented (a default runner is made);
      ``BatchRunner(start_method=...).run(...)`` picks the start method.

    Not handled: two runs writing the same manifest at once; workers that hang; after a
    SIGKILL of the parent, pool processes still finish the job they hold (their outputs
    are atomic, so the rerun skips them). Each rewrite costs O(number of records).
    """

    def __init__(self, *, start_method: str = "spawn") -> None:
        """Make a runner.

        Args:
            start_method: multiprocessing start method of the pool, ``"spawn"`` or
                ``"forkserver"`` (``"fork"`` is unsafe once JAX has started threads).
        """
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"start_method {start_method!r} is not available here; expected one of "
                f"{multiprocessing.get_all_start_methods()}"
            )
        self.start_method = start_method

    @_InstanceOrClassMethod
    def run(
        self,
        jobs: Iterable[BatchJob],
        worker: BatchWorker | Callable[[BatchJob], dict[str, Any] | None],
        *,
        manifest_path: str | Path,
        max_workers: int = 1,
        force: bool = False,
        input_dir: Path | None = None,
        output_dir: Path | None = None,
        pattern: str = "",
        progress: bool | None = None,
    ) -> BatchManifest:
        """Run ``jobs`` with ``worker``, skipping finished ones; return the final manifest.

        Args:
            jobs: the jobs, in submission order (ids and outputs unique).
            worker: called as ``worker(job)``; see :class:`BatchWorker`.
            manifest_path: JSON manifest, loaded when it exists (resume) and rewritten
                atomically after every finished job.
            max_workers: process-pool size; 1 runs sequentially in this process.
            force: rerun jobs even when their output exists or they succeeded before.
            input_dir, output_dir, pattern: stored in the manifest for reference.
            progress: show a tqdm bar (jobs done / total); ``None`` shows it only when
                stderr is a terminal.

        Returns:
            The manifest as last written.

        Raises:
            ValueError: duplicate job ids or outputs, or ``max_workers < 1``.
            TypeError: a worker or job that cannot be pickled while ``max_workers > 1``.
            RuntimeError: pool processes cannot load the worker (``max_workers > 1``).
            ManifestError: the existing manifest cannot be read (left untouched).
            KeyboardInterrupt: after the manifest holds every job finished so far.
        """
        jobs = list(jobs)
        manifest_path = Path(manifest_path)
        check_jobs(jobs, manifest_path)
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(
                f"max_workers must be an int >= 1 (1 runs in-process), got {max_workers!r} "
                f"(batch manifest {manifest_path} not touched)"
            )
        if max_workers > 1:
            _check_picklable(worker, jobs, manifest_path, max_workers)
        pool: list[ProcessPoolExecutor | None] = [None]

        def start_pool(to_run: list[BatchJob]) -> None:
            # Started (and probed) before the first write, so that a worker the pool
            # processes cannot import fails the run with nothing on disk changed.
            if to_run:
                pool[0] = self._start_pool(worker, max_workers, manifest_path)

        try:
            state, to_run = start_run(
                jobs,
                manifest_path,
                force=force,
                input_dir=input_dir,
                output_dir=output_dir,
                pattern=pattern,
                before_write=start_pool,
            )
        except BaseException:
            if pool[0] is not None:
                _stop_executor(pool[0])
            raise
        manifest = state.manifest
        assert manifest is not None
        with progress_bar(len(jobs), len(jobs) - len(to_run), progress) as bar:
            if max_workers == 1:
                for job in to_run:
                    state.set(make_record(job, execute(worker, job)))
                    manifest = state.write()
                    advance(bar, manifest, 1)
            elif pool[0] is not None:
                manifest = self._run_pool(pool[0], to_run, worker, max_workers, force, state, bar)
        return manifest

    def _new_executor(self, max_workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=max_workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=_ignore_sigint,
        )

    def _start_pool(
        self, worker: Callable[[BatchJob], Any], max_workers: int, manifest_path: Path
    ) -> ProcessPoolExecutor | None:
        """A pool whose first process has loaded ``worker``; ``None`` when ``max_workers == 1``.

        A worker that pickles here but cannot be unpickled in a fresh interpreter (defined in
        ``python -c``, a notebook's ``__main__``, a module not on ``sys.path``) would break
        the pool on every job; it is reported once, as a :class:`RuntimeError`, instead.
        """
        if max_workers == 1:
            return None
        executor = self._new_executor(max_workers)
        try:
            executor.submit(_probe, worker).result()
        except BaseException as exc:
            _stop_executor(executor)
            if not isinstance(exc, Exception):
                raise
            raise RuntimeError(
                f"the process pool ({self.start_method!r} start method) could not load the "
                f"worker {worker!r} ({type(exc).__name__}: {exc}); pool processes import it "
                "by module name, so define it in an importable module and guard the calling "
                "script with `if __name__ == '__main__':` (see the traceback printed by the "
                f"pool process above; batch manifest {manifest_path} not touched)"
            ) from exc
        return executor

    def _run_pool(
        self,
        executor: ProcessPoolExecutor | None,
        to_run: list[BatchJob],
        worker: Callable[[BatchJob], Any],
        max_workers: int,
        force: bool,
        state: ManifestState,
        bar: Any,
    ) -> BatchManifest:
        """The process-pool loop; see the class docstring for the hard-death policy."""
        pending = deque(to_run)
        suspects: deque[BatchJob] = deque()
        in_flight: dict[Future[Outcome], BatchJob] = {}
        manifest = state.manifest
        assert manifest is not None
        blameless_breaks = 0
        try:
            while pending or suspects or in_flight:
                if executor is None:
                    executor = self._new_executor(max_workers)
                # The next job(s): a suspect alone, else fill the pool up to max_workers.
                if suspects and not in_flight:
                    job = suspects.popleft()
                    if not force and job.output.exists():
                        state.set(
                            make_record(
                                job,
                                status=RunStatus.SKIPPED,
                                message=f"output {job.output} appeared before the worker pool "
                                "broke; not rerun",
                            )
                        )
                        manifest = state.write()
                        advance(bar, manifest, 1)
                        continue
                    to_submit, source = [job], suspects
                elif not suspects:
                    n_free = min(max_workers - len(in_flight), len(pending))
                    to_submit, source = [pending.popleft() for _ in range(n_free)], pending
                else:
                    to_submit, source = [], suspects
                for index, job in enumerate(to_submit):
                    try:
                        in_flight[executor.submit(execute, worker, job)] = job
                    except BrokenProcessPool:
                        # A process died between two polls; in-flight futures will report it.
                        source.extendleft(reversed(to_submit[index:]))
                        if not in_flight:  # nothing to blame: replace the pool
                            executor.shutdown(wait=True, cancel_futures=True)
                            executor = None
                            blameless_breaks += 1
                            if blameless_breaks > _MAX_BLAMELESS_BREAKS:
                                raise RuntimeError(
                                    f"the process pool broke {blameless_breaks} times in a row "
                                    "with no job running; giving up (batch manifest "
                                    f"{state.path} holds every job finished so far)"
                                ) from None
                        break
                if not in_flight:
                    continue

                done, _ = wait(in_flight, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                if not done:
                    continue
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    # The pool is dead: every other in-flight future fails within moments.
                    while not all(f.done() for f in in_flight):
                        wait(in_flight, timeout=_POLL_S)
                    done = set(in_flight)

                lost: list[tuple[BatchJob, BaseException]] = []
                stop: BaseException | None = None
                finished = 0
                for future in [f for f in in_flight if f in done]:  # submission order
                    job = in_flight.pop(future)
                    exc = future.exception()
                    if exc is None:
                        state.set(make_record(job, future.result()))
                    elif isinstance(exc, BrokenProcessPool):
                        lost.append((job, exc))
                        continue
                    elif not isinstance(exc, Exception):
                        stop = exc  # KeyboardInterrupt / SystemExit raised by the worker
                        continue
                    else:  # e.g. a result that could not be sent back
                        state.set(make_record(job, failure(job, exc)))
                    finished += 1
                if lost:
                    executor.shutdown(wait=True, cancel_futures=True)
                    executor = None
                    if len(lost) == 1:
                        state.set(_died(*lost[0]))
                        finished += 1
                    else:
                        suspects.extend(job for job, _ in lost)
                if finished:
                    blameless_breaks = 0
                    manifest = state.write()
                    advance(bar, manifest, finished)
                if stop is not None:
                    raise stop
        except BaseException:
            if executor is not None:
                _stop_executor(executor)
                executor = None
            raise
        finally:
            if executor is not None:
                executor.shutdown(wait=True)
        return manifest


def _stop_executor(executor: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes now (Ctrl-C), without waiting for running jobs."""
    # ProcessPoolExecutor has no public "terminate"; its process table is the only handle.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5.0)
    executor.shutdown(wait=True, cancel_futures=True)


def _check_picklable(
    worker: Any, jobs: list[BatchJob], manifest_path: Path, max_workers: int
) -> None:
    try:
        pickle.dumps(worker)
    except Exception as exc:
        raise TypeError(
            f"worker {worker!r} cannot be pickled ({type(exc).__name__}: {exc}), but "
            f"max_workers={max_workers} sends it to pool processes; use a module-level "
            f"function or class instance, or max_workers=1 "
            f"(batch manifest {manifest_path} not touched)"
        ) from exc
    for job in jobs:
        try:
            pickle.dumps(job)
        except Exception as exc:
            raise TypeError(
                f"job {job.id!r} cannot be pickled ({type(exc).__name__}: {exc}); check its "
                f"provenance (batch manifest {manifest_path} not touched)"
            ) from exc

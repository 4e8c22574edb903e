"""Pickleable test workers: each output file counts how often its job was committed.

A worker appends one line to its job's output and writes it back atomically, so a job done
twice shows two lines, and a job killed before its ``os.replace`` shows none.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from retargetjax.batch import BatchJob


def make_jobs(work_dir: Path, n_jobs: int) -> list[BatchJob]:
    """``n_jobs`` jobs ``job_00``… with outputs ``work_dir/out/job_XX.txt``."""
    return [
        BatchJob(
            id=f"job_{i:02d}",
            motion=work_dir / "in" / f"job_{i:02d}.bvh",
            output=work_dir / "out" / f"job_{i:02d}.txt",
            provenance={"source": "test"},
        )
        for i in range(n_jobs)
    ]


def commit_count(job: BatchJob) -> int:
    """How many times ``job`` was completed (lines in its output; 0 when absent)."""
    if not job.output.exists():
        return 0
    return len(job.output.read_text().splitlines())


def append_line(job: BatchJob) -> dict[str, int]:
    """Append ``done`` to the job's output atomically; return the pid as provenance."""
    job.output.parent.mkdir(parents=True, exist_ok=True)
    previous = job.output.read_text() if job.output.exists() else ""
    tmp = job.output.with_name(f".{job.output.name}.{os.getpid()}.tmp")
    tmp.write_text(previous + "done\n")
    os.replace(tmp, job.output)
    return {"pid": os.getpid()}


@dataclass(frozen=True)
class ScriptedWorker:
    """A worker whose misbehaviour is chosen per job id (a module-level, pickleable class).

    Attributes:
        sleep_s: seconds each job sleeps before writing its output.
        fail_ids: jobs that raise ``RuntimeError("boom <id>")``.
        die_ids: jobs whose process exits at once with ``os._exit(3)``.
        interrupt_ids: jobs that raise ``KeyboardInterrupt``.
        bad_return_ids: jobs that return a string instead of a dict.
        die_after_write_ids: jobs that write their output, then ``os._exit(3)``.
        gate_ids: jobs that first wait (up to 60 s) until the file ``gate_path`` exists.
        gate_path: see ``gate_ids``.
    """

    sleep_s: float = 0.0
    fail_ids: frozenset[str] = field(default_factory=frozenset)
    die_ids: frozenset[str] = field(default_factory=frozenset)
    interrupt_ids: frozenset[str] = field(default_factory=frozenset)
    bad_return_ids: frozenset[str] = field(default_factory=frozenset)
    die_after_write_ids: frozenset[str] = field(default_factory=frozenset)
    gate_ids: frozenset[str] = field(default_factory=frozenset)
    gate_path: str = ""

    def __call__(self, job: BatchJob) -> dict[str, int] | str:
        if job.id in self.gate_ids:
            deadline = time.monotonic() + 60.0
            while not os.path.exists(self.gate_path) and time.monotonic() < deadline:
                time.sleep(0.005)
        if job.id in self.die_ids:
            os._exit(3)
        if job.id in self.interrupt_ids:
            raise KeyboardInterrupt
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if job.id in self.fail_ids:
            raise RuntimeError(f"boom {job.id}")
        provenance = append_line(job)
        if job.id in self.die_after_write_ids:
            os._exit(3)
        if job.id in self.bad_return_ids:
            return "not a dict"
        return provenance


def _refuse_to_unpickle(reason: str) -> None:
    raise ImportError(reason)


class UnloadableWorker:
    """Pickles fine here but fails to unpickle in a pool process (like a ``python -c`` worker)."""

    def __call__(self, job: BatchJob) -> None:
        return None

    def __reduce__(self):
        return (_refuse_to_unpickle, ("this worker cannot be loaded in a pool process",))

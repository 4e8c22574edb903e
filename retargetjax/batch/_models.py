"""Pydantic models of the batch API: jobs, per-job records and the on-disk manifest.

The manifest is JSON: datetimes are ISO-8601 in UTC (``...Z``), paths are strings, statuses
are the :class:`~retargetjax.types.RunStatus` string values. Every datetime given to these
models is normalised to UTC (a naive datetime is taken to be UTC already).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..types import MotionFormatKind, RobotKind, RunStatus
from ._manifest_io import write_text_atomic

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "BatchJob",
    "BatchManifest",
    "BatchRunRecord",
    "ManifestError",
    "utc_now",
]

#: The manifest layout this version of retargetjax reads and writes.
MANIFEST_SCHEMA_VERSION = 1

_COUNT_FIELDS = {
    RunStatus.SUCCESS: "success_count",
    RunStatus.SKIPPED: "skipped_count",
    RunStatus.FAILED: "failed_count",
}


class ManifestError(ValueError):
    """A manifest file cannot be used: not JSON, unknown ``schema_version``, bad fields.

    The message names the file and what was expected; the file itself is left untouched.
    """


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class BatchJob(BaseModel):
    """One retargeting job: an input motion and the output file it should produce."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    """Stable identifier used in manifests and resume logic (unique within a batch)."""
    motion: Path
    """Input motion file."""
    output: Path
    """Expected output file; when it already exists the job may be skipped."""
    name: str | None = None
    """Display name; callers use ``id`` when it is ``None``."""
    motion_format: MotionFormatKind | None = None
    """Format of ``motion``; ``None`` lets the worker infer it."""
    robot: RobotKind | None = None
    """Target robot; ``None`` lets the worker use its default."""
    config_path: Path | None = None
    """Optional declarative experiment config (a file under ``experiments/``)."""
    provenance: dict[str, Any] = Field(default_factory=dict)
    """Origin and scheduling history (copied into the job's record)."""


class BatchRunRecord(BaseModel):
    """The outcome of one job in one batch run."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    job_id: str
    """The :attr:`BatchJob.id` this record belongs to."""
    motion: Path
    """Input motion of the job."""
    output: Path
    """Output file of the job."""
    status: RunStatus
    """``success``, ``skipped`` or ``failed``."""
    started_at: datetime
    """UTC time the job started (or was found skipped)."""
    finished_at: datetime
    """UTC time the job finished."""
    message: str = ""
    """Human-readable detail: the error text when failed, the reason when skipped."""
    error_type: str | None = None
    """Exception class name when failed, else ``None``."""
    provenance: dict[str, Any] = Field(default_factory=dict)
    """The job's provenance merged with what the worker returned, plus resume notes."""

    @field_validator("started_at", "finished_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @property
    def duration_s(self) -> float:
        """Wall-clock seconds between ``started_at`` and ``finished_at``."""
        return (self.finished_at - self.started_at).total_seconds()


class BatchManifest(BaseModel):
    """Summary and per-job records of a (possibly resumed) batch run, as stored on disk.

    Invariant, checked on construction and on load: ``success_count``, ``skipped_count`` and
    ``failed_count`` equal the number of records with each status, and record ids are unique.
    Counts left out are derived from ``records``; counts given that disagree are an error.
    ``total`` is the number of jobs handed to the run that last wrote the manifest; the
    records may hold more entries than that when an earlier run had jobs this one did not
    (see :class:`~retargetjax.batch.BatchRunner`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    schema_version: int = MANIFEST_SCHEMA_VERSION
    """Layout version of this file; only :data:`MANIFEST_SCHEMA_VERSION` is read."""
    created_at: datetime
    """UTC time the batch run first started (kept across resumed runs)."""
    updated_at: datetime
    """UTC time of the most recent write."""
    input_dir: Path | None
    """Folder the jobs' motions were collected from, if any."""
    output_dir: Path | None
    """Folder the outputs go to, if any."""
    pattern: str = ""
    """Glob pattern used to collect the motions, if any."""
    total: int = 0
    """Number of jobs given to the run."""
    success_count: int = 0
    """Records with status ``success``."""
    skipped_count: int = 0
    """Records with status ``skipped``."""
    failed_count: int = 0
    """Records with status ``failed``."""
    records: tuple[BatchRunRecord, ...] = ()
    """Per-job outcomes, in submission order."""

    @field_validator("created_at", "updated_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @model_validator(mode="after")
    def _counts_match_records(self) -> BatchManifest:
        duplicates = sorted(i for i, n in Counter(r.job_id for r in self.records).items() if n > 1)
        if duplicates:
            raise ValueError(f"records repeat job ids {duplicates}; each job has one record")
        if self.total < 0:
            raise ValueError(f"total must be >= 0, got {self.total}")
        observed = Counter(r.status for r in self.records)
        for status, field in _COUNT_FIELDS.items():
            expected = observed.get(status, 0)
            if field not in self.model_fields_set:
                # Not given by the caller: derive it (object.__setattr__ keeps fields_set).
                object.__setattr__(self, field, expected)
            elif getattr(self, field) != expected:
                raise ValueError(
                    f"{field}={getattr(self, field)} but {expected} record(s) have status "
                    f"{status.value!r}"
                )
        return self

    @classmethod
    def from_records(
        cls,
        *,
        records: tuple[BatchRunRecord, ...] | list[BatchRunRecord],
        total: int,
        created_at: datetime,
        input_dir: Path | None = None,
        output_dir: Path | None = None,
        pattern: str = "",
    ) -> BatchManifest:
        """Build a manifest whose counts are derived from ``records``.

        ``updated_at`` is set to now; :meth:`save_json` refreshes it at each write.
        """
        records = tuple(records)
        counts = Counter(r.status for r in records)
        return cls(
            created_at=created_at,
            updated_at=utc_now(),
            input_dir=input_dir,
            output_dir=output_dir,
            pattern=pattern,
            total=total,
            success_count=counts.get(RunStatus.SUCCESS, 0),
            skipped_count=counts.get(RunStatus.SKIPPED, 0),
            failed_count=counts.get(RunStatus.FAILED, 0),
            records=records,
        )

    @classmethod
    def load(cls, path: str | Path) -> BatchManifest:
        """Read a manifest written by :meth:`save_json`.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ManifestError: the file is not UTF-8 JSON, its ``schema_version`` is missing or
                not :data:`MANIFEST_SCHEMA_VERSION`, or a field is invalid. The message names
                the file and the problem.
        """
        path = Path(path)
        raw = path.read_bytes()
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"batch manifest {path} is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise ManifestError(
                f"batch manifest {path}: expected a JSON object at the top level, "
                f"got {type(payload).__name__}"
            )
        version = payload.get("schema_version")
        if version is None:
            raise ManifestError(f"batch manifest {path} has no 'schema_version' field")
        if type(version) is not int or version != MANIFEST_SCHEMA_VERSION:
            raise ManifestError(
                f"batch manifest {path} has unknown schema_version {version!r}; this "
                f"retargetjax reads schema_version {MANIFEST_SCHEMA_VERSION}"
            )
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            raise ManifestError(f"batch manifest {path} has invalid fields: {exc}") from exc

    def save_json(self, path: str | Path) -> Path:
        """Write the manifest atomically (temp file + ``os.replace``) and return ``path``.

        Sets :attr:`updated_at` to the time of the write, on this object too. Cost grows with
        the number of records (about 15 µs each), and the runner rewrites after every job.
        """
        self.updated_at = utc_now()
        return write_text_atomic(path, self.model_dump_json(indent=2) + "\n")

    def records_by_id(self) -> dict[str, BatchRunRecord]:
        """The records keyed by :attr:`BatchRunRecord.job_id` (in record order)."""
        return {record.job_id: record for record in self.records}

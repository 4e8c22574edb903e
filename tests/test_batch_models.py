"""Tests of retargetjax.batch._models (BatchJob, BatchRunRecord, BatchManifest)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

import retargetjax.batch as batch
from retargetjax.batch import (
    BatchJob,
    BatchManifest,
    BatchRunRecord,
    ManifestError,
    MotionFormatKind,
    RobotKind,
    RunStatus,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def _record(job_id: str, status: RunStatus, seconds: float = 1.5) -> BatchRunRecord:
    return BatchRunRecord(
        job_id=job_id,
        motion=Path(f"in/{job_id}.bvh"),
        output=Path(f"out/{job_id}.npz"),
        status=status,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=seconds),
        message="boom" if status is RunStatus.FAILED else "",
        error_type="RuntimeError" if status is RunStatus.FAILED else None,
        provenance={"attempt": 1, "tags": ["a", "b"]},
    )


def _manifest() -> BatchManifest:
    records = [
        _record("a", RunStatus.SUCCESS),
        _record("b", RunStatus.FAILED),
        _record("c", RunStatus.SKIPPED),
        _record("d", RunStatus.SUCCESS),
    ]
    return BatchManifest.from_records(
        records=records,
        total=4,
        created_at=T0,
        input_dir=Path("in"),
        output_dir=Path("out"),
        pattern="*.bvh",
    )


def test_job_defaults_and_enums():
    job = BatchJob(id="x", motion="m.bvh", output="o.npz", motion_format="bvh", robot="unitree_g1")
    assert job.motion == Path("m.bvh") and job.output == Path("o.npz")
    assert job.name is None and job.config_path is None
    assert job.motion_format is MotionFormatKind.BVH and job.robot is RobotKind.UNITREE_G1
    other = BatchJob(id="y", motion="m", output="o")
    job.provenance["k"] = 1
    assert other.provenance == {}  # default not shared between instances
    with pytest.raises(ValidationError):
        BatchJob(id="z", motion="m", output="o", robot="no_such_robot")


def test_enums_reexported_and_string_valued():
    assert batch.RunStatus is RunStatus
    assert [s.value for s in RunStatus] == ["success", "skipped", "failed"]
    assert "smplx" in {f.value for f in MotionFormatKind}
    assert {"unitree_g1", "unitree_h1", "booster_t1"} <= {r.value for r in RobotKind}


def test_record_duration_and_utc_normalisation():
    record = _record("a", RunStatus.SUCCESS, seconds=2.25)
    assert record.duration_s == pytest.approx(2.25)
    naive = BatchRunRecord(
        job_id="n",
        motion="m",
        output="o",
        status="failed",
        started_at=datetime(2024, 1, 1, 10, 0),
        finished_at=datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    assert naive.started_at.tzinfo is timezone.utc
    assert naive.finished_at == datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)
    assert naive.duration_s == 0.0
    assert naive.status is RunStatus.FAILED and naive.message == "" and naive.error_type is None


def test_from_records_derives_counts():
    manifest = _manifest()
    assert (manifest.success_count, manifest.skipped_count, manifest.failed_count) == (2, 1, 1)
    assert manifest.total == 4 and manifest.schema_version == 1
    assert isinstance(manifest.records, tuple)
    assert list(manifest.records_by_id()) == ["a", "b", "c", "d"]
    empty = BatchManifest.from_records(records=[], total=0, created_at=T0)
    assert empty.input_dir is None and empty.pattern == "" and empty.records == ()


def test_counts_must_match_records():
    records = (_record("a", RunStatus.SUCCESS), _record("b", RunStatus.FAILED))
    derived = BatchManifest(
        created_at=T0, updated_at=T0, input_dir=None, output_dir=None, records=records
    )
    assert (derived.success_count, derived.failed_count, derived.skipped_count) == (1, 1, 0)
    with pytest.raises(ValidationError, match="success_count=2"):
        BatchManifest(
            created_at=T0,
            updated_at=T0,
            input_dir=None,
            output_dir=None,
            success_count=2,
            records=records,
        )


def test_duplicate_record_ids_rejected():
    with pytest.raises(ValidationError, match="repeat job ids"):
        BatchManifest.from_records(
            records=[_record("a", RunStatus.SUCCESS), _record("a", RunStatus.FAILED)],
            total=2,
            created_at=T0,
        )


def test_save_load_round_trip(tmp_path):
    manifest = _manifest()
    path = manifest.save_json(tmp_path / "sub" / "manifest.json")
    assert path == tmp_path / "sub" / "manifest.json"
    assert manifest.updated_at >= manifest.created_at
    loaded = BatchManifest.load(path)
    assert loaded == manifest
    raw = json.loads(path.read_text())
    assert raw["created_at"] == "2024-05-01T12:00:00Z"
    assert raw["input_dir"] == "in" and raw["records"][1]["status"] == "failed"
    assert raw["records"][0]["motion"] == "in/a.bvh"
    assert raw["success_count"] == 2 and raw["total"] == 4


def test_save_json_sets_updated_at(tmp_path):
    manifest = _manifest()
    manifest.updated_at = T0
    manifest.save_json(tmp_path / "m.json")
    assert manifest.updated_at > T0
    assert BatchManifest.load(tmp_path / "m.json").updated_at == manifest.updated_at


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"total": 0}', "no 'schema_version'"),
        ('{"schema_version": 99}', "unknown schema_version 99"),
        ('{"schema_version": "1"}', "unknown schema_version '1'"),
        ('{"schema_version": 1, "created_at": "yesterday"}', "invalid fields"),
    ],
)
def test_load_errors_name_the_file(tmp_path, text, match):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(ManifestError, match=match) as info:
        BatchManifest.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert path.read_text() == text


def test_load_rejects_counts_edited_by_hand(tmp_path):
    path = _manifest().save_json(tmp_path / "m.json")
    raw = json.loads(path.read_text())
    raw["failed_count"] = 0
    path.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match="failed_count=0"):
        BatchManifest.load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        BatchManifest.load(tmp_path / "absent.json")

"""Tests of retargetjax.batch._runner (BatchRunner): resume, skip, failures, kills, Ctrl-C.

Workers come from ``tests/batch_helpers`` so that spawned pool processes can import them.
Each worker appends a line to its job's output, so a job committed twice is detectable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from batch_helpers.workers import (
    ScriptedWorker,
    UnloadableWorker,
    append_line,
    commit_count,
    make_jobs,
)

from retargetjax.batch import (
    BatchJob,
    BatchManifest,
    BatchRunner,
    BatchWorker,
    ManifestError,
    RunStatus,
)

RUN_BATCH = Path(__file__).resolve().parent / "batch_helpers" / "run_batch.py"


def assert_consistent(manifest: BatchManifest, n_jobs: int) -> None:
    """Counts equal the records' statuses, on the object and on disk; total = jobs given."""
    counts = Counter(r.status for r in manifest.records)
    assert manifest.success_count == counts[RunStatus.SUCCESS]
    assert manifest.skipped_count == counts[RunStatus.SKIPPED]
    assert manifest.failed_count == counts[RunStatus.FAILED]
    assert manifest.total == n_jobs


def run(jobs, worker, manifest_path, **kwargs) -> BatchManifest:
    manifest = BatchRunner.run(jobs, worker, manifest_path=manifest_path, progress=False, **kwargs)
    assert_consistent(manifest, len(jobs))
    on_disk = BatchManifest.load(manifest_path)
    assert_consistent(on_disk, len(jobs))
    assert on_disk.records == manifest.records
    return manifest


def statuses(manifest: BatchManifest) -> dict[str, str]:
    return {r.job_id: r.status.value for r in manifest.records}


def test_worker_protocol():
    assert isinstance(append_line, BatchWorker)
    assert isinstance(ScriptedWorker(), BatchWorker)


def test_sequential_run_records_everything(tmp_path):
    jobs = make_jobs(tmp_path, 4)
    manifest = run(
        jobs, append_line, tmp_path / "m.json", input_dir=tmp_path / "in", pattern="*.bvh"
    )
    assert [r.job_id for r in manifest.records] == [j.id for j in jobs]
    assert set(statuses(manifest).values()) == {"success"}
    assert all(commit_count(job) == 1 for job in jobs)
    record = manifest.records[0]
    assert record.provenance == {"source": "test", "pid": os.getpid()}
    assert record.started_at <= record.finished_at and record.duration_s >= 0.0
    assert record.started_at.tzinfo is not None
    assert manifest.input_dir == tmp_path / "in" and manifest.pattern == "*.bvh"
    assert manifest.output_dir is None


def test_run_on_instance_and_empty_batch(tmp_path):
    manifest = BatchRunner().run([], append_line, manifest_path=tmp_path / "m.json")
    assert manifest.total == 0 and manifest.records == ()
    assert BatchManifest.load(tmp_path / "m.json").total == 0


def test_existing_outputs_skipped_and_force_redoes_all(tmp_path):
    jobs = make_jobs(tmp_path, 3)
    append_line(jobs[1])  # made by someone else before the batch
    manifest = run(jobs, append_line, tmp_path / "m.json")
    assert statuses(manifest) == {"job_00": "success", "job_01": "skipped", "job_02": "success"}
    assert "already exists" in manifest.records[1].message
    assert [commit_count(j) for j in jobs] == [1, 1, 1]

    forced = run(jobs, append_line, tmp_path / "m.json", force=True)
    assert set(statuses(forced).values()) == {"success"}
    assert [commit_count(j) for j in jobs] == [2, 2, 2]
    assert forced.created_at == manifest.created_at
    assert not any(r.provenance.get("resumed") for r in forced.records)


def test_rerun_skips_earlier_successes_and_keeps_what_they_knew(tmp_path):
    jobs = make_jobs(tmp_path, 3)
    first = run(jobs, append_line, tmp_path / "m.json")
    second = run(jobs, append_line, tmp_path / "m.json")
    # The documented contract: jobs whose output exists are marked skipped.
    assert set(statuses(second).values()) == {"skipped"}
    assert second.skipped_count == 3 and second.success_count == 0
    assert [commit_count(j) for j in jobs] == [1, 1, 1]
    for old, new in zip(first.records, second.records):
        kept = dict(new.provenance)
        previous = kept.pop("previous")
        assert kept == {**old.provenance, "resumed": True}
        assert previous["status"] == "success"
        assert previous["started_at"] == old.started_at.isoformat().replace("+00:00", "Z")
        assert previous["finished_at"] == old.finished_at.isoformat().replace("+00:00", "Z")
        assert "earlier run" in new.message
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    # A third run keeps the first run's provenance (not "previous: skipped").
    third = run(jobs, append_line, tmp_path / "m.json")
    assert [r.provenance for r in third.records] == [r.provenance for r in second.records]
    assert third.skipped_count == 3


def test_success_with_missing_output_is_redone(tmp_path):
    jobs = make_jobs(tmp_path, 2)
    run(jobs, append_line, tmp_path / "m.json")
    jobs[0].output.unlink()
    manifest = run(jobs, append_line, tmp_path / "m.json")
    assert "resumed" not in manifest.records[0].provenance
    assert manifest.records[0].status is RunStatus.SUCCESS
    assert manifest.records[1].provenance["resumed"] is True
    assert manifest.records[1].status is RunStatus.SKIPPED
    assert [commit_count(j) for j in jobs] == [1, 1]


def test_worker_that_raises_is_recorded_and_rerun_retries(tmp_path):
    jobs = make_jobs(tmp_path, 4)
    worker = ScriptedWorker(fail_ids=frozenset({"job_01"}))
    manifest = run(jobs, worker, tmp_path / "m.json")
    assert statuses(manifest) == {
        "job_00": "success",
        "job_01": "failed",
        "job_02": "success",
        "job_03": "success",
    }
    failed = manifest.records[1]
    assert failed.error_type == "RuntimeError" and failed.message == "boom job_01"
    assert "RuntimeError: boom job_01" in failed.provenance["traceback"]
    assert failed.provenance["source"] == "test"
    assert manifest.failed_count == 1 and manifest.success_count == 3

    # A stale output from before must not stop the retry of a failed job.
    append_line(jobs[1])
    rerun = run(jobs, append_line, tmp_path / "m.json")
    assert list(statuses(rerun).values()) == ["skipped", "success", "skipped", "skipped"]
    assert rerun.records[1].error_type is None and rerun.records[1].message == ""
    assert [commit_count(j) for j in jobs] == [1, 2, 1, 1]


def test_bad_worker_return_is_a_failure(tmp_path):
    jobs = make_jobs(tmp_path, 2)
    manifest = run(jobs, ScriptedWorker(bad_return_ids=frozenset({"job_00"})), tmp_path / "m.json")
    assert statuses(manifest) == {"job_00": "failed", "job_01": "success"}
    assert manifest.records[0].error_type == "TypeError"
    assert "expected a provenance dict" in manifest.records[0].message


def test_unserialisable_provenance_is_a_failure(tmp_path):
    jobs = make_jobs(tmp_path, 1)
    manifest = run(jobs, lambda job: {"thing": object()}, tmp_path / "m.json")
    assert manifest.records[0].status is RunStatus.FAILED
    assert "not JSON-serialisable" in manifest.records[0].message


def test_records_of_other_jobs_are_kept_after_current_ones(tmp_path):
    jobs = make_jobs(tmp_path, 4)
    run(jobs[:3], append_line, tmp_path / "m.json")
    manifest = run([jobs[3], jobs[1]], append_line, tmp_path / "m.json")
    assert [r.job_id for r in manifest.records] == ["job_03", "job_01", "job_00", "job_02"]
    assert manifest.total == 2 and manifest.success_count == 3 and manifest.skipped_count == 1


def test_manifest_metadata_kept_unless_given(tmp_path):
    jobs = make_jobs(tmp_path, 1)
    run(jobs, append_line, tmp_path / "m.json", input_dir=Path("a"), pattern="*.bvh")
    kept = run(jobs, append_line, tmp_path / "m.json")
    assert kept.input_dir == Path("a") and kept.pattern == "*.bvh"
    changed = run(jobs, append_line, tmp_path / "m.json", output_dir=Path("o"), pattern="*.npz")
    assert (changed.input_dir, changed.output_dir, changed.pattern) == (
        Path("a"),
        Path("o"),
        "*.npz",
    )


@pytest.mark.parametrize("max_workers", [0, -1, 1.5, True])
def test_bad_max_workers_raises_before_writing(tmp_path, max_workers):
    with pytest.raises(ValueError, match="max_workers"):
        BatchRunner.run(
            make_jobs(tmp_path, 2),
            append_line,
            manifest_path=tmp_path / "m.json",
            max_workers=max_workers,
        )
    assert not (tmp_path / "m.json").exists()


def _existing_manifest(tmp_path: Path, text: str | None = None) -> tuple[Path, bytes]:
    path = tmp_path / "m.json"
    if text is None:
        run(make_jobs(tmp_path, 1), append_line, path)
    else:
        path.write_text(text)
    return path, path.read_bytes()


def _outputs(tmp_path: Path) -> list[str]:
    out = tmp_path / "out"
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


@pytest.mark.parametrize("existing", [None, "valid"])
def test_duplicate_ids_raise_before_writing(tmp_path, existing):
    path, before = (tmp_path / "m.json", None) if existing is None else _existing_manifest(tmp_path)
    outputs = _outputs(tmp_path)
    jobs = make_jobs(tmp_path, 3)
    jobs.append(jobs[1].model_copy(update={"output": tmp_path / "out" / "other.txt"}))
    jobs.append(jobs[2].model_copy(update={"output": tmp_path / "out" / "other2.txt"}))
    with pytest.raises(ValueError, match=r"duplicate job ids \['job_01', 'job_02'\]") as info:
        BatchRunner.run(jobs, append_line, manifest_path=path)
    assert str(path) in str(info.value)
    assert (path.read_bytes() if before is not None else path.exists()) == (before or False)
    assert _outputs(tmp_path) == outputs


def test_duplicate_outputs_raise(tmp_path):
    jobs = make_jobs(tmp_path, 2)
    jobs[1] = jobs[1].model_copy(update={"output": jobs[0].output})
    with pytest.raises(ValueError, match="duplicate job outputs"):
        BatchRunner.run(jobs, append_line, manifest_path=tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_non_job_raises(tmp_path):
    with pytest.raises(TypeError, match=r"jobs\[0\] is dict"):
        BatchRunner.run([{"id": "a"}], append_line, manifest_path=tmp_path / "m.json")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"schema_version": 1, "records": [', "not valid JSON"),
        ('{"schema_version": 7, "records": []}', "unknown schema_version 7"),
    ],
)
def test_unusable_manifest_raises_and_is_not_overwritten(tmp_path, text, match):
    path, before = _existing_manifest(tmp_path, text)
    with pytest.raises(ManifestError, match=match) as info:
        BatchRunner.run(make_jobs(tmp_path, 2), append_line, manifest_path=path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert _outputs(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_unpicklable_worker_with_pool_raises_before_writing(tmp_path):
    path, before = _existing_manifest(tmp_path)
    outputs = _outputs(tmp_path)
    with pytest.raises(TypeError, match="cannot be pickled") as info:
        BatchRunner.run(make_jobs(tmp_path, 3), lambda job: None, manifest_path=path, max_workers=2)
    assert str(path) in str(info.value) and "max_workers=2" in str(info.value)
    assert path.read_bytes() == before
    assert _outputs(tmp_path) == outputs


def test_worker_pool_processes_cannot_load_raises_before_writing(tmp_path):
    path, before = _existing_manifest(tmp_path)
    outputs = _outputs(tmp_path)
    jobs = make_jobs(tmp_path, 3)
    with pytest.raises(RuntimeError, match="could not load the worker") as info:
        _run_with_deadline(
            lambda: BatchRunner.run(jobs, UnloadableWorker(), manifest_path=path, max_workers=2),
            timeout_s=120,
        )
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert _outputs(tmp_path) == outputs


def test_keyboard_interrupt_keeps_finished_jobs_and_rerun_resumes(tmp_path):
    jobs = make_jobs(tmp_path, 5)
    path = tmp_path / "m.json"
    with pytest.raises(KeyboardInterrupt):
        BatchRunner.run(
            jobs, ScriptedWorker(interrupt_ids=frozenset({"job_02"})), manifest_path=path
        )
    partial = BatchManifest.load(path)
    assert statuses(partial) == {"job_00": "success", "job_01": "success"}
    assert_consistent(partial, 5)

    manifest = run(jobs, append_line, path)
    assert list(statuses(manifest).values()) == ["skipped"] * 2 + ["success"] * 3
    assert [bool(r.provenance.get("resumed")) for r in manifest.records] == [True, True] + [
        False
    ] * 3
    assert [commit_count(j) for j in jobs] == [1] * 5
    assert manifest.created_at == partial.created_at


def _run_with_deadline(fn, timeout_s: float):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) when it overruns."""
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # re-raised in the test thread
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), f"batch still running after {timeout_s} s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


def test_pool_worker_dying_hard_fails_only_its_job(tmp_path):
    jobs = make_jobs(tmp_path, 5)
    worker = ScriptedWorker(
        sleep_s=0.1, die_ids=frozenset({"job_01"}), fail_ids=frozenset({"job_04"})
    )
    manifest = _run_with_deadline(
        lambda: run(jobs, worker, tmp_path / "m.json", max_workers=2), timeout_s=120
    )
    assert statuses(manifest) == {
        "job_00": "success",
        "job_01": "failed",
        "job_02": "success",
        "job_03": "success",
        "job_04": "failed",
    }
    died = manifest.records[1]
    assert died.error_type == "BrokenProcessPool" and "died abruptly" in died.message
    assert manifest.records[4].error_type == "RuntimeError"
    assert [commit_count(j) for j in jobs] == [1, 0, 1, 1, 0]
    pids = {r.provenance["pid"] for r in manifest.records if r.status is RunStatus.SUCCESS}
    assert os.getpid() not in pids


def test_pool_death_with_several_in_flight_reruns_them_alone(tmp_path):
    """job_00 writes its output, then dies while job_01 is running: neither can be blamed.

    Rerun alone, job_00's output already exists so it is skipped (not run twice), and
    job_01 succeeds; nothing is recorded failed.
    """
    jobs = make_jobs(tmp_path, 3)
    worker = ScriptedWorker(
        sleep_s=0.5,
        die_after_write_ids=frozenset({"job_00"}),
        gate_ids=frozenset({"job_01"}),
        gate_path=str(jobs[0].output),
    )
    manifest = _run_with_deadline(
        lambda: run(jobs, worker, tmp_path / "m.json", max_workers=2), timeout_s=120
    )
    assert statuses(manifest) == {"job_00": "skipped", "job_01": "success", "job_02": "success"}
    assert "pool broke" in manifest.records[0].message
    assert [commit_count(j) for j in jobs] == [1, 1, 1]


def test_pool_worker_raising_keyboard_interrupt_stops_batch(tmp_path):
    jobs = make_jobs(tmp_path, 5)
    path = tmp_path / "m.json"
    worker = ScriptedWorker(sleep_s=0.05, interrupt_ids=frozenset({"job_02"}))
    with pytest.raises(KeyboardInterrupt):
        _run_with_deadline(
            lambda: BatchRunner.run(jobs, worker, manifest_path=path, max_workers=2),
            timeout_s=120,
        )
    partial = BatchManifest.load(path)
    assert_consistent(partial, 5)
    assert partial.failed_count == 0 and "job_02" not in partial.records_by_id()
    assert partial.success_count >= 1  # job_02 was only submitted once a job had finished

    manifest = run(jobs, append_line, path)
    assert set(statuses(manifest).values()) <= {"success", "skipped"}
    assert [commit_count(j) for j in jobs] == [1] * 5


def _start_batch(work_dir: Path, n_jobs: int, sleep_s: float, max_workers: int):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [
            sys.executable,
            str(RUN_BATCH),
            str(work_dir),
            str(n_jobs),
            str(sleep_s),
            str(max_workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _poll_until(proc, path: Path, n_success: int, timeout_s: float = 60.0) -> int:
    """Poll the manifest (it must parse at every look) until ``n_success`` jobs are done."""
    deadline = time.monotonic() + timeout_s
    polls = 0
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0].decode()
        if path.exists():
            raw = path.read_bytes()
            json.loads(raw)  # valid JSON at every moment
            polls += 1
            if BatchManifest.model_validate_json(raw).success_count >= n_success:
                return polls
        time.sleep(0.002)
    pytest.fail(f"{n_success} jobs not done within {timeout_s} s")


def test_sigkill_mid_batch_then_rerun_completes_each_job_once(tmp_path):
    n_jobs = 20
    path = tmp_path / "manifest.json"
    proc = _start_batch(tmp_path, n_jobs, sleep_s=0.1, max_workers=1)
    try:
        polls = _poll_until(proc, path, n_success=4)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert polls > 1
    killed = BatchManifest.load(path)
    done_before = {r.job_id: r for r in killed.records if r.status is RunStatus.SUCCESS}
    assert 4 <= len(done_before) < n_jobs

    jobs = make_jobs(tmp_path, n_jobs)
    manifest = run(jobs, append_line, path)
    assert [commit_count(j) for j in jobs] == [1] * n_jobs  # every job done exactly once
    by_id = manifest.records_by_id()
    assert set(by_id) == {j.id for j in jobs}
    for job_id, old in done_before.items():  # completed jobs were not redone
        assert by_id[job_id].status is RunStatus.SKIPPED
        assert by_id[job_id].provenance["resumed"] is True
        previous = by_id[job_id].provenance["previous"]
        assert previous["started_at"] == old.started_at.isoformat().replace("+00:00", "Z")
    # Plus at most the job killed after its output landed but before the manifest write.
    assert len(done_before) <= manifest.skipped_count <= len(done_before) + 1
    assert manifest.success_count + manifest.skipped_count == n_jobs
    assert manifest.created_at == killed.created_at


def test_sigint_to_pool_batch_stops_promptly_and_rerun_resumes(tmp_path):
    n_jobs = 40  # 6 s of work: a busy machine cannot finish it before the signal lands
    path = tmp_path / "manifest.json"
    proc = _start_batch(tmp_path, n_jobs, sleep_s=0.3, max_workers=2)
    try:
        _poll_until(proc, path, n_success=2)
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in output
    interrupted = BatchManifest.load(path)
    assert 2 <= interrupted.success_count < n_jobs
    assert interrupted.failed_count == 0

    jobs = make_jobs(tmp_path, n_jobs)
    time.sleep(0.5)  # were the pool processes stopped? a straggler would add a line below
    manifest = run(jobs, append_line, path)
    assert manifest.failed_count == 0
    assert manifest.success_count + manifest.skipped_count == n_jobs
    assert [commit_count(j) for j in jobs] == [1] * n_jobs
    resumed = [r.job_id for r in manifest.records if r.provenance.get("resumed")]
    assert len(resumed) == interrupted.success_count


def test_progress_bar_can_be_forced(tmp_path, capsys):
    jobs = make_jobs(tmp_path, 2)
    BatchRunner.run(jobs, append_line, manifest_path=tmp_path / "m.json", progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err
    BatchRunner.run(jobs, append_line, manifest_path=tmp_path / "m.json", progress=False)
    assert capsys.readouterr().err == ""


def test_unknown_start_method_raises():
    with pytest.raises(ValueError, match="start_method 'teleport'"):
        BatchRunner(start_method="teleport")


def test_job_provenance_must_pickle_for_pool(tmp_path):
    job = BatchJob(
        id="a", motion=tmp_path / "a", output=tmp_path / "a.txt", provenance={"f": lambda: 0}
    )
    with pytest.raises(TypeError, match="job 'a' cannot be pickled"):
        BatchRunner.run([job], append_line, manifest_path=tmp_path / "m.json", max_workers=2)
    assert not (tmp_path / "m.json").exists()

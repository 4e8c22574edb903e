"""The grouped batch over several CPU processes: same outputs and manifest as one process,
part manifests merged (also those a killed run left), resume, and the process count."""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest
from test_batch_grouped import SOLVER, write_clips

from retargetjax.batch import (
    BatchManifest,
    JobSettings,
    RetargetWorker,
    cpu_process_count,
    discover_jobs,
    part_manifest_path,
    run_grouped,
    run_grouped_processes,
)
from retargetjax.io import RobotMotion
from retargetjax.retarget import RetargetConfig


@pytest.fixture(scope="module")
def worker() -> RetargetWorker:
    config = RetargetConfig.model_validate({"solver": SOLVER})
    return RetargetWorker(JobSettings(robot="unitree_g1", config=config))


@pytest.fixture(scope="module")
def two_process_run(worker, tmp_path_factory):
    data = tmp_path_factory.mktemp("dataset")
    write_clips(data)
    out = tmp_path_factory.mktemp("out2")
    jobs = discover_jobs(data, "**/*.bvh", out)
    manifest = run_grouped_processes(
        jobs, worker, processes=2, manifest_path=out / "manifest.json", max_windows=2
    )
    return data, out, jobs, manifest


def test_process_count_reads_whole_numbers_and_auto() -> None:
    assert cpu_process_count(None) == 1
    assert cpu_process_count(3) == 3 and cpu_process_count("2") == 2
    assert cpu_process_count("auto") == len(os.sched_getaffinity(0))
    for bad in (0, -1, "two", "1.5", 2.5):
        with pytest.raises(ValueError, match="expected a whole number >= 1 or 'auto'"):
            cpu_process_count(bad)


def test_two_processes_match_one_and_leave_one_manifest(two_process_run, worker, tmp_path):
    data, out, jobs, manifest = two_process_run
    assert manifest.success_count == len(jobs) == 6, [r.message for r in manifest.records]
    assert manifest.total == 6
    assert BatchManifest.load(out / "manifest.json").success_count == 6
    assert not list(out.glob("manifest.process-*")), "part manifests are merged and deleted"
    one = run_grouped(
        discover_jobs(data, "**/*.bvh", tmp_path),
        worker,
        manifest_path=tmp_path / "manifest.json",
        max_windows=2,
        devices=jax.devices()[:1],
    )
    assert one.success_count == 6
    for job in jobs:
        a = RobotMotion.load(job.output)
        b = RobotMotion.load(tmp_path / f"{job.id}.npz")
        assert a.num_frames == b.num_frames
        np.testing.assert_allclose(a.joint_pos, b.joint_pos, atol=1e-4)
        np.testing.assert_allclose(a.root_pos, b.root_pos, atol=1e-4)


def test_a_killed_runs_part_manifest_is_merged_and_nothing_reruns(two_process_run, worker):
    _, out, jobs, _ = two_process_run
    # As if the run was killed before merging: its records only in a part manifest.
    main = out / "manifest.json"
    part = part_manifest_path(main, 0, 2)
    os.replace(main, part)
    before = {j.id: j.output.stat().st_mtime_ns for j in jobs}
    manifest = run_grouped_processes(jobs, worker, processes=2, manifest_path=main)
    assert not part.exists()
    assert {r.status.value for r in manifest.records} == {"skipped"}
    assert all(r.provenance["previous"]["status"] == "success" for r in manifest.records)
    assert {j.id: j.output.stat().st_mtime_ns for j in jobs} == before  # nothing rewritten

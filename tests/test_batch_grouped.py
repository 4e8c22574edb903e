"""Grouped batch path: discovery, packing, per-device groups, bad files, resume, shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from retargetjax.batch import (
    BatchJob,
    BatchManifest,
    JobSettings,
    RetargetWorker,
    RunStatus,
    compile_count,
    discover_jobs,
    merge_manifests,
    parse_shard,
    plan_rows,
    run_grouped,
    select_shard,
)
from retargetjax.io import RobotMotion
from retargetjax.motion import load_motion, sample_motion_path, write_bvh
from retargetjax.retarget import RetargetConfig
from retargetjax.retarget._windows import plan_windows

#: The same tiny solver settings everywhere (and in test_batch_app/test_experiments), so the
#: compiled solver is shared across tests.
#: ``floor_contact_effort`` 1: the clips where the squat's knee is down run as the others (the
#: device-spread checks count on one group; the effort has a test of its own).
SOLVER = {
    "init_iterations": 0,
    "iterations": 3,
    "cg_iterations": 8,
    "window": 32,
    "overlap": 8,
    "floor_contact_effort": 1,
}
SOLVER_OVERRIDES = [f"solver.{k}={v}" for k, v in SOLVER.items()]
#: (start, stop) frames of the sample clip: mixed lengths, 1 or 2 windows of 32.
CUTS = [(0, 12), (20, 60), (60, 90), (100, 140), (150, 170), (200, 236)]


def write_clips(folder: Path, cuts=CUTS) -> list[Path]:
    motion = load_motion(sample_motion_path())
    paths = []
    for i, (a, b) in enumerate(cuts):
        path = folder / ("sub" if i % 2 else ".") / f"clip{i}.bvh"
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.append(write_bvh(motion.trim(a, b), path))
    return paths


@pytest.fixture(scope="module")
def worker() -> RetargetWorker:
    config = RetargetConfig.model_validate({"solver": SOLVER})
    return RetargetWorker(JobSettings(robot="unitree_g1", config=config))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dataset")
    write_clips(root)
    return root


@pytest.fixture(scope="module")
def four_device_run(dataset, worker, tmp_path_factory):
    out = tmp_path_factory.mktemp("out4")
    jobs = discover_jobs(dataset, "**/*.bvh", out)
    before = compile_count()
    manifest = run_grouped(jobs, worker, manifest_path=out / "manifest.json", max_windows=2)
    return jobs, manifest, compile_count() - before


# ---------------------------------------------------------------- discovery (no solve)
def test_discovery_ids_mirror_tree_and_skip_hidden(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ["a/b/walk.bvh", "a/run.bvh", "top.bvh", "a/.walk.bvh.123.tmp", ".hid/x.bvh"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("HIERARCHY\n")
    (tmp_path / "a" / "run.npz").write_bytes(b"PK")
    jobs = discover_jobs(
        tmp_path, "**/*", tmp_path / "out", motion_format="bvh", robot="unitree_h1"
    )
    by_id = {j.id: j for j in jobs}
    assert sorted(by_id) == ["a/b/walk", "a/run.bvh", "a/run.npz", "top"]
    assert by_id["a/b/walk"].output == (tmp_path / "out" / "a" / "b" / "walk.npz").resolve()
    assert by_id["a/run.npz"].output.name == "run.npz.npz"  # same stem: suffix kept
    assert all(j.motion_format.value == "bvh" and j.robot.value == "unitree_h1" for j in jobs)
    # Outputs inside the input folder are not taken as inputs on the next discovery.
    (tmp_path / "out" / "top.bvh").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "out" / "top.bvh").write_text("HIERARCHY\n")
    assert len(discover_jobs(tmp_path, "**/*.bvh", tmp_path / "out")) == 3
    with pytest.raises(FileNotFoundError, match="not a folder"):
        discover_jobs(tmp_path / "missing", "**/*.bvh")


def test_discovery_detects_format(dataset, tmp_path):
    jobs = discover_jobs(dataset, "**/*.bvh", tmp_path)
    assert [j.id for j in jobs] == [
        "clip0",
        "clip2",
        "clip4",
        "sub/clip1",
        "sub/clip3",
        "sub/clip5",
    ]
    assert {j.motion_format.value for j in jobs} == {"bvh"}
    assert jobs[3].provenance["relative_path"] == "sub/clip1.bvh"


# ------------------------------------------------------------------ packing (no solve)
def _row_usage(plan, frames, window):
    """Frames taken per row; asserts that every clip frame has a place, no two windows share
    a frame, and a masked frame precedes every piece that is not first on its row."""
    taken = np.zeros((plan.num_rows, window), int)
    for slot, n in zip(plan.slots, frames):
        assert slot.plan.num_frames == n and slot.plan.window == window
        assert slot.plan.lengths().sum() - (len(slot.plan.starts) - 1) * 32 == n  # overlap 32
        for (row, offset), length in zip(slot.places, slot.plan.lengths()):
            taken[row, offset : offset + length] += 1
    assert taken.max() <= 1
    for slot in plan.slots:
        for row, offset in slot.places:
            assert offset == 0 or taken[row, offset - 1] == 0
    return taken


def test_plan_rows_shares_rows_between_short_clips_and_long_clips_tails():
    plan = plan_rows([300, 100, 120, 30, 130], window=256, overlap=32, max_windows=4)
    assert plan.group_windows == 4
    long = plan.slots[0]
    # Longest first: its full window [0, 256) on row 0, its tail [224, 300) (76 frames)
    # opens the first shared row.
    assert long.plan.starts == (0, 224) and long.places == ((0, 0), (1, 0))
    assert long.plan.lengths().tolist() == [256, 76]
    # First fit in order 300, 130, 120, 100, 30: row 1 = 76 | 130 | 30, row 2 = 120 | 100.
    assert plan.slots[4].places == ((1, 77),)
    assert plan.slots[3].places == ((1, 208),)
    assert plan.slots[2].places == ((2, 0),)
    assert plan.slots[1].places == ((2, 121),)
    assert plan.num_rows == 3 and plan.last_row(0) == 1
    taken = _row_usage(plan, [300, 100, 120, 30, 130], 256)
    assert taken.sum() == 300 + 32 + 100 + 120 + 30 + 130  # frames + the overlap
    assert plan_rows([10, 10], 256, 32, max_windows=64).group_windows == 1  # small runs


def test_mixed_lengths_ten_frames_to_ten_minutes_compile_one_shape():
    # 500 clips from 10 frames to 10 minutes at 30 fps, default window 256 / overlap 32.
    rng = np.random.default_rng(0)
    frames = np.concatenate([[10, 18000], rng.integers(10, 18000, 498)])
    plan = plan_rows(frames, 256, 32, max_windows=16)
    assert plan.group_windows == 16  # the one block shape; a 10-minute clip spans calls
    taken = _row_usage(plan, frames, 256)
    ten_min = plan.slots[1]
    full = len(plan_windows(18000, 256, 32).starts) - 1
    assert [r for r, _ in ten_min.places[:full]] == list(range(full))  # its own rows, in order
    calls = -(-plan.num_rows // plan.group_windows)
    assert taken.sum() / (calls * 16 * 256) > 0.86  # overlap (1/8) is the only real waste
    short = plan_rows(rng.integers(10, 120, 200), 256, 32, max_windows=16)
    assert _row_usage(short, short_frames := [s.plan.num_frames for s in short.slots], 256).sum()
    assert short.num_rows <= np.ceil((sum(short_frames) + 200) / 256) + 2  # rows are shared


# ------------------------------------------------------------------------- shards
def test_shards_are_disjoint_and_merge(tmp_path):
    jobs = [
        BatchJob(id=f"j{i}", motion=tmp_path / f"{i}.bvh", output=tmp_path / f"{i}.npz")
        for i in range(7)
    ]
    parts = [select_shard(jobs, f"{i}/3") for i in range(3)]
    assert sorted(j.id for p in parts for j in p) == sorted(j.id for j in jobs)
    assert [j.id for j in parts[1]] == ["j1", "j4"]
    assert parts[1][0].provenance["shard"] == "1/3"
    for bad in ["3/3", "a/b", "1/0", "-1/2"]:
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)
    from retargetjax.batch import BatchRunner

    paths = []
    for i, part in enumerate(parts):
        path = tmp_path / f"manifest.shard-{i}-of-3.json"
        BatchRunner.run(part, _touch, manifest_path=path)
        paths.append(path)
    merged = merge_manifests(paths, tmp_path / "manifest.json")
    assert [r.job_id for r in merged.records] == sorted(j.id for j in jobs)
    assert merged.total == 7 and merged.success_count == 7
    assert BatchManifest.load(tmp_path / "manifest.json").success_count == 7


def _touch(job: BatchJob) -> dict:
    job.output.write_text("x")
    return {"ok": True}


# ------------------------------------------------------------ the grouped solve itself
def test_four_devices_spread_and_match_one_device(four_device_run, dataset, worker, tmp_path):
    jobs, manifest, compiles = four_device_run
    assert len(jax.devices()) == 4
    assert manifest.success_count == len(jobs) == 6, [r.message for r in manifest.records]
    records = manifest.records_by_id()
    assert {records[j.id].provenance["device"] for j in jobs} == {str(d) for d in jax.devices()}
    assert compiles <= 4  # one block shape, compiled once per device
    prov = records["sub/clip1"].provenance
    for key in (
        "group",
        "bucket",
        "iterations",
        "final_loss",
        "timings",
        "config_hash",
        "versions",
    ):
        assert key in prov
    assert prov["bucket"] == {"window": 32, "group_windows": 2}

    one = run_grouped(
        discover_jobs(dataset, "**/*.bvh", tmp_path),
        worker,
        manifest_path=tmp_path / "manifest.json",
        max_windows=2,
        devices=jax.devices()[:1],
    )
    assert one.success_count == 6
    assert {r.provenance["device"] for r in one.records} == {str(jax.devices()[0])}
    for job in jobs:
        a = RobotMotion.load(job.output)
        b = RobotMotion.load(tmp_path / f"{job.id}.npz")
        assert a.num_frames == b.num_frames == load_motion(job.motion).num_frames
        np.testing.assert_allclose(a.joint_pos, b.joint_pos, atol=1e-5)
        np.testing.assert_allclose(a.root_pos, b.root_pos, atol=1e-5)


def test_clips_with_a_knee_down_run_apart_with_more_iterations(tmp_path):
    """The squat's clip with the knee on the floor (frames 150-170) is solved in a call of
    its own with ``floor_contact_effort`` (2) times the iterations; a standing clip beside
    it keeps the configured count."""
    from retargetjax.retarget import has_floor_contact

    paths = write_clips(tmp_path / "in", [(100, 140), (150, 170)])
    config = RetargetConfig.model_validate({"solver": {**SOLVER, "floor_contact_effort": 2}})
    worker = RetargetWorker(JobSettings(robot="unitree_g1", config=config))
    jobs = discover_jobs(tmp_path / "in", "**/*.bvh", tmp_path / "out")
    floor = {j.id: has_floor_contact(worker.prepare(j).problem) for j in jobs}
    assert sorted(floor.values()) == [False, True], floor
    manifest = run_grouped(
        jobs, worker, manifest_path=tmp_path / "m.json", max_windows=2, devices=jax.devices()[:1]
    )
    assert manifest.success_count == len(paths) == 2
    rec = manifest.records_by_id()
    for job_id, down in floor.items():
        assert rec[job_id].provenance["iterations"] == (6 if down else 3)
        # effort 2: twice the steps, and no more (the bound is 2 x 3)
        assert rec[job_id].provenance["still_feet_effort"] == 1
        # Recorded, and off: these settings have no per-frame stage to warm-start.
        assert rec[job_id].provenance["warm_start"] is False
        assert rec[job_id].provenance["init_tolerance"] >= 0
    assert len({r.provenance["group"] for r in manifest.records}) == 2


def test_bad_files_fail_alone(dataset, worker, tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    good = sorted(dataset.glob("**/*.bvh"))[:2]
    for path in good:
        (data / path.name).write_bytes(path.read_bytes())
    text = good[0].read_text()
    (data / "truncated.bvh").write_text(text[: len(text) // 3])
    head, motion = text.split("MOTION", 1)
    lines = motion.strip().splitlines()
    nan_rows = [" ".join(["nan"] * len(lines[-1].split())) for _ in lines[2:]]
    (data / "nan.bvh").write_text(head + "MOTION\n" + "\n".join(lines[:2] + nan_rows) + "\n")
    (data / "mystery.dat").write_bytes(b"\x00\x01 not a motion")
    jobs = discover_jobs(data, "**/*", tmp_path / "out")
    manifest = run_grouped(
        jobs, worker, manifest_path=tmp_path / "m.json", max_windows=2, devices=jax.devices()[:1]
    )
    rec = manifest.records_by_id()
    assert rec[good[0].stem].status is RunStatus.SUCCESS
    assert rec[good[1].stem].status is RunStatus.SUCCESS
    for bad in ("truncated", "nan", "mystery"):
        assert rec[bad].status is RunStatus.FAILED, bad
        assert rec[bad].message and rec[bad].error_type
        assert not (tmp_path / "out" / f"{bad}.npz").exists()
    assert "truncated.bvh" in rec["truncated"].message
    assert "mystery.dat" in rec["mystery"].message


def test_a_call_that_raises_is_redone_clip_by_clip(dataset, worker, tmp_path, monkeypatch):
    import retargetjax.batch._grouped as grouped

    real = grouped.solve_rows
    lengths = [b - a for a, b in CUTS]
    assert lengths.count(lengths[2]) == 1  # clip2 is told apart by its length

    def flaky(problems, *args, **kwargs):
        if any(p.num_frames == lengths[2] for p in problems):
            raise FloatingPointError("injected failure for clip2")
        return real(problems, *args, **kwargs)

    monkeypatch.setattr(grouped, "solve_rows", flaky)
    jobs = discover_jobs(dataset, "**/*.bvh", tmp_path / "out")
    manifest = run_grouped(
        jobs, worker, manifest_path=tmp_path / "m.json", max_windows=2, devices=jax.devices()[:1]
    )
    rec = manifest.records_by_id()
    assert rec["clip2"].status is RunStatus.FAILED
    assert "injected failure" in rec["clip2"].message
    assert not (tmp_path / "out" / "clip2.npz").exists()
    others = [j for j in jobs if j.id != "clip2"]
    assert all(rec[j.id].status is RunStatus.SUCCESS for j in others)
    assert all(j.output.exists() for j in others)


def test_rerun_resumes_and_force_redoes(four_device_run, worker):
    jobs, _manifest, _ = four_device_run
    path = jobs[0].output.parent / "manifest.json"
    stamps = {j.id: j.output.stat().st_mtime_ns for j in jobs}
    again = run_grouped(jobs, worker, manifest_path=path, max_windows=2)
    assert again.skipped_count == 6 and again.success_count == 0
    assert all(r.provenance.get("resumed") for r in again.records)
    assert all(r.provenance["previous"]["status"] == "success" for r in again.records)
    assert all("final_loss" in r.provenance for r in again.records)  # what the solve knew
    assert {j.id: j.output.stat().st_mtime_ns for j in jobs} == stamps
    forced = run_grouped(jobs[:2], worker, manifest_path=path, max_windows=2, force=True)
    assert not any(forced.records_by_id()[j.id].provenance.get("resumed") for j in jobs[:2])
    assert forced.records_by_id()[jobs[3].id].provenance.get("resumed")  # kept, not rerun


KILL_SCRIPT = f"""
import sys
from pathlib import Path
import jax
from retargetjax.batch import JobSettings, RetargetWorker, discover_jobs, run_grouped
from retargetjax.retarget import RetargetConfig
src, out = Path(sys.argv[1]), Path(sys.argv[2])
cfg = RetargetConfig.model_validate({{"solver": {SOLVER!r}}})
worker = RetargetWorker(JobSettings(robot="unitree_g1", config=cfg))
jobs = discover_jobs(src, "**/*.bvh", out)
run_grouped(jobs, worker, manifest_path=out / "manifest.json", max_windows=1,
            devices=jax.devices()[:1])
"""


def test_killed_mid_batch_rerun_loses_nothing_and_repeats_nothing(worker, tmp_path):
    src = tmp_path / "in"
    write_clips(src, [(i * 20, i * 20 + 12) for i in range(10)])
    out = tmp_path / "out"
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(src), str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    manifest_path = out / "manifest.json"
    deadline = time.monotonic() + 240
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest_path.exists():
            done = BatchManifest.load(manifest_path).success_count
            if done >= 2:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 2 <= done < 10, f"the batch was not killed mid-way ({done} done)"
    before = BatchManifest.load(manifest_path)
    finished = {r.job_id: r for r in before.records if r.status is RunStatus.SUCCESS}
    stamps = {i: r.output.stat().st_mtime_ns for i, r in finished.items()}
    # A half-written output can only be a temp file; it must not count as done.
    (out / ".clip9.npz.deadbeef.tmp").write_bytes(b"PK\x03 half")

    jobs = discover_jobs(src, "**/*.bvh", out)
    after = run_grouped(
        jobs, worker, manifest_path=manifest_path, max_windows=1, devices=jax.devices()[:1]
    )
    recs = after.records_by_id()
    assert len(recs) == 10
    assert all(r.status in (RunStatus.SUCCESS, RunStatus.SKIPPED) for r in recs.values())
    for job_id in finished:  # not done twice
        assert recs[job_id].provenance.get("resumed")
        assert recs[job_id].output.stat().st_mtime_ns == stamps[job_id]
    for job in jobs:  # not lost: every output is complete and readable
        assert RobotMotion.load(job.output).num_frames == 12
    assert json.loads(manifest_path.read_text())["total"] == 10

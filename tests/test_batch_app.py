"""``retargetjax-batch``: a run, resume, force, shards merged, and a Hydra sweep through
submitit's local executor gathered into one table by ``retargetjax-sweep``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_batch_grouped import SOLVER_OVERRIDES, write_clips

from retargetjax.apps import batch as batch_app
from retargetjax.apps import sweep as sweep_app
from retargetjax.batch import BatchManifest, compose_config

#: In-process runs use one device, so they share the compiled solver of the other tests.
COMMON = [*SOLVER_OVERRIDES, "num_devices=1", "max_windows=2", "progress=false"]


def run_cli(*args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    """The app as users run it, in a fresh interpreter (Hydra owns its process)."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    cmd = [sys.executable, "-m", "retargetjax.apps.batch", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    write_clips(root, [(0, 12), (30, 50), (60, 90), (100, 112)])
    return root


def test_run_resume_force(clips, tmp_path, capsys):
    out = tmp_path / "out"
    args = [f"input_dir={clips}", "pattern=**/*.bvh", f"output_dir={out}", "robot=unitree_g1"]
    summary = batch_app.run_batch(compose_config([*args, *COMMON]), overrides=[])
    manifest = BatchManifest.load(out / "manifest.json")
    assert manifest.success_count == 4 and manifest.pattern == "**/*.bvh"
    assert (out / "sub" / "clip1.npz").is_file()
    assert summary["success"] == 4 and summary["run_frames"] == 12 + 20 + 30 + 12
    batch_app._print_table(summary)
    assert "success | 4" in capsys.readouterr().out

    summary = batch_app.run_batch(compose_config([*args, *COMMON]), overrides=[])
    assert summary["resumed"] == 4 and summary["run_frames"] == 0 and summary["skipped"] == 4

    summary = batch_app.run_batch(compose_config([*args, *COMMON, "force=true"]), overrides=[])
    assert summary["resumed"] == 0 and summary["success"] == 4


def test_shards_then_merge(clips, tmp_path):
    out = tmp_path / "out"
    for i in range(2):
        cfg = compose_config([f"input_dir={clips}", f"output_dir={out}", f"shard={i}/2", *COMMON])
        batch_app.run_batch(cfg, overrides=[])
    shard_paths = sorted(out.glob("manifest.shard-*-of-2.json"))
    assert [BatchManifest.load(p).total for p in shard_paths] == [2, 2]
    assert batch_app.merge_main([*map(str, shard_paths), "-o", str(out / "manifest.json")]) == 0
    merged = BatchManifest.load(out / "manifest.json")
    assert merged.success_count == 4 and merged.total == 4
    assert {r.provenance["shard"] for r in merged.records} == {"0/2", "1/2"}


def test_submitit_sweep_runs_own_dirs_and_gathers(clips, tmp_path, capsys):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep_dir = tmp_path / "sweep"
    run_cli(
        "-m",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        f"input_dir={clips}",
        "pattern=clip0.bvh",
        "costs.smooth=0.1,10",
        *COMMON,
        f"hydra.sweep.dir={sweep_dir}",
    )
    for run in ("0", "1"):
        summary = json.loads((sweep_dir / run / "summary.json").read_text())
        assert summary["success"] == 1 and summary["failed"] == 0
        assert (sweep_dir / run / "retargeted" / "clip0.npz").is_file()
    assert sweep_app.main([str(sweep_dir), "-o", str(tmp_path / "table.csv")]) == 0
    printed = capsys.readouterr().out
    assert "costs.smooth" in printed and "final_loss_mean" in printed
    rows = (tmp_path / "table.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("0,") and ",10," in rows[2]
    with pytest.raises(FileNotFoundError, match="no run folders"):
        sweep_app.gather_sweep(tmp_path / "nothing")


def test_console_scripts_are_installed():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["retargetjax-batch"] == "retargetjax.apps.batch:main"
    assert scripts["retargetjax-batch-merge"] == "retargetjax.apps.batch:merge_main"
    assert scripts["retargetjax-sweep"] == "retargetjax.apps.sweep:main"


def _corrupt_files(folder: Path, good_bvh: Path) -> dict[str, str]:
    """One broken file of each input format (truncated, empty, wrong extension); returns
    job id → file name."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    keypoints = folder / "kp_full.npz"
    names = np.array(["pelvis", "head"])
    np.savez(keypoints, positions=np.zeros((5, 2, 3)), joint_names=names, fps=30.0)
    amass = folder / "amass_full.npz"
    np.savez(amass, poses=np.zeros((5, 72)), trans=np.zeros((5, 3)), betas=np.zeros(10))
    array = folder / "bare_full.npy"
    np.save(array, np.zeros((5, 2, 3), np.float32))
    bvh = good_bvh.read_bytes()
    files = {
        "trunc_bvh.bvh": bvh[: len(bvh) // 2],
        "empty_bvh.bvh": b"",
        "trunc_keypoints.npz": keypoints.read_bytes()[: keypoints.stat().st_size // 2],
        "trunc_amass.npz": amass.read_bytes()[: amass.stat().st_size // 2],
        "empty_npz.npz": b"",
        "trunc_npy.npy": array.read_bytes()[: array.stat().st_size // 2],
        "empty_npy.npy": b"",
        "bvh_named_npz.npz": b"HIERARCHY\nROOT Hips\n{\n",  # wrong extension, and broken
        "npz_named_bvh.bvh": keypoints.read_bytes(),
        "notes.txt": b"not a motion",
    }
    for path in (keypoints, amass, array):
        path.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {Path(name).stem: name for name in files}


def test_corrupt_files_fail_alone_and_the_rest_run(clips, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = sorted(clips.glob("**/*.bvh"))[:2]
    for path in good:
        (data / path.name).write_bytes(path.read_bytes())
    broken = _corrupt_files(data, next(clips.glob("**/*.bvh")))
    out = tmp_path / "out"
    cfg = compose_config([f"input_dir={data}", "pattern=**/*", f"output_dir={out}", *COMMON])
    summary = batch_app.run_batch(cfg, overrides=[])
    manifest = BatchManifest.load(out / "manifest.json")
    records = manifest.records_by_id()
    assert set(records) == {*broken, *(p.stem for p in good)}
    for job_id, name in broken.items():
        assert records[job_id].status.value == "failed", job_id
        assert name in records[job_id].message  # the reason names the file
    assert all(records[p.stem].status.value == "success" for p in good)
    assert summary["success"] == 2 and summary["failed"] == len(broken)


@pytest.mark.parametrize(
    "text",
    [
        '<mujoco><worldbody><geom type="plane" size="1 1 1"/></worldbody></mujoco>',
        '<robot name="stub"><link name="base"/></robot>',
    ],
    ids=["mjcf_without_bodies", "urdf_of_one_link"],
)
def test_unusable_robot_file_fails_once_before_any_job(clips, tmp_path, text):
    """A robot file that cannot be used is one error before anything starts, not the same
    failure in every clip's manifest record (the robot is the problem, not the clips)."""
    from retargetjax.apps._cli import error_line
    from retargetjax.robot import RobotFileError

    bad = tmp_path / ("bad.urdf" if text.startswith("<robot") else "bad.xml")
    bad.write_text(text)
    out = tmp_path / "out"
    args = [f"input_dir={clips}", f"output_dir={out}", f"robot.path={bad}", *COMMON]
    with pytest.raises(RobotFileError) as caught:
        batch_app.run_batch(compose_config(args), overrides=[])
    line = error_line(caught.value)
    assert line.startswith(f"error: {bad}") and "; expected" in line and "\n" not in line
    assert not (out / "manifest.json").exists()  # no clip was tried, none marked failed

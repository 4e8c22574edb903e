"""Evaluate app: a file, a folder, a manifest; one output as native npz, CSV, GMR pickle and
tracker npz gives the same metrics."""

import csv
import json

import numpy as np
import pytest

from retargetjax.apps.evaluate import main as evaluate_main
from retargetjax.apps.evaluate import parse_key_values
from retargetjax.evaluation import collect_clips, evaluate_outputs
from retargetjax.io import RobotMotion
from retargetjax.robot import load_robot

T = 40


@pytest.fixture(scope="module")
def g1():
    return load_robot("unitree_g1")


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shared_data, g1):
    """A retargetjax-style output of the MIT Mixamo clip, saved as npz, CSV and GMR pickle."""
    source = shared_data / "motions" / "bvh" / "mixamo_rig.bvh"
    rng = np.random.default_rng(0)
    joint_pos = np.tile(np.asarray(g1.default_joint_pos), (T, 1))
    wave = 0.05 * np.sin(np.linspace(0, 6, T))[:, None] * rng.standard_normal(g1.num_joints)
    joint_pos[:, 12:] += wave[:, 12:]  # waist and arms move; the legs (0-11) stay put
    root_pos = np.tile(np.asarray(g1.default_root_pos), (T, 1))
    root_pos[:, 0] += np.arange(T) * 0.002
    motion = RobotMotion(
        fps=30.0,
        robot=g1.name,
        joint_names=g1.joint_names,
        joint_pos=joint_pos,
        root_pos=root_pos,
        root_quat=np.tile([1.0, 0, 0, 0], (T, 1)),
        metadata={"source": str(source)},
    )
    root = tmp_path_factory.mktemp("outputs")
    (root / "ours").mkdir()
    (root / "peers").mkdir()
    motion.save(root / "ours" / "walk.npz")
    motion.save(root / "peers" / "walk.csv")
    motion.save(root / "peers" / "walk.pkl")
    # mjlab/BeyondMimic tracker npz: no names, no root arrays (the root is body 0)
    tracked = motion.with_body_poses(g1)
    np.savez(
        root / "peers" / "tracker.npz",
        fps=np.array([30.0]),
        joint_pos=tracked.joint_pos,
        joint_vel=tracked.joint_vel,
        body_pos_w=tracked.body_pos_w,
        body_quat_w=tracked.body_quat_w,
    )
    return root, source


def _rows(folder):
    return json.loads((folder / "metrics.json").read_text())["clips"]


def test_native_csv_and_pickle_give_identical_metrics(clips, tmp_path):
    root, source = clips
    ours = evaluate_outputs(root / "ours" / "walk.npz", tmp_path / "ours")
    peers = evaluate_outputs(root / "peers", tmp_path / "peers", robot="unitree_g1", motion=source)
    assert [r["status"] for r in ours.rows + peers.rows] == ["ok"] * 4, [
        r.get("error") for r in ours.rows + peers.rows
    ]
    reference = ours.rows[0]
    assert reference["contact_source"] == "human"
    assert reference["keypoint_error_mean_m"] > 0
    assert reference["foot_skate_mean_mm_per_frame"] == pytest.approx(2.0, rel=1e-2)
    # The human's contact spans per part (the Mixamo clip walks: feet only).
    assert reference["contact_spans"].startswith("left_foot: ")
    assert "right_foot: " in reference["contact_spans"]
    for row in peers.rows:
        for key, value in reference.items():
            if isinstance(value, float) and key not in ("duration_s",):
                assert row[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (row["clip"], key)
    assert {r["clip"] for r in peers.rows} == {"tracker", "walk.csv", "walk.pkl"}


def test_report_files(clips, tmp_path):
    root, _ = clips
    report = evaluate_outputs(root / "ours", tmp_path / "rep", plots=True)
    with open(tmp_path / "rep" / "metrics.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 1 and table[0]["clip"] == "walk"
    assert float(table[0]["keypoint_error_mean_m"]) == pytest.approx(
        report.rows[0]["keypoint_error_mean_m"]
    )
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "keypoint_error_mean_m" in summary and "| walk |" in summary
    stats = json.loads((tmp_path / "rep" / "metrics.json").read_text())["summary"]
    assert stats["foot_skate_mean_mm_per_frame"]["worst_clip"] == "walk"
    png = tmp_path / "rep" / "plots" / "walk.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_manifest_and_failures(clips, tmp_path):
    root, source = clips
    manifest = {
        "records": [
            {
                "job_id": "good",
                "motion": str(source),
                "output": "ours/walk.npz",
                "status": "success",
            },
            {"job_id": "gone", "motion": str(source), "output": "ours/missing.npz"},
            {"job_id": "bad", "output": "ours/x.npz", "status": "failed"},
        ]
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    try:
        specs = collect_clips(root / "manifest.json")
        assert [s.clip for s in specs] == ["good", "gone"]  # failed runs are not graded
        report = evaluate_outputs(root / "manifest.json", tmp_path / "m")
    finally:
        (root / "manifest.json").unlink()
    status = {r["clip"]: r["status"] for r in report.rows}
    assert status == {"good": "ok", "gone": "failed"}
    assert "missing.npz" in (tmp_path / "m" / "summary.md").read_text()


def test_csv_without_robot_fails_with_a_clear_message(clips, tmp_path):
    root, _ = clips
    report = evaluate_outputs(root / "peers" / "walk.csv", tmp_path / "x")
    assert report.rows[0]["status"] == "failed"
    assert "robot" in report.rows[0]["error"]


def test_console_entry_point(clips, tmp_path, capsys):
    root, _ = clips
    code = evaluate_main([f"input={root / 'ours'}", f"output_dir={tmp_path / 'cli'}"])
    assert code == 0
    assert (tmp_path / "cli" / "metrics.csv").is_file()
    assert "1/1 clips evaluated" in capsys.readouterr().out


def test_key_value_parser_errors():
    spec = {"input": str, "n": int, "plots": bool}
    assert parse_key_values(["input=a", "n=3", "plots=null"], spec, ["input"], "u") == {
        "input": "a",
        "n": 3,
        "plots": None,
    }
    with pytest.raises(SystemExit, match="unknown key"):
        parse_key_values(["nope=1"], spec, [], "u")
    with pytest.raises(SystemExit, match="missing input="):
        parse_key_values(["n=1"], spec, ["input"], "u")
    with pytest.raises(SystemExit, match="not key=value"):
        parse_key_values(["input"], spec, [], "u")
    with pytest.raises(SystemExit, match="n='x'"):
        parse_key_values(["n=x"], spec, [], "u")

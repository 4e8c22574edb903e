"""Comparison of two evaluation reports on hand-made metric tables."""

import json

import pytest

from retargetjax.apps.evaluate import compare_main
from retargetjax.evaluation import compare_reports, which_is_better


def _report(rows):
    return {"clips": [{"status": "ok", **r} for r in rows]}


def test_which_is_better_follows_direction():
    assert which_is_better("keypoint_error_mean_m", 0.05, 0.03) == "b"
    assert which_is_better("joint_velocity_within_limit_frac", 0.9, 0.8) == "a"
    assert which_is_better("foot_contact_steps", 10, 20) == "tie"
    assert which_is_better("self_penetration_max_m", 0.01, 0.01 + 1e-12) == "tie"


def test_deltas_and_matching_by_source(tmp_path):
    a = _report(
        [
            {
                "clip": "walk_g1",
                "source": "/data/walk.bvh",
                "keypoint_error_mean_m": 0.04,
                "joint_velocity_within_limit_frac": 1.0,
            },
            {
                "clip": "run_g1",
                "source": "/data/run.bvh",
                "keypoint_error_mean_m": 0.06,
                "joint_velocity_within_limit_frac": 0.8,
            },
            {
                "clip": "jump_g1",
                "source": "/data/jump.bvh",
                "keypoint_error_mean_m": 0.1,
                "joint_velocity_within_limit_frac": 1.0,
            },
        ]
    )
    b = _report(
        [
            {
                "clip": "walk",
                "source": "/other/walk.bvh",
                "keypoint_error_mean_m": 0.05,
                "joint_velocity_within_limit_frac": 0.9,
            },
            {
                "clip": "run",
                "source": "/other/run.bvh",
                "keypoint_error_mean_m": 0.03,
                "joint_velocity_within_limit_frac": 0.7,
            },
        ]
    )
    result = compare_reports(a, b, tmp_path, a_name="ours", b_name="gmr")
    by = {m["metric"]: m for m in result.metrics}
    kp = by["keypoint_error_mean_m"]
    assert kp["clips"] == 2
    assert kp["a_mean"] == pytest.approx(0.05) and kp["b_mean"] == pytest.approx(0.04)
    assert kp["delta"] == pytest.approx(-0.01)
    assert kp["better"] == "b" and (kp["a_wins"], kp["b_wins"]) == (1, 1)
    vel = by["joint_velocity_within_limit_frac"]
    assert vel["b_mean"] == pytest.approx(0.8) and vel["better"] == "a"  # higher is better
    assert result.only_a == ["jump"] and result.only_b == []
    text = (tmp_path / "comparison.md").read_text()
    assert "ours vs gmr" in text and "keypoint_error_mean_m" in text
    assert json.loads((tmp_path / "comparison.json").read_text())["metrics"]
    assert (tmp_path / "comparison.csv").read_text().count("\n") == 1 + 2 * 2


def test_failed_clips_are_left_out_and_cli(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rows = [{"clip": "x", "keypoint_error_mean_m": 0.02}]
    (tmp_path / "a" / "metrics.json").write_text(json.dumps(_report(rows)))
    bad = {"clips": [{"clip": "x", "status": "failed", "error": "boom"}]}
    (tmp_path / "b" / "metrics.json").write_text(json.dumps(bad))
    assert compare_reports(tmp_path / "a", tmp_path / "b").metrics == []
    (tmp_path / "b" / "metrics.json").write_text(
        json.dumps(_report([{"clip": "x", "keypoint_error_mean_m": 0.01}]))
    )
    assert compare_main([f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}"]) == 0
    out = capsys.readouterr().out
    assert "# a vs b" in out and "| keypoint_error_mean_m | lower |" in out
    with pytest.raises(ValueError, match=r"metrics\.json"):
        compare_reports(tmp_path / "missing", tmp_path / "b")

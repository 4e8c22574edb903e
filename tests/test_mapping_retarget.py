"""Robots read from any file retarget alike: the G1 from its URDF and from its MJCF, and a
copy of the G1 with opaque names (solves are small: a short clip, a few iterations)."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.evaluation import compute_metrics, human_reference
from retargetjax.motion import load_motion, sample_motion_path
from retargetjax.retarget import RetargetConfig, SolverConfig, retarget
from retargetjax.robot import load_robot, robot_asset_path

TINY = RetargetConfig(
    solver=SolverConfig(window=32, overlap=8, init_iterations=3, iterations=3, cg_iterations=8)
)


def _track(motion, robot):
    out = retarget(motion, robot, TINY)
    ref = human_reference(motion, robot, out.num_frames, out.fps, config=TINY)
    metrics = compute_metrics(
        out, robot, targets=ref.targets, target_weight=ref.target_weight, contact=ref.contact
    )
    return out, metrics


@pytest.fixture(scope="module")
def clip():
    return load_motion(sample_motion_path()).trim(0, 40)


def test_opaque_names_retarget_the_same_trajectory(tmp_path, clip):
    from test_mapping_topology import _opaque, _rename_robot

    src = robot_asset_path("unitree_g1")
    dst = tmp_path / "g1_opaque.xml"
    _rename_robot(src, dst, _opaque)
    a_out, a = _track(clip, load_robot(src, verbose=False))
    b_out, b = _track(clip, load_robot(dst, verbose=False))
    assert abs(a["keypoint_error_mean_m"] - b["keypoint_error_mean_m"]) < 0.01
    np.testing.assert_allclose(b_out.joint_pos, a_out.joint_pos, atol=1e-3)
    assert b_out.metadata["mapping"]["robot"]["keypoints"]["left_hip"]["reason"] == "topology"
    assert (
        b_out.metadata["robot_file"] == str(dst.resolve())
        and len(b_out.metadata["robot_sha256"]) == 64
    )


def test_g1_from_urdf_tracks_like_g1_from_mjcf(shared_data, clip):
    mjcf = load_robot(shared_data / "robots" / "unitree_g1" / "g1.xml", verbose=False)
    urdf = load_robot(shared_data / "robots" / "unitree_g1_urdf" / "g1_29dof.urdf", verbose=False)
    _, a = _track(clip, mjcf)
    _, b = _track(clip, urdf)
    assert abs(a["keypoint_error_mean_m"] - b["keypoint_error_mean_m"]) < 0.01
    for key in ("torso", "head"):  # were 13 and 17 cm with name guesses
        assert b[f"keypoint_error_{key}_m"] < 0.06, key


def test_metrics_score_against_the_keypoint_override_the_solve_used(clip):
    """With a human keypoint override (``motion.keypoints=``), the reference targets follow
    it, and an output's metadata hands the same override to later evaluations."""
    from retargetjax.evaluation import solved_keypoint_override
    from retargetjax.motion import map_keypoints
    from retargetjax.retarget import prepare_problem

    robot = load_robot("unitree_g1", verbose=False)
    default = map_keypoints(clip, verbose=False)
    names = dict(zip(default.names, default.joint_names))
    override = {"left_elbow": names["left_wrist"]}  # a deliberately different joint
    plain = human_reference(clip, robot, clip.num_frames, clip.fps)
    moved = human_reference(clip, robot, clip.num_frames, clip.fps, keypoint_override=override)
    k = list(robot.keypoint_names).index("left_elbow")
    assert np.abs(moved.targets[:, k] - plain.targets[:, k]).max() > 0.05
    unchanged = [i for i, n in enumerate(robot.keypoint_names) if "left_" not in n]
    np.testing.assert_allclose(moved.targets[:, unchanged], plain.targets[:, unchanged], atol=1e-5)

    problem = prepare_problem(clip, robot, keypoint_override=override)
    metadata = {"mapping": {"human": problem.mapping}}
    again = human_reference(
        clip,
        robot,
        clip.num_frames,
        clip.fps,
        keypoint_override=solved_keypoint_override(metadata),
    )
    np.testing.assert_allclose(again.targets, moved.targets, atol=1e-6)
    plain_problem = prepare_problem(clip, robot)
    assert solved_keypoint_override({"mapping": {"human": plain_problem.mapping}}) is None
    assert solved_keypoint_override({}) is None

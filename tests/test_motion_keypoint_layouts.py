"""Keypoint files in the layouts of common 3D pose estimators (COCO-17, Human3.6M-17,
MediaPipe BlazePose-33, OpenPose BODY_25, SMPL-24), with and without joint names, written the
way video pipelines write them: camera frame (y down), mm or m, a tilted floor off z = 0,
1 cm jitter. Positions are synthesized from the real OMOMO clip (skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest
from keypoint_layouts import LAYOUTS, body_points, layout_positions, to_video_frame

from retargetjax.motion import (
    MotionFormatError,
    foot_contacts,
    load_motion,
    map_keypoints,
    up_axis_to_z_matrix,
)
from retargetjax.motion._contacts import fit_floor_plane

OMOMO = "motions/keypoints/omomo_sub10_largebox_049.npz"

#: Canonical keypoint → the source point each layout's joint stands for (body_points keys).
_TRUTH = {
    "coco17": {"pelvis": "mid_hip", "left_ankle": "left_ankle", "right_ankle": "right_ankle"},
    "h36m17": {"pelvis": "pelvis", "left_ankle": "left_ankle", "right_ankle": "right_ankle"},
    "blazepose33": {"pelvis": "mid_hip", "left_toe": "left_big_toe", "right_toe": "right_big_toe"},
    "body25": {"pelvis": "mid_hip", "left_toe": "left_big_toe", "right_toe": "right_big_toe"},
    "smpl24": {"pelvis": "pelvis", "left_toe": "left_toe", "right_toe": "right_toe"},
}
_SIDED = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")


@pytest.fixture(scope="module")
def source(shared_data):
    path = shared_data / OMOMO
    data = np.load(path)
    ref = load_motion(path)
    return body_points(data["positions"], data["joint_names"]), foot_contacts(ref)


def _kabsch(x, y):
    """Rotation R, translation t minimising Σ‖R x + t − y‖² over all points (N, 3)."""
    xm, ym = x.mean(0), y.mean(0)
    U, _, Vt = np.linalg.svd((x - xm).T @ (y - ym))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T))])
    R = Vt.T @ D @ U.T
    return R, ym - R @ xm


@pytest.mark.parametrize("layout", [*LAYOUTS, "smpl24"])
@pytest.mark.parametrize("named", [True, False], ids=["names", "bare"])
def test_video_layouts_load_map_and_find_contacts(tmp_path, source, layout, named):
    points, ref_contacts = source
    mm = layout == "h36m17"  # Human3.6M is in millimetres
    # Camera frame (up = -y), the floor tilted 3 degrees along the walk and 0.4 m off z = 0.
    a = np.deg2rad(3.0)
    tilt = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    zup = layout_positions(points, layout)
    cam = to_video_frame(
        zup @ tilt.T, scale=1000.0 if mm else 1.0, floor_offset=0.4, noise_m=0.01, seed=3
    )
    if named and layout != "smpl24":
        path = tmp_path / f"{layout}.npz"
        np.savez(path, positions=cam, joint_names=np.array(LAYOUTS[layout]), fps=30.0)
        motion = load_motion(path, up_axis="-y")
    else:
        path = tmp_path / f"{layout}.npy"
        np.save(path, cam)
        with pytest.raises(MotionFormatError, match="no frame rate"):
            load_motion(path, up_axis="-y")
        motion = load_motion(path, fps=30, up_axis="-y")
    assert motion.metadata["units"] == ("mm" if mm else "m")
    assert motion.metadata["floor_levelled"] and 2.0 < motion.metadata["floor_tilt_deg"] < 4.0
    if not named or layout == "smpl24":
        expected = {
            "coco17": "COCO-17",
            "h36m17": "Human3.6M-17",
            "blazepose33": "BlazePose-33",
            "body25": "BODY_25",
            "smpl24": "SMPL",
        }
        assert motion.metadata["layout"] == expected[layout]
    kp = map_keypoints(motion, verbose=False)
    # Sides, the synthesized pelvis, toes: one rigid motion takes the source points onto the
    # loaded keypoints within the jitter (a swapped side or a wrong joint is 10+ cm off).
    truth = dict(_TRUTH[layout])
    truth.update({f"{s}_{p}": f"{s}_{p}" for s in ("left", "right") for p in _SIDED})
    assert set(truth) <= set(kp.names), kp.describe()
    got = np.concatenate([kp.positions(motion)[:, kp.index(k)] for k in truth])
    want = np.concatenate([points[v] for v in truth.values()])
    R, t = _kabsch(want, got)
    err = np.linalg.norm(want @ R.T + t - got, axis=-1)
    assert np.median(err) < 0.02 and np.percentile(err, 99) < 0.05, (layout, np.median(err))
    assert R[2, 2] > np.cos(np.deg2rad(1.0))  # up is up again, the floor level to 1 degree
    if layout in ("coco17", "blazepose33", "body25"):
        assert kp.joint_names[kp.index("pelvis")] in ("pelvis", "MidHip")
    if layout in ("blazepose33", "body25"):
        assert "left_toe" in kp.names and "right_toe" in kp.names
    contacts = foot_contacts(motion, kp)
    # Human3.6M has no toe joint: its contacts come from the ankles alone, 1 cm jitter on them,
    # and miss some heel-off frames where the source's toes are still down.
    assert (contacts == ref_contacts).mean() > (0.8 if layout == "h36m17" else 0.85)
    assert contacts.any(0).all() and not contacts.all(0).any()


def test_seventeen_unnamed_joints_that_are_neither_layout_say_so(tmp_path):
    path = tmp_path / "odd.npy"
    np.save(path, np.random.default_rng(0).normal(size=(10, 17, 3)).astype(np.float32))
    with pytest.raises(
        MotionFormatError,
        match=r"odd\.npy: 17 joints without names look like neither COCO-17 nor "
        r"Human3\.6M-17; expected joint_names=",
    ):
        load_motion(path, fps=30)


def test_camera_frame_without_up_axis_is_one_clear_error(tmp_path, source):
    points, _ = source
    path = tmp_path / "coco.npz"
    cam = to_video_frame(layout_positions(points, "coco17"))
    np.savez(path, positions=cam, joint_names=np.array(LAYOUTS["coco17"]), fps=30.0)
    with pytest.raises(MotionFormatError, match=r"points along -y .*expected up_axis='-y'"):
        load_motion(path)
    upside_down = cam * np.array([1.0, -1.0, -1.0], np.float32)  # y up, turned over
    np.savez(path, positions=upside_down, joint_names=np.array(LAYOUTS["coco17"]), fps=30.0)
    assert load_motion(path, up_axis="y").metadata["up_axis"] == "y"
    with pytest.raises(MotionFormatError, match=r"expected up_axis='y'"):
        load_motion(path)


def test_sample_clips_keep_their_floor(shared_data):
    """Steps and boxes (climb), a lying body (getup), a few planted frames (spinkick) are not
    mistaken for a tilted floor."""
    for name in ("climb_seq0", "deepmimic_getup_facedown", "deepmimic_spinkick", "deepmimic_roll"):
        motion = load_motion(shared_data / "motions" / "keypoints" / f"{name}.npz")
        assert not motion.metadata.get("floor_levelled"), name
        assert motion.metadata["units"] == "m"


@pytest.mark.parametrize("axis", ["-x", "-y", "-z"])
def test_negative_up_axes_are_rotations(axis):
    C = up_axis_to_z_matrix(axis)
    np.testing.assert_allclose(C @ C.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(C), 1.0)
    up = -np.eye(3)["xyz".index(axis[1])]
    np.testing.assert_allclose(C @ up, [0, 0, 1], atol=1e-12)


def test_fit_floor_plane_tilted_and_steps():
    rng = np.random.default_rng(0)
    T = 120
    # Two feet planted in turn along a 3 m walk on a floor rising 4 degrees along x.
    x = np.repeat(np.linspace(0, 3, 8), T // 8)[:T]
    feet = np.stack([np.stack([x, np.full(T, s * 0.1), np.zeros(T)], -1) for s in (1, -1)], 1)
    slope = np.tan(np.deg2rad(4.0))
    feet[..., 2] = 0.08 + slope * feet[..., 0] + rng.normal(scale=0.003, size=(T, 2))
    n = fit_floor_plane(feet, 30.0)
    assert n is not None and np.isclose(np.degrees(np.arccos(n[2])), 4.0, atol=0.3)
    # The same walk up three steps of 20 cm: not a floor.
    feet[..., 2] = 0.08 + 0.2 * np.floor(feet[..., 0])
    assert fit_floor_plane(feet, 30.0) is None

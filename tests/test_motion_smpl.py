"""SMPL family: forward kinematics from a synthetic body-model file, mannequin-x calibration."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import (
    SMPL_JOINT_NAMES,
    SMPLH_JOINT_NAMES,
    SMPLX_JOINT_NAMES,
    MotionFormatError,
    detect_motion_format,
    load_motion,
    map_keypoints,
)
from retargetjax.motion._np_geometry import quat_rotate_np
from retargetjax.motion._smpl import (
    _model_from_mannequin,
    load_body_model,
    mannequin_x_calibration_path,
)
from retargetjax.motion._smpl_names import SMPL_PARENTS, SMPLH_PARENTS, SMPLX_PARENTS
from retargetjax.types import MotionFormatKind

PARENTS = {24: SMPL_PARENTS, 52: SMPLH_PARENTS, 55: SMPLX_PARENTS}


def _synthetic_model(path, num_joints, rest=None, dirs=None, num_betas=10, seed=0):
    """A tiny model file with the standard keys: two vertices per joint, averaged by J_regressor.

    With ``rest``/``dirs`` given, both vertices of joint j sit at ``rest[j]`` (and move with
    ``dirs[j]``), so the regressed rest joints are exactly ``rest``.
    """
    rng = np.random.default_rng(seed)
    J = num_joints
    if rest is None:
        rest = np.zeros((J, 3))
        for j, p in enumerate(PARENTS[J]):
            rest[j] = (rest[p] if p >= 0 else 0) + rng.normal(scale=0.1, size=3)
        dirs = rng.normal(scale=0.01, size=(J, 3, num_betas))
    jitter = rng.normal(scale=0.02, size=(J, 3))
    v_template = np.concatenate([rest + jitter, rest - jitter])  # (2J, 3)
    shapedirs = np.concatenate([dirs, dirs])  # (2J, 3, B)
    regressor = np.zeros((J, 2 * J))
    regressor[np.arange(J), np.arange(J)] = 0.5
    regressor[np.arange(J), J + np.arange(J)] = 0.5
    kintree = np.stack([np.array(PARENTS[J]) % (2**32), np.arange(J)]).astype(np.int64)
    kintree[0, 0] = 2**32 - 1  # as in the official files
    np.savez(
        path,
        J_regressor=regressor,
        v_template=v_template,
        shapedirs=shapedirs,
        kintree_table=kintree,
        posedirs=np.zeros((2 * J, 3, 9)),
        f=np.zeros((1, 3), np.int64),
    )
    return rest, dirs


def _clip(path, width, T=6, seed=1, **extra):
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        poses=rng.normal(scale=0.4, size=(T, width)),
        trans=rng.normal(size=(T, 3)),
        betas=rng.normal(size=16),
        gender=np.array("male"),
        mocap_framerate=np.array(60.0),
        **extra,
    )


@pytest.mark.parametrize(
    ("J", "width", "names"),
    [(24, 72, SMPL_JOINT_NAMES), (52, 156, SMPLH_JOINT_NAMES), (55, 165, SMPLX_JOINT_NAMES)],
)
def test_forward_kinematics_bone_lengths_and_rest(tmp_path, J, width, names):
    model = tmp_path / "model.npz"
    rest, dirs = _synthetic_model(model, J)
    clip = tmp_path / "clip.npz"
    _clip(clip, width)
    motion = load_motion(clip, body_model=model)
    assert motion.format is MotionFormatKind(("smpl", "smplh", "smplx")[[24, 52, 55].index(J)])
    assert motion.joint_names == names and motion.fps == 60.0
    assert motion.metadata["gender"] == "male"
    betas = np.load(clip)["betas"]
    shaped = rest + dirs @ betas[:10]
    # Bone vectors in each parent's frame are the shaped rest offsets (rigid skeleton).
    child = np.arange(1, J)
    par = np.array(PARENTS[J])[child]
    bone = motion.positions[:, child] - motion.positions[:, par]
    local = quat_rotate_np(motion.orientations[:, par] * np.array([1, -1, -1, -1]), bone)
    np.testing.assert_allclose(
        local, np.broadcast_to(shaped[child] - shaped[par], local.shape), atol=2e-5
    )
    # Root: J_0 + trans.
    trans = np.load(clip)["trans"]
    np.testing.assert_allclose(motion.positions[:, 0], shaped[0] + trans, atol=1e-5)
    map_keypoints(motion, verbose=False)


def test_hand_computed_root_rotation(tmp_path):
    model = tmp_path / "model.npz"
    rest, _ = _synthetic_model(model, 24)
    poses = np.zeros((1, 72))
    poses[0, 2] = np.pi / 2  # 90° about z at the root
    clip = tmp_path / "clip.npz"
    np.savez(clip, poses=poses, trans=np.zeros((1, 3)), betas=np.zeros(10), mocap_frame_rate=30.0)
    motion = load_motion(clip, body_model=model, gender="neutral")
    rel = rest - rest[0]
    expected = rest[0] + np.stack([-rel[:, 1], rel[:, 0], rel[:, 2]], axis=-1)
    np.testing.assert_allclose(motion.positions[0], expected, atol=1e-6)


def test_model_folder_and_cross_model_poses(tmp_path):
    folder = tmp_path / "models"
    (folder / "smplx").mkdir(parents=True)
    _synthetic_model(folder / "smplx" / "SMPLX_NEUTRAL.npz", 55)
    _synthetic_model(folder / "SMPLH_MALE.npz", 52)
    clip = tmp_path / "clip.npz"
    _clip(clip, 156)  # an SMPL-H clip
    m = load_motion(clip, body_model=folder)
    assert m.format is MotionFormatKind.SMPLH and m.metadata["body_model"].endswith(
        "SMPLH_MALE.npz"
    )
    # The same SMPL-H poses on an SMPL-X model: body and fingers carry over.
    mx = load_motion(clip, format="smplx", body_model=folder)
    assert mx.format is MotionFormatKind.SMPLX and mx.num_joints == 55
    with pytest.raises(MotionFormatError, match="no smpl body model for gender 'male'"):
        load_motion(clip, format="smpl", body_model=folder)


def test_bad_smpl_input(tmp_path):
    model = tmp_path / "model.npz"
    _synthetic_model(model, 24)
    clip = tmp_path / "clip.npz"
    poses = np.zeros((3, 72))
    poses[1, 5] = np.nan
    np.savez(clip, poses=poses, trans=np.zeros((3, 3)), mocap_framerate=30.0)
    with pytest.raises(MotionFormatError, match=r"clip\.npz: 'poses' at frame 1 is not finite"):
        load_motion(clip, body_model=model)
    np.savez(clip, poses=np.zeros((3, 70)), trans=np.zeros((3, 3)), mocap_framerate=30.0)
    with pytest.raises(MotionFormatError, match="70 values per frame"):
        load_motion(clip, body_model=model)
    np.savez(clip, poses=np.zeros((3, 72)), trans=np.zeros((3, 3)))
    with pytest.raises(MotionFormatError, match="no frame rate"):
        load_motion(clip, body_model=model)
    np.savez(clip, poses=np.zeros((3, 72)), trans=np.zeros((2, 3)), mocap_framerate=30.0)
    with pytest.raises(MotionFormatError, match=r"'trans' has shape \(2, 3\)"):
        load_motion(clip, body_model=model)
    bad_model = tmp_path / "bad_model.npz"
    np.savez(bad_model, v_template=np.zeros((3, 3)))
    np.savez(clip, poses=np.zeros((3, 72)), trans=np.zeros((3, 3)), mocap_framerate=30.0)
    with pytest.raises(MotionFormatError, match="body model lacks J_regressor"):
        load_motion(clip, body_model=bad_model)


def test_no_body_model_and_no_mannequin_is_one_clear_error(tmp_path, monkeypatch):
    import retargetjax.motion._smpl as smpl

    monkeypatch.delenv("RETARGETJAX_BODY_MODELS", raising=False)
    monkeypatch.setattr(smpl, "mannequin_x_calibration_path", lambda: None)
    clip = tmp_path / "clip.npz"
    np.savez(clip, poses=np.zeros((3, 72)), trans=np.zeros((3, 3)), mocap_framerate=30.0)
    with pytest.raises(
        MotionFormatError, match="a smpl clip needs a body model; expected body_model="
    ):
        load_motion(clip, format="smpl")


@pytest.mark.skipif(mannequin_x_calibration_path() is None, reason="mannequin-x is not installed")
def test_mannequin_x_matches_the_synthetic_model_path(tmp_path):
    """SMPL-X through the mannequin-x calibration equals a model file with the same joints."""
    calibration = _model_from_mannequin()
    model = tmp_path / "SMPLX_NEUTRAL.npz"
    _synthetic_model(model, 55, rest=calibration.joint_template, dirs=calibration.joint_shape_dirs)
    clip = tmp_path / "clip.npz"
    _clip(clip, 165, surface_model_type=np.array("smplx"))
    via_file = load_motion(clip, body_model=model)
    via_calibration = load_motion(clip, body_model="mannequin-x")
    np.testing.assert_allclose(via_calibration.positions, via_file.positions, atol=1e-5)
    # A plausible adult skeleton in the SMPL-X model frame (Y up at rest): about 1.2-1.5 m
    # between ankles and head joint.
    rest = load_body_model("mannequin-x", MotionFormatKind.SMPLX).rest_joints()
    span = rest[15, 1] - rest[7, 1]
    assert 1.2 < span < 1.6


@pytest.mark.skipif(mannequin_x_calibration_path() is None, reason="mannequin-x is not installed")
@pytest.mark.parametrize("width", [72, 156])
def test_smpl_and_smplh_without_a_model_use_the_smplx_skeleton(
    tmp_path, monkeypatch, caplog, width
):
    """An AMASS SMPL-H (or SMPL) clip with no body model at hand is read, with a warning,
    through the SMPL-X calibration: same body joints, mean shape (its betas are another
    model's), fingers carried over, and the same motion as an SMPL-X clip of those poses."""
    monkeypatch.delenv("RETARGETJAX_BODY_MODELS", raising=False)
    clip = tmp_path / "clip.npz"
    _clip(clip, width)
    with caplog.at_level("WARNING", logger="retargetjax.motion"):
        motion = load_motion(clip)
    kind = {72: "smpl", 156: "smplh"}[width]
    assert f"a {kind} clip without a {kind} body model" in caplog.text
    assert "+motion.options.body_model=PATH" in caplog.text
    assert motion.format is MotionFormatKind.SMPLX and motion.joint_names == SMPLX_JOINT_NAMES
    assert motion.metadata["body_model"] == "mannequin-x"
    assert motion.metadata["betas_used"] is False
    assert np.all(np.isfinite(motion.positions))
    # The same poses as an SMPL-X clip (body joints, and fingers for SMPL-H) at mean shape.
    with np.load(clip) as data:
        poses = data["poses"].reshape(len(data["poses"]), -1, 3)
        trans = data["trans"]
    as_x = np.zeros((len(poses), 55, 3))
    as_x[:, :22] = poses[:, :22]
    if width == 156:
        as_x[:, 25:55] = poses[:, 22:52]
    clip_x = tmp_path / "clip_x.npz"
    np.savez(
        clip_x,
        poses=as_x.reshape(len(poses), -1),
        trans=trans,
        mocap_framerate=60.0,
        surface_model_type=np.array("smplx"),
    )
    expected = load_motion(clip_x, body_model="mannequin-x")
    np.testing.assert_allclose(motion.positions, expected.positions, atol=1e-5)


def test_pickled_extra_keys_are_never_read(tmp_path):
    """AMASS stage-II clips carry pickled objects (``markers_latent_vids``); the loader reads
    only the keys it needs and never enables ``allow_pickle``."""
    model = tmp_path / "model.npz"
    _synthetic_model(model, 55)
    plain = tmp_path / "plain.npz"
    _clip(plain, 165, surface_model_type=np.array("smplx"))
    stage2 = tmp_path / "stageii.npz"
    _clip(
        stage2,
        165,
        surface_model_type=np.array("smplx"),
        markers_latent_vids=np.array({"C7": 3470}, dtype=object),
        latent_labels=np.array(["C7"] * 4),
    )
    assert detect_motion_format(stage2) is MotionFormatKind.SMPLX
    motion = load_motion(stage2, body_model=model)
    np.testing.assert_array_equal(motion.positions, load_motion(plain, body_model=model).positions)
    # A needed key stored as a pickled object is one clear error naming the key.
    bad = tmp_path / "bad.npz"
    np.savez(bad, poses=np.zeros((2, 72)), trans=np.zeros((2, 3)), gender=np.array([{}], object))
    with pytest.raises(MotionFormatError, match=r"bad\.npz: 'gender' cannot be read"):
        load_motion(bad, body_model=model, fps=30)


def test_poses_as_frames_joints_3(tmp_path):
    """``poses`` saved as (T, J, 3) is the same data as (T, 3·J); other shapes are one clear
    error from detection, not a "truncated archive" message."""
    model = tmp_path / "model.npz"
    _synthetic_model(model, 55)
    flat = tmp_path / "flat.npz"
    _clip(flat, 165)
    with np.load(flat) as f:
        arrays = dict(f)
    stacked = tmp_path / "stacked.npz"
    np.savez(stacked, **{**arrays, "poses": arrays["poses"].reshape(-1, 55, 3).astype(np.float32)})
    assert detect_motion_format(stacked) is MotionFormatKind.SMPLX
    np.testing.assert_allclose(
        load_motion(stacked, body_model=model).positions,
        load_motion(flat, body_model=model).positions,
        atol=1e-5,
    )
    np.savez(stacked, **{**arrays, "poses": np.zeros((6, 20, 3))})
    for call in (detect_motion_format, load_motion):
        with pytest.raises(MotionFormatError) as info:
            call(stacked)
        message = str(info.value)
        assert "'poses' has shape (6, 20, 3); expected (frames, 72)" in message
        assert "truncated" not in message and "MotionFormatError" not in message


def test_missing_option_errors_name_the_command_line_spelling(tmp_path, monkeypatch):
    import retargetjax.motion._smpl as smpl

    monkeypatch.delenv("RETARGETJAX_BODY_MODELS", raising=False)
    monkeypatch.setattr(smpl, "mannequin_x_calibration_path", lambda: None)
    clip = tmp_path / "clip.npz"
    np.savez(clip, poses=np.zeros((3, 72)), trans=np.zeros((3, 3)))
    with pytest.raises(MotionFormatError, match=r"\+motion\.options\.body_model=PATH"):
        load_motion(clip, fps=30)
    model = tmp_path / "model.npz"
    _synthetic_model(model, 24)
    with pytest.raises(MotionFormatError, match=r"no frame rate.*\+motion\.options\.fps=30"):
        load_motion(clip, body_model=model)

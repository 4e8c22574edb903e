"""Render and plot commands: a playable video of the right frame count, a non-empty PNG."""

import numpy as np
import pytest
from PIL import Image

from retargetjax.apps.evaluate import plot_main, render_main
from retargetjax.evaluation import evaluate_motion, ffmpeg_path, plot_clip, render_motion
from retargetjax.io import RobotMotion
from retargetjax.robot import load_robot

T = 12


@pytest.fixture(scope="module")
def g1():
    return load_robot("unitree_g1")


@pytest.fixture(scope="module")
def clip(g1, tmp_path_factory):
    joint_pos = np.tile(np.asarray(g1.default_joint_pos), (T, 1))
    joint_pos[:, g1.joint_index("left_elbow_joint")] += np.linspace(0, 1, T)
    root_pos = np.tile(np.asarray(g1.default_root_pos), (T, 1))
    root_pos[:, 0] += np.linspace(0, 0.3, T)
    motion = RobotMotion(
        fps=30.0,
        robot=g1.name,
        joint_names=g1.joint_names,
        joint_pos=joint_pos,
        root_pos=root_pos,
        root_quat=np.tile([1.0, 0, 0, 0], (T, 1)),
    )
    path = tmp_path_factory.mktemp("clip") / "clip.npz"
    motion.save(path)
    return motion, path


def test_gif_has_one_frame_per_drawn_frame(g1, clip, tmp_path):
    motion, _ = clip
    human = evaluate_motion(motion, g1).geometry.keypoints + np.array([0.0, 0.0, 0.01])
    result = render_motion(
        motion,
        g1,
        tmp_path / "clip.gif",
        human_keypoints=human,
        human_keypoint_names=g1.keypoint_names,
        stride=2,
        dpi=40,
    )
    assert result.frames == T // 2 and result.fps == pytest.approx(15.0)
    with Image.open(result.path) as image:
        assert image.n_frames == T // 2
        assert image.size[0] > 100
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was moved into place


def test_render_command_mp4(clip, tmp_path, capsys):
    _, path = clip
    if ffmpeg_path() is None:
        pytest.skip("no ffmpeg binary (pip install imageio-ffmpeg)")
    import imageio_ffmpeg

    out = tmp_path / "clip.mp4"
    assert render_main([f"input={path}", f"output={out}", "max_frames=7", "dpi=40"]) == 0
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 7
    assert seconds == pytest.approx(7 / 30, abs=0.05)
    assert "7 frames" in capsys.readouterr().out


def test_render_rejects_unknown_suffix(g1, clip, tmp_path):
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        render_motion(clip[0], g1, tmp_path / "clip.avi")


def test_plot_command_writes_png(clip, tmp_path, g1):
    _, path = clip
    out = tmp_path / "plots" / "clip.png"
    assert plot_main([f"input={path}", f"output={out}"]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    # with targets: four panels, a taller figure
    motion = clip[0]
    ev = evaluate_motion(motion, g1, targets=evaluate_motion(motion, g1).geometry.keypoints + 0.01)
    with_kp = plot_clip(ev, g1, tmp_path / "kp.png", fps=motion.fps, title="kp")
    with Image.open(with_kp) as a, Image.open(out) as b:
        assert a.size[1] > b.size[1]


def test_a_joint_without_limits_is_never_outside_them():
    """MJCF hinges often have no range (±inf): the plot greys them instead of marking every
    negative angle 'outside limits' (while joint_limit_violations says 0)."""
    from retargetjax.evaluation._plots import joint_limit_fraction

    q = np.array([[-0.5, -0.5], [0.2, 2.0]])
    lower = np.array([-np.inf, -1.0])
    upper = np.array([np.inf, 1.0])
    frac, outside = joint_limit_fraction(q, lower, upper)
    assert np.isnan(frac[:, 0]).all() and not outside[:, 0].any()
    np.testing.assert_allclose(frac[:, 1], [0.25, 1.5])
    assert outside[:, 1].tolist() == [False, True]

"""``retargetjax-inspect``: mapping tables, scale factors and one PNG; bad input in one line."""

from __future__ import annotations

import pytest

from retargetjax.apps.inspect import main
from retargetjax.motion import sample_motion_path


def _exit_status(argv) -> int:
    """The exit status of ``retargetjax-inspect`` on a mistake (it raises ``SystemExit``)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


def test_inspect_prints_tables_and_writes_the_png(tmp_path, capsys):
    from test_mapping_topology import _synthetic_robot

    robot = tmp_path / "my_robot.xml"
    robot.write_text(_synthetic_robot(arms=True, extras=True))
    png = tmp_path / "map.png"
    rc = main([f"motion.path={sample_motion_path()}", f"robot.path={robot}", f"output={png}"])
    out = capsys.readouterr().out
    assert rc == 0 and png.stat().st_size > 10_000
    assert "(topology)" in out and "left_hip" in out and "scale (robot / human)" in out
    assert main(["robot=unitree_h1", f"output={tmp_path / 'h1.png'}"]) == 0


def test_inspect_bad_input_is_one_line(tmp_path, capsys):
    not_robot = tmp_path / "notes.xml"
    not_robot.write_text("<notes><note>hi</note></notes>")
    assert _exit_status([f"robot.path={not_robot}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "expected" in err
    one_leg = tmp_path / "one_leg.xml"
    one_leg.write_text(
        "<mujoco><worldbody><body name='a' pos='0 0 1'><freejoint/><geom size='0.1'/>"
        "<body name='b' pos='0 0 -0.4'><joint name='j1'/><body name='c' pos='0 0 -0.4'>"
        "<joint name='j2'/><body name='d' pos='0 0 -0.1'><joint name='j3'/>"
        "<body name='e' pos='0 0 -0.05'><joint name='j4'/></body></body></body></body></body>"
        "</worldbody></mujoco>"
    )
    assert _exit_status([f"robot.path={one_leg}"]) == 1
    err = capsys.readouterr().err.strip()
    assert "two leg chains" in err and "\n" not in err


def _bare_y_up_clip(path, frames=30):
    """A (T, 22, 3) ``.npy`` in SMPL joint order, Y up (HumanML3D ``new_joints`` style): no
    fps, no names, so the loader needs ``fps=`` and ``up_axis=y``."""
    import numpy as np

    z_up = np.array(
        [
            [0, 0, 0.95], [0, 0.09, 0.88], [0, -0.09, 0.88], [0, 0, 1.05], [0.02, 0.09, 0.5],
            [0.02, -0.09, 0.5], [0, 0, 1.18], [0, 0.09, 0.08], [0, -0.09, 0.08], [0, 0, 1.3],
            [0.12, 0.09, 0.02], [0.12, -0.09, 0.02], [0, 0, 1.5], [0, 0.07, 1.45],
            [0, -0.07, 1.45], [0.02, 0, 1.62], [0, 0.18, 1.42], [0, -0.18, 1.42],
            [0, 0.2, 1.15], [0, -0.2, 1.15], [0.05, 0.2, 0.92], [0.05, -0.2, 0.92],
        ]
    )  # fmt: skip
    walk = z_up[None] + np.linspace(0, 0.6, frames)[:, None, None] * np.array([1.0, 0, 0])
    y_up = np.stack([walk[..., 0], walk[..., 2], -walk[..., 1]], axis=-1)  # (x, z, -y)
    np.save(path, y_up.astype(np.float32))


def test_inspect_takes_the_loader_options_of_retarget(tmp_path, capsys):
    """``+motion.options.*`` as for retargetjax-retarget; the loader's errors name them."""
    clip = tmp_path / "bare.npy"
    _bare_y_up_clip(clip)
    png = tmp_path / "bare.png"
    assert _exit_status([f"motion.path={clip}", f"output={png}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {clip}: no frame rate") and "\n" not in err
    assert "(command line: +motion.options.fps=30)" in err
    assert _exit_status([f"motion.path={clip}", "+motion.options.fps=20", f"output={png}"]) == 1
    err = capsys.readouterr().err.strip()
    assert "expected up_axis='y' (command line: +motion.options.up_axis=y)" in err
    assert not png.exists()
    args = [f"motion.path={clip}", "+motion.options.fps=20", "motion.options.up_axis=y"]
    assert main([*args, f"output={png}"]) == 0
    out = capsys.readouterr().out
    assert png.stat().st_size > 10_000 and "left_hip" in out
    assert _exit_status([*args, "+motion.options.colour=red"]) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown option(s) colour" in err and "\n" not in err

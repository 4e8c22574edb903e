"""``retargetjax-inspect``: mapping tables, scale factors and one PNG; bad input in one line."""

from __future__ import annotations

from retargetjax.apps.inspect import main
from retargetjax.motion import sample_motion_path


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
    assert main([f"robot.path={not_robot}"]) == 2
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
    assert main([f"robot.path={one_leg}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "two leg chains" in err and "\n" not in err

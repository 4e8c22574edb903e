"""What a user sees from the command-line apps: one-line errors before any long work, Ctrl-C,
status lines, and ``-m`` sweeps whose runs keep their own outputs (issue 14)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from retargetjax.apps import configs_dir
from retargetjax.apps import sweep as sweep_app
from retargetjax.apps._cli import Status, error_line, user_errors
from retargetjax.io._atomic import check_output_path
from retargetjax.motion import load_motion, sample_motion_path, write_bvh

#: Few iterations, small windows: the sweeps below compile small programs.
TINY = [
    "solver.window=32",
    "solver.overlap=8",
    "solver.init_iterations=3",
    "solver.iterations=3",
    "solver.cg_iterations=8",
]
ENV = {
    **os.environ,
    "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
    "JAX_PLATFORMS": "cpu",
    "MPLBACKEND": "Agg",
}


def cli(module: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """An app as users run it, in a fresh interpreter."""
    env = {k: v for k, v in ENV.items() if k != "HYDRA_FULL_ERROR"}
    cmd = [sys.executable, "-m", f"retargetjax.apps.{module}", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400, cwd=cwd)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "short_walk.bvh"
    write_bvh(load_motion(sample_motion_path()).trim(0, 40), path)
    return path


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        return compose(config_name="retarget", overrides=overrides)


# ---------------------------------------------------------------- early output checks
def test_check_output_path(tmp_path):
    assert check_output_path(tmp_path / "new" / "o.npz") == tmp_path / "new" / "o.npz"
    assert (tmp_path / "new").is_dir()
    with pytest.raises(ValueError, match=r"o\.txt: unknown output format \('\.txt'\); expected"):
        check_output_path(tmp_path / "o.txt")
    with pytest.raises(ValueError, match="is a folder"):
        check_output_path(tmp_path / "new", None)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="cannot create its folder"):
        check_output_path(blocker / "o.npz")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_unwritable_folder_fails_naming_the_output(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as info:
            check_output_path(folder / "o.npz")
        assert "o.npz" in error_line(info.value) and ".tmp" not in error_line(info.value)
    finally:
        folder.chmod(0o700)


def test_bad_output_fails_before_loading_or_compiling(short_clip, tmp_path, monkeypatch):
    import retargetjax.motion
    import retargetjax.retarget
    from retargetjax.apps.retarget import run_retarget

    def must_not_run(*args, **kwargs):
        raise AssertionError("loaded or solved before the output was checked")

    monkeypatch.setattr(retargetjax.retarget, "retarget", must_not_run)
    monkeypatch.setattr(retargetjax.motion, "load_motion", must_not_run)
    for output, match in ((tmp_path / "o.txt", "unknown output format"), (tmp_path, "folder")):
        cfg = _compose([f"motion.path={short_clip}", f"output={output}"])
        with pytest.raises(ValueError, match=match):
            run_retarget(cfg)


# ------------------------------------------------------------------ one-line errors
def test_user_mistakes_are_one_error_line(tmp_path, short_clip):
    assert "motion.path is not set; expected motion.path=FILE" in one_error_line(cli("retarget"))
    line = one_error_line(cli("retarget", f"motion.path={short_clip}", f"output={tmp_path}/o.txt"))
    assert line == (
        f"error: {tmp_path}/o.txt: unknown output format ('.txt'); expected one of .npz, .csv, .pkl"
    )
    assert "nope.bvh: no such file" in one_error_line(cli("retarget", "motion.path=nope.bvh"))
    assert "expected one of booster_t1" in one_error_line(
        cli("retarget", "motion.path=x.bvh", "robot=nao")
    )
    # a robot file given to the group instead of robot.path: the line says how
    line = one_error_line(cli("retarget", "motion.path=x.bvh", "robot=my/nao.urdf"))
    assert line.endswith(
        "expected one of booster_t1, unitree_g1, unitree_h1 (a file: robot.path=my/nao.urdf)"
    )
    assert "input_dir is not set" in one_error_line(cli("batch"))
    line = one_error_line(cli("batch", "-m", "hydra/launcher=submitit_slurm_gpu", "input_dir=."))
    assert "SLURM is not available" in line and "hydra/launcher=submitit_local" in line
    # --verbose shows the traceback instead
    done = cli("retarget", "motion.path=nope.bvh", "--verbose")
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_every_app_exits_1_on_a_mistake(tmp_path):
    """One ``error:`` line and status 1 everywhere (argparse's own usage error is status 2)."""
    missing = tmp_path / "missing.urdf"
    line = one_error_line(cli("inspect", f"robot.path={missing}"))
    assert str(missing) in line
    done = cli("inspect", "robot.keypoints=x.yaml")  # the error line, then the usage
    assert done.returncode == 1 and done.stderr.startswith("error: nothing to inspect;")
    assert "required: sweep_dir; expected retargetjax-sweep" in one_error_line(cli("sweep"))
    line = one_error_line(cli("batch", "merge", str(tmp_path / "nope.json"), "-o", "m.json"))
    assert "nope.json" in line
    assert "required: -o/--output" in one_error_line(cli("batch", "merge", "a.json"))


def test_compare_of_batch_folders_says_what_to_run(tmp_path, capsys):
    from retargetjax.apps.evaluate import compare_main

    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "manifest.json").write_text("{}")
    with pytest.raises(SystemExit) as info:
        compare_main([f"a={tmp_path / 'batch'}", f"b={tmp_path / 'batch'}"])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert "run `retargetjax-evaluate input=" in err


def test_ctrl_c_is_one_line(capsys):
    with pytest.raises(SystemExit) as info, user_errors(lambda: "2 of 5 done, rerun"):
        raise KeyboardInterrupt
    assert info.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted: 2 of 5 done, rerun"


def test_status_line_without_a_terminal():
    stream = io.StringIO()
    with Status("compiling", stream=stream):
        pass
    lines = stream.getvalue().splitlines()
    assert lines[0] == "compiling ..." and lines[1].startswith("compiling: done in ")


def test_demo_verdict_table():
    from retargetjax.demo import QUALITY_TARGETS, SAMPLE_CLIP, verdict

    assert SAMPLE_CLIP.is_file() and (SAMPLE_CLIP.parent / "LICENSE").is_file()
    good = {t.metric: t.bound for t in QUALITY_TARGETS}
    table, ok = verdict(good)
    assert ok and table.count("✔") == len(QUALITY_TARGETS)
    table, ok = verdict({**good, "keypoint_error_mean_m": 0.2})
    assert not ok and "✘" in table and "keypoint error" in table


# -------------------------------------------------------------------------- sweeps
def _sweep_losses(sweep_dir: Path, capsys, key: str) -> list[float]:
    assert sweep_app.main([str(sweep_dir), "-o", str(sweep_dir / "table.csv")]) == 0
    printed = capsys.readouterr().out
    table = [ln for ln in printed.splitlines() if ln.startswith("|")]
    assert len(table) == 2 + 2, printed  # header, rule, one row per run
    assert "costs.smooth" in table[0] and key in table[0]
    rows = sweep_app.gather_sweep(sweep_dir)
    assert [r["costs.smooth"] for r in rows] == ["0.1", "10"]
    return [float(r[key]) for r in rows]


def test_retarget_sweep_keeps_every_run(short_clip, tmp_path, capsys):
    sweep_dir = tmp_path / "sweep"
    done = cli(
        "retarget",
        "-m",
        f"motion.path={short_clip}",
        "costs.smooth=0.1,10",
        "metrics=false",
        *TINY,
        f"hydra.sweep.dir={sweep_dir}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("keypoint map") <= 1 and "Unable to initialize backend" not in (
        done.stdout + done.stderr
    )
    for run in ("0", "1"):
        assert (sweep_dir / run / "short_walk_unitree_g1.npz").is_file()
        assert json.loads((sweep_dir / run / "summary.json").read_text())["frames"] > 0
    assert not (tmp_path / "outputs").exists()
    losses = _sweep_losses(sweep_dir, capsys, "final_loss")
    assert losses[0] != losses[1]


def test_batch_sweep_with_a_shared_output_dir_measures_each_run(short_clip, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_bvh(load_motion(short_clip), data / "a.bvh")
    out, sweep_dir = tmp_path / "out", tmp_path / "sweep"
    args = [
        "-m",
        f"input_dir={data}",
        f"output_dir={out}",
        "costs.smooth=0.1,10",
        *TINY,
        "num_devices=1",
        "max_windows=1",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    done = cli("batch", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "0" / "a.npz").is_file() and (out / "1" / "a.npz").is_file()
    for run in ("0", "1"):
        summary = json.loads((sweep_dir / run / "summary.json").read_text())
        assert summary["success"] == 1 and summary["resumed"] == 0
    losses = _sweep_losses(sweep_dir, capsys, "final_loss_mean")
    assert losses[0] != losses[1]


def test_summary_numbers_are_rounded_and_pairs_shown_once(capsys):
    from retargetjax.apps.retarget import _scale_text, print_summary

    print_summary({"frames": 266, "seconds": 43.22639770700002, "output": "o.npz"})
    out = capsys.readouterr().out
    assert "seconds: 43.23" in out and "43.226" not in out
    text = _scale_text({"pelvis->left_hip": 1.73, "pelvis->right_hip": 1.731, "root": 0.9})
    assert text == "pelvis->hip=1.73, root=0.90"


def test_a_parser_note_is_one_line_in_the_apps():
    """The robot parsers' notes (``warnings.warn``) print as their text alone: no second
    line quoting the source that raised them."""
    from retargetjax.apps._cli import _one_line_warning

    note = "robot.xml: note: the root body 'base' floats on three slide joints"
    assert _one_line_warning(note, UserWarning, "x.py", 3) == note + "\n"
    assert _one_line_warning("old", DeprecationWarning, "x.py", 3) == "DeprecationWarning: old\n"

"""The ``retargetjax-retarget`` Hydra app and the configs it composes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir

from retargetjax.apps import configs_dir
from retargetjax.apps.retarget import config_from_hydra, run_retarget
from retargetjax.io import RobotMotion
from retargetjax.motion import load_motion, sample_motion_path, write_bvh
from retargetjax.retarget import CostWeights, RetargetConfig, SolverConfig

# The same tiny solver shapes as tests/test_retarget_solver.py, so the jit cache is shared.
TINY = [
    "solver.window=32",
    "solver.overlap=8",
    "solver.init_iterations=3",
    "solver.iterations=3",
    "solver.cg_iterations=8",
]


def _compose(overrides: list[str]):
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        return compose(config_name="retarget", overrides=overrides)


def test_config_files_match_the_pydantic_defaults():
    costs = yaml.safe_load((configs_dir() / "costs" / "default.yaml").read_text())
    solver = yaml.safe_load((configs_dir() / "solver" / "default.yaml").read_text())
    assert costs == CostWeights().model_dump()
    assert solver == SolverConfig().model_dump()


def test_composed_config_validates_and_rejects_unknown_fields():
    cfg = _compose(["motion.path=x.bvh", "costs.smooth=10"])
    config = config_from_hydra(cfg)
    assert isinstance(config, RetargetConfig)
    assert config.costs.smooth == 10
    bad = _compose(["motion.path=x.bvh", "+costs.smoth=10"])
    with pytest.raises(ValueError, match="smoth"):
        config_from_hydra(bad)


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    """The bundled sample clip cut to 50 frames, written as BVH."""
    path = tmp_path_factory.mktemp("clip") / "short_walk.bvh"
    write_bvh(load_motion(sample_motion_path()).trim(0, 50), path)
    return path


def test_app_writes_output_and_metrics(short_clip, tmp_path):
    out = tmp_path / "res" / "walk_g1.npz"
    cfg = _compose([f"motion.path={short_clip}", "robot=unitree_g1", f"output={out}", *TINY])
    summary = run_retarget(cfg)
    assert summary["output"] == str(out)
    motion = RobotMotion.load(out)
    assert motion.robot == "unitree_g1" and motion.fps == 30.0
    assert motion.metadata["source"] == str(short_clip)
    metrics = json.loads((tmp_path / "res" / "walk_g1.metrics.json").read_text())
    assert metrics["joint_limit_violations"] == 0
    assert np.isfinite(metrics["keypoint_error_mean_m"])
    assert not list((tmp_path / "res").glob(".*tmp"))  # atomic writes leave nothing behind


def test_app_resamples_for_a_tracker_and_writes_csv(short_clip, tmp_path):
    out = tmp_path / "walk_g1_50hz.csv"
    cfg = _compose([f"motion.path={short_clip}", f"output={out}", "fps=50", *TINY])
    run_retarget(cfg)
    motion = RobotMotion.load(out, robot="unitree_g1", fps=50)
    assert motion.num_frames == pytest.approx(50 / 30 * 50, abs=2)
    metrics = json.loads(out.with_suffix(".metrics.json").read_text())
    assert metrics["joint_limit_violations"] == 0

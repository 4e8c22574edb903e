"""Every file in ``experiments/`` composes, changes what it says, and runs in a multirun."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_batch_app import COMMON, run_cli
from test_batch_grouped import write_clips

from retargetjax.batch import BatchJob, RetargetWorker, compose_config
from retargetjax.batch._worker import experiments_dir

EXPERIMENTS = sorted(p.stem for p in experiments_dir().glob("*.yaml"))


def test_there_are_experiments():
    assert {"smooth_heavy", "fast_preview", "h1"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        assert (experiments_dir() / f"{name}.yaml").read_text().startswith("# @package _global_")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_onto_the_batch_config(name, tmp_path):
    base = compose_config(["input_dir=x"])
    worker = RetargetWorker.from_hydra(base, overrides=["input_dir=x"])
    job = BatchJob(id="a", motion=tmp_path / "a.bvh", output=tmp_path / "a.npz", config_path=name)
    settings = worker.settings_for(job)
    assert settings.experiment == str(experiments_dir() / f"{name}.yaml")
    assert settings.key() != worker.settings.key()  # never grouped with the defaults


def test_experiment_values():
    worker = RetargetWorker.from_hydra(compose_config(["input_dir=x"]), overrides=["input_dir=x"])
    job = BatchJob(id="a", motion=Path("a.bvh"), output=Path("a.npz"))

    def settings(name):
        return worker.settings_for(job.model_copy(update={"config_path": Path(name)}))

    assert settings("smooth_heavy").config.costs.smooth == 10.0
    assert settings("fast_preview").config.solver.iterations == 3
    assert settings("h1").robot == "unitree_h1"
    # Command-line overrides win over the experiment.
    worker = RetargetWorker.from_hydra(
        compose_config(["input_dir=x", "costs.smooth=2"]),
        overrides=["input_dir=x", "costs.smooth=2"],
    )
    assert (
        worker.settings_for(
            job.model_copy(update={"config_path": Path("smooth_heavy")})
        ).config.costs.smooth
        == 2.0
    )
    with pytest.raises(FileNotFoundError, match="experiment config"):
        settings("no_such_experiment")


def test_every_experiment_runs_in_a_multirun(tmp_path):
    clips = tmp_path / "clips"
    write_clips(clips, [(0, 12)])
    sweep_dir = tmp_path / "sweep"
    run_cli(
        "-m",
        f"input_dir={clips}",
        f"experiment={','.join(EXPERIMENTS)}",
        *COMMON,
        f"hydra.sweep.dir={sweep_dir}",
        timeout=500,
    )
    for number, name in enumerate(EXPERIMENTS):
        summary = json.loads((sweep_dir / str(number) / "summary.json").read_text())
        assert summary["success"] == 1 and summary["failed"] == 0, (name, summary)

"""The per-piece timing of one refinement iteration (``benchmarks/_iteration.py``, run by
``bench_device.py``) runs every piece on real windows and reports each; timings themselves
are never asserted, only that each piece ran and that the chunked and one-call
linearisations it compares compute the same model."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from retargetjax.motion import load_motion, sample_motion_path
from retargetjax.retarget import RetargetConfig, prepare_problem
from retargetjax.robot import load_robot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _iteration import iteration_split, report


def test_iteration_split_times_every_piece_of_two_windows() -> None:
    robot = load_robot("unitree_g1")
    config = RetargetConfig.model_validate(
        {"solver": {"window": 32, "overlap": 8, "init_iterations": 1, "cg_iterations": 4}}
    )
    problem = prepare_problem(load_motion(sample_motion_path()).trim(0, 40), robot, config)
    split = iteration_split([problem], robot, config, repeats=1)
    assert split["windows"] == 2 and split["frames"] == 64
    pieces = {"pairs", "linearize", "linearize_unchunked", "linearize_and_solve", "solve"}
    pieces |= {"factor", "factor_substituted"}
    assert pieces | {"candidates", "update"} == set(split["ms"])
    for name, ms in split["ms"].items():
        assert math.isfinite(ms), name
        if name != "solve":  # a difference of two timings
            assert ms > 0, name
    assert split["unchunked_relative_gap"] < 1e-4
    table = report(split)
    assert "| update |" in table and "64 frames" in table

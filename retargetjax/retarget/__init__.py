"""Retargeting: scaling and targets, cost terms, the optax solver, windows, ``retarget()``."""

from ._config import CostWeights as CostWeights
from ._config import RetargetConfig as RetargetConfig
from ._config import SolverConfig as SolverConfig
from ._retarget import prepare_problem as prepare_problem
from ._retarget import retarget as retarget
from ._retarget import retarget_many as retarget_many
from ._retarget import robot_motion_from_solution as robot_motion_from_solution
from ._retarget import solve_problems as solve_problems
from ._targets import RetargetError as RetargetError
from ._targets import RetargetProblem as RetargetProblem
from ._targets import build_problem as build_problem

__all__ = [
    "CostWeights",
    "RetargetConfig",
    "RetargetError",
    "RetargetProblem",
    "SolverConfig",
    "build_problem",
    "prepare_problem",
    "retarget",
    "retarget_many",
    "robot_motion_from_solution",
    "solve_problems",
]

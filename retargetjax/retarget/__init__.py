"""Retargeting: scaling and targets, cost terms, the optax solver, windows, ``retarget()``."""

from ._clip_rows import clip_solution as clip_solution
from ._clip_rows import plan_clip_rows as plan_clip_rows
from ._clip_rows import row_alignment as row_alignment
from ._clip_rows import stack_windows as stack_windows
from ._config import CostWeights as CostWeights
from ._config import RetargetConfig as RetargetConfig
from ._config import SolverConfig as SolverConfig
from ._errors import RetargetError as RetargetError
from ._problem import FrameData as FrameData
from ._problem import FrameState as FrameState
from ._problem import Weights as Weights
from ._problem import WindowData as WindowData
from ._retarget import prepare_problem as prepare_problem
from ._retarget import retarget as retarget
from ._retarget import retarget_many as retarget_many
from ._retarget import robot_motion_from_solution as robot_motion_from_solution
from ._retarget import software_versions as software_versions
from ._solve_clips import has_floor_contact as has_floor_contact
from ._solve_clips import lower_solve as lower_solve
from ._solve_clips import solve_problems as solve_problems
from ._solve_clips import solve_rows as solve_rows
from ._solve_clips import solver_compile_count as solver_compile_count
from ._targets import RetargetProblem as RetargetProblem
from ._targets import build_problem as build_problem
from ._windows import ClipSlot as ClipSlot
from ._windows import next_pow2 as next_pow2

__all__ = [
    "ClipSlot",
    "CostWeights",
    "FrameData",
    "FrameState",
    "RetargetConfig",
    "RetargetError",
    "RetargetProblem",
    "SolverConfig",
    "Weights",
    "WindowData",
    "build_problem",
    "clip_solution",
    "has_floor_contact",
    "lower_solve",
    "next_pow2",
    "plan_clip_rows",
    "prepare_problem",
    "retarget",
    "retarget_many",
    "robot_motion_from_solution",
    "row_alignment",
    "software_versions",
    "solve_problems",
    "solve_rows",
    "solver_compile_count",
    "stack_windows",
]

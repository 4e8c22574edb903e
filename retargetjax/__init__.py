"""retargetjax: retarget human motion onto humanoid robots with JAX.

The public API is re-exported here (see the README for a tour). Names are imported lazily,
so ``import retargetjax`` stays cheap (batch pool processes import it) and jax is loaded
only when a name that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .types import MotionFormatKind as MotionFormatKind
from .types import RobotKind as RobotKind
from .types import RunStatus as RunStatus

__version__ = "0.1.0"

#: public name → submodule that defines it
_LAZY = {
    # batch
    "BatchJob": "batch",
    "BatchManifest": "batch",
    "BatchRunRecord": "batch",
    "BatchRunner": "batch",
    "BatchWorker": "batch",
    "ManifestError": "batch",
    # motion
    "HumanMotion": "motion",
    "KeypointMap": "motion",
    "MotionFormatError": "motion",
    "foot_contacts": "motion",
    "load_motion": "motion",
    "map_keypoints": "motion",
    "write_bvh": "motion",
    # robot
    "RobotModel": "robot",
    "forward_kinematics": "robot",
    "keypoint_positions": "robot",
    "load_robot": "robot",
    # io
    "RobotMotion": "io",
    "RobotMotionFormat": "io",
    "load_robot_motion": "io",
    # retarget
    "CostWeights": "retarget",
    "RetargetConfig": "retarget",
    "RetargetError": "retarget",
    "SolverConfig": "retarget",
    "retarget": "retarget",
    "retarget_many": "retarget",
    # evaluation
    "compute_metrics": "evaluation",
    "evaluate_outputs": "evaluation",
    # runtime
    "enable_compile_cache": "compile_cache",
}

__all__ = sorted(["MotionFormatKind", "RobotKind", "RunStatus", "__version__", *_LAZY])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'retargetjax' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # static analysers see the real names
    from .batch import (  # noqa: F401
        BatchJob,
        BatchManifest,
        BatchRunner,
        BatchRunRecord,
        BatchWorker,
        ManifestError,
    )
    from .compile_cache import enable_compile_cache  # noqa: F401
    from .evaluation import compute_metrics, evaluate_outputs  # noqa: F401
    from .io import RobotMotion, RobotMotionFormat, load_robot_motion  # noqa: F401
    from .motion import (  # noqa: F401
        HumanMotion,
        KeypointMap,
        MotionFormatError,
        foot_contacts,
        load_motion,
        map_keypoints,
        write_bvh,
    )
    from .retarget import (  # noqa: F401
        CostWeights,
        RetargetConfig,
        RetargetError,
        SolverConfig,
        retarget,
        retarget_many,
    )
    from .robot import RobotModel, forward_kinematics, keypoint_positions, load_robot  # noqa: F401

"""Shared enums and array aliases.

This module knows nothing about the rest of the package: every other module may import it.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

__all__ = ["Array", "MotionFormatKind", "NDArray", "RobotKind", "RunStatus"]

if TYPE_CHECKING:  # a real union for type checkers, without importing JAX at run time
    import jax

    #: A JAX or numpy array (JAX arrays are accepted everywhere a numpy array is); shapes
    #: are given in each docstring, e.g. ``(..., 3)``.
    Array: TypeAlias = jax.Array | np.ndarray
else:
    Array: TypeAlias = Any
#: A plain numpy array (used at the file edges).
NDArray: TypeAlias = np.ndarray


class RunStatus(str, Enum):
    """Outcome of one batch job, stored in manifests by its string value."""

    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILED = "failed"


class MotionFormatKind(str, Enum):
    """Human motion file formats retargetjax reads."""

    BVH = "bvh"
    KEYPOINTS = "keypoints"
    SMPL = "smpl"
    SMPLH = "smplh"
    SMPLX = "smplx"


class RobotKind(str, Enum):
    """Robots bundled with retargetjax (see :mod:`retargetjax.robot.registry`)."""

    UNITREE_G1 = "unitree_g1"
    UNITREE_H1 = "unitree_h1"
    BOOSTER_T1 = "booster_t1"

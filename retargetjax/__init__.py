"""retargetjax: retarget human motion onto humanoid robots with JAX.

The public API is re-exported here; see the README for a tour.
"""

from .types import MotionFormatKind as MotionFormatKind
from .types import RobotKind as RobotKind
from .types import RunStatus as RunStatus

__version__ = "0.1.0"

__all__ = ["MotionFormatKind", "RobotKind", "RunStatus", "__version__"]

"""numpy rotation helpers for the loaders: the host set of :mod:`retargetjax.geometry`.

Loaders handle clips of any length, where eager JAX would compile every primitive again for
each new shape; the host helpers (scipy's ``Rotation``, same ``wxyz`` convention as the JAX
functions) compile nothing. They live in :mod:`retargetjax.geometry._host`; this module keeps
the names the loaders import.
"""

from __future__ import annotations

from ..geometry._host import mat_to_quat_np as mat_to_quat_np
from ..geometry._host import quat_rotate_np as quat_rotate_np
from ..geometry._host import quat_slerp_np as quat_slerp_np
from ..geometry._host import quat_to_mat_np as quat_to_mat_np
from ..geometry._host import rotvec_to_mat_np as rotvec_to_mat_np

__all__ = [
    "mat_to_quat_np",
    "quat_rotate_np",
    "quat_slerp_np",
    "quat_to_mat_np",
    "rotvec_to_mat_np",
]

"""Rotations and rigid transforms, pure JAX.

Quaternion convention (one for the whole package): **scalar first, ``wxyz``**, unit norm,
Hamilton product, active rotation: ``quat_rotate(q, v) = q ⊗ (0, v) ⊗ q*``. A rotation
matrix ``R`` maps body-frame vectors to the parent/world frame: ``v_world = R @ v_body``.

Every function takes arrays with arbitrary leading batch dimensions (``(..., 4)``,
``(..., 3)``, ``(..., 3, 3)``) and is safe at the singular points (zero-angle logs, zero
vectors): no NaN is produced for finite input.
"""

from ._quaternion import (
    axis_angle_to_quat as axis_angle_to_quat,
)
from ._quaternion import (
    euler_to_quat as euler_to_quat,
)
from ._quaternion import (
    mat_to_quat as mat_to_quat,
)
from ._quaternion import (
    quat_angle_between as quat_angle_between,
)
from ._quaternion import (
    quat_conj as quat_conj,
)
from ._quaternion import (
    quat_exp as quat_exp,
)
from ._quaternion import (
    quat_from_two_vectors as quat_from_two_vectors,
)
from ._quaternion import (
    quat_identity as quat_identity,
)
from ._quaternion import (
    quat_log as quat_log,
)
from ._quaternion import (
    quat_mul as quat_mul,
)
from ._quaternion import (
    quat_normalize as quat_normalize,
)
from ._quaternion import (
    quat_rotate as quat_rotate,
)
from ._quaternion import (
    quat_slerp as quat_slerp,
)
from ._quaternion import (
    quat_to_mat as quat_to_mat,
)
from ._quaternion import (
    quat_wxyz_to_xyzw as quat_wxyz_to_xyzw,
)
from ._quaternion import (
    quat_xyzw_to_wxyz as quat_xyzw_to_wxyz,
)
from ._quaternion import (
    rotvec_to_mat as rotvec_to_mat,
)
from ._quaternion import (
    rpy_to_mat as rpy_to_mat,
)
from ._segments import segment_segment_closest as segment_segment_closest
from ._segments import segment_segment_distance as segment_segment_distance

__all__ = [
    "axis_angle_to_quat",
    "euler_to_quat",
    "mat_to_quat",
    "quat_angle_between",
    "quat_conj",
    "quat_exp",
    "quat_from_two_vectors",
    "quat_identity",
    "quat_log",
    "quat_mul",
    "quat_normalize",
    "quat_rotate",
    "quat_slerp",
    "quat_to_mat",
    "quat_wxyz_to_xyzw",
    "quat_xyzw_to_wxyz",
    "rotvec_to_mat",
    "rpy_to_mat",
    "segment_segment_closest",
    "segment_segment_distance",
]

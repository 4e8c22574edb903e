"""Body frames built from keypoints, the same way for the human and for the robot.

Rigs disagree on their joints' rest frames, so joint orientations from a BVH cannot be
compared with a robot's link frames without a rest-pose calibration. A frame *built* from
keypoints is rig-independent: for a left point ``l``, a right point ``r`` and an up pair
``(lo, hi)``

    y = normalize(l − r)
    z = normalize(u − (u·y) y),  u = hi − lo
    x = y × z

and ``F = [x y z]`` (columns) has x forward, y left, z up for an upright body. The pelvis
frame uses the hips and pelvis→torso; the torso frame uses the shoulders and torso→head (or
pelvis→torso where the head is missing).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..types import Array

_EPS = 1e-9


def built_frame(left: Array, right: Array, low: Array, high: Array, xp=jnp) -> Array:
    """Rotation matrices (..., 3, 3) of the frame built from four points (each (..., 3)).

    ``xp`` is the array module: ``jax.numpy`` inside the solver, ``numpy`` when building
    targets (eager JAX would compile every small op on first use).
    """

    def normalize(v):
        return v / xp.sqrt(xp.sum(v * v, axis=-1, keepdims=True) + _EPS)

    y = normalize(left - right)
    u = high - low
    z = normalize(u - xp.sum(u * y, axis=-1, keepdims=True) * y)
    x = xp.cross(y, z)
    return xp.stack([x, y, z], axis=-1)

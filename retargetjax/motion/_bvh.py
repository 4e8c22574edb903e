"""BVH reader: hierarchy, MOTION block and forward kinematics, vectorised over frames.

Conventions (the de-facto ones of MotionBuilder, Blender and bvhio):

- A joint's rotation channels are intrinsic, applied in the order listed: channels
  ``Zrotation Xrotation Yrotation`` with values ``(z, x, y)`` degrees give the local rotation
  ``R_local = Rz(z) · Rx(x) · Ry(y)``. Any subset and order of the six channels is accepted on
  any joint.
- Position channels *replace* the matching component of the joint's ``OFFSET``; joints
  without position channels are translated by their ``OFFSET``.
- Forward kinematics, parents first:
  ``R_world_j = R_world_parent · R_local_j`` and
  ``p_world_j = p_world_parent + R_world_parent · t_local_j``.
- ``End Site`` blocks become extra joints named ``<parent>_End`` (``_End2``… if taken) with
  the parent's orientation, listed in ``metadata["end_sites"]``; ``end_sites=False`` drops them.
- Units (cm / m / inches / mm) are detected from the rest skeleton's size (see
  :func:`~retargetjax.motion.detect_units`; a skeleton none of them makes 1.2-2.2 m tall is
  scaled to 1.7 m) and the Y-up world is turned Z-up by the fixed
  rotation ``C`` of :func:`~retargetjax.motion.up_axis_to_z_matrix`: ``p = s · C p_bvh`` and
  ``R = C · R_world_bvh`` (so ``metadata["rest_offsets_m"]`` stay in each parent joint's frame).

The pieces: the HIERARCHY block in ``_bvh_hierarchy``, the file's text in ``_bvh_parse``
(:func:`read_bvh`), forward kinematics in ``_bvh_fk``, up-axis detection in ``_bvh_up_axis``;
this module puts them together into :func:`load_bvh`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._bvh_fk import _rest_positions, bvh_forward_kinematics
from ._bvh_parse import read_bvh
from ._bvh_up_axis import _detect_up_axis
from ._errors import MotionFormatError
from ._human_motion import HumanMotion
from ._units import SCALED_UNITS, resolve_units, scaled_units_message, up_axis_to_z_matrix

__all__ = ["load_bvh", "snap_fps"]

_log = logging.getLogger("retargetjax.motion")


def load_bvh(
    path: str | os.PathLike,
    *,
    units: str | float | None = None,
    up_axis: str | None = None,
    end_sites: bool = True,
) -> HumanMotion:
    """Read a BVH file into a :class:`HumanMotion` (metres, Z up, world orientations).

    Args:
        path: the ``.bvh`` file.
        units: ``"cm"``, ``"m"``, ``"mm"``, ``"in"``, ``"ft"`` or metres per unit; ``None``
            detects them from the rest skeleton's largest extent (see ``detect_units``), or
            from the body's height in the clip's frames when the rest pose is no standing
            body and the up axis is detected. When no standard unit gives a standing human
            1.2-2.2 m tall, the skeleton is scaled to 1.7 m (``units`` ``"scaled"``,
            ``units_scaled_to_height`` true, and a warning saying so).
        up_axis: the file's up axis, ``"y"`` (the BVH norm), ``"z"`` or ``"x"``; ``None``
            (default) takes ``"y"`` unless the rest skeleton of a rig (8 joints or more)
            shows two legs hanging down only with ``"z"`` (or ``"x"``) up: Z-up exports
            load upright without an option. When the rest pose (all channels zero) is no
            standing body (OFFSETs along each bone's own axis), the clip's frames decide.
        end_sites: keep ``End Site`` blocks as joints named ``<parent>_End``.

    Metadata: ``units``, ``meters_per_unit``, ``up_axis``, ``frame_time_s``,
    ``rest_height_units`` (extent used for detection), ``end_sites`` (names),
    ``rest_offsets_m`` ((J, 3) offsets in each parent's joint frame, metres),
    ``bvh_channels`` (per joint), ``units_detected`` (bool), ``units_scaled_to_height``
    (bool: no standard unit fit, the skeleton was scaled to 1.7 m).
    """
    path = Path(path)
    skeleton, frame_time, values = read_bvh(path)
    rest = _rest_positions(skeleton)
    extent = float(np.max(rest.max(axis=0) - rest.min(axis=0))) if len(rest) > 1 else 0.0
    up_detected = up_axis is None
    posed_height = None
    if up_axis is None:
        up_axis, posed_height = _detect_up_axis(rest, skeleton.parents, skeleton, values)
        if posed_height is not None:
            extent = posed_height
    try:
        unit_name, scale = resolve_units(units, extent)
        C = up_axis_to_z_matrix(up_axis)
    except ValueError as exc:
        raise MotionFormatError(str(exc), path=path) from None
    if unit_name == SCALED_UNITS:
        _log.warning("%s: %s", path.name, scaled_units_message(extent))
    pos, quats, _ = bvh_forward_kinematics(skeleton, values, scale=scale, world_rotation=C)
    keep = np.ones(len(skeleton.names), dtype=bool) if end_sites else ~skeleton.is_end_site
    idx = np.flatnonzero(keep)
    remap = -np.ones(len(keep), dtype=np.int64)
    remap[idx] = np.arange(len(idx))
    parents = np.where(skeleton.parents[idx] >= 0, remap[skeleton.parents[idx]], -1)
    if not end_sites:
        pos = pos[:, idx]
        quats = quats[:, idx]
    names = tuple(skeleton.names[i] for i in idx)
    metadata = {
        "units": unit_name,
        "meters_per_unit": scale,
        "units_detected": units is None,
        "units_scaled_to_height": unit_name == SCALED_UNITS,
        "up_axis": str(up_axis).lower(),
        "up_axis_detected": up_detected,
        "frame_time_s": frame_time,
        "rest_height_units": extent,
        "end_sites": tuple(skeleton.names[i] for i in idx if skeleton.is_end_site[i]),
        "rest_offsets_m": (skeleton.offsets[idx] * scale).astype(np.float32),
        "bvh_channels": {skeleton.names[i]: skeleton.channels[i] for i in idx},
    }
    _log.debug("%s: %d frames, %d joints, units %s", path, values.shape[0], len(names), unit_name)
    return HumanMotion(
        fps=snap_fps(1.0 / frame_time),
        joint_names=names,
        parents=parents,
        positions=pos,
        orientations=quats,
        source=path,
        format=MotionFormatKind.BVH,
        metadata=metadata,
    )


def snap_fps(fps: float) -> float:
    """``fps`` rounded to the nearest integer when within 0.5 % of it.

    Frame times are written with a few decimals, some rounded coarsely: ``0.033333`` gives
    ``30.0003`` fps, ``0.008342`` (a 120 fps clip) ``119.875``. A rate within 0.5 % of an
    integer is that integer (NTSC's 29.97 reads as 30: 0.1 % slower or faster motion, far
    below what a retarget notices); the exact frame time stays in
    ``metadata["frame_time_s"]``.
    """
    nearest = round(fps)
    if nearest > 0 and abs(fps - nearest) <= 5e-3 * fps:
        return float(nearest)
    return float(fps)

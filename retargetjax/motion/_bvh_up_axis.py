"""A BVH file's up axis: whether its rest pose, or failing that its frames, show a humanoid
standing with Y, Z or X up (and, when the frames decided, the body's height for the units)."""

from __future__ import annotations

import logging

import numpy as np

from ._bvh_fk import bvh_forward_kinematics
from ._bvh_hierarchy import BvhSkeleton
from ._units import up_axis_to_z_matrix

__all__ = ["_detect_up_axis"]

_log = logging.getLogger("retargetjax.motion")


def _standing(points: np.ndarray, parents: np.ndarray, axis: str):
    """The rig's topology when ``points`` (J, 3), read with ``axis`` up, show a humanoid
    standing (taller than 0.6 of its width, two legs hanging down from one pelvis, the
    head above it), with the body's height without its arms; else ``None``."""
    from ._topology import TopologyError, _ancestors, infer_rig_keypoints

    p = points @ up_axis_to_z_matrix(axis).T
    try:
        topo = infer_rig_keypoints(parents, p)
    except (TopologyError, ValueError, IndexError):
        return None
    # The body is what hangs from the pelvis (not a root joint left at the world origin).
    pelvis = topo.choice["pelvis"]
    body = [j for j in range(len(parents)) if pelvis in _ancestors(parents, j)]
    extent = p[body].max(axis=0) - p[body].min(axis=0)
    if not extent[2] >= 0.6 * max(extent[0], extent[1]):
        return None
    # Upright, not upside down with the arms hanging to the floor as "legs": a head (or the
    # upper trunk) above the pelvis.
    top = topo.choice.get("head", topo.choice.get("torso"))
    if top is None or not p[top, 2] > p[topo.choice["pelvis"], 2] + 0.1 * extent[2]:
        return None
    # Arms raised overhead (jumping jacks, a cheer) reach higher than the head: the height
    # is the body's without the arms (from each arm's first joint off the trunk down).
    roots = [topo.chains[k][0] for k in ("left_arm", "right_arm") if topo.chains.get(k)]
    trunk = [j for j in body if not any(r in _ancestors(parents, j) for r in roots)]
    return topo, float(np.ptp(p[trunk, 2]))


def _stands_with(points: np.ndarray, parents: np.ndarray, axis: str) -> bool:
    """Whether ``points`` (J, 3), read with ``axis`` up, show a humanoid standing."""
    return _standing(points, parents, axis) is not None


#: How many frames, spread over the clip, are read when the rest pose is no standing body.
_POSE_FRAMES = 16


def _detect_up_axis(
    rest: np.ndarray, parents: np.ndarray, skeleton: BvhSkeleton, values: np.ndarray
) -> tuple[str, float | None]:
    """The file's up axis and, when it was read off the animation, the body's height.

    ``"y"``, unless a humanoid rig (8 joints or more) in its rest pose shows its two legs
    hanging down only with Z (or X) up and the clip's frames do not stand better with
    another axis up. Many exporters (MotionBuilder, Rokoko, Maya joint
    orients) write OFFSETs along each bone's own axis, so the all-zero-channel pose is no
    standing body at all (a line of bones along X): then the clip's own frames decide, the
    axis with the most of :data:`_POSE_FRAMES` spread frames standing wins, and the second
    value is the body's height in those frames (file units: the 90th percentile of the
    extent along that axis of the body without its arms, which raised would add a fifth),
    for the unit detection. ``None`` when the rest pose decided.
    """
    axes = ("y", "z", "x")
    if len(rest) < 8:
        return "y", None
    rest_axis = next((a for a in axes if _stands_with(rest, parents, a)), None)
    if rest_axis == "y":
        return "y", None
    T = values.shape[0]
    frames = np.unique(np.linspace(0, T - 1, min(T, _POSE_FRAMES)).astype(int))
    pos, _, _ = bvh_forward_kinematics(skeleton, values[frames], dtype=np.float64)
    heights: dict[str, dict[int, float]] = {a: {} for a in axes}
    for a in axes:
        for t in range(len(frames)):
            found = _standing(pos[t], parents, a)
            if found is not None:
                heights[a][t] = found[1]
    votes = {a: list(heights[a]) for a in axes}
    best = max(axes, key=lambda a: len(votes[a]))
    if rest_axis is not None and len(votes[rest_axis]) >= len(votes[best]):
        # Z-up (or X-up) exports: the rest pose and the animation agree.
        _log.warning(
            "the rest skeleton stands with %s up; reading the file %s-up", rest_axis, rest_axis
        )
        return rest_axis, None
    if votes[best]:
        height = float(np.percentile(list(heights[best].values()), 90))
        _log.info(
            "the rest pose (all channels zero) is no standing body; %d of %d frames stand "
            "with %s up: reading the file %s-up",
            len(votes[best]),
            len(frames),
            best,
            best,
        )
        return best, height

    def extent_ok(points: np.ndarray, axis: str) -> bool:
        p = points @ up_axis_to_z_matrix(axis).T
        extent = p.max(axis=0) - p.min(axis=0)
        return bool(extent[2] >= 0.6 * max(extent[0], extent[1]))

    return next((a for a in axes if extent_ok(rest, a)), "y"), None
